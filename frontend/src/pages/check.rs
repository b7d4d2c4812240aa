//! The check page: pick or drop a file, choose options, see every problem with its line and
//! a dry run of what would change; download the annotated file; submit it.
//!
//! The check itself runs in the worker (`crate::worker`), against the cached snapshot.

use std::rc::Rc;

use cohortsync_shared::api::ChangesetDetail;
use cohortsync_shared::options::Options;
use wasm_bindgen::JsCast;
use web_sys::{DragEvent, HtmlInputElement};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::components::refusal;
use crate::components::{Diagnostics, DryRunView, OptionsForm};
use crate::hooks::{use_after_paint, use_ctx};
use crate::i18n::t;
use crate::routes::Route;
use crate::worker::{Checked, Phase, Request};

/// A file the person picked: a handle only. The worker reads it, and a submission sends it
/// as it is, so the page's thread never copies its megabytes.
#[derive(Debug, Clone, PartialEq)]
struct PickedFile {
    name: String,
    size: f64,
    file: web_sys::File,
}

impl PickedFile {
    fn new(file: web_sys::File) -> Self {
        PickedFile {
            name: file.name(),
            size: file.size(),
            file,
        }
    }
}

/// The check page.
#[function_component(CheckPage)]
pub fn check_page() -> Html {
    let ctx = use_ctx();
    let lang = ctx.lang;
    let file = use_state(|| None::<PickedFile>);
    // The options start from the site's defaults (the snapshot's), and follow them until
    // the person changes one.
    let options = use_state(|| (*ctx.snapshot.defaults).clone());
    let edited = use_state(|| false);
    {
        let (options, edited) = (options.clone(), *edited);
        use_effect_with(ctx.snapshot.defaults.clone(), move |defaults| {
            if !edited && *options != **defaults {
                options.set((**defaults).clone());
            }
        });
    }
    let next_id = use_mut_ref(|| 0u32);
    let asked = use_state(|| None::<u32>);
    let submitted = use_state(|| None::<Result<ChangesetDetail, api::ApiError>>);

    // Check again when the file, the options, the language or the snapshot change.
    {
        let worker = ctx.worker.clone();
        let asked = asked.clone();
        let next_id = next_id.clone();
        let submitted = submitted.clone();
        use_effect_with(
            (
                (*file).clone(),
                (*options).clone(),
                lang,
                ctx.snapshot.in_worker,
            ),
            move |(file, options, lang, _)| {
                if let Some(file) = file {
                    let id = {
                        let mut next = next_id.borrow_mut();
                        *next += 1;
                        *next
                    };
                    asked.set(Some(id));
                    submitted.set(None);
                    worker.send(Request::Check {
                        id,
                        file: file.file.clone(),
                        options: options.clone(),
                        lang: *lang,
                    });
                }
            },
        );
    }

    let on_file = {
        let file = file.clone();
        Callback::from(move |picked: web_sys::File| file.set(Some(PickedFile::new(picked))))
    };
    let on_input = {
        let on_file = on_file.clone();
        Callback::from(move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            if let Some(f) = input.files().and_then(|files| files.get(0)) {
                on_file.emit(f);
            }
        })
    };
    let dragging = use_state(|| false);
    let on_drop = {
        let (on_file, dragging) = (on_file.clone(), dragging.clone());
        Callback::from(move |event: DragEvent| {
            event.prevent_default();
            dragging.set(false);
            if let Some(f) = event
                .data_transfer()
                .and_then(|d| d.files())
                .and_then(|files| files.get(0))
            {
                on_file.emit(f);
            }
        })
    };
    let on_drag_over = {
        let dragging = dragging.clone();
        Callback::from(move |event: DragEvent| {
            event.prevent_default();
            dragging.set(true);
        })
    };
    let on_drag_leave = {
        let dragging = dragging.clone();
        Callback::from(move |_| dragging.set(false))
    };

    // The answer to the latest question only: older ones are stale.
    let result = ctx
        .check
        .result
        .as_ref()
        .filter(|(id, _)| Some(*id) == *asked)
        .map(|(_, r)| r.clone());
    let failed = ctx
        .check
        .failed
        .as_ref()
        .filter(|(id, _)| Some(*id) == *asked)
        .map(|(_, reason)| reason.clone());
    let running = (*asked).is_some() && result.is_none() && failed.is_none();
    let (phase, fraction) = ctx
        .check
        .progress
        .filter(|(id, _, _)| Some(*id) == *asked)
        .map_or((None, None), |(_, p, f)| (Some(p), f));

    html! {
        <section aria-labelledby="check-title">
            <h2 id="check-title">{ t(lang, "check.title") }</h2>
            <div class={classes!("dropzone", dragging.then_some("dragging"))}
                ondrop={on_drop} ondragover={on_drag_over} ondragleave={on_drag_leave}
                data-testid="dropzone">
                <label for="file">{ t(lang, "check.drop") }</label>
                <input id="file" type="file" accept=".csv,.txt,text/csv" onchange={on_input} data-testid="file-input" />
                if let Some(f) = &*file {
                    <p class="filename">{ format!("{}: {} ({} bytes)", t(lang, "check.file"), f.name, f.size) }</p>
                }
            </div>
            <OptionsForm options={(*options).clone()} on_change={Callback::from({
                let (options, edited) = (options.clone(), edited.clone());
                move |o: Options| {
                    edited.set(true);
                    options.set(o)
                }
            })} admin={ctx.me.as_ref().is_some_and(|m| m.is_admin())} />
            if running {
                <div class="progress" role="status" aria-live="polite" data-testid="progress">
                    if let Some(fraction) = fraction {
                        <progress aria-label={t(lang, "check.running")} max="100" value={format!("{:.0}", fraction * 100.0)}></progress>
                        <span>{ format!("{:.0} %", fraction * 100.0) }</span>
                    } else {
                        <progress aria-label={t(lang, "check.running")}></progress>
                    }
                    <span>{ match phase {
                        Some(Phase::Summarising) => t(lang, "check.phase.summarising"),
                        Some(Phase::Reading) => t(lang, "check.phase.reading"),
                        _ => t(lang, "check.phase.checking"),
                    } }</span>
                </div>
            }
            if let Some(reason) = failed {
                <p role="alert" class="error">{ format!("{}: {reason}", t(lang, "check.unreadable")) }</p>
            }
            if let (Some(result), Some(file)) = (result, (*file).clone()) {
                <Results check_id={(*asked).unwrap_or_default()} result={result} file={file.clone()}
                    options={(*options).clone()} submitted={(*submitted).clone()}
                    on_submitted={Callback::from({
                        let submitted = submitted.clone();
                        move |r| submitted.set(Some(r))
                    })} />
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct ResultsProps {
    /// Which check of this page this is (tests and benchmarks wait for a new one).
    check_id: u32,
    result: Rc<Checked>,
    /// The picked file (compared by identity, not by its megabytes, on every re-render).
    file: PickedFile,
    options: Options,
    submitted: Option<Result<ChangesetDetail, api::ApiError>>,
    on_submitted: Callback<Result<ChangesetDetail, api::ApiError>>,
}

/// Offers `blob` as a download named `name`.
fn download(name: &str, blob: &web_sys::Blob) {
    let Ok(url) = web_sys::Url::create_object_url_with_blob(blob) else {
        return;
    };
    if let Some(document) = web_sys::window().and_then(|w| w.document())
        && let Ok(element) = document.create_element("a")
        && let Ok(anchor) = element.dyn_into::<web_sys::HtmlAnchorElement>()
    {
        anchor.set_href(&url);
        anchor.set_download(name);
        anchor.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

#[function_component(Results)]
fn results(props: &ResultsProps) -> Html {
    let ctx = use_ctx();
    let lang = ctx.lang;
    // The dry run, below the diagnostics, is made once the rest is on screen.
    let painted = use_after_paint();
    let output: &Checked = &props.result;
    let summary = &output.summary;
    let kind = match output.kind {
        Some(kind) => cohortsync_shared::report::kind_name(kind, lang),
        None => t(lang, "check.kind.unknown"),
    };
    // The dry run came with its first rows; the worker has the whole of it.
    let whole_dry_run = crate::state::of_check(&ctx.check.dry_run, props.check_id);
    let on_show_all_dry_run = {
        let (worker, id) = (ctx.worker.clone(), props.check_id);
        Callback::from(move |()| worker.send(Request::DryRun(id)))
    };
    // The annotated copy is made in the worker, which has every diagnostic.
    let wanted = use_mut_ref(|| None::<u32>);
    let on_download = {
        let (worker, wanted, id) = (ctx.worker.clone(), wanted.clone(), props.check_id);
        Callback::from(move |_| {
            *wanted.borrow_mut() = Some(id);
            worker.send(Request::Annotate(id));
        })
    };
    {
        let (wanted, name) = (wanted.clone(), props.file.name.clone());
        use_effect_with(ctx.check.annotated.clone(), move |annotated| {
            if let Some((id, blob)) = annotated
                && *wanted.borrow() == Some(*id)
            {
                *wanted.borrow_mut() = None;
                let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
                download(&format!("{stem}-checked.csv"), blob);
            }
        });
    }
    let on_submit = {
        let (file, name, options) = (
            props.file.file.clone(),
            props.file.name.clone(),
            props.options.clone(),
        );
        let on_submitted = props.on_submitted.clone();
        Callback::from(move |_| {
            let (file, name, options, on_submitted) = (
                file.clone(),
                name.clone(),
                options.clone(),
                on_submitted.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                on_submitted.emit(api::submit(&name, &file, &options, lang).await);
            });
        })
    };
    let limits = &output.limits;
    // What the server would refuse from a teacher, told before submitting (the same rule).
    let beyond = if ctx.me.as_ref().is_some_and(|m| m.is_admin()) {
        Vec::new()
    } else {
        props.options.exceeds_site(&ctx.snapshot.defaults)
    };
    html! {
        <>
            <section aria-labelledby="summary-title" class="summary" data-testid="summary"
                data-ok={output.ok.to_string()} data-errors={summary.counts.errors.to_string()}
                data-kind={output.kind.map_or("", |k| k.as_str())}
                data-millis={format!("{:.1}", props.result.millis)} data-check-id={props.check_id.to_string()}>
                <h3 id="summary-title">{ t(lang, "check.summary") }</h3>
                <dl>
                    <dt>{ t(lang, "check.kind") }</dt><dd>{ kind }</dd>
                    <dt>{ t(lang, "check.rows") }</dt><dd>{ summary.rows }</dd>
                    <dt>{ t(lang, "check.errors") }</dt><dd>{ summary.counts.errors }</dd>
                    <dt>{ t(lang, "check.warnings") }</dt><dd>{ summary.counts.warnings }</dd>
                    <dt>{ t(lang, "check.encoding") }</dt><dd>{ output.encoding.map(|e| format!("{e:?}")).unwrap_or_default() }</dd>
                    <dt>{ t(lang, "check.delimiter") }</dt><dd>{ output.delimiter.map(|d| d.name()).unwrap_or_default() }</dd>
                    <dt>{ t(lang, "check.checked_in") }</dt><dd>{ format!("{:.0} ms", props.result.millis) }</dd>
                </dl>
                if props.result.omitted > 0 {
                    <p class="omitted" data-testid="omitted">
                        { t(lang, "check.omitted").replace("{listed}", &(summary.counts.total() - props.result.omitted).to_string()).replace("{omitted}", &props.result.omitted.to_string()) }
                    </p>
                }
                <p class={if output.ok { "ok" } else { "error" }} role="status">
                    { if output.ok { t(lang, "check.ok") } else { t(lang, "check.has_errors") } }
                </p>
                <button type="button" onclick={on_download} data-testid="download">{ t(lang, "check.download") }</button>
            </section>
            <Diagnostics check_id={props.check_id} result={props.result.clone()} />
            if !limits.is_empty() {
                <section class="limits" role="alert">
                    <h3>{ t(lang, "dry.limits") }</h3>
                    <ul>{ for limits.iter().map(|d| html! { <li>{ &d.message }</li> }) }</ul>
                </section>
            }
            if let Some(first_rows) = props.result.dry_run.as_ref().filter(|_| painted) {
                // One view whichever it shows, so that it keeps its "show all" state when
                // the whole dry run arrives.
                <DryRunView dry={whole_dry_run.clone().unwrap_or_else(|| first_rows.clone())}
                    totals={summary.totals}
                    rows={whole_dry_run.is_none().then_some(props.result.dry_run_rows)}
                    on_show_all={whole_dry_run.is_none().then_some(on_show_all_dry_run)} />
            }
            if output.ok {
                <section class="submit">
                    if !beyond.is_empty() {
                        <p role="alert" class="error" data-testid="beyond-site">
                            { format!("{} {}", t(lang, "submit.beyond_site"), beyond.join(", ")) }</p>
                    }
                    if ctx.me.is_some() {
                        <button type="button" onclick={on_submit} data-testid="submit"
                            disabled={!beyond.is_empty()}>{ t(lang, "submit") }</button>
                    } else {
                        <p><Link<Route> to={Route::Login}>{ t(lang, "submit.login") }</Link<Route>></p>
                    }
                    { match &props.submitted {
                        Some(Ok(created)) => {
                            let id = created.record.summary.id;
                            html! { <p role="status" data-testid="submitted">{ t(lang, "submit.done") }{" "}
                                <Link<Route> to={Route::Changeset { id }}>{ format!("#{id}") }</Link<Route>></p> }
                        }
                        Some(Err(error)) => refusal(lang, error),
                        None => html! {},
                    } }
                </section>
            }
        </>
    }
}
