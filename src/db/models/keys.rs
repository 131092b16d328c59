//! The IdP signing key and instance secrets, shared by every instance on
//! the same database: the first instance to start creates them.

use diesel::prelude::*;

use crate::db::schema::{instance_secrets, signing_keys};
use crate::db::{DbConn, DbError};

pub const CURRENT: &str = "current";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = signing_keys)]
pub struct StoredKey {
    pub private_key_pem: String,
    pub certificate_pem: String,
}

pub fn find_key(conn: &mut DbConn, slot: &str) -> Result<Option<StoredKey>, DbError> {
    Ok(signing_keys::table
        .filter(signing_keys::slot.eq(slot))
        .select(StoredKey::as_select())
        .first(conn)
        .optional()?)
}

/// Stores `make()`'s key in `slot` unless one is there; returns the one
/// that is stored (ours or a concurrent instance's) and whether it is ours.
pub fn get_or_insert_key(
    conn: &mut DbConn,
    slot: &str,
    now: chrono::NaiveDateTime,
    make: impl FnOnce() -> Result<StoredKey, DbError>,
) -> Result<(StoredKey, bool), DbError> {
    if let Some(k) = find_key(conn, slot)? {
        return Ok((k, false));
    }
    let new = make()?;
    let r = diesel::insert_into(signing_keys::table)
        .values((
            signing_keys::slot.eq(slot),
            signing_keys::private_key_pem.eq(&new.private_key_pem),
            signing_keys::certificate_pem.eq(&new.certificate_pem),
            signing_keys::created_at.eq(now),
        ))
        .execute(conn)
        .map_err(DbError::from);
    match r {
        Ok(_) => Ok((new, true)),
        Err(e) if e.is_unique_violation() => {
            let k = find_key(conn, slot)?.ok_or(DbError::Query(diesel::result::Error::NotFound))?;
            Ok((k, false))
        }
        Err(e) => Err(e),
    }
}

/// A named secret, created with `make()` by the first instance that asks.
pub fn get_or_insert_secret(
    conn: &mut DbConn,
    name: &str,
    make: impl FnOnce() -> String,
) -> Result<String, DbError> {
    let find = |conn: &mut DbConn| -> Result<Option<String>, DbError> {
        Ok(instance_secrets::table
            .find(name)
            .select(instance_secrets::value)
            .first(conn)
            .optional()?)
    };
    if let Some(v) = find(conn)? {
        return Ok(v);
    }
    let value = make();
    let r = diesel::insert_into(instance_secrets::table)
        .values((
            instance_secrets::name.eq(name),
            instance_secrets::value.eq(&value),
        ))
        .execute(conn)
        .map_err(DbError::from);
    match r {
        Ok(_) => Ok(value),
        Err(e) if e.is_unique_violation() => {
            find(conn)?.ok_or(DbError::Query(diesel::result::Error::NotFound))
        }
        Err(e) => Err(e),
    }
}
