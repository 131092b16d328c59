//! The web surface: security headers on every page, cookie flags, a CSRF
//! token in every form, and the password policy.

use omakase::db::models::users::Role;

use crate::helpers::*;

fn check_headers(path: &str, p: &Page) {
    let csp = p.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
    assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
    assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
    assert!(!csp.contains("unsafe-eval"), "{path}: {csp}");
    assert_eq!(
        p.header("x-content-type-options"),
        Some("nosniff"),
        "{path}"
    );
    assert!(p.header("referrer-policy").is_some(), "{path}");
    assert_eq!(p.header("x-frame-options"), Some("DENY"), "{path}");
}

/// Every POST form of a page carries the CSRF token.
fn check_forms(path: &str, p: &Page) {
    for form in p.body.split("<form").skip(1) {
        let form = form.split("</form>").next().unwrap_or("");
        let head = form.split('>').next().unwrap_or("");
        if head.contains("method=\"post\"") {
            assert!(
                form.contains("name=\"csrf_token\""),
                "{path}: a form without a CSRF token: <form{head}>"
            );
        }
    }
}

#[test]
fn every_page_has_the_security_headers_and_tokens() {
    let app = TestApp::spawn();
    app.add_user_as("boss", "boss@example.com", "契約 者", Role::Contractor);
    app.add_user("taro", "taro@example.com", "山田 太郎");
    let sp = SpFixture::new("wiki");
    app.add_sp(&sp.metadata(false), "社内Wiki", &["taro", "boss"]);
    let mut anon = app.browser();
    for path in [
        "/login",
        "/contact",
        "/",
        "/saml/metadata",
        "/healthz",
        "/static/app.css",
        "/static/post.js",
        "/no/such/page",
        "/saml/sso?SAMLRequest=%%%",
        "/mfa",
    ] {
        let p = anon.get(path);
        check_headers(path, &p);
        check_forms(path, &p);
    }
    let mut b = app.browser();
    b.login("boss");
    for path in [
        "/",
        "/profile",
        "/profile/edit",
        "/password",
        "/security",
        "/mfa/setup?next=%2F",
        "/mfa/totp/setup?next=%2F",
        "/mfa/sms/setup?next=%2F",
        "/admin/services",
        "/admin/services/new",
        "/admin/users",
        "/admin/users/new",
        "/admin/users/import",
        "/admin/groups",
        "/admin/audit",
        "/admin/security",
        "/contractor",
        "/contact",
    ] {
        let p = b.get(path);
        assert_eq!(p.status, 200, "{path}: {}", p.body);
        check_headers(path, &p);
        check_forms(path, &p);
    }
    // The SAML POST page: a stricter form-action, the same rest.
    let post = b.get(&format!("/saml/idp-init?sp={}", enc(&sp.entity_id)));
    check_headers("idp-init", &post);
    let csp = post.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("form-action https://wiki.example"), "{csp}");
    // A refused CSRF token is a readable 403 with the headers.
    let forged = b.post("/sessions/end-all", &[("csrf_token", "forged")]);
    assert_eq!(forged.status, 403);
    check_headers("forged", &forged);
    assert_eq!(b.get("/").status, 200, "nothing was ended");
}

#[test]
fn cookies_are_http_only_same_site_and_secure_on_https() {
    let app = TestApp::spawn_with(|s| s.base_url = "https://idp.example.test".into());
    app.add_user("taro", "taro@example.com", "山田 太郎");
    let mut b = app.browser();
    let page = b.get("/login");
    let csrf_cookie = page.header("set-cookie").unwrap_or_default().to_string();
    assert!(csrf_cookie.contains("Secure"), "{csrf_cookie}");
    let r = b.login_at("/login", "taro", PASSWORD);
    let session = r
        .headers
        .get("set-cookie")
        .into_iter()
        .flatten()
        .find(|c| c.starts_with("omakase_session="))
        .expect("session cookie")
        .clone();
    for flag in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(session.contains(flag), "{flag} in {session}");
    }
    let hsts = r.header("strict-transport-security").unwrap_or_default();
    assert!(hsts.contains("max-age="));
    // On plain http (development) the cookie cannot be Secure.
    let dev = TestApp::spawn();
    dev.add_user("taro", "taro@example.com", "山田 太郎");
    let r = dev.browser().login_at("/login", "taro", PASSWORD);
    let cookie = r.header("set-cookie").unwrap_or_default().to_string();
    assert!(!cookie.contains("Secure"), "{cookie}");
}

