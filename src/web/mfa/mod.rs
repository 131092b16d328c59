//! The second factor: the challenge after the password or before a
//! service that needs one (`challenge`), and setting one up (`totp_setup`,
//! `sms_setup`, `manage`).

pub mod challenge;
pub mod manage;
pub mod sms_setup;
pub mod totp_setup;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::auth::csrf;
use crate::auth::extract::SignedIn;
use crate::auth::lockout::{self, Policy};
use crate::auth::mfa::{self, SmsRefusal, SmsToSend};
use crate::db::models::audit::{self, Event};
use crate::db::models::{mfa as mfa_db, users};
use crate::db::{self};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::login::{client_ip, signed_out};
use crate::web::page::{safe_next, see_other, url_encode, Nav};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/mfa", web::get().to(challenge::get_challenge))
        .route("/mfa/totp", web::post().to(challenge::post_totp))
        .route("/mfa/sms", web::post().to(challenge::post_sms))
        .route("/mfa/sms/send", web::post().to(challenge::post_sms_send))
        .route("/mfa/recovery", web::post().to(challenge::post_recovery))
        .route("/mfa/setup", web::get().to(manage::get_setup))
        .route("/mfa/totp/setup", web::get().to(totp_setup::get_setup))
        .route("/mfa/totp/setup", web::post().to(totp_setup::post_setup))
        .route("/mfa/sms/setup", web::get().to(sms_setup::get_setup))
        .route("/mfa/sms/setup", web::post().to(sms_setup::post_setup))
        .route("/mfa/sms/setup/send", web::post().to(sms_setup::post_send))
        .route(
            "/mfa/totp/disable",
            web::post().to(manage::post_disable_totp),
        )
        .route("/mfa/sms/disable", web::post().to(manage::post_disable_sms))
        .route(
            "/mfa/recovery/new",
            web::post().to(manage::post_new_recovery),
        );
}

#[derive(Deserialize)]
pub struct NextQuery {
    pub next: Option<String>,
    pub sent: Option<String>,
    pub error: Option<String>,
}

#[derive(Deserialize)]
pub struct CodeForm {
    pub csrf_token: String,
    #[serde(default)]
    pub code: String,
    pub next: Option<String>,
}

impl CodeForm {
    /// Checks the CSRF token; the form's `next` target.
    pub fn checked_next(&self, req: &HttpRequest) -> Result<String, AppError> {
        if !csrf::verify(req, &self.csrf_token) {
            return Err(AppError::Csrf);
        }
        Ok(next_of(self.next.as_deref()))
    }
}

pub fn next_of(next: Option<&str>) -> String {
    safe_next(next).unwrap_or_else(|| "/".into())
}

/// Setting a factor up waits until the code the session owes is given.
pub fn challenge_first(s: &SignedIn, next: &str) -> Option<HttpResponse> {
    (s.session.stage == mfa::STAGE_MFA)
        .then(|| see_other(&format!("/mfa?next={}", url_encode(next))))
}

/// The menu, once the session may use the portal.
pub fn nav_of(s: &SignedIn) -> Option<Nav> {
    (s.is_complete() && !s.user.must_change_password).then(|| Nav::new(&s.user, "security"))
}

/// A second factor was given (or set up) in this session: the session is
/// complete.
pub async fn complete_session(
    state: &AppState,
    req: &HttpRequest,
    s: &SignedIn,
    method: &'static str,
) -> Result<(), AppError> {
    let now = state.now();
    let (sid, uid) = (s.session.id, s.user.id);
    // A login that waited for the code is recorded now (a login that had
    // to set a factor up was recorded at the password).
    let at_login = s.session.stage == mfa::STAGE_MFA;
    let kind = if at_login {
        "login.success"
    } else {
        "mfa.step_up"
    };
    let e = Event::new(kind, &s.user.username)
        .subject(&s.user.username)
        .ip(&client_ip(req))
        .detail(serde_json::json!({ "second_factor": method }));
    db::run(&state.pool, move |c| {
        audit::insert(c, &e, now)?;
        mfa::complete(c, sid, method, now)?;
        lockout::reset(c, uid)?;
        if at_login {
            users::record_login(c, uid, now)?;
        }
        Ok(())
    })
    .await?;
    tracing::info!(username = %s.user.username, method, "second factor accepted");
    Ok(())
}

