//! `omakase user …`

use anyhow::bail;
use clap::Subcommand;

use super::{cli_event, read_password_stdin, Ctx};
use crate::db::models::users::{self, AdminChange, Role, User};
use crate::db::models::{audit, sessions};
use crate::db::DbConn;
use crate::domain::users as du;

#[derive(Subcommand)]
pub enum UserCmd {
    /// Create a user. Without --password-stdin a one-time password is
    /// printed, to be changed at first login.
    Add {
        username: String,
        /// Read the password from standard input (final; no forced change).
        #[arg(long)]
        password_stdin: bool,
        #[arg(long, default_value = "")]
        email: String,
        #[arg(long, default_value = "")]
        name: String,
        #[arg(long, default_value = "user", value_parser = ["user", "admin", "contractor"])]
        role: String,
    },
    /// Change profile fields; the ones not given stay as they are.
    Edit {
        username: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        mobile: Option<String>,
        #[arg(long)]
        organization: Option<String>,
        #[arg(long)]
        department: Option<String>,
    },
    /// Set a user's password (ends the user's sessions).
    SetPassword {
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set the role: user, admin or contractor.
    SetRole {
        username: String,
        #[arg(value_parser = ["user", "admin", "contractor"])]
        role: String,
    },
    /// Disable the account (ends its sessions).
    Disable { username: String },
    /// Enable a disabled account.
    Enable { username: String },
    /// Lock the account (ends its sessions).
    Lock { username: String },
    /// Unlock a locked account (and clear its failed-login count).
    Unlock { username: String },
    /// Remove the user's second factors (authenticator app, SMS, recovery
    /// codes) and end their sessions; a required factor is set up again
    /// at the next login.
    ResetMfa { username: String },
    /// Require a second factor of this user (`on`) or not (`off`).
    RequireMfa {
        username: String,
        #[arg(value_parser = ["on", "off"])]
        setting: String,
    },
    /// Delete the user.
    Delete {
        username: String,
        /// Confirm the deletion.
        #[arg(long)]
        yes: bool,
    },
    /// List users.
    List,
}

fn find(c: &mut DbConn, username: &str) -> anyhow::Result<User> {
    match users::find_by_username(c, username)? {
        Some(u) => Ok(u),
        None => bail!("no such user: {username}"),
    }
}

fn refuse_last_contractor(c: &mut DbConn, u: &User) -> anyhow::Result<()> {
    if u.role() == Role::Contractor && users::count_role(c, Role::Contractor)? <= 1 {
        bail!(
            "{} is the last contractor; make another contractor first",
            u.username
        );
    }
    Ok(())
}

/// The password on standard input, held to the configured policy.
fn checked_password(ctx: &Ctx, username: &str) -> anyhow::Result<String> {
    let p = read_password_stdin()?;
    let policy = crate::auth::password::Policy::of(&ctx.settings);
    if let Err(v) = crate::auth::password::check_policy(&p, username, &policy) {
        use crate::auth::password::PolicyViolation::*;
        match v {
            TooShort => bail!(
                "the password is too short: at least {} characters",
                policy.min_length
            ),
            SameAsUsername => bail!("the password must not contain the user name"),
            Common | Mismatch => bail!("the password is a common password; choose another"),
        }
    }
    Ok(p)
}

pub fn run(cmd: UserCmd, ctx: &Ctx) -> anyhow::Result<()> {
    let mut conn = ctx.conn()?;
    let c = &mut *conn;
    let now = ctx.now();
    match cmd {
        UserCmd::Add {
            username,
            password_stdin,
            email,
            name,
            role,
        } => {
            let (password, one_time) = if password_stdin {
                (checked_password(ctx, &username)?, false)
            } else {
                (crate::auth::password::generate_one_time(), true)
            };
            let role = Role::parse(&role).unwrap_or(Role::User);
            let input = du::UserInput {
                username: &username,
                email: email.trim(),
                display_name: &name,
                role,
                password: &password,
                must_change_password: one_time,
            };
            du::create(c, &input, now)?;
            let e = cli_event("cli.user.add")
                .subject(&username)
                .detail(serde_json::json!({ "role": role.as_str(), "email": input.email, "name": input.display_name }));
            audit::insert(c, &e, now)?;
            println!("created user {username} ({})", role.as_str());
            if one_time {
                println!("one-time password: {password} (must be changed at first login)");
            }
        }
        UserCmd::Edit {
            username,
            email,
            name,
            phone,
            mobile,
            organization,
            department,
        } => {
            let u = find(c, &username)?;
            let before = AdminChange::of(&u);
            let after = AdminChange {
                email: email
                    .map(|e| e.trim().to_string())
                    .unwrap_or(before.email.clone()),
                display_name: name
                    .map(|n| n.trim().to_string())
                    .unwrap_or(before.display_name.clone()),
                phone: phone
                    .map(|p| du::normalise_phone(&p))
                    .unwrap_or(before.phone.clone()),
                mobile: mobile
                    .map(|p| du::normalise_phone(&p))
                    .unwrap_or(before.mobile.clone()),
                organization: organization
                    .map(|o| o.trim().to_string())
                    .unwrap_or(before.organization.clone()),
                department: department
                    .map(|d| d.trim().to_string())
                    .unwrap_or(before.department.clone()),
            };
            if !after.email.is_empty() && !du::valid_email(&after.email) {
                bail!("invalid email address {:?}", after.email);
            }
            if after.display_name.is_empty() {
                bail!("the name must not be empty");
            }
            for p in [&after.phone, &after.mobile] {
                if !p.is_empty() && !du::valid_phone(p) {
                    bail!("invalid phone number {p:?} (10 to 15 digits)");
                }
            }
            users::update_admin(c, u.id, &after, now)?;
            let e = cli_event("cli.user.edit")
                .subject(&username)
                .detail(serde_json::json!({ "before": before, "after": after }));
            audit::insert(c, &e, now)?;
            println!("updated {username}");
        }
        UserCmd::SetPassword {
            username,
            password_stdin,
        } => {
            if !password_stdin {
                bail!("give the new password on standard input with --password-stdin");
            }
            let password = checked_password(ctx, &username)?;
            du::set_password(c, &username, &password, false, now)?;
            audit::insert(
                c,
                &cli_event("cli.user.set_password").subject(&username),
                now,
            )?;
            println!("password of {username} set");
        }
        UserCmd::SetRole { username, role } => {
            let u = find(c, &username)?;
            let role = Role::parse(&role).unwrap_or(Role::User);
            if role != Role::Contractor {
                refuse_last_contractor(c, &u)?;
            }
            users::set_role(c, u.id, role)?;
            let e = cli_event("cli.user.set_role")
                .subject(&username)
                .detail(serde_json::json!({ "before": u.role, "after": role.as_str() }));
            audit::insert(c, &e, now)?;
            println!("{username} is now {}", role.as_str());
        }
        UserCmd::Disable { username } => flag(c, ctx, &username, "cli.user.disable", |c, u| {
            refuse_last_contractor(c, u)?;
            users::set_disabled(c, u.id, true)?;
            sessions::delete_for_user(c, u.id, None)?;
            Ok("disabled")
        })?,
        UserCmd::Enable { username } => flag(c, ctx, &username, "cli.user.enable", |c, u| {
            users::set_disabled(c, u.id, false)?;
            Ok("enabled")
        })?,
        UserCmd::Lock { username } => flag(c, ctx, &username, "cli.user.lock", |c, u| {
            users::set_locked(c, u.id, true)?;
            sessions::delete_for_user(c, u.id, None)?;
            Ok("locked")
        })?,
        UserCmd::Unlock { username } => flag(c, ctx, &username, "cli.user.unlock", |c, u| {
            users::set_locked(c, u.id, false)?;
            Ok("unlocked")
        })?,
        UserCmd::ResetMfa { username } => flag(c, ctx, &username, "cli.user.mfa_reset", |c, u| {
            crate::auth::mfa::reset(c, u.id)?;
            sessions::delete_for_user(c, u.id, None)?;
            Ok("has no second factor now")
        })?,
        UserCmd::RequireMfa { username, setting } => {
            let on = setting == "on";
            flag(c, ctx, &username, "cli.user.mfa_required", |c, u| {
                users::set_mfa_required(c, u.id, on)?;
                Ok(if on {
                    "must use a second factor"
                } else {
                    "need not use a second factor"
                })
            })?
        }
        UserCmd::Delete { username, yes } => {
            if !yes {
                bail!("deleting {username} cannot be undone; add --yes to confirm");
            }
            let u = find(c, &username)?;
            refuse_last_contractor(c, &u)?;
            users::delete(c, u.id)?;
            let e = cli_event("cli.user.delete")
                .subject(&username)
                .detail(serde_json::json!({ "profile": AdminChange::of(&u), "role": u.role }));
            audit::insert(c, &e, now)?;
            println!("deleted {username}");
        }
        UserCmd::List => {
            for u in users::list_all(c)? {
                let state = match (u.disabled, u.locked) {
                    (true, _) => "disabled",
                    (_, true) => "locked",
                    _ => "active",
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    u.username, u.display_name, u.email, u.role, state
                );
            }
        }
    }
    Ok(())
}

/// Applies a state change to one user and records it.
fn flag(
    c: &mut DbConn,
    ctx: &Ctx,
    username: &str,
    kind: &'static str,
    change: impl FnOnce(&mut DbConn, &User) -> anyhow::Result<&'static str>,
) -> anyhow::Result<()> {
    let u = find(c, username)?;
    let done = change(c, &u)?;
    audit::insert(c, &cli_event(kind).subject(username), ctx.now())?;
    println!("{username} {done}");
    Ok(())
}
