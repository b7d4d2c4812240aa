//! The kinds of file cohortsync reads, recognised from their header: one module per kind,
//! each turning a row of the table into the typed row the rules resolve.

use serde::{Deserialize, Serialize};

use crate::HashMap;
use crate::decode::{Row, Table};
use crate::report::diagnostic::{Code, Diagnostic, Diagnostics};

pub mod binding_file;
pub mod cohort_file;
pub mod moodle_cohorts;
pub mod moodle_courses;
pub mod moodle_users;

pub use binding_file::{BINDING_COLUMNS, BindingRow, GroupChoice, RowCommand, binding_file};
pub use cohort_file::COHORT_COLUMNS;
pub use moodle_cohorts::MOODLE_COHORT_COLUMNS;
pub use moodle_users::MOODLE_USER_KEYS;

/// The kind of file a changeset comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// A cohort file (members; tool_sync's format).
    Cohorts,
    /// A course binding file (tool_sync's format).
    Bindings,
    /// Moodle's core cohort upload file (creates cohorts).
    MoodleCohorts,
    /// Moodle's user upload file with `cohortN` columns (adds members).
    MoodleUserCohorts,
    /// Moodle's course upload file with `enrolment_N=cohort` columns (binds cohorts).
    MoodleCourseCohorts,
}

impl FileKind {
    /// Every kind.
    pub const ALL: [FileKind; 5] = [
        FileKind::Cohorts,
        FileKind::Bindings,
        FileKind::MoodleCohorts,
        FileKind::MoodleUserCohorts,
        FileKind::MoodleCourseCohorts,
    ];

    /// The kind as written on the wire and in the store: `cohorts`, `bindings`,
    /// `moodle_cohorts`, `moodle_user_cohorts`, `moodle_course_cohorts`.
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Cohorts => "cohorts",
            FileKind::Bindings => "bindings",
            FileKind::MoodleCohorts => "moodle_cohorts",
            FileKind::MoodleUserCohorts => "moodle_user_cohorts",
            FileKind::MoodleCourseCohorts => "moodle_course_cohorts",
        }
    }

    /// Whether files of this kind are in one of Moodle's own formats (header names read as
    /// Moodle reads them: spaces removed).
    pub fn is_moodle(self) -> bool {
        matches!(
            self,
            FileKind::MoodleCohorts | FileKind::MoodleUserCohorts | FileKind::MoodleCourseCohorts
        )
    }

    /// The kind named `text`, if any.
    pub fn parse(text: &str) -> Option<FileKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// Where each known column is in a file's header.
#[derive(Debug, Clone)]
pub(crate) struct Columns {
    positions: HashMap<&'static str, usize>,
    /// Columns of a numbered family (Moodle's `cohort1`, `cohort2`…), by name and position,
    /// in the header's order.
    numbered: Vec<(String, usize)>,
}

impl Columns {
    /// The position of `name`, if the header has it.
    pub(crate) fn get(&self, name: &str) -> Option<usize> {
        self.positions.get(name).copied()
    }

    /// Whether the header has `name`.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.positions.contains_key(name)
    }

    /// The numbered columns (`cohort1`…), by name and position.
    pub(crate) fn numbered(&self) -> &[(String, usize)] {
        &self.numbered
    }
}

