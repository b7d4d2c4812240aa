//! Rules of the cohort file (tool_sync format): `cmd` add/del/free, `userid`, the cohort key
//! (`cid`, or the column the cohort identifier option names), `cname`, `cidnumber`,
//! `cdescription`, `ccatcontext`, `component`.

use std::collections::hash_map::Entry;

use crate::{HashMap, HashSet};

use super::{
    COHORT_IDNUMBER_CHARS, COHORT_NAME_CHARS, Site, UserMatch, Users, cell, unstorable_cells,
};
use crate::changeset::{Effect, Operation, Ref, Step};
use crate::formats::{Columns, Rows};
use crate::options::{CohortIdentifier, Mode, Options, UnenrolAction};
use crate::report::{Code, Diagnostic, Diagnostics};
use crate::snapshot::{BindingStatus, COHORTSYNC_COMPONENT, Owner};

/// What the cohort rules planned, with the figures the limits need.
#[derive(Debug, Default)]
pub(crate) struct Planned {
    pub(crate) operations: Vec<Step>,
    pub(crate) effects: Vec<Effect>,
    /// Memberships that end (removed members, members of deleted cohorts).
    pub(crate) removals: u64,
    /// Members, before the file, of the existing cohorts it adds members to.
    pub(crate) members_before: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    Add,
    Del,
    Free,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Target {
    Existing(usize),
    New(u32),
}

#[derive(Debug)]
struct NewCohort {
    line: u32,
    idnumber: String,
    name: String,
    description: String,
    category: String,
}

/// A member named by a row: the user's index in the snapshot and the row that names them.
#[derive(Debug, Clone, Copy)]
struct Member {
    user: usize,
    line: u32,
    row: usize,
}

/// Everything the rows say about one cohort.
#[derive(Debug, Default)]
struct Requests {
    first_line: u32,
    adds: Vec<Member>,
    dels: Vec<Member>,
    free: Option<u32>,
    delete: Option<u32>,
    /// An `add` row without a user asks for the cohort itself: cleanup must keep it.
    declared: bool,
    /// name, idnumber, description: first non-empty value and its line.
    meta: [Option<(String, u32)>; 3],
}

const META_FIELDS: [(&str, &str); 3] = [
    ("cname", "name"),
    ("cidnumber", "idnumber"),
    ("cdescription", "description"),
];

pub(crate) fn plan(
    rows: &Rows<'_>,
    columns: &Columns,
    header_line: u32,
    site: &Site<'_>,
    options: &Options,
    diagnostics: &mut Diagnostics,
    progress: &mut dyn FnMut(usize, usize),
) -> Planned {
    let identifier = options.cohort_identifier;
    let key_column = match identifier {
        CohortIdentifier::Id => "cid",
        CohortIdentifier::Idnumber => "cidnumber",
        CohortIdentifier::Name => "cname",
    };
    let cid = columns.get("cid");
    let key = columns.get(key_column);
    if cid.is_none() && key.is_none() {
        diagnostics.push(
            Diagnostic::new(Code::MissingColumn, header_line)
                .column(key_column)
                .arg("cohort_key"),
        );
        return Planned::default();
    }
    let users = Users::new(site.snapshot, options.user_identifier);
    // Column positions, looked up once rather than per row.
    let user_column = columns.get("userid");
    let cmd_column = columns.get("cmd");
    let meta_columns = META_FIELDS.map(|(name, _)| columns.get(name));
    let [cname_column, cidnumber_column, cdescription_column] = meta_columns;
    let category_column = columns.get("ccatcontext");
    let component_column = columns.get("component");
    let header = rows.header();
    let limits = [
        ("cname", cname_column, COHORT_NAME_CHARS),
        ("cidnumber", cidnumber_column, COHORT_IDNUMBER_CHARS),
    ];

    let mut order: Vec<Target> = Vec::new();
    let mut requests: HashMap<Target, Requests> = HashMap::default();
    let mut new_cohorts: Vec<NewCohort> = Vec::new();
    let mut new_by_key: HashMap<String, u32> = HashMap::default();
    let mut pairs: HashMap<(Target, usize), (Command, u32)> =
        HashMap::with_capacity_and_hasher(rows.len(), Default::default());

    for (row_index, row) in rows.iter().enumerate() {
        let row = &row;
        if row_index.is_multiple_of(crate::decode::PROGRESS_EVERY) {
            progress(row_index, rows.len());
        }
        let line = row.line;
        if unstorable_cells(row, header, &limits, diagnostics) {
            continue;
        }
        let command_value = cell(row, cmd_column);
        let command = match command_value {
            "" => Command::Add,
            c if c.eq_ignore_ascii_case("add") => Command::Add,
            c if c.eq_ignore_ascii_case("del") => Command::Del,
            c if c.eq_ignore_ascii_case("free") => Command::Free,
            value => {
                diagnostics.push(
                    Diagnostic::new(Code::InvalidCommand, line)
                        .column("cmd")
                        .value(value)
                        .arg("add, del, free"),
                );
                continue;
            }
        };
        let (column, value) = match cell(row, cid) {
            "" => (key_column, cell(row, key)),
            value => ("cid", value),
        };
        if value.is_empty() {
            diagnostics.push(
                Diagnostic::new(Code::EmptyValue, line)
                    .column(key_column)
                    .arg("cohort_key"),
            );
            continue;
        }
        if identifier == CohortIdentifier::Id && value.parse::<i64>().is_err() {
            let better = site
                .cohort_identifier_hint(identifier, value)
                .unwrap_or(CohortIdentifier::Name);
            diagnostics.push(
                Diagnostic::new(Code::InvalidValue, line)
                    .column(column)
                    .value(value)
                    .arg("id")
                    .hint("cohort_identifier", better.as_str()),
            );
            continue;
        }

        // Which cohort the row is about.
        let target = match site.find_cohorts(identifier, value) {
            [one] => Target::Existing(*one),
            [] => match new_by_key.get(value) {
                Some(&new) => Target::New(new),
                None if command == Command::Add
                    && options.create_missing
                    && identifier != CohortIdentifier::Id =>
                {
                    let (name, idnumber) = match identifier {
                        CohortIdentifier::Name => {
                            (value.to_owned(), cell(row, cidnumber_column).to_owned())
                        }
                        _ => (cell(row, cname_column).to_owned(), value.to_owned()),
                    };
                    if name.is_empty() {
                        diagnostics.push(
                            Diagnostic::new(Code::EmptyValue, line)
                                .column("cname")
                                .arg("new_cohort_name"),
                        );
                        continue;
                    }
                    if let [taken, ..] = site.find_cohorts(CohortIdentifier::Idnumber, &idnumber) {
                        diagnostics.push(
                            Diagnostic::new(Code::CohortConflict, line)
                                .column("cidnumber")
                                .value(idnumber.as_str())
                                .arg("taken")
                                .arg("idnumber")
                                .arg(&site.cohort(*taken).name),
                        );
                        continue;
                    }
                    let component = cell(row, component_column);
                    if !component.is_empty() && component != COHORTSYNC_COMPONENT {
                        diagnostics.push(
                            Diagnostic::new(Code::InvalidValue, line)
                                .column("component")
                                .value(component)
                                .arg("component"),
                        );
                        continue;
                    }
                    let new = new_cohorts.len() as u32;
                    new_cohorts.push(NewCohort {
                        line,
                        idnumber,
                        name,
                        description: cell(row, cdescription_column).to_owned(),
                        category: cell(row, category_column).to_owned(),
                    });
                    new_by_key.insert(value.to_owned(), new);
                    Target::New(new)
                }
                None => {
                    let reason = match command {
                        Command::Del | Command::Free => "nothing_deleted",
                        Command::Add if !options.create_missing => "create_missing_off",
                        Command::Add => "",
                    };
                    let mut d = Diagnostic::new(Code::CohortNotFound, line)
                        .column(column)
                        .value(value)
                        .arg(identifier.as_str())
                        .arg(reason);
                    if let Some(better) = site.cohort_identifier_hint(identifier, value) {
                        d = d.hint("cohort_identifier", better.as_str());
                    }
                    diagnostics.push(d);
                    continue;
                }
            },
            many => {
                diagnostics.push(
                    Diagnostic::new(Code::CohortAmbiguous, line)
                        .column(column)
                        .value(value)
                        .arg(identifier.as_str())
                        .arg(many.len()),
                );
                continue;
            }
        };
        if let Target::Existing(index) = target {
            let cohort = site.cohort(index);
            if cohort.owner() == Owner::Other {
                diagnostics.push(
                    Diagnostic::new(Code::CohortProtected, line)
                        .column(column)
                        .value(value)
                        .arg(&cohort.name)
                        .arg(&cohort.component),
                );
                continue;
            }
        }
        let request = requests.entry(target).or_insert_with(|| {
            order.push(target);
            Requests {
                first_line: line,
                ..Requests::default()
            }
        });

        // Rows about one cohort must agree on its name, idnumber and description.
        if command == Command::Add {
            for (slot, (field_column, field)) in META_FIELDS.iter().enumerate() {
                let given = cell(row, meta_columns[slot]);
                if given.is_empty() || *field_column == column {
                    continue;
                }
                match &request.meta[slot] {
                    Some((first, first_line)) if first != given => diagnostics.push(
                        Diagnostic::new(Code::CohortConflict, line)
                            .column(*field_column)
                            .value(given)
                            .arg("disagree")
                            .arg(field)
                            .arg(first)
                            .arg(first_line),
                    ),
                    Some(_) => {}
                    None => request.meta[slot] = Some((given.to_owned(), line)),
                }
            }
        }

        let user_value = cell(row, user_column);
        if user_value.is_empty() {
            match command {
                Command::Add => request.declared = true,
                Command::Del => request.delete = request.delete.or(Some(line)),
                Command::Free => request.free = request.free.or(Some(line)),
            }
            continue;
        }
        if command == Command::Free {
            diagnostics.push(
                Diagnostic::new(Code::InvalidValue, line)
                    .column("userid")
                    .value(user_value)
                    .arg("no_user_for_free"),
            );
            continue;
        }
        let found = users.find(user_value);
        if let Some(problem) = users.problem(&found, line, "userid", user_value) {
            diagnostics.push(problem);
            continue;
        }
        let UserMatch::Found(user) = found else {
            continue;
        };
        match pairs.entry((target, user)) {
            Entry::Occupied(first) if first.get().0 == command => {
                diagnostics.push(
                    Diagnostic::new(Code::DuplicateRow, line)
                        .column("userid")
                        .value(user_value)
                        .arg(first.get().1),
                );
                continue;
            }
            Entry::Occupied(first) => {
                diagnostics.push(
                    Diagnostic::new(Code::ConflictingRows, line)
                        .column("userid")
                        .value(user_value)
                        .arg(first.get().1)
                        .arg("add_and_remove"),
                );
                continue;
            }
            Entry::Vacant(slot) => {
                slot.insert((command, line));
            }
        }
        if command == Command::Add && site.user(user).suspended {
            diagnostics.push(
                Diagnostic::new(Code::UserSuspended, line)
                    .column("userid")
                    .value(user_value),
            );
        }
        match command {
            Command::Add => request.adds.push(Member {
                user,
                line,
                row: row_index,
            }),
            Command::Del => request.dels.push(Member {
                user,
                line,
                row: row_index,
            }),
            Command::Free => unreachable!("free rows with a user were refused above"),
        }
    }

    let mut planned = Planned::default();
    // About one operation per row: growing a vector of 100k steps by doubling costs more
    // than the planning itself.
    planned.operations.reserve(rows.len() + new_cohorts.len());
    let mut emptied: HashSet<i64> = HashSet::default();
    for target in order {
        let request = &requests[&target];
        match target {
            Target::New(new) => {
                plan_new(new, &new_cohorts[new as usize], request, site, &mut planned)
            }
            Target::Existing(index) => {
                if let Some(delete_line) = request.delete
                    && let Some(other) = request.adds.iter().chain(&request.dels).next()
                {
                    diagnostics.push(
                        Diagnostic::new(Code::ConflictingRows, other.line)
                            .arg(delete_line)
                            .arg("cohort_deleted"),
                    );
                    continue;
                }
                let named = |member: &Member| cell(&rows.get(member.row), user_column);
                let ends_empty = plan_existing(
                    index,
                    request,
                    &named,
                    site,
                    options,
                    diagnostics,
                    &mut planned,
                );
                if ends_empty {
                    emptied.insert(site.cohort(index).id);
                }
            }
        }
    }
    if options.cleanup_empty {
        plan_cleanup(site, &requests, &emptied, &mut planned);
    }
    planned
}

fn plan_new(
    new: u32,
    cohort: &NewCohort,
    request: &Requests,
    site: &Site<'_>,
    planned: &mut Planned,
) {
    let description = request.meta[2]
        .as_ref()
        .map_or(cohort.description.clone(), |(d, _)| d.clone());
    planned.operations.push(Step {
        line: Some(cohort.line),
        op: Operation::CreateCohort {
            cohort: new,
            idnumber: cohort.idnumber.clone(),
            name: cohort.name.clone(),
            description,
            category: cohort.category.clone(),
            component: COHORTSYNC_COMPONENT.to_owned(),
        },
    });
    for &Member { user, line, .. } in &request.adds {
        let user = site.user(user).id;
        planned.operations.push(Step {
            line: Some(line),
            op: Operation::AddMember {
                cohort: Ref::New { new },
                user,
            },
        });
    }
}

/// Plans the rows about one existing cohort; returns whether cleanup may delete it: it ends
/// with no members and no `add` row without a user asks for it.
fn plan_existing<'r>(
    index: usize,
    request: &Requests,
    named: &dyn Fn(&Member) -> &'r str,
    site: &Site<'_>,
    options: &Options,
    diagnostics: &mut Diagnostics,
    planned: &mut Planned,
) -> bool {
    let cohort = site.cohort(index);
    let members: HashSet<i64> = cohort.members.iter().copied().collect();

    if let Some(line) = request.delete {
        let courses: Vec<&str> = site
            .bindings_of(cohort.id)
            .filter_map(|b| site.snapshot.courses.iter().find(|c| c.id == b.course))
            .map(|c| c.shortname.as_str())
            .collect();
        if !courses.is_empty() {
            diagnostics.push(
                Diagnostic::new(Code::CohortInUse, line)
                    .arg(&cohort.name)
                    .arg(courses.join(", ")),
            );
            return false;
        }
        planned.removals += members.len() as u64;
        planned.operations.push(Step {
            line: Some(line),
            op: Operation::DeleteCohort { cohort: cohort.id },
        });
        return false;
    }

    // Name, idnumber and description: only non-empty values that differ change anything.
    let value = |slot: usize, current: &str| {
        request.meta[slot]
            .as_ref()
            .filter(|(v, _)| v != current)
            .map(|(v, line)| (v.clone(), *line))
    };
    let name = value(0, &cohort.name);
    let mut idnumber = value(1, &cohort.idnumber);
    if let Some((wanted, line)) = &idnumber
        && let Some(other) = site
            .find_cohorts(CohortIdentifier::Idnumber, wanted)
            .iter()
            .copied()
            .find(|&i| i != index)
    {
        diagnostics.push(
            Diagnostic::new(Code::CohortConflict, *line)
                .column("cidnumber")
                .value(wanted.as_str())
                .arg("taken")
                .arg("idnumber")
                .arg(&site.cohort(other).name),
        );
        idnumber = None;
    }
    let description = value(2, &cohort.description);
    if name.is_some() || idnumber.is_some() || description.is_some() {
        let line = [&name, &idnumber, &description]
            .iter()
            .filter_map(|v| v.as_ref().map(|(_, l)| *l))
            .min();
        planned.operations.push(Step {
            line,
            op: Operation::UpdateCohort {
                cohort: cohort.id,
                name: name.map(|(v, _)| v),
                idnumber: idnumber.map(|(v, _)| v),
                description: description.map(|(v, _)| v),
            },
        });
    }

    let mut kept: HashSet<i64> = HashSet::default();
    for member in &request.adds {
        let (user, line) = (site.user(member.user).id, member.line);
        kept.insert(user);
        if members.contains(&user) {
            diagnostics.push(
                Diagnostic::new(Code::AlreadyMember, line)
                    .column("userid")
                    .value(named(member))
                    .arg(&cohort.name),
            );
        } else {
            planned.operations.push(Step {
                line: Some(line),
                op: Operation::AddMember {
                    cohort: Ref::Existing(cohort.id),
                    user,
                },
            });
            enrol_effects(site, cohort.id, user, &mut planned.effects);
        }
    }
    let mut removed: HashSet<i64> = HashSet::default();
    for member in &request.dels {
        let (user, line) = (site.user(member.user).id, member.line);
        if members.contains(&user) {
            removed.insert(user);
            remove(
                site,
                cohort.id,
                user,
                Some(line),
                options.unenrol_action,
                planned,
            );
        } else {
            diagnostics.push(
                Diagnostic::new(Code::NotMember, line)
                    .column("userid")
                    .value(named(member))
                    .arg(&cohort.name),
            );
        }
    }

    let full = options.mode == Mode::Full && !request.adds.is_empty();
    if full {
        planned.members_before += members.len() as u64;
    }
    let mut absent: Vec<i64> = members
        .iter()
        .copied()
        .filter(|m| !kept.contains(m) && !removed.contains(m))
        .collect();
    absent.sort_unstable();
    if request.free.is_some() || (full && cohort.owner() == Owner::Cohortsync) {
        for &user in &absent {
            remove(
                site,
                cohort.id,
                user,
                request.free,
                options.unenrol_action,
                planned,
            );
        }
        absent.clear();
    } else if full && cohort.owner() == Owner::Manual && !absent.is_empty() {
        diagnostics.push(
            Diagnostic::new(Code::ManualCohortKept, request.first_line)
                .arg(&cohort.name)
                .arg(absent.len()),
        );
    }
    !request.declared && kept.len() + absent.len() == 0
}

