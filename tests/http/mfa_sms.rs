//! SMS codes: only with a mobile number, confirmed before use, 6 digits,
//! valid 5 minutes, limited attempts and sends; the file outbox and the
//! HTTP gateway.

use chrono::Duration;

use crate::helpers::*;
use crate::security_helpers::*;

fn app() -> TestApp {
    let app = TestApp::spawn();
    app.add_user("taro", "taro@example.com", "山田 太郎");
    app
}

/// Turns SMS on for a logged-in browser.
fn enrol_sms(app: &TestApp, b: &mut Browser) {
    let sent = b.submit("/mfa/sms/setup/send", &[("next", "/")]);
    assert_eq!(sent.location(), "/mfa/sms/setup?next=%2F&sent=1");
    let code = app.last_sms_code();
    let done = b.submit("/mfa/sms/setup", &[("code", &code), ("next", "/")]);
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(recovery_codes(&done).len(), 10);
}

#[test]
fn without_a_mobile_number_sms_cannot_be_chosen() {
    let app = app();
    let mut b = app.browser();
    b.login("taro");
    let choice = b.get("/mfa/setup?next=%2F");
    assert!(choice.body.contains("id=\"sms-needs-mobile\""));
    assert!(!choice.body.contains("/mfa/sms/setup?"));
    let sent = b.submit("/mfa/sms/setup/send", &[("next", "/")]);
    assert!(sent.location().ends_with("error=mfa.sms_no_mobile"));
    assert!(app.outbox().is_empty());
    let page = b.get(sent.location());
    assert!(page.body.contains("携帯電話番号が登録されていないため"));
}

#[test]
fn sms_is_confirmed_then_asked_at_login() {
    let app = app();
    app.set_mobile("taro", "090-1234-5678");
    let mut b = app.browser();
    b.login("taro");
    enrol_sms(&app, &mut b);
    let (to, message) = app.outbox().remove(0);
    assert_eq!(to, "+819012345678");
    assert!(message.contains("おまかせログイン"));
    assert_eq!(sms_code(&message).len(), 6);
    assert!(sms_code(&message).bytes().all(|c| c.is_ascii_digit()));
    app.clock.advance(Duration::minutes(1));
    let mut c = app.browser();
    assert_eq!(c.password_step("taro"), "/mfa?next=%2F");
    let challenge = c.get("/mfa?next=%2F");
    assert!(challenge.body.contains("末尾 5678"));
    let sent = c.submit("/mfa/sms/send", &[("next", "/")]);
    assert_eq!(sent.location(), "/mfa?next=%2F&sent=1");
    let code = app.last_sms_code();
    let ok = c.submit("/mfa/sms", &[("code", &code), ("next", "/")]);
    assert_eq!(ok.status, 303);
    assert_eq!(ok.location(), "/");
    // A used code does not work twice.
    let mut d = app.browser();
    d.password_step("taro");
    let replay = d.submit("/mfa/sms", &[("code", &code), ("next", "/")]);
    assert_eq!(replay.status, 401);
    // The audit log says an SMS went out, never the code.
    assert!(app.count_audit("mfa.sms_sent") >= 2);
    let all = format!("{:?}", app.audit());
    assert!(!all.contains(&code));
}

#[test]
fn a_code_expires_after_five_minutes() {
    let app = app();
    app.set_mobile("taro", "09012345678");
    let mut b = app.browser();
    b.login("taro");
    enrol_sms(&app, &mut b);
    let mut c = app.browser();
    c.password_step("taro");
    c.submit("/mfa/sms/send", &[("next", "/")]);
    let code = app.last_sms_code();
    app.clock
        .advance(Duration::minutes(5) + Duration::seconds(1));
    let late = c.submit("/mfa/sms", &[("code", &code), ("next", "/")]);
    assert_eq!(late.status, 401);
    assert!(late.body.contains("有効期限が切れたか"));
    // A new code works.
    c.submit("/mfa/sms/send", &[("next", "/")]);
    let fresh = app.last_sms_code();
    assert_eq!(
        c.submit("/mfa/sms", &[("code", &fresh), ("next", "/")])
            .status,
        303
    );
}

#[test]
fn a_code_dies_after_five_wrong_attempts() {
    let app = TestApp::spawn_with(|s| s.lockout_threshold = 20);
    app.add_user("taro", "taro@example.com", "山田 太郎");
    app.set_mobile("taro", "09012345678");
    let mut b = app.browser();
    b.login("taro");
    enrol_sms(&app, &mut b);
    let mut c = app.browser();
    c.password_step("taro");
    c.submit("/mfa/sms/send", &[("next", "/")]);
    let code = app.last_sms_code();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let p = c.submit("/mfa/sms", &[("code", wrong), ("next", "/")]);
        assert_eq!(p.status, 401);
    }
    let right_too_late = c.submit("/mfa/sms", &[("code", &code), ("next", "/")]);
    assert_eq!(right_too_late.status, 401);
    assert!(right_too_late.body.contains("入力回数の上限"));
}

