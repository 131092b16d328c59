//! The command line: `serve`, `migrate`, `config-check`, `user …`, `sp …`.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::db::models::audit::{self, Event};
use crate::db::models::{services, users::Role};
use crate::db::{self};
use crate::domain::{services as svc, users};
use crate::startup;

#[derive(Parser)]
#[command(
    name = "omakase",
    version,
    about = "おまかせログイン: SAML 2.0 Identity Provider"
)]
pub struct Cli {
    /// Configuration file (default: ./omakase.toml if present).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the IdP.
    Serve,
    /// Apply pending database migrations.
    Migrate,
    /// Check the configuration and print the effective settings.
    ConfigCheck,
    /// Manage users.
    User {
        #[command(subcommand)]
        cmd: UserCmd,
    },
    /// Manage services (SAML service providers).
    Sp {
        #[command(subcommand)]
        cmd: SpCmd,
    },
}

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
    /// Set a user's password (ends the user's sessions).
    SetPassword {
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

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
    /// List the registered services.
    List,
    /// Assign a service to a user, or to every user with --all-users.
    Assign {
        entity_id: String,
        username: Option<String>,
        #[arg(long)]
        all_users: bool,
    },
}

/// An audit event of a command-line action, with the operating-system user.
fn cli_event(kind: &'static str) -> Event {
    let os_user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_default();
    Event::new(kind, &format!("cli:{os_user}"))
}

fn read_password_stdin() -> anyhow::Result<String> {
    let mut s = String::new();
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut s)
        .context("cannot read the password from standard input")?;
    let p = s.strip_suffix('\n').unwrap_or(&s);
    let p = p.strip_suffix('\r').unwrap_or(p).to_string();
    if p.is_empty() {
        bail!("the password on standard input is empty");
    }
    Ok(p)
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(cli.config.as_deref())?;
    let clock = SystemClock;
    match cli.command {
        Command::Serve => serve(settings),
        Command::Migrate => {
            let pool = db::connect(&settings.database_url(), 1)?;
            let n = db::migrate(&pool)?;
            println!("applied {n} migration(s)");
            Ok(())
        }
        Command::ConfigCheck => {
            println!("{settings:#?}");
            println!("entity_id: {}", settings.entity_id());
            Ok(())
        }
        Command::User { cmd } => user(cmd, &settings, &clock),
        Command::Sp { cmd } => sp(cmd, &settings, &clock),
    }
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    let state = startup::build_state(settings, Arc::new(SystemClock))?;
    let now = state.now();
    if let Some((name, password)) = db::run_sync(&state.pool, |c| {
        users::bootstrap(c, now).map_err(|e| db::DbError::Migration(e.to_string()))
    })? {
        println!("================================================================");
        println!(" 契約者アカウントを作成しました / Created the contractor account");
        println!("   user name:          {name}");
        println!("   one-time password:  {password}");
        println!(" 初回ログイン時に変更が必要です / It must be changed at first login.");
        println!("================================================================");
    }
    println!(
        "omakase: {} (entity ID {})",
        state.settings.base_url, state.entity_id
    );
    actix_web::rt::System::new().block_on(startup::serve(state))
}

fn user(cmd: UserCmd, settings: &Settings, clock: &dyn Clock) -> anyhow::Result<()> {
    let pool = startup::open_database(settings)?;
    match cmd {
        UserCmd::Add {
            username,
            password_stdin,
            email,
            name,
            role,
        } => {
            let (password, one_time) = if password_stdin {
                (read_password_stdin()?, false)
            } else {
                (crate::auth::password::generate_one_time(), true)
            };
            let role = Role::parse(&role).unwrap_or(Role::User);
            let input = users::UserInput {
                username: &username,
                email: email.trim(),
                display_name: &name,
                role,
                password: &password,
                must_change_password: one_time,
            };
            let now = clock.now();
            let mut conn = pool.get()?;
            users::create(&mut conn, &input, now)?;
            let e = cli_event("cli.user.add")
                .subject(&username)
                .detail(serde_json::json!({ "role": role.as_str(), "email": input.email, "name": input.display_name }));
            audit::insert(&mut conn, &e, now)?;
            println!("created user {username} ({})", role.as_str());
            if one_time {
                println!("one-time password: {password} (must be changed at first login)");
            }
            Ok(())
        }
        UserCmd::SetPassword {
            username,
            password_stdin,
        } => {
            if !password_stdin {
                bail!("give the new password on standard input with --password-stdin");
            }
            let password = read_password_stdin()?;
            let mut conn = pool.get()?;
            users::set_password(&mut conn, &username, &password, false, clock.now())?;
            audit::insert(
                &mut conn,
                &cli_event("cli.user.set_password").subject(&username),
                clock.now(),
            )?;
            println!("password of {username} set");
            Ok(())
        }
    }
}

fn sp(cmd: SpCmd, settings: &Settings, clock: &dyn Clock) -> anyhow::Result<()> {
    let pool = startup::open_database(settings)?;
    let mut conn = pool.get()?;
    match cmd {
        SpCmd::Import {
            source,
            name,
            nameid_format,
        } => {
            let (xml, url) = svc::read_source(&source)?;
            let minutes = i32::try_from(settings.service_session_minutes).unwrap_or(480);
            let r = svc::register(
                &mut conn,
                &xml,
                url,
                name.as_deref(),
                nameid_format.as_deref(),
                minutes,
                clock.now(),
            )?;
            let e = cli_event(if r.created {
                "cli.service.create"
            } else {
                "cli.service.update"
            })
            .service(&r.entity_id)
            .detail(serde_json::json!({ "source": source, "acs": r.metadata.acs.len() }));
            audit::insert(&mut conn, &e, clock.now())?;
            eprintln!(
                "{} service with {} ACS endpoint(s), {} signing certificate(s)",
                if r.created { "registered" } else { "updated" },
                r.metadata.acs.len(),
                r.metadata.signing_certs.len()
            );
            println!("{}", r.entity_id);
            Ok(())
        }
        SpCmd::List => {
            for s in services::list(&mut conn)? {
                let users = services::assigned_usernames(&mut conn, s.id)?;
                println!(
                    "{}\t{}\t{}\t{}\tusers: {}",
                    s.entity_id,
                    s.display_name,
                    s.nameid_format,
                    if s.enabled { "enabled" } else { "disabled" },
                    users.len()
                );
            }
            Ok(())
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
            let n = svc::assign(&mut conn, &entity_id, who, clock.now())?;
            let e = cli_event("cli.service.assign")
                .service(&entity_id)
                .subject(who.unwrap_or("*"))
                .detail(serde_json::json!({ "new_assignments": n }));
            audit::insert(&mut conn, &e, clock.now())?;
            println!("{n} new assignment(s) to {entity_id}");
            Ok(())
        }
    }
}
