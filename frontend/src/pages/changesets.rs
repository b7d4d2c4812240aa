//! Changesets: the list (teachers see theirs, admins all, filtered by status) and one
//! changeset with its report, plan, effects and drift, where an admin approves, rejects,
//! applies or reverts it.

use serde_json::Value;
use web_sys::{HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::app::{Ctx, Route};
use crate::i18n::t;

const STATUSES: [&str; 6] = [
    "submitted",
    "approved",
    "rejected",
    "applied",
    "failed",
    "reverted",
];

fn date(seconds: &Value) -> String {
    let ms = seconds.as_f64().unwrap_or(0.0) * 1000.0;
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms));
    d.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED)
        .as_string()
        .unwrap_or_default()
}

fn totals_line(totals: &Value) -> String {
    let n = |k: &str| totals[k].as_u64().unwrap_or(0);
    format!(
        "+{} −{} · {} ↑ {} ↓ {} ⏸",
        n("members_added"),
        n("members_removed"),
        n("enrolments"),
        n("unenrolments"),
        n("suspensions")
    )
}

/// The list of changesets.
#[function_component(ChangesetList)]
pub fn changeset_list() -> Html {
    let ctx = use_context::<Ctx>().expect("context");
    let lang = ctx.lang;
    let status = use_state(String::new);
    let list = use_state(|| None::<Result<Vec<Value>, api::ApiError>>);
    {
        let list = list.clone();
        use_effect_with((*status).clone(), move |status| {
            let (list, status) = (list.clone(), status.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let filter = (!status.is_empty()).then_some(status.as_str());
                list.set(Some(api::changesets(filter).await));
            });
        });
    }
    let on_status = {
        let status = status.clone();
        Callback::from(move |e: Event| {
            status.set(e.target_unchecked_into::<HtmlSelectElement>().value())
        })
    };
    html! {
        <section aria-labelledby="list-title">
            <h2 id="list-title">{ t(lang, "list.title") }</h2>
            <label for="status-filter">{ t(lang, "list.status") }</label>
            <select id="status-filter" onchange={on_status}>
                <option value="" selected={status.is_empty()}>{ t(lang, "list.all") }</option>
                { for STATUSES.iter().map(|s| html! { <option value={*s} selected={*status == *s}>{ *s }</option> }) }
            </select>
            { match &*list {
                None => html! { <p>{ t(lang, "loading") }</p> },
                Some(Err(e)) => html! { <p role="alert" class="error">{ e.describe() }</p> },
                Some(Ok(items)) if items.is_empty() => html! { <p>{ t(lang, "list.empty") }</p> },
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
                                let id = c["id"].as_i64().unwrap_or_default();
                                html! {
                                    <tr data-id={id.to_string()} data-status={c["status"].as_str().unwrap_or("").to_owned()}>
                                        <td><Link<Route> to={Route::Changeset { id }}>{ format!("#{id}") }</Link<Route>></td>
                                        <td>{ c["file_name"].as_str().unwrap_or("") }</td>
                                        <td>{ c["author"].as_str().unwrap_or("") }</td>
                                        <td>{ date(&c["created_at"]) }</td>
                                        <td><span class={classes!("status", c["status"].as_str().unwrap_or("").to_owned())}>{ c["status"].as_str().unwrap_or("") }</span></td>
                                        <td>{ totals_line(&c["totals"]) }</td>
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

#[derive(Properties, PartialEq)]
/// Which changeset to show.
pub struct ChangesetDetailProps {
    /// The changeset's id.
    pub id: i64,
}

/// One changeset, and the admin's actions on it.
#[function_component(ChangesetDetail)]
pub fn changeset_detail(props: &ChangesetDetailProps) -> Html {
    let ctx = use_context::<Ctx>().expect("context");
    let lang = ctx.lang;
    let id = props.id;
    let detail = use_state(|| None::<Result<Value, api::ApiError>>);
    let outcome = use_state(|| None::<Result<Value, api::ApiError>>);
    let comment = use_node_ref();
    let reload = {
        let detail = detail.clone();
        Callback::from(move |()| {
            let detail = detail.clone();
            wasm_bindgen_futures::spawn_local(async move {
                detail.set(Some(api::changeset(id).await));
            });
        })
    };
    {
        let reload = reload.clone();
        use_effect_with(id, move |_| reload.emit(()));
    }
    let act = |action: &'static str, with_comment: bool| {
        let (reload, outcome, comment, refresh) = (
            reload.clone(),
            outcome.clone(),
            comment.clone(),
            ctx.refresh.clone(),
        );
        Callback::from(move |_| {
            let text = comment
                .cast::<HtmlTextAreaElement>()
                .map(|c| c.value())
                .unwrap_or_default();
            let (reload, outcome, refresh) = (reload.clone(), outcome.clone(), refresh.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let result = api::act(id, action, with_comment.then_some(text.as_str())).await;
                let changed = result.is_ok() && matches!(action, "apply" | "revert");
                outcome.set(Some(result));
                reload.emit(());
                if changed {
                    refresh.emit(());
                }
            });
        })
    };
    let admin = ctx.me.as_ref().is_some_and(|m| m.is_admin());
    let body = match &*detail {
        None => html! { <p>{ t(lang, "loading") }</p> },
        Some(Err(e)) => html! { <p role="alert" class="error">{ e.describe() }</p> },
        Some(Ok(c)) => {
            let status = c["status"].as_str().unwrap_or("").to_owned();
            let diagnostics = c["report"]["diagnostics"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let operations = c["plan"]["operations"].as_array().map_or(0, Vec::len);
            let effects = c["plan"]["effects"].as_array().map_or(0, Vec::len);
            let drift = &c["drift"];
            html! {
                <>
                    <dl class="meta">
                        <dt>{ t(lang, "list.file") }</dt><dd>{ c["file_name"].as_str().unwrap_or("") }</dd>
                        <dt>{ t(lang, "list.author") }</dt><dd>{ c["author"].as_str().unwrap_or("") }</dd>
                        <dt>{ t(lang, "list.created") }</dt><dd>{ date(&c["created_at"]) }</dd>
                        <dt>{ t(lang, "list.status") }</dt><dd data-testid="status">{ status.clone() }</dd>
                        <dt>{ t(lang, "list.changes") }</dt><dd>{ totals_line(&c["totals"]) }</dd>
                        if let Some(rev) = c["applied_revision"].as_u64() {
                            <dt>{ t(lang, "detail.applied") }</dt><dd>{ rev }</dd>
                        }
                        if let Some(comment) = c["review_comment"].as_str() {
                            <dt>{ t(lang, "detail.review") }</dt><dd>{ format!("{}: {comment}", c["reviewer"].as_str().unwrap_or("")) }</dd>
                        }
                    </dl>
                    if !drift.is_null() {
                        <section aria-labelledby="drift-title" data-testid="drift" data-changed={drift["changed"].as_bool().unwrap_or(false).to_string()}>
                            <h3 id="drift-title">{ t(lang, "detail.drift") }</h3>
                            if drift["changed"].as_bool().unwrap_or(false) {
                                <p class="warning" role="status">{ t(lang, "detail.drift.changed") }
                                    { format!(" (+{} / −{})",
                                        drift["operations_added"].as_array().map_or(0, Vec::len),
                                        drift["operations_removed"].as_array().map_or(0, Vec::len)) }</p>
                            } else {
                                <p>{ t(lang, "detail.drift.none") }</p>
                            }
                        </section>
                    }
                    <section aria-labelledby="plan-title">
                        <h3 id="plan-title">{ t(lang, "detail.plan") }</h3>
                        <p>{ format!("{}: {operations} · {}: {effects}", t(lang, "detail.operations"), t(lang, "detail.effects")) }</p>
                    </section>
                    <section aria-labelledby="report-title">
                        <h3 id="report-title">{ t(lang, "detail.report") }</h3>
                        if diagnostics.is_empty() {
                            <p>{ t(lang, "check.none") }</p>
                        } else {
                            <ul>{ for diagnostics.iter().take(200).map(|d| html! {
                                <li>{ format!("{} {}: {}", t(lang, "col.line"), d["line"], d["code"].as_str().unwrap_or("")) }</li>
                            }) }</ul>
                        }
                    </section>
                    if admin {
                        <section aria-labelledby="actions-title" class="actions">
                            <h3 id="actions-title">{ t(lang, "detail.review") }</h3>
                            if matches!(status.as_str(), "submitted" | "approved" | "failed") {
                                <label for="comment">{ t(lang, "detail.comment") }</label>
                                <textarea id="comment" ref={comment.clone()}></textarea>
                                <button type="button" onclick={act("approve", true)} data-testid="approve">{ t(lang, "detail.approve") }</button>
                                <button type="button" onclick={act("reject", true)} data-testid="reject">{ t(lang, "detail.reject") }</button>
                            }
                            if status == "approved" {
                                <button type="button" onclick={act("apply", false)} data-testid="apply">{ t(lang, "detail.apply") }</button>
                            }
                            if status == "applied" {
                                <button type="button" onclick={act("revert", false)} data-testid="revert">{ t(lang, "detail.revert") }</button>
                            }
                        </section>
                    }
                </>
            }
        }
    };
    html! {
        <section aria-labelledby="detail-title">
            <h2 id="detail-title">{ format!("{} #{id}", t(lang, "detail.title")) }</h2>
            { body }
            { match &*outcome {
                Some(Ok(answer)) => html! { <p role="status" data-testid="outcome">{
                    answer["revision"].as_u64().map(|r| format!("{} {r}", t(lang, "detail.applied"))).unwrap_or_else(|| "OK".into())
                }</p> },
                Some(Err(e)) => html! { <p role="alert" class="error" data-testid="outcome-error">{ e.describe() }</p> },
                None => html! {},
            } }
        </section>
    }
}
