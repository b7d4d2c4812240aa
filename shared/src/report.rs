//! Diagnostics: every problem found in a file is data, with a stable code, a line, a column,
//! the offending value and a message in English or French.
//!
//! A [`Diagnostic`] stores its message parameters (`args`) rather than a rendered sentence,
//! so the same report can be shown in either language without checking the file again.

use serde::{Deserialize, Serialize};

/// A user interface language for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// French.
    Fr,
}

impl Lang {
    /// The language an HTTP `Accept-Language` header asks for first, among those messages
    /// exist in (English when none fits).
    ///
    /// ```
    /// use cohortsync_shared::report::Lang;
    /// assert_eq!(Lang::from_accept_language("fr-FR,fr;q=0.9,en;q=0.8"), Lang::Fr);
    /// assert_eq!(Lang::from_accept_language("de, fr;q=0.5"), Lang::Fr);
    /// assert_eq!(Lang::from_accept_language("en-GB, fr;q=0.2"), Lang::En);
    /// assert_eq!(Lang::from_accept_language(""), Lang::En);
    /// ```
    pub fn from_accept_language(header: &str) -> Lang {
        let mut wanted: Vec<(f32, Lang)> = header
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.split(';');
                let tag = pieces.next()?.trim().to_ascii_lowercase();
                let quality = pieces
                    .find_map(|p| p.trim().strip_prefix("q=")?.parse::<f32>().ok())
                    .unwrap_or(1.0);
                let lang = match tag.split('-').next()? {
                    "fr" => Lang::Fr,
                    "en" => Lang::En,
                    _ => return None,
                };
                Some((quality, lang))
            })
            .collect();
        // Stable: among equal qualities, the first listed wins.
        wanted.sort_by(|a, b| b.0.total_cmp(&a.0));
        wanted.first().map_or(Lang::En, |w| w.1)
    }
}

/// How serious a diagnostic is. Any error blocks submission; warnings and infos do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Blocks submission.
    Error,
    /// Worth a look; does not block.
    Warning,
    /// For the record, e.g. a row that changes nothing.
    Info,
}

macro_rules! codes {
    ($($(#[$doc:meta])* $variant:ident = $name:literal, $severity:ident;)*) => {
        /// The stable code of a diagnostic, spelled in `snake_case` on the wire.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Code {
            $($(#[$doc])* $variant,)*
        }

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code as written in reports: `user_not_found`, …
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            /// The severity this code has unless a rule says otherwise.
            pub fn default_severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$severity,)* }
            }
        }
    };
}

codes! {
    /// The file has no header line.
    EmptyFile = "empty_file", Error;
    /// The file's text is larger than a table can hold (4 GiB).
    FileTooLarge = "file_too_large", Error;
    /// A column the file needs is not in the header.
    MissingColumn = "missing_column", Error;
    /// A header column this format does not know; it is ignored.
    UnknownColumn = "unknown_column", Warning;
    /// A column appears twice in the header.
    DuplicateColumn = "duplicate_column", Error;
    /// A row has a different number of cells than the header.
    RaggedRow = "ragged_row", Error;
    /// A quoted cell is never closed.
    UnclosedQuote = "unclosed_quote", Error;
    /// The file is not UTF-8 and was read as Windows-1252.
    EncodingFallback = "encoding_fallback", Warning;
    /// The header is of a format cohortsync does not read (yet).
    UnsupportedFormat = "unsupported_format", Error;
    /// The `cmd` cell is not a command of this format.
    InvalidCommand = "invalid_command", Error;
    /// A required cell is empty.
    EmptyValue = "empty_value", Error;
    /// A cell does not hold a value of the expected kind.
    InvalidValue = "invalid_value", Error;
    /// No user matches the identifier.
    UserNotFound = "user_not_found", Error;
    /// Several users match the identifier.
    UserAmbiguous = "user_ambiguous", Error;
    /// The user's account is suspended.
    UserSuspended = "user_suspended", Warning;
    /// No cohort matches the identifier.
    CohortNotFound = "cohort_not_found", Error;
    /// Several cohorts match the identifier (names are not unique).
    CohortAmbiguous = "cohort_ambiguous", Error;
    /// The cohort is owned by another system and is read-only here.
    CohortProtected = "cohort_protected", Error;
    /// Rows disagree about a cohort's name or idnumber, or an idnumber is taken.
    CohortConflict = "cohort_conflict", Error;
    /// The cohort cannot be deleted while a course binding uses it.
    CohortInUse = "cohort_in_use", Error;
    /// No course matches the identifier.
    CourseNotFound = "course_not_found", Error;
    /// Several courses match the identifier.
    CourseAmbiguous = "course_ambiguous", Error;
    /// No role matches the identifier.
    RoleNotFound = "role_not_found", Error;
    /// The course has no such group.
    GroupNotFound = "group_not_found", Error;
    /// The cohort is not bound to the course with that role.
    BindingNotFound = "binding_not_found", Error;
    /// The same row appears twice; the repeat is ignored.
    DuplicateRow = "duplicate_row", Warning;
    /// Two rows ask for opposite things.
    ConflictingRows = "conflicting_rows", Error;
    /// The user is already a member: nothing to do.
    AlreadyMember = "already_member", Info;
    /// The user is not a member: nothing to remove.
    NotMember = "not_member", Info;
    /// The site is already as the row says: nothing to do.
    NoChange = "no_change", Info;
    /// Full mode keeps the members of a hand-made cohort.
    ManualCohortKept = "manual_cohort_kept", Info;
    /// A safety limit is exceeded.
    LimitExceeded = "limit_exceeded", Error;
}

