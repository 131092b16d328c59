//! The IdP's own metadata document.

use super::nameid::NameIdFormat;
use super::xml::{Element, DS, MD};
use super::{BINDING_POST, BINDING_REDIRECT};

pub const PROTOCOL_SAML2: &str = "urn:oasis:names:tc:SAML:2.0:protocol";

/// What the metadata announces.
pub struct IdpMetadata<'a> {
    pub entity_id: &'a str,
    pub sso_url: &'a str,
    /// Signing certificates, base64 DER (the current one first).
    pub signing_certs: &'a [&'a str],
}

fn key_descriptor(cert_b64: &str) -> Element {
    Element::new(MD, "KeyDescriptor")
        .attr("use", "signing")
        .child(Element::new(DS, "KeyInfo").child(
            Element::new(DS, "X509Data").child(Element::new(DS, "X509Certificate").text(cert_b64)),
        ))
}

pub fn render(m: &IdpMetadata<'_>) -> String {
    let descriptor = Element::new(MD, "IDPSSODescriptor")
        .attr("WantAuthnRequestsSigned", "false")
        .attr("protocolSupportEnumeration", PROTOCOL_SAML2)
        .children(m.signing_certs.iter().map(|c| key_descriptor(c)))
        .children(
            NameIdFormat::ALL
                .iter()
                .map(|f| Element::new(MD, "NameIDFormat").text(f.uri())),
        )
        .child(
            Element::new(MD, "SingleSignOnService")
                .attr("Binding", BINDING_REDIRECT)
                .attr("Location", m.sso_url),
        )
        .child(
            Element::new(MD, "SingleSignOnService")
                .attr("Binding", BINDING_POST)
                .attr("Location", m.sso_url),
        );
    let doc = Element::new(MD, "EntityDescriptor")
        .attr("entityID", m.entity_id)
        .child(descriptor);
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}\n",
        doc.to_c14n()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::saml::xml_read;

    #[test]
    fn metadata_lists_endpoints_certificate_and_formats() {
        let xml = render(&IdpMetadata {
            entity_id: "http://idp/saml/metadata",
            sso_url: "http://idp/saml/sso",
            signing_certs: &["MIIB"],
        });
        let root = xml_read::parse(&xml).expect("parses");
        assert_eq!(root.attr("entityID"), Some("http://idp/saml/metadata"));
        let d = root
            .child(MD.uri, "IDPSSODescriptor")
            .expect("idp descriptor");
        let sso: Vec<_> = d.children_named(MD.uri, "SingleSignOnService").collect();
        assert_eq!(sso.len(), 2);
        assert!(sso
            .iter()
            .any(|s| s.attr("Binding") == Some(BINDING_REDIRECT)));
        assert!(sso.iter().any(|s| s.attr("Binding") == Some(BINDING_POST)));
        assert_eq!(d.children_named(MD.uri, "NameIDFormat").count(), 4);
        assert!(xml.contains("<ds:X509Certificate>MIIB</ds:X509Certificate>"));
    }
}
