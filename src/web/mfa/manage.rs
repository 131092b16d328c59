//! Choosing a second factor to set up, turning one off, and new recovery
//! codes. Turning off and new codes ask for the password again.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::{challenge_first, nav_of, next_of, wrong_code, NextQuery};
use crate::auth::extract::{CurrentUser, PartialSession, SignedIn};
use crate::auth::mfa::{self, Factors};
use crate::auth::{csrf, password};
use crate::db;
use crate::db::models::audit::{self, Event};
use crate::db::models::{mfa as mfa_db, users};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::login::client_ip;
use crate::web::page::{render, see_other, Nav};

#[derive(Serialize)]
struct SetupPage {
    next: String,
    factors: Factors,
    required: bool,
}

/// The choice of a second factor to set up (required ones come here).
pub async fn get_setup(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<NextQuery>,
    s: PartialSession,
) -> Result<HttpResponse, AppError> {
    let s = s.0;
    let next = next_of(q.next.as_deref());
    if let Some(out) = challenge_first(&s, &next) {
        return Ok(out);
    }
    let user = s.user.clone();
    let (factors, required) = db::run(&state.pool, move |c| {
        Ok((mfa::factors(c, &user)?, mfa::required(c, &user)?))
    })
    .await?;
    let data = SetupPage {
        next,
        factors,
        required,
    };
    render(
        &state,
        &req,
        StatusCode::OK,
        "mfa/setup",
        "mfa.setup_title",
        nav_of(&s),
        data,
    )
}

#[derive(Deserialize)]
pub struct PasswordForm {
    csrf_token: String,
    #[serde(default)]
    password: String,
}

/// Checks the CSRF token and the password typed again; a wrong password
/// counts towards the lock.
async fn confirm_password(
    state: &AppState,
    req: &HttpRequest,
    s: &SignedIn,
    form: &PasswordForm,
) -> Result<Option<HttpResponse>, AppError> {
    if !csrf::verify(req, &form.csrf_token) {
        return Err(AppError::Csrf);
    }
    let stored = s.user.password_hash.clone().unwrap_or_default();
    let typed = form.password.chars().take(1024).collect::<String>();
    let right = web::block(move || password::verify(&stored, &typed))
        .await
        .map_err(|_| AppError::Internal("password task cancelled".into()))?;
    if right {
        return Ok(None);
    }
    if let Some(out) = wrong_code(state, req, s, "password").await? {
        return Ok(Some(out));
    }
    Ok(Some(see_other("/security?error=password")))
}

/// Turns off one factor, unless it is the last one and one is required.
async fn disable(
    state: &AppState,
    req: &HttpRequest,
    s: &SignedIn,
    which: &'static str,
) -> Result<HttpResponse, AppError> {
    let user = s.user.clone();
    let e = Event::new(
        if which == "totp" {
            "mfa.totp_disabled"
        } else {
            "mfa.sms_disabled"
        },
        &s.user.username,
    )
    .subject(&s.user.username)
    .ip(&client_ip(req));
    let now = state.now();
    let done = db::run(&state.pool, move |c| {
        let f = mfa::factors(c, &user)?;
        let others = if which == "totp" { f.sms } else { f.totp };
        if !others && mfa::required(c, &user)? {
            return Ok(false);
        }
        if which == "totp" {
            mfa_db::delete_totp(c, user.id)?;
        } else {
            users::set_sms_mfa(c, user.id, false)?;
        }
        if !others {
            mfa_db::delete_recovery_codes(c, user.id)?;
        }
        audit::insert(c, &e, now)?;
        Ok(true)
    })
    .await?;
    Ok(see_other(if done {
        "/security?notice=mfa_disabled"
    } else {
        "/security?error=required"
    }))
}

pub async fn post_disable_totp(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: CurrentUser,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    if let Some(out) = confirm_password(&state, &req, &s.0, &form).await? {
        return Ok(out);
    }
    disable(&state, &req, &s.0, "totp").await
}

pub async fn post_disable_sms(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: CurrentUser,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    if let Some(out) = confirm_password(&state, &req, &s.0, &form).await? {
        return Ok(out);
    }
    disable(&state, &req, &s.0, "sms").await
}

#[derive(Serialize)]
pub struct CodesPage {
    pub codes: Vec<String>,
    pub next: String,
}

/// The recovery codes, shown once.
pub fn codes_page(
    state: &AppState,
    req: &HttpRequest,
    nav: Option<Nav>,
    codes: Vec<String>,
    next: String,
) -> Result<HttpResponse, AppError> {
    render(
        state,
        req,
        StatusCode::OK,
        "mfa/recovery_codes",
        "mfa.recovery_title",
        nav,
        CodesPage { codes, next },
    )
}

pub async fn post_new_recovery(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: CurrentUser,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let s = s.0;
    if let Some(out) = confirm_password(&state, &req, &s, &form).await? {
        return Ok(out);
    }
    let (user, now) = (s.user.clone(), state.now());
    let e = Event::new("mfa.recovery_generated", &s.user.username)
        .subject(&s.user.username)
        .ip(&client_ip(&req));
    let codes = db::run(&state.pool, move |c| {
        if !mfa::factors(c, &user)?.any() {
            return Ok(None);
        }
        audit::insert(c, &e, now)?;
        mfa::new_recovery_codes(c, user.id, now).map(Some)
    })
    .await?;
    match codes {
        Some(codes) => codes_page(&state, &req, nav_of(&s), codes, "/security".into()),
        None => Ok(see_other("/security")),
    }
}
