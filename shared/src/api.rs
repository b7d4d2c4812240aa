//! Types on the wire between the frontend and the backend.
//!
//! Each type is serialised as JSON with `serde`; the field names are the API.

use serde::{Deserialize, Serialize};

use crate::changeset::{Changeset, Effect, Step, Totals};
use crate::check::Checked;
use crate::decode::{Delimiter, Encoding};
use crate::dry_run::DryRun;
use crate::formats::FileKind;
use crate::options::Options;
use crate::report::{Code, Counts, Diagnostic, DiagnosticView, Lang, Report, Severity};
use std::collections::BTreeMap;

/// The kind of database a server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DatabaseKind {
    /// An embedded SQLite file (the default).
    Sqlite,
    /// A PostgreSQL server, for sites that run several server instances.
    Postgres,
}

impl DatabaseKind {
    /// The name used in the API and in logs: `sqlite` or `postgres`.
    pub fn as_str(self) -> &'static str {
        match self {
            DatabaseKind::Sqlite => "sqlite",
            DatabaseKind::Postgres => "postgres",
        }
    }
}

/// Body of `GET /api/health`.
///
/// ```
/// use cohortsync_shared::api::{DatabaseKind, HealthResponse};
///
/// let health = HealthResponse::ok(DatabaseKind::Sqlite);
/// let json = serde_json::to_string(&health).unwrap();
/// assert!(json.contains(r#""database":"sqlite""#));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthResponse {
    /// Always `ok` when the server answers: it is up and its database answered.
    pub status: String,
    /// The server's version.
    pub version: String,
    /// Which database the server runs on.
    pub database: DatabaseKind,
    /// Where the site lives: `embedded` (cohortsync's own tables) or `moodle`.
    #[serde(default = "embedded")]
    pub site: String,
    /// The Moodle release, on a Moodle site that records one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moodle_release: Option<String>,
}

fn embedded() -> String {
    "embedded".to_owned()
}

impl HealthResponse {
    /// A healthy answer from a server of this version on `database`, its site embedded.
    pub fn ok(database: DatabaseKind) -> Self {
        HealthResponse {
            status: "ok".to_owned(),
            version: crate::VERSION.to_owned(),
            database,
            site: embedded(),
            moodle_release: None,
        }
    }
}

/// Where a changeset is in its life: `submitted`, then `approved` or `rejected`; an
/// approved one is `applied` (or `failed`, nothing written); an applied one may be
/// `reverted` by a later changeset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangesetStatus {
    /// Waiting for an admin.
    Submitted,
    /// An admin approved it; it can be applied.
    Approved,
    /// An admin refused it.
    Rejected,
    /// Written to the site.
    Applied,
    /// Applying it failed; nothing was written.
    Failed,
    /// Undone by a later changeset.
    Reverted,
}

impl ChangesetStatus {
    /// Every status, in the order of a changeset's life.
    pub const ALL: [ChangesetStatus; 6] = [
        ChangesetStatus::Submitted,
        ChangesetStatus::Approved,
        ChangesetStatus::Rejected,
        ChangesetStatus::Applied,
        ChangesetStatus::Failed,
        ChangesetStatus::Reverted,
    ];

    /// The name on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangesetStatus::Submitted => "submitted",
            ChangesetStatus::Approved => "approved",
            ChangesetStatus::Rejected => "rejected",
            ChangesetStatus::Applied => "applied",
            ChangesetStatus::Failed => "failed",
            ChangesetStatus::Reverted => "reverted",
        }
    }

    /// Parses a name.
    pub fn parse(text: &str) -> Option<ChangesetStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// One changeset in `GET /api/changesets`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChangesetSummary {
    /// Id.
    pub id: i64,
    /// Author's login name.
    pub author: String,
    /// Creation time (Unix seconds).
    pub created_at: i64,
    /// File name.
    pub file_name: String,
    /// `cohorts` or `bindings`.
    pub kind: FileKind,
    /// Status.
    pub status: ChangesetStatus,
    /// Revision the plan was made against.
    pub base_revision: u64,
    /// Planned changes by type.
    pub totals: Totals,
    /// The changeset this one undoes, if any.
    pub reverts: Option<i64>,
    /// Made from a file of the sync folder (or pushed under its policy) that waits for an
    /// admin: why (errors, a limit, the policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_reason: Option<crate::folder::WaitingReason>,
}

