//! The app's hooks: the shared context, and the cached snapshot parsed for a page.

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
