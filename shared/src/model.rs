//! The pure model of an apply: the snapshot after a changeset, which is what the server's
//! apply writes to a site (and what the golden tests plan a file again against).

use std::collections::BTreeMap;

use crate::HashMap;
use crate::changeset::{Changeset, Operation, Ref};
use crate::snapshot::{Binding, Cohort, Group, Snapshot};

/// The snapshot after `changeset`: the model of what the server's apply writes.
///
/// New objects get ids after the largest existing ones, in creation order; the revision is
/// bumped when anything changes. Planning the same file again on the result gives an empty
/// changeset.
pub fn snapshot_after(snapshot: &Snapshot, changeset: &Changeset) -> Snapshot {
    let mut next = snapshot.clone();
    if changeset.is_empty() {
        return next;
    }
    let first_new = |ids: &mut dyn Iterator<Item = i64>| ids.max().unwrap_or(0) + 1;
    let cohort_base = first_new(&mut snapshot.cohorts.iter().map(|c| c.id));
    let group_base = first_new(&mut snapshot.groups.iter().map(|g| g.id));
    let binding_base = first_new(&mut snapshot.bindings.iter().map(|b| b.id));
    let resolve = |base: i64, r: Ref| match r {
        Ref::Existing(id) => id,
        Ref::New { new } => base + i64::from(new),
    };
    let mut cohorts: BTreeMap<i64, Cohort> = next.cohorts.drain(..).map(|c| (c.id, c)).collect();
    let mut bindings: BTreeMap<i64, Binding> = next.bindings.drain(..).map(|b| (b.id, b)).collect();
    let mut member_sets: HashMap<i64, std::collections::BTreeSet<i64>> = HashMap::default();
    for step in &changeset.operations {
        match &step.op {
            Operation::CreateCohort {
                cohort,
                idnumber,
                name,
                description,
                category,
                component,
            } => {
                let id = cohort_base + i64::from(*cohort);
                cohorts.insert(
                    id,
                    Cohort {
                        id,
                        idnumber: idnumber.clone(),
                        name: name.clone(),
                        description: description.clone(),
                        category: category.clone(),
                        component: component.clone(),
                        ..Cohort::default()
                    },
                );
            }
            Operation::UpdateCohort {
                cohort,
                name,
                idnumber,
                description,
            } => {
                if let Some(c) = cohorts.get_mut(cohort) {
                    if let Some(v) = name {
                        c.name = v.clone();
                    }
                    if let Some(v) = idnumber {
                        c.idnumber = v.clone();
                    }
                    if let Some(v) = description {
                        c.description = v.clone();
                    }
                }
            }
            Operation::AddMember { cohort, user } => {
                let id = resolve(cohort_base, *cohort);
                let set = member_sets.entry(id).or_insert_with(|| {
                    cohorts
                        .get(&id)
                        .map(|c| c.members.iter().copied().collect())
                        .unwrap_or_default()
                });
                set.insert(*user);
            }
            Operation::RemoveMember { cohort, user } => {
                let set = member_sets.entry(*cohort).or_insert_with(|| {
                    cohorts
                        .get(cohort)
                        .map(|c| c.members.iter().copied().collect())
                        .unwrap_or_default()
                });
                set.remove(user);
            }
            Operation::DeleteCohort { cohort } => {
                cohorts.remove(cohort);
                member_sets.remove(cohort);
            }
            Operation::CreateGroup {
                group,
                course,
                name,
            } => next.groups.push(Group {
                id: group_base + i64::from(*group),
                course: *course,
                name: name.clone(),
                idnumber: String::new(),
            }),
            Operation::CreateBinding {
                binding,
                course,
                cohort,
                role,
                group,
                name,
                status,
                enrolstart,
                enrolend,
            } => {
                let id = binding_base + i64::from(*binding);
                bindings.insert(
                    id,
                    Binding {
                        id,
                        course: *course,
                        cohort: *cohort,
                        role: *role,
                        group: group.map(|g| resolve(group_base, g)),
                        name: name.clone(),
                        status: *status,
                        enrolstart: *enrolstart,
                        enrolend: *enrolend,
                    },
                );
            }
            Operation::UpdateBinding {
                binding,
                group,
                name,
                status,
                enrolstart,
                enrolend,
            } => {
                if let Some(b) = bindings.get_mut(binding) {
                    b.group = group.map(|g| resolve(group_base, g));
                    b.name = name.clone();
                    b.status = *status;
                    b.enrolstart = *enrolstart;
                    b.enrolend = *enrolend;
                }
            }
            Operation::DeleteBinding { binding } => {
                bindings.remove(binding);
            }
        }
    }
    for (id, set) in member_sets {
        if let Some(cohort) = cohorts.get_mut(&id) {
            cohort.members = set.into_iter().collect();
        }
    }
    next.cohorts = cohorts.into_values().collect();
    next.bindings = bindings.into_values().collect();
    next.revision += 1;
    next
}
