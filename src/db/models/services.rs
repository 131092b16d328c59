//! The `services`, `service_endpoints` and `service_users` tables.

use diesel::prelude::*;

use crate::db::schema::{
    group_members, group_services, service_endpoints, service_users, services, users,
};
use crate::db::{DbConn, DbError};
use crate::saml::sp_metadata::AcsEndpoint;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = services)]
pub struct Service {
    pub id: i32,
    pub entity_id: String,
    pub display_name: String,
    pub description: String,
    pub metadata_xml: String,
    pub metadata_url: Option<String>,
    pub nameid_format: String,
    pub default_relay_state: String,
    pub sign_response: bool,
    pub sign_assertion: bool,
    pub session_minutes: i32,
    pub enabled: bool,
    pub authn_requests_signed: bool,
    pub signing_certs: String,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
    pub refreshed_at: Option<chrono::NaiveDateTime>,
    pub next_refresh_at: Option<chrono::NaiveDateTime>,
    pub refresh_error: String,
    /// JSON list of released attributes; empty means the default set.
    pub attribute_release: String,
    /// Content type of the uploaded icon; empty when there is none.
    pub icon_type: String,
    /// A second factor is needed before an assertion is issued.
    pub mfa_required: bool,
}

impl Service {
    /// Signing certificates from the metadata, base64 DER each.
    pub fn signing_cert_list(&self) -> Vec<String> {
        self.signing_certs
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }
}

/// What registration from metadata writes.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = services)]
pub struct ServiceMetadataFields {
    pub entity_id: String,
    pub display_name: String,
    pub metadata_xml: String,
    pub metadata_url: Option<String>,
    pub authn_requests_signed: bool,
    pub signing_certs: String,
    pub updated_at: chrono::NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = services)]
pub struct NewServiceSettings {
    pub nameid_format: String,
    pub session_minutes: i32,
    pub created_at: chrono::NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = service_endpoints)]
pub struct Endpoint {
    pub binding: String,
    pub location: String,
    pub idx: i32,
    pub is_default: Option<bool>,
}

impl From<Endpoint> for AcsEndpoint {
    fn from(e: Endpoint) -> Self {
        AcsEndpoint {
            binding: e.binding,
            location: e.location,
            index: e.idx,
            is_default: e.is_default,
        }
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = service_endpoints)]
struct NewEndpoint<'a> {
    service_id: i32,
    binding: &'a str,
    location: &'a str,
    idx: i32,
    is_default: Option<bool>,
}

pub fn find_by_entity_id(conn: &mut DbConn, entity_id: &str) -> Result<Option<Service>, DbError> {
    Ok(services::table
        .filter(services::entity_id.eq(entity_id))
        .select(Service::as_select())
        .first(conn)
        .optional()?)
}

pub fn find(conn: &mut DbConn, id: i32) -> Result<Option<Service>, DbError> {
    Ok(services::table
        .find(id)
        .select(Service::as_select())
        .first(conn)
        .optional()?)
}

pub fn list(conn: &mut DbConn) -> Result<Vec<Service>, DbError> {
    Ok(services::table
        .order(services::display_name)
        .select(Service::as_select())
        .load(conn)?)
}

pub fn endpoints(conn: &mut DbConn, service_id: i32) -> Result<Vec<AcsEndpoint>, DbError> {
    let rows: Vec<Endpoint> = service_endpoints::table
        .filter(service_endpoints::service_id.eq(service_id))
        .order(service_endpoints::idx)
        .select(Endpoint::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(AcsEndpoint::from).collect())
}

/// Inserts or updates a service's metadata-derived fields and replaces its
/// endpoints, in one immediate transaction. Returns (id, created).
pub fn upsert_from_metadata(
    conn: &mut DbConn,
    fields: &ServiceMetadataFields,
    defaults: &NewServiceSettings,
    acs: &[AcsEndpoint],
) -> Result<(i32, bool), DbError> {
    crate::db::write_tx(conn, |conn| {
        let existing = find_by_entity_id(conn, &fields.entity_id)?;
        let created = existing.is_none();
        let id = match existing {
            Some(s) => {
                diesel::update(services::table.find(s.id))
                    .set(fields)
                    .execute(conn)?;
                s.id
            }
            None => {
                diesel::insert_into(services::table)
                    .values((defaults, fields))
                    .execute(conn)?;
                find_by_entity_id(conn, &fields.entity_id)?
                    .ok_or(DbError::Query(diesel::result::Error::NotFound))?
                    .id
            }
        };
        diesel::delete(service_endpoints::table.filter(service_endpoints::service_id.eq(id)))
            .execute(conn)?;
        for e in acs {
            diesel::insert_into(service_endpoints::table)
                .values(&NewEndpoint {
                    service_id: id,
                    binding: &e.binding,
                    location: &e.location,
                    idx: e.index,
                    is_default: e.is_default,
                })
                .execute(conn)?;
        }
        Ok((id, created))
    })
}

