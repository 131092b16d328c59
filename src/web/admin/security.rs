//! Admin: セキュリティ設定: who must use a second factor (everybody, a
//! group; a service's own setting is on its page, a person's on theirs),
//! the locked accounts, and the lock and password policy in force.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::auth::extract::AdminUser;
use crate::db;
use crate::db::models::users::User;
use crate::db::models::{audit, groups, mfa, services};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::admin::{check_csrf, event};
use crate::web::page::{render, see_other, Nav};

#[derive(Serialize)]
struct Named {
    id: i32,
    name: String,
}

#[derive(Serialize)]
struct LockedRow {
    id: i32,
    username: String,
    display_name: String,
    since: Option<String>,
    by_admin: bool,
}

#[derive(Serialize)]
struct Policy {
    lockout_threshold: i32,
    lockout_cooldown_minutes: i64,
    login_ip_max_failures: i32,
    login_ip_window_minutes: i64,
    password_min_length: usize,
    password_refuse_common: bool,
    sms_sender: String,
}

#[derive(Serialize)]
struct SecurityPage {
    required_for_all: bool,
    groups: Vec<Named>,
    services: Vec<Named>,
    locked: Vec<LockedRow>,
    policy: Policy,
    saved: bool,
}

#[derive(Deserialize)]
pub struct PageQuery {
    saved: Option<String>,
}

pub async fn get_security(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let (all, group_list, service_list, users) = db::run(&state.pool, |c| {
        Ok((
            mfa::required_for_all(c)?,
            groups::list(c)?,
            services::list(c)?,
            crate::db::models::users::list_locked(c)?,
        ))
    })
    .await?;
    let locked = users
        .into_iter()
        .map(|u: User| LockedRow {
            id: u.id,
            since: u.auto_locked_at.map(|t| state.format_time(t)),
            by_admin: u.auto_locked_at.is_none(),
            username: u.username,
            display_name: u.display_name,
        })
        .collect();
    let s = &state.settings;
    let data = SecurityPage {
        required_for_all: all,
        groups: group_list
            .into_iter()
            .filter(|g| g.mfa_required)
            .map(|g| Named {
                id: g.id,
                name: g.name,
            })
            .collect(),
        services: service_list
            .into_iter()
            .filter(|s| s.mfa_required)
            .map(|s| Named {
                id: s.id,
                name: s.display_name,
            })
            .collect(),
        locked,
        policy: Policy {
            lockout_threshold: s.lockout_threshold,
            lockout_cooldown_minutes: s.lockout_cooldown_minutes,
            login_ip_max_failures: s.login_ip_max_failures,
            login_ip_window_minutes: s.login_ip_window_minutes,
            password_min_length: s.password_min_length,
            password_refuse_common: s.password_refuse_common,
            sms_sender: state.sms.describe(),
        },
        saved: q.saved.is_some(),
    };
    render(
        &state,
        &req,
        StatusCode::OK,
        "admin/security",
        "admin.security_title",
        Some(Nav::new(&admin.0.user, "security_admin")),
        data,
    )
}

#[derive(Deserialize)]
pub struct RequireForm {
    csrf_token: String,
    /// `true` or `false`.
    required: String,
}

/// Requires (or no longer requires) a second factor of everybody.
pub async fn post_require_all(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    form: web::Form<RequireForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &form.csrf_token)?;
    let on = form.required == "true";
    let now = state.now();
    let e = event("admin.mfa.required_all", &admin.0, &req, "");
    db::run(&state.pool, move |c| {
        let before = mfa::required_for_all(c)?;
        mfa::set_required_for_all(c, on)?;
        let e = e.detail(serde_json::json!({ "before": before, "after": on }));
        audit::insert(c, &e, now)
    })
    .await?;
    Ok(see_other("/admin/security?saved=1"))
}

/// Requires (or no longer requires) a second factor of a group's members.
pub async fn post_group(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<i32>,
    form: web::Form<RequireForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &form.csrf_token)?;
    let (id, on, now) = (path.into_inner(), form.required == "true", state.now());
    let e = event("admin.group.mfa_required", &admin.0, &req, "");
    let found = db::run(&state.pool, move |c| {
        let Some(g) = groups::find(c, id)? else {
            return Ok(false);
        };
        mfa::set_group_required(c, id, on)?;
        let e = e.detail(serde_json::json!({
            "group": g.name,
            "before": g.mfa_required,
            "after": on,
        }));
        audit::insert(c, &e, now)?;
        Ok(true)
    })
    .await?;
    if !found {
        return Err(AppError::NotFound);
    }
    Ok(see_other(&format!("/admin/groups/{id}?notice=saved")))
}
