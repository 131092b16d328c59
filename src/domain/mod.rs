//! Feature logic between the web handlers and the protocol/storage layers.

pub mod service_view;
pub mod services;
pub mod sso;
pub mod users;
