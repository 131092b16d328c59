//! Building (and signing) `samlp:Response` messages.

use chrono::{DateTime, Duration, Utc};
use rand::RngCore;

use super::nameid::NameIdFormat;
use super::sign::SigningKey;
use super::xml::{saml_instant, Element, SAML, SAMLP};
use super::{status, SamlError};

/// How far NotBefore is backdated: SP libraries allow little or no skew.
pub const NOT_BEFORE_SKEW: Duration = Duration::seconds(60);
/// How long an assertion may be presented to the SP.
pub const ASSERTION_LIFETIME: Duration = Duration::seconds(300);

pub const ATTRNAME_FORMAT_URI: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri";

/// One released attribute.
#[derive(Debug, Clone)]
pub struct Attribute {
    pub name: String,
    pub friendly_name: String,
    pub name_format: String,
    pub values: Vec<String>,
}

/// A fresh message ID: "_" and 160 random bits in hex (an NCName).
pub fn new_id() -> String {
    let mut b = [0u8; 20];
    rand::thread_rng().fill_bytes(&mut b);
    format!("_{}", hex::encode(b))
}

/// Everything a successful response says.
pub struct Assertion<'a> {
    pub response_id: String,
    pub assertion_id: String,
    pub idp_entity_id: &'a str,
    pub sp_entity_id: &'a str,
    pub acs_url: &'a str,
    pub in_response_to: Option<&'a str>,
    pub now: DateTime<Utc>,
    pub name_id: &'a str,
    pub name_id_format: NameIdFormat,
    pub session_index: &'a str,
    pub authn_instant: DateTime<Utc>,
    pub session_not_on_or_after: DateTime<Utc>,
    pub authn_context_class: &'a str,
    pub attributes: &'a [Attribute],
    pub sign_assertion: bool,
    pub sign_response: bool,
}

fn issuer(entity_id: &str) -> Element {
    Element::new(SAML, "Issuer").text(entity_id)
}

fn response_head(
    id: String,
    idp: &str,
    acs: &str,
    in_response_to: Option<&str>,
    now: DateTime<Utc>,
) -> Element {
    Element::new(SAMLP, "Response")
        .attr("ID", id)
        .attr("Version", "2.0")
        .attr("IssueInstant", saml_instant(now))
        .attr("Destination", acs)
        .opt_attr("InResponseTo", in_response_to)
        .child(issuer(idp))
}

fn status_el(top: &str, second: Option<&str>, message: Option<&str>) -> Element {
    let mut code = Element::new(SAMLP, "StatusCode").attr("Value", top);
    if let Some(s) = second {
        code = code.child(Element::new(SAMLP, "StatusCode").attr("Value", s));
    }
    let mut st = Element::new(SAMLP, "Status").child(code);
    if let Some(m) = message {
        st = st.child(Element::new(SAMLP, "StatusMessage").text(m));
    }
    st
}

fn name_id(a: &Assertion<'_>) -> Element {
    let mut n = Element::new(SAML, "NameID").attr("Format", a.name_id_format.uri());
    if matches!(
        a.name_id_format,
        NameIdFormat::Persistent | NameIdFormat::Transient
    ) {
        n = n
            .attr("NameQualifier", a.idp_entity_id)
            .attr("SPNameQualifier", a.sp_entity_id);
    }
    n.text(a.name_id)
}

fn assertion_el(a: &Assertion<'_>) -> Element {
    let valid_until = saml_instant(a.now + ASSERTION_LIFETIME);
    let subject = Element::new(SAML, "Subject").child(name_id(a)).child(
        Element::new(SAML, "SubjectConfirmation")
            .attr("Method", "urn:oasis:names:tc:SAML:2.0:cm:bearer")
            .child(
                Element::new(SAML, "SubjectConfirmationData")
                    .opt_attr("InResponseTo", a.in_response_to)
                    .attr("NotOnOrAfter", valid_until.clone())
                    .attr("Recipient", a.acs_url),
            ),
    );
    let conditions = Element::new(SAML, "Conditions")
        .attr("NotBefore", saml_instant(a.now - NOT_BEFORE_SKEW))
        .attr("NotOnOrAfter", valid_until)
        .child(
            Element::new(SAML, "AudienceRestriction")
                .child(Element::new(SAML, "Audience").text(a.sp_entity_id)),
        );
    let authn = Element::new(SAML, "AuthnStatement")
        .attr("AuthnInstant", saml_instant(a.authn_instant))
        .attr("SessionIndex", a.session_index)
        .attr(
            "SessionNotOnOrAfter",
            saml_instant(a.session_not_on_or_after),
        )
        .child(
            Element::new(SAML, "AuthnContext")
                .child(Element::new(SAML, "AuthnContextClassRef").text(a.authn_context_class)),
        );
    let mut el = Element::new(SAML, "Assertion")
        .attr("ID", a.assertion_id.clone())
        .attr("Version", "2.0")
        .attr("IssueInstant", saml_instant(a.now))
        .child(issuer(a.idp_entity_id))
        .child(subject)
        .child(conditions)
        .child(authn);
    let attrs: Vec<Element> = a
        .attributes
        .iter()
        .filter(|at| at.values.iter().any(|v| !v.is_empty()))
        .map(|at| {
            Element::new(SAML, "Attribute")
                .attr("Name", at.name.clone())
                .attr("NameFormat", at.name_format.clone())
                .attr("FriendlyName", at.friendly_name.clone())
                .children(
                    at.values
                        .iter()
                        .filter(|v| !v.is_empty())
                        .map(|v| Element::new(SAML, "AttributeValue").text(v.clone())),
                )
        })
        .collect();
    if !attrs.is_empty() {
        el = el.child(Element::new(SAML, "AttributeStatement").children(attrs));
    }
    el
}

/// A successful, signed Response carrying one Assertion.
pub fn success(a: &Assertion<'_>, key: &SigningKey) -> Result<String, SamlError> {
    let mut assertion = assertion_el(a);
    if a.sign_assertion {
        key.sign_enveloped(&mut assertion)?;
    }
    let mut resp = response_head(
        a.response_id.clone(),
        a.idp_entity_id,
        a.acs_url,
        a.in_response_to,
        a.now,
    )
    .child(status_el(status::SUCCESS, None, None))
    .child(assertion);
    if a.sign_response {
        key.sign_enveloped(&mut resp)?;
    }
    Ok(resp.to_c14n())
}

/// What an error response says.
pub struct Failure<'a> {
    pub idp_entity_id: &'a str,
    pub acs_url: &'a str,
    pub in_response_to: Option<&'a str>,
    pub now: DateTime<Utc>,
    pub top: &'a str,
    pub second: Option<&'a str>,
    pub message: Option<&'a str>,
}

/// An error Response (no assertion), signed so the SP can trust the status.
pub fn failure(f: &Failure<'_>, key: &SigningKey) -> Result<String, SamlError> {
    let mut resp = response_head(
        new_id(),
        f.idp_entity_id,
        f.acs_url,
        f.in_response_to,
        f.now,
    )
    .child(status_el(f.top, f.second, f.message));
    key.sign_enveloped(&mut resp)?;
    Ok(resp.to_c14n())
}
