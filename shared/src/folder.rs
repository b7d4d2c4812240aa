//! The sync folder: what an admin sets for the files a student information system drops
//! there, and what the scheduled task decides for each file — the part of it that is pure.
//!
//! A dropped file goes through the rules like a teacher's upload ([`check`]). What the
//! task adds is a policy: apply at once when the file is clean and within the safety
//! limits (`auto_apply`), or wait for an admin ([`WaitingReason`]); and for a file with
//! errors, either hold it whole or plan the rows without errors (`on_errors`), the others
//! going to a tryback file to be fixed and dropped again, as tool_sync does. The server
//! (`backend/src/scheduler/`) does the reading, storing, applying and moving around this.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::check::{Checked, check};
use crate::export::split_rows;
use crate::options::Options;
use crate::report::{Code, Lang, Severity};
use crate::snapshot::Snapshot;

/// What a file with errors gets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnErrors {
    /// Nothing of the file is applied: the rows without errors wait for an admin, who
    /// approves them or rejects the file.
    #[default]
    Hold,
    /// tool_sync's way: the rows without errors are planned and applied as one changeset
    /// (under `auto_apply` and the limits); the others go to the tryback file.
    ApplyValidRows,
}

impl OnErrors {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            OnErrors::Hold => "hold",
            OnErrors::ApplyValidRows => "apply_valid_rows",
        }
    }
}

/// The sync folder's settings (`sync` in `GET/PUT /api/settings`).
///
/// ```
/// use cohortsync_shared::folder::{OnErrors, SyncSettings};
///
/// let settings: SyncSettings = serde_json::from_str(r#"{"enabled": true}"#).unwrap();
/// assert_eq!(settings.schedule, "15 */12 * * *");
/// assert_eq!(settings.cohorts_file, "cohorts.csv");
/// assert_eq!(settings.on_errors, OnErrors::Hold);
/// assert!(!settings.auto_apply);
/// assert_eq!(settings.problem(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyncSettings {
    /// Whether the task runs on its schedule (off by default; *Run now* works anyway).
    pub enabled: bool,
    /// When it runs: a cron expression in the server's time zone (tool_sync's default,
    /// `15 */12 * * *`: at 00:15 and 12:15).
    pub schedule: String,
    /// The cohort file's name in the folder (taken first).
    pub cohorts_file: String,
    /// The course binding file's name in the folder (taken second).
    pub bindings_file: String,
    /// Apply a file at once when it has no errors and stays within the safety limits; off:
    /// every file waits for an admin's approval.
    pub auto_apply: bool,
    /// What a file with errors gets.
    pub on_errors: OnErrors,
    /// The options the files are checked with; `None`: the site's defaults.
    pub options: Option<Options>,
    /// Archives, reports and tryback files older than this many days are deleted by the
    /// task; 0 keeps them for ever.
    pub retention_days: u32,
    /// The language of the reports the task writes.
    pub lang: Lang,
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            enabled: false,
            schedule: "15 */12 * * *".into(),
            cohorts_file: "cohorts.csv".into(),
            bindings_file: "cohortscourses.csv".into(),
            auto_apply: false,
            on_errors: OnErrors::default(),
            options: None,
            retention_days: 90,
            lang: Lang::default(),
        }
    }
}

impl SyncSettings {
    /// Why these settings cannot be saved, if they cannot (the schedule's syntax is the
    /// server's to check): a file name that is not a plain name of the folder, the same
    /// name twice, or options that cannot be defaults.
    ///
    /// ```
    /// use cohortsync_shared::folder::SyncSettings;
    ///
    /// let up = SyncSettings { cohorts_file: "../etc/passwd".into(), ..SyncSettings::default() };
    /// assert!(up.problem().unwrap().contains("cohorts_file"));
    /// ```
    pub fn problem(&self) -> Option<String> {
        for (field, name) in [
            ("cohorts_file", &self.cohorts_file),
            ("bindings_file", &self.bindings_file),
        ] {
            let plain = !name.is_empty()
                && name != "."
                && name != ".."
                && !name.contains(['/', '\\', '\0'])
                && !name.starts_with(['.', '_']);
            if !plain {
                return Some(format!(
                    "{field} must be a file name in the sync folder (no folder, not starting \
                     with . or _), not “{name}”"
                ));
            }
        }
        if self.cohorts_file == self.bindings_file {
            return Some("cohorts_file and bindings_file must be two different files".into());
        }
        self.options
            .as_ref()
            .and_then(Options::problem_as_site_defaults)
    }

