//! What changed between two snapshots of one site: `GET /api/snapshot?since=REV`'s answer
//! when the server still has revision `REV`, so that a browser refreshes its cached copy
//! with the changes instead of downloading the whole site again.
//!
//! ```json
//! {"since": 7, "revision": 9,
//!  "users": {"upsert": [{"id": 12, "username": "nvidal", …}], "remove": [40]},
//!  "cohorts": {"upsert": [{"id": 3, …, "members": [12, 13]}]},
//!  "members": {"add": [[1, 12]], "remove": [[1, 40]]},
//!  "bindings": {"remove": [8]},
//!  "defaults": {…}}
//! ```
//!
//! Every list of the snapshot is keyed by id: `upsert` holds the items that are new or
//! differ (whole), `remove` the ids that are gone. A cohort whose own fields did not change
//! but whose members did is not repeated: its members go in `members` as `[cohort, user]`
//! pairs. Lists kept in id order stay in id order.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::{Binding, Category, Cohort, Course, Group, Role, Snapshot, User};
use crate::options::Options;

/// The changes of one list of the snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListChanges<T> {
    /// Items that are new or changed, whole.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub upsert: Vec<T>,
    /// Ids of the items that are gone.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<i64>,
}

impl<T> Default for ListChanges<T> {
    fn default() -> Self {
        ListChanges {
            upsert: Vec::new(),
            remove: Vec::new(),
        }
    }
}

impl<T> ListChanges<T> {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.upsert.is_empty() && self.remove.is_empty()
    }
}

/// Members added and removed, as `[cohort, user]` pairs, of cohorts not in
/// `cohorts.upsert`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MemberChanges {
    /// New memberships.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub add: Vec<(i64, i64)>,
    /// Memberships that are gone.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<(i64, i64)>,
}

/// What changed from revision `since` to `revision` ([`SnapshotChanges::between`]); applied
/// to the snapshot of `since`, it gives the snapshot of `revision`
/// ([`SnapshotChanges::apply_to`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SnapshotChanges {
    /// The revision these changes start from.
    pub since: u64,
    /// The revision they lead to.
    pub revision: u64,
    /// The key of a teacher's hashes (a teacher's changes), as in the snapshot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_hash_key: Option<String>,
    /// Users.
    #[serde(skip_serializing_if = "ListChanges::is_empty")]
    pub users: ListChanges<User>,
    /// Cohorts whose own fields changed, or that are new, with all their members.
    #[serde(skip_serializing_if = "ListChanges::is_empty")]
    pub cohorts: ListChanges<Cohort>,
    /// Members of the other cohorts.
    #[serde(skip_serializing_if = "MemberChanges::is_empty")]
    pub members: MemberChanges,
    /// Courses.
    #[serde(skip_serializing_if = "ListChanges::is_empty")]
    pub courses: ListChanges<Course>,
    /// Categories.
    #[serde(skip_serializing_if = "ListChanges::is_empty")]
    pub categories: ListChanges<Category>,
    /// Roles.
    #[serde(skip_serializing_if = "ListChanges::is_empty")]
    pub roles: ListChanges<Role>,
    /// Groups.
    #[serde(skip_serializing_if = "ListChanges::is_empty")]
    pub groups: ListChanges<Group>,
    /// Bindings.
    #[serde(skip_serializing_if = "ListChanges::is_empty")]
    pub bindings: ListChanges<Binding>,
    /// The site's default options at `revision` (small: always sent).
    pub defaults: Options,
}

impl MemberChanges {
    /// Whether no membership changed.
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }
}

/// An item of a snapshot's list, known by its id.
trait Keyed: Clone + PartialEq {
    fn id(&self) -> i64;
}

macro_rules! keyed {
    ($($t:ty),*) => {$(impl Keyed for $t { fn id(&self) -> i64 { self.id } })*};
}
keyed!(User, Cohort, Course, Category, Role, Group, Binding);

/// `new` against `old`: what is new or differs per `same`, and what is gone.
fn list_changes<T: Keyed>(old: &[T], new: &[T], same: impl Fn(&T, &T) -> bool) -> ListChanges<T> {
    let before: HashMap<i64, &T> = old.iter().map(|t| (t.id(), t)).collect();
    let after: HashSet<i64> = new.iter().map(Keyed::id).collect();
    ListChanges {
        upsert: new
            .iter()
            .filter(|t| before.get(&t.id()).is_none_or(|o| !same(o, t)))
            .cloned()
            .collect(),
        remove: old
            .iter()
            .map(Keyed::id)
            .filter(|id| !after.contains(id))
            .collect(),
    }
}

