//! A generated Moodle-shaped site of any size, on Moodle's own schema
//! (`shared/moodle/schema/`): users, cohorts with members, courses each with a group and a
//! cohort-sync instance of one cohort, and the enrolments, roles and group memberships
//! those instances made, as Moodle would hold them. For benchmarks and for tests that need
//! more than the fixture site's 119 users.

use std::fmt::Write;
use std::path::Path;

use anyhow::Context;
use sqlx::{AnyConnection, Connection};

/// How big a generated site is.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    /// Users (`user1`…).
    pub users: u64,
    /// Cohorts (`COH1`…), in the system context, made by hand (empty component).
    pub cohorts: u64,
    /// Members per cohort: cohort `c` holds users `(c - 1) * members + 1 …`, wrapping.
    pub members: u64,
    /// Courses (`C1`…): course `c` is bound to cohort `c` (student, group `G1` of it).
    pub courses: u64,
}

/// Rows per multi-row `INSERT`.
const ROWS_PER_INSERT: u64 = 2_000;
const NOW: u64 = 1_796_000_000;

/// Creates Moodle's schema and a site of `scale` in the empty database at `url`
/// (`postgres://…` or `mysql://…`).
pub async fn generate(url: &str, fixtures: &Path, scale: Scale) -> anyhow::Result<()> {
    sqlx::any::install_default_drivers();
    let kind = if url.starts_with("mysql://") {
        "mariadb"
    } else {
        "postgres"
    };
    let mut conn = AnyConnection::connect(url).await?;
    let schema = fixtures.join("schema").join(format!("{kind}.sql"));
    let sql = std::fs::read_to_string(&schema)
        .with_context(|| format!("cannot read {}", schema.display()))?;
    crate::run_sql(&mut conn, &sql).await?;
    let fixed = [
        "INSERT INTO mdl_config (name, value) VALUES ('siteadmins', '2'), ('siteguest', '1'), \
         ('mnet_localhost_id', '1'), ('release', '5.0 (Build: 20250414)'), \
         ('version', '2025041400.00')",
        "INSERT INTO mdl_config_plugins (plugin, name, value) VALUES \
         ('enrol_cohort', 'unenrolaction', '0'), ('enrol_cohort', 'version', '2025041400')",
        "INSERT INTO mdl_role (id, name, shortname, description, sortorder, archetype) VALUES \
         (1, '', 'manager', '', 1, 'manager'), (3, '', 'editingteacher', '', 3, 'editingteacher'), \
         (4, '', 'teacher', '', 4, 'teacher'), (5, '', 'student', '', 5, 'student')",
        "INSERT INTO mdl_context (id, contextlevel, instanceid, path, depth, locked) VALUES \
         (1, 10, 0, '/1', 1, 0)",
        "INSERT INTO mdl_course_categories (id, name, idnumber, description, parent, sortorder, \
         coursecount, visible, visibleold, timemodified, depth, path) VALUES \
         (1, 'Faculté', 'FAC', '', 0, 10000, 0, 1, 1, 0, 1, '/1')",
        "INSERT INTO mdl_context (id, contextlevel, instanceid, path, depth, locked) VALUES \
         (2, 40, 1, '/1/2', 2, 0)",
        "INSERT INTO mdl_course (id, category, fullname, shortname, idnumber, summary, format, \
         startdate, timecreated, timemodified) VALUES (1, 0, 'Site', 'site', '', '', 'site', 0, 0, 0)",
    ];
    for sql in fixed {
        sqlx::query(sql)
            .execute(&mut conn)
            .await
            .with_context(|| sql.to_owned())?;
    }
    // Users: id 1 the guest, 2 the admin, then user1… from id 3.
    rows(
        &mut conn,
        "INSERT INTO mdl_user (id, auth, confirmed, mnethostid, username, \
         password, idnumber, firstname, lastname, email, deleted, suspended, timecreated, \
         timemodified) VALUES ",
        1,
        scale.users + 2,
        |id, out| {
            let name = match id {
                1 => "guest".to_owned(),
                2 => "admin".to_owned(),
                n => format!("user{}", n - 2),
            };
            let _ = write!(
                out,
                "({id}, 'manual', 1, 1, '{name}', '', 'E{id:07}', 'Prénom', 'Nom', \
             '{name}@univ.example', 0, 0, {NOW}, {NOW})"
            );
        },
    )
    .await?;
    rows(
        &mut conn,
        "INSERT INTO mdl_cohort (id, contextid, name, idnumber, description, \
         descriptionformat, visible, component, timecreated, timemodified, theme) VALUES ",
        1,
        scale.cohorts,
        |id, out| {
            let _ = write!(
                out,
                "({id}, 1, 'Cohort {id}', 'COH{id}', '', 1, 1, '', {NOW}, {NOW}, '')"
            );
        },
    )
    .await?;
    let member = |cohort: u64, k: u64| (cohort - 1) * scale.members + k;
    let user_of = |slot: u64| (slot % scale.users) + 3;
    let memberships = scale.cohorts * scale.members;
    rows(
        &mut conn,
        "INSERT INTO mdl_cohort_members (cohortid, userid, timeadded) VALUES ",
        0,
        memberships.saturating_sub(1),
        |slot, out| {
            let cohort = slot / scale.members + 1;
            let _ = write!(
                out,
                "({cohort}, {}, {NOW})",
                user_of(member(cohort, slot % scale.members))
            );
        },
    )
    .await?;
    // Courses from id 2, their contexts from id 3, one group each, one instance each.
    rows(
        &mut conn,
        "INSERT INTO mdl_course (id, category, fullname, shortname, idnumber, \
         summary, format, startdate, timecreated, timemodified) VALUES ",
        1,
        scale.courses,
        |c, out| {
            let _ = write!(
                out,
                "({}, 1, 'Course {c}', 'C{c}', '', '', 'topics', 0, {NOW}, {NOW})",
                c + 1
            );
        },
    )
    .await?;
    rows(
        &mut conn,
        "INSERT INTO mdl_context (id, contextlevel, instanceid, path, depth, \
         locked) VALUES ",
        1,
        scale.courses,
        |c, out| {
            let _ = write!(out, "({}, 50, {}, '/1/2/{}', 3, 0)", c + 2, c + 1, c + 2);
        },
    )
    .await?;
    rows(
        &mut conn,
        "INSERT INTO mdl_groups (id, courseid, idnumber, name, descriptionformat, \
         picture, visibility, participation, timecreated, timemodified) VALUES ",
        1,
        scale.courses,
        |c, out| {
            let _ = write!(out, "({c}, {}, '', 'G1', 0, 0, 0, 1, {NOW}, {NOW})", c + 1);
        },
    )
    .await?;
    rows(
        &mut conn,
        "INSERT INTO mdl_enrol (id, enrol, status, courseid, sortorder, roleid, \
         customint1, customint2, enrolperiod, enrolstartdate, enrolenddate, expirynotify, \
         expirythreshold, notifyall, timecreated, timemodified) VALUES ",
        1,
        scale.courses,
        |c, out| {
            let cohort = (c - 1) % scale.cohorts + 1;
            let _ = write!(
                out,
                "({c}, 'cohort', 0, {}, 0, 5, {cohort}, {c}, 0, 0, 0, 0, 0, 0, {NOW}, {NOW})",
                c + 1
            );
        },
    )
    .await?;
    // What the instances made: course c's instance enrolled cohort c's members.
    let per_course = scale.members;
    let enrolled = scale.courses * per_course;
    let pair = |slot: u64| {
        let course = slot / per_course + 1;
        let cohort = (course - 1) % scale.cohorts + 1;
        (course, user_of(member(cohort, slot % per_course)))
    };
    rows(
        &mut conn,
        "INSERT INTO mdl_user_enrolments (status, enrolid, userid, timestart, \
         timeend, modifierid, timecreated, timemodified) VALUES ",
        0,
        enrolled.saturating_sub(1),
        |slot, out| {
            let (course, user) = pair(slot);
            let _ = write!(out, "(0, {course}, {user}, 0, 0, 2, {NOW}, {NOW})");
        },
    )
    .await?;
    rows(
        &mut conn,
        "INSERT INTO mdl_role_assignments (roleid, contextid, userid, timemodified, \
         modifierid, component, itemid, sortorder) VALUES ",
        0,
        enrolled.saturating_sub(1),
        |slot, out| {
            let (course, user) = pair(slot);
            let _ = write!(
                out,
                "(5, {}, {user}, {NOW}, 2, 'enrol_cohort', {course}, 0)",
                course + 2
            );
        },
    )
    .await?;
    rows(
        &mut conn,
        "INSERT INTO mdl_groups_members (groupid, userid, timeadded, component, \
         itemid) VALUES ",
        0,
        enrolled.saturating_sub(1),
        |slot, out| {
            let (course, user) = pair(slot);
            let _ = write!(out, "({course}, {user}, {NOW}, 'enrol_cohort', {course})");
        },
    )
    .await?;
    if kind == "postgres" {
        // Explicit ids leave the sequences behind: set them past the rows.
        for table in [
            "user",
            "cohort",
            "course",
            "context",
            "groups",
            "enrol",
            "course_categories",
        ] {
            sqlx::query(&format!(
                "SELECT setval('mdl_{table}_id_seq', (SELECT MAX(id) FROM mdl_{table}))"
            ))
            .execute(&mut conn)
            .await?;
        }
    }
    // A real site's planner statistics have settled; right after a bulk load they describe
    // empty tables (MariaDB then planned the enrolment state's anti-joins as nested scans
    // and took minutes). Analyse, as the databases' own background jobs soon would.
    let tables = [
        "user",
        "cohort",
        "cohort_members",
        "course",
        "context",
        "groups",
        "groups_members",
        "enrol",
        "user_enrolments",
        "role_assignments",
    ];
    for table in tables {
        let sql = if kind == "postgres" {
            format!("ANALYZE mdl_{table}")
        } else {
            format!("ANALYZE TABLE mdl_{table}")
        };
        sqlx::Executor::fetch_all(&mut conn, sql.as_str()).await?;
    }
    Ok(())
}

/// Inserts the rows `first..=last`, each written by `row`, `ROWS_PER_INSERT` per statement.
async fn rows(
    conn: &mut AnyConnection,
    insert: &str,
    first: u64,
    last: u64,
    row: impl Fn(u64, &mut String),
) -> anyhow::Result<()> {
    let mut start = first;
    while start <= last {
        let end = (start + ROWS_PER_INSERT - 1).min(last);
        let mut sql = String::from(insert);
        for i in start..=end {
            if i > start {
                sql.push_str(", ");
            }
            row(i, &mut sql);
        }
        sqlx::raw_sql(&sql)
            .execute(&mut *conn)
            .await
            .with_context(|| sql.chars().take(200).collect::<String>())?;
        start = end + 1;
    }
    Ok(())
}