/// A suggestion to change an option, shown after the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hint {
    /// The option's name, as in the API and the command line: `user_identifier`, …
    pub option: String,
    /// The value that would fit this file.
    pub value: String,
}

/// Characters of a cell's value a diagnostic keeps.
pub const VALUE_CHARS: usize = 500;

/// One problem (or note) about one place of a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Physical line of the file where the record starts, from 1, as a text editor shows it.
    pub line: u32,
    /// The column's name in the header (lowercase), when the problem is in one cell.
    pub column: Option<String>,
    /// The cell's value (or the offending text), when there is one.
    pub value: Option<String>,
    /// The stable code.
    pub code: Code,
    /// Error, warning or info.
    pub severity: Severity,
    /// Message parameters (language-neutral: names, numbers, option values).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// An option that would fit this file better.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<Hint>,
}

impl Diagnostic {
    /// A diagnostic of `code` at `line`, with the code's usual severity.
    pub fn new(code: Code, line: u32) -> Self {
        Diagnostic {
            line,
            column: None,
            value: None,
            code,
            severity: code.default_severity(),
            args: Vec::new(),
            hint: None,
        }
    }

    /// Names the column.
    pub fn column(mut self, column: impl Into<String>) -> Self {
        self.column = Some(column.into());
        self
    }

    /// Records the cell's value: its first [`VALUE_CHARS`] characters (a report of a
    /// file of megabyte cells must not hold megabytes per diagnostic).
    pub fn value(mut self, value: impl Into<String>) -> Self {
        let mut value = value.into();
        if value.len() > VALUE_CHARS
            && let Some((cut, _)) = value.char_indices().nth(VALUE_CHARS)
        {
            value.truncate(cut);
            value.push('…');
        }
        self.value = Some(value);
        self
    }

    /// Adds a message parameter.
    pub fn arg(mut self, arg: impl ToString) -> Self {
        self.args.push(arg.to_string());
        self
    }

    /// Suggests setting `option` to `value`.
    pub fn hint(mut self, option: &str, value: &str) -> Self {
        self.hint = Some(Hint {
            option: option.to_owned(),
            value: value.to_owned(),
        });
        self
    }

    /// Overrides the severity.
    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// The message, in `lang`, including the hint if any.
    pub fn message(&self, lang: Lang) -> String {
        let mut text = crate::messages::render(self, lang);
        if let Some(hint) = &self.hint {
            text.push(' ');
            text.push_str(&crate::messages::render_hint(hint, lang));
        }
        text
    }

    /// The diagnostic as shown to users and scripts: `{line, column, value, code,
    /// severity, message}`.
    pub fn to_view(&self, lang: Lang) -> DiagnosticView {
        DiagnosticView {
            line: self.line,
            column: self.column.clone(),
            value: self.value.clone(),
            code: self.code,
            severity: self.severity,
            message: self.message(lang),
        }
    }
}

