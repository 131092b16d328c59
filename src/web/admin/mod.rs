//! The admin console at /admin (admins and contractors only).

pub mod audit;
pub mod services;

use actix_web::web;

use crate::web::page::see_other;

/// Largest metadata document accepted from the admin's forms.
pub const METADATA_FORM_LIMIT: usize = 2 * 1024 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/admin",
        web::get().to(|_: crate::auth::extract::AdminUser| async { see_other("/admin/services") }),
    )
    .route("/admin/services", web::get().to(services::get_list))
    .route("/admin/services/new", web::get().to(services::get_new))
    .service(
        web::resource("/admin/services/preview")
            .app_data(
                actix_multipart::form::MultipartFormConfig::default()
                    .total_limit(METADATA_FORM_LIMIT),
            )
            .route(web::post().to(services::post_preview)),
    )
    .service(
        web::resource("/admin/services/save")
            .app_data(web::FormConfig::default().limit(METADATA_FORM_LIMIT))
            .route(web::post().to(services::post_save)),
    )
    .route("/admin/services/{id}", web::get().to(services::get_show))
    .route(
        "/admin/services/{id}/settings",
        web::post().to(services::post_settings),
    )
    .route(
        "/admin/services/{id}/assign",
        web::post().to(services::post_assign),
    )
    .route(
        "/admin/services/{id}/unassign",
        web::post().to(services::post_unassign),
    )
    .route(
        "/admin/services/{id}/delete",
        web::post().to(services::post_delete),
    )
    .route("/admin/audit", web::get().to(audit::get_list))
    .route("/admin/audit.csv", web::get().to(audit::get_csv));
}
