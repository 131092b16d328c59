//! Turning on SMS codes: a code is sent to the profile's mobile number and
//! must come back before SMS counts as a second factor.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::challenge_first;
use super::manage::codes_page;
use super::{
    after_second_factor, complete_session, mobile_tail, nav_of, next_of, send_sms, sms_error_key,
    CodeForm, NextQuery,
};
use crate::auth::extract::{PartialSession, SignedIn};
use crate::auth::mfa::{self, SmsCheck};
use crate::auth::sms;
use crate::db;
use crate::db::models::audit::{self, Event};
use crate::db::models::{mfa as mfa_db, users};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::login::client_ip;
use crate::web::page::{render, see_other, url_encode};

#[derive(Serialize)]
struct SetupPage {
    next: String,
    has_mobile: bool,
    mobile_tail: String,
    enabled: bool,
    sent: bool,
    can_edit_profile: bool,
    error_key: Option<&'static str>,
}

fn page(
    state: &AppState,
    req: &HttpRequest,
    s: &SignedIn,
    status: StatusCode,
    next: String,
    sent: bool,
    error_key: Option<&'static str>,
) -> Result<HttpResponse, AppError> {
    let data = SetupPage {
        next,
        has_mobile: sms::to_e164(&s.user.mobile).is_some(),
        mobile_tail: mobile_tail(&s.user.mobile),
        enabled: s.user.sms_mfa,
        sent,
        can_edit_profile: nav_of(s).is_some(),
        error_key,
    };
    render(
        state,
        req,
        status,
        "mfa/sms_setup",
        "mfa.sms_setup_title",
        nav_of(s),
        data,
    )
}

pub async fn get_setup(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<NextQuery>,
    s: PartialSession,
) -> Result<HttpResponse, AppError> {
    let (s, next) = (s.0, next_of(q.next.as_deref()));
    if let Some(out) = challenge_first(&s, &next) {
        return Ok(out);
    }
    let error = sms_error_key(q.error.as_deref());
    page(
        &state,
        &req,
        &s,
        StatusCode::OK,
        next,
        q.sent.is_some(),
        error,
    )
}

pub async fn post_send(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: PartialSession,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let (s, next) = (s.0, form.checked_next(&req)?);
    if let Some(out) = challenge_first(&s, &next) {
        return Ok(out);
    }
    let back = format!("/mfa/sms/setup?next={}", url_encode(&next));
    send_sms(&state, &req, &s, "enrol", &back).await
}

pub async fn post_setup(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: PartialSession,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let (s, next) = (s.0, form.checked_next(&req)?);
    if let Some(out) = challenge_first(&s, &next) {
        return Ok(out);
    }
    let (sid, code, now) = (s.session.id, form.code.clone(), state.now());
    let checked = db::run(&state.pool, move |c| {
        mfa::check_sms(c, sid, "enrol", &code, now)
    })
    .await?;
    let sent_to = match checked {
        SmsCheck::Right(to) => to,
        SmsCheck::Wrong => {
            let key = Some("mfa.wrong_code");
            return page(
                &state,
                &req,
                &s,
                StatusCode::UNPROCESSABLE_ENTITY,
                next,
                true,
                key,
            );
        }
        SmsCheck::NoCode => {
            let key = Some("mfa.sms_expired");
            return page(
                &state,
                &req,
                &s,
                StatusCode::UNPROCESSABLE_ENTITY,
                next,
                false,
                key,
            );
        }
    };
    let uid = s.user.id;
    let e = Event::new("mfa.sms_enabled", &s.user.username)
        .subject(&s.user.username)
        .ip(&client_ip(&req))
        .detail(serde_json::json!({ "to_last_digits": mobile_tail(&sent_to) }));
    let codes = db::run(&state.pool, move |c| {
        // The number must still be the profile's (it may have changed
        // since the code was sent).
        let current = users::find(c, uid)?.and_then(|u| sms::to_e164(&u.mobile));
        if current.as_deref() != Some(sent_to.as_str()) {
            return Ok(None);
        }
        users::set_sms_mfa(c, uid, true)?;
        audit::insert(c, &e, now)?;
        if mfa_db::unused_recovery_codes(c, uid)? > 0 {
            return Ok(Some(Vec::new()));
        }
        mfa::new_recovery_codes(c, uid, now).map(Some)
    })
    .await?;
    let Some(codes) = codes else {
        let key = Some("mfa.sms_number_changed");
        return page(&state, &req, &s, StatusCode::CONFLICT, next, false, key);
    };
    complete_session(&state, &req, &s, "sms").await?;
    let then = after_second_factor(&s, &next);
    if codes.is_empty() {
        return Ok(see_other(&then));
    }
    codes_page(&state, &req, nav_of(&s), codes, then)
}
