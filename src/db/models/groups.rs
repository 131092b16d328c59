//! The `groups`, `group_members` and `group_services` tables.

use diesel::prelude::*;

use crate::db::schema::{group_members, group_services, groups, services, users};
use crate::db::{DbConn, DbError};

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = groups)]
pub struct Group {
    pub id: i32,
    pub name: String,
    #[serde(skip)]
    pub created_at: chrono::NaiveDateTime,
    /// Members need a second factor.
    pub mfa_required: bool,
}

pub fn list(conn: &mut DbConn) -> Result<Vec<Group>, DbError> {
    Ok(groups::table
        .order(groups::name)
        .select(Group::as_select())
        .load(conn)?)
}

pub fn find(conn: &mut DbConn, id: i32) -> Result<Option<Group>, DbError> {
    Ok(groups::table
        .find(id)
        .select(Group::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_by_name(conn: &mut DbConn, name: &str) -> Result<Option<Group>, DbError> {
    Ok(groups::table
        .filter(groups::name.eq(name))
        .select(Group::as_select())
        .first(conn)
        .optional()?)
}

/// Creates a group; `None` when the name is taken.
pub fn insert(
    conn: &mut DbConn,
    name: &str,
    now: chrono::NaiveDateTime,
) -> Result<Option<Group>, DbError> {
    let r = diesel::insert_into(groups::table)
        .values((groups::name.eq(name), groups::created_at.eq(now)))
        .execute(conn)
        .map_err(DbError::from);
    match r {
        Ok(_) => find_by_name(conn, name),
        Err(e) if e.is_unique_violation() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Renames a group; `false` when the new name is taken.
pub fn rename(conn: &mut DbConn, id: i32, name: &str) -> Result<bool, DbError> {
    let r = diesel::update(groups::table.find(id))
        .set(groups::name.eq(name))
        .execute(conn)
        .map_err(DbError::from);
    match r {
        Ok(_) => Ok(true),
        Err(e) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e),
    }
}

pub fn delete(conn: &mut DbConn, id: i32) -> Result<bool, DbError> {
    diesel::delete(group_members::table.filter(group_members::group_id.eq(id))).execute(conn)?;
    diesel::delete(group_services::table.filter(group_services::group_id.eq(id))).execute(conn)?;
    Ok(diesel::delete(groups::table.find(id)).execute(conn)? > 0)
}

pub fn member_names(conn: &mut DbConn, id: i32) -> Result<Vec<String>, DbError> {
    Ok(group_members::table
        .inner_join(users::table)
        .filter(group_members::group_id.eq(id))
        .order(users::username)
        .select(users::username)
        .load(conn)?)
}

pub fn count_members(conn: &mut DbConn, id: i32) -> Result<i64, DbError> {
    Ok(group_members::table
        .filter(group_members::group_id.eq(id))
        .count()
        .get_result(conn)?)
}

/// (entity ID, display name) of the group's services.
pub fn service_names(conn: &mut DbConn, id: i32) -> Result<Vec<(String, String)>, DbError> {
    Ok(group_services::table
        .inner_join(services::table)
        .filter(group_services::group_id.eq(id))
        .order(services::display_name)
        .select((services::entity_id, services::display_name))
        .load(conn)?)
}

/// Names of the groups a user belongs to.
pub fn names_of_user(conn: &mut DbConn, user_id: i32) -> Result<Vec<String>, DbError> {
    Ok(group_members::table
        .inner_join(groups::table)
        .filter(group_members::user_id.eq(user_id))
        .order(groups::name)
        .select(groups::name)
        .load(conn)?)
}

/// Names of the groups a service is given to.
pub fn names_of_service(conn: &mut DbConn, service_id: i32) -> Result<Vec<String>, DbError> {
    Ok(group_services::table
        .inner_join(groups::table)
        .filter(group_services::service_id.eq(service_id))
        .order(groups::name)
        .select(groups::name)
        .load(conn)?)
}

fn insert_ignoring_duplicate(r: QueryResult<usize>) -> Result<bool, DbError> {
    match r.map_err(DbError::from) {
        Ok(n) => Ok(n > 0),
        Err(e) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e),
    }
}

pub fn add_member(conn: &mut DbConn, id: i32, user_id: i32) -> Result<bool, DbError> {
    if group_members::table
        .find((id, user_id))
        .count()
        .get_result::<i64>(conn)?
        > 0
    {
        return Ok(false);
    }
    insert_ignoring_duplicate(
        diesel::insert_into(group_members::table)
            .values((
                group_members::group_id.eq(id),
                group_members::user_id.eq(user_id),
            ))
            .execute(conn),
    )
}

pub fn remove_member(conn: &mut DbConn, id: i32, user_id: i32) -> Result<bool, DbError> {
    Ok(diesel::delete(group_members::table.find((id, user_id))).execute(conn)? > 0)
}

pub fn add_service(conn: &mut DbConn, id: i32, service_id: i32) -> Result<bool, DbError> {
    if group_services::table
        .find((id, service_id))
        .count()
        .get_result::<i64>(conn)?
        > 0
    {
        return Ok(false);
    }
    insert_ignoring_duplicate(
        diesel::insert_into(group_services::table)
            .values((
                group_services::group_id.eq(id),
                group_services::service_id.eq(service_id),
            ))
            .execute(conn),
    )
}

pub fn remove_service(conn: &mut DbConn, id: i32, service_id: i32) -> Result<bool, DbError> {
    Ok(diesel::delete(group_services::table.find((id, service_id))).execute(conn)? > 0)
}
