//! Parsing of a service provider's SAML metadata (SPSSODescriptor).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use openssl::x509::X509;

use super::metadata::PROTOCOL_SAML2;
use super::xml::{DS, MD};
use super::xml_read::{self, XNode};
use super::{SamlError, BINDING_POST};

const MDUI: &str = "urn:oasis:names:tc:SAML:metadata:ui";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcsEndpoint {
    pub binding: String,
    pub location: String,
    pub index: i32,
    pub is_default: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct SpMetadata {
    pub entity_id: String,
    pub acs: Vec<AcsEndpoint>,
    /// Base64 DER of each usable signing certificate.
    pub signing_certs: Vec<String>,
    pub encryption_certs: Vec<String>,
    pub name_id_formats: Vec<String>,
    pub authn_requests_signed: bool,
    pub want_assertions_signed: bool,
    pub display_name: Option<String>,
    pub valid_until: Option<String>,
    pub cache_duration: Option<String>,
    pub requested_attributes: Vec<RequestedAttribute>,
}

/// An attribute the SP asks for in its AttributeConsumingService.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedAttribute {
    pub name: String,
    pub friendly_name: Option<String>,
    pub required: bool,
}

fn flag(v: Option<&str>) -> bool {
    matches!(v.map(str::trim), Some("true") | Some("1"))
}

fn cert_of(kd: &XNode) -> Result<Option<String>, SamlError> {
    let mut certs = Vec::new();
    kd.descendants(DS.uri, "X509Certificate", &mut certs);
    let Some(c) = certs.first() else {
        return Ok(None);
    };
    let b64: String = c
        .text
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let der = B64
        .decode(b64.as_bytes())
        .map_err(|_| SamlError::Invalid("X509Certificate"))?;
    X509::from_der(&der).map_err(|_| SamlError::Invalid("X509Certificate"))?;
    Ok(Some(b64))
}

