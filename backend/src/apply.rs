//! A changeset's life on the server: submit (check and plan the file against the current
//! state), drift (would the plan differ now?), approve, and the atomic apply.
//!
//! Every step re-runs the rules of `cohortsync_shared` on the stored file: the server never
//! trusts a plan it did not make, and never applies a plan the current state contradicts.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use cohortsync_shared::api::{ApplyOutcome, ApplyReport, ChangesetDetail, Drift};
use cohortsync_shared::changeset::{Changeset, Operation, Ref, Step};
use cohortsync_shared::dry_run::{dry_run, file_identifiers};
use cohortsync_shared::formats::{BindingRow, GroupChoice, RowCommand, binding_file};
use cohortsync_shared::options::{CohortIdentifier, CourseIdentifier, Options, RoleIdentifier};
use cohortsync_shared::report::{Lang, PAGE_ROWS};
use cohortsync_shared::snapshot::{Binding, Cohort, Snapshot};
use cohortsync_shared::{Checked, check};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::AnyConnection;

use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::store::changesets::{self, NewChangeset, Status, Stored};
use crate::store::{Database, audit, site};

/// Checks `file` against the current state and, when it has no errors, stores it as a
/// submitted changeset. Returns the new id, or `InvalidFile` with the full report.
pub async fn submit(
    db: &Database,
    caller: &Caller,
    file_name: &str,
    file: Vec<u8>,
    options: &Options,
    lang: Lang,
) -> Result<i64, ApiError> {
    let mut conn = db.pool().acquire().await?;
    let snapshot = site::load_snapshot(&mut conn).await?;
    drop(conn);
    // The unenrol action is the site's; a teacher may tighten the limits, not loosen them.
    if caller.role != Role::Admin {
        let beyond = options.exceeds_site(&snapshot.defaults);
        if !beyond.is_empty() {
            return Err(ApiError::BeyondSiteSettings(beyond));
        }
    }
    let (checked, file) = {
        let options = options.clone();
        crate::checks::off_executor(move || (check(&file, &snapshot, &options), file)).await?
    };
    let (Some(plan), Some(kind)) = (&checked.changeset, checked.report.kind) else {
        return Err(invalid(&checked, lang));
    };
    let mut tx = db.begin_write().await?;
    let id = changesets::insert(
        &mut tx,
        &NewChangeset {
            author: caller.id,
            file_name,
            file: &file,
            kind,
            options,
            report: &checked.report,
            plan,
            reverts: None,
        },
    )
    .await?;
    audit::append(&mut tx, Some(caller.id), "submit", Some(id), file_name).await?;
    tx.commit().await?;
    Ok(id)
}

/// A refused file: its first page of errors and the counts of all (a file of a million
/// bad lines answers a page, not a million).
fn invalid(checked: &Checked, lang: Lang) -> ApiError {
    ApiError::InvalidFile(
        serde_json::to_value(checked.to_refusal(lang, PAGE_ROWS))
            .unwrap_or(serde_json::Value::Null),
    )
}

/// What planning a stored file again found.
struct PlannedNow {
    drift: Drift,
    checked: Checked,
    /// The state it was planned against.
    snapshot: Snapshot,
    /// The file, handed back.
    file: Vec<u8>,
}

