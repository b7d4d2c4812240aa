//! Submitting a file: checked and planned against the current state, stored when it has no
//! errors.

use cohortsync_shared::api::REFUSAL_ERRORS;
use cohortsync_shared::check::{Checked, check_indexed};
use cohortsync_shared::options::Options;
use cohortsync_shared::report::Lang;

use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::site::Site;
use crate::store::changesets::{self, NewChangeset};
use crate::store::{Database, audit};

/// Checks `file` against the current state and, when it has no errors, stores it as a
/// submitted changeset. Returns the new id, or `InvalidFile` with the full report.
pub async fn submit(
    db: &Database,
    site: &Site,
    caller: &Caller,
    file_name: &str,
    file: Vec<u8>,
    options: &Options,
    lang: Lang,
) -> Result<i64, ApiError> {
    let mut conn = db.pool().acquire().await?;
    let snapshot = site.snapshot(&mut conn).await?;
    drop(conn);
    // The unenrol action is the site's; a teacher may tighten the limits, not loosen them.
    if caller.role != Role::Admin {
        let beyond = options.exceeds_site(&snapshot.defaults);
        if !beyond.is_empty() {
            return Err(ApiError::BeyondSiteSettings(beyond));
        }
    }
    // On Moodle the unenrol action is Moodle's: the changeset is stored with what it runs.
    let options = &site.run_options(options, &snapshot);
    let (mut checked, mut snapshot, file) = {
        let options = options.clone();
        let users = site.user_index(&snapshot);
        crate::checks::off_executor(move || {
            let checked = check_indexed(&file, &snapshot, &users, &options, &mut |_| {});
            (checked, snapshot, file)
        })
        .await?
    };
    if let Some(plan) = &mut checked.changeset {
        let mut conn = db.pool().acquire().await?;
        super::effects_from_state(
            super::StateFrom::Site(site),
            &mut conn,
            &mut snapshot,
            plan,
            options.unenrol_action,
        )
        .await?;
    }
    let (Some(plan), Some(kind)) = (&checked.changeset, checked.report.kind) else {
        return Err(invalid(&checked, lang));
    };
    let mut tx = db.begin_write().await?;
    let id = changesets::insert(
        &mut tx,
        &NewChangeset {
            author: caller.id,
            file_name,
            file: &file,
            kind,
            options,
            report: &checked.report,
            plan,
            reverts: None,
            source_sha256: None,
            waiting_reason: None,
        },
    )
    .await?;
    audit::append(&mut tx, Some(caller.id), "submit", Some(id), file_name).await?;
    tx.commit().await?;
    Ok(id)
}

/// A refused file: its first page of errors and the counts of all (a file of a million
/// bad lines answers a page, not a million).
pub(crate) fn invalid(checked: &Checked, lang: Lang) -> ApiError {
    ApiError::InvalidFile(
        serde_json::to_value(checked.to_refusal(lang, REFUSAL_ERRORS))
            .unwrap_or(serde_json::Value::Null),
    )
}
