//! ログイン, ログアウト and パスワード変更.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::auth::csrf;
use crate::auth::extract::{AnySession, MaybeSession};
use crate::auth::{password, token};
use crate::db::models::audit::{self, Event};
use crate::db::models::{sessions, users};
use crate::db::{self, to_naive};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::cookies;
use crate::web::page::{self, render, safe_next, see_other, url_encode, Nav};

const MAX_FIELD: usize = 1024;

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    reauth: Option<String>,
}

#[derive(Serialize)]
struct LoginPage {
    username: String,
    next: String,
    reauth: bool,
    error_key: Option<&'static str>,
}

pub async fn get_login(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LoginQuery>,
    session: MaybeSession,
) -> Result<HttpResponse, AppError> {
    let next = safe_next(q.next.as_deref()).unwrap_or_else(|| "/".into());
    let reauth = q.reauth.is_some();
    if session.0.is_some() && !reauth {
        return Ok(see_other(&next));
    }
    let data = LoginPage {
        username: String::new(),
        next,
        reauth,
        error_key: None,
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

enum Checked {
    Ok(Box<users::User>),
    Failed,
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
        return login_failed(&state, &req, username, next);
    }
    let pool = state.pool.clone();
    let name = username.clone();
    let pw = form.password;
    let checked = web::block(move || -> Result<Checked, db::DbError> {
        let user = db::run_sync(&pool, |c| users::find_by_username(c, &name))?;
        Ok(match user {
            Some(u) if !u.disabled && !u.locked => match &u.password_hash {
                Some(h) if password::verify(h, &pw) => Checked::Ok(Box::new(u)),
                _ => Checked::Failed,
            },
            _ => {
                password::verify_dummy(&pw);
                Checked::Failed
            }
        })
    })
    .await
    .map_err(|_| AppError::Internal("login task cancelled".into()))??;
    let user = match checked {
        Checked::Ok(u) => *u,
        Checked::Failed => {
            tracing::warn!(username = %username, ip = %client_ip(&req), "login failed");
            let e = Event::new("login.failure", "")
                .subject(&username)
                .ip(&client_ip(&req));
            let now = state.now();
            db::run(&state.pool, move |c| audit::insert(c, &e, now)).await?;
            return login_failed(&state, &req, username, next);
        }
    };
    let token = token::new_token();
    let token_hash = token::hash(&token);
    let old = req
        .cookie(cookies::SESSION_COOKIE)
        .map(|c| token::hash(c.value()));
    let now = state.now();
    let expires = now + state.absolute_timeout();
    let ip = client_ip(&req);
    let ua: String = req
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(256)
        .collect();
    let uid = user.id;
    let e = Event::new("login.success", &user.username)
        .subject(&user.username)
        .ip(&ip);
    db::run(&state.pool, move |c| {
        audit::insert(c, &e, now)?;
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
                ip: &ip,
                user_agent: &ua,
            },
        )?;
        users::record_login(c, uid, now)
    })
    .await?;
    tracing::info!(username = %user.username, ip = %client_ip(&req), "login");
    let target = if user.must_change_password {
        format!("/password?next={}", url_encode(&next))
    } else {
        next
    };
    let mut resp = see_other(&target);
    resp.add_cookie(&cookies::session(token, state.settings.secure_cookies()))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(resp)
}

fn login_failed(
    state: &AppState,
    req: &HttpRequest,
    username: String,
    next: String,
) -> Result<HttpResponse, AppError> {
    let data = LoginPage {
        username,
        next,
        reauth: false,
        error_key: Some("login.failed"),
    };
    render(
        state,
        req,
        StatusCode::UNAUTHORIZED,
        "login/login",
        "login.title",
        None,
        data,
    )
}

/// The peer address (no proxy header is trusted).
pub fn client_ip(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default()
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
    let mut resp = see_other("/login");
    resp.add_cookie(&cookies::clear_session(state.settings.secure_cookies()))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(resp)
}

#[derive(Serialize)]
struct PasswordPage {
    must_change: bool,
    next: String,
    error_key: Option<&'static str>,
}

pub async fn get_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LoginQuery>,
    s: AnySession,
) -> Result<HttpResponse, AppError> {
    let data = PasswordPage {
        must_change: s.0.user.must_change_password,
        next: safe_next(q.next.as_deref()).unwrap_or_else(|| "/".into()),
        error_key: None,
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
    if let Err(v) = password::check_policy(&form.new, &user.username) {
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
