//! Moodle's cohort sync, as one model: what `enrol_cohort`'s observers and its scheduled
//! task (`\enrol_cohort\task\enrol_cohort_sync`) converge to for some cohort-sync
//! instances, and so the effects of a changeset on the bound courses.
//!
//! [`plan_sync`] is pure and works on rows of any shape: the Moodle connector runs it on
//! the rows it has just read from Moodle (with their ids), [`effects`] on the state a
//! snapshot carries ([`crate::snapshot::EnrolmentState`]). The rules, observed on Moodle
//! 5.0 (`shared/moodle/FACTS.md` §3–§9):
//!
//! - the members of an **enabled** instance are enrolled, and their suspended rows
//!   reactivated; a disabled instance enrols nobody (creating one disabled enrols nobody,
//!   enabling it later enrols its members); suspended site users are enrolled like others;
//! - a row whose user left the cohort is deleted under *unenrol*, else suspended, on
//!   enabled and disabled instances alike; deleting an instance deletes all its rows;
//! - the instance's role is held by the active rows of an enabled instance; under *suspend*
//!   a suspended row, or a disabled instance, keeps it; otherwise it is removed (disabling
//!   an instance keeps its enrolments and removes its roles);
//! - every row of the instance, suspended ones included, is in the instance's group; a
//!   membership the user already has in that group, by hand say, is left as it is and never
//!   becomes a synced one;
//! - a user whose **last** enrolment in a course goes (of any method) loses every other role
//!   and group membership in that course, manual ones included (Moodle's
//!   `enrol_plugin::unenrol_user` cleanup).

use std::collections::{BTreeMap, BTreeSet};

use crate::changeset::{BindingUpdate, Effect, NewBinding, NewGroup, Operation, Ref, Step};
use crate::options::UnenrolAction;
use crate::snapshot::{BindingStatus, EnrolmentState, Snapshot};
use crate::{HashMap, HashSet};

/// A cohort-sync instance as the sync needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instance {
    /// Its id (`mdl_enrol.id`).
    pub id: i64,
    /// The course.
    pub course: i64,
    /// The cohort (`customint1`).
    pub cohort: i64,
    /// The role it gives.
    pub role: i64,
    /// Its group (`customint2`; 0: none).
    pub group: i64,
    /// Whether it is enabled (`status` 0).
    pub enabled: bool,
}

/// A user's enrolment row in one instance, with whatever the caller keeps of it.
#[derive(Debug, Clone, Copy)]
pub struct Enrolment<E> {
    /// Whether the row is active (`status` 0).
    pub active: bool,
    /// The caller's handle on the row (its id and columns, say).
    pub row: E,
}

/// An `enrol_cohort` row of one instance: a role assignment (`of` = the role) or a group
/// membership (`of` = the group).
#[derive(Debug, Clone, Copy)]
pub struct Synced<S> {
    /// The caller's handle on the row.
    pub row: S,
    /// The user.
    pub user: i64,
    /// The role or the group.
    pub of: i64,
}

/// What the sync of some instances reads.
#[derive(Debug)]
pub struct SyncState<E, S> {
    /// Cohort → its members (deleted users aside).
    pub members: HashMap<i64, BTreeSet<i64>>,
    /// Instance → user → enrolment row.
    pub enrolments: HashMap<i64, BTreeMap<i64, Enrolment<E>>>,
    /// Instance → its role assignments.
    pub roles: HashMap<i64, Vec<Synced<S>>>,
    /// Instance → its group memberships.
    pub synced_memberships: HashMap<i64, Vec<Synced<S>>>,
    /// The instances' groups → their course.
    pub group_course: HashMap<i64, i64>,
    /// (group, user) of every membership of the instances' groups, of any component.
    pub in_group: HashSet<(i64, i64)>,
}

impl<E, S> Default for SyncState<E, S> {
    fn default() -> Self {
        SyncState {
            members: HashMap::default(),
            enrolments: HashMap::default(),
            roles: HashMap::default(),
            synced_memberships: HashMap::default(),
            group_course: HashMap::default(),
            in_group: HashSet::default(),
        }
    }
}

