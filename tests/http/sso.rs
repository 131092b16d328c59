use chrono::Duration;

use crate::helpers::*;

const EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
const PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
const TRANSIENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";

struct World {
    app: TestApp,
    sp: SpFixture,
}

fn world() -> World {
    let app = TestApp::spawn();
    app.add_user("taro", "taro@example.com", "山田 太郎");
    app.add_user("jiro", "jiro@example.com", "鈴木 次郎");
    let sp = SpFixture::new("wiki");
    app.add_sp(&sp.metadata(false), "社内Wiki", &["taro"]);
    World { app, sp }
}

impl World {
    fn sso_redirect(&self, b: &mut Browser, req: &Req<'_>, relay: Option<&str>) -> Page {
        let mut q = req.redirect_query();
        if let Some(r) = relay {
            q.push_str(&format!("&RelayState={}", enc(r)));
        }
        b.get(&format!("/saml/sso?{q}"))
    }

    fn req<'a>(&'a self, id: &'a str) -> Req<'a> {
        Req::new(id, &self.sp.entity_id, self.app.state_now())
    }
}

#[test]
fn sp_initiated_redirect_without_session_logs_in_and_returns() {
    let w = world();
    let mut b = w.app.browser();
    let p = w.sso_redirect(
        &mut b,
        &w.req("_req1"),
        Some("https://wiki.example/page?x=1&y=2"),
    );
    assert_eq!(p.status, 303);
    let resume = p.location().to_string();
    assert!(resume.starts_with("/saml/resume?t="));
    let to_login = b.get(&resume);
    assert_eq!(to_login.status, 303);
    assert!(to_login
        .location()
        .starts_with("/login?next=%2Fsaml%2Fresume"));
    let r = b.login_at(to_login.location(), "taro", PASSWORD);
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), resume);
    let page = b.get(&resume);
    let post = posted(&page);
    assert_eq!(post.action, w.sp.acs[0]);
    assert_eq!(
        post.relay_state.as_deref(),
        Some("https://wiki.example/page?x=1&y=2")
    );
    assert_eq!(post.status(), vec![SUCCESS.to_string()]);
    let root = &post.root;
    assert_eq!(root.attr("Destination"), Some(w.sp.acs[0].as_str()));
    assert_eq!(root.attr("InResponseTo"), Some("_req1"));
    assert_eq!(
        root.child(A, "Issuer").map(|i| i.text.as_str()),
        Some(w.app.entity_id.as_str())
    );
    let a = post.assertion();
    assert_eq!(
        a.child(A, "Issuer").map(|i| i.text.as_str()),
        Some(w.app.entity_id.as_str())
    );
    assert_eq!(
        post.name_id(),
        (EMAIL.to_string(), "taro@example.com".to_string())
    );
    let scd = post.find("SubjectConfirmationData");
    assert_eq!(scd[0].attr("Recipient"), Some(w.sp.acs[0].as_str()));
    assert_eq!(scd[0].attr("InResponseTo"), Some("_req1"));
    assert_eq!(scd[0].attr("NotOnOrAfter"), Some("2026-11-25T12:05:00Z"));
    let cond = post.find("Conditions");
    assert_eq!(cond[0].attr("NotBefore"), Some("2026-11-25T11:59:00Z"));
    assert_eq!(cond[0].attr("NotOnOrAfter"), Some("2026-11-25T12:05:00Z"));
    assert_eq!(post.find("Audience")[0].text, w.sp.entity_id);
    let authn = post.find("AuthnStatement");
    assert_eq!(authn[0].attr("AuthnInstant"), Some("2026-11-25T12:00:00Z"));
    assert_eq!(
        authn[0].attr("SessionNotOnOrAfter"),
        Some("2026-11-25T20:00:00Z")
    );
    assert!(authn[0]
        .attr("SessionIndex")
        .map(|s| s.len() > 20)
        .unwrap_or(false));
    assert_eq!(
        post.find("AuthnContextClassRef")[0].text,
        "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
    );
    assert_eq!(post.attribute("mail"), vec!["taro@example.com"]);
    assert_eq!(post.attribute("displayName"), vec!["山田 太郎"]);
    assert_eq!(post.attribute("uid"), vec!["taro"]);
    let mut attrs = Vec::new();
    a.descendants(A, "Attribute", &mut attrs);
    let mail = attrs
        .iter()
        .find(|x| x.attr("FriendlyName") == Some("mail"))
        .expect("mail");
    assert_eq!(mail.attr("Name"), Some("urn:oid:0.9.2342.19200300.100.1.3"));
    assert_eq!(
        mail.attr("NameFormat"),
        Some("urn:oasis:names:tc:SAML:2.0:attrname-format:uri")
    );
    // Both the Response and the Assertion carry a signature.
    assert!(root
        .child("http://www.w3.org/2000/09/xmldsig#", "Signature")
        .is_some());
    assert!(a
        .child("http://www.w3.org/2000/09/xmldsig#", "Signature")
        .is_some());
    // The POST page may only submit to the ACS origin, and scripts are external.
    let csp = page.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("form-action https://wiki.example"), "{csp}");
    assert!(page.body.contains("<script src=\"/static/post.js\""));
    assert!(page.body.contains("<button type=\"submit\""));
    // The pending request is single use.
    assert_eq!(b.get(&resume).status, 400);
}

