//! The site's directory (users, cohorts, courses, roles, groups, bindings, enrolments):
//! read as a [`Snapshot`], and written by applying a [`Changeset`].

use std::collections::{BTreeMap, HashMap};

use cohortsync_shared::changeset::{
    BindingUpdate, Changeset, CohortUpdate, Effect, NewBinding, NewCohort, NewGroup, Operation, Ref,
};
use sqlx::{AnyConnection, Row};

use super::bulk::{self, Value};

use super::{StoreError, StoreResult};
use cohortsync_shared::options::Options;
use cohortsync_shared::snapshot::{
    Binding, BindingState, BindingStatus, Category, Cohort, Course, EnrolmentState, Group, Role,
    Snapshot, User,
};

/// The current revision and the key of teachers' hashes.
pub async fn state(conn: &mut AnyConnection) -> StoreResult<(u64, String)> {
    let row = sqlx::query("SELECT revision, user_hash_key FROM site_state WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    Ok((row.get::<i64, _>(0) as u64, row.get(1)))
}

/// Takes the site's write lock inside an apply's transaction, so that concurrent applies
/// run one after the other. SQLite's `BEGIN IMMEDIATE` already holds the database's write
/// lock; PostgreSQL locks the site state row until the transaction ends.
pub async fn lock_for_apply(
    conn: &mut AnyConnection,
    kind: cohortsync_shared::api::DatabaseKind,
) -> StoreResult<()> {
    if kind == cohortsync_shared::api::DatabaseKind::Postgres {
        sqlx::query("SELECT revision FROM site_state WHERE id = 1 FOR UPDATE")
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Every row `sql` selects, each made into a `T` by `row`.
async fn every<T>(
    conn: &mut AnyConnection,
    sql: &str,
    row: impl Fn(&sqlx::any::AnyRow) -> T,
) -> StoreResult<Vec<T>> {
    let rows = sqlx::query(sql).fetch_all(&mut *conn).await?;
    Ok(rows.iter().map(row).collect())
}

/// The course categories, by id (the embedded store has no contexts).
pub(crate) async fn categories(conn: &mut AnyConnection) -> StoreResult<Vec<Category>> {
    every(
        conn,
        "SELECT id, name, idnumber, parent FROM categories ORDER BY id",
        |r| Category {
            id: r.get(0),
            name: r.get(1),
            idnumber: r.get(2),
            parent: r.get(3),
            context: 0,
        },
    )
    .await
}

/// The whole directory as the rules see it (the admin's variant: names and emails in clear).
pub async fn load_snapshot(conn: &mut AnyConnection) -> StoreResult<Snapshot> {
    let (revision, _) = state(conn).await?;
    let users = sqlx::query(
        "SELECT id, username, idnumber, email, firstname, lastname, suspended FROM users \
         ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| User {
        id: r.get(0),
        username: r.get(1),
        idnumber: r.get(2),
        email: r.get(3),
        firstname: r.get(4),
        lastname: r.get(5),
        suspended: r.get::<i64, _>(6) != 0,
        hashes: None,
    })
    .collect();
    let mut cohorts: Vec<Cohort> =
        sqlx::query(&format!("SELECT {COHORT_COLUMNS} FROM cohorts ORDER BY id"))
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(cohort_of)
            .collect();
    let position: HashMap<i64, usize> =
        cohorts.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    let members =
        sqlx::query("SELECT cohort_id, user_id FROM cohort_members ORDER BY cohort_id, user_id")
            .fetch_all(&mut *conn)
            .await?;
    for row in members {
        if let Some(&i) = position.get(&row.get::<i64, _>(0)) {
            cohorts[i].members.push(row.get(1));
        }
    }
    let courses = every(
        conn,
        "SELECT id, shortname, idnumber, fullname FROM courses ORDER BY id",
        |r| Course {
            id: r.get(0),
            shortname: r.get(1),
            idnumber: r.get(2),
            fullname: r.get(3),
        },
    )
    .await?;
    let categories = categories(conn).await?;
    let roles = every(conn, "SELECT id, shortname FROM roles ORDER BY id", |r| {
        Role {
            id: r.get(0),
            shortname: r.get(1),
        }
    })
    .await?;
    let groups = every(
        conn,
        "SELECT id, course_id, name, idnumber FROM course_groups ORDER BY id",
        |r| Group {
            id: r.get(0),
            course: r.get(1),
            name: r.get(2),
            idnumber: r.get(3),
        },
    )
    .await?;
    let bindings = every(
        conn,
        &format!("SELECT {BINDING_COLUMNS} FROM bindings ORDER BY id"),
        binding_of,
    )
    .await?;
    Ok(Snapshot {
        revision,
        user_hash_key: None,
        users,
        cohorts,
        courses,
        categories,
        roles,
        groups,
        bindings,
        defaults: default_options(conn).await?,
        enrolments: None,
    })
}

/// What the bindings of `courses` hold (`bindings`: the snapshot's): their enrolments
/// (active or suspended, with or without the role) and whom of them their group lacks. The
/// embedded store has no other enrolment method, and every membership of a binding's group
/// held by one of its enrolled users is that binding's.
pub async fn enrolment_state(
    conn: &mut AnyConnection,
    bindings: &[Binding],
    courses: &std::collections::BTreeSet<i64>,
) -> StoreResult<EnrolmentState> {
    let bindings: Vec<&Binding> = bindings
        .iter()
        .filter(|b| courses.contains(&b.course))
        .collect();
    let mut held: BTreeMap<i64, BindingState> = BTreeMap::new();
    for chunk in bindings.chunks(bulk::IDS_PER_LIST) {
        let ids = chunk
            .iter()
            .map(|b| b.id.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(&format!(
            "SELECT binding_id, user_id, status, role_removed FROM enrolments \
             WHERE binding_id IN ({ids}) ORDER BY binding_id, user_id"
        ))
        .fetch_all(&mut *conn)
        .await?;
        for r in rows {
            let binding: i64 = r.get(0);
            let user: i64 = r.get(1);
            let state = held.entry(binding).or_insert_with(|| BindingState {
                binding,
                ..BindingState::default()
            });
            if r.get::<String, _>(2) == "active" {
                state.active.push(user);
            } else {
                state.suspended.push(user);
            }
            if r.get::<i64, _>(3) != 0 {
                state.without_role.push(user);
            }
        }
    }
    let groups: Vec<i64> = bindings.iter().filter_map(|b| b.group).collect();
    let mut members: HashMap<i64, Vec<i64>> = HashMap::new();
    for chunk in groups.chunks(bulk::IDS_PER_LIST) {
        let ids = chunk
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        for r in sqlx::query(&format!(
            "SELECT group_id, user_id FROM group_members WHERE group_id IN ({ids}) \
             ORDER BY group_id, user_id"
        ))
        .fetch_all(&mut *conn)
        .await?
        {
            members.entry(r.get(0)).or_default().push(r.get(1));
        }
    }
    for b in bindings {
        let (Some(group), Some(state)) = (b.group, held.get_mut(&b.id)) else {
            continue;
        };
        let in_group = members.get(&group).map_or(&[][..], Vec::as_slice);
        state.ungrouped = state
            .active
            .iter()
            .chain(&state.suspended)
            .copied()
            .filter(|u| in_group.binary_search(u).is_err())
            .collect();
        state.ungrouped.sort_unstable();
    }
    Ok(EnrolmentState {
        bindings: held.into_values().collect(),
        courses: Vec::new(),
    })
}

/// The site's default options. Stored JSON that no longer reads (an option renamed by an
/// upgrade) falls back to the built-in defaults, with a warning in the log.
pub async fn default_options(conn: &mut AnyConnection) -> StoreResult<Options> {
    let text: String = sqlx::query_scalar("SELECT default_options FROM site_state WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    Ok(serde_json::from_str(&text).unwrap_or_else(|error| {
        tracing::warn!(%error, "the stored default options do not read; using the built-in ones");
        Options::default()
    }))
}

/// Sets the site's default options and bumps the revision (snapshots carry them); returns
/// the new revision. Runs in the caller's transaction.
pub async fn set_default_options(conn: &mut AnyConnection, options: &Options) -> StoreResult<u64> {
    let text = serde_json::to_string(options).map_err(StoreError::unreadable_json("options"))?;
    let revision: i64 = sqlx::query_scalar(
        "UPDATE site_state SET default_options = $1, revision = revision + 1 WHERE id = 1 \
         RETURNING revision",
    )
    .bind(text)
    .fetch_one(&mut *conn)
    .await?;
    Ok(revision as u64)
}

fn placeholders(count: usize) -> String {
    (1..=count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The cohorts with these ids, with their members, in id order (missing ids are skipped).
pub async fn load_cohorts(conn: &mut AnyConnection, ids: &[i64]) -> StoreResult<Vec<Cohort>> {
    let mut cohorts = Vec::new();
    for chunk in ids.chunks(1000) {
        let list = placeholders(chunk.len());
        let sql = format!("SELECT {COHORT_COLUMNS} FROM cohorts WHERE id IN ({list}) ORDER BY id");
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(*id);
        }
        let rows = query.fetch_all(&mut *conn).await?;
        for r in rows {
            cohorts.push(cohort_of(&r));
        }
        let sql = format!(
            "SELECT cohort_id, user_id FROM cohort_members WHERE cohort_id IN ({list}) \
             ORDER BY cohort_id, user_id"
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(*id);
        }
        let position: HashMap<i64, usize> =
            cohorts.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
        for row in query.fetch_all(&mut *conn).await? {
            if let Some(&i) = position.get(&row.get::<i64, _>(0)) {
                cohorts[i].members.push(row.get(1));
            }
        }
    }
    cohorts.sort_by_key(|c| c.id);
    Ok(cohorts)
}

/// The bindings with these ids, in id order (missing ids are skipped).
pub async fn load_bindings(conn: &mut AnyConnection, ids: &[i64]) -> StoreResult<Vec<Binding>> {
    let mut bindings = Vec::new();
    for chunk in ids.chunks(1000) {
        let sql = format!(
            "SELECT {BINDING_COLUMNS} FROM bindings WHERE id IN ({}) ORDER BY id",
            placeholders(chunk.len())
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(*id);
        }
        for r in query.fetch_all(&mut *conn).await? {
            bindings.push(binding_of(&r));
        }
    }
    Ok(bindings)
}

const COHORT_COLUMNS: &str = "id, idnumber, name, description, visible, category, component";

/// A cohort (without its members) from a row of `COHORT_COLUMNS`.
fn cohort_of(r: &sqlx::any::AnyRow) -> Cohort {
    Cohort {
        id: r.get(0),
        idnumber: r.get(1),
        name: r.get(2),
        description: r.get(3),
        visible: r.get::<i64, _>(4) != 0,
        category: r.get(5),
        component: r.get(6),
        members: Vec::new(),
    }
}

const BINDING_COLUMNS: &str =
    "id, course_id, cohort_id, role_id, group_id, name, status, enrolstart, enrolend";

/// A binding from a row of `BINDING_COLUMNS`.
fn binding_of(r: &sqlx::any::AnyRow) -> Binding {
    Binding {
        id: r.get(0),
        course: r.get(1),
        cohort: r.get(2),
        role: r.get(3),
        group: r.get(4),
        name: r.get(5),
        // The store writes only the two names; anything else reads as active, as before.
        status: BindingStatus::parse(&r.get::<String, _>(6)).unwrap_or_default(),
        enrolstart: r.get(7),
        enrolend: r.get(8),
    }
}

pub use cohortsync_shared::api::Applied;

/// Writes `changeset`'s operations and effects and bumps the revision, inside the caller's
/// transaction: the caller commits, or drops the transaction and nothing is written.
pub async fn write_changeset(
    conn: &mut AnyConnection,
    changeset: &Changeset,
) -> StoreResult<Applied> {
    write_changeset_failing_after(conn, changeset, None).await
}

/// [`write_changeset`], stopping with an error after `fail_after` operations: the hook the
/// atomicity tests use to show that a failure half-way leaves nothing behind.
pub(crate) async fn write_changeset_failing_after(
    conn: &mut AnyConnection,
    changeset: &Changeset,
    fail_after: Option<usize>,
) -> StoreResult<Applied> {
    let mut applied = Applied::default();
    let status_name = BindingStatus::as_str;
    // Runs of member additions and removals are written in chunks; anything else first
    // writes what is pending, so that operations keep their order.
    let mut adds: Vec<Vec<Value>> = Vec::new();
    let mut removes: Vec<(i64, i64)> = Vec::new();
    for (done, step) in changeset.operations.iter().enumerate() {
        let is_member_op = matches!(
            step.op,
            Operation::AddMember { .. } | Operation::RemoveMember { .. }
        );
        if !is_member_op || fail_after == Some(done) {
            flush_members(conn, &mut adds, &mut removes).await?;
        }
        if fail_after == Some(done) {
            return Err(StoreError::Stopped(done));
        }
        let resolve = |created: &[i64], r: Ref| -> StoreResult<i64> {
            match r {
                Ref::Existing(id) => Ok(id),
                Ref::New { new } => created
                    .get(new as usize)
                    .copied()
                    .ok_or_else(|| StoreError::InvalidPlan(format!("object {new}"))),
            }
        };
        match &step.op {
            Operation::CreateCohort(v) => {
                let NewCohort {
                    idnumber,
                    name,
                    description,
                    category,
                    component,
                    visible,
                    ..
                } = &**v;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO cohorts (idnumber, name, description, visible, category, component) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(idnumber)
                .bind(name)
                .bind(description)
                .bind(i64::from(*visible))
                .bind(category)
                .bind(component)
                .fetch_one(&mut *conn)
                .await
                .map_err(StoreError::taken("cohort idnumber", idnumber))?;
                // SQLite gives a new row the highest id + 1, so a new cohort could take the
                // id of a deleted one that bindings still point at, and inherit them: it is
                // moved past every id a binding names (PostgreSQL's sequence never reuses).
                let moved: Option<i64> = sqlx::query_scalar(
                    "UPDATE cohorts SET id = (SELECT MAX(m) + 1 FROM (SELECT MAX(id) AS m \
                     FROM cohorts UNION ALL SELECT MAX(cohort_id) FROM bindings) AS ids) \
                     WHERE id = $1 AND EXISTS (SELECT 1 FROM bindings WHERE cohort_id = $1) \
                     RETURNING id",
                )
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
                let id = moved.unwrap_or(id);
                applied.cohorts_created.push(id);
            }
            Operation::UpdateCohort(v) => {
                let CohortUpdate {
                    cohort,
                    name,
                    idnumber,
                    description,
                } = &**v;
                sqlx::query(
                    "UPDATE cohorts SET name = COALESCE($1, name), idnumber = COALESCE($2, idnumber), \
                     description = COALESCE($3, description) WHERE id = $4",
                )
                .bind(name.as_deref())
                .bind(idnumber.as_deref())
                .bind(description.as_deref())
                .bind(cohort)
                .execute(&mut *conn)
                .await
                .map_err(StoreError::taken(
                    "cohort idnumber",
                    idnumber.clone().unwrap_or_default(),
                ))?;
            }
            Operation::AddMember { cohort, user } => {
                let cohort = resolve(&applied.cohorts_created, *cohort)?;
                adds.push(vec![cohort.into(), (*user).into()]);
                continue;
            }
            Operation::RemoveMember { cohort, user } => {
                removes.push((*cohort, *user));
                continue;
            }
            Operation::DeleteCohort { cohort } => {
                // Bindings still there (the *suspend* actions keep them: the plan deleted
                // them first under *unenrol*) stay, disabled, as Moodle keeps them.
                sqlx::query("UPDATE bindings SET status = 'disabled' WHERE cohort_id = $1")
                    .bind(cohort)
                    .execute(&mut *conn)
                    .await?;
                sqlx::query("DELETE FROM cohorts WHERE id = $1")
                    .bind(cohort)
                    .execute(&mut *conn)
                    .await?;
            }
            Operation::CreateGroup(v) => {
                let NewGroup { course, name, .. } = &**v;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO course_groups (course_id, name, idnumber) VALUES ($1, $2, '') \
                     RETURNING id",
                )
                .bind(course)
                .bind(name)
                .fetch_one(&mut *conn)
                .await
                .map_err(StoreError::taken("group name in the course", name))?;
                applied.groups_created.push(id);
            }
            Operation::CreateBinding(v) => {
                let NewBinding {
                    course,
                    cohort,
                    role,
                    group,
                    name,
                    status,
                    enrolstart,
                    enrolend,
                    ..
                } = &**v;
                let group = group
                    .map(|g| resolve(&applied.groups_created, g))
                    .transpose()?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO bindings (course_id, cohort_id, role_id, group_id, name, status, \
                     enrolstart, enrolend) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                )
                .bind(course)
                .bind(cohort)
                .bind(role)
                .bind(group)
                .bind(name)
                .bind(status_name(*status))
                .bind(enrolstart)
                .bind(enrolend)
                .fetch_one(&mut *conn)
                .await
                .map_err(StoreError::taken(
                    "binding of the cohort to the course with the role",
                    format!("cohort {cohort}, course {course}, role {role}"),
                ))?;
                applied.bindings_created.push(id);
            }
            Operation::UpdateBinding(v) => {
                let BindingUpdate {
                    binding,
                    role,
                    group,
                    name,
                    status,
                    enrolstart,
                    enrolend,
                } = &**v;
                let group = group
                    .map(|g| resolve(&applied.groups_created, g))
                    .transpose()?;
                sqlx::query(
                    "UPDATE bindings SET group_id = $1, name = $2, status = $3, enrolstart = $4, \
                     enrolend = $5, role_id = COALESCE($6, role_id) WHERE id = $7",
                )
                .bind(group)
                .bind(name)
                .bind(status_name(*status))
                .bind(enrolstart)
                .bind(enrolend)
                .bind(role)
                .bind(binding)
                .execute(&mut *conn)
                .await
                .map_err(StoreError::taken(
                    "binding of the cohort to the course with the role",
                    format!("binding {binding}, role {}", role.unwrap_or_default()),
                ))?;
            }
            Operation::DeleteBinding { binding } => {
                sqlx::query("DELETE FROM bindings WHERE id = $1")
                    .bind(binding)
                    .execute(&mut *conn)
                    .await?;
            }
        }
    }
    flush_members(conn, &mut adds, &mut removes).await?;
    // Effects are written in chunks, a run of one kind at a time so that their order holds:
    // enrolments upserted and group memberships inserted (each pair once: a multi-row
    // upsert may not touch one row twice), unenrolments, suspensions and removals from
    // groups by lists of pairs.
    let mut pending = Effects::default();
    for effect in &changeset.effects {
        let kind = EffectKind::of(effect);
        if pending.kind.is_some_and(|k| k != kind) {
            pending.flush(conn).await?;
        }
        pending.kind = Some(kind);
        match effect {
            Effect::Enrol { user, binding, .. } => {
                let binding = resolve_binding(&applied, *binding)?;
                if pending.enrolled_seen.insert((binding, *user)) {
                    pending.enrolled.push(vec![binding.into(), (*user).into()]);
                }
            }
            Effect::AddToGroup { user, group, .. } => {
                let group = match group {
                    Ref::Existing(id) => *id,
                    Ref::New { new } => applied
                        .groups_created
                        .get(*new as usize)
                        .copied()
                        .ok_or_else(|| StoreError::InvalidPlan(format!("group {new}")))?,
                };
                if pending.grouped_seen.insert((group, *user)) {
                    pending.grouped.push(vec![group.into(), (*user).into()]);
                }
            }
            Effect::Unenrol { user, binding, .. } | Effect::Suspend { user, binding, .. } => {
                let binding = resolve_binding(&applied, *binding)?;
                pending.pairs.push((binding, *user));
            }
            Effect::RemoveFromGroup { user, group, .. } => pending.pairs.push((*group, *user)),
            Effect::AssignRole { user, binding, .. } | Effect::RemoveRole { user, binding, .. } => {
                let binding = resolve_binding(&applied, *binding)?;
                pending.pairs.push((binding, *user));
            }
            // The embedded store holds no roles but the bindings': the groups go.
            Effect::LeaveCourse { user, groups, .. } => {
                pending.pairs.extend(groups.iter().map(|g| (*g, *user)))
            }
        }
    }
    pending.flush(conn).await?;
    // An empty changeset changes nothing, so the revision (and every cached snapshot) stays.
    let bump = if changeset.is_empty() { 0i64 } else { 1 };
    let revision: i64 = sqlx::query_scalar(
        "UPDATE site_state SET revision = revision + $1 WHERE id = 1 RETURNING revision",
    )
    .bind(bump)
    .fetch_one(&mut *conn)
    .await?;
    applied.revision = revision as u64;
    Ok(applied)
}

