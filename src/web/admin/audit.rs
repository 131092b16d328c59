//! Admin: the audit log, filtered, paged, and exported as CSV.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{NaiveDate, TimeZone};
use serde::{Deserialize, Serialize};

use crate::auth::extract::AdminUser;
use crate::db;
use crate::db::models::audit::{self, AuditEvent, Event, Filter};
use crate::domain::csv;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::login::client_ip;
use crate::web::page::{render, url_encode, Nav};

const PAGE: i64 = 50;
/// Most rows one export carries.
const EXPORT_MAX: i64 = 100_000;

#[derive(Deserialize, Serialize, Default, Clone)]
pub struct AuditQuery {
    #[serde(default)]
    user: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    kind: String,
    /// YYYY-MM-DD in the configured time zone, inclusive.
    #[serde(default)]
    from: String,
    /// YYYY-MM-DD in the configured time zone, inclusive.
    #[serde(default)]
    to: String,
    #[serde(default)]
    page: Option<i64>,
}

/// The start of a local day as a stored (UTC) time.
fn day_start(state: &AppState, d: &str, plus_days: i64) -> Option<chrono::NaiveDateTime> {
    let date =
        NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok()? + chrono::Duration::days(plus_days);
    let local = state
        .settings
        .tz()
        .from_local_datetime(&date.and_hms_opt(0, 0, 0)?)
        .earliest()?;
    Some(local.naive_utc())
}

fn filter_of(state: &AppState, q: &AuditQuery) -> Filter {
    Filter {
        user: q.user.trim().to_string(),
        service: q.service.trim().to_string(),
        kind: q.kind.trim().to_string(),
        from: day_start(state, &q.from, 0),
        until: day_start(state, &q.to, 1),
    }
}

#[derive(Serialize)]
struct Row {
    at: String,
    kind: String,
    actor: String,
    subject: String,
    service: String,
    ip: String,
    detail: String,
}

#[derive(Serialize)]
struct AuditPage {
    q: AuditQuery,
    rows: Vec<Row>,
    page: i64,
    prev: Option<String>,
    next: Option<String>,
    export: String,
}

fn query_string(q: &AuditQuery, page: Option<i64>) -> String {
    let mut s = format!(
        "user={}&service={}&kind={}&from={}&to={}",
        url_encode(&q.user),
        url_encode(&q.service),
        url_encode(&q.kind),
        url_encode(&q.from),
        url_encode(&q.to)
    );
    if let Some(p) = page {
        s.push_str(&format!("&page={p}"));
    }
    s
}

fn row(state: &AppState, e: AuditEvent) -> Row {
    Row {
        at: state.format_time(e.at),
        kind: e.kind,
        actor: e.actor,
        subject: e.subject,
        service: e.service,
        ip: e.ip,
        detail: e.detail,
    }
}

pub async fn get_list(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let page = q.page.unwrap_or(1).max(1);
    let filter = filter_of(&state, &q);
    let events = db::run(&state.pool, move |c| {
        audit::list(c, &filter, (page - 1) * PAGE, PAGE + 1)
    })
    .await?;
    let has_more = events.len() as i64 > PAGE;
    let rows = events
        .into_iter()
        .take(PAGE as usize)
        .map(|e| row(&state, e))
        .collect();
    let data = AuditPage {
        prev: (page > 1).then(|| format!("/admin/audit?{}", query_string(&q, Some(page - 1)))),
        next: has_more.then(|| format!("/admin/audit?{}", query_string(&q, Some(page + 1)))),
        export: format!("/admin/audit.csv?{}", query_string(&q, None)),
        rows,
        page,
        q,
    };
    let nav = Nav::new(&admin.0.user, "audit");
    render(
        &state,
        &req,
        StatusCode::OK,
        "admin/audit",
        "admin.audit",
        Some(nav),
        data,
    )
}

pub async fn get_csv(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let filter = filter_of(&state, &q);
    let now = state.now();
    let e = Event::new("admin.audit.export", &admin.0.user.username).ip(&client_ip(&req));
    let events = db::run(&state.pool, move |c| {
        audit::insert(c, &e, now)?;
        audit::list(c, &filter, 0, EXPORT_MAX)
    })
    .await?;
    // UTF-8 with BOM so that Excel reads Japanese correctly.
    let mut out = String::from(csv::BOM);
    out.push_str(&csv::row(&[
        "at", "kind", "actor", "subject", "service", "ip", "detail",
    ]));
    for e in events {
        let r = row(&state, e);
        out.push_str(&csv::row(&[
            &r.at, &r.kind, &r.actor, &r.subject, &r.service, &r.ip, &r.detail,
        ]));
    }
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"omakase-audit.csv\"",
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(out))
}
