//! The sync folder's task: takes the files a student information system drops in the
//! folder (the cohort file, then the binding file), runs each through the same pipeline as
//! a teacher's upload — the rules, the limits, a changeset, the audit log — applies it or
//! leaves it waiting under the policy ([`cohortsync_shared::folder::decide`]), and files
//! the input, its report and its tryback file as tool_sync does.
//!
//! Safe under faults: a file is moved to `archive/` only after its changeset is stored,
//! and a file whose SHA-256 already made a changeset is never planned again, so a run
//! killed anywhere and run again applies each file exactly once. One run at a time: a lock
//! file in the folder, and on PostgreSQL an advisory lock, which several servers share.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Local};
use cohortsync_shared::changeset::Totals;
use cohortsync_shared::folder::{
    self, Decision, FileRun, Outcome, RunReport, SyncSettings, WaitingReason,
};
use cohortsync_shared::options::Options;
use cohortsync_shared::report::text::render;
use cohortsync_shared::snapshot::Snapshot;
use serde_json::json;

use crate::auth::{Admin, Caller};
use crate::changesets::{StateFrom, effects_from_state};
use crate::error::ApiError;
use crate::site::Site;
use crate::store::changesets::{self, NewChangeset, Status};
use crate::store::{Database, audit, sync};

pub mod command;
mod files;
pub mod mail;
pub mod schedule;

pub use mail::Mailer;

/// The folder and how it is read (`--sync-dir`, `--sync-settle-seconds`).
#[derive(Debug, Clone)]
pub struct SyncFolder {
    /// The folder files are dropped in; `archive/`, `reports/` and `tryback/` are made in it.
    pub dir: PathBuf,
    /// A file changed more recently than this is still being written: left for the next run.
    pub settle: Duration,
    /// Larger files are not read (a report entry says so).
    pub max_file_bytes: u64,
}

/// Who started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunBy {
    /// The schedule.
    Schedule,
    /// An admin: *Run now* on the Sync page, or `cohortsync sync run`.
    Manual,
}

impl RunBy {
    /// The name in the history.
    pub fn as_str(self) -> &'static str {
        match self {
            RunBy::Schedule => "schedule",
            RunBy::Manual => "manual",
        }
    }
}

/// How the task is set up on this server: the folder, and who to mail.
#[derive(Debug, Clone)]
pub struct SyncSetup {
    /// The folder.
    pub folder: SyncFolder,
    /// Where mail to admins goes; `None`: no mail.
    pub mailer: Option<Mailer>,
    /// The server's address, for links in mail (`--public-url`).
    pub public_url: Option<String>,
}

/// What a run needs: the server's database, the site, and the setup.
#[derive(Debug, Clone)]
pub struct Task {
    /// cohortsync's own database.
    pub db: Database,
    /// The site the files change.
    pub site: Site,
    /// The folder and the mail.
    pub setup: SyncSetup,
}

impl Task {
    /// Runs the task once at `now`: each file of the settings, in order, then the
    /// retention. `simulate`: nothing is stored, moved or written; the report says what
    /// would happen. `409 sync_running` when another run (here or on another server of the
    /// same PostgreSQL) holds the lock.
    pub async fn run(
        &self,
        run_by: RunBy,
        simulate: bool,
        now: DateTime<Local>,
    ) -> Result<RunReport, ApiError> {
        let _lock = files::RunLock::take(&self.db, &self.setup.folder.dir)
            .await?
            .ok_or_else(|| ApiError::Conflict {
                code: "sync_running",
                message: "the sync folder's task is already running; try again when it is done"
                    .into(),
                details: serde_json::Value::Null,
            })?;
        let mut conn = self.db.pool().acquire().await?;
        let settings = sync::settings(&mut conn).await?;
        drop(conn);
        let mut report = RunReport {
            simulated: simulate,
            started_at: now.timestamp(),
            files: Vec::new(),
            deleted_old_files: 0,
            reports: Vec::new(),
        };
        for name in settings.files() {
            let Some((file, text)) = self.look_at(name, &settings, run_by, simulate, now).await?
            else {
                continue;
            };
            if simulate {
                report.reports.extend(text);
            } else if file.outcome != Outcome::NotSettled {
                let mut tx = self.db.begin_write().await?;
                sync::record_run(&mut tx, run_by.as_str(), &file).await?;
                let details = format!("{}: {}", file.file_name, file.message);
                let action = format!("sync_{}", file.outcome.as_str());
                audit::append(&mut tx, None, &action, file.changeset, &details).await?;
                tx.commit().await?;
                if file.outcome.needs_an_admin() {
                    self.mail(&file, run_by).await;
                }
            }
            report.files.push(file);
        }
        if !simulate && settings.retention_days > 0 {
            let keep = Duration::from_secs(u64::from(settings.retention_days) * 86_400);
            report.deleted_old_files =
                files::delete_older(&self.setup.folder.dir, keep, now.into());
        }
        Ok(report)
    }

