//! The course binding file (tool_sync format): `cmd` (add, del = disable, restore =
//! enable, fulldel = delete), `cohort`, `course`, `role` (empty: student), `makegroup`
//! (0/empty: none, 1: a new group named after the cohort as Moodle names it, else an
//! existing group's name),
//! `enrolstart`, `enrolend`; and three columns of our own, for what Moodle's form has and
//! tool_sync's file lacks: `name` (the instance's custom name; empty: Moodle's default
//! name), `status` (`active` or `disabled`, with `add` only; empty: unchanged, or active
//! for a new binding) and `newrole` (with `add` only: the role the existing binding of
//! `role` gives from now on, as Moodle's form changes an instance's role; empty:
//! unchanged).
//!
//! `read` turns a row into the values the rules resolve; [`binding_file`] writes the file
//! that asks for bindings a person chose (the form, a revert).

use super::{Columns, cell};
use crate::decode::Row;
use crate::report::diagnostic::{Code, Diagnostic};
use crate::snapshot::BindingStatus;

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
    "newrole",
];

/// The group a binding puts its members in, as the binding form offers it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GroupChoice<'a> {
    /// No group.
    None,
    /// A group named after the cohort as Moodle names it (`"<cohort> cohort"`), created unless
    /// the binding is in one already.
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
    pub status: BindingStatus,
    /// Enrolment start and end (Unix time), when the row sets them: `None` leaves an
    /// existing binding's dates alone. When any row sets them, the file has the date
    /// columns, and a row that does not set them clears them.
    pub dates: Option<(Option<i64>, Option<i64>)>,
    /// With `add`: the role the binding of `role` gives from now on (empty: unchanged).
    pub new_role: &'a str,
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
    let with_new_role = rows.iter().any(|r| !r.new_role.is_empty());
    // The cells of every row, then the columns the file has: the dates and `newrole` only
    // when some row sets them.
    let mut write = |record: &[&str; 10]| {
        let record = record.iter().enumerate().filter(|(i, _)| match i {
            7 | 8 => with_dates,
            9 => with_new_role,
            _ => true,
        });
        writer
            .write_record(record.map(|(_, cell)| cell))
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
        "newrole",
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
        let status = row.status.as_str();
        let (start, end) = row.dates.unwrap_or_default();
        let (start, end) = (time(start), time(end));
        match row.command {
            RowCommand::Add => write(&[
                "add",
                row.cohort,
                row.course,
                row.role,
                group,
                row.name,
                status,
                &start,
                &end,
                row.new_role,
            ]),
            // A deleted binding's settings do not matter; a status goes with add only.
            RowCommand::Delete => write(&[
                "fulldel", row.cohort, row.course, row.role, "", "", "", "", "", "",
            ]),
        }
    }
    let bytes = writer.into_inner().expect("writing to memory cannot fail");
    String::from_utf8(bytes).expect("the cells are text")
}

/// What a row of a binding file asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Command {
    /// `add` (or empty): create the binding, or set its settings.
    Add,
    /// `del`: disable it (tool_sync's word).
    Disable,
    /// `restore`: enable it again.
    Restore,
    /// `fulldel`: delete it.
    Delete,
}

/// The `makegroup` cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MakeGroup<'t> {
    /// `0` or empty: no group.
    None,
    /// `1`: a group named after the cohort.
    NamedAfterCohort,
    /// Any other value: an existing group, by name or idnumber.
    Named(&'t str),
}

