//! Security headers on every response (a handler may set a stricter or
//! more specific one, e.g. the SAML POST page's form-action).

use actix_web::middleware::DefaultHeaders;

pub const CSP: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn headers(https: bool) -> DefaultHeaders {
    let h = DefaultHeaders::new()
        .add(("Content-Security-Policy", CSP))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"));
    if https {
        h.add(("Strict-Transport-Security", "max-age=31536000"))
    } else {
        h
    }
}
