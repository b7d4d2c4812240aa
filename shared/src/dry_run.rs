//! A changeset told per cohort and per course, as people review it: which cohorts are
//! created or deleted, who joins and leaves each, and what that does to each course's
//! enrolments and groups.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::changeset::{Changeset, Effect, Operation, Ref};
use crate::snapshot::{Snapshot, UserIndex};

/// A person named in a dry run: the user id, and a name when the snapshot has one (an
/// admin's snapshot does; a teacher's carries no names), or for a teacher the identifier
/// the file itself gives them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// User id.
    pub id: i64,
    /// `Firstname Lastname`, when known (never for a teacher).
    pub name: Option<String>,
    /// The file's own identifier of the person (its `userid` cell), for a teacher's dry
    /// run: someone removed because the file leaves them out has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
}

impl Person {
    /// How a page names the person: the name, else the file's identifier, else `#id`.
    pub fn label(&self) -> String {
        self.name
            .clone()
            .or_else(|| self.identifier.clone())
            .unwrap_or_else(|| format!("#{}", self.id))
    }
}

/// The identifiers a file gives the people its plan adds or removes, by user id: the
/// trimmed `userid` cell of the first row (in file order) with a step that adds or removes
/// them, the row the check found them by. What a teacher's dry run names people with:
/// nothing the file did not already say. Someone the plan names without such a row (removed
/// because a full-mode file leaves them out, or named only where nothing changes for them)
/// has none.
///
/// No user is looked up again: in a teacher's snapshot each lookup hashes the row's
/// identifier, which the check has done already.
///
/// ```
/// use cohortsync_shared::check::check;
/// use cohortsync_shared::{dry_run::file_identifiers, options::Options, snapshot::{Snapshot, User}};
///
/// let snapshot = Snapshot {
///     users: vec![User { id: 5, idnumber: "E20260005".into(), firstname: "Jean".into(), ..User::default() }],
///     ..Snapshot::default()
/// };
/// let teacher = snapshot.for_teacher(b"site key");
/// let file = b"cmd;cname;userid;cidnumber\nadd;L2;E20260005;C1\nadd;L3; E20260005 ;C2\n";
/// let plan = check(file, &teacher, &Options::default()).changeset.unwrap();
/// let found = file_identifiers(file, &plan, &Options::default());
/// assert_eq!(found.len(), 1);
/// assert_eq!(found[&5], "E20260005");
/// ```
pub fn file_identifiers(
    bytes: &[u8],
    changeset: &Changeset,
    options: &crate::options::Options,
) -> std::collections::HashMap<i64, String> {
    let mut found = std::collections::HashMap::new();
    // The line and user of each member step, in file order.
    let mut moved: Vec<(u32, i64)> = changeset
        .operations
        .iter()
        .filter_map(|step| match (step.line, &step.op) {
            (
                Some(line),
                Operation::AddMember { user, .. } | Operation::RemoveMember { user, .. },
            ) => Some((line, *user)),
            _ => None,
        })
        .collect();
    if moved.is_empty() {
        return found;
    }
    moved.sort_unstable();
    let mut ignored = crate::report::Diagnostics::keeping(0);
    let Some(table) =
        crate::decode::decode(bytes, options.encoding, options.delimiter, &mut ignored)
    else {
        return found;
    };
    let Some(column) = table.header.iter().position(|h| h == "userid") else {
        return found;
    };
    let mut steps = moved.iter().peekable();
    for row in table.rows() {
        while steps.next_if(|(line, _)| *line < row.line).is_some() {}
        while let Some((_, user)) = steps.next_if(|(line, _)| *line == row.line) {
            let value = crate::decode::trim(row.cell(column));
            if !value.is_empty() {
                found.entry(*user).or_insert_with(|| value.to_owned());
            }
        }
        if steps.peek().is_none() {
            break;
        }
    }
    found
}

