//! Rules of the course binding file ([`crate::formats::binding_file`]): each row's course,
//! cohort, role and group are looked up in the site, rows are compared with each other,
//! and what they ask for is planned with its effects on the cohort's members.

use crate::HashMap;

use super::Site;
use super::cohorts::Planned;
use crate::changeset::{BindingUpdate, NewBinding, NewGroup, Operation, Ref, Step};
use crate::formats::binding_file::{self, BindingLine, Command, MakeGroup};
use crate::formats::{Columns, Rows, Unstorable, unstorable_cells};
use crate::options::{CourseIdentifier, Options, RoleIdentifier};
use crate::report::{Code, Diagnostic, Diagnostics};
use crate::snapshot::{Binding, BindingStatus, Cohort, Course, Role, Snapshot};

/// What one row wants, once resolved; compared across rows for duplicates and conflicts.
#[derive(Debug, Clone, PartialEq)]
struct Wanted {
    command: Command,
    /// The role the binding changes to (`None`: it keeps its role).
    new_role: Option<i64>,
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

/// A row whose course, cohort, role and group the site has.
struct Resolved<'s> {
    line: u32,
    course: &'s Course,
    cohort: &'s Cohort,
    role: &'s Role,
    /// The role the binding changes to, when it is another.
    new_role: Option<&'s Role>,
    wanted: Wanted,
}

/// Checks and plans the rows of a binding file.
pub(crate) fn plan(
    rows: &Rows<'_>,
    columns: &Columns,
    _header_line: u32,
    site: &Site<'_>,
    options: &Options,
    diagnostics: &mut Diagnostics,
    progress: &mut dyn FnMut(usize, usize),
) -> Planned {
    let keep_dates = (!columns.has("enrolstart"), !columns.has("enrolend"));
    let mut planner = Planner::new(site, options, keep_dates);
    let header = rows.header();
    for (index, row) in rows.iter().enumerate() {
        if index.is_multiple_of(crate::decode::PROGRESS_EVERY) {
            progress(index, rows.len());
        }
        let unstorable = unstorable_cells(&row, header, &[], diagnostics);
        match binding_file::read(&row, columns) {
            Ok((read, problems)) => planner.line(&read, problems, &unstorable, diagnostics),
            Err(problems) => diagnostics.extend(problems),
        }
    }
    planner.planned
}

/// Looks up a row's course, cohort, role and group, each on its own, so that a row with
/// several wrong says so at once. `Err`: every problem of the row, the lookups' first and
/// then `cell_problems` (those of its settings). A cell `unstorable` has reported is not
/// looked up; the group is, only once its course is known.
fn resolve<'s>(
    read: &BindingLine<'_>,
    cell_problems: Vec<Diagnostic>,
    unstorable: &Unstorable,
    site: &Site<'s>,
    options: &Options,
) -> Result<Resolved<'s>, Vec<Diagnostic>> {
    let snapshot = site.snapshot;
    let mut problems = Vec::new();
    // An empty role is `student`; an empty course or cohort names nothing.
    let named = |(column, position): (&str, Option<usize>),
                 value: &str,
                 may_be_empty: bool,
                 problems: &mut Vec<Diagnostic>| {
        if unstorable.has(position) {
            return false;
        }
        if value.is_empty() && !may_be_empty {
            problems.push(Diagnostic::new(Code::EmptyValue, read.line).column(column));
            return false;
        }
        true
    };
    let course = named(read.columns.course, read.course, false, &mut problems)
        .then(|| find_course(snapshot, options.course_identifier, read))
        .and_then(|lookup| found(lookup, &mut problems));
    let cohort = named(read.columns.cohort, read.cohort, false, &mut problems)
        .then(|| find_cohort(site, options, read))
        .and_then(|lookup| found(lookup, &mut problems));
    let role = named(read.columns.role, read.role, true, &mut problems)
        .then(|| {
            find_role(
                snapshot,
                options.role_identifier,
                read,
                read.role,
                read.columns.role.0,
            )
        })
        .and_then(|lookup| found(lookup, &mut problems));
    let new_role = match read.new_role {
        Some(value) if !unstorable.has(read.columns.new_role.1) => found(
            find_role(
                snapshot,
                options.role_identifier,
                read,
                value,
                read.columns.new_role.0,
            ),
            &mut problems,
        )
        .map(Some),
        Some(_) => None,
        None => Some(None),
    };
    problems.extend(cell_problems);
    let (Some(course), Some(cohort), Some(role), Some(new_role)) = (course, cohort, role, new_role)
    else {
        // An existing group belongs to its course alone: it is checked all the same.
        if let (Some(course), Some(MakeGroup::Named(name))) = (course, read.makegroup) {
            existing_group(read, snapshot, course, name, &mut problems);
        }
        return Err(problems);
    };
    if unstorable.any() {
        return Err(problems);
    }
    let group = group_wish(read, snapshot, (course, cohort, role), &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    let new_role = new_role.filter(|r| r.id != role.id);
    let wanted = Wanted {
        command: read.command,
        new_role: new_role.map(|r| r.id),
        group,
        name: read.name.map(str::to_owned),
        status: read.status,
        enrolstart: read.enrolstart.flatten(),
        enrolend: read.enrolend.flatten(),
    };
    Ok(Resolved {
        line: read.line,
        course,
        cohort,
        role,
        new_role,
        wanted,
    })
}