/// Recognises the kind of file from its header; reports duplicate and unknown columns.
/// `None` when the file is not of a supported kind (the reason is in `diagnostics`).
pub(crate) fn recognise(
    table: &Table,
    diagnostics: &mut Diagnostics,
) -> Option<(FileKind, Columns)> {
    let header = &table.header;
    let line = table.header_line;
    // Moodle reads its own formats' header names with every space removed.
    let squeezed: Vec<String> = header.iter().map(|h| h.replace(' ', "")).collect();
    let has = |name: &str| header.iter().any(|h| h == name);
    let kind = if has("course") && has("cohort") {
        FileKind::Bindings
    } else if moodle_users::fits(&squeezed) {
        FileKind::MoodleUserCohorts
    } else if moodle_courses::fits(&squeezed) {
        FileKind::MoodleCourseCohorts
    } else if ["userid", "cid", "cname", "cidnumber"]
        .iter()
        .any(|c| has(c))
    {
        FileKind::Cohorts
    } else if moodle_cohorts::fits(&squeezed) {
        FileKind::MoodleCohorts
    } else {
        diagnostics.push(Diagnostic::new(Code::UnsupportedFormat, line).value(header.join(",")));
        return None;
    };
    let known = match kind {
        FileKind::Cohorts => COHORT_COLUMNS,
        FileKind::Bindings => BINDING_COLUMNS,
        FileKind::MoodleCohorts => MOODLE_COHORT_COLUMNS,
        FileKind::MoodleUserCohorts => &["username", "idnumber", "email"],
        FileKind::MoodleCourseCohorts => &["shortname"],
    };
    let names = if kind.is_moodle() { &squeezed } else { header };
    let mut positions = HashMap::default();
    let mut numbered = Vec::new();
    // The first position of each numbered column: a header of 100,000 `cohortN` columns
    // is checked for repeats in one pass, not in a pass per column.
    let mut numbered_at: HashMap<&str, usize> = HashMap::default();
    let mut ok = true;
    for (index, name) in names.iter().enumerate() {
        if name.is_empty() {
            continue; // a trailing delimiter in the header: an unnamed column, ignored
        }
        match known.iter().find(|k| **k == name) {
            Some(known) => {
                if let Some(first) = positions.insert(*known, index) {
                    positions.insert(*known, first);
                    diagnostics.push(
                        Diagnostic::new(Code::DuplicateColumn, line)
                            .column(name.as_str())
                            .arg(first + 1),
                    );
                    ok = false;
                }
            }
            None if matches!(
                kind,
                FileKind::MoodleUserCohorts | FileKind::MoodleCourseCohorts
            ) =>
            {
                let (numbered_here, upload) = if kind == FileKind::MoodleUserCohorts {
                    (moodle_users::is_cohort_column(name), "user_upload")
                } else {
                    let field = moodle_courses::enrolment_column(name);
                    let read = field.is_some_and(|(_, f)| {
                        f.is_none_or(|f| moodle_courses::COHORT_FIELDS.contains(&f))
                    });
                    (read, "course_upload")
                };
                if !numbered_here {
                    diagnostics.push(
                        Diagnostic::new(Code::IgnoredColumn, line)
                            .column(name.as_str())
                            .arg(upload),
                    );
                } else if let Some(first) = numbered_at.get(name.as_str()) {
                    diagnostics.push(
                        Diagnostic::new(Code::DuplicateColumn, line)
                            .column(name.as_str())
                            .arg(first + 1),
                    );
                    ok = false;
                } else {
                    numbered_at.insert(name.as_str(), index);
                    numbered.push((name.clone(), index));
                }
            }
            None => {
                diagnostics.push(Diagnostic::new(Code::UnknownColumn, line).column(name.as_str()))
            }
        }
    }
    ok.then_some((
        kind,
        Columns {
            positions,
            numbered,
        },
    ))
}

/// The rows of a table that fit its header, looked up in the table itself: a row is
/// 16 bytes of the table and nothing more here, whatever the file's size.
#[derive(Debug, Clone)]
pub(crate) struct Rows<'t> {
    table: &'t Table<'t>,
    /// Indexes of the rows that fit, when some do not (all of them otherwise).
    fitting: Option<Vec<u32>>,
}

impl<'t> Rows<'t> {
    /// The table's header names.
    pub(crate) fn header(&self) -> &'t [String] {
        &self.table.header
    }

    /// How many rows fit.
    pub(crate) fn len(&self) -> usize {
        self.fitting
            .as_ref()
            .map_or(self.table.row_count(), Vec::len)
    }

    /// The `index`-th row that fits.
    pub(crate) fn get(&self, index: usize) -> crate::decode::Row<'t> {
        let index = self.fitting.as_ref().map_or(index, |f| f[index] as usize);
        self.table
            .row(index)
            .expect("the index of a row that fits is a row of the table")
    }

    /// The rows that fit, in file order.
    pub(crate) fn iter(&self) -> impl ExactSizeIterator<Item = crate::decode::Row<'t>> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