/// A diagnostic with its message rendered in one language: the JSON shape of reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiagnosticView {
    /// Physical line where the record starts, from 1.
    pub line: u32,
    /// Column name, if the problem is in one cell.
    pub column: Option<String>,
    /// The cell's value, if any.
    pub value: Option<String>,
    /// Stable code.
    pub code: Code,
    /// Error, warning or info.
    pub severity: Severity,
    /// Human-readable message.
    pub message: String,
}

/// Counts of diagnostics by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Number of errors.
    pub errors: usize,
    /// Number of warnings.
    pub warnings: usize,
    /// Number of infos.
    pub infos: usize,
}

impl Counts {
    /// Counts `diagnostics` by severity.
    pub fn of(diagnostics: &[Diagnostic]) -> Self {
        let mut counts = Counts::default();
        for diagnostic in diagnostics {
            counts.count(diagnostic.severity);
        }
        counts
    }
}

impl std::ops::Add for Counts {
    type Output = Counts;

    fn add(self, other: Counts) -> Counts {
        Counts {
            errors: self.errors + other.errors,
            warnings: self.warnings + other.warnings,
            infos: self.infos + other.infos,
        }
    }
}

impl Counts {
    fn count(&mut self, severity: Severity) {
        match severity {
            Severity::Error => self.errors += 1,
            Severity::Warning => self.warnings += 1,
            Severity::Info => self.infos += 1,
        }
    }

    /// All diagnostics counted.
    pub fn total(&self) -> usize {
        self.errors + self.warnings + self.infos
    }
}

/// Diagnostics a report keeps, at most: the first ones by line. The others are only
/// counted ([`Omitted`]), so a file of a million bad lines costs a bounded amount of
/// memory on the server, in the browser and in every answer, and still says how many
/// problems it has of each kind.
pub const DIAGNOSTICS_KEPT: usize = 10_000;

/// What a report left out of its list of diagnostics: counts by severity and by code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Omitted {
    /// Left out, by severity.
    pub counts: Counts,
    /// Left out, by code.
    pub codes: std::collections::BTreeMap<Code, usize>,
}

impl Omitted {
    /// Whether nothing was left out.
    pub fn is_empty(&self) -> bool {
        self.counts.total() == 0
    }
}

/// One diagnostic with its place in the order of finding: the report lists diagnostics by
/// line and, within a line, in the order the rules found them.
#[derive(Debug)]
struct Found {
    line: u32,
    seq: u64,
    diagnostic: Diagnostic,
}

impl PartialEq for Found {
    fn eq(&self, other: &Self) -> bool {
        (self.line, self.seq) == (other.line, other.seq)
    }
}
impl Eq for Found {}
impl PartialOrd for Found {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Found {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.line, self.seq).cmp(&(other.line, other.seq))
    }
}

/// Where the rules put what they find: keeps the first [`DIAGNOSTICS_KEPT`] diagnostics
/// by line (whatever order they are found in) and counts the rest.
///
/// ```
/// use cohortsync_shared::report::{Code, Diagnostic, Diagnostics};
///
/// let mut found = Diagnostics::keeping(2);
/// for line in [9, 3, 7, 5] {
///     found.push(Diagnostic::new(Code::UserNotFound, line));
/// }
/// let (kept, omitted) = found.finish();
/// assert_eq!(kept.iter().map(|d| d.line).collect::<Vec<_>>(), [3, 5]);
/// assert_eq!(omitted.counts.errors, 2);
/// assert_eq!(omitted.codes[&Code::UserNotFound], 2);
/// ```
#[derive(Debug)]
pub struct Diagnostics {
    kept: std::collections::BinaryHeap<Found>,
    limit: usize,
    seq: u64,
    omitted: Omitted,
}

impl Default for Diagnostics {
    fn default() -> Self {
        Diagnostics::keeping(DIAGNOSTICS_KEPT)
    }
}

impl Diagnostics {
    /// Keeps at most [`DIAGNOSTICS_KEPT`].
    pub fn new() -> Self {
        Diagnostics::default()
    }

    /// Keeps at most `limit` (the first by line).
    pub fn keeping(limit: usize) -> Self {
        Diagnostics {
            kept: std::collections::BinaryHeap::new(),
            limit,
            seq: 0,
            omitted: Omitted::default(),
        }
    }

