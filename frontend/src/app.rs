//! The application shell: routes, the shared state (language, account, snapshot, check
//! worker), the header with the snapshot badge.

use std::cell::RefCell;
use std::rc::Rc;

use cohortsync_shared::options::Options;
use cohortsync_shared::report::{DiagnosticPage, Lang};
use gloo_worker::Spawnable;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, Me, SnapshotFetch};
use crate::cache::{self, CachedSnapshot};
use crate::i18n::{self, t};
use crate::pages::changesets::{ChangesetDetail, ChangesetList};
use crate::pages::check::CheckPage;
use crate::pages::cohorts::{CohortDetail, CohortList, CourseList};
use crate::pages::login::LoginPage;
use crate::pages::settings::SettingsPage;

use crate::worker::{
    CheckWorker, Checked, Js, Phase, Request as WorkerRequest, Response as WorkerResponse,
};

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
            CheckAction::Failed(id, reason) => {
                next.progress = None;
                next.failed = Some((id, reason));
            }
        }
        Rc::new(next)
    }
}

/// The app's pages.
#[derive(Debug, Clone, PartialEq, Routable)]
pub enum Route {
    /// Check a file (the home page).
    #[at("/")]
    Check,
    /// Sign in.
    #[at("/login")]
    Login,
    /// The changesets.
    #[at("/changesets")]
    Changesets,
    /// The cohorts.
    #[at("/cohorts")]
    Cohorts,
    /// One cohort.
    #[at("/cohorts/:id")]
    Cohort {
        /// Its id.
        id: i64,
    },
    /// The courses.
    #[at("/courses")]
    Courses,
    /// The site's settings (admins).
    #[at("/settings")]
    Settings,
    /// One changeset.
    #[at("/changesets/:id")]
    Changeset {
        /// Its id.
        id: i64,
    },
    /// Anything else.
    #[not_found]
    #[at("/404")]
    NotFound,
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

/// A snapshot's revision and default options, read without keeping the rest.
fn head_of(json: &str) -> (u64, Options) {
    #[derive(serde::Deserialize)]
    struct Head {
        revision: u64,
        #[serde(default)]
        defaults: Options,
    }
    serde_json::from_str::<Head>(json).map_or((0, Options::default()), |h| (h.revision, h.defaults))
}

/// Fetches the snapshot (conditionally on the cached one), caches it, and hands it to the
/// worker. Offline or signed out, the cached one stays in use.
async fn refresh_snapshot(
    worker: Rc<gloo_worker::WorkerBridge<CheckWorker>>,
    state: UseReducerHandle<SnapshotState>,
    in_worker: Rc<RefCell<Option<String>>>,
) {
    // A snapshot is megabytes: the worker gets one only when its ETag is new to it.
    let hand_over = |snapshot: &CachedSnapshot| {
        if in_worker.borrow().as_deref() != Some(snapshot.etag.as_str()) {
            worker.send(WorkerRequest::Snapshot(snapshot.json.clone()));
            *in_worker.borrow_mut() = Some(snapshot.etag.clone());
        }
    };
    state.dispatch(SnapshotAction::Fetching);
    let mut cached = cache::load().await;
    // Whose session this is decides whose snapshot may stay: offline, the last one cached.
    let owner = match api::me().await {
        Ok(Some(me)) => Some(me.id),
        Ok(None) => {
            // Signed out or the session ended: the snapshot leaves with its account.
            forget(&worker, &state, &in_worker).await;
            state.dispatch(SnapshotAction::Fetched { online: true });
            return;
        }
        Err(_) => None,
    };
    if let (Some(owner), Some(c)) = (owner, &cached)
        && c.owner != Some(owner)
    {
        forget(&worker, &state, &in_worker).await;
        cached = None;
    }
    if let Some(c) = &cached {
        hand_over(c);
        state.dispatch(SnapshotAction::Cached(c.revision, c.fetched_at));
        state.dispatch(SnapshotAction::Defaults(c.defaults.clone()));
    }
    let etag = cached.as_ref().map(|c| c.etag.clone());
    let online = match api::snapshot(etag.as_deref()).await {
        Ok(SnapshotFetch::NotModified) => {
            if let Some(mut c) = cached {
                c.fetched_at = js_sys::Date::now();
                state.dispatch(SnapshotAction::Cached(c.revision, c.fetched_at));
                let _ = cache::save(&c).await;
            }
            true
        }
        Ok(SnapshotFetch::Fresh { json, etag }) => {
            let (revision, defaults) = head_of(&json);
            let fresh = CachedSnapshot {
                revision,
                json,
                etag,
                fetched_at: js_sys::Date::now(),
                defaults,
                owner,
            };
            hand_over(&fresh);
            state.dispatch(SnapshotAction::Cached(fresh.revision, fresh.fetched_at));
            state.dispatch(SnapshotAction::Defaults(fresh.defaults.clone()));
            if owner.is_some() {
                let _ = cache::save(&fresh).await;
            }
            true
        }
        Err(api::ApiError::Network(_)) => false,
        Err(api::ApiError::Status { status: 401, .. }) => {
            forget(&worker, &state, &in_worker).await;
            true
        }
        Err(_) => true,
    };
    state.dispatch(SnapshotAction::Fetched { online });
}

/// Drops the snapshot from IndexedDB, the worker and the page's state.
async fn forget(
    worker: &gloo_worker::WorkerBridge<CheckWorker>,
    state: &UseReducerHandle<SnapshotState>,
    in_worker: &RefCell<Option<String>>,
) {
    let _ = cache::clear().await;
    if in_worker.borrow_mut().take().is_some() {
        worker.send(WorkerRequest::Forget);
    }
    state.dispatch(SnapshotAction::Forgotten);
}

/// The root component.
#[function_component(App)]
pub fn app() -> Html {
    let lang = use_state(i18n::initial_lang);
    let me = use_state(|| None::<Me>);
    let snapshot = use_reducer(|| SnapshotState {
        cached: None,
        online: true,
        fetching: false,
        in_worker: None,
        defaults: Rc::default(),
    });
    let check = use_reducer(CheckState::default);
    let worker = {
        let check = check.clone();
        let snapshot = snapshot.clone();
        use_memo((), move |_| {
            let check = check.clone();
            let snapshot = snapshot.clone();
            CheckWorker::spawner()
                .callback(move |response: WorkerResponse| match response {
                    WorkerResponse::SnapshotReady(revision, millis) => {
                        snapshot.dispatch(SnapshotAction::InWorker(revision, millis))
                    }
                    WorkerResponse::SnapshotFailed(_) => {}
                    WorkerResponse::Progress(id, phase, fraction) => {
                        check.dispatch(CheckAction::Progress(id, phase, fraction))
                    }
                    WorkerResponse::Checked(id, result) => {
                        check.dispatch(CheckAction::Done(id, Rc::new(*result)))
                    }
                    WorkerResponse::Unreadable(id, reason) => {
                        check.dispatch(CheckAction::Failed(id, reason))
                    }
                    WorkerResponse::Annotated(id, blob) => {
                        check.dispatch(CheckAction::Annotated(id, Rc::new(blob)))
                    }
                    WorkerResponse::Diagnostics(id, page) => {
                        check.dispatch(CheckAction::Page(id, Rc::new(*page)))
                    }
                })
                .encoding::<Js>()
                .spawn("/worker.js")
        })
    };
    let in_worker = use_mut_ref(|| None::<String>);
    let refresh = {
        let worker = worker.clone();
        let snapshot = snapshot.clone();
        Callback::from(move |()| {
            let (worker, snapshot, in_worker) =
                (worker.clone(), snapshot.clone(), in_worker.clone());
            wasm_bindgen_futures::spawn_local(refresh_snapshot(worker, snapshot, in_worker));
        })
    };
    {
        let me = me.clone();
        let refresh = refresh.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(found) = api::me().await {
                    me.set(found);
                }
            });
            refresh.emit(());
        });
    }
    let set_lang = {
        let lang = lang.clone();
        Callback::from(move |l: Lang| {
            i18n::save_lang(l);
            lang.set(l);
        })
    };
    let set_me = {
        let me = me.clone();
        let refresh = refresh.clone();
        Callback::from(move |m: Option<Me>| {
            me.set(m);
            // Signed in: this account's snapshot; signed out: none (refresh clears it).
            refresh.emit(());
        })
    };
    let ctx = Ctx {
        lang: *lang,
        me: (*me).clone(),
        snapshot: (*snapshot).clone(),
        worker,
        check: Rc::new((*check).clone()),
        set_lang,
        set_me,
        refresh,
    };
    html! {
        <ContextProvider<Ctx> context={ctx}>
            <BrowserRouter>
                <Shell />
            </BrowserRouter>
        </ContextProvider<Ctx>>
    }
}

