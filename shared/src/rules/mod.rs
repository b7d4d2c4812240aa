//! The checks, one module per family: cohort files, binding files, and safety limits.
//!
//! Each family resolves a file's rows against the snapshot, reports what is wrong as
//! diagnostics, and plans what is right. Lookups shared by the families live here.

use crate::HashMap;

use crate::formats::{Columns, FileKind, Rows};
use crate::options::{CohortIdentifier, Options, UserIdentifier};
use crate::report::{Code, Diagnostic, Diagnostics};
use crate::snapshot::{Binding, Cohort, KeyTable, Snapshot, UserIndex, UserLookup};

pub(crate) mod bindings;
pub(crate) mod cohorts;
pub(crate) mod limits;
pub(crate) mod moodle_cohorts;
pub(crate) mod moodle_courses;
pub(crate) mod moodle_users;

/// The rules of one kind of file: its rows (those that fit the header), its columns and
/// the header's line in, diagnostics and progress (rows done, in all) along the way, and
/// what the rows plan out.
pub(crate) type Family = fn(
    &Rows<'_>,
    &Columns,
    u32,
    &Site<'_>,
    &Options,
    &mut Diagnostics,
    &mut dyn FnMut(usize, usize),
) -> cohorts::Planned;

/// The rules of files of `kind`.
pub(crate) fn of(kind: FileKind) -> Family {
    match kind {
        FileKind::Cohorts => cohorts::plan,
        FileKind::Bindings => bindings::plan,
        FileKind::MoodleCohorts => moodle_cohorts::plan,
        FileKind::MoodleUserCohorts => moodle_users::plan,
        FileKind::MoodleCourseCohorts => moodle_courses::plan,
    }
}

/// The snapshot, indexed for the lookups rules make.
pub(crate) struct Site<'s> {
    pub(crate) snapshot: &'s Snapshot,
    /// The snapshot's users, indexed.
    pub(crate) users: &'s UserIndex,
    cohort_by_id: HashMap<i64, u32>,
    cohorts_by_idnumber: KeyTable,
    cohorts_by_name: KeyTable,
    bindings_by_cohort: HashMap<i64, Vec<usize>>,
}

impl<'s> Site<'s> {
    pub(crate) fn new(snapshot: &'s Snapshot, users: &'s UserIndex) -> Self {
        let mut site = Site {
            snapshot,
            users,
            cohort_by_id: HashMap::with_capacity_and_hasher(
                snapshot.cohorts.len(),
                Default::default(),
            ),
            cohorts_by_idnumber: KeyTable::with_capacity(snapshot.cohorts.len()),
            cohorts_by_name: KeyTable::with_capacity(snapshot.cohorts.len()),
            bindings_by_cohort: HashMap::default(),
        };
        for (index, cohort) in snapshot.cohorts.iter().enumerate() {
            let index = index as u32;
            site.cohort_by_id.insert(cohort.id, index);
            if !cohort.idnumber.is_empty() {
                site.cohorts_by_idnumber.insert(&cohort.idnumber, index);
            }
            site.cohorts_by_name.insert(&cohort.name, index);
        }
        for (index, binding) in snapshot.bindings.iter().enumerate() {
            site.bindings_by_cohort
                .entry(binding.cohort)
                .or_default()
                .push(index);
        }
        site
    }

    pub(crate) fn cohort(&self, index: usize) -> &'s Cohort {
        &self.snapshot.cohorts[index]
    }

    /// Cohort indexes whose identifier `kind` is `value` (trimmed).
    pub(crate) fn find_cohorts(&self, kind: CohortIdentifier, value: &str) -> &[u32] {
        let value = crate::decode::trim(value);
        let found = match kind {
            CohortIdentifier::Id => value
                .parse::<i64>()
                .ok()
                .and_then(|id| self.cohort_by_id.get(&id))
                .map(std::slice::from_ref),
            CohortIdentifier::Idnumber => Some(self.cohorts_by_idnumber.find(value)),
            CohortIdentifier::Name => Some(self.cohorts_by_name.find(value)),
        };
        found.unwrap_or(&[])
    }

    /// The bindings of cohort `id`.
    pub(crate) fn bindings_of(&self, cohort: i64) -> impl Iterator<Item = &'s Binding> + '_ {
        self.bindings_by_cohort
            .get(&cohort)
            .into_iter()
            .flatten()
            .map(|&i| &self.snapshot.bindings[i])
    }

    /// A better cohort identifier for `value`, if another one finds exactly it.
    pub(crate) fn cohort_identifier_hint(
        &self,
        current: CohortIdentifier,
        value: &str,
    ) -> Option<CohortIdentifier> {
        [
            CohortIdentifier::Name,
            CohortIdentifier::Idnumber,
            CohortIdentifier::Id,
        ]
        .into_iter()
        .filter(|&kind| kind != current)
        .find(|&kind| !self.find_cohorts(kind, value).is_empty())
    }
}

