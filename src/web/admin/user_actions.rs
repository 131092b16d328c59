//! Admin: what is done to an account: disable, enable, lock, unlock, a
//! one-time password, deletion.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::auth::extract::AdminUser;
use crate::auth::{mfa, password};
use crate::db::models::audit;
use crate::db::models::sessions;
use crate::db::models::users::{self, AdminChange};
use crate::db::{self};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::admin::{check_csrf, event};
use crate::web::page::{render, see_other};

use super::users::{forbid_unless_manages, is_last_contractor, load, nav, OneTimePage};

#[derive(Deserialize)]
pub struct ActionForm {
    csrf_token: String,
    action: String,
}

pub async fn post_action(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<i32>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &form.csrf_token)?;
    let u = load(&state, path.into_inner()).await?;
    forbid_unless_manages(&admin.0, &u)?;
    let id = u.id;
    let back = |q: &str| Ok(see_other(&format!("/admin/users/{id}?{q}")));
    let action = form.action.as_str();
    if u.id == admin.0.user.id && matches!(action, "disable" | "lock") {
        return back("error=self");
    }
    if action == "disable" && is_last_contractor(&state, &u).await? {
        return back("error=last_contractor");
    }
    let now = state.now();
    let kind = match action {
        "disable" => "admin.user.disable",
        "enable" => "admin.user.enable",
        "lock" => "admin.user.lock",
        "unlock" => "admin.user.unlock",
        "reset_password" => "admin.user.reset_password",
        "mfa_reset" => "admin.user.mfa_reset",
        "mfa_require" | "mfa_optional" => "admin.user.mfa_required",
        _ => return Err(AppError::BadRequest(format!("unknown action {action}"))),
    };
    let state_of = |disabled: bool, locked: bool, mfa_required: bool| serde_json::json!({ "disabled": disabled, "locked": locked, "mfa_required": mfa_required });
    let after = match action {
        "disable" => state_of(true, u.locked, u.mfa_required),
        "enable" => state_of(false, u.locked, u.mfa_required),
        "lock" => state_of(u.disabled, true, u.mfa_required),
        "unlock" => state_of(u.disabled, false, u.mfa_required),
        "mfa_require" => state_of(u.disabled, u.locked, true),
        "mfa_optional" => state_of(u.disabled, u.locked, false),
        _ => serde_json::Value::Null,
    };
    let e = event(kind, &admin.0, &req, "")
        .subject(&u.username)
        .detail(serde_json::json!({
            "before": state_of(u.disabled, u.locked, u.mfa_required),
            "after": after,
            "failed_logins": u.failed_logins,
        }));
    if action == "reset_password" {
        let one_time = password::generate_one_time();
        let pw = one_time.clone();
        let hash = web::block(move || password::hash(&pw))
            .await
            .map_err(|_| AppError::Internal("hash task cancelled".into()))?
            .map_err(AppError::Internal)?;
        db::run(&state.pool, move |c| {
            audit::insert(c, &e, now)?;
            users::set_password(c, id, &hash, true, now)?;
            sessions::delete_for_user(c, id, None)?;
            Ok(())
        })
        .await?;
        let data = OneTimePage {
            username: u.username,
            password: one_time,
            created: false,
            id,
        };
        return render(
            &state,
            &req,
            StatusCode::OK,
            "admin/users/one_time",
            "admin.users_title",
            nav(&admin.0),
            data,
        );
    }
    let act = action.to_string();
    db::run(&state.pool, move |c| {
        audit::insert(c, &e, now)?;
        match act.as_str() {
            "disable" => {
                users::set_disabled(c, id, true)?;
                sessions::delete_for_user(c, id, None)?;
            }
            "enable" => users::set_disabled(c, id, false)?,
            "lock" => {
                users::set_locked(c, id, true)?;
                sessions::delete_for_user(c, id, None)?;
            }
            "mfa_reset" => {
                mfa::reset(c, id)?;
                sessions::delete_for_user(c, id, None)?;
            }
            "mfa_require" => users::set_mfa_required(c, id, true)?,
            "mfa_optional" => users::set_mfa_required(c, id, false)?,
            _ => users::set_locked(c, id, false)?,
        }
        Ok(())
    })
    .await?;
    let notice = match action {
        "disable" => "disabled",
        "enable" => "enabled",
        "lock" => "locked",
        "mfa_reset" => "mfa_reset",
        "mfa_require" | "mfa_optional" => "saved",
        _ => "unlocked",
    };
    back(&format!("notice={notice}"))
}

#[derive(Deserialize)]
pub struct DeleteForm {
    csrf_token: String,
    confirm: String,
}

pub async fn post_delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<i32>,
    form: web::Form<DeleteForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &form.csrf_token)?;
    let u = load(&state, path.into_inner()).await?;
    forbid_unless_manages(&admin.0, &u)?;
    let id = u.id;
    if u.id == admin.0.user.id {
        return Ok(see_other(&format!("/admin/users/{id}?error=self")));
    }
    if is_last_contractor(&state, &u).await? {
        return Ok(see_other(&format!(
            "/admin/users/{id}?error=last_contractor"
        )));
    }
    if form.confirm.trim() != u.username {
        return Ok(see_other(&format!("/admin/users/{id}?error=confirm")));
    }
    let e = event("admin.user.delete", &admin.0, &req, "")
        .subject(&u.username)
        .detail(serde_json::json!({ "profile": AdminChange::of(&u), "role": u.role }));
    let now = state.now();
    db::run(&state.pool, move |c| {
        audit::insert(c, &e, now)?;
        users::delete(c, id)
    })
    .await?;
    Ok(see_other("/admin/users?deleted=1"))
}
