//! Reading a changeset with its drift and dry run (or as Moodle's upload files), approving
//! and rejecting it.

use cohortsync_shared::api::{ApplyOutcome, ChangesetDetail};
use cohortsync_shared::dry_run::{dry_run_indexed, file_identifiers};

use super::{PlannedNow, locked, plan_now, visible, wrong_status};
use crate::auth::{Admin, Caller, Role};
use crate::error::ApiError;
use crate::site::Site;
use crate::store::changesets::{self, Status, Stored};
use crate::store::{Database, audit};

/// One changeset as `caller` may see it (teachers: only their own).
/// With the plan when `with_plan`; with the drift and the dry run when not yet applied.
pub async fn detail(
    db: &Database,
    site: &Site,
    caller: &Caller,
    id: i64,
    with_plan: bool,
) -> Result<ChangesetDetail, ApiError> {
    let mut conn = db.pool().acquire().await?;
    let Stored {
        mut record,
        mut plan,
        file,
    } = visible(&mut conn, caller, id).await?;
    // What the admin's after-apply command printed is for admins: it may say anything.
    if caller.role == Role::Teacher
        && let Some(ApplyOutcome::Applied(report)) = &mut record.apply_report
    {
        report.after_apply = None;
    }
    let (drift, dry_run) = match record.summary.status {
        Status::Submitted | Status::Approved => {
            let snapshot = site.shared_snapshot(&mut conn).await?;
            let PlannedNow {
                drift,
                snapshot,
                file,
                ..
            } = plan_now(
                site,
                super::StateFrom::Site(site),
                &mut conn,
                snapshot,
                file,
                &record.options,
                &plan,
            )
            .await?;
            let told = dry_run_indexed(&snapshot, &site.user_index(&snapshot), &plan);
            // A teacher reads no name: only ids and the file's own identifiers.
            let told = match caller.role {
                Role::Admin => told,
                Role::Teacher => {
                    // Reading the file again is a check's kind of work: off the executor.
                    let options = record.options.clone();
                    let (identifiers, back) = crate::checks::off_executor(move || {
                        (file_identifiers(&file, &plan, &options), plan)
                    })
                    .await?;
                    plan = back;
                    told.for_teacher(&identifiers)
                }
            };
            (Some(drift), Some(told))
        }
        _ => (None, None),
    };
    Ok(ChangesetDetail {
        record,
        plan: with_plan.then_some(plan),
        drift,
        dry_run,
    })
}

/// Approves a submitted changeset, or re-approves an approved one that drifted: the file
/// is planned again on the current state and that plan is what will be applied.
pub async fn approve(
    db: &Database,
    site: &Site,
    admin: &Admin,
    id: i64,
    comment: &str,
) -> Result<ChangesetDetail, ApiError> {
    let (mut tx, Stored { record, plan, file }) = locked(db, admin, id).await?;
    let from = record.summary.status;
    if !matches!(from, Status::Submitted | Status::Approved | Status::Failed) {
        return Err(wrong_status(id, from, "approve"));
    }
    let snapshot = site.shared_snapshot(&mut tx).await?;
    let PlannedNow { drift, checked, .. } = plan_now(
        site,
        super::StateFrom::Site(site),
        &mut tx,
        snapshot,
        file,
        &record.options,
        &plan,
    )
    .await?;
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
    if !changesets::review(&mut tx, id, from, Status::Approved, admin.id, comment).await?
        || !changesets::replace_plan(&mut tx, id, Status::Approved, &plan).await?
    {
        return Err(wrong_status(id, from, "approve"));
    }
    audit::append(&mut tx, Some(admin.id), "approve", Some(id), comment).await?;
    tx.commit().await?;
    detail(db, site, admin, id, false).await
}

/// Rejects a submitted or approved changeset.
pub async fn reject(
    db: &Database,
    site: &Site,
    admin: &Admin,
    id: i64,
    comment: &str,
) -> Result<ChangesetDetail, ApiError> {
    let (mut tx, Stored { record, .. }) = locked(db, admin, id).await?;
    let from = record.summary.status;
    if !matches!(from, Status::Submitted | Status::Approved)
        || !changesets::review(&mut tx, id, from, Status::Rejected, admin.id, comment).await?
    {
        return Err(wrong_status(id, from, "reject"));
    }
    audit::append(&mut tx, Some(admin.id), "reject", Some(id), comment).await?;
    tx.commit().await?;
    detail(db, site, admin, id, false).await
}

/// One of the files Moodle's own upload screens read, made from a changeset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoodleFile {
    /// Its new cohorts, as a cohort upload file.
    Cohorts,
    /// Its membership additions, as a user upload file with `cohortN` columns.
    Users,
}

impl MoodleFile {
    /// The file named `name` in `/api/changesets/{id}/moodle/{name}`.
    pub fn parse(name: &str) -> Option<MoodleFile> {
        match name {
            "cohorts.csv" => Some(MoodleFile::Cohorts),
            "users.csv" => Some(MoodleFile::Users),
            _ => None,
        }
    }
}

/// Changeset `id` as `which` of Moodle's upload files, for an admin (the user file names
/// users by username): the file's text. Nothing to put in it, or a user or cohort it could
/// not name, is a `409` that says so.
pub async fn moodle_file(
    db: &Database,
    site: &Site,
    admin: &Admin,
    id: i64,
    which: MoodleFile,
) -> Result<String, ApiError> {
    let mut conn = db.pool().acquire().await?;
    let Stored { plan, .. } = visible(&mut conn, admin, id).await?;
    let nothing = |what: &str| ApiError::Conflict {
        code: "nothing_to_export",
        message: format!("changeset {id} {what}"),
        details: serde_json::Value::Null,
    };
    match which {
        MoodleFile::Cohorts => cohortsync_shared::export::moodle_cohort_file(&plan)
            .ok_or_else(|| nothing("creates no cohort")),
        MoodleFile::Users => {
            let snapshot = site.snapshot(&mut conn).await?;
            match cohortsync_shared::export::moodle_user_file(&plan, &snapshot) {
                Ok(Some(file)) => Ok(file),
                Ok(None) => Err(nothing("adds no member")),
                Err(unnamed) => Err(ApiError::Conflict {
                    code: "not_exportable",
                    message: format!(
                        "changeset {id} adds members Moodle's user upload file cannot name \
                         (users without a username, or new cohorts without an idnumber)"
                    ),
                    details: serde_json::json!({
                        "users": unnamed.iter().filter_map(|n| match n {
                            cohortsync_shared::export::NotExported::User(id) => Some(id),
                            _ => None,
                        }).collect::<Vec<_>>(),
                        "new_cohorts": unnamed.iter().filter_map(|n| match n {
                            cohortsync_shared::export::NotExported::NewCohortWithoutIdnumber(n) => Some(n),
                            _ => None,
                        }).collect::<Vec<_>>(),
                    }),
                }),
            }
        }
    }
}
