//! One changeset with its report, plan, effects and drift, where an admin approves,
//! rejects, applies or reverts it.

use std::rc::Rc;

use cohortsync_shared::api::{
    ApplyOutcome, AuditEntry, ChangesetDetail as Detail, ChangesetStatus,
};
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use super::changesets::{date, status_word, totals_line};
use crate::api::{self, Acted, Action};
use crate::components::DryRunView;
use crate::hooks::use_ctx;
use crate::i18n::t;

#[derive(Properties, PartialEq)]
/// Which changeset to show.
pub struct ChangesetPageProps {
    /// The changeset's id.
    pub id: i64,
}

/// One changeset, and the admin's actions on it.
#[function_component(ChangesetPage)]
pub fn changeset_page(props: &ChangesetPageProps) -> Html {
    let ctx = use_ctx();
    let lang = ctx.lang;
    let id = props.id;
    let detail = use_state(|| None::<Result<Rc<Detail>, api::ApiError>>);
    let outcome = use_state(|| None::<Result<Acted, api::ApiError>>);
    let comment = use_node_ref();
    let reload = {
        let detail = detail.clone();
        Callback::from(move |()| {
            let detail = detail.clone();
            wasm_bindgen_futures::spawn_local(async move {
                detail.set(Some(api::changeset(id).await.map(Rc::new)));
            });
        })
    };
    {
        let reload = reload.clone();
        use_effect_with(id, move |_| reload.emit(()));
    }
    // The stored plan as the server told it per cohort and course (not yet applied).
    let told = use_memo(
        detail.as_ref().and_then(|d| d.as_ref().ok()).cloned(),
        |detail| detail.as_ref().and_then(|d| d.dry_run.clone()).map(Rc::new),
    );
    let act = |action: Action| {
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
                let result = api::act(id, action, &text).await;
                let wrote = matches!(result, Ok(Acted::Wrote(_)));
                outcome.set(Some(result));
                reload.emit(());
                if wrote {
                    refresh.emit(());
                }
            });
        })
    };
    let admin = ctx.me.as_ref().is_some_and(|m| m.is_admin());
    // What was done to it, for admins: fetched again with the changeset.
    let history = use_state(Vec::<AuditEntry>::new);
    {
        let history = history.clone();
        let loaded = detail.as_ref().and_then(|d| d.as_ref().ok()).cloned();
        use_effect_with((loaded, admin), move |(loaded, admin)| {
            if *admin && loaded.is_some() {
                wasm_bindgen_futures::spawn_local(async move {
                    if let Ok(entries) = api::audit(id).await {
                        history.set(entries);
                    }
                });
            }
        });
    }
    let body = match &*detail {
        None => html! { <p>{ t(lang, "loading") }</p> },
        Some(Err(e)) => html! { <p role="alert" class="error">{ e.describe() }</p> },
        Some(Ok(c)) => {
            let record = &c.record;
            let summary = &record.summary;
            let status = summary.status;
            let diagnostics = &record.report.diagnostics;
            html! {
                <>
                    <dl class="meta">
                        <dt>{ t(lang, "list.file") }</dt><dd>{ &summary.file_name }</dd>
                        <dt>{ t(lang, "list.author") }</dt><dd>{ &summary.author }</dd>
                        <dt>{ t(lang, "list.created") }</dt><dd>{ date(summary.created_at) }</dd>
                        <dt>{ t(lang, "list.status") }</dt><dd data-testid="status" data-status={status.as_str()}>{ status_word(lang, status) }</dd>
                        <dt>{ t(lang, "list.changes") }</dt><dd>{ totals_line(&summary.totals) }</dd>
                        if let Some(rev) = record.applied_revision {
                            <dt>{ t(lang, "detail.applied") }</dt><dd>{ rev }</dd>
                        }
                        { match &record.apply_report {
                            Some(ApplyOutcome::Applied(report)) => html! { <>
                                <dt>{ t(lang, "detail.written") }</dt>
                                <dd data-testid="written">{ totals_line(&report.totals) }</dd>
                            </> },
                            Some(ApplyOutcome::Failed { error }) => html! { <>
                                <dt>{ t(lang, "detail.failed") }</dt><dd>{ error }</dd>
                            </> },
                            None => html! {},
                        } }
                        if let Some(comment) = &record.review_comment {
                            <dt>{ t(lang, "detail.review") }</dt><dd>{ format!("{}: {comment}", record.reviewer.clone().unwrap_or_default()) }</dd>
                        }
                    </dl>
                    if let Some(drift) = &c.drift {
                        <section aria-labelledby="drift-title" data-testid="drift" data-changed={drift.changed.to_string()}>
                            <h3 id="drift-title">{ t(lang, "detail.drift") }</h3>
                            if drift.changed {
                                <p class="warning" role="status">{ t(lang, "detail.drift.changed") }
                                    { format!(" (+{} / −{})", drift.operations_added.len(), drift.operations_removed.len()) }</p>
                            } else {
                                <p>{ t(lang, "detail.drift.none") }</p>
                            }
                        </section>
                    }
                    if let Some(told) = &*told {
                        <section aria-labelledby="plan-title" data-testid="plan">
                            <h3 id="plan-title">{ t(lang, "detail.plan") }</h3>
                            <DryRunView dry={told.clone()} totals={summary.totals} />
                        </section>
                    }
                    <section aria-labelledby="report-title">
                        <h3 id="report-title">{ t(lang, "detail.report") }</h3>
                        if diagnostics.is_empty() {
                            <p>{ t(lang, "check.none") }</p>
                        } else {
                            <ul data-testid="report">{ for diagnostics.iter().take(200).map(|d| html! {
                                <li data-line={d.line.to_string()} data-code={d.code.as_str()}>
                                    { format!("{} {}: {}", t(lang, "col.line"), d.line, d.message(lang)) }</li>
                            }) }</ul>
                        }
                    </section>
                    if !history.is_empty() {
                        <section aria-labelledby="history-title">
                            <h3 id="history-title">{ t(lang, "detail.history") }</h3>
                            <ul data-testid="history">{ for history.iter().map(|e| html! {
                                <li data-action={e.action.clone()}>{ format!("{} · {} · {}{}",
                                    date(e.at), e.account.clone().unwrap_or_default(), e.action,
                                    if e.details.is_empty() { String::new() } else { format!(" · {}", e.details) }) }</li>
                            }) }</ul>
                        </section>
                    }
                    if admin {
                        <section aria-labelledby="actions-title" class="actions">
                            <h3 id="actions-title">{ t(lang, "detail.review") }</h3>
                            if matches!(status, ChangesetStatus::Submitted | ChangesetStatus::Approved | ChangesetStatus::Failed) {
                                <label for="comment">{ t(lang, "detail.comment") }</label>
                                <textarea id="comment" ref={comment.clone()}></textarea>
                                <button type="button" onclick={act(Action::Approve)} data-testid="approve">{ t(lang, "detail.approve") }</button>
                                <button type="button" onclick={act(Action::Reject)} data-testid="reject">{ t(lang, "detail.reject") }</button>
                            }
                            if status == ChangesetStatus::Approved {
                                <button type="button" onclick={act(Action::Apply)} data-testid="apply">{ t(lang, "detail.apply") }</button>
                            }
                            if status == ChangesetStatus::Applied {
                                <button type="button" onclick={act(Action::Revert)} data-testid="revert">{ t(lang, "detail.revert") }</button>
                            }
                        </section>
                        if summary.totals.cohorts_created + summary.totals.members_added > 0 {
                            <section aria-labelledby="moodle-title">
                                <h3 id="moodle-title">{ t(lang, "detail.moodle") }</h3>
                                <p>{ t(lang, "detail.moodle.help") }</p>
                                <ul>
                                    if summary.totals.cohorts_created > 0 {
                                        <li><a href={format!("/api/changesets/{id}/moodle/cohorts.csv")} download=""
                                            data-testid="moodle-cohorts">{ t(lang, "detail.moodle.cohorts") }</a></li>
                                    }
                                    if summary.totals.members_added > 0 {
                                        <li><a href={format!("/api/changesets/{id}/moodle/users.csv")} download=""
                                            data-testid="moodle-users">{ t(lang, "detail.moodle.users") }</a></li>
                                    }
                                </ul>
                            </section>
                        }
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
                Some(Ok(Acted::Wrote(report))) => html! { <p role="status" data-testid="outcome"
                    data-revision={report.revision.to_string()}>
                    { format!("{} {} · {}: {}", t(lang, "detail.applied"), report.revision,
                        t(lang, "detail.written"), totals_line(&report.totals)) }</p> },
                Some(Ok(Acted::Reviewed(detail))) => html! { <p role="status" data-testid="outcome">
                    { status_word(lang, detail.record.summary.status) }</p> },
                Some(Err(e)) => html! { <p role="alert" class="error" data-testid="outcome-error">{ e.describe() }</p> },
                None => html! {},
            } }
        </section>
    }
}
