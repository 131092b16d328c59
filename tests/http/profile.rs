use crate::helpers::*;

#[test]
fn profile_shows_the_previous_login_not_the_current_one() {
    let app = TestApp::spawn();
    app.add_user("taro", "taro@example.com", "山田 太郎");
    let mut b = app.browser();
    b.login("taro");
    // No previous login yet.
    let p = b.get("/profile");
    assert_eq!(p.status, 200);
    assert!(p.body.contains("前回ログイン日時"));
    assert!(p.body.contains("<dd id=\"f-previous-login\">—</dd>"));
    // 2026-11-25 12:00:00 UTC is 21:00:00 in Tokyo.
    app.clock.advance(chrono::Duration::minutes(90));
    let mut b2 = app.browser();
    b2.login("taro");
    let p = b2.get("/profile");
    assert!(
        p.body
            .contains("<dd id=\"f-previous-login\">2026/11/25 21:00:00</dd>"),
        "{}",
        p.body
    );
    for label in ["名前", "電話番号", "携帯電話", "組織名", "部署名", "編集"] {
        assert!(p.body.contains(label), "missing {label}");
    }
}

#[test]
fn edit_validates_keeps_input_and_saves() {
    let app = TestApp::spawn();
    app.add_user("taro", "taro@example.com", "山田 太郎");
    let mut b = app.browser();
    b.login("taro");
    let edit = b.get("/profile/edit");
    assert_eq!(edit.status, 200);
    assert!(edit
        .body
        .contains("※SMS認証の場合、携帯電話番号は必要となります。"));
    assert!(edit.body.contains("登録"));
    assert_eq!(edit.input("display_name").as_deref(), Some("山田 太郎"));
    let csrf = b.csrf();
    let bad = b.post(
        "/profile/edit",
        &[
            ("csrf_token", &csrf),
            ("display_name", "  "),
            ("phone", "03-12"),
            ("mobile", "090-1234-5678"),
            ("organization", "○○事業部"),
            ("department", "○○部"),
        ],
    );
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("名前を入力してください。"));
    assert!(bad.body.contains("電話番号は数字とハイフンで"));
    assert_eq!(bad.input("phone").as_deref(), Some("03-12"));
    assert_eq!(bad.input("organization").as_deref(), Some("○○事業部"));
    assert_eq!(bad.input("mobile").as_deref(), Some("090-1234-5678"));
    // Nothing was saved.
    assert!(b
        .get("/profile")
        .body
        .contains("<dd id=\"f-name\">山田 太郎</dd>"));
    let ok = b.post(
        "/profile/edit",
        &[
            ("csrf_token", &csrf),
            ("display_name", "山田 太郎 <script>"),
            ("phone", "０３ー１２３４ー５６７８"),
            ("mobile", "090-1234-5678"),
            ("organization", "○○事業部"),
            ("department", "○○部"),
        ],
    );
    assert_eq!(ok.status, 303);
    assert_eq!(ok.location(), "/profile?saved=1");
    let p = b.get("/profile?saved=1");
    assert!(p.body.contains("個人情報を登録しました。"));
    assert!(p
        .body
        .contains("<dd id=\"f-name\">山田 太郎 &lt;script&gt;</dd>"));
    assert!(p.body.contains("<dd id=\"f-phone\">03-1234-5678</dd>"));
    assert!(p.body.contains("<dd id=\"f-department\">○○部</dd>"));
}

#[test]
fn edit_without_csrf_changes_nothing() {
    let app = TestApp::spawn();
    app.add_user("taro", "taro@example.com", "山田 太郎");
    let mut b = app.browser();
    b.login("taro");
    let p = b.post(
        "/profile/edit",
        &[("csrf_token", "nope"), ("display_name", "Mallory")],
    );
    assert_eq!(p.status, 403);
    assert!(b.get("/profile").body.contains("山田 太郎"));
}

#[test]
fn profile_in_english() {
    let app = TestApp::spawn();
    app.add_user("taro", "taro@example.com", "Taro");
    let mut b = app.browser();
    b.accept_language = Some("en".into());
    b.login("taro");
    let p = b.get("/profile");
    for label in [
        "Name",
        "Phone",
        "Mobile",
        "Organization",
        "Department",
        "Previous login",
        "Edit",
    ] {
        assert!(p.body.contains(label), "missing {label}");
    }
}