/// Applies `changes` to `list`: removed ids go, upserted items replace theirs in place, and
/// new ones are added, in id order if the list was in id order.
fn apply_list<T: Keyed>(list: &mut Vec<T>, changes: &ListChanges<T>) {
    if !changes.remove.is_empty() {
        let gone: HashSet<i64> = changes.remove.iter().copied().collect();
        list.retain(|t| !gone.contains(&t.id()));
    }
    if changes.upsert.is_empty() {
        return;
    }
    let in_order = list.is_sorted_by_key(Keyed::id);
    let at: HashMap<i64, usize> = list.iter().enumerate().map(|(i, t)| (t.id(), i)).collect();
    let mut added = false;
    for item in &changes.upsert {
        match at.get(&item.id()) {
            Some(&i) => list[i] = item.clone(),
            None => {
                list.push(item.clone());
                added = true;
            }
        }
    }
    if added && in_order {
        // Stable, and mostly sorted already.
        list.sort_by_key(Keyed::id);
    }
}

fn same_cohort_fields(a: &Cohort, b: &Cohort) -> bool {
    a.idnumber == b.idnumber
        && a.name == b.name
        && a.description == b.description
        && a.visible == b.visible
        && a.category == b.category
        && a.component == b.component
}

impl SnapshotChanges {
    /// What changed from `old` to `new` (two snapshots of one site, of the same variant).
    pub fn between(old: &Snapshot, new: &Snapshot) -> SnapshotChanges {
        let cohorts = list_changes(&old.cohorts, &new.cohorts, same_cohort_fields);
        let upserted: HashSet<i64> = cohorts.upsert.iter().map(|c| c.id).collect();
        let old_members: HashMap<i64, &Vec<i64>> =
            old.cohorts.iter().map(|c| (c.id, &c.members)).collect();
        let mut members = MemberChanges::default();
        for cohort in new.cohorts.iter().filter(|c| !upserted.contains(&c.id)) {
            let before = old_members
                .get(&cohort.id)
                .map_or(&[][..], |m| m.as_slice());
            if before == cohort.members.as_slice() {
                continue;
            }
            let was: HashSet<i64> = before.iter().copied().collect();
            let is: HashSet<i64> = cohort.members.iter().copied().collect();
            members.add.extend(
                cohort
                    .members
                    .iter()
                    .filter(|u| !was.contains(u))
                    .map(|&u| (cohort.id, u)),
            );
            members.remove.extend(
                before
                    .iter()
                    .filter(|u| !is.contains(u))
                    .map(|&u| (cohort.id, u)),
            );
        }
        SnapshotChanges {
            since: old.revision,
            revision: new.revision,
            user_hash_key: new.user_hash_key.clone(),
            users: list_changes(&old.users, &new.users, PartialEq::eq),
            cohorts,
            members,
            courses: list_changes(&old.courses, &new.courses, PartialEq::eq),
            categories: list_changes(&old.categories, &new.categories, PartialEq::eq),
            roles: list_changes(&old.roles, &new.roles, PartialEq::eq),
            groups: list_changes(&old.groups, &new.groups, PartialEq::eq),
            bindings: list_changes(&old.bindings, &new.bindings, PartialEq::eq),
            defaults: new.defaults.clone(),
        }
    }

    /// The teacher's variant of these changes (of two admin's snapshots): the users' clear
    /// fields replaced by keyed hashes, as [`Snapshot::for_teacher`] does.
    pub fn for_teacher(&self, key: &[u8]) -> SnapshotChanges {
        let hashed = Snapshot {
            users: self.users.upsert.clone(),
            ..Snapshot::default()
        }
        .for_teacher(key);
        SnapshotChanges {
            user_hash_key: hashed.user_hash_key,
            users: ListChanges {
                upsert: hashed.users,
                remove: self.users.remove.clone(),
            },
            ..self.clone()
        }
    }

