//! Changesets as stored: the file, the options, the report, the plan, and their life from
//! `submitted` to `applied` (or `rejected`, `failed`, `reverted`).

use cohortsync_shared::Report;
use cohortsync_shared::api::{ApplyOutcome, ChangesetRecord, ChangesetSummary};
use cohortsync_shared::changeset::Changeset;
use cohortsync_shared::folder::WaitingReason;
use cohortsync_shared::formats::FileKind;
use cohortsync_shared::options::Options;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, AnyPool, Row};

use super::now;
use super::{StoreError, StoreResult};

/// Where a changeset is in its life (the wire type, under the name this module uses).
pub use cohortsync_shared::api::ChangesetStatus as Status;

/// A new changeset, before it has an id.
#[derive(Debug, Clone)]
pub struct NewChangeset<'a> {
    /// Author account.
    pub author: i64,
    /// File name as uploaded.
    pub file_name: &'a str,
    /// File bytes.
    pub file: &'a [u8],
    /// Kind of file.
    pub kind: FileKind,
    /// Options it was checked with.
    pub options: &'a Options,
    /// Report of the check.
    pub report: &'a Report,
    /// Planned operations and effects.
    pub plan: &'a Changeset,
    /// Set when this changeset undoes another.
    pub reverts: Option<i64>,
    /// Set when it was made from a dropped or pushed file: that file's SHA-256 as it came.
    pub source_sha256: Option<&'a str>,
    /// Why it waits for an admin, when made under the sync folder's policy.
    pub waiting_reason: Option<WaitingReason>,
}

fn json_error(e: serde_json::Error) -> StoreError {
    StoreError::unreadable_json("changeset")(e)
}

/// Stores a new changeset with status `submitted`; returns its id.
pub async fn insert(conn: &mut AnyConnection, new: &NewChangeset<'_>) -> StoreResult<i64> {
    sqlx::query_scalar(
        "INSERT INTO changesets (author_id, created_at, file_name, file_sha256, file_content, kind, \
         options, report, plan, totals, base_revision, status, reverts_id, source_sha256, \
         waiting_reason) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'submitted', $12, $13, $14) \
         RETURNING id",
    )
    .bind(new.author)
    .bind(now())
    .bind(new.file_name)
    .bind(crate::crypto::sha256_hex(new.file))
    .bind(new.file.to_vec())
    .bind(new.kind.as_str())
    .bind(to_json(new.options)?)
    .bind(to_json(new.report)?)
    .bind(to_json(new.plan)?)
    .bind(to_json(&new.plan.totals())?)
    .bind(new.plan.base_revision as i64)
    .bind(new.reverts)
    .bind(new.source_sha256)
    .bind(new.waiting_reason.map(WaitingReason::as_str))
    .fetch_one(&mut *conn)
    .await.map_err(StoreError::from)
}

fn to_json<T: Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(json_error)
}

/// Filters of the changeset list.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListFilter {
    /// Only this status.
    pub status: Option<String>,
    /// Only this author (login name).
    pub author: Option<String>,
    /// Page size (default 50, at most 500).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

// The totals have their own column: a list must not parse every plan (100k operations each).
const SUMMARY_COLUMNS: &str = "c.id, a.username, c.created_at, c.file_name, c.kind, c.status, \
     c.base_revision, c.totals, c.reverts_id, c.waiting_reason";

fn summary(row: &sqlx::any::AnyRow) -> StoreResult<ChangesetSummary> {
    Ok(ChangesetSummary {
        id: row.get(0),
        author: row.get(1),
        created_at: row.get(2),
        file_name: row.get(3),
        kind: FileKind::parse(&row.get::<String, _>(4)).ok_or_else(|| StoreError::Unreadable {
            what: "file kind",
            reason: "not cohorts or bindings".into(),
        })?,
        status: Status::parse(&row.get::<String, _>(5)).ok_or_else(|| StoreError::Unreadable {
            what: "changeset status",
            reason: "not a status cohortsync writes".into(),
        })?,
        base_revision: row.get::<i64, _>(6) as u64,
        totals: serde_json::from_str(&row.get::<String, _>(7)).map_err(json_error)?,
        reverts: row.get(8),
        waiting_reason: row
            .get::<Option<String>, _>(9)
            .as_deref()
            .and_then(WaitingReason::parse),
    })
}

/// Changesets, newest first, filtered; `only_author` restricts to one account (teachers).
pub async fn list(
    pool: &AnyPool,
    filter: &ListFilter,
    only_author: Option<i64>,
) -> StoreResult<Vec<ChangesetSummary>> {
    let rows = sqlx::query(&format!(
        "SELECT {SUMMARY_COLUMNS} FROM changesets c JOIN accounts a ON a.id = c.author_id \
         WHERE ($1 IS NULL OR c.status = $1) AND ($2 IS NULL OR a.username = $2) \
         AND ($3 IS NULL OR c.author_id = $3) ORDER BY c.id DESC LIMIT $4 OFFSET $5"
    ))
    .bind(filter.status.as_deref())
    .bind(filter.author.as_deref())
    .bind(only_author)
    .bind(filter.limit.unwrap_or(50).clamp(1, 500))
    .bind(filter.offset.unwrap_or(0).max(0))
    .fetch_all(pool)
    .await?;
    rows.iter().map(summary).collect()
}

/// A stored changeset: its record, its plan and its file.
#[derive(Debug, Clone)]
pub struct Stored {
    /// Everything but the plan and the file.
    pub record: ChangesetRecord,
    /// The plan (approved as is).
    pub plan: Changeset,
    /// The file as uploaded.
    pub file: Vec<u8>,
}

