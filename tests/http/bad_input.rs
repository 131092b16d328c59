use std::time::Instant;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use crate::helpers::*;

fn assert_error_page(p: &Page, status: u16, code: &str) {
    assert_eq!(p.status, status, "{}", p.body);
    assert!(p.body.contains(code), "expected {code} in {}", p.body);
    assert!(p.body.contains("<html lang=\"ja\">"), "a readable page");
    assert!(!p.body.contains("SAMLResponse"));
}

#[test]
fn every_bad_request_gets_a_page_and_the_server_keeps_serving() {
    let app = TestApp::spawn();
    let sp = SpFixture::new("wiki");
    app.add_sp(&sp.metadata(false), "Wiki", &[]);
    let mut b = app.browser();
    assert_error_page(&b.get("/saml/sso"), 400, "SAML-013");
    assert_error_page(&b.get("/saml/sso?SAMLRequest=%%%%"), 400, "SAML-001");
    assert_error_page(&b.get("/saml/sso?SAMLRequest=not*base64!"), 400, "SAML-001");
    let garbage = enc(&B64.encode(b"\xff\xfe\xfd\xfc not deflate"));
    assert_error_page(
        &b.get(&format!("/saml/sso?SAMLRequest={garbage}")),
        400,
        "SAML-001",
    );
    let doctype = r#"<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&x;</samlp:AuthnRequest>"#;
    let q = enc(&omakase::saml::binding::encode_redirect(doctype));
    let p = b.get(&format!("/saml/sso?SAMLRequest={q}"));
    assert_error_page(&p, 400, "SAML-003");
    assert!(!p.body.contains("root:"));
    let broken = enc(&omakase::saml::binding::encode_redirect(
        "<samlp:AuthnRequest xmlns:samlp=\"x\"><unclosed>",
    ));
    assert_error_page(
        &b.get(&format!("/saml/sso?SAMLRequest={broken}")),
        400,
        "SAML-003",
    );
    let wrong = enc(&omakase::saml::binding::encode_redirect("<x/>"));
    assert_error_page(
        &b.get(&format!("/saml/sso?SAMLRequest={wrong}")),
        400,
        "SAML-004",
    );
    let post_doctype = omakase::saml::binding::encode_post(doctype);
    assert_error_page(
        &b.post("/saml/sso", &[("SAMLRequest", &post_doctype)]),
        400,
        "SAML-003",
    );
    assert_error_page(
        &b.post("/saml/sso", &[("RelayState", "x")]),
        400,
        "SAML-013",
    );
    let long_rs = "r".repeat(2000);
    let req = Req::new("_rs", &sp.entity_id, app.state_now());
    assert_error_page(
        &b.get(&format!(
            "/saml/sso?{}&RelayState={long_rs}",
            req.redirect_query()
        )),
        400,
        "SAML-014",
    );
    assert_error_page(&b.get("/saml/resume?t=unknown"), 400, "SAML-015");
    assert_error_page(&b.get("/no/such/page"), 404, "HTTP-404");
    assert_eq!(b.get("/healthz").status, 200);
}

#[test]
fn a_deflate_bomb_is_refused_quickly() {
    let app = TestApp::spawn();
    let mut b = app.browser();
    let bomb = omakase::saml::binding::encode_redirect(&"A".repeat(40 * 1024 * 1024));
    let q = enc(&bomb);
    let started = Instant::now();
    let p = b.get(&format!("/saml/sso?SAMLRequest={q}"));
    assert_eq!(p.status, 400);
    assert!(p.body.contains("SAML-002"));
    // Generous bound: inflation stops at 128 KiB instead of 40 MiB.
    assert!(started.elapsed().as_secs() < 5);
    assert_eq!(b.get("/healthz").status, 200);
}

#[test]
fn oversized_post_is_refused_and_the_server_keeps_serving() {
    let app = TestApp::spawn();
    let mut b = app.browser();
    let body = format!("SAMLRequest={}", "A".repeat(600 * 1024));
    let p = b.post_raw("/saml/sso", &body);
    assert!(p.status == 413 || p.status == 400, "status {}", p.status);
    assert!(p.body.contains("HTTP-4"));
    assert_eq!(b.get("/healthz").status, 200);
}