#[test]
fn sp_initiated_with_a_session_answers_at_once_and_profile_changes_show_up() {
    let w = world();
    let mut b = w.app.browser();
    b.login("taro");
    let csrf = b.csrf();
    let edit = b.post(
        "/profile/edit",
        &[
            ("csrf_token", &csrf),
            ("display_name", "山田 太郎"),
            ("phone", "03-1234-5678"),
            ("mobile", "090-1234-5678"),
            ("organization", "○○事業部"),
            ("department", "○○部"),
        ],
    );
    assert_eq!(edit.status, 303);
    let p = w.sso_redirect(&mut b, &w.req("_direct"), None);
    let post = posted(&p);
    assert_eq!(post.relay_state, None);
    assert_eq!(post.attribute("o"), vec!["○○事業部"]);
    assert_eq!(post.attribute("ou"), vec!["○○部"]);
    assert_eq!(post.attribute("telephoneNumber"), vec!["03-1234-5678"]);
    assert_eq!(post.attribute("mobile"), vec!["090-1234-5678"]);
}

#[test]
fn sp_initiated_over_http_post() {
    let w = world();
    let mut b = w.app.browser();
    b.login("taro");
    let xml = w
        .req("_post1")
        .attr(&format!("AssertionConsumerServiceURL=\"{}\"", w.sp.acs[1]))
        .xml();
    let encoded = omakase::saml::binding::encode_post(&xml);
    // A cross-site POST carries no SameSite=Lax cookie: the request is parked
    // and continued with a GET that does.
    let mut no_cookie = Browser::new(&w.app.base);
    let p = no_cookie.post(
        "/saml/sso",
        &[("SAMLRequest", &encoded), ("RelayState", "rs-9")],
    );
    assert_eq!(p.status, 303);
    let resume = p.location().to_string();
    let post = posted(&b.get(&resume));
    assert_eq!(post.action, w.sp.acs[1]);
    assert_eq!(post.relay_state.as_deref(), Some("rs-9"));
    assert_eq!(post.root.attr("InResponseTo"), Some("_post1"));
    // With the cookie, the answer comes at once.
    let xml = w.req("_post2").xml();
    let p = b.post(
        "/saml/sso",
        &[("SAMLRequest", &omakase::saml::binding::encode_post(&xml))],
    );
    assert_eq!(posted(&p).action, w.sp.acs[0]);
}

#[test]
fn request_ids_are_never_accepted_twice() {
    let w = world();
    let mut b = w.app.browser();
    b.login("taro");
    assert_eq!(w.sso_redirect(&mut b, &w.req("_once"), None).status, 200);
    let again = w.sso_redirect(&mut b, &w.req("_once"), None);
    assert_eq!(again.status, 400);
    assert!(again.body.contains("SAML-007"));
    assert!(!again.body.contains("SAMLResponse"));
}

