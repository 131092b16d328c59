//! Parsing and checking of `samlp:AuthnRequest`.

use chrono::{DateTime, Duration, Utc};

use super::xml::{SAML, SAMLP};
use super::xml_read::{self, XNode};
use super::SamlError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameIdPolicy {
    pub format: Option<String>,
    pub allow_create: bool,
    pub sp_name_qualifier: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedAuthnContext {
    pub comparison: String,
    pub class_refs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthnRequest {
    pub id: String,
    pub issuer: String,
    pub issue_instant: DateTime<Utc>,
    pub destination: Option<String>,
    pub acs_url: Option<String>,
    pub acs_index: Option<u16>,
    pub protocol_binding: Option<String>,
    pub force_authn: bool,
    pub is_passive: bool,
    pub name_id_policy: Option<NameIdPolicy>,
    pub requested_authn_context: Option<RequestedAuthnContext>,
    /// Whether the document carries an enveloped signature.
    pub has_signature: bool,
}

/// Longest request ID we store for replay detection.
const MAX_ID_LEN: usize = 256;

fn xs_bool(v: Option<&str>, field: &'static str) -> Result<bool, SamlError> {
    match v.map(str::trim) {
        None => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some("false") | Some("0") => Ok(false),
        Some(_) => Err(SamlError::Invalid(field)),
    }
}

fn non_empty(v: Option<&str>) -> Option<String> {
    v.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

pub fn parse_instant(v: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(v.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

impl AuthnRequest {
    pub fn parse(xml: &str) -> Result<Self, SamlError> {
        let root = xml_read::parse(xml)?;
        Self::from_node(&root)
    }

    fn from_node(root: &XNode) -> Result<Self, SamlError> {
        if !root.is(SAMLP.uri, "AuthnRequest") {
            return Err(SamlError::Unexpected(format!(
                "{{{}}}{} is not an AuthnRequest",
                root.ns, root.local
            )));
        }
        if root.attr("Version") != Some("2.0") {
            return Err(SamlError::Invalid("Version"));
        }
        let id = non_empty(root.attr("ID")).ok_or(SamlError::Missing("ID"))?;
        if id.len() > MAX_ID_LEN || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(SamlError::Invalid("ID"));
        }
        let issue_instant = root
            .attr("IssueInstant")
            .ok_or(SamlError::Missing("IssueInstant"))
            .and_then(|v| parse_instant(v).ok_or(SamlError::Invalid("IssueInstant")))?;
        let issuer = root
            .child(SAML.uri, "Issuer")
            .map(|n| n.trimmed_text().to_string())
            .filter(|s| !s.is_empty())
            .ok_or(SamlError::Missing("Issuer"))?;
        let acs_index = match root.attr("AssertionConsumerServiceIndex") {
            Some(v) => Some(
                v.trim()
                    .parse::<u16>()
                    .map_err(|_| SamlError::Invalid("AssertionConsumerServiceIndex"))?,
            ),
            None => None,
        };
        let name_id_policy = match root.child(SAMLP.uri, "NameIDPolicy") {
            Some(p) => Some(NameIdPolicy {
                format: non_empty(p.attr("Format")),
                allow_create: xs_bool(p.attr("AllowCreate"), "AllowCreate")?,
                sp_name_qualifier: non_empty(p.attr("SPNameQualifier")),
            }),
            None => None,
        };
        let requested_authn_context =
            root.child(SAMLP.uri, "RequestedAuthnContext")
                .map(|r| RequestedAuthnContext {
                    comparison: non_empty(r.attr("Comparison")).unwrap_or_else(|| "exact".into()),
                    class_refs: r
                        .children_named(SAML.uri, "AuthnContextClassRef")
                        .map(|c| c.trimmed_text().to_string())
                        .collect(),
                });
        Ok(AuthnRequest {
            id,
            issuer,
            issue_instant,
            destination: non_empty(root.attr("Destination")),
            acs_url: non_empty(root.attr("AssertionConsumerServiceURL")),
            acs_index,
            protocol_binding: non_empty(root.attr("ProtocolBinding")),
            force_authn: xs_bool(root.attr("ForceAuthn"), "ForceAuthn")?,
            is_passive: xs_bool(root.attr("IsPassive"), "IsPassive")?,
            name_id_policy,
            requested_authn_context,
            has_signature: root
                .child("http://www.w3.org/2000/09/xmldsig#", "Signature")
                .is_some(),
        })
    }

    /// Checks IssueInstant against `now`: not further in the future than
    /// `skew`, not older than `max_age` plus `skew`.
    pub fn check_time(
        &self,
        now: DateTime<Utc>,
        skew: Duration,
        max_age: Duration,
    ) -> Result<(), SamlError> {
        if self.issue_instant > now + skew || self.issue_instant + max_age + skew < now {
            return Err(SamlError::Invalid("IssueInstant"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn sample(extra_attrs: &str, body: &str) -> String {
        format!(
            r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" Version="2.0" IssueInstant="2024-02-22T05:31:45Z" {extra_attrs}><saml:Issuer>https://sp.example/</saml:Issuer>{body}</samlp:AuthnRequest>"#
        )
    }

    #[test]
    fn parses_all_fields() {
        let xml = sample(
            r#"Destination="https://idp/saml/sso" AssertionConsumerServiceURL="https://sp/acs" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" ForceAuthn="true" IsPassive="0""#,
            r#"<samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" AllowCreate="1"/><samlp:RequestedAuthnContext Comparison="minimum"><saml:AuthnContextClassRef>urn:x</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>"#,
        );
        let r = AuthnRequest::parse(&xml).expect("parse");
        assert_eq!(r.id, "_r1");
        assert_eq!(r.issuer, "https://sp.example/");
        assert_eq!(r.acs_url.as_deref(), Some("https://sp/acs"));
        assert!(r.force_authn);
        assert!(!r.is_passive);
        let p = r.name_id_policy.expect("policy");
        assert!(p.allow_create);
        assert_eq!(
            p.format.as_deref(),
            Some("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")
        );
        let c = r.requested_authn_context.expect("rac");
        assert_eq!(c.comparison, "minimum");
        assert_eq!(c.class_refs, vec!["urn:x".to_string()]);
        assert!(!r.has_signature);
    }

    #[test]
    fn allow_create_true_and_one_are_equal() {
        for v in ["1", "true"] {
            let xml = sample("", &format!(r#"<samlp:NameIDPolicy AllowCreate="{v}"/>"#));
            assert!(
                AuthnRequest::parse(&xml)
                    .expect("parse")
                    .name_id_policy
                    .expect("p")
                    .allow_create
            );
        }
        let xml = sample("", r#"<samlp:NameIDPolicy AllowCreate="yes"/>"#);
        assert!(AuthnRequest::parse(&xml).is_err());
    }

    #[test]
    fn refuses_wrong_documents() {
        assert!(AuthnRequest::parse(&sample("", "").replace("_r1", "")).is_err());
        assert!(AuthnRequest::parse(&sample("", "").replace("2.0\"", "1.1\"")).is_err());
        assert!(AuthnRequest::parse(&sample("", "").replace("https://sp.example/", " ")).is_err());
        assert!(
            AuthnRequest::parse(&sample("", "").replace("2024-02-22T05:31:45Z", "yesterday"))
                .is_err()
        );
        assert!(AuthnRequest::parse(
            r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>"#
        )
        .is_err());
        assert!(AuthnRequest::parse(&sample(r#"AssertionConsumerServiceIndex="x""#, "")).is_err());
    }

    #[test]
    fn checks_issue_instant_with_skew() {
        let r = AuthnRequest::parse(&sample("", "")).expect("parse");
        let t = r.issue_instant;
        let skew = Duration::seconds(180);
        let age = Duration::seconds(600);
        assert!(r.check_time(t, skew, age).is_ok());
        assert!(r.check_time(t - Duration::seconds(170), skew, age).is_ok());
        assert!(r.check_time(t - Duration::seconds(190), skew, age).is_err());
        assert!(r.check_time(t + Duration::seconds(770), skew, age).is_ok());
        assert!(r.check_time(t + Duration::seconds(790), skew, age).is_err());
    }
}