    /// The files the task takes, in order: cohorts first, then bindings (tool_sync's
    /// order: a binding may need a cohort the other file creates).
    pub fn files(&self) -> [&str; 2] {
        [&self.cohorts_file, &self.bindings_file]
    }
}

/// Why a dropped or pushed file waits for an admin instead of being applied at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitingReason {
    /// Some rows had errors and the policy holds such files: the changeset is the other
    /// rows.
    Errors,
    /// It goes beyond a safety limit: approving it is the admin's explicit override.
    Limit,
    /// The policy applies nothing by itself (`auto_apply` off).
    Policy,
}

impl WaitingReason {
    /// The name on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            WaitingReason::Errors => "errors",
            WaitingReason::Limit => "limit",
            WaitingReason::Policy => "policy",
        }
    }

    /// The reason named `name`.
    pub fn parse(name: &str) -> Option<WaitingReason> {
        [
            WaitingReason::Errors,
            WaitingReason::Limit,
            WaitingReason::Policy,
        ]
        .into_iter()
        .find(|r| r.as_str() == name)
    }
}

/// What is planned from a file: the whole file or its rows without errors.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// The file the changeset keeps: the one dropped, or its header and valid rows.
    pub file: Vec<u8>,
    /// Whether `file` is only the rows without errors.
    pub valid_rows_only: bool,
    /// The options it is planned with: the run's, with `override_limits` when it waits
    /// for an admin because of a limit (approving it is the override).
    pub options: Options,
    /// Its check, with a plan.
    pub checked: Checked,
}

/// What the task decides for one file.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The check of the file as it came: the report written beside the archive.
    pub checked: Checked,
    /// The header and the rows with errors (the tryback file), when some had errors.
    pub set_aside: Option<(Vec<u8>, usize)>,
    /// What becomes a changeset; `None`: nothing can be planned (every row has an error,
    /// the file cannot be read, or errors remain once the bad rows are left out).
    pub planned: Option<Planned>,
    /// Why the changeset waits for an admin; `None`: it is applied at once.
    pub waiting: Option<WaitingReason>,
}

