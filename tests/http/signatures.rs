//! Independent verification of our signatures with xmlsec1.

use crate::helpers::*;

#[test]
fn xmlsec1_verifies_both_signatures_and_rejects_tampering() {
    let app = TestApp::spawn();
    app.add_user("taro", "taro@example.com", "山田 太郎");
    let sp = SpFixture::new("wiki");
    app.add_sp(&sp.metadata(false), "Wiki", &["taro"]);
    let mut b = app.browser();
    b.login("taro");
    let post = posted(&b.get(&format!("/saml/idp-init?sp={}", enc(&sp.entity_id))));
    let assertion_sig = "//*[local-name()='Assertion']/*[local-name()='Signature']";
    let response_sig = "/*/*[local-name()='Signature']";
    let Some((ok, out)) = xmlsec_verify(&post.xml, &app.cert_pem, assertion_sig) else {
        return;
    };
    assert!(ok, "assertion signature: {out}");
    let (ok, out) = xmlsec_verify(&post.xml, &app.cert_pem, response_sig).expect("xmlsec1");
    assert!(ok, "response signature: {out}");
    let tampered = post.xml.replace("taro@example.com", "admin@example.com");
    let (ok, _) = xmlsec_verify(&tampered, &app.cert_pem, assertion_sig).expect("xmlsec1");
    assert!(!ok, "a changed assertion must not verify");
    let (ok, _) = xmlsec_verify(&tampered, &app.cert_pem, response_sig).expect("xmlsec1");
    assert!(!ok, "a changed response must not verify");
    // Another key does not verify it either.
    let (_, other) = omakase::saml::keygen::generate_key_pair("other").expect("kg");
    let (ok, _) = xmlsec_verify(&post.xml, &other, assertion_sig).expect("xmlsec1");
    assert!(!ok);
}

#[test]
fn metadata_is_served_with_the_signing_certificate() {
    let app = TestApp::spawn();
    let mut b = app.browser();
    let p = b.get("/saml/metadata");
    assert_eq!(p.status, 200);
    assert_eq!(
        p.header("content-type"),
        Some("application/samlmetadata+xml")
    );
    let root = omakase::saml::xml_read::parse(&p.body).expect("xml");
    assert_eq!(root.attr("entityID"), Some(app.entity_id.as_str()));
    let pem_body: String = app
        .cert_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert!(p.body.contains(&pem_body));
    assert!(p
        .body
        .contains(&format!("Location=\"{}/saml/sso\"", app.base)));
}
