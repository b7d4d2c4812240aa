//! The audit log: who did what to which changeset or setting, and when. Appended to inside
//! the transaction of what it records; read by admins.

use cohortsync_shared::api::AuditEntry;
use serde::Deserialize;
use sqlx::{AnyConnection, AnyPool, Row};

use super::now;
use super::{StoreError, StoreResult};

/// Appends to the audit log.
pub async fn append(
    conn: &mut AnyConnection,
    account: Option<i64>,
    action: &str,
    changeset: Option<i64>,
    details: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, account_id, action, changeset_id, details) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(now())
    .bind(account)
    .bind(action)
    .bind(changeset)
    .bind(details)
    .execute(&mut *conn)
    .await
    .map(drop).map_err(StoreError::from)
}

/// Filters of the audit log.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditFilter {
    /// Only entries about this changeset.
    pub changeset: Option<i64>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<i64>,
    /// Skip this many.
    pub offset: Option<i64>,
}

/// Entries, newest first.
pub async fn list(pool: &AnyPool, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>> {
    let rows = sqlx::query(
        "SELECT l.id, l.at, a.username, l.action, l.changeset_id, l.details FROM audit_log l \
         LEFT JOIN accounts a ON a.id = l.account_id \
         WHERE ($1 IS NULL OR l.changeset_id = $1) ORDER BY l.id DESC LIMIT $2 OFFSET $3",
    )
    .bind(filter.changeset)
    .bind(filter.limit.unwrap_or(100).clamp(1, 1000))
    .bind(filter.offset.unwrap_or(0).max(0))
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| AuditEntry {
            id: r.get(0),
            at: r.get(1),
            account: r.get(2),
            action: r.get(3),
            changeset: r.get(4),
            details: r.get(5),
        })
        .collect())
}