/// Reports rows whose number of cells differs from the header's and returns the others.
/// Extra cells that are empty (a trailing delimiter) are fine.
pub(crate) fn well_formed_rows<'t>(
    table: &'t Table<'_>,
    diagnostics: &mut Diagnostics,
) -> Rows<'t> {
    let width = table.header.len();
    let named = table
        .header
        .iter()
        .rposition(|h| !h.is_empty())
        .map_or(0, |i| i + 1);
    let mut fitting: Option<Vec<u32>> = None;
    for (index, row) in table.rows().enumerate() {
        let fits = row.len() >= named
            && (row.len() <= width
                || (width..row.len()).all(|i| crate::decode::trim(row.cell(i)).is_empty()));
        if fits {
            if let Some(fitting) = &mut fitting {
                fitting.push(index as u32);
            }
        } else {
            diagnostics.push(
                Diagnostic::new(Code::RaggedRow, row.line)
                    .arg(row.len())
                    .arg(width),
            );
            // The first misfit: every row before it fitted.
            fitting.get_or_insert_with(|| (0..index as u32).collect());
        }
    }
    Rows { table, fitting }
}

/// A cell's trimmed value, or `""` when the column is absent.
pub(crate) fn cell<'t>(row: &Row<'t>, column: Option<usize>) -> &'t str {
    column.map_or("", |i| crate::decode::trim(row.cell(i)))
}

/// Longest cohort name Moodle stores (`mdl_cohort.name` is `varchar(254)`).
pub(crate) const COHORT_NAME_CHARS: usize = 254;
/// Longest cohort idnumber Moodle stores (`mdl_cohort.idnumber` is `varchar(100)`).
pub(crate) const COHORT_IDNUMBER_CHARS: usize = 100;

/// The cells of a row that no site could store, by position in the header: their values
/// are reported once and then not used, while the row's other cells are still checked.
#[derive(Debug, Default)]
pub(crate) struct Unstorable {
    positions: Vec<usize>,
}

impl Unstorable {
    /// Whether the row has any such cell: it is checked, never planned.
    pub(crate) fn any(&self) -> bool {
        !self.positions.is_empty()
    }

    /// Whether the cell at `position` (a column of the header, if present) is one.
    pub(crate) fn has(&self, position: Option<usize>) -> bool {
        position.is_some_and(|p| self.positions.contains(&p))
    }
}

/// Reports the cells of `row` that no site could store: a NUL character anywhere
/// (PostgreSQL refuses it in text; no spreadsheet writes one), or a value longer than its
/// Moodle column (`limits`: column name and position, most characters).
pub(crate) fn unstorable_cells(
    row: &Row<'_>,
    header: &[String],
    limits: &[(&str, Option<usize>, usize)],
    diagnostics: &mut Diagnostics,
) -> Unstorable {
    let mut found = Unstorable::default();
    let cells = row.may_hold_nul().then(|| row.cells().enumerate());
    for (index, value) in cells.into_iter().flatten() {
        if value.contains('\0') {
            found.positions.push(index);
            diagnostics.push(
                Diagnostic::new(Code::InvalidValue, row.line)
                    .column(header.get(index).map_or("", String::as_str))
                    .value(value.replace('\0', "\\0"))
                    .arg("no_nul"),
            );
        }
    }
    // A row of no more bytes than a bound has no cell over it (characters are bytes or
    // more): most rows are not read again for their lengths.
    let bytes = row.text_len();
    for &(name, position, most) in limits.iter().filter(|&&(_, _, most)| bytes > most) {
        let value = crate::decode::trim(cell(row, position));
        // Characters, as Moodle counts them; bytes first, which most values pass.
        if value.len() > most && value.chars().count() > most {
            found.positions.extend(position);
            diagnostics.push(
                Diagnostic::new(Code::InvalidValue, row.line)
                    .column(name)
                    .value(value)
                    .arg(if most == COHORT_NAME_CHARS {
                        "name_254"
                    } else {
                        "idnumber_100"
                    }),
            );
        }
    }
    found
}
