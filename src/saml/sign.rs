//! Enveloped XML signatures over our canonical tree: RSA-SHA256, SHA-256
//! digests, exclusive C14N. The key is parsed once and shared.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use openssl::hash::{hash, MessageDigest};
use openssl::pkey::{PKey, Private};
use openssl::sign::Signer;
use openssl::x509::X509;

use super::xml::{Element, DS};
use super::SamlError;

pub const ALG_EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
pub const ALG_ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
pub const ALG_RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
pub const ALG_SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";

/// The IdP's signing key and certificate, parsed once.
pub struct SigningKey {
    key: PKey<Private>,
    cert: X509,
    cert_b64: String,
}

impl SigningKey {
    pub fn from_pem(key_pem: &[u8], cert_pem: &[u8]) -> Result<Self, SamlError> {
        let key = PKey::private_key_from_pem(key_pem).map_err(SamlError::crypto)?;
        let cert = X509::from_pem(cert_pem).map_err(SamlError::crypto)?;
        let cert_pub = cert.public_key().map_err(SamlError::crypto)?;
        if !key.public_eq(&cert_pub) {
            return Err(SamlError::Crypto(
                "the signing certificate does not match the private key".into(),
            ));
        }
        let der = cert.to_der().map_err(SamlError::crypto)?;
        Ok(SigningKey {
            key,
            cert,
            cert_b64: B64.encode(der),
        })
    }

    /// The certificate, base64 DER, as it goes into KeyInfo and metadata.
    pub fn cert_b64(&self) -> &str {
        &self.cert_b64
    }

    pub fn cert(&self) -> &X509 {
        &self.cert
    }

    fn sign_rsa_sha256(&self, data: &[u8]) -> Result<Vec<u8>, SamlError> {
        let mut signer =
            Signer::new(MessageDigest::sha256(), &self.key).map_err(SamlError::crypto)?;
        signer.update(data).map_err(SamlError::crypto)?;
        signer.sign_to_vec().map_err(SamlError::crypto)
    }

    /// Signs `elem` (which must carry an `ID` attribute) with an enveloped
    /// signature placed right after its first child (the Issuer).
    pub fn sign_enveloped(&self, elem: &mut Element) -> Result<(), SamlError> {
        let id = elem
            .get_attr("ID")
            .ok_or_else(|| SamlError::Crypto("element to sign has no ID".into()))?
            .to_string();
        let digest =
            hash(MessageDigest::sha256(), elem.to_c14n().as_bytes()).map_err(SamlError::crypto)?;
        let signed_info = signed_info(&id, &B64.encode(digest));
        let signature = self.sign_rsa_sha256(signed_info.to_c14n().as_bytes())?;
        let sig = Element::new(DS, "Signature")
            .child(signed_info)
            .child(Element::new(DS, "SignatureValue").text(B64.encode(signature)))
            .child(
                Element::new(DS, "KeyInfo").child(
                    Element::new(DS, "X509Data")
                        .child(Element::new(DS, "X509Certificate").text(self.cert_b64.clone())),
                ),
            );
        elem.insert_child(1, sig);
        Ok(())
    }
}

fn signed_info(id: &str, digest_b64: &str) -> Element {
    Element::new(DS, "SignedInfo")
        .child(Element::new(DS, "CanonicalizationMethod").attr("Algorithm", ALG_EXC_C14N))
        .child(Element::new(DS, "SignatureMethod").attr("Algorithm", ALG_RSA_SHA256))
        .child(
            Element::new(DS, "Reference")
                .attr("URI", format!("#{id}"))
                .child(
                    Element::new(DS, "Transforms")
                        .child(Element::new(DS, "Transform").attr("Algorithm", ALG_ENVELOPED))
                        .child(Element::new(DS, "Transform").attr("Algorithm", ALG_EXC_C14N)),
                )
                .child(Element::new(DS, "DigestMethod").attr("Algorithm", ALG_SHA256))
                .child(Element::new(DS, "DigestValue").text(digest_b64)),
        )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::saml::keygen::generate_key_pair;
    use crate::saml::xml::SAML;
    use openssl::sign::Verifier;

    pub fn test_key() -> SigningKey {
        let (key, cert) = generate_key_pair("idp.test").expect("keygen");
        SigningKey::from_pem(key.as_bytes(), cert.as_bytes()).expect("key")
    }

    #[test]
    fn signature_verifies_over_canonical_signed_info() {
        let key = test_key();
        let mut e = Element::new(SAML, "Assertion")
            .attr("ID", "_abc")
            .child(Element::new(SAML, "Issuer").text("idp"))
            .child(Element::new(SAML, "Subject").text("x"));
        let unsigned = e.to_c14n();
        key.sign_enveloped(&mut e).expect("sign");
        let out = e.to_c14n();
        // The signature sits right after the Issuer.
        assert!(out.contains("</saml:Issuer><ds:Signature xmlns:ds="));
        // The digest is over the element without its signature.
        let digest = B64.encode(hash(MessageDigest::sha256(), unsigned.as_bytes()).expect("h"));
        assert!(out.contains(&format!("<ds:DigestValue>{digest}</ds:DigestValue>")));
        // The SignatureValue verifies over SignedInfo canonicalised as apex.
        let si = signed_info("_abc", &digest).to_c14n();
        assert!(si.starts_with("<ds:SignedInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">"));
        let sv_start = out.find("<ds:SignatureValue>").expect("sv") + "<ds:SignatureValue>".len();
        let sv_end = out.find("</ds:SignatureValue>").expect("sv end");
        let sig = B64.decode(&out[sv_start..sv_end]).expect("b64");
        let pubkey = key.cert().public_key().expect("pub");
        let mut v = Verifier::new(MessageDigest::sha256(), &pubkey).expect("verifier");
        v.update(si.as_bytes()).expect("update");
        assert!(v.verify(&sig).expect("verify"));
        // A changed SignedInfo does not verify.
        let mut v = Verifier::new(MessageDigest::sha256(), &pubkey).expect("verifier");
        v.update(si.replace("_abc", "_abd").as_bytes())
            .expect("update");
        assert!(!v.verify(&sig).expect("verify"));
    }

    #[test]
    fn refuses_mismatched_key_and_certificate() {
        let (key, _) = generate_key_pair("a").expect("keygen");
        let (_, cert) = generate_key_pair("b").expect("keygen");
        assert!(SigningKey::from_pem(key.as_bytes(), cert.as_bytes()).is_err());
    }
}
