//! The Sync page (admins): the sync folder's settings, when the task runs next, *Run now*
//! and *Simulate* with the run's report, and the last 50 files the task took.

use cohortsync_shared::api::SiteSettings;
use cohortsync_shared::folder::{FileRun, OnErrors, Outcome, RunReport, SyncSettings, SyncStatus};
use cohortsync_shared::options::Options;
use cohortsync_shared::report::Lang;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::components::OptionsForm;
use crate::hooks::use_ctx;
use crate::i18n::t;
use crate::pages::changesets::date;
use crate::routes::Route;

/// An outcome in the interface's language.
fn outcome_word(lang: Lang, outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Applied => t(lang, "sync.outcome.applied"),
        Outcome::Waiting => t(lang, "sync.outcome.waiting"),
        Outcome::AlreadyApplied => t(lang, "sync.outcome.already_applied"),
        Outcome::NothingToDo => t(lang, "sync.outcome.nothing_to_do"),
        Outcome::NothingPlanned => t(lang, "sync.outcome.nothing_planned"),
        Outcome::Failed => t(lang, "sync.outcome.failed"),
        Outcome::Unreadable => t(lang, "sync.outcome.unreadable"),
        Outcome::NotSettled => t(lang, "sync.outcome.not_settled"),
    }
}

fn changeset_link(file: &FileRun) -> Html {
    match file.changeset {
        Some(id) => {
            html! { <Link<Route> to={Route::Changeset { id }}>{ format!("#{id}") }</Link<Route>> }
        }
        None => html! {},
    }
}

/// The files of one run, as a table.
#[derive(Properties, PartialEq)]
struct FilesProps {
    files: Vec<(Option<i64>, FileRun)>,
    caption: &'static str,
    testid: &'static str,
}

#[function_component(FilesTable)]
fn files_table(props: &FilesProps) -> Html {
    let lang = use_ctx().lang;
    html! {
        <table data-testid={props.testid}>
            <caption>{ t(lang, props.caption) }</caption>
            <thead><tr>
                <th scope="col">{ t(lang, "sync.col.time") }</th>
                <th scope="col">{ t(lang, "sync.col.file") }</th>
                <th scope="col">{ t(lang, "sync.col.outcome") }</th>
                <th scope="col">{ t(lang, "sync.col.message") }</th>
                <th scope="col">{ t(lang, "sync.col.changeset") }</th>
                <th scope="col">{ t(lang, "sync.col.files") }</th>
            </tr></thead>
            <tbody>
            { for props.files.iter().map(|(at, file)| html! {
                <tr>
                    <td>{ at.map(date).unwrap_or_default() }</td>
                    <td>{ &file.file_name }</td>
                    <td data-outcome={file.outcome.as_str()}>{ outcome_word(lang, file.outcome) }
                        if let Some(reason) = file.waiting { { format!(" ({})", reason.as_str()) } }</td>
                    <td>{ &file.message }</td>
                    <td>{ changeset_link(file) }</td>
                    <td>{ for [&file.archive, &file.report, &file.tryback].into_iter()
                        .filter(|p| !p.is_empty())
                        .map(|p| html! { <div><code>{ p }</code></div> }) }</td>
                </tr>
            }) }
            </tbody>
        </table>
    }
}

