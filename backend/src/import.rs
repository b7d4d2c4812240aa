//! `cohortsync import users|courses|roles|groups|categories FILE.csv`: base data, in the
//! columns Moodle exports them with. Idempotent: a row that matches what is stored changes nothing.
//!
//! Files are read by the same decoder as cohort files (encoding, delimiter, quoting, exact
//! lines), and problems are the same diagnostics.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use cohortsync_shared::decode::{Row, decode};
use cohortsync_shared::options::{DelimiterChoice, EncodingChoice};
use cohortsync_shared::report::{Code, Diagnostic, Lang, Severity};
use cohortsync_shared::snapshot::category_paths;
use serde::Serialize;
use sqlx::{AnyConnection, Row as _};

use crate::config::DatabaseArgs;
use crate::store::Database;
use crate::store::StoreResult;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportKind {
    /// `username,idnumber,email,firstname,lastname[,suspended]`.
    Users,
    /// `shortname,fullname,idnumber[,category]`.
    Courses,
    /// `shortname[,name]`.
    Roles,
    /// `course,name[,idnumber]` (course by shortname).
    Groups,
    /// `name[,idnumber,parent]`: course categories; the parent by idnumber, else by path
    /// ("Sciences / Mathématiques"), and above its children in the file.
    Categories,
}

impl ImportKind {
    fn columns(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            ImportKind::Users => (
                &["username", "idnumber", "email", "firstname", "lastname"],
                &["suspended"],
            ),
            ImportKind::Courses => (&["shortname", "fullname", "idnumber"], &["category"]),
            ImportKind::Roles => (&["shortname"], &["name"]),
            ImportKind::Groups => (&["course", "name"], &["idnumber"]),
            ImportKind::Categories => (&["name"], &["idnumber", "parent"]),
        }
    }
}

/// Flags of `cohortsync import`.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// What the file holds.
    #[arg(value_enum)]
    pub kind: ImportKind,
    /// The CSV file.
    pub file: PathBuf,
    /// Where the database is.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportReport {
    /// Rows that created a record.
    pub created: usize,
    /// Rows that changed a record.
    pub updated: usize,
    /// Rows that matched what was stored.
    pub unchanged: usize,
    /// Problems, by line; rows with an error are skipped.
    pub diagnostics: Vec<Diagnostic>,
}

