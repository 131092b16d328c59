//! Golden files: the exact bytes of a signed response for fixed inputs,
//! and the real SP metadata in metadata/.

use chrono::{TimeZone, Utc};
use omakase::saml::nameid::NameIdFormat;
use omakase::saml::response::{self, Assertion, Attribute, ATTRNAME_FORMAT_URI};
use omakase::saml::sign::SigningKey;
use omakase::saml::sp_metadata::{select_acs, SpMetadata};
use omakase::saml::BINDING_POST;

use crate::helpers::xmlsec_verify;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors");

fn fixed_response() -> String {
    let key = SigningKey::from_pem(
        &std::fs::read(format!("{DIR}/idp-key.pem")).expect("key"),
        &std::fs::read(format!("{DIR}/idp-cert.pem")).expect("cert"),
    )
    .expect("signing key");
    let now = Utc
        .with_ymd_and_hms(2024, 2, 22, 5, 31, 45)
        .single()
        .expect("time");
    let attrs = vec![
        Attribute {
            name: "urn:oid:0.9.2342.19200300.100.1.3".into(),
            friendly_name: "mail".into(),
            name_format: ATTRNAME_FORMAT_URI.into(),
            values: vec!["taro@example.com".into()],
        },
        Attribute {
            name: "urn:oid:2.16.840.1.113730.3.1.241".into(),
            friendly_name: "displayName".into(),
            name_format: ATTRNAME_FORMAT_URI.into(),
            values: vec!["山田 \"太郎\" <&> x</saml:AttributeValue>".into()],
        },
    ];
    response::success(
        &Assertion {
            response_id: "_response0001".into(),
            assertion_id: "_assertion0001".into(),
            idp_entity_id: "https://idp.test/saml/metadata",
            sp_entity_id: "https://sp.example.org/shibboleth",
            acs_url: "https://sp.example.org/Shibboleth.sso/SAML2/POST",
            in_response_to: Some("_request0001"),
            now,
            name_id: "taro@example.com",
            name_id_format: NameIdFormat::Email,
            session_index: "_session0001",
            authn_instant: now,
            session_not_on_or_after: now + chrono::Duration::hours(8),
            authn_context_class: omakase::saml::AC_PASSWORD_PROTECTED,
            attributes: &attrs,
            sign_assertion: true,
            sign_response: true,
        },
        &key,
    )
    .expect("response")
}

#[test]
fn signed_response_matches_the_golden_file() {
    let xml = fixed_response();
    let golden = format!("{DIR}/response-signed.xml");
    if std::env::var("OMAKASE_UPDATE_GOLDEN").is_ok() {
        std::fs::write(&golden, &xml).expect("write golden");
    }
    let expected = std::fs::read_to_string(&golden).expect("golden file");
    assert_eq!(
        xml, expected,
        "the signed response changed; if intended, regenerate with OMAKASE_UPDATE_GOLDEN=1"
    );
    let cert = std::fs::read_to_string(format!("{DIR}/idp-cert.pem")).expect("cert");
    for node in [
        "//*[local-name()='Assertion']/*[local-name()='Signature']",
        "/*/*[local-name()='Signature']",
    ] {
        if let Some((ok, out)) = xmlsec_verify(&expected, &cert, node) {
            assert!(ok, "{node}: {out}");
        }
    }
}

fn fixture(name: &str) -> SpMetadata {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/metadata/").to_string() + name;
    SpMetadata::parse(&std::fs::read_to_string(path).expect("fixture")).expect("parses")
}

#[test]
fn shibboleth_sp3_metadata() {
    let m = fixture("shibboleth-sp3.xml");
    assert_eq!(m.entity_id, "https://sp.example.org/shibboleth");
    assert_eq!(m.acs.len(), 4);
    assert_eq!(m.signing_certs.len(), 1);
    assert_eq!(m.encryption_certs.len(), 1);
    let acs = select_acs(&m.acs, None, None).expect("default ACS");
    assert_eq!(acs.binding, BINDING_POST);
    assert_eq!(
        acs.location,
        "https://sp.example.org/Shibboleth.sso/SAML2/POST"
    );
    // Only the HTTP-POST endpoint is usable, by URL or by index.
    assert!(select_acs(
        &m.acs,
        Some("https://sp.example.org/Shibboleth.sso/SAML2/Artifact"),
        None
    )
    .is_none());
    assert!(select_acs(&m.acs, None, Some(1)).is_some());
    assert!(select_acs(&m.acs, None, Some(4)).is_none());
}

#[test]
fn pysaml2_metadata() {
    let m = fixture("pysaml2-sp.xml");
    assert_eq!(m.entity_id, "https://app.example.org/saml2/metadata");
    assert_eq!(m.acs.len(), 1);
    assert_eq!(m.acs[0].location, "https://app.example.org/saml2/acs/");
    assert_eq!(m.signing_certs.len(), 1);
    assert!(m
        .name_id_formats
        .iter()
        .any(|f| f.ends_with(":emailAddress")));
}