/// What the sync changes, in instance order.
#[derive(Debug)]
pub struct SyncChanges<E, S> {
    /// (instance, user): new enrolment rows.
    pub enrolled: Vec<(i64, i64)>,
    /// (row, user, instance): suspended rows made active.
    pub reactivated: Vec<(E, i64, i64)>,
    /// (row, user, instance): active rows suspended.
    pub suspended: Vec<(E, i64, i64)>,
    /// (row, user, instance): rows deleted.
    pub unenrolled: Vec<(E, i64, i64)>,
    /// (instance, user, role): role assignments to make.
    pub roles_assigned: Vec<(i64, i64, i64)>,
    /// (row, user, role, instance): role assignments to delete.
    pub roles_removed: Vec<(S, i64, i64, i64)>,
    /// (group, user, instance): group memberships to make.
    pub memberships_added: Vec<(i64, i64, i64)>,
    /// (row, group, user, instance): group memberships to delete.
    pub memberships_removed: Vec<(S, i64, i64, i64)>,
}

impl<E, S> Default for SyncChanges<E, S> {
    fn default() -> Self {
        SyncChanges {
            enrolled: Vec::new(),
            reactivated: Vec::new(),
            suspended: Vec::new(),
            unenrolled: Vec::new(),
            roles_assigned: Vec::new(),
            roles_removed: Vec::new(),
            memberships_added: Vec::new(),
            memberships_removed: Vec::new(),
        }
    }
}

/// The changes that bring `instances` (in id order, as Moodle walks them) to what Moodle's
/// sync converges to (module doc); the instances in `deleting` lose everything.
pub fn plan_sync<E: Copy, S: Copy>(
    instances: &[Instance],
    state: &SyncState<E, S>,
    deleting: &BTreeSet<i64>,
    unenrol: UnenrolAction,
) -> SyncChanges<E, S> {
    let mut changes = SyncChanges::default();
    let no_members = BTreeSet::new();
    let no_rows = BTreeMap::new();
    let mut in_group = state.in_group.clone();
    for instance in instances {
        let gone = deleting.contains(&instance.id);
        let members = if gone {
            &no_members
        } else {
            state.members.get(&instance.cohort).unwrap_or(&no_members)
        };
        let rows = state.enrolments.get(&instance.id).unwrap_or(&no_rows);
        // user → active, after the sync.
        let mut after: BTreeMap<i64, bool> = BTreeMap::new();
        for (&user, row) in rows {
            if members.contains(&user) {
                if !row.active && instance.enabled {
                    changes.reactivated.push((row.row, user, instance.id));
                    after.insert(user, true);
                } else {
                    after.insert(user, row.active);
                }
            } else if gone || unenrol == UnenrolAction::Unenrol {
                changes.unenrolled.push((row.row, user, instance.id));
            } else {
                if row.active {
                    changes.suspended.push((row.row, user, instance.id));
                }
                after.insert(user, false);
            }
        }
        if instance.enabled && !gone {
            for &user in members {
                if !rows.contains_key(&user) {
                    changes.enrolled.push((instance.id, user));
                    after.insert(user, true);
                }
            }
        }
        // Roles: held by active rows of an enabled instance; under *suspend* a suspended row,
        // or a disabled instance, keeps its role.
        let keeps_inactive = unenrol == UnenrolAction::Suspend && !gone;
        let mut has_role: HashSet<i64> = HashSet::default();
        for a in state.roles.get(&instance.id).into_iter().flatten() {
            let keep = a.of == instance.role
                && !gone
                && match after.get(&a.user) {
                    Some(&active) => (active && instance.enabled) || keeps_inactive,
                    None => false,
                }
                && has_role.insert(a.user);
            if !keep {
                changes
                    .roles_removed
                    .push((a.row, a.user, a.of, instance.id));
            }
        }
        if instance.enabled && !gone {
            for (&user, &active) in &after {
                if active && !has_role.contains(&user) {
                    changes
                        .roles_assigned
                        .push((instance.id, user, instance.role));
                }
            }
        }
        // Groups: every row of the instance, suspended ones included, in the instance's
        // group when it is one of the course's; a membership the user already has, of any
        // component, is left as it is.
        let target = (instance.group != 0
            && !gone
            && state.group_course.get(&instance.group) == Some(&instance.course))
        .then_some(instance.group);
        for m in state
            .synced_memberships
            .get(&instance.id)
            .into_iter()
            .flatten()
        {
            if target != Some(m.of) || !after.contains_key(&m.user) {
                changes
                    .memberships_removed
                    .push((m.row, m.of, m.user, instance.id));
                in_group.remove(&(m.of, m.user));
            }
        }
        if let Some(group) = target {
            for &user in after.keys() {
                if in_group.insert((group, user)) {
                    changes.memberships_added.push((group, user, instance.id));
                }
            }
        }
    }
    changes
}