fn age(lang: Lang, fetched_at: f64) -> String {
    let minutes = ((js_sys::Date::now() - fetched_at) / 60_000.0).max(0.0) as u64;
    match minutes {
        0 => t(lang, "snapshot.ago.now").to_owned(),
        m if m < 60 => format!("{m} {}", t(lang, "snapshot.ago.min")),
        m => format!("{} {}", m / 60, t(lang, "snapshot.ago.h")),
    }
}

#[function_component(SnapshotBadge)]
fn snapshot_badge() -> Html {
    let ctx = use_context::<Ctx>().expect("context");
    let lang = ctx.lang;
    let state = &ctx.snapshot;
    let network = if state.online {
        "snapshot.online"
    } else {
        "snapshot.offline"
    };
    let text = match state.cached {
        Some((revision, fetched_at)) => format!(
            "{} {} {revision} · {} {} · {}",
            t(lang, "snapshot"),
            t(lang, "snapshot.revision"),
            t(lang, "snapshot.fetched"),
            age(lang, fetched_at),
            t(lang, network),
        ),
        None => format!("{} · {}", t(lang, "snapshot.none"), t(lang, network)),
    };
    let onclick = {
        let refresh = ctx.refresh.clone();
        Callback::from(move |_| refresh.emit(()))
    };
    html! {
        <div class={classes!("badge", (!state.online).then_some("offline"))} data-testid="snapshot-badge"
            data-revision={state.cached.map(|c| c.0.to_string()).unwrap_or_default()}
            data-online={state.online.to_string()}
            data-decode-ms={state.in_worker.map(|w| format!("{:.0}", w.1)).unwrap_or_default()}>
            <span role="status">{ text }</span>
            <button type="button" onclick={onclick} disabled={state.fetching}>{ t(lang, "snapshot.refresh") }</button>
        </div>
    }
}

