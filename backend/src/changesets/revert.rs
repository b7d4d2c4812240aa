//! Reverting an applied changeset: a new changeset that takes the site back, planned by
//! `cohortsync_shared::revert` and applied at once in the same transaction.

use cohortsync_shared::api::{ApplyReport, REFUSAL_ERRORS};
use cohortsync_shared::report::Lang;
use cohortsync_shared::revert::{Revert, RevertData, changes_since, plan_revert, touched};
use serde_json::json;

use super::apply::{record_after_apply, write_and_record};
use super::{locked, wrong_status};
use crate::auth::Admin;
use crate::error::ApiError;
use crate::site::{Site, SiteWrite};
use crate::store::changesets::{self, NewChangeset, Status, Stored};
use crate::store::{Database, audit};

/// Undoes an applied changeset with a new changeset of inverse operations, applied at once
/// in the same transaction. Refused (`409 changed_since`) when a cohort or binding it
/// touched changed since.
pub async fn revert(
    db: &Database,
    site: &Site,
    admin: &Admin,
    id: i64,
) -> Result<ApplyReport, ApiError> {
    let (mut tx, Stored { record, plan, .. }) = locked(db, admin, id).await?;
    if record.summary.status != Status::Applied {
        return Err(wrong_status(id, record.summary.status, "revert"));
    }
    let data: RevertData = match changesets::revert_data(&mut tx, id).await? {
        Some(value) => serde_json::from_value(value).map_err(anyhow::Error::from)?,
        None => RevertData::default(),
    };
    let (cohorts, bindings) = touched(&plan);
    let mut write = SiteWrite::begin(site, &cohorts, &bindings).await?;
    let mut snapshot = write.snapshot(&mut tx).await?;
    let changed = changes_since(&snapshot, &data);
    if !changed.is_empty() {
        return Err(ApiError::Conflict {
            code: "changed_since",
            message: format!(
                "the site changed since changeset {id} was applied; it cannot be reverted \
                 automatically"
            ),
            details: json!({ "changed": changed }),
        });
    }
    let name = format!("revert of changeset {id} ({})", record.summary.file_name);
    let Revert {
        file,
        options,
        report,
        mut plan,
    } = plan_revert(
        &snapshot,
        &plan,
        &data,
        record.summary.kind,
        &site.run_options(&record.options, &snapshot),
    )
    .map_err(|refused| ApiError::Conflict {
        code: "changed_since",
        message: format!(
            "the site changed since changeset {id} was applied; its bindings cannot be put \
             back automatically"
        ),
        details: serde_json::to_value(refused.to_refusal(Lang::En, REFUSAL_ERRORS))
            .unwrap_or_default(),
    })?;
    super::effects_from_state(
        super::StateFrom::Write(&mut write),
        &mut tx,
        &mut snapshot,
        &mut plan,
        options.unenrol_action,
    )
    .await?;
    let revert_id = changesets::insert(
        &mut tx,
        &NewChangeset {
            author: admin.id,
            file_name: &name,
            file: &file,
            kind: record.summary.kind,
            options: &options,
            report: &report,
            plan: &plan,
            reverts: Some(id),
            source_sha256: None,
            waiting_reason: None,
        },
    )
    .await?;
    changesets::review(
        &mut tx,
        revert_id,
        Status::Submitted,
        Status::Approved,
        admin.id,
        &name,
    )
    .await?;
    let mut applied =
        write_and_record(&mut tx, &mut write, revert_id, &plan, None, &snapshot).await?;
    let after_apply = write.commit().await?;
    record_after_apply(&mut tx, &mut applied, after_apply).await?;
    changesets::set_status(&mut tx, id, Status::Reverted).await?;
    audit::append(
        &mut tx,
        Some(admin.id),
        "revert",
        Some(id),
        &format!("by {revert_id}"),
    )
    .await?;
    tx.commit().await?;
    Ok(applied)
}