/// The value a lookup found, or `None` with its problem added to `problems`.
fn found<T>(lookup: Result<T, Box<Diagnostic>>, problems: &mut Vec<Diagnostic>) -> Option<T> {
    lookup.map_err(|d| problems.push(*d)).ok()
}

fn find_course<'s>(
    snapshot: &'s Snapshot,
    kind: CourseIdentifier,
    read: &BindingLine<'_>,
) -> Result<&'s Course, Box<Diagnostic>> {
    let value = read.course;
    let found: Vec<&Course> = snapshot
        .courses
        .iter()
        .filter(|c| match kind {
            CourseIdentifier::Id => value.parse::<i64>().is_ok_and(|id| id == c.id),
            CourseIdentifier::Idnumber => !c.idnumber.is_empty() && c.idnumber == value,
            CourseIdentifier::Shortname => c.shortname == value,
        })
        .collect();
    let problem = |code| {
        Diagnostic::new(code, read.line)
            .column(read.columns.course.0)
            .value(value)
            .arg(kind.as_str())
    };
    match found.as_slice() {
        [one] => Ok(one),
        [] => Err(Box::new(problem(Code::CourseNotFound))),
        many => Err(Box::new(problem(Code::CourseAmbiguous).arg(many.len()))),
    }
}

fn find_cohort<'s>(
    site: &Site<'s>,
    options: &Options,
    read: &BindingLine<'_>,
) -> Result<&'s Cohort, Box<Diagnostic>> {
    let (kind, value) = (options.cohort_identifier, read.cohort);
    let problem = |code| {
        Diagnostic::new(code, read.line)
            .column(read.columns.cohort.0)
            .value(value)
            .arg(kind.as_str())
    };
    match site.find_cohorts(kind, value) {
        [one] => Ok(site.cohort(*one as usize)),
        [] => {
            let mut d = problem(Code::CohortNotFound).arg("");
            if let Some(better) = site.cohort_identifier_hint(kind, value) {
                d = d.hint("cohort_identifier", better.as_str());
            }
            Err(Box::new(d))
        }
        many => Err(Box::new(problem(Code::CohortAmbiguous).arg(many.len()))),
    }
}

/// The role a cell of the row names (`role` or `newrole`, in `column`): an empty cell is
/// `student`, by short name whatever the option says.
fn find_role<'s>(
    snapshot: &'s Snapshot,
    kind: RoleIdentifier,
    read: &BindingLine<'_>,
    value: &str,
    column: &str,
) -> Result<&'s Role, Box<Diagnostic>> {
    let (kind, value) = match value {
        "" => (RoleIdentifier::Shortname, "student"),
        value => (kind, value),
    };
    snapshot
        .roles
        .iter()
        .find(|r| match kind {
            RoleIdentifier::Id => value.parse::<i64>().is_ok_and(|id| id == r.id),
            RoleIdentifier::Shortname => r.shortname.eq_ignore_ascii_case(value),
        })
        .ok_or_else(|| {
            Box::new(
                Diagnostic::new(Code::RoleNotFound, read.line)
                    .column(column)
                    .value(value)
                    .arg(kind.as_str()),
            )
        })
}

