use crate::helpers::*;

#[test]
fn login_page_is_japanese_first_and_english_on_request() {
    let app = TestApp::spawn();
    let mut b = app.browser();
    let p = b.get("/login");
    assert_eq!(p.status, 200);
    assert!(p.body.contains("<html lang=\"ja\">"));
    assert!(p.body.contains("name=\"username\""));
    assert!(
        p.body
            .contains("type=\"password\" autocomplete=\"current-password\"")
            && p.body.contains("name=\"password\"")
    );
    assert!(p.body.contains("ログイン"));
    let mut en = app.browser();
    en.accept_language = Some("en-US,en;q=0.9,ja;q=0.5".into());
    let p = en.get("/login");
    assert!(p.body.contains("<html lang=\"en\">"));
    assert!(p.body.contains("Log in"));
    // The language switch sticks through a cookie.
    let p = b.get("/lang/en?next=%2Flogin");
    assert_eq!(p.status, 303);
    assert_eq!(p.location(), "/login");
    assert!(b.get("/login").body.contains("<html lang=\"en\">"));
}

#[test]
fn wrong_password_and_unknown_user_get_the_same_answer() {
    let app = TestApp::spawn();
    app.add_user("taro", "taro@example.com", "山田 太郎");
    let mut b = app.browser();
    let wrong = b.login_at("/login", "taro", "not-the-password");
    let unknown = b.login_at("/login", "nobody", "not-the-password");
    assert_eq!(wrong.status, 401);
    assert_eq!(unknown.status, 401);
    let msg = "ユーザー名またはパスワードが正しくありません。";
    assert!(wrong.body.contains(msg) && unknown.body.contains(msg));
    // The typed user name is kept, the password is not.
    assert!(wrong.body.contains("value=\"taro\""));
    assert!(!wrong.body.contains("not-the-password"));
    assert!(!b.cookies.contains_key("omakase_session"));
}

#[test]
fn login_without_csrf_token_is_refused() {
    let app = TestApp::spawn();
    app.add_user("taro", "taro@example.com", "山田 太郎");
    let mut b = app.browser();
    b.get("/login");
    let p = b.post(
        "/login",
        &[
            ("username", "taro"),
            ("password", PASSWORD),
            ("csrf_token", "forged"),
        ],
    );
    assert_eq!(p.status, 403);
    assert!(p.body.contains("HTTP-403"));
    assert!(!b.cookies.contains_key("omakase_session"));
}

#[test]
fn home_requires_login_then_shows_only_assigned_tiles() {
    let app = TestApp::spawn();
    app.add_user("taro", "taro@example.com", "山田 太郎");
    app.add_user("hanako", "hanako@example.com", "佐藤 花子");
    let a = SpFixture::new("wiki");
    let c = SpFixture::new("chat");
    app.add_sp(&a.metadata(false), "社内Wiki", &["taro"]);
    app.add_sp(&c.metadata(false), "Chat <b>", &["hanako"]);
    let mut b = app.browser();
    let p = b.get("/");
    assert_eq!(p.status, 303);
    assert_eq!(p.location(), "/login?next=%2F");
    let r = b.login_at(p.location(), "taro", PASSWORD);
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), "/");
    let home = b.get("/");
    assert_eq!(home.status, 200);
    assert!(home.body.contains("社内Wiki"));
    assert!(html_unescape(&home.body).contains(&format!("/saml/idp-init?sp={}", enc(&a.entity_id))));
    assert!(!home.body.contains("Chat"));
    assert!(home.body.contains("山田 太郎"));
    // Escaped, never raw markup.
    let mut h = app.browser();
    h.login("hanako");
    let home = h.get("/");
    assert!(home.body.contains("Chat &lt;b&gt;"));
    assert!(!home.body.contains("Chat <b>"));
}

#[test]
fn logout_ends_the_session_on_the_server() {
    let app = TestApp::spawn();
    app.add_user("taro", "taro@example.com", "山田 太郎");
    let mut b = app.browser();
    b.login("taro");
    let stolen = b.cookies.get("omakase_session").cloned().expect("session");
    let csrf = b.csrf();
    // Logout needs the CSRF token.
    assert_eq!(b.post("/logout", &[("csrf_token", "x")]).status, 403);
    let p = b.post("/logout", &[("csrf_token", &csrf)]);
    assert_eq!(p.status, 303);
    assert!(!b.cookies.contains_key("omakase_session"));
    // The old token no longer works, even if replayed.
    let mut thief = app.browser();
    thief.cookies.insert("omakase_session".into(), stolen);
    assert_eq!(thief.get("/").status, 303);
}