/// A binding or group created by the changeset, as a key beside existing ids: `-(new + 1)`.
fn new_key(new: u32) -> i64 {
    -i64::from(new) - 1
}

fn key(r: Ref) -> i64 {
    match r {
        Ref::Existing(id) => id,
        Ref::New { new } => new_key(new),
    }
}

fn as_ref(key: i64) -> Ref {
    if key < 0 {
        Ref::New {
            new: (-key - 1) as u32,
        }
    } else {
        Ref::Existing(key)
    }
}

/// Moodle's order of instances: existing ones by id, then created ones in creation order
/// (they get the next ids).
fn instance_order(key: i64) -> (bool, i64) {
    (key < 0, key.abs())
}

/// The effects of `operations` on the bound courses of `snapshot` under `unenrol`: what
/// Moodle's sync of every instance they touch converges to (module doc), from the
/// snapshot's enrolment state (the server reads it for [`courses_touched`]), or, when it has
/// none (a browser's), from the state cohort sync leaves (every member of an active binding enrolled with its role and in its group;
/// a disabled binding's members enrolled, without the role unless the action is *suspend*).
///
/// In each instance's order: memberships, roles and enrolments that go, then enrolments,
/// roles and memberships that come; last, each user whose last enrolment in a course went
/// and who loses other roles or groups there ([`Effect::LeaveCourse`]).
///
/// ```
/// use cohortsync_shared::changeset::{BindingUpdate, Effect, Operation, Step};
/// use cohortsync_shared::options::UnenrolAction;
/// use cohortsync_shared::snapshot::{Binding, BindingStatus, Cohort, Snapshot};
/// use cohortsync_shared::sync::effects;
///
/// let snapshot = Snapshot {
///     cohorts: vec![Cohort { id: 1, members: vec![7], ..Cohort::default() }],
///     bindings: vec![Binding { id: 3, course: 2, cohort: 1, role: 5, ..Binding::default() }],
///     ..Snapshot::default()
/// };
/// // Disabling the binding keeps the enrolment and takes the role.
/// let disable = [Step {
///     line: Some(2),
///     op: Operation::UpdateBinding(Box::new(BindingUpdate {
///         binding: 3, role: None, group: None, name: String::new(), status: BindingStatus::Disabled,
///         enrolstart: None, enrolend: None,
///     })),
/// }];
/// let found = effects(&snapshot, &disable, UnenrolAction::Unenrol);
/// assert!(matches!(found[..], [Effect::RemoveRole { user: 7, course: 2, role: 5, .. }]));
/// assert!(effects(&snapshot, &disable, UnenrolAction::Suspend).is_empty());
/// ```
pub fn effects(snapshot: &Snapshot, operations: &[Step], unenrol: UnenrolAction) -> Vec<Effect> {
    effects_with_state(snapshot, snapshot.enrolments.as_ref(), operations, unenrol)
}

