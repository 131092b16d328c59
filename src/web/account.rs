//! セキュリティ: the person's second factors and their active sessions
//! (browser, IP address, last seen), each of which they can end, and
//! "sign out everywhere".

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::auth::csrf;
use crate::auth::extract::CurrentUser;
use crate::auth::mfa::{self, Factors};
use crate::db;
use crate::db::models::audit::{self, Event};
use crate::db::models::sessions;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::login::{client_ip, signed_out};
use crate::web::mfa::mobile_tail;
use crate::web::page::{render, see_other, Nav};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/security", web::get().to(get_security))
        .route("/sessions/{id}/end", web::post().to(post_end))
        .route("/sessions/end-all", web::post().to(post_end_all));
}

#[derive(Serialize)]
struct SessionRow {
    id: i32,
    browser: String,
    ip: String,
    signed_in: String,
    last_seen: String,
    current: bool,
    second_factor: bool,
}

#[derive(Serialize)]
struct SecurityPage {
    factors: Factors,
    required: bool,
    mobile_tail: String,
    sessions: Vec<SessionRow>,
    notice_key: Option<&'static str>,
    error_key: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct PageQuery {
    notice: Option<String>,
    error: Option<String>,
}

/// "Chrome 131 / Windows" from a User-Agent header, for people.
pub fn describe_browser(ua: &str) -> String {
    let version = |name: &str| -> Option<String> {
        let at = ua.find(name)? + name.len();
        let v: String = ua[at..].chars().take_while(char::is_ascii_digit).collect();
        Some(if v.is_empty() {
            name.trim_end_matches('/').to_string()
        } else {
            format!("{} {v}", name.trim_end_matches('/'))
        })
    };
    let browser = version("Edg/")
        .map(|b| b.replacen("Edg", "Edge", 1))
        .or_else(|| version("Firefox/"))
        .or_else(|| version("Chrome/"))
        .or_else(|| ua.contains("Safari/").then(|| "Safari".to_string()))
        .unwrap_or_default();
    let os = [
        ("Windows", "Windows"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Android", "Android"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| *name)
    .unwrap_or("");
    match (browser.is_empty(), os.is_empty()) {
        (false, false) => format!("{browser} / {os}"),
        (false, true) => browser,
        (true, false) => os.to_string(),
        (true, true) => ua.chars().take(40).collect(),
    }
}

pub async fn get_security(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<PageQuery>,
    s: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let s = s.0;
    let (user, now, idle) = (s.user.clone(), state.now(), state.idle_timeout());
    let (factors, required, list) = db::run(&state.pool, move |c| {
        Ok((
            mfa::factors(c, &user)?,
            mfa::required(c, &user)?,
            sessions::list_for_user(c, user.id, now, idle)?,
        ))
    })
    .await?;
    let rows = list
        .into_iter()
        .map(|x| SessionRow {
            id: x.id,
            browser: describe_browser(&x.user_agent),
            signed_in: state.format_time(x.created_at),
            last_seen: state.format_time(x.last_seen_at),
            current: x.id == s.session.id,
            second_factor: x.mfa_at.is_some(),
            ip: x.ip,
        })
        .collect();
    let notice_key = match q.notice.as_deref() {
        Some("session_ended") => Some("sessions.ended"),
        Some("mfa_disabled") => Some("mfa.disabled"),
        Some("totp_exists") => Some("mfa.totp_exists"),
        _ => None,
    };
    let error_key = match q.error.as_deref() {
        Some("password") => Some("mfa.wrong_password"),
        Some("required") => Some("mfa.cannot_disable_required"),
        _ => None,
    };
    let data = SecurityPage {
        factors,
        required,
        mobile_tail: mobile_tail(&s.user.mobile),
        sessions: rows,
        notice_key,
        error_key,
    };
    render(
        &state,
        &req,
        StatusCode::OK,
        "profile/security",
        "security.title",
        Some(Nav::new(&s.user, "security")),
        data,
    )
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf_token: String,
}

pub async fn post_end(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i32>,
    s: CurrentUser,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    if !csrf::verify(&req, &form.csrf_token) {
        return Err(AppError::Csrf);
    }
    let s = s.0;
    let (id, uid, now) = (path.into_inner(), s.user.id, state.now());
    let e = Event::new("session.end", &s.user.username)
        .subject(&s.user.username)
        .ip(&client_ip(&req))
        .detail(serde_json::json!({ "session": id }));
    let ended = db::run(&state.pool, move |c| {
        let ended = sessions::delete_of_user(c, uid, id)?;
        if ended {
            audit::insert(c, &e, now)?;
        }
        Ok(ended)
    })
    .await?;
    if !ended {
        return Err(AppError::NotFound);
    }
    if id == s.session.id {
        return Ok(signed_out(&state, "/login?notice=session_ended"));
    }
    Ok(see_other("/security?notice=session_ended"))
}

pub async fn post_end_all(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: CurrentUser,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    if !csrf::verify(&req, &form.csrf_token) {
        return Err(AppError::Csrf);
    }
    let s = s.0;
    let (uid, now) = (s.user.id, state.now());
    let e = Event::new("session.end_all", &s.user.username)
        .subject(&s.user.username)
        .ip(&client_ip(&req));
    db::run(&state.pool, move |c| {
        let n = sessions::delete_for_user(c, uid, None)?;
        audit::insert(c, &e.detail(serde_json::json!({ "sessions": n })), now)
    })
    .await?;
    Ok(signed_out(&state, "/login?notice=signed_out_everywhere"))
}

#[cfg(test)]
mod tests {
    use super::describe_browser;

    #[test]
    fn browsers() {
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
        assert_eq!(describe_browser(chrome), "Chrome 131 / Windows");
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86";
        assert_eq!(describe_browser(edge), "Edge 131 / Windows");
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        assert_eq!(describe_browser(iphone), "Safari / iOS");
        assert_eq!(describe_browser("ureq/2.12"), "ureq/2.12");
        assert_eq!(describe_browser(""), "");
    }
}
