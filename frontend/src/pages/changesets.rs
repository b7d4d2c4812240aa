//! The changesets page: the list (teachers see theirs, admins all, filtered by status).

use cohortsync_shared::api::{ChangesetStatus, ChangesetSummary};
use cohortsync_shared::changeset::Totals;
use cohortsync_shared::folder::WaitingReason;
use cohortsync_shared::report::Lang;
use web_sys::HtmlSelectElement;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self};
use crate::hooks::use_ctx;
use crate::i18n::t;
use crate::routes::Route;

pub(crate) fn date(seconds: i64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(seconds as f64 * 1000.0));
    d.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED)
        .as_string()
        .unwrap_or_default()
}

pub(crate) fn totals_line(totals: &Totals) -> String {
    format!(
        "+{} −{} · {} ↑ {} ↓ {} ⏸",
        totals.members_added,
        totals.members_removed,
        totals.enrolments,
        totals.unenrolments,
        totals.suspensions
    )
}

/// Why a file of the sync folder waits, in the interface's language.
pub(crate) fn waiting_word(lang: Lang, reason: WaitingReason) -> &'static str {
    match reason {
        WaitingReason::Errors => t(lang, "waiting.errors"),
        WaitingReason::Limit => t(lang, "waiting.limit"),
        WaitingReason::Policy => t(lang, "waiting.policy"),
    }
}

/// A status in the interface's language.
pub(crate) fn status_word(lang: Lang, status: ChangesetStatus) -> &'static str {
    match status {
        ChangesetStatus::Submitted => t(lang, "status.submitted"),
        ChangesetStatus::Approved => t(lang, "status.approved"),
        ChangesetStatus::Rejected => t(lang, "status.rejected"),
        ChangesetStatus::Applied => t(lang, "status.applied"),
        ChangesetStatus::Failed => t(lang, "status.failed"),
        ChangesetStatus::Reverted => t(lang, "status.reverted"),
    }
}

/// The list of changesets.
#[function_component(ChangesetList)]
pub fn changeset_list() -> Html {
    let ctx = use_ctx();
    let lang = ctx.lang;
    let status = use_state(|| None::<ChangesetStatus>);
    let author = use_state(String::new);
    let list = use_state(|| None::<Result<Vec<ChangesetSummary>, api::ApiError>>);
    {
        let list = list.clone();
        use_effect_with((*status, (*author).clone()), move |(status, author)| {
            let (list, status, author) = (list.clone(), *status, author.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let author = Some(author.trim()).filter(|a| !a.is_empty());
                list.set(Some(api::changesets(status, author).await));
            });
        });
    }
    let admin = ctx.me.as_ref().is_some_and(|m| m.is_admin());
    let on_author = {
        let author = author.clone();
        Callback::from(move |e: Event| {
            author.set(
                e.target_unchecked_into::<web_sys::HtmlInputElement>()
                    .value(),
            )
        })
    };
    let on_status = {
        let status = status.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            status.set(ChangesetStatus::parse(&value))
        })
    };
    html! {
        <section aria-labelledby="list-title">
            <h2 id="list-title">{ t(lang, "list.title") }</h2>
            <div class="filters">
                <label for="status-filter">{ t(lang, "list.status") }</label>
                <select id="status-filter" onchange={on_status}>
                    <option value="" selected={status.is_none()}>{ t(lang, "list.all") }</option>
                    { for ChangesetStatus::ALL.iter().map(|s| html! {
                        <option value={s.as_str()} selected={*status == Some(*s)}>{ status_word(lang, *s) }</option>
                    }) }
                </select>
                if admin {
                    <label for="author-filter">{ t(lang, "list.author") }</label>
                    <input id="author-filter" type="search" value={(*author).clone()} onchange={on_author}
                        data-testid="author-filter" />
                }
            </div>
            { match &*list {
                None => html! { <p>{ t(lang, "loading") }</p> },
                Some(Err(e)) => html! { <p role="alert" class="error">{ e.describe() }</p> },
                Some(Ok(items)) if items.is_empty() => html! { <p data-testid="changesets-empty">{ t(lang, "list.empty") }</p> },
                Some(Ok(items)) => html! {
                    <table data-testid="changesets">
                        <thead><tr>
                            <th scope="col">{ t(lang, "list.id") }</th>
                            <th scope="col">{ t(lang, "list.file") }</th>
                            <th scope="col">{ t(lang, "list.author") }</th>
                            <th scope="col">{ t(lang, "list.created") }</th>
                            <th scope="col">{ t(lang, "list.status") }</th>
                            <th scope="col">{ t(lang, "list.changes") }</th>
                        </tr></thead>
                        <tbody>
                            { for items.iter().map(|c| {
                                let id = c.id;
                                html! {
                                    <tr data-id={id.to_string()} data-status={c.status.as_str()}>
                                        <td><Link<Route> to={Route::Changeset { id }}>{ format!("#{id}") }</Link<Route>></td>
                                        <td>{ &c.file_name }</td>
                                        <td>{ &c.author }</td>
                                        <td>{ date(c.created_at) }</td>
                                        <td><span class={classes!("status", c.status.as_str())}>{ status_word(lang, c.status) }</span>
                                            // A file of the sync folder says why it waits.
                                            if let (ChangesetStatus::Submitted, Some(reason)) = (c.status, c.waiting_reason) {
                                                <span class="waiting" data-waiting={reason.as_str()}>{ " " }{ waiting_word(lang, reason) }</span>
                                            }</td>
                                        <td>{ totals_line(&c.totals) }</td>
                                    </tr>
                                }
                            }) }
                        </tbody>
                    </table>
                },
            } }
        </section>
    }
}
