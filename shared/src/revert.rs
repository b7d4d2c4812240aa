//! Undoing an applied changeset: the changes that take the site back, planned by the rules.

use crate::changeset::{Effect, Step};
use crate::options::UnenrolAction;
use crate::snapshot::Snapshot;

/// The effects on enrolments of the member additions and removals in `operations`, planned
/// against `snapshot` as a file's plan would be: for changesets that do not come from a
/// file, such as the inverse of an applied one.
pub fn membership_effects(
    snapshot: &Snapshot,
    operations: &[Step],
    unenrol_action: UnenrolAction,
) -> Vec<Effect> {
    crate::rules::cohorts::membership_effects(snapshot, operations, unenrol_action)
}
