//! The check worker: the shared rules run here, in a web worker, so that the page stays
//! responsive on a file of a million rows. The page sends the snapshot once (and again when
//! it changes), then files to check; the worker answers each with its phases, then the
//! summary, the first page of diagnostics and the first rows of the dry run. The diagnostics,
//! the whole dry run and the plan stay here: the page asks for one page of diagnostics at a
//! time and for the rest of the dry run on "show all", and the server plans a submitted
//! file again anyway.

use cohortsync_shared::api::Summary;
use cohortsync_shared::check::check_indexed;
use cohortsync_shared::decode::{Delimiter, Encoding, PhysicalLines};
use cohortsync_shared::dry_run::{DryRun, dry_run_unnamed, file_identifiers};
use cohortsync_shared::formats::FileKind;
use cohortsync_shared::options::Options;
use cohortsync_shared::report::{
    Code, Diagnostic, DiagnosticFilter, DiagnosticPage, DiagnosticView, Lang, code_counts,
};
use cohortsync_shared::snapshot::{Snapshot, SnapshotChanges, UserIndex};
use gloo_worker::{Codec, HandlerId, Worker, WorkerScope};
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

use crate::components::DRY_RUN_ROWS_SHOWN as ROWS_SHOWN;

/// Messages as JavaScript values (plain objects, and `Uint8Array` for bytes), which
/// `postMessage` copies without any text in between: a file of tens of megabytes crosses
/// in milliseconds. Self-describing, unlike the default binary codec, which cannot read back
/// the shared types' `flatten` and tags.
#[derive(Debug)]
pub struct Js;

impl Codec for Js {
    fn encode<I: Serialize>(input: I) -> JsValue {
        input
            .serialize(
                &serde_wasm_bindgen::Serializer::json_compatible().serialize_bytes_as_arrays(false),
            )
            .expect("worker messages are plain data")
    }

    fn decode<O: for<'de> Deserialize<'de>>(input: JsValue) -> O {
        serde_wasm_bindgen::from_value(input).expect("the page and the worker speak the same types")
    }
}

/// What the page asks.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Request {
    /// Use this snapshot (its JSON) for the next checks.
    Snapshot(String),
    /// Bring the snapshot up to date with these changes (the JSON of
    /// `GET /api/snapshot?since=`), and send it back whole, for the cache.
    Changes(String),
    /// Forget the snapshot and the last check (their account signed out).
    Forget,
    /// Make the annotated copy of the file of check `id` (the latest one).
    Annotate(u32),
    /// The whole dry run of check `id` (the latest one).
    DryRun(u32),
    /// A page of check `id`'s diagnostics (the latest check's).
    Diagnostics {
        /// The check.
        id: u32,
        /// Which diagnostics.
        filter: DiagnosticFilter,
        /// Index of the first row among those that pass the filter.
        offset: usize,
    },
    /// Check this file.
    Check {
        /// A number the page uses to match the answer.
        id: u32,
        /// The file the person picked: only its handle crosses; the worker reads it, so
        /// the page's thread never copies the megabytes.
        #[serde(with = "serde_wasm_bindgen::preserve")]
        file: web_sys::File,
        /// The options.
        options: Options,
        /// Language of the messages.
        lang: Lang,
    },
}

/// Where a check is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// Reading the file.
    Reading,
    /// Decoding, validating and planning the file.
    Checking,
    /// Telling the plan per cohort and course.
    Summarising,
}