/// Where to go once the second factor is done.
pub fn after_second_factor(s: &SignedIn, next: &str) -> String {
    if s.user.must_change_password {
        format!("/password?next={}", url_encode(next))
    } else {
        next.to_string()
    }
}

/// Completes the session and goes on.
pub async fn finish(
    state: &AppState,
    req: &HttpRequest,
    s: &SignedIn,
    method: &'static str,
    next: &str,
) -> Result<HttpResponse, AppError> {
    complete_session(state, req, s, method).await?;
    Ok(see_other(&after_second_factor(s, next)))
}

/// A wrong code: counted like a wrong password; at the limit the account
/// locks and the session ends. `None` when the caller shows the form again.
pub async fn wrong_code(
    state: &AppState,
    req: &HttpRequest,
    s: &SignedIn,
    method: &'static str,
) -> Result<Option<HttpResponse>, AppError> {
    let (now, policy) = (state.now(), Policy::of(&state.settings));
    let user = s.user.clone();
    let e = Event::new("mfa.failure", &s.user.username)
        .subject(&s.user.username)
        .ip(&client_ip(req))
        .detail(serde_json::json!({ "second_factor": method }));
    let locked = db::run(&state.pool, move |c| {
        audit::insert(c, &e, now)?;
        lockout::code_failed(c, &user, &policy, now)
    })
    .await?;
    tracing::warn!(username = %s.user.username, method, locked, "wrong second-factor code");
    Ok(locked.then(|| signed_out(state, "/login?notice=locked")))
}

/// Makes and sends an SMS code of this session for `purpose`, then goes
/// back to `back` (a path with a query) with `sent=1` or the error.
pub async fn send_sms(
    state: &AppState,
    req: &HttpRequest,
    s: &SignedIn,
    purpose: &'static str,
    back: &str,
) -> Result<HttpResponse, AppError> {
    Ok(match send_sms_code(state, req, s, purpose).await? {
        Ok(()) => see_other(&format!("{back}&sent=1")),
        Err(key) => see_other(&format!("{back}&error={key}")),
    })
}

async fn send_sms_code(
    state: &AppState,
    req: &HttpRequest,
    s: &SignedIn,
    purpose: &'static str,
) -> Result<Result<(), &'static str>, AppError> {
    let (now, user, sid) = (state.now(), s.user.clone(), s.session.id);
    let prepared = db::run(&state.pool, move |c| {
        mfa::prepare_sms(c, &user, sid, purpose, now)
    })
    .await?;
    let SmsToSend { id, to, code } = match prepared {
        Ok(p) => p,
        Err(r) => return Ok(Err(r.message_key())),
    };
    let sender = state.sms.clone();
    let number = to.clone();
    let sent = web::block(move || sender.send(&number, &mfa::sms_text(&code)))
        .await
        .map_err(|_| AppError::Internal("SMS task cancelled".into()))?;
    let tail = mobile_tail(&to);
    let ok = sent.is_ok();
    let e = Event::new(
        if ok { "mfa.sms_sent" } else { "mfa.sms_failed" },
        &s.user.username,
    )
    .subject(&s.user.username)
    .ip(&client_ip(req))
    .detail(serde_json::json!({ "purpose": purpose, "to_last_digits": tail }));
    db::run(&state.pool, move |c| audit::insert(c, &e, now)).await?;
    if let Err(e) = sent {
        tracing::error!(error = %e, "SMS not sent");
        db::run(&state.pool, move |c| mfa_db::delete_sms(c, id)).await?;
        return Ok(Err("mfa.sms_send_failed"));
    }
    Ok(Ok(()))
}

/// The message key of an SMS refusal passed in a query string.
pub fn sms_error_key(q: Option<&str>) -> Option<&'static str> {
    Some(match q? {
        "mfa.sms_no_mobile" => SmsRefusal::NoMobile.message_key(),
        "mfa.sms_too_soon" => SmsRefusal::TooSoon.message_key(),
        "mfa.sms_too_many" => SmsRefusal::TooMany.message_key(),
        "mfa.sms_send_failed" => "mfa.sms_send_failed",
        _ => return None,
    })
}

/// The last four digits of a mobile number, for "sent to …5678".
pub fn mobile_tail(mobile: &str) -> String {
    let digits: Vec<char> = mobile.chars().filter(char::is_ascii_digit).collect();
    digits[digits.len().saturating_sub(4)..].iter().collect()
}