/// Assigns the service to a user; assigning twice is not an error.
pub fn assign(
    conn: &mut DbConn,
    service_id: i32,
    user_id: i32,
    now: chrono::NaiveDateTime,
) -> Result<bool, DbError> {
    let exists = service_users::table
        .find((service_id, user_id))
        .count()
        .get_result::<i64>(conn)?
        > 0;
    if exists {
        return Ok(false);
    }
    let r = diesel::insert_into(service_users::table)
        .values((
            service_users::service_id.eq(service_id),
            service_users::user_id.eq(user_id),
            service_users::created_at.eq(now),
        ))
        .execute(conn);
    match r.map_err(DbError::from) {
        Ok(_) => Ok(true),
        Err(e) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether the user may use the service: assigned directly or through a
/// group.
pub fn is_assigned(conn: &mut DbConn, service_id: i32, user_id: i32) -> Result<bool, DbError> {
    let direct = service_users::table
        .find((service_id, user_id))
        .count()
        .get_result::<i64>(conn)?;
    if direct > 0 {
        return Ok(true);
    }
    let via_group = group_services::table
        .inner_join(group_members::table.on(group_members::group_id.eq(group_services::group_id)))
        .filter(group_services::service_id.eq(service_id))
        .filter(group_members::user_id.eq(user_id))
        .count()
        .get_result::<i64>(conn)?;
    Ok(via_group > 0)
}

/// The enabled services a user may use (directly or through a group), by
/// display name.
pub fn list_for_user(conn: &mut DbConn, user_id: i32) -> Result<Vec<Service>, DbError> {
    let direct = service_users::table
        .filter(service_users::user_id.eq(user_id))
        .select(service_users::service_id);
    let via_group = group_services::table
        .inner_join(group_members::table.on(group_members::group_id.eq(group_services::group_id)))
        .filter(group_members::user_id.eq(user_id))
        .select(group_services::service_id);
    Ok(services::table
        .filter(services::enabled.eq(true))
        .filter(
            services::id
                .eq_any(direct)
                .or(services::id.eq_any(via_group)),
        )
        .order(services::display_name)
        .select(Service::as_select())
        .load(conn)?)
}

pub fn assigned_usernames(conn: &mut DbConn, service_id: i32) -> Result<Vec<String>, DbError> {
    Ok(service_users::table
        .inner_join(users::table)
        .filter(service_users::service_id.eq(service_id))
        .order(users::username)
        .select(users::username)
        .load(conn)?)
}

pub fn set_nameid_format(conn: &mut DbConn, id: i32, format: &str) -> Result<(), DbError> {
    diesel::update(services::table.find(id))
        .set(services::nameid_format.eq(format))
        .execute(conn)?;
    Ok(())
}

/// What an admin edits on a service's page.
#[derive(Debug, Clone, AsChangeset, serde::Serialize)]
#[diesel(table_name = services)]
pub struct SettingsChange {
    pub display_name: String,
    pub description: String,
    pub default_relay_state: String,
    pub nameid_format: String,
    pub sign_response: bool,
    pub sign_assertion: bool,
    pub session_minutes: i32,
    pub enabled: bool,
    /// A second factor is needed before an assertion is issued.
    pub mfa_required: bool,
    #[serde(skip)]
    pub updated_at: chrono::NaiveDateTime,
}

impl SettingsChange {
    pub fn of(s: &Service) -> Self {
        SettingsChange {
            display_name: s.display_name.clone(),
            description: s.description.clone(),
            default_relay_state: s.default_relay_state.clone(),
            nameid_format: s.nameid_format.clone(),
            sign_response: s.sign_response,
            sign_assertion: s.sign_assertion,
            session_minutes: s.session_minutes,
            enabled: s.enabled,
            mfa_required: s.mfa_required,
            updated_at: s.updated_at,
        }
    }
}

pub fn update_settings(conn: &mut DbConn, id: i32, change: &SettingsChange) -> Result<(), DbError> {
    diesel::update(services::table.find(id))
        .set(change)
        .execute(conn)?;
    Ok(())
}

pub fn unassign(conn: &mut DbConn, service_id: i32, user_id: i32) -> Result<bool, DbError> {
    Ok(diesel::delete(service_users::table.find((service_id, user_id))).execute(conn)? > 0)
}

pub fn delete(conn: &mut DbConn, id: i32) -> Result<bool, DbError> {
    diesel::delete(service_endpoints::table.filter(service_endpoints::service_id.eq(id)))
        .execute(conn)?;
    diesel::delete(service_users::table.filter(service_users::service_id.eq(id))).execute(conn)?;
    diesel::delete(group_services::table.filter(group_services::service_id.eq(id)))
        .execute(conn)?;
    diesel::delete(
        crate::db::schema::session_services::table
            .filter(crate::db::schema::session_services::service_id.eq(id)),
    )
    .execute(conn)?;
    diesel::delete(
        crate::db::schema::pending_requests::table
            .filter(crate::db::schema::pending_requests::service_id.eq(id)),
    )
    .execute(conn)?;
    Ok(diesel::delete(services::table.find(id)).execute(conn)? > 0)
}

/// People who may use the service, directly or through a group.
pub fn count_assigned(conn: &mut DbConn, service_id: i32) -> Result<i64, DbError> {
    let direct = service_users::table
        .filter(service_users::service_id.eq(service_id))
        .select(service_users::user_id);
    Ok(users::table
        .filter(
            users::id
                .eq_any(direct)
                .or(users::id.eq_any(via_groups(service_id))),
        )
        .count()
        .get_result(conn)?)
}

/// The user IDs of the members of the groups that have a service.
type ViaGroups = diesel::dsl::Select<
    diesel::dsl::Filter<
        diesel::dsl::InnerJoinOn<
            group_members::table,
            group_services::table,
            diesel::dsl::Eq<group_members::group_id, group_services::group_id>,
        >,
        diesel::dsl::Eq<group_services::service_id, i32>,
    >,
    group_members::user_id,
>;

fn via_groups(service_id: i32) -> ViaGroups {
    group_members::table
        .inner_join(group_services::table.on(group_members::group_id.eq(group_services::group_id)))
        .filter(group_services::service_id.eq(service_id))
        .select(group_members::user_id)
}

/// People who may use the service through a group only.
pub fn usernames_via_groups(conn: &mut DbConn, service_id: i32) -> Result<Vec<String>, DbError> {
    let direct = service_users::table
        .filter(service_users::service_id.eq(service_id))
        .select(service_users::user_id);
    Ok(users::table
        .filter(users::id.eq_any(via_groups(service_id)))
        .filter(diesel::dsl::not(users::id.eq_any(direct)))
        .order(users::username)
        .select(users::username)
        .load(conn)?)
}

/// Records the outcome of a metadata refresh.
pub fn set_refresh(
    conn: &mut DbConn,
    id: i32,
    refreshed_at: Option<chrono::NaiveDateTime>,
    next: chrono::NaiveDateTime,
    error: &str,
) -> Result<(), DbError> {
    match refreshed_at {
        Some(t) => diesel::update(services::table.find(id))
            .set((
                services::refreshed_at.eq(Some(t)),
                services::next_refresh_at.eq(Some(next)),
                services::refresh_error.eq(error),
            ))
            .execute(conn)?,
        None => diesel::update(services::table.find(id))
            .set((
                services::next_refresh_at.eq(Some(next)),
                services::refresh_error.eq(error),
            ))
            .execute(conn)?,
    };
    Ok(())
}

/// Services registered from a URL whose refresh is due.
pub fn list_due(conn: &mut DbConn, now: chrono::NaiveDateTime) -> Result<Vec<Service>, DbError> {
    Ok(services::table
        .filter(services::metadata_url.is_not_null())
        .filter(
            services::next_refresh_at
                .is_null()
                .or(services::next_refresh_at.le(now)),
        )
        .select(Service::as_select())
        .load(conn)?)
}

pub fn set_attribute_release(conn: &mut DbConn, id: i32, json: &str) -> Result<(), DbError> {
    diesel::update(services::table.find(id))
        .set(services::attribute_release.eq(json))
        .execute(conn)?;
    Ok(())
}

/// Stores (or with `None` removes) the service's icon.
pub fn set_icon(
    conn: &mut DbConn,
    id: i32,
    icon: Option<(&str, &[u8])>,
    now: chrono::NaiveDateTime,
) -> Result<(), DbError> {
    let (ctype, bytes) = match icon {
        Some((t, b)) => (t.to_string(), Some(b.to_vec())),
        None => (String::new(), None),
    };
    diesel::update(services::table.find(id))
        .set((
            services::icon_type.eq(ctype),
            services::icon.eq(bytes),
            services::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The icon (content type, bytes) of an enabled service.
pub fn find_icon(conn: &mut DbConn, id: i32) -> Result<Option<(String, Vec<u8>)>, DbError> {
    let row: Option<(String, Option<Vec<u8>>)> = services::table
        .find(id)
        .filter(services::enabled.eq(true))
        .select((services::icon_type, services::icon))
        .first(conn)
        .optional()?;
    Ok(row
        .and_then(|(t, b)| b.map(|b| (t, b)))
        .filter(|(t, _)| !t.is_empty()))
}
