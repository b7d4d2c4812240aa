//! The app's hooks: the shared context, the cached snapshot parsed for a page, and what
//! waits until the page has painted; and the task scheduling they share.

use std::cell::RefCell;
use std::rc::Rc;

use cohortsync_shared::snapshot::Snapshot;
use yew::prelude::*;

use crate::cache;
use crate::state::Ctx;

/// The app's shared state (language, account, snapshot, check worker): every component
/// is rendered inside the root's provider.
#[hook]
pub fn use_ctx() -> Ctx {
    use_context::<Ctx>().expect("every component is rendered inside the app's context")
}

/// The cached snapshot, parsed on this page (`None` while loading or when there is none).
#[hook]
pub fn use_snapshot() -> Option<Rc<Snapshot>> {
    let ctx = use_ctx();
    let snapshot = use_state(|| None::<Rc<Snapshot>>);
    {
        let snapshot = snapshot.clone();
        use_effect_with(ctx.snapshot.cached.map(|c| c.0), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                if let Some(cached) = cache::load().await
                    && let Ok(parsed) = Snapshot::from_json(cached.json.as_bytes())
                {
                    snapshot.set(Some(Rc::new(parsed)));
                }
            });
        });
    }
    (*snapshot).clone()
}

/// False on a component's first render, true once the page has painted since. What can
/// wait a frame is made then, in a task of its own: a check's report shows its summary and
/// diagnostics first, and makes its dry run (a hundred cohorts with their people, below
/// the diagnostics) after, so that neither task holds the page's thread for long
/// (BENCHMARKS.md).
#[hook]
pub fn use_after_paint() -> bool {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    let painted = use_state_eq(|| false);
    {
        let painted = painted.clone();
        use_effect_with((), move |_| {
            // A frame's callback runs before that frame is laid out and painted; a timeout
            // set there runs once it is. Setting the state of a component gone since is
            // harmless.
            let next_frame =
                Closure::once_into_js(move || in_a_task_of_its_own(move || painted.set(true)));
            if let Some(window) = web_sys::window() {
                let _ = window.request_animation_frame(next_frame.unchecked_ref());
            }
        });
    }
    *painted
}

/// Runs `f` in a task of its own, after what the page's thread has queued (a timeout of 0),
/// rather than in the current one; at once if no timeout can be set.
pub fn in_a_task_of_its_own(f: impl FnOnce() + 'static) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    let f = Rc::new(RefCell::new(Some(f)));
    let later = f.clone();
    let task = Closure::once_into_js(move || {
        if let Some(f) = later.borrow_mut().take() {
            f()
        }
    });
    let set = web_sys::window().map(|window| {
        window
            .set_timeout_with_callback(task.unchecked_ref())
            .is_ok()
    });
    if set != Some(true)
        && let Some(f) = f.borrow_mut().take()
    {
        f()
    }
}