#[test]
fn acs_comes_from_metadata_only() {
    let w = world();
    let mut b = w.app.browser();
    b.login("taro");
    let evil = w
        .req("_evil")
        .attr("AssertionConsumerServiceURL=\"https://evil.example/acs\"");
    let p = w.sso_redirect(&mut b, &evil, None);
    assert_eq!(p.status, 400);
    assert!(p.body.contains("SAML-006"));
    assert!(!p.body.contains("SAMLResponse"));
    assert!(!p.body.contains("evil.example"));
    // A registered URL that differs by a trailing slash is not the same URL.
    let slash = w
        .req("_slash")
        .attr(&format!("AssertionConsumerServiceURL=\"{}/\"", w.sp.acs[0]));
    assert_eq!(w.sso_redirect(&mut b, &slash, None).status, 400);
    // By index.
    let idx = w.req("_idx").attr("AssertionConsumerServiceIndex=\"1\"");
    assert_eq!(
        posted(&w.sso_redirect(&mut b, &idx, None)).action,
        w.sp.acs[1]
    );
    let bad_idx = w.req("_idx9").attr("AssertionConsumerServiceIndex=\"9\"");
    assert_eq!(w.sso_redirect(&mut b, &bad_idx, None).status, 400);
    // The artifact endpoint is not usable for a POST.
    let art = w.req("_art").attr("AssertionConsumerServiceIndex=\"2\"");
    assert_eq!(w.sso_redirect(&mut b, &art, None).status, 400);
    // An unsupported response binding is refused.
    let b2 = w
        .req("_pb")
        .attr("ProtocolBinding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact\"");
    assert!(w.sso_redirect(&mut b, &b2, None).body.contains("SAML-017"));
}

#[test]
fn unknown_issuer_gets_an_error_page_and_no_response() {
    let w = world();
    let mut b = w.app.browser();
    b.login("taro");
    let req = Req::new("_x", "https://stranger.example/sp", w.app.state_now());
    let p = w.sso_redirect(&mut b, &req, None);
    assert_eq!(p.status, 400);
    assert!(p.body.contains("SAML-005"));
    assert!(p.body.contains("このサービスは登録されていません"));
    assert!(!p.body.contains("SAMLResponse"));
}

#[test]
fn unassigned_user_gets_request_denied_and_no_assertion() {
    let w = world();
    let mut b = w.app.browser();
    b.login("jiro");
    let post = posted(&w.sso_redirect(&mut b, &w.req("_deny"), Some("keep")));
    assert_eq!(
        post.status(),
        vec![
            "urn:oasis:names:tc:SAML:2.0:status:Responder".to_string(),
            "urn:oasis:names:tc:SAML:2.0:status:RequestDenied".to_string()
        ]
    );
    assert!(!post.has_assertion());
    assert_eq!(post.root.attr("InResponseTo"), Some("_deny"));
    assert_eq!(post.relay_state.as_deref(), Some("keep"));
    assert!(!post.xml.contains("jiro"));
}

#[test]
fn is_passive_without_session_answers_no_passive() {
    let w = world();
    let mut b = w.app.browser();
    let post = posted(&w.sso_redirect(&mut b, &w.req("_passive").attr("IsPassive=\"true\""), None));
    assert!(post.status().iter().any(|s| s.ends_with(":NoPassive")));
    assert!(!post.has_assertion());
}

#[test]
fn force_authn_asks_for_the_password_again() {
    let w = world();
    let mut b = w.app.browser();
    b.login("taro");
    w.app.clock.advance(Duration::minutes(5));
    let p = w.sso_redirect(&mut b, &w.req("_force").attr("ForceAuthn=\"1\""), None);
    assert_eq!(p.status, 303);
    let resume = p.location().to_string();
    let login = b.get(&resume);
    assert_eq!(login.status, 303);
    assert!(login.location().starts_with("/login?reauth=1&next="));
    let form = b.get(login.location());
    assert!(form.body.contains("もう一度ログインしてください"));
    let r = b.login_at(login.location(), "taro", PASSWORD);
    assert_eq!(r.location(), resume);
    let post = posted(&b.get(&resume));
    assert_eq!(
        post.find("AuthnStatement")[0].attr("AuthnInstant"),
        Some("2026-11-25T12:05:00Z")
    );
}