/// What the worker answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Response {
    /// The snapshot is loaded: its revision, and how long decoding it took (ms).
    SnapshotReady(u64, f64),
    /// The snapshot could not be read.
    SnapshotFailed(String),
    /// The snapshot was brought up to date with the changes sent.
    Refreshed(Box<Refreshed>),
    /// The changes did not apply (they start from another revision, say): the snapshot is
    /// as it was, and the page fetches it whole.
    ChangesFailed(String),
    /// Check `id` reached a phase, and this far overall (0 to 1, when known).
    Progress(u32, Phase, Option<f64>),
    /// Check `id` is done.
    Checked(u32, #[serde(with = "as_json")] Box<Checked>),
    /// The file of check `id` could not be read.
    Unreadable(u32, String),
    /// The annotated copy of check `id`'s file, as a `Blob` made here: only its handle
    /// crosses, so the page's thread never copies the megabytes.
    Annotated(
        u32,
        #[serde(with = "serde_wasm_bindgen::preserve")] web_sys::Blob,
    ),
    /// A page of check `id`'s diagnostics.
    Diagnostics(u32, #[serde(with = "as_json")] Box<DiagnosticPage>),
    /// The whole dry run of check `id` (its answer carried only the first rows).
    DryRun(u32, #[serde(with = "as_json")] std::rc::Rc<DryRun>),
}

/// A report's answers (thousands of small values: a page of diagnostics, the people of a
/// dry run) cross as one JSON text, read in the page's WASM in one go. As a tree of
/// JavaScript objects, the page's WASM read them a field at a time, each read a call into
/// JavaScript: a check's answer took a median of 29, 9 and 5 ms of the page's thread on a
/// page's first three checks, against 10, 3 and 2 ms as JSON (BENCHMARKS.md).
mod as_json {
    use serde::de::{DeserializeOwned, Error as _};
    use serde::ser::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(value: &T, to: S) -> Result<S::Ok, S::Error> {
        to.serialize_str(&serde_json::to_string(value).map_err(S::Error::custom)?)
    }

    pub fn deserialize<'de, T: DeserializeOwned, D: Deserializer<'de>>(
        from: D,
    ) -> Result<T, D::Error> {
        serde_json::from_str(&String::deserialize(from)?).map_err(D::Error::custom)
    }
}

/// The snapshot after changes: what the page caches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refreshed {
    /// Its JSON.
    pub json: String,
    /// Its revision.
    pub revision: u64,
    /// Its default options.
    pub defaults: Options,
    /// Milliseconds reading and applying the changes took.
    pub millis: f64,
}

/// A finished check: what the page shows at once. A million diagnostics would freeze the
/// page's thread while it received and laid them out; it gets one page at a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checked {
    /// No errors: the file can be submitted.
    pub ok: bool,
    /// The kind of file, when recognised.
    pub kind: Option<FileKind>,
    /// Encoding read.
    pub encoding: Option<Encoding>,
    /// Delimiter used.
    pub delimiter: Option<Delimiter>,
    /// Rows, diagnostics by severity, planned changes.
    pub summary: Summary,
    /// The safety limits the file exceeds (`limit_exceeded` diagnostics).
    pub limits: Vec<DiagnosticView>,
    /// How many of the listed diagnostics have each code.
    pub codes: Vec<(Code, usize)>,
    /// Diagnostics found beyond the first `DIAGNOSTICS_KEPT`: counted in `summary`, not
    /// listed.
    #[serde(default)]
    pub omitted: usize,
    /// The first page of all the diagnostics.
    pub diagnostics: DiagnosticPage,
    /// The plan per cohort and course, when the file has no errors: its first
    /// [`ROWS_SHOWN`] cohorts and courses (the rest on [`Request::DryRun`]; a nightly file
    /// of a thousand cohorts would cross as tens of thousands of names at once and pause
    /// the page); shared, so that the page renders it without copying it.
    pub dry_run: Option<std::rc::Rc<DryRun>>,
    /// How many cohorts and courses the whole dry run has.
    #[serde(default)]
    pub dry_run_rows: (usize, usize),
    /// The snapshot revision it was checked against.
    pub revision: u64,
    /// Milliseconds the check took in the worker.
    pub millis: f64,
}

/// The latest check, kept for its pages of diagnostics and its annotated copy.
struct LastCheck {
    id: u32,
    file: Vec<u8>,
    options: Options,
    /// The kind of file, when recognised.
    kind: Option<cohortsync_shared::formats::FileKind>,
    /// Every diagnostic (messages are rendered a page at a time).
    diagnostics: Vec<Diagnostic>,
    /// The language of the messages.
    lang: Lang,
    /// The file's lines (empty when there is no diagnostic to show them with).
    lines: PhysicalLines,
    /// The whole dry run, for "show all".
    dry_run: Option<WholeDryRun>,
}