/// [`effects`] from `state` (read for [`courses_touched`]) rather than the snapshot's own:
/// a server shares one snapshot between requests and reads the state per plan.
pub fn effects_with_state(
    snapshot: &Snapshot,
    state: Option<&EnrolmentState>,
    operations: &[Step],
    unenrol: UnenrolAction,
) -> Vec<Effect> {
    let Touched {
        instances,
        deleting,
        member_changes,
        deleted_cohorts,
        new_groups,
    } = touched(snapshot, operations);
    if instances.is_empty() {
        return Vec::new();
    }
    let held = Held::new(snapshot, state, unenrol);
    let mut state: SyncState<(), ()> = SyncState::default();
    let cohorts: HashMap<i64, &crate::snapshot::Cohort> =
        snapshot.cohorts.iter().map(|c| (c.id, c)).collect();
    for i in &instances {
        state.members.entry(i.cohort).or_insert_with(|| {
            if deleted_cohorts.contains(&i.cohort) {
                return BTreeSet::new();
            }
            let mut members: BTreeSet<i64> = cohorts
                .get(&i.cohort)
                .map(|c| c.members.iter().copied().collect())
                .unwrap_or_default();
            if let Some((adds, removes)) = member_changes.get(&i.cohort) {
                members.extend(adds);
                for user in removes {
                    members.remove(user);
                }
            }
            members
        });
    }
    let groups: HashMap<i64, i64> = snapshot
        .groups
        .iter()
        .map(|g| (g.id, g.course))
        .chain(new_groups)
        .collect();
    let courses: BTreeSet<i64> = instances.iter().map(|i| i.course).collect();
    for i in &instances {
        if i.id > 0 {
            held.fill(i, &mut state);
        }
        if i.group != 0
            && let Some(&course) = groups.get(&i.group)
        {
            state.group_course.insert(i.group, course);
        }
    }
    state.in_group = held.memberships_in(&courses, &groups);
    let changes = plan_sync(&instances, &state, &deleting, unenrol);
    told(&instances, &state, changes, &held, &groups)
}

/// The courses whose enrolment state the effects of `operations` are planned from: those
/// of every binding they touch (directly, or through its cohort's members). A server reads
/// the state of these courses only, not of the whole site.
pub fn courses_touched(snapshot: &Snapshot, operations: &[Step]) -> BTreeSet<i64> {
    touched(snapshot, operations)
        .instances
        .iter()
        .map(|i| i.course)
        .collect()
}

/// The instances some operations touch, as they are after them, and what the operations do
/// to cohorts and groups.
struct Touched {
    /// In Moodle's order.
    instances: Vec<Instance>,
    /// The instances deleted.
    deleting: BTreeSet<i64>,
    /// Cohort → (members added, members removed).
    member_changes: HashMap<i64, (Vec<i64>, Vec<i64>)>,
    deleted_cohorts: HashSet<i64>,
    /// Created group → its course.
    new_groups: HashMap<i64, i64>,
}