impl DryRun {
    /// The first `rows` cohorts and the first `rows` courses: what a page shows before
    /// "show all", all a large plan needs to send at once.
    ///
    /// ```
    /// use cohortsync_shared::dry_run::{CohortChange, DryRun};
    /// let dry = DryRun { cohorts: vec![CohortChange::default(); 250], courses: vec![] };
    /// assert_eq!(dry.first(100).cohorts.len(), 100);
    /// assert_eq!(dry.first(300), dry);
    /// ```
    pub fn first(&self, rows: usize) -> DryRun {
        DryRun {
            cohorts: self.cohorts.iter().take(rows).cloned().collect(),
            courses: self.courses.iter().take(rows).cloned().collect(),
        }
    }

    /// Names the people listed (`Firstname Lastname` from `snapshot`, through `users`;
    /// none for a user without a name, or for a teacher's snapshot, which has none).
    pub fn name_people(&mut self, snapshot: &Snapshot, users: &UserIndex) {
        let mut fresh = None;
        let users = users.or_fresh(snapshot, &mut fresh);
        let people = self
            .cohorts
            .iter_mut()
            .flat_map(|c| c.added.iter_mut().chain(c.removed.iter_mut()))
            .chain(self.courses.iter_mut().flat_map(|c| c.left.iter_mut()));
        for person in people {
            person.name = users
                .position_of(person.id)
                .map(|at| &snapshot.users[at])
                .map(|u| full_name(&u.firstname, &u.lastname))
                .filter(|n| !n.is_empty());
        }
    }

    /// The dry run a teacher may read: no names, and each person the file names carries
    /// the file's own identifier for them (from [`file_identifiers`]).
    pub fn for_teacher(mut self, identifiers: &std::collections::HashMap<i64, String>) -> DryRun {
        for cohort in &mut self.cohorts {
            for person in cohort.added.iter_mut().chain(cohort.removed.iter_mut()) {
                person.name = None;
                person.identifier = identifiers.get(&person.id).cloned();
            }
        }
        for course in &mut self.courses {
            for person in &mut course.left {
                person.name = None;
                person.identifier = identifiers.get(&person.id).cloned();
            }
        }
        self
    }
}

/// What a changeset does to one cohort.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CohortChange {
    /// The cohort id, or `None` for a cohort the changeset creates.
    pub id: Option<i64>,
    /// Its name (the new name for a created one).
    pub name: String,
    /// Its idnumber.
    pub idnumber: String,
    /// Created by this changeset.
    pub created: bool,
    /// Updated (name, idnumber or description).
    pub updated: bool,
    /// Deleted by this changeset.
    pub deleted: bool,
    /// Members before (0 for a created cohort).
    pub members_before: usize,
    /// How many members join.
    pub added_count: usize,
    /// How many members leave.
    pub removed_count: usize,
    /// The first members who join (at most [`PEOPLE_LISTED`]).
    pub added: Vec<Person>,
    /// The first members who leave (at most [`PEOPLE_LISTED`]).
    pub removed: Vec<Person>,
}

/// People listed per cohort and direction: a summary for people to read, not a dump (a
/// nightly export can add a hundred thousand members).
pub const PEOPLE_LISTED: usize = 20;

fn list(count: &mut usize, people: &mut Vec<Person>, person: impl FnOnce() -> Person) {
    *count += 1;
    if people.len() < PEOPLE_LISTED {
        people.push(person());
    }
}

/// What a changeset does to one course.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CourseChange {
    /// Course id.
    pub id: i64,
    /// Its shortname, when known.
    pub shortname: String,
    /// Users enrolled (or reactivated).
    pub enrolled: usize,
    /// Users unenrolled.
    pub unenrolled: usize,
    /// Users whose enrolment is suspended.
    pub suspended: usize,
    /// Users put in a group.
    pub added_to_groups: usize,
    /// Users taken out of a group.
    pub removed_from_groups: usize,
    /// Groups created, by name.
    pub groups_created: Vec<String>,
    /// Bindings created, updated or deleted.
    pub bindings_changed: usize,
    /// Enrolled users given a binding's role again (a binding enabled).
    #[serde(default)]
    pub roles_assigned: usize,
    /// Users who stay enrolled and lose a binding's role (a binding disabled).
    #[serde(default)]
    pub roles_removed: usize,
    /// How many users' last enrolment in the course goes, taking their other roles and
    /// group memberships there (manual ones included) with it, as Moodle does.
    #[serde(default)]
    pub left_count: usize,
    /// The first of them (at most [`PEOPLE_LISTED`]).
    #[serde(default)]
    pub left: Vec<Person>,
}

