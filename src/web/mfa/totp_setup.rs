//! Setting up an authenticator app: a new secret as a QR code (SVG drawn
//! here, no outside service) and as text, enabled only once a code from
//! the app is confirmed; then recovery codes, shown once.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::Serialize;

use super::challenge_first;
use super::manage::codes_page;
use super::{after_second_factor, complete_session, nav_of, next_of, CodeForm, NextQuery};
use crate::auth::extract::{PartialSession, SignedIn};
use crate::auth::{mfa, totp};
use crate::db;
use crate::db::models::audit::{self, Event};
use crate::db::models::mfa as mfa_db;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::login::client_ip;
use crate::web::page::{render, see_other, url_encode};

/// The issuer name the authenticator app shows.
const ISSUER: &str = "おまかせログイン";

#[derive(Serialize)]
struct SetupPage {
    next: String,
    qr_data_uri: String,
    /// The secret in groups of four, for typing it in.
    secret_text: String,
    account: String,
    error_key: Option<&'static str>,
}

/// An `otpauth://` URI drawn as an SVG QR code, as a data URI for `<img>`.
fn qr_data_uri(uri: &str) -> Result<String, AppError> {
    let code = qrcode::QrCode::with_error_correction_level(uri.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| AppError::Internal(format!("QR code: {e}")))?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .build();
    Ok(format!("data:image/svg+xml;base64,{}", B64.encode(svg)))
}

fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn page(
    state: &AppState,
    req: &HttpRequest,
    s: &SignedIn,
    status: StatusCode,
    secret: &[u8],
    next: String,
    error_key: Option<&'static str>,
) -> Result<HttpResponse, AppError> {
    let account = s.user.username.clone();
    let data = SetupPage {
        next,
        qr_data_uri: qr_data_uri(&totp::uri(ISSUER, &account, secret))?,
        secret_text: grouped(&totp::base32(secret)),
        account,
        error_key,
    };
    render(
        state,
        req,
        status,
        "mfa/totp_setup",
        "mfa.totp_setup_title",
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
    let secret = totp::new_secret();
    let (uid, hex_secret, now) = (s.user.id, hex::encode(&secret), state.now());
    let started = db::run(&state.pool, move |c| {
        mfa_db::start_totp(c, uid, &hex_secret, now)
    })
    .await?;
    if !started {
        return Ok(see_other("/security?notice=totp_exists"));
    }
    page(&state, &req, &s, StatusCode::OK, &secret, next, None)
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
    let (uid, code, now) = (s.user.id, form.code.clone(), state.now());
    let e = Event::new("mfa.totp_enabled", &s.user.username)
        .subject(&s.user.username)
        .ip(&client_ip(&req));
    let confirmed = db::run(&state.pool, move |c| {
        if !mfa::confirm_totp(c, uid, &code, now)? {
            return Ok(Err(mfa_db::find_totp(c, uid)?.filter(|f| !f.confirmed)));
        }
        audit::insert(c, &e, now)?;
        mfa::new_recovery_codes(c, uid, now).map(Ok)
    })
    .await?;
    match confirmed {
        Ok(codes) => {
            complete_session(&state, &req, &s, "totp").await?;
            let then = after_second_factor(&s, &next);
            codes_page(&state, &req, nav_of(&s), codes, then)
        }
        Err(Some(pending)) => page(
            &state,
            &req,
            &s,
            StatusCode::UNPROCESSABLE_ENTITY,
            &pending.secret_bytes(),
            next,
            Some("mfa.wrong_code"),
        ),
        Err(None) => Ok(see_other(&format!(
            "/mfa/totp/setup?next={}",
            url_encode(&next)
        ))),
    }
}
