//! Admin: a service's settings, released attributes and icon.

use actix_multipart::form::{tempfile::TempFile, text::Text, MultipartForm};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::auth::extract::AdminUser;
use crate::db::models::audit;
use crate::db::models::services::{self, SettingsChange};
use crate::db::{self, to_naive};
use crate::domain::attributes::{self, Release};
use crate::error::AppError;
use crate::saml::nameid::NameIdFormat;
use crate::state::AppState;
use crate::web::admin::{check_csrf, event};
use crate::web::page::see_other;

use super::services::{load, show, SettingsErrors};

#[derive(Deserialize)]
pub struct SettingsForm {
    csrf_token: String,
    display_name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    default_relay_state: String,
    nameid_format: String,
    session_minutes: String,
    sign_response: Option<String>,
    sign_assertion: Option<String>,
    enabled: Option<String>,
    mfa_required: Option<String>,
}

pub async fn post_settings(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<i32>,
    form: web::Form<SettingsForm>,
) -> Result<HttpResponse, AppError> {
    let f = form.into_inner();
    check_csrf(&req, &f.csrf_token)?;
    let s = load(&state, path.into_inner()).await?;
    let minutes = f
        .session_minutes
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|m| (1..=10_080).contains(m));
    let change = SettingsChange {
        display_name: f.display_name.trim().to_string(),
        description: f.description.trim().to_string(),
        default_relay_state: f.default_relay_state.trim().to_string(),
        nameid_format: NameIdFormat::parse(&f.nameid_format)
            .map(|n| n.key().to_string())
            .unwrap_or_else(|| s.nameid_format.clone()),
        sign_response: f.sign_response.is_some(),
        sign_assertion: f.sign_assertion.is_some(),
        session_minutes: minutes.unwrap_or(s.session_minutes),
        enabled: f.enabled.is_some(),
        mfa_required: f.mfa_required.is_some(),
        updated_at: to_naive(state.now()),
    };
    let mut errors = SettingsErrors {
        display_name: match change.display_name.chars().count() {
            0 => Some("admin.name_required"),
            n if n > 100 => Some("profile.too_long"),
            _ => None,
        },
        description: (change.description.chars().count() > 500).then_some("admin.too_long_500"),
        default_relay_state: (change.default_relay_state.len() > 1024)
            .then_some("admin.too_long_1024"),
        session_minutes: minutes.is_none().then_some("admin.minutes_range"),
        signing: (!change.sign_response && !change.sign_assertion)
            .then_some("admin.signing_required"),
        any: false,
    };
    errors.any = errors.display_name.is_some()
        || errors.description.is_some()
        || errors.default_relay_state.is_some()
        || errors.session_minutes.is_some()
        || errors.signing.is_some();
    if errors.any {
        let typed = f.session_minutes.clone();
        return show(&state, &req, &admin.0, s, change, typed, errors, None, None).await;
    }
    let before = SettingsChange::of(&s);
    let e = event("admin.service.settings", &admin.0, &req, &s.entity_id)
        .detail(serde_json::json!({ "before": before, "after": change }));
    let (id, now) = (s.id, state.now());
    db::run(&state.pool, move |c| {
        audit::insert(c, &e, now)?;
        services::update_settings(c, id, &change)
    })
    .await?;
    Ok(see_other(&format!("/admin/services/{id}?saved=1")))
}

/// Which attributes the service receives, under which names and NameFormat.
pub async fn post_attributes(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<i32>,
    form: web::Form<std::collections::HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let f = form.into_inner();
    check_csrf(&req, f.get("csrf_token").map(String::as_str).unwrap_or(""))?;
    let s = load(&state, path.into_inner()).await?;
    let id = s.id;
    let field = |k: String| f.get(&k).map(|v| v.trim().to_string()).unwrap_or_default();
    let releases: Vec<Release> = attributes::SOURCES
        .iter()
        .filter(|(source, ..)| f.contains_key(&format!("release_{source}")))
        .map(|(source, ..)| Release {
            source: source.to_string(),
            name: field(format!("name_{source}")),
            friendly_name: field(format!("friendly_{source}")),
            name_format: field(format!("format_{source}")),
        })
        .collect();
    if let Err(key) = attributes::validate(&releases) {
        let code = key.trim_start_matches("admin.");
        return Ok(see_other(&format!("/admin/services/{id}?error={code}")));
    }
    let json = serde_json::to_string(&releases).map_err(|e| AppError::Internal(e.to_string()))?;
    let before = attributes::effective(&s.attribute_release);
    let e = event("admin.service.attributes", &admin.0, &req, &s.entity_id)
        .detail(serde_json::json!({ "before": before, "after": releases }));
    let now = state.now();
    db::run(&state.pool, move |c| {
        audit::insert(c, &e, now)?;
        services::set_attribute_release(c, id, &json)
    })
    .await?;
    Ok(see_other(&format!("/admin/services/{id}?saved=1")))
}

#[derive(MultipartForm)]
pub struct IconForm {
    #[multipart(limit = "512KiB")]
    file: Option<TempFile>,
    remove: Option<Text<String>>,
    csrf_token: Text<String>,
}

/// Uploads (or removes) the service's icon.
pub async fn post_icon(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<i32>,
    MultipartForm(form): MultipartForm<IconForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &form.csrf_token)?;
    let s = load(&state, path.into_inner()).await?;
    let id = s.id;
    let icon = if form.remove.is_some() {
        None
    } else {
        let Some(f) = form.file.filter(|f| f.size > 0) else {
            return Ok(see_other(&format!("/admin/services/{id}?error=icon")));
        };
        let bytes = std::fs::read(f.file.path()).map_err(|e| AppError::Internal(e.to_string()))?;
        match crate::domain::icons::sniff(&bytes) {
            Some(t) if bytes.len() <= crate::domain::icons::MAX_ICON => Some((t, bytes)),
            _ => return Ok(see_other(&format!("/admin/services/{id}?error=icon"))),
        }
    };
    let e = event("admin.service.icon", &admin.0, &req, &s.entity_id)
        .detail(serde_json::json!({ "icon": icon.as_ref().map(|(t, b)| format!("{t}, {} bytes", b.len())) }));
    let now = state.now();
    db::run(&state.pool, move |c| {
        audit::insert(c, &e, now)?;
        services::set_icon(
            c,
            id,
            icon.as_ref().map(|(t, b)| (*t, b.as_slice())),
            to_naive(now),
        )
    })
    .await?;
    Ok(see_other(&format!("/admin/services/{id}?saved=1")))
}