/// A check's whole dry run, its people named when the page first asks for all of it.
enum WholeDryRun {
    Unnamed(DryRun),
    Named(std::rc::Rc<DryRun>),
}

impl WholeDryRun {
    fn told(&self) -> &DryRun {
        match self {
            WholeDryRun::Unnamed(told) => told,
            WholeDryRun::Named(told) => told,
        }
    }

    /// Its first `rows` cohorts and courses, people named (the whole, when that is all).
    fn first(
        &mut self,
        rows: usize,
        snapshot: &Snapshot,
        users: &UserIndex,
    ) -> std::rc::Rc<DryRun> {
        let told = self.told();
        if told.cohorts.len() <= rows && told.courses.len() <= rows {
            return self.named(snapshot, users);
        }
        let mut first = told.first(rows);
        if let WholeDryRun::Unnamed(_) = self {
            first.name_people(snapshot, users);
        }
        std::rc::Rc::new(first)
    }

    /// The dry run with its people named (once), shared.
    fn named(&mut self, snapshot: &Snapshot, users: &UserIndex) -> std::rc::Rc<DryRun> {
        if let WholeDryRun::Unnamed(told) = self {
            let mut told = std::mem::take(told);
            told.name_people(snapshot, users);
            *self = WholeDryRun::Named(std::rc::Rc::new(told));
        }
        match self {
            WholeDryRun::Named(told) => told.clone(),
            WholeDryRun::Unnamed(_) => unreachable!("named just above"),
        }
    }
}

/// The worker's state: the snapshot it checks against.
pub struct CheckWorker {
    snapshot: Option<Snapshot>,
    /// Its users indexed for the rules, built once per snapshot and kept for every check.
    users: Option<UserIndex>,
    last: Option<LastCheck>,
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

impl Worker for CheckWorker {
    type Message = Read;
    type Input = Request;
    type Output = Response;

    fn create(_scope: &WorkerScope<Self>) -> Self {
        CheckWorker {
            snapshot: None,
            users: None,
            last: None,
        }
    }

    fn update(&mut self, scope: &WorkerScope<Self>, read: Read) {
        match read.bytes {
            Ok(bytes) => self.check(scope, read.who, read.id, bytes, read.options, read.lang),
            Err(reason) => scope.respond(read.who, Response::Unreadable(read.id, reason)),
        }
    }

