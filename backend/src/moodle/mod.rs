//! A Moodle database, PostgreSQL or MariaDB/MySQL, reached with the table prefix of its
//! site (`mdl_` by default): what cohortsync needs of it, and `cohortsync moodle check`,
//! which says whether a given database and account have it.
//!
//! What exists so far: the check, and the snapshot read from Moodle's tables
//! ([`Moodle::load_snapshot`], which `cohortsync validate --moodle-db-url` uses). Serving
//! from Moodle and applying changesets into it are not built yet (issue 12): nothing here
//! writes to Moodle.

use std::fmt::Write;

use anyhow::{Context, bail};
use clap::Args;
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyConnection, AnyPool, Row};

pub mod events;
mod snapshot;
mod sync;
pub mod write;

/// The two databases Moodle runs on that cohortsync reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoodleDatabase {
    /// PostgreSQL.
    Postgres,
    /// MariaDB or MySQL.
    MySql,
}

impl MoodleDatabase {
    /// `postgres` or `mariadb/mysql`.
    pub fn as_str(self) -> &'static str {
        match self {
            MoodleDatabase::Postgres => "postgres",
            MoodleDatabase::MySql => "mariadb/mysql",
        }
    }

    /// The `n`-th bind placeholder (from 1): the `Any` driver passes SQL as it is, and the
    /// two databases spell placeholders differently.
    fn placeholder(self, n: usize) -> String {
        match self {
            MoodleDatabase::Postgres => format!("${n}"),
            MoodleDatabase::MySql => "?".to_owned(),
        }
    }

    /// `column` read as a 64-bit integer: the `Any` driver cannot read MySQL's `tinyint`
    /// (Moodle's flags and small numbers) at all.
    fn int(self, column: &str) -> String {
        match self {
            MoodleDatabase::Postgres => format!("CAST({column} AS BIGINT)"),
            MoodleDatabase::MySql => format!("CAST({column} AS SIGNED)"),
        }
    }

    /// The SQL of the current schema (PostgreSQL) or database (MySQL).
    fn current_schema(self) -> &'static str {
        match self {
            MoodleDatabase::Postgres => "current_schema()",
            MoodleDatabase::MySql => "DATABASE()",
        }
    }
}

/// A table cohortsync uses, the columns it needs, and whether it writes to it.
struct Needed {
    table: &'static str,
    columns: &'static [&'static str],
    written: bool,
}

