//! Rules of the course binding file (tool_sync format): `cmd` (add, del = disable,
//! restore = enable, fulldel = delete), `cohort`, `course`, `role` (empty: student),
//! `makegroup` (0/empty: none, 1: a group named after the cohort, else an existing group's
//! name), `enrolstart`, `enrolend`; and two columns of our own, for what Moodle's form has
//! and tool_sync's file lacks: `name` (the instance's custom name; empty: Moodle's default
//! name) and `status` (`active` or `disabled`, with `add` only; empty: unchanged, or active
//! for a new binding).

use crate::HashMap;

use super::{Site, cell};
use crate::changeset::{Effect, Operation, Ref, Step};
use crate::decode::Row;
use crate::formats::{Columns, Rows};
use crate::options::{CourseIdentifier, Options, RoleIdentifier};
use crate::report::{Code, Diagnostic, Diagnostics};
use crate::snapshot::{Binding, BindingStatus, Course, Role};

use super::cohorts::Planned;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    Add,
    Disable,
    Restore,
    Delete,
}

/// What one row wants, once resolved; compared across rows for duplicates and conflicts.
#[derive(Debug, Clone, PartialEq)]
struct Wanted {
    command: Command,
    group: GroupWish,
    name: Option<String>,
    status: Option<BindingStatus>,
    enrolstart: Option<i64>,
    enrolend: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
enum GroupWish {
    Keep,
    None,
    Existing(i64),
    Create(String),
}

pub(crate) fn plan(
    rows: &Rows<'_>,
    columns: &Columns,
    site: &Site<'_>,
    options: &Options,
    diagnostics: &mut Diagnostics,
    progress: &mut dyn FnMut(usize, usize),
) -> Planned {
    let snapshot = site.snapshot;
    let mut planned = Planned::default();
    let mut seen: HashMap<(i64, i64, i64), (Wanted, u32)> = HashMap::default();
    let mut created_groups: HashMap<(i64, String), u32> = HashMap::default();
    let mut new_bindings = 0u32;

    let header = rows.header();
    for (index, row) in rows.iter().enumerate() {
        let row = &row;
        if super::unstorable_cells(row, header, &[], diagnostics) {
            continue;
        }
        if index.is_multiple_of(crate::decode::PROGRESS_EVERY) {
            progress(index, rows.len());
        }
        let line = row.line;
        let command_cell = cell(row, columns.get("cmd"));
        let command = match command_cell.to_ascii_lowercase().as_str() {
            "" | "add" => Command::Add,
            "del" => Command::Disable,
            "restore" => Command::Restore,
            "fulldel" => Command::Delete,
            _ => {
                diagnostics.push(
                    Diagnostic::new(Code::InvalidCommand, line)
                        .column("cmd")
                        .value(command_cell)
                        .arg("add, del, restore, fulldel"),
                );
                continue;
            }
        };
        let course_value = cell(row, columns.get("course"));
        let cohort_value = cell(row, columns.get("cohort"));
        let role_value = cell(row, columns.get("role"));
        let mut problems = Vec::new();
        for (column, value) in [("course", course_value), ("cohort", cohort_value)] {
            if value.is_empty() {
                problems.push(Diagnostic::new(Code::EmptyValue, line).column(column));
            }
        }
        if !problems.is_empty() {
            diagnostics.extend(problems);
            continue;
        }
        let course = find_course(&snapshot.courses, options.course_identifier, course_value);
        let course = match course.as_slice() {
            [one] => Some(*one),
            [] => {
                problems.push(
                    Diagnostic::new(Code::CourseNotFound, line)
                        .column("course")
                        .value(course_value)
                        .arg(options.course_identifier.as_str()),
                );
                None
            }
            many => {
                problems.push(
                    Diagnostic::new(Code::CourseAmbiguous, line)
                        .column("course")
                        .value(course_value)
                        .arg(options.course_identifier.as_str())
                        .arg(many.len()),
                );
                None
            }
        };
        let cohort = match site.find_cohorts(options.cohort_identifier, cohort_value) {
            [one] => Some(site.cohort(*one)),
            [] => {
                let mut d = Diagnostic::new(Code::CohortNotFound, line)
                    .column("cohort")
                    .value(cohort_value)
                    .arg(options.cohort_identifier.as_str())
                    .arg("");
                if let Some(better) =
                    site.cohort_identifier_hint(options.cohort_identifier, cohort_value)
                {
                    d = d.hint("cohort_identifier", better.as_str());
                }
                problems.push(d);
                None
            }
            many => {
                problems.push(
                    Diagnostic::new(Code::CohortAmbiguous, line)
                        .column("cohort")
                        .value(cohort_value)
                        .arg(options.cohort_identifier.as_str())
                        .arg(many.len()),
                );
                None
            }
        };
        let role_key = if role_value.is_empty() {
            "student"
        } else {
            role_value
        };
        let role_identifier = if role_value.is_empty() {
            RoleIdentifier::Shortname
        } else {
            options.role_identifier
        };
        let role = find_role(&snapshot.roles, role_identifier, role_key);
        if role.is_none() {
            problems.push(
                Diagnostic::new(Code::RoleNotFound, line)
                    .column("role")
                    .value(role_key)
                    .arg(role_identifier.as_str()),
            );
        }
        let name = columns
            .has("name")
            .then(|| cell(row, columns.get("name")).to_owned());
        if let Some(name) = &name
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
        let (Some(course), Some(cohort), Some(role)) = (course, cohort, role) else {
            diagnostics.extend(problems);
            continue;
        };
        let course = &snapshot.courses[course];
        let group = if !columns.has("makegroup") {
            GroupWish::Keep
        } else {
            match cell(row, columns.get("makegroup")) {
                "" | "0" => GroupWish::None,
                "1" => match snapshot
                    .groups
                    .iter()
                    .find(|g| g.course == course.id && g.name == cohort.name)
                {
                    Some(group) => GroupWish::Existing(group.id),
                    None => GroupWish::Create(cohort.name.clone()),
                },
                name => match snapshot.groups.iter().find(|g| {
                    g.course == course.id
                        && (g.name == name || (!g.idnumber.is_empty() && g.idnumber == name))
                }) {
                    Some(group) => GroupWish::Existing(group.id),
                    None => {
                        problems.push(
                            Diagnostic::new(Code::GroupNotFound, line)
                                .column("makegroup")
                                .value(name)
                                .arg(&course.shortname),
                        );
                        GroupWish::Keep
                    }
                },
            }
        };
        if !problems.is_empty() {
            diagnostics.extend(problems);
            continue;
        }
        let wanted = Wanted {
            command,
            group,
            name,
            status,
            enrolstart: enrolstart.flatten(),
            enrolend: enrolend.flatten(),
        };
        let key = (course.id, cohort.id, role.id);
        match seen.get(&key) {
            Some((first, first_line)) if *first == wanted => {
                diagnostics.push(Diagnostic::new(Code::DuplicateRow, line).arg(first_line));
                continue;
            }
            Some((_, first_line)) => {
                diagnostics.push(
                    Diagnostic::new(Code::ConflictingRows, line)
                        .arg(first_line)
                        .arg("binding_settings"),
                );
                continue;
            }
            None => {
                seen.insert(key, (wanted.clone(), line));
            }
        }
        let existing = snapshot
            .bindings
            .iter()
            .find(|b| (b.course, b.cohort, b.role) == key);
        let members = &cohort.members;
        let keep_dates = (!columns.has("enrolstart"), !columns.has("enrolend"));
        match (command, existing) {
            (Command::Add, None) => {
                let group = match &wanted.group {
                    GroupWish::Existing(id) => Some(Ref::Existing(*id)),
                    GroupWish::Create(name) => Some(create_group(
                        course.id,
                        name,
                        line,
                        &mut created_groups,
                        &mut planned,
                    )),
                    GroupWish::None | GroupWish::Keep => None,
                };
                let binding = Ref::New { new: new_bindings };
                let status = wanted.status.unwrap_or_default();
                planned.operations.push(Step {
                    line: Some(line),
                    op: Operation::CreateBinding {
                        binding: new_bindings,
                        course: course.id,
                        cohort: cohort.id,
                        role: role.id,
                        group,
                        name: wanted.name.clone().unwrap_or_default(),
                        status,
                        enrolstart: wanted.enrolstart,
                        enrolend: wanted.enrolend,
                    },
                });
                new_bindings += 1;
                // A binding created disabled enrols nobody until it is restored.
                let members: &[i64] = if status == BindingStatus::Active {
                    members
                } else {
                    &[]
                };
                for &user in members {
                    planned.effects.push(Effect::Enrol {
                        user,
                        course: course.id,
                        role: role.id,
                        binding,
                    });
                    if let Some(group) = group {
                        planned.effects.push(Effect::AddToGroup {
                            user,
                            course: course.id,
                            group,
                        });
                    }
                }
            }
            (Command::Add, Some(binding)) => {
                let group = match &wanted.group {
                    GroupWish::Keep => binding.group.map(Ref::Existing),
                    GroupWish::None => None,
                    GroupWish::Existing(id) => Some(Ref::Existing(*id)),
                    GroupWish::Create(name) => Some(create_group(
                        course.id,
                        name,
                        line,
                        &mut created_groups,
                        &mut planned,
                    )),
                };
                let enrolstart = if keep_dates.0 {
                    binding.enrolstart
                } else {
                    wanted.enrolstart
                };
                let enrolend = if keep_dates.1 {
                    binding.enrolend
                } else {
                    wanted.enrolend
                };
                let target = Settings {
                    group,
                    name: wanted.name.as_deref().unwrap_or(&binding.name),
                    status: wanted.status.unwrap_or(binding.status),
                    enrolstart,
                    enrolend,
                };
                if !change(
                    binding,
                    target,
                    members,
                    course.id,
                    role.id,
                    line,
                    &mut planned,
                ) {
                    diagnostics.push(Diagnostic::new(Code::NoChange, line));
                }
            }
            (Command::Disable | Command::Restore | Command::Delete, None) => {
                diagnostics.push(
                    Diagnostic::new(Code::BindingNotFound, line)
                        .arg(&cohort.name)
                        .arg(&course.shortname)
                        .arg(&role.shortname),
                );
            }
            // tool_sync's way to disable and enable: the status alone changes.
            (Command::Disable | Command::Restore, Some(binding)) => {
                let status = if command == Command::Disable {
                    BindingStatus::Disabled
                } else {
                    BindingStatus::Active
                };
                let target = Settings {
                    status,
                    ..Settings::of(binding)
                };
                if !change(
                    binding,
                    target,
                    members,
                    course.id,
                    role.id,
                    line,
                    &mut planned,
                ) {
                    diagnostics.push(Diagnostic::new(Code::NoChange, line));
                }
            }
            (Command::Delete, Some(binding)) => {
                planned.operations.push(Step {
                    line: Some(line),
                    op: Operation::DeleteBinding {
                        binding: binding.id,
                    },
                });
                for &user in members {
                    planned.removals += 1;
                    planned.effects.push(Effect::Unenrol {
                        user,
                        course: course.id,
                        role: role.id,
                        binding: Ref::Existing(binding.id),
                    });
                    if let Some(group) = binding.group {
                        planned.effects.push(Effect::RemoveFromGroup {
                            user,
                            course: course.id,
                            group,
                        });
                    }
                }
            }
        }
    }
    planned
}

/// The most characters a binding's custom name may have (Moodle's `enrol.name`).
const NAME_MAX: usize = 255;

/// A binding's settings after a row.
struct Settings<'a> {
    group: Option<Ref>,
    name: &'a str,
    status: BindingStatus,
    enrolstart: Option<i64>,
    enrolend: Option<i64>,
}

