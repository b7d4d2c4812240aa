//! Rules of Moodle's user upload file read for its cohort columns
//! ([`crate::formats::moodle_users`]): each row's user joins the cohort of each filled
//! `cohortN` cell, through the cohort rules ([`super::cohorts`]), so that duplicates,
//! members already there, full mode and the effects on bound courses are those of a cohort
//! file. A value names a cohort by id when numeric, else by idnumber (Moodle's rule); an
//! idnumber the site lacks creates a manual cohort of that name in the system context when
//! *create missing* is on, as Moodle does for an admin.

use super::Site;
use super::cohorts::{AHEAD, Member, Planned, Reading};
use crate::formats::cohort_file::{CohortLine, Command};
use crate::formats::moodle_users::{MOODLE_USER_KEYS, cohort_identifier, user_column};
use crate::formats::{COHORT_IDNUMBER_CHARS, Columns, Rows, cell, unstorable_cells};
use crate::options::Options;
use crate::report::{Code, Diagnostic, Diagnostics};

/// Checks and plans the rows of a user upload file's cohort columns.
pub(crate) fn plan(
    rows: &Rows<'_>,
    columns: &Columns,
    header_line: u32,
    site: &Site<'_>,
    options: &Options,
    diagnostics: &mut Diagnostics,
    progress: &mut dyn FnMut(usize, usize),
) -> Planned {
    let (user_column, identifier) = user_column(columns, options.user_identifier);
    for (key, _) in MOODLE_USER_KEYS {
        if *key != user_column && columns.has(key) {
            diagnostics.push(
                Diagnostic::new(Code::IgnoredColumn, header_line)
                    .column(*key)
                    .arg("user_upload"),
            );
        }
    }
    let user_position = columns.get(user_column);
    let limits: Vec<(&str, Option<usize>, usize)> = columns
        .numbered()
        .iter()
        .map(|(name, position)| (name.as_str(), Some(*position), COHORT_IDNUMBER_CHARS))
        .collect();
    // Most rows of a user upload name a user in one or two cohorts.
    let mut reading = Reading::new(site, options, identifier, rows.len() * 2);
    let mut reads = Vec::new();
    for (row_index, row) in rows.iter().enumerate() {
        if row_index.is_multiple_of(crate::decode::PROGRESS_EVERY) {
            progress(row_index, rows.len());
        }
        if row_index.is_multiple_of(AHEAD) {
            let next = row_index..(row_index + AHEAD).min(rows.len());
            reading.look_ahead(row_index, next.map(|i| cell(&rows.get(i), user_position)));
        }
        let unstorable = unstorable_cells(&row, rows.header(), &limits, diagnostics);
        let user = cell(&row, user_position);
        reads.clear();
        for (name, position) in columns.numbered() {
            let value = cell(&row, Some(*position));
            if value.is_empty() {
                continue;
            }
            let read = CohortLine {
                line: row.line,
                command: Command::Add,
                key_column: name.as_str(),
                key: value,
                key_position: Some(*position),
                identifier: cohort_identifier(value),
                owner: "",
                name_if_new: value,
                user,
                meta: ["", "", ""],
                category: "",
                component: "",
            };
            let target = reading.cohort_of(&read, &unstorable, diagnostics);
            reads.push((Command::Add, target));
        }
        if user.is_empty() {
            diagnostics.push(
                Diagnostic::new(Code::EmptyValue, row.line)
                    .column(user_column)
                    .arg("user_upload_user"),
            );
        } else if !unstorable.has(user_position) {
            let user = (user_column, row.line, user);
            reading.members(row_index, user, &reads, diagnostics);
        }
    }
    let named = |member: &Member| cell(&rows.get(member.row as usize), user_position);
    reading.plan(rows.len(), (user_column, &named), diagnostics)
}