/// Where a line's course, cohort, role and group cells are: their column's name (what a
/// diagnostic names) and position in the header (when present).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LineColumns<'t> {
    pub(crate) course: (&'t str, Option<usize>),
    pub(crate) cohort: (&'t str, Option<usize>),
    pub(crate) role: (&'t str, Option<usize>),
    pub(crate) group: (&'t str, Option<usize>),
    pub(crate) new_role: (&'t str, Option<usize>),
}

/// One row of a binding file, read: its cells as values, before any lookup in the site.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BindingLine<'t> {
    pub(crate) line: u32,
    pub(crate) command: Command,
    /// The course cell (empty: the row names no course).
    pub(crate) course: &'t str,
    /// The cohort cell (empty: the row names no cohort).
    pub(crate) cohort: &'t str,
    /// The role cell (empty: the rules use `student`).
    pub(crate) role: &'t str,
    /// `None` when the file has no `makegroup` column: the group is left as it is.
    pub(crate) makegroup: Option<MakeGroup<'t>>,
    /// `None` when the file has no `name` column.
    pub(crate) name: Option<&'t str>,
    /// `None` when the column is absent or the cell empty.
    pub(crate) status: Option<BindingStatus>,
    /// `None` when the column is absent; `Some(None)` when the cell is empty (or unreadable).
    pub(crate) enrolstart: Option<Option<i64>>,
    /// As `enrolstart`.
    pub(crate) enrolend: Option<Option<i64>>,
    /// With `add`: the role the binding gives from now on (`None`: the column is absent,
    /// the cell empty, or the row not an `add`).
    pub(crate) new_role: Option<&'t str>,
    /// The columns its cells are in.
    pub(crate) columns: LineColumns<'t>,
}

/// The most characters a binding's custom name may have (Moodle's `enrol.name`).
const NAME_MAX: usize = 255;

/// Reads `row` of a binding file. `Err`: a command it does not know, after which nothing
/// of the row means anything. `Ok`: its values (an empty course or cohort is the rules'
/// to report), and the problems of the cells that hold its settings (reported after those
/// of its lookups).
pub(crate) fn read<'t>(
    row: &Row<'t>,
    columns: &Columns,
) -> Result<(BindingLine<'t>, Vec<Diagnostic>), Vec<Diagnostic>> {
    let line = row.line;
    let command_cell = cell(row, columns.get("cmd"));
    let command = match command_cell.to_ascii_lowercase().as_str() {
        "" | "add" => Command::Add,
        "del" => Command::Disable,
        "restore" => Command::Restore,
        "fulldel" => Command::Delete,
        _ => {
            return Err(vec![
                Diagnostic::new(Code::InvalidCommand, line)
                    .column("cmd")
                    .value(command_cell)
                    .arg("add, del, restore, fulldel"),
            ]);
        }
    };
    let course = cell(row, columns.get("course"));
    let cohort = cell(row, columns.get("cohort"));
    let mut problems = Vec::new();
    let name = columns.has("name").then(|| cell(row, columns.get("name")));
    if let Some(name) = name
        && name.chars().count() > NAME_MAX
    {
        problems.push(
            Diagnostic::new(Code::InvalidValue, line)
                .column("name")
                .value(name)
                .arg("name_length"),
        );
    }
    let status = status(row, columns, command, &mut problems);
    let enrolstart = date(row, columns, "enrolstart", &mut problems);
    let enrolend = date(row, columns, "enrolend", &mut problems);
    if let (Some(Some(start)), Some(Some(end))) = (enrolstart, enrolend)
        && end < start
    {
        problems.push(
            Diagnostic::new(Code::InvalidValue, line)
                .column("enrolend")
                .value(cell(row, columns.get("enrolend")))
                .arg("date_order"),
        );
    }
    let new_role = match cell(row, columns.get("newrole")) {
        "" => None,
        value if command == Command::Add => Some(value),
        value => {
            problems.push(
                Diagnostic::new(Code::InvalidValue, line)
                    .column("newrole")
                    .value(value)
                    .arg("newrole_with_add"),
            );
            None
        }
    };
    let makegroup = columns
        .has("makegroup")
        .then(|| match cell(row, columns.get("makegroup")) {
            "" | "0" => MakeGroup::None,
            "1" => MakeGroup::NamedAfterCohort,
            name => MakeGroup::Named(name),
        });
    let read = BindingLine {
        line,
        command,
        course,
        cohort,
        role: cell(row, columns.get("role")),
        makegroup,
        name,
        status,
        enrolstart,
        enrolend,
        new_role,
        columns: LineColumns {
            course: ("course", columns.get("course")),
            cohort: ("cohort", columns.get("cohort")),
            role: ("role", columns.get("role")),
            group: ("makegroup", columns.get("makegroup")),
            new_role: ("newrole", columns.get("newrole")),
        },
    };
    Ok((read, problems))
}

/// Reads the `status` cell: `None` when the column is absent or the cell empty. A status
/// only goes with `add` (`del` and `restore` are themselves the status).
fn status(
    row: &Row<'_>,
    columns: &Columns,
    command: Command,
    problems: &mut Vec<Diagnostic>,
) -> Option<BindingStatus> {
    let value = cell(row, columns.get("status"));
    if value.is_empty() {
        return None;
    }
    let status = BindingStatus::from_cell(value);
    let expected = match (status, command) {
        (None, _) => "binding_status",
        (Some(_), Command::Add) => return status,
        (Some(_), _) => "status_with_add",
    };
    problems.push(
        Diagnostic::new(Code::InvalidValue, row.line)
            .column("status")
            .value(value)
            .arg(expected),
    );
    None
}

/// Reads a date cell: `None` when the column is absent, `Some(None)` when empty.
fn date(
    row: &Row<'_>,
    columns: &Columns,
    column: &str,
    problems: &mut Vec<Diagnostic>,
) -> Option<Option<i64>> {
    let position = columns.get(column)?;
    let value = row.cell(position).trim();
    if value.is_empty() || value == "0" {
        return Some(None);
    }
    match parse_date(value) {
        Some(time) => Some(Some(time)),
        None => {
            problems.push(
                Diagnostic::new(Code::InvalidValue, row.line)
                    .column(column)
                    .value(value)
                    .arg("date"),
            );
            Some(None)
        }
    }
}

/// `YYYY-MM-DD`, `YYYY-MM-DD HH:MM` (UTC) or a Unix timestamp → Unix time.
pub(crate) fn parse_date(value: &str) -> Option<i64> {
    if value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse().ok();
    }
    let (date, time) = match value.split_once([' ', 'T']) {
        Some((date, time)) => (date, Some(time)),
        None => (value, None),
    };
    let mut parts = date.split('-');
    let (y, m, d) = (
        parts.next()?.parse::<i64>().ok()?,
        parts.next()?.parse::<u32>().ok()?,
        parts.next()?.parse::<u32>().ok()?,
    );
    // Four-digit years: `300000000000-03-01` is a typo, not a date (and would overflow).
    if parts.next().is_some()
        || !(1..=9999).contains(&y)
        || !(1..=12).contains(&m)
        || d == 0
        || d > days_in_month(y, m)
    {
        return None;
    }
    let seconds = match time {
        None => 0,
        Some(time) => {
            let (h, min) = time.split_once(':')?;
            let (h, min) = (
                h.parse::<i64>().ok()?,
                min.get(..2).unwrap_or(min).parse::<i64>().ok()?,
            );
            if !(0..24).contains(&h) || !(0..60).contains(&min) {
                return None;
            }
            h * 3600 + min * 60
        }
    };
    days_from_civil(y, m, d)
        .checked_mul(86_400)?
        .checked_add(seconds)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::parse_date;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn years_beyond_four_digits_are_not_dates() {
        assert_eq!(parse_date("300000000000-03-01"), None);
        assert_eq!(parse_date("9223372036854775807-01-01"), None);
        assert_eq!(parse_date("10000-01-01"), None);
        assert_eq!(parse_date("0-01-01"), None);
        assert!(parse_date("9999-12-31 23:59").is_some());
        assert_eq!(parse_date("99999999999999999999"), None);
    }

    #[test]
    fn dates_in_every_accepted_form() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2026-09-01"), Some(1_788_220_800));
        assert_eq!(
            parse_date("2026-09-01 08:30"),
            Some(1_788_220_800 + 8 * 3600 + 30 * 60)
        );
        assert_eq!(parse_date("1788220800"), Some(1_788_220_800));
        assert_eq!(parse_date("2024-02-29"), Some(1_709_164_800));
        for bad in [
            "2025-02-29",
            "01/09/2026",
            "2026-13-01",
            "2026-09-01 25:00",
            "soon",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }
}
