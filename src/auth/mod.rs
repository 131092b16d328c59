//! Authentication: passwords, session tokens, CSRF, request extractors.

pub mod csrf;
pub mod extract;
pub mod lockout;
pub mod mfa;
pub mod password;
pub mod sms;
pub mod token;
pub mod totp;