/// Plans `file` again on `conn`'s current state and compares with `planned`.
async fn plan_now(
    conn: &mut AnyConnection,
    file: Vec<u8>,
    options: &Options,
    planned: &Changeset,
) -> Result<PlannedNow, ApiError> {
    let snapshot = site::load_snapshot(conn).await?;
    let options = options.clone();
    let (checked, snapshot, file) = crate::checks::off_executor(move || {
        let checked = check(&file, &snapshot, &options);
        (checked, snapshot, file)
    })
    .await?;
    let mut drift = Drift {
        base_revision: planned.base_revision,
        current_revision: snapshot.revision,
        ..Drift::default()
    };
    match &checked.changeset {
        None => {
            drift.changed = true;
            drift.errors = Some(checked.to_refusal(Lang::En, PAGE_ROWS));
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
    Ok(PlannedNow {
        drift,
        checked,
        snapshot,
        file,
    })
}

/// What `now` has more than `before`, and what it lacks (as multisets, in their order):
/// how a drift compares a plan made now with the stored one.
pub fn difference<T: Hash + Eq + Clone>(now: &[T], before: &[T]) -> (Vec<T>, Vec<T>) {
    let mut counts: HashMap<&T, i64> = HashMap::with_capacity(before.len());
    for item in before {
        *counts.entry(item).or_default() += 1;
    }
    let mut added = Vec::new();
    for item in now {
        match counts.get_mut(item) {
            Some(count) if *count > 0 => *count -= 1,
            _ => added.push(item.clone()),
        }
    }
    let removed = before
        .iter()
        .filter(|item| match counts.get_mut(*item) {
            Some(count) if *count > 0 => {
                *count -= 1;
                true
            }
            _ => false,
        })
        .cloned()
        .collect();
    (added, removed)
}

/// One changeset as `caller` may see it (teachers: only their own).
/// With the plan when `with_plan`; with the drift and the dry run when not yet applied.
pub async fn detail(
    db: &Database,
    caller: &Caller,
    id: i64,
    with_plan: bool,
) -> Result<ChangesetDetail, ApiError> {
    let mut conn = db.pool().acquire().await?;
    let Stored { record, plan, file } = visible(&mut conn, caller, id).await?;
    let (drift, dry_run) = match record.summary.status {
        Status::Submitted | Status::Approved => {
            let PlannedNow {
                drift,
                snapshot,
                file,
                ..
            } = plan_now(&mut conn, file, &record.options, &plan).await?;
            let told = dry_run(&snapshot, &plan);
            // A teacher reads no name: only ids and the file's own identifiers.
            let told = match caller.role {
                Role::Admin => told,
                Role::Teacher => {
                    // Reading the file again is a check's kind of work: off the executor.
                    let options = record.options.clone();
                    let identifiers = crate::checks::off_executor(move || {
                        file_identifiers(&file, &snapshot, &options)
                    })
                    .await?;
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

async fn visible(conn: &mut AnyConnection, caller: &Caller, id: i64) -> Result<Stored, ApiError> {
    match changesets::get(conn, id).await? {
        Some(stored) if caller.role == Role::Admin || stored.record.author_id == caller.id => {
            Ok(stored)
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
    // The apply's lock: an approval never interleaves with an apply of the same changeset.
    site::lock_for_apply(&mut tx, db.kind()).await?;
    let Stored { record, plan, file } = visible(&mut tx, caller, id).await?;
    let from = record.summary.status;
    if !matches!(from, Status::Submitted | Status::Approved | Status::Failed) {
        return Err(wrong_status(id, from, "approve"));
    }
    let PlannedNow { drift, checked, .. } = plan_now(&mut tx, file, &record.options, &plan).await?;
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
    if !changesets::review(&mut tx, id, from, Status::Approved, caller.id, comment).await?
        || !changesets::replace_plan(&mut tx, id, Status::Approved, &plan).await?
    {
        return Err(wrong_status(id, from, "approve"));
    }
    audit::append(&mut tx, Some(caller.id), "approve", Some(id), comment).await?;
    tx.commit().await?;
    detail(db, caller, id, false).await
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
    site::lock_for_apply(&mut tx, db.kind()).await?;
    let Stored { record, .. } = visible(&mut tx, caller, id).await?;
    let from = record.summary.status;
    if !matches!(from, Status::Submitted | Status::Approved)
        || !changesets::review(&mut tx, id, from, Status::Rejected, caller.id, comment).await?
    {
        return Err(wrong_status(id, from, "reject"));
    }
    audit::append(&mut tx, Some(caller.id), "reject", Some(id), comment).await?;
    tx.commit().await?;
    detail(db, caller, id, false).await
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

/// Applies an approved changeset in one transaction. The file is planned again on the
/// current state under the write lock; if that plan differs from the approved one, nothing
/// is written and the answer is `409` with the difference.
pub async fn apply(db: &Database, caller: &Caller, id: i64) -> Result<ApplyReport, ApiError> {
    apply_failing_after(db, caller, id, None).await
}

/// [`apply`] with a failure injected after `fail_after` operations (tests of atomicity).
#[cfg(feature = "test-support")]
pub async fn apply_with_failure_after(
    db: &Database,
    caller: &Caller,
    id: i64,
    fail_after: usize,
) -> Result<ApplyReport, ApiError> {
    apply_failing_after(db, caller, id, Some(fail_after)).await
}

async fn apply_failing_after(
    db: &Database,
    caller: &Caller,
    id: i64,
    fail_after: Option<usize>,
) -> Result<ApplyReport, ApiError> {
    caller.require_admin()?;
    let mut tx = db.begin_write().await?;
    site::lock_for_apply(&mut tx, db.kind()).await?;
    let Stored { record, plan, file } = visible(&mut tx, caller, id).await?;
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
            audit::append(&mut tx, Some(caller.id), "apply_failed", Some(id), "").await?;
            tx.commit().await?;
            return Err(error);
        }
    };
    audit::append(&mut tx, Some(caller.id), "apply", Some(id), "").await?;
    tx.commit().await?;
    Ok(report)
}

/// Cohorts and bindings an applied changeset touched, before and after: a revert checks
/// that they are still as the apply left them, and puts back what was before.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RevertData {
    /// Touched cohorts that existed before the apply, as they were.
    pub cohorts_before: Vec<Cohort>,
    /// Touched cohorts that exist after the apply (created ones included), as left.
    pub cohorts_after: Vec<Cohort>,
    /// Touched bindings that existed before, as they were.
    pub bindings_before: Vec<Binding>,
    /// Touched bindings that exist after, as left.
    pub bindings_after: Vec<Binding>,
}

/// Ids of the existing cohorts and bindings `plan` touches.
fn touched(plan: &Changeset) -> (Vec<i64>, Vec<i64>) {
    let mut cohorts = Vec::new();
    let mut bindings = Vec::new();
    for step in &plan.operations {
        match &step.op {
            Operation::UpdateCohort { cohort, .. }
            | Operation::RemoveMember { cohort, .. }
            | Operation::DeleteCohort { cohort } => cohorts.push(*cohort),
            Operation::AddMember {
                cohort: Ref::Existing(cohort),
                ..
            } => cohorts.push(*cohort),
            Operation::UpdateBinding { binding, .. } | Operation::DeleteBinding { binding } => {
                bindings.push(*binding)
            }
            _ => {}
        }
    }
    for list in [&mut cohorts, &mut bindings] {
        list.sort_unstable();
        list.dedup();
    }
    (cohorts, bindings)
}

/// Writes `plan` for changeset `id` inside `tx`, with what a revert needs, and marks the
/// changeset applied. The caller commits.
async fn write_and_record(
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

/// Undoes an applied changeset with a new changeset of inverse operations, applied at once
/// in the same transaction. Refused (`409`) when a cohort it touched changed since, and for
/// changesets that changed course bindings (not supported yet).
pub async fn revert(db: &Database, caller: &Caller, id: i64) -> Result<ApplyReport, ApiError> {
    caller.require_admin()?;
    let mut tx = db.begin_write().await?;
    site::lock_for_apply(&mut tx, db.kind()).await?;
    let Stored { record, plan, .. } = visible(&mut tx, caller, id).await?;
    if record.summary.status != Status::Applied {
        return Err(wrong_status(id, record.summary.status, "revert"));
    }
    let binds = plan.operations.iter().any(|step| {
        matches!(
            step.op,
            Operation::CreateBinding { .. }
                | Operation::UpdateBinding { .. }
                | Operation::DeleteBinding { .. }
        )
    });
    let data: RevertData = match changesets::revert_data(&mut tx, id).await? {
        Some(value) => serde_json::from_value(value).map_err(anyhow::Error::from)?,
        None => RevertData::default(),
    };
    let snapshot = site::load_snapshot(&mut tx).await?;
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
    let (plan, report, file, options) = if binds {
        // Bindings go back through the binding rules themselves: the revert is the binding
        // file that asks for the settings from before, planned against the site as it is.
        let file = inverse_bindings(&snapshot, &data);
        let options = Options {
            cohort_identifier: CohortIdentifier::Id,
            course_identifier: CourseIdentifier::Id,
            role_identifier: RoleIdentifier::Id,
            unenrol_action: record.options.unenrol_action,
            // Undoing an applied changeset is the admin's explicit decision.
            override_limits: true,
            ..Options::default()
        };
        let checked = check(file.as_bytes(), &snapshot, &options);
        let Some(plan) = checked.changeset.clone() else {
            return Err(ApiError::Conflict {
                code: "changed_since",
                message: format!(
                    "the site changed since changeset {id} was applied; its bindings cannot be \
                     put back automatically"
                ),
                details: serde_json::to_value(checked.to_refusal(Lang::En, PAGE_ROWS))
                    .unwrap_or_default(),
            });
        };
        (plan, checked.report, file.into_bytes(), options)
    } else {
        let operations = inverse(&data);
        let effects = cohortsync_shared::revert::membership_effects(
            &snapshot,
            &operations,
            record.options.unenrol_action,
        );
        let plan = Changeset {
            base_revision: snapshot.revision,
            operations,
            effects,
        };
        let report = cohortsync_shared::Report {
            kind: Some(record.summary.kind),
            encoding: None,
            delimiter: None,
            rows: 0,
            diagnostics: Vec::new(),
            omitted: Default::default(),
        };
        (plan, report, Vec::new(), record.options.clone())
    };
    let revert_id = changesets::insert(
        &mut tx,
        &NewChangeset {
            author: caller.id,
            file_name: &name,
            file: &file,
            kind: record.summary.kind,
            options: &options,
            report: &report,
            plan: &plan,
            reverts: Some(id),
        },
    )
    .await?;
    changesets::review(
        &mut tx,
        revert_id,
        Status::Submitted,
        Status::Approved,
        caller.id,
        &name,
    )
    .await?;
    let applied = write_and_record(&mut tx, revert_id, &plan, None).await?;
    changesets::set_status(&mut tx, id, Status::Reverted).await?;
    audit::append(
        &mut tx,
        Some(caller.id),
        "revert",
        Some(id),
        &format!("by {revert_id}"),
    )
    .await?;
    tx.commit().await?;
    Ok(applied)
}

/// What differs between the site now and what an apply left, for the touched cohorts and
/// bindings.
fn changes_since(now: &Snapshot, data: &RevertData) -> Vec<serde_json::Value> {
    // Indexes, not scans: a changeset may touch thousands of cohorts on a large site.
    let bindings: HashMap<i64, &Binding> = now.bindings.iter().map(|b| (b.id, b)).collect();
    let key = |b: &Binding| (b.course, b.cohort, b.role);
    let bound: HashSet<(i64, i64, i64)> = now.bindings.iter().map(key).collect();
    let bound_cohorts: HashSet<i64> = now.bindings.iter().map(|b| b.cohort).collect();
    let cohorts: HashMap<i64, &Cohort> = now.cohorts.iter().map(|c| (c.id, c)).collect();
    let idnumbers: HashSet<&str> = now.cohorts.iter().map(|c| c.idnumber.as_str()).collect();
    let bindings_after: HashSet<i64> = data.bindings_after.iter().map(|b| b.id).collect();
    let cohorts_before: HashSet<i64> = data.cohorts_before.iter().map(|c| c.id).collect();
    let cohorts_after: HashSet<i64> = data.cohorts_after.iter().map(|c| c.id).collect();
    let mut changed = Vec::new();
    for after in &data.bindings_after {
        let settings = |b: &Binding| (b.group, b.name.clone(), b.status, b.enrolstart, b.enrolend);
        match bindings.get(&after.id) {
            None => changed.push(json!({"binding": after.id, "change": "deleted"})),
            Some(current) if settings(current) != settings(after) => {
                changed.push(json!({"binding": after.id, "change": "settings"}))
            }
            Some(_) => {}
        }
    }
    for before in &data.bindings_before {
        if !bindings_after.contains(&before.id) && bound.contains(&key(before)) {
            changed.push(json!({"binding": before.id, "change": "bound again"}));
        }
    }
    // Every field a revert would put back, and the owner: a cohort taken over since by
    // another component is no longer this changeset's to undo.
    let fields = |c: &Cohort| {
        (
            c.name.clone(),
            c.idnumber.clone(),
            c.description.clone(),
            c.visible,
            c.category.clone(),
            c.component.clone(),
        )
    };
    for after in &data.cohorts_after {
        let change = |what: &str| json!({"cohort": after.id, "name": after.name, "change": what});
        match cohorts.get(&after.id) {
            None => changed.push(change("deleted")),
            Some(current) => {
                if current.members != after.members {
                    changed.push(change("members"));
                }
                if fields(current) != fields(after) {
                    changed.push(change("fields"));
                }
                if bound_cohorts.contains(&after.id) && !cohorts_before.contains(&after.id) {
                    changed.push(change("bound to a course"));
                }
            }
        }
    }
    for before in &data.cohorts_before {
        if !cohorts_after.contains(&before.id)
            && !before.idnumber.is_empty()
            && idnumbers.contains(before.idnumber.as_str())
        {
            changed.push(
                json!({"cohort": before.id, "name": before.name, "change": "idnumber taken again"}),
            );
        }
    }
    changed
}

/// The binding file that takes the touched bindings back to how they were (by ids):
/// created ones deleted, deleted ones created again, changed ones set back.
fn inverse_bindings(now: &Snapshot, data: &RevertData) -> String {
    let ids: Vec<[String; 3]> = data
        .bindings_after
        .iter()
        .chain(&data.bindings_before)
        .map(|b| {
            [
                b.cohort.to_string(),
                b.course.to_string(),
                b.role.to_string(),
            ]
        })
        .collect();
    let (after_ids, before_ids) = ids.split_at(data.bindings_after.len());
    let mut rows = Vec::new();
    for (after, [cohort, course, role]) in data.bindings_after.iter().zip(after_ids) {
        if !data.bindings_before.iter().any(|b| b.id == after.id) {
            rows.push(BindingRow {
                command: RowCommand::Delete,
                cohort,
                course,
                role,
                group: GroupChoice::None,
                name: "",
                status: after.status,
                dates: None,
            });
        }
    }
    for (before, [cohort, course, role]) in data.bindings_before.iter().zip(before_ids) {
        let group = before
            .group
            .and_then(|g| now.groups.iter().find(|x| x.id == g))
            .map_or(GroupChoice::None, GroupChoice::Existing);
        rows.push(BindingRow {
            command: RowCommand::Add,
            cohort,
            course,
            role,
            group,
            name: &before.name,
            status: before.status,
            dates: Some((before.enrolstart, before.enrolend)),
        });
    }
    binding_file(&rows)
}

/// The operations that take the touched cohorts back to how they were.
fn inverse(data: &RevertData) -> Vec<Step> {
    let mut updates = Vec::new();
    let mut deletes = Vec::new();
    let mut creates = Vec::new();
    for before in &data.cohorts_before {
        match data.cohorts_after.iter().find(|a| a.id == before.id) {
            Some(after) => {
                let differ = |b: &String, a: &String| (b != a).then(|| b.clone());
                let (name, idnumber, description) = (
                    differ(&before.name, &after.name),
                    differ(&before.idnumber, &after.idnumber),
                    differ(&before.description, &after.description),
                );
                if name.is_some() || idnumber.is_some() || description.is_some() {
                    updates.push(Operation::UpdateCohort {
                        cohort: before.id,
                        name,
                        idnumber,
                        description,
                    });
                }
                // Sets: a nightly export's cohort has tens of thousands of members.
                let (was, is): (HashSet<i64>, HashSet<i64>) = (
                    before.members.iter().copied().collect(),
                    after.members.iter().copied().collect(),
                );
                for user in after.members.iter().filter(|u| !was.contains(u)) {
                    updates.push(Operation::RemoveMember {
                        cohort: before.id,
                        user: *user,
                    });
                }
                for user in before.members.iter().filter(|u| !is.contains(u)) {
                    updates.push(Operation::AddMember {
                        cohort: Ref::Existing(before.id),
                        user: *user,
                    });
                }
            }
            None => {
                let new = (creates.len() as u32, before);
                creates.push(new);
            }
        }
    }
    for after in &data.cohorts_after {
        if !data.cohorts_before.iter().any(|b| b.id == after.id) {
            deletes.push(Operation::DeleteCohort { cohort: after.id });
        }
    }
    let mut operations: Vec<Operation> = updates;
    operations.extend(deletes);
    for (new, before) in creates {
        operations.push(Operation::CreateCohort {
            cohort: new,
            idnumber: before.idnumber.clone(),
            name: before.name.clone(),
            description: before.description.clone(),
            category: before.category.clone(),
            component: before.component.clone(),
        });
        operations.extend(before.members.iter().map(|user| Operation::AddMember {
            cohort: Ref::New { new },
            user: *user,
        }));
    }
    operations
        .into_iter()
        .map(|op| Step { line: None, op })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::difference;

    #[test]
    fn difference_counts_repeats_and_keeps_order() {
        let (added, removed) = difference(&["a", "b", "a", "d"], &["c", "a", "e"]);
        assert_eq!(added, ["b", "a", "d"]);
        assert_eq!(removed, ["c", "e"]);
        let (added, removed) = difference::<&str>(&[], &[]);
        assert!(added.is_empty() && removed.is_empty());
    }
}
