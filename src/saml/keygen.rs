//! Generation of the IdP's RSA-2048 signing key and self-signed certificate.

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectKeyIdentifier};
use openssl::x509::{X509NameBuilder, X509};

use super::SamlError;

/// Certificate validity of a generated key, in days (ten years: SAML
/// signing certificates are trust anchors pinned in SP metadata, not PKI).
pub const CERT_DAYS: u32 = 3650;

/// Returns (private key PEM, certificate PEM) for a new RSA-2048 key with a
/// self-signed certificate whose CN is `common_name`.
pub fn generate_key_pair(common_name: &str) -> Result<(String, String), SamlError> {
    let rsa = Rsa::generate(2048).map_err(SamlError::crypto)?;
    let key = PKey::from_rsa(rsa).map_err(SamlError::crypto)?;
    let mut name = X509NameBuilder::new().map_err(SamlError::crypto)?;
    let cn: String = common_name.chars().take(64).collect();
    name.append_entry_by_text("CN", &cn)
        .map_err(SamlError::crypto)?;
    name.append_entry_by_text("O", "omakase")
        .map_err(SamlError::crypto)?;
    let name = name.build();
    let mut serial = BigNum::new().map_err(SamlError::crypto)?;
    serial
        .rand(128, MsbOption::MAYBE_ZERO, false)
        .map_err(SamlError::crypto)?;
    let serial = serial.to_asn1_integer().map_err(SamlError::crypto)?;
    let mut b = X509::builder().map_err(SamlError::crypto)?;
    b.set_version(2).map_err(SamlError::crypto)?;
    b.set_serial_number(&serial).map_err(SamlError::crypto)?;
    b.set_subject_name(&name).map_err(SamlError::crypto)?;
    b.set_issuer_name(&name).map_err(SamlError::crypto)?;
    b.set_pubkey(&key).map_err(SamlError::crypto)?;
    let not_before = Asn1Time::days_from_now(0).map_err(SamlError::crypto)?;
    let not_after = Asn1Time::days_from_now(CERT_DAYS).map_err(SamlError::crypto)?;
    b.set_not_before(&not_before).map_err(SamlError::crypto)?;
    b.set_not_after(&not_after).map_err(SamlError::crypto)?;
    let bc = BasicConstraints::new()
        .critical()
        .build()
        .map_err(SamlError::crypto)?;
    b.append_extension(bc).map_err(SamlError::crypto)?;
    let ku = KeyUsage::new()
        .critical()
        .digital_signature()
        .build()
        .map_err(SamlError::crypto)?;
    b.append_extension(ku).map_err(SamlError::crypto)?;
    let ski = SubjectKeyIdentifier::new()
        .build(&b.x509v3_context(None, None))
        .map_err(SamlError::crypto)?;
    b.append_extension(ski).map_err(SamlError::crypto)?;
    b.sign(&key, MessageDigest::sha256())
        .map_err(SamlError::crypto)?;
    let cert = b.build();
    let key_pem = key.private_key_to_pem_pkcs8().map_err(SamlError::crypto)?;
    let cert_pem = cert.to_pem().map_err(SamlError::crypto)?;
    Ok((
        String::from_utf8_lossy(&key_pem).into_owned(),
        String::from_utf8_lossy(&cert_pem).into_owned(),
    ))
}
