//! SAML protocol state shared by all instances: used request IDs (replay),
//! pending requests waiting for a login, and the services signed in to
//! during each session.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::{pending_requests, session_services, used_request_ids};
use crate::db::{to_naive, DbConn, DbError};

/// Records a request ID; `false` when this issuer already used it.
pub fn claim_request_id(
    conn: &mut DbConn,
    issuer: &str,
    request_id: &str,
    keep_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    diesel::delete(used_request_ids::table.filter(used_request_ids::expires_at.lt(to_naive(now))))
        .execute(conn)?;
    let r = diesel::insert_into(used_request_ids::table)
        .values((
            used_request_ids::issuer.eq(issuer),
            used_request_ids::request_id.eq(request_id),
            used_request_ids::expires_at.eq(to_naive(keep_until)),
        ))
        .execute(conn)
        .map_err(DbError::from);
    match r {
        Ok(_) => Ok(true),
        Err(e) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e),
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = pending_requests)]
pub struct Pending {
    pub token_hash: String,
    pub service_id: i32,
    pub request_id: String,
    pub acs_url: String,
    pub relay_state: Option<String>,
    pub force_authn: bool,
    pub is_passive: bool,
    pub name_id_format: String,
    pub created_at: chrono::NaiveDateTime,
    pub expires_at: chrono::NaiveDateTime,
    /// The request's RequestedAuthnContext, in `authn_context::to_stored` form.
    pub requested_context: String,
}

pub fn insert_pending(conn: &mut DbConn, p: &Pending, now: DateTime<Utc>) -> Result<(), DbError> {
    diesel::delete(pending_requests::table.filter(pending_requests::expires_at.lt(to_naive(now))))
        .execute(conn)?;
    diesel::insert_into(pending_requests::table)
        .values(p)
        .execute(conn)?;
    Ok(())
}

/// Takes a pending request out (single use): only the caller whose delete
/// removed the row gets it.
pub fn take_pending(
    conn: &mut DbConn,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Pending>, DbError> {
    let found: Option<Pending> = pending_requests::table
        .filter(pending_requests::token_hash.eq(token_hash))
        .filter(pending_requests::expires_at.gt(to_naive(now)))
        .select(Pending::as_select())
        .first(conn)
        .optional()?;
    let Some(p) = found else { return Ok(None) };
    let removed =
        diesel::delete(pending_requests::table.filter(pending_requests::token_hash.eq(token_hash)))
            .execute(conn)?;
    Ok(if removed == 1 { Some(p) } else { None })
}

/// Peeks at a pending request without taking it.
pub fn find_pending(
    conn: &mut DbConn,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Pending>, DbError> {
    Ok(pending_requests::table
        .filter(pending_requests::token_hash.eq(token_hash))
        .filter(pending_requests::expires_at.gt(to_naive(now)))
        .select(Pending::as_select())
        .first(conn)
        .optional()?)
}

pub fn record_sign_in(
    conn: &mut DbConn,
    session_id: i32,
    service_id: i32,
    session_index: &str,
    name_id: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    diesel::insert_into(session_services::table)
        .values((
            session_services::session_id.eq(session_id),
            session_services::service_id.eq(service_id),
            session_services::session_index.eq(session_index),
            session_services::name_id.eq(name_id),
            session_services::created_at.eq(to_naive(now)),
        ))
        .execute(conn)?;
    Ok(())
}