#[test]
fn nameid_formats_per_service() {
    let w = world();
    let other = SpFixture::new("crm");
    w.app.add_sp(&other.metadata(false), "CRM", &["taro"]);
    w.app.set_nameid(&w.sp.entity_id, "persistent");
    w.app.set_nameid(&other.entity_id, "persistent");
    let mut b = w.app.browser();
    b.login("taro");
    let first = posted(&w.sso_redirect(&mut b, &w.req("_p1"), None)).name_id();
    let second = posted(&w.sso_redirect(&mut b, &w.req("_p2"), None)).name_id();
    assert_eq!(first.0, PERSISTENT);
    assert_eq!(first, second, "persistent IDs are stable");
    assert!(!first.1.contains("taro"));
    let crm = posted(&b.get(&format!("/saml/idp-init?sp={}", enc(&other.entity_id)))).name_id();
    assert_eq!(crm.0, PERSISTENT);
    assert_ne!(crm.1, first.1, "persistent IDs differ per service");
    w.app.set_nameid(&w.sp.entity_id, "transient");
    let t1 = posted(&w.sso_redirect(&mut b, &w.req("_t1"), None)).name_id();
    let t2 = posted(&w.sso_redirect(&mut b, &w.req("_t2"), None)).name_id();
    assert_eq!(t1.0, TRANSIENT);
    assert_ne!(t1.1, t2.1);
    w.app.set_nameid(&w.sp.entity_id, "unspecified");
    let u = posted(&w.sso_redirect(&mut b, &w.req("_u1"), None)).name_id();
    assert_eq!(
        u,
        (
            "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified".to_string(),
            "taro".to_string()
        )
    );
}

#[test]
fn nameid_policy_allow_create_and_formats() {
    let w = world();
    let mut b = w.app.browser();
    b.login("taro");
    for (id, v) in [("_ac1", "1"), ("_ac2", "true")] {
        let r = w.req(id).body(&format!(
            "<samlp:NameIDPolicy Format=\"{EMAIL}\" AllowCreate=\"{v}\"/>"
        ));
        assert_eq!(
            posted(&w.sso_redirect(&mut b, &r, None)).status(),
            vec![SUCCESS.to_string()]
        );
    }
    // Persistent is listed in the SP's metadata, so it may be asked for.
    let r = w.req("_ac3").body(&format!(
        "<samlp:NameIDPolicy Format=\"{PERSISTENT}\" AllowCreate=\"true\"/>"
    ));
    assert_eq!(
        posted(&w.sso_redirect(&mut b, &r, None)).name_id().0,
        PERSISTENT
    );
    // Transient is not: InvalidNameIDPolicy, no assertion.
    let r = w
        .req("_ac4")
        .body(&format!("<samlp:NameIDPolicy Format=\"{TRANSIENT}\"/>"));
    let post = posted(&w.sso_redirect(&mut b, &r, None));
    assert!(post
        .status()
        .iter()
        .any(|s| s.ends_with(":InvalidNameIDPolicy")));
    assert!(!post.has_assertion());
}

#[test]
fn requested_authn_context() {
    let w = world();
    let mut b = w.app.browser();
    b.login("taro");
    let ppt = w.req("_rac1").body(
        "<samlp:RequestedAuthnContext Comparison=\"exact\"><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>",
    );
    assert_eq!(
        posted(&w.sso_redirect(&mut b, &ppt, None)).status(),
        vec![SUCCESS.to_string()]
    );
    let kerberos = w.req("_rac2").body(
        "<samlp:RequestedAuthnContext Comparison=\"exact\"><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Kerberos</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>",
    );
    let post = posted(&w.sso_redirect(&mut b, &kerberos, None));
    assert!(post.status().iter().any(|s| s.ends_with(":NoAuthnContext")));
    assert!(!post.has_assertion());
    // A class that a second factor meets leads to the step-up instead.
    let mfa = w.req("_rac3").body(
        "<samlp:RequestedAuthnContext Comparison=\"exact\"><saml:AuthnContextClassRef>https://refeds.org/profile/mfa</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>",
    );
    let parked = w.sso_redirect(&mut b, &mfa, None);
    assert_eq!(parked.status, 303);
    let step_up = b.get(parked.location());
    assert!(step_up.location().starts_with("/mfa?next=%2Fsaml%2Fresume"));
}

