//! Writing an approved changeset into Moodle's tables, with the rows Moodle's own cohort
//! API and `enrol_cohort` plugin write (`shared/moodle/FACTS.md`), inside the caller's
//! transaction.
//!
//! The operations change what they name (cohorts, members, groups, cohort-sync
//! instances); then every instance they touched is brought to what Moodle's
//! `enrol_cohort_sync` converges to (FACTS.md §9): members of enabled instances enrolled
//! and their suspended rows reactivated, the unenrol action applied to every row whose user
//! left, roles assigned to active rows of enabled instances (and removed otherwise, unless
//! the action is *suspend*), group memberships moved to the instance's group without ever
//! touching a manual one, and, when a user's last enrolment in a course goes, that user's
//! other roles and group memberships in the course with it. The same rows Moodle's
//! observers write, so the hourly task finds nothing left to do.
//!
//! The dirty flags Moodle sets (`mdl_cache_flags`) are written too, so that signed-in
//! users see the change. Caches Moodle keeps in files cannot be reached from the
//! database: that is what `--moodle-after-apply` is for.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use cohortsync_shared::api::Applied;
use cohortsync_shared::changeset::{
    BindingUpdate, Changeset, CohortUpdate, NewBinding, NewCohort, NewGroup, Operation, Ref,
};
use cohortsync_shared::options::UnenrolAction;
use cohortsync_shared::snapshot::{BindingStatus, COHORTSYNC_COMPONENT};
use sqlx::AnyConnection;

use super::events::{self, Event, EventLog, LogContext};
use super::snapshot::{int, text};
use super::sync::{Enrolment, Instance, Row, SyncChanges, SyncState, Synced, plan_sync};
use super::{Moodle, MoodleDatabase};
use crate::phases::Phases;
use crate::store::bulk::{self, Value};
use crate::store::{StoreError, StoreResult};

/// Moodle's context levels.
const CONTEXT_SYSTEM: i64 = 10;
const CONTEXT_COURSECAT: i64 = 40;
const CONTEXT_COURSE: i64 = 50;
/// `$CFG->sessiontimeout` when the site never set it: the expiry of dirty flags.
const DEFAULT_SESSION_TIMEOUT: i64 = 28_800;
/// Ids pasted into one `IN (…)` list.
const IDS_PER_STATEMENT: usize = 5_000;

/// Who writes, and when: what every row Moodle stamps carries.
#[derive(Debug, Clone)]
pub struct WriteContext {
    /// The Moodle user the changes are made as (`modifierid`, the log's `userid`).
    pub actor: i64,
    /// The `component` of cohorts managed by files (`--moodle-component`).
    pub managed: String,
    /// Moodle's unenrol action.
    pub unenrol: UnenrolAction,
    /// The time stamped on every row written (Unix seconds).
    pub now: i64,
}

/// Writes `plan` into Moodle on `conn` (a transaction the caller commits), stopping with
/// [`StoreError::Stopped`] after `fail_after` operations. Returns the ids Moodle gave to
/// what the plan created.
pub async fn write_changeset(
    moodle: &Moodle,
    conn: &mut AnyConnection,
    plan: &Changeset,
    context: &WriteContext,
    fail_after: Option<usize>,
) -> StoreResult<Applied> {
    let mut writer = Writer {
        moodle,
        context,
        applied: Applied::default(),
        synced: BTreeSet::new(),
        deleting: BTreeSet::new(),
        dirty_users: BTreeSet::new(),
        dirty_contexts: BTreeSet::new(),
        touched_groups: BTreeSet::new(),
        log: EventLog::default(),
        cohort_contexts: HashMap::new(),
        phases: Phases::start("moodle write"),
    };
    let mut added: Vec<(i64, i64)> = Vec::new();
    let mut removed: Vec<(i64, i64)> = Vec::new();
    let mut cohorts: BTreeSet<i64> = BTreeSet::new();
    for (done, step) in plan.operations.iter().enumerate() {
        let member_op = matches!(
            step.op,
            Operation::AddMember { .. } | Operation::RemoveMember { .. }
        );
        if !member_op || fail_after == Some(done) {
            writer.flush_members(conn, &mut added, &mut removed).await?;
        }
        if fail_after == Some(done) {
            return Err(StoreError::Stopped(done));
        }
        match &step.op {
            Operation::AddMember { cohort, user } => {
                let cohort = writer.resolve(&writer.applied.cohorts_created, *cohort)?;
                cohorts.insert(cohort);
                added.push((cohort, *user));
            }
            Operation::RemoveMember { cohort, user } => {
                cohorts.insert(*cohort);
                removed.push((*cohort, *user));
            }
            op => {
                if let Some(cohort) = writer.operate(conn, op).await? {
                    cohorts.insert(cohort);
                }
            }
        }
    }
    writer.flush_members(conn, &mut added, &mut removed).await?;
    writer.phases.done("operations and members");
    let mut instances = writer.instances_of_cohorts(conn, &cohorts).await?;
    instances.extend(writer.synced.iter().copied());
    instances.extend(writer.deleting.iter().copied());
    writer.phases.done("instances");
    writer.sync(conn, &instances).await?;
    writer.finish(conn).await?;
    Ok(writer.applied)
}

struct Writer<'a> {
    moodle: &'a Moodle,
    context: &'a WriteContext,
    applied: Applied,
    /// Instances created or changed: synced at the end.
    synced: BTreeSet<i64>,
    /// Instances being deleted: emptied by the sync, then deleted.
    deleting: BTreeSet<i64>,
    dirty_users: BTreeSet<i64>,
    dirty_contexts: BTreeSet<i64>,
    touched_groups: BTreeSet<i64>,
    log: EventLog,
    /// Cohort → its context, for the log.
    cohort_contexts: HashMap<i64, LogContext>,
    phases: Phases,
}