    /// One file of the settings: `None` when it is not in the folder. With the text
    /// report of what was checked, if anything was.
    async fn look_at(
        &self,
        name: &str,
        settings: &SyncSettings,
        run_by: RunBy,
        simulate: bool,
        now: DateTime<Local>,
    ) -> Result<Option<(FileRun, Option<String>)>, ApiError> {
        let path = self.setup.folder.dir.join(name);
        let bytes = match files::read_settled(&path, &self.setup.folder, now.into()).await {
            files::Read::Absent => return Ok(None),
            files::Read::NotSettled(age) => {
                let message = format!(
                    "changed {} s ago: still being written, left for the next run",
                    age.as_secs()
                );
                return Ok(Some((
                    FileRun::new(name, "", Outcome::NotSettled, message),
                    None,
                )));
            }
            files::Read::Unreadable(why) => {
                let message = format!("cannot be read: {why}");
                tracing::warn!(file = %path.display(), "{message}");
                return Ok(Some((
                    FileRun::new(name, "", Outcome::Unreadable, message),
                    None,
                )));
            }
            files::Read::Bytes(bytes) => bytes,
        };
        let sha256 = crate::crypto::sha256_hex(&bytes);
        let mut conn = self.db.pool().acquire().await?;
        let scheduler = if simulate {
            None
        } else {
            Some(sync::scheduler(&mut conn).await?)
        };
        let known = changesets::by_source(&mut conn, &sha256).await?;
        drop(conn);
        let (mut file, outputs) = match known {
            Some(known) => (
                self.known(name, &sha256, known, scheduler.as_ref(), simulate)
                    .await?,
                None,
            ),
            None => {
                let taken = self
                    .take_new(scheduler.as_ref(), name, bytes, sha256, settings, simulate)
                    .await?;
                let outputs = Outputs::of(name, &taken, settings);
                (taken.file, Some(outputs))
            }
        };
        let text = outputs.as_ref().map(|o| o.report_text.clone());
        if !simulate {
            if let Some(outputs) = &outputs {
                files::write_outputs(&self.setup.folder.dir, name, now, outputs, &mut file)?;
            }
            file.archive = files::archive(&self.setup.folder.dir, name, now)?;
            tracing::info!(
                file = name,
                outcome = file.outcome.as_str(),
                run_by = run_by.as_str(),
                "{}",
                file.message
            );
        }
        Ok(Some((file, text)))
    }

    /// A file whose SHA-256 already made changeset `id`: never planned again. An applied
    /// one is archived; one waiting for an admin stays theirs; one a killed run left
    /// between its steps (stored but not approved, approved but not applied) goes on.
    async fn known(
        &self,
        name: &str,
        sha256: &str,
        (id, status, waiting): (i64, Status, Option<WaitingReason>),
        scheduler: Option<&Caller>,
        simulate: bool,
    ) -> Result<FileRun, ApiError> {
        let mut file = FileRun::new(name, sha256, Outcome::AlreadyApplied, String::new());
        file.changeset = Some(id);
        match (status, waiting) {
            (Status::Applied | Status::Reverted, _) => {
                file.message = format!(
                    "the same file (same SHA-256) was applied as changeset {id}: archived, not \
                     applied again"
                );
            }
            // Made to wait for an admin: still theirs, even once approved (an admin
            // applies what they approved; a file dropped again does not do it for them).
            (Status::Submitted | Status::Approved, Some(reason)) => {
                file.outcome = Outcome::Waiting;
                file.waiting = Some(reason);
                file.message = match status {
                    Status::Approved => format!(
                        "the same file is changeset {id}, approved by an admin, who applies it"
                    ),
                    _ => format!("the same file already waits for an admin as changeset {id}"),
                };
            }
            // The task's own, left between its steps by an interrupted run: carried on.
            (Status::Submitted | Status::Approved, None) => match scheduler {
                Some(scheduler) if !simulate => {
                    (file.outcome, file.message) =
                        self.approve_and_apply(scheduler, id, status).await?;
                }
                _ => {
                    file.outcome = Outcome::Applied;
                    file.message =
                        format!("changeset {id}, left by an interrupted run, would be applied now");
                }
            },
            // by_source leaves rejected and failed ones out: a new drop is a new try.
            (Status::Rejected | Status::Failed, _) => unreachable_status(&mut file, id),
        }
        Ok(file)
    }