/// A changeset per cohort and per course, in the order of the cohorts' and courses' ids
/// (created cohorts last, in creation order).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DryRun {
    /// Cohorts the changeset touches.
    pub cohorts: Vec<CohortChange>,
    /// Courses whose enrolments, groups or bindings change.
    pub courses: Vec<CourseChange>,
}

/// Tells `changeset`, planned against `snapshot`, per cohort and per course.
///
/// ```
/// use cohortsync_shared::{check, dry_run::dry_run, options::Options, snapshot::{Snapshot, User}};
///
/// let snapshot = Snapshot {
///     users: vec![User { id: 7, idnumber: "U7".into(), firstname: "Jean".into(), lastname: "Dupont".into(), ..User::default() }],
///     ..Snapshot::default()
/// };
/// let file = b"cmd;cname;userid;cidnumber\nadd;L2 Pharmacie;U7;COH1\n";
/// let plan = check(file, &snapshot, &Options::default()).changeset.unwrap();
/// let told = dry_run(&snapshot, &plan);
/// assert!(told.cohorts[0].created);
/// assert_eq!(told.cohorts[0].name, "L2 Pharmacie");
/// assert_eq!(told.cohorts[0].added[0].name.as_deref(), Some("Jean Dupont"));
/// ```
pub fn dry_run(snapshot: &Snapshot, changeset: &Changeset) -> DryRun {
    dry_run_indexed(snapshot, &UserIndex::new(snapshot), changeset)
}

/// [`dry_run`] with the snapshot's users indexed beforehand (see
/// [`crate::check::check_indexed`]); an index that does not fit the snapshot is not used.
pub fn dry_run_indexed(snapshot: &Snapshot, users: &UserIndex, changeset: &Changeset) -> DryRun {
    let mut told = dry_run_unnamed(snapshot, changeset);
    told.name_people(snapshot, users);
    told
}

