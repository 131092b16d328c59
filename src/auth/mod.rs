//! Authentication: passwords, session tokens, CSRF, request extractors.

pub mod csrf;
pub mod extract;
pub mod password;
pub mod token;
