//! Creating users and the first contractor account.

use chrono::{DateTime, Utc};

use crate::auth::password;
use crate::db::models::users::{self, NewUser, Role, User};
use crate::db::{to_naive, DbConn, DbError};

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("invalid user name {0:?}: use 1-64 letters, digits, '.', '_', '-' or '@'")]
    Username(String),
    #[error("invalid email address {0:?}")]
    Email(String),
    #[error("the user {0} already exists")]
    Exists(String),
    #[error("no such user: {0}")]
    NotFound(String),
    #[error("the password is refused: {0}")]
    Password(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

pub fn valid_username(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
}

pub fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && s.len() <= 254
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"'))
}

pub struct UserInput<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub password: &'a str,
    pub must_change_password: bool,
}

/// Checks and stores a new user (the password hashed with argon2id).
pub fn create(
    conn: &mut DbConn,
    input: &UserInput<'_>,
    now: DateTime<Utc>,
) -> Result<User, UserError> {
    if !valid_username(input.username) {
        return Err(UserError::Username(input.username.to_string()));
    }
    if !input.email.is_empty() && !valid_email(input.email) {
        return Err(UserError::Email(input.email.to_string()));
    }
    if input.password.is_empty() {
        return Err(UserError::Password("empty".into()));
    }
    if users::find_by_username(conn, input.username)?.is_some() {
        return Err(UserError::Exists(input.username.to_string()));
    }
    let hash = password::hash(input.password).map_err(UserError::Password)?;
    let new = NewUser {
        username: input.username.to_string(),
        email: input.email.to_string(),
        display_name: input.display_name.trim().to_string(),
        role: input.role.as_str().to_string(),
        password_hash: Some(hash),
        must_change_password: input.must_change_password,
        disabled: false,
        created_at: to_naive(now),
        updated_at: to_naive(now),
    };
    match users::insert(conn, &new) {
        Ok(u) => Ok(u),
        Err(e) if e.is_unique_violation() => Err(UserError::Exists(input.username.to_string())),
        Err(e) => Err(e.into()),
    }
}

pub fn set_password(
    conn: &mut DbConn,
    username: &str,
    password: &str,
    must_change: bool,
    now: DateTime<Utc>,
) -> Result<(), UserError> {
    let u = users::find_by_username(conn, username)?
        .ok_or_else(|| UserError::NotFound(username.to_string()))?;
    if password.is_empty() {
        return Err(UserError::Password("empty".into()));
    }
    let hash = password::hash(password).map_err(UserError::Password)?;
    users::set_password(conn, u.id, &hash, must_change, now)?;
    crate::db::models::sessions::delete_for_user(conn, u.id, None)?;
    Ok(())
}

pub const FIRST_CONTRACTOR: &str = "contractor";

/// On an empty database, creates the contractor account with a one-time
/// password that must be changed at first login; returns it to print.
/// Concurrent first starts create it once.
pub fn bootstrap(
    conn: &mut DbConn,
    now: DateTime<Utc>,
) -> Result<Option<(String, String)>, UserError> {
    if users::count(conn)? > 0 {
        return Ok(None);
    }
    let one_time = password::generate_one_time();
    let input = UserInput {
        username: FIRST_CONTRACTOR,
        email: "",
        display_name: "契約者",
        role: Role::Contractor,
        password: &one_time,
        must_change_password: true,
    };
    match create(conn, &input, now) {
        Ok(_) => Ok(Some((FIRST_CONTRACTOR.to_string(), one_time))),
        Err(UserError::Exists(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A phone number: digits with optional hyphens, spaces, parentheses and a
/// leading +; 10 to 15 digits.
pub fn valid_phone(s: &str) -> bool {
    let allowed = s.chars().enumerate().all(|(i, c)| {
        c.is_ascii_digit() || matches!(c, '-' | ' ' | '(' | ')') || (c == '+' && i == 0)
    });
    let digits = s.chars().filter(char::is_ascii_digit).count();
    allowed && (10..=15).contains(&digits)
}

/// Full-width digits and hyphens as typed on Japanese keyboards become ASCII.
pub fn normalise_phone(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            'ー' | '－' | '‐' | '−' => '-',
            '＋' => '+',
            _ => c,
        })
        .collect()
}

/// Who may act on whose account. Admins manage ordinary users; only a
/// contractor manages admins and contractors, and grants or removes those
/// roles.
pub fn may_manage(actor: Role, target: Role) -> bool {
    actor == Role::Contractor || (actor == Role::Admin && target == Role::User)
}

pub fn may_set_role(actor: Role, from: Role, to: Role) -> bool {
    from == to || actor == Role::Contractor
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_rules() {
        assert!(may_manage(Role::Admin, Role::User));
        assert!(!may_manage(Role::Admin, Role::Admin));
        assert!(!may_manage(Role::Admin, Role::Contractor));
        assert!(!may_manage(Role::User, Role::User));
        assert!(may_manage(Role::Contractor, Role::Contractor));
        assert!(!may_set_role(Role::Admin, Role::User, Role::Admin));
        assert!(may_set_role(Role::Contractor, Role::User, Role::Admin));
        assert!(may_set_role(Role::Admin, Role::User, Role::User));
    }

    #[test]
    fn phone_numbers() {
        assert!(valid_phone("0000000000"));
        assert!(valid_phone("03-1234-5678"));
        assert!(valid_phone("+81 90 1234 5678"));
        assert!(!valid_phone("12345"));
        assert!(!valid_phone("03-1234-abcd"));
        assert!(!valid_phone("1+234567890"));
        assert_eq!(
            normalise_phone(" ０９０ー１２３４ー５６７８ "),
            "090-1234-5678"
        );
    }

    #[test]
    fn user_names_and_emails() {
        assert!(valid_username("yamada.taro@corp"));
        assert!(!valid_username("with space"));
        assert!(!valid_username(""));
        assert!(valid_email("taro@example.com"));
        assert!(!valid_email("taro@example"));
        assert!(!valid_email("<x>@example.com"));
    }
}
