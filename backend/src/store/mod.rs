//! The database: SQLite (embedded default) or PostgreSQL, behind one type.
//!
//! Queries are written once, with `$1` placeholders (both drivers accept them), and run
//! through sqlx's `Any` driver; booleans and times are stored as integers so that the same
//! rows decode on both. Each database has its own migrations, in `backend/migrations/`.

use std::time::Duration;

use anyhow::Context;
use cohortsync_shared::api::DatabaseKind;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

pub mod accounts;
pub mod audit;
pub mod bulk;
pub mod changesets;
mod error;
pub mod site;
pub mod sync;

pub use error::{StoreError, StoreResult};

/// A connection pool to the server's database.
#[derive(Debug, Clone)]
pub struct Database {
    pool: AnyPool,
    kind: DatabaseKind,
}

/// A transaction on the server's database.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Standard Moodle roles, seeded on first start with Moodle's ids.
const STANDARD_ROLES: [(i64, &str, &str); 8] = [
    (1, "manager", "Manager"),
    (2, "coursecreator", "Course creator"),
    (3, "editingteacher", "Teacher"),
    (4, "teacher", "Non-editing teacher"),
    (5, "student", "Student"),
    (6, "guest", "Guest"),
    (7, "user", "Authenticated user"),
    (8, "frontpage", "Authenticated user on site home"),
];

impl Database {
    /// Connects to `url` (`sqlite://…` or `postgres://…`), creating a SQLite file if
    /// missing, runs the migrations and seeds what a new site needs (revision, roles).
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let (kind, url, max) = if url.starts_with("postgres://") || url.starts_with("postgresql://")
        {
            (DatabaseKind::Postgres, url.to_owned(), 10)
        } else if let Some(rest) = url.strip_prefix("sqlite:") {
            let url = if rest.contains('?') {
                url.to_owned()
            } else {
                format!("{url}?mode=rwc")
            };
            (DatabaseKind::Sqlite, url, 8)
        } else {
            anyhow::bail!(
                "unsupported database URL {}: use sqlite://PATH or postgres://USER@HOST:PORT/DB",
                redact(url)
            )
        };
        let options: AnyConnectOptions = url
            .parse::<AnyConnectOptions>()
            .with_context(|| format!("invalid database URL {}", redact(&url)))?
            // Bulk statements are long and legitimately take a while: log them only when
            // asked for (RUST_LOG=sqlx=debug), never as warnings with their full text.
            .log_statements(tracing::log::LevelFilter::Trace)
            .log_slow_statements(tracing::log::LevelFilter::Debug, Duration::from_secs(1));
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            // An unreachable database answers 503 within seconds, not after a long hang.
            .acquire_timeout(Duration::from_secs(3))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if kind == DatabaseKind::Sqlite {
                        // WAL lets readers go on during an apply; foreign keys are off by
                        // default in SQLite; writers wait for each other instead of failing.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
                             PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .with_context(|| match kind {
                DatabaseKind::Postgres => {
                    format!("cannot connect to PostgreSQL at {}", redact(&url))
                }
                DatabaseKind::Sqlite => format!("cannot open the SQLite database {url}"),
            })?;
        let db = Database { pool, kind };
        db.migrate().await?;
        db.seed().await?;
        Ok(db)
    }

    async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.kind {
            DatabaseKind::Sqlite => sqlx::migrate!("./migrations/sqlite"),
            DatabaseKind::Postgres => sqlx::migrate!("./migrations/postgres"),
        };
        migrator
            .run(&self.pool)
            .await
            .context("cannot migrate the database")
    }

    /// The site state row (revision 0, a fresh key for teachers' hashes) and Moodle's
    /// standard roles, on first start only.
    async fn seed(&self) -> anyhow::Result<()> {
        let mut tx = self.begin_write().await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM site_state WHERE id = 1")
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            sqlx::query("INSERT INTO site_state (id, revision, user_hash_key) VALUES (1, 0, $1)")
                .bind(crate::crypto::random_hex(32))
                .execute(&mut *tx)
                .await?;
            let roles: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM roles")
                .fetch_one(&mut *tx)
                .await?;
            if roles == 0 {
                for (id, shortname, name) in STANDARD_ROLES {
                    sqlx::query("INSERT INTO roles (id, shortname, name) VALUES ($1, $2, $3)")
                        .bind(id)
                        .bind(shortname)
                        .bind(name)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Which database this is.
    pub fn kind(&self) -> DatabaseKind {
        self.kind
    }

    /// The pool, for reads.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a write transaction that holds the database's write lock from its first
    /// statement: `BEGIN IMMEDIATE` on SQLite (so two writers never both read and then
    /// fail to upgrade), a plain `BEGIN` on PostgreSQL, where writers lock rows instead.
    pub async fn begin_write(&self) -> StoreResult<Tx> {
        match self.kind {
            DatabaseKind::Sqlite => Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?),
            DatabaseKind::Postgres => Ok(self.pool.begin().await?),
        }
    }

    /// Checks that the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(drop)
    }
}

/// Creates an empty database beside the one `base_url` names (PostgreSQL, or MariaDB/MySQL
/// for the Moodle tests) and returns its URL: each test and benchmark gets its own.
/// Databases left by earlier processes (another process id in their name) are dropped
/// first, unless still in use. Tests only.
#[cfg(feature = "test-support")]
pub async fn create_scratch_database(base_url: &str) -> anyhow::Result<String> {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mysql = base_url.starts_with("mysql://");
    let mine = format!("cohortsync_scratch_{}_", std::process::id());
    let mut conn = sqlx::AnyConnection::connect(base_url)
        .await
        .with_context(|| format!("cannot connect to {}", redact(base_url)))?;
    let list = if mysql {
        "SELECT CAST(schema_name AS CHAR(64)) FROM information_schema.schemata \
         WHERE schema_name LIKE 'cohortsync_scratch_%'"
    } else {
        "SELECT datname::text FROM pg_database WHERE datname LIKE 'cohortsync_scratch_%'"
    };
    let old: Vec<String> = sqlx::query_scalar(list).fetch_all(&mut conn).await?;
    for name in old.iter().filter(|n| !n.starts_with(&mine)) {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
            .execute(&mut conn)
            .await;
    }
    let name = format!("{mine}{}", crate::crypto::random_hex(6));
    let create = if mysql {
        // As Moodle's installer creates its database.
        format!("CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    } else {
        format!("CREATE DATABASE {name}")
    };
    sqlx::query(&create).execute(&mut conn).await?;
    let (prefix, _) = base_url
        .rsplit_once('/')
        .context("a database URL ends with /DATABASE")?;
    Ok(format!("{prefix}/{name}"))
}

/// The current time, in Unix seconds, as stored in the database.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A database URL without its password, fit for logs and error messages.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _password)) => {
                    format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..])
                }
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://bob:s3cret@db:5432/x"),
            "postgres://bob:***@db:5432/x"
        );
        assert_eq!(redact("postgres://bob@db/x"), "postgres://bob@db/x");
        assert_eq!(redact("sqlite://data/c.db"), "sqlite://data/c.db");
    }

    #[tokio::test]
    async fn unknown_scheme_is_a_clear_error() {
        let error = Database::connect("mysql://x")
            .await
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("use sqlite://PATH or postgres://"),
            "{error}"
        );
    }
}