/// Runs `cohortsync import`: prints the report; exit 1 when a row had an error.
pub async fn run(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(&args.file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", args.file.display()))?;
    let db = Database::connect(&args.database.url()?).await?;
    let report = import(&db, args.kind, &bytes).await?;
    for d in &report.diagnostics {
        let view = d.to_view(Lang::En);
        println!(
            "line {}: {}: {} [{}]",
            view.line,
            view.severity.as_str(),
            view.message,
            view.code.as_str()
        );
    }
    println!(
        "{}: {} created, {} updated, {} unchanged",
        args.file.display(),
        report.created,
        report.updated,
        report.unchanged
    );
    let errors = report
        .diagnostics
        .iter()
        .any(|d| d.severity == Severity::Error);
    Ok(if errors {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Imports `bytes` of `kind` in one transaction; bumps the site revision when anything
/// changed, so that cached snapshots refresh.
pub async fn import(db: &Database, kind: ImportKind, bytes: &[u8]) -> anyhow::Result<ImportReport> {
    let mut report = ImportReport::default();
    let mut decoding = cohortsync_shared::report::Diagnostics::new();
    let table = decode(
        bytes,
        EncodingChoice::Auto,
        DelimiterChoice::Auto,
        &mut decoding,
    );
    report.diagnostics = decoding.finish().0;
    let Some(table) = table else {
        return Ok(report);
    };
    let (required, optional) = kind.columns();
    let position = |name: &str| table.header.iter().position(|h| h == name);
    for name in required {
        if position(name).is_none() {
            report.diagnostics.push(
                Diagnostic::new(Code::MissingColumn, table.header_line)
                    .column(*name)
                    .arg(""),
            );
        }
    }
    for (index, name) in table.header.iter().enumerate() {
        if !name.is_empty()
            && !required.contains(&name.as_str())
            && !optional.contains(&name.as_str())
        {
            report.diagnostics.push(
                Diagnostic::new(Code::UnknownColumn, table.header_line)
                    .column(name.as_str())
                    .arg(index + 1),
            );
        }
    }
    if report
        .diagnostics
        .iter()
        .any(|d| d.severity == Severity::Error)
    {
        return Ok(report);
    }
    let header = &table.header;
    let mut tx = db.begin_write().await?;
    for row in table.rows() {
        let needed = |name: &str| {
            let value = get(header, &row, name);
            value.is_empty().then(|| {
                Diagnostic::new(Code::EmptyValue, row.line)
                    .column(name)
                    .arg("")
            })
        };
        let key = required[0];
        if let Some(d) = needed(key).or_else(|| {
            (kind == ImportKind::Groups)
                .then(|| needed("name"))
                .flatten()
        }) {
            report.diagnostics.push(d);
            continue;
        }
        let outcome = match kind {
            ImportKind::Users => {
                let suspended = match get(header, &row, "suspended").to_lowercase().as_str() {
                    "" | "0" | "no" | "false" | "non" => 0,
                    "1" | "yes" | "true" | "oui" => 1,
                    other => {
                        report.diagnostics.push(
                            Diagnostic::new(Code::InvalidValue, row.line)
                                .column("suspended")
                                .value(other)
                                .arg("boolean"),
                        );
                        continue;
                    }
                };
                let values = [
                    get(header, &row, "idnumber"),
                    get(header, &row, "email"),
                    get(header, &row, "firstname"),
                    get(header, &row, "lastname"),
                ];
                upsert_user(
                    &mut tx,
                    &get(header, &row, "username").to_lowercase(),
                    values,
                    suspended,
                )
                .await?
            }
            ImportKind::Courses => {
                upsert(
                    &mut tx,
                    "courses",
                    "shortname",
                    get(header, &row, "shortname"),
                    &[
                        ("fullname", get(header, &row, "fullname")),
                        ("idnumber", get(header, &row, "idnumber")),
                        ("category", get(header, &row, "category")),
                    ],
                )
                .await?
            }
            ImportKind::Roles => {
                upsert(
                    &mut tx,
                    "roles",
                    "shortname",
                    get(header, &row, "shortname"),
                    &[("name", get(header, &row, "name"))],
                )
                .await?
            }
            ImportKind::Groups => {
                let course = get(header, &row, "course");
                let id: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM courses WHERE shortname = $1")
                        .bind(course)
                        .fetch_optional(&mut *tx)
                        .await?;
                let Some(course_id) = id else {
                    report.diagnostics.push(
                        Diagnostic::new(Code::CourseNotFound, row.line)
                            .column("course")
                            .value(course)
                            .arg("shortname"),
                    );
                    continue;
                };
                upsert_group(
                    &mut tx,
                    course_id,
                    get(header, &row, "name"),
                    get(header, &row, "idnumber"),
                )
                .await?
            }
            ImportKind::Categories => {
                let parent = get(header, &row, "parent");
                let Some(parent_id) = category_named(&mut tx, parent).await? else {
                    report.diagnostics.push(
                        Diagnostic::new(Code::CategoryNotFound, row.line)
                            .column("parent")
                            .value(parent)
                            .arg("parent")
                            .severity(Severity::Error),
                    );
                    continue;
                };
                upsert_category(
                    &mut tx,
                    get(header, &row, "name"),
                    get(header, &row, "idnumber"),
                    parent_id,
                )
                .await?
            }
        };
        match outcome {
            Outcome::Created => report.created += 1,
            Outcome::Updated => report.updated += 1,
            Outcome::Unchanged => report.unchanged += 1,
        }
    }
    if report.created + report.updated > 0 {
        sqlx::query("UPDATE site_state SET revision = revision + 1 WHERE id = 1")
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(report)
}

enum Outcome {
    Created,
    Updated,
    Unchanged,
}

async fn upsert_user(
    conn: &mut AnyConnection,
    username: &str,
    [idnumber, email, firstname, lastname]: [&str; 4],
    suspended: i64,
) -> StoreResult<Outcome> {
    let existing = sqlx::query(
        "SELECT id, idnumber, email, firstname, lastname, suspended FROM users WHERE username = $1",
    )
    .bind(username)
    .fetch_optional(&mut *conn)
    .await?;
    match existing {
        None => {
            sqlx::query(
                "INSERT INTO users (username, idnumber, email, firstname, lastname, suspended) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(username)
            .bind(idnumber)
            .bind(email)
            .bind(firstname)
            .bind(lastname)
            .bind(suspended)
            .execute(&mut *conn)
            .await?;
            Ok(Outcome::Created)
        }
        Some(row) => {
            let same = row.get::<String, _>(1) == idnumber
                && row.get::<String, _>(2) == email
                && row.get::<String, _>(3) == firstname
                && row.get::<String, _>(4) == lastname
                && row.get::<i64, _>(5) == suspended;
            if same {
                return Ok(Outcome::Unchanged);
            }
            sqlx::query(
                "UPDATE users SET idnumber = $1, email = $2, firstname = $3, lastname = $4, \
                 suspended = $5 WHERE id = $6",
            )
            .bind(idnumber)
            .bind(email)
            .bind(firstname)
            .bind(lastname)
            .bind(suspended)
            .bind(row.get::<i64, _>(0))
            .execute(&mut *conn)
            .await?;
            Ok(Outcome::Updated)
        }
    }
}

/// Inserts or updates a row of `table` keyed by `key_column` (names are constants here).
async fn upsert(
    conn: &mut AnyConnection,
    table: &str,
    key_column: &str,
    key: &str,
    fields: &[(&str, &str)],
) -> StoreResult<Outcome> {
    let columns: Vec<&str> = fields.iter().map(|(c, _)| *c).collect();
    let existing = sqlx::query(&format!(
        "SELECT {} FROM {table} WHERE {key_column} = $1",
        columns.join(", ")
    ))
    .bind(key)
    .fetch_optional(&mut *conn)
    .await?;
    match existing {
        None => {
            let placeholders: Vec<String> =
                (2..=fields.len() + 1).map(|i| format!("${i}")).collect();
            let sql = format!(
                "INSERT INTO {table} ({key_column}, {}) VALUES ($1, {})",
                columns.join(", "),
                placeholders.join(", ")
            );
            let mut query = sqlx::query(&sql).bind(key);
            for (_, value) in fields {
                query = query.bind(*value);
            }
            query.execute(&mut *conn).await?;
            Ok(Outcome::Created)
        }
        Some(row) => {
            if fields
                .iter()
                .enumerate()
                .all(|(i, (_, value))| row.get::<String, _>(i) == *value)
            {
                return Ok(Outcome::Unchanged);
            }
            let sets: Vec<String> = columns
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{c} = ${}", i + 2))
                .collect();
            let sql = format!(
                "UPDATE {table} SET {} WHERE {key_column} = $1",
                sets.join(", ")
            );
            let mut query = sqlx::query(&sql).bind(key);
            for (_, value) in fields {
                query = query.bind(*value);
            }
            query.execute(&mut *conn).await?;
            Ok(Outcome::Updated)
        }
    }
}

/// The id of the category `named` (by idnumber, else by path); 0 for an empty name (the
/// top level); `None` when no category is so named.
async fn category_named(conn: &mut AnyConnection, named: &str) -> StoreResult<Option<i64>> {
    if named.is_empty() {
        return Ok(Some(0));
    }
    let categories = crate::store::site::categories(conn).await?;
    if let Some(found) = categories.iter().find(|c| c.idnumber == named) {
        return Ok(Some(found.id));
    }
    let paths = category_paths(&categories);
    Ok(categories
        .iter()
        .zip(paths)
        .find(|(_, path)| path.as_deref() == Some(named))
        .map(|(c, _)| c.id))
}

/// A category with an idnumber is the one with that idnumber (its name and parent follow
/// the file); one without is the one of that name under that parent.
async fn upsert_category(
    conn: &mut AnyConnection,
    name: &str,
    idnumber: &str,
    parent: i64,
) -> StoreResult<Outcome> {
    let existing = if idnumber.is_empty() {
        sqlx::query(
            "SELECT id, name, parent FROM categories WHERE idnumber = '' AND name = $1 \
             AND parent = $2 ORDER BY id",
        )
        .bind(name)
        .bind(parent)
        .fetch_optional(&mut *conn)
        .await?
    } else {
        sqlx::query("SELECT id, name, parent FROM categories WHERE idnumber = $1")
            .bind(idnumber)
            .fetch_optional(&mut *conn)
            .await?
    };
    match existing {
        None => {
            sqlx::query("INSERT INTO categories (name, idnumber, parent) VALUES ($1, $2, $3)")
                .bind(name)
                .bind(idnumber)
                .bind(parent)
                .execute(&mut *conn)
                .await?;
            Ok(Outcome::Created)
        }
        Some(row) if row.get::<String, _>(1) == name && row.get::<i64, _>(2) == parent => {
            Ok(Outcome::Unchanged)
        }
        Some(row) => {
            sqlx::query("UPDATE categories SET name = $1, parent = $2 WHERE id = $3")
                .bind(name)
                .bind(parent)
                .bind(row.get::<i64, _>(0))
                .execute(&mut *conn)
                .await?;
            Ok(Outcome::Updated)
        }
    }
}

async fn upsert_group(
    conn: &mut AnyConnection,
    course: i64,
    name: &str,
    idnumber: &str,
) -> StoreResult<Outcome> {
    let existing: Option<String> =
        sqlx::query_scalar("SELECT idnumber FROM course_groups WHERE course_id = $1 AND name = $2")
            .bind(course)
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?;
    match existing {
        None => {
            sqlx::query(
                "INSERT INTO course_groups (course_id, name, idnumber) VALUES ($1, $2, $3)",
            )
            .bind(course)
            .bind(name)
            .bind(idnumber)
            .execute(&mut *conn)
            .await?;
            Ok(Outcome::Created)
        }
        Some(current) if current == idnumber => Ok(Outcome::Unchanged),
        Some(_) => {
            sqlx::query(
                "UPDATE course_groups SET idnumber = $1 WHERE course_id = $2 AND name = $3",
            )
            .bind(idnumber)
            .bind(course)
            .bind(name)
            .execute(&mut *conn)
            .await?;
            Ok(Outcome::Updated)
        }
    }
}

/// The trimmed cell of column `name`, or `""` when the header lacks it.
fn get<'t>(header: &[String], row: &Row<'t>, name: &str) -> &'t str {
    header
        .iter()
        .position(|h| h == name)
        .map_or("", |i| cohortsync_shared::decode::trim(row.cell(i)))
}
