//! The file kinds cohortsync reads, recognised from the header, and their columns.

use crate::HashMap;

use crate::decode::Table;
use crate::plan::FileKind;
use crate::report::{Code, Diagnostic, Diagnostics};

/// Columns of the cohort file (tool_sync format).
pub const COHORT_COLUMNS: &[&str] = &[
    "cmd",
    "userid",
    "cid",
    "cname",
    "cidnumber",
    "cdescription",
    "ccatcontext",
    "component",
];

/// Columns of the course binding file (tool_sync format).
pub const BINDING_COLUMNS: &[&str] = &[
    "cmd",
    "cohort",
    "course",
    "role",
    "makegroup",
    "enrolstart",
    "enrolend",
    "name",
    "status",
];

/// The group a binding puts its members in, as the binding form offers it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GroupChoice<'a> {
    /// No group.
    None,
    /// A group named after the cohort (created if the course lacks it).
    NamedAfterCohort,
    /// This existing group.
    Existing(&'a crate::snapshot::Group),
}

/// What a row of a written binding file does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RowCommand {
    /// `add`: create the binding, or set its settings.
    #[default]
    Add,
    /// `fulldel`: delete the binding.
    Delete,
}

/// One binding, as a person fills the binding form (or as a revert puts it back).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BindingRow<'a> {
    /// Add or delete.
    pub command: RowCommand,
    /// The cohort, by the cohort identifier the check will use.
    pub cohort: &'a str,
    /// The course, by the course identifier the check will use.
    pub course: &'a str,
    /// The role, by the role identifier the check will use.
    pub role: &'a str,
    /// The group.
    pub group: GroupChoice<'a>,
    /// Custom instance name (empty: Moodle's default).
    pub name: &'a str,
    /// Active or disabled.
    pub status: crate::snapshot::BindingStatus,
    /// Enrolment start and end (Unix time), when the row sets them: `None` leaves an
    /// existing binding's dates alone. When any row sets them, the file has the date
    /// columns, and a row that does not set them clears them.
    pub dates: Option<(Option<i64>, Option<i64>)>,
}

/// The course binding file for `rows` (`;`-separated, cells quoted where they need it):
/// what a person would have written to ask for the same bindings, so that a form, or a
/// revert, goes through exactly the rules a file does.
pub fn binding_file(rows: &[BindingRow<'_>]) -> String {
    let mut writer = csv::WriterBuilder::new()
        .delimiter(b';')
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let with_dates = rows.iter().any(|r| r.dates.is_some());
    let mut write = |record: &[&str]| {
        let record = if with_dates { record } else { &record[..7] };
        writer
            .write_record(record)
            .expect("writing to memory cannot fail");
    };
    write(&[
        "cmd",
        "cohort",
        "course",
        "role",
        "makegroup",
        "name",
        "status",
        "enrolstart",
        "enrolend",
    ]);
    let time = |t: Option<i64>| t.map(|t| t.to_string()).unwrap_or_default();
    for row in rows {
        let group = match row.group {
            GroupChoice::None => "0",
            GroupChoice::NamedAfterCohort => "1",
            // "0" and "1" are keywords there: such a group is named by its id number.
            GroupChoice::Existing(g) if matches!(g.name.trim(), "" | "0" | "1") => &g.idnumber,
            GroupChoice::Existing(g) => &g.name,
        };
        let status = match row.status {
            crate::snapshot::BindingStatus::Active => "active",
            crate::snapshot::BindingStatus::Disabled => "disabled",
        };
        let (start, end) = row.dates.unwrap_or_default();
        let (start, end) = (time(start), time(end));
        match row.command {
            RowCommand::Add => write(&[
                "add", row.cohort, row.course, row.role, group, row.name, status, &start, &end,
            ]),
            // A deleted binding's settings do not matter; a status goes with add only.
            RowCommand::Delete => write(&[
                "fulldel", row.cohort, row.course, row.role, "", "", "", "", "",
            ]),
        }
    }
    let bytes = writer.into_inner().expect("writing to memory cannot fail");
    String::from_utf8(bytes).expect("the cells are text")
}

/// Where each known column is in a file's header.
#[derive(Debug, Clone)]
pub(crate) struct Columns {
    positions: HashMap<&'static str, usize>,
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
}

/// Recognises the kind of file from its header; reports duplicate and unknown columns.
/// `None` when the file is not of a supported kind (the reason is in `diagnostics`).
pub(crate) fn recognise(
    table: &Table,
    diagnostics: &mut Diagnostics,
) -> Option<(FileKind, Columns)> {
    let header = &table.header;
    let line = table.header_line;
    let has = |name: &str| header.iter().any(|h| h == name);
    let kind = if has("course") && has("cohort") {
        FileKind::Bindings
    } else if has("username") && header.iter().any(|h| is_numbered_cohort_column(h)) {
        diagnostics.push(Diagnostic::new(Code::UnsupportedFormat, line).arg("moodle_user_upload"));
        return None;
    } else if ["userid", "cid", "cname", "cidnumber"]
        .iter()
        .any(|c| has(c))
    {
        FileKind::Cohorts
    } else if has("name")
        && ["idnumber", "description", "category", "context", "visible"]
            .iter()
            .any(|c| has(c))
    {
        diagnostics
            .push(Diagnostic::new(Code::UnsupportedFormat, line).arg("moodle_cohort_upload"));
        return None;
    } else {
        diagnostics.push(Diagnostic::new(Code::UnsupportedFormat, line).value(header.join(",")));
        return None;
    };
    let known = match kind {
        FileKind::Cohorts => COHORT_COLUMNS,
        FileKind::Bindings => BINDING_COLUMNS,
    };
    let mut positions = HashMap::default();
    let mut ok = true;
    for (index, name) in header.iter().enumerate() {
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
            None => {
                diagnostics.push(Diagnostic::new(Code::UnknownColumn, line).column(name.as_str()))
            }
        }
    }
    ok.then_some((kind, Columns { positions }))
}

fn is_numbered_cohort_column(name: &str) -> bool {
    name.strip_prefix("cohort")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The rows of a table that fit its header, looked up in the table itself: a row is
/// 16 bytes of the table and nothing more here, whatever the file's size.
#[derive(Debug, Clone)]
pub(crate) struct Rows<'t> {
    table: &'t Table,
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
pub(crate) fn well_formed_rows<'t>(table: &'t Table, diagnostics: &mut Diagnostics) -> Rows<'t> {
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
