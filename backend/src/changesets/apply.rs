//! Applying an approved changeset, in one transaction, refused when it drifted.

use cohortsync_shared::api::{ApplyOutcome, ApplyReport};
use cohortsync_shared::changeset::Changeset;
use cohortsync_shared::revert::{RevertData, touched};
use cohortsync_shared::snapshot::Snapshot;
use serde_json::json;
use sqlx::AnyConnection;

use super::{PlannedNow, locked, plan_now, wrong_status};
use crate::auth::Admin;
use crate::error::ApiError;
use crate::site::{AfterApply, Site, SiteWrite};
use crate::store::changesets::{self, Status, Stored};
use crate::store::{Database, audit};

/// Applies an approved changeset in one transaction. The file is planned again on the
/// current state under the write lock; if that plan differs from the approved one, nothing
/// is written and the answer is `409` with the difference. On Moodle the write is one
/// transaction on Moodle's database, committed before cohortsync records the outcome.
pub async fn apply(
    db: &Database,
    site: &Site,
    admin: &Admin,
    id: i64,
) -> Result<ApplyReport, ApiError> {
    apply_failing_after(db, site, admin, id, None).await
}

/// [`apply`] with a failure injected after `fail_after` operations (tests of atomicity).
#[cfg(feature = "test-support")]
pub async fn apply_with_failure_after(
    db: &Database,
    site: &Site,
    admin: &Admin,
    id: i64,
    fail_after: usize,
) -> Result<ApplyReport, ApiError> {
    apply_failing_after(db, site, admin, id, Some(fail_after)).await
}

async fn apply_failing_after(
    db: &Database,
    site: &Site,
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
    let mut phases = crate::phases::Phases::start("apply");
    let (cohorts, bindings) = touched(&plan);
    let mut write = SiteWrite::begin(site, &cohorts, &bindings).await?;
    phases.done("lock");
    let snapshot = std::sync::Arc::new(write.snapshot(&mut tx).await?);
    phases.done("state under the lock");
    let PlannedNow {
        drift,
        snapshot,
        checked,
        ..
    } = plan_now(
        site,
        super::StateFrom::Write(&mut write),
        &mut tx,
        snapshot,
        file,
        &record.options,
        &plan,
    )
    .await?;
    phases.done("re-plan");
    if drift.changed {
        // Nothing left to do: the site has the changes already (made another way, or an
        // apply into Moodle whose record here was lost with a crash between the commits).
        let done = checked.changeset.as_ref().is_some_and(|now| now.is_empty());
        let message = if done {
            format!(
                "the site already has what changeset {id} asks for: planning it now finds \
                 nothing left to do (it was done another way, or applied into Moodle while \
                 cohortsync could not record it); reject it"
            )
        } else {
            format!(
                "the site changed since changeset {id} was approved: planning it now gives a \
                 different plan; review the difference and approve it again"
            )
        };
        return Err(ApiError::Conflict {
            code: "drift",
            message,
            details: serde_json::to_value(&drift).unwrap_or_default(),
        });
    }
    let written = async {
        let report =
            write_and_record(&mut tx, &mut write, id, &plan, fail_after, &snapshot).await?;
        phases.done("write and record");
        let committed = write.commit().await?;
        phases.done("commit");
        Ok::<_, ApiError>((report, committed))
    }
    .await;
    let report = match written {
        Ok((mut report, after_apply)) => {
            record_after_apply(&mut tx, &mut report, after_apply).await?;
            report
        }
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
    if let Err(error) = tx.commit().await {
        if site.is_moodle() {
            // Moodle has the changes; only cohortsync's record of them is missing.
            tracing::error!(
                %error,
                changeset = id,
                "the apply was committed in Moodle but cohortsync could not record it"
            );
        }
        return Err(error.into());
    }
    Ok(report)
}

/// Adds what `--moodle-after-apply` gave (run after Moodle's commit) to `report`, and to the
/// report the changeset keeps.
pub(super) async fn record_after_apply(
    tx: &mut AnyConnection,
    report: &mut ApplyReport,
    after_apply: Option<AfterApply>,
) -> Result<(), ApiError> {
    if after_apply.is_some() {
        report.after_apply = after_apply;
        let outcome = ApplyOutcome::Applied(report.clone());
        changesets::finish_apply(
            tx,
            report.id,
            Status::Applied,
            Some(report.revision),
            &outcome,
        )
        .await?;
    }
    Ok(())
}

/// Writes `plan` for changeset `id` through `write`, with what a revert needs, and marks
/// the changeset applied in `tx` (cohortsync's own transaction). `before` is the state
/// just read under the lock. The caller commits both.
pub(super) async fn write_and_record(
    tx: &mut AnyConnection,
    write: &mut SiteWrite,
    id: i64,
    plan: &Changeset,
    fail_after: Option<usize>,
    before: &Snapshot,
) -> Result<ApplyReport, ApiError> {
    let (cohort_ids, binding_ids) = touched(plan);
    let (cohorts_before, bindings_before) = write
        .objects(tx, &cohort_ids, &binding_ids, Some(before))
        .await?;
    let (applied, after) = write.write(tx, plan, fail_after).await?;
    let mut cohort_ids = cohort_ids;
    cohort_ids.extend(&applied.cohorts_created);
    let mut binding_ids = binding_ids;
    binding_ids.extend(&applied.bindings_created);
    let (cohorts_after, bindings_after) = write
        .objects(tx, &cohort_ids, &binding_ids, after.as_ref())
        .await?;
    let data = RevertData {
        cohorts_before,
        cohorts_after,
        bindings_before,
        bindings_after,
    };
    let report = ApplyReport {
        id,
        revision: applied.revision,
        totals: plan.totals(),
        created: applied,
        after_apply: None,
    };
    let outcome = ApplyOutcome::Applied(report.clone());
    changesets::finish_apply(tx, id, Status::Applied, Some(report.revision), &outcome).await?;
    let data = serde_json::to_value(&data).map_err(anyhow::Error::from)?;
    changesets::set_revert_data(tx, id, &data).await?;
    Ok(report)
}