fn remove(
    site: &Site<'_>,
    cohort: i64,
    user: i64,
    line: Option<u32>,
    action: UnenrolAction,
    planned: &mut Planned,
) {
    planned.removals += 1;
    planned.operations.push(Step {
        line,
        op: Operation::RemoveMember { cohort, user },
    });
    for binding in site.bindings_of(cohort) {
        let (course, role, id) = (binding.course, binding.role, Ref::Existing(binding.id));
        match action {
            UnenrolAction::Unenrol => {
                planned.effects.push(Effect::Unenrol {
                    user,
                    course,
                    role,
                    binding: id,
                });
                if let Some(group) = binding.group {
                    planned.effects.push(Effect::RemoveFromGroup {
                        user,
                        course,
                        group,
                    });
                }
            }
            UnenrolAction::Suspend | UnenrolAction::SuspendAndRemoveRoles => {
                planned.effects.push(Effect::Suspend {
                    user,
                    course,
                    role,
                    binding: id,
                    remove_roles: action == UnenrolAction::SuspendAndRemoveRoles,
                })
            }
        }
    }
}

/// A new member is enrolled through every active binding of the cohort.
fn enrol_effects(site: &Site<'_>, cohort: i64, user: i64, effects: &mut Vec<Effect>) {
    for binding in site
        .bindings_of(cohort)
        .filter(|b| b.status == BindingStatus::Active)
    {
        effects.push(Effect::Enrol {
            user,
            course: binding.course,
            role: binding.role,
            binding: Ref::Existing(binding.id),
        });
        if let Some(group) = binding.group {
            effects.push(Effect::AddToGroup {
                user,
                course: binding.course,
                group: Ref::Existing(group),
            });
        }
    }
}

