//! Users from CSV: every line checked first (a dry run stops there); when
//! any line is bad nothing is applied, otherwise all lines are applied in
//! one transaction. New users get one-time passwords.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::csv;
use super::users::{self as du, may_manage, may_set_role, UserInput};
use crate::auth::password;
use crate::db::models::groups;
use crate::db::models::users::{self, AdminChange, Role, User};
use crate::db::{DbConn, DbError};

pub const COLUMNS: [&str; 9] = [
    "username",
    "email",
    "display_name",
    "phone",
    "mobile",
    "organization",
    "department",
    "role",
    "groups",
];

/// Largest import: lines and bytes.
pub const MAX_LINES: usize = 20_000;
pub const MAX_BYTES: usize = 8 * 1024 * 1024;

#[derive(Debug, Serialize)]
pub struct LineReport {
    pub line: usize,
    pub username: String,
    pub action: &'static str,
    pub errors: Vec<&'static str>,
}

#[derive(Debug)]
struct Row {
    username: String,
    change: AdminChange,
    role: Option<Role>,
    groups: Vec<i32>,
    existing: Option<User>,
}

#[derive(Debug, Default)]
pub struct Plan {
    pub lines: Vec<LineReport>,
    /// A problem with the whole file (key, line).
    pub file_error: Option<(&'static str, usize)>,
    rows: Vec<Row>,
}

impl Plan {
    pub fn ok(&self) -> bool {
        self.file_error.is_none() && self.lines.iter().all(|l| l.errors.is_empty())
    }