/// The group the row's `makegroup` cell asks for in `course`.
fn group_wish(
    read: &BindingLine<'_>,
    snapshot: &Snapshot,
    (course, cohort, role): (&Course, &Cohort, &crate::snapshot::Role),
    problems: &mut Vec<Diagnostic>,
) -> GroupWish {
    let in_course = |matches: &dyn Fn(&crate::snapshot::Group) -> bool| {
        snapshot
            .groups
            .iter()
            .find(|g| g.course == course.id && matches(g))
            .map(|g| GroupWish::Existing(g.id))
    };
    match read.makegroup {
        None => GroupWish::Keep,
        Some(MakeGroup::None) => GroupWish::None,
        Some(MakeGroup::NamedAfterCohort) => {
            // Moodle's "Create new group": named "<cohort> cohort", or "<cohort> cohort (2)",
            // "(3)"… when the course has that name already. A binding already in a group so
            // named keeps it: a file run every night asks for it every night.
            let base = moodle_group_name(&cohort.name, 1);
            let named_so = |name: &str| {
                name == base
                    || name
                        .strip_prefix(base.as_str())
                        .and_then(|r| r.strip_prefix(" ("))
                        .and_then(|r| r.strip_suffix(')'))
                        .is_some_and(|n| n.parse::<u32>().is_ok())
            };
            let kept = snapshot
                .bindings
                .iter()
                .filter(|b| b.course == course.id && b.cohort == cohort.id && b.role == role.id)
                .find_map(|b| b.group)
                .and_then(|id| in_course(&|g| g.id == id && named_so(&g.name)));
            kept.unwrap_or_else(|| {
                let taken = |name: &str| {
                    snapshot
                        .groups
                        .iter()
                        .any(|g| g.course == course.id && g.name == name)
                };
                let name = (1..)
                    .map(|n| moodle_group_name(&cohort.name, n))
                    .find(|name| !taken(name))
                    .unwrap_or(base);
                GroupWish::Create(name)
            })
        }
        Some(MakeGroup::Named(name)) => existing_group(read, snapshot, course, name, problems),
    }
}

/// The existing group of `course` the `makegroup` cell names (by name, else idnumber).
fn existing_group(
    read: &BindingLine<'_>,
    snapshot: &Snapshot,
    course: &Course,
    name: &str,
    problems: &mut Vec<Diagnostic>,
) -> GroupWish {
    let group = snapshot.groups.iter().find(|g| {
        g.course == course.id && (g.name == name || (!g.idnumber.is_empty() && g.idnumber == name))
    });
    match group {
        Some(group) => GroupWish::Existing(group.id),
        None => {
            problems.push(
                Diagnostic::new(Code::GroupNotFound, read.line)
                    .column(read.columns.group.0)
                    .value(name)
                    .arg(&course.shortname),
            );
            GroupWish::Keep
        }
    }
}

/// The name Moodle gives the `n`-th group it creates for a cohort in one course
/// (`enrol_cohort/defaultgroupnametext`, `{name} cohort {increment}`, trimmed): "L1 cohort",
/// then "L1 cohort (2)", "L1 cohort (3)"…
pub fn moodle_group_name(cohort: &str, n: u32) -> String {
    if n <= 1 {
        format!("{cohort} cohort").trim().to_owned()
    } else {
        format!("{cohort} cohort ({n})").trim().to_owned()
    }
}

/// What the rows planned so far, and what they asked for.
pub(crate) struct Planner<'r, 's> {
    site: &'r Site<'s>,
    options: &'r Options,
    snapshot: &'s Snapshot,
    /// Whether the file lacks the `enrolstart`, `enrolend` columns (dates left alone).
    keep_dates: (bool, bool),
    /// The first row about each (course, cohort, role), and what it wanted.
    seen: HashMap<(i64, i64, i64), (Wanted, u32)>,
    created_groups: HashMap<(i64, String), u32>,
    new_bindings: u32,
    /// What was planned.
    pub(crate) planned: Planned,
}

impl<'r, 's> Planner<'r, 's> {
    /// Nothing planned yet. `keep_dates`: whether the file leaves the enrolment start, end
    /// of existing bindings as they are (it has no such column).
    pub(crate) fn new(site: &'r Site<'s>, options: &'r Options, keep_dates: (bool, bool)) -> Self {
        Planner {
            site,
            options,
            snapshot: site.snapshot,
            keep_dates,
            seen: HashMap::default(),
            created_groups: HashMap::default(),
            new_bindings: 0,
            planned: Planned::default(),
        }
    }

