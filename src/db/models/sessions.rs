//! The `sessions` table: server-side IdP sessions, by token hash.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use crate::db::models::users::User;
use crate::db::schema::{sessions, users};
use crate::db::{to_naive, DbConn, DbError};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id: i32,
    pub user_id: i32,
    pub created_at: chrono::NaiveDateTime,
    pub last_seen_at: chrono::NaiveDateTime,
    pub authn_instant: chrono::NaiveDateTime,
    pub expires_at: chrono::NaiveDateTime,
    pub ip: String,
    pub user_agent: String,
    /// `full`, `mfa` (second factor pending) or `enrol` (a second factor
    /// must be set up first).
    pub stage: String,
    /// When a second factor was given in this session.
    pub mfa_at: Option<chrono::NaiveDateTime>,
    /// `totp`, `sms` or `recovery`; empty before a second factor.
    pub mfa_method: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = sessions)]
pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub user_id: i32,
    pub created_at: chrono::NaiveDateTime,
    pub last_seen_at: chrono::NaiveDateTime,
    pub authn_instant: chrono::NaiveDateTime,
    pub expires_at: chrono::NaiveDateTime,
    pub ip: &'a str,
    pub user_agent: &'a str,
    pub stage: &'a str,
}

pub fn insert(conn: &mut DbConn, new: &NewSession<'_>) -> Result<(), DbError> {
    diesel::insert_into(sessions::table)
        .values(new)
        .execute(conn)?;
    Ok(())
}

/// The live session of this token (not past its absolute or idle limit)
/// with its user, refreshing last-seen at most once a minute.
pub fn find_live(
    conn: &mut DbConn,
    token_hash: &str,
    now: DateTime<Utc>,
    idle: Duration,
) -> Result<Option<(Session, User)>, DbError> {
    let n = to_naive(now);
    let found: Option<(Session, User)> = sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(token_hash))
        .filter(sessions::expires_at.gt(n))
        .filter(sessions::last_seen_at.gt(n - idle))
        .filter(users::disabled.eq(false))
        .filter(users::locked.eq(false))
        .select((Session::as_select(), User::as_select()))
        .first(conn)
        .optional()?;
    if let Some((s, _)) = &found {
        if s.last_seen_at < n - Duration::seconds(60) {
            diesel::update(sessions::table.find(s.id))
                .set(sessions::last_seen_at.eq(n))
                .execute(conn)?;
        }
    }
    Ok(found)
}

pub fn delete_by_token(conn: &mut DbConn, token_hash: &str) -> Result<usize, DbError> {
    Ok(
        diesel::delete(sessions::table.filter(sessions::token_hash.eq(token_hash)))
            .execute(conn)?,
    )
}

/// Ends every session of a user except the one with `keep` (if any).
pub fn delete_for_user(
    conn: &mut DbConn,
    user_id: i32,
    keep: Option<i32>,
) -> Result<usize, DbError> {
    let q = sessions::table.filter(sessions::user_id.eq(user_id));
    Ok(match keep {
        Some(k) => diesel::delete(q.filter(sessions::id.ne(k))).execute(conn)?,
        None => diesel::delete(q).execute(conn)?,
    })
}

pub fn purge_expired(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    idle: Duration,
) -> Result<usize, DbError> {
    let n = to_naive(now);
    Ok(diesel::delete(
        sessions::table.filter(
            sessions::expires_at
                .le(n)
                .or(sessions::last_seen_at.le(n - idle)),
        ),
    )
    .execute(conn)?)
}

/// A second factor was given: the session is complete.
pub fn set_second_factor(
    conn: &mut DbConn,
    id: i32,
    method: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    diesel::update(sessions::table.find(id))
        .set((
            sessions::stage.eq(crate::auth::mfa::STAGE_FULL),
            sessions::mfa_at.eq(Some(to_naive(now))),
            sessions::mfa_method.eq(method),
        ))
        .execute(conn)?;
    Ok(())
}

/// The live sessions of a user, the most recently used first.
pub fn list_for_user(
    conn: &mut DbConn,
    user_id: i32,
    now: DateTime<Utc>,
    idle: Duration,
) -> Result<Vec<Session>, DbError> {
    let n = to_naive(now);
    Ok(sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::expires_at.gt(n))
        .filter(sessions::last_seen_at.gt(n - idle))
        .order(sessions::last_seen_at.desc())
        .select(Session::as_select())
        .load(conn)?)
}

/// Ends one session of this user; `false` if it is not theirs.
pub fn delete_of_user(conn: &mut DbConn, user_id: i32, id: i32) -> Result<bool, DbError> {
    Ok(diesel::delete(
        sessions::table
            .filter(sessions::id.eq(id))
            .filter(sessions::user_id.eq(user_id)),
    )
    .execute(conn)?
        == 1)
}
