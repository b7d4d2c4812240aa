//! Undoing an applied changeset: what it touched, whether the site still is as it left
//! it, and the changeset that takes the site back.
//!
//! Bindings go back through the binding rules themselves: the revert is the binding file
//! that asks for the settings from before, checked like any file. Cohorts go back by
//! operations built here (their effects on enrolments planned by the cohort rules), because
//! a cohort file cannot say all a revert needs: it cannot clear a name, idnumber or
//! description, and it creates cohorts only as cohortsync's, by idnumber or name, while a
//! deleted cohort comes back with its own component and perhaps no idnumber.

use serde::{Deserialize, Serialize};

use crate::changeset::{Changeset, CohortUpdate, Effect, NewCohort, Operation, Ref, Step};
use crate::check::{Checked, check};
use crate::formats::{BindingRow, FileKind, GroupChoice, RowCommand, binding_file};
use crate::options::{CohortIdentifier, CourseIdentifier, Options, RoleIdentifier, UnenrolAction};
use crate::report::Report;
use crate::snapshot::{Binding, Cohort, Snapshot};
use crate::{HashMap, HashSet};

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
pub fn touched(plan: &Changeset) -> (Vec<i64>, Vec<i64>) {
    let mut cohorts = Vec::new();
    let mut bindings = Vec::new();
    for step in &plan.operations {
        match &step.op {
            Operation::UpdateCohort(update) => cohorts.push(update.cohort),
            Operation::RemoveMember { cohort, .. } | Operation::DeleteCohort { cohort } => {
                cohorts.push(*cohort)
            }
            Operation::AddMember {
                cohort: Ref::Existing(cohort),
                ..
            } => cohorts.push(*cohort),
            Operation::UpdateBinding(update) => bindings.push(update.binding),
            Operation::DeleteBinding { binding } => bindings.push(*binding),
            _ => {}
        }
    }
    for list in [&mut cohorts, &mut bindings] {
        list.sort_unstable();
        list.dedup();
    }
    (cohorts, bindings)
}

/// Something that changed since an apply, for the touched cohorts and bindings: why a
/// revert is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Change {
    /// A binding.
    Binding {
        /// Its id.
        binding: i64,
        /// What changed: `deleted`, `settings`, `bound again`.
        change: &'static str,
    },
    /// A cohort.
    Cohort {
        /// Its id.
        cohort: i64,
        /// Its name.
        name: String,
        /// What changed: `deleted`, `members`, `fields`, `bound to a course`, `idnumber
        /// taken again`.
        change: &'static str,
    },
}

impl Change {
    fn binding(binding: i64, change: &'static str) -> Change {
        Change::Binding { binding, change }
    }

    fn cohort(cohort: &Cohort, change: &'static str) -> Change {
        Change::Cohort {
            cohort: cohort.id,
            name: cohort.name.clone(),
            change,
        }
    }
}

/// What differs between the site now and what an apply left, for the touched cohorts and
/// bindings.
pub fn changes_since(now: &Snapshot, data: &RevertData) -> Vec<Change> {
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
        let settings = |b: &Binding| {
            (
                b.role,
                b.group,
                b.name.clone(),
                b.status,
                b.enrolstart,
                b.enrolend,
            )
        };
        match bindings.get(&after.id) {
            None => changed.push(Change::binding(after.id, "deleted")),
            Some(current) if settings(current) != settings(after) => {
                changed.push(Change::binding(after.id, "settings"))
            }
            Some(_) => {}
        }
    }
    for before in &data.bindings_before {
        if !bindings_after.contains(&before.id) && bound.contains(&key(before)) {
            changed.push(Change::binding(before.id, "bound again"));
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
        let change = |what| Change::cohort(after, what);
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
            changed.push(Change::cohort(before, "idnumber taken again"));
        }
    }
    changed
}

/// A revert, planned: the changeset to apply, with the file, options and report it is
/// stored with.
#[derive(Debug, Clone, PartialEq)]
pub struct Revert {
    /// The binding file it was planned from (empty for cohorts).
    pub file: Vec<u8>,
    /// The options it was planned with.
    pub options: Options,
    /// The report of that planning.
    pub report: Report,
    /// The changeset.
    pub plan: Changeset,
}

/// Plans undoing `applied` (a changeset of `kind`, applied with `options`, that left
/// `data`), against the site `now`. The caller checks [`changes_since`] first. `Err` is the
/// check of the binding file when its bindings can no longer be put back.
pub fn plan_revert(
    now: &Snapshot,
    applied: &Changeset,
    data: &RevertData,
    kind: FileKind,
    options: &Options,
) -> Result<Revert, Box<Checked>> {
    let binds = applied.operations.iter().any(|step| {
        matches!(
            step.op,
            Operation::CreateBinding { .. }
                | Operation::UpdateBinding { .. }
                | Operation::DeleteBinding { .. }
        )
    });
    if !binds {
        let operations = inverse_cohorts(data);
        let effects = membership_effects(now, &operations, options.unenrol_action);
        return Ok(Revert {
            file: Vec::new(),
            options: options.clone(),
            report: Report {
                kind: Some(kind),
                encoding: None,
                delimiter: None,
                rows: 0,
                diagnostics: Vec::new(),
                omitted: Default::default(),
            },
            plan: Changeset {
                base_revision: now.revision,
                operations,
                effects,
            },
        });
    }
    let file = inverse_bindings(now, data);
    let options = Options {
        cohort_identifier: CohortIdentifier::Id,
        course_identifier: CourseIdentifier::Id,
        role_identifier: RoleIdentifier::Id,
        unenrol_action: options.unenrol_action,
        // Undoing an applied changeset is the admin's explicit decision.
        override_limits: true,
        ..Options::default()
    };
    let checked = check(file.as_bytes(), now, &options);
    match checked.changeset {
        Some(plan) => Ok(Revert {
            file: file.into_bytes(),
            options,
            report: checked.report,
            plan,
        }),
        None => Err(Box::new(checked)),
    }
}

/// The effects on enrolments of the member additions and removals in `operations`, planned
/// against `snapshot` as a file's plan would be: for changesets that do not come from a
/// file, such as the inverse of an applied one.
pub fn membership_effects(
    snapshot: &Snapshot,
    operations: &[Step],
    unenrol_action: UnenrolAction,
) -> Vec<Effect> {
    crate::sync::effects(snapshot, operations, unenrol_action)
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
                new_role: "",
            });
        }
    }
    for (before, [cohort, course, role]) in data.bindings_before.iter().zip(before_ids) {
        // A binding whose role the apply changed is found by the role it has now, and
        // given its role back.
        let (role, new_role) = match after_ids
            .iter()
            .zip(&data.bindings_after)
            .find(|(_, after)| after.id == before.id && after.role != before.role)
        {
            Some(([_, _, now], _)) => (now, role.as_str()),
            None => (role, ""),
        };
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
            new_role,
        });
    }
    binding_file(&rows)
}

/// The operations that take the touched cohorts back to how they were.
fn inverse_cohorts(data: &RevertData) -> Vec<Step> {
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
                    updates.push(Operation::UpdateCohort(Box::new(CohortUpdate {
                        cohort: before.id,
                        name,
                        idnumber,
                        description,
                    })));
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
        operations.push(Operation::CreateCohort(Box::new(NewCohort {
            cohort: new,
            idnumber: before.idnumber.clone(),
            name: before.name.clone(),
            description: before.description.clone(),
            category: before.category.clone(),
            category_id: None,
            component: before.component.clone(),
            visible: before.visible,
        })));
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
