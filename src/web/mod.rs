//! HTTP: routes of every feature, middleware, pages.

pub mod account;
pub mod admin;
pub mod contractor;
pub mod cookies;
pub mod errors;
pub mod login;
pub mod mfa;
pub mod page;
pub mod password;
pub mod portal;
pub mod profile;
pub mod security;
pub mod site;
pub mod sso;

use actix_web::web;

/// Largest form body we read (SAML POST binding included).
pub const FORM_LIMIT: usize = 256 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::FormConfig::default().limit(FORM_LIMIT))
        .app_data(web::QueryConfig::default())
        .route("/", web::get().to(portal::get_home))
        .route("/login", web::get().to(login::get_login))
        .route("/login", web::post().to(login::post_login))
        .route("/logout", web::post().to(login::post_logout))
        .route("/password", web::get().to(password::get_password))
        .route("/password", web::post().to(password::post_password))
        .route("/profile", web::get().to(profile::get_profile))
        .route("/profile/edit", web::get().to(profile::get_edit))
        .route("/profile/edit", web::post().to(profile::post_edit))
        .route("/saml/metadata", web::get().to(site::get_metadata))
        .route("/saml/sso", web::get().to(sso::get_sso))
        .route("/saml/sso", web::post().to(sso::post_sso))
        .route("/saml/resume", web::get().to(sso::get_resume))
        .route("/saml/idp-init", web::get().to(sso::get_idp_init))
        .configure(mfa::configure)
        .configure(account::configure)
        .configure(admin::configure)
        .configure(contractor::configure)
        .route("/icons/{id}", web::get().to(portal::get_icon))
        .route("/healthz", web::get().to(site::get_healthz))
        .route("/lang/{code}", web::get().to(site::get_lang))
        .route("/static/{path:.*}", web::get().to(site::get_static))
        .route("/favicon.ico", web::get().to(site::get_favicon))
        .default_service(web::to(site::not_found));
}
