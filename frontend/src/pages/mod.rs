//! The app's pages, one module each, and what several of them use.

use std::rc::Rc;

use cohortsync_shared::snapshot::Snapshot;
use yew::prelude::*;

use crate::api::ApiError;
use crate::app::Ctx;
use crate::cache;
use crate::i18n::t;

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

/// The server's refusal of a submitted file. A `422` carries the server's own check of the
/// file against the current site (the browser's snapshot may be older): its errors are
/// listed, with their lines, in the language the request asked for.
pub(crate) fn refusal(lang: cohortsync_shared::report::Lang, error: &ApiError) -> Html {
    let report = match error {
        ApiError::Status {
            status: 422,
            details,
            ..
        } => serde_json::from_value::<cohortsync_shared::api::CheckOutput>(details.clone()).ok(),
        _ => None,
    };
    let Some(report) = report else {
        return html! { <p role="alert" class="error" data-testid="submit-error">
        { format!("{}: {}", t(lang, "submit.refused"), error.describe()) }</p> };
    };
    let errors: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.severity == cohortsync_shared::report::Severity::Error)
        .collect();
    html! {
        <div role="alert" class="error" data-testid="submit-error">
            <p>{ format!("{} {}", t(lang, "submit.refused.report"), errors.len()) }</p>
            <ul data-testid="submit-report">
                { for errors.iter().take(100).map(|d| html! {
                    <li data-line={d.line.to_string()} data-code={d.code.as_str()}>
                        { format!("{} {}: {}", t(lang, "col.line"), d.line, d.message) }</li>
                }) }
            </ul>
        </div>
    }
}