impl Writer<'_> {
    fn table(&self, name: &str) -> String {
        self.moodle.table(name)
    }

    fn db(&self) -> MoodleDatabase {
        self.moodle.database
    }

    fn p(&self, n: usize) -> String {
        self.db().placeholder(n)
    }

    fn resolve(&self, created: &[i64], r: Ref) -> StoreResult<i64> {
        match r {
            Ref::Existing(id) => Ok(id),
            Ref::New { new } => created
                .get(new as usize)
                .copied()
                .ok_or_else(|| StoreError::InvalidPlan(format!("object {new}"))),
        }
    }

    /// `customint2` for a group: its id, or 0 for none.
    fn group_id(&self, group: Option<Ref>) -> StoreResult<i64> {
        match group {
            Some(group) => self.resolve(&self.applied.groups_created, group),
            None => Ok(0),
        }
    }

    /// Writes the pending member additions and removals.
    async fn flush_members(
        &mut self,
        conn: &mut AnyConnection,
        added: &mut Vec<(i64, i64)>,
        removed: &mut Vec<(i64, i64)>,
    ) -> StoreResult<()> {
        let mut cohorts: Vec<i64> = added.iter().chain(removed.iter()).map(|p| p.0).collect();
        cohorts.sort_unstable();
        cohorts.dedup();
        self.know_cohort_contexts(conn, &cohorts).await?;
        for &(cohort, user) in added.iter() {
            self.log_cohort(cohort, "cohort_member_added", "c", Some(user));
        }
        for &(cohort, user) in removed.iter() {
            self.log_cohort(cohort, "cohort_member_removed", "d", Some(user));
        }
        if !added.is_empty() {
            let now = self.context.now;
            let rows: Vec<Vec<Value>> = added
                .drain(..)
                .map(|(cohort, user)| vec![cohort.into(), user.into(), now.into()])
                .collect();
            let table = self.table("cohort_members");
            bulk::insert(
                conn,
                &table,
                &["cohortid", "userid", "timeadded"],
                &rows,
                "",
            )
            .await
            .map_err(|e| taken(e, "cohort member", ""))?;
        }
        let mut by_cohort: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for (cohort, user) in removed.drain(..) {
            by_cohort.entry(cohort).or_default().push(user);
        }
        for (cohort, users) in by_cohort {
            let table = self.table("cohort_members");
            delete_in(
                conn,
                &table,
                &format!("cohortid = {cohort} AND userid"),
                &users,
            )
            .await?;
        }
        Ok(())
    }

    /// Reads the contexts of `cohorts` that are not known yet.
    async fn know_cohort_contexts(
        &mut self,
        conn: &mut AnyConnection,
        cohorts: &[i64],
    ) -> StoreResult<()> {
        let unknown: Vec<i64> = cohorts
            .iter()
            .copied()
            .filter(|c| !self.cohort_contexts.contains_key(c))
            .collect();
        for chunk in unknown.chunks(IDS_PER_STATEMENT) {
            let sql = format!(
                "SELECT c.id, ctx.id, ctx.contextlevel, ctx.instanceid FROM {} c \
                 JOIN {} ctx ON ctx.id = c.contextid WHERE c.id IN ({})",
                self.table("cohort"),
                self.table("context"),
                list(chunk)
            );
            for r in sqlx::query(&sql).fetch_all(&mut *conn).await? {
                self.cohort_contexts.insert(
                    int(&r, 0)?,
                    LogContext {
                        id: int(&r, 1)?,
                        level: int(&r, 2)?,
                        instance: int(&r, 3)?,
                    },
                );
            }
        }
        Ok(())
    }

    /// Logs a cohort event in the cohort's context.
    fn log_cohort(
        &mut self,
        cohort: i64,
        name: &'static str,
        crud: &'static str,
        related_user: Option<i64>,
    ) {
        let context = self
            .cohort_contexts
            .get(&cohort)
            .copied()
            .unwrap_or(LogContext {
                id: 1,
                level: CONTEXT_SYSTEM,
                instance: 0,
            });
        self.log.push(Event {
            name,
            crud,
            object: Some(("cohort", cohort)),
            context,
            course: 0,
            related_user,
            other: "null".to_owned(),
        });
    }

    /// Logs an event about `object` in `course`'s context.
    async fn log_instance(
        &mut self,
        conn: &mut AnyConnection,
        name: &'static str,
        crud: &'static str,
        object: (&'static str, i64),
        course: i64,
        other: &str,
    ) -> StoreResult<()> {
        let sql = format!(
            "SELECT id FROM {} WHERE contextlevel = {CONTEXT_COURSE} AND instanceid = {course}",
            self.table("context")
        );
        let context = match sqlx::query(&sql).fetch_optional(&mut *conn).await? {
            Some(r) => int(&r, 0)?,
            None => 0,
        };
        self.log.push(Event {
            name,
            crud,
            object: Some(object),
            context: LogContext {
                id: context,
                level: CONTEXT_COURSE,
                instance: course,
            },
            course,
            related_user: None,
            other: other.to_owned(),
        });
        Ok(())
    }

    /// One operation other than a membership; returns the cohort whose instances must be
    /// synced, if any.
    async fn operate(
        &mut self,
        conn: &mut AnyConnection,
        op: &Operation,
    ) -> StoreResult<Option<i64>> {
        let now = self.context.now;
        match op {
            Operation::CreateCohort(v) => {
                let NewCohort {
                    idnumber,
                    name,
                    description,
                    category,
                    category_id,
                    component,
                    visible,
                    ..
                } = &**v;
                let contextid = self.cohort_context(conn, category, *category_id).await?;
                let component = if component == COHORTSYNC_COMPONENT {
                    self.context.managed.as_str()
                } else {
                    component.as_str()
                };
                let id = self
                    .insert_one(
                        conn,
                        "cohort",
                        &[
                            "contextid",
                            "name",
                            "idnumber",
                            "description",
                            "descriptionformat",
                            "visible",
                            "component",
                            "timecreated",
                            "timemodified",
                            "theme",
                        ],
                        vec![
                            contextid.into(),
                            name.as_str().into(),
                            idnumber.as_str().into(),
                            description.as_str().into(),
                            1.into(),
                            i64::from(*visible).into(),
                            component.into(),
                            now.into(),
                            now.into(),
                            "".into(),
                        ],
                    )
                    .await
                    .map_err(StoreError::taken("cohort idnumber", idnumber))?;
                self.applied.cohorts_created.push(id);
                self.know_cohort_contexts(conn, &[id]).await?;
                self.log_cohort(id, "cohort_created", "c", None);
                Ok(None)
            }
            Operation::UpdateCohort(v) => {
                let CohortUpdate {
                    cohort,
                    name,
                    idnumber,
                    description,
                } = &**v;
                let mut sets = Vec::new();
                let mut values = Vec::new();
                for (column, value) in [
                    ("name", name),
                    ("idnumber", idnumber),
                    ("description", description),
                ] {
                    if let Some(value) = value {
                        values.push(value.as_str());
                        sets.push(format!("{column} = {}", self.p(values.len())));
                    }
                }
                sets.push(format!("timemodified = {now}"));
                let sql = format!(
                    "UPDATE {} SET {} WHERE id = {cohort}",
                    self.table("cohort"),
                    sets.join(", ")
                );
                let mut query = sqlx::query(&sql);
                for value in values {
                    query = query.bind(value);
                }
                query.execute(&mut *conn).await.map_err(StoreError::taken(
                    "cohort idnumber",
                    idnumber.clone().unwrap_or_default(),
                ))?;
                self.know_cohort_contexts(conn, &[*cohort]).await?;
                self.log_cohort(*cohort, "cohort_updated", "u", None);
                Ok(None)
            }
            Operation::DeleteCohort { cohort } => {
                // Members go without member_removed events, then the cohort; its instances
                // are deleted (unenrol) or kept and disabled (suspend), FACTS.md §5.
                self.know_cohort_contexts(conn, &[*cohort]).await?;
                self.log_cohort(*cohort, "cohort_deleted", "d", None);
                let members = self.table("cohort_members");
                execute(
                    conn,
                    &format!("DELETE FROM {members} WHERE cohortid = {cohort}"),
                )
                .await?;
                let cohorts = self.table("cohort");
                execute(conn, &format!("DELETE FROM {cohorts} WHERE id = {cohort}")).await?;
                for instance in self
                    .instance_rows(conn, &format!("customint1 = {cohort}"))
                    .await?
                {
                    if self.context.unenrol == UnenrolAction::Unenrol {
                        self.deleting.insert(instance.id);
                    } else {
                        // update_status() logs even an instance that was disabled already
                        // (case 08: HIST201).
                        if instance.enabled {
                            self.set_status(conn, instance.id, BindingStatus::Disabled)
                                .await?;
                        }
                        let object = ("enrol", instance.id);
                        let course = instance.course;
                        self.log_instance(
                            conn,
                            "enrol_instance_updated",
                            "u",
                            object,
                            course,
                            events::ENROL_COHORT,
                        )
                        .await?;
                    }
                    self.dirty_contexts.insert(instance.context);
                }
                Ok(Some(*cohort))
            }
            Operation::CreateGroup(v) => {
                let NewGroup { course, name, .. } = &**v;
                let id = self
                    .insert_one(
                        conn,
                        "groups",
                        &[
                            "courseid",
                            "idnumber",
                            "name",
                            "descriptionformat",
                            "picture",
                            "visibility",
                            "participation",
                            "timecreated",
                            "timemodified",
                        ],
                        vec![
                            (*course).into(),
                            "".into(),
                            name.as_str().into(),
                            0.into(),
                            0.into(),
                            0.into(),
                            1.into(),
                            now.into(),
                            now.into(),
                        ],
                    )
                    .await?;
                self.applied.groups_created.push(id);
                self.log_instance(conn, "group_created", "c", ("groups", id), *course, "null")
                    .await?;
                Ok(None)
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
                let group = self.group_id(*group)?;
                let enrol = self.table("enrol");
                let sortorder: i64 = sqlx::query(&format!(
                    "SELECT COALESCE(MAX(sortorder), -1) + 1 FROM {enrol} WHERE courseid = {course}"
                ))
                .fetch_one(&mut *conn)
                .await
                .and_then(|r| int(&r, 0))?;
                let name = (!name.is_empty()).then(|| name.clone());
                let id = self
                    .insert_one(
                        conn,
                        "enrol",
                        &[
                            "enrol",
                            "status",
                            "courseid",
                            "sortorder",
                            "name",
                            "enrolperiod",
                            "enrolstartdate",
                            "enrolenddate",
                            "expirynotify",
                            "expirythreshold",
                            "notifyall",
                            "roleid",
                            "customint1",
                            "customint2",
                            "timecreated",
                            "timemodified",
                        ],
                        vec![
                            "cohort".into(),
                            status_value(*status).into(),
                            (*course).into(),
                            sortorder.into(),
                            Value::OptText(name),
                            0.into(),
                            enrolstart.unwrap_or(0).into(),
                            enrolend.unwrap_or(0).into(),
                            0.into(),
                            0.into(),
                            0.into(),
                            (*role).into(),
                            (*cohort).into(),
                            group.into(),
                            now.into(),
                            now.into(),
                        ],
                    )
                    .await?;
                self.applied.bindings_created.push(id);
                self.log_instance(
                    conn,
                    "enrol_instance_created",
                    "c",
                    ("enrol", id),
                    *course,
                    events::ENROL_COHORT,
                )
                .await?;
                self.synced.insert(id);
                Ok(None)
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
                let group = self.group_id(*group)?;
                let enrol = self.table("enrol");
                let row = sqlx::query(&format!(
                    "SELECT COALESCE(customint2, 0), COALESCE(name, ''), enrolstartdate, \
                     enrolenddate, {}, roleid FROM {enrol} WHERE id = {binding}",
                    self.db().int("status")
                ))
                .fetch_optional(&mut *conn)
                .await?
                .ok_or_else(|| StoreError::InvalidPlan(format!("binding {binding}")))?;
                let current = (
                    int(&row, 0)?,
                    text(&row, 1)?,
                    int(&row, 2)?,
                    int(&row, 3)?,
                    int(&row, 5)?,
                );
                // A new role: the sync after the operations takes the old role's
                // assignments and gives the new one (FACTS.md §7, case 21).
                let wanted = (
                    group,
                    name.clone(),
                    enrolstart.unwrap_or(0),
                    enrolend.unwrap_or(0),
                    role.unwrap_or(current.4),
                );
                let status_changed = int(&row, 4)? != status_value(*status);
                if current != wanted || status_changed {
                    let course = match self
                        .instance_rows(conn, &format!("id = {binding}"))
                        .await?
                        .first()
                    {
                        Some(instance) => instance.course,
                        None => 0,
                    };
                    let object = ("enrol", *binding);
                    self.log_instance(
                        conn,
                        "enrol_instance_updated",
                        "u",
                        object,
                        course,
                        events::ENROL_COHORT,
                    )
                    .await?;
                }
                // update_instance: the settings, with timemodified (FACTS.md §1, §7).
                if current != wanted {
                    let sql = format!(
                        "UPDATE {enrol} SET customint2 = {group}, name = {}, enrolstartdate = {}, \
                         enrolenddate = {}, roleid = {}, timemodified = {now} WHERE id = {binding}",
                        self.p(1),
                        wanted.2,
                        wanted.3,
                        wanted.4
                    );
                    sqlx::query(&sql)
                        .bind((!name.is_empty()).then(|| name.clone()))
                        .execute(&mut *conn)
                        .await?;
                }
                // update_status: the status alone, timemodified untouched.
                if int(&row, 4)? != status_value(*status) {
                    self.set_status(conn, *binding, *status).await?;
                    if let Some(instance) = self
                        .instance_rows(conn, &format!("id = {binding}"))
                        .await?
                        .first()
                    {
                        self.dirty_contexts.insert(instance.context);
                    }
                }
                self.synced.insert(*binding);
                Ok(None)
            }
            Operation::DeleteBinding { binding } => {
                if let Some(instance) = self
                    .instance_rows(conn, &format!("id = {binding}"))
                    .await?
                    .first()
                {
                    self.dirty_contexts.insert(instance.context);
                }
                self.deleting.insert(*binding);
                Ok(None)
            }
            Operation::AddMember { .. } | Operation::RemoveMember { .. } => Ok(None),
        }
    }

    /// `update_status`: only the status changes.
    async fn set_status(
        &self,
        conn: &mut AnyConnection,
        id: i64,
        status: BindingStatus,
    ) -> StoreResult<()> {
        let sql = format!(
            "UPDATE {} SET status = {} WHERE id = {id}",
            self.table("enrol"),
            status_value(status)
        );
        execute(conn, &sql).await
    }

    /// The context a new cohort lives in: the system's, or its category's (by id when the
    /// plan found it, else by idnumber, else by name, as the snapshot names it).
    async fn cohort_context(
        &self,
        conn: &mut AnyConnection,
        category: &str,
        category_id: Option<i64>,
    ) -> StoreResult<i64> {
        let context = self.table("context");
        let row = if let Some(id) = category_id {
            sqlx::query(&format!(
                "SELECT id FROM {context} WHERE contextlevel = {CONTEXT_COURSECAT} \
                 AND instanceid = {id}"
            ))
            .fetch_optional(&mut *conn)
            .await?
        } else if category.is_empty() {
            sqlx::query(&format!(
                "SELECT id FROM {context} WHERE contextlevel = {CONTEXT_SYSTEM}"
            ))
            .fetch_optional(&mut *conn)
            .await?
        } else {
            sqlx::query(&format!(
                "SELECT ctx.id FROM {context} ctx JOIN {} cat ON cat.id = ctx.instanceid \
                 WHERE ctx.contextlevel = {CONTEXT_COURSECAT} AND (cat.idnumber = {} OR \
                 (COALESCE(cat.idnumber, '') = '' AND cat.name = {})) ORDER BY cat.id",
                self.table("course_categories"),
                self.p(1),
                self.p(2)
            ))
            .bind(category)
            .bind(category)
            .fetch_optional(&mut *conn)
            .await?
        };
        match row {
            Some(row) => Ok(int(&row, 0)?),
            None => Err(StoreError::InvalidPlan(format!("category {category:?}"))),
        }
    }

    /// Inserts one row into Moodle's `table` and returns its id.
    async fn insert_one(
        &self,
        conn: &mut AnyConnection,
        table: &str,
        columns: &[&str],
        values: Vec<Value>,
    ) -> Result<i64, sqlx::Error> {
        let marks: Vec<String> = (1..=values.len()).map(|n| self.p(n)).collect();
        let mut sql = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            self.table(table),
            columns.join(", "),
            marks.join(", ")
        );
        if self.db() == MoodleDatabase::Postgres {
            sql.push_str(" RETURNING id");
        }
        let mut query = sqlx::query(&sql);
        for value in values {
            query = bulk::bind(query, value);
        }
        match self.db() {
            MoodleDatabase::Postgres => int(&query.fetch_one(&mut *conn).await?, 0),
            MoodleDatabase::MySql => {
                let done = query.execute(&mut *conn).await?;
                done.last_insert_id()
                    .ok_or_else(|| sqlx::Error::Protocol("no id for the inserted row".into()))
            }
        }
    }

    /// The cohort-sync instances matching `condition`, with their course context.
    async fn instance_rows(
        &self,
        conn: &mut AnyConnection,
        condition: &str,
    ) -> StoreResult<Vec<Instance>> {
        let sql = format!(
            "SELECT e.id, e.courseid, e.customint1, e.roleid, COALESCE(e.customint2, 0), {}, \
             ctx.id FROM {} e JOIN {} ctx ON ctx.contextlevel = {CONTEXT_COURSE} AND \
             ctx.instanceid = e.courseid WHERE e.enrol = 'cohort' AND e.{condition} ORDER BY e.id",
            self.db().int("e.status"),
            self.table("enrol"),
            self.table("context"),
        );
        let rows = sqlx::query(&sql).fetch_all(&mut *conn).await?;
        rows.iter()
            .map(|r| {
                Ok(Instance {
                    id: int(r, 0)?,
                    course: int(r, 1)?,
                    cohort: int(r, 2)?,
                    role: int(r, 3)?,
                    group: int(r, 4)?,
                    enabled: int(r, 5)? == 0,
                    context: int(r, 6)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// The ids of the instances of `cohorts`.
    async fn instances_of_cohorts(
        &self,
        conn: &mut AnyConnection,
        cohorts: &BTreeSet<i64>,
    ) -> StoreResult<BTreeSet<i64>> {
        let mut ids = BTreeSet::new();
        for chunk in cohorts
            .iter()
            .copied()
            .collect::<Vec<_>>()
            .chunks(IDS_PER_STATEMENT)
        {
            for instance in self
                .instance_rows(conn, &format!("customint1 IN ({})", list(chunk)))
                .await?
            {
                ids.insert(instance.id);
            }
        }
        Ok(ids)
    }

    /// Brings `ids` to what Moodle's sync converges to (module doc).
    async fn sync(&mut self, conn: &mut AnyConnection, ids: &BTreeSet<i64>) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let ids: Vec<i64> = ids.iter().copied().collect();
        let mut instances = Vec::new();
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            instances.extend(
                self.instance_rows(conn, &format!("id IN ({})", list(chunk)))
                    .await?,
            );
        }
        let state = self.read_state(conn, &instances).await?;
        self.phases.done("sync: read");
        let planned: Vec<_> = instances.iter().map(Instance::for_sync).collect();
        let changes = plan_sync(&planned, &state, &self.deleting, self.context.unenrol);
        self.phases.done("sync: plan");
        self.write_sync(conn, &instances, changes).await
    }

    /// The rows the sync of `instances` reads.
    async fn read_state(
        &self,
        conn: &mut AnyConnection,
        instances: &[Instance],
    ) -> StoreResult<SyncState> {
        let mut state = SyncState::default();
        let cohorts: BTreeSet<i64> = instances.iter().map(|i| i.cohort).collect();
        let ids: Vec<i64> = instances.iter().map(|i| i.id).collect();
        let targets: BTreeSet<i64> = instances
            .iter()
            .filter(|i| i.group > 0)
            .map(|i| i.group)
            .collect();
        let cohorts: Vec<i64> = cohorts.into_iter().collect();
        for chunk in cohorts.chunks(IDS_PER_STATEMENT) {
            // Deleted users are skipped by Moodle's sync.
            let sql = format!(
                "SELECT cm.cohortid, cm.userid FROM {} cm JOIN {} u ON u.id = cm.userid \
                 WHERE u.deleted = 0 AND cm.cohortid IN ({})",
                self.table("cohort_members"),
                self.table("user"),
                list(chunk)
            );
            for r in sqlx::query(&sql).fetch_all(&mut *conn).await? {
                state
                    .members
                    .entry(int(&r, 0)?)
                    .or_default()
                    .insert(int(&r, 1)?);
            }
        }
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let sql = format!(
                "SELECT id, enrolid, userid, {}, timestart, timeend, modifierid, timecreated, \
                 timemodified FROM {} WHERE enrolid IN ({}) ORDER BY id",
                self.db().int("status"),
                self.table("user_enrolments"),
                list(chunk)
            );
            for r in sqlx::query(&sql).fetch_all(&mut *conn).await? {
                state.enrolments.entry(int(&r, 1)?).or_default().insert(
                    int(&r, 2)?,
                    Enrolment {
                        active: int(&r, 3)? == 0,
                        row: Row {
                            id: int(&r, 0)?,
                            active: int(&r, 3)? == 0,
                            row: [
                                int(&r, 4)?,
                                int(&r, 5)?,
                                int(&r, 6)?,
                                int(&r, 7)?,
                                int(&r, 8)?,
                            ],
                        },
                    },
                );
            }
            for (table, column, into) in [
                ("role_assignments", "roleid", &mut state.roles),
                ("groups_members", "groupid", &mut state.synced_memberships),
            ] {
                let sql = format!(
                    "SELECT id, itemid, userid, {column} FROM {} \
                     WHERE component = 'enrol_cohort' AND itemid IN ({}) ORDER BY id",
                    self.table(table),
                    list(chunk)
                );
                for r in sqlx::query(&sql).fetch_all(&mut *conn).await? {
                    into.entry(int(&r, 1)?).or_default().push(Synced {
                        row: int(&r, 0)?,
                        user: int(&r, 2)?,
                        of: int(&r, 3)?,
                    });
                }
            }
        }
        let targets: Vec<i64> = targets.into_iter().collect();
        for chunk in targets.chunks(IDS_PER_STATEMENT) {
            let sql = format!(
                "SELECT id, courseid FROM {} WHERE id IN ({})",
                self.table("groups"),
                list(chunk)
            );
            for r in sqlx::query(&sql).fetch_all(&mut *conn).await? {
                state.group_course.insert(int(&r, 0)?, int(&r, 1)?);
            }
            let sql = format!(
                "SELECT groupid, userid FROM {} WHERE groupid IN ({})",
                self.table("groups_members"),
                list(chunk)
            );
            for r in sqlx::query(&sql).fetch_all(&mut *conn).await? {
                state.in_group.insert((int(&r, 0)?, int(&r, 1)?));
            }
        }
        Ok(state)
    }

    /// Writes what [`plan_sync`] found, in Moodle's order (group memberships, roles, then
    /// enrolments go; enrolments, roles, then memberships come), then the last-enrolment
    /// cleanup of every user who lost an enrolment; and logs each change as Moodle does.
    async fn write_sync(
        &mut self,
        conn: &mut AnyConnection,
        instances: &[Instance],
        changes: SyncChanges,
    ) -> StoreResult<()> {
        let now = self.context.now;
        let actor = self.context.actor;
        let members = self.table("groups_members");
        let roles = self.table("role_assignments");
        let enrolments = self.table("user_enrolments");
        let of: HashMap<i64, &Instance> = instances.iter().map(|i| (i.id, i)).collect();
        let at = |instance: i64| {
            of.get(&instance).map_or(
                (
                    LogContext {
                        id: 0,
                        level: CONTEXT_COURSE,
                        instance: 0,
                    },
                    0,
                ),
                |i| (course_context(i), i.course),
            )
        };
        let removed: Vec<i64> = changes.memberships_removed.iter().map(|m| m.0).collect();
        delete_in(conn, &members, "id", &removed).await?;
        for &(_, group, user, instance) in &changes.memberships_removed {
            self.touched_groups.insert(group);
            let (context, course) = at(instance);
            self.log.push(Event::about(
                user,
                "group_member_removed",
                "d",
                ("groups", group),
                (context, course),
                "null".to_owned(),
            ));
        }
        let removed: Vec<i64> = changes.roles_removed.iter().map(|r| r.0).collect();
        delete_in(conn, &roles, "id", &removed).await?;
        for &(id, user, role, instance) in &changes.roles_removed {
            self.dirty_users.insert(user);
            let (context, course) = at(instance);
            self.log.push(Event::about(
                user,
                "role_unassigned",
                "d",
                ("role", role),
                (context, course),
                events::role_unassigned(id, "enrol_cohort", instance),
            ));
        }
        let removed: Vec<i64> = changes.unenrolled.iter().map(|u| u.0.id).collect();
        delete_in(conn, &enrolments, "id", &removed).await?;
        self.dirty_users
            .extend(changes.unenrolled.iter().map(|u| u.1));
        self.phases.done("sync: removals");
        let set =
            |status: i64| format!("status = {status}, modifierid = {actor}, timemodified = {now}");
        let ids = |v: &[(Row, i64, i64)]| v.iter().map(|r| r.0.id).collect::<Vec<_>>();
        update_in(conn, &enrolments, &set(1), &ids(&changes.suspended)).await?;
        update_in(conn, &enrolments, &set(0), &ids(&changes.reactivated)).await?;
        for &(Row { id, .. }, user, instance) in
            changes.suspended.iter().chain(&changes.reactivated)
        {
            self.dirty_users.insert(user);
            let (context, course) = at(instance);
            self.log.push(Event::about(
                user,
                "user_enrolment_updated",
                "u",
                ("user_enrolments", id),
                (context, course),
                events::ENROL_COHORT.to_owned(),
            ));
        }
        let rows: Vec<Vec<Value>> = changes
            .enrolled
            .iter()
            .map(|&(enrol, user)| {
                vec![
                    0.into(),
                    enrol.into(),
                    user.into(),
                    0.into(),
                    0.into(),
                    actor.into(),
                    now.into(),
                    now.into(),
                ]
            })
            .collect();
        bulk::insert(
            conn,
            &enrolments,
            &[
                "status",
                "enrolid",
                "userid",
                "timestart",
                "timeend",
                "modifierid",
                "timecreated",
                "timemodified",
            ],
            &rows,
            "",
        )
        .await
        .map_err(|e| taken(e, "user enrolment", ""))?;
        self.phases.done("sync: enrolments");
        if !changes.enrolled.is_empty() {
            let new: HashSet<(i64, i64)> = changes.enrolled.iter().copied().collect();
            let ids: Vec<i64> = of.keys().copied().collect();
            let mut created = Vec::new();
            for chunk in ids.chunks(IDS_PER_STATEMENT) {
                let sql = format!(
                    "SELECT id, enrolid, userid FROM {enrolments} WHERE enrolid IN ({}) \
                     AND timecreated = {now} ORDER BY id",
                    list(chunk)
                );
                for r in sqlx::query(&sql).fetch_all(&mut *conn).await? {
                    let (id, enrol, user) = (int(&r, 0)?, int(&r, 1)?, int(&r, 2)?);
                    if new.contains(&(enrol, user)) {
                        created.push((id, enrol, user));
                    }
                }
            }
            for (id, instance, user) in created {
                let (context, course) = at(instance);
                self.log.push(Event::about(
                    user,
                    "user_enrolment_created",
                    "c",
                    ("user_enrolments", id),
                    (context, course),
                    events::ENROL_COHORT.to_owned(),
                ));
            }
        }
        self.phases.done("sync: enrolments' ids");
        // Last-enrolment cleanup: a user with no enrolment left in a course loses every role
        // and group membership in it, manual ones included (FACTS.md §4).
        let mut lost: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
        for &(_, user, instance) in &changes.unenrolled {
            if of.contains_key(&instance) {
                lost.entry(instance).or_default().insert(user);
            }
        }
        let mut by_course: BTreeMap<i64, (LogContext, BTreeSet<i64>)> = BTreeMap::new();
        for (instance, users) in lost {
            let i = of[&instance];
            by_course
                .entry(i.course)
                .or_insert_with(|| (course_context(i), BTreeSet::new()))
                .1
                .extend(users);
        }
        let mut last: HashSet<(i64, i64)> = HashSet::new();
        for (course, (context, users)) in by_course {
            let users: Vec<i64> = users.into_iter().collect();
            let mut left: BTreeSet<i64> = users.iter().copied().collect();
            for chunk in users.chunks(IDS_PER_STATEMENT) {
                let sql = format!(
                    "SELECT DISTINCT ue.userid FROM {enrolments} ue JOIN {} e ON e.id = ue.enrolid \
                     WHERE e.courseid = {course} AND ue.userid IN ({})",
                    self.table("enrol"),
                    list(chunk)
                );
                for r in sqlx::query(&sql).fetch_all(&mut *conn).await? {
                    left.remove(&int(&r, 0)?);
                }
            }
            let gone: Vec<i64> = left.into_iter().collect();
            last.extend(gone.iter().map(|&u| (course, u)));
            for chunk in gone.chunks(IDS_PER_STATEMENT) {
                let sql = format!(
                    "SELECT id, groupid, userid FROM {members} WHERE userid IN ({}) AND groupid IN \
                     (SELECT id FROM {} WHERE courseid = {course}) ORDER BY id",
                    list(chunk),
                    self.table("groups")
                );
                let mut found = Vec::new();
                for r in sqlx::query(&sql).fetch_all(&mut *conn).await? {
                    let (id, group, user) = (int(&r, 0)?, int(&r, 1)?, int(&r, 2)?);
                    found.push(id);
                    self.touched_groups.insert(group);
                    self.log.push(Event::about(
                        user,
                        "group_member_removed",
                        "d",
                        ("groups", group),
                        (context, course),
                        "null".to_owned(),
                    ));
                }
                delete_in(conn, &members, "id", &found).await?;
                let sql = format!(
                    "SELECT id, userid, roleid, component, itemid FROM {roles} \
                     WHERE contextid = {} AND userid IN ({}) ORDER BY id",
                    context.id,
                    list(chunk)
                );
                let mut found = Vec::new();
                for r in sqlx::query(&sql).fetch_all(&mut *conn).await? {
                    let (id, user, role) = (int(&r, 0)?, int(&r, 1)?, int(&r, 2)?);
                    found.push(id);
                    self.dirty_users.insert(user);
                    self.log.push(Event::about(
                        user,
                        "role_unassigned",
                        "d",
                        ("role", role),
                        (context, course),
                        events::role_unassigned(id, &text(&r, 3)?, int(&r, 4)?),
                    ));
                }
                delete_in(conn, &roles, "id", &found).await?;
            }
        }
        for (row, user, instance) in &changes.unenrolled {
            let (context, course) = at(*instance);
            let [timestart, timeend, modifier, created, modified] = row.row;
            let other = serde_json::json!({
                "userenrolment": {
                    "id": row.id.to_string(),
                    "status": if row.active { "0" } else { "1" },
                    "enrolid": instance.to_string(),
                    "userid": user.to_string(),
                    "timestart": timestart.to_string(),
                    "timeend": timeend.to_string(),
                    "modifierid": modifier.to_string(),
                    "timecreated": created.to_string(),
                    "timemodified": modified.to_string(),
                    "courseid": course.to_string(),
                    "enrol": "cohort",
                    "lastenrol": last.contains(&(course, *user)),
                },
                "enrol": "cohort",
            });
            self.log.push(Event::about(
                *user,
                "user_enrolment_deleted",
                "d",
                ("user_enrolments", row.id),
                (context, course),
                other.to_string(),
            ));
        }
        self.phases.done("sync: last-enrolment cleanup");
        let rows: Vec<Vec<Value>> = changes
            .roles_assigned
            .iter()
            .map(|&(item, user, role)| {
                vec![
                    role.into(),
                    of.get(&item).map_or(0, |i| i.context).into(),
                    user.into(),
                    now.into(),
                    actor.into(),
                    "enrol_cohort".into(),
                    item.into(),
                    0.into(),
                ]
            })
            .collect();
        bulk::insert(
            conn,
            &roles,
            &[
                "roleid",
                "contextid",
                "userid",
                "timemodified",
                "modifierid",
                "component",
                "itemid",
                "sortorder",
            ],
            &rows,
            "",
        )
        .await?;
        self.phases.done("sync: roles");
        if !changes.roles_assigned.is_empty() {
            let new: HashSet<(i64, i64, i64)> = changes.roles_assigned.iter().copied().collect();
            let ids: Vec<i64> = of.keys().copied().collect();
            for chunk in ids.chunks(IDS_PER_STATEMENT) {
                let sql = format!(
                    "SELECT id, itemid, userid, roleid FROM {roles} WHERE component = 'enrol_cohort' \
                     AND itemid IN ({}) AND timemodified = {now} ORDER BY id",
                    list(chunk)
                );
                for r in sqlx::query(&sql).fetch_all(&mut *conn).await? {
                    let (id, item, user, role) =
                        (int(&r, 0)?, int(&r, 1)?, int(&r, 2)?, int(&r, 3)?);
                    if new.contains(&(item, user, role)) {
                        self.dirty_users.insert(user);
                        let (context, course) = at(item);
                        self.log.push(Event::about(
                            user,
                            "role_assigned",
                            "c",
                            ("role", role),
                            (context, course),
                            events::role_assigned(id, "enrol_cohort", item),
                        ));
                    }
                }
            }
        }
        self.phases.done("sync: roles' ids");
        let rows: Vec<Vec<Value>> = changes
            .memberships_added
            .iter()
            .map(|&(group, user, item)| {
                vec![
                    group.into(),
                    user.into(),
                    now.into(),
                    "enrol_cohort".into(),
                    item.into(),
                ]
            })
            .collect();
        bulk::insert(
            conn,
            &members,
            &["groupid", "userid", "timeadded", "component", "itemid"],
            &rows,
            "",
        )
        .await
        .map_err(|e| taken(e, "group member", ""))?;
        self.phases.done("sync: group members");
        for &(group, user, item) in &changes.memberships_added {
            self.touched_groups.insert(group);
            let (context, course) = at(item);
            self.log.push(Event::about(
                user,
                "group_member_added",
                "c",
                ("groups", group),
                (context, course),
                events::group_member_added(item),
            ));
        }
        Ok(())
    }

    /// Deletes the instances being deleted, and stamps what Moodle stamps after a change:
    /// the groups that gained or lost members, and the dirty flags.
    async fn finish(&mut self, conn: &mut AnyConnection) -> StoreResult<()> {
        let now = self.context.now;
        let deleting: Vec<i64> = self.deleting.iter().copied().collect();
        for chunk in deleting.chunks(IDS_PER_STATEMENT) {
            let gone = self
                .instance_rows(conn, &format!("id IN ({})", list(chunk)))
                .await?;
            for instance in gone {
                self.log.push(Event {
                    name: "enrol_instance_deleted",
                    crud: "d",
                    object: Some(("enrol", instance.id)),
                    context: course_context(&instance),
                    course: instance.course,
                    related_user: None,
                    other: events::ENROL_COHORT.to_owned(),
                });
            }
        }
        delete_in(conn, &self.table("enrol"), "id", &deleting).await?;
        let groups: Vec<i64> = self.touched_groups.iter().copied().collect();
        update_in(
            conn,
            &self.table("groups"),
            &format!("timemodified = {now}"),
            &groups,
        )
        .await?;
        self.phases.done("deleted instances and groups");
        let timeout = self
            .moodle
            .config(conn, "sessiontimeout")
            .await?
            .and_then(|value| value.parse().ok())
            .unwrap_or(DEFAULT_SESSION_TIMEOUT);
        let users: Vec<String> = self.dirty_users.iter().map(|u| u.to_string()).collect();
        self.flag(conn, "accesslib/dirtyusers", &users, timeout)
            .await?;
        let contexts: Vec<i64> = self.dirty_contexts.iter().copied().collect();
        let mut paths = Vec::new();
        for chunk in contexts.chunks(IDS_PER_STATEMENT) {
            let sql = format!(
                "SELECT path FROM {} WHERE id IN ({})",
                self.table("context"),
                list(chunk)
            );
            for r in sqlx::query(&sql).fetch_all(&mut *conn).await? {
                paths.push(text(&r, 0)?);
            }
        }
        self.flag(conn, "accesslib/dirtycontexts", &paths, timeout)
            .await?;
        self.phases.done("cache flags");
        let log = std::mem::take(&mut self.log);
        if self.moodle.logs_to_standard_store(conn).await? {
            let table = self.table("logstore_standard_log");
            log.write(conn, &table, self.context.actor, now).await?;
            self.phases.done("log");
        }
        Ok(())
    }

    /// Moodle's `set_cache_flag(flagtype, name, 1, expiry)`: an upsert on (flagtype, name).
    async fn flag(
        &self,
        conn: &mut AnyConnection,
        flagtype: &str,
        names: &[String],
        timeout: i64,
    ) -> StoreResult<()> {
        let now = self.context.now;
        let table = self.table("cache_flags");
        let mut existing: HashSet<String> = HashSet::new();
        for chunk in names.chunks(IDS_PER_STATEMENT) {
            let marks: Vec<String> = (2..chunk.len() + 2).map(|n| self.p(n)).collect();
            let sql = format!(
                "SELECT name FROM {table} WHERE flagtype = {} AND name IN ({})",
                self.p(1),
                marks.join(", ")
            );
            let mut query = sqlx::query(&sql).bind(flagtype);
            for name in chunk {
                query = query.bind(name.as_str());
            }
            for r in query.fetch_all(&mut *conn).await? {
                existing.insert(text(&r, 0)?);
            }
            let sql = format!(
                "UPDATE {table} SET value = '1', timemodified = {now}, expiry = {} \
                 WHERE flagtype = {} AND name IN ({})",
                now + timeout,
                self.p(1),
                marks.join(", ")
            );
            let mut query = sqlx::query(&sql).bind(flagtype);
            for name in chunk {
                query = query.bind(name.as_str());
            }
            query.execute(&mut *conn).await?;
        }
        let rows: Vec<Vec<Value>> = names
            .iter()
            .filter(|n| !existing.contains(*n))
            .map(|n| {
                vec![
                    flagtype.into(),
                    n.as_str().into(),
                    now.into(),
                    "1".into(),
                    (now + timeout).into(),
                ]
            })
            .collect();
        bulk::insert(
            conn,
            &table,
            &["flagtype", "name", "timemodified", "value", "expiry"],
            &rows,
            "",
        )
        .await?;
        Ok(())
    }
}

/// The log context of an instance's course.
fn course_context(instance: &Instance) -> LogContext {
    LogContext {
        id: instance.context,
        level: CONTEXT_COURSE,
        instance: instance.course,
    }
}

/// Moodle's `enrol.status`.
fn status_value(status: BindingStatus) -> i64 {
    match status {
        BindingStatus::Active => 0,
        BindingStatus::Disabled => 1,
    }
}

/// Comma-separated ids, for an `IN (…)` list (integers only: nothing to quote).
fn list(ids: &[i64]) -> String {
    let mut out = String::with_capacity(ids.len() * 7);
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&id.to_string());
    }
    out
}

