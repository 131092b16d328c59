//! End of use (利用終了): a complete export of the customer's data as a zip
//! of CSV and JSON files, and the deletion of all of it. The IdP's own
//! signing key and instance secret stay (they are not customer data).

use std::io::Write;

use serde::Serialize;
use zip::write::SimpleFileOptions;

use super::{csv, user_import};
use crate::db::models::{audit, contract, groups, services};
use crate::db::schema;
use crate::db::{DbConn, DbError};

#[derive(Serialize)]
struct ServiceOut {
    entity_id: String,
    display_name: String,
    description: String,
    metadata_url: Option<String>,
    metadata_file: String,
    nameid_format: String,
    default_relay_state: String,
    sign_response: bool,
    sign_assertion: bool,
    session_minutes: i32,
    enabled: bool,
    mfa_required: bool,
    authn_requests_signed: bool,
    /// Released attributes (JSON; empty: the default set).
    attribute_release: String,
    users: Vec<String>,
    groups: Vec<String>,
}

#[derive(Serialize)]
struct GroupOut {
    name: String,
    mfa_required: bool,
    members: Vec<String>,
    services: Vec<String>,
}

const README: &str = "omakase export\n\n\
users.csv      users (UTF-8 with BOM; the columns `omakase csv import` reads)\n\
groups.json    groups with their members and services\n\
services.json  services with their settings, users and groups\n\
metadata/      each service's SAML metadata as registered\n\
contract.json  contract details\n\
security.json  who must use a second factor (secrets of second factors are not exported)\n\
audit.csv      the whole audit log (times in UTC)\n";

fn zip_err(e: impl std::fmt::Display) -> DbError {
    DbError::Migration(format!("cannot build the export: {e}"))
}

/// Everything, as a zip archive.
pub fn export_zip(conn: &mut DbConn) -> Result<Vec<u8>, DbError> {
    let mut files: Vec<(String, Vec<u8>)> = vec![("README.txt".into(), README.as_bytes().to_vec())];
    files.push(("users.csv".into(), user_import::export(conn)?.into_bytes()));
    let mut group_out = Vec::new();
    for g in groups::list(conn)? {
        group_out.push(GroupOut {
            members: groups::member_names(conn, g.id)?,
            services: groups::service_names(conn, g.id)?
                .into_iter()
                .map(|(e, _)| e)
                .collect(),
            name: g.name,
            mfa_required: g.mfa_required,
        });
    }
    files.push((
        "groups.json".into(),
        serde_json::to_vec_pretty(&group_out).map_err(zip_err)?,
    ));
    let mut service_out = Vec::new();
    for (i, s) in services::list(conn)?.into_iter().enumerate() {
        let metadata_file = format!("metadata/{:03}.xml", i + 1);
        files.push((metadata_file.clone(), s.metadata_xml.clone().into_bytes()));
        service_out.push(ServiceOut {
            users: services::assigned_usernames(conn, s.id)?,
            groups: groups::names_of_service(conn, s.id)?,
            entity_id: s.entity_id,
            display_name: s.display_name,
            description: s.description,
            metadata_url: s.metadata_url,
            metadata_file,
            nameid_format: s.nameid_format,
            default_relay_state: s.default_relay_state,
            sign_response: s.sign_response,
            sign_assertion: s.sign_assertion,
            session_minutes: s.session_minutes,
            enabled: s.enabled,
            mfa_required: s.mfa_required,
            authn_requests_signed: s.authn_requests_signed,
            attribute_release: s.attribute_release,
        });
    }
    files.push((
        "services.json".into(),
        serde_json::to_vec_pretty(&service_out).map_err(zip_err)?,
    ));
    files.push((
        "contract.json".into(),
        serde_json::to_vec_pretty(&contract::load(conn)?).map_err(zip_err)?,
    ));
    let security = serde_json::json!({
        "mfa_required_for_everybody": crate::db::models::mfa::required_for_all(conn)?,
        "mfa_required_users": crate::db::models::users::list_all(conn)?
            .into_iter()
            .filter(|u| u.mfa_required)
            .map(|u| u.username)
            .collect::<Vec<_>>(),
    });
    files.push((
        "security.json".into(),
        serde_json::to_vec_pretty(&security).map_err(zip_err)?,
    ));
    let mut audit_csv = String::from(csv::BOM);
    audit_csv.push_str(&csv::row(&[
        "at_utc", "kind", "actor", "subject", "service", "ip", "detail",
    ]));
    let mut events = audit::list(conn, &audit::Filter::default(), 0, i64::MAX)?;
    events.reverse();
    for e in events {
        let at = e.at.format("%Y/%m/%d %H:%M:%S").to_string();
        audit_csv.push_str(&csv::row(&[
            &at, &e.kind, &e.actor, &e.subject, &e.service, &e.ip, &e.detail,
        ]));
    }
    files.push(("audit.csv".into(), audit_csv.into_bytes()));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in files {
        zip.start_file(name, options).map_err(zip_err)?;
        zip.write_all(&data).map_err(zip_err)?;
    }
    Ok(zip.finish().map_err(zip_err)?.into_inner())
}

/// Deletes all customer data. Call inside one transaction.
pub fn delete_all(conn: &mut DbConn) -> Result<(), DbError> {
    use diesel::prelude::*;
    diesel::delete(schema::sms_codes::table).execute(conn)?;
    diesel::delete(schema::recovery_codes::table).execute(conn)?;
    diesel::delete(schema::totp_factors::table).execute(conn)?;
    diesel::delete(schema::login_throttle::table).execute(conn)?;
    diesel::delete(schema::security_settings::table).execute(conn)?;
    diesel::delete(schema::session_services::table).execute(conn)?;
    diesel::delete(schema::sessions::table).execute(conn)?;
    diesel::delete(schema::pending_requests::table).execute(conn)?;
    diesel::delete(schema::used_request_ids::table).execute(conn)?;
    diesel::delete(schema::service_users::table).execute(conn)?;
    diesel::delete(schema::group_services::table).execute(conn)?;
    diesel::delete(schema::group_members::table).execute(conn)?;
    diesel::delete(schema::groups::table).execute(conn)?;
    diesel::delete(schema::service_endpoints::table).execute(conn)?;
    diesel::delete(schema::services::table).execute(conn)?;
    diesel::delete(schema::users::table).execute(conn)?;
    diesel::delete(schema::audit_events::table).execute(conn)?;
    diesel::delete(schema::contract_settings::table).execute(conn)?;
    Ok(())
}