/// Cohorts managed by cohortsync that end up empty and unbound are deleted.
fn plan_cleanup(
    site: &Site<'_>,
    requests: &HashMap<Target, Requests>,
    emptied: &HashSet<i64>,
    planned: &mut Planned,
) {
    for (index, cohort) in site.snapshot.cohorts.iter().enumerate() {
        let touched = requests.get(&Target::Existing(index));
        let already_deleted = touched.is_some_and(|r| r.delete.is_some());
        let empty = if touched.is_some() {
            emptied.contains(&cohort.id)
        } else {
            cohort.members.is_empty()
        };
        if cohort.owner() == Owner::Cohortsync
            && empty
            && !already_deleted
            && site.bindings_of(cohort.id).next().is_none()
        {
            planned.operations.push(Step {
                line: None,
                op: Operation::DeleteCohort { cohort: cohort.id },
            });
        }
    }
}

/// The effects on enrolments of adding and removing members, by the same rules as a file's
/// plan: additions enrol through the cohort's active bindings, removals unenrol or suspend
/// as `action` says. Other operations have no membership effects here.
pub(crate) fn membership_effects(
    snapshot: &crate::snapshot::Snapshot,
    operations: &[Step],
    action: UnenrolAction,
) -> Vec<Effect> {
    let site = Site::new(snapshot);
    let mut planned = Planned::default();
    for step in operations {
        match step.op {
            Operation::AddMember {
                cohort: Ref::Existing(cohort),
                user,
            } => enrol_effects(&site, cohort, user, &mut planned.effects),
            Operation::RemoveMember { cohort, user } => {
                remove(&site, cohort, user, step.line, action, &mut planned)
            }
            _ => {}
        }
    }
    planned.effects
}