/// Every table and column cohortsync reads or writes, as Moodle 4.5 and 5.0 define them
/// (`shared/moodle/schema/`), and the tables an apply writes (`shared/moodle/FACTS.md`).
const NEEDED: &[Needed] = &[
    Needed {
        table: "user",
        columns: &[
            "id",
            "auth",
            "deleted",
            "suspended",
            "mnethostid",
            "username",
            "idnumber",
            "firstname",
            "lastname",
            "email",
        ],
        written: false,
    },
    Needed {
        table: "cohort",
        columns: &[
            "id",
            "contextid",
            "name",
            "idnumber",
            "description",
            "descriptionformat",
            "visible",
            "component",
            "timecreated",
            "timemodified",
        ],
        written: true,
    },
    Needed {
        table: "cohort_members",
        columns: &["id", "cohortid", "userid", "timeadded"],
        written: true,
    },
    Needed {
        table: "course",
        columns: &["id", "category", "shortname", "fullname", "idnumber"],
        written: false,
    },
    Needed {
        table: "course_categories",
        columns: &["id", "name", "idnumber", "parent", "path"],
        written: false,
    },
    Needed {
        table: "context",
        columns: &["id", "contextlevel", "instanceid", "path", "depth"],
        written: false,
    },
    Needed {
        table: "role",
        columns: &["id", "shortname"],
        written: false,
    },
    Needed {
        table: "role_assignments",
        columns: &[
            "id",
            "roleid",
            "contextid",
            "userid",
            "timemodified",
            "modifierid",
            "component",
            "itemid",
            "sortorder",
        ],
        written: true,
    },
    Needed {
        table: "enrol",
        columns: &[
            "id",
            "enrol",
            "status",
            "courseid",
            "sortorder",
            "name",
            "roleid",
            "customint1",
            "customint2",
            "enrolstartdate",
            "enrolenddate",
            "timecreated",
            "timemodified",
        ],
        written: true,
    },
    Needed {
        table: "user_enrolments",
        columns: &[
            "id",
            "status",
            "enrolid",
            "userid",
            "timestart",
            "timeend",
            "modifierid",
            "timecreated",
            "timemodified",
        ],
        written: true,
    },
    Needed {
        table: "groups",
        columns: &[
            "id",
            "courseid",
            "idnumber",
            "name",
            "timecreated",
            "timemodified",
        ],
        written: true,
    },
    Needed {
        table: "groups_members",
        columns: &[
            "id",
            "groupid",
            "userid",
            "timeadded",
            "component",
            "itemid",
        ],
        written: true,
    },
    Needed {
        table: "config",
        columns: &["id", "name", "value"],
        written: false,
    },
    Needed {
        table: "config_plugins",
        columns: &["id", "plugin", "name", "value"],
        written: false,
    },
    Needed {
        table: "cache_flags",
        columns: &["id", "flagtype", "name", "timemodified", "value", "expiry"],
        written: true,
    },
    Needed {
        table: "logstore_standard_log",
        columns: &[
            "id",
            "eventname",
            "component",
            "action",
            "target",
            "objecttable",
            "objectid",
            "crud",
            "edulevel",
            "contextid",
            "contextlevel",
            "contextinstanceid",
            "userid",
            "courseid",
            "relateduserid",
            "anonymous",
            "other",
            "timecreated",
            "origin",
            "ip",
            "realuserid",
        ],
        written: true,
    },
];

/// Flags naming the Moodle database.
#[derive(Debug, Clone, Args)]
pub struct MoodleArgs {
    /// The Moodle database: `postgres://USER@HOST:PORT/DB` or `mysql://USER@HOST:PORT/DB`
    /// (MariaDB too).
    #[arg(long, env = "COHORTSYNC_MOODLE_DB_URL")]
    pub moodle_db_url: String,
    /// The prefix of Moodle's tables (`$CFG->prefix`).
    #[arg(long, env = "COHORTSYNC_MOODLE_PREFIX", default_value = "mdl_")]
    pub moodle_prefix: String,
}

/// A connection pool to a Moodle database.
#[derive(Debug, Clone)]
pub struct Moodle {
    pool: AnyPool,
    database: MoodleDatabase,
    prefix: String,
}

/// What `moodle check` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoodleCheck {
    /// `postgres` or `mariadb/mysql`.
    pub database: MoodleDatabase,
    /// The table prefix.
    pub prefix: String,
    /// Moodle's release (`mdl_config.release`), e.g. `5.0 (Build: 20250414)`.
    pub release: Option<String>,
    /// Moodle's version (`mdl_config.version`), e.g. `2025041400`.
    pub version: Option<String>,
    /// The cohort-sync plugin's version (`mdl_config_plugins`, `enrol_cohort`).
    pub enrol_cohort_version: Option<String>,
    /// Tables (`mdl_enrol`) and columns (`mdl_enrol.customint2`) that are missing.
    pub missing: Vec<String>,
    /// Privileges the account lacks, as `SELECT ON mdl_enrol`.
    pub missing_privileges: Vec<String>,
    /// Users (not deleted, local, not the guest), cohorts, courses (not the front page)
    /// and cohort-sync instances; `None` when tables are missing.
    pub counts: Option<[i64; 4]>,
    /// Whether Moodle logs to its standard store, so an apply writes log rows
    /// ([`Moodle::logs_to_standard_store`]); `None` when tables are missing.
    pub standard_log: Option<bool>,
}

impl MoodleCheck {
    /// Whether cohortsync can work on this database.
    pub fn is_ready(&self) -> bool {
        self.missing.is_empty() && self.missing_privileges.is_empty() && self.counts.is_some()
    }

