//! The admin console: access control, registering services from uploaded
//! or fetched metadata, settings, assignment, removal, and the audit log.

use omakase::db::models::users::Role;

use crate::helpers::*;

fn admin_app() -> (TestApp, Browser) {
    let app = TestApp::spawn();
    app.add_user_as("boss", "boss@example.com", "管理 花子", Role::Admin);
    app.add_user("taro", "taro@example.com", "山田 太郎");
    let mut b = app.browser();
    b.login("boss");
    (app, b)
}

fn upload(b: &mut Browser, xml: &str) -> Page {
    b.get("/admin/services/new");
    let csrf = b.csrf();
    b.post_multipart(
        "/admin/services/preview",
        &[("csrf_token", &csrf), ("url", "")],
        Some(("file", "metadata.xml", xml.as_bytes())),
    )
}

/// Uploads, checks the preview and saves; returns the service page path.
fn register(b: &mut Browser, xml: &str, name: &str) -> String {
    let preview = upload(b, xml);
    assert_eq!(preview.status, 200, "{}", preview.body);
    let csrf = b.csrf();
    let metadata = preview.input("metadata").expect("metadata field");
    let saved = b.post(
        "/admin/services/save",
        &[
            ("csrf_token", &csrf),
            ("metadata", &metadata),
            ("name", name),
        ],
    );
    assert_eq!(saved.status, 303, "{}", saved.body);
    saved.location().trim_end_matches("?saved=1").to_string()
}

#[test]
fn only_admins_reach_the_console() {
    let (app, _) = admin_app();
    let mut user = app.browser();
    user.login("taro");
    for path in [
        "/admin",
        "/admin/services",
        "/admin/services/new",
        "/admin/audit",
        "/admin/audit.csv",
        "/admin/services/1",
    ] {
        let p = user.get(path);
        assert_eq!(p.status, 403, "{path}");
        assert!(p.body.contains("HTTP-403"), "{path}");
    }
    let csrf = user.csrf();
    assert_eq!(
        user.post(
            "/admin/services/save",
            &[("csrf_token", &csrf), ("metadata", "x")]
        )
        .status,
        403
    );
    assert!(
        !user.get("/").body.contains("/admin/services"),
        "no admin link for users"
    );
    let mut anon = app.browser();
    let p = anon.get("/admin/services");
    assert_eq!(p.status, 303);
    assert!(p.location().starts_with("/login?next=%2Fadmin%2Fservices"));
    let mut contractor = app.browser();
    app.add_user_as("owner", "owner@example.com", "契約者", Role::Contractor);
    contractor.login("owner");
    assert_eq!(contractor.get("/admin/services").status, 200);
}

#[test]
fn upload_preview_save_assign_and_sign_in() {
    let (app, mut b) = admin_app();
    let home = b.get("/");
    assert!(
        home.body.contains("/admin/services"),
        "admin link in the menu"
    );
    let sp = SpFixture::new("wiki");
    let preview = upload(&mut b, &sp.metadata(false));
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(preview.body.contains(&sp.entity_id));
    assert!(preview.body.contains(&sp.acs[0]) && preview.body.contains(&sp.acs[1]));
    assert!(preview.body.contains("HTTP-Artifact"));
    assert!(
        html_unescape(&preview.body).contains("CN=wiki, O=omakase"),
        "certificate subject"
    );
    assert!(preview.body.contains("PT6H"), "cacheDuration");
    assert!(!preview.body.contains("有効期限の切れた証明書"));
    // Nothing is saved before confirmation.
    assert!(!b.get("/admin/services").body.contains(&sp.entity_id));
    let page = register(&mut b, &sp.metadata(false), "社内Wiki");
    let show = b.get(&page);
    assert_eq!(show.status, 200);
    assert!(show.body.contains("社内Wiki") && show.body.contains(&sp.entity_id));
    let csrf = b.csrf();
    let r = b.post(
        &format!("{page}/assign"),
        &[("csrf_token", &csrf), ("username", "taro")],
    );
    assert_eq!(r.location(), format!("{page}?notice=assigned"));
    let r = b.post(
        &format!("{page}/assign"),
        &[("csrf_token", &csrf), ("username", "nobody")],
    );
    assert_eq!(r.location(), format!("{page}?error=no_such_user"));
    assert!(b
        .get(&format!("{page}?error=no_such_user"))
        .body
        .contains("そのユーザーは存在しません"));
    // The user now has the tile and signs in through it.
    let mut taro = app.browser();
    taro.login("taro");
    assert!(taro.get("/").body.contains("社内Wiki"));
    let post = posted(&taro.get(&format!("/saml/idp-init?sp={}", enc(&sp.entity_id))));
    assert_eq!(post.name_id().1, "taro@example.com");
    // The sign-in shows on the service's page.
    let show = b.get(&page);
    assert!(show.body.contains("<td>taro</td>"), "recent sign-ins");
    // Unassigning takes the tile away.
    b.post(
        &format!("{page}/unassign"),
        &[("csrf_token", &csrf), ("username", "taro")],
    );
    assert!(!taro.get("/").body.contains("社内Wiki"));
}