    fn received(&mut self, scope: &WorkerScope<Self>, request: Request, who: HandlerId) {
        match request {
            Request::Snapshot(json) => {
                let start = now_ms();
                match Snapshot::from_json(json.as_bytes()) {
                    Ok(snapshot) => {
                        let revision = snapshot.revision;
                        self.snapshot = Some(snapshot);
                        self.users = None;
                        scope.respond(who, Response::SnapshotReady(revision, now_ms() - start));
                        // While the page waits for a file: the users by the site's default
                        // identifier, ready for the first check, and the rules' code made
                        // ready by a check of a file made up for it.
                        self.index_users();
                        self.warm_up();
                    }
                    Err(error) => scope.respond(who, Response::SnapshotFailed(error.to_string())),
                }
            }
            Request::Changes(json) => {
                let start = now_ms();
                let applied = serde_json::from_str::<SnapshotChanges>(&json)
                    .map_err(|e| e.to_string())
                    .and_then(|changes| match self.snapshot.as_mut() {
                        Some(snapshot) => changes.apply_to(snapshot).map(|()| snapshot),
                        None => Err("no snapshot to apply changes to".into()),
                    })
                    .and_then(|snapshot| {
                        let json = serde_json::to_string(&*snapshot).map_err(|e| e.to_string())?;
                        Ok(Refreshed {
                            json,
                            revision: snapshot.revision,
                            defaults: snapshot.defaults.clone(),
                            millis: now_ms() - start,
                        })
                    });
                scope.respond(
                    who,
                    match applied {
                        Ok(refreshed) => Response::Refreshed(Box::new(refreshed)),
                        Err(reason) => Response::ChangesFailed(reason),
                    },
                );
                self.index_users();
            }
            Request::Forget => {
                self.snapshot = None;
                self.users = None;
                self.last = None;
            }
            Request::Annotate(id) => {
                if let Some(last) = self.last.as_ref().filter(|l| l.id == id) {
                    let bytes = cohortsync_shared::export::annotate(
                        &last.file,
                        last.kind,
                        &last.diagnostics,
                        last.lang,
                        &last.options,
                    );
                    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(&bytes[..]));
                    let options = web_sys::BlobPropertyBag::new();
                    options.set_type("text/csv;charset=utf-8");
                    if let Ok(blob) =
                        web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)
                    {
                        scope.respond(who, Response::Annotated(id, blob));
                    }
                }
            }
            Request::DryRun(id) => {
                let empty = Snapshot::default();
                let snapshot = self.snapshot.as_ref().unwrap_or(&empty);
                let no_users = UserIndex::new(&empty);
                let users = self.users.as_ref().unwrap_or(&no_users);
                if let Some(dry) = self
                    .last
                    .as_mut()
                    .filter(|l| l.id == id)
                    .and_then(|l| l.dry_run.as_mut())
                    .map(|d| d.named(snapshot, users))
                {
                    scope.respond(who, Response::DryRun(id, dry));
                }
            }
            Request::Diagnostics { id, filter, offset } => {
                if let Some(last) = self.last.as_ref().filter(|l| l.id == id) {
                    let page =
                        DiagnosticPage::of(&last.diagnostics, last.lang, &filter, offset, |n| {
                            last.lines.line(n)
                        });
                    scope.respond(who, Response::Diagnostics(id, Box::new(page)));
                }
            }
            Request::Check {
                id,
                file,
                options,
                lang,
            } => {
                scope.respond(who, Response::Progress(id, Phase::Reading, None));
                scope.send_future(async move {
                    let bytes = wasm_bindgen_futures::JsFuture::from(file.array_buffer())
                        .await
                        .map(|buffer| js_sys::Uint8Array::new(&buffer).to_vec())
                        .map_err(|e| format!("{e:?}"));
                    Read {
                        who,
                        id,
                        bytes,
                        options,
                        lang,
                    }
                });
            }
        }
    }
}

impl CheckWorker {
    /// Indexes the snapshot's users, unless the kept index still fits it.
    fn index_users(&mut self) {
        let Some(snapshot) = &self.snapshot else {
            return;
        };
        if self.users.as_ref().is_some_and(|u| u.fits(snapshot)) {
            return;
        }
        let users = UserIndex::new(snapshot);
        users.prepare(snapshot, snapshot.defaults.user_identifier);
        self.users = Some(users);
    }

    /// Checks a file made up for the purpose, and forgets its answer, so that the person's
    /// first file is checked by the rules' optimised code.
    ///
    /// V8 runs WebAssembly first as its baseline compiler made it, and compiles a function
    /// again, optimised, once it has run for a while; the new code runs from the function's
    /// next call on. A check reads all its rows in one call of the rules' row loop: without
    /// this, the first file after the page loads would be read to its end by the baseline
    /// code. The made-up file names the snapshot's users as the site's default identifier
    /// does, creates 20 cohorts, and is checked once: about 40–50 ms of the worker's time
    /// while the page waits for a file. A teacher's snapshot has only hashes of the users'
    /// identifiers: its users are named by id (made-up names would not be found, and a
    /// user not found is looked for by every other identifier, hashed each time).
    fn warm_up(&self) {
        let (Some(snapshot), Some(users)) = (&self.snapshot, &self.users) else {
            return;
        };
        let mut options = snapshot.defaults.clone();
        if snapshot.is_hashed() {
            options.user_identifier = cohortsync_shared::options::UserIdentifier::Id;
        }
        let file = made_up_file(snapshot, options.user_identifier, WARM_UP_ROWS);
        let checked = check_indexed(&file, snapshot, users, &options, &mut |_| {});
        if let Some(changeset) = &checked.changeset {
            let told = dry_run_unnamed(snapshot, changeset);
            std::hint::black_box(told);
        }
        std::hint::black_box(checked);
    }

