//! Registering services from their SAML metadata.

use std::io::Read;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::db::models::services::{self, NewServiceSettings, ServiceMetadataFields};
use crate::db::models::users;
use crate::db::{to_naive, DbConn, DbError};
use crate::saml::nameid::NameIdFormat;
use crate::saml::sp_metadata::SpMetadata;
use crate::saml::SamlError;

/// Largest metadata document we read.
pub const MAX_METADATA: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("cannot read {0}: {1}")]
    Read(String, String),
    #[error("invalid metadata: {0}")]
    Metadata(#[from] SamlError),
    #[error("unknown NameID format {0:?} (use email, persistent, transient or unspecified)")]
    NameIdFormat(String),
    #[error("the metadata expired at {0} (validUntil)")]
    Expired(String),
    #[error("no such service: {0}")]
    NotFound(String),
    #[error("no such user: {0}")]
    NoUser(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Reads metadata from a file path or an http(s) URL; returns the text and
/// the URL it came from (if any).
pub fn read_source(source: &str) -> Result<(String, Option<String>), ServiceError> {
    let err = |e: String| ServiceError::Read(source.to_string(), e);
    if source.starts_with("http://") || source.starts_with("https://") {
        let tls = native_tls::TlsConnector::new().map_err(|e| err(e.to_string()))?;
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(20))
            .tls_connector(std::sync::Arc::new(tls))
            .build();
        let resp = agent.get(source).call().map_err(|e| err(e.to_string()))?;
        let mut body = Vec::new();
        resp.into_reader()
            .take(MAX_METADATA as u64 + 1)
            .read_to_end(&mut body)
            .map_err(|e| err(e.to_string()))?;
        if body.len() > MAX_METADATA {
            return Err(err(format!("larger than {MAX_METADATA} bytes")));
        }
        let text = String::from_utf8(body).map_err(|_| err("not UTF-8".into()))?;
        Ok((text, Some(source.to_string())))
    } else {
        let meta = std::fs::metadata(source).map_err(|e| err(e.to_string()))?;
        if meta.len() > MAX_METADATA as u64 {
            return Err(err(format!("larger than {MAX_METADATA} bytes")));
        }
        let text = std::fs::read_to_string(source).map_err(|e| err(e.to_string()))?;
        Ok((text, None))
    }
}

/// Refuses metadata whose validUntil has passed.
pub fn check_valid_until(m: &SpMetadata, now: DateTime<Utc>) -> Result<(), ServiceError> {
    let until = m
        .valid_until
        .as_deref()
        .and_then(crate::saml::authn_request::parse_instant);
    match until {
        Some(t) if t <= now => Err(ServiceError::Expired(
            m.valid_until.clone().unwrap_or_default(),
        )),
        _ => Ok(()),
    }
}

pub struct Registered {
    pub entity_id: String,
    pub created: bool,
    pub metadata: SpMetadata,
}

/// The NameID format a new service starts with: email, unless its
/// metadata lists formats without email but with one we support.
fn initial_format(m: &SpMetadata) -> NameIdFormat {
    let listed: Vec<NameIdFormat> = m
        .name_id_formats
        .iter()
        .filter_map(|f| NameIdFormat::from_uri(f))
        .collect();
    if m.name_id_formats.is_empty() || listed.contains(&NameIdFormat::Email) {
        NameIdFormat::Email
    } else {
        listed.first().copied().unwrap_or(NameIdFormat::Email)
    }
}

/// Registers a service or updates it from new metadata. Settings an admin
/// chose (name, format, lifetime) are kept on update unless given.
pub fn register(
    conn: &mut DbConn,
    xml: &str,
    url: Option<String>,
    name: Option<&str>,
    nameid_format: Option<&str>,
    session_minutes: i32,
    now: DateTime<Utc>,
) -> Result<Registered, ServiceError> {
    let m = SpMetadata::parse(xml)?;
    check_valid_until(&m, now)?;
    let format = match nameid_format {
        Some(f) => {
            Some(NameIdFormat::parse(f).ok_or_else(|| ServiceError::NameIdFormat(f.to_string()))?)
        }
        None => None,
    };
    let existing = services::find_by_entity_id(conn, &m.entity_id)?;
    let display_name = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .or_else(|| existing.as_ref().map(|s| s.display_name.clone()))
        .or_else(|| m.display_name.clone())
        .unwrap_or_else(|| {
            url::Url::parse(&m.entity_id)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_else(|| m.entity_id.clone())
        });
    let fields = ServiceMetadataFields {
        entity_id: m.entity_id.clone(),
        display_name,
        metadata_xml: xml.to_string(),
        metadata_url: url.or_else(|| existing.as_ref().and_then(|s| s.metadata_url.clone())),
        authn_requests_signed: m.authn_requests_signed,
        signing_certs: m.signing_certs.join("\n"),
        updated_at: to_naive(now),
    };
    let defaults = NewServiceSettings {
        nameid_format: format
            .unwrap_or_else(|| initial_format(&m))
            .key()
            .to_string(),
        session_minutes,
        created_at: to_naive(now),
    };
    let (id, created) = services::upsert_from_metadata(conn, &fields, &defaults, &m.acs)?;
    if let (Some(f), false) = (format, created) {
        services::set_nameid_format(conn, id, f.key())?;
    }
    if fields.metadata_url.is_some() {
        let next = super::refresh::next_refresh(&m, now);
        services::set_refresh(conn, id, Some(to_naive(now)), to_naive(next), "")?;
    }
    Ok(Registered {
        entity_id: m.entity_id.clone(),
        created,
        metadata: m,
    })
}

/// Assigns a service to one user or to all users; returns how many new
/// assignments were made.
pub fn assign(
    conn: &mut DbConn,
    entity_id: &str,
    username: Option<&str>,
    now: DateTime<Utc>,
) -> Result<usize, ServiceError> {
    let s = services::find_by_entity_id(conn, entity_id)?
        .ok_or_else(|| ServiceError::NotFound(entity_id.to_string()))?;
    let ids = match username {
        Some(u) => vec![
            users::find_by_username(conn, u)?
                .ok_or_else(|| ServiceError::NoUser(u.to_string()))?
                .id,
        ],
        None => users::list_ids(conn)?,
    };
    let mut n = 0;
    for uid in ids {
        if services::assign(conn, s.id, uid, to_naive(now))? {
            n += 1;
        }
    }
    Ok(n)
}
