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

/// The table of one page of diagnostics, as HTML text (every value escaped).
///
/// The page's rows are the browser's to build from one text, not Yew's from a tree of
/// elements: a hundred rows were about 2,000 nodes, each created, filled and attached by a
/// call from WebAssembly to JavaScript, which took most of the page's task when a check
/// answers (the browser bench's longest pause). The HTML parser builds them natively in one
/// call. Nothing in the table listens to events.
fn table_html(lang: Lang, page: &DiagnosticPage) -> String {
    use html_escape::{
        encode_double_quoted_attribute_to_string as attr, encode_text_to_string as text,
    };
    let mut html = String::with_capacity(200 + page.rows.len() * 300);
    html.push_str(r#"<table class="diagnostics" data-testid="diagnostics"><thead><tr>"#);
    for key in [
        "col.line",
        "col.column",
        "col.value",
        "col.code",
        "col.severity",
        "col.message",
        "col.original",
    ] {
        html.push_str(r#"<th scope="col">"#);
        text(t(lang, key), &mut html);
        html.push_str("</th>");
    }
    html.push_str("</tr></thead><tbody>");
    for row in &page.rows {
        let d = &row.diagnostic;
        let line = d.line.to_string();
        html.push_str(r#"<tr class=""#);
        html.push_str(d.severity.as_str());
        html.push_str(r#"" data-line=""#);
        html.push_str(&line);
        html.push_str(r#"" data-code=""#);
        attr(d.code.as_str(), &mut html);
        html.push_str(r#""><td>"#);
        html.push_str(&line);
        html.push_str("</td><td>");
        text(d.column.as_deref().unwrap_or_default(), &mut html);
        html.push_str("</td><td>");
        text(d.value.as_deref().unwrap_or_default(), &mut html);
        html.push_str("</td><td><code>");
        text(d.code.as_str(), &mut html);
        html.push_str("</code></td><td>");
        text(severity_word(lang, d.severity), &mut html);
        html.push_str("</td><td>");
        text(&d.message, &mut html);
        html.push_str(r#"</td><td><code class="original">"#);
        text(&row.original, &mut html);
        html.push_str("</code></td></tr>");
    }
    html.push_str("</tbody></table>");
    html
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
/// page of rows ([`PAGE_ROWS`]).
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
    let table = Html::from_html_unchecked(AttrValue::from(table_html(lang, page)));
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
            <div class="diagnostics-table" aria-busy={waiting.to_string()}>
                { table }
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use cohortsync_shared::report::{Code, Diagnostic, DiagnosticFilter, DiagnosticPage, Lang};

    use super::table_html;

    #[test]
    fn a_files_text_in_the_table_is_text_never_markup() {
        let hostile = r#"<img src=x onerror="alert(1)">&amp;"#;
        let diagnostics = [Diagnostic::new(Code::UserNotFound, 4)
            .column("userid")
            .value(hostile)
            .arg("idnumber")];
        let original = format!("del;L2;{hostile}");
        let page = DiagnosticPage::of(
            &diagnostics,
            Lang::En,
            &DiagnosticFilter::default(),
            0,
            |_| Some(original.as_str()),
        );
        let html = table_html(Lang::En, &page);
        let escaped = "&lt;img src=x onerror=\"alert(1)\"&gt;&amp;amp;";
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains(&format!(
                r#"<tr class="error" data-line="4" data-code="user_not_found"><td>4</td><td>userid</td><td>{escaped}</td>"#
            )),
            "{html}"
        );
        assert!(
            html.contains(&format!(
                r#"<code class="original">del;L2;{escaped}</code>"#
            )),
            "{html}"
        );
        // The message quotes the value too.
        assert_eq!(html.matches(escaped).count(), 3, "{html}");
    }
}
