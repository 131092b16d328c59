//! `omakase csv …` and `omakase audit export`.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Subcommand;

use super::{cli_event, Ctx};
use crate::db::models::audit::{self, Filter};
use crate::db::models::users::Role;
use crate::db::{self};
use crate::domain::{csv, user_import};

#[derive(Subcommand)]
pub enum CsvCmd {
    /// Create or update users from a CSV file (UTF-8, with or without BOM).
    /// Nothing is applied when any line is bad.
    Import {
        file: PathBuf,
        /// Check every line and report, without changing anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// Write all users as CSV (UTF-8 with BOM) to a file or standard output.
    Export {
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum AuditCmd {
    /// Write the audit log as CSV (UTF-8 with BOM).
    Export {
        #[arg(long, default_value = "")]
        user: String,
        #[arg(long, default_value = "")]
        service: String,
        /// Kind prefix, such as login, sso or admin.
        #[arg(long, default_value = "")]
        kind: String,
        /// From this UTC date (YYYY-MM-DD), inclusive.
        #[arg(long)]
        from: Option<String>,
        /// Until this UTC date (YYYY-MM-DD), inclusive.
        #[arg(long)]
        to: Option<String>,
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

fn write_out(output: Option<PathBuf>, body: &str) -> anyhow::Result<()> {
    match output {
        Some(p) => {
            std::fs::write(&p, body).with_context(|| format!("cannot write {}", p.display()))
        }
        None => {
            print!("{body}");
            Ok(())
        }
    }
}

pub fn run_csv(cmd: CsvCmd, ctx: &Ctx) -> anyhow::Result<()> {
    let mut conn = ctx.conn()?;
    let c = &mut *conn;
    let now = ctx.now();
    match cmd {
        CsvCmd::Import { file, dry_run } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {} as UTF-8", file.display()))?;
            let (plan, created) = db::write_tx(c, |c| {
                let plan = user_import::plan(c, &text, Role::Contractor)?;
                if dry_run || !plan.ok() {
                    return Ok((plan, None));
                }
                let created = user_import::apply(c, &plan, now)?;
                let e = cli_event("cli.csv.import").detail(serde_json::json!({
                    "file": file.display().to_string(),
                    "created": plan.count("create"),
                    "updated": plan.count("update"),
                }));
                audit::insert(c, &e, now)?;
                Ok((plan, Some(created)))
            })?;
            if let Some((key, line)) = plan.file_error {
                bail!(
                    "{}: line {line}: {}",
                    file.display(),
                    crate::i18n::lookup("en", key).unwrap_or(key)
                );
            }
            for l in &plan.lines {
                let msgs: Vec<&str> = l
                    .errors
                    .iter()
                    .map(|k| crate::i18n::lookup("en", k).unwrap_or(k))
                    .collect();
                println!(
                    "line {}\t{}\t{}\t{}",
                    l.line,
                    l.username,
                    l.action,
                    msgs.join(" ")
                );
            }
            println!(
                "create: {}, update: {}, unchanged: {}, errors: {}",
                plan.count("create"),
                plan.count("update"),
                plan.count("unchanged"),
                plan.count("error")
            );
            if !plan.ok() {
                bail!("nothing was imported: some lines are wrong");
            }
            match created {
                Some(created) => {
                    for (u, p) in created {
                        println!("one-time password\t{u}\t{p}");
                    }
                    println!("imported");
                }
                None => println!("dry run: nothing changed"),
            }
        }
        CsvCmd::Export { output } => {
            let body = user_import::export(c)?;
            audit::insert(c, &cli_event("cli.csv.export"), now)?;
            write_out(output, &body)?;
        }
    }
    Ok(())
}

fn day(s: &Option<String>, plus: i64) -> anyhow::Result<Option<chrono::NaiveDateTime>> {
    match s {
        None => Ok(None),
        Some(d) => {
            let date = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .with_context(|| format!("not a date (YYYY-MM-DD): {d}"))?;
            Ok((date + chrono::Duration::days(plus)).and_hms_opt(0, 0, 0))
        }
    }
}

pub fn run_audit(cmd: AuditCmd, ctx: &Ctx) -> anyhow::Result<()> {
    let AuditCmd::Export {
        user,
        service,
        kind,
        from,
        to,
        output,
    } = cmd;
    let filter = Filter {
        user,
        service,
        kind,
        from: day(&from, 0)?,
        until: day(&to, 1)?,
    };
    let mut conn = ctx.conn()?;
    let c = &mut *conn;
    audit::insert(c, &cli_event("cli.audit.export"), ctx.now())?;
    let events = audit::list(c, &filter, 0, i64::MAX)?;
    let mut out = String::from(csv::BOM);
    out.push_str(&csv::row(&[
        "at_utc", "kind", "actor", "subject", "service", "ip", "detail",
    ]));
    for e in events {
        let at = e.at.format("%Y/%m/%d %H:%M:%S").to_string();
        out.push_str(&csv::row(&[
            &at, &e.kind, &e.actor, &e.subject, &e.service, &e.ip, &e.detail,
        ]));
    }
    write_out(output, &out)
}
