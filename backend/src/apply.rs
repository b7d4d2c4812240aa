//! A changeset's life on the server: submit (check and plan the file against the current
//! state), drift (would the plan differ now?), approve, and the atomic apply.
//!
//! Every step re-runs the rules of `cohortsync_shared` on the stored file: the server never
//! trusts a plan it did not make, and never applies a plan the current state contradicts.

use std::collections::HashMap;

use cohortsync_shared::check::CheckOutput;
use cohortsync_shared::options::Options;
use cohortsync_shared::plan::{Changeset, Effect, Step};
use cohortsync_shared::report::Lang;
use cohortsync_shared::{Checked, check};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::AnyConnection;

use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::store::changesets::{self, ChangesetRecord, NewChangeset, Status};
use crate::store::{Database, site};

/// Checks `file` against the current state and, when it has no errors, stores it as a
/// submitted changeset. Returns the new id, or `InvalidFile` with the full report.
pub async fn submit(
    db: &Database,
    caller: &Caller,
    file_name: &str,
    file: &[u8],
    options: &Options,
) -> Result<i64, ApiError> {
    if options.override_limits && caller.role != Role::Admin {
        return Err(ApiError::Forbidden(
            "only an admin may override the safety limits",
        ));
    }
    let mut conn = db.pool().acquire().await?;
    let snapshot = site::load_snapshot(&mut conn).await?;
    drop(conn);
    let checked = check(file, &snapshot, options);
    let (Some(plan), Some(kind)) = (&checked.changeset, checked.report.kind) else {
        return Err(invalid(&checked));
    };
    let mut tx = db.begin_write().await?;
    let id = changesets::insert(
        &mut tx,
        &NewChangeset {
            author: caller.id,
            file_name,
            file,
            kind,
            options,
            report: &checked.report,
            plan,
            reverts: None,
        },
    )
    .await?;
    changesets::audit(&mut tx, Some(caller.id), "submit", Some(id), file_name).await?;
    tx.commit().await?;
    Ok(id)
}

fn invalid(checked: &Checked) -> ApiError {
    ApiError::InvalidFile(
        serde_json::to_value(checked.to_output(Lang::En)).unwrap_or(serde_json::Value::Null),
    )
}

/// How the plan of a stored file would differ if it were planned now.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Drift {
    /// Whether planning now gives a different plan (or errors).
    pub changed: bool,
    /// The revision the file was planned against, and the current one.
    pub base_revision: u64,
    /// The current revision.
    pub current_revision: u64,
    /// Operations planned now and not in the stored plan.
    pub operations_added: Vec<Step>,
    /// Operations of the stored plan that would no longer be planned.
    pub operations_removed: Vec<Step>,
    /// Effects planned now and not in the stored plan.
    pub effects_added: Vec<Effect>,
    /// Effects of the stored plan that would no longer happen.
    pub effects_removed: Vec<Effect>,
    /// The report of checking the file now, when it now has errors.
    pub errors: Option<CheckOutput>,
}

/// Plans `file` again on `conn`'s current state and compares with `planned`.
async fn plan_now(
    conn: &mut AnyConnection,
    file: &[u8],
    options: &Options,
    planned: &Changeset,
) -> Result<(Drift, Checked), ApiError> {
    let snapshot = site::load_snapshot(conn).await?;
    let checked = check(file, &snapshot, options);
    let mut drift = Drift {
        base_revision: planned.base_revision,
        current_revision: snapshot.revision,
        ..Drift::default()
    };
    match &checked.changeset {
        None => {
            drift.changed = true;
            drift.errors = Some(checked.to_output(Lang::En));
        }
        Some(now) => {
            (drift.operations_added, drift.operations_removed) =
                difference(&now.operations, &planned.operations);
            (drift.effects_added, drift.effects_removed) =
                difference(&now.effects, &planned.effects);
            drift.changed = !(drift.operations_added.is_empty()
                && drift.operations_removed.is_empty()
                && drift.effects_added.is_empty()
                && drift.effects_removed.is_empty());
        }
    }
    Ok((drift, checked))
}

/// What `now` has more than `before`, and what it lacks (as multisets, in their order).
fn difference<T: Serialize + Clone>(now: &[T], before: &[T]) -> (Vec<T>, Vec<T>) {
    let key = |item: &T| serde_json::to_string(item).unwrap_or_default();
    let mut counts: HashMap<String, i64> = HashMap::new();
    for item in before {
        *counts.entry(key(item)).or_default() += 1;
    }
    let mut added = Vec::new();
    for item in now {
        let count = counts.entry(key(item)).or_default();
        if *count > 0 {
            *count -= 1;
        } else {
            added.push(item.clone());
        }
    }
    let removed = before
        .iter()
        .filter(|item| {
            let count = counts.entry(key(item)).or_default();
            if *count > 0 {
                *count -= 1;
                true
            } else {
                false
            }
        })
        .cloned()
        .collect();
    (added, removed)
}

/// A changeset with its drift, as `GET /api/changesets/{id}` answers it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChangesetDetail {
    /// Everything stored.
    #[serde(flatten)]
    pub record: ChangesetRecord,
    /// For a changeset not yet applied: how planning it now would differ.
    pub drift: Option<Drift>,
}

/// One changeset as `caller` may see it (teachers: only their own).
pub async fn detail(db: &Database, caller: &Caller, id: i64) -> Result<ChangesetDetail, ApiError> {
    let mut conn = db.pool().acquire().await?;
    let (record, file) = visible(&mut conn, caller, id).await?;
    let drift = match record.summary.status {
        Status::Submitted | Status::Approved => Some(
            plan_now(&mut conn, &file, &record.options, &record.plan)
                .await?
                .0,
        ),
        _ => None,
    };
    Ok(ChangesetDetail { record, drift })
}

