//! omakase (おまかせログイン): a SAML 2.0 Identity Provider with an employee
//! launcher portal.
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod i18n;
pub mod saml;
pub mod startup;
pub mod state;
pub mod templates;
pub mod web;
