//! The snapshot of a Moodle site, read from its tables: what the rules check a file
//! against when the site is a Moodle.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use cohortsync_shared::options::{Options, UnenrolAction};
use cohortsync_shared::snapshot::{
    Binding, BindingState, BindingStatus, COHORTSYNC_COMPONENT, Category, Cohort, Course,
    CourseState, EnrolmentState, Group, Role, Snapshot, User,
};
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{Moodle, MoodleDatabase};

/// Moodle's context level of a course category.
const CONTEXT_COURSECAT: i64 = 40;
/// Moodle's context level of a course.
const CONTEXT_COURSE: i64 = 50;

impl Moodle {
    /// The site as the rules see it (the admin's variant: names and emails in clear):
    /// - users: not deleted, of this site, not the guest;
    /// - cohorts with their members, the category their context names (its idnumber, else
    ///   its name; empty for the system context), and their owner: `component` is the one
    ///   cohortsync writes (`managed`, e.g. `local_cohortsync`) for cohorts managed by files,
    ///   empty for hand-made ones, anything else for another system's;
    /// - courses but the front page, roles, groups;
    /// - cohort-sync instances (`enrol = 'cohort'`);
    /// - the unenrol action from Moodle's own `enrol_cohort` setting.
    ///
    /// The revision is a fingerprint of the content: any change made in Moodle changes it.
    pub async fn load_snapshot(&self, managed: &str) -> Result<Snapshot, sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        self.load_snapshot_on(&mut conn, managed).await
    }

    /// [`Moodle::load_snapshot`] on `conn`: inside an apply's transaction, the state it
    /// re-plans against.
    pub async fn load_snapshot_on(
        &self,
        conn: &mut AnyConnection,
        managed: &str,
    ) -> Result<Snapshot, sqlx::Error> {
        let db = self.database;
        let (local, guest) = self.local_host_and_guest(conn).await?;
        let users = self
            .rows(
                conn,
                &format!(
                    "SELECT id, username, COALESCE(idnumber, ''), email, firstname, lastname, \
                     {} FROM {} WHERE deleted = 0 AND mnethostid = {} AND id <> {} ORDER BY id",
                    db.int("suspended"),
                    self.table("user"),
                    db.placeholder(1),
                    db.placeholder(2),
                ),
                &[local, guest],
                |r| {
                    Ok(User {
                        id: r.try_get(0)?,
                        username: text(r, 1)?,
                        idnumber: text(r, 2)?,
                        email: text(r, 3)?,
                        firstname: text(r, 4)?,
                        lastname: text(r, 5)?,
                        suspended: int(r, 6)? != 0,
                        hashes: None,
                    })
                },
            )
            .await?;
        let mut cohorts = self
            .rows(
                conn,
                &format!(
                    "SELECT c.id, COALESCE(c.idnumber, ''), c.name, COALESCE(c.description, ''), \
                     {}, c.component, COALESCE(cat.idnumber, ''), COALESCE(cat.name, '') \
                     FROM {} c JOIN {} ctx ON ctx.id = c.contextid \
                     LEFT JOIN {} cat ON ctx.contextlevel = {CONTEXT_COURSECAT} \
                       AND cat.id = ctx.instanceid \
                     ORDER BY c.id",
                    db.int("c.visible"),
                    self.table("cohort"),
                    self.table("context"),
                    self.table("course_categories"),
                ),
                &[],
                |r| {
                    let component = text(r, 5)?;
                    let (category_idnumber, category_name): (String, String) =
                        (text(r, 6)?, text(r, 7)?);
                    Ok(Cohort {
                        id: r.try_get(0)?,
                        idnumber: text(r, 1)?,
                        name: text(r, 2)?,
                        description: text(r, 3)?,
                        visible: int(r, 4)? != 0,
                        category: if category_idnumber.is_empty() {
                            category_name
                        } else {
                            category_idnumber
                        },
                        component: if component == managed {
                            COHORTSYNC_COMPONENT.to_owned()
                        } else {
                            component
                        },
                        members: Vec::new(),
                    })
                },
            )
            .await?;
        let position: HashMap<i64, usize> =
            cohorts.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
        let members = self
            .rows(
                conn,
                &format!(
                    "SELECT cohortid, userid FROM {} ORDER BY cohortid, userid",
                    self.table("cohort_members")
                ),
                &[],
                |r| Ok((r.try_get::<i64, _>(0)?, r.try_get::<i64, _>(1)?)),
            )
            .await?;
        for (cohort, user) in members {
            if let Some(&i) = position.get(&cohort) {
                cohorts[i].members.push(user);
            }
        }
        let courses = self
            .rows(
                conn,
                &format!(
                    "SELECT id, shortname, COALESCE(idnumber, ''), fullname FROM {} \
                     WHERE category <> 0 ORDER BY id",
                    self.table("course"),
                ),
                &[],
                |r| {
                    Ok(Course {
                        id: r.try_get(0)?,
                        shortname: text(r, 1)?,
                        idnumber: text(r, 2)?,
                        fullname: text(r, 3)?,
                    })
                },
            )
            .await?;
        let categories = self
            .rows(
                conn,
                &format!(
                    "SELECT cat.id, cat.name, COALESCE(cat.idnumber, ''), {}, \
                     COALESCE(ctx.id, 0) FROM {} cat LEFT JOIN {} ctx \
                     ON ctx.contextlevel = {CONTEXT_COURSECAT} AND ctx.instanceid = cat.id \
                     ORDER BY cat.id",
                    db.int("cat.parent"),
                    self.table("course_categories"),
                    self.table("context"),
                ),
                &[],
                |r| {
                    Ok(Category {
                        id: r.try_get(0)?,
                        name: text(r, 1)?,
                        idnumber: text(r, 2)?,
                        parent: int(r, 3)?,
                        context: int(r, 4)?,
                    })
                },
            )
            .await?;
        let roles = self
            .rows(
                conn,
                &format!(
                    "SELECT id, shortname FROM {} ORDER BY id",
                    self.table("role")
                ),
                &[],
                |r| {
                    Ok(Role {
                        id: r.try_get(0)?,
                        shortname: text(r, 1)?,
                    })
                },
            )
            .await?;
        let groups = self
            .rows(
                conn,
                &format!(
                    "SELECT id, courseid, name, COALESCE(idnumber, '') FROM {} ORDER BY id",
                    self.table("groups")
                ),
                &[],
                |r| {
                    Ok(Group {
                        id: r.try_get(0)?,
                        course: r.try_get(1)?,
                        name: text(r, 2)?,
                        idnumber: text(r, 3)?,
                    })
                },
            )
            .await?;
        let bindings = self
            .rows(
                conn,
                &format!(
                    "SELECT id, courseid, customint1, roleid, COALESCE(customint2, 0), \
                     COALESCE(name, ''), {}, enrolstartdate, enrolenddate FROM {} \
                     WHERE enrol = 'cohort' ORDER BY id",
                    db.int("status"),
                    self.table("enrol")
                ),
                &[],
                binding_of,
            )
            .await?;
        // Moodle's setting (0 unenrol, 2 suspend, 3 suspend and remove roles; 0 when unset).
        let unenrol_action = self.unenrol_action(conn).await?;
        let mut snapshot = Snapshot {
            revision: 0,
            user_hash_key: None,
            users,
            cohorts,
            courses,
            categories,
            roles,
            groups,
            bindings,
            defaults: Options {
                unenrol_action,
                ..Options::default()
            },
            enrolments: None,
        };
        snapshot.revision = fingerprint(&snapshot);
        Ok(snapshot)
    }

    /// What the cohort-sync instances (`bindings`: the snapshot's) and the other enrolment
    /// methods hold in `courses`: each instance's `user_enrolments` rows, those of its rows
    /// that lack its `enrol_cohort` role or group membership, and every other enrolment,
    /// course role and group membership there (what the last-enrolment cleanup takes). Read
    /// for the courses a plan touches, not the whole site.
    pub async fn enrolment_state_on(
        &self,
        conn: &mut AnyConnection,
        bindings: &[Binding],
        courses: &BTreeSet<i64>,
    ) -> Result<EnrolmentState, sqlx::Error> {
        let (enrol, ue) = (self.table("enrol"), self.table("user_enrolments"));
        let mut held: BTreeMap<i64, BindingState> = bindings
            .iter()
            .filter(|b| courses.contains(&b.course))
            .map(|b| {
                let state = BindingState {
                    binding: b.id,
                    ..BindingState::default()
                };
                (b.id, state)
            })
            .collect();
        let mut found: BTreeMap<i64, CourseState> = BTreeMap::new();
        fn course(courses: &mut BTreeMap<i64, CourseState>, id: i64) -> &mut CourseState {
            courses.entry(id).or_insert_with(|| CourseState {
                course: id,
                ..CourseState::default()
            })
        }
        let ids: Vec<i64> = courses.iter().copied().collect();
        for chunk in ids.chunks(crate::store::bulk::IDS_PER_LIST) {
            let list = chunk
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT ue.enrolid, ue.userid, {} FROM {ue} ue JOIN {enrol} e \
                 ON e.id = ue.enrolid WHERE e.enrol = 'cohort' AND e.courseid IN ({list})",
                self.database.int("ue.status")
            );
            for (binding, user, status) in self.triples(conn, &sql).await? {
                if let Some(state) = held.get_mut(&binding) {
                    if status == 0 {
                        state.active.push(user);
                    } else {
                        state.suspended.push(user);
                    }
                }
            }
            // What is missing, not what is there: on a synced site every row holds the role
            // and the group, and listing those would read every assignment again. The
            // anti-join is written for each database's planner: PostgreSQL runs the LEFT JOIN
            // form as a hash anti-join; MariaDB chose a per-user index for it and took minutes
            // on the bench site right after its bulk load, where it materialises the NOT IN
            // subquery in under a second.
            // (table, extra condition, the row's key, the same columns in `table`, the join)
            let missing = |table: &str, key: &str, row: &str, columns: &str, join: &str| match self
                .database
            {
                MoodleDatabase::Postgres => format!(
                    "SELECT ue.enrolid, ue.userid, 0 FROM {ue} ue JOIN {enrol} e \
                     ON e.id = ue.enrolid LEFT JOIN {table} x ON x.component = 'enrol_cohort' \
                     AND {join} WHERE e.enrol = 'cohort' AND e.courseid IN ({list}) AND {key} \
                     AND x.id IS NULL"
                ),
                MoodleDatabase::MySql => format!(
                    "SELECT ue.enrolid, ue.userid, 0 FROM {ue} ue JOIN {enrol} e \
                     ON e.id = ue.enrolid WHERE e.enrol = 'cohort' AND e.courseid IN ({list}) \
                     AND {key} AND ({row}) NOT IN (SELECT {columns} FROM {table} \
                     WHERE component = 'enrol_cohort')"
                ),
            };
            let sql = missing(
                &self.table("role_assignments"),
                "1 = 1",
                "e.id, ue.userid, e.roleid",
                "itemid, userid, roleid",
                "x.itemid = e.id AND x.userid = ue.userid AND x.roleid = e.roleid",
            );
            for (binding, user, _) in self.triples(conn, &sql).await? {
                if let Some(state) = held.get_mut(&binding) {
                    state.without_role.push(user);
                }
            }
            let sql = missing(
                &self.table("groups_members"),
                "e.customint2 > 0",
                "e.id, ue.userid, e.customint2",
                "itemid, userid, groupid",
                "x.itemid = e.id AND x.userid = ue.userid AND x.groupid = e.customint2",
            );
            for (binding, user, _) in self.triples(conn, &sql).await? {
                if let Some(state) = held.get_mut(&binding) {
                    state.ungrouped.push(user);
                }
            }
            let sql = format!(
                "SELECT DISTINCT e.courseid, ue.userid, 0 FROM {ue} ue JOIN {enrol} e \
                 ON e.id = ue.enrolid WHERE e.enrol <> 'cohort' AND e.courseid IN ({list})"
            );
            for (id, user, _) in self.triples(conn, &sql).await? {
                course(&mut found, id).enrolled_otherwise.push(user);
            }
            let sql = format!(
                "SELECT ctx.instanceid, ra.userid, ra.roleid FROM {} ra JOIN {} ctx \
                 ON ctx.id = ra.contextid AND ctx.contextlevel = {CONTEXT_COURSE} \
                 WHERE ra.component <> 'enrol_cohort' AND ctx.instanceid IN ({list})",
                self.table("role_assignments"),
                self.table("context"),
            );
            for (id, user, role) in self.triples(conn, &sql).await? {
                course(&mut found, id).other_roles.push((user, role));
            }
            let sql = format!(
                "SELECT g.courseid, gm.groupid, gm.userid FROM {} gm JOIN {} g \
                 ON g.id = gm.groupid WHERE gm.component <> 'enrol_cohort' \
                 AND g.courseid IN ({list})",
                self.table("groups_members"),
                self.table("groups"),
            );
            for (id, group, user) in self.triples(conn, &sql).await? {
                course(&mut found, id).manual_groups.push((group, user));
            }
        }
        for state in held.values_mut() {
            state.active.sort_unstable();
            state.suspended.sort_unstable();
            state.without_role.sort_unstable();
            state.ungrouped.sort_unstable();
        }
        for c in found.values_mut() {
            c.enrolled_otherwise.sort_unstable();
            c.enrolled_otherwise.dedup();
            c.other_roles.sort_unstable();
            c.manual_groups.sort_unstable();
        }
        Ok(EnrolmentState {
            bindings: held
                .into_values()
                .filter(|b| !b.active.is_empty() || !b.suspended.is_empty())
                .collect(),
            courses: found.into_values().collect(),
        })
    }

    /// Every row of `sql` (its values written in it, no parameters), as three integers. It
    /// is sent as plain text, not prepared: MariaDB runs a prepared anti-join over a long
    /// `IN (…)` list for minutes (the same text, not prepared, takes under a second on the
    /// bench site).
    async fn triples(
        &self,
        conn: &mut AnyConnection,
        sql: &str,
    ) -> Result<Vec<(i64, i64, i64)>, sqlx::Error> {
        // A `&str` query carries no arguments: sqlx sends it as text (no prepare).
        let rows = sqlx::Executor::fetch_all(&mut *conn, sql).await?;
        rows.iter()
            .map(|r| Ok((int(r, 0)?, int(r, 1)?, int(r, 2)?)))
            .collect()
    }

    /// Moodle's `enrol_cohort | unenrolaction` (0 unenrol, 2 suspend, 3 suspend and remove
    /// roles; 0 when unset).
    pub(super) async fn unenrol_action(
        &self,
        conn: &mut AnyConnection,
    ) -> Result<UnenrolAction, sqlx::Error> {
        Ok(
            match self
                .plugin_config(conn, "enrol_cohort", "unenrolaction")
                .await?
                .as_deref()
            {
                Some("2") => UnenrolAction::Suspend,
                Some("3") => UnenrolAction::SuspendAndRemoveRoles,
                _ => UnenrolAction::Unenrol,
            },
        )
    }

    /// Every row of `sql` (with `values` bound in order), each made by `row`.
    async fn rows<T>(
        &self,
        conn: &mut AnyConnection,
        sql: &str,
        values: &[i64],
        row: impl Fn(&AnyRow) -> Result<T, sqlx::Error>,
    ) -> Result<Vec<T>, sqlx::Error> {
        let mut query = sqlx::query(sql);
        for value in values {
            query = query.bind(*value);
        }
        let rows = query.fetch_all(&mut *conn).await?;
        rows.iter().map(row).collect()
    }
}

