//! The account lock, its release (admin, command line, cool-down), the
//! per-IP throttle, and answers that do not tell user names apart.

use chrono::Duration;
use omakase::db::models::users::Role;

use crate::helpers::*;

fn app_with_contact() -> TestApp {
    let app = TestApp::spawn();
    app.add_user("taro", "taro@example.com", "山田 太郎");
    app.add_user_as("boss", "boss@example.com", "管理 者", Role::Contractor);
    app.sql(
        "INSERT INTO contract_settings (name, value) VALUES \
         ('contact_name', '情報システム部 ヘルプデスク'), ('contact_email', 'help@example.com')",
    );
    app
}

fn attempt(app: &TestApp, user: &str, password: &str) -> Page {
    app.browser().login_at("/login", user, password)
}

#[test]
fn the_account_locks_at_exactly_the_threshold() {
    let app = app_with_contact();
    for i in 1..5 {
        let p = attempt(&app, "taro", "wrong-password");
        assert_eq!(p.status, 401, "attempt {i}");
        assert!(p
            .body
            .contains("ユーザー名またはパスワードが正しくありません"));
        assert!(!app.user_flag("taro").0, "not locked after {i}");
    }
    let fifth = attempt(&app, "taro", "wrong-password");
    assert_eq!(fifth.status, 403);
    assert!(fifth.body.contains("アカウントがロックされています"));
    // The message names the contact from 問い合わせ.
    assert!(fifth.body.contains("情報システム部 ヘルプデスク"));
    assert!(fifth.body.contains("help@example.com"));
    assert!(fifth.body.contains("href=\"/contact\""));
    assert_eq!(app.user_flag("taro"), (true, 5));
    assert_eq!(app.count_audit("account.locked"), 1);
    // The right password does not get in while locked.
    let right = attempt(&app, "taro", PASSWORD);
    assert_eq!(right.status, 403);
    assert!(right.body.contains("アカウントがロックされています"));
    assert!(app.browser().get("/").status == 303);
}

#[test]
fn a_success_resets_the_count() {
    let app = app_with_contact();
    for _ in 0..4 {
        assert_eq!(attempt(&app, "taro", "nope-nope-nope").status, 401);
    }
    assert_eq!(attempt(&app, "taro", PASSWORD).status, 303);
    assert_eq!(app.user_flag("taro"), (false, 0));
    for _ in 0..4 {
        assert_eq!(attempt(&app, "taro", "nope-nope-nope").status, 401);
    }
    assert!(!app.user_flag("taro").0);
}

#[test]
fn a_locked_session_ends_and_an_admin_unlocks() {
    let app = app_with_contact();
    let mut taro = app.browser();
    taro.login("taro");
    assert_eq!(taro.get("/").status, 200);
    for _ in 0..5 {
        attempt(&app, "taro", "wrong-password");
    }
    // The live session ended with the lock.
    assert_eq!(taro.get("/").status, 303);
    let mut admin = app.browser();
    admin.login("boss");
    let locked = admin.get("/admin/security");
    assert!(locked.body.contains("taro"), "{}", locked.body);
    let list = admin.get("/admin/users?q=taro");
    let id = list
        .body
        .split("/admin/users/")
        .filter_map(|s| s.split('"').next())
        .find_map(|s| s.parse::<i32>().ok())
        .expect("user id");
    let page = admin.get(&format!("/admin/users/{id}"));
    assert!(
        page.body.contains("ログイン失敗で自動ロック"),
        "{}",
        page.body
    );
    let r = admin.submit(
        &format!("/admin/users/{id}/action"),
        &[("action", "unlock")],
    );
    assert_eq!(r.status, 303);
    assert_eq!(app.user_flag("taro"), (false, 0));
    assert_eq!(attempt(&app, "taro", PASSWORD).status, 303);
    assert_eq!(app.count_audit("admin.user.unlock"), 1);
}

#[test]
fn the_lock_lifts_itself_after_the_cool_down_when_configured() {
    let app = TestApp::spawn_with(|s| s.lockout_cooldown_minutes = 15);
    app.add_user("taro", "taro@example.com", "山田 太郎");
    for _ in 0..5 {
        attempt(&app, "taro", "wrong-password");
    }
    app.clock.advance(Duration::minutes(14));
    assert_eq!(attempt(&app, "taro", PASSWORD).status, 403);
    app.clock.advance(Duration::minutes(2));
    assert_eq!(attempt(&app, "taro", PASSWORD).status, 303);
    assert!(app
        .audit()
        .iter()
        .any(|(k, s)| k == "account.unlock" && s == "taro"));
}

#[test]
fn an_admins_lock_does_not_lift_itself() {
    let app = TestApp::spawn_with(|s| s.lockout_cooldown_minutes = 15);
    app.add_user("taro", "taro@example.com", "山田 太郎");
    app.sql("UPDATE users SET locked = TRUE WHERE username = 'taro'");
    app.clock.advance(Duration::hours(5));
    assert_eq!(attempt(&app, "taro", PASSWORD).status, 403);
}

