//! The app's pages, one module each, and what several of them use.

use std::rc::Rc;

use cohortsync_shared::snapshot::Snapshot;
use yew::prelude::*;

use crate::app::Ctx;
use crate::cache;

pub mod changesets;
pub mod check;
pub mod cohorts;
pub mod dry_run;
pub mod login;
pub mod settings;

/// The cached snapshot, parsed on this page (`None` while loading or when there is none).
#[hook]
pub(crate) fn use_snapshot() -> Option<Rc<Snapshot>> {
    let ctx = use_context::<Ctx>().expect("context");
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