    /// Checks `file` (read) against the snapshot and answers check `id`.
    fn check(
        &mut self,
        scope: &WorkerScope<Self>,
        who: HandlerId,
        id: u32,
        file: Vec<u8>,
        options: Options,
        lang: Lang,
    ) {
        self.index_users();
        let empty = Snapshot::default();
        let snapshot = self.snapshot.as_ref().unwrap_or(&empty);
        let no_users = UserIndex::new(&empty);
        let users = self.users.as_ref().unwrap_or(&no_users);
        let start = now_ms();
        scope.respond(who, Response::Progress(id, Phase::Checking, Some(0.0)));
        // Posted while the check goes on: the page's thread is free to show them.
        let checked = check_indexed(&file, snapshot, users, &options, &mut |p| {
            scope.respond(
                who,
                Response::Progress(id, Phase::Checking, Some(p.fraction())),
            )
        });
        scope.respond(who, Response::Progress(id, Phase::Summarising, Some(1.0)));
        // The plan stays here (the page shows the dry run and the totals).
        // A teacher's snapshot has no names: people are told by the file's own identifiers.
        // People are named for the rows the page shows first, the rest on "show all".
        let mut dry_run = checked.changeset.as_ref().map(|c| {
            let told = dry_run_unnamed(snapshot, c);
            if snapshot.is_hashed() {
                WholeDryRun::Named(std::rc::Rc::new(
                    told.for_teacher(&file_identifiers(&file, c, &options)),
                ))
            } else {
                WholeDryRun::Unnamed(told)
            }
        });
        let dry_run_rows = dry_run.as_ref().map_or((0, 0), |d| {
            let d = d.told();
            (d.cohorts.len(), d.courses.len())
        });
        let first_rows = dry_run
            .as_mut()
            .map(|d| d.first(ROWS_SHOWN, snapshot, users));
        let report = checked.report;
        let summary = Summary {
            rows: report.rows,
            counts: report.counts(),
            totals: checked
                .changeset
                .as_ref()
                .map(|c| c.totals())
                .unwrap_or_default(),
        };
        let omitted = report.omitted_count();
        let diagnostics = report.diagnostics;
        let lines = if diagnostics.is_empty() {
            PhysicalLines::default()
        } else {
            PhysicalLines::new(&file, options.encoding)
        };
        let first_page =
            DiagnosticPage::of(&diagnostics, lang, &DiagnosticFilter::default(), 0, |n| {
                lines.line(n)
            });
        let limits = diagnostics
            .iter()
            .filter(|d| d.code == Code::LimitExceeded)
            .map(|d| d.to_view(lang))
            .collect();
        let codes = code_counts(&diagnostics);
        let millis = now_ms() - start;
        let revision = snapshot.revision;
        self.last = Some(LastCheck {
            id,
            file,
            options,
            kind: report.kind,
            diagnostics,
            lang,
            lines,
            dry_run,
        });
        scope.respond(
            who,
            Response::Checked(
                id,
                Box::new(Checked {
                    ok: summary.counts.errors == 0,
                    kind: report.kind,
                    encoding: report.encoding,
                    delimiter: report.delimiter,
                    summary,
                    limits,
                    codes,
                    omitted,
                    diagnostics: first_page,
                    dry_run: first_rows,
                    dry_run_rows,
                    revision,
                    millis,
                }),
            ),
        );
    }
}

/// Rows of the file [`CheckWorker::warm_up`] checks: enough for V8 to optimise the rules'
/// loops over rows (it counts what a function runs before it does).
const WARM_UP_ROWS: usize = 20_000;