#[test]
fn parallel_wrong_passwords_cannot_pass_the_threshold() {
    let app = app_with_contact();
    let base = app.base.clone();
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let base = base.clone();
            std::thread::spawn(move || {
                let mut b = Browser::new(&base);
                b.login_at("/login", "taro", "guess-guess-guess").status
            })
        })
        .collect();
    let statuses: Vec<u16> = threads
        .into_iter()
        .map(|t| t.join().expect("join"))
        .collect();
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 403),
        "{statuses:?}"
    );
    // Exactly five passwords were checked; every other attempt was refused
    // as locked before its password was looked at.
    assert_eq!(app.count_audit("login.failure"), 5, "{:?}", app.audit());
    assert_eq!(app.count_audit("login.locked"), 11);
    assert_eq!(app.user_flag("taro"), (true, 5));
}

#[test]
fn unknown_names_get_the_same_answers_as_real_ones() {
    let app = app_with_contact();
    for i in 1..=6 {
        let real = attempt(&app, "taro", "wrong-password");
        let ghost = attempt(&app, "nobody-here", "wrong-password");
        assert_eq!(real.status, ghost.status, "attempt {i}");
        let message = |p: &Page| {
            let at = p.body.find("id=\"login-error\"").expect("error");
            p.body[at..].chars().take(80).collect::<String>()
        };
        assert_eq!(message(&real), message(&ghost), "attempt {i}");
        assert_eq!(real.status, if i < 5 { 401 } else { 403 }, "attempt {i}");
    }
}

#[test]
fn too_many_failures_from_one_address_are_throttled() {
    let app = TestApp::spawn_with(|s| {
        s.login_ip_max_failures = 3;
        s.login_ip_window_minutes = 10;
    });
    app.add_user("taro", "taro@example.com", "山田 太郎");
    for name in ["a1", "a2", "a3"] {
        assert_eq!(attempt(&app, name, "x-wrong-password").status, 401);
    }
    let throttled = attempt(&app, "a4", "x-wrong-password");
    assert_eq!(throttled.status, 429);
    assert!(throttled.body.contains("ログインの試行が多すぎます"));
    assert_eq!(throttled.header("retry-after"), Some("600"));
    // Even the right password waits: no password is checked meanwhile.
    assert_eq!(attempt(&app, "taro", PASSWORD).status, 429);
    assert!(app.count_audit("login.throttled") >= 2);
    app.clock.advance(Duration::minutes(11));
    assert_eq!(attempt(&app, "taro", PASSWORD).status, 303);
}

#[test]
fn successful_logins_do_not_fill_the_throttle() {
    let app = TestApp::spawn_with(|s| s.login_ip_max_failures = 2);
    app.add_user("taro", "taro@example.com", "山田 太郎");
    for _ in 0..5 {
        assert_eq!(attempt(&app, "taro", PASSWORD).status, 303);
    }
}

#[test]
fn old_counters_are_forgotten() {
    use diesel::prelude::*;
    use omakase::db::schema::login_throttle;
    let app = TestApp::spawn();
    for name in ["ghost1", "ghost2", "ghost3"] {
        attempt(&app, name, "x-wrong-password");
    }
    let count = |app: &TestApp| -> i64 {
        let mut c = app.pool.get().expect("conn");
        login_throttle::table
            .count()
            .get_result(&mut *c)
            .expect("count")
    };
    assert_eq!(count(&app), 4, "three names and one address");
    let policy = omakase::auth::lockout::Policy::of(&omakase::config::Settings::default());
    let mut c = app.pool.get().expect("conn");
    let now = app.state_now();
    omakase::auth::lockout::purge(&mut c, &policy, now + Duration::hours(23)).expect("purge");
    drop(c);
    assert_eq!(count(&app), 4, "unknown names are remembered a day");
    let mut c = app.pool.get().expect("conn");
    omakase::auth::lockout::purge(&mut c, &policy, now + Duration::hours(25)).expect("purge");
    drop(c);
    assert_eq!(count(&app), 0);
}

fn attempt_from(app: &TestApp, forwarded_for: &str, user: &str, password: &str) -> Page {
    let mut b = app.browser();
    b.headers
        .push(("X-Forwarded-For".into(), forwarded_for.into()));
    b.login_at("/login", user, password)
}

#[test]
fn behind_a_trusted_proxy_the_throttle_counts_each_client() {
    let app = TestApp::spawn_with(|s| {
        s.login_ip_max_failures = 2;
        s.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")];
    });
    app.add_user("taro", "taro@example.com", "山田 太郎");
    for _ in 0..2 {
        assert_eq!(
            attempt_from(&app, "203.0.113.7", "x", "wrong-wrong").status,
            401
        );
    }
    assert_eq!(
        attempt_from(&app, "203.0.113.7", "x", "wrong-wrong").status,
        429
    );
    // Another client behind the same proxy is not held back; a spoofed
    // address in front of the real one does not help the first.
    assert_eq!(
        attempt_from(&app, "198.51.100.9", "taro", PASSWORD).status,
        303
    );
    assert_eq!(
        attempt_from(&app, "10.9.9.9, 203.0.113.7", "taro", PASSWORD).status,
        429
    );
    assert!(app.audit().iter().any(|(k, _)| k == "login.throttled"));
}

#[test]
fn without_a_trusted_proxy_the_forwarded_header_is_ignored() {
    let app = TestApp::spawn_with(|s| s.login_ip_max_failures = 2);
    app.add_user("taro", "taro@example.com", "山田 太郎");
    for i in 0..2 {
        let who = format!("203.0.113.{i}");
        assert_eq!(attempt_from(&app, &who, "x", "wrong-wrong").status, 401);
    }
    assert_eq!(
        attempt_from(&app, "198.51.100.9", "taro", PASSWORD).status,
        429
    );
}
