//! Applying an approved changeset, in one transaction, refused when it drifted.

use cohortsync_shared::api::{ApplyOutcome, ApplyReport};
use cohortsync_shared::changeset::Changeset;
use cohortsync_shared::revert::{RevertData, touched};
use serde_json::json;
use sqlx::AnyConnection;

use super::{PlannedNow, locked, plan_now, wrong_status};
use crate::auth::Admin;
use crate::error::ApiError;
use crate::store::changesets::{self, Status, Stored};
use crate::store::{Database, audit, site};

/// Applies an approved changeset in one transaction. The file is planned again on the
/// current state under the write lock; if that plan differs from the approved one, nothing
/// is written and the answer is `409` with the difference.
pub async fn apply(db: &Database, admin: &Admin, id: i64) -> Result<ApplyReport, ApiError> {
    apply_failing_after(db, admin, id, None).await
}

/// [`apply`] with a failure injected after `fail_after` operations (tests of atomicity).
#[cfg(feature = "test-support")]
pub async fn apply_with_failure_after(
    db: &Database,
    admin: &Admin,
    id: i64,
    fail_after: usize,
) -> Result<ApplyReport, ApiError> {
    apply_failing_after(db, admin, id, Some(fail_after)).await
}

async fn apply_failing_after(
    db: &Database,
    admin: &Admin,
    id: i64,
    fail_after: Option<usize>,
) -> Result<ApplyReport, ApiError> {
    let (mut tx, Stored { record, plan, file }) = locked(db, admin, id).await?;
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
    let PlannedNow { drift, .. } = plan_now(&mut tx, file, &record.options, &plan).await?;
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
    let report = match write_and_record(&mut tx, id, &plan, fail_after).await {
        Ok(report) => report,
        Err(error) => {
            drop(tx); // rolls back: nothing of the apply is written
            let mut tx = db.begin_write().await?;
            let report = ApplyOutcome::Failed {
                error: "the apply failed and was rolled back; nothing was written".into(),
            };
            changesets::finish_apply(&mut tx, id, Status::Failed, None, &report).await?;
            audit::append(&mut tx, Some(admin.id), "apply_failed", Some(id), "").await?;
            tx.commit().await?;
            return Err(error);
        }
    };
    audit::append(&mut tx, Some(admin.id), "apply", Some(id), "").await?;
    tx.commit().await?;
    Ok(report)
}

/// Writes `plan` for changeset `id` inside `tx`, with what a revert needs, and marks the
/// changeset applied. The caller commits.
pub(super) async fn write_and_record(
    tx: &mut AnyConnection,
    id: i64,
    plan: &Changeset,
    fail_after: Option<usize>,
) -> Result<ApplyReport, ApiError> {
    let (cohort_ids, binding_ids) = touched(plan);
    let cohorts_before = site::load_cohorts(tx, &cohort_ids).await?;
    let bindings_before = site::load_bindings(tx, &binding_ids).await?;
    let applied = site::write_changeset_failing_after(tx, plan, fail_after).await?;
    let mut cohort_ids = cohort_ids;
    cohort_ids.extend(&applied.cohorts_created);
    let mut binding_ids = binding_ids;
    binding_ids.extend(&applied.bindings_created);
    let data = RevertData {
        cohorts_before,
        cohorts_after: site::load_cohorts(tx, &cohort_ids).await?,
        bindings_before,
        bindings_after: site::load_bindings(tx, &binding_ids).await?,
    };
    let report = ApplyReport {
        id,
        revision: applied.revision,
        totals: plan.totals(),
        created: applied,
    };
    let outcome = ApplyOutcome::Applied(report.clone());
    changesets::finish_apply(tx, id, Status::Applied, Some(report.revision), &outcome).await?;
    let data = serde_json::to_value(&data).map_err(anyhow::Error::from)?;
    changesets::set_revert_data(tx, id, &data).await?;
    Ok(report)
}
