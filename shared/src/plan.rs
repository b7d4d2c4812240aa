//! Changesets: the ordered operations a file asks for, their effects on course enrolments,
//! and a pure [`apply`] that gives the snapshot after them.
//!
//! Effects follow Moodle's cohort sync: a member added to a cohort is enrolled in every
//! course an active binding links it to (and put in the binding's group); a member removed
//! is unenrolled or suspended as the unenrol action says; a new binding enrols the members,
//! a disabled one suspends them, a deleted one unenrols them.

use std::collections::BTreeMap;

use crate::HashMap;

use serde::{Deserialize, Serialize};

use crate::snapshot::{Binding, BindingStatus, Cohort, Group, Snapshot};

/// A reference to a row that exists, or to one created earlier in the same changeset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Ref {
    /// An existing id.
    Existing(i64),
    /// The `new`-th object of its type created by this changeset (from 0).
    New {
        /// Creation index.
        new: u32,
    },
}

/// What a changeset does, one step at a time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Operation {
    /// Create a cohort; later steps refer to it as `{"new": cohort}`.
    CreateCohort {
        /// Creation index.
        cohort: u32,
        /// Id number (may be empty).
        idnumber: String,
        /// Name.
        name: String,
        /// Description.
        description: String,
        /// Category (empty: system).
        category: String,
        /// Owner component (`cohortsync`, or empty for a hand-made cohort).
        component: String,
    },
    /// Change a cohort's name, idnumber or description (only the fields given).
    UpdateCohort {
        /// Cohort id.
        cohort: i64,
        /// New name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// New id number.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        idnumber: Option<String>,
        /// New description.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
    },
    /// Add a member.
    AddMember {
        /// Cohort.
        cohort: Ref,
        /// User id.
        user: i64,
    },
    /// Remove a member.
    RemoveMember {
        /// Cohort id.
        cohort: i64,
        /// User id.
        user: i64,
    },
    /// Delete a cohort and its memberships.
    DeleteCohort {
        /// Cohort id.
        cohort: i64,
    },
    /// Create a course group.
    CreateGroup {
        /// Creation index.
        group: u32,
        /// Course id.
        course: i64,
        /// Name.
        name: String,
    },
    /// Bind a cohort to a course.
    CreateBinding {
        /// Creation index.
        binding: u32,
        /// Course id.
        course: i64,
        /// Cohort id.
        cohort: i64,
        /// Role id.
        role: i64,
        /// Group, if any.
        group: Option<Ref>,
        /// Custom instance name (empty: Moodle's default name).
        #[serde(default)]
        name: String,
        /// Active or disabled.
        #[serde(default)]
        status: BindingStatus,
        /// Enrolment start.
        enrolstart: Option<i64>,
        /// Enrolment end.
        enrolend: Option<i64>,
    },
    /// Set a binding's group, name, status and dates.
    UpdateBinding {
        /// Binding id.
        binding: i64,
        /// Group, if any.
        group: Option<Ref>,
        /// Custom instance name (empty: Moodle's default name).
        #[serde(default)]
        name: String,
        /// Status.
        status: BindingStatus,
        /// Enrolment start.
        enrolstart: Option<i64>,
        /// Enrolment end.
        enrolend: Option<i64>,
    },
    /// Delete a binding (its enrolments go with it).
    DeleteBinding {
        /// Binding id.
        binding: i64,
    },
}

/// One operation and the file line that asked for it (none for implied ones, e.g. full mode).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Step {
    /// The line of the file, if a row asked for it.
    pub line: Option<u32>,
    /// The operation.
    #[serde(flatten)]
    pub op: Operation,
}