/// Users found by the chosen identifier; the other identifiers' lookups, for hints, come
/// from the index when a user is not found.
pub(crate) struct Users<'s> {
    snapshot: &'s Snapshot,
    index: &'s UserIndex,
    kind: UserIdentifier,
    lookup: &'s UserLookup,
}

/// The outcome of looking up one user.
#[derive(Debug, Clone, Copy)]
pub(crate) enum UserMatch {
    Found(usize),
    NotFound,
    Ambiguous(usize),
}

impl UserMatch {
    /// The match of the users a lookup found.
    fn of(users: &[u32]) -> UserMatch {
        match users {
            [] => UserMatch::NotFound,
            [one] => UserMatch::Found(*one as usize),
            many => UserMatch::Ambiguous(many.len()),
        }
    }
}

impl<'s> Users<'s> {
    pub(crate) fn new(site: &Site<'s>, kind: UserIdentifier) -> Self {
        Users {
            snapshot: site.snapshot,
            index: site.users,
            kind,
            lookup: site.users.lookup(site.snapshot, kind),
        }
    }

    /// The id of the user at `index`.
    pub(crate) fn id(&self, index: usize) -> i64 {
        self.index.id(index)
    }

    /// Whether the user at `index` is suspended.
    pub(crate) fn is_suspended(&self, index: usize) -> bool {
        self.index.is_suspended(index)
    }

    pub(crate) fn find(&self, value: &str) -> UserMatch {
        UserMatch::of(self.lookup.find(value))
    }

    /// The users of each of `values`, into `found`: [`Users::find`] of many at once, which
    /// is faster ([`UserLookup::find_each`]).
    pub(crate) fn find_each<'v>(
        &self,
        values: impl Iterator<Item = &'v str>,
        found: &mut Vec<UserMatch>,
    ) {
        self.lookup.find_each(values, found, UserMatch::of);
    }

    /// Another user identifier that finds `value`, for a hint on `user_not_found`.
    pub(crate) fn hint(&self, value: &str) -> Option<UserIdentifier> {
        [
            UserIdentifier::Idnumber,
            UserIdentifier::Username,
            UserIdentifier::Email,
            UserIdentifier::Id,
        ]
        .into_iter()
        .filter(|&kind| kind != self.kind)
        .find(|&kind| {
            !self
                .index
                .lookup(self.snapshot, kind)
                .find(value)
                .is_empty()
        })
    }

    /// The diagnostic for a user that is not found or ambiguous. The hint for one not
    /// found (another identifier that finds them) is only looked for when `diagnostics`
    /// will keep the diagnostic: it looks the value up by every other identifier, a hash
    /// each in a teacher's snapshot, and a file of a million unknown users keeps the
    /// first [`crate::report::DIAGNOSTICS_KEPT`] only.
    pub(crate) fn problem(
        &self,
        found: &UserMatch,
        line: u32,
        column: &str,
        value: &str,
        diagnostics: &Diagnostics,
    ) -> Option<Diagnostic> {
        let kind = self.kind.as_str();
        match found {
            UserMatch::Found(_) => None,
            UserMatch::Ambiguous(count) => Some(
                Diagnostic::new(Code::UserAmbiguous, line)
                    .column(column)
                    .value(value)
                    .arg(kind)
                    .arg(count),
            ),
            UserMatch::NotFound => {
                let mut d = Diagnostic::new(Code::UserNotFound, line)
                    .column(column)
                    .value(value)
                    .arg(kind);
                let hint = diagnostics.would_keep(line).then(|| self.hint(value));
                if let Some(better) = hint.flatten() {
                    d = d.hint("user_identifier", better.as_str());
                }
                Some(d)
            }
        }
    }
}
