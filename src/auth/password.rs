//! Password hashing (argon2id, m=19456 KiB, t=2, p=1) and policy.

use std::collections::HashSet;
use std::sync::OnceLock;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use rand::Rng;

pub fn hash(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

pub fn verify(stored: &str, password: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(h) => Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        Err(_) => false,
    }
}

/// Spends the same time as a real verification, for unknown user names.
pub fn verify_dummy(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let h = DUMMY.get_or_init(|| hash(&generate_one_time()).unwrap_or_default());
    let _ = verify(h, password);
}

/// Why a new password is refused; each maps to a message key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyViolation {
    TooShort,
    SameAsUsername,
    Common,
    Mismatch,
}

impl PolicyViolation {
    pub fn message_key(self) -> &'static str {
        match self {
            PolicyViolation::TooShort => "password.too_short",
            PolicyViolation::SameAsUsername => "password.same_as_username",
            PolicyViolation::Common => "password.common",
            PolicyViolation::Mismatch => "password.mismatch",
        }
    }
}

/// What a password a person chooses must be (from the configuration).
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub min_length: usize,
    pub refuse_common: bool,
}

impl Policy {
    pub fn of(s: &crate::config::Settings) -> Self {
        Policy {
            min_length: s.password_min_length,
            refuse_common: s.password_refuse_common,
        }
    }
}

fn common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        include_str!("common_passwords.txt")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .collect()
    })
}

/// A listed common password, or one with digits and symbols appended to
/// a listed word of six letters or more ("dragon2026!").
fn is_common(lower: &str) -> bool {
    let list = common_passwords();
    if list.contains(lower) {
        return true;
    }
    let stem = lower.trim_end_matches(|c: char| !c.is_alphabetic());
    stem.chars().count() >= 6 && stem.len() < lower.len() && list.contains(stem)
}

pub fn check_policy(
    password: &str,
    username: &str,
    policy: &Policy,
) -> Result<(), PolicyViolation> {
    if password.chars().count() < policy.min_length {
        return Err(PolicyViolation::TooShort);
    }
    let lower = password.to_lowercase();
    let name = username.to_lowercase();
    if lower == name || (name.chars().count() >= 4 && lower.contains(&name)) {
        return Err(PolicyViolation::SameAsUsername);
    }
    if policy.refuse_common && is_common(&lower) {
        return Err(PolicyViolation::Common);
    }
    Ok(())
}

/// A one-time password: 16 characters without look-alikes (about 90 bits).
pub fn generate_one_time() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..16)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_and_verifies() {
        let h = hash("correct horse battery").expect("hash");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify(&h, "correct horse battery"));
        assert!(!verify(&h, "correct horse batterY"));
        assert!(!verify("not a hash", "x"));
    }

    #[test]
    fn policy() {
        let p = Policy {
            min_length: 12,
            refuse_common: true,
        };
        assert_eq!(
            check_policy("short", "u", &p),
            Err(PolicyViolation::TooShort)
        );
        assert_eq!(
            check_policy("yamada.taro1", "Yamada.Taro1", &p),
            Err(PolicyViolation::SameAsUsername)
        );
        assert_eq!(
            check_policy("my-name-is-yamada.taro", "yamada.taro", &p),
            Err(PolicyViolation::SameAsUsername)
        );
        for common in [
            "Password1234",
            "baseball1234",
            "sunshine2026!",
            "qwertyuiop12",
        ] {
            assert_eq!(
                check_policy(common, "u", &p),
                Err(PolicyViolation::Common),
                "{common}"
            );
        }
        assert!(check_policy("kiji-mo-nakazuba", "u", &p).is_ok());
        let lax = Policy {
            min_length: 8,
            refuse_common: false,
        };
        assert!(check_policy("baseball", "u", &lax).is_ok());
        assert_eq!(
            check_policy("baseball", "u", &p),
            Err(PolicyViolation::TooShort)
        );
        let otp = generate_one_time();
        assert_eq!(otp.len(), 16);
        assert!(check_policy(&otp, "u", &p).is_ok());
        assert!(common_passwords().len() > 10_000);
    }
}
