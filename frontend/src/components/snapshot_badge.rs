//! The badge in the header: which snapshot the checks run against.

use cohortsync_shared::report::Lang;
use yew::prelude::*;

use crate::hooks::use_ctx;
use crate::i18n::t;

fn age(lang: Lang, fetched_at: f64) -> String {
    let minutes = ((js_sys::Date::now() - fetched_at) / 60_000.0).max(0.0) as u64;
    match minutes {
        0 => t(lang, "snapshot.ago.now").to_owned(),
        m if m < 60 => format!("{m} {}", t(lang, "snapshot.ago.min")),
        m => format!("{} {}", m / 60, t(lang, "snapshot.ago.h")),
    }
}

/// The snapshot in use: its revision, age and whether the server answered, with a button
/// to fetch it again.
#[function_component(SnapshotBadge)]
pub fn snapshot_badge() -> Html {
    let ctx = use_ctx();
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