fn touched(snapshot: &Snapshot, operations: &[Step]) -> Touched {
    // The bindings and cohorts the operations touch, as they are after them.
    let mut bindings: BTreeMap<(bool, i64), Instance> = BTreeMap::new();
    let by_id: HashMap<i64, &crate::snapshot::Binding> =
        snapshot.bindings.iter().map(|b| (b.id, b)).collect();
    let instance = |b: &crate::snapshot::Binding| Instance {
        id: b.id,
        course: b.course,
        cohort: b.cohort,
        role: b.role,
        group: b.group.unwrap_or(0),
        enabled: b.status == BindingStatus::Active,
    };
    let mut deleting = BTreeSet::new();
    let mut member_changes: HashMap<i64, (Vec<i64>, Vec<i64>)> = HashMap::default();
    let mut deleted_cohorts: HashSet<i64> = HashSet::default();
    let mut new_groups: HashMap<i64, i64> = HashMap::default();
    // Only a bound cohort's members have effects: a file adding 100k members to unbound
    // cohorts records none of them.
    let bound: HashSet<i64> = snapshot
        .bindings
        .iter()
        .map(|b| b.cohort)
        .chain(operations.iter().filter_map(|step| match &step.op {
            Operation::CreateBinding(new) => Some(new.cohort),
            _ => None,
        }))
        .collect();
    for step in operations {
        match &step.op {
            Operation::AddMember { cohort, user } => {
                if bound.contains(&key(*cohort)) {
                    member_changes
                        .entry(key(*cohort))
                        .or_default()
                        .0
                        .push(*user)
                }
            }
            Operation::RemoveMember { cohort, user } => {
                if bound.contains(cohort) {
                    member_changes.entry(*cohort).or_default().1.push(*user)
                }
            }
            Operation::DeleteCohort { cohort } => {
                deleted_cohorts.insert(*cohort);
            }
            Operation::CreateGroup(v) => {
                let NewGroup { group, course, .. } = &**v;
                new_groups.insert(new_key(*group), *course);
            }
            Operation::CreateBinding(v) => {
                let NewBinding {
                    binding,
                    course,
                    cohort,
                    role,
                    group,
                    status,
                    ..
                } = &**v;
                let id = new_key(*binding);
                bindings.insert(
                    instance_order(id),
                    Instance {
                        id,
                        course: *course,
                        cohort: *cohort,
                        role: *role,
                        group: group.map_or(0, key),
                        enabled: *status == BindingStatus::Active,
                    },
                );
            }
            Operation::UpdateBinding(v) => {
                let BindingUpdate {
                    binding,
                    role,
                    group,
                    status,
                    ..
                } = &**v;
                if let Some(b) = by_id.get(binding) {
                    let mut now = instance(b);
                    now.role = role.unwrap_or(b.role);
                    now.group = group.map_or(0, key);
                    now.enabled = *status == BindingStatus::Active;
                    bindings.insert(instance_order(*binding), now);
                }
            }
            Operation::DeleteBinding { binding } => {
                if let Some(b) = by_id.get(binding) {
                    bindings.insert(instance_order(*binding), instance(b));
                    deleting.insert(*binding);
                }
            }
            Operation::CreateCohort { .. } | Operation::UpdateCohort { .. } => {}
        }
    }
    let cohorts_touched = |c: &i64| member_changes.contains_key(c) || deleted_cohorts.contains(c);
    for b in &snapshot.bindings {
        if cohorts_touched(&b.cohort) {
            let i = bindings
                .entry(instance_order(b.id))
                .or_insert_with(|| instance(b));
            // Deleting its cohort disables a binding that is kept (FACTS.md §5: the
            // *suspend* actions); under *unenrol* the plan deletes it first.
            if deleted_cohorts.contains(&b.cohort) {
                i.enabled = false;
            }
        }
    }
    Touched {
        instances: bindings.into_values().collect(),
        deleting,
        member_changes,
        deleted_cohorts,
        new_groups,
    }
}

/// What the bindings and other methods hold, from the snapshot's state or as cohort sync
/// leaves a site.
struct Held<'s> {
    unenrol: UnenrolAction,
    /// Whether the state is known (else: as cohort sync leaves a site).
    known: bool,
    bindings: HashMap<i64, &'s crate::snapshot::BindingState>,
    courses: HashMap<i64, &'s crate::snapshot::CourseState>,
    /// The snapshot's bindings by id and by course, its cohorts by id.
    binding_by_id: HashMap<i64, &'s crate::snapshot::Binding>,
    by_course: HashMap<i64, Vec<&'s crate::snapshot::Binding>>,
    cohorts: HashMap<i64, &'s crate::snapshot::Cohort>,
}

impl<'s> Held<'s> {
    fn new(
        snapshot: &'s Snapshot,
        state: Option<&'s EnrolmentState>,
        unenrol: UnenrolAction,
    ) -> Self {
        Held {
            known: state.is_some(),
            unenrol,
            bindings: state
                .map(|s| s.bindings.iter().map(|b| (b.binding, b)).collect())
                .unwrap_or_default(),
            courses: state
                .map(|s| s.courses.iter().map(|c| (c.course, c)).collect())
                .unwrap_or_default(),
            binding_by_id: snapshot.bindings.iter().map(|b| (b.id, b)).collect(),
            by_course: snapshot
                .bindings
                .iter()
                .fold(HashMap::default(), |mut m, b| {
                    m.entry(b.course).or_insert_with(Vec::new).push(b);
                    m
                }),
            cohorts: snapshot.cohorts.iter().map(|c| (c.id, c)).collect(),
        }
    }

    fn known(&self) -> bool {
        self.known
    }