    /// Applies these changes to `snapshot`, the snapshot of revision `since`. An error, and
    /// `snapshot` untouched, when it is not (the caller then fetches the whole snapshot).
    pub fn apply_to(&self, snapshot: &mut Snapshot) -> Result<(), String> {
        if snapshot.revision != self.since {
            return Err(format!(
                "these changes start from revision {}, the snapshot is at {}",
                self.since, snapshot.revision
            ));
        }
        if snapshot.user_hash_key != self.user_hash_key {
            return Err("these changes are of the other variant of the snapshot".into());
        }
        apply_list(&mut snapshot.users, &self.users);
        apply_list(&mut snapshot.cohorts, &self.cohorts);
        if !self.members.is_empty() {
            let mut by_cohort: HashMap<i64, (Vec<i64>, HashSet<i64>)> = HashMap::new();
            for &(cohort, user) in &self.members.add {
                by_cohort.entry(cohort).or_default().0.push(user);
            }
            for &(cohort, user) in &self.members.remove {
                by_cohort.entry(cohort).or_default().1.insert(user);
            }
            for cohort in &mut snapshot.cohorts {
                let Some((add, remove)) = by_cohort.get(&cohort.id) else {
                    continue;
                };
                cohort.members.retain(|u| !remove.contains(u));
                // Members are kept in id order, as the server lists them.
                let in_order = cohort.members.is_sorted();
                let had: HashSet<i64> = cohort.members.iter().copied().collect();
                cohort
                    .members
                    .extend(add.iter().filter(|u| !had.contains(u)).copied());
                if in_order {
                    cohort.members.sort_unstable();
                }
            }
        }
        apply_list(&mut snapshot.courses, &self.courses);
        apply_list(&mut snapshot.categories, &self.categories);
        apply_list(&mut snapshot.roles, &self.roles);
        apply_list(&mut snapshot.groups, &self.groups);
        apply_list(&mut snapshot.bindings, &self.bindings);
        snapshot.defaults = self.defaults.clone();
        snapshot.revision = self.revision;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::BindingStatus;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn site() -> Snapshot {
        let user = |id: i64| User {
            id,
            username: format!("user{id}"),
            idnumber: format!("U{id:04}"),
            email: format!("user{id}@univ.example"),
            ..User::default()
        };
        let cohort = |id: i64, members: Vec<i64>| Cohort {
            id,
            idnumber: format!("COH{id}"),
            name: format!("Cohort {id}"),
            members,
            ..Cohort::default()
        };
        Snapshot {
            revision: 7,
            users: (1..=20).map(user).collect(),
            cohorts: vec![
                cohort(1, vec![1, 2, 3]),
                cohort(2, vec![4, 5]),
                cohort(3, vec![]),
            ],
            courses: vec![Course {
                id: 1,
                shortname: "MATH101".into(),
                ..Course::default()
            }],
            roles: vec![Role {
                id: 5,
                shortname: "student".into(),
            }],
            bindings: vec![
                Binding {
                    id: 1,
                    course: 1,
                    cohort: 1,
                    role: 5,
                    ..Binding::default()
                },
                Binding {
                    id: 2,
                    course: 1,
                    cohort: 2,
                    role: 5,
                    ..Binding::default()
                },
            ],
            ..Snapshot::default()
        }
    }

    /// `site()` after a day of changes to every kind of thing.
    fn changed() -> Snapshot {
        let mut new = site();
        new.revision = 9;
        new.users.retain(|u| u.id != 4);
        new.users[0].suspended = true;
        new.users.push(User {
            id: 30,
            username: "nvidal".into(),
            ..User::default()
        });
        new.cohorts[0].members = vec![1, 3, 9, 12];
        new.cohorts[1].name = "Renamed".into();
        new.cohorts[1].members = vec![5];
        new.cohorts.remove(2);
        new.cohorts.push(Cohort {
            id: 8,
            idnumber: "NEW".into(),
            members: vec![2, 30],
            ..Cohort::default()
        });
        new.bindings[1].status = BindingStatus::Disabled;
        new.bindings.remove(0);
        new.groups.push(Group {
            id: 4,
            course: 1,
            name: "TD1".into(),
            ..Group::default()
        });
        new.defaults.cleanup_empty = !new.defaults.cleanup_empty;
        new
    }

    #[test]
    fn the_changes_between_two_snapshots_turn_the_old_into_the_new() {
        let (old, new) = (site(), changed());
        let changes = SnapshotChanges::between(&old, &new);
        assert_eq!(changes.users.remove, [4]);
        let upserted: Vec<i64> = changes.users.upsert.iter().map(|u| u.id).collect();
        assert_eq!(upserted, [1, 30]);
        // Cohort 1 kept its fields: only its members travel; cohort 2 was renamed: whole.
        assert_eq!(changes.members.add, [(1, 9), (1, 12)]);
        assert_eq!(changes.members.remove, [(1, 2)]);
        let cohorts: Vec<i64> = changes.cohorts.upsert.iter().map(|c| c.id).collect();
        assert_eq!(cohorts, [2, 8]);
        assert_eq!(changes.cohorts.remove, [3]);
        assert!(changes.courses.is_empty() && changes.roles.is_empty());

        let json = serde_json::to_string(&changes).unwrap();
        assert!(
            !json.contains("courses"),
            "unchanged lists are left out: {json}"
        );
        let read: SnapshotChanges = serde_json::from_str(&json).unwrap();
        let mut refreshed = old.clone();
        read.apply_to(&mut refreshed).unwrap();
        assert_eq!(refreshed, new);
    }

    #[test]
    fn a_teachers_changes_turn_their_snapshot_into_the_new_one() {
        let (old, new) = (site(), changed());
        let key = b"site secret";
        let changes = SnapshotChanges::between(&old, &new).for_teacher(key);
        let json = serde_json::to_string(&changes).unwrap();
        assert!(
            !json.contains("nvidal") && !json.contains("user1"),
            "{json}"
        );
        let mut refreshed = old.for_teacher(key);
        changes.apply_to(&mut refreshed).unwrap();
        assert_eq!(refreshed, new.for_teacher(key));
        // An admin's changes do not apply to a teacher's snapshot, nor to another revision.
        let admin = SnapshotChanges::between(&old, &new);
        assert!(admin.apply_to(&mut old.for_teacher(key)).is_err());
        let mut later = new.clone();
        assert!(admin.apply_to(&mut later).is_err());
        assert_eq!(later, new);
    }

    #[test]
    fn no_change_is_empty() {
        let changes = SnapshotChanges::between(&site(), &site());
        let json = serde_json::to_value(&changes).unwrap();
        let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["defaults", "revision", "since"]);
    }
}
