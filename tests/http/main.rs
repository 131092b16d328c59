//! HTTP integration tests: the real app on a real socket and a real
//! database file, driven like a browser and like a service provider.

mod helpers;

mod admin;
mod admin_refresh;
mod admin_service_extras;
mod admin_users;
mod bad_input;
mod cli;
mod cli_security;
mod contractor;
mod idp_init;
mod lockout;
mod login;
mod mfa_sms;
mod mfa_totp;
mod profile;
mod security_helpers;
mod sessions;
mod signatures;
mod sso;
mod step_up;
mod vectors;
mod web_surface;
