//! The cohort file (tool_sync format): `cmd` add/del/free, `userid`, the cohort key (`cid`,
//! or the column the cohort identifier option names), `cname`, `cidnumber`,
//! `cdescription`, `ccatcontext`, `component`. `read` turns a row into the values the
//! rules resolve.

use super::{COHORT_IDNUMBER_CHARS, COHORT_NAME_CHARS, Columns, cell};
use crate::decode::Row;
use crate::options::CohortIdentifier;
use crate::report::diagnostic::{Code, Diagnostic};

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

/// The columns of the cohort file, found once per file rather than per row.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout {
    /// The column the cohort identifier option names (`cid`, `cidnumber` or `cname`).
    pub(crate) key_column: &'static str,
    identifier: CohortIdentifier,
    key: Option<usize>,
    cid: Option<usize>,
    cmd: Option<usize>,
    user: Option<usize>,
    /// `cname`, `cidnumber`, `cdescription`.
    meta: [Option<usize>; 3],
    /// Which of `meta` the key column is, if one (it is read once per row).
    key_meta: Option<usize>,
    category: Option<usize>,
    component: Option<usize>,
}

/// The cohort's fields a row may give, with their column and what a message calls them.
pub(crate) const META_FIELDS: [(&str, &str); 3] = [
    ("cname", "name"),
    ("cidnumber", "idnumber"),
    ("cdescription", "description"),
];

impl Layout {
    /// The layout of a file whose header has `columns`, with cohorts named by
    /// `identifier`. `Err` when the header has neither `cid` nor the identifier's column.
    pub(crate) fn new(
        columns: &Columns,
        identifier: CohortIdentifier,
        header_line: u32,
    ) -> Result<Layout, Box<Diagnostic>> {
        let key_column = match identifier {
            CohortIdentifier::Id => "cid",
            CohortIdentifier::Idnumber => "cidnumber",
            CohortIdentifier::Name => "cname",
        };
        let meta = META_FIELDS.map(|(name, _)| columns.get(name));
        let key = columns.get(key_column);
        let layout = Layout {
            key_meta: meta.iter().position(|&m| m.is_some() && m == key),
            identifier,
            key_column,
            key,
            cid: columns.get("cid"),
            cmd: columns.get("cmd"),
            user: columns.get("userid"),
            meta,
            category: columns.get("ccatcontext"),
            component: columns.get("component"),
        };
        if layout.cid.is_none() && layout.key.is_none() {
            return Err(Box::new(
                Diagnostic::new(Code::MissingColumn, header_line)
                    .column(key_column)
                    .arg("cohort_key"),
            ));
        }
        Ok(layout)
    }

    /// The columns whose values Moodle stores in a bounded field, and their bound.
    pub(crate) fn limits(&self) -> [(&'static str, Option<usize>, usize); 2] {
        [
            ("cname", self.meta[0], COHORT_NAME_CHARS),
            ("cidnumber", self.meta[1], COHORT_IDNUMBER_CHARS),
        ]
    }

    /// The `userid` cell of `row`.
    pub(crate) fn user<'t>(&self, row: &Row<'t>) -> &'t str {
        cell(row, self.user)
    }

    /// Where the `userid` column is in the header.
    pub(crate) fn user_position(&self) -> Option<usize> {
        self.user
    }
}

/// What a row of a cohort file asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Command {
    /// `add` (or empty): add the member, or create or update the cohort.
    Add,
    /// `del`: remove the member, or delete the cohort.
    Del,
    /// `free`: remove every member.
    Free,
}

/// One row of a cohort file, read: its cells as values, before any lookup in the site.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CohortLine<'t> {
    pub(crate) line: u32,
    pub(crate) command: Command,
    /// The column that names the cohort: `cid` when its cell is filled, else the key column.
    pub(crate) key_column: &'t str,
    /// That cell's value (empty: the row names no cohort).
    pub(crate) key: &'t str,
    /// Where that cell is in the header.
    pub(crate) key_position: Option<usize>,
    /// What the key is: the cohort's id, idnumber or name.
    pub(crate) identifier: CohortIdentifier,
    /// The component of a cohort this row creates: `cohortsync` for a cohort file, none (a
    /// manual cohort) for Moodle's user upload, as Moodle makes it.
    pub(crate) owner: &'static str,
    /// The name of a cohort this row creates when it gives none (`cname`): empty for a
    /// cohort file (a new cohort needs a name), the value itself for Moodle's user upload.
    pub(crate) name_if_new: &'t str,
    /// The `userid` cell (empty: the row is about the cohort itself).
    pub(crate) user: &'t str,
    /// The `cname`, `cidnumber` and `cdescription` cells (empty when absent).
    pub(crate) meta: [&'t str; 3],
    /// The `ccatcontext` cell.
    pub(crate) category: &'t str,
    /// The `component` cell.
    pub(crate) component: &'t str,
}

/// Reads `row` of a cohort file. `Err`: a command it does not know, after which nothing
/// of the row means anything; boxed, as errors are the rare case. An empty cohort key is
/// the rules' to report, beside the row's other problems.
pub(crate) fn read<'t>(row: &Row<'t>, layout: &Layout) -> Result<CohortLine<'t>, Box<Diagnostic>> {
    let line = row.line;
    let command = match cell(row, layout.cmd) {
        "" => Command::Add,
        c if c.eq_ignore_ascii_case("add") => Command::Add,
        c if c.eq_ignore_ascii_case("del") => Command::Del,
        c if c.eq_ignore_ascii_case("free") => Command::Free,
        value => {
            return Err(Box::new(
                Diagnostic::new(Code::InvalidCommand, line)
                    .column("cmd")
                    .value(value)
                    .arg("add, del, free"),
            ));
        }
    };
    // Each cell is read once: the key column is `cid` or one of the cohort's fields.
    let meta = layout.meta.map(|position| cell(row, position));
    let cid = cell(row, layout.cid);
    let (key_column, key, key_position) = match cid {
        "" => {
            let key = match layout.key_meta {
                Some(slot) => meta[slot],
                None => cell(row, layout.key),
            };
            (layout.key_column, key, layout.key)
        }
        value => ("cid", value, layout.cid),
    };
    Ok(CohortLine {
        line,
        command,
        key_column,
        key,
        key_position,
        identifier: layout.identifier,
        owner: crate::snapshot::COHORTSYNC_COMPONENT,
        name_if_new: "",
        user: cell(row, layout.user),
        meta,
        category: cell(row, layout.category),
        component: cell(row, layout.component),
    })
}