/// One changeset with everything.
pub async fn get(conn: &mut AnyConnection, id: i64) -> StoreResult<Option<Stored>> {
    let row = sqlx::query(&format!(
        "SELECT {SUMMARY_COLUMNS}, c.author_id, c.file_sha256, c.options, c.report, r.username, \
         c.review_comment, c.reviewed_at, c.applied_at, c.applied_revision, c.apply_report, \
         c.file_content, c.plan FROM changesets c JOIN accounts a ON a.id = c.author_id \
         LEFT JOIN accounts r ON r.id = c.reviewer_id WHERE c.id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let parse = |i: usize| -> StoreResult<serde_json::Value> {
        serde_json::from_str(&row.get::<String, _>(i)).map_err(json_error)
    };
    let record = ChangesetRecord {
        summary: summary(&row)?,
        author_id: row.get(10),
        file_sha256: row.get(11),
        options: serde_json::from_value(parse(12)?).map_err(json_error)?,
        report: serde_json::from_value(parse(13)?).map_err(json_error)?,
        reviewer: row.get(14),
        review_comment: row.get(15),
        reviewed_at: row.get(16),
        applied_at: row.get(17),
        applied_revision: row.get::<Option<i64>, _>(18).map(|r| r as u64),
        apply_report: row
            .get::<Option<String>, _>(19)
            .map(|text| serde_json::from_str(&text))
            .transpose()
            .map_err(json_error)?,
    };
    Ok(Some(Stored {
        record,
        plan: serde_json::from_str(&row.get::<String, _>(21)).map_err(json_error)?,
        file: row.get(20),
    }))
}

/// Moves changeset `id` from `from` to `to` with a review; false when it was not in `from`
/// (someone else got there first).
pub async fn review(
    conn: &mut AnyConnection,
    id: i64,
    from: Status,
    to: Status,
    reviewer: i64,
    comment: &str,
) -> StoreResult<bool> {
    let result = sqlx::query(
        "UPDATE changesets SET status = $1, reviewer_id = $2, review_comment = $3, reviewed_at = $4 \
         WHERE id = $5 AND status = $6",
    )
    .bind(to.as_str())
    .bind(reviewer)
    .bind(comment)
    .bind(now())
    .bind(id)
    .bind(from.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Records the end of an apply: `applied` with its revision, or `failed`.
pub async fn finish_apply(
    conn: &mut AnyConnection,
    id: i64,
    status: Status,
    revision: Option<u64>,
    report: &ApplyOutcome,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE changesets SET status = $1, applied_at = $2, applied_revision = $3, apply_report = $4 \
         WHERE id = $5",
    )
    .bind(status.as_str())
    .bind(now())
    .bind(revision.map(|r| r as i64))
    .bind(to_json(report)?)
    .bind(id)
    .execute(&mut *conn)
    .await
    .map(drop).map_err(StoreError::from)
}

/// Sets the status of changeset `id`.
pub async fn set_status(conn: &mut AnyConnection, id: i64, status: Status) -> StoreResult<()> {
    sqlx::query("UPDATE changesets SET status = $1 WHERE id = $2")
        .bind(status.as_str())
        .bind(id)
        .execute(&mut *conn)
        .await
        .map(drop)
        .map_err(StoreError::from)
}

/// Replaces the plan of changeset `id` (a re-approval after drift).
pub async fn replace_plan(
    conn: &mut AnyConnection,
    id: i64,
    status: Status,
    plan: &Changeset,
) -> StoreResult<bool> {
    // Only while it is still in `status`: never over the plan an apply just wrote.
    let result = sqlx::query(
        "UPDATE changesets SET plan = $1, totals = $2, base_revision = $3 \
         WHERE id = $4 AND status = $5",
    )
    .bind(to_json(plan)?)
    .bind(to_json(&plan.totals())?)
    .bind(plan.base_revision as i64)
    .bind(id)
    .bind(status.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Stores what a revert needs (see `apply::RevertData`).
pub async fn set_revert_data(
    conn: &mut AnyConnection,
    id: i64,
    data: &serde_json::Value,
) -> StoreResult<()> {
    sqlx::query("UPDATE changesets SET revert_data = $1 WHERE id = $2")
        .bind(data.to_string())
        .bind(id)
        .execute(&mut *conn)
        .await
        .map(drop)
        .map_err(StoreError::from)
}

/// What a revert needs, as stored by the apply; `None` before an apply.
pub async fn revert_data(
    conn: &mut AnyConnection,
    id: i64,
) -> StoreResult<Option<serde_json::Value>> {
    let text: Option<String> =
        sqlx::query_scalar("SELECT revert_data FROM changesets WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .flatten();
    text.map(|t| serde_json::from_str(&t).map_err(json_error))
        .transpose()
}

/// The changeset last made from a file whose SHA-256 (as it came) is `sha256`, unless it
/// was rejected or failed: its id, status and why it waits.
pub async fn by_source(
    conn: &mut AnyConnection,
    sha256: &str,
) -> StoreResult<Option<(i64, Status, Option<WaitingReason>)>> {
    let row: Option<(i64, String, Option<String>)> = sqlx::query_as(
        "SELECT id, status, waiting_reason FROM changesets WHERE source_sha256 = $1 \
         AND status NOT IN ('rejected', 'failed') ORDER BY id DESC LIMIT 1",
    )
    .bind(sha256)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|(id, status, waiting)| {
        let status = Status::parse(&status).ok_or_else(|| StoreError::Unreadable {
            what: "changeset status",
            reason: "not a status cohortsync writes".into(),
        })?;
        Ok((
            id,
            status,
            waiting.as_deref().and_then(WaitingReason::parse),
        ))
    })
    .transpose()
}
