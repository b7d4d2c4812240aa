//! The report as text for a terminal, in English or French: what `cohortsync validate`
//! prints (and what the sync folder's reports will hold).

use std::collections::BTreeMap;
use std::fmt::Write;

use super::Report;
use super::diagnostic::Severity;
use super::messages::{Lang, TextWords, kind_name};
use crate::changeset::Totals;

/// The report of file `name` as text: a header line, the diagnostics grouped by code with
/// their counts, then the planned `totals` (`None`: the file has errors, no plan).
pub fn render(name: &str, report: &Report, totals: Option<Totals>, lang: Lang) -> String {
    let words = TextWords::of(lang);
    let mut out = String::new();
    let kind = report.kind.map_or("?", |k| kind_name(k, lang));
    let _ = writeln!(
        out,
        "{name}: {kind}, {}, {} {}, {} {}",
        report.encoding.map_or("?", |e| e.as_str()),
        words.delimiter,
        report.delimiter.map_or("?", |d| d.name()),
        report.rows,
        words.rows,
    );
    let counts = report.counts();
    let _ = writeln!(
        out,
        "{} {}, {} {}, {} {}",
        counts.errors, words.errors, counts.warnings, words.warnings, counts.infos, words.notes,
    );
    let omitted = report.omitted_count();
    if omitted > 0 {
        let listed = report.diagnostics.len();
        let _ = writeln!(out, "{}", words.omitted(listed, omitted, lang));
    }
    render_diagnostics(report, words, lang, &mut out);
    match totals {
        None => {
            let _ = writeln!(out, "\n{}", words.no_plan);
        }
        Some(t) => {
            let _ = writeln!(out, "\n{}", words.plan);
            let figures = [
                t.cohorts_created,
                t.cohorts_updated,
                t.cohorts_deleted,
                t.members_added,
                t.members_removed,
                t.groups_created,
                t.bindings_created,
                t.bindings_updated,
                t.bindings_deleted,
                t.enrolments,
                t.unenrolments,
                t.suspensions,
                t.roles_assigned,
                t.roles_removed,
                t.courses_left,
            ];
            for (n, label) in figures.iter().zip(words.totals) {
                if *n > 0 {
                    let _ = writeln!(out, "  {n:>7}  {label}");
                }
            }
            if figures.iter().all(|n| *n == 0) {
                let _ = writeln!(out, "  {}", words.nothing_to_change);
            }
        }
    }
    out
}

/// The diagnostics grouped by severity and code, each group with its full count.
fn render_diagnostics(report: &Report, words: &TextWords, lang: Lang, out: &mut String) {
    let by_code = report.code_counts();
    let mut groups: BTreeMap<(Severity, &str), Vec<_>> = BTreeMap::new();
    for d in &report.diagnostics {
        groups
            .entry((d.severity, d.code.as_str()))
            .or_default()
            .push(d);
    }
    for ((severity, code), items) in groups {
        let found = items
            .first()
            .and_then(|d| by_code.get(&d.code))
            .copied()
            .unwrap_or(items.len());
        let _ = writeln!(out, "\n{}[{code}] × {found}", severity.as_str());
        for d in items {
            let place = match (&d.column, &d.value) {
                (Some(c), Some(v)) => format!(", {c} = {v:?}"),
                (Some(c), None) => format!(", {c}"),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "  {} {}{place}: {}",
                words.line,
                d.line,
                d.message(lang)
            );
        }
    }
}