#[test]
fn resends_are_spaced_and_limited() {
    let app = app();
    app.set_mobile("taro", "09012345678");
    let mut b = app.browser();
    b.login("taro");
    enrol_sms(&app, &mut b);
    let mut c = app.browser();
    c.password_step("taro");
    let before = app.outbox().len();
    assert!(c
        .submit("/mfa/sms/send", &[("next", "/")])
        .location()
        .ends_with("sent=1"));
    let too_soon = c.submit("/mfa/sms/send", &[("next", "/")]);
    assert!(too_soon.location().ends_with("error=mfa.sms_too_soon"));
    for _ in 0..2 {
        app.clock.advance(Duration::seconds(31));
        assert!(c
            .submit("/mfa/sms/send", &[("next", "/")])
            .location()
            .ends_with("sent=1"));
    }
    app.clock.advance(Duration::seconds(31));
    let too_many = c.submit("/mfa/sms/send", &[("next", "/")]);
    assert!(too_many.location().ends_with("error=mfa.sms_too_many"));
    assert_eq!(app.outbox().len(), before + 3);
    // Only the newest code works.
    let newest = app.last_sms_code();
    assert_eq!(
        c.submit("/mfa/sms", &[("code", &newest), ("next", "/")])
            .status,
        303
    );
}

#[test]
fn a_new_mobile_number_must_be_confirmed_again() {
    let app = app();
    app.set_mobile("taro", "09012345678");
    let mut b = app.browser();
    b.login("taro");
    enrol_sms(&app, &mut b);
    let edit = b.get("/profile/edit");
    let r = b.submit(
        "/profile/edit",
        &[
            ("display_name", "山田 太郎"),
            ("phone", ""),
            ("mobile", "080-9999-0000"),
            ("organization", ""),
            ("department", ""),
        ],
    );
    assert_eq!(r.status, 303, "{}", edit.body);
    let security = b.get("/security");
    let row = security
        .body
        .split("id=\"factor-sms\"")
        .nth(1)
        .expect("sms row");
    let cell: String = row.chars().take(200).collect();
    assert!(cell.contains("未設定"), "{cell}");
    // With no factor left, the next login asks for none.
    assert_eq!(app.browser().password_step("taro"), "/");
}

#[test]
fn the_http_gateway_gets_the_message_and_its_failures_are_shown() {
    let gw = SmsGateway::start();
    let url = gw.url.clone();
    let app = TestApp::spawn_with(move |s| {
        s.sms_sender = "http".into();
        s.sms_gateway_url = url;
        s.sms_gateway_auth_header = "Authorization: Bearer test-token-123".into();
        s.sms_gateway_body = r#"{"recipient":"{to}","text":"{message}","sender":"OMAKASE"}"#.into();
    });
    app.add_user("taro", "taro@example.com", "山田 太郎");
    app.set_mobile("taro", "090-1234-5678");
    let mut b = app.browser();
    b.login("taro");
    let sent = b.submit("/mfa/sms/setup/send", &[("next", "/")]);
    assert!(sent.location().ends_with("sent=1"), "{}", sent.location());
    let hits = gw.hits();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].authorization, "Bearer test-token-123");
    assert_eq!(hits[0].body["recipient"], "+819012345678");
    assert_eq!(hits[0].body["sender"], "OMAKASE");
    let text = hits[0].body["text"].as_str().expect("text").to_string();
    let code = sms_code(&text);
    assert!(app.outbox().is_empty(), "nothing goes to the outbox");
    let done = b.submit("/mfa/sms/setup", &[("code", &code), ("next", "/")]);
    assert_eq!(done.status, 200);
    // The gateway fails: the person is told, nothing is half-done.
    if let Ok(mut s) = gw.status.lock() {
        *s = 503;
    }
    let mut c = app.browser();
    c.password_step("taro");
    let failed = c.submit("/mfa/sms/send", &[("next", "/")]);
    assert!(failed.location().ends_with("error=mfa.sms_send_failed"));
    let page = c.get(failed.location());
    assert!(page.body.contains("SMSを送信できませんでした"));
    assert_eq!(app.count_audit("mfa.sms_failed"), 1);
    // The failed message does not hold back the next try.
    if let Ok(mut s) = gw.status.lock() {
        *s = 200;
    }
    let retry = c.submit("/mfa/sms/send", &[("next", "/")]);
    assert!(retry.location().ends_with("sent=1"), "{}", retry.location());
}
