//! Diagnostics: every problem found in a file is data, with a stable code, a line, a column,
//! the offending value and the parameters of its message.
//!
//! A [`Diagnostic`] stores its message parameters (`args`) rather than a rendered sentence,
//! so the same report can be shown in either language without checking the file again
//! ([`super::messages`] renders them).

use serde::{Deserialize, Serialize};

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

impl Severity {
    /// The severity as written on the wire and in exports: `error`, `warning`, `info`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
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
    /// The file's text is larger than a table can hold (2 GiB).
    FileTooLarge = "file_too_large", Error;
    /// A column the file needs is not in the header.
    MissingColumn = "missing_column", Error;
    /// A header column this format does not know; it is ignored.
    UnknownColumn = "unknown_column", Warning;
    /// A column of Moodle's format that cohortsync does not use (a user's password, a
    /// cohort's theme…); it is ignored.
    IgnoredColumn = "ignored_column", Info;
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
    /// The cohort could not be deleted while a course binding used it. No longer raised
    /// (a bound cohort is deleted as Moodle deletes one); kept so that stored reports
    /// still read.
    CohortInUse = "cohort_in_use", Error;
    /// No course matches the identifier.
    CourseNotFound = "course_not_found", Error;
    /// Several courses match the identifier.
    CourseAmbiguous = "course_ambiguous", Error;
    /// No role matches the identifier.
    RoleNotFound = "role_not_found", Error;
    /// The course has no such group.
    GroupNotFound = "group_not_found", Error;
    /// No course category matches: the cohort goes to the default context, as in Moodle.
    CategoryNotFound = "category_not_found", Warning;
    /// The cohort is not bound to the course with that role.
    BindingNotFound = "binding_not_found", Error;
    /// The cohort is already bound to the course with the role a binding would change to.
    BindingExists = "binding_exists", Error;
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

    /// Whether a diagnostic on `line` pushed now would be kept (not only counted): what a
    /// rule asks before it works out more of a diagnostic than its code and line.
    ///
    /// ```
    /// use cohortsync_shared::report::{Code, Diagnostic, Diagnostics};
    ///
    /// let mut found = Diagnostics::keeping(1);
    /// assert!(found.would_keep(9));
    /// found.push(Diagnostic::new(Code::UserNotFound, 5));
    /// assert!(found.would_keep(4) && !found.would_keep(5) && !found.would_keep(9));
    /// ```
    pub fn would_keep(&self, line: u32) -> bool {
        // A later diagnostic of the same line comes after the kept one.
        self.kept.len() < self.limit || self.kept.peek().is_some_and(|last| line < last.line)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn codes_are_spelled_as_on_the_wire() {
        for code in Code::ALL {
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }
}