/// [`dry_run`] whose people carry their id only: [`DryRun::name_people`] names them. Each
/// name is read from a user of the snapshot, a scattered read per person, so a page that
/// shows the first cohorts of a big dry run names those only.
pub fn dry_run_unnamed(snapshot: &Snapshot, changeset: &Changeset) -> DryRun {
    let person = |id: i64| Person {
        id,
        identifier: None,
        name: None,
    };

    // Existing cohorts by id, created ones by creation index.
    let mut existing = Changes::<i64>::new();
    let mut created = Changes::<u32>::new();
    let mut by_id = None;
    let mut courses: BTreeMap<i64, CourseChange> = BTreeMap::new();
    let course_entry = |id: i64, courses: &mut BTreeMap<i64, CourseChange>| {
        courses.entry(id).or_insert_with(|| CourseChange {
            id,
            shortname: snapshot
                .courses
                .iter()
                .find(|c| c.id == id)
                .map(|c| c.shortname.clone())
                .unwrap_or_default(),
            ..CourseChange::default()
        });
    };
    let binding_changed = |binding: i64, courses: &mut BTreeMap<i64, CourseChange>| {
        if let Some(b) = snapshot.bindings.iter().find(|b| b.id == binding) {
            course_entry(b.course, courses);
            if let Some(c) = courses.get_mut(&b.course) {
                c.bindings_changed += 1;
            }
        }
    };
    for step in &changeset.operations {
        match &step.op {
            Operation::CreateCohort(new) => {
                created.entry(new.cohort, true, || CohortChange {
                    name: new.name.clone(),
                    idnumber: new.idnumber.clone(),
                    created: true,
                    ..CohortChange::default()
                });
            }
            Operation::UpdateCohort(update) => {
                existing_entry(&mut existing, &mut by_id, snapshot, update.cohort).updated = true
            }
            Operation::DeleteCohort { cohort } => {
                existing_entry(&mut existing, &mut by_id, snapshot, *cohort).deleted = true
            }
            Operation::AddMember { cohort, user } => {
                let change = match cohort {
                    Ref::Existing(id) => {
                        Some(existing_entry(&mut existing, &mut by_id, snapshot, *id))
                    }
                    Ref::New { new } => created.get_mut(*new),
                };
                if let Some(c) = change {
                    list(&mut c.added_count, &mut c.added, || person(*user));
                }
            }
            Operation::RemoveMember { cohort, user } => {
                let c = existing_entry(&mut existing, &mut by_id, snapshot, *cohort);
                list(&mut c.removed_count, &mut c.removed, || person(*user));
            }
            Operation::CreateGroup(group) => {
                course_entry(group.course, &mut courses);
                if let Some(c) = courses.get_mut(&group.course) {
                    c.groups_created.push(group.name.clone());
                }
            }
            Operation::CreateBinding(new) => {
                course_entry(new.course, &mut courses);
                if let Some(c) = courses.get_mut(&new.course) {
                    c.bindings_changed += 1;
                }
            }
            Operation::UpdateBinding(update) => binding_changed(update.binding, &mut courses),
            Operation::DeleteBinding { binding } => binding_changed(*binding, &mut courses),
        }
    }
    for effect in &changeset.effects {
        let (course, apply): (i64, fn(&mut CourseChange)) = match effect {
            Effect::AssignRole { course, .. } => (*course, |c| c.roles_assigned += 1),
            Effect::RemoveRole { course, .. } => (*course, |c| c.roles_removed += 1),
            Effect::LeaveCourse { user, course, .. } => {
                course_entry(*course, &mut courses);
                if let Some(c) = courses.get_mut(course) {
                    list(&mut c.left_count, &mut c.left, || person(*user));
                }
                continue;
            }
            Effect::Enrol { course, .. } => (*course, |c| c.enrolled += 1),
            Effect::Unenrol { course, .. } => (*course, |c| c.unenrolled += 1),
            Effect::Suspend { course, .. } => (*course, |c| c.suspended += 1),
            Effect::AddToGroup { course, .. } => (*course, |c| c.added_to_groups += 1),
            Effect::RemoveFromGroup { course, .. } => (*course, |c| c.removed_from_groups += 1),
        };
        course_entry(course, &mut courses);
        if let Some(c) = courses.get_mut(&course) {
            apply(c);
        }
    }
    DryRun {
        cohorts: existing
            .into_sorted()
            .chain(created.into_sorted())
            .collect(),
        courses: courses.into_values().collect(),
    }
}

/// `first last`, trimmed: written out rather than through `format!`, whose machinery costs
/// more than the rest of a dry run's person.
fn full_name(first: &str, last: &str) -> String {
    let mut name = String::with_capacity(first.len() + 1 + last.len());
    name.push_str(first);
    name.push(' ');
    name.push_str(last);
    match name.trim() {
        trimmed if trimmed.len() == name.len() => name,
        trimmed => trimmed.to_owned(),
    }
}

/// What happens to cohorts, by a key: the site's by id, the created ones by creation
/// index. Operations come cohort by cohort, so the last one asked for is kept at hand.
struct Changes<K> {
    changes: Vec<(K, CohortChange)>,
    at: crate::HashMap<K, usize>,
    last: Option<(K, usize)>,
}

impl<K: Copy + Eq + Ord + std::hash::Hash> Changes<K> {
    fn new() -> Self {
        Changes {
            changes: Vec::new(),
            at: crate::HashMap::default(),
            last: None,
        }
    }

