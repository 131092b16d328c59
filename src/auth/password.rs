//! Password hashing (argon2id, m=19456 KiB, t=2, p=1) and policy.

use std::sync::OnceLock;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use rand::Rng;

/// Minimum length of a password a person chooses.
pub const MIN_LENGTH: usize = 12;

const COMMON: &[&str] = &[
    "password",
    "password1",
    "password123",
    "123456789012",
    "1234567890123",
    "qwertyuiopas",
    "qwerty123456",
    "iloveyou1234",
    "passwordpassword",
    "abc123456789",
    "111111111111",
    "000000000000",
    "aaaaaaaaaaaa",
    "letmein12345",
    "welcome12345",
    "administrator",
    "omakaselogin",
    "omakase12345",
    "p@ssw0rd1234",
    "password1234",
    "qwertyuiop12",
    "1q2w3e4r5t6y",
    "changeme1234",
    "zaq12wsxcde3",
];

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

pub fn check_policy(password: &str, username: &str) -> Result<(), PolicyViolation> {
    if password.chars().count() < MIN_LENGTH {
        return Err(PolicyViolation::TooShort);
    }
    let lower = password.to_lowercase();
    if lower == username.to_lowercase() {
        return Err(PolicyViolation::SameAsUsername);
    }
    if COMMON.contains(&lower.as_str()) {
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
        assert_eq!(check_policy("short", "u"), Err(PolicyViolation::TooShort));
        assert_eq!(
            check_policy("yamada.taro1", "Yamada.Taro1"),
            Err(PolicyViolation::SameAsUsername)
        );
        assert_eq!(
            check_policy("Password1234", "u"),
            Err(PolicyViolation::Common)
        );
        assert!(check_policy("kiji-mo-nakazuba", "u").is_ok());
        let otp = generate_one_time();
        assert_eq!(otp.len(), 16);
        assert!(check_policy(&otp, "u").is_ok());
    }
}
