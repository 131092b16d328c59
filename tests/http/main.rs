//! HTTP integration tests: the real app on a real socket and a real
//! database file, driven like a browser and like a service provider.

mod helpers;

mod admin;
mod admin_refresh;
mod admin_service_extras;
mod admin_users;
mod bad_input;
mod cli;
mod contractor;
mod idp_init;
mod login;
mod profile;
mod signatures;
mod sso;
mod vectors;