    /// Where the change of `key` is, if there is one.
    fn position(&mut self, key: K) -> Option<usize> {
        match self.last {
            Some((last, at)) if last == key => Some(at),
            _ => {
                let at = *self.at.get(&key)?;
                self.last = Some((key, at));
                Some(at)
            }
        }
    }

    fn get_mut(&mut self, key: K) -> Option<&mut CohortChange> {
        let at = self.position(key)?;
        Some(&mut self.changes[at].1)
    }

    /// The change of `key`, made by `make` on first use (or replaced by it, with `replace`).
    fn entry(
        &mut self,
        key: K,
        replace: bool,
        make: impl FnOnce() -> CohortChange,
    ) -> &mut CohortChange {
        let at = match self.position(key) {
            Some(at) => {
                if replace {
                    self.changes[at].1 = make();
                }
                at
            }
            None => {
                self.changes.push((key, make()));
                let at = self.changes.len() - 1;
                self.at.insert(key, at);
                self.last = Some((key, at));
                at
            }
        };
        &mut self.changes[at].1
    }

    /// The changes, by key.
    fn into_sorted(mut self) -> impl Iterator<Item = CohortChange> {
        self.changes.sort_by_key(|(key, _)| *key);
        self.changes.into_iter().map(|(_, change)| change)
    }
}

/// The change of the site's cohort `id`, made on first use from the snapshot (`by_id`: its
/// cohorts by id, made when first needed).
fn existing_entry<'c>(
    existing: &'c mut Changes<i64>,
    by_id: &mut Option<crate::HashMap<i64, usize>>,
    snapshot: &Snapshot,
    id: i64,
) -> &'c mut CohortChange {
    existing.entry(id, false, || {
        let by_id = by_id.get_or_insert_with(|| {
            let mut by_id = crate::HashMap::default();
            for (at, cohort) in snapshot.cohorts.iter().enumerate() {
                by_id.entry(cohort.id).or_insert(at);
            }
            by_id
        });
        let cohort = by_id.get(&id).map(|at| &snapshot.cohorts[*at]);
        CohortChange {
            id: Some(id),
            name: cohort.map(|c| c.name.clone()).unwrap_or_default(),
            idnumber: cohort.map(|c| c.idnumber.clone()).unwrap_or_default(),
            members_before: cohort.map_or(0, |c| c.members.len()),
            ..CohortChange::default()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::check;
    use crate::options::Options;
    use crate::snapshot::{Cohort, User};

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// Each person the plan moves is named by the first row that moves them and names
    /// them: a `free` row moves everyone but names no one.
    #[test]
    fn people_are_named_by_the_first_row_that_moves_them() {
        let user = |id: i64| User {
            id,
            idnumber: format!("U{id:04}"),
            ..User::default()
        };
        let snapshot = Snapshot {
            users: (1..=3).map(user).collect(),
            cohorts: vec![Cohort {
                id: 1,
                idnumber: "C1".into(),
                name: "One".into(),
                component: crate::snapshot::COHORTSYNC_COMPONENT.into(),
                members: vec![1, 2],
                ..Cohort::default()
            }],
            ..Snapshot::default()
        }
        .for_teacher(b"key");
        let file =
            b"cmd;cidnumber;cname;userid\nfree;C1;;\nadd;C2;Two;U0002\nadd;C2;Two; U0003\nadd;C3;Three;U0003\n";
        let checked = check(file, &snapshot, &Options::default());
        let plan = checked.changeset.expect("a plan");
        let found = file_identifiers(file, &plan, &Options::default());
        let mut found: Vec<_> = found.into_iter().collect();
        found.sort();
        // User 1 leaves C1 by the `free` row, which names no one; user 2 too, but a later
        // row names them; user 3 by their first row, trimmed.
        assert_eq!(found, [(2, "U0002".to_owned()), (3, "U0003".to_owned())]);
    }
}