async fn flush_members(
    conn: &mut AnyConnection,
    adds: &mut Vec<Vec<Value>>,
    removes: &mut Vec<(i64, i64)>,
) -> StoreResult<()> {
    if !adds.is_empty() {
        bulk::insert(conn, "cohort_members", &["cohort_id", "user_id"], adds, "").await?;
        adds.clear();
    }
    if !removes.is_empty() {
        bulk::delete_pairs(conn, "cohort_members", ("cohort_id", "user_id"), removes).await?;
        removes.clear();
    }
    Ok(())
}

/// Which statement writes an effect; a run of one kind is written together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EffectKind {
    /// Enrolments and group memberships (they commute: one run).
    Add,
    Unenrol,
    Suspend {
        remove_roles: bool,
    },
    RemoveFromGroup,
    /// The binding's role given back (true) or taken (false), the enrolment kept.
    Role(bool),
}

impl EffectKind {
    fn of(effect: &Effect) -> Self {
        match effect {
            Effect::Enrol { .. } | Effect::AddToGroup { .. } => EffectKind::Add,
            Effect::Unenrol { .. } => EffectKind::Unenrol,
            Effect::Suspend { remove_roles, .. } => EffectKind::Suspend {
                remove_roles: *remove_roles,
            },
            Effect::RemoveFromGroup { .. } | Effect::LeaveCourse { .. } => {
                EffectKind::RemoveFromGroup
            }
            Effect::AssignRole { .. } => EffectKind::Role(true),
            Effect::RemoveRole { .. } => EffectKind::Role(false),
        }
    }
}