#[test]
fn settings_change_what_the_service_receives() {
    let (app, mut b) = admin_app();
    let sp = SpFixture::new("crm");
    let page = register(&mut b, &sp.metadata(false), "CRM");
    let csrf = b.csrf();
    b.post(
        &format!("{page}/assign"),
        &[("csrf_token", &csrf), ("username", "taro")],
    );
    let bad = b.post(
        &format!("{page}/settings"),
        &[
            ("csrf_token", &csrf),
            ("display_name", ""),
            ("nameid_format", "persistent"),
            ("session_minutes", "abc"),
        ],
    );
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("表示名を入力してください"));
    assert!(bad.body.contains("1〜10080"));
    assert!(bad.body.contains("少なくとも一方に署名"));
    assert_eq!(
        bad.input("session_minutes").as_deref(),
        Some("abc"),
        "typed value kept"
    );
    let ok = b.post(
        &format!("{page}/settings"),
        &[
            ("csrf_token", &csrf),
            ("display_name", "CRM (本番)"),
            ("description", "顧客管理"),
            ("default_relay_state", "https://crm.example/home"),
            ("nameid_format", "persistent"),
            ("session_minutes", "60"),
            ("sign_assertion", "1"),
            ("enabled", "1"),
        ],
    );
    assert_eq!(ok.status, 303, "{}", ok.body);
    let mut taro = app.browser();
    taro.login("taro");
    let home = taro.get("/");
    assert!(home.body.contains("CRM (本番)") && home.body.contains("顧客管理"));
    let post = posted(&taro.get(&format!("/saml/idp-init?sp={}", enc(&sp.entity_id))));
    assert_eq!(
        post.name_id().0,
        "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
    );
    assert_eq!(
        post.relay_state.as_deref(),
        Some("https://crm.example/home")
    );
    assert_eq!(
        post.find("AuthnStatement")[0].attr("SessionNotOnOrAfter"),
        Some("2026-11-25T13:00:00Z")
    );
    // Only the assertion is signed now.
    assert!(post
        .root
        .child("http://www.w3.org/2000/09/xmldsig#", "Signature")
        .is_none());
    assert!(post
        .assertion()
        .child("http://www.w3.org/2000/09/xmldsig#", "Signature")
        .is_some());
    // Disabled: no tile, no assertion.
    b.post(
        &format!("{page}/settings"),
        &[
            ("csrf_token", &csrf),
            ("display_name", "CRM"),
            ("nameid_format", "email"),
            ("session_minutes", "60"),
            ("sign_assertion", "1"),
        ],
    );
    assert!(!taro.get("/").body.contains("CRM"));
    assert_eq!(
        taro.get(&format!("/saml/idp-init?sp={}", enc(&sp.entity_id)))
            .status,
        403
    );
}

