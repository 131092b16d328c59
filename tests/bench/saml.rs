//! Throughput of the SSO hot path's CPU work: building and signing a
//! response, and decoding + parsing an HTTP-Redirect AuthnRequest.
//! Run with scripts/bench.sh.

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use omakase::saml::authn_request::AuthnRequest;
use omakase::saml::binding;
use omakase::saml::nameid::NameIdFormat;
use omakase::saml::response::{self, Assertion, Attribute, ATTRNAME_FORMAT_URI};
use omakase::saml::sign::SigningKey;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors");

fn bench(c: &mut Criterion) {
    let key = SigningKey::from_pem(
        &std::fs::read(format!("{DIR}/idp-key.pem")).expect("key"),
        &std::fs::read(format!("{DIR}/idp-cert.pem")).expect("cert"),
    )
    .expect("signing key");
    let now = Utc
        .with_ymd_and_hms(2026, 11, 25, 12, 0, 0)
        .single()
        .expect("time");
    let attrs: Vec<Attribute> = [
        ("mail", "taro@example.com"),
        ("displayName", "山田 太郎"),
        ("o", "○○事業部"),
    ]
    .iter()
    .map(|(n, v)| Attribute {
        name: format!("urn:oid:{n}"),
        friendly_name: n.to_string(),
        name_format: ATTRNAME_FORMAT_URI.into(),
        values: vec![v.to_string()],
    })
    .collect();
    let make = |sign_response: bool| {
        response::success(
            &Assertion {
                response_id: response::new_id(),
                assertion_id: response::new_id(),
                idp_entity_id: "https://idp.example.com/saml/metadata",
                sp_entity_id: "https://sp.example.org/shibboleth",
                acs_url: "https://sp.example.org/Shibboleth.sso/SAML2/POST",
                in_response_to: Some("_request"),
                now,
                name_id: "taro@example.com",
                name_id_format: NameIdFormat::Email,
                session_index: "_session",
                authn_instant: now,
                session_not_on_or_after: now + chrono::Duration::hours(8),
                authn_context_class: omakase::saml::AC_PASSWORD_PROTECTED,
                attributes: &attrs,
                sign_assertion: true,
                sign_response,
            },
            &key,
        )
        .expect("response")
    };
    c.bench_function("response: assertion and response signed", |b| {
        b.iter(|| make(true))
    });
    c.bench_function("response: assertion signed", |b| b.iter(|| make(false)));
    let xml = r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_0123456789abcdef" Version="2.0" IssueInstant="2026-11-25T12:00:00Z" Destination="https://idp.example.com/saml/sso" AssertionConsumerServiceURL="https://sp.example.org/Shibboleth.sso/SAML2/POST" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"><saml:Issuer>https://sp.example.org/shibboleth</saml:Issuer><samlp:NameIDPolicy AllowCreate="1"/></samlp:AuthnRequest>"#;
    let encoded = binding::encode_redirect(xml);
    c.bench_function("request: inflate and parse AuthnRequest", |b| {
        b.iter(|| {
            AuthnRequest::parse(&binding::decode_redirect(&encoded).expect("decode"))
                .expect("parse")
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