    /// The members of `cohort` in the snapshot (for a state cohort sync leaves).
    fn members(&self, cohort: i64) -> &'s [i64] {
        self.cohorts.get(&cohort).map_or(&[], |c| &c.members)
    }

    /// The rows, roles and memberships binding `i` holds, into `state`.
    fn fill(&self, i: &Instance, state: &mut SyncState<(), ()>) {
        let Some(&binding) = self.binding_by_id.get(&i.id) else {
            return;
        };
        let group = binding.group.unwrap_or(0);
        let (active, suspended, without_role, grouped): (Vec<i64>, Vec<i64>, Vec<i64>, Vec<i64>);
        if self.known() {
            let Some(b) = self.bindings.get(&i.id) else {
                return;
            };
            active = b.active.clone();
            suspended = b.suspended.clone();
            without_role = b.without_role.clone();
            let ungrouped: HashSet<i64> = b.ungrouped.iter().copied().collect();
            grouped = if group != 0 {
                b.active
                    .iter()
                    .chain(&b.suspended)
                    .copied()
                    .filter(|u| !ungrouped.contains(u))
                    .collect()
            } else {
                Vec::new()
            };
        } else {
            let members = self.members(binding.cohort).to_vec();
            let enabled = binding.status == BindingStatus::Active;
            without_role = if enabled || self.unenrol == UnenrolAction::Suspend {
                Vec::new()
            } else {
                members.clone()
            };
            grouped = if group != 0 {
                members.clone()
            } else {
                Vec::new()
            };
            active = members;
            suspended = Vec::new();
        }
        let rows = state.enrolments.entry(i.id).or_default();
        for &user in &active {
            rows.insert(
                user,
                Enrolment {
                    active: true,
                    row: (),
                },
            );
        }
        for &user in &suspended {
            rows.insert(
                user,
                Enrolment {
                    active: false,
                    row: (),
                },
            );
        }
        let without: HashSet<i64> = without_role.into_iter().collect();
        let roles = state.roles.entry(i.id).or_default();
        for &user in active.iter().chain(&suspended) {
            if !without.contains(&user) {
                roles.push(Synced {
                    row: (),
                    user,
                    of: binding.role,
                });
            }
        }
        if group != 0 {
            let memberships = state.synced_memberships.entry(i.id).or_default();
            for user in grouped {
                memberships.push(Synced {
                    row: (),
                    user,
                    of: group,
                });
            }
        }
    }

    /// Every membership of the groups of `courses`, by a binding or by hand.
    fn memberships_in(
        &self,
        courses: &BTreeSet<i64>,
        groups: &HashMap<i64, i64>,
    ) -> HashSet<(i64, i64)> {
        let mut found = HashSet::default();
        for b in courses
            .iter()
            .flat_map(|c| self.by_course.get(c).into_iter().flatten())
        {
            let Some(group) = b.group else { continue };
            if self.known() {
                if let Some(state) = self.bindings.get(&b.id) {
                    let ungrouped: HashSet<i64> = state.ungrouped.iter().copied().collect();
                    found.extend(
                        state
                            .active
                            .iter()
                            .chain(&state.suspended)
                            .filter(|u| !ungrouped.contains(u))
                            .map(|&u| (group, u)),
                    );
                }
            } else {
                found.extend(self.members(b.cohort).iter().map(|&u| (group, u)));
            }
        }
        for course in courses {
            if let Some(c) = self.courses.get(course) {
                found.extend(
                    c.manual_groups
                        .iter()
                        .filter(|(g, _)| groups.get(g) == Some(course))
                        .copied(),
                );
            }
        }
        found
    }

    /// Whether `user` is enrolled in `course` by a binding other than those in `skip`, or
    /// by another method.
    fn enrolled_elsewhere(&self, course: i64, user: i64, skip: &HashSet<i64>) -> bool {
        let by_other_method = self
            .courses
            .get(&course)
            .is_some_and(|c| c.enrolled_otherwise.binary_search(&user).is_ok());
        by_other_method
            || self.by_course.get(&course).into_iter().flatten().any(|b| {
                !skip.contains(&b.id)
                    && if self.known() {
                        self.bindings.get(&b.id).is_some_and(|s| {
                            s.active.binary_search(&user).is_ok()
                                || s.suspended.binary_search(&user).is_ok()
                        })
                    } else {
                        self.members(b.cohort).contains(&user)
                    }
            })
    }
}