#[test]
fn invalid_metadata_is_refused_with_the_reason() {
    let (_app, mut b) = admin_app();
    let cases: Vec<(String, &str)> = vec![
        ("this is not xml <".into(), "XMLとして読み取れません"),
        (r#"<!DOCTYPE x [<!ENTITY e "x">]><x>&e;</x>"#.into(), "DOCTYPE を含む"),
        (
            r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>"#.into(),
            "SPSSODescriptor",
        ),
        (
            r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>"#.into(),
            "AssertionConsumerService がありません",
        ),
        (SpFixture::new("bad").metadata(false).replace("<ds:X509Certificate>", "<ds:X509Certificate>AAAA"), "証明書を読み取れません"),
        (
            SpFixture::new("old")
                .metadata(false)
                .replace("cacheDuration=", "validUntil=\"2026-01-01T00:00:00Z\" cacheDuration="),
            "有効期限（validUntil）が切れています",
        ),
    ];
    for (xml, reason) in cases {
        let p = upload(&mut b, &xml);
        assert_eq!(p.status, 422, "{reason}: {}", p.body);
        assert!(p.body.contains(reason), "expected {reason} in {}", p.body);
    }
    let csrf = b.csrf();
    let none = b.post_multipart(
        "/admin/services/preview",
        &[("csrf_token", &csrf), ("url", "")],
        None,
    );
    assert_eq!(none.status, 422);
    let local = b.post_multipart(
        "/admin/services/preview",
        &[("csrf_token", &csrf), ("url", "/etc/passwd")],
        None,
    );
    assert_eq!(local.status, 422, "only http(s) URLs");
    assert!(!local.body.contains("root:"));
    let forged = b.post_multipart(
        "/admin/services/preview",
        &[("csrf_token", "x")],
        Some(("file", "m.xml", b"<x/>")),
    );
    assert_eq!(forged.status, 403);
    assert!(!b.get("/admin/services").body.contains("<code>x</code>"));
}

#[test]
fn expired_certificate_is_warned_about() {
    use openssl::asn1::Asn1Time;
    use openssl::hash::MessageDigest;
    use openssl::pkey::PKey;
    use openssl::rsa::Rsa;
    use openssl::x509::{X509NameBuilder, X509};
    let (_app, mut b) = admin_app();
    let key = PKey::from_rsa(Rsa::generate(2048).expect("rsa")).expect("pkey");
    let mut name = X509NameBuilder::new().expect("n");
    name.append_entry_by_text("CN", "old.example").expect("cn");
    let name = name.build();
    let mut x = X509::builder().expect("b");
    x.set_subject_name(&name).expect("s");
    x.set_issuer_name(&name).expect("i");
    x.set_pubkey(&key).expect("k");
    x.set_not_before(&Asn1Time::from_unix(1_500_000_000).expect("t"))
        .expect("nb");
    x.set_not_after(&Asn1Time::from_unix(1_600_000_000).expect("t"))
        .expect("na");
    x.sign(&key, MessageDigest::sha256()).expect("sign");
    use base64::Engine;
    let der = base64::engine::general_purpose::STANDARD.encode(x.build().to_der().expect("der"));
    let mut sp = SpFixture::new("old");
    sp.cert_b64 = der;
    let p = upload(&mut b, &sp.metadata(false));
    assert_eq!(p.status, 200);
    assert!(p.body.contains("有効期限の切れた証明書があります"));
    assert!(
        p.body.contains("2020/09/13"),
        "expiry shown in Tokyo time: {}",
        p.body
    );
}

#[test]
fn updating_shows_a_diff_and_keeps_settings() {
    let (_app, mut b) = admin_app();
    let sp = SpFixture::new("wiki");
    let page = register(&mut b, &sp.metadata(false), "Wiki");
    let changed = sp
        .metadata(false)
        .replace(&sp.acs[1], "https://wiki.example/new-acs");
    let preview = upload(&mut b, &changed);
    assert!(preview.body.contains("すでに登録されています"));
    let unescaped = html_unescape(&preview.body);
    assert!(
        unescaped.contains(&format!("- ACS: {} [1] HTTP-POST", sp.acs[1])),
        "{unescaped}"
    );
    assert!(unescaped.contains("+ ACS: https://wiki.example/new-acs [1] HTTP-POST"));
    assert_eq!(preview.input("name").as_deref(), Some("Wiki"));
    let csrf = b.csrf();
    let metadata = preview.input("metadata").expect("metadata");
    let saved = b.post(
        "/admin/services/save",
        &[
            ("csrf_token", &csrf),
            ("metadata", &metadata),
            ("name", "Wiki"),
        ],
    );
    assert_eq!(saved.location(), format!("{page}?saved=1"));
    let show = b.get(&page);
    assert!(show.body.contains("https://wiki.example/new-acs"));
    assert!(!show.body.contains(&sp.acs[1]));
}

#[test]
fn registration_by_metadata_url() {
    let (_app, mut b) = admin_app();
    let sp = SpFixture::new("remote");
    let url = serve_once(sp.metadata(false));
    b.get("/admin/services/new");
    let csrf = b.csrf();
    let preview = b.post_multipart(
        "/admin/services/preview",
        &[("csrf_token", &csrf), ("url", &url)],
        None,
    );
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(preview.body.contains(&sp.entity_id));
    assert_eq!(preview.input("metadata_url").as_deref(), Some(url.as_str()));
    let metadata = preview.input("metadata").expect("metadata");
    let saved = b.post(
        "/admin/services/save",
        &[
            ("csrf_token", &csrf),
            ("metadata", &metadata),
            ("metadata_url", &url),
            ("name", "Remote"),
        ],
    );
    let show = b.get(saved.location());
    assert!(show.body.contains(&url));
    let gone = b.post_multipart(
        "/admin/services/preview",
        &[("csrf_token", &csrf), ("url", "http://127.0.0.1:9/none")],
        None,
    );
    assert_eq!(gone.status, 422);
    assert!(gone.body.contains("メタデータを取得できませんでした"));
}

#[test]
fn removing_a_service_needs_its_entity_id() {
    let (app, mut b) = admin_app();
    let sp = SpFixture::new("old");
    let page = register(&mut b, &sp.metadata(false), "Old");
    let csrf = b.csrf();
    b.post(
        &format!("{page}/assign"),
        &[("csrf_token", &csrf), ("username", "taro")],
    );
    let wrong = b.post(
        &format!("{page}/delete"),
        &[("csrf_token", &csrf), ("confirm", "nope")],
    );
    assert!(wrong.body.contains("一致しません"));
    assert_eq!(b.get(&page).status, 200);
    let ok = b.post(
        &format!("{page}/delete"),
        &[("csrf_token", &csrf), ("confirm", &sp.entity_id)],
    );
    assert_eq!(ok.location(), "/admin/services?deleted=1");
    assert_eq!(b.get(&page).status, 404);
    let mut taro = app.browser();
    taro.login("taro");
    assert!(!taro.get("/").body.contains("Old"));
    let req = Req::new("_gone", &sp.entity_id, app.state_now());
    assert!(taro
        .get(&format!("/saml/sso?{}", req.redirect_query()))
        .body
        .contains("SAML-005"));
}

#[test]
fn audit_log_records_filters_and_exports() {
    let (app, mut b) = admin_app();
    let sp = SpFixture::new("wiki");
    let page = register(&mut b, &sp.metadata(false), "Wiki");
    let csrf = b.csrf();
    b.post(
        &format!("{page}/assign"),
        &[("csrf_token", &csrf), ("username", "taro")],
    );
    let mut taro = app.browser();
    assert_eq!(
        taro.login_at("/login", "taro", "wrong-password-123").status,
        401
    );
    taro.login("taro");
    posted(&taro.get(&format!("/saml/idp-init?sp={}", enc(&sp.entity_id))));
    let log = b.get("/admin/audit");
    assert_eq!(log.status, 200);
    for kind in [
        "login.success",
        "login.failure",
        "sso",
        "admin.service.create",
        "admin.service.assign",
    ] {
        assert!(
            log.body.contains(&format!("<td>{kind}</td>")),
            "missing {kind}"
        );
    }
    let only_taro = b.get("/admin/audit?user=taro&kind=login");
    assert!(only_taro.body.contains("login.failure") && only_taro.body.contains("login.success"));
    assert!(
        !only_taro.body.contains("<td>sso</td>")
            && !only_taro.body.contains("admin.service.create")
    );
    let by_service = b.get(&format!(
        "/admin/audit?service={}&kind=sso",
        enc(&sp.entity_id)
    ));
    assert!(by_service.body.contains("<td>sso</td>"));
    let future = b.get("/admin/audit?from=2030-01-01");
    assert!(!future.body.contains("<td>sso</td>"));
    let today = b.get("/admin/audit?from=2026-11-25&to=2026-11-25&kind=sso");
    assert!(today.body.contains("<td>sso</td>"));
    let csv = b.get("/admin/audit.csv?user=taro");
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(csv.body.starts_with('\u{FEFF}'));
    assert!(csv.body.contains("login.failure"));
    assert!(!csv.body.contains(PASSWORD) && !csv.body.contains("wrong-password-123"));
    assert!(!csv.body.contains("SAMLResponse"));
    // The export itself is recorded.
    assert!(b
        .get("/admin/audit")
        .body
        .contains("<td>admin.audit.export</td>"));
}
