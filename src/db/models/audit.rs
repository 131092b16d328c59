//! The `audit_events` table: who did what, when, from where.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::audit_events;
use crate::db::{to_naive, DbConn, DbError};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    pub id: i64,
    pub at: chrono::NaiveDateTime,
    pub kind: String,
    pub actor: String,
    pub subject: String,
    pub service: String,
    pub ip: String,
    pub detail: String,
}

/// One event to record. `detail` is JSON (before/after of a change); it
/// never holds a password, a one-time code or an assertion.
#[derive(Debug, Clone, Default)]
pub struct Event {
    pub kind: &'static str,
    pub actor: String,
    pub subject: String,
    pub service: String,
    pub ip: String,
    pub detail: Option<serde_json::Value>,
}

impl Event {
    pub fn new(kind: &'static str, actor: &str) -> Self {
        Event {
            kind,
            actor: actor.to_string(),
            ..Event::default()
        }
    }

    pub fn subject(mut self, s: &str) -> Self {
        self.subject = s.to_string();
        self
    }

    pub fn service(mut self, s: &str) -> Self {
        self.service = s.to_string();
        self
    }

    pub fn ip(mut self, s: &str) -> Self {
        self.ip = s.to_string();
        self
    }

    pub fn detail(mut self, d: serde_json::Value) -> Self {
        self.detail = Some(d);
        self
    }
}

pub fn insert(conn: &mut DbConn, e: &Event, now: DateTime<Utc>) -> Result<(), DbError> {
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::at.eq(to_naive(now)),
            audit_events::kind.eq(e.kind),
            audit_events::actor.eq(&e.actor),
            audit_events::subject.eq(&e.subject),
            audit_events::service.eq(&e.service),
            audit_events::ip.eq(&e.ip),
            audit_events::detail.eq(e.detail.as_ref().map(|d| d.to_string()).unwrap_or_default()),
        ))
        .execute(conn)?;
    Ok(())
}

/// What the audit page and the export filter on; empty means any.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub user: String,
    pub service: String,
    pub kind: String,
    pub from: Option<chrono::NaiveDateTime>,
    pub until: Option<chrono::NaiveDateTime>,
}

/// Newest first; `limit` rows after skipping `offset`.
pub fn list(
    conn: &mut DbConn,
    f: &Filter,
    offset: i64,
    limit: i64,
) -> Result<Vec<AuditEvent>, DbError> {
    let mut q = audit_events::table.into_boxed();
    if !f.user.is_empty() {
        q = q.filter(
            audit_events::subject
                .eq(f.user.clone())
                .or(audit_events::actor.eq(f.user.clone())),
        );
    }
    if !f.service.is_empty() {
        q = q.filter(audit_events::service.eq(f.service.clone()));
    }
    if !f.kind.is_empty() {
        q = q.filter(audit_events::kind.like(format!("{}%", f.kind.replace(['%', '_'], ""))));
    }
    if let Some(t) = f.from {
        q = q.filter(audit_events::at.ge(t));
    }
    if let Some(t) = f.until {
        q = q.filter(audit_events::at.lt(t));
    }
    Ok(q.order(audit_events::id.desc())
        .offset(offset)
        .limit(limit)
        .select(AuditEvent::as_select())
        .load(conn)?)
}