    /// A file never seen: decided under the policy, stored as a changeset by `author`
    /// (the scheduler, or the account that pushed it; `None` when simulating), approved
    /// and applied by the scheduler when the policy says so.
    async fn take_new(
        &self,
        author: Option<&Caller>,
        name: &str,
        bytes: Vec<u8>,
        sha256: String,
        settings: &SyncSettings,
        simulate: bool,
    ) -> Result<Taken, ApiError> {
        let (decision, bytes, options) = decide_file(&self.db, &self.site, bytes, settings).await?;
        let mut file = FileRun::new(name, &sha256, Outcome::NothingPlanned, String::new());
        file.errors = decision.checked.report.counts().errors;
        file.rows_set_aside = decision.set_aside.as_ref().map_or(0, |(_, rows)| *rows);
        let Some(planned) = &decision.planned else {
            file.outcome = Outcome::NothingPlanned;
            file.message = format!(
                "{} error(s) and nothing left to plan: fix the rows of the tryback file and \
                 drop it in the folder again",
                file.errors
            );
            return Ok(Taken {
                file,
                decision,
                bytes,
                options,
            });
        };
        let totals = planned
            .checked
            .changeset
            .as_ref()
            .map(|plan| plan.totals())
            .unwrap_or_default();
        let empty = planned
            .checked
            .changeset
            .as_ref()
            .is_none_or(|plan| plan.is_empty());
        if empty {
            // No changeset for nothing: a nightly export that changed nothing is common.
            (file.outcome, file.message) = if file.rows_set_aside > 0 {
                (
                    Outcome::NothingPlanned,
                    format!(
                        "{} error(s), and the other rows change nothing: fix the rows of the \
                         tryback file and drop it in the folder again",
                        file.errors
                    ),
                )
            } else {
                (
                    Outcome::NothingToDo,
                    "the site already has what the file says: nothing to do".to_owned(),
                )
            };
            return Ok(Taken {
                file,
                decision,
                bytes,
                options,
            });
        }
        if simulate {
            (file.outcome, file.waiting) = match decision.waiting {
                None => (Outcome::Applied, None),
                Some(reason) => (Outcome::Waiting, Some(reason)),
            };
            file.message = format!("would be {}: {}", file.outcome.as_str(), said(&totals));
            return Ok(Taken {
                file,
                decision,
                bytes,
                options,
            });
        }
        let author = author.ok_or_else(|| anyhow::anyhow!("a run that stores needs an author"))?;
        let id = store(&self.db, author, name, &file.file_sha256, &decision).await?;
        file.changeset = Some(id);
        match decision.waiting {
            None => {
                let mut conn = self.db.pool().acquire().await?;
                let scheduler = sync::scheduler(&mut conn).await?;
                drop(conn);
                (file.outcome, file.message) = self
                    .approve_and_apply(&scheduler, id, Status::Submitted)
                    .await?;
            }
            Some(reason) => {
                file.outcome = Outcome::Waiting;
                file.waiting = Some(reason);
                file.message = waiting_message(id, reason, &file, &totals);
            }
        }
        Ok(Taken {
            file,
            decision,
            bytes,
            options,
        })
    }

