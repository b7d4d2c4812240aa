//! The pure model of an apply: the snapshot after a changeset, which is what the server's
//! apply writes to a site (and what the golden tests plan a file again against).

use std::collections::BTreeMap;

use crate::HashMap;
use crate::changeset::{
    BindingUpdate, Changeset, CohortUpdate, Effect, NewBinding, NewCohort, Operation, Ref,
};
use crate::snapshot::{
    Binding, BindingState, Cohort, CourseState, EnrolmentState, Group, Snapshot,
};

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
            Operation::CreateCohort(v) => {
                let NewCohort {
                    cohort,
                    idnumber,
                    name,
                    description,
                    category,
                    component,
                    visible,
                    ..
                } = &**v;
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
                        visible: *visible,
                        ..Cohort::default()
                    },
                );
            }
            Operation::UpdateCohort(v) => {
                let CohortUpdate {
                    cohort,
                    name,
                    idnumber,
                    description,
                } = &**v;
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
                // Bindings still there (the *suspend* actions keep them) are disabled.
                for b in bindings.values_mut().filter(|b| b.cohort == *cohort) {
                    b.status = crate::snapshot::BindingStatus::Disabled;
                }
            }
            Operation::CreateGroup(new) => next.groups.push(Group {
                id: group_base + i64::from(new.group),
                course: new.course,
                name: new.name.clone(),
                idnumber: String::new(),
            }),
            Operation::CreateBinding(v) => {
                let NewBinding {
                    binding,
                    course,
                    cohort,
                    role,
                    group,
                    name,
                    status,
                    enrolstart,
                    enrolend,
                } = &**v;
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
            Operation::UpdateBinding(v) => {
                let BindingUpdate {
                    binding,
                    role,
                    group,
                    name,
                    status,
                    enrolstart,
                    enrolend,
                } = &**v;
                if let Some(b) = bindings.get_mut(binding) {
                    b.role = role.unwrap_or(b.role);
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
    if let Some(state) = next.enrolments.take() {
        next.enrolments = Some(state_after(
            state,
            &next.bindings,
            changeset,
            |r| resolve(binding_base, r),
            |r| resolve(group_base, r),
        ));
    }
    next.revision += 1;
    next
}

/// The enrolment state after `changeset`'s effects: the model of what the apply writes to
/// `user_enrolments`, `role_assignments` and `groups_members`.
fn state_after(
    state: EnrolmentState,
    bindings: &[Binding],
    changeset: &Changeset,
    binding_id: impl Fn(Ref) -> i64,
    group_id: impl Fn(Ref) -> i64,
) -> EnrolmentState {
    use std::collections::BTreeSet;
    #[derive(Default)]
    struct Held {
        active: BTreeSet<i64>,
        suspended: BTreeSet<i64>,
        without_role: BTreeSet<i64>,
        ungrouped: BTreeSet<i64>,
    }
    let mut held: BTreeMap<i64, Held> = state
        .bindings
        .into_iter()
        .map(|b| {
            let set = |v: Vec<i64>| v.into_iter().collect();
            let h = Held {
                active: set(b.active),
                suspended: set(b.suspended),
                without_role: set(b.without_role),
                ungrouped: set(b.ungrouped),
            };
            (b.binding, h)
        })
        .collect();
    let mut courses: BTreeMap<i64, CourseState> =
        state.courses.into_iter().map(|c| (c.course, c)).collect();
    // The bindings of each (course, group), to say whose group membership an effect is.
    let has_group = |id: i64| bindings.iter().any(|b| b.id == id && b.group.is_some());
    let in_group = |course: i64, group: i64| -> Vec<i64> {
        bindings
            .iter()
            .filter(|b| b.course == course && b.group == Some(group))
            .map(|b| b.id)
            .collect()
    };
    for effect in &changeset.effects {
        match effect {
            Effect::Enrol { user, binding, .. } => {
                let id = binding_id(*binding);
                let h = held.entry(id).or_default();
                let new = !h.active.contains(user) && !h.suspended.contains(user);
                h.suspended.remove(user);
                h.without_role.remove(user);
                h.active.insert(*user);
                // A new row is in the binding's group once its add_to_group follows (none
                // follows when a manual membership blocks it).
                if new && has_group(id) {
                    h.ungrouped.insert(*user);
                }
            }
            Effect::Unenrol { user, binding, .. } => {
                if let Some(h) = held.get_mut(&binding_id(*binding)) {
                    h.active.remove(user);
                    h.suspended.remove(user);
                    h.without_role.remove(user);
                    h.ungrouped.remove(user);
                }
            }
            Effect::Suspend {
                user,
                binding,
                remove_roles,
                ..
            } => {
                let h = held.entry(binding_id(*binding)).or_default();
                h.active.remove(user);
                h.suspended.insert(*user);
                if *remove_roles {
                    h.without_role.insert(*user);
                }
            }
            Effect::AssignRole { user, binding, .. } => {
                held.entry(binding_id(*binding))
                    .or_default()
                    .without_role
                    .remove(user);
            }
            Effect::RemoveRole { user, binding, .. } => {
                held.entry(binding_id(*binding))
                    .or_default()
                    .without_role
                    .insert(*user);
            }
            Effect::AddToGroup {
                user,
                course,
                group,
            } => {
                for id in in_group(*course, group_id(*group)) {
                    let h = held.entry(id).or_default();
                    if h.ungrouped.remove(user) {
                        break;
                    }
                }
            }
            Effect::RemoveFromGroup {
                user,
                course,
                group,
            } => {
                for id in in_group(*course, *group) {
                    if let Some(h) = held.get_mut(&id)
                        && (h.active.contains(user) || h.suspended.contains(user))
                    {
                        h.ungrouped.insert(*user);
                    }
                }
            }
            Effect::LeaveCourse {
                user,
                course,
                roles,
                groups,
            } => {
                if let Some(c) = courses.get_mut(course) {
                    c.other_roles
                        .retain(|(u, r)| !(u == user && roles.contains(r)));
                    c.manual_groups
                        .retain(|(g, u)| !(u == user && groups.contains(g)));
                }
            }
        }
    }
    let live: std::collections::HashSet<i64> = bindings.iter().map(|b| b.id).collect();
    EnrolmentState {
        bindings: held
            .into_iter()
            .filter(|(id, _)| live.contains(id))
            .map(|(binding, h)| BindingState {
                binding,
                active: h.active.into_iter().collect(),
                suspended: h.suspended.into_iter().collect(),
                without_role: h.without_role.into_iter().collect(),
                ungrouped: h.ungrouped.into_iter().collect(),
            })
            .filter(|b| !b.active.is_empty() || !b.suspended.is_empty())
            .collect(),
        courses: courses.into_values().collect(),
    }
}