    /// Checks one line (a binding file's row, or one enrolment of a Moodle course upload
    /// row) with the problems its reader found in its cells, and plans it if it can be.
    pub(crate) fn line(
        &mut self,
        read: &BindingLine<'_>,
        cell_problems: Vec<Diagnostic>,
        unstorable: &Unstorable,
        diagnostics: &mut Diagnostics,
    ) {
        match resolve(read, cell_problems, unstorable, self.site, self.options) {
            Ok(row) => self.plan_row(&row, diagnostics),
            Err(problems) => diagnostics.extend(problems),
        }
    }

    /// Plans one resolved row, unless an earlier row already asked for the same binding.
    fn plan_row(&mut self, row: &Resolved<'_>, diagnostics: &mut Diagnostics) {
        let key = (row.course.id, row.cohort.id, row.role.id);
        match self.seen.get(&key) {
            Some((first, first_line)) if *first == row.wanted => {
                diagnostics.push(Diagnostic::new(Code::DuplicateRow, row.line).arg(first_line));
                return;
            }
            Some((_, first_line)) => {
                diagnostics.push(
                    Diagnostic::new(Code::ConflictingRows, row.line)
                        .arg(first_line)
                        .arg("binding_settings"),
                );
                return;
            }
            None => {
                self.seen.insert(key, (row.wanted.clone(), row.line));
            }
        }
        let snapshot = self.snapshot;
        let existing = snapshot
            .bindings
            .iter()
            .find(|b| (b.course, b.cohort, b.role) == key);
        if let Some(new_role) = row.new_role {
            // The binding whose role changes must exist, and its new (course, cohort, role)
            // be free: on the site, and among the file's rows.
            let target = (row.course.id, row.cohort.id, new_role.id);
            let bound = |role: &Role, code| {
                Diagnostic::new(code, row.line)
                    .arg(&row.cohort.name)
                    .arg(&row.course.shortname)
                    .arg(&role.shortname)
            };
            let problem = if existing.is_none() {
                Some(bound(row.role, Code::BindingNotFound))
            } else if snapshot
                .bindings
                .iter()
                .any(|b| (b.course, b.cohort, b.role) == target)
            {
                Some(
                    bound(new_role, Code::BindingExists)
                        .column("newrole")
                        .value(&new_role.shortname),
                )
            } else if let Some((_, first_line)) = self.seen.get(&target) {
                Some(
                    Diagnostic::new(Code::ConflictingRows, row.line)
                        .arg(first_line)
                        .arg("binding_settings"),
                )
            } else {
                self.seen.insert(target, (row.wanted.clone(), row.line));
                None
            };
            if let Some(problem) = problem {
                diagnostics.push(problem);
                return;
            }
        }
        let changed = match (row.wanted.command, existing) {
            (Command::Add, None) => {
                self.create(row);
                true
            }
            (Command::Add, Some(binding)) => self.update(row, binding),
            (Command::Disable | Command::Restore | Command::Delete, None) => {
                diagnostics.push(
                    Diagnostic::new(Code::BindingNotFound, row.line)
                        .arg(&row.cohort.name)
                        .arg(&row.course.shortname)
                        .arg(&row.role.shortname),
                );
                true
            }
            // tool_sync's way to disable and enable: the status alone changes.
            (command @ (Command::Disable | Command::Restore), Some(binding)) => {
                let status = if command == Command::Disable {
                    BindingStatus::Disabled
                } else {
                    BindingStatus::Active
                };
                let target = Settings {
                    status,
                    ..Settings::of(binding)
                };
                change(binding, target, row, &mut self.planned)
            }
            (Command::Delete, Some(binding)) => {
                self.delete(row, binding);
                true
            }
        };
        if !changed {
            diagnostics.push(Diagnostic::new(Code::NoChange, row.line));
        }
    }

    /// The group a new or changed binding gets (created when the row asks for it).
    fn group(&mut self, row: &Resolved<'_>, current: Option<i64>) -> Option<Ref> {
        match &row.wanted.group {
            GroupWish::Keep => current.map(Ref::Existing),
            GroupWish::None => None,
            GroupWish::Existing(id) => Some(Ref::Existing(*id)),
            GroupWish::Create(name) => Some(create_group(
                row.course.id,
                name,
                row.line,
                &mut self.created_groups,
                &mut self.planned,
            )),
        }
    }