/// A cohort file of `rows` additions to 20 cohorts `warm-up 0` to `warm-up 19` (new on any
/// site but an odd one; either way the answer is thrown away), naming the snapshot's users
/// in turn by `identifier` (a made-up name for a user without one).
fn made_up_file(
    snapshot: &Snapshot,
    identifier: cohortsync_shared::options::UserIdentifier,
    rows: usize,
) -> Vec<u8> {
    use cohortsync_shared::options::UserIdentifier;
    use std::fmt::Write;
    let mut file = String::from("cmd;cidnumber;cname;userid\n");
    let users = &snapshot.users;
    for row in 0..rows {
        let cohort = row % 20;
        let _ = write!(file, "add;warm-up {cohort};Warm-up {cohort};");
        let user = users.get(row % users.len().max(1));
        let _ = match (user, identifier) {
            (Some(user), UserIdentifier::Id) => write!(file, "{}", user.id),
            (Some(user), UserIdentifier::Idnumber) if !user.idnumber.is_empty() => {
                file.write_str(&user.idnumber)
            }
            (Some(user), UserIdentifier::Username) if !user.username.is_empty() => {
                file.write_str(&user.username)
            }
            (Some(user), UserIdentifier::Email) if !user.email.is_empty() => {
                file.write_str(&user.email)
            }
            _ => write!(file, "warm-up-{row}"),
        };
        file.push('\n');
    }
    file.into_bytes()
}

/// A file read for check `id`, back on the worker's state.
pub struct Read {
    who: HandlerId,
    id: u32,
    bytes: Result<Vec<u8>, String>,
    options: Options,
    lang: Lang,
}

#[cfg(test)]
mod tests {
    use cohortsync_shared::check::check;
    use cohortsync_shared::options::{Options, UserIdentifier};
    use cohortsync_shared::report::Code;
    use cohortsync_shared::snapshot::{Snapshot, User};

    use super::made_up_file;

    fn site_of(users: i64) -> Snapshot {
        Snapshot {
            revision: 1,
            users: (1..=users)
                .map(|id| User {
                    id,
                    username: format!("user{id}"),
                    idnumber: format!("U{id:05}"),
                    email: format!("user{id}@univ.example"),
                    ..User::default()
                })
                .collect(),
            ..Snapshot::default()
        }
    }

    #[test]
    fn the_warm_up_file_plans_as_a_persons_file_does() {
        // What makes the warm-up worth its time is that it runs the code a real file runs:
        // users found, cohorts created, members planned.
        let snapshot = site_of(500);
        for &identifier in UserIdentifier::ALL {
            let options = Options {
                user_identifier: identifier,
                ..Options::default()
            };
            let file = made_up_file(&snapshot, identifier, 400);
            let checked = check(&file, &snapshot, &options);
            assert_eq!(checked.report.rows, 400, "{identifier:?}");
            assert_eq!(checked.report.diagnostics, [], "{identifier:?}");
            let plan = checked.changeset.expect("a plan");
            assert_eq!(plan.operations.len(), 20 + 400, "{identifier:?}");
        }
    }

    #[test]
    fn the_warm_up_file_of_a_teachers_snapshot_names_users_by_id() {
        // The worker names a teacher's users by id: the hashes of the rest cannot be named.
        let snapshot = site_of(500).for_teacher(b"site secret");
        let file = made_up_file(&snapshot, UserIdentifier::Id, 400);
        let options = Options {
            user_identifier: UserIdentifier::Id,
            ..Options::default()
        };
        let checked = check(&file, &snapshot, &options);
        assert_eq!(checked.report.diagnostics, []);
        assert_eq!(checked.changeset.expect("a plan").operations.len(), 420);
        // Asked for an identifier the snapshot only has hashes of, it names no one.
        let text = String::from_utf8(made_up_file(&snapshot, UserIdentifier::Idnumber, 400))
            .expect("UTF-8");
        assert!(!text.contains("U00"), "{text}");
        let checked = check(text.as_bytes(), &snapshot, &Options::default());
        assert!(
            checked
                .report
                .diagnostics
                .iter()
                .all(|d| d.code == Code::UserNotFound)
        );
    }
}