/// Effects of one kind waiting to be written.
#[derive(Default)]
struct Effects {
    kind: Option<EffectKind>,
    enrolled: Vec<Vec<Value>>,
    enrolled_seen: std::collections::HashSet<(i64, i64)>,
    grouped: Vec<Vec<Value>>,
    grouped_seen: std::collections::HashSet<(i64, i64)>,
    /// (binding, user) to unenrol or suspend, or (group, user) to take out of a group.
    pairs: Vec<(i64, i64)>,
}

impl Effects {
    async fn flush(&mut self, conn: &mut AnyConnection) -> StoreResult<()> {
        match self.kind.take() {
            None => {}
            Some(EffectKind::Add) => {
                if !self.enrolled.is_empty() {
                    for row in self.enrolled.iter_mut() {
                        row.push(Value::Text("active".into()));
                        row.push(Value::Int(0));
                    }
                    bulk::insert(
                        conn,
                        "enrolments",
                        &["binding_id", "user_id", "status", "role_removed"],
                        &self.enrolled,
                        "ON CONFLICT (binding_id, user_id) DO UPDATE SET status = 'active', \
                         role_removed = 0",
                    )
                    .await?;
                }
                if !self.grouped.is_empty() {
                    bulk::insert(
                        conn,
                        "group_members",
                        &["group_id", "user_id"],
                        &self.grouped,
                        "ON CONFLICT (group_id, user_id) DO NOTHING",
                    )
                    .await?;
                }
            }
            Some(EffectKind::Unenrol) => {
                let pairs = ("binding_id", "user_id");
                bulk::delete_pairs(conn, "enrolments", pairs, &self.pairs).await?;
            }
            Some(EffectKind::Suspend { remove_roles }) => {
                let set = if remove_roles {
                    "status = 'suspended', role_removed = 1"
                } else {
                    "status = 'suspended', role_removed = 0"
                };
                let pairs = ("binding_id", "user_id");
                bulk::update_pairs(conn, "enrolments", set, pairs, &self.pairs).await?;
            }
            Some(EffectKind::RemoveFromGroup) => {
                let pairs = ("group_id", "user_id");
                bulk::delete_pairs(conn, "group_members", pairs, &self.pairs).await?;
            }
            Some(EffectKind::Role(held)) => {
                let set = if held {
                    "role_removed = 0"
                } else {
                    "role_removed = 1"
                };
                let pairs = ("binding_id", "user_id");
                bulk::update_pairs(conn, "enrolments", set, pairs, &self.pairs).await?;
            }
        }
        *self = Effects::default();
        Ok(())
    }
}

fn resolve_binding(applied: &Applied, binding: Ref) -> StoreResult<i64> {
    match binding {
        Ref::Existing(id) => Ok(id),
        Ref::New { new } => applied
            .bindings_created
            .get(new as usize)
            .copied()
            .ok_or_else(|| StoreError::InvalidPlan(format!("binding {new}"))),
    }
}
