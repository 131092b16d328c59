//! NameID formats and the values we issue for each.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;

use super::SamlError;

pub const FORMAT_EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
pub const FORMAT_PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
pub const FORMAT_TRANSIENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
pub const FORMAT_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameIdFormat {
    Email,
    Persistent,
    Transient,
    Unspecified,
}

impl NameIdFormat {
    pub const ALL: [NameIdFormat; 4] = [
        NameIdFormat::Email,
        NameIdFormat::Persistent,
        NameIdFormat::Transient,
        NameIdFormat::Unspecified,
    ];

    pub fn uri(self) -> &'static str {
        match self {
            NameIdFormat::Email => FORMAT_EMAIL,
            NameIdFormat::Persistent => FORMAT_PERSISTENT,
            NameIdFormat::Transient => FORMAT_TRANSIENT,
            NameIdFormat::Unspecified => FORMAT_UNSPECIFIED,
        }
    }

    /// The short name used in the database, configuration and CLI.
    pub fn key(self) -> &'static str {
        match self {
            NameIdFormat::Email => "email",
            NameIdFormat::Persistent => "persistent",
            NameIdFormat::Transient => "transient",
            NameIdFormat::Unspecified => "unspecified",
        }
    }

    pub fn from_uri(uri: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.uri() == uri)
    }

    /// Accepts the short key or the full URI.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL.into_iter().find(|f| f.key() == s || f.uri() == s)
    }
}

/// A stable, opaque identifier of `user_key` for one service: an HMAC of the
/// service's entity ID and the user's immutable key under the instance
/// secret, so that services cannot correlate users.
pub fn persistent_id(
    secret: &[u8],
    sp_entity_id: &str,
    user_key: &str,
) -> Result<String, SamlError> {
    let key = PKey::hmac(secret).map_err(SamlError::crypto)?;
    let mut signer = Signer::new(MessageDigest::sha256(), &key).map_err(SamlError::crypto)?;
    signer
        .update(b"omakase-persistent-id\0")
        .map_err(SamlError::crypto)?;
    signer
        .update(sp_entity_id.as_bytes())
        .map_err(SamlError::crypto)?;
    signer.update(b"\0").map_err(SamlError::crypto)?;
    signer
        .update(user_key.as_bytes())
        .map_err(SamlError::crypto)?;
    let mac = signer.sign_to_vec().map_err(SamlError::crypto)?;
    Ok(B64URL.encode(mac))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persistent_ids_are_stable_and_per_service() {
        let a1 = persistent_id(b"secret", "https://a", "42").expect("id");
        let a2 = persistent_id(b"secret", "https://a", "42").expect("id");
        let b = persistent_id(b"secret", "https://b", "42").expect("id");
        let other_user = persistent_id(b"secret", "https://a", "43").expect("id");
        let other_secret = persistent_id(b"other", "https://a", "42").expect("id");
        assert_eq!(a1, a2);
        assert_ne!(a1, b);
        assert_ne!(a1, other_user);
        assert_ne!(a1, other_secret);
        assert!(!a1.contains("42"));
        assert_eq!(a1.len(), 43);
    }

    #[test]
    fn parses_keys_and_uris() {
        assert_eq!(NameIdFormat::parse("email"), Some(NameIdFormat::Email));
        assert_eq!(
            NameIdFormat::parse(FORMAT_PERSISTENT),
            Some(NameIdFormat::Persistent)
        );
        assert_eq!(NameIdFormat::parse("x509"), None);
    }
}
