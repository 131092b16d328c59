//! Every cookie we set is made here.

use actix_web::cookie::{Cookie, SameSite};

pub const SESSION_COOKIE: &str = "omakase_session";
pub const CSRF_COOKIE: &str = "omakase_csrf";

fn base(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .finish()
}

/// The IdP session: HttpOnly, SameSite=Lax, Secure on https; it lives as
/// long as the browser, the server decides when the session ends.
pub fn session(token: String, secure: bool) -> Cookie<'static> {
    base(SESSION_COOKIE, token, secure)
}

pub fn clear_session(secure: bool) -> Cookie<'static> {
    let mut c = base(SESSION_COOKIE, String::new(), secure);
    c.make_removal();
    c
}

pub fn csrf(token: String, secure: bool) -> Cookie<'static> {
    base(CSRF_COOKIE, token, secure)
}

pub fn lang(code: &'static str, secure: bool) -> Cookie<'static> {
    let mut c = base(crate::i18n::LANG_COOKIE, code.to_string(), secure);
    c.set_max_age(actix_web::cookie::time::Duration::days(365));
    c
}