/// Everything stored about one changeset.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChangesetRecord {
    /// The list fields.
    #[serde(flatten)]
    pub summary: ChangesetSummary,
    /// Author account id.
    pub author_id: i64,
    /// SHA-256 of the file.
    pub file_sha256: String,
    /// Options the file was checked with.
    pub options: Options,
    /// Report of the check at submission.
    pub report: Report,
    /// Reviewer's login name.
    pub reviewer: Option<String>,
    /// Reviewer's comment.
    pub review_comment: Option<String>,
    /// Review time.
    pub reviewed_at: Option<i64>,
    /// Apply time.
    pub applied_at: Option<i64>,
    /// Revision after the apply.
    pub applied_revision: Option<u64>,
    /// What the apply wrote, or why it failed.
    pub apply_report: Option<ApplyOutcome>,
}

/// How the plan of a stored file would differ if it were planned now.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Drift {
    /// Whether planning now gives a different plan (or errors).
    pub changed: bool,
    /// The revision the file was planned against.
    pub base_revision: u64,
    /// The current revision.
    pub current_revision: u64,
    /// Operations planned now and not in the stored plan.
    pub operations_added: Vec<Step>,
    /// Operations of the stored plan that would no longer be planned.
    pub operations_removed: Vec<Step>,
    /// Effects planned now and not in the stored plan.
    pub effects_added: Vec<Effect>,
    /// Effects of the stored plan that would no longer happen.
    pub effects_removed: Vec<Effect>,
    /// The report of checking the file now, when it now has errors.
    pub errors: Option<CheckOutput>,
}

impl Drift {
    /// How `now` (the stored file checked against the site as it is, at
    /// `current_revision`) differs from the stored plan `planned`.
    pub fn between(planned: &Changeset, now: &Checked, current_revision: u64) -> Drift {
        let mut drift = Drift {
            base_revision: planned.base_revision,
            current_revision,
            ..Drift::default()
        };
        match &now.changeset {
            None => {
                drift.changed = true;
                drift.errors = Some(now.to_refusal(Lang::En, REFUSAL_ERRORS));
            }
            Some(now) => {
                (drift.operations_added, drift.operations_removed) =
                    difference(&now.operations, &planned.operations);
                (drift.effects_added, drift.effects_removed) =
                    difference(&now.effects, &planned.effects);
                drift.changed = !(drift.operations_added.is_empty()
                    && drift.operations_removed.is_empty()
                    && drift.effects_added.is_empty()
                    && drift.effects_removed.is_empty());
            }
        }
        drift
    }
}

/// What `now` has more than `before`, and what it lacks (as multisets, in their order):
/// how a drift compares a plan made now with the stored one.
pub fn difference<T: std::hash::Hash + Eq + Clone>(now: &[T], before: &[T]) -> (Vec<T>, Vec<T>) {
    let mut counts: crate::HashMap<&T, i64> =
        crate::HashMap::with_capacity_and_hasher(before.len(), Default::default());
    for item in before {
        *counts.entry(item).or_default() += 1;
    }
    let mut added = Vec::new();
    for item in now {
        match counts.get_mut(item) {
            Some(count) if *count > 0 => *count -= 1,
            _ => added.push(item.clone()),
        }
    }
    let removed = before
        .iter()
        .filter(|item| match counts.get_mut(*item) {
            Some(count) if *count > 0 => {
                *count -= 1;
                true
            }
            _ => false,
        })
        .cloned()
        .collect();
    (added, removed)
}

