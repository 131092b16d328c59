//! Second factors: `totp_factors`, `recovery_codes`, `sms_codes`, and the
//! `security_settings` that say who needs one.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::{
    group_members, groups, recovery_codes, security_settings, sms_codes, totp_factors,
};
use crate::db::{to_naive, DbConn, DbError};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = totp_factors)]
pub struct TotpFactor {
    pub user_id: i32,
    /// The secret, hex.
    pub secret: String,
    pub confirmed: bool,
    /// The last time step whose code was accepted (each code works once).
    pub last_step: i64,
}

impl TotpFactor {
    pub fn secret_bytes(&self) -> Vec<u8> {
        hex::decode(&self.secret).unwrap_or_default()
    }
}

pub fn find_totp(conn: &mut DbConn, user_id: i32) -> Result<Option<TotpFactor>, DbError> {
    Ok(totp_factors::table
        .find(user_id)
        .select(TotpFactor::as_select())
        .first(conn)
        .optional()?)
}

/// Starts an enrolment: an unconfirmed secret replaces any earlier
/// unconfirmed one (a confirmed factor is never replaced here).
pub fn start_totp(
    conn: &mut DbConn,
    user_id: i32,
    secret_hex: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    diesel::delete(
        totp_factors::table
            .find(user_id)
            .filter(totp_factors::confirmed.eq(false)),
    )
    .execute(conn)?;
    let r = diesel::insert_into(totp_factors::table)
        .values((
            totp_factors::user_id.eq(user_id),
            totp_factors::secret.eq(secret_hex),
            totp_factors::confirmed.eq(false),
            totp_factors::last_step.eq(0i64),
            totp_factors::created_at.eq(to_naive(now)),
        ))
        .execute(conn)
        .map_err(DbError::from);
    match r {
        Ok(_) => Ok(true),
        Err(e) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e),
    }
}