async fn visible(
    conn: &mut AnyConnection,
    caller: &Caller,
    id: i64,
) -> Result<(ChangesetRecord, Vec<u8>), ApiError> {
    match changesets::get(conn, id).await? {
        Some((record, file)) if caller.role == Role::Admin || record.author_id == caller.id => {
            Ok((record, file))
        }
        // Another teacher's changeset does not exist, as far as this caller knows.
        _ => Err(ApiError::NotFound),
    }
}

/// Approves a submitted changeset, or re-approves an approved one that drifted: the file
/// is planned again on the current state and that plan is what will be applied.
pub async fn approve(
    db: &Database,
    caller: &Caller,
    id: i64,
    comment: &str,
) -> Result<ChangesetDetail, ApiError> {
    caller.require_admin()?;
    let mut tx = db.begin_write().await?;
    let (record, file) = visible(&mut tx, caller, id).await?;
    let from = record.summary.status;
    if !matches!(from, Status::Submitted | Status::Approved | Status::Failed) {
        return Err(wrong_status(id, from, "approve"));
    }
    let (drift, checked) = plan_now(&mut tx, &file, &record.options, &record.plan).await?;
    let Some(plan) = checked.changeset else {
        return Err(ApiError::Conflict {
            code: "file_no_longer_valid",
            message: format!("changeset {id} has errors against the current state"),
            details: serde_json::to_value(&drift).unwrap_or_default(),
        });
    };
    if from == Status::Approved && !drift.changed {
        return Err(wrong_status(id, from, "approve"));
    }
    changesets::review(&mut tx, id, from, Status::Approved, caller.id, comment).await?;
    changesets::replace_plan(&mut tx, id, &plan).await?;
    changesets::audit(&mut tx, Some(caller.id), "approve", Some(id), comment).await?;
    tx.commit().await?;
    detail(db, caller, id).await
}

/// Rejects a submitted or approved changeset.
pub async fn reject(
    db: &Database,
    caller: &Caller,
    id: i64,
    comment: &str,
) -> Result<ChangesetDetail, ApiError> {
    caller.require_admin()?;
    let mut tx = db.begin_write().await?;
    let (record, _) = visible(&mut tx, caller, id).await?;
    let from = record.summary.status;
    if !matches!(from, Status::Submitted | Status::Approved)
        || !changesets::review(&mut tx, id, from, Status::Rejected, caller.id, comment).await?
    {
        return Err(wrong_status(id, from, "reject"));
    }
    changesets::audit(&mut tx, Some(caller.id), "reject", Some(id), comment).await?;
    tx.commit().await?;
    detail(db, caller, id).await
}

fn wrong_status(id: i64, status: Status, action: &str) -> ApiError {
    ApiError::Conflict {
        code: "wrong_status",
        message: format!(
            "changeset {id} is {} and cannot be {action}d now",
            status.as_str()
        ),
        details: json!({"status": status}),
    }
}

/// The answer of a successful apply.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ApplyReport {
    /// The changeset.
    pub id: i64,
    /// The revision after the apply.
    pub revision: u64,
    /// Ids given to created objects.
    pub created: site::Applied,
    /// Counts of what was written.
    pub totals: cohortsync_shared::plan::Totals,
}

/// Applies an approved changeset in one transaction. The file is planned again on the
/// current state under the write lock; if that plan differs from the approved one, nothing
/// is written and the answer is `409` with the difference.
///
/// `fail_after` injects a failure after that many operations (tests of atomicity).
pub async fn apply(
    db: &Database,
    caller: &Caller,
    id: i64,
    fail_after: Option<usize>,
) -> Result<ApplyReport, ApiError> {
    caller.require_admin()?;
    let mut tx = db.begin_write().await?;
    site::lock_for_apply(&mut tx, db.kind()).await?;
    let (record, file) = visible(&mut tx, caller, id).await?;
    match record.summary.status {
        Status::Approved => {}
        Status::Applied => {
            return Err(ApiError::Conflict {
                code: "already_applied",
                message: format!("changeset {id} is already applied"),
                details: json!({"applied_revision": record.applied_revision}),
            });
        }
        other => return Err(wrong_status(id, other, "applie")),
    }
    let (drift, _) = plan_now(&mut tx, &file, &record.options, &record.plan).await?;
    if drift.changed {
        return Err(ApiError::Conflict {
            code: "drift",
            message: format!(
                "the site changed since changeset {id} was approved: planning it now gives a \
                 different plan; review the difference and approve it again"
            ),
            details: serde_json::to_value(&drift).unwrap_or_default(),
        });
    }
    let written = site::write_changeset(&mut tx, &record.plan, fail_after).await;
    let applied = match written {
        Ok(applied) => applied,
        Err(error) => {
            drop(tx); // rolls back: nothing of the apply is written
            let mut tx = db.begin_write().await?;
            let report =
                json!({"error": "the apply failed and was rolled back; nothing was written"});
            changesets::finish_apply(&mut tx, id, Status::Failed, None, &report).await?;
            changesets::audit(&mut tx, Some(caller.id), "apply_failed", Some(id), "").await?;
            tx.commit().await?;
            return Err(ApiError::Database(error));
        }
    };
    let report = ApplyReport {
        id,
        revision: applied.revision,
        totals: record.plan.totals(),
        created: applied,
    };
    let report_json = serde_json::to_value(&report).map_err(anyhow::Error::from)?;
    changesets::finish_apply(
        &mut tx,
        id,
        Status::Applied,
        Some(report.revision),
        &report_json,
    )
    .await?;
    changesets::audit(&mut tx, Some(caller.id), "apply", Some(id), "").await?;
    tx.commit().await?;
    Ok(report)
}
