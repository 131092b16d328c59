//! ホーム: the tiles of the services assigned to the person.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::auth::extract::CurrentUser;
use crate::db;
use crate::db::models::services;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::page::{render, url_encode, Nav};

#[derive(Serialize)]
struct Tile {
    icon: Option<String>,
    name: String,
    description: String,
    monogram: String,
    color: u32,
    href: String,
}

#[derive(Serialize)]
struct HomePage {
    tiles: Vec<Tile>,
    notice_key: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct HomeQuery {
    notice: Option<String>,
}

/// The first character of the name, for services without an icon.
pub fn monogram(name: &str) -> String {
    name.trim()
        .chars()
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_else(|| "?".into())
}

/// One of eight tile colours, stable for a service.
pub fn color_of(entity_id: &str) -> u32 {
    let h = entity_id.bytes().fold(2166136261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16777619)
    });
    h % 8
}

pub async fn get_home(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CurrentUser,
    q: web::Query<HomeQuery>,
) -> Result<HttpResponse, AppError> {
    let uid = user.0.user.id;
    let list = db::run(&state.pool, move |c| services::list_for_user(c, uid)).await?;
    let tiles = list
        .into_iter()
        .map(|s| Tile {
            icon: (!s.icon_type.is_empty())
                .then(|| format!("/icons/{}?v={}", s.id, s.updated_at.and_utc().timestamp())),
            monogram: monogram(&s.display_name),
            color: color_of(&s.entity_id),
            href: format!("/saml/idp-init?sp={}", url_encode(&s.entity_id)),
            name: s.display_name,
            description: s.description,
        })
        .collect();
    let notice_key = match q.notice.as_deref() {
        Some("password_changed") => Some("password.changed"),
        _ => None,
    };
    let nav = Nav::new(&user.0.user, "home");
    render(
        &state,
        &req,
        StatusCode::OK,
        "portal/home",
        "home.title",
        Some(nav),
        HomePage { tiles, notice_key },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monograms_and_colors() {
        assert_eq!(monogram("slack"), "S");
        assert_eq!(monogram(" 勤怠"), "勤");
        assert_eq!(monogram(""), "?");
        assert!(color_of("https://a") < 8);
        assert_eq!(color_of("https://a"), color_of("https://a"));
    }
}

#[derive(Deserialize)]
pub struct IconPath {
    id: i32,
}

/// A service's icon, from our own origin, to signed-in people.
pub async fn get_icon(
    state: web::Data<AppState>,
    _user: CurrentUser,
    path: web::Path<IconPath>,
) -> Result<HttpResponse, AppError> {
    let id = path.id;
    let (ctype, bytes) = db::run(&state.pool, move |c| services::find_icon(c, id))
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(ctype)
        .insert_header((
            actix_web::http::header::CACHE_CONTROL,
            "private, max-age=86400",
        ))
        .insert_header((actix_web::http::header::CONTENT_DISPOSITION, "inline"))
        .body(bytes))
}
