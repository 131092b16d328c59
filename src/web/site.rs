//! Metadata, health, language switch, static files, 404.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::db;
use crate::error::AppError;
use crate::i18n::LANGS;
use crate::state::AppState;
use crate::web::cookies;
use crate::web::page::{safe_next, see_other};

pub async fn get_metadata(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/samlmetadata+xml")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(state.metadata_xml.clone())
}

pub async fn get_healthz(state: web::Data<AppState>) -> HttpResponse {
    let ok = db::run(&state.pool, |c| {
        use diesel::connection::SimpleConnection;
        c.batch_execute("SELECT 1")?;
        Ok(())
    })
    .await;
    match ok {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ok\n"),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain")
                .body("database unavailable\n")
        }
    }
}

#[derive(Deserialize)]
pub struct LangQuery {
    next: Option<String>,
}

pub async fn get_lang(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<LangQuery>,
) -> Result<HttpResponse, AppError> {
    let code = LANGS
        .iter()
        .find(|l| **l == path.as_str())
        .ok_or(AppError::NotFound)?;
    let mut resp = see_other(&safe_next(q.next.as_deref()).unwrap_or_else(|| "/".into()));
    resp.add_cookie(&cookies::lang(code, state.settings.secure_cookies()))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(resp)
}

pub async fn get_static(path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let (data, ctype) = crate::templates::static_file(&path).ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(ctype)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(data.into_owned()))
}

pub async fn not_found(_req: HttpRequest) -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}

/// Browsers ask for /favicon.ico whatever the page says.
pub async fn get_favicon() -> HttpResponse {
    see_other("/static/favicon.svg")
}
