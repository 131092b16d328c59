//! Account lockout and the per-IP login throttle. Every counter lives in
//! the database, so that all instances share it, and every attempt is
//! reserved (counted) before the password is checked, so that parallel
//! wrong attempts cannot get past the limit by racing.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use crate::config::Settings;
use crate::db::models::audit::{self, Event};
use crate::db::models::users::{self, User};
use crate::db::schema::{login_throttle, sessions, users as users_t};
use crate::db::{to_naive, write_tx, DbConn, DbError};

#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Failures in a row that lock an account.
    pub threshold: i32,
    /// Self-unlock after this long, if set.
    pub cooldown: Option<Duration>,
    /// Failures allowed from one IP address per window.
    pub ip_max: i32,
    pub ip_window: Duration,
}

impl Policy {
    pub fn of(s: &Settings) -> Self {
        Policy {
            threshold: s.lockout_threshold,
            cooldown: (s.lockout_cooldown_minutes > 0)
                .then(|| Duration::minutes(s.lockout_cooldown_minutes)),
            ip_max: s.login_ip_max_failures,
            ip_window: Duration::minutes(s.login_ip_window_minutes),
        }
    }

    /// How long unknown user names are remembered as "locked".
    fn unknown_window(&self) -> Duration {
        self.cooldown.unwrap_or(Duration::hours(24))
    }
}

/// What may happen to a login attempt before its password is checked.
#[derive(Debug)]
pub enum Begin {
    /// Check the password; one failure is already counted for the user.
    Check(Box<User>),
    /// No such user, or disabled: check against a dummy hash, then fail;
    /// `looks_locked` when an unknown name has just reached the threshold
    /// (it answers as a real account would at that attempt).
    NoUser { looks_locked: bool },
    /// The account is locked (or, for an unknown name, looks locked).
    Locked,
    /// Too many failures from this IP address.
    Throttled,
}

fn ip_bucket(ip: &str) -> String {
    format!("ip:{ip}")
}

fn name_bucket(name: &str) -> String {
    format!("name:{}", name.to_lowercase())
}

/// Adds one hit to a bucket whose window restarts after `window`; returns
/// the hits in the current window. Increment-then-read is atomic on both
/// backends (the row is locked by the update).
fn hit(
    conn: &mut DbConn,
    bucket: &str,
    now: DateTime<Utc>,
    window: Duration,
) -> Result<i32, DbError> {
    let n = to_naive(now);
    let insert = diesel::insert_into(login_throttle::table)
        .values((
            login_throttle::bucket.eq(bucket),
            login_throttle::window_start.eq(n),
            login_throttle::hits.eq(0),
        ))
        .on_conflict(login_throttle::bucket)
        .do_nothing();
    match conn {
        DbConn::Sqlite(c) => insert.execute(c)?,
        DbConn::Pg(c) => insert.execute(c)?,
    };
    let row = login_throttle::table.find(bucket);
    diesel::update(row.filter(login_throttle::window_start.le(n - window)))
        .set((
            login_throttle::window_start.eq(n),
            login_throttle::hits.eq(0),
        ))
        .execute(conn)?;
    diesel::update(row)
        .set(login_throttle::hits.eq(login_throttle::hits + 1))
        .execute(conn)?;
    Ok(row.select(login_throttle::hits).first(conn)?)
}

/// Takes back one hit (a success that was counted in advance).
fn unhit(conn: &mut DbConn, bucket: &str) -> Result<(), DbError> {
    diesel::update(
        login_throttle::table
            .find(bucket)
            .filter(login_throttle::hits.gt(0)),
    )
    .set(login_throttle::hits.eq(login_throttle::hits - 1))
    .execute(conn)?;
    Ok(())
}

/// Unlocks an account whose cool-down has passed; `true` if it did.
fn cooled_down(
    conn: &mut DbConn,
    u: &User,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let (Some(at), Some(cool)) = (u.auto_locked_at, policy.cooldown) else {
        return Ok(false);
    };
    if at + cool > to_naive(now) {
        return Ok(false);
    }
    set_unlocked(conn, u.id)?;
    let e = Event::new("account.unlock", "system")
        .subject(&u.username)
        .detail(serde_json::json!({ "reason": "cool-down" }));
    audit::insert(conn, &e, now)?;
    Ok(true)
}

/// Forgets counters whose window ended long ago (unknown user names
/// would otherwise pile up).
pub fn purge(conn: &mut DbConn, policy: &Policy, now: DateTime<Utc>) -> Result<usize, DbError> {
    let keep = policy.ip_window.max(policy.unknown_window());
    Ok(diesel::delete(
        login_throttle::table.filter(login_throttle::window_start.lt(to_naive(now - keep))),
    )
    .execute(conn)?)
}

