//! Rules of the cohort file ([`crate::formats::cohort_file`]): each row's cohort and user
//! are looked up in the site (a missing cohort is created when allowed), rows are compared
//! with each other, and what they ask for is planned per cohort with its effects on the
//! courses the cohort is bound to.

use crate::HashSet;

use super::{Site, UserMatch, Users};
use crate::changeset::{CohortUpdate, NewCohort, Operation, Ref, Step};
use crate::formats::cohort_file::{self, CohortLine, Command, Layout, META_FIELDS};
use crate::formats::{Columns, Rows, Unstorable, unstorable_cells};
use crate::options::{CohortIdentifier, Mode, Options, UnenrolAction};
use crate::report::{Code, Diagnostic, Diagnostics};
use crate::snapshot::{COHORTSYNC_COMPONENT, KeyTable, Owner};

/// What the cohort rules planned, with the figures the limits need.
#[derive(Debug, Default)]
pub(crate) struct Planned {
    pub(crate) operations: Vec<Step>,
    /// Memberships that end (removed members, members of deleted cohorts).
    pub(crate) removals: u64,
    /// Members, before the file, of the existing cohorts it adds members to.
    pub(crate) members_before: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Target {
    Existing(usize),
    New(u32),
}

#[derive(Debug)]
struct PendingCohort {
    line: u32,
    idnumber: String,
    name: String,
    description: String,
    category: String,
    component: &'static str,
}

/// A member named by a row: the user's index in the snapshot, the row that names them and
/// what it asks.
#[derive(Debug, Clone, Copy)]
pub(super) struct Member {
    user: u32,
    line: u32,
    /// The row's index among the rows that fit.
    pub(super) row: u32,
    /// The cohort: where its [`Requests`] are in `Reading::requests`.
    asked: Asked,
    command: Command,
}

/// A cohort some rows ask something of: where what they ask is in `Reading::requests`.
/// Found once per row ([`Reading::cohort_of`]) and handed on, so that a row's member is
/// recorded without looking its cohort up again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Asked(u32);

/// Everything the rows say about one cohort (its members apart: `Reading::members`).
#[derive(Debug, Default)]
struct Requests {
    first_line: u32,
    free: Option<u32>,
    delete: Option<u32>,
    /// An `add` row without a user asks for the cohort itself: cleanup must keep it.
    declared: bool,
    /// name, idnumber, description: first non-empty value and its line.
    meta: [Option<(String, u32)>; 3],
}

/// Checks and plans the rows of a cohort file.
pub(crate) fn plan(
    rows: &Rows<'_>,
    columns: &Columns,
    header_line: u32,
    site: &Site<'_>,
    options: &Options,
    diagnostics: &mut Diagnostics,
    progress: &mut dyn FnMut(usize, usize),
) -> Planned {
    let layout = match Layout::new(columns, options.cohort_identifier, header_line) {
        Ok(layout) => layout,
        Err(missing) => {
            diagnostics.push(*missing);
            return Planned::default();
        }
    };
    let mut reading = Reading::new(site, options, options.user_identifier, rows.len());
    let (header, limits) = (rows.header(), layout.limits());
    for (row_index, row) in rows.iter().enumerate() {
        if row_index.is_multiple_of(crate::decode::PROGRESS_EVERY) {
            progress(row_index, rows.len());
        }
        if row_index.is_multiple_of(AHEAD) {
            let next = row_index..(row_index + AHEAD).min(rows.len());
            reading.look_ahead(row_index, next.map(|i| layout.user(&rows.get(i))));
        }
        let unstorable = unstorable_cells(&row, header, &limits, diagnostics);
        match cohort_file::read(&row, &layout) {
            Ok(read) => reading.row(row_index, &read, &unstorable, &layout, diagnostics),
            Err(problem) => diagnostics.push(*problem),
        }
    }
    let named = |member: &Member| layout.user(&rows.get(member.row as usize));
    reading.plan(rows.len(), ("userid", &named), diagnostics)
}

/// The column that names the users of a file, and how a member's row names them (what a
/// note about the member shows).
pub(super) type Named<'f, 'n> = (&'static str, &'f dyn Fn(&Member) -> &'n str);

/// What the rows asked for so far, per cohort and per (cohort, user).
pub(super) struct Reading<'r, 's> {
    site: &'r Site<'s>,
    options: &'r Options,
    users: Users<'s>,
    /// What the rows ask of each cohort they name, in the order the file first names them.
    requests: Vec<(Target, Requests)>,
    /// Every member the rows name, `add` or `del`, in file order, repeats included, each
    /// with its cohort: they are put together cohort by cohort once all rows are read, and
    /// repeats found then ([`distinct_members`]), rather than through a map of every
    /// (cohort, user) pair or a vector per cohort that grows row by row.
    members: Vec<Member>,
    /// Where each of the site's cohorts is in `requests`, if a row names it.
    existing: Vec<Option<u32>>,
    /// Where each new cohort is in `requests`.
    created: Vec<Option<u32>>,
    new_cohorts: Vec<PendingCohort>,
    /// New cohorts by the key the file names them with.
    new_by_key: KeyTable,
    /// The users of the next rows, looked up together ([`Reading::look_ahead`]).
    ahead: Ahead,
}

/// Rows whose user is looked up per row wait on memory each time: the index of 50,000
/// users does not stay in the processor's cache while the rows stream through it. Looked up
/// [`AHEAD`] rows at a time in a loop that does nothing else, the waits overlap.
#[derive(Debug, Default)]
struct Ahead {
    /// The row of `found[0]`.
    first: usize,
    found: Vec<UserMatch>,
}

/// Rows whose users are looked up together.
pub(super) const AHEAD: usize = 32;

impl<'r, 's> Reading<'r, 's> {
    /// Nothing read yet, of a file whose users are named by `users` and whose rows name
    /// about `members` members (room for them is made once).
    pub(super) fn new(
        site: &'r Site<'s>,
        options: &'r Options,
        users: crate::options::UserIdentifier,
        members: usize,
    ) -> Self {
        Reading {
            site,
            options,
            users: Users::new(site, users),
            requests: Vec::new(),
            members: Vec::with_capacity(members),
            existing: vec![None; site.snapshot.cohorts.len()],
            created: Vec::new(),
            new_cohorts: Vec::new(),
            new_by_key: KeyTable::default(),
            ahead: Ahead::default(),
        }
    }

    /// Looks up now the users of the rows from `first` on (`values`: each row's user cell, as
    /// [`Reading::members`] will be given it), for [`Reading::members`] to find.
    pub(super) fn look_ahead<'v>(&mut self, first: usize, values: impl Iterator<Item = &'v str>) {
        self.ahead.first = first;
        self.users.find_each(values, &mut self.ahead.found);
    }

    /// Records what one row asks for, or reports every reason it cannot: its cohort and
    /// its user are looked up independently, so a row with both wrong says so at once.
    fn row(
        &mut self,
        row_index: usize,
        read: &CohortLine<'_>,
        unstorable: &Unstorable,
        layout: &Layout,
        diagnostics: &mut Diagnostics,
    ) {
        let asked = self.cohort_of(read, unstorable, diagnostics);
        if read.user.is_empty() {
            if let Some(Asked(at)) = asked {
                let request = &mut self.requests[at as usize].1;
                match read.command {
                    Command::Add => request.declared = true,
                    Command::Del => request.delete = request.delete.or(Some(read.line)),
                    Command::Free => request.free = request.free.or(Some(read.line)),
                }
            }
            return;
        }
        if read.command == Command::Free {
            diagnostics.push(
                Diagnostic::new(Code::InvalidValue, read.line)
                    .column("userid")
                    .value(read.user)
                    .arg("no_user_for_free"),
            );
            return;
        }
        if !unstorable.has(layout.user_position()) {
            let user = ("userid", read.line, read.user);
            self.members(row_index, user, &[(read.command, asked)], diagnostics);
        }
    }

    /// The cohort a row names, with what the row says of its fields; `None` (reported)
    /// when there is none, and for a row with a cell no site could store: it is checked,
    /// never planned.
    pub(super) fn cohort_of(
        &mut self,
        read: &CohortLine<'_>,
        unstorable: &Unstorable,
        diagnostics: &mut Diagnostics,
    ) -> Option<Asked> {
        let target = self
            .target(read, unstorable, diagnostics)
            .filter(|_| !unstorable.any())?;
        let asked = self.request(target, read.line);
        if read.command == Command::Add {
            agree_on_fields(&mut self.requests[asked.0 as usize].1, read, diagnostics);
        }
        Some(asked)
    }

    /// The user of a row (`value`, its `column` cell, on `line`), looked up once, made a
    /// member of (or removed from) each cohort found for it (`targets`, with what the row
    /// asks of each): one for a cohort file's row, one per `cohortN` cell for a Moodle user
    /// upload's. A row that names no cohort asks nothing of its user.
    pub(super) fn members(
        &mut self,
        row_index: usize,
        (column, line, value): (&'static str, u32, &str),
        targets: &[(Command, Option<Asked>)],
        diagnostics: &mut Diagnostics,
    ) {
        if targets.is_empty() {
            return;
        }
        let found = row_index
            .checked_sub(self.ahead.first)
            .and_then(|at| self.ahead.found.get(at).copied())
            .unwrap_or_else(|| self.users.find(value));
        if let Some(problem) = self.users.problem(&found, line, column, value, diagnostics) {
            diagnostics.push(problem);
            return;
        }
        let UserMatch::Found(user) = found else {
            return;
        };
        for &(command, asked) in targets {
            let Some(asked) = asked else {
                continue;
            };
            self.members.push(Member {
                user: user as u32,
                line,
                row: row_index as u32,
                asked,
                command,
            });
        }
    }

    /// Where what the rows ask of `target` is (a new entry if nothing yet: the first row
    /// about it is at `line`).
    fn request(&mut self, target: Target, line: u32) -> Asked {
        let slot = match target {
            Target::Existing(index) => &mut self.existing[index],
            Target::New(new) => {
                let new = new as usize;
                if self.created.len() <= new {
                    self.created.resize(new + 1, None);
                }
                &mut self.created[new]
            }
        };
        let at = *slot.get_or_insert_with(|| {
            self.requests.push((
                target,
                Requests {
                    first_line: line,
                    ..Requests::default()
                },
            ));
            (self.requests.len() - 1) as u32
        });
        Asked(at)
    }

    /// The cohort a row is about: an existing one, one created by an earlier row, or a new
    /// one it creates.
    fn target(
        &mut self,
        read: &CohortLine<'_>,
        unstorable: &Unstorable,
        diagnostics: &mut Diagnostics,
    ) -> Option<Target> {
        let (site, identifier) = (self.site, read.identifier);
        let (line, column, value) = (read.line, read.key_column, read.key);
        if value.is_empty() {
            diagnostics.push(
                Diagnostic::new(Code::EmptyValue, line)
                    .column(column)
                    .arg("cohort_key"),
            );
            return None;
        }
        if unstorable.has(read.key_position) {
            return None;
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
            return None;
        }
        let found = |code| {
            Diagnostic::new(code, line)
                .column(column)
                .value(value)
                .arg(identifier.as_str())
        };
        // A cohort an earlier row created is not one of the site's (a file names it the
        // same way on every row): found first, its key is not looked for in the site again.
        if let Some(&new) = self.new_by_key.find(value).first() {
            return Some(Target::New(new));
        }
        match site.find_cohorts(identifier, value) {
            [one] => {
                let one = *one as usize;
                // A cohort an earlier row asked something of is known to be one cohortsync
                // may change: only the first row about it reads its owner.
                if self.existing[one].is_some() {
                    return Some(Target::Existing(one));
                }
                let cohort = site.cohort(one);
                if cohort.owner() != Owner::Other {
                    return Some(Target::Existing(one));
                }
                diagnostics.push(
                    Diagnostic::new(Code::CohortProtected, line)
                        .column(column)
                        .value(value)
                        .arg(&cohort.name)
                        .arg(&cohort.component),
                );
                None
            }
            [] => {
                let options = self.options;
                if read.command == Command::Add
                    && options.create_missing
                    && identifier != CohortIdentifier::Id
                {
                    return self.create(read, unstorable, diagnostics);
                }
                let reason = match read.command {
                    Command::Del | Command::Free => "nothing_deleted",
                    Command::Add if !options.create_missing => "create_missing_off",
                    Command::Add => "",
                };
                let mut d = found(Code::CohortNotFound).arg(reason);
                // A hint names the option; a line whose identifier is not the option's
                // (a Moodle user upload's, by Moodle's rule) has none to give.
                let optional = identifier == self.options.cohort_identifier;
                if let Some(better) = site
                    .cohort_identifier_hint(identifier, value)
                    .filter(|_| optional)
                {
                    d = d.hint("cohort_identifier", better.as_str());
                }
                diagnostics.push(d);
                None
            }
            many => {
                diagnostics.push(found(Code::CohortAmbiguous).arg(many.len()));
                None
            }
        }
    }

    /// A new cohort for an `add` row whose cohort the site lacks, if the row can make one;
    /// every reason it cannot is reported.
    fn create(
        &mut self,
        read: &CohortLine<'_>,
        unstorable: &Unstorable,
        diagnostics: &mut Diagnostics,
    ) -> Option<Target> {
        let line = read.line;
        let [cname, cidnumber, description] = read.meta;
        let (name, idnumber) = match read.identifier {
            CohortIdentifier::Name => (read.key, cidnumber),
            _ => (cname, read.key),
        };
        let name = if name.is_empty() {
            read.name_if_new
        } else {
            name
        };
        let mut refused = unstorable.any();
        if name.is_empty() {
            refused = true;
            diagnostics.push(
                Diagnostic::new(Code::EmptyValue, line)
                    .column("cname")
                    .arg("new_cohort_name"),
            );
        }
        if let [taken, ..] = self.site.find_cohorts(CohortIdentifier::Idnumber, idnumber) {
            refused = true;
            diagnostics.push(
                Diagnostic::new(Code::CohortConflict, line)
                    .column("cidnumber")
                    .value(idnumber)
                    .arg("taken")
                    .arg("idnumber")
                    .arg(&self.site.cohort(*taken as usize).name),
            );
        }
        if !read.component.is_empty() && read.component != COHORTSYNC_COMPONENT {
            refused = true;
            diagnostics.push(
                Diagnostic::new(Code::InvalidValue, line)
                    .column("component")
                    .value(read.component)
                    .arg("component"),
            );
        }
        if refused {
            return None;
        }
        let new = self.new_cohorts.len() as u32;
        self.new_cohorts.push(PendingCohort {
            line,
            idnumber: idnumber.to_owned(),
            name: name.to_owned(),
            description: description.to_owned(),
            category: read.category.to_owned(),
            component: read.owner,
        });
        self.new_by_key.insert(read.key, new);
        Some(Target::New(new))
    }

    /// Plans what the rows asked for, cohort by cohort in the file's order.
    pub(super) fn plan<'n>(
        mut self,
        rows: usize,
        users: Named<'_, 'n>,
        diagnostics: &mut Diagnostics,
    ) -> Planned {
        let (site, options) = (self.site, self.options);
        // First, while the plan takes no memory yet.
        let by_cohort = members_by_cohort(std::mem::take(&mut self.members), self.requests.len());
        let mut planned = Planned::default();
        // About one operation per row: growing a vector of 100k steps by doubling costs
        // more than the planning itself.
        planned.operations.reserve(rows + self.new_cohorts.len());
        let mut emptied: HashSet<i64> = HashSet::default();
        let mut first_rows = FirstRows::new(site.snapshot.users.len());
        for (at, (target, request)) in self.requests.iter().enumerate() {
            let members = distinct_members(
                by_cohort.of(at),
                at,
                &mut first_rows,
                &self.users,
                users,
                diagnostics,
            );
            let index = match *target {
                Target::New(new) => {
                    let cohort = &self.new_cohorts[new as usize];
                    plan_new(new, cohort, request, &members, &self.users, &mut planned);
                    continue;
                }
                Target::Existing(index) => index,
            };
            if let Some(delete_line) = request.delete
                && let Some(other) = members.adds.iter().chain(&members.dels).next()
            {
                diagnostics.push(
                    Diagnostic::new(Code::ConflictingRows, other.line)
                        .arg(delete_line)
                        .arg("cohort_deleted"),
                );
                continue;
            }
            let ends_empty = plan_existing(
                index,
                request,
                &members,
                &self.users,
                users,
                site,
                options,
                diagnostics,
                &mut planned,
            );
            if ends_empty {
                emptied.insert(site.cohort(index).id);
            }
        }
        if options.cleanup_empty {
            let requests =
                |index: usize| self.existing[index].map(|at| &self.requests[at as usize].1);
            plan_cleanup(site, &requests, &emptied, &mut planned);
        }
        planned
    }
}

/// The members of all rows, cohort after cohort ([`members_by_cohort`]).
struct ByCohort {
    members: Vec<Member>,
    /// Where each cohort's members start in `members`, and where the last one's end.
    starts: Vec<u32>,
}

impl ByCohort {
    /// The members of the cohort whose requests are at `at`, in file order.
    fn of(&self, at: usize) -> &[Member] {
        &self.members[self.starts[at] as usize..self.starts[at + 1] as usize]
    }
}

/// `members` (in file order, of `cohorts` cohorts) put together cohort by cohort, each
/// cohort's in file order, in the same vector: counted per cohort, then each moved to its
/// place by following the cycles of places. A second vector of members to copy them into
/// would take 20 bytes a row more (20 MB for a million rows, which WebAssembly's memory
/// grows by and never gives back).
fn members_by_cohort(mut members: Vec<Member>, cohorts: usize) -> ByCohort {
    let mut starts = vec![0u32; cohorts + 1];
    for member in &members {
        starts[member.asked.0 as usize + 1] += 1;
    }
    for at in 1..starts.len() {
        starts[at] += starts[at - 1];
    }
    let mut next = starts.clone();
    let mut place: Vec<u32> = members
        .iter()
        .map(|member| {
            let at = &mut next[member.asked.0 as usize];
            *at += 1;
            *at - 1
        })
        .collect();
    // Each swap puts the member it brings to `to` in its place for good.
    for at in 0..members.len() {
        loop {
            let to = place[at] as usize;
            if to == at {
                break;
            }
            members.swap(at, to);
            place.swap(at, to);
        }
    }
    ByCohort { members, starts }
}

/// The members one cohort's rows add and remove, each user once, in file order.
struct DistinctMembers {
    adds: Vec<Member>,
    dels: Vec<Member>,
}

/// Which user each cohort's rows named first, for [`distinct_members`]: per user (an index
/// in the snapshot), the last cohort whose rows named them and where in those rows. One
/// pair of arrays for the whole file: a cohort's repeated rows are found with one look at
/// each of its rows, without sorting them or hashing (cohort, user) pairs.
struct FirstRows {
    /// The cohort (its request's index, plus one) that last named the user; 0: none.
    cohort: Vec<u32>,
    /// Where the user's first row is among that cohort's members.
    at: Vec<u32>,
}

impl FirstRows {
    fn new(users: usize) -> FirstRows {
        FirstRows {
            cohort: vec![0; users],
            at: vec![0; users],
        }
    }
}

/// Keeps the first row about each user of a cohort (`members`: its rows, in file order;
/// `cohort`: its request's index): a later row about the same user is a duplicate, or a
/// conflict when it asks otherwise. A suspended user added is noted.
fn distinct_members(
    members: &[Member],
    cohort: usize,
    first_rows: &mut FirstRows,
    users: &Users<'_>,
    (column, named): Named<'_, '_>,
    diagnostics: &mut Diagnostics,
) -> DistinctMembers {
    let tag = cohort as u32 + 1;
    let mut distinct = DistinctMembers {
        adds: Vec::with_capacity(members.len()),
        dels: Vec::new(),
    };
    for (at, member) in members.iter().enumerate() {
        let user = member.user as usize;
        if first_rows.cohort[user] == tag {
            let first = &members[first_rows.at[user] as usize];
            let problem = |code| {
                Diagnostic::new(code, member.line)
                    .column(column)
                    .value(named(member))
            };
            diagnostics.push(if member.command == first.command {
                problem(Code::DuplicateRow).arg(first.line)
            } else {
                problem(Code::ConflictingRows)
                    .arg(first.line)
                    .arg("add_and_remove")
            });
            continue;
        }
        first_rows.cohort[user] = tag;
        first_rows.at[user] = at as u32;
        match member.command {
            Command::Add => {
                if users.is_suspended(user) {
                    diagnostics.push(
                        Diagnostic::new(Code::UserSuspended, member.line)
                            .column(column)
                            .value(named(member)),
                    );
                }
                distinct.adds.push(*member);
            }
            Command::Del => distinct.dels.push(*member),
            Command::Free => unreachable!("free rows with a user are refused when read"),
        }
    }
    distinct
}

/// Rows about one cohort must agree on its name, idnumber and description: the first
/// non-empty value of each is kept, a different one later is a conflict.
fn agree_on_fields(request: &mut Requests, read: &CohortLine<'_>, diagnostics: &mut Diagnostics) {
    for (slot, (field_column, field)) in META_FIELDS.iter().enumerate() {
        let given = read.meta[slot];
        if given.is_empty() || *field_column == read.key_column {
            continue;
        }
        match &request.meta[slot] {
            Some((first, first_line)) if first != given => diagnostics.push(
                Diagnostic::new(Code::CohortConflict, read.line)
                    .column(*field_column)
                    .value(given)
                    .arg("disagree")
                    .arg(field)
                    .arg(first)
                    .arg(first_line),
            ),
            Some(_) => {}
            None => request.meta[slot] = Some((given.to_owned(), read.line)),
        }
    }
}

fn plan_new(
    new: u32,
    cohort: &PendingCohort,
    request: &Requests,
    members: &DistinctMembers,
    users: &Users<'_>,
    planned: &mut Planned,
) {
    let description = request.meta[2]
        .as_ref()
        .map_or(cohort.description.clone(), |(d, _)| d.clone());
    planned.operations.push(Step {
        line: Some(cohort.line),
        op: Operation::CreateCohort(Box::new(NewCohort {
            cohort: new,
            idnumber: cohort.idnumber.clone(),
            name: cohort.name.clone(),
            description,
            category: cohort.category.clone(),
            category_id: None,
            component: cohort.component.to_owned(),
            visible: true,
        })),
    });
    for &Member { user, line, .. } in &members.adds {
        let user = users.id(user as usize);
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
#[allow(clippy::too_many_arguments)]
fn plan_existing<'r>(
    index: usize,
    request: &Requests,
    distinct: &DistinctMembers,
    users: &Users<'_>,
    (column, named): Named<'_, 'r>,
    site: &Site<'_>,
    options: &Options,
    diagnostics: &mut Diagnostics,
    planned: &mut Planned,
) -> bool {
    let cohort = site.cohort(index);
    if let Some(line) = request.delete {
        plan_delete(cohort, line, site, options, planned);
        return false;
    }
    plan_fields(index, request, site, diagnostics, planned);
    // Sorted, to be searched: a cohort's members are looked up once per row about it.
    let mut members = cohort.members.clone();
    members.sort_unstable();
    members.dedup();
    let is_member = |user: &i64| members.binary_search(user).is_ok();
    let mut kept: Vec<i64> = Vec::with_capacity(distinct.adds.len());
    for member in &distinct.adds {
        let (user, line) = (users.id(member.user as usize), member.line);
        kept.push(user);
        if is_member(&user) {
            diagnostics.push(
                Diagnostic::new(Code::AlreadyMember, line)
                    .column(column)
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
        }
    }
    let mut removed: Vec<i64> = Vec::new();
    for member in &distinct.dels {
        let (user, line) = (users.id(member.user as usize), member.line);
        if is_member(&user) {
            removed.push(user);
            remove(cohort.id, user, Some(line), planned);
        } else {
            diagnostics.push(
                Diagnostic::new(Code::NotMember, line)
                    .column(column)
                    .value(named(member))
                    .arg(&cohort.name),
            );
        }
    }
    kept.sort_unstable();
    removed.sort_unstable();
    let absent: Vec<i64> = members
        .iter()
        .copied()
        .filter(|m| kept.binary_search(m).is_err() && removed.binary_search(m).is_err())
        .collect();
    let absent = plan_absent(
        index,
        request,
        !distinct.adds.is_empty(),
        absent,
        site,
        options,
        diagnostics,
        planned,
    );
    !request.declared && kept.len() + absent == 0
}

/// A `del` row without a user deletes the cohort. A bound cohort goes as Moodle deletes
/// one (FACTS.md §5): under the *unenrol* action its bindings go first, with every
/// enrolment they made (case 07); under the *suspend* actions the bindings stay, disabled,
/// pointing at the cohort that no longer exists, and their enrolments are suspended, with
/// or without their roles (cases 08 and 18: [`crate::sync`] plans that).
fn plan_delete(
    cohort: &crate::snapshot::Cohort,
    line: u32,
    site: &Site<'_>,
    options: &Options,
    planned: &mut Planned,
) {
    let bindings: Vec<&crate::snapshot::Binding> = site.bindings_of(cohort.id).collect();
    for binding in bindings {
        planned.removals += cohort.members.len() as u64;
        if options.unenrol_action == UnenrolAction::Unenrol {
            planned.operations.push(Step {
                line: Some(line),
                op: Operation::DeleteBinding {
                    binding: binding.id,
                },
            });
        }
    }
    planned.removals += cohort.members.len() as u64;
    planned.operations.push(Step {
        line: Some(line),
        op: Operation::DeleteCohort { cohort: cohort.id },
    });
}

/// Name, idnumber and description: only non-empty values that differ change anything, and
/// an idnumber another cohort has is refused.
fn plan_fields(
    index: usize,
    request: &Requests,
    site: &Site<'_>,
    diagnostics: &mut Diagnostics,
    planned: &mut Planned,
) {
    let cohort = site.cohort(index);
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
            .find(|&i| i as usize != index)
    {
        diagnostics.push(
            Diagnostic::new(Code::CohortConflict, *line)
                .column("cidnumber")
                .value(wanted.as_str())
                .arg("taken")
                .arg("idnumber")
                .arg(&site.cohort(other as usize).name),
        );
        idnumber = None;
    }
    let description = value(2, &cohort.description);
    if name.is_none() && idnumber.is_none() && description.is_none() {
        return;
    }
    let line = [&name, &idnumber, &description]
        .iter()
        .filter_map(|v| v.as_ref().map(|(_, l)| *l))
        .min();
    planned.operations.push(Step {
        line,
        op: Operation::UpdateCohort(Box::new(CohortUpdate {
            cohort: cohort.id,
            name: name.map(|(v, _)| v),
            idnumber: idnumber.map(|(v, _)| v),
            description: description.map(|(v, _)| v),
        })),
    });
}

/// Members the rows do not name: removed by `free`, and by full mode from a cohort
/// cohortsync manages (a hand-made cohort keeps them, and the report says so). Returns how
/// many stay.
#[allow(clippy::too_many_arguments)]
fn plan_absent(
    index: usize,
    request: &Requests,
    adds_any: bool,
    mut absent: Vec<i64>,
    site: &Site<'_>,
    options: &Options,
    diagnostics: &mut Diagnostics,
    planned: &mut Planned,
) -> usize {
    let cohort = site.cohort(index);
    let full = options.mode == Mode::Full && adds_any;
    if full {
        planned.members_before += cohort.members.len() as u64;
    }
    absent.sort_unstable();
    if request.free.is_some() || (full && cohort.owner() == Owner::Cohortsync) {
        for &user in &absent {
            remove(cohort.id, user, request.free, planned);
        }
        return 0;
    }
    if full && cohort.owner() == Owner::Manual && !absent.is_empty() {
        diagnostics.push(
            Diagnostic::new(Code::ManualCohortKept, request.first_line)
                .arg(&cohort.name)
                .arg(absent.len()),
        );
    }
    absent.len()
}

fn remove(cohort: i64, user: i64, line: Option<u32>, planned: &mut Planned) {
    planned.removals += 1;
    planned.operations.push(Step {
        line,
        op: Operation::RemoveMember { cohort, user },
    });
}

/// Cohorts managed by cohortsync that end up empty and unbound are deleted.
fn plan_cleanup<'q>(
    site: &Site<'_>,
    requests: &dyn Fn(usize) -> Option<&'q Requests>,
    emptied: &HashSet<i64>,
    planned: &mut Planned,
) {
    for (index, cohort) in site.snapshot.cohorts.iter().enumerate() {
        let touched = requests(index);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// Members of three cohorts named in turn, some cohorts more often than others, come
    /// out cohort after cohort, each cohort's in the rows' order.
    #[test]
    fn members_are_put_together_by_cohort_in_file_order() {
        let asked = [2, 0, 2, 1, 0, 2, 2, 0, 1, 2];
        let members: Vec<Member> = asked
            .iter()
            .enumerate()
            .map(|(row, &cohort)| Member {
                user: row as u32 * 10,
                line: row as u32 + 2,
                row: row as u32,
                asked: Asked(cohort),
                command: Command::Add,
            })
            .collect();
        let by_cohort = members_by_cohort(members, 4);
        let rows =
            |cohort: usize| -> Vec<u32> { by_cohort.of(cohort).iter().map(|m| m.row).collect() };
        assert_eq!(rows(0), [1, 4, 7]);
        assert_eq!(rows(1), [3, 8]);
        assert_eq!(rows(2), [0, 2, 5, 6, 9]);
        assert!(rows(3).is_empty());
        assert!(
            by_cohort
                .of(2)
                .iter()
                .all(|m| m.asked == Asked(2) && m.user == m.row * 10)
        );
    }
}
