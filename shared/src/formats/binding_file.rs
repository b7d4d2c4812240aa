//! The course binding file (tool_sync format, with two columns of our own): its columns,
//! and the writer that turns bindings a person chose into such a file.

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
