//! The authenticator app (TOTP): enrolment with a QR code, the login
//! challenge, the time window, replay, recovery codes, turning it off.

use chrono::Duration;

use crate::helpers::*;
use crate::security_helpers::*;

const TIME_SYNC: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken";

fn app() -> TestApp {
    let app = TestApp::spawn();
    app.add_user("taro", "taro@example.com", "山田 太郎");
    app
}

#[test]
fn enrolment_shows_a_qr_code_and_needs_a_confirmed_code() {
    let app = app();
    let mut b = app.browser();
    b.login("taro");
    let setup = b.get("/mfa/totp/setup?next=%2F");
    assert_eq!(setup.status, 200);
    assert!(setup
        .body
        .contains("id=\"totp-qr\" src=\"data:image/svg+xml;base64,"));
    let secret = omakase::auth::totp::base32(&app.totp_secret("taro"));
    let shown: String = setup
        .body
        .split("id=\"totp-secret\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("secret text")
        .replace(' ', "");
    assert_eq!(shown, secret);
    // The QR code is an SVG of the provisioning URI, drawn here.
    let b64 = setup
        .body
        .split("data:image/svg+xml;base64,")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .map(html_unescape)
        .expect("data uri");
    use base64::Engine;
    let svg = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("base64");
    let svg = String::from_utf8(svg).expect("utf8");
    assert!(svg.contains("<svg") && svg.contains("<path"), "{svg}");
    // Not enabled before a code is confirmed: a login asks no code.
    let mut other = app.browser();
    assert_eq!(other.password_step("taro"), "/");
    let wrong = b.submit("/mfa/totp/setup", &[("code", "000000"), ("next", "/")]);
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("コードが正しくないか"));
    // The form comes back with the same secret.
    assert!(wrong
        .body
        .contains(&omakase::auth::totp::base32(&app.totp_secret("taro"))[..4]));
    let code = app.totp_code("taro", 0);
    let done = b.submit("/mfa/totp/setup", &[("code", &code), ("next", "/")]);
    assert_eq!(done.status, 200);
    assert_eq!(recovery_codes(&done).len(), 10);
    assert_eq!(app.count_audit("mfa.totp_enabled"), 1);
    let security = b.get("/security");
    assert!(security.body.contains("id=\"factor-totp\""));
    assert!(security.body.contains("設定済み"));
}

#[test]
fn a_login_asks_for_the_code_and_nothing_opens_before_it() {
    let app = app();
    let mut b = app.browser();
    b.login("taro");
    enrol_totp(&app, &mut b, "taro");
    app.clock.advance(Duration::seconds(60));
    let mut c = app.browser();
    let after_password = c.password_step("taro");
    assert_eq!(after_password, "/mfa?next=%2F");
    // Every page of the portal waits for the second factor.
    for path in ["/", "/profile", "/security", "/password", "/admin/users"] {
        let p = c.get(path);
        assert_eq!(p.status, 303, "{path}");
        assert!(p.location().starts_with("/mfa?next="), "{path}");
    }
    let challenge = c.get("/mfa?next=%2F");
    assert!(challenge.body.contains("id=\"totp-form\""));
    let wrong = c.submit("/mfa/totp", &[("code", "123456"), ("next", "/")]);
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("id=\"mfa-error\""));
    let right = c.submit(
        "/mfa/totp",
        &[("code", &app.totp_code("taro", 0)), ("next", "/")],
    );
    assert_eq!(right.status, 303);
    assert_eq!(right.location(), "/");
    assert_eq!(c.get("/").status, 200);
    // The previous login time is that of a complete login.
    assert!(app
        .audit()
        .iter()
        .any(|(k, s)| k == "login.password" && s == "taro"));
}

