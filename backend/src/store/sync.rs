//! The sync folder's own rows: its settings, the scheduler's account, and the history of
//! what each run did with each file.

use cohortsync_shared::folder::{FileRun, Outcome, SyncRunEntry, SyncSettings, WaitingReason};
use sqlx::{AnyConnection, AnyPool};

use super::accounts::{Caller, Role};
use super::{StoreError, StoreResult, now};

/// The login name of the account the scheduler acts as: the author of the changesets made
/// from dropped files and the reviewer of those it applies. It cannot sign in (it is
/// created disabled, with no password), and `account add` refuses the name.
pub const SCHEDULER: &str = "scheduler";

/// The sync folder's settings (the defaults when none were saved, or when the saved ones
/// no longer read).
pub async fn settings(conn: &mut AnyConnection) -> StoreResult<SyncSettings> {
    let text: String = sqlx::query_scalar("SELECT sync_settings FROM site_state WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    Ok(serde_json::from_str(&text).unwrap_or_else(|error| {
        tracing::warn!(%error, "the stored sync folder settings do not read; using the defaults");
        SyncSettings::default()
    }))
}

/// Saves the sync folder's settings, in the caller's transaction.
pub async fn set_settings(conn: &mut AnyConnection, settings: &SyncSettings) -> StoreResult<()> {
    let text = serde_json::to_string(settings).map_err(StoreError::unreadable_json("sync"))?;
    sqlx::query("UPDATE site_state SET sync_settings = $1 WHERE id = 1")
        .bind(text)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The scheduler's account, created (disabled, without a password) on first use.
pub async fn scheduler(conn: &mut AnyConnection) -> StoreResult<Caller> {
    let at = now();
    // '!' is no Argon2 hash: nothing verifies against it.
    sqlx::query(
        "INSERT INTO accounts (username, password_hash, role, created_at, disabled_at) \
         VALUES ($1, '!', 'admin', $2, $2) ON CONFLICT (username) DO NOTHING",
    )
    .bind(SCHEDULER)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    let id: i64 = sqlx::query_scalar("SELECT id FROM accounts WHERE username = $1")
        .bind(SCHEDULER)
        .fetch_one(&mut *conn)
        .await?;
    Ok(Caller {
        id,
        username: SCHEDULER.to_owned(),
        role: Role::Admin,
        token_scope: None,
    })
}

/// The addresses of the admins who have one (not disabled), for the task's mail.
pub async fn admin_addresses(pool: &AnyPool) -> StoreResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT email FROM accounts WHERE role = 'admin' AND disabled_at IS NULL \
         AND email <> '' ORDER BY id",
    )
    .fetch_all(pool)
    .await?)
}

/// Records what a run (`run_by`: `schedule` or `manual`) did with one file.
pub async fn record_run(conn: &mut AnyConnection, run_by: &str, file: &FileRun) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO sync_runs (at, run_by, file_name, file_sha256, outcome, waiting_reason, \
         message, changeset_id, archive, report, tryback) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(now())
    .bind(run_by)
    .bind(&file.file_name)
    .bind(&file.file_sha256)
    .bind(file.outcome.as_str())
    .bind(file.waiting.map(WaitingReason::as_str))
    .bind(&file.message)
    .bind(file.changeset)
    .bind(&file.archive)
    .bind(&file.report)
    .bind(&file.tryback)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

type RunRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<i64>,
    String,
    String,
    String,
);

/// The last `limit` files the task looked at, newest first.
pub async fn recent_runs(pool: &AnyPool, limit: i64) -> StoreResult<Vec<SyncRunEntry>> {
    let rows: Vec<RunRow> = sqlx::query_as(
        "SELECT id, at, run_by, file_name, file_sha256, outcome, waiting_reason, message, \
         changeset_id, archive, report, tryback FROM sync_runs ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|row| {
            let (id, at, run_by, file_name, file_sha256, outcome, waiting, message, changeset) = (
                row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8,
            );
            let outcome = Outcome::parse(&outcome).ok_or_else(|| StoreError::Unreadable {
                what: "sync outcome",
                reason: format!("{outcome} is not an outcome cohortsync writes"),
            })?;
            let waiting = waiting.as_deref().and_then(WaitingReason::parse);
            Ok(SyncRunEntry {
                id,
                at,
                run_by,
                file: FileRun {
                    file_name,
                    file_sha256,
                    outcome,
                    waiting,
                    message,
                    changeset,
                    errors: 0,
                    rows_set_aside: 0,
                    archive: row.9,
                    report: row.10,
                    tryback: row.11,
                },
            })
        })
        .collect()
}
