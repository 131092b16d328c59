//! Sessions: idle and absolute timeouts, the list of one's sessions,
//! ending one of them, signing out everywhere, and password changes
//! ending the other sessions.

use chrono::Duration;

use crate::helpers::*;

fn app() -> TestApp {
    let app = TestApp::spawn();
    app.add_user("taro", "taro@example.com", "山田 太郎");
    app.add_user("jiro", "jiro@example.com", "鈴木 次郎");
    app
}

fn with_agent(app: &TestApp, ua: &str) -> Browser {
    let mut b = app.browser();
    b.user_agent = Some(ua.to_string());
    b
}

const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

fn session_ids(page: &Page) -> Vec<String> {
    page.body
        .split("class=\"session\" data-id=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn the_list_shows_each_session_and_ends_any_one() {
    let app = app();
    let mut pc = with_agent(&app, CHROME);
    pc.login("taro");
    app.clock.advance(Duration::minutes(3));
    let mut phone = with_agent(&app, IPHONE);
    phone.login("taro");
    let mut other = app.browser();
    other.login("jiro");
    let page = pc.get("/security");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Chrome 131 / Windows"), "{}", page.body);
    assert!(page.body.contains("Safari / iOS"));
    assert!(page.body.contains("127.0.0.1"));
    assert!(
        page.body.contains("2026/11/25 21:00:00"),
        "login time in Tokyo"
    );
    assert!(page.body.contains("2026/11/25 21:03:00"));
    assert!(page.body.contains("このブラウザー"));
    let ids = session_ids(&page);
    assert_eq!(ids.len(), 2, "only taro's sessions");
    let phone_id = page
        .body
        .split("class=\"session\" data-id=\"")
        .skip(1)
        .find(|row| row.contains("Safari / iOS"))
        .and_then(|row| row.split('"').next())
        .expect("the phone's row");
    let r = pc.submit(&format!("/sessions/{phone_id}/end"), &[]);
    assert_eq!(r.location(), "/security?notice=session_ended");
    assert_eq!(phone.get("/").status, 303);
    assert_eq!(pc.get("/").status, 200);
    // Someone else's session is not found, and stays.
    let jiro_page = other.get("/security");
    let jiro_id = session_ids(&jiro_page).remove(0);
    assert_eq!(
        pc.submit(&format!("/sessions/{jiro_id}/end"), &[]).status,
        404
    );
    assert_eq!(other.get("/").status, 200);
    // Ending the current one signs this browser out.
    let mine = session_ids(&pc.get("/security")).remove(0);
    let out = pc.submit(&format!("/sessions/{mine}/end"), &[]);
    assert_eq!(out.location(), "/login?notice=session_ended");
    assert_eq!(pc.get("/").status, 303);
    assert_eq!(app.count_audit("session.end"), 2);
}

#[test]
fn sign_out_everywhere_ends_every_session() {
    let app = app();
    let mut a = app.browser();
    a.login("taro");
    let mut b = app.browser();
    b.login("taro");
    let r = a.submit("/sessions/end-all", &[]);
    assert_eq!(r.location(), "/login?notice=signed_out_everywhere");
    assert!(a
        .get(r.location())
        .body
        .contains("すべてのセッションからログアウトしました"));
    assert_eq!(a.get("/").status, 303);
    assert_eq!(b.get("/").status, 303);
    assert_eq!(app.count_audit("session.end_all"), 1);
}

#[test]
fn idle_and_absolute_timeouts_end_sessions() {
    let app = app();
    let mut idle = app.browser();
    idle.login("taro");
    app.clock.advance(Duration::minutes(59));
    assert_eq!(idle.get("/").status, 200, "59 idle minutes");
    app.clock.advance(Duration::minutes(61));
    let gone = idle.get("/");
    assert_eq!(gone.status, 303, "61 idle minutes");
    assert!(gone.location().starts_with("/login"));
    // Used every 50 minutes, the session still ends 10 hours after login.
    let mut busy = app.browser();
    busy.login("taro");
    for i in 1..=11 {
        app.clock.advance(Duration::minutes(50));
        assert_eq!(busy.get("/").status, 200, "after {} minutes", i * 50);
    }
    app.clock.advance(Duration::minutes(50));
    assert_eq!(busy.get("/").status, 303, "10 hours after login");
}

#[test]
fn a_password_change_ends_the_other_sessions() {
    let app = app();
    let mut a = app.browser();
    a.login("taro");
    let mut b = app.browser();
    b.login("taro");
    let r = a.submit(
        "/password",
        &[
            ("current", PASSWORD),
            ("new", "a-brand-new-passphrase"),
            ("confirm", "a-brand-new-passphrase"),
            ("next", "/"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(a.get("/").status, 200);
    assert_eq!(b.get("/").status, 303);
}
