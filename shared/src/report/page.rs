//! Pages of diagnostics: what a table shows at a time, through a filter, however many the
//! file has.

use serde::{Deserialize, Serialize};

use super::diagnostic::{Code, Diagnostic, Severity};
use super::messages::{DiagnosticView, Lang};

/// Which diagnostics a table shows: all, or those of one severity, of one code, or both.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiagnosticFilter {
    /// Only this severity.
    pub severity: Option<Severity>,
    /// Only this code.
    pub code: Option<Code>,
}

impl DiagnosticFilter {
    /// Whether `diagnostic` passes.
    pub fn matches(&self, diagnostic: &Diagnostic) -> bool {
        self.severity.is_none_or(|s| s == diagnostic.severity)
            && self.code.is_none_or(|c| c == diagnostic.code)
    }
}

/// Rows of a page of diagnostics: what the web app's table shows at a time.
///
/// Fifty: the first layout of a report in the browser is most of the page's longest
/// pause when a check answers, and its table of diagnostics is most of that layout
/// (BENCHMARKS.md, 2026-12-07).
pub const PAGE_ROWS: usize = 50;

/// Characters of a line shown next to its diagnostic.
pub const ORIGINAL_CHARS: usize = 200;

/// A diagnostic and the text of its line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageRow {
    /// The diagnostic.
    pub diagnostic: DiagnosticView,
    /// Its line as the file has it (at most [`ORIGINAL_CHARS`] characters).
    pub original: String,
}

/// One page of a report's diagnostics, through a filter: what a table shows at a time,
/// however many the file has.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DiagnosticPage {
    /// The filter.
    pub filter: DiagnosticFilter,
    /// Index of the first row among the matching diagnostics.
    pub offset: usize,
    /// How many diagnostics match the filter.
    pub matching: usize,
    /// At most [`PAGE_ROWS`] rows from `offset`.
    pub rows: Vec<PageRow>,
}

impl DiagnosticPage {
    /// The page of `diagnostics` (in report order) that passes `filter`, from `offset`
    /// (moved back to the last page when beyond it), with the text of each row's line from
    /// `line_text` (for a file, [`crate::decode::PhysicalLines::line`]) and its message in
    /// `lang`. Only the page's messages are rendered.
    pub fn of<'l>(
        diagnostics: &[Diagnostic],
        lang: Lang,
        filter: &DiagnosticFilter,
        offset: usize,
        line_text: impl Fn(u32) -> Option<&'l str>,
    ) -> Self {
        let matching = diagnostics.iter().filter(|d| filter.matches(d)).count();
        let last = matching.saturating_sub(1) / PAGE_ROWS * PAGE_ROWS;
        let offset = offset.min(last) / PAGE_ROWS * PAGE_ROWS;
        let rows = diagnostics
            .iter()
            .filter(|d| filter.matches(d))
            .skip(offset)
            .take(PAGE_ROWS)
            .map(|d| PageRow {
                diagnostic: d.to_view(lang),
                original: line_text(d.line)
                    .map(|l| l.chars().take(ORIGINAL_CHARS).collect())
                    .unwrap_or_default(),
            })
            .collect();
        DiagnosticPage {
            filter: filter.clone(),
            offset,
            matching,
            rows,
        }
    }
}

/// How many diagnostics have each code, by code name: what a filter by code offers.
pub fn code_counts(diagnostics: &[Diagnostic]) -> Vec<(Code, usize)> {
    let mut counts: std::collections::BTreeMap<&'static str, (Code, usize)> =
        std::collections::BTreeMap::new();
    for d in diagnostics {
        counts.entry(d.code.as_str()).or_insert((d.code, 0)).1 += 1;
    }
    counts.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn a_page_is_taken_among_the_diagnostics_that_pass_the_filter() {
        let lines: Vec<String> = (1..=1000).map(|n| format!("line {n}")).collect();
        let line_text = |n: u32| lines.get(n as usize - 1).map(String::as_str);
        let diagnostics: Vec<Diagnostic> = (1..=1000)
            .map(|line| {
                let code = if line % 3 == 0 {
                    Code::UserSuspended
                } else {
                    Code::UserNotFound
                };
                Diagnostic::new(code, line)
            })
            .collect();
        let suspended = DiagnosticFilter {
            code: Some(Code::UserSuspended),
            ..DiagnosticFilter::default()
        };
        let page = DiagnosticPage::of(&diagnostics, Lang::En, &suspended, 150, line_text);
        assert_eq!(
            (page.matching, page.offset, page.rows.len()),
            (333, 150, 50)
        );
        assert_eq!(page.rows[0].diagnostic.line, 453);
        assert_eq!(page.rows[0].original, "line 453");
        assert_eq!(
            page.rows[0].diagnostic.message,
            Diagnostic::new(Code::UserSuspended, 453).message(Lang::En)
        );
        // Beyond the end: the last page.
        let page = DiagnosticPage::of(&diagnostics, Lang::En, &suspended, 10_000, line_text);
        assert_eq!((page.offset, page.rows.len()), (300, 33));
        let errors = DiagnosticFilter {
            severity: Some(Severity::Error),
            ..DiagnosticFilter::default()
        };
        assert_eq!(
            DiagnosticPage::of(&diagnostics, Lang::En, &errors, 0, line_text).matching,
            667
        );
        let none = DiagnosticPage::of(&[], Lang::En, &DiagnosticFilter::default(), 0, line_text);
        assert_eq!((none.matching, none.offset, none.rows.len()), (0, 0, 0));
        assert_eq!(
            code_counts(&diagnostics),
            [(Code::UserNotFound, 667), (Code::UserSuspended, 333)]
        );
    }
}