    /// Records one diagnostic.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        let found = Found {
            line: diagnostic.line,
            seq: self.seq,
            diagnostic,
        };
        self.seq += 1;
        if self.kept.len() < self.limit {
            self.kept.push(found);
            return;
        }
        // Full: the new one replaces the last kept when it comes before it.
        let left_out = match self.kept.peek() {
            Some(last) if found < *last => {
                let last = self.kept.pop().map(|f| f.diagnostic);
                self.kept.push(found);
                last
            }
            _ => Some(found.diagnostic),
        };
        if let Some(d) = left_out {
            self.omitted.counts.count(d.severity);
            *self.omitted.codes.entry(d.code).or_default() += 1;
        }
    }

    /// Records each of `diagnostics`.
    pub fn extend(&mut self, diagnostics: impl IntoIterator<Item = Diagnostic>) {
        for d in diagnostics {
            self.push(d);
        }
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// Whether an error was recorded (kept or left out).
    pub fn has_errors(&self) -> bool {
        self.omitted.counts.errors > 0
            || self
                .kept
                .iter()
                .any(|f| f.diagnostic.severity == Severity::Error)
    }

    /// The kept diagnostics by line (within a line, in the order found), and what was
    /// left out.
    pub fn finish(self) -> (Vec<Diagnostic>, Omitted) {
        let kept = self
            .kept
            .into_sorted_vec()
            .into_iter()
            .map(|f| f.diagnostic)
            .collect();
        (kept, self.omitted)
    }
}

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

/// Rows of a page of diagnostics.
pub const PAGE_ROWS: usize = 100;

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
    /// (moved back to the last page when beyond it), with each row's line from `lines` and
    /// its message in `lang`. Only the page's messages are rendered.
    pub fn of(
        diagnostics: &[Diagnostic],
        lang: Lang,
        filter: &DiagnosticFilter,
        offset: usize,
        lines: &crate::decode::PhysicalLines,
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
                original: lines
                    .line(d.line)
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

    #[test]
    fn a_page_is_taken_among_the_diagnostics_that_pass_the_filter() {
        let text: String = (1..=1000).map(|n| format!("line {n}\n")).collect();
        let lines = crate::decode::PhysicalLines::new(
            text.as_bytes(),
            crate::options::EncodingChoice::Auto,
        );
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
        let page = DiagnosticPage::of(&diagnostics, Lang::En, &suspended, 150, &lines);
        assert_eq!(
            (page.matching, page.offset, page.rows.len()),
            (333, 100, 100)
        );
        assert_eq!(page.rows[0].diagnostic.line, 303);
        assert_eq!(page.rows[0].original, "line 303");
        assert_eq!(
            page.rows[0].diagnostic.message,
            Diagnostic::new(Code::UserSuspended, 303).message(Lang::En)
        );
        // Beyond the end: the last page.
        let page = DiagnosticPage::of(&diagnostics, Lang::En, &suspended, 10_000, &lines);
        assert_eq!((page.offset, page.rows.len()), (300, 33));
        let errors = DiagnosticFilter {
            severity: Some(Severity::Error),
            ..DiagnosticFilter::default()
        };
        assert_eq!(
            DiagnosticPage::of(&diagnostics, Lang::En, &errors, 0, &lines).matching,
            667
        );
        let none = DiagnosticPage::of(&[], Lang::En, &DiagnosticFilter::default(), 0, &lines);
        assert_eq!((none.matching, none.offset, none.rows.len()), (0, 0, 0));
        assert_eq!(
            code_counts(&diagnostics),
            [(Code::UserNotFound, 667), (Code::UserSuspended, 333)]
        );
    }

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn codes_are_spelled_as_on_the_wire() {
        for code in Code::ALL {
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }

    #[test]
    fn every_code_has_a_message_in_both_languages() {
        for &code in Code::ALL {
            let diagnostic = Diagnostic::new(code, 3)
                .column("userid")
                .value("U1")
                .arg("a")
                .arg("b")
                .arg("c");
            let en = diagnostic.message(Lang::En);
            let fr = diagnostic.message(Lang::Fr);
            assert!(!en.is_empty() && !fr.is_empty(), "{code:?}");
            assert_ne!(en, fr, "{code:?} is not translated");
        }
    }
}
