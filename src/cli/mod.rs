//! The command line: `serve`, `migrate`, `config-check`, and the admin's
//! operations (`user`, `group`, `sp`, `csv`, `audit`). Every subcommand
//! reads the same configuration as `serve`, works while it runs, and
//! records what it changes in the audit log as `cli:<os user>`.

mod data;
mod groups;
mod services;
mod users;

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::bail;
use clap::{Parser, Subcommand};

use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::db::models::audit::Event;
use crate::db::{self, DbPool};
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
        cmd: users::UserCmd,
    },
    /// Manage groups.
    Group {
        #[command(subcommand)]
        cmd: groups::GroupCmd,
    },
    /// Manage services (SAML service providers).
    Sp {
        #[command(subcommand)]
        cmd: services::SpCmd,
    },
    /// Import or export users as CSV.
    Csv {
        #[command(subcommand)]
        cmd: data::CsvCmd,
    },
    /// Export the audit log.
    Audit {
        #[command(subcommand)]
        cmd: data::AuditCmd,
    },
}

/// What every admin subcommand works with.
pub(crate) struct Ctx {
    pub settings: Settings,
    pub pool: DbPool,
    pub clock: SystemClock,
}

impl Ctx {
    fn open(settings: Settings) -> anyhow::Result<Self> {
        let pool = startup::open_database(&settings)?;
        Ok(Ctx {
            settings,
            pool,
            clock: SystemClock,
        })
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    pub fn conn(&self) -> anyhow::Result<diesel::r2d2::PooledConnection<crate::db::Manager>> {
        Ok(self.pool.get()?)
    }
}

/// An audit event of a command-line action, with the operating-system user.
pub(crate) fn cli_event(kind: &'static str) -> Event {
    let os_user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_default();
    Event::new(kind, &format!("cli:{os_user}"))
}

pub(crate) fn read_password_stdin() -> anyhow::Result<String> {
    let mut s = String::new();
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut s)
        .map_err(|e| anyhow::anyhow!("cannot read the password from standard input: {e}"))?;
    let p = s.strip_suffix('\n').unwrap_or(&s);
    let p = p.strip_suffix('\r').unwrap_or(p).to_string();
    if p.is_empty() {
        bail!("the password on standard input is empty");
    }
    Ok(p)
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve => serve(settings),
        Command::Migrate => {
            let pool = db::connect(&settings.database_url(), 1)?;
            let n = db::migrate(&pool)?;
            println!("applied {n} migration(s)");
            Ok(())
        }
        Command::ConfigCheck => {
            println!("{:#?}", settings.redacted());
            println!("entity_id: {}", settings.entity_id());
            Ok(())
        }
        Command::User { cmd } => users::run(cmd, &Ctx::open(settings)?),
        Command::Group { cmd } => groups::run(cmd, &Ctx::open(settings)?),
        Command::Sp { cmd } => services::run(cmd, &Ctx::open(settings)?),
        Command::Csv { cmd } => data::run_csv(cmd, &Ctx::open(settings)?),
        Command::Audit { cmd } => data::run_audit(cmd, &Ctx::open(settings)?),
    }
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    let state = startup::build_state(settings, Arc::new(SystemClock))?;
    let now = state.now();
    if let Some((name, password)) = db::run_sync(&state.pool, |c| {
        crate::domain::users::bootstrap(c, now).map_err(|e| db::DbError::Migration(e.to_string()))
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