    pub fn count(&self, action: &str) -> usize {
        self.lines.iter().filter(|l| l.action == action).count()
    }
}

fn file_error(key: &'static str, line: usize) -> Plan {
    Plan {
        file_error: Some((key, line)),
        ..Plan::default()
    }
}

/// Checks every line against the database without changing anything.
pub fn plan(conn: &mut DbConn, text: &str, actor: Role) -> Result<Plan, DbError> {
    if text.len() > MAX_BYTES {
        return Ok(file_error("csv.too_large", 0));
    }
    let records = match csv::parse(text) {
        Ok(r) => r,
        Err(e) => return Ok(file_error("csv.malformed", e.line)),
    };
    let Some((_, header)) = records.first() else {
        return Ok(file_error("csv.empty", 0));
    };
    if records.len() > MAX_LINES + 1 {
        return Ok(file_error("csv.too_large", 0));
    }
    let header: Vec<String> = header
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    if header.iter().any(|h| !COLUMNS.contains(&h.as_str()))
        || !header.iter().any(|h| h == "username")
    {
        return Ok(file_error("csv.bad_header", 1));
    }
    let col = |name: &str| header.iter().position(|h| h == name);
    let mut plan = Plan::default();
    let mut seen = std::collections::HashSet::new();
    for (line, rec) in records.iter().skip(1) {
        let mut errors = Vec::new();
        if rec.len() != header.len() {
            plan.lines.push(LineReport {
                line: *line,
                username: rec.first().cloned().unwrap_or_default(),
                action: "error",
                errors: vec!["csv.field_count"],
            });
            continue;
        }
        let get = |name: &str| col(name).map(|i| rec[i].trim().to_string());
        let username = get("username").unwrap_or_default();
        if !du::valid_username(&username) {
            errors.push("admin.username_invalid");
        }
        if !seen.insert(username.clone()) {
            errors.push("csv.duplicate");
        }
        let existing = users::find_by_username(conn, &username)?;
        let base = existing
            .as_ref()
            .map(AdminChange::of)
            .unwrap_or(AdminChange {
                email: String::new(),
                display_name: String::new(),
                phone: String::new(),
                mobile: String::new(),
                organization: String::new(),
                department: String::new(),
            });
        let change = AdminChange {
            email: get("email").unwrap_or(base.email.clone()),
            display_name: get("display_name").unwrap_or(base.display_name.clone()),
            phone: get("phone")
                .map(|p| du::normalise_phone(&p))
                .unwrap_or(base.phone.clone()),
            mobile: get("mobile")
                .map(|p| du::normalise_phone(&p))
                .unwrap_or(base.mobile.clone()),
            organization: get("organization").unwrap_or(base.organization.clone()),
            department: get("department").unwrap_or(base.department.clone()),
        };
        if !change.email.is_empty() && !du::valid_email(&change.email) {
            errors.push("admin.email_invalid");
        }
        if change.display_name.is_empty() {
            errors.push("profile.name_required");
        }
        if [
            &change.display_name,
            &change.organization,
            &change.department,
        ]
        .iter()
        .any(|f| f.chars().count() > 100)
        {
            errors.push("profile.too_long");
        }
        if [&change.phone, &change.mobile]
            .iter()
            .any(|p| !p.is_empty() && !du::valid_phone(p))
        {
            errors.push("profile.phone_invalid");
        }
        let current = existing.as_ref().map(User::role).unwrap_or(Role::User);
        let role = match get("role").filter(|r| !r.is_empty()) {
            Some(r) => match Role::parse(&r) {
                Some(role) => Some(role),
                None => {
                    errors.push("admin.role_invalid");
                    None
                }
            },
            None => None,
        };
        if !may_set_role(actor, current, role.unwrap_or(current)) {
            errors.push("admin.role_forbidden");
        }
        if existing.is_some() && !may_manage(actor, current) {
            errors.push("csv.not_manageable");
        }
        let mut group_ids = Vec::new();
        for g in get("groups")
            .unwrap_or_default()
            .split(';')
            .map(str::trim)
            .filter(|g| !g.is_empty())
        {
            match groups::find_by_name(conn, g)? {
                Some(found) => group_ids.push(found.id),
                None => errors.push("csv.unknown_group"),
            }
        }
        let action = match &existing {
            _ if !errors.is_empty() => "error",
            None => "create",
            Some(u)
                if AdminChange::of(u) == change
                    && role.map(|r| r == u.role()).unwrap_or(true)
                    && group_ids.is_empty() =>
            {
                "unchanged"
            }
            Some(_) => "update",
        };
        plan.lines.push(LineReport {
            line: *line,
            username: username.clone(),
            action,
            errors,
        });
        plan.rows.push(Row {
            username,
            change,
            role,
            groups: group_ids,
            existing,
        });
    }
    Ok(plan)
}

/// Applies a plan that has no errors; returns the one-time passwords of
/// the new users. Call inside one transaction.
pub fn apply(
    conn: &mut DbConn,
    plan: &Plan,
    now: DateTime<Utc>,
) -> Result<Vec<(String, String)>, DbError> {
    let mut created = Vec::new();
    for row in &plan.rows {
        let id = match &row.existing {
            Some(u) => {
                users::update_admin(conn, u.id, &row.change, now)?;
                if let Some(r) = row.role.filter(|r| *r != u.role()) {
                    users::set_role(conn, u.id, r)?;
                }
                u.id
            }
            None => {
                let one_time = password::generate_one_time();
                let input = UserInput {
                    username: &row.username,
                    email: &row.change.email,
                    display_name: &row.change.display_name,
                    role: row.role.unwrap_or(Role::User),
                    password: &one_time,
                    must_change_password: true,
                };
                let u = du::create(conn, &input, now).map_err(|e| match e {
                    du::UserError::Db(d) => d,
                    other => DbError::Migration(other.to_string()),
                })?;
                users::update_admin(conn, u.id, &row.change, now)?;
                created.push((row.username.clone(), one_time));
                u.id
            }
        };
        for g in &row.groups {
            groups::add_member(conn, *g, id)?;
        }
    }
    Ok(created)
}

/// All users as CSV (UTF-8 with BOM), in the import's columns.
pub fn export(conn: &mut DbConn) -> Result<String, DbError> {
    let mut out = String::from(csv::BOM);
    out.push_str(&csv::row(&COLUMNS));
    for u in users::list_all(conn)? {
        let g = groups::names_of_user(conn, u.id)?.join(";");
        out.push_str(&csv::row(&[
            &u.username,
            &u.email,
            &u.display_name,
            &u.phone,
            &u.mobile,
            &u.organization,
            &u.department,
            &u.role,
            &g,
        ]));
    }
    Ok(out)
}