/// Decides what becomes of a file dropped in the sync folder (or pushed under the same
/// policy): checks it with `options` and plans what the policy allows.
///
/// ```
/// use cohortsync_shared::folder::{OnErrors, SyncSettings, WaitingReason, decide};
/// use cohortsync_shared::options::Options;
/// use cohortsync_shared::snapshot::{Snapshot, User};
///
/// let snapshot = Snapshot {
///     users: vec![User { id: 1, idnumber: "U1".into(), ..User::default() }],
///     ..Snapshot::default()
/// };
/// let file = b"cmd;cidnumber;cname;userid\nadd;L2;L2;U1\nadd;L2;L2;U404\n";
/// let settings = SyncSettings { auto_apply: true, on_errors: OnErrors::ApplyValidRows, ..SyncSettings::default() };
/// let decision = decide(file, &snapshot, &Options::default(), &settings);
/// assert_eq!(decision.set_aside.unwrap(), (b"cmd;cidnumber;cname;userid\r\nadd;L2;L2;U404\r\n".to_vec(), 1));
/// let planned = decision.planned.unwrap();
/// assert!(planned.valid_rows_only);
/// assert_eq!(planned.checked.changeset.unwrap().totals().members_added, 1);
/// assert_eq!(decision.waiting, None);
///
/// let held = decide(file, &snapshot, &Options::default(), &SyncSettings { auto_apply: true, ..SyncSettings::default() });
/// assert_eq!(held.waiting, Some(WaitingReason::Errors));
/// ```
pub fn decide(
    bytes: &[u8],
    snapshot: &Snapshot,
    options: &Options,
    settings: &SyncSettings,
) -> Decision {
    let checked = check(bytes, snapshot, options);
    if !checked.report.has_errors() {
        return Decision {
            planned: Some(Planned {
                file: bytes.to_vec(),
                valid_rows_only: false,
                options: options.clone(),
                checked: checked.clone(),
            }),
            waiting: (!settings.auto_apply).then_some(WaitingReason::Policy),
            checked,
            set_aside: None,
        };
    }
    let report = &checked.report;
    let bad_lines: BTreeSet<u32> = report
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error && d.code != Code::LimitExceeded)
        .map(|d| d.line)
        .collect();
    if bad_lines.is_empty() && report.omitted.counts.errors == 0 {
        // Only the limits: the whole file waits for an admin's override.
        return Decision {
            planned: plan_beyond_limits(bytes, false, snapshot, options),
            waiting: Some(WaitingReason::Limit),
            checked,
            set_aside: None,
        };
    }
    // With errors left out of the report (more than it keeps), which rows are bad is not
    // known: every row is set aside and nothing is planned.
    let all_bad = report.omitted.counts.errors > 0 || report.kind.is_none();
    let bad_lines = if all_bad {
        BTreeSet::from([0])
    } else {
        bad_lines
    };
    let Some(split) = split_rows(bytes, &bad_lines, options) else {
        let rows = report.rows;
        return Decision {
            checked,
            set_aside: Some((bytes.to_vec(), rows)),
            planned: None,
            waiting: None,
        };
    };
    let set_aside = Some((split.set_aside, split.set_aside_rows));
    if split.kept_rows == 0 {
        return Decision {
            checked,
            set_aside,
            planned: None,
            waiting: None,
        };
    }
    let kept = check(&split.kept, snapshot, options);
    let (planned, waiting) = if !kept.report.has_errors() {
        let waiting = match (settings.on_errors, settings.auto_apply) {
            (OnErrors::Hold, _) => Some(WaitingReason::Errors),
            (OnErrors::ApplyValidRows, true) => None,
            (OnErrors::ApplyValidRows, false) => Some(WaitingReason::Policy),
        };
        let planned = Planned {
            file: split.kept,
            valid_rows_only: true,
            options: options.clone(),
            checked: kept,
        };
        (Some(planned), waiting)
    } else if only_limits(&kept) {
        (
            plan_beyond_limits(&split.kept, true, snapshot, options),
            Some(WaitingReason::Limit),
        )
    } else {
        // Leaving rows out made new errors (a cohort deleted by a kept row and filled by
        // a left-out one…): nothing is planned, the admin fixes the file.
        (None, None)
    };
    Decision {
        checked,
        set_aside,
        planned,
        waiting,
    }
}

fn only_limits(checked: &Checked) -> bool {
    checked.report.omitted.counts.errors == 0
        && checked
            .report
            .diagnostics
            .iter()
            .all(|d| d.severity != Severity::Error || d.code == Code::LimitExceeded)
}

fn plan_beyond_limits(
    bytes: &[u8],
    valid_rows_only: bool,
    snapshot: &Snapshot,
    options: &Options,
) -> Option<Planned> {
    let options = Options {
        override_limits: true,
        ..options.clone()
    };
    let checked = check(bytes, snapshot, &options);
    checked.changeset.is_some().then(|| Planned {
        file: bytes.to_vec(),
        valid_rows_only,
        options,
        checked,
    })
}

/// What the task did with one file (or, in a simulated run, would have done).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Its changeset was applied.
    Applied,
    /// Its changeset waits for an admin ([`FileRun::waiting`] says why).
    Waiting,
    /// The same file (same SHA-256) was applied before: archived, not applied again.
    AlreadyApplied,
    /// The site already has what the file says (a nightly export that changed nothing):
    /// archived, no changeset.
    NothingToDo,
    /// Nothing could be planned from it (every row has an error, or the file cannot be
    /// read as a table): see its report and tryback file.
    NothingPlanned,
    /// Its changeset was stored but applying it failed; nothing was written.
    Failed,
    /// The file could not be read (permissions, a folder, a broken link, too large).
    Unreadable,
    /// Changed too recently: still being written, left for the next run.
    NotSettled,
}

