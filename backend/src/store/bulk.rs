//! Multi-row `INSERT` and `DELETE` in chunks, for applies and demo data of many rows.
//!
//! One statement per row costs a round trip each; one statement per chunk of rows is what
//! makes an apply of 100k memberships take a second rather than a minute. Chunks stay well
//! under the bind-parameter limits (SQLite 32766, PostgreSQL 65535).

use super::StoreResult;
use sqlx::AnyConnection;

/// A value to bind.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An integer (ids, booleans, times).
    Int(i64),
    /// A nullable integer.
    OptInt(Option<i64>),
    /// Text.
    Text(String),
    /// Nullable text.
    OptText(Option<String>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        Value::OptInt(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}

/// How parameters are written. SQLite looks named parameters (`$1`) up by a linear scan,
/// which makes a statement with thousands of them quadratic; anonymous `?` are bound by
/// position, and are all MySQL knows. PostgreSQL only knows `$1`.
#[derive(Debug, Clone, Copy)]
enum Placeholders {
    Anonymous,
    Numbered,
}

impl Placeholders {
    fn for_connection(conn: &AnyConnection) -> Self {
        if conn.backend_name().eq_ignore_ascii_case("postgresql") {
            Placeholders::Numbered
        } else {
            Placeholders::Anonymous
        }
    }

    fn push(self, sql: &mut String, n: usize) {
        match self {
            Placeholders::Anonymous => sql.push('?'),
            Placeholders::Numbered => {
                sql.push('$');
                sql.push_str(&n.to_string());
            }
        }
    }
}

/// Bound parameters per statement: past a few thousand, bigger statements gain nothing
/// (measured with `cargo bench -p cohortsync-backend --bench apply`).
const PARAMETERS_PER_STATEMENT: usize = 8_000;

/// Inserts `rows` into `table` (`columns` in order); `suffix` is appended to each
/// statement (e.g. `ON CONFLICT DO NOTHING`). Table and column names are the caller's
/// constants, never user input.
pub async fn insert(
    conn: &mut AnyConnection,
    table: &str,
    columns: &[&str],
    rows: &[Vec<Value>],
    suffix: &str,
) -> StoreResult<u64> {
    let per_chunk = (PARAMETERS_PER_STATEMENT / columns.len().max(1)).max(1);
    let mut written = 0;
    let mark = Placeholders::for_connection(conn);
    for chunk in rows.chunks(per_chunk) {
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        let mut n = 0;
        for (i, row) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for j in 0..row.len() {
                if j > 0 {
                    sql.push_str(", ");
                }
                n += 1;
                mark.push(&mut sql, n);
            }
            sql.push(')');
        }
        sql.push(' ');
        sql.push_str(suffix);
        let mut query = sqlx::query(&sql);
        for value in chunk.iter().flatten() {
            query = bind(query, value.clone());
        }
        written += query.execute(&mut *conn).await?.rows_affected();
    }
    Ok(written)
}

/// `query` with `value` bound next.
pub fn bind<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    value: Value,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    match value {
        Value::Int(v) => query.bind(v),
        Value::OptInt(v) => query.bind(v),
        Value::Text(v) => query.bind(v),
        Value::OptText(v) => query.bind(v),
    }
}

/// Deletes the rows of `table` whose `(a, b)` pair is in `pairs`.
pub async fn delete_pairs(
    conn: &mut AnyConnection,
    table: &str,
    (a, b): (&str, &str),
    pairs: &[(i64, i64)],
) -> StoreResult<u64> {
    change_pairs(conn, &format!("DELETE FROM {table}"), (a, b), pairs).await
}

/// Runs `UPDATE table SET assignments` (constants only, no parameters) on the rows whose
/// `(a, b)` pair is in `pairs`.
pub async fn update_pairs(
    conn: &mut AnyConnection,
    table: &str,
    assignments: &str,
    (a, b): (&str, &str),
    pairs: &[(i64, i64)],
) -> StoreResult<u64> {
    change_pairs(
        conn,
        &format!("UPDATE {table} SET {assignments}"),
        (a, b),
        pairs,
    )
    .await
}

/// `statement WHERE (a, b) IN (VALUES …)`, in chunks.
async fn change_pairs(
    conn: &mut AnyConnection,
    statement: &str,
    (a, b): (&str, &str),
    pairs: &[(i64, i64)],
) -> StoreResult<u64> {
    let mut written = 0;
    let mark = Placeholders::for_connection(conn);
    for chunk in pairs.chunks(PARAMETERS_PER_STATEMENT / 2) {
        // A row-value list, not a chain of ORs: SQLite caps expression depth at 1000.
        let mut sql = format!("{statement} WHERE ({a}, {b}) IN (VALUES ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            mark.push(&mut sql, 2 * i + 1);
            sql.push_str(", ");
            mark.push(&mut sql, 2 * i + 2);
            sql.push(')');
        }
        sql.push(')');
        let mut query = sqlx::query(&sql);
        for (x, y) in chunk {
            query = query.bind(*x).bind(*y);
        }
        written += query.execute(&mut *conn).await?.rows_affected();
    }
    Ok(written)
}

/// Ids written into one `IN (…)` list, at most: long lists are read in chunks of this many.
pub const IDS_PER_LIST: usize = 5_000;