#[test]
fn the_time_window_is_one_step_either_side_and_a_code_works_once() {
    let app = app();
    let mut b = app.browser();
    b.login("taro");
    enrol_totp(&app, &mut b, "taro");
    app.clock.advance(Duration::minutes(5));
    let try_code = |code: String| {
        let mut c = app.browser();
        c.password_step("taro");
        c.submit("/mfa/totp", &[("code", &code), ("next", "/")])
            .status
    };
    assert_eq!(try_code(app.totp_code("taro", -2)), 401, "a minute old");
    assert_eq!(try_code(app.totp_code("taro", 2)), 401, "a minute ahead");
    assert_eq!(try_code(app.totp_code("taro", -1)), 303, "previous step");
    // A code of the same or an earlier step than the last one accepted is
    // a replay.
    assert_eq!(try_code(app.totp_code("taro", -1)), 401, "replayed");
    assert_eq!(try_code(app.totp_code("taro", 0)), 303, "current step");
    assert_eq!(try_code(app.totp_code("taro", 0)), 401, "replayed");
    app.clock.advance(Duration::seconds(30));
    assert_eq!(try_code(app.totp_code("taro", 0)), 303, "next step");
}

#[test]
fn wrong_codes_count_towards_the_lock() {
    let app = app();
    let mut b = app.browser();
    b.login("taro");
    enrol_totp(&app, &mut b, "taro");
    let mut c = app.browser();
    c.password_step("taro");
    for _ in 0..4 {
        let p = c.submit("/mfa/totp", &[("code", "000000"), ("next", "/")]);
        assert_eq!(p.status, 401);
    }
    let fifth = c.submit("/mfa/totp", &[("code", "000000"), ("next", "/")]);
    assert_eq!(fifth.status, 303);
    assert_eq!(fifth.location(), "/login?notice=locked");
    assert!(app.user_flag("taro").0);
    // Every session of the account ended with the lock.
    assert_eq!(b.get("/").status, 303);
}

#[test]
fn recovery_codes_work_once_each() {
    let app = app();
    let mut b = app.browser();
    b.login("taro");
    let codes = recovery_codes(&enrol_totp(&app, &mut b, "taro"));
    let mut c = app.browser();
    c.password_step("taro");
    let used = c.submit(
        "/mfa/recovery",
        &[("code", &codes[3].to_uppercase()), ("next", "/")],
    );
    assert_eq!(used.status, 303, "{}", used.body);
    assert_eq!(c.get("/").status, 200);
    assert_eq!(app.count_audit("mfa.recovery_used"), 1);
    let mut d = app.browser();
    d.password_step("taro");
    let again = d.submit("/mfa/recovery", &[("code", &codes[3]), ("next", "/")]);
    assert_eq!(again.status, 401);
    assert!(again.body.contains("すでに使用されています"));
    let security = c.get("/security");
    assert!(security.body.contains("残り 9 個"), "{}", security.body);
}

#[test]
fn turning_the_app_off_needs_the_password() {
    let app = app();
    let mut b = app.browser();
    b.login("taro");
    enrol_totp(&app, &mut b, "taro");
    let wrong = b.submit("/mfa/totp/disable", &[("password", "not-my-password")]);
    assert_eq!(wrong.location(), "/security?error=password");
    assert!(app.user_flag("taro").1 >= 1);
    let off = b.submit("/mfa/totp/disable", &[("password", PASSWORD)]);
    assert_eq!(off.location(), "/security?notice=mfa_disabled");
    assert_eq!(app.browser().password_step("taro"), "/");
}

#[test]
fn the_assertion_states_the_factor_used() {
    let app = app();
    let sp = SpFixture::new("wiki");
    let entity = app.add_sp(&sp.metadata(false), "社内Wiki", &["taro"]);
    let mut b = app.browser();
    b.login("taro");
    let password_only = posted(&b.get(&format!("/saml/idp-init?sp={}", enc(&entity))));
    let class = |p: &Posted| {
        p.find("AuthnContextClassRef")
            .first()
            .map(|n| n.text.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        class(&password_only),
        "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
    );
    enrol_totp(&app, &mut b, "taro");
    app.clock.advance(Duration::seconds(60));
    let mut c = app.browser();
    c.password_step("taro");
    c.submit(
        "/mfa/totp",
        &[("code", &app.totp_code("taro", 0)), ("next", "/")],
    );
    let with_app = posted(&c.get(&format!("/saml/idp-init?sp={}", enc(&entity))));
    assert_eq!(class(&with_app), TIME_SYNC);
    let assertion_sig = "//*[local-name()='Assertion']/*[local-name()='Signature']";
    if let Some((ok, out)) = xmlsec_verify(&with_app.xml, &app.cert_pem, assertion_sig) {
        assert!(ok, "{out}");
    }
}