/// A consequence on course enrolments.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// The user is enrolled (or reactivated) in the course with the role.
    Enrol {
        /// User id.
        user: i64,
        /// Course id.
        course: i64,
        /// Role id.
        role: i64,
        /// The binding (enrolment instance).
        binding: Ref,
    },
    /// The user is unenrolled from the course.
    Unenrol {
        /// User id.
        user: i64,
        /// Course id.
        course: i64,
        /// Role id.
        role: i64,
        /// The binding.
        binding: Ref,
    },
    /// The user's enrolment is suspended.
    Suspend {
        /// User id.
        user: i64,
        /// Course id.
        course: i64,
        /// Role id.
        role: i64,
        /// The binding.
        binding: Ref,
        /// Whether the role is removed too.
        remove_roles: bool,
    },
    /// The user is put in a course group.
    AddToGroup {
        /// User id.
        user: i64,
        /// Course id.
        course: i64,
        /// Group.
        group: Ref,
    },
    /// The user leaves a course group.
    RemoveFromGroup {
        /// User id.
        user: i64,
        /// Course id.
        course: i64,
        /// Group id.
        group: i64,
    },
}

/// The kind of file a changeset comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    /// A cohort file (members).
    Cohorts,
    /// A course binding file.
    Bindings,
}

/// Ordered operations and their effects, planned against one snapshot revision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Changeset {
    /// The snapshot revision it was planned against.
    pub base_revision: u64,
    /// Operations, in the order they are applied.
    pub operations: Vec<Step>,
    /// Effects on enrolments and groups.
    pub effects: Vec<Effect>,
}

/// Totals of a changeset, for summaries and limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Cohorts created.
    pub cohorts_created: usize,
    /// Cohorts updated.
    pub cohorts_updated: usize,
    /// Cohorts deleted.
    pub cohorts_deleted: usize,
    /// Members added.
    pub members_added: usize,
    /// Members removed.
    pub members_removed: usize,
    /// Groups created.
    pub groups_created: usize,
    /// Bindings created.
    pub bindings_created: usize,
    /// Bindings updated.
    pub bindings_updated: usize,
    /// Bindings deleted.
    pub bindings_deleted: usize,
    /// Enrolments made or reactivated.
    pub enrolments: usize,
    /// Unenrolments.
    pub unenrolments: usize,
    /// Suspended enrolments.
    pub suspensions: usize,
}

impl Changeset {
    /// Whether the changeset changes nothing.
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }

    /// Counts operations and effects by type.
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for step in &self.operations {
            match step.op {
                Operation::CreateCohort { .. } => t.cohorts_created += 1,
                Operation::UpdateCohort { .. } => t.cohorts_updated += 1,
                Operation::DeleteCohort { .. } => t.cohorts_deleted += 1,
                Operation::AddMember { .. } => t.members_added += 1,
                Operation::RemoveMember { .. } => t.members_removed += 1,
                Operation::CreateGroup { .. } => t.groups_created += 1,
                Operation::CreateBinding { .. } => t.bindings_created += 1,
                Operation::UpdateBinding { .. } => t.bindings_updated += 1,
                Operation::DeleteBinding { .. } => t.bindings_deleted += 1,
            }
        }
        for effect in &self.effects {
            match effect {
                Effect::Enrol { .. } => t.enrolments += 1,
                Effect::Unenrol { .. } => t.unenrolments += 1,
                Effect::Suspend { .. } => t.suspensions += 1,
                Effect::AddToGroup { .. } | Effect::RemoveFromGroup { .. } => {}
            }
        }
        t
    }
}

/// The effects on enrolments of the member additions and removals in `operations`, planned
/// against `snapshot` as a file's plan would be: for changesets that do not come from a
/// file, such as the inverse of an applied one.
pub fn membership_effects(
    snapshot: &Snapshot,
    operations: &[Step],
    unenrol_action: crate::options::UnenrolAction,
) -> Vec<Effect> {
    crate::rules::cohorts::membership_effects(snapshot, operations, unenrol_action)
}

/// The snapshot after `changeset`: the model of what the server's apply writes.
///
/// New objects get ids after the largest existing ones, in creation order; the revision is
/// bumped when anything changes. Planning the same file again on the result gives an empty
/// changeset.
pub fn apply(snapshot: &Snapshot, changeset: &Changeset) -> Snapshot {
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