#[function_component(Shell)]
fn shell() -> Html {
    let ctx = use_context::<Ctx>().expect("context");
    let lang = ctx.lang;
    let switch_lang = {
        let set_lang = ctx.set_lang.clone();
        Callback::from(move |_| set_lang.emit(if lang == Lang::Fr { Lang::En } else { Lang::Fr }))
    };
    let logout = {
        let set_me = ctx.set_me.clone();
        Callback::from(move |_| {
            let set_me = set_me.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let _ = api::logout().await;
                // The snapshot leaves with its account.
                let _ = cache::clear().await;
                set_me.emit(None);
            });
        })
    };
    let account = match &ctx.me {
        Some(me) => html! {
            <>
                <span data-testid="whoami">{ format!("{} {} ({})", t(lang, "login.as"), me.username, me.role) }</span>
                <button type="button" onclick={logout}>{ t(lang, "nav.logout") }</button>
            </>
        },
        None => html! { <Link<Route> to={Route::Login}>{ t(lang, "nav.login") }</Link<Route>> },
    };
    html! {
        <div lang={i18n::code(lang)}>
            <header>
                <h1><Link<Route> to={Route::Check}>{ "cohortsync" }</Link<Route>></h1>
                <nav aria-label="main">
                    <Link<Route> to={Route::Check}>{ t(lang, "nav.check") }</Link<Route>>
                    <Link<Route> to={Route::Cohorts}>{ t(lang, "nav.cohorts") }</Link<Route>>
                    <Link<Route> to={Route::Courses}>{ t(lang, "nav.courses") }</Link<Route>>
                    if ctx.me.is_some() {
                        <Link<Route> to={Route::Changesets}>{ t(lang, "nav.changesets") }</Link<Route>>
                    }
                    if ctx.me.as_ref().is_some_and(|m| m.is_admin()) {
                        <Link<Route> to={Route::Settings}>{ t(lang, "nav.settings") }</Link<Route>>
                    }
                    { account }
                    <button type="button" onclick={switch_lang} lang={if lang == Lang::Fr { "en" } else { "fr" }}
                        title={t(lang, "nav.lang.label")}>{ t(lang, "nav.lang") }</button>
                </nav>
                <SnapshotBadge />
            </header>
            <main data-testid="app" data-version={cohortsync_shared::VERSION}>
                <Switch<Route> render={switch} />
            </main>
        </div>
    }
}

fn switch(route: Route) -> Html {
    match route {
        Route::Check | Route::NotFound => html! { <CheckPage /> },
        Route::Login => html! { <LoginPage /> },
        Route::Changesets => html! { <ChangesetList /> },
        Route::Changeset { id } => html! { <ChangesetDetail id={id} /> },
        Route::Cohorts => html! { <CohortList /> },
        Route::Cohort { id } => html! { <CohortDetail id={id} /> },
        Route::Courses => html! { <CourseList /> },
        Route::Settings => html! { <SettingsPage /> },
    }
}
