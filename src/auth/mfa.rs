//! Second factors: which a person has, the stage a new session starts in,
//! TOTP and recovery-code checks, and SMS codes (6 digits, valid 5
//! minutes, limited attempts and sends).

use chrono::{DateTime, Duration, Utc};
use rand::Rng;

use super::{sms, token, totp};
use crate::db::models::mfa;
use crate::db::models::sessions;
use crate::db::models::users::User;
use crate::db::{write_tx, DbConn, DbError};

/// Session stages: complete, second factor pending, enrolment pending.
pub const STAGE_FULL: &str = "full";
pub const STAGE_MFA: &str = "mfa";
pub const STAGE_ENROL: &str = "enrol";

pub const SMS_LIFETIME: Duration = Duration::minutes(5);
pub const SMS_MAX_ATTEMPTS: i32 = 5;
/// Messages for one login (the first and two resends).
pub const SMS_MAX_SENDS: i32 = 3;
pub const SMS_RESEND_INTERVAL: Duration = Duration::seconds(30);
/// Messages to one person per hour, whatever the sessions.
pub const SMS_HOURLY_LIMIT: i64 = 10;
pub const RECOVERY_CODES: usize = 10;

/// The second factors a person can use now.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Factors {
    pub totp: bool,
    /// SMS is on and there is a mobile number to send to.
    pub sms: bool,
    pub has_mobile: bool,
    pub recovery_left: i64,
}

impl Factors {
    pub fn any(&self) -> bool {
        self.totp || self.sms
    }
}

pub fn factors(conn: &mut DbConn, user: &User) -> Result<Factors, DbError> {
    let totp = mfa::find_totp(conn, user.id)?.is_some_and(|f| f.confirmed);
    let has_mobile = sms::to_e164(&user.mobile).is_some();
    Ok(Factors {
        totp,
        sms: user.sms_mfa && has_mobile,
        has_mobile,
        recovery_left: mfa::unused_recovery_codes(conn, user.id)?,
    })
}

/// Whether a second factor is required of this person (own flag, a
/// group, or everybody).
pub fn required(conn: &mut DbConn, user: &User) -> Result<bool, DbError> {
    mfa::required_for_user(conn, user.id, user.mfa_required)
}

/// The stage of a session right after the password: a person with a
/// second factor gives it; one who needs a factor but has none sets one up.
pub fn login_stage(conn: &mut DbConn, user: &User) -> Result<&'static str, DbError> {
    if factors(conn, user)?.any() {
        Ok(STAGE_MFA)
    } else if required(conn, user)? {
        Ok(STAGE_ENROL)
    } else {
        Ok(STAGE_FULL)
    }
}

/// A code from the authenticator app: right, in the time window, and not
/// used before (the step is claimed atomically). `enrolment` checks the
/// secret being set up instead of the confirmed one.
fn check_totp(
    conn: &mut DbConn,
    user_id: i32,
    code: &str,
    now: DateTime<Utc>,
    enrolment: bool,
) -> Result<bool, DbError> {
    let Some(f) = mfa::find_totp(conn, user_id)?.filter(|f| f.confirmed != enrolment) else {
        return Ok(false);
    };
    match totp::matching_step(&f.secret_bytes(), code, now, f.last_step) {
        Some(step) => mfa::claim_step(conn, user_id, step),
        None => Ok(false),
    }
}

pub fn verify_totp(
    conn: &mut DbConn,
    user_id: i32,
    code: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    check_totp(conn, user_id, code, now, false)
}

/// Confirms the secret being set up with its first code.
pub fn confirm_totp(
    conn: &mut DbConn,
    user_id: i32,
    code: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    if !check_totp(conn, user_id, code, now, true)? {
        return Ok(false);
    }
    mfa::confirm_totp(conn, user_id)?;
    Ok(true)
}

fn normalise_recovery(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn recovery_hash(user_id: i32, code: &str) -> String {
    token::hash(&format!("recovery:{user_id}:{}", normalise_recovery(code)))
}

/// New recovery codes (`xxxxx-xxxxx`, 50 bits each), replacing the old
/// ones; only their hashes are kept.
pub fn new_recovery_codes(
    conn: &mut DbConn,
    user_id: i32,
    now: DateTime<Utc>,
) -> Result<Vec<String>, DbError> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::thread_rng();
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let s: String = (0..10)
                .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
                .collect();
            format!("{}-{}", &s[..5], &s[5..])
        })
        .collect();
    let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(user_id, c)).collect();
    mfa::replace_recovery_codes(conn, user_id, &hashes, now)?;
    Ok(codes)
}