    /// Runs a file pushed by `caller` (`POST /api/changesets?policy=auto`) under the
    /// folder's policy, with `options` when given (else the folder's): stored as a
    /// changeset by `caller`, applied by the scheduler when the policy says so. The same
    /// file pushed twice is not planned again.
    pub async fn push(
        &self,
        caller: &Caller,
        name: &str,
        bytes: Vec<u8>,
        options: Option<cohortsync_shared::options::Options>,
    ) -> Result<(FileRun, Option<Decision>), ApiError> {
        let sha256 = crate::crypto::sha256_hex(&bytes);
        let mut conn = self.db.pool().acquire().await?;
        let mut settings = sync::settings(&mut conn).await?;
        let scheduler = sync::scheduler(&mut conn).await?;
        let known = changesets::by_source(&mut conn, &sha256).await?;
        drop(conn);
        if let Some(known) = known {
            let file = self
                .known(name, &sha256, known, Some(&scheduler), false)
                .await?;
            return Ok((file, None));
        }
        if options.is_some() {
            settings.options = options;
        }
        let taken = self
            .take_new(Some(caller), name, bytes, sha256, &settings, false)
            .await?;
        Ok((taken.file, Some(taken.decision)))
    }

    /// Approves (when submitted) and applies changeset `id` as the scheduler.
    async fn approve_and_apply(
        &self,
        scheduler: &Caller,
        id: i64,
        status: Status,
    ) -> Result<(Outcome, String), ApiError> {
        let admin = Admin::try_from(scheduler.clone())?;
        if status == Status::Submitted
            && let Err(error) = crate::changesets::approve(
                &self.db,
                &self.site,
                &admin,
                id,
                "sync folder: no errors, within the limits, applied under the policy",
            )
            .await
        {
            return failed(id, "approved", error);
        }
        match crate::changesets::apply(&self.db, &self.site, &admin, id).await {
            Ok(report) => Ok((
                Outcome::Applied,
                format!(
                    "applied as changeset {id} (revision {}): {}",
                    report.revision,
                    said(&report.totals)
                ),
            )),
            Err(error) => failed(id, "applied", error),
        }
    }

    async fn mail(&self, file: &FileRun, run_by: RunBy) {
        let Some(mailer) = &self.setup.mailer else {
            return;
        };
        let to = match sync::admin_addresses(self.db.pool()).await {
            Ok(to) => to,
            Err(error) => {
                tracing::warn!(%error, "cannot read the admins' addresses; no mail sent");
                return;
            }
        };
        mailer
            .send_file_run(&to, file, run_by, self.setup.public_url.as_deref())
            .await;
    }
}

/// A changeset the task could not take further: it stays as it is, the outcome says why.
fn failed(id: i64, step: &str, error: ApiError) -> Result<(Outcome, String), ApiError> {
    match error {
        ApiError::DatabaseUnavailable(_) | ApiError::Internal(_) => Err(error),
        error => Ok((
            Outcome::Failed,
            format!("changeset {id} could not be {step}: {error}"),
        )),
    }
}

fn unreachable_status(file: &mut FileRun, id: i64) {
    file.outcome = Outcome::Failed;
    file.message = format!("changeset {id} was refused; drop the file again to retry");
}