impl Outcome {
    /// The name on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Waiting => "waiting",
            Outcome::AlreadyApplied => "already_applied",
            Outcome::NothingToDo => "nothing_to_do",
            Outcome::NothingPlanned => "nothing_planned",
            Outcome::Failed => "failed",
            Outcome::Unreadable => "unreadable",
            Outcome::NotSettled => "not_settled",
        }
    }

    /// The outcome named `name`.
    pub fn parse(name: &str) -> Option<Outcome> {
        [
            Outcome::Applied,
            Outcome::Waiting,
            Outcome::AlreadyApplied,
            Outcome::NothingToDo,
            Outcome::NothingPlanned,
            Outcome::Failed,
            Outcome::Unreadable,
            Outcome::NotSettled,
        ]
        .into_iter()
        .find(|o| o.as_str() == name)
    }

    /// Whether an admin should hear of it (a mail): it waits for them or went wrong.
    pub fn needs_an_admin(self) -> bool {
        matches!(
            self,
            Outcome::Waiting | Outcome::NothingPlanned | Outcome::Failed | Outcome::Unreadable
        )
    }
}

/// One file of one run of the task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRun {
    /// The file's name in the folder.
    pub file_name: String,
    /// SHA-256 of the file as it came (empty when it could not be read).
    pub file_sha256: String,
    /// What became of it.
    pub outcome: Outcome,
    /// Why its changeset waits, when it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<WaitingReason>,
    /// What happened, for people.
    pub message: String,
    /// Its changeset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changeset: Option<i64>,
    /// Errors found in the file as it came.
    #[serde(default)]
    pub errors: usize,
    /// Rows set aside in the tryback file.
    #[serde(default)]
    pub rows_set_aside: usize,
    /// Where it was archived, relative to the sync folder.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub archive: String,
    /// Its text report, relative to the sync folder.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub report: String,
    /// Its tryback file (the rows with errors), relative to the sync folder.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tryback: String,
}

impl FileRun {
    /// An entry for file `name` (`sha256` as it came) with nothing filed yet.
    pub fn new(name: &str, sha256: &str, outcome: Outcome, message: String) -> FileRun {
        FileRun {
            file_name: name.to_owned(),
            file_sha256: sha256.to_owned(),
            outcome,
            waiting: None,
            message,
            changeset: None,
            errors: 0,
            rows_set_aside: 0,
            archive: String::new(),
            report: String::new(),
            tryback: String::new(),
        }
    }
}

/// What one run of the task did (`POST /api/sync/run`, `cohortsync sync run`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// A simulation: nothing was stored, moved or written; the outcomes say what would
    /// have happened.
    pub simulated: bool,
    /// When it started (Unix seconds).
    pub started_at: i64,
    /// The files it looked at, in the order taken (absent files are not listed).
    pub files: Vec<FileRun>,
    /// Old archives, reports and tryback files deleted (retention).
    pub deleted_old_files: usize,
    /// The text report of each file, in the settings' language, when simulated (a real
    /// run writes them to `reports/`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reports: Vec<String>,
}

/// One entry of the task's history (`GET /api/sync`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncRunEntry {
    /// Order of writing.
    pub id: i64,
    /// When (Unix seconds).
    pub at: i64,
    /// `schedule` or `manual`.
    pub run_by: String,
    /// What became of the file.
    #[serde(flatten)]
    pub file: FileRun,
}

