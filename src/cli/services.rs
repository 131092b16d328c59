//! `omakase sp …`

use anyhow::bail;
use clap::Subcommand;

use super::{cli_event, Ctx};
use crate::db::models::{audit, groups, services, users};
use crate::domain::services as svc;

#[derive(Subcommand)]
pub enum SpCmd {
    /// Register or update a service from its SAML metadata (file or URL);
    /// prints the entity ID.
    Import {
        source: String,
        /// Display name on the tiles.
        #[arg(long)]
        name: Option<String>,
        /// NameID format: email, persistent, transient or unspecified.
        #[arg(long)]
        nameid_format: Option<String>,
    },
    /// Update a registered service from new metadata: the given file or
    /// URL, or the URL it was registered from.
    Update {
        entity_id: String,
        source: Option<String>,
    },
    /// Remove a service: its tiles go and no assertion is issued for it.
    Remove {
        entity_id: String,
        /// Confirm the removal.
        #[arg(long)]
        yes: bool,
    },
    /// List the registered services.
    List,
    /// Assign a service to a user, or to every user with --all-users.
    Assign {
        entity_id: String,
        username: Option<String>,
        #[arg(long)]
        all_users: bool,
    },
    /// Take a service away from a user.
    Unassign { entity_id: String, username: String },
}

pub fn run(cmd: SpCmd, ctx: &Ctx) -> anyhow::Result<()> {
    let mut conn = ctx.conn()?;
    let c = &mut *conn;
    let now = ctx.now();
    let minutes = i32::try_from(ctx.settings.service_session_minutes).unwrap_or(480);
    match cmd {
        SpCmd::Import {
            source,
            name,
            nameid_format,
        } => {
            let (xml, url) = svc::read_source(&source)?;
            let r = svc::register(
                c,
                &xml,
                url,
                name.as_deref(),
                nameid_format.as_deref(),
                minutes,
                now,
            )?;
            let e = cli_event(if r.created {
                "cli.service.create"
            } else {
                "cli.service.update"
            })
            .service(&r.entity_id)
            .detail(serde_json::json!({ "source": source, "acs": r.metadata.acs.len() }));
            audit::insert(c, &e, now)?;
            eprintln!(
                "{} service with {} ACS endpoint(s), {} signing certificate(s)",
                if r.created { "registered" } else { "updated" },
                r.metadata.acs.len(),
                r.metadata.signing_certs.len()
            );
            println!("{}", r.entity_id);
        }
        SpCmd::Update { entity_id, source } => {
            let s = services::find_by_entity_id(c, &entity_id)?
                .ok_or_else(|| svc::ServiceError::NotFound(entity_id.clone()))?;
            let source = match source.or(s.metadata_url.clone()) {
                Some(src) => src,
                None => bail!("{entity_id} was not registered from a URL; give a file or URL"),
            };
            let (xml, url) = svc::read_source(&source)?;
            let parsed = crate::saml::sp_metadata::SpMetadata::parse(&xml)
                .map_err(svc::ServiceError::Metadata)?;
            if parsed.entity_id != entity_id {
                bail!("the metadata is for {}, not {entity_id}", parsed.entity_id);
            }
            svc::register(c, &xml, url, None, None, minutes, now)?;
            let e = cli_event("cli.service.update")
                .service(&entity_id)
                .detail(serde_json::json!({ "source": source }));
            audit::insert(c, &e, now)?;
            println!("updated {entity_id}");
        }
        SpCmd::Remove { entity_id, yes } => {
            if !yes {
                bail!("removing {entity_id} cannot be undone; add --yes to confirm");
            }
            let s = services::find_by_entity_id(c, &entity_id)?
                .ok_or_else(|| svc::ServiceError::NotFound(entity_id.clone()))?;
            services::delete(c, s.id)?;
            audit::insert(c, &cli_event("cli.service.remove").service(&entity_id), now)?;
            println!("removed {entity_id}");
        }
        SpCmd::List => {
            for s in services::list(c)? {
                let users = services::assigned_usernames(c, s.id)?;
                let groups = groups::names_of_service(c, s.id)?;
                println!(
                    "{}\t{}\t{}\t{}\tusers: {}\tgroups: {}",
                    s.entity_id,
                    s.display_name,
                    s.nameid_format,
                    if s.enabled { "enabled" } else { "disabled" },
                    users.len(),
                    groups.join(";")
                );
            }
        }
        SpCmd::Assign {
            entity_id,
            username,
            all_users,
        } => {
            let who = match (username.as_deref(), all_users) {
                (Some(_), true) => bail!("give a user name or --all-users, not both"),
                (None, false) => bail!("give a user name or --all-users"),
                (u, _) => u,
            };
            let n = svc::assign(c, &entity_id, who, now)?;
            let e = cli_event("cli.service.assign")
                .service(&entity_id)
                .subject(who.unwrap_or("*"))
                .detail(serde_json::json!({ "new_assignments": n }));
            audit::insert(c, &e, now)?;
            println!("{n} new assignment(s) to {entity_id}");
        }
        SpCmd::Unassign {
            entity_id,
            username,
        } => {
            let s = services::find_by_entity_id(c, &entity_id)?
                .ok_or_else(|| svc::ServiceError::NotFound(entity_id.clone()))?;
            let u = users::find_by_username(c, &username)?
                .ok_or_else(|| svc::ServiceError::NoUser(username.clone()))?;
            let removed = services::unassign(c, s.id, u.id)?;
            audit::insert(
                c,
                &cli_event("cli.service.unassign")
                    .service(&entity_id)
                    .subject(&username),
                now,
            )?;
            println!(
                "{}",
                if removed {
                    "unassigned"
                } else {
                    "was not assigned"
                }
            );
        }
    }
    Ok(())
}