/// The sync folder's page.
#[function_component(SyncPage)]
pub fn sync_page() -> Html {
    let ctx = use_ctx();
    let lang = ctx.lang;
    let status = use_state(|| None::<Result<SyncStatus, api::ApiError>>);
    let site_options = use_state(|| None::<Options>);
    let draft = use_state(|| None::<SyncSettings>);
    let saved = use_state(|| None::<Result<(), api::ApiError>>);
    let last_run = use_state(|| None::<Result<RunReport, api::ApiError>>);
    let running = use_state(|| false);
    let reload = {
        let (status, draft, site_options) = (status.clone(), draft.clone(), site_options.clone());
        Callback::from(move |_: ()| {
            let (status, draft, site_options) =
                (status.clone(), draft.clone(), site_options.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let now = api::sync_status().await;
                if let Ok(now) = &now {
                    draft.set(Some(now.settings.clone()));
                }
                if let Ok(settings) = api::settings().await {
                    site_options.set(Some(settings.options));
                }
                status.set(Some(now));
            });
        })
    };
    {
        let reload = reload.clone();
        use_effect_with((), move |_| reload.emit(()));
    }
    if !ctx.me.as_ref().is_some_and(|m| m.is_admin()) {
        return html! { <section><h2>{ t(lang, "sync.title") }</h2><p>{ t(lang, "settings.admins") }</p></section> };
    }
    let edit = {
        let (draft, saved) = (draft.clone(), saved.clone());
        move |change: fn(&mut SyncSettings, String, bool)| {
            let (draft, saved) = (draft.clone(), saved.clone());
            Callback::from(move |e: Event| {
                let (value, checked) = match e.target_dyn_into::<HtmlInputElement>() {
                    Some(input) => (input.value(), input.checked()),
                    None => (
                        e.target_dyn_into::<HtmlSelectElement>()
                            .map(|s| s.value())
                            .unwrap_or_default(),
                        false,
                    ),
                };
                if let Some(mut settings) = (*draft).clone() {
                    change(&mut settings, value, checked);
                    saved.set(None);
                    draft.set(Some(settings));
                }
            })
        }
    };
    let on_options = {
        let (draft, saved) = (draft.clone(), saved.clone());
        Callback::from(move |options: Options| {
            if let Some(mut settings) = (*draft).clone() {
                settings.options = Some(options);
                saved.set(None);
                draft.set(Some(settings));
            }
        })
    };
    // Checked, the folder's files use the site's options; unchecked, they get their own,
    // starting from the site's.
    let on_site_options = {
        let (draft, saved, site_options) = (draft.clone(), saved.clone(), site_options.clone());
        Callback::from(move |e: Event| {
            let on = e
                .target_dyn_into::<HtmlInputElement>()
                .is_some_and(|i| i.checked());
            if let Some(mut settings) = (*draft).clone() {
                settings.options = if on {
                    None
                } else {
                    Some((*site_options).clone().unwrap_or_default())
                };
                saved.set(None);
                draft.set(Some(settings));
            }
        })
    };
    let on_save = {
        let (draft, saved, site_options, reload) = (
            draft.clone(),
            saved.clone(),
            site_options.clone(),
            reload.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (Some(settings), Some(options)) = ((*draft).clone(), (*site_options).clone())
            else {
                return;
            };
            let (saved, reload) = (saved.clone(), reload.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let result = api::save_settings(&SiteSettings {
                    options,
                    fixed_by_site: Vec::new(),
                    sync: Some(settings),
                })
                .await;
                let ok = result.is_ok();
                saved.set(Some(result.map(drop)));
                if ok {
                    reload.emit(());
                }
            });
        })
    };
    let run = {
        let (last_run, running, reload) = (last_run.clone(), running.clone(), reload.clone());
        move |simulate: bool| {
            let (last_run, running, reload) = (last_run.clone(), running.clone(), reload.clone());
            Callback::from(move |_: MouseEvent| {
                let (last_run, running, reload) =
                    (last_run.clone(), running.clone(), reload.clone());
                running.set(true);
                wasm_bindgen_futures::spawn_local(async move {
                    last_run.set(Some(api::run_sync(simulate).await));
                    running.set(false);
                    reload.emit(());
                });
            })
        }
    };
    let form = match (&*draft, &*site_options) {
        (Some(settings), Some(_)) => {
            let problem = settings.problem();
            html! {
                <form onsubmit={on_save} data-testid="sync-form">
                    <fieldset>
                        <legend>{ t(lang, "sync.schedule") }</legend>
                        <label><input type="checkbox" checked={settings.enabled} data-testid="sync-enabled"
                            onchange={edit(|s, _, on| s.enabled = on)} />{ t(lang, "sync.enabled") }</label>
                        <label>{ t(lang, "sync.cron") }
                            <input type="text" value={settings.schedule.clone()} data-testid="sync-schedule"
                                aria-describedby="sync-cron-help" onchange={edit(|s, v, _| s.schedule = v)} /></label>
                        <p id="sync-cron-help" class="help">{ t(lang, "sync.cron.help") }</p>
                    </fieldset>
                    <fieldset>
                        <legend>{ t(lang, "sync.files") }</legend>
                        <label>{ t(lang, "sync.cohorts_file") }
                            <input type="text" value={settings.cohorts_file.clone()}
                                onchange={edit(|s, v, _| s.cohorts_file = v)} /></label>
                        <label>{ t(lang, "sync.bindings_file") }
                            <input type="text" value={settings.bindings_file.clone()}
                                onchange={edit(|s, v, _| s.bindings_file = v)} /></label>
                        <label>{ t(lang, "sync.retention") }
                            <input type="number" min="0" value={settings.retention_days.to_string()}
                                onchange={edit(|s, v, _| s.retention_days = v.parse().unwrap_or(s.retention_days))} /></label>
                        <label>{ t(lang, "sync.lang") }
                            <select onchange={edit(|s, v, _| s.lang = if v == "fr" { Lang::Fr } else { Lang::En })}>
                                <option value="en" selected={settings.lang == Lang::En}>{ "English" }</option>
                                <option value="fr" selected={settings.lang == Lang::Fr}>{ "Français" }</option>
                            </select></label>
                    </fieldset>
                    <fieldset>
                        <legend>{ t(lang, "sync.policy") }</legend>
                        <label><input type="checkbox" checked={settings.auto_apply} data-testid="sync-auto-apply"
                            onchange={edit(|s, _, on| s.auto_apply = on)} />{ t(lang, "sync.auto_apply") }</label>
                        <label>{ t(lang, "sync.on_errors") }
                            <select data-testid="sync-on-errors" onchange={edit(|s, v, _| s.on_errors =
                                if v == "apply_valid_rows" { OnErrors::ApplyValidRows } else { OnErrors::Hold })}>
                                <option value="hold" selected={settings.on_errors == OnErrors::Hold}>{ t(lang, "sync.on_errors.hold") }</option>
                                <option value="apply_valid_rows" selected={settings.on_errors == OnErrors::ApplyValidRows}>{ t(lang, "sync.on_errors.apply_valid_rows") }</option>
                            </select></label>
                        <label><input type="checkbox" checked={settings.options.is_none()} data-testid="sync-site-options"
                            onchange={on_site_options} />{ t(lang, "sync.site_options") }</label>
                        if let Some(options) = &settings.options {
                            <OptionsForm options={options.clone()} on_change={on_options} admin=true site=true />
                        }
                    </fieldset>
                    if let Some(problem) = &problem {
                        <p role="alert" class="error">{ problem }</p>
                    }
                    <button type="submit" data-testid="sync-save" disabled={problem.is_some()}>{ t(lang, "settings.save") }</button>
                    { match &*saved {
                        Some(Ok(())) => html! { <p role="status" data-testid="sync-saved">{ t(lang, "sync.saved") }</p> },
                        Some(Err(e)) => html! { <p role="alert" class="error">{ e.describe() }</p> },
                        None => html! {},
                    } }
                </form>
            }
        }
        _ => html! {},
    };
    html! {
        <section aria-labelledby="sync-title">
            <h2 id="sync-title">{ t(lang, "sync.title") }</h2>
            <p>{ t(lang, "sync.intro") }</p>
            { match &*status {
                None => html! { <p>{ t(lang, "loading") }</p> },
                Some(Err(e)) => html! { <p role="alert" class="error">{ e.describe() }</p> },
                Some(Ok(now)) => html! {
                    <>
                        <p data-testid="sync-folder">{ t(lang, "sync.folder") }{ " " }<code>{ &now.folder }</code></p>
                        <p data-testid="sync-next">{ t(lang, "sync.next") }{ " " }
                            { now.next_run.map(date).unwrap_or_else(|| t(lang, "sync.next.none").to_owned()) }</p>
                        <div>
                            <button type="button" data-testid="sync-run" disabled={*running} onclick={run(false)}>{ t(lang, "sync.run") }</button>
                            { " " }
                            <button type="button" data-testid="sync-simulate" disabled={*running} onclick={run(true)}>{ t(lang, "sync.simulate") }</button>
                        </div>
                        { match &*last_run {
                            None => html! {},
                            Some(Err(e)) => html! { <p role="alert" class="error">{ e.describe() }</p> },
                            Some(Ok(report)) => html! {
                                <div role="status" data-testid="sync-report">
                                    if report.files.is_empty() {
                                        <p>{ t(lang, "sync.no_file") }</p>
                                    } else {
                                        <FilesTable caption={if report.simulated { "sync.report.simulated" } else { "sync.report" }}
                                            testid="sync-report-files"
                                            files={report.files.iter().map(|f| (None, f.clone())).collect::<Vec<_>>()} />
                                    }
                                    { for report.reports.iter().map(|text| html! { <pre>{ text }</pre> }) }
                                </div>
                            },
                        } }
                        { form }
                        <h3>{ t(lang, "sync.history") }</h3>
                        if now.runs.is_empty() {
                            <p>{ t(lang, "sync.history.none") }</p>
                        } else {
                            <FilesTable caption="sync.history" testid="sync-history"
                                files={now.runs.iter().map(|r| (Some(r.at), r.file.clone())).collect::<Vec<_>>()} />
                        }
                    </>
                },
            } }
        </section>
    }
}