    /// A new binding enrols the cohort's members (unless it is created disabled).
    fn create(&mut self, row: &Resolved<'_>) {
        let group = self.group(row, None);
        let new = self.new_bindings;
        self.new_bindings += 1;
        let wanted = &row.wanted;
        let status = wanted.status.unwrap_or_default();
        self.planned.operations.push(Step {
            line: Some(row.line),
            op: Operation::CreateBinding(Box::new(NewBinding {
                binding: new,
                course: row.course.id,
                cohort: row.cohort.id,
                role: row.role.id,
                group,
                name: wanted.name.clone().unwrap_or_default(),
                status,
                enrolstart: wanted.enrolstart,
                enrolend: wanted.enrolend,
            })),
        });
    }

    /// An `add` row about an existing binding sets what it names; returns whether that
    /// changes anything.
    fn update(&mut self, row: &Resolved<'_>, binding: &Binding) -> bool {
        let group = self.group(row, binding.group);
        let wanted = &row.wanted;
        let target = Settings {
            role: wanted.new_role.unwrap_or(binding.role),
            group,
            name: wanted.name.as_deref().unwrap_or(&binding.name),
            status: wanted.status.unwrap_or(binding.status),
            enrolstart: if self.keep_dates.0 {
                binding.enrolstart
            } else {
                wanted.enrolstart
            },
            enrolend: if self.keep_dates.1 {
                binding.enrolend
            } else {
                wanted.enrolend
            },
        };
        change(binding, target, row, &mut self.planned)
    }

    /// Deleting a binding unenrols its cohort's members ([`crate::sync`]).
    fn delete(&mut self, row: &Resolved<'_>, binding: &Binding) {
        let planned = &mut self.planned;
        planned.operations.push(Step {
            line: Some(row.line),
            op: Operation::DeleteBinding {
                binding: binding.id,
            },
        });
        planned.removals += row.cohort.members.len() as u64;
    }
}

/// A binding's settings after a row.
struct Settings<'a> {
    role: i64,
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
            role: binding.role,
            group: binding.group.map(Ref::Existing),
            name: &binding.name,
            status: binding.status,
            enrolstart: binding.enrolstart,
            enrolend: binding.enrolend,
        }
    }
}

/// Plans moving an existing binding to `target` (its effects on the cohort's members are
/// [`crate::sync`]'s). Returns false when `target` is what the binding already has.
fn change(
    binding: &Binding,
    target: Settings<'_>,
    row: &Resolved<'_>,
    planned: &mut Planned,
) -> bool {
    let (members, line) = (&row.cohort.members, row.line);
    let group_changed = target.group != binding.group.map(Ref::Existing);
    if !group_changed
        && target.role == binding.role
        && target.name == binding.name
        && target.status == binding.status
        && (target.enrolstart, target.enrolend) == (binding.enrolstart, binding.enrolend)
    {
        return false;
    }
    let transition = (binding.status, target.status);
    let group = target.group;
    planned.operations.push(Step {
        line: Some(line),
        op: Operation::UpdateBinding(Box::new(BindingUpdate {
            binding: binding.id,
            role: (target.role != binding.role).then_some(target.role),
            group,
            name: target.name.to_owned(),
            status: target.status,
            enrolstart: target.enrolstart,
            enrolend: target.enrolend,
        })),
    });
    // Disabling takes the members' roles (or suspends them, as the limits count it).
    if transition == (BindingStatus::Active, BindingStatus::Disabled) {
        planned.removals += members.len() as u64;
    }
    true
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
            op: Operation::CreateGroup(Box::new(NewGroup {
                group: next,
                course,
                name: name.to_owned(),
            })),
        });
        next
    });
    Ref::New { new }
}

#[cfg(test)]
mod tests {
    use super::moodle_group_name;

    #[test]
    fn new_groups_are_named_as_moodle_names_them() {
        assert_eq!(
            moodle_group_name("Licence 1 Lettres 2026", 1),
            "Licence 1 Lettres 2026 cohort"
        );
        assert_eq!(
            moodle_group_name("Licence 1 Sciences 2026", 2),
            "Licence 1 Sciences 2026 cohort (2)"
        );
        // Moodle trims the string it builds: an empty name gives "cohort".
        assert_eq!(moodle_group_name("", 1), "cohort");
    }
}