    /// The report, for a terminal.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let release = match (&self.release, &self.version) {
            (Some(release), Some(version)) => format!("Moodle {release}, version {version}"),
            (Some(release), None) => format!("Moodle {release}"),
            (None, Some(version)) => format!("Moodle version {version}"),
            (None, None) => "Moodle release unknown (mdl_config has no release)".to_owned(),
        };
        let _ = writeln!(out, "{release}");
        if let Some(plugin) = &self.enrol_cohort_version {
            let _ = writeln!(out, "enrol_cohort {plugin}");
        }
        let _ = writeln!(
            out,
            "database: {}, prefix {}",
            self.database.as_str(),
            self.prefix
        );
        let written = NEEDED.iter().filter(|n| n.written).count();
        if self.missing.is_empty() {
            let _ = writeln!(
                out,
                "tables: all {} present, with every column cohortsync needs",
                NEEDED.len()
            );
        } else {
            let _ = writeln!(out, "missing: {}", self.missing.join(", "));
        }
        if self.missing_privileges.is_empty() {
            let _ = writeln!(
                out,
                "privileges: SELECT on all {} tables; INSERT, UPDATE, DELETE on the {written} \
                 an apply writes",
                NEEDED.len()
            );
        } else {
            let _ = writeln!(
                out,
                "privileges missing: {}",
                self.missing_privileges.join(", ")
            );
        }
        if let Some([users, cohorts, courses, bindings]) = self.counts {
            let _ = writeln!(
                out,
                "{users} users, {cohorts} cohorts, {courses} courses, {bindings} cohort-sync \
                 instances"
            );
        }
        match self.standard_log {
            Some(true) => {
                let _ = writeln!(
                    out,
                    "log: the standard log store is enabled; an apply logs its events there"
                );
            }
            Some(false) => {
                let _ = writeln!(
                    out,
                    "log: the standard log store is not enabled (tool_log/enabled_stores); an \
                     apply writes no log rows, as Moodle would not"
                );
            }
            None => {}
        }
        let _ = writeln!(
            out,
            "{}",
            if self.is_ready() {
                "ready"
            } else {
                "not ready: fix what is listed above"
            }
        );
        out
    }
}

