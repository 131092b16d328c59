//! SAML 2.0 protocol: parse, validate, build and sign. No HTTP, no database,
//! no clock reads: callers pass the time in.

pub mod authn_context;
pub mod authn_request;
pub mod binding;
pub mod keygen;
pub mod metadata;
pub mod nameid;
pub mod redirect_sig;
pub mod response;
pub mod sign;
pub mod sp_metadata;
pub mod xml;
pub mod xml_read;

pub const BINDING_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
pub const BINDING_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

/// Top-level and second-level status codes we emit.
pub mod status {
    pub const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
    pub const REQUESTER: &str = "urn:oasis:names:tc:SAML:2.0:status:Requester";
    pub const RESPONDER: &str = "urn:oasis:names:tc:SAML:2.0:status:Responder";
    pub const REQUEST_DENIED: &str = "urn:oasis:names:tc:SAML:2.0:status:RequestDenied";
    pub const NO_PASSIVE: &str = "urn:oasis:names:tc:SAML:2.0:status:NoPassive";
    pub const INVALID_NAMEID_POLICY: &str =
        "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy";
    pub const AUTHN_FAILED: &str = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed";
    pub const NO_AUTHN_CONTEXT: &str = "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext";
    pub const REQUEST_UNSUPPORTED: &str = "urn:oasis:names:tc:SAML:2.0:status:RequestUnsupported";
}

pub const AC_PASSWORD_PROTECTED: &str =
    "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";

/// Errors of the protocol layer. The Display text goes to logs only.
#[derive(Debug, thiserror::Error)]
pub enum SamlError {
    #[error("the message is not valid base64")]
    Base64,
    #[error("the message is not valid DEFLATE data")]
    Deflate,
    #[error("the message is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the message contains a DOCTYPE")]
    Doctype,
    #[error("the XML is malformed: {0}")]
    Xml(String),
    #[error("unexpected message: {0}")]
    Unexpected(String),
    #[error("a required field is missing: {0}")]
    Missing(&'static str),
    #[error("invalid value of {0}")]
    Invalid(&'static str),
    #[error("cryptography: {0}")]
    Crypto(String),
}

impl SamlError {
    pub(crate) fn crypto(e: openssl::error::ErrorStack) -> Self {
        SamlError::Crypto(e.to_string())
    }
}