async fn execute(conn: &mut AnyConnection, sql: &str) -> StoreResult<()> {
    sqlx::query(sql).execute(&mut *conn).await?;
    Ok(())
}

/// `DELETE FROM table WHERE column IN (ids)`, in chunks.
async fn delete_in(
    conn: &mut AnyConnection,
    table: &str,
    column: &str,
    ids: &[i64],
) -> StoreResult<()> {
    for chunk in ids.chunks(IDS_PER_STATEMENT) {
        execute(
            conn,
            &format!("DELETE FROM {table} WHERE {column} IN ({})", list(chunk)),
        )
        .await?;
    }
    Ok(())
}

/// `UPDATE table SET assignments WHERE id IN (ids)`, in chunks.
async fn update_in(
    conn: &mut AnyConnection,
    table: &str,
    assignments: &str,
    ids: &[i64],
) -> StoreResult<()> {
    for chunk in ids.chunks(IDS_PER_STATEMENT) {
        execute(
            conn,
            &format!(
                "UPDATE {table} SET {assignments} WHERE id IN ({})",
                list(chunk)
            ),
        )
        .await?;
    }
    Ok(())
}

/// A unique-key violation as [`StoreError::Taken`]: a concurrent write in Moodle got
/// there first.
fn taken(error: StoreError, what: &'static str, value: &str) -> StoreError {
    match error {
        StoreError::Database(e) => StoreError::taken(what, value)(e),
        other => other,
    }
}