/// What a plan does, in a few words: its non-zero totals.
fn said(totals: &Totals) -> String {
    let t = totals;
    let parts: Vec<String> = [
        (t.cohorts_created, "cohort(s) created"),
        (t.cohorts_updated, "cohort(s) updated"),
        (t.cohorts_deleted, "cohort(s) deleted"),
        (t.members_added, "member(s) added"),
        (t.members_removed, "member(s) removed"),
        (t.groups_created, "group(s) created"),
        (t.bindings_created, "binding(s) created"),
        (t.bindings_updated, "binding(s) updated"),
        (t.bindings_deleted, "binding(s) deleted"),
        (t.enrolments, "enrolment(s)"),
        (t.unenrolments, "unenrolment(s)"),
        (t.suspensions, "enrolment(s) suspended"),
        (t.roles_assigned, "role(s) given back"),
        (t.roles_removed, "role(s) taken"),
        (t.courses_left, "last enrolment(s) gone"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    if parts.is_empty() {
        "no change".to_owned()
    } else {
        parts.join(", ")
    }
}

fn waiting_message(id: i64, reason: WaitingReason, file: &FileRun, totals: &Totals) -> String {
    let why = match reason {
        WaitingReason::Errors => format!(
            "{} row(s) with errors were set aside (tryback file); approving applies the other \
             rows, rejecting applies nothing",
            file.rows_set_aside
        ),
        WaitingReason::Limit => {
            "it goes beyond a safety limit; approving it overrides the limit".to_owned()
        }
        WaitingReason::Policy => "the policy applies nothing without an admin".to_owned(),
    };
    format!(
        "waits for an admin as changeset {id}: {why} ({})",
        said(totals)
    )
}

/// Checks and decides `bytes` against the site now under `settings`, the effects of what
/// it plans read from the enrolment state; hands the bytes back, with the options it ran.
pub(crate) async fn decide_file(
    db: &Database,
    site: &Site,
    bytes: Vec<u8>,
    settings: &SyncSettings,
) -> Result<(Decision, Vec<u8>, Options), ApiError> {
    let mut conn = db.pool().acquire().await?;
    let snapshot = site.snapshot(&mut conn).await?;
    let options = settings.options.as_ref().unwrap_or(&snapshot.defaults);
    let options = site.run_options(options, &snapshot);
    let unenrol = options.unenrol_action;
    let settings = settings.clone();
    let (mut decision, mut snapshot, bytes, options): (Decision, Snapshot, Vec<u8>, Options) =
        crate::checks::off_executor(move || {
            let decision = folder::decide(&bytes, &snapshot, &options, &settings);
            (decision, snapshot, bytes, options)
        })
        .await?;
    if let Some(plan) = decision
        .planned
        .as_mut()
        .and_then(|p| p.checked.changeset.as_mut())
    {
        effects_from_state(
            StateFrom::Site(site),
            &mut conn,
            &mut snapshot,
            plan,
            unenrol,
        )
        .await?;
    }
    Ok((decision, bytes, options))
}

/// Stores what `decision` planned as a submitted changeset by `author`, with the source
/// file's SHA-256 and why it waits; returns its id.
pub(crate) async fn store(
    db: &Database,
    author: &Caller,
    name: &str,
    sha256: &str,
    decision: &Decision,
) -> Result<i64, ApiError> {
    let planned = decision
        .planned
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("nothing planned to store"))?;
    let (Some(plan), Some(kind)) = (&planned.checked.changeset, planned.checked.report.kind) else {
        return Err(anyhow::anyhow!("a planned file without a plan").into());
    };
    let mut tx = db.begin_write().await?;
    let id = changesets::insert(
        &mut tx,
        &NewChangeset {
            author: author.id,
            file_name: name,
            file: &planned.file,
            kind,
            options: &planned.options,
            report: &planned.checked.report,
            plan,
            reverts: None,
            source_sha256: Some(sha256),
            waiting_reason: decision.waiting,
        },
    )
    .await?;
    let details = json!({
        "file": name,
        "sha256": sha256,
        "valid_rows_only": planned.valid_rows_only,
        "waiting": decision.waiting.map(WaitingReason::as_str),
    });
    audit::append(
        &mut tx,
        Some(author.id),
        "submit",
        Some(id),
        &details.to_string(),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A new file, taken: its entry, what was decided, and its bytes.
struct Taken {
    file: FileRun,
    decision: Decision,
    bytes: Vec<u8>,
    /// The options it was checked with.
    options: Options,
}

/// The files a checked input leaves in the folder: its text report, its annotated copy
/// and, when rows had errors, its tryback file.
pub(crate) struct Outputs {
    report_text: String,
    annotated: Vec<u8>,
    tryback: Option<Vec<u8>>,
}

impl Outputs {
    fn of(name: &str, taken: &Taken, settings: &SyncSettings) -> Outputs {
        let (decision, bytes, options) = (&taken.decision, &taken.bytes, &taken.options);
        let checked = &decision.checked;
        let totals = checked.changeset.as_ref().map(|plan| plan.totals());
        Outputs {
            report_text: render(name, &checked.report, totals, settings.lang),
            annotated: cohortsync_shared::export::annotate(
                bytes,
                checked.report.kind,
                &checked.report.diagnostics,
                settings.lang,
                options,
            ),
            tryback: decision.set_aside.as_ref().map(|(file, _)| file.clone()),
        }
    }
}