/// `GET /api/changesets/{id}`, and the answer of submit, approve and reject.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChangesetDetail {
    /// Everything stored but the plan.
    #[serde(flatten)]
    pub record: ChangesetRecord,
    /// The plan (approved as is), with `?plan=true` only: a nightly export's plan is
    /// tens of megabytes, which a page has no use for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<Changeset>,
    /// For a changeset not yet applied: how planning it now would differ.
    pub drift: Option<Drift>,
    /// For a changeset not yet applied: its plan told per cohort and course against the
    /// current state.
    pub dry_run: Option<DryRun>,
}

/// Body of `POST /api/changesets/{id}/approve` and `…/reject`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// The reviewer's comment, shown to the author.
    #[serde(default)]
    pub comment: String,
}

/// What an apply wrote: the new revision and the ids given to created objects.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Applied {
    /// The revision after the apply.
    pub revision: u64,
    /// Ids of the cohorts created, in creation order.
    pub cohorts_created: Vec<i64>,
    /// Ids of the groups created, in creation order.
    pub groups_created: Vec<i64>,
    /// Ids of the bindings created, in creation order.
    pub bindings_created: Vec<i64>,
}

/// The answer of a successful apply or revert.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ApplyReport {
    /// The changeset.
    pub id: i64,
    /// The revision after the apply.
    pub revision: u64,
    /// Ids given to created objects.
    pub created: Applied,
    /// Counts of what was written.
    pub totals: Totals,
    /// What the command run after a Moodle apply's commit gave (`--moodle-after-apply`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_apply: Option<Box<AfterApply>>,
}

/// The outcome of the command a Moodle site runs after each apply (`--moodle-after-apply`,
/// e.g. Moodle's `purge_caches.php`): the apply is committed whatever it gives.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AfterApply {
    /// The command, as configured.
    pub command: String,
    /// Whether it exited with status 0.
    pub success: bool,
    /// Its exit status (none: killed by a signal, or could not start).
    pub status: Option<i32>,
    /// The end of what it printed (stdout then stderr), or why it could not run.
    pub output: String,
}

/// How an apply ended, as a changeset keeps it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum ApplyOutcome {
    /// Written.
    Applied(ApplyReport),
    /// Rolled back: nothing was written.
    Failed {
        /// Why.
        error: String,
    },
}

/// `GET /api/settings` and the body of `PUT /api/settings` (admins).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteSettings {
    /// The default options: where every check starts; a teacher may not choose another
    /// unenrol action, nor looser safety limits ([`Options::exceeds_site`]).
    pub options: Options,
    /// Options the site itself sets, shown but not changed here: `unenrol_action` on a
    /// Moodle site (Moodle's `enrol_cohort` setting). Ignored in a `PUT`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixed_by_site: Vec<String>,
    /// The sync folder's settings (the scheduled task): always in a `GET`; left out of a
    /// `PUT`, they stay as they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<crate::folder::SyncSettings>,
}

/// One entry of `GET /api/audit` (admins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Order of writing.
    pub id: i64,
    /// When (Unix seconds).
    pub at: i64,
    /// Who (login name); none for the command line.
    pub account: Option<String>,
    /// What: `submit`, `approve`, `reject`, `apply`, `apply_failed`, `revert`, `settings`…
    pub action: String,
    /// The changeset it is about, if any.
    pub changeset: Option<i64>,
    /// The comment, file name or settings it recorded.
    pub details: String,
}

/// The JSON answer of a check, for scripts and the API: `{"ok", "kind", "encoding",
/// "delimiter", "diagnostics", "summary", "changeset"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckOutput {
    /// No errors: the file can be submitted.
    pub ok: bool,
    /// `cohorts` or `bindings`, when recognised.
    pub kind: Option<FileKind>,
    /// Encoding read.
    pub encoding: Option<Encoding>,
    /// Delimiter used.
    pub delimiter: Option<Delimiter>,
    /// Diagnostics with messages in the chosen language (at most [`crate::report::DIAGNOSTICS_KEPT`]).
    pub diagnostics: Vec<DiagnosticView>,
    /// Whether diagnostics were found that `diagnostics` does not list.
    #[serde(default)]
    pub truncated: bool,
    /// How many: `summary` and `codes` count them all.
    #[serde(default)]
    pub omitted: usize,
    /// Counts.
    pub summary: Summary,
    /// Every diagnostic found, counted by code.
    #[serde(default)]
    pub codes: BTreeMap<Code, usize>,
    /// The plan, when the file has no errors.
    pub changeset: Option<Changeset>,
}

