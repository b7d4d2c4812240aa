//! The table of a check's diagnostics, a page at a time, with its filters.

use std::rc::Rc;

use cohortsync_shared::report::{
    Code, DiagnosticFilter, DiagnosticPage, Lang, PAGE_ROWS, Severity,
};
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::hooks::use_ctx;
use crate::i18n::t;
use crate::worker::{Checked, Request};

fn severity_word(lang: Lang, severity: Severity) -> &'static str {
    match severity {
        Severity::Error => t(lang, "severity.error"),
        Severity::Warning => t(lang, "severity.warning"),
        Severity::Info => t(lang, "severity.info"),
    }
}

/// What the diagnostics table shows.
#[derive(Properties, PartialEq)]
pub struct DiagnosticsProps {
    /// Which check of this page this is.
    pub check_id: u32,
    /// The check: its codes and the first page of its diagnostics.
    pub result: Rc<Checked>,
}

/// The diagnostics, a page at a time: the worker keeps them all and answers each page the
/// table asks for, through the filters, so a file with a million problems lays out a
/// hundred rows.
#[function_component(Diagnostics)]
pub fn diagnostics(props: &DiagnosticsProps) -> Html {
    let ctx = use_ctx();
    let lang = ctx.lang;
    let filter = use_state(DiagnosticFilter::default);
    let offset = use_state(|| 0usize);
    // The page to show: the latest the worker sent for this check, else the first.
    let latest = crate::state::of_check(&ctx.check.page, props.check_id);
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