#[test]
fn issue_instant_and_destination_are_checked() {
    let w = world();
    let mut b = w.app.browser();
    b.login("taro");
    let old = Req::new(
        "_old",
        &w.sp.entity_id,
        w.app.state_now() - Duration::minutes(20),
    );
    let p = w.sso_redirect(&mut b, &old, None);
    assert_eq!(p.status, 400);
    assert!(p.body.contains("SAML-008"));
    let future = Req::new(
        "_future",
        &w.sp.entity_id,
        w.app.state_now() + Duration::minutes(10),
    );
    assert!(w
        .sso_redirect(&mut b, &future, None)
        .body
        .contains("SAML-008"));
    let skewed = Req::new(
        "_skew",
        &w.sp.entity_id,
        w.app.state_now() + Duration::seconds(90),
    );
    assert_eq!(w.sso_redirect(&mut b, &skewed, None).status, 200);
    let dest = w
        .req("_dest")
        .attr("Destination=\"https://other-idp.example/sso\"");
    assert!(w
        .sso_redirect(&mut b, &dest, None)
        .body
        .contains("SAML-009"));
    let good = w
        .req("_dest2")
        .attr(&format!("Destination=\"{}/saml/sso\"", w.app.base));
    assert_eq!(w.sso_redirect(&mut b, &good, None).status, 200);
}

#[test]
fn signed_redirect_requests_are_verified() {
    let app = TestApp::spawn();
    app.add_user("taro", "taro@example.com", "山田 太郎");
    let sp = SpFixture::new("signer");
    app.add_sp(&sp.metadata(true), "Signed SP", &["taro"]);
    let mut b = app.browser();
    b.login("taro");
    let req = Req::new("_s1", &sp.entity_id, app.state_now());
    let query = format!("{}&RelayState=abc", req.redirect_query());
    let signed = sp.sign_query(&query);
    assert_eq!(b.get(&format!("/saml/sso?{signed}")).status, 200);
    // Tampered RelayState: refused.
    let req2 = Req::new("_s2", &sp.entity_id, app.state_now());
    let tampered = sp
        .sign_query(&format!("{}&RelayState=abc", req2.redirect_query()))
        .replace("RelayState=abc", "RelayState=abd");
    let p = b.get(&format!("/saml/sso?{tampered}"));
    assert_eq!(p.status, 400);
    assert!(p.body.contains("SAML-010"));
    // Unsigned, though the metadata says it signs: refused.
    let req3 = Req::new("_s3", &sp.entity_id, app.state_now());
    assert!(b
        .get(&format!("/saml/sso?{}", req3.redirect_query()))
        .body
        .contains("SAML-010"));
    // Signed by another key: refused.
    let other = SpFixture::new("other");
    let req4 = Req::new("_s4", &sp.entity_id, app.state_now());
    assert!(b
        .get(&format!(
            "/saml/sso?{}",
            other.sign_query(&req4.redirect_query())
        ))
        .body
        .contains("SAML-010"));
}

#[test]
fn markup_typed_by_a_person_stays_text_in_the_assertion() {
    let w = world();
    let mut b = w.app.browser();
    b.login("taro");
    let evil = r#"x</saml:AttributeValue></saml:Attribute><saml:Attribute Name="role"><saml:AttributeValue>admin"#;
    let csrf = b.csrf();
    let r = b.post(
        "/profile/edit",
        &[
            ("csrf_token", &csrf),
            ("display_name", evil),
            ("organization", "A & B <Co>"),
        ],
    );
    assert_eq!(r.status, 303);
    let post = posted(&w.sso_redirect(&mut b, &w.req("_inj"), None));
    assert_eq!(post.attribute("displayName"), vec![evil.to_string()]);
    assert_eq!(post.attribute("o"), vec!["A & B <Co>".to_string()]);
    let mut attrs = Vec::new();
    post.assertion().descendants(A, "Attribute", &mut attrs);
    assert!(attrs.iter().all(|a| a.attr("Name") != Some("role")));
    assert_eq!(post.attribute_count(), 4);
    if let Some((ok, out)) = xmlsec_verify(
        &post.xml,
        &w.app.cert_pem,
        "//*[local-name()='Assertion']/*[local-name()='Signature']",
    ) {
        assert!(ok, "assertion signature: {out}");
    }
    if let Some((ok, out)) =
        xmlsec_verify(&post.xml, &w.app.cert_pem, "/*/*[local-name()='Signature']")
    {
        assert!(ok, "response signature: {out}");
    }
}

#[test]
fn disabled_service_gets_no_assertion() {
    let w = world();
    w.app.sql("UPDATE services SET enabled = FALSE");
    let mut b = w.app.browser();
    b.login("taro");
    let p = w.sso_redirect(&mut b, &w.req("_off"), None);
    assert_eq!(p.status, 403);
    assert!(p.body.contains("SAML-011"));
    assert!(!b.get("/").body.contains("社内Wiki"));
}