fn binding_of(r: &AnyRow) -> Result<Binding, sqlx::Error> {
    let group = int(r, 4)?;
    let date = |i: usize| -> Result<Option<i64>, sqlx::Error> {
        let time = int(r, i)?;
        Ok((time != 0).then_some(time))
    };
    Ok(Binding {
        id: r.try_get(0)?,
        course: r.try_get(1)?,
        cohort: r.try_get(2)?,
        role: r.try_get(3)?,
        group: (group > 0).then_some(group),
        name: text(r, 5)?,
        status: if int(r, 6)? == 0 {
            BindingStatus::Active
        } else {
            BindingStatus::Disabled
        },
        enrolstart: date(7)?,
        enrolend: date(8)?,
    })
}

/// A revision that changes whenever the content does: the first 8 bytes of the SHA-256 of
/// the snapshot's JSON, kept below 2^53 so that JavaScript reads it exactly.
fn fingerprint(snapshot: &Snapshot) -> u64 {
    let json = serde_json::to_vec(snapshot).unwrap_or_default();
    let digest = Sha256::digest(&json);
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(bytes) >> 11
}

/// Text column `i`: the `Any` driver hands MySQL's `TEXT` columns over as bytes.
pub(super) fn text(r: &AnyRow, i: usize) -> Result<String, sqlx::Error> {
    r.try_get::<String, _>(i).or_else(|_| {
        r.try_get::<Vec<u8>, _>(i)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
    })
}

/// Integer column `i`: every integer this module reads is a `BIGINT`, or cast to one
/// (`MoodleDatabase::int`).
pub(super) fn int(r: &AnyRow, i: usize) -> Result<i64, sqlx::Error> {
    r.try_get::<i64, _>(i)
}
