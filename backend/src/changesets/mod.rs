//! A changeset's life on the server, one file per step: `submit` (check and plan the
//! file against the current state), `review` (read it with its drift, approve, reject),
//! `apply` (the atomic apply) and `revert`.
//!
//! Every step re-runs the rules of `cohortsync_shared` on the stored file: the server never
//! trusts a plan it did not make, and never applies a plan the current state contradicts.
//! What is pure (the drift, the planning of a revert) lives in `cohortsync_shared`; what is
//! here reads and writes the database around it.

use std::sync::Arc;

use cohortsync_shared::api::Drift;
use cohortsync_shared::changeset::Changeset;
use cohortsync_shared::check::{Checked, check_indexed};
use cohortsync_shared::options::Options;
use cohortsync_shared::snapshot::{EnrolmentState, Snapshot};
use serde_json::json;
use sqlx::AnyConnection;

use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::store::changesets::{self, Status, Stored};
use crate::store::{Database, Tx, site};

mod apply;
mod revert;
mod review;
mod submit;

pub use apply::apply;
#[cfg(feature = "test-support")]
pub use apply::apply_with_failure_after;
pub use revert::revert;
pub use review::{MoodleFile, approve, detail, moodle_file, reject};
pub(crate) use submit::invalid;
pub use submit::submit;

/// What planning a stored file again found.
pub(crate) struct PlannedNow {
    pub(crate) drift: Drift,
    pub(crate) checked: Checked,
    /// The state it was planned against (its enrolment state aside: the plan's effects
    /// were planned from the state of the courses it touches, read then).
    pub(crate) snapshot: Arc<Snapshot>,
    /// The file, handed back.
    pub(crate) file: Vec<u8>,
}

/// Where the enrolment state of the courses a plan touches is read: the site as it is, or
/// a write's view of it under its lock.
pub(crate) enum StateFrom<'a> {
    /// The site, now.
    Site(&'a crate::site::Site),
    /// Inside a write, under its lock.
    Write(&'a mut crate::site::SiteWrite),
}

/// Plans the effects of `plan` (checked against `snapshot`) again from the enrolment state
/// of the courses it touches, read now: the rules' own effects assume a site where cohort
/// sync has run, since a snapshot does not carry the state of the whole site (reading it
/// would read every enrolment, role and group membership). `snapshot` keeps the state read.
pub(crate) async fn effects_from_state(
    from: StateFrom<'_>,
    own: &mut AnyConnection,
    snapshot: &mut Snapshot,
    plan: &mut Changeset,
    unenrol: cohortsync_shared::options::UnenrolAction,
) -> Result<(), ApiError> {
    if let Some(state) = plan_effects(from, own, snapshot, plan, unenrol).await? {
        snapshot.enrolments = Some(state);
    }
    Ok(())
}

/// [`effects_from_state`] on a snapshot shared with other requests: the state read is
/// handed back (`None`: the plan touches no bound course) instead of kept in it.
async fn plan_effects(
    from: StateFrom<'_>,
    own: &mut AnyConnection,
    snapshot: &Snapshot,
    plan: &mut Changeset,
    unenrol: cohortsync_shared::options::UnenrolAction,
) -> Result<Option<EnrolmentState>, ApiError> {
    let courses = cohortsync_shared::sync::courses_touched(snapshot, &plan.operations);
    if courses.is_empty() {
        return Ok(None);
    }
    let state = match from {
        StateFrom::Site(site) => site.enrolment_state(own, snapshot, &courses).await?,
        StateFrom::Write(write) => write.enrolment_state(own, snapshot, &courses).await?,
    };
    plan.effects = cohortsync_shared::sync::effects_with_state(
        snapshot,
        Some(&state),
        &plan.operations,
        unenrol,
    );
    Ok(Some(state))
}

/// Plans `file` again on `snapshot` (the current state, its enrolments read through
/// `from` with `own`) and compares with `planned`.
pub(crate) async fn plan_now(
    site: &crate::site::Site,
    from: StateFrom<'_>,
    own: &mut AnyConnection,
    snapshot: Arc<Snapshot>,
    file: Vec<u8>,
    options: &Options,
    planned: &Changeset,
) -> Result<PlannedNow, ApiError> {
    let options = site.run_options(options, &snapshot);
    let unenrol = options.unenrol_action;
    let users = site.user_index(&snapshot);
    let (mut checked, snapshot, file) = crate::checks::off_executor(move || {
        let checked = check_indexed(&file, &snapshot, &users, &options, &mut |_| {});
        (checked, snapshot, file)
    })
    .await?;
    if let Some(plan) = &mut checked.changeset {
        plan_effects(from, own, &snapshot, plan, unenrol).await?;
    }
    let drift = Drift::between(planned, &checked, snapshot.revision);
    Ok(PlannedNow {
        drift,
        checked,
        snapshot,
        file,
    })
}

/// Starts a write transaction holding the apply lock (approvals, rejections, applies and
/// reverts never interleave) and reads changeset `id` as `caller` may see it.
pub(crate) async fn locked(
    db: &Database,
    caller: &Caller,
    id: i64,
) -> Result<(Tx, Stored), ApiError> {
    let mut tx = db.begin_write().await?;
    site::lock_for_apply(&mut tx, db.kind()).await?;
    let stored = visible(&mut tx, caller, id).await?;
    Ok((tx, stored))
}

pub(crate) async fn visible(
    conn: &mut AnyConnection,
    caller: &Caller,
    id: i64,
) -> Result<Stored, ApiError> {
    match changesets::get(conn, id).await? {
        Some(stored) if caller.role == Role::Admin || stored.record.author_id == caller.id => {
            Ok(stored)
        }
        // Another teacher's changeset does not exist, as far as this caller knows.
        _ => Err(ApiError::NotFound),
    }
}

pub(crate) fn wrong_status(id: i64, status: Status, action: &str) -> ApiError {
    ApiError::Conflict {
        code: "wrong_status",
        message: format!(
            "changeset {id} is {} and cannot be {action}d now",
            status.as_str()
        ),
        details: json!({"status": status}),
    }
}
