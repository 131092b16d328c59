//! The admin console at /admin (admins and contractors only).

pub mod audit;
pub mod groups;
pub mod security;
pub mod service_register;
pub mod service_settings;
pub mod services;
pub mod user_actions;
pub mod user_csv;
pub mod users;

use actix_web::web;

use actix_web::HttpRequest;

use crate::auth::csrf;
use crate::auth::extract::{AdminUser, SignedIn};
use crate::db::models::audit::Event;
use crate::error::AppError;
use crate::web::login::client_ip;
use crate::web::page::see_other;

/// Refuses a form whose CSRF token does not match.
pub fn check_csrf(req: &HttpRequest, token: &str) -> Result<(), AppError> {
    if csrf::verify(req, token) {
        Ok(())
    } else {
        Err(AppError::Csrf)
    }
}

/// An audit event of an admin action.
pub fn event(kind: &'static str, a: &SignedIn, req: &HttpRequest, service: &str) -> Event {
    Event::new(kind, &a.user.username)
        .service(service)
        .ip(&client_ip(req))
}

/// Largest metadata document accepted from the admin's forms.
pub const METADATA_FORM_LIMIT: usize = 2 * 1024 * 1024;
/// Largest CSV upload.
pub const CSV_FORM_LIMIT: usize = 9 * 1024 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    let multipart =
        |limit: usize| actix_multipart::form::MultipartFormConfig::default().total_limit(limit);
    cfg.route(
        "/admin",
        web::get().to(|_: AdminUser| async { see_other("/admin/services") }),
    )
    .route("/admin/services", web::get().to(services::get_list))
    .route(
        "/admin/services/new",
        web::get().to(service_register::get_new),
    )
    .service(
        web::resource("/admin/services/preview")
            .app_data(multipart(METADATA_FORM_LIMIT))
            .route(web::post().to(service_register::post_preview)),
    )
    .service(
        web::resource("/admin/services/save")
            .app_data(web::FormConfig::default().limit(METADATA_FORM_LIMIT))
            .route(web::post().to(service_register::post_save)),
    )
    .route("/admin/services/{id}", web::get().to(services::get_show))
    .route(
        "/admin/services/{id}/settings",
        web::post().to(service_settings::post_settings),
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
    .route(
        "/admin/services/{id}/refresh",
        web::post().to(services::post_refresh),
    )
    .route(
        "/admin/services/{id}/attributes",
        web::post().to(service_settings::post_attributes),
    )
    .service(
        web::resource("/admin/services/{id}/icon")
            .app_data(multipart(1024 * 1024))
            .route(web::post().to(service_settings::post_icon)),
    )
    .route("/admin/users", web::get().to(users::get_list))
    .route("/admin/users.csv", web::get().to(user_csv::get_export))
    .service(
        web::resource("/admin/users/import")
            .app_data(multipart(CSV_FORM_LIMIT))
            .route(web::get().to(user_csv::get_import))
            .route(web::post().to(user_csv::post_import)),
    )
    .route("/admin/users/new", web::get().to(users::get_new))
    .route("/admin/users/new", web::post().to(users::post_new))
    .route("/admin/users/{id}", web::get().to(users::get_show))
    .route("/admin/users/{id}", web::post().to(users::post_edit))
    .route(
        "/admin/users/{id}/action",
        web::post().to(user_actions::post_action),
    )
    .route(
        "/admin/users/{id}/delete",
        web::post().to(user_actions::post_delete),
    )
    .route("/admin/groups", web::get().to(groups::get_list))
    .route("/admin/groups", web::post().to(groups::post_create))
    .route("/admin/groups/{id}", web::get().to(groups::get_show))
    .route(
        "/admin/groups/{id}/rename",
        web::post().to(groups::post_rename),
    )
    .route(
        "/admin/groups/{id}/change",
        web::post().to(groups::post_change),
    )
    .route(
        "/admin/groups/{id}/delete",
        web::post().to(groups::post_delete),
    )
    .route(
        "/admin/groups/{id}/mfa",
        web::post().to(security::post_group),
    )
    .route("/admin/security", web::get().to(security::get_security))
    .route(
        "/admin/security/mfa",
        web::post().to(security::post_require_all),
    )
    .route("/admin/audit", web::get().to(audit::get_list))
    .route("/admin/audit.csv", web::get().to(audit::get_csv));
}
