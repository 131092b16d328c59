//! Storage: diesel over SQLite (default) or PostgreSQL, one connection enum,
//! an r2d2 pool, embedded migrations per backend, and the `run` helper that
//! does one unit of work on the blocking pool.

pub mod models;
pub mod schema;

use std::path::Path;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database pool: {0}")]
    Pool(#[from] r2d2::PoolError),
    #[error("database query: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("database connection: {0}")]
    Connection(#[from] diesel::ConnectionError),
    #[error("database migration: {0}")]
    Migration(String),
    #[error("the database task was cancelled")]
    Blocking,
    #[error("unsupported database URL (use postgres://… or sqlite://…): {0}")]
    Url(String),
}

impl DbError {
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Which backend a URL names, and the string to connect with.
pub fn parse_url(url: &str) -> Result<(Backend, String), DbError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok((Backend::Postgres, url.to_string()))
    } else if let Some(path) = url.strip_prefix("sqlite://") {
        Ok((Backend::Sqlite, path.to_string()))
    } else if let Some(path) = url.strip_prefix("sqlite:") {
        Ok((Backend::Sqlite, path.to_string()))
    } else if !url.contains("://") && !url.is_empty() {
        Ok((Backend::Sqlite, url.to_string()))
    } else {
        Err(DbError::Url(url.to_string()))
    }
}

/// Opens connections of the backend the URL names, never guessing.
#[derive(Debug)]
pub struct Manager {
    backend: Backend,
    target: String,
}

const SQLITE_PRAGMAS: &str =
    "PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        match self.backend {
            Backend::Sqlite => {
                let mut c = SqliteConnection::establish(&self.target)
                    .map_err(r2d2::Error::ConnectionError)?;
                c.batch_execute(SQLITE_PRAGMAS)
                    .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(c))
            }
            Backend::Postgres => PgConnection::establish(&self.target)
                .map(DbConn::Pg)
                .map_err(r2d2::Error::ConnectionError),
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConn) -> bool {
        false
    }
}

pub type DbPool = r2d2::Pool<Manager>;

/// Builds the pool, creating the SQLite file's directory and switching the
/// file to WAL first.
pub fn connect(url: &str, size: u32) -> Result<DbPool, DbError> {
    let (backend, target) = parse_url(url)?;
    if backend == Backend::Sqlite {
        if let Some(dir) = Path::new(&target)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| DbError::Migration(format!("cannot create {}: {e}", dir.display())))?;
        }
        let mut c = SqliteConnection::establish(&target)?;
        c.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;")?;
    }
    let manager = Manager { backend, target };
    let pool = r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(10))
        .build(manager)?;
    Ok(pool)
}

/// Applies every pending migration of the pool's backend.
pub fn migrate(pool: &DbPool) -> Result<usize, DbError> {
    let mut conn = pool.get()?;
    // Two processes starting on a new SQLite file at once (the server and a
    // command) both migrate; the loser of a lock upgrade gets "database is
    // locked" at once rather than waiting, so it tries again.
    let mut tries = 0;
    loop {
        let applied = match &mut *conn {
            DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
            DbConn::Pg(c) => c.run_pending_migrations(PG_MIGRATIONS).map(|v| v.len()),
        };
        match applied {
            Ok(n) => return Ok(n),
            Err(e) if tries < 100 && e.to_string().contains("database is locked") => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => return Err(DbError::Migration(e.to_string())),
        }
    }
}

/// Runs one unit of work on the blocking pool (never on the executor).
pub async fn run<T, F>(pool: &DbPool, f: F) -> Result<T, DbError>
where
    F: FnOnce(&mut DbConn) -> Result<T, DbError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    actix_web::web::block(move || {
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await
    .map_err(|_| DbError::Blocking)?
}

/// The same unit of work, synchronously (command line).
pub fn run_sync<T>(
    pool: &DbPool,
    f: impl FnOnce(&mut DbConn) -> Result<T, DbError>,
) -> Result<T, DbError> {
    let mut conn = pool.get()?;
    f(&mut conn)
}

/// A read-then-write transaction: `BEGIN IMMEDIATE` on SQLite (so that two
/// writers queue on busy_timeout instead of failing on lock upgrade), a
/// plain transaction on PostgreSQL.
pub fn write_tx<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, DbError>,
) -> Result<T, DbError> {
    match conn {
        DbConn::Sqlite(_) => {
            conn.batch_execute("BEGIN IMMEDIATE")?;
            match f(conn) {
                Ok(v) => {
                    conn.batch_execute("COMMIT")?;
                    Ok(v)
                }
                Err(e) => {
                    let _ = conn.batch_execute("ROLLBACK");
                    Err(e)
                }
            }
        }
        DbConn::Pg(_) => conn.transaction(f),
    }
}

pub fn to_naive(t: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDateTime {
    crate::clock::truncate(t).naive_utc()
}

pub fn from_naive(t: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_naive_utc_and_offset(t, chrono::Utc)
}
