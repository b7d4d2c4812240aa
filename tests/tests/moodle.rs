//! `cohortsync moodle check` against real Moodle tables: the schema and the site a real
//! Moodle 5.0 wrote (`shared/moodle/`), loaded into scratch PostgreSQL and MariaDB
//! databases, checked by the real binary.

use std::path::Path;

use cohortsync_e2e::{binary_path, load_moodle_site, mariadb_url, moodle_fixtures, postgres_url};
use serde_json::Value;
use sqlx::Connection;

/// Runs `cohortsync moodle check ARGS…`; returns the exit code and standard output.
async fn moodle_check(url: &str, extra: &[&str]) -> anyhow::Result<(i32, String)> {
    let output = tokio::process::Command::new(binary_path()?)
        .args(["moodle", "check", "--moodle-db-url", url])
        .args(extra)
        .env_remove("COHORTSYNC_MOODLE_PREFIX")
        .output()
        .await?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    Ok((
        output.status.code().unwrap_or(-1),
        format!("{stdout}{stderr}"),
    ))
}

/// The fixture site, loaded into a scratch database of each configured server.
async fn fixture_sites(test: &str, fixtures: &Path) -> anyhow::Result<Vec<String>> {
    let mut urls = Vec::new();
    for url in [postgres_url(test).await, mariadb_url(test).await]
        .into_iter()
        .flatten()
    {
        load_moodle_site(&url, fixtures).await?;
        urls.push(url);
    }
    Ok(urls)
}

async fn execute(url: &str, statements: &[&str]) -> anyhow::Result<()> {
    let mut conn = sqlx::AnyConnection::connect(url).await?;
    for statement in statements {
        sqlx::raw_sql(statement).execute(&mut conn).await?;
    }
    Ok(())
}

#[tokio::test]
async fn moodle_check_reads_the_fixture_site_on_postgres_and_mariadb() -> anyhow::Result<()> {
    let Some(fixtures) = moodle_fixtures("moodle_check_reads_the_fixture_site") else {
        return Ok(());
    };
    for url in fixture_sites("moodle_check_reads_the_fixture_site", &fixtures).await? {
        let (code, out) = moodle_check(&url, &[]).await?;
        assert_eq!(code, 0, "{out}");
        // 119 users less the guest and the deleted one; 11 courses less the front page.
        assert!(
            out.contains("117 users, 12 cohorts, 10 courses, 11 cohort-sync instances"),
            "{out}"
        );
        assert!(out.contains("enrol_cohort 2025041400"), "{out}");
        assert!(out.contains("tables: all 16 present"), "{out}");
        assert!(
            out.contains("log: the standard log store is enabled"),
            "{out}"
        );
        assert!(out.trim_end().ends_with("ready"), "{out}");
    }
    Ok(())
}

#[tokio::test]
async fn moodle_check_names_a_missing_table_and_column_and_exits_1() -> anyhow::Result<()> {
    let test = "moodle_check_names_a_missing_table_and_column";
    let Some(fixtures) = moodle_fixtures(test) else {
        return Ok(());
    };
    for url in fixture_sites(test, &fixtures).await? {
        execute(
            &url,
            &[
                "DROP TABLE mdl_cache_flags",
                "ALTER TABLE mdl_enrol DROP COLUMN customint2",
            ],
        )
        .await?;
        let (code, out) = moodle_check(&url, &[]).await?;
        assert_eq!(code, 1, "{out}");
        assert!(
            out.contains("missing: mdl_enrol.customint2, mdl_cache_flags"),
            "{out}"
        );
        assert!(out.contains("not ready"), "{out}");
        // Another prefix finds none of Moodle's tables, and says so.
        let (code, out) = moodle_check(&url, &["--moodle-prefix", "other_"]).await?;
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("other_user, other_cohort"), "{out}");
        let (code, out) = moodle_check(&url, &["--moodle-prefix", "mdl; DROP"]).await?;
        assert_ne!(code, 0, "{out}");
        assert!(out.contains("is not one Moodle accepts"), "{out}");
    }
    Ok(())
}

#[tokio::test]
async fn moodle_check_names_the_privileges_a_read_only_account_lacks() -> anyhow::Result<()> {
    let test = "moodle_check_names_the_privileges_a_read_only_account_lacks";
    let Some(fixtures) = moodle_fixtures(test) else {
        return Ok(());
    };
    let account = format!("cohortsync_ro_{}", std::process::id());
    for url in fixture_sites(test, &fixtures).await? {
        let (base, database) = url.rsplit_once('/').unwrap();
        let reader = if url.starts_with("mysql://") {
            execute(
                &url,
                &[
                    &format!("DROP USER IF EXISTS '{account}'@'%'"),
                    &format!("CREATE USER '{account}'@'%'"),
                    &format!("GRANT SELECT ON {database}.* TO '{account}'@'%'"),
                ],
            )
            .await?;
            format!(
                "mysql://{account}@{}/{database}",
                base.rsplit_once('@').unwrap().1
            )
        } else {
            execute(
                &url,
                &[
                    &format!("DROP ROLE IF EXISTS {account}"),
                    &format!("CREATE ROLE {account} LOGIN"),
                    &format!("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {account}"),
                ],
            )
            .await?;
            format!(
                "postgres://{account}@{}/{database}",
                base.rsplit_once('@').unwrap().1
            )
        };
        let (code, out) = moodle_check(&reader, &[]).await?;
        assert_eq!(code, 1, "{out}");
        for expected in [
            "INSERT ON mdl_cohort",
            "UPDATE ON mdl_enrol",
            "DELETE ON mdl_groups_members",
        ] {
            assert!(out.contains(expected), "{expected}: {out}");
        }
        assert!(!out.contains("SELECT ON"), "reads are granted: {out}");
        assert!(
            !out.contains("ON mdl_user,"),
            "mdl_user is only read: {out}"
        );
        // Reading still works: the counts are there.
        assert!(out.contains("117 users"), "{out}");
        if url.starts_with("mysql://") {
            execute(&url, &[&format!("DROP USER '{account}'@'%'")]).await?;
        } else {
            // Roles belong to the whole server: none is left behind.
            execute(
                &url,
                &[
                    &format!("DROP OWNED BY {account}"),
                    &format!("DROP ROLE {account}"),
                ],
            )
            .await?;
        }
    }
    Ok(())
}

