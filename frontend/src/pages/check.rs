//! The check page: pick or drop a file, choose options, see every problem with its line and
//! a dry run of what would change; download the annotated file; submit it.
//!
//! The check itself runs in the worker (`crate::worker`), against the cached snapshot.

use std::rc::Rc;

use cohortsync_shared::api::ChangesetDetail;
use cohortsync_shared::options::Options;
use cohortsync_shared::report::{
    Code, DiagnosticFilter, DiagnosticPage, Lang, PAGE_ROWS, Severity,
};
use serde_json::Value;
use wasm_bindgen::JsCast;
use web_sys::{DragEvent, HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::app::{Ctx, Route};
use crate::i18n::t;
use crate::pages::dry_run::DryRunView;
use crate::pages::refusal;
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

fn severity_word(lang: Lang, severity: Severity) -> &'static str {
    match severity {
        Severity::Error => t(lang, "severity.error"),
        Severity::Warning => t(lang, "severity.warning"),
        Severity::Info => t(lang, "severity.info"),
    }
}

/// The check page.
#[function_component(CheckPage)]
pub fn check_page() -> Html {
    let ctx = use_context::<Ctx>().expect("context");
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

/// What the options form shows and changes.
#[derive(Properties, PartialEq)]
pub(crate) struct OptionsFormProps {
    /// The options shown.
    pub options: Options,
    /// Called with the options after each change.
    pub on_change: Callback<Options>,
    /// An admin chooses the unenrol action and may override the limits.
    pub admin: bool,
    /// The site's defaults are edited (no override of the limits: that is per file).
    #[prop_or_default]
    pub site: bool,
}

/// One select of an option, by its JSON key and values.
fn select(
    lang: Lang,
    json: &Value,
    key: &'static str,
    label: &'static str,
    values: &[(&'static str, &'static str)],
    on_set: &Callback<(&'static str, Value)>,
    locked: bool,
) -> Html {
    let current = json[key].as_str().unwrap_or("").to_owned();
    let onchange = {
        let on_set = on_set.clone();
        Callback::from(move |event: Event| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            on_set.emit((key, Value::String(select.value())));
        })
    };
    let id = format!("opt-{key}");
    html! {
        <div class="field">
            <label for={id.clone()}>{ t(lang, label) }</label>
            <select id={id} onchange={onchange} disabled={locked}>
                { for values.iter().map(|(value, text)| html! {
                    <option value={*value} selected={current == *value}>{ if text.contains('.') { t(lang, text) } else { text } }</option>
                }) }
            </select>
        </div>
    }
}

/// Every option of a check, starting from `options`.
#[function_component(OptionsForm)]
pub(crate) fn options_form(props: &OptionsFormProps) -> Html {
    let ctx = use_context::<Ctx>().expect("context");
    let lang = ctx.lang;
    let json = serde_json::to_value(&props.options).unwrap_or(Value::Null);
    let on_set = {
        let (json, on_change) = (json.clone(), props.on_change.clone());
        Callback::from(move |(key, value): (&'static str, Value)| {
            let mut next = json.clone();
            next[key] = value;
            if let Ok(options) = serde_json::from_value(next) {
                on_change.emit(options);
            }
        })
    };
    let checkbox = |key: &'static str, label: &'static str| {
        let checked = json[key].as_bool().unwrap_or(false);
        let on_set = on_set.clone();
        let onchange = Callback::from(move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            on_set.emit((key, Value::Bool(input.checked())));
        });
        let id = format!("opt-{key}");
        html! {
            <div class="field check">
                <input id={id.clone()} type="checkbox" checked={checked} onchange={onchange} />
                <label for={id}>{ t(lang, label) }</label>
            </div>
        }
    };
    let number = |key: &'static str, label: &'static str| {
        let current = json[key]
            .as_f64()
            .map(|n| n.to_string())
            .unwrap_or_default();
        let on_set = on_set.clone();
        let onchange = Callback::from(move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            let value = input.value();
            let value = if value.trim().is_empty() {
                Value::Null
            } else if key == "max_removals_percent" {
                value.parse::<f64>().map_or(Value::Null, Value::from)
            } else {
                value.parse::<u64>().map_or(Value::Null, Value::from)
            };
            on_set.emit((key, value));
        });
        let id = format!("opt-{key}");
        html! {
            <div class="field">
                <label for={id.clone()}>{ t(lang, label) }</label>
                <input id={id} type="number" min="0" value={current} onchange={onchange} />
            </div>
        }
    };
    html! {
        <details class="options" open=true>
            <summary>{ t(lang, "check.options") }</summary>
            <div class="grid">
                { select(lang, &json, "user_identifier", "opt.user", &[("idnumber", "idnumber"), ("username", "username"), ("email", "email"), ("id", "id")], &on_set, false) }
                { select(lang, &json, "cohort_identifier", "opt.cohort", &[("idnumber", "idnumber"), ("name", "name"), ("id", "id")], &on_set, false) }
                { select(lang, &json, "course_identifier", "opt.course", &[("shortname", "shortname"), ("idnumber", "idnumber"), ("id", "id")], &on_set, false) }
                { select(lang, &json, "role_identifier", "opt.role", &[("shortname", "shortname"), ("id", "id")], &on_set, false) }
                { select(lang, &json, "mode", "opt.mode", &[("incremental", "opt.mode.incremental"), ("full", "opt.mode.full")], &on_set, false) }
                { select(lang, &json, "unenrol_action", "opt.unenrol", &[("unenrol", "opt.unenrol.unenrol"), ("suspend", "opt.unenrol.suspend"), ("suspend_and_remove_roles", "opt.unenrol.suspend_and_remove_roles")], &on_set, !props.admin) }
                { select(lang, &json, "encoding", "opt.encoding", &[("auto", "opt.auto"), ("utf8", "UTF-8"), ("utf16le", "UTF-16 LE"), ("utf16be", "UTF-16 BE"), ("windows1252", "Windows-1252")], &on_set, false) }
                { select(lang, &json, "delimiter", "opt.delimiter", &[("auto", "opt.auto"), ("semicolon", ";"), ("comma", ","), ("tab", "tab")], &on_set, false) }
                { checkbox("create_missing", "opt.create_missing") }
                { checkbox("cleanup_empty", "opt.cleanup_empty") }
                { number("max_removals", "opt.max_removals") }
                { number("max_removals_percent", "opt.max_removals_percent") }
                { number("min_rows", "opt.min_rows") }
                if props.admin && !props.site {
                    { checkbox("override_limits", "opt.override_limits") }
                }
            </div>
        </details>
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
    let ctx = use_context::<Ctx>().expect("context");
    let lang = ctx.lang;
    let output: &Checked = &props.result;
    let summary = &output.summary;
    let kind = match output.kind {
        Some(cohortsync_shared::formats::FileKind::Cohorts) => t(lang, "check.kind.cohorts"),
        Some(cohortsync_shared::formats::FileKind::Bindings) => t(lang, "check.kind.bindings"),
        None => t(lang, "check.kind.unknown"),
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
            if let Some(dry) = &props.result.dry_run {
                <DryRunView dry={Rc::new(dry.clone())} totals={summary.totals} />
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

#[derive(Properties, PartialEq)]
struct DiagnosticsProps {
    /// Which check of this page this is.
    check_id: u32,
    /// The check: its codes and the first page of its diagnostics.
    result: Rc<Checked>,
}

/// The diagnostics, a page at a time: the worker keeps them all and answers each page the
/// table asks for, through the filters, so a file with a million problems lays out a
/// hundred rows.
#[function_component(Diagnostics)]
fn diagnostics(props: &DiagnosticsProps) -> Html {
    let ctx = use_context::<Ctx>().expect("context");
    let lang = ctx.lang;
    let filter = use_state(DiagnosticFilter::default);
    let offset = use_state(|| 0usize);
    // The page to show: the latest the worker sent for this check, else the first.
    let latest = ctx
        .check
        .page
        .as_ref()
        .filter(|(id, _)| *id == props.check_id)
        .map(|(_, page)| page.clone());
    let page: &DiagnosticPage = latest.as_deref().unwrap_or(&props.result.diagnostics);
    if props.result.diagnostics.matching == 0 {
        return html! { <p data-testid="no-diagnostics">{ t(lang, "check.none") }</p> };
    }
    let ask = {
        let (worker, id) = (ctx.worker.clone(), props.check_id);
        let (filter, asked_offset) = (filter.clone(), offset.clone());
        Callback::from(move |(next, offset): (DiagnosticFilter, usize)| {
            filter.set(next.clone());
            asked_offset.set(offset);
            worker.send(Request::Diagnostics {
                id,
                filter: next,
                offset,
            });
        })
    };
    let on_severity = {
        let (ask, filter) = (ask.clone(), (*filter).clone());
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            let severity = [Severity::Error, Severity::Warning, Severity::Info]
                .into_iter()
                .find(|s| s.as_str() == value);
            ask.emit((
                DiagnosticFilter {
                    severity,
                    ..filter.clone()
                },
                0,
            ));
        })
    };
    let on_code = {
        let (ask, filter) = (ask.clone(), (*filter).clone());
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            let code = Code::ALL.iter().copied().find(|c| c.as_str() == value);
            ask.emit((
                DiagnosticFilter {
                    code,
                    ..filter.clone()
                },
                0,
            ));
        })
    };
    let go = |offset: usize| {
        let (ask, filter) = (ask.clone(), (*filter).clone());
        Callback::from(move |_: MouseEvent| ask.emit((filter.clone(), offset)))
    };
    // Until the worker answers, the table shows the previous page, marked busy.
    let waiting = page.filter != *filter || (page.offset != *offset && *offset < page.matching);
    let (first, last) = (page.offset + 1, page.offset + page.rows.len());
    let has_previous = page.offset > 0;
    let has_next = last < page.matching;
    let selected_severity = filter.severity.map(Severity::as_str).unwrap_or_default();
    let selected_code = filter.code.map(|c| c.as_str()).unwrap_or_default();
    html! {
        <section aria-labelledby="diagnostics-title">
            <h3 id="diagnostics-title">{ t(lang, "check.diagnostics") }</h3>
            <div class="filters">
                <label for="filter-severity">{ t(lang, "check.filter.severity") }</label>
                <select id="filter-severity" onchange={on_severity} data-testid="filter-severity">
                    <option value="" selected={selected_severity.is_empty()}>{ t(lang, "check.filter.all") }</option>
                    { for [Severity::Error, Severity::Warning, Severity::Info].into_iter().map(|s| html! {
                        <option value={s.as_str()} selected={selected_severity == s.as_str()}>{ severity_word(lang, s) }</option>
                    }) }
                </select>
                <label for="filter-code">{ t(lang, "check.filter.code") }</label>
                <select id="filter-code" onchange={on_code} data-testid="filter-code">
                    <option value="" selected={selected_code.is_empty()}>{ t(lang, "check.filter.all") }</option>
                    { for props.result.codes.iter().map(|(c, n)| html! {
                        <option value={c.as_str()} selected={selected_code == c.as_str()}>{ format!("{} ({n})", c.as_str()) }</option>
                    }) }
                </select>
            </div>
            <div class="pager">
                <button type="button" onclick={go(page.offset.saturating_sub(PAGE_ROWS))} disabled={!has_previous}
                    data-testid="page-previous">{ t(lang, "check.page.previous") }</button>
                <span role="status" data-testid="page-status">{ if page.matching == 0 {
                    t(lang, "check.page.none").to_owned()
                } else {
                    format!("{first}–{last} {} {}", t(lang, "check.page.of"), page.matching)
                } }</span>
                <button type="button" onclick={go(page.offset + PAGE_ROWS)} disabled={!has_next}
                    data-testid="page-next">{ t(lang, "check.page.next") }</button>
            </div>
            <table class="diagnostics" data-testid="diagnostics" aria-busy={waiting.to_string()}>
                <thead><tr>
                    <th scope="col">{ t(lang, "col.line") }</th>
                    <th scope="col">{ t(lang, "col.column") }</th>
                    <th scope="col">{ t(lang, "col.value") }</th>
                    <th scope="col">{ t(lang, "col.code") }</th>
                    <th scope="col">{ t(lang, "col.severity") }</th>
                    <th scope="col">{ t(lang, "col.message") }</th>
                    <th scope="col">{ t(lang, "col.original") }</th>
                </tr></thead>
                <tbody>
                    { for page.rows.iter().map(|row| {
                        let d = &row.diagnostic;
                        html! {
                            <tr class={d.severity.as_str()} data-line={d.line.to_string()} data-code={d.code.as_str()}>
                                <td>{ d.line }</td>
                                <td>{ d.column.clone().unwrap_or_default() }</td>
                                <td>{ d.value.clone().unwrap_or_default() }</td>
                                <td><code>{ d.code.as_str() }</code></td>
                                <td>{ severity_word(lang, d.severity) }</td>
                                <td>{ &d.message }</td>
                                <td><code class="original">{ &row.original }</code></td>
                            </tr>
                        }
                    }) }
                </tbody>
            </table>
        </section>
    }
}
