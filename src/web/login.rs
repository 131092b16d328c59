//! ログイン and ログアウト: the password step, with the account lock and the
//! per-IP throttle, and the start of the second-factor step.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::auth::csrf;
use crate::auth::extract::MaybeSession;
use crate::auth::lockout::{self, Begin, Policy};
use crate::auth::{mfa, password, token};
use crate::db::models::audit::{self, Event};
use crate::db::models::contract::{self, Contract};
use crate::db::models::{sessions, users};
use crate::db::{self, to_naive};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::cookies;
use crate::web::page::{render, safe_next, see_other, url_encode};

const MAX_FIELD: usize = 1024;

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    reauth: Option<String>,
    notice: Option<String>,
}

/// Why the login page is shown again.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Refusal {
    Failed,
    Locked,
    Throttled,
}

#[derive(Serialize)]
struct LoginPage {
    username: String,
    next: String,
    reauth: bool,
    error_key: Option<&'static str>,
    notice_key: Option<&'static str>,
    locked: bool,
    contact: Option<Contract>,
}

pub async fn get_login(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LoginQuery>,
    session: MaybeSession,
) -> Result<HttpResponse, AppError> {
    let next = safe_next(q.next.as_deref()).unwrap_or_else(|| "/".into());
    let reauth = q.reauth.is_some();
    if session.0.as_ref().is_some_and(|s| s.is_complete()) && !reauth {
        return Ok(see_other(&next));
    }
    let notice_key = match q.notice.as_deref() {
        Some("signed_out_everywhere") => Some("sessions.signed_out_everywhere"),
        Some("session_ended") => Some("sessions.ended_current"),
        Some("locked") => Some("login.locked"),
        _ => None,
    };
    let data = LoginPage {
        username: String::new(),
        next,
        reauth,
        error_key: None,
        notice_key,
        locked: false,
        contact: None,
    };
    render(
        &state,
        &req,
        StatusCode::OK,
        "login/login",
        "login.title",
        None,
        data,
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    csrf_token: String,
    next: Option<String>,
}

pub async fn post_login(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    if !csrf::verify(&req, &form.csrf_token) {
        return Err(AppError::Csrf);
    }
    let next = safe_next(form.next.as_deref()).unwrap_or_else(|| "/".into());
    let username = form.username.trim().to_string();
    if username.is_empty() || username.len() > 256 || form.password.len() > MAX_FIELD {
        return refused(&state, &req, username, next, Refusal::Failed).await;
    }
    let ip = client_ip(&req);
    let policy = Policy::of(&state.settings);
    let now = state.now();
    let (name, addr) = (username.clone(), ip.clone());
    let begin = db::run(&state.pool, move |c| {
        lockout::begin(c, &name, &addr, &policy, now)
    })
    .await?;
    let user = match begin {
        Begin::Throttled => {
            tracing::warn!(ip = %ip, "login throttled");
            let e = Event::new("login.throttled", "").subject(&username).ip(&ip);
            db::run(&state.pool, move |c| audit::insert(c, &e, now)).await?;
            return refused(&state, &req, username, next, Refusal::Throttled).await;
        }
        Begin::Locked => {
            let e = Event::new("login.locked", "").subject(&username).ip(&ip);
            db::run(&state.pool, move |c| audit::insert(c, &e, now)).await?;
            return refused(&state, &req, username, next, Refusal::Locked).await;
        }
        Begin::NoUser { looks_locked } => {
            let pw = form.password;
            web::block(move || password::verify_dummy(&pw))
                .await
                .map_err(|_| AppError::Internal("login task cancelled".into()))?;
            return failed(&state, &req, username, next, None, looks_locked).await;
        }
        Begin::Check(u) => *u,
    };
    let (stored, pw) = (
        user.password_hash.clone().unwrap_or_default(),
        form.password,
    );
    let right = web::block(move || password::verify(&stored, &pw))
        .await
        .map_err(|_| AppError::Internal("login task cancelled".into()))?;
    if !right {
        return failed(&state, &req, username, next, Some(user), false).await;
    }
    let u = user.clone();
    let stage = db::run(&state.pool, move |c| mfa::login_stage(c, &u)).await?;
    start_session(&state, &req, &user, stage, &next).await
}

/// A wrong password (or an unknown user): the same answer either way,
/// unless this failure locked the account.
async fn failed(
    state: &AppState,
    req: &HttpRequest,
    username: String,
    next: String,
    user: Option<users::User>,
    looks_locked: bool,
) -> Result<HttpResponse, AppError> {
    let ip = client_ip(req);
    tracing::warn!(username = %username, ip = %ip, "login failed");
    let (now, policy) = (state.now(), Policy::of(&state.settings));
    let e = Event::new("login.failure", "").subject(&username).ip(&ip);
    let locked = db::run(&state.pool, move |c| {
        audit::insert(c, &e, now)?;
        match &user {
            Some(u) => lockout::password_failed(c, u, &policy, now),
            None => Ok(looks_locked),
        }
    })
    .await?;
    let why = if locked {
        Refusal::Locked
    } else {
        Refusal::Failed
    };
    refused(state, req, username, next, why).await
}

async fn refused(
    state: &AppState,
    req: &HttpRequest,
    username: String,
    next: String,
    why: Refusal,
) -> Result<HttpResponse, AppError> {
    let contact = if why == Refusal::Locked {
        Some(db::run(&state.pool, contract::load).await?)
    } else {
        None
    };
    let (status, key) = match why {
        Refusal::Failed => (StatusCode::UNAUTHORIZED, "login.failed"),
        Refusal::Locked => (StatusCode::FORBIDDEN, "login.locked"),
        Refusal::Throttled => (StatusCode::TOO_MANY_REQUESTS, "login.throttled"),
    };
    let data = LoginPage {
        username,
        next,
        reauth: false,
        error_key: Some(key),
        notice_key: None,
        locked: why == Refusal::Locked,
        contact,
    };
    let mut resp = render(state, req, status, "login/login", "login.title", None, data)?;
    if why == Refusal::Throttled {
        let secs = state.settings.login_ip_window_minutes * 60;
        if let Ok(v) = header::HeaderValue::from_str(&secs.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    Ok(resp)
}

/// The password was right: a new session (a new token: no fixation) in
/// `stage`, then the second factor, the password change, or `next`.
async fn start_session(
    state: &AppState,
    req: &HttpRequest,
    user: &users::User,
    stage: &'static str,
    next: &str,
) -> Result<HttpResponse, AppError> {
    let token = token::new_token();
    let token_hash = token::hash(&token);
    let old = req
        .cookie(cookies::SESSION_COOKIE)
        .map(|c| token::hash(c.value()));
    let now = state.now();
    let expires = now + state.absolute_timeout();
    let ip = client_ip(req);
    let ua: String = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(256)
        .collect();
    let (uid, complete) = (user.id, stage != mfa::STAGE_MFA);
    let kind = if complete {
        "login.success"
    } else {
        "login.password"
    };
    let e = Event::new(kind, &user.username)
        .subject(&user.username)
        .ip(&ip);
    let addr = ip.clone();
    db::run(&state.pool, move |c| {
        audit::insert(c, &e, now)?;
        lockout::succeeded(c, uid, &addr, complete)?;
        if let Some(old) = old {
            sessions::delete_by_token(c, &old)?;
        }
        sessions::insert(
            c,
            &sessions::NewSession {
                token_hash: &token_hash,
                user_id: uid,
                created_at: to_naive(now),
                last_seen_at: to_naive(now),
                authn_instant: to_naive(now),
                expires_at: to_naive(expires),
                ip: &addr,
                user_agent: &ua,
                stage,
            },
        )?;
        if complete {
            users::record_login(c, uid, now)?;
        }
        Ok(())
    })
    .await?;
    tracing::info!(username = %user.username, ip = %ip, stage, "password accepted");
    let target = if stage == mfa::STAGE_MFA {
        format!("/mfa?next={}", url_encode(next))
    } else if user.must_change_password {
        format!("/password?next={}", url_encode(next))
    } else if stage == mfa::STAGE_ENROL {
        format!("/mfa/setup?next={}", url_encode(next))
    } else {
        next.to_string()
    };
    let mut resp = see_other(&target);
    resp.add_cookie(&cookies::session(token, state.settings.secure_cookies()))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(resp)
}

/// The client's address: the peer's, or, when the peer is one of the
/// configured `trusted_proxies`, the nearest address in X-Forwarded-For
/// that is not a trusted proxy itself.
pub fn client_ip(req: &HttpRequest) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return String::new();
    };
    let trusted = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.settings.trusted_proxies.clone())
        .unwrap_or_default();
    if !trusted.contains(&peer) {
        return peer.to_string();
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    forwarded
        .iter()
        .rev()
        .map(|a| a.parse::<std::net::IpAddr>())
        .find(|a| !matches!(a, Ok(ip) if trusted.contains(ip)))
        .and_then(Result::ok)
        .unwrap_or(peer)
        .to_string()
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf_token: String,
}

pub async fn post_logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    if !csrf::verify(&req, &form.csrf_token) {
        return Err(AppError::Csrf);
    }
    if let Some(s) = crate::auth::extract::load(&req).await? {
        let e = Event::new("logout", &s.user.username)
            .subject(&s.user.username)
            .ip(&client_ip(&req));
        let (h, now) = (s.token_hash, state.now());
        db::run(&state.pool, move |conn| {
            audit::insert(conn, &e, now)?;
            sessions::delete_by_token(conn, &h)
        })
        .await?;
    }
    Ok(signed_out(&state, "/login"))
}

/// A redirect that also removes the session cookie.
pub fn signed_out(state: &AppState, location: &str) -> HttpResponse {
    let mut resp = see_other(location);
    let _ = resp.add_cookie(&cookies::clear_session(state.settings.secure_cookies()));
    resp
}
