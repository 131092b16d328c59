//! TOTP (RFC 6238 over RFC 4226 HOTP): HMAC-SHA1, 6 digits, 30-second
//! steps, the form every authenticator app reads from an `otpauth://` URI.

use chrono::{DateTime, Utc};
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;
use rand::RngCore;

/// Seconds per time step.
pub const STEP_SECONDS: i64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Steps accepted either side of now (clock drift of the phone).
pub const WINDOW: i64 = 1;
/// Bytes of a new secret (160 bits, as RFC 4226 recommends).
const SECRET_BYTES: usize = 20;

pub fn new_secret() -> Vec<u8> {
    let mut b = vec![0u8; SECRET_BYTES];
    rand::thread_rng().fill_bytes(&mut b);
    b
}

/// RFC 4648 base32 without padding, as authenticator apps expect.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
        buffer &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// The time step that contains `t`.
pub fn step_of(t: DateTime<Utc>) -> i64 {
    t.timestamp().div_euclid(STEP_SECONDS)
}

/// The HOTP value of `counter` with `digits` digits, zero-padded.
pub fn hotp(secret: &[u8], counter: i64, digits: u32) -> String {
    let mac = PKey::hmac(secret)
        .and_then(|key| {
            let mut s = Signer::new(MessageDigest::sha1(), &key)?;
            s.update(&counter.to_be_bytes())?;
            s.sign_to_vec()
        })
        .unwrap_or_default();
    if mac.len() < 20 {
        return String::new();
    }
    let offset = usize::from(mac[19] & 0x0f);
    let binary = (u32::from(mac[offset] & 0x7f) << 24)
        | (u32::from(mac[offset + 1]) << 16)
        | (u32::from(mac[offset + 2]) << 8)
        | u32::from(mac[offset + 3]);
    let value = binary % 10u32.pow(digits);
    format!("{value:0width$}", width = digits as usize)
}

/// The code of the step containing `t`.
pub fn code_at(secret: &[u8], t: DateTime<Utc>) -> String {
    hotp(secret, step_of(t), DIGITS)
}

/// The step whose code `code` is, within `WINDOW` steps of `now` and later
/// than `last_used` (a code is accepted once), or `None`.
pub fn matching_step(secret: &[u8], code: &str, now: DateTime<Utc>, last_used: i64) -> Option<i64> {
    let code = code.trim().replace([' ', '-'], "");
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = step_of(now);
    (current - WINDOW..=current + WINDOW)
        .filter(|s| *s > last_used)
        .find(|s| crate::auth::token::eq(&hotp(secret, *s, DIGITS), &code))
}

/// The provisioning URI an authenticator app reads from the QR code.
pub fn uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let enc = |s: &str| -> String {
        url::form_urlencoded::byte_serialize(s.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        enc(issuer),
        enc(account),
        base32(secret),
        enc(issuer),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
    }

    #[test]
    fn rfc6238_sha1_vectors() {
        // RFC 6238 appendix B, SHA1 column (8 digits).
        for (t, expected) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(hotp(RFC_SECRET, step_of(at(t)), 8), expected, "t={t}");
        }
        // RFC 4226 appendix D, HOTP counters 0 and 9 (6 digits).
        assert_eq!(hotp(RFC_SECRET, 0, 6), "755224");
        assert_eq!(hotp(RFC_SECRET, 9, 6), "520489");
        assert_eq!(code_at(RFC_SECRET, at(59)), "287082");
    }

    #[test]
    fn window_and_replay() {
        let now = at(1_111_111_111);
        let step = step_of(now);
        let code = hotp(RFC_SECRET, step, DIGITS);
        assert_eq!(matching_step(RFC_SECRET, &code, now, 0), Some(step));
        assert_eq!(matching_step(RFC_SECRET, &code, now, step), None);
        let prev = hotp(RFC_SECRET, step - 1, DIGITS);
        assert_eq!(matching_step(RFC_SECRET, &prev, now, 0), Some(step - 1));
        let old = hotp(RFC_SECRET, step - 2, DIGITS);
        assert_eq!(matching_step(RFC_SECRET, &old, now, 0), None);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(matching_step(RFC_SECRET, &spaced, now, 0), Some(step));
        assert_eq!(matching_step(RFC_SECRET, "12345", now, 0), None);
        assert_eq!(matching_step(RFC_SECRET, "abcdef", now, 0), None);
    }

    #[test]
    fn base32_and_uri() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(RFC_SECRET), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let u = uri("おまかせログイン", "taro", RFC_SECRET);
        assert!(u.starts_with("otpauth://totp/%E3%81%8A"));
        assert!(u.contains(":taro?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=%E3%81%8A"));
        assert!(u.ends_with("&algorithm=SHA1&digits=6&period=30"));
    }
}