/// `GET /api/sync` (admins): the settings, when the task runs next, and what it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncStatus {
    /// The settings.
    pub settings: SyncSettings,
    /// The folder the server reads.
    pub folder: String,
    /// The next scheduled run (Unix seconds), when the schedule is on.
    pub next_run: Option<i64>,
    /// The last 50 files the task looked at, newest first.
    pub runs: Vec<SyncRunEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{Cohort, User};

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn site() -> Snapshot {
        Snapshot {
            users: (1..=10)
                .map(|id| User {
                    id,
                    idnumber: format!("U{id}"),
                    ..User::default()
                })
                .collect(),
            cohorts: vec![Cohort {
                id: 1,
                idnumber: "L2".into(),
                name: "L2".into(),
                component: "cohortsync".into(),
                members: (1..=10).collect(),
                ..Cohort::default()
            }],
            ..Snapshot::default()
        }
    }

    fn full() -> Options {
        Options {
            mode: crate::options::Mode::Full,
            ..Options::default()
        }
    }

    #[test]
    fn a_clean_file_is_applied_at_once_only_under_auto_apply() {
        let file = b"cidnumber;userid\nL2;U1\nL2;U2\nL2;U3\nL2;U4\nL2;U5\nL2;U6\nL2;U7\nL2;U8\n";
        let auto = SyncSettings {
            auto_apply: true,
            ..SyncSettings::default()
        };
        let decision = decide(file, &site(), &full(), &auto);
        assert_eq!(decision.waiting, None);
        assert_eq!(decision.set_aside, None);
        let plan = decision.planned.unwrap().checked.changeset.unwrap();
        assert_eq!(plan.totals().members_removed, 2);
        let manual = decide(file, &site(), &full(), &SyncSettings::default());
        assert_eq!(manual.waiting, Some(WaitingReason::Policy));
    }

    #[test]
    fn a_file_beyond_a_limit_waits_planned_with_the_override() {
        // Full mode keeping 2 of 10 members removes 80%: beyond the default 25%.
        let file = b"cidnumber;userid\nL2;U1\nL2;U2\n";
        let auto = SyncSettings {
            auto_apply: true,
            ..SyncSettings::default()
        };
        let decision = decide(file, &site(), &full(), &auto);
        assert!(decision.checked.report.has_errors());
        assert_eq!(decision.waiting, Some(WaitingReason::Limit));
        let planned = decision.planned.unwrap();
        assert!(planned.options.override_limits && !planned.valid_rows_only);
        assert_eq!(
            planned.checked.changeset.unwrap().totals().members_removed,
            8
        );
    }

    #[test]
    fn a_missing_column_sets_every_row_aside_and_plans_nothing() {
        let file = b"cmd;userid\nadd;U1\nadd;U2\n";
        let decision = decide(file, &site(), &Options::default(), &SyncSettings::default());
        assert_eq!(decision.planned, None);
        let (aside, rows) = decision.set_aside.unwrap();
        assert_eq!(rows, 2);
        assert_eq!(aside, b"cmd;userid\r\nadd;U1\r\nadd;U2\r\n");
    }

    #[test]
    fn leaving_bad_rows_out_in_full_mode_still_meets_the_limits() {
        // U404 is unknown; without its row the file keeps 8 of 10: within 25%.
        let file =
            b"cidnumber;userid\nL2;U1\nL2;U2\nL2;U3\nL2;U404\nL2;U4\nL2;U5\nL2;U6\nL2;U7\nL2;U8\n";
        let settings = SyncSettings {
            auto_apply: true,
            on_errors: OnErrors::ApplyValidRows,
            ..SyncSettings::default()
        };
        let decision = decide(file, &site(), &full(), &settings);
        assert_eq!(decision.set_aside.as_ref().unwrap().1, 1);
        assert_eq!(decision.waiting, None);
        let planned = decision.planned.unwrap();
        assert!(planned.valid_rows_only);
        assert_eq!(
            planned.checked.changeset.unwrap().totals().members_removed,
            2
        );
    }

    #[test]
    fn names_outside_the_folder_are_refused() {
        for name in ["", ".", "..", "a/b", "..\\x", ".hidden", "_tmp"] {
            let settings = SyncSettings {
                bindings_file: name.into(),
                ..SyncSettings::default()
            };
            assert!(settings.problem().is_some(), "{name:?}");
        }
        let same = SyncSettings {
            bindings_file: "cohorts.csv".into(),
            ..SyncSettings::default()
        };
        assert!(same.problem().unwrap().contains("two different"));
    }
}
