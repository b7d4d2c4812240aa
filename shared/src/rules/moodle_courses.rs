//! Rules of Moodle's course upload file read for its cohort enrolments
//! ([`crate::formats::moodle_courses`]): each `enrolment_N = cohort` of a row is a binding of
//! the row's course (by short name) to a cohort (by idnumber) with a role (by short name), as
//! Moodle's `enrol_cohort` reads them, and goes through the binding rules
//! ([`super::bindings`]). As in Moodle, a binding not deleted is enabled unless
//! `enrolment_N_disable` says otherwise, and the role is required: it is what tells two
//! bindings of one cohort apart.

use crate::HashSet;

use super::Site;
use super::bindings::Planner;
use super::cohorts::Planned;
use crate::formats::binding_file::{BindingLine, Command, LineColumns, MakeGroup};
use crate::formats::moodle_courses::{Method, methods, yes_no};
use crate::formats::{Columns, Rows, cell, unstorable_cells};
use crate::options::{CohortIdentifier, CourseIdentifier, Options, RoleIdentifier};
use crate::report::{Code, Diagnostic, Diagnostics};
use crate::snapshot::BindingStatus;

/// Checks and plans the cohort enrolments of a course upload file.
pub(crate) fn plan(
    rows: &Rows<'_>,
    columns: &Columns,
    header_line: u32,
    site: &Site<'_>,
    options: &Options,
    diagnostics: &mut Diagnostics,
    progress: &mut dyn FnMut(usize, usize),
) -> Planned {
    // Moodle's identifiers for this file, whatever the options say.
    let options = Options {
        cohort_identifier: CohortIdentifier::Idnumber,
        course_identifier: CourseIdentifier::Shortname,
        role_identifier: RoleIdentifier::Shortname,
        ..options.clone()
    };
    let methods = methods(columns);
    let course = ("shortname", columns.get("shortname"));
    let mut planner = Planner::new(site, &options, (true, true));
    let mut other_methods: HashSet<String> = HashSet::default();
    let mut incomplete: HashSet<u32> = HashSet::default();
    for (index, row) in rows.iter().enumerate() {
        if index.is_multiple_of(crate::decode::PROGRESS_EVERY) {
            progress(index, rows.len());
        }
        let unstorable = unstorable_cells(&row, rows.header(), &[], diagnostics);
        for method in &methods {
            let Some((column, position)) = method.method else {
                continue;
            };
            let name = cell(&row, Some(position));
            if name.is_empty() {
                continue;
            }
            if !name.eq_ignore_ascii_case("cohort") {
                if other_methods.insert(name.to_lowercase()) {
                    diagnostics.push(
                        Diagnostic::new(Code::IgnoredColumn, row.line)
                            .column(column)
                            .value(name)
                            .arg("other_method"),
                    );
                }
                continue;
            }
            // A cohort enrolment names its cohort and its role (what tells two bindings of a
            // cohort apart in Moodle): without those columns, it is a header problem.
            let missing: Vec<&str> = ["cohortidnumber", "role"]
                .into_iter()
                .filter(|f| method.field(f).is_none())
                .collect();
            if !missing.is_empty() {
                if incomplete.insert(method.number) {
                    for field in missing {
                        diagnostics.push(
                            Diagnostic::new(Code::MissingColumn, header_line)
                                .column(format!("enrolment_{}_{field}", method.number))
                                .arg("cohort_enrolment"),
                        );
                    }
                }
                continue;
            }
            let (read, problems) = enrolment(&row, course, method);
            planner.line(&read, problems, &unstorable, diagnostics);
        }
    }
    planner.planned
}

/// The binding one `enrolment_N = cohort` of `row` asks for, and the problems of its cells.
fn enrolment<'t>(
    row: &crate::decode::Row<'t>,
    course: (&'t str, Option<usize>),
    method: &Method<'t>,
) -> (BindingLine<'t>, Vec<Diagnostic>) {
    let line = row.line;
    let mut problems = Vec::new();
    let field = |name: &str| {
        method
            .field(name)
            .map(|(column, position)| (column, Some(position), cell(row, Some(position))))
    };
    let mut yes = |name: &str| {
        let (column, _, value) = field(name)?;
        match yes_no(value) {
            Some(yes) => Some(yes),
            None => {
                problems.push(
                    Diagnostic::new(Code::InvalidValue, line)
                        .column(column)
                        .value(value)
                        .arg("yes_no"),
                );
                None
            }
        }
    };
    let delete = yes("delete").unwrap_or(false);
    let disable = yes("disable").unwrap_or(false);
    let cohort = field("cohortidnumber");
    let role = field("role");
    // A cohort enrolment's role is required: Moodle tells two bindings of a cohort apart by
    // it (an empty one is not `student` here, as it is in a binding file).
    if let Some((column, _, "")) = role {
        problems.push(
            Diagnostic::new(Code::EmptyValue, line)
                .column(column)
                .arg("role_required"),
        );
    }
    let addtogroup = field("addtogroup").filter(|(_, _, v)| !v.is_empty());
    let groupname = field("groupname").filter(|(_, _, v)| !v.is_empty());
    let makegroup = match (addtogroup, groupname) {
        (Some((column, _, _)), Some(_)) => {
            problems.push(
                Diagnostic::new(Code::InvalidValue, line)
                    .column(column)
                    .value(addtogroup.map_or("", |(_, _, v)| v))
                    .arg("addtogroup_and_groupname"),
            );
            None
        }
        (Some((_, _, "0")), None) => Some(MakeGroup::None),
        (Some((_, _, "1")), None) => Some(MakeGroup::NamedAfterCohort),
        (Some((column, _, value)), None) => {
            problems.push(
                Diagnostic::new(Code::InvalidValue, line)
                    .column(column)
                    .value(value)
                    .arg("addtogroup"),
            );
            None
        }
        (None, Some((_, _, name))) => Some(MakeGroup::Named(name)),
        (None, None) => None,
    };
    let group_column = groupname.or(addtogroup).map_or(
        (
            method.field("groupname").map_or("", |(c, _)| c),
            method.field("groupname").map(|(_, p)| p),
        ),
        |(c, p, _)| (c, p),
    );
    let cohort_column = cohort.map_or(("", None), |(c, p, _)| (c, p));
    let read = BindingLine {
        line,
        command: if delete {
            Command::Delete
        } else {
            Command::Add
        },
        course: cell(row, course.1),
        cohort: cohort.map_or("", |(_, _, v)| v),
        role: role.map_or("", |(_, _, v)| v),
        makegroup,
        name: None,
        status: (!delete).then_some(if disable {
            BindingStatus::Disabled
        } else {
            BindingStatus::Active
        }),
        enrolstart: None,
        enrolend: None,
        new_role: None,
        columns: LineColumns {
            course,
            cohort: cohort_column,
            role: role.map_or(("", None), |(c, p, _)| (c, p)),
            group: group_column,
            new_role: ("", None),
        },
    };
    (read, problems)
}
