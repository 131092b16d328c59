//! The `users` table.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::users;
use crate::db::{to_naive, DbConn, DbError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Admin,
    Contractor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
            Role::Contractor => "contractor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "user" => Some(Role::User),
            "admin" => Some(Role::Admin),
            "contractor" => Some(Role::Contractor),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i32,
    pub username: String,
    pub email: String,
    pub display_name: String,
    pub phone: String,
    pub mobile: String,
    pub organization: String,
    pub department: String,
    pub role: String,
    pub password_hash: Option<String>,
    pub must_change_password: bool,
    pub disabled: bool,
    pub last_login_at: Option<chrono::NaiveDateTime>,
    pub previous_login_at: Option<chrono::NaiveDateTime>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
    pub locked: bool,
    /// Wrong passwords and codes in a row (reset by a complete login).
    pub failed_logins: i32,
    /// When the account locked itself after failures (`None` when an
    /// admin locked it, or when it is not locked).
    pub auto_locked_at: Option<chrono::NaiveDateTime>,
    /// A second factor is required of this user.
    pub mfa_required: bool,
    /// SMS codes to the profile's mobile number are a second factor.
    pub sms_mfa: bool,
}

impl User {
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::User)
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser {
    pub username: String,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub password_hash: Option<String>,
    pub must_change_password: bool,
    pub disabled: bool,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

/// The fields a person edits on 個人情報 → 編集.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = users)]
pub struct ProfileChange {
    pub display_name: String,
    pub phone: String,
    pub mobile: String,
    pub organization: String,
    pub department: String,
    pub updated_at: chrono::NaiveDateTime,
}

pub fn find(conn: &mut DbConn, id: i32) -> Result<Option<User>, DbError> {
    Ok(users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_by_username(conn: &mut DbConn, username: &str) -> Result<Option<User>, DbError> {
    Ok(users::table
        .filter(users::username.eq(username))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

pub fn count(conn: &mut DbConn) -> Result<i64, DbError> {
    Ok(users::table.count().get_result(conn)?)
}

pub fn list_ids(conn: &mut DbConn) -> Result<Vec<i32>, DbError> {
    Ok(users::table.select(users::id).order(users::id).load(conn)?)
}

pub fn insert(conn: &mut DbConn, new: &NewUser) -> Result<User, DbError> {
    diesel::insert_into(users::table)
        .values(new)
        .execute(conn)?;
    find_by_username(conn, &new.username)?.ok_or(DbError::Query(diesel::result::Error::NotFound))
}

/// Moves the last login to "previous" and stamps a new one, atomically.
pub fn record_login(conn: &mut DbConn, id: i32, now: DateTime<Utc>) -> Result<(), DbError> {
    diesel::update(users::table.find(id))
        .set((
            users::previous_login_at.eq(users::last_login_at),
            users::last_login_at.eq(Some(to_naive(now))),
        ))
        .execute(conn)?;
    Ok(())
}

/// SMS codes went to the old number: a new number must be confirmed
/// before SMS is a second factor again.
fn forget_sms_if_mobile_changes(conn: &mut DbConn, id: i32, mobile: &str) -> Result<(), DbError> {
    use crate::auth::sms::to_e164;
    let old: Option<String> = users::table
        .find(id)
        .select(users::mobile)
        .first(conn)
        .optional()?;
    if old.is_some_and(|old| to_e164(&old) != to_e164(mobile)) {
        set_sms_mfa(conn, id, false)?;
    }
    Ok(())
}

pub fn update_profile(conn: &mut DbConn, id: i32, change: &ProfileChange) -> Result<(), DbError> {
    forget_sms_if_mobile_changes(conn, id, &change.mobile)?;
    diesel::update(users::table.find(id))
        .set(change)
        .execute(conn)?;
    Ok(())
}

pub fn set_password(
    conn: &mut DbConn,
    id: i32,
    hash: &str,
    must_change: bool,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(Some(hash)),
            users::must_change_password.eq(must_change),
            users::updated_at.eq(to_naive(now)),
        ))
        .execute(conn)?;
    Ok(())
}

fn search_filter(q: &str) -> String {
    format!("%{}%", q.replace(['%', '_', '\\'], ""))
}

/// Users whose user name, name or email contains `q`, by user name.
pub fn search(conn: &mut DbConn, q: &str, offset: i64, limit: i64) -> Result<Vec<User>, DbError> {
    let p = search_filter(q);
    Ok(users::table
        .filter(
            users::username
                .like(p.clone())
                .or(users::display_name.like(p.clone()))
                .or(users::email.like(p)),
        )
        .order(users::username)
        .offset(offset)
        .limit(limit)
        .select(User::as_select())
        .load(conn)?)
}

pub fn count_search(conn: &mut DbConn, q: &str) -> Result<i64, DbError> {
    let p = search_filter(q);
    Ok(users::table
        .filter(
            users::username
                .like(p.clone())
                .or(users::display_name.like(p.clone()))
                .or(users::email.like(p)),
        )
        .count()
        .get_result(conn)?)
}

pub fn list_locked(conn: &mut DbConn) -> Result<Vec<User>, DbError> {
    Ok(users::table
        .filter(users::locked.eq(true))
        .order(users::username)
        .select(User::as_select())
        .load(conn)?)
}

pub fn list_all(conn: &mut DbConn) -> Result<Vec<User>, DbError> {
    Ok(users::table
        .order(users::username)
        .select(User::as_select())
        .load(conn)?)
}

/// Every profile field an admin may edit.
#[derive(Debug, Clone, AsChangeset, serde::Serialize, PartialEq, Eq)]
#[diesel(table_name = users)]
pub struct AdminChange {
    pub email: String,
    pub display_name: String,
    pub phone: String,
    pub mobile: String,
    pub organization: String,
    pub department: String,
}

impl AdminChange {
    pub fn of(u: &User) -> Self {
        AdminChange {
            email: u.email.clone(),
            display_name: u.display_name.clone(),
            phone: u.phone.clone(),
            mobile: u.mobile.clone(),
            organization: u.organization.clone(),
            department: u.department.clone(),
        }
    }
}

pub fn update_admin(
    conn: &mut DbConn,
    id: i32,
    change: &AdminChange,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    forget_sms_if_mobile_changes(conn, id, &change.mobile)?;
    diesel::update(users::table.find(id))
        .set((change, users::updated_at.eq(to_naive(now))))
        .execute(conn)?;
    Ok(())
}

pub fn set_disabled(conn: &mut DbConn, id: i32, disabled: bool) -> Result<(), DbError> {
    diesel::update(users::table.find(id))
        .set(users::disabled.eq(disabled))
        .execute(conn)?;
    Ok(())
}

/// Locks (an admin's lock, which never lifts itself) or unlocks, clearing
/// the failure counter.
pub fn set_locked(conn: &mut DbConn, id: i32, locked: bool) -> Result<(), DbError> {
    diesel::update(users::table.find(id))
        .set((
            users::locked.eq(locked),
            users::failed_logins.eq(0),
            users::auto_locked_at.eq(None::<chrono::NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn set_mfa_required(conn: &mut DbConn, id: i32, required: bool) -> Result<(), DbError> {
    diesel::update(users::table.find(id))
        .set(users::mfa_required.eq(required))
        .execute(conn)?;
    Ok(())
}

pub fn set_sms_mfa(conn: &mut DbConn, id: i32, on: bool) -> Result<(), DbError> {
    diesel::update(users::table.find(id))
        .set(users::sms_mfa.eq(on))
        .execute(conn)?;
    Ok(())
}

pub fn set_role(conn: &mut DbConn, id: i32, role: Role) -> Result<(), DbError> {
    diesel::update(users::table.find(id))
        .set(users::role.eq(role.as_str()))
        .execute(conn)?;
    Ok(())
}

pub fn delete(conn: &mut DbConn, id: i32) -> Result<bool, DbError> {
    use crate::db::schema::{group_members, service_users, sessions};
    diesel::delete(sessions::table.filter(sessions::user_id.eq(id))).execute(conn)?;
    diesel::delete(service_users::table.filter(service_users::user_id.eq(id))).execute(conn)?;
    diesel::delete(group_members::table.filter(group_members::user_id.eq(id))).execute(conn)?;
    Ok(diesel::delete(users::table.find(id)).execute(conn)? > 0)
}

pub fn count_role(conn: &mut DbConn, role: Role) -> Result<i64, DbError> {
    Ok(users::table
        .filter(users::role.eq(role.as_str()))
        .filter(users::disabled.eq(false))
        .count()
        .get_result(conn)?)
}