impl Moodle {
    /// Connects to the Moodle database at `url` with table `prefix`.
    pub async fn connect(url: &str, prefix: &str) -> anyhow::Result<Moodle> {
        sqlx::any::install_default_drivers();
        let database = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            MoodleDatabase::Postgres
        } else if url.starts_with("mysql://") || url.starts_with("mariadb://") {
            MoodleDatabase::MySql
        } else {
            bail!(
                "unsupported Moodle database URL {}: use postgres://… or mysql://… (MariaDB too)",
                crate::store::redact(url)
            );
        };
        // The prefix is pasted into SQL: only what Moodle itself allows in one.
        if prefix.is_empty()
            || !prefix
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            bail!("the Moodle table prefix {prefix:?} is not one Moodle accepts ([a-z0-9_]+)");
        }
        let url = url.replacen("mariadb://", "mysql://", 1);
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect(&url)
            .await
            .with_context(|| {
                format!(
                    "cannot connect to the Moodle database {}",
                    crate::store::redact(&url)
                )
            })?;
        Ok(Moodle {
            pool,
            database,
            prefix: prefix.to_owned(),
        })
    }

    /// The connection pool.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Locks, until the transaction on `conn` ends, the rows an apply is about to change:
    /// the cohorts and their cohort-sync instances, the instances named, and the cohorts'
    /// members (on MariaDB/MySQL this also locks the index ranges, so that a member cannot
    /// be added to those cohorts meanwhile; on PostgreSQL such an insert is caught by the
    /// unique key when it clashes, and rolls the apply back).
    pub async fn lock(
        &self,
        conn: &mut AnyConnection,
        cohorts: &[i64],
        bindings: &[i64],
    ) -> Result<(), sqlx::Error> {
        let list = |ids: &[i64]| ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let mut statements = Vec::new();
        for chunk in cohorts.chunks(5_000) {
            let ids = list(chunk);
            statements.push(format!(
                "SELECT id FROM {} WHERE id IN ({ids}) FOR UPDATE",
                self.table("cohort")
            ));
            statements.push(format!(
                "SELECT id FROM {} WHERE enrol = 'cohort' AND customint1 IN ({ids}) FOR UPDATE",
                self.table("enrol")
            ));
            statements.push(format!(
                "SELECT id FROM {} WHERE cohortid IN ({ids}) FOR UPDATE",
                self.table("cohort_members")
            ));
        }
        for chunk in bindings.chunks(5_000) {
            statements.push(format!(
                "SELECT id FROM {} WHERE id IN ({}) FOR UPDATE",
                self.table("enrol"),
                list(chunk)
            ));
        }
        for sql in statements {
            sqlx::query(&sql).fetch_all(&mut *conn).await?;
        }
        Ok(())
    }

    /// Moodle's unenrol action, read on `conn`.
    pub async fn unenrol_action_on(
        &self,
        conn: &mut AnyConnection,
    ) -> Result<cohortsync_shared::options::UnenrolAction, sqlx::Error> {
        self.unenrol_action(conn).await
    }

    /// Whether Moodle logs to its standard store (`tool_log/enabled_stores` lists
    /// `logstore_standard`): when it does not, Moodle writes no `logstore_standard_log`
    /// rows, and an apply writes none either. A site without the setting has never been
    /// through Moodle's install, which sets it to `logstore_standard`: it counts as
    /// logging, as the sites in `shared/moodle/` do.
    pub async fn logs_to_standard_store(
        &self,
        conn: &mut AnyConnection,
    ) -> Result<bool, sqlx::Error> {
        Ok(self
            .plugin_config(conn, "tool_log", "enabled_stores")
            .await?
            .is_none_or(|stores| stores.split(',').any(|s| s.trim() == "logstore_standard")))
    }

    /// The release (`mdl_config.release`), if the site has one.
    pub async fn release(&self) -> anyhow::Result<Option<String>> {
        let mut conn = self.pool.acquire().await?;
        Ok(self.config(&mut conn, "release").await?)
    }

    /// The Moodle user an apply acts as: `username` (`--moodle-actor`), else the first
    /// site admin (`$CFG->siteadmins`).
    pub async fn actor(&self, username: Option<&str>) -> anyhow::Result<i64> {
        let mut conn = self.pool.acquire().await?;
        match username {
            Some(name) => {
                let sql = format!(
                    "SELECT id FROM {} WHERE username = {} AND deleted = 0",
                    self.table("user"),
                    self.database.placeholder(1)
                );
                let row = sqlx::query(&sql)
                    .bind(name)
                    .fetch_optional(&mut *conn)
                    .await?;
                match row {
                    Some(row) => Ok(snapshot::int(&row, 0)?),
                    None => bail!("--moodle-actor {name:?}: no such Moodle user"),
                }
            }
            None => {
                let admins = self
                    .config(&mut conn, "siteadmins")
                    .await?
                    .unwrap_or_default();
                match admins.split(',').find_map(|id| id.trim().parse().ok()) {
                    Some(id) => Ok(id),
                    None => bail!(
                        "the Moodle site names no site admin (mdl_config siteadmins); \
                         name the account changes are made as with --moodle-actor"
                    ),
                }
            }
        }
    }

    /// `table` with the site's prefix.
    fn table(&self, table: &str) -> String {
        format!("{}{table}", self.prefix)
    }

    /// Which database this is.
    pub fn database(&self) -> MoodleDatabase {
        self.database
    }

    /// Checks the tables, columns and privileges cohortsync needs, and reads Moodle's
    /// release and a few counts.
    pub async fn check(&self) -> anyhow::Result<MoodleCheck> {
        let mut missing = Vec::new();
        let mut missing_privileges = Vec::new();
        for needed in NEEDED {
            let table = self.table(needed.table);
            let present = self.columns_of(&table).await?;
            if present.is_empty() {
                missing.push(table.clone());
                continue;
            }
            for column in needed.columns {
                if !present.iter().any(|p| p.eq_ignore_ascii_case(column)) {
                    missing.push(format!("{table}.{column}"));
                }
            }
            let privileges: &[&str] = if needed.written {
                &["SELECT", "INSERT", "UPDATE", "DELETE"]
            } else {
                &["SELECT"]
            };
            for privilege in privileges {
                if !self.may(&table, privilege).await? {
                    missing_privileges.push(format!("{privilege} ON {table}"));
                }
            }
        }
        let tables_there = !missing.iter().any(|m| !m.contains('.'));
        let (release, version, enrol_cohort_version, counts, standard_log) = if tables_there {
            let mut conn = self.pool.acquire().await?;
            (
                self.config(&mut conn, "release").await?,
                self.config(&mut conn, "version").await?,
                self.plugin_config(&mut conn, "enrol_cohort", "version")
                    .await?,
                Some(self.counts(&mut conn).await?),
                Some(self.logs_to_standard_store(&mut conn).await?),
            )
        } else {
            (None, None, None, None, None)
        };
        Ok(MoodleCheck {
            database: self.database,
            prefix: self.prefix.clone(),
            release,
            version,
            enrol_cohort_version,
            missing,
            missing_privileges,
            counts,
            standard_log,
        })
    }

    /// The columns `table` has in the current schema (none: no such table).
    async fn columns_of(&self, table: &str) -> anyhow::Result<Vec<String>> {
        let column = match self.database {
            MoodleDatabase::Postgres => "column_name::text",
            MoodleDatabase::MySql => "column_name",
        };
        let sql = format!(
            "SELECT {column} FROM information_schema.columns \
             WHERE table_schema = {} AND table_name = {}",
            self.database.current_schema(),
            self.database.placeholder(1)
        );
        let rows = sqlx::query(&sql)
            .bind(table)
            .fetch_all(&self.pool)
            .await
            .with_context(|| format!("cannot read the columns of {table}"))?;
        Ok(rows
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<Result<_, _>>()?)
    }

    /// Whether the connected account may run `privilege` on `table`.
    async fn may(&self, table: &str, privilege: &str) -> anyhow::Result<bool> {
        let allowed = match self.database {
            MoodleDatabase::Postgres => {
                sqlx::query("SELECT CAST(has_table_privilege($1, $2) AS INTEGER)")
                    .bind(table)
                    .bind(privilege)
                    .fetch_one(&self.pool)
                    .await?
                    .try_get::<i32, _>(0)?
                    == 1
            }
            // MariaDB and MySQL grant globally, per database or per table; the account's
            // grants at each level are in information_schema under 'user'@'host'.
            MoodleDatabase::MySql => {
                let sql = "SELECT COUNT(*) FROM ( \
                     SELECT privilege_type FROM information_schema.user_privileges \
                       WHERE grantee = @me \
                     UNION ALL SELECT privilege_type FROM information_schema.schema_privileges \
                       WHERE grantee = @me AND table_schema = DATABASE() \
                     UNION ALL SELECT privilege_type FROM information_schema.table_privileges \
                       WHERE grantee = @me AND table_schema = DATABASE() AND table_name = ? \
                   ) AS granted WHERE privilege_type = ?";
                let mut conn = self.pool.acquire().await?;
                sqlx::query(
                    "SET @me = CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', \
                     SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')",
                )
                .execute(&mut *conn)
                .await?;
                sqlx::query(sql)
                    .bind(table)
                    .bind(privilege)
                    .fetch_one(&mut *conn)
                    .await?
                    .try_get::<i64, _>(0)?
                    > 0
            }
        };
        Ok(allowed)
    }

    /// `mdl_config.value` of `name`, if set.
    async fn config(
        &self,
        conn: &mut AnyConnection,
        name: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        let sql = format!(
            "SELECT value FROM {} WHERE name = {}",
            self.table("config"),
            self.database.placeholder(1)
        );
        let row = sqlx::query(&sql)
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?;
        row.map(|r| snapshot::text(&r, 0)).transpose()
    }

    /// `mdl_config_plugins.value` of `plugin`'s `name`, if set.
    async fn plugin_config(
        &self,
        conn: &mut AnyConnection,
        plugin: &str,
        name: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        let sql = format!(
            "SELECT value FROM {} WHERE plugin = {} AND name = {}",
            self.table("config_plugins"),
            self.database.placeholder(1),
            self.database.placeholder(2)
        );
        let row = sqlx::query(&sql)
            .bind(plugin)
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?;
        row.map(|r| snapshot::text(&r, 0)).transpose()
    }

    /// `$CFG->mnet_localhost_id` and `$CFG->siteguest`: users of this site have that
    /// `mnethostid`, and the guest is not a person (both 1 on a site that never set them).
    async fn local_host_and_guest(
        &self,
        conn: &mut AnyConnection,
    ) -> Result<(i64, i64), sqlx::Error> {
        let mut number = async |name| {
            Ok::<i64, sqlx::Error>(
                self.config(conn, name)
                    .await?
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1),
            )
        };
        let local = number("mnet_localhost_id").await?;
        let guest = number("siteguest").await?;
        Ok((local, guest))
    }

    /// Users (not deleted, of this site, not the guest), cohorts, courses (not the front
    /// page) and cohort-sync instances.
    async fn counts(&self, conn: &mut AnyConnection) -> anyhow::Result<[i64; 4]> {
        let (local, guest) = self.local_host_and_guest(conn).await?;
        let users = sqlx::query(&format!(
            "SELECT COUNT(*) FROM {} WHERE deleted = 0 AND mnethostid = {} AND id <> {}",
            self.table("user"),
            self.database.placeholder(1),
            self.database.placeholder(2)
        ))
        .bind(local)
        .bind(guest)
        .fetch_one(&mut *conn)
        .await?
        .try_get::<i64, _>(0)?;
        let mut counts = [users, 0, 0, 0];
        let tables = [
            format!("SELECT COUNT(*) FROM {}", self.table("cohort")),
            format!(
                "SELECT COUNT(*) FROM {} WHERE category <> 0",
                self.table("course")
            ),
            format!(
                "SELECT COUNT(*) FROM {} WHERE enrol = 'cohort'",
                self.table("enrol")
            ),
        ];
        for (count, sql) in counts[1..].iter_mut().zip(tables) {
            *count = sqlx::query(&sql)
                .fetch_one(&mut *conn)
                .await?
                .try_get::<i64, _>(0)?;
        }
        Ok(counts)
    }
}