fn is_http_url(s: &str) -> bool {
    url::Url::parse(s)
        .map(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .unwrap_or(false)
}

impl SpMetadata {
    pub fn parse(xml: &str) -> Result<Self, SamlError> {
        let root = xml_read::parse(xml)?;
        let entity = if root.is(MD.uri, "EntityDescriptor") {
            &root
        } else if root.is(MD.uri, "EntitiesDescriptor") {
            let mut sps = Vec::new();
            root.descendants(MD.uri, "EntityDescriptor", &mut sps);
            sps.retain(|e| e.child(MD.uri, "SPSSODescriptor").is_some());
            match sps.as_slice() {
                [one] => *one,
                [] => {
                    return Err(SamlError::Unexpected(
                        "no SPSSODescriptor in the metadata".into(),
                    ))
                }
                _ => {
                    return Err(SamlError::Unexpected(
                        "the metadata describes several services; import them one by one".into(),
                    ))
                }
            }
        } else {
            return Err(SamlError::Unexpected(
                "the document is not SAML metadata".into(),
            ));
        };
        let entity_id = entity
            .attr("entityID")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or(SamlError::Missing("entityID"))?
            .to_string();
        if entity_id.len() > 1024 {
            return Err(SamlError::Invalid("entityID"));
        }
        let sp = entity
            .children_named(MD.uri, "SPSSODescriptor")
            .find(|d| {
                d.attr("protocolSupportEnumeration")
                    .map(|p| p.split_whitespace().any(|x| x == PROTOCOL_SAML2))
                    .unwrap_or(false)
            })
            .ok_or_else(|| SamlError::Unexpected("no SAML 2.0 SPSSODescriptor".into()))?;
        let mut acs = Vec::new();
        for (pos, a) in sp
            .children_named(MD.uri, "AssertionConsumerService")
            .enumerate()
        {
            let location = a
                .attr("Location")
                .map(str::trim)
                .unwrap_or_default()
                .to_string();
            let binding = a
                .attr("Binding")
                .map(str::trim)
                .unwrap_or_default()
                .to_string();
            if binding == BINDING_POST && !is_http_url(&location) {
                return Err(SamlError::Invalid("AssertionConsumerService Location"));
            }
            let index = match a.attr("index") {
                Some(i) => i
                    .trim()
                    .parse::<i32>()
                    .map_err(|_| SamlError::Invalid("AssertionConsumerService index"))?,
                None => pos as i32,
            };
            let is_default = a.attr("isDefault").map(|v| flag(Some(v)));
            acs.push(AcsEndpoint {
                binding,
                location,
                index,
                is_default,
            });
        }
        if !acs.iter().any(|a| a.binding == BINDING_POST) {
            return Err(SamlError::Unexpected(
                "no AssertionConsumerService with the HTTP-POST binding".into(),
            ));
        }
        let mut signing_certs = Vec::new();
        let mut encryption_certs = Vec::new();
        for kd in sp.children_named(MD.uri, "KeyDescriptor") {
            let Some(cert) = cert_of(kd)? else { continue };
            match kd.attr("use") {
                Some("signing") => signing_certs.push(cert),
                Some("encryption") => encryption_certs.push(cert),
                _ => {
                    signing_certs.push(cert.clone());
                    encryption_certs.push(cert);
                }
            }
        }
        let name_id_formats = sp
            .children_named(MD.uri, "NameIDFormat")
            .map(|n| n.trimmed_text().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        let mut names = Vec::new();
        sp.descendants(MDUI, "DisplayName", &mut names);
        let display_name = names
            .iter()
            .find(|n| n.attrs.iter().any(|(_, l, v)| l == "lang" && v == "ja"))
            .or_else(|| names.first())
            .map(|n| n.trimmed_text().to_string())
            .or_else(|| {
                entity
                    .child(MD.uri, "Organization")
                    .and_then(|o| o.child(MD.uri, "OrganizationDisplayName"))
                    .map(|n| n.trimmed_text().to_string())
            })
            .filter(|s| !s.is_empty());
        let mut requested = Vec::new();
        sp.descendants(MD.uri, "RequestedAttribute", &mut requested);
        let requested_attributes = requested
            .iter()
            .filter_map(|r| {
                Some(RequestedAttribute {
                    name: r.attr("Name")?.to_string(),
                    friendly_name: r.attr("FriendlyName").map(str::to_string),
                    required: flag(r.attr("isRequired")),
                })
            })
            .collect();
        Ok(SpMetadata {
            requested_attributes,
            entity_id,
            acs,
            signing_certs,
            encryption_certs,
            name_id_formats,
            authn_requests_signed: flag(sp.attr("AuthnRequestsSigned")),
            want_assertions_signed: flag(sp.attr("WantAssertionsSigned")),
            display_name,
            valid_until: entity.attr("validUntil").map(str::to_string),
            cache_duration: entity.attr("cacheDuration").map(str::to_string),
        })
    }
}

/// Picks the ACS endpoint for a request from registered endpoints only:
/// an exact URL match, else the given index, else the default (SAML
/// metadata §2.2.3: isDefault="true", else the first not marked false,
/// else the first). Only HTTP-POST endpoints are usable.
pub fn select_acs<'a>(
    endpoints: &'a [AcsEndpoint],
    url: Option<&str>,
    index: Option<u16>,
) -> Option<&'a AcsEndpoint> {
    let post = || endpoints.iter().filter(|e| e.binding == BINDING_POST);
    if let Some(u) = url {
        return post().find(|e| e.location == u);
    }
    if let Some(i) = index {
        return post().find(|e| e.index == i32::from(i));
    }
    post()
        .find(|e| e.is_default == Some(true))
        .or_else(|| post().find(|e| e.is_default.is_none()))
        .or_else(|| post().next())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(loc: &str, index: i32, is_default: Option<bool>) -> AcsEndpoint {
        AcsEndpoint {
            binding: BINDING_POST.into(),
            location: loc.into(),
            index,
            is_default,
        }
    }

    #[test]
    fn selects_by_url_index_and_default() {
        let eps = vec![
            ep("https://sp/a", 0, Some(false)),
            ep("https://sp/b", 1, None),
            ep("https://sp/c", 2, Some(true)),
            AcsEndpoint {
                binding: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact".into(),
                location: "https://sp/art".into(),
                index: 3,
                is_default: None,
            },
        ];
        assert_eq!(
            select_acs(&eps, Some("https://sp/b"), None).map(|e| e.index),
            Some(1)
        );
        assert!(select_acs(&eps, Some("https://sp/b/"), None).is_none());
        assert!(select_acs(&eps, Some("https://sp/art"), None).is_none());
        assert_eq!(select_acs(&eps, None, Some(0)).map(|e| e.index), Some(0));
        assert!(select_acs(&eps, None, Some(9)).is_none());
        assert_eq!(select_acs(&eps, None, None).map(|e| e.index), Some(2));
        assert_eq!(select_acs(&eps[..2], None, None).map(|e| e.index), Some(1));
        assert_eq!(select_acs(&eps[..1], None, None).map(|e| e.index), Some(0));
    }

    #[test]
    fn parses_metadata_with_cache_duration_and_several_endpoints() {
        let xml = r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp.example/sp" cacheDuration="PT1H">
          <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" AuthnRequestsSigned="1">
            <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
            <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example/acs1" index="1"/>
            <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example/acs2" index="2" isDefault="true"/>
          </md:SPSSODescriptor></md:EntityDescriptor>"#;
        let m = SpMetadata::parse(xml).expect("parse");
        assert_eq!(m.entity_id, "https://sp.example/sp");
        assert_eq!(m.acs.len(), 2);
        assert!(m.authn_requests_signed);
        assert_eq!(m.cache_duration.as_deref(), Some("PT1H"));
        assert_eq!(
            select_acs(&m.acs, None, None).map(|e| e.location.as_str()),
            Some("https://sp.example/acs2")
        );
    }

    #[test]
    fn refuses_unusable_metadata() {
        let no_acs = r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>"#;
        assert!(SpMetadata::parse(no_acs).is_err());
        let idp = r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>"#;
        assert!(SpMetadata::parse(idp).is_err());
        let bad_cert = r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="x"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>AAAA</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp/acs" index="0"/></md:SPSSODescriptor></md:EntityDescriptor>"#;
        assert!(SpMetadata::parse(bad_cert).is_err());
        let js_acs = r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="javascript:alert(1)" index="0"/></md:SPSSODescriptor></md:EntityDescriptor>"#;
        assert!(SpMetadata::parse(js_acs).is_err());
        assert!(SpMetadata::parse("<!DOCTYPE x><x/>").is_err());
    }
}
