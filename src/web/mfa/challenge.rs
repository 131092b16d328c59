//! 2段階認証 at login or before a service that needs it: a code from the
//! authenticator app, an SMS code, or a recovery code.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::{
    finish, mobile_tail, nav_of, next_of, send_sms, sms_error_key, wrong_code, CodeForm, NextQuery,
};
use crate::auth::extract::{PartialSession, SignedIn};
use crate::auth::mfa::{self, Factors, SmsCheck};
use crate::db;
use crate::db::models::audit::{self, Event};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::login::client_ip;
use crate::web::page::{render, see_other, url_encode};

#[derive(Serialize)]
struct ChallengePage {
    next: String,
    factors: Factors,
    mobile_tail: String,
    sms_sent: bool,
    error_key: Option<&'static str>,
}

async fn factors_of(state: &AppState, s: &SignedIn) -> Result<Factors, AppError> {
    let user = s.user.clone();
    Ok(db::run(&state.pool, move |c| mfa::factors(c, &user)).await?)
}

async fn page(
    state: &AppState,
    req: &HttpRequest,
    s: &SignedIn,
    status: StatusCode,
    next: String,
    sms_sent: bool,
    error_key: Option<&'static str>,
) -> Result<HttpResponse, AppError> {
    let factors = factors_of(state, s).await?;
    let data = ChallengePage {
        next,
        factors,
        mobile_tail: mobile_tail(&s.user.mobile),
        sms_sent,
        error_key,
    };
    render(
        state,
        req,
        status,
        "mfa/challenge",
        "mfa.title",
        nav_of(s),
        data,
    )
}

pub async fn get_challenge(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<NextQuery>,
    s: PartialSession,
) -> Result<HttpResponse, AppError> {
    let s = s.0;
    let next = next_of(q.next.as_deref());
    if s.session.mfa_at.is_some() {
        return Ok(see_other(&next));
    }
    if !factors_of(&state, &s).await?.any() {
        return Ok(see_other(&format!("/mfa/setup?next={}", url_encode(&next))));
    }
    let sent = q.sent.is_some();
    let error = sms_error_key(q.error.as_deref());
    page(&state, &req, &s, StatusCode::OK, next, sent, error).await
}

/// After a wrong code: the form again, or the login page if it locked.
async fn refuse(
    state: &AppState,
    req: &HttpRequest,
    s: &SignedIn,
    method: &'static str,
    next: String,
    key: &'static str,
) -> Result<HttpResponse, AppError> {
    if let Some(out) = wrong_code(state, req, s, method).await? {
        return Ok(out);
    }
    page(
        state,
        req,
        s,
        StatusCode::UNAUTHORIZED,
        next,
        false,
        Some(key),
    )
    .await
}

pub async fn post_totp(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: PartialSession,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let (s, next) = (s.0, form.checked_next(&req)?);
    let (uid, code, now) = (s.user.id, form.code.clone(), state.now());
    let right = db::run(&state.pool, move |c| mfa::verify_totp(c, uid, &code, now)).await?;
    if !right {
        return refuse(&state, &req, &s, "totp", next, "mfa.wrong_code").await;
    }
    finish(&state, &req, &s, "totp", &next).await
}

pub async fn post_sms_send(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: PartialSession,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let (s, next) = (s.0, form.checked_next(&req)?);
    if !factors_of(&state, &s).await?.sms {
        return Err(AppError::BadRequest(
            "SMS is not a second factor of this user".into(),
        ));
    }
    let back = format!("/mfa?next={}", url_encode(&next));
    send_sms(&state, &req, &s, "login", &back).await
}

pub async fn post_sms(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: PartialSession,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let (s, next) = (s.0, form.checked_next(&req)?);
    let (sid, code, now) = (s.session.id, form.code.clone(), state.now());
    let checked = db::run(&state.pool, move |c| {
        mfa::check_sms(c, sid, "login", &code, now)
    })
    .await?;
    match checked {
        SmsCheck::Right(_) => finish(&state, &req, &s, "sms", &next).await,
        SmsCheck::Wrong => refuse(&state, &req, &s, "sms", next, "mfa.wrong_code").await,
        SmsCheck::NoCode => {
            page(
                &state,
                &req,
                &s,
                StatusCode::UNAUTHORIZED,
                next,
                false,
                Some("mfa.sms_expired"),
            )
            .await
        }
    }
}

pub async fn post_recovery(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: PartialSession,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let (s, next) = (s.0, form.checked_next(&req)?);
    let (uid, code, now) = (s.user.id, form.code.clone(), state.now());
    let used = db::run(&state.pool, move |c| {
        mfa::use_recovery_code(c, uid, &code, now)
    })
    .await?;
    if !used {
        return refuse(&state, &req, &s, "recovery", next, "mfa.wrong_recovery").await;
    }
    let e = Event::new("mfa.recovery_used", &s.user.username)
        .subject(&s.user.username)
        .ip(&client_ip(&req));
    db::run(&state.pool, move |c| audit::insert(c, &e, now)).await?;
    finish(&state, &req, &s, "recovery", &next).await
}
