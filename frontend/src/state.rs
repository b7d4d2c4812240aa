//! The app's shared state: the snapshot's and the check worker's, as `Reducible` states
//! with their actions, and the context every page reads (`hooks::use_ctx`).

use std::rc::Rc;

use cohortsync_shared::dry_run::DryRun;
use cohortsync_shared::options::Options;
use cohortsync_shared::report::{DiagnosticPage, Lang};
use yew::prelude::*;

use crate::api::Me;
use crate::worker::{CheckWorker, Checked, Phase};

/// Answers of the check worker.
#[derive(Debug, Clone)]
pub enum CheckAction {
    /// Check `id` reached a phase, this far.
    Progress(u32, Phase, Option<f64>),
    /// Check `id` is done.
    Done(u32, Rc<Checked>),
    /// The annotated copy of check `id`'s file.
    Annotated(u32, Rc<web_sys::Blob>),
    /// The file of check `id` could not be read.
    Failed(u32, String),
    /// A page of check `id`'s diagnostics.
    Page(u32, Rc<DiagnosticPage>),
    /// The whole dry run of check `id`.
    DryRun(u32, Rc<DryRun>),
}

impl Reducible for CheckState {
    type Action = CheckAction;

    fn reduce(self: Rc<Self>, action: CheckAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            CheckAction::Progress(id, phase, fraction) => {
                next.progress = Some((id, phase, fraction))
            }
            CheckAction::Done(id, result) => {
                if next.progress.is_some_and(|(p, _, _)| p == id) {
                    next.progress = None;
                }
                next.result = Some((id, result));
            }
            CheckAction::Annotated(id, blob) => next.annotated = Some((id, blob)),
            CheckAction::Page(id, page) => next.page = Some((id, page)),
            CheckAction::DryRun(id, dry) => next.dry_run = Some((id, dry)),
            CheckAction::Failed(id, reason) => {
                next.progress = None;
                next.failed = Some((id, reason));
            }
        }
        Rc::new(next)
    }
}

/// Where the snapshot stands.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotState {
    /// The cached snapshot's revision and fetch time, if there is one.
    pub cached: Option<(u64, f64)>,
    /// Whether the last fetch reached the server.
    pub online: bool,
    /// A fetch is under way.
    pub fetching: bool,
    /// The worker has loaded this revision, decoding it in this many milliseconds.
    pub in_worker: Option<(u64, f64)>,
    /// The site's default options, from the snapshot (the built-in ones until there is one).
    pub defaults: Rc<Options>,
}

/// Changes to the snapshot's state.
#[derive(Debug, Clone, PartialEq)]
pub enum SnapshotAction {
    /// A fetch starts.
    Fetching,
    /// A fetch ended; whether it reached the server.
    Fetched {
        /// Reached the server.
        online: bool,
    },
    /// This revision, fetched at this time, is cached.
    Cached(u64, f64),
    /// The worker loaded this revision, in this many milliseconds.
    InWorker(u64, f64),
    /// The snapshot's default options.
    Defaults(Options),
    /// There is no snapshot any more (its account signed out).
    Forgotten,
}

impl Reducible for SnapshotState {
    type Action = SnapshotAction;

    fn reduce(self: Rc<Self>, action: SnapshotAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            SnapshotAction::Fetching => next.fetching = true,
            SnapshotAction::Fetched { online } => {
                next.fetching = false;
                next.online = online;
            }
            SnapshotAction::Cached(revision, at) => next.cached = Some((revision, at)),
            SnapshotAction::InWorker(revision, millis) => next.in_worker = Some((revision, millis)),
            SnapshotAction::Forgotten => {
                next.cached = None;
                next.in_worker = None;
            }
            SnapshotAction::Defaults(options) => {
                if *next.defaults != options {
                    next.defaults = Rc::new(options);
                }
            }
        }
        Rc::new(next)
    }
}

/// The latest answers of the check worker.
#[derive(Debug, Clone, Default)]
pub struct CheckState {
    /// The check under way, its phase, and how far it is (0 to 1, when known).
    pub progress: Option<(u32, Phase, Option<f64>)>,
    /// The latest finished check.
    pub result: Option<(u32, Rc<Checked>)>,
    /// The latest annotated copy made.
    pub annotated: Option<(u32, Rc<web_sys::Blob>)>,
    /// A check whose file could not be read, and why.
    pub failed: Option<(u32, String)>,
    /// The latest page of diagnostics asked for (the first comes with the check).
    pub page: Option<(u32, Rc<DiagnosticPage>)>,
    /// The whole dry run of a check, once "show all" asked for it (the first rows come
    /// with the check).
    pub dry_run: Option<(u32, Rc<DryRun>)>,
}

/// What `slot` holds for check `id`, if it holds that check's.
pub fn of_check<T>(slot: &Option<(u32, Rc<T>)>, id: u32) -> Option<Rc<T>> {
    slot.as_ref()
        .filter(|(of, _)| *of == id)
        .map(|(_, value)| value.clone())
}

/// Results are compared by identity: each answer of the worker is a new `Rc`, and comparing
/// a big report by content on every progress step would cost more than re-rendering.
impl PartialEq for CheckState {
    fn eq(&self, other: &Self) -> bool {
        fn same<T>(a: &Option<(u32, Rc<T>)>, b: &Option<(u32, Rc<T>)>) -> bool {
            match (a, b) {
                (Some((i, x)), Some((j, y))) => i == j && Rc::ptr_eq(x, y),
                (None, None) => true,
                _ => false,
            }
        }
        self.progress == other.progress
            && self.failed == other.failed
            && same(&self.result, &other.result)
            && same(&self.annotated, &other.annotated)
            && same(&self.page, &other.page)
            && same(&self.dry_run, &other.dry_run)
    }
}

/// What every page can reach.
#[derive(Clone)]
pub struct Ctx {
    /// Language of the interface and of the messages.
    pub lang: Lang,
    /// The signed-in account (`None`: anonymous, or not known yet offline).
    pub me: Option<Me>,
    /// The snapshot's state.
    pub snapshot: SnapshotState,
    /// The check worker.
    pub worker: Rc<gloo_worker::WorkerBridge<CheckWorker>>,
    /// The check worker's latest answers.
    pub check: Rc<CheckState>,
    /// Changes the language.
    pub set_lang: Callback<Lang>,
    /// Sets the account after a login or logout.
    pub set_me: Callback<Option<Me>>,
    /// Fetches the snapshot again.
    pub refresh: Callback<()>,
}

impl PartialEq for Ctx {
    fn eq(&self, other: &Self) -> bool {
        self.lang == other.lang
            && self.me == other.me
            && self.snapshot == other.snapshot
            && self.check == other.check
    }
}