#[test]
fn login_issues_a_new_session_token() {
    let app = TestApp::spawn();
    app.add_user("taro", "taro@example.com", "山田 太郎");
    let mut b = app.browser();
    b.cookies
        .insert("omakase_session".into(), "attacker-chosen".into());
    b.login("taro");
    assert_ne!(
        b.cookies.get("omakase_session").map(String::as_str),
        Some("attacker-chosen")
    );
}

#[test]
fn sessions_expire_when_idle() {
    let app = TestApp::spawn();
    app.add_user("taro", "taro@example.com", "山田 太郎");
    let mut b = app.browser();
    b.login("taro");
    assert_eq!(b.get("/").status, 200);
    app.clock.advance(chrono::Duration::minutes(61));
    assert_eq!(b.get("/").status, 303);
}

#[test]
fn next_never_leaves_the_site() {
    let app = TestApp::spawn();
    app.add_user("taro", "taro@example.com", "山田 太郎");
    let mut b = app.browser();
    let r = b.login_at("/login?next=%2F%2Fevil.example%2F", "taro", PASSWORD);
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), "/");
}

#[test]
fn first_contractor_must_change_the_one_time_password() {
    let app = TestApp::spawn();
    let (name, otp) = {
        let mut c = app.pool.get().expect("conn");
        omakase::domain::users::bootstrap(&mut c, app.state_now())
            .expect("bootstrap")
            .expect("created")
    };
    // A second bootstrap does nothing.
    {
        let mut c = app.pool.get().expect("conn");
        assert!(omakase::domain::users::bootstrap(&mut c, app.state_now())
            .expect("bootstrap")
            .is_none());
    }
    let mut b = app.browser();
    let r = b.login_at("/login", &name, &otp);
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), "/password?next=%2F");
    // Every page leads to the password change first.
    let p = b.get("/profile");
    assert_eq!(p.status, 303);
    assert!(p.location().starts_with("/password"));
    let page = b.get("/password");
    assert!(page.body.contains("初回ログインのため"));
    let csrf = b.csrf();
    let short = b.post(
        "/password",
        &[
            ("csrf_token", &csrf),
            ("current", &otp),
            ("new", "short"),
            ("confirm", "short"),
        ],
    );
    assert_eq!(short.status, 422);
    assert!(short.body.contains("12文字以上"));
    let wrong = b.post(
        "/password",
        &[
            ("csrf_token", &csrf),
            ("current", "wrong"),
            ("new", "a-much-better-secret"),
            ("confirm", "a-much-better-secret"),
        ],
    );
    assert_eq!(wrong.status, 422);
    let ok = b.post(
        "/password",
        &[
            ("csrf_token", &csrf),
            ("current", &otp),
            ("new", "a-much-better-secret"),
            ("confirm", "a-much-better-secret"),
        ],
    );
    assert_eq!(ok.status, 303);
    assert_eq!(b.get("/profile").status, 200);
    let mut again = app.browser();
    assert_eq!(again.login_at("/login", &name, &otp).status, 401);
    assert_eq!(
        again
            .login_at("/login", &name, "a-much-better-secret")
            .status,
        303
    );
}

#[test]
fn security_headers_on_pages_and_errors() {
    let app = TestApp::spawn();
    let mut b = app.browser();
    for path in ["/login", "/nowhere", "/saml/sso"] {
        let p = b.get(path);
        let csp = p.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}"
        );
        assert_eq!(
            p.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(p.header("referrer-policy"), Some("no-referrer"), "{path}");
    }
    let p = app.browser().get("/login");
    let cookie = p
        .headers
        .get("set-cookie")
        .cloned()
        .unwrap_or_default()
        .join("\n");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
}

#[test]
fn static_assets_are_served_with_their_types() {
    let app = TestApp::spawn();
    let mut b = app.browser();
    let css = b.get("/static/app.css");
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    let js = b.get("/static/post.js");
    assert_eq!(
        js.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert!(js.body.contains("saml-post"));
    assert_eq!(b.get("/favicon.ico").location(), "/static/favicon.svg");
    assert_eq!(
        b.get("/static/favicon.svg").header("content-type"),
        Some("image/svg+xml")
    );
    assert_eq!(b.get("/static/../Cargo.toml").status, 404);
    assert_eq!(b.get("/static/nothing.css").status, 404);
}