/// Clears the lock and the failure counter.
pub fn set_unlocked(conn: &mut DbConn, user_id: i32) -> Result<(), DbError> {
    diesel::update(users_t::table.find(user_id))
        .set((
            users_t::locked.eq(false),
            users_t::failed_logins.eq(0),
            users_t::auto_locked_at.eq(None::<chrono::NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Before a password is checked: the IP throttle, the lock, and one
/// failure counted in advance (taken back by `succeeded`).
pub fn begin(
    conn: &mut DbConn,
    username: &str,
    ip: &str,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<Begin, DbError> {
    write_tx(conn, |c| {
        if hit(c, &ip_bucket(ip), now, policy.ip_window)? > policy.ip_max {
            return Ok(Begin::Throttled);
        }
        let Some(mut u) = users::find_by_username(c, username)? else {
            let hits = hit(c, &name_bucket(username), now, policy.unknown_window())?;
            return Ok(if hits > policy.threshold {
                Begin::Locked
            } else {
                Begin::NoUser {
                    looks_locked: hits == policy.threshold,
                }
            });
        };
        if u.locked && !cooled_down(c, &u, policy, now)? {
            return Ok(Begin::Locked);
        }
        if u.disabled {
            return Ok(Begin::NoUser {
                looks_locked: false,
            });
        }
        let reserved = diesel::update(
            users_t::table
                .find(u.id)
                .filter(users_t::locked.eq(false))
                .filter(users_t::failed_logins.lt(policy.threshold)),
        )
        .set(users_t::failed_logins.eq(users_t::failed_logins + 1))
        .execute(c)?;
        if reserved == 0 {
            // Parallel attempts have used up what is left before the lock.
            return Ok(Begin::Locked);
        }
        u.locked = false;
        Ok(Begin::Check(Box::new(u)))
    })
}

/// The password was right: the advance failure and IP hit are taken back.
/// `complete` (no second factor to come) also clears the counter.
pub fn succeeded(conn: &mut DbConn, user_id: i32, ip: &str, complete: bool) -> Result<(), DbError> {
    unhit(conn, &ip_bucket(ip))?;
    let row = users_t::table.find(user_id);
    if complete {
        diesel::update(row)
            .set(users_t::failed_logins.eq(0))
            .execute(conn)?;
    } else {
        diesel::update(row.filter(users_t::failed_logins.gt(0)))
            .set(users_t::failed_logins.eq(users_t::failed_logins - 1))
            .execute(conn)?;
    }
    Ok(())
}

/// A wrong password (already counted by `begin`): locks the account when
/// the counter has reached the threshold. Returns whether it is locked now.
pub fn password_failed(
    conn: &mut DbConn,
    user: &User,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    write_tx(conn, |c| lock_if_reached(c, user, policy, now, "password"))
}

/// A wrong second-factor code: counted like a wrong password.
pub fn code_failed(
    conn: &mut DbConn,
    user: &User,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    write_tx(conn, |c| {
        diesel::update(users_t::table.find(user.id))
            .set(users_t::failed_logins.eq(users_t::failed_logins + 1))
            .execute(c)?;
        lock_if_reached(c, user, policy, now, "second factor")
    })
}

/// A complete login (password and, if asked, second factor).
pub fn reset(conn: &mut DbConn, user_id: i32) -> Result<(), DbError> {
    diesel::update(users_t::table.find(user_id))
        .set(users_t::failed_logins.eq(0))
        .execute(conn)?;
    Ok(())
}

fn lock_if_reached(
    c: &mut DbConn,
    user: &User,
    policy: &Policy,
    now: DateTime<Utc>,
    what: &str,
) -> Result<bool, DbError> {
    let (failed, locked): (i32, bool) = users_t::table
        .find(user.id)
        .select((users_t::failed_logins, users_t::locked))
        .first(c)?;
    if locked {
        return Ok(true);
    }
    if failed < policy.threshold {
        return Ok(false);
    }
    diesel::update(users_t::table.find(user.id))
        .set((
            users_t::locked.eq(true),
            users_t::auto_locked_at.eq(Some(to_naive(now))),
        ))
        .execute(c)?;
    diesel::delete(sessions::table.filter(sessions::user_id.eq(user.id))).execute(c)?;
    let e = Event::new("account.locked", "system")
        .subject(&user.username)
        .detail(serde_json::json!({ "failures": failed, "last": what }));
    audit::insert(c, &e, now)?;
    tracing::warn!(username = %user.username, failures = failed, "account locked");
    Ok(true)
}
