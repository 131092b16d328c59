//! Feature logic between the web handlers and the protocol/storage layers.

pub mod attributes;
pub mod csv;
pub mod end_of_use;
pub mod icons;
pub mod refresh;
pub mod service_view;
pub mod services;
pub mod sso;
pub mod user_import;
pub mod users;