/// The most of a command's output an apply report keeps.
const AFTER_APPLY_OUTPUT: usize = 4_000;
/// How long the after-apply command may run.
const AFTER_APPLY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// Runs `command` with `sh -c` (`--moodle-after-apply`), and says how it went.
pub async fn run_after_apply(command: &str) -> Box<cohortsync_shared::api::AfterApply> {
    let run = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let (status, output) = match tokio::time::timeout(AFTER_APPLY_TIMEOUT, run).await {
        Ok(Ok(out)) => {
            let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&out.stderr));
            (out.status.code(), text)
        }
        Ok(Err(error)) => (None, format!("could not run it: {error}")),
        Err(_) => (
            None,
            format!("stopped after {} s", AFTER_APPLY_TIMEOUT.as_secs()),
        ),
    };
    let start = output
        .char_indices()
        .rev()
        .nth(AFTER_APPLY_OUTPUT)
        .map_or(0, |(i, _)| i);
    if status != Some(0) {
        tracing::warn!(command, ?status, "the after-apply command failed");
    }
    Box::new(cohortsync_shared::api::AfterApply {
        command: command.to_owned(),
        success: status == Some(0),
        status,
        output: output[start..].to_owned(),
    })
}

/// `cohortsync moodle check`: exit 0 when cohortsync can work on the database, 1 when
/// something is missing (listed).
pub async fn run_check(args: MoodleArgs) -> anyhow::Result<std::process::ExitCode> {
    let moodle = Moodle::connect(&args.moodle_db_url, &args.moodle_prefix).await?;
    let check = moodle.check().await?;
    print!("{}", check.to_text());
    Ok(if check.is_ready() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(1)
    })
}