fn change(b: &mut Browser, current: &str, new: &str, confirm: &str) -> Page {
    b.submit(
        "/password",
        &[
            ("current", current),
            ("new", new),
            ("confirm", confirm),
            ("next", "/"),
        ],
    )
}

#[test]
fn the_password_policy_is_enforced_and_configurable() {
    let app = TestApp::spawn_with(|s| s.password_min_length = 14);
    app.add_user("yamada.taro", "taro@example.com", "山田 太郎");
    let mut b = app.browser();
    b.login("yamada.taro");
    let page = b.get("/password");
    assert!(page.body.contains("14文字以上"), "{}", page.body);
    assert!(page.body.contains("minlength=\"14\""));
    for (new, message) in [
        ("short-pass-13", "14文字以上にしてください"),
        (
            "i-am-yamada.taro-2026",
            "ユーザー名を含むパスワードは使えません",
        ),
        ("baseball-1234567", "推測されやすいパスワードは使えません"),
        ("qwertyuiop123456", "推測されやすいパスワードは使えません"),
    ] {
        let r = change(&mut b, PASSWORD, new, new);
        assert_eq!(r.status, 422, "{new}");
        assert!(r.body.contains(message), "{new}: {}", r.body);
    }
    let r = change(&mut b, PASSWORD, "kiji-mo-nakazuba", "kiji-mo-nakazuba!");
    assert!(r.body.contains("一致しません"));
    let r = change(
        &mut b,
        "not-the-password",
        "kiji-mo-nakazuba",
        "kiji-mo-nakazuba",
    );
    assert!(r.body.contains("現在のパスワードが正しくありません"));
    let ok = change(&mut b, PASSWORD, "kiji-mo-nakazuba", "kiji-mo-nakazuba");
    assert_eq!(ok.status, 303);
    assert_eq!(
        app.browser()
            .login_at("/login", "yamada.taro", "kiji-mo-nakazuba")
            .status,
        303
    );
    assert!(!format!("{:?}", app.audit()).contains("kiji-mo-nakazuba"));
}

#[test]
fn a_temporary_password_is_changed_before_anything_else() {
    let app = TestApp::spawn();
    app.add_user_as("boss", "boss@example.com", "管理 者", Role::Admin);
    app.add_user("taro", "taro@example.com", "山田 太郎");
    let mut admin = app.browser();
    admin.login("boss");
    let id = admin
        .get("/admin/users?q=taro")
        .body
        .split("/admin/users/")
        .filter_map(|s| s.split('"').next())
        .find_map(|s| s.parse::<i32>().ok())
        .expect("id");
    let shown = admin.submit(
        &format!("/admin/users/{id}/action"),
        &[("action", "reset_password")],
    );
    let temporary = shown
        .body
        .split("<code")
        .nth(1)
        .and_then(|s| s.split('>').nth(1))
        .and_then(|s| s.split('<').next())
        .expect("temporary password")
        .to_string();
    let mut b = app.browser();
    let r = b.login_at("/login", "taro", &temporary);
    assert_eq!(r.location(), "/password?next=%2F");
    for path in ["/", "/profile", "/security"] {
        assert!(
            b.get(path).location().starts_with("/password?next="),
            "{path}"
        );
    }
    let ok = change(&mut b, &temporary, "kiji-mo-nakazuba", "kiji-mo-nakazuba");
    assert_eq!(ok.status, 303);
    assert_eq!(b.get("/").status, 200);
}