pub fn use_recovery_code(
    conn: &mut DbConn,
    user_id: i32,
    code: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    if normalise_recovery(code).len() != 10 {
        return Ok(false);
    }
    mfa::use_recovery_code(conn, user_id, &recovery_hash(user_id, code), now)
}

/// Marks the session as complete after a second factor.
pub fn complete(
    conn: &mut DbConn,
    session_id: i32,
    method: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sessions::set_second_factor(conn, session_id, method, now)
}

/// Why no SMS was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsRefusal {
    NoMobile,
    TooSoon,
    TooMany,
}

impl SmsRefusal {
    pub fn message_key(self) -> &'static str {
        match self {
            SmsRefusal::NoMobile => "mfa.sms_no_mobile",
            SmsRefusal::TooSoon => "mfa.sms_too_soon",
            SmsRefusal::TooMany => "mfa.sms_too_many",
        }
    }
}

/// A code ready to send.
pub struct SmsToSend {
    pub id: i32,
    pub to: String,
    pub code: String,
}

fn sms_hash(session_id: i32, purpose: &str, code: &str) -> String {
    token::hash(&format!("sms:{session_id}:{purpose}:{code}"))
}

/// Makes (or remakes) the session's code for `purpose` (`login` or
/// `enrol`), within the limits; the caller sends it.
pub fn prepare_sms(
    conn: &mut DbConn,
    user: &User,
    session_id: i32,
    purpose: &str,
    now: DateTime<Utc>,
) -> Result<Result<SmsToSend, SmsRefusal>, DbError> {
    let Some(to) = sms::to_e164(&user.mobile) else {
        return Ok(Err(SmsRefusal::NoMobile));
    };
    write_tx(conn, |c| {
        let earlier = mfa::find_sms(c, session_id, purpose)?;
        if let Some(e) = &earlier {
            if crate::db::from_naive(e.sent_at) + SMS_RESEND_INTERVAL > now {
                return Ok(Err(SmsRefusal::TooSoon));
            }
            if e.sends >= SMS_MAX_SENDS {
                return Ok(Err(SmsRefusal::TooMany));
            }
        }
        if mfa::sms_sent_since(c, user.id, now - Duration::hours(1))? >= SMS_HOURLY_LIMIT {
            return Ok(Err(SmsRefusal::TooMany));
        }
        let code = format!("{:06}", rand::thread_rng().gen_range(0..1_000_000u32));
        let id = mfa::replace_sms(
            c,
            &mfa::NewSms {
                user_id: user.id,
                session_id,
                purpose,
                mobile: &to,
                code_hash: &sms_hash(session_id, purpose, &code),
                sends: earlier.map_or(1, |e| e.sends + 1),
                now,
                expires_at: now + SMS_LIFETIME,
            },
        )?;
        Ok(Ok(SmsToSend { id, to, code }))
    })
}

/// The text of the message.
pub fn sms_text(code: &str) -> String {
    format!("おまかせログイン 確認コード: {code} (5分間有効 / valid for 5 minutes)")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsCheck {
    /// Right: the number it was sent to.
    Right(String),
    Wrong,
    /// Expired, used up, or never sent.
    NoCode,
}

/// Checks a code of the session; a code works once, expires after five
/// minutes and dies after five wrong attempts. Rows are kept (they count
/// towards the hourly limit) until they are a day old.
pub fn check_sms(
    conn: &mut DbConn,
    session_id: i32,
    purpose: &str,
    code: &str,
    now: DateTime<Utc>,
) -> Result<SmsCheck, DbError> {
    write_tx(conn, |c| {
        let Some(e) = mfa::find_sms(c, session_id, purpose)? else {
            return Ok(SmsCheck::NoCode);
        };
        if crate::db::from_naive(e.expires_at) <= now || e.attempts >= SMS_MAX_ATTEMPTS {
            return Ok(SmsCheck::NoCode);
        }
        if mfa::count_sms_attempt(c, e.id)? > SMS_MAX_ATTEMPTS {
            return Ok(SmsCheck::NoCode);
        }
        let code = code.trim().replace([' ', '-'], "");
        if token::eq(&sms_hash(session_id, purpose, &code), &e.code_hash) {
            mfa::use_up_sms(c, e.id)?;
            return Ok(SmsCheck::Right(e.mobile));
        }
        Ok(SmsCheck::Wrong)
    })
}

/// Removes every second factor of a person (an admin's reset).
pub fn reset(conn: &mut DbConn, user_id: i32) -> Result<(), DbError> {
    mfa::delete_totp(conn, user_id)?;
    mfa::delete_recovery_codes(conn, user_id)?;
    crate::db::models::users::set_sms_mfa(conn, user_id, false)
}
