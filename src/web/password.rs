//! パスワード変更: current, new and confirmation, checked against the
//! configured policy; a change ends the person's other sessions.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::auth::csrf;
use crate::auth::extract::AnySession;
use crate::auth::password;
use crate::db;
use crate::db::models::audit::{self, Event};
use crate::db::models::{sessions, users};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::login::client_ip;
use crate::web::page::{self, render, safe_next, Nav};

const MAX_FIELD: usize = 1024;

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Serialize)]
struct PasswordPage {
    must_change: bool,
    next: String,
    error_key: Option<&'static str>,
    min_length: usize,
}

pub async fn get_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<NextQuery>,
    s: AnySession,
) -> Result<HttpResponse, AppError> {
    let data = PasswordPage {
        must_change: s.0.user.must_change_password,
        next: safe_next(q.next.as_deref()).unwrap_or_else(|| "/".into()),
        error_key: None,
        min_length: state.settings.password_min_length,
    };
    let nav = Nav::new(&s.0.user, "password");
    render(
        &state,
        &req,
        StatusCode::OK,
        "login/password",
        "password.title",
        Some(nav),
        data,
    )
}

#[derive(Deserialize)]
pub struct PasswordForm {
    csrf_token: String,
    current: String,
    new: String,
    confirm: String,
    next: Option<String>,
}

pub async fn post_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: AnySession,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    if !csrf::verify(&req, &form.csrf_token) {
        return Err(AppError::Csrf);
    }
    let user = s.0.user.clone();
    let next = safe_next(form.next.as_deref()).unwrap_or_else(|| "/".into());
    let fail = |key: &'static str| {
        let data = PasswordPage {
            must_change: user.must_change_password,
            next: next.clone(),
            error_key: Some(key),
            min_length: state.settings.password_min_length,
        };
        let nav = Nav::new(&user, "password");
        render(
            &state,
            &req,
            StatusCode::UNPROCESSABLE_ENTITY,
            "login/password",
            "password.title",
            Some(nav),
            data,
        )
    };
    if form.current.len() > MAX_FIELD || form.new.len() > MAX_FIELD {
        return fail("password.wrong_current");
    }
    if form.new != form.confirm {
        return fail(password::PolicyViolation::Mismatch.message_key());
    }
    if let Err(v) = password::check_policy(
        &form.new,
        &user.username,
        &password::Policy::of(&state.settings),
    ) {
        return fail(v.message_key());
    }
    let stored = user.password_hash.clone().unwrap_or_default();
    let current = form.current;
    let new = form.new;
    let hashed = web::block(move || {
        if !password::verify(&stored, &current) {
            return Ok(None);
        }
        password::hash(&new).map(Some)
    })
    .await
    .map_err(|_| AppError::Internal("password task cancelled".into()))?
    .map_err(AppError::Internal)?;
    let Some(hash) = hashed else {
        tracing::warn!(username = %user.username, "password change: wrong current password");
        let e = Event::new("password.change_failed", &user.username)
            .subject(&user.username)
            .ip(&client_ip(&req));
        let now = state.now();
        db::run(&state.pool, move |c| audit::insert(c, &e, now)).await?;
        return fail("password.wrong_current");
    };
    let now = state.now();
    let (uid, sid) = (user.id, s.0.session.id);
    let e = Event::new("password.change", &user.username)
        .subject(&user.username)
        .ip(&client_ip(&req));
    db::run(&state.pool, move |c| {
        audit::insert(c, &e, now)?;
        users::set_password(c, uid, &hash, false, now)?;
        sessions::delete_for_user(c, uid, Some(sid))
    })
    .await?;
    tracing::info!(username = %user.username, "password changed");
    let sep = if next.contains('?') { '&' } else { '?' };
    let target = if next == "/" {
        "/?notice=password_changed".to_string()
    } else {
        format!("{next}{sep}notice=password_changed")
    };
    Ok(page::see_other(&target))
}
