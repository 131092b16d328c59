//! What an admin sees of a service's metadata: the endpoints, certificates,
//! formats and attributes in our terms, and what an update would change.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::{DateTime, Utc};
use openssl::asn1::Asn1Time;
use openssl::x509::X509;
use serde::Serialize;

use crate::saml::sp_metadata::{select_acs, SpMetadata};

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct AcsView {
    pub binding: String,
    pub location: String,
    pub index: i32,
    pub is_default: bool,
    pub usable: bool,
}

#[derive(Debug, Serialize)]
pub struct CertView {
    pub usage: &'static str,
    pub subject: String,
    pub not_after: String,
    pub expired: bool,
    pub sha256: String,
}

#[derive(Debug, Serialize)]
pub struct Understood {
    pub entity_id: String,
    pub suggested_name: Option<String>,
    pub acs: Vec<AcsView>,
    pub certs: Vec<CertView>,
    pub any_expired: bool,
    pub name_id_formats: Vec<String>,
    pub requested_attributes: Vec<String>,
    pub authn_requests_signed: bool,
    pub want_assertions_signed: bool,
    pub valid_until: Option<String>,
    pub cache_duration: Option<String>,
}

fn short_binding(b: &str) -> String {
    b.rsplit(':').next().unwrap_or(b).to_string()
}

fn cert_view(
    usage: &'static str,
    b64: &str,
    now: DateTime<Utc>,
    fmt: &dyn Fn(DateTime<Utc>) -> String,
) -> Option<CertView> {
    let der = B64.decode(b64).ok()?;
    let cert = X509::from_der(&der).ok()?;
    let subject = cert
        .subject_name()
        .entries()
        .filter_map(|e| {
            let key = e.object().nid().short_name().ok()?;
            let val = e.data().to_string().ok()?;
            Some(format!("{key}={val}"))
        })
        .collect::<Vec<_>>()
        .join(", ");
    let epoch = Asn1Time::from_unix(0).ok()?;
    let diff = epoch.diff(cert.not_after()).ok()?;
    let secs = i64::from(diff.days) * 86_400 + i64::from(diff.secs);
    let not_after = DateTime::from_timestamp(secs, 0)?;
    let digest = openssl::hash::hash(openssl::hash::MessageDigest::sha256(), &der).ok()?;
    Some(CertView {
        usage,
        subject,
        not_after: fmt(not_after),
        expired: not_after <= now,
        sha256: hex::encode(digest),
    })
}

/// The metadata in our terms. `fmt` formats dates for the person.
pub fn understood(
    m: &SpMetadata,
    now: DateTime<Utc>,
    fmt: &dyn Fn(DateTime<Utc>) -> String,
) -> Understood {
    let default = select_acs(&m.acs, None, None);
    let acs = m
        .acs
        .iter()
        .map(|a| AcsView {
            binding: short_binding(&a.binding),
            location: a.location.clone(),
            index: a.index,
            is_default: default == Some(a),
            usable: a.binding == crate::saml::BINDING_POST,
        })
        .collect();
    let mut certs: Vec<CertView> = Vec::new();
    for c in &m.signing_certs {
        certs.extend(cert_view("signing", c, now, fmt));
    }
    for c in &m.encryption_certs {
        certs.extend(cert_view("encryption", c, now, fmt));
    }
    Understood {
        entity_id: m.entity_id.clone(),
        suggested_name: m.display_name.clone(),
        acs,
        any_expired: certs.iter().any(|c| c.expired),
        certs,
        name_id_formats: m.name_id_formats.clone(),
        requested_attributes: m
            .requested_attributes
            .iter()
            .map(|r| {
                let name = r.friendly_name.clone().unwrap_or_else(|| r.name.clone());
                if r.required {
                    format!("{name} *")
                } else {
                    name
                }
            })
            .collect(),
        authn_requests_signed: m.authn_requests_signed,
        want_assertions_signed: m.want_assertions_signed,
        valid_until: m.valid_until.clone(),
        cache_duration: m.cache_duration.clone(),
    }
}

/// One line of a diff: "+" added, "-" removed.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Change {
    pub sign: &'static str,
    pub what: String,
}

fn set_diff(out: &mut Vec<Change>, label: &str, old: &[String], new: &[String]) {
    for o in old.iter().filter(|o| !new.contains(o)) {
        out.push(Change {
            sign: "-",
            what: format!("{label}: {o}"),
        });
    }
    for n in new.iter().filter(|n| !old.contains(n)) {
        out.push(Change {
            sign: "+",
            what: format!("{label}: {n}"),
        });
    }
}

/// What replacing `old` metadata by `new` changes, for the admin to confirm.
pub fn diff(old: &SpMetadata, new: &SpMetadata) -> Vec<Change> {
    let acs = |m: &SpMetadata| -> Vec<String> {
        m.acs
            .iter()
            .map(|a| format!("{} [{}] {}", a.location, a.index, short_binding(&a.binding)))
            .collect()
    };
    let fp = |certs: &[String]| -> Vec<String> {
        certs
            .iter()
            .filter_map(|c| B64.decode(c).ok())
            .filter_map(|der| {
                openssl::hash::hash(openssl::hash::MessageDigest::sha256(), &der).ok()
            })
            .map(|d| hex::encode(d)[..16].to_string())
            .collect()
    };
    let mut out = Vec::new();
    set_diff(&mut out, "ACS", &acs(old), &acs(new));
    set_diff(
        &mut out,
        "signing certificate",
        &fp(&old.signing_certs),
        &fp(&new.signing_certs),
    );
    set_diff(
        &mut out,
        "encryption certificate",
        &fp(&old.encryption_certs),
        &fp(&new.encryption_certs),
    );
    set_diff(
        &mut out,
        "NameIDFormat",
        &old.name_id_formats,
        &new.name_id_formats,
    );
    if old.authn_requests_signed != new.authn_requests_signed {
        set_diff(
            &mut out,
            "AuthnRequestsSigned",
            &[old.authn_requests_signed.to_string()],
            &[new.authn_requests_signed.to_string()],
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp/x"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp/acs" index="0"/></md:SPSSODescriptor></md:EntityDescriptor>"#;

    #[test]
    fn diff_lists_added_and_removed_endpoints() {
        let old = SpMetadata::parse(A).expect("a");
        let new = SpMetadata::parse(&A.replace("https://sp/acs", "https://sp/acs2")).expect("b");
        let d = diff(&old, &new);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].sign, "-");
        assert!(d[0].what.contains("https://sp/acs [0]"));
        assert_eq!(d[1].sign, "+");
        assert!(diff(&old, &old).is_empty());
    }

    #[test]
    fn understood_marks_default_and_expired() {
        let m = SpMetadata::parse(A).expect("a");
        let u = understood(&m, Utc::now(), &|t| t.to_rfc3339());
        assert_eq!(u.acs.len(), 1);
        assert!(u.acs[0].is_default && u.acs[0].usable);
        assert!(!u.any_expired);
    }
}