impl<'a> Settings<'a> {
    /// The settings `binding` has now.
    fn of(binding: &'a Binding) -> Self {
        Settings {
            group: binding.group.map(Ref::Existing),
            name: &binding.name,
            status: binding.status,
            enrolstart: binding.enrolstart,
            enrolend: binding.enrolend,
        }
    }
}

/// Plans moving an existing binding to `target`, with the effects on its cohort's
/// `members`: disabling suspends them; enabling enrols them again; a new group takes them
/// from the old one. Returns false when `target` is what the binding already has.
fn change(
    binding: &Binding,
    target: Settings<'_>,
    members: &[i64],
    course: i64,
    role: i64,
    line: u32,
    planned: &mut Planned,
) -> bool {
    let group_changed = target.group != binding.group.map(Ref::Existing);
    if !group_changed
        && target.name == binding.name
        && target.status == binding.status
        && (target.enrolstart, target.enrolend) == (binding.enrolstart, binding.enrolend)
    {
        return false;
    }
    let transition = (binding.status, target.status);
    let enabled = transition == (BindingStatus::Disabled, BindingStatus::Active);
    let group = target.group;
    planned.operations.push(Step {
        line: Some(line),
        op: Operation::UpdateBinding {
            binding: binding.id,
            group,
            name: target.name.to_owned(),
            status: target.status,
            enrolstart: target.enrolstart,
            enrolend: target.enrolend,
        },
    });
    let this = Ref::Existing(binding.id);
    for &user in members {
        match transition {
            (BindingStatus::Active, BindingStatus::Disabled) => {
                planned.removals += 1;
                planned.effects.push(Effect::Suspend {
                    user,
                    course,
                    role,
                    binding: this,
                    remove_roles: false,
                });
            }
            (BindingStatus::Disabled, BindingStatus::Active) => {
                planned.effects.push(Effect::Enrol {
                    user,
                    course,
                    role,
                    binding: this,
                });
            }
            _ => {}
        }
        if group_changed && let Some(old) = binding.group {
            planned.effects.push(Effect::RemoveFromGroup {
                user,
                course,
                group: old,
            });
        }
        // Members follow the group even while the binding is disabled (Moodle keeps a
        // suspended member's groups); enabling it puts those who joined the cohort
        // meanwhile in its group.
        if (group_changed || enabled)
            && let Some(group) = group
        {
            planned.effects.push(Effect::AddToGroup {
                user,
                course,
                group,
            });
        }
    }
    true
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
    let status = match value.to_ascii_lowercase().as_str() {
        "active" | "enabled" => Some(BindingStatus::Active),
        "disabled" => Some(BindingStatus::Disabled),
        _ => None,
    };
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

fn create_group(
    course: i64,
    name: &str,
    line: u32,
    created: &mut HashMap<(i64, String), u32>,
    planned: &mut Planned,
) -> Ref {
    let next = created.len() as u32;
    let new = *created.entry((course, name.to_owned())).or_insert_with(|| {
        planned.operations.push(Step {
            line: Some(line),
            op: Operation::CreateGroup {
                group: next,
                course,
                name: name.to_owned(),
            },
        });
        next
    });
    Ref::New { new }
}

fn find_course(courses: &[Course], kind: CourseIdentifier, value: &str) -> Vec<usize> {
    courses
        .iter()
        .enumerate()
        .filter(|(_, c)| match kind {
            CourseIdentifier::Id => value.parse::<i64>().is_ok_and(|id| id == c.id),
            CourseIdentifier::Idnumber => !c.idnumber.is_empty() && c.idnumber == value,
            CourseIdentifier::Shortname => c.shortname == value,
        })
        .map(|(i, _)| i)
        .collect()
}

fn find_role<'r>(roles: &'r [Role], kind: RoleIdentifier, value: &str) -> Option<&'r Role> {
    roles.iter().find(|r| match kind {
        RoleIdentifier::Id => value.parse::<i64>().is_ok_and(|id| id == r.id),
        RoleIdentifier::Shortname => r.shortname.eq_ignore_ascii_case(value),
    })
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