/// Counts of rows, diagnostics and planned changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Data rows.
    pub rows: usize,
    /// Diagnostics by severity.
    #[serde(flatten)]
    pub counts: Counts,
    /// Planned changes by type (zero when the file has errors).
    #[serde(flatten)]
    pub totals: Totals,
}

/// Errors a refused file's answer lists, the first by line ([`Checked::to_refusal`]); the
/// rest it counts.
pub const REFUSAL_ERRORS: usize = 100;

impl Checked {
    /// The JSON answer, with messages in `lang`.
    pub fn to_output(&self, lang: Lang) -> CheckOutput {
        self.output_of(lang, self.report.diagnostics.iter())
    }

    /// The JSON answer of a refused file: its first `at_most` errors (the page a person
    /// fixes first), and the counts of everything.
    pub fn to_refusal(&self, lang: Lang, at_most: usize) -> CheckOutput {
        let errors = self
            .report
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .take(at_most);
        self.output_of(lang, errors)
    }

    fn output_of<'a>(
        &self,
        lang: Lang,
        listed: impl Iterator<Item = &'a Diagnostic>,
    ) -> CheckOutput {
        let diagnostics: Vec<DiagnosticView> = listed.map(|d| d.to_view(lang)).collect();
        let counts = self.report.counts();
        let omitted = counts.total() - diagnostics.len();
        CheckOutput {
            ok: !self.report.has_errors(),
            kind: self.report.kind,
            encoding: self.report.encoding,
            delimiter: self.report.delimiter,
            diagnostics,
            truncated: omitted > 0,
            omitted,
            codes: self.report.code_counts(),
            summary: Summary {
                rows: self.report.rows,
                counts,
                totals: self
                    .changeset
                    .as_ref()
                    .map(Changeset::totals)
                    .unwrap_or_default(),
            },
            changeset: self.changeset.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn difference_counts_repeats_and_keeps_order() {
        let (added, removed) = difference(&["a", "b", "a", "d"], &["c", "a", "e"]);
        assert_eq!(added, ["b", "a", "d"]);
        assert_eq!(removed, ["c", "e"]);
        let (added, removed) = difference::<&str>(&[], &[]);
        assert!(added.is_empty() && removed.is_empty());
    }

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn health_round_trips_through_json() {
        let health = HealthResponse::ok(DatabaseKind::Postgres);
        let json = serde_json::to_string(&health).unwrap();
        assert_eq!(
            json,
            format!(
                r#"{{"status":"ok","version":"{}","database":"postgres","site":"embedded"}}"#,
                crate::VERSION
            )
        );
        let back: HealthResponse = serde_json::from_str(&json).unwrap();
        assert_eq!(back, health);
    }

    #[test]
    fn an_apply_outcome_reads_back_as_what_it_was() {
        let applied = ApplyOutcome::Applied(ApplyReport {
            id: 3,
            revision: 9,
            created: Applied::default(),
            totals: Totals::default(),
            after_apply: Some(Box::new(AfterApply {
                command: "php admin/cli/purge_caches.php".into(),
                success: true,
                status: Some(0),
                output: String::new(),
            })),
        });
        let failed = ApplyOutcome::Failed {
            error: "rolled back".into(),
        };
        for outcome in [applied, failed] {
            let json = serde_json::to_string(&outcome).unwrap();
            assert_eq!(
                serde_json::from_str::<ApplyOutcome>(&json).unwrap(),
                outcome
            );
        }
        for status in ChangesetStatus::ALL {
            assert_eq!(ChangesetStatus::parse(status.as_str()), Some(status));
        }
    }
}