/// Claims time step `step` for this user's factor: `false` when a code of
/// this or a later step was already accepted (replay), atomically.
pub fn claim_step(conn: &mut DbConn, user_id: i32, step: i64) -> Result<bool, DbError> {
    let n = diesel::update(
        totp_factors::table
            .find(user_id)
            .filter(totp_factors::last_step.lt(step)),
    )
    .set(totp_factors::last_step.eq(step))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn confirm_totp(conn: &mut DbConn, user_id: i32) -> Result<(), DbError> {
    diesel::update(totp_factors::table.find(user_id))
        .set(totp_factors::confirmed.eq(true))
        .execute(conn)?;
    Ok(())
}

pub fn delete_totp(conn: &mut DbConn, user_id: i32) -> Result<usize, DbError> {
    Ok(diesel::delete(totp_factors::table.find(user_id)).execute(conn)?)
}

/// Replaces the user's recovery codes by these hashes.
pub fn replace_recovery_codes(
    conn: &mut DbConn,
    user_id: i32,
    hashes: &[String],
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
        .execute(conn)?;
    for h in hashes {
        diesel::insert_into(recovery_codes::table)
            .values((
                recovery_codes::user_id.eq(user_id),
                recovery_codes::code_hash.eq(h),
                recovery_codes::created_at.eq(to_naive(now)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn unused_recovery_codes(conn: &mut DbConn, user_id: i32) -> Result<i64, DbError> {
    Ok(recovery_codes::table
        .filter(recovery_codes::user_id.eq(user_id))
        .filter(recovery_codes::used_at.is_null())
        .count()
        .get_result(conn)?)
}

/// Uses up the unused code with this hash; `false` if there is none.
pub fn use_recovery_code(
    conn: &mut DbConn,
    user_id: i32,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let n = diesel::update(
        recovery_codes::table
            .filter(recovery_codes::user_id.eq(user_id))
            .filter(recovery_codes::code_hash.eq(hash))
            .filter(recovery_codes::used_at.is_null()),
    )
    .set(recovery_codes::used_at.eq(Some(to_naive(now))))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn delete_recovery_codes(conn: &mut DbConn, user_id: i32) -> Result<usize, DbError> {
    Ok(
        diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
            .execute(conn)?,
    )
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sms_codes)]
pub struct SmsCode {
    pub id: i32,
    pub user_id: i32,
    pub session_id: i32,
    pub purpose: String,
    pub mobile: String,
    pub code_hash: String,
    pub attempts: i32,
    pub sends: i32,
    pub created_at: chrono::NaiveDateTime,
    pub sent_at: chrono::NaiveDateTime,
    pub expires_at: chrono::NaiveDateTime,
}

/// The newest code of this session for this purpose.
pub fn find_sms(
    conn: &mut DbConn,
    session_id: i32,
    purpose: &str,
) -> Result<Option<SmsCode>, DbError> {
    Ok(sms_codes::table
        .filter(sms_codes::session_id.eq(session_id))
        .filter(sms_codes::purpose.eq(purpose))
        .order(sms_codes::id.desc())
        .select(SmsCode::as_select())
        .first(conn)
        .optional()?)
}

pub struct NewSms<'a> {
    pub user_id: i32,
    pub session_id: i32,
    pub purpose: &'a str,
    pub mobile: &'a str,
    pub code_hash: &'a str,
    pub sends: i32,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Replaces the session's code for this purpose by a new one; its id.
pub fn replace_sms(conn: &mut DbConn, new: &NewSms<'_>) -> Result<i32, DbError> {
    diesel::delete(
        sms_codes::table
            .filter(sms_codes::session_id.eq(new.session_id))
            .filter(sms_codes::purpose.eq(new.purpose)),
    )
    .execute(conn)?;
    let now = to_naive(new.now);
    diesel::insert_into(sms_codes::table)
        .values((
            sms_codes::user_id.eq(new.user_id),
            sms_codes::session_id.eq(new.session_id),
            sms_codes::purpose.eq(new.purpose),
            sms_codes::mobile.eq(new.mobile),
            sms_codes::code_hash.eq(new.code_hash),
            sms_codes::attempts.eq(0),
            sms_codes::sends.eq(new.sends),
            sms_codes::created_at.eq(now),
            sms_codes::sent_at.eq(now),
            sms_codes::expires_at.eq(to_naive(new.expires_at)),
        ))
        .execute(conn)?;
    Ok(find_sms(conn, new.session_id, new.purpose)?
        .map(|c| c.id)
        .unwrap_or_default())
}

/// A code that could not be sent: as if it had never been made.
pub fn delete_sms(conn: &mut DbConn, id: i32) -> Result<usize, DbError> {
    Ok(diesel::delete(sms_codes::table.find(id)).execute(conn)?)
}

/// Messages sent to this user since `since` (all sessions).
pub fn sms_sent_since(
    conn: &mut DbConn,
    user_id: i32,
    since: DateTime<Utc>,
) -> Result<i64, DbError> {
    let sends: Option<i64> = sms_codes::table
        .filter(sms_codes::user_id.eq(user_id))
        .filter(sms_codes::sent_at.gt(to_naive(since)))
        .select(diesel::dsl::sum(sms_codes::sends))
        .first(conn)?;
    Ok(sends.unwrap_or(0))
}

/// Counts one attempt at a code; the attempts made so far, this one
/// included.
pub fn count_sms_attempt(conn: &mut DbConn, id: i32) -> Result<i32, DbError> {
    diesel::update(sms_codes::table.find(id))
        .set(sms_codes::attempts.eq(sms_codes::attempts + 1))
        .execute(conn)?;
    Ok(sms_codes::table
        .find(id)
        .select(sms_codes::attempts)
        .first(conn)?)
}

/// The attempt count of a used code: far past any limit.
const USED: i32 = 1_000_000;

/// A code that was used: it cannot be tried again.
pub fn use_up_sms(conn: &mut DbConn, id: i32) -> Result<(), DbError> {
    diesel::update(sms_codes::table.find(id))
        .set(sms_codes::attempts.eq(USED))
        .execute(conn)?;
    Ok(())
}

/// Forgets codes sent before `before`.
pub fn purge_sms(conn: &mut DbConn, before: DateTime<Utc>) -> Result<usize, DbError> {
    Ok(
        diesel::delete(sms_codes::table.filter(sms_codes::sent_at.lt(to_naive(before))))
            .execute(conn)?,
    )
}

const REQUIRE_ALL: &str = "mfa_required_all";

/// Whether everybody must use a second factor.
pub fn required_for_all(conn: &mut DbConn) -> Result<bool, DbError> {
    let v: Option<String> = security_settings::table
        .find(REQUIRE_ALL)
        .select(security_settings::value)
        .first(conn)
        .optional()?;
    Ok(v.as_deref() == Some("true"))
}

pub fn set_required_for_all(conn: &mut DbConn, on: bool) -> Result<(), DbError> {
    let value = if on { "true" } else { "false" };
    let upsert = diesel::insert_into(security_settings::table)
        .values((
            security_settings::name.eq(REQUIRE_ALL),
            security_settings::value.eq(value),
        ))
        .on_conflict(security_settings::name)
        .do_update()
        .set(security_settings::value.eq(value));
    match conn {
        DbConn::Sqlite(c) => upsert.execute(c)?,
        DbConn::Pg(c) => upsert.execute(c)?,
    };
    Ok(())
}

/// Whether a second factor is required of this user: by the user's own
/// flag, by a group of theirs, or for everybody.
pub fn required_for_user(conn: &mut DbConn, user_id: i32, own_flag: bool) -> Result<bool, DbError> {
    if own_flag || required_for_all(conn)? {
        return Ok(true);
    }
    let by_group: i64 = group_members::table
        .inner_join(groups::table)
        .filter(group_members::user_id.eq(user_id))
        .filter(groups::mfa_required.eq(true))
        .count()
        .get_result(conn)?;
    Ok(by_group > 0)
}

pub fn set_group_required(conn: &mut DbConn, group_id: i32, on: bool) -> Result<(), DbError> {
    diesel::update(groups::table.find(group_id))
        .set(groups::mfa_required.eq(on))
        .execute(conn)?;
    Ok(())
}
