//! Changesets: the ordered operations a file asks for and their effects on course
//! enrolments (the model of what applying them does is [`crate::model`]).
//!
//! Effects are what Moodle's cohort sync does ([`crate::sync`], where they are planned): a
//! member added to a cohort is enrolled in every course an active binding links it to (and
//! put in the binding's group); a member removed is unenrolled or suspended as the unenrol
//! action says; a new binding enrols the members, a disabled one keeps them enrolled and
//! takes their role (unless the action is *suspend*), a deleted one unenrols them; a user's
//! last enrolment in a course takes their other roles and groups there with it.

use serde::{Deserialize, Serialize};

use crate::snapshot::BindingStatus;

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

fn visible() -> bool {
    true
}

fn is_visible(visible: &bool) -> bool {
    *visible
}

/// What a changeset does, one step at a time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Operation {
    /// Create a cohort; later steps refer to it as `{"new": cohort}`.
    CreateCohort(Box<NewCohort>),
    /// Change a cohort's name, idnumber or description (only the fields given).
    UpdateCohort(Box<CohortUpdate>),
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
    CreateGroup(Box<NewGroup>),
    /// Bind a cohort to a course.
    CreateBinding(Box<NewBinding>),
    /// Set a binding's group, name, status and dates, and perhaps its role.
    UpdateBinding(Box<BindingUpdate>),
    /// Delete a binding (its enrolments go with it).
    DeleteBinding {
        /// Binding id.
        binding: i64,
    },
}

/// A cohort to create ([`Operation::CreateCohort`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NewCohort {
    /// Creation index.
    pub cohort: u32,
    /// Id number (may be empty).
    pub idnumber: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Category (empty: system), by its key ([`crate::snapshot::Category::key`]).
    pub category: String,
    /// The category's id, when the plan found it among the site's categories: what the
    /// apply puts the cohort in (`category` then only tells people which one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_id: Option<i64>,
    /// Owner component (`cohortsync`, or empty for a hand-made cohort).
    pub component: String,
    /// Whether the cohort is visible (a Moodle cohort upload file may create hidden
    /// ones).
    #[serde(default = "visible", skip_serializing_if = "is_visible")]
    pub visible: bool,
}

/// What changes in a cohort ([`Operation::UpdateCohort`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CohortUpdate {
    /// Cohort id.
    pub cohort: i64,
    /// New name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New id number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idnumber: Option<String>,
    /// New description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A course group to create ([`Operation::CreateGroup`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NewGroup {
    /// Creation index.
    pub group: u32,
    /// Course id.
    pub course: i64,
    /// Name.
    pub name: String,
}

/// A binding to create ([`Operation::CreateBinding`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NewBinding {
    /// Creation index.
    pub binding: u32,
    /// Course id.
    pub course: i64,
    /// Cohort id.
    pub cohort: i64,
    /// Role id.
    pub role: i64,
    /// Group, if any.
    pub group: Option<Ref>,
    /// Custom instance name (empty: Moodle's default name).
    #[serde(default)]
    pub name: String,
    /// Active or disabled.
    #[serde(default)]
    pub status: BindingStatus,
    /// Enrolment start.
    pub enrolstart: Option<i64>,
    /// Enrolment end.
    pub enrolend: Option<i64>,
}

/// What changes in a binding ([`Operation::UpdateBinding`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BindingUpdate {
    /// Binding id.
    pub binding: i64,
    /// The role it gives from now on, when that changes (Moodle's `update_instance`
    /// with a new `roleid`: the old role's assignments go, the new role is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<i64>,
    /// Group, if any.
    pub group: Option<Ref>,
    /// Custom instance name (empty: Moodle's default name).
    #[serde(default)]
    pub name: String,
    /// Status.
    pub status: BindingStatus,
    /// Enrolment start.
    pub enrolstart: Option<i64>,
    /// Enrolment end.
    pub enrolend: Option<i64>,
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
    /// An enrolled user is given the binding's role again (a binding enabled).
    AssignRole {
        /// User id.
        user: i64,
        /// Course id.
        course: i64,
        /// Role id.
        role: i64,
        /// The binding.
        binding: Ref,
    },
    /// An enrolled user loses the binding's role, and stays enrolled (a binding disabled).
    RemoveRole {
        /// User id.
        user: i64,
        /// Course id.
        course: i64,
        /// Role id.
        role: i64,
        /// The binding.
        binding: Ref,
    },
    /// The user's last enrolment in the course went: Moodle takes the roles and group
    /// memberships they still had there with it, manual ones included.
    LeaveCourse {
        /// User id.
        user: i64,
        /// Course id.
        course: i64,
        /// The other roles they lose in the course.
        roles: Vec<i64>,
        /// The groups they leave (memberships no binding made).
        groups: Vec<i64>,
    },
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
    /// Roles given again to enrolled users.
    #[serde(default)]
    pub roles_assigned: usize,
    /// Roles taken from users who stay enrolled.
    #[serde(default)]
    pub roles_removed: usize,
    /// Users whose last enrolment in a course went, losing their other roles or groups there.
    #[serde(default)]
    pub courses_left: usize,
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
                Effect::AssignRole { .. } => t.roles_assigned += 1,
                Effect::RemoveRole { .. } => t.roles_removed += 1,
                Effect::LeaveCourse { .. } => t.courses_left += 1,
                Effect::AddToGroup { .. } | Effect::RemoveFromGroup { .. } => {}
            }
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plan is mostly membership steps (100,000 for a 100,000-row file): the rare,
    /// string-carrying operations are boxed so that a step stays a few words.
    #[test]
    fn a_step_is_small() {
        assert!(
            std::mem::size_of::<Step>() <= 40,
            "{}",
            std::mem::size_of::<Step>()
        );
    }

    /// Boxing the variants does not change the JSON stored in changesets.
    #[test]
    fn boxed_operations_keep_their_json() {
        let step = Step {
            line: Some(2),
            op: Operation::CreateCohort(Box::new(NewCohort {
                cohort: 0,
                idnumber: "L1".into(),
                name: "Licence 1".into(),
                description: String::new(),
                category: String::new(),
                category_id: None,
                component: "cohortsync".into(),
                visible: true,
            })),
        };
        let json = serde_json::to_string(&step).unwrap();
        assert_eq!(
            json,
            r#"{"line":2,"op":"create_cohort","cohort":0,"idnumber":"L1","name":"Licence 1","description":"","category":"","component":"cohortsync"}"#
        );
        assert_eq!(serde_json::from_str::<Step>(&json).unwrap(), step);
    }
}
