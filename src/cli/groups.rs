//! `omakase group …`

use anyhow::bail;
use clap::Subcommand;

use super::{cli_event, Ctx};
use crate::db::models::groups::{self, Group};
use crate::db::models::{audit, services, users};
use crate::db::{to_naive, DbConn};

#[derive(Subcommand)]
pub enum GroupCmd {
    /// Create a group.
    Add { name: String },
    /// Delete a group (its members stay).
    Remove {
        name: String,
        #[arg(long)]
        yes: bool,
    },
    /// Rename a group.
    Rename { name: String, new_name: String },
    /// List groups.
    List,
    /// Show members; add or remove some.
    Members {
        name: String,
        #[arg(long = "add", value_name = "USER")]
        add: Vec<String>,
        #[arg(long = "remove", value_name = "USER")]
        remove: Vec<String>,
    },
    /// Show the group's services; add or remove some (by entity ID).
    Services {
        name: String,
        #[arg(long = "add", value_name = "ENTITY_ID")]
        add: Vec<String>,
        #[arg(long = "remove", value_name = "ENTITY_ID")]
        remove: Vec<String>,
    },
}

fn find(c: &mut DbConn, name: &str) -> anyhow::Result<Group> {
    match groups::find_by_name(c, name)? {
        Some(g) => Ok(g),
        None => bail!("no such group: {name}"),
    }
}

pub fn run(cmd: GroupCmd, ctx: &Ctx) -> anyhow::Result<()> {
    let mut conn = ctx.conn()?;
    let c = &mut *conn;
    let now = ctx.now();
    let event = |kind: &'static str, name: &str| {
        cli_event(kind).detail(serde_json::json!({ "group": name }))
    };
    match cmd {
        GroupCmd::Add { name } => {
            let name = name.trim().to_string();
            if name.is_empty() || name.chars().count() > 100 {
                bail!("a group name has 1 to 100 characters");
            }
            if groups::insert(c, &name, to_naive(now))?.is_none() {
                bail!("the group {name} already exists");
            }
            audit::insert(c, &event("cli.group.add", &name), now)?;
            println!("created group {name}");
        }
        GroupCmd::Remove { name, yes } => {
            if !yes {
                bail!("add --yes to delete the group {name}");
            }
            let g = find(c, &name)?;
            groups::delete(c, g.id)?;
            audit::insert(c, &event("cli.group.remove", &name), now)?;
            println!("deleted group {name}");
        }
        GroupCmd::Rename { name, new_name } => {
            let g = find(c, &name)?;
            if !groups::rename(c, g.id, new_name.trim())? {
                bail!("the group {new_name} already exists");
            }
            audit::insert(c, &event("cli.group.rename", &name).subject(&new_name), now)?;
            println!("renamed {name} to {new_name}");
        }
        GroupCmd::List => {
            for g in groups::list(c)? {
                println!("{}\tmembers: {}", g.name, groups::count_members(c, g.id)?);
            }
        }
        GroupCmd::Members { name, add, remove } => {
            let g = find(c, &name)?;
            for (list, adding) in [(&add, true), (&remove, false)] {
                for u in list {
                    let Some(user) = users::find_by_username(c, u)? else {
                        bail!("no such user: {u}")
                    };
                    if adding {
                        groups::add_member(c, g.id, user.id)?;
                    } else {
                        groups::remove_member(c, g.id, user.id)?;
                    }
                    let kind = if adding {
                        "cli.group.add_member"
                    } else {
                        "cli.group.remove_member"
                    };
                    audit::insert(c, &event(kind, &name).subject(u), now)?;
                }
            }
            for m in groups::member_names(c, g.id)? {
                println!("{m}");
            }
        }
        GroupCmd::Services { name, add, remove } => {
            let g = find(c, &name)?;
            for (list, adding) in [(&add, true), (&remove, false)] {
                for e in list {
                    let Some(s) = services::find_by_entity_id(c, e)? else {
                        bail!("no such service: {e}")
                    };
                    if adding {
                        groups::add_service(c, g.id, s.id)?;
                    } else {
                        groups::remove_service(c, g.id, s.id)?;
                    }
                    let kind = if adding {
                        "cli.group.add_service"
                    } else {
                        "cli.group.remove_service"
                    };
                    audit::insert(c, &event(kind, &name).service(e), now)?;
                }
            }
            for (entity, display) in groups::service_names(c, g.id)? {
                println!("{entity}\t{display}");
            }
        }
    }
    Ok(())
}