/// The changes of [`plan_sync`] as effects (see [`effects`]).
fn told(
    instances: &[Instance],
    state: &SyncState<(), ()>,
    changes: SyncChanges<(), ()>,
    held: &Held<'_>,
    groups: &HashMap<i64, i64>,
) -> Vec<Effect> {
    let of: HashMap<i64, &Instance> = instances.iter().map(|i| (i.id, i)).collect();
    let course = |instance: i64| of.get(&instance).map_or(0, |i| i.course);
    let role = |instance: i64| of.get(&instance).map_or(0, |i| i.role);
    let unenrolled: HashSet<(i64, i64)> =
        changes.unenrolled.iter().map(|&(_, u, i)| (u, i)).collect();
    let suspended: HashSet<(i64, i64)> =
        changes.suspended.iter().map(|&(_, u, i)| (u, i)).collect();
    let roles_removed: HashSet<(i64, i64)> = changes
        .roles_removed
        .iter()
        .map(|&(_, u, _, i)| (u, i))
        .collect();
    let enrolled: HashSet<(i64, i64)> = changes
        .enrolled
        .iter()
        .map(|&(i, u)| (u, i))
        .chain(changes.reactivated.iter().map(|&(_, u, i)| (u, i)))
        .collect();
    let mut effects = Vec::new();
    for &(_, group, user, instance) in &changes.memberships_removed {
        effects.push(Effect::RemoveFromGroup {
            user,
            course: course(instance),
            group,
        });
    }
    for &(_, user, role, instance) in &changes.roles_removed {
        if !unenrolled.contains(&(user, instance)) && !suspended.contains(&(user, instance)) {
            effects.push(Effect::RemoveRole {
                user,
                course: course(instance),
                role,
                binding: as_ref(instance),
            });
        }
    }
    for &(_, user, instance) in &changes.unenrolled {
        effects.push(Effect::Unenrol {
            user,
            course: course(instance),
            role: role(instance),
            binding: as_ref(instance),
        });
    }
    for &(_, user, instance) in &changes.suspended {
        effects.push(Effect::Suspend {
            user,
            course: course(instance),
            role: role(instance),
            binding: as_ref(instance),
            remove_roles: roles_removed.contains(&(user, instance)),
        });
    }
    let enrolments = changes
        .enrolled
        .iter()
        .map(|&(i, u)| (u, i))
        .chain(changes.reactivated.iter().map(|&(_, u, i)| (u, i)));
    for (user, instance) in enrolments {
        effects.push(Effect::Enrol {
            user,
            course: course(instance),
            role: role(instance),
            binding: as_ref(instance),
        });
    }
    for &(instance, user, role) in &changes.roles_assigned {
        if !enrolled.contains(&(user, instance)) {
            effects.push(Effect::AssignRole {
                user,
                course: course(instance),
                role,
                binding: as_ref(instance),
            });
        }
    }
    for &(group, user, instance) in &changes.memberships_added {
        effects.push(Effect::AddToGroup {
            user,
            course: course(instance),
            group: as_ref(group),
        });
    }
    // The last-enrolment cleanup: a user whose rows in a course all went, and who is not
    // enrolled there otherwise, loses the course's other roles and groups.
    let touched: HashSet<i64> = instances.iter().map(|i| i.id).collect();
    let gone: BTreeSet<(i64, i64)> = changes
        .unenrolled
        .iter()
        .map(|&(_, user, instance)| (course(instance), user))
        .collect();
    let mut in_course: HashMap<i64, Vec<&Instance>> = HashMap::default();
    for i in instances {
        in_course.entry(i.course).or_default().push(i);
    }
    for (course, user) in gone {
        let kept_by_touched = in_course.get(&course).into_iter().flatten().any(|i| {
            enrolled.contains(&(user, i.id))
                || (state
                    .enrolments
                    .get(&i.id)
                    .is_some_and(|rows| rows.contains_key(&user))
                    && !unenrolled.contains(&(user, i.id)))
        });
        if kept_by_touched || held.enrolled_elsewhere(course, user, &touched) {
            continue;
        }
        let Some(other) = held.courses.get(&course) else {
            continue;
        };
        let roles: Vec<i64> = other
            .other_roles
            .iter()
            .filter(|(u, _)| *u == user)
            .map(|(_, r)| *r)
            .collect();
        let groups: Vec<i64> = other
            .manual_groups
            .iter()
            .filter(|(g, u)| *u == user && groups.get(g) == Some(&course))
            .map(|(g, _)| *g)
            .collect();
        if !roles.is_empty() || !groups.is_empty() {
            effects.push(Effect::LeaveCourse {
                user,
                course,
                roles,
                groups,
            });
        }
    }
    effects
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An instance of cohort 7 in course 2, role 5, group 9; users 1 and 2
    /// enrolled (with role and group), user 2 no longer in the cohort, user 3 new in it.
    fn one_instance(enabled: bool) -> (Vec<Instance>, SyncState<i64, i64>) {
        let instance = Instance {
            id: 30,
            course: 2,
            cohort: 7,
            role: 5,
            group: 9,
            enabled,
        };
        let row = |id| Enrolment {
            active: true,
            row: id,
        };
        let mut state = SyncState::default();
        state.members.insert(7, BTreeSet::from([1, 3]));
        state
            .enrolments
            .insert(30, BTreeMap::from([(1, row(100)), (2, row(101))]));
        let synced = |row, user, of| Synced { row, user, of };
        state
            .roles
            .insert(30, vec![synced(200, 1, 5), synced(201, 2, 5)]);
        state
            .synced_memberships
            .insert(30, vec![synced(300, 1, 9), synced(301, 2, 9)]);
        state.group_course.insert(9, 2);
        state.in_group.extend([(9, 1), (9, 2)]);
        (vec![instance], state)
    }

    #[test]
    fn a_member_who_left_is_unenrolled_with_role_and_group_and_a_new_one_enrolled() {
        let (instances, state) = one_instance(true);
        let c: SyncChanges<i64, i64> =
            plan_sync(&instances, &state, &BTreeSet::new(), UnenrolAction::Unenrol);
        assert_eq!(c.enrolled, [(30, 3)]);
        assert_eq!(c.unenrolled, [(101, 2, 30)]);
        assert_eq!(c.roles_removed, [(201, 2, 5, 30)]);
        assert_eq!(c.memberships_removed, [(301, 9, 2, 30)]);
        assert_eq!(c.roles_assigned, [(30, 3, 5)]);
        assert_eq!(c.memberships_added, [(9, 3, 30)]);
    }

    #[test]
    fn under_suspend_the_row_is_suspended_and_keeps_role_and_group() {
        let (instances, state) = one_instance(true);
        let c: SyncChanges<i64, i64> =
            plan_sync(&instances, &state, &BTreeSet::new(), UnenrolAction::Suspend);
        assert_eq!(c.suspended, [(101, 2, 30)]);
        assert!(c.unenrolled.is_empty() && c.roles_removed.is_empty());
        assert!(c.memberships_removed.is_empty());
        // Suspend and remove roles: the role goes, the group stays.
        let c = plan_sync(
            &instances,
            &state,
            &BTreeSet::new(),
            UnenrolAction::SuspendAndRemoveRoles,
        );
        assert_eq!(c.roles_removed, [(201, 2, 5, 30)]);
        assert!(c.memberships_removed.is_empty());
    }

    #[test]
    fn a_disabled_instance_enrols_nobody_and_loses_its_roles_unless_suspend() {
        let (instances, state) = one_instance(false);
        let c = plan_sync(&instances, &state, &BTreeSet::new(), UnenrolAction::Unenrol);
        assert!(c.enrolled.is_empty() && c.roles_assigned.is_empty());
        // User 1 stays enrolled (status 0) but loses the role; user 2 left: unenrolled.
        assert!(c.roles_removed.iter().any(|r| r.1 == 1));
        assert!(c.suspended.is_empty());
        let c = plan_sync(&instances, &state, &BTreeSet::new(), UnenrolAction::Suspend);
        assert!(!c.roles_removed.iter().any(|r| r.1 == 1));
    }

    #[test]
    fn a_manual_membership_of_the_group_is_left_and_blocks_a_synced_one() {
        let (instances, mut state) = one_instance(true);
        state.in_group.insert((9, 3)); // user 3 is in the group by hand
        let c = plan_sync(&instances, &state, &BTreeSet::new(), UnenrolAction::Unenrol);
        assert!(c.memberships_added.is_empty());
    }
}
