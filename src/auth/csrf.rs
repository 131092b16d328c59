//! CSRF protection: a random token in a SameSite=Strict cookie that every
//! state-changing form repeats in a hidden field (double submit).

use actix_web::HttpRequest;

use super::token;
use crate::web::cookies::CSRF_COOKIE;

/// The token of this browser, or a new one (which the response must set).
pub fn token_for(req: &HttpRequest) -> (String, bool) {
    match req.cookie(CSRF_COOKIE).map(|c| c.value().to_string()) {
        Some(t) if t.len() == 43 => (t, false),
        _ => (token::new_token(), true),
    }
}

/// Whether the submitted field matches the cookie.
pub fn verify(req: &HttpRequest, submitted: &str) -> bool {
    match req.cookie(CSRF_COOKIE) {
        Some(c) => c.value().len() == 43 && token::eq(c.value(), submitted),
        None => false,
    }
}
