//! One file per table family.

pub mod audit;
pub mod contract;
pub mod groups;
pub mod keys;
pub mod mfa;
pub mod saml_state;
pub mod services;
pub mod sessions;
pub mod users;
