//! The root component: it holds the shared state (`crate::state`), spawns the check worker,
//! keeps the snapshot fresh, and lays out the header and the routed page.

use std::cell::RefCell;
use std::rc::Rc;

use cohortsync_shared::options::Options;
use cohortsync_shared::report::Lang;
use gloo_worker::Spawnable;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, Me, SnapshotFetch};
use crate::cache::{self, CachedSnapshot};
use crate::components::SnapshotBadge;
use crate::hooks::{in_a_task_of_its_own, use_ctx};
use crate::i18n::{self, t};
use crate::pages::{
    ChangesetList, ChangesetPage, CheckPage, CohortList, CohortPage, CourseList, LoginPage,
    SettingsPage, SyncPage,
};
use crate::routes::Route;
use crate::state::{CheckAction, CheckState, Ctx, SnapshotAction, SnapshotState};
use crate::worker::{
    CheckWorker, Js, Refreshed, Request as WorkerRequest, Response as WorkerResponse,
};
use futures_channel::oneshot;

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

/// Where the worker's answer to a `Changes` request goes: the refresh waiting for it.
type PendingChanges = Rc<RefCell<Option<oneshot::Sender<Result<Refreshed, String>>>>>;

/// Fetches the snapshot (conditionally on the cached one: only what changed since its
/// revision, when the server still has it), caches it, and hands it to the worker.
/// Offline or signed out, the cached one stays in use.
async fn refresh_snapshot(
    worker: Rc<gloo_worker::WorkerBridge<CheckWorker>>,
    state: UseReducerHandle<SnapshotState>,
    in_worker: Rc<RefCell<Option<String>>>,
    pending: PendingChanges,
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
    let since = cached.as_ref().map(|c| c.revision);
    let mut fetched = api::snapshot(etag.as_deref(), since).await;
    if let Ok(SnapshotFetch::Changes { json, etag }) = fetched {
        // The worker holds the cached copy (handed over above): it applies the changes and
        // sends the result back to be cached.
        let (tell, told) = oneshot::channel();
        *pending.borrow_mut() = Some(tell);
        worker.send(WorkerRequest::Changes(json));
        match told.await {
            Ok(Ok(refreshed)) => {
                let Refreshed {
                    json,
                    revision,
                    defaults,
                    millis,
                } = refreshed;
                let fresh = CachedSnapshot {
                    revision,
                    json,
                    etag,
                    fetched_at: js_sys::Date::now(),
                    defaults,
                    owner,
                };
                *in_worker.borrow_mut() = Some(fresh.etag.clone());
                state.dispatch(SnapshotAction::InWorker(revision, millis));
                keep(&state, &fresh).await;
                state.dispatch(SnapshotAction::Fetched { online: true });
                return;
            }
            // They did not apply: the whole snapshot, then.
            _ => fetched = api::snapshot(None, None).await,
        }
    }
    let online = match fetched {
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
            keep(&state, &fresh).await;
            true
        }
        // Only a fetch with `since` answers changes, and the one above has none.
        Ok(SnapshotFetch::Changes { .. }) => true,
        Err(api::ApiError::Network(_)) => false,
        Err(api::ApiError::Status { status: 401, .. }) => {
            forget(&worker, &state, &in_worker).await;
            true
        }
        Err(_) => true,
    };
    state.dispatch(SnapshotAction::Fetched { online });
}

/// Shows `fresh` as the snapshot in use, and caches it if it has an owner (an account).
async fn keep(state: &UseReducerHandle<SnapshotState>, fresh: &CachedSnapshot) {
    state.dispatch(SnapshotAction::Cached(fresh.revision, fresh.fetched_at));
    state.dispatch(SnapshotAction::Defaults(fresh.defaults.clone()));
    if fresh.owner.is_some() {
        let _ = cache::save(fresh).await;
    }
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
    let pending: PendingChanges = use_mut_ref(|| None);
    let worker = {
        let check = check.clone();
        let snapshot = snapshot.clone();
        let pending = pending.clone();
        use_memo((), move |_| {
            let check = check.clone();
            let snapshot = snapshot.clone();
            let answer = move |result| {
                if let Some(tell) = pending.borrow_mut().take() {
                    let _ = tell.send(result);
                }
            };
            CheckWorker::spawner()
                .callback(move |response: WorkerResponse| match response {
                    WorkerResponse::Refreshed(refreshed) => answer(Ok(*refreshed)),
                    WorkerResponse::ChangesFailed(reason) => answer(Err(reason)),
                    WorkerResponse::SnapshotReady(revision, millis) => {
                        snapshot.dispatch(SnapshotAction::InWorker(revision, millis))
                    }
                    WorkerResponse::SnapshotFailed(_) => {}
                    WorkerResponse::Progress(id, phase, fraction) => {
                        check.dispatch(CheckAction::Progress(id, phase, fraction))
                    }
                    WorkerResponse::Checked(id, result) => {
                        // Read in this task, shown in the next: the page's thread is free
                        // between reading a check's answer and laying out its report.
                        let check = check.clone();
                        in_a_task_of_its_own(move || {
                            check.dispatch(CheckAction::Done(id, Rc::new(*result)))
                        })
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
                    WorkerResponse::DryRun(id, dry) => check.dispatch(CheckAction::DryRun(id, dry)),
                })
                .encoding::<Js>()
                .spawn("/worker.js")
        })
    };
    let in_worker = use_mut_ref(|| None::<String>);
    let refresh = {
        let worker = worker.clone();
        let snapshot = snapshot.clone();
        let pending = pending.clone();
        Callback::from(move |()| {
            let (worker, snapshot, in_worker, pending) = (
                worker.clone(),
                snapshot.clone(),
                in_worker.clone(),
                pending.clone(),
            );
            wasm_bindgen_futures::spawn_local(refresh_snapshot(
                worker, snapshot, in_worker, pending,
            ));
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

#[function_component(Shell)]
fn shell() -> Html {
    let ctx = use_ctx();
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
                        <Link<Route> to={Route::Sync}>{ t(lang, "nav.sync") }</Link<Route>>
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
        Route::Changeset { id } => html! { <ChangesetPage id={id} /> },
        Route::Cohorts => html! { <CohortList /> },
        Route::Cohort { id } => html! { <CohortPage id={id} /> },
        Route::Courses => html! { <CourseList /> },
        Route::Settings => html! { <SettingsPage /> },
        Route::Sync => html! { <SyncPage /> },
    }
}
