//! Verification of HTTP-Redirect binding signatures over the query string
//! exactly as received (SAML bindings §3.4.4.1), with an algorithm allow-list.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use openssl::hash::MessageDigest;
use openssl::sign::Verifier;
use openssl::x509::X509;

use super::SamlError;

/// The parts of a raw query string that a Redirect signature covers.
#[derive(Debug, Default)]
pub struct SignedQuery<'a> {
    pub saml_request: Option<&'a str>,
    pub relay_state: Option<&'a str>,
    pub sig_alg: Option<&'a str>,
    pub signature: Option<&'a str>,
}

impl<'a> SignedQuery<'a> {
    /// Splits the raw (still percent-encoded) query string.
    pub fn from_raw(query: &'a str) -> Self {
        let mut q = SignedQuery::default();
        for pair in query.split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "SAMLRequest" => q.saml_request = Some(v),
                "RelayState" => q.relay_state = Some(v),
                "SigAlg" => q.sig_alg = Some(v),
                "Signature" => q.signature = Some(v),
                _ => {}
            }
        }
        q
    }

    pub fn is_signed(&self) -> bool {
        self.signature.is_some() || self.sig_alg.is_some()
    }

    /// Verifies the signature with any of `certs` (base64 DER).
    pub fn verify(&self, certs: &[String]) -> Result<(), SamlError> {
        let req = self.saml_request.ok_or(SamlError::Missing("SAMLRequest"))?;
        let alg_raw = self.sig_alg.ok_or(SamlError::Missing("SigAlg"))?;
        let sig_raw = self.signature.ok_or(SamlError::Missing("Signature"))?;
        let alg = url_decode(alg_raw)?;
        let digest = match alg.as_str() {
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
            | "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256" => MessageDigest::sha256(),
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384" => MessageDigest::sha384(),
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512" => MessageDigest::sha512(),
            _ => return Err(SamlError::Invalid("SigAlg")),
        };
        let sig = B64
            .decode(url_decode(sig_raw)?.as_bytes())
            .map_err(|_| SamlError::Base64)?;
        let mut signed = format!("SAMLRequest={req}");
        if let Some(rs) = self.relay_state {
            signed.push_str("&RelayState=");
            signed.push_str(rs);
        }
        signed.push_str("&SigAlg=");
        signed.push_str(alg_raw);
        for cert in certs {
            let Ok(der) = B64.decode(cert.as_bytes()) else {
                continue;
            };
            let Ok(x509) = X509::from_der(&der) else {
                continue;
            };
            let Ok(key) = x509.public_key() else { continue };
            let Ok(mut v) = Verifier::new(digest, &key) else {
                continue;
            };
            if v.update(signed.as_bytes()).is_ok() && v.verify(&sig).unwrap_or(false) {
                return Ok(());
            }
        }
        Err(SamlError::Crypto(
            "the request signature does not verify".into(),
        ))
    }
}

fn url_decode(v: &str) -> Result<String, SamlError> {
    let plus_fixed = v.replace('+', " ");
    url::form_urlencoded::parse(format!("x={plus_fixed}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .ok_or(SamlError::Invalid("query"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::saml::keygen::generate_key_pair;
    use openssl::pkey::PKey;
    use openssl::sign::Signer;

    fn enc(s: &str) -> String {
        url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
    }

    #[test]
    fn verifies_raw_query_and_rejects_tampering() {
        let (key_pem, cert_pem) = generate_key_pair("sp").expect("kg");
        let key = PKey::private_key_from_pem(key_pem.as_bytes()).expect("key");
        let cert = X509::from_pem(cert_pem.as_bytes()).expect("cert");
        let cert_b64 = B64.encode(cert.to_der().expect("der"));
        // Lower-case percent-encoding as some SPs send it must verify as received.
        let signed = format!(
            "SAMLRequest=abc%2fdef&RelayState=r%3a1&SigAlg={}",
            enc("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
        );
        let mut s = Signer::new(MessageDigest::sha256(), &key).expect("signer");
        s.update(signed.as_bytes()).expect("u");
        let sig = enc(&B64.encode(s.sign_to_vec().expect("sig")));
        let query = format!("{signed}&Signature={sig}");
        let q = SignedQuery::from_raw(&query);
        assert!(q.is_signed());
        assert!(q.verify(std::slice::from_ref(&cert_b64)).is_ok());
        let tampered = query.replace("r%3a1", "r%3a2");
        assert!(SignedQuery::from_raw(&tampered)
            .verify(std::slice::from_ref(&cert_b64))
            .is_err());
        let sha1 = query.replace("rsa-sha256", "rsa-sha1");
        assert!(SignedQuery::from_raw(&sha1)
            .verify(std::slice::from_ref(&cert_b64))
            .is_err());
        let no_alg = format!("SAMLRequest=abc&Signature={sig}");
        assert!(SignedQuery::from_raw(&no_alg).verify(&[cert_b64]).is_err());
    }
}
