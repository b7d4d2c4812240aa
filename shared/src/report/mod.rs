//! What checking a file found: the [`Report`], its diagnostics, their messages in English
//! and French, and pages of them.
//!
//! Diagnostics are the vocabulary every stage uses ([`diagnostic`]); [`messages`] renders
//! them in a language; [`page`] cuts a long list into what a table shows; [`text`] writes
//! the whole report for a terminal.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::decode::{Delimiter, Encoding};
use crate::formats::FileKind;

pub mod diagnostic;
pub mod messages;
pub mod page;
pub mod text;

pub use diagnostic::{
    Code, Counts, DIAGNOSTICS_KEPT, Diagnostic, Diagnostics, Hint, Omitted, Severity, VALUE_CHARS,
};
pub use messages::{DiagnosticView, Lang, kind_name};
pub use page::{DiagnosticFilter, DiagnosticPage, ORIGINAL_CHARS, PAGE_ROWS, PageRow, code_counts};

/// What checking a file found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The kind of file, when recognised.
    pub kind: Option<FileKind>,
    /// The encoding it was read with.
    pub encoding: Option<Encoding>,
    /// Its delimiter.
    pub delimiter: Option<Delimiter>,
    /// Data rows (comments and blank lines excluded).
    pub rows: usize,
    /// Problems and notes, by line: the first [`DIAGNOSTICS_KEPT`] of them.
    pub diagnostics: Vec<Diagnostic>,
    /// What `diagnostics` left out (nothing for most files): counted, not kept.
    #[serde(default, skip_serializing_if = "Omitted::is_empty")]
    pub omitted: Omitted,
}

impl Report {
    /// Whether any diagnostic is an error (the file cannot be submitted).
    pub fn has_errors(&self) -> bool {
        self.omitted.counts.errors > 0
            || self
                .diagnostics
                .iter()
                .any(|d| d.severity == Severity::Error)
    }

    /// Counts by severity, of every diagnostic found (kept or left out).
    pub fn counts(&self) -> Counts {
        Counts::of(&self.diagnostics) + self.omitted.counts
    }

    /// How many diagnostics were left out of `diagnostics`.
    pub fn omitted_count(&self) -> usize {
        self.omitted.counts.total()
    }

    /// How many diagnostics of each code were found (kept or left out).
    pub fn code_counts(&self) -> BTreeMap<Code, usize> {
        let mut counts = self.omitted.codes.clone();
        for d in &self.diagnostics {
            *counts.entry(d.code).or_default() += 1;
        }
        counts
    }
}
