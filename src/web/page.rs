//! Rendering a page: language, CSRF token, navigation, layout data.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use crate::auth::csrf;
use crate::db::models::users::User;
use crate::error::AppError;
use crate::i18n;
use crate::state::AppState;
use crate::web::cookies;

/// Marks a response whose body we rendered ourselves, so that the error
/// page renderer leaves it alone even when its status is 4xx.
#[derive(Clone, Copy)]
pub struct Rendered;

#[derive(Serialize)]
pub struct Nav {
    pub display_name: String,
    pub username: String,
    pub section: &'static str,
    pub is_admin: bool,
    pub is_contractor: bool,
}

impl Nav {
    pub fn new(user: &User, section: &'static str) -> Self {
        Nav {
            display_name: if user.display_name.is_empty() {
                user.username.clone()
            } else {
                user.display_name.clone()
            },
            username: user.username.clone(),
            section,
            is_contractor: user.role() == crate::db::models::users::Role::Contractor,
            is_admin: matches!(
                user.role(),
                crate::db::models::users::Role::Admin | crate::db::models::users::Role::Contractor
            ),
        }
    }
}

#[derive(Serialize)]
struct Layout<'a, T: Serialize> {
    lang: &'static str,
    other_lang: &'static str,
    title_key: &'static str,
    csrf_token: &'a str,
    nav: Option<Nav>,
    here: String,
    #[serde(flatten)]
    page: T,
}

/// Renders `template` inside the base layout with status `status`.
pub fn render<T: Serialize>(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    template: &str,
    title_key: &'static str,
    nav: Option<Nav>,
    page: T,
) -> Result<HttpResponse, AppError> {
    let lang = i18n::negotiate(req);
    let (token, fresh) = csrf::token_for(req);
    let here = url_encode(
        req.uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/"),
    );
    let data = Layout {
        lang,
        other_lang: if lang == "ja" { "en" } else { "ja" },
        title_key,
        csrf_token: &token,
        nav,
        here,
        page,
    };
    let body =
        crate::templates::render(&state.templates, template, &data).map_err(AppError::Internal)?;
    let mut b = HttpResponse::build(status);
    b.content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::CONTENT_LANGUAGE, lang));
    if fresh {
        b.cookie(cookies::csrf(
            token.clone(),
            state.settings.secure_cookies(),
        ));
    }
    let mut resp = b.body(body);
    resp.extensions_mut().insert(Rendered);
    Ok(resp)
}

/// A 303 redirect to a local path.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// A `next` target we may redirect to: a local absolute path only.
pub fn safe_next(next: Option<&str>) -> Option<String> {
    let n = next?.trim();
    let ok = n.starts_with('/')
        && !n.starts_with("//")
        && !n.starts_with("/\\")
        && n.len() <= 2048
        && !n.chars().any(|c| c.is_control() || c == '\\');
    ok.then(|| n.to_string())
}

pub fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_be_local() {
        assert_eq!(safe_next(Some("/profile")), Some("/profile".into()));
        assert_eq!(
            safe_next(Some("/saml/resume?t=x")),
            Some("/saml/resume?t=x".into())
        );
        assert_eq!(safe_next(Some("//evil.example/")), None);
        assert_eq!(safe_next(Some("/\\evil.example")), None);
        assert_eq!(safe_next(Some("https://evil.example/")), None);
        assert_eq!(safe_next(Some("/a\r\nLocation: x")), None);
        assert_eq!(safe_next(None), None);
    }
}
