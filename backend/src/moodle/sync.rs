//! What Moodle's `enrol_cohort_sync` converges to for some cohort-sync instances, planned
//! from their rows (FACTS.md §9): pure, no database. The writer reads the rows, asks
//! [`plan_sync`] what to change, and writes it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use cohortsync_shared::options::UnenrolAction;

/// A cohort-sync instance as the sync needs it.
#[derive(Debug, Clone)]
pub(super) struct Instance {
    /// `mdl_enrol.id`.
    pub(super) id: i64,
    /// The course.
    pub(super) course: i64,
    /// The cohort (`customint1`).
    pub(super) cohort: i64,
    /// The role it gives.
    pub(super) role: i64,
    /// Its group (`customint2`; 0: none).
    pub(super) group: i64,
    /// Whether `status` is 0.
    pub(super) enabled: bool,
    /// The course's context id.
    pub(super) context: i64,
}

/// A user's enrolment row in one instance.
#[derive(Debug, Clone, Copy)]
pub(super) struct Enrolment {
    pub(super) id: i64,
    pub(super) active: bool,
    /// timestart, timeend, modifierid, timecreated, timemodified: what Moodle's
    /// `user_enrolment_deleted` event carries.
    pub(super) row: [i64; 5],
}

/// An `enrol_cohort` row of one instance: a role assignment (`of` = the role) or a group
/// membership (`of` = the group).
#[derive(Debug, Clone, Copy)]
pub(super) struct Synced {
    pub(super) id: i64,
    pub(super) user: i64,
    pub(super) of: i64,
}

/// What the sync of some instances reads.
#[derive(Debug, Default)]
pub(super) struct SyncState {
    /// Cohort → its members who are not deleted users.
    pub(super) members: HashMap<i64, BTreeSet<i64>>,
    /// Instance → user → enrolment row.
    pub(super) enrolments: HashMap<i64, BTreeMap<i64, Enrolment>>,
    /// Instance → its role assignments.
    pub(super) roles: HashMap<i64, Vec<Synced>>,
    /// Instance → its group memberships.
    pub(super) synced_memberships: HashMap<i64, Vec<Synced>>,
    /// The instances' groups → their course.
    pub(super) group_course: HashMap<i64, i64>,
    /// (group, user) of every membership of the instances' groups, of any component.
    pub(super) in_group: HashSet<(i64, i64)>,
}

/// A role assignment to write.
#[derive(Debug, Clone, Copy)]
pub(super) struct NewAssignment {
    pub(super) role: i64,
    pub(super) context: i64,
    pub(super) user: i64,
    pub(super) item: i64,
}

/// What the sync writes. Pairs are (row id, user) or (row id, group).
#[derive(Debug, Default)]
pub(super) struct SyncChanges {
    pub(super) enrolled: Vec<(i64, i64)>,
    /// (row id, user, instance).
    pub(super) reactivated: Vec<(i64, i64, i64)>,
    pub(super) suspended: Vec<(i64, i64, i64)>,
    /// (row, user, instance).
    pub(super) unenrolled: Vec<(Enrolment, i64, i64)>,
    /// (instance, user) of each row unenrolled: the last-enrolment cleanup's input.
    pub(super) unenrolled_pairs: Vec<(i64, i64)>,
    pub(super) roles_assigned: Vec<NewAssignment>,
    /// (id, user, role, instance).
    pub(super) roles_removed: Vec<(i64, i64, i64, i64)>,
    pub(super) memberships_added: Vec<(i64, i64, i64)>,
    /// (id, group, user, instance).
    pub(super) memberships_removed: Vec<(i64, i64, i64, i64)>,
}

/// The rows that bring `instances` to what Moodle's sync converges to (module doc), in
/// instance id order as Moodle walks them.
pub(super) fn plan_sync(
    instances: &[Instance],
    state: &SyncState,
    deleting: &BTreeSet<i64>,
    unenrol: UnenrolAction,
) -> SyncChanges {
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
                    changes.reactivated.push((row.id, user, instance.id));
                    after.insert(user, true);
                } else {
                    after.insert(user, row.active);
                }
            } else if gone || unenrol == UnenrolAction::Unenrol {
                changes.unenrolled.push((*row, user, instance.id));
                changes.unenrolled_pairs.push((instance.id, user));
            } else {
                if row.active {
                    changes.suspended.push((row.id, user, instance.id));
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
        let mut has_role: HashSet<i64> = HashSet::new();
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
                    .push((a.id, a.user, a.of, instance.id));
            }
        }
        if instance.enabled && !gone {
            for (&user, &active) in &after {
                if active && !has_role.contains(&user) {
                    changes.roles_assigned.push(NewAssignment {
                        role: instance.role,
                        context: instance.context,
                        user,
                        item: instance.id,
                    });
                }
            }
        }
        // Groups: every row of the instance, suspended ones included, in the instance's
        // group when it is one of the course's; a membership the user already has, of any
        // component, is left as it is.
        let target = (instance.group > 0
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
                    .push((m.id, m.of, m.user, instance.id));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An instance of cohort 7 in course 2 (context 20), role 5, group 9; users 1 and 2
    /// enrolled (with role and group), user 2 no longer in the cohort, user 3 new in it.
    fn one_instance(enabled: bool) -> (Vec<Instance>, SyncState) {
        let instance = Instance {
            id: 30,
            course: 2,
            cohort: 7,
            role: 5,
            group: 9,
            enabled,
            context: 20,
        };
        let row = |id| Enrolment {
            id,
            active: true,
            row: [0; 5],
        };
        let mut state = SyncState::default();
        state.members.insert(7, [1, 3].into());
        state
            .enrolments
            .insert(30, [(1, row(100)), (2, row(101))].into());
        let synced = |id, user, of| Synced { id, user, of };
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
        let c = plan_sync(&instances, &state, &BTreeSet::new(), UnenrolAction::Unenrol);
        assert_eq!(c.enrolled, [(30, 3)]);
        assert_eq!(
            c.unenrolled
                .iter()
                .map(|u| (u.0.id, u.1))
                .collect::<Vec<_>>(),
            [(101, 2)]
        );
        assert_eq!(c.roles_removed, [(201, 2, 5, 30)]);
        assert_eq!(c.memberships_removed, [(301, 9, 2, 30)]);
        assert_eq!(
            c.roles_assigned.iter().map(|a| a.user).collect::<Vec<_>>(),
            [3]
        );
        assert_eq!(c.memberships_added, [(9, 3, 30)]);
    }

    #[test]
    fn under_suspend_the_row_is_suspended_and_keeps_role_and_group() {
        let (instances, state) = one_instance(true);
        let c = plan_sync(&instances, &state, &BTreeSet::new(), UnenrolAction::Suspend);
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
