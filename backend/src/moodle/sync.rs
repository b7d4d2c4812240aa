//! The Moodle rows the sync works on: what Moodle's `enrol_cohort_sync` converges to is
//! planned once, in `shared` ([`cohortsync_shared::sync::plan_sync`], where its rules and
//! their tests are); the writer reads these rows, asks it what to change, and writes that.

use cohortsync_shared::sync;

pub(super) use cohortsync_shared::sync::{Enrolment, Synced, plan_sync};

/// A cohort-sync instance as the writer reads it: what the sync needs, and the course's
/// context its role assignments and log rows go in.
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

impl Instance {
    /// What the sync plans with.
    pub(super) fn for_sync(&self) -> sync::Instance {
        sync::Instance {
            id: self.id,
            course: self.course,
            cohort: self.cohort,
            role: self.role,
            group: self.group,
            enabled: self.enabled,
        }
    }
}

/// A `user_enrolments` row: its id, status, and the columns Moodle's
/// `user_enrolment_deleted` event carries (timestart, timeend, modifierid, timecreated,
/// timemodified).
#[derive(Debug, Clone, Copy)]
pub(super) struct Row {
    pub(super) id: i64,
    pub(super) active: bool,
    pub(super) row: [i64; 5],
}

/// What the sync of some instances reads: enrolment rows, and the ids of `enrol_cohort`
/// role assignments and group memberships.
pub(super) type SyncState = sync::SyncState<Row, i64>;

/// What the sync writes.
pub(super) type SyncChanges = sync::SyncChanges<Row, i64>;
