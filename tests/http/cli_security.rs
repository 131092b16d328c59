//! The command line on account security: unlocking an account that
//! locked itself, resetting and requiring a second factor, and the
//! password policy for passwords given on standard input.

use crate::cli::omakase;
use crate::helpers::*;
use crate::security_helpers::*;

#[test]
fn unlock_reset_mfa_and_require_mfa_from_the_command_line() {
    if std::env::var("TEST_DATABASE_URL").is_ok() {
        return; // the command line is exercised on the SQLite file
    }
    let app = TestApp::spawn();
    app.add_user("taro", "taro@example.com", "山田 太郎");
    let dir = app._dir.path().to_path_buf();
    let base = app.base.clone();
    let run = |args: &[&str]| omakase(&dir, &base, args, None);
    // Locked by wrong passwords, unlocked by the command line.
    for _ in 0..5 {
        app.browser().login_at("/login", "taro", "wrong-password");
    }
    assert_eq!(app.user_flag("taro"), (true, 5));
    let (ok, out, err) = run(&["user", "list"]);
    assert!(
        ok && out.contains("taro\t山田 太郎\ttaro@example.com\tuser\tlocked"),
        "{out}{err}"
    );
    let (ok, out, err) = run(&["user", "unlock", "taro"]);
    assert!(ok && out.contains("taro unlocked"), "{err}");
    assert_eq!(app.user_flag("taro"), (false, 0));
    assert!(app
        .audit()
        .iter()
        .any(|(k, s)| k == "cli.user.unlock" && s == "taro"));
    // A second factor, then the phone is lost: reset from the command line.
    let mut b = app.browser();
    b.login("taro");
    enrol_totp(&app, &mut b, "taro");
    let (ok, _, err) = run(&["user", "reset-mfa", "taro"]);
    assert!(ok, "{err}");
    assert_eq!(b.get("/").status, 303, "the sessions ended");
    assert_eq!(app.browser().password_step("taro"), "/");
    // Required of this person: the next login sets one up.
    let (ok, _, err) = run(&["user", "require-mfa", "taro", "on"]);
    assert!(ok, "{err}");
    assert_eq!(app.browser().password_step("taro"), "/mfa/setup?next=%2F");
    let (ok, _, err) = run(&["user", "require-mfa", "taro", "maybe"]);
    assert!(!ok && err.contains("maybe"), "{err}");
    let (ok, _, err) = run(&["user", "reset-mfa", "nobody"]);
    assert!(!ok && err.contains("no such user"), "{err}");
}

#[test]
fn passwords_on_standard_input_follow_the_policy() {
    if std::env::var("TEST_DATABASE_URL").is_ok() {
        return;
    }
    let app = TestApp::spawn();
    let dir = app._dir.path().to_path_buf();
    let add = |name: &str, pw: &str| {
        omakase(
            &dir,
            &app.base,
            &["user", "add", name, "--password-stdin"],
            Some(pw),
        )
    };
    let (ok, _, err) = add("taro", "short");
    assert!(!ok && err.contains("too short"), "{err}");
    let (ok, _, err) = add("taro", "password1234");
    assert!(!ok && err.contains("common password"), "{err}");
    let (ok, _, err) = add("taro", "taro-taro-taro-taro");
    assert!(!ok && err.contains("user name"), "{err}");
    let (ok, _, err) = add("taro", "kiji-mo-nakazuba");
    assert!(ok, "{err}");
    let (ok, _, err) = omakase(
        &dir,
        &app.base,
        &["user", "set-password", "taro", "--password-stdin"],
        Some("tiny"),
    );
    assert!(!ok && err.contains("too short"), "{err}");
}