/// Runs `cohortsync validate FILE --moodle-db-url URL --format json ARGS…`.
async fn validate_on_moodle(url: &str, file: &str, extra: &[&str]) -> anyhow::Result<Value> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("file.csv");
    std::fs::write(&path, file)?;
    let output = tokio::process::Command::new(binary_path()?)
        .arg("validate")
        .arg(&path)
        .args(["--moodle-db-url", url, "--format", "json"])
        .args(extra)
        .output()
        .await?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(&stdout)
        .map_err(|e| anyhow::anyhow!("{e}: {stdout}{}", String::from_utf8_lossy(&output.stderr)))
}

fn effects_of(report: &Value, user: i64) -> Vec<(String, i64)> {
    report["changeset"]["effects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["user"] == user)
        .map(|e| {
            let what = e["effect"].as_str().unwrap().to_owned();
            // A binding's effect names it, a group's the group, a course's the course.
            let on = e
                .get("binding")
                .or(e.get("group"))
                .or(e.get("course"))
                .unwrap()
                .as_i64()
                .unwrap();
            (what, on)
        })
        .collect()
}

#[tokio::test]
async fn validate_checks_a_file_against_the_snapshot_read_from_moodle() -> anyhow::Result<()> {
    let test = "validate_checks_a_file_against_the_snapshot_read_from_moodle";
    let Some(fixtures) = moodle_fixtures(test) else {
        return Ok(());
    };
    // E20260020 (user 22) joins Maths TD1, bound to MATH102 (instance 36, group 3 "TD1");
    // E20260001 (user 3) leaves Licence 1 Sciences, bound to MATH101 (31) and PHYS101 (32,
    // group 10).
    let file = "cmd;cidnumber;userid\nadd;CS-MATH-TD1;E20260020\ndel;L1-SCI-2026;E20260001\n";
    let mut revisions = Vec::new();
    for url in fixture_sites(test, &fixtures).await? {
        let report = validate_on_moodle(&url, file, &[]).await?;
        assert_eq!(report["ok"], true, "{report}");
        let operations = &report["changeset"]["operations"];
        assert_eq!(
            operations,
            &serde_json::json!([
                {"line": 2, "op": "add_member", "cohort": 8, "user": 22},
                {"line": 3, "op": "remove_member", "cohort": 1, "user": 3},
            ]),
            "{report}"
        );
        let string = |pairs: &[(&str, i64)]| {
            pairs
                .iter()
                .map(|(w, n)| ((*w).to_owned(), *n))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            effects_of(&report, 22),
            string(&[("enrol", 36), ("add_to_group", 3)])
        );
        // Moodle's own unenrol action (0: unenrol) is the plan's; MATH101 (course 2) was
        // the user's last enrolment there, so what else they hold in it goes too, as the
        // enrolment state read from Moodle says.
        assert_eq!(
            effects_of(&report, 3),
            string(&[
                ("remove_from_group", 10),
                ("unenrol", 31),
                ("unenrol", 32),
                ("leave_course", 2)
            ])
        );
        revisions.push(report["changeset"]["base_revision"].clone());

        // A cohort of another system is read-only; one of `local_cohortsync` is managed by
        // files, so full mode removes its members the file leaves out.
        let report =
            validate_on_moodle(&url, "cidnumber;userid\nLDAP-STAFF;P20260012\n", &[]).await?;
        assert_eq!(
            report["diagnostics"][0]["code"], "cohort_protected",
            "{report}"
        );
        let full = ["--mode", "full", "--override-limits"];
        let report =
            validate_on_moodle(&url, "cidnumber;userid\nCS-MATH-TD1;E20260001\n", &full).await?;
        assert_eq!(report["summary"]["members_removed"], 14, "{report}");
        let other = ["--moodle-component", "local_other"];
        let report =
            validate_on_moodle(&url, "cidnumber;userid\nCS-MATH-TD1;E20260001\n", &other).await?;
        assert_eq!(
            report["diagnostics"][0]["code"], "cohort_protected",
            "{report}"
        );
    }
    // The same site read from PostgreSQL and from MariaDB is the same snapshot.
    revisions.dedup();
    assert!(revisions.len() <= 1, "{revisions:?}");
    Ok(())
}
