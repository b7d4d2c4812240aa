//! Conformance with Moodle: each oracle case of `shared/moodle/cases/` (operations → the
//! rows a real Moodle 5.0 wrote) is run through cohortsync's real path — written as the
//! cohortsync files an admin would write, submitted, approved and applied by a server whose
//! site is the fixture Moodle database — and the seven tables Moodle's cohort sync touches
//! are compared with Moodle's, by natural keys (ids and timestamps aside). On PostgreSQL
//! and on MariaDB.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::{Context, bail};
use cohortsync_e2e::moodle_tables::{
    Natural, log_row, log_since, natural, read_table, tables_now, text,
};
use cohortsync_e2e::{
    Server, client, load_moodle_site, mariadb_url, moodle_fixtures, postgres_url,
};
use reqwest::header::COOKIE;
use serde_json::{Value, json};
use sqlx::{AnyConnection, Connection};

/// A file to submit: its kind of rows and its text.
struct File {
    name: String,
    text: String,
}

/// The cohortsync files that ask for `operations`, in order.
async fn files_for(operations: &[Value], moodle: &mut AnyConnection) -> anyhow::Result<Vec<File>> {
    let mut files = Vec::new();
    let mut members: Vec<String> = Vec::new();
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut create: Option<(String, String, String, String)> = None;
    let flush = |members: &mut Vec<String>,
                 seen: &mut Vec<(String, String)>,
                 create: &mut Option<(String, String, String, String)>,
                 files: &mut Vec<File>| {
        if members.is_empty() && create.is_none() {
            return;
        }
        let mut text = String::from("cmd;cidnumber;cname;cdescription;ccatcontext;userid\n");
        let (idnumber, name, description, category) = create.take().unwrap_or_default();
        if !idnumber.is_empty() {
            text.push_str(&format!(
                "add;{idnumber};{name};{description};{category};\n"
            ));
        }
        for row in members.drain(..) {
            text.push_str(&row);
        }
        seen.clear();
        files.push(File {
            name: format!("cohorts-{}.csv", files.len() + 1),
            text,
        });
    };
    for op in operations {
        let s = |key: &str| op[key].as_str().unwrap_or_default().to_owned();
        match op["op"].as_str().unwrap_or_default() {
            kind @ ("add_member"
            | "remove_member"
            | "insert_cohort_member_row_directly"
            | "delete_cohort_member_row_directly") => {
                let key = (s("cohort_idnumber"), s("username"));
                if seen.contains(&key) {
                    flush(&mut members, &mut seen, &mut create, &mut files);
                }
                let cmd = if kind.starts_with("add") || kind.starts_with("insert") {
                    "add"
                } else {
                    "del"
                };
                members.push(format!("{cmd};{};;;;{}\n", key.0, key.1));
                seen.push(key);
            }
            "create_cohort" => {
                flush(&mut members, &mut seen, &mut create, &mut files);
                let category = op["context"]["category_idnumber"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                create = Some((s("idnumber"), s("name"), s("description"), category));
            }
            "delete_cohort" => {
                // One `del` row: a bound cohort goes with its bindings, as Moodle's unenrol
                // action deletes them (case 07).
                flush(&mut members, &mut seen, &mut create, &mut files);
                files.push(File {
                    name: "delete-cohort.csv".to_owned(),
                    text: format!("cmd;cidnumber;userid\ndel;{};\n", s("cohort_idnumber")),
                });
            }
            binding_op => {
                flush(&mut members, &mut seen, &mut create, &mut files);
                files.push(binding_file(binding_op, op, moodle).await?);
            }
        }
    }
    flush(&mut members, &mut seen, &mut create, &mut files);
    Ok(files)
}

/// The `makegroup` cell for a case's `group`.
fn makegroup(group: &Value) -> String {
    match group {
        Value::String(s) if s == "none" => "0".to_owned(),
        Value::String(s) if s == "new" => "1".to_owned(),
        other => other["name"].as_str().unwrap_or_default().to_owned(),
    }
}

/// The course binding file for one binding operation.
async fn binding_file(kind: &str, op: &Value, moodle: &mut AnyConnection) -> anyhow::Result<File> {
    let binding = if op["binding"].is_object() {
        &op["binding"]
    } else {
        op
    };
    let cohort = binding["cohort_idnumber"].as_str().unwrap_or_default();
    let course = binding["course_shortname"].as_str().unwrap_or_default();
    // An update's `role` is the role the binding changes to; the binding is found by the
    // role it has.
    let new_role = (kind == "update_binding")
        .then(|| op["role"].as_str())
        .flatten();
    let role = match binding["role"]
        .as_str()
        .or(op["role"].as_str().filter(|_| new_role.is_none()))
    {
        Some(role) => role.to_owned(),
        None => binding_role(moodle, cohort, course).await?,
    };
    let text = match kind {
        "create_binding" => format!(
            "cmd;cohort;course;role;makegroup;name;status\nadd;{cohort};{course};{role};{};{};{}\n",
            makegroup(&op["group"]),
            op["name"].as_str().unwrap_or_default(),
            op["status"].as_str().unwrap_or("active"),
        ),
        "set_binding_status" => format!(
            "cmd;cohort;course;role\n{};{cohort};{course};{role}\n",
            if op["status"] == "disabled" {
                "del"
            } else {
                "restore"
            }
        ),
        "update_binding" if op.get("group").is_some() => format!(
            "cmd;cohort;course;role;makegroup\nadd;{cohort};{course};{role};{}\n",
            makegroup(&op["group"])
        ),
        "update_binding" if new_role.is_some() => format!(
            "cmd;cohort;course;role;newrole\nadd;{cohort};{course};{role};{}\n",
            new_role.unwrap_or_default()
        ),
        "delete_binding" => format!("cmd;cohort;course;role\nfulldel;{cohort};{course};{role}\n"),
        other => bail!("no cohortsync file asks for {other} {op}"),
    };
    Ok(File {
        name: format!("{kind}.csv"),
        text,
    })
}

/// The role of the one cohort-sync instance of `cohort` in `course`.
async fn binding_role(
    moodle: &mut AnyConnection,
    cohort: &str,
    course: &str,
) -> anyhow::Result<String> {
    // The names come from the fixtures, which have no quotes in them.
    let sql = format!(
        "SELECT r.shortname FROM mdl_enrol e JOIN mdl_cohort c ON c.id = e.customint1 \
         JOIN mdl_course co ON co.id = e.courseid JOIN mdl_role r ON r.id = e.roleid \
         WHERE e.enrol = 'cohort' AND c.idnumber = '{cohort}' AND co.shortname = '{course}'"
    );
    let row = sqlx::query(&sql)
        .fetch_one(&mut *moodle)
        .await
        .with_context(|| format!("the binding of {cohort} in {course}"))?;
    text(&row, 0)
}

/// A case's `after.json` in the same shape as [`tables_now`].
fn tables_expected(after: &Value) -> BTreeMap<String, Vec<Natural>> {
    let as_text = |v: &Value| match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    };
    let groups: HashMap<String, String> = after["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|g| {
            (
                g["id"].to_string(),
                g["name"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let fields: &[(&str, &[&str])] = &[
        (
            "cohort",
            &[
                "idnumber",
                "name",
                "context",
                "component",
                "visible",
                "description",
                "descriptionformat",
                "theme",
            ],
        ),
        ("cohort_members", &["cohort", "user"]),
        (
            "enrol",
            &[
                "key",
                "enrol",
                "status",
                "sortorder",
                "name",
                "role",
                "enrolperiod",
                "enrolstartdate",
                "enrolenddate",
            ],
        ),
        (
            "user_enrolments",
            &[
                "enrol",
                "user",
                "status",
                "timestart",
                "timeend",
                "modifier",
            ],
        ),
        (
            "role_assignments",
            &[
                "context",
                "user",
                "role",
                "component",
                "item",
                "modifier",
                "sortorder",
            ],
        ),
        (
            "groups",
            &[
                "course",
                "name",
                "idnumber",
                "description",
                "descriptionformat",
                "enrolmentkey",
                "picture",
                "visibility",
                "participation",
            ],
        ),
        (
            "groups_members",
            &["course", "group", "user", "component", "item"],
        ),
    ];
    let mut out = BTreeMap::new();
    for (table, names) in fields {
        let mut rows: Vec<Natural> = after[*table]
            .as_array()
            .into_iter()
            .flatten()
            .map(|row| {
                let mut values: Vec<(&str, Option<String>)> =
                    names.iter().map(|n| (*n, as_text(&row[*n]))).collect();
                if *table == "enrol" {
                    let group = (row["enrol"] == "cohort")
                        .then(|| groups.get(&row["customint2"].to_string()).cloned())
                        .flatten();
                    values.push(("group", group));
                }
                natural(&values)
            })
            .collect();
        rows.sort();
        out.insert((*table).to_owned(), rows);
    }
    out
}

/// What differs between two tables: rows only in one of them.
fn differences(expected: &[Natural], actual: &[Natural]) -> (Vec<Natural>, Vec<Natural>) {
    let mut missing = Vec::new();
    let mut rest: Vec<Natural> = actual.to_vec();
    for row in expected {
        match rest.iter().position(|r| r == row) {
            Some(i) => {
                rest.remove(i);
            }
            None => missing.push(row.clone()),
        }
    }
    (missing, rest)
}

/// Runs one case on the Moodle database at `url`; the differences found, if any.
async fn run_case(url: &str, fixtures: &Path, case: &str) -> anyhow::Result<Vec<String>> {
    let dir = fixtures.join("cases").join(case);
    let operations: Value = serde_json::from_slice(&std::fs::read(dir.join("operations.json"))?)?;
    let after: Value = serde_json::from_slice(&std::fs::read(dir.join("after.json"))?)?;
    let unenrol = std::fs::read_to_string(dir.join("unenrolaction.txt"))?
        .trim()
        .to_owned();
    load_moodle_site(url, fixtures).await?;
    let mut moodle = AnyConnection::connect(url).await?;
    sqlx::query(&format!(
        "UPDATE mdl_config_plugins SET value = '{unenrol}' WHERE plugin = 'enrol_cohort' AND name = 'unenrolaction'"
    ))
    .execute(&mut moodle)
    .await?;
    let files = files_for(
        operations["operations"]
            .as_array()
            .context("no operations")?,
        &mut moodle,
    )
    .await?;
    let started = now() - 1;
    let server = Server::start_on_moodle(url, &[]).await?;
    server
        .add_account("admin", "admin", "admin-password")
        .await?;
    let admin = server.sign_in("admin", "admin-password").await?;
    let options = json!({
        "user_identifier": "username",
        "cohort_identifier": "idnumber",
        "course_identifier": "shortname",
        "mode": "incremental",
        "override_limits": true,
    });
    // What the plans said they would do, from the same rules as every dry run.
    let mut predicted = Predicted::default();
    for file in files {
        let form = reqwest::multipart::Form::new()
            .part(
                "file",
                reqwest::multipart::Part::bytes(file.text.clone().into_bytes())
                    .file_name(file.name.clone()),
            )
            .text("options", options.to_string());
        let response = client()
            .post(server.at("/api/changesets"))
            .header(COOKIE, &admin)
            .multipart(form)
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await?;
        if status != reqwest::StatusCode::CREATED {
            bail!(
                "{case}: {} was refused ({status}): {body}\n{}",
                file.name,
                file.text
            );
        }
        let id = body["id"].as_i64().context("no id")?;
        let detail: Value = client()
            .get(server.at(&format!("/api/changesets/{id}?plan=true")))
            .header(COOKIE, &admin)
            .send()
            .await?
            .json()
            .await?;
        predicted.add(&detail["plan"]["effects"]);
        for action in ["approve", "apply"] {
            let response = client()
                .post(server.at(&format!("/api/changesets/{id}/{action}")))
                .header(COOKIE, &admin)
                .json(&json!({"comment": "conformance"}))
                .send()
                .await?;
            let status = response.status();
            if !status.is_success() {
                let body = response.text().await?;
                bail!(
                    "{case}: {action} of {} answered {status}: {body}",
                    file.name
                );
            }
        }
    }
    server.stop().await?;
    let mysql = url.starts_with("mysql://");
    let actual = tables_now(&mut moodle, mysql).await?;
    let expected = tables_expected(&after);
    let mut problems = Vec::new();
    // The dirty flags Moodle set, in the operations and in the sync after them.
    let side: Value = serde_json::from_slice(&std::fs::read(dir.join("side_effects.json"))?)?;
    let mut flags_expected: Vec<(String, String)> = Vec::new();
    for phase in ["operations_phase", "sync_phase"] {
        for change in ["inserted", "updated"] {
            for flag in side["cache_flags"][phase][change]
                .as_array()
                .into_iter()
                .flatten()
            {
                let flag = (
                    flag["flagtype"].as_str().unwrap_or_default().to_owned(),
                    flag["name"].as_str().unwrap_or_default().to_owned(),
                );
                if !flags_expected.contains(&flag) {
                    flags_expected.push(flag);
                }
            }
        }
    }
    flags_expected.sort();
    let mut flags_written = Vec::new();
    for row in read_table(
        &mut moodle,
        mysql,
        "cache_flags",
        &["flagtype", "name", "timemodified", "value", "expiry"],
    )
    .await?
    {
        let stamp: i64 = row["timemodified"].clone().unwrap_or_default().parse()?;
        if stamp >= started && row["flagtype"].as_deref() != Some("userpreferenceschanged") {
            let expiry: i64 = row["expiry"].clone().unwrap_or_default().parse()?;
            if expiry - stamp != 28_800 || row["value"].as_deref() != Some("1") {
                problems.push(format!("{case}: flag {row:?} is not value 1 for 28800 s"));
            }
            flags_written.push((
                row["flagtype"].clone().unwrap_or_default(),
                row["name"].clone().unwrap_or_default(),
            ));
        }
    }
    flags_written.sort();
    if flags_written != flags_expected {
        problems.push(format!(
            "{case}: cache flags set {flags_written:?}, Moodle set {flags_expected:?}"
        ));
    }
    // Moodle's log: the same events (ids and times aside; the order is not compared: Moodle
    // logs user by user, cohortsync table by table).
    let direct = operations["operations"]
        .to_string()
        .contains("_row_directly");
    let mut log_expected: Vec<Natural> = Vec::new();
    for phase in ["operations_phase", "sync_phase"] {
        for e in side["logstore_standard_log"][phase]
            .as_array()
            .into_iter()
            .flatten()
        {
            let text = |k: &str| e[k].as_str().map(str::to_owned);
            log_expected.push(log_row(
                e["eventname"].as_str().unwrap_or_default(),
                e["crud"].as_str().unwrap_or_default(),
                e["objecttable"].as_str().unwrap_or_default(),
                text("context"),
                text("relateduser"),
                e["other_raw"].as_str().unwrap_or("null"),
                text("user"),
                e["origin"].as_str().unwrap_or_default(),
            ));
        }
    }
    log_expected.sort();
    // The plan's effects are what Moodle did: its own events, counted.
    let moodle_did = Predicted::from_moodle(&side);
    if predicted != moodle_did {
        problems.push(format!(
            "{case}: the plan's effects say {predicted:?}, Moodle's log says {moodle_did:?}"
        ));
    }
    let mut log_written = log_since(&mut moodle, mysql, started).await?;
    if direct {
        // Moodle's sync task saw bare rows: no cohort_member events to log.
        log_written.retain(|r| {
            !r["event"]
                .as_deref()
                .unwrap_or_default()
                .contains("cohort_member_")
        });
    }
    let (missing, extra) = differences(&log_expected, &log_written);
    for row in missing {
        problems.push(format!("{case}: the log lacks {row:?}"));
    }
    for row in extra {
        problems.push(format!("{case}: the log has an extra {row:?}"));
    }
    for (table, rows) in &expected {
        let (missing, extra) = differences(rows, &actual[table]);
        for row in missing {
            problems.push(format!("{case}: {table} lacks {row:?}"));
        }
        for row in extra {
            problems.push(format!("{case}: {table} has an extra {row:?}"));
        }
    }
    Ok(problems)
}

/// Counts of what happens to enrolments and group memberships, from a plan's effects or
/// from the events Moodle logged in a case.
#[derive(Debug, Default, PartialEq)]
struct Predicted {
    /// Rows created or reactivated, plus rows suspended (both are `user_enrolment_created`
    /// or `_updated` in Moodle's log).
    enrolments_written: usize,
    /// Rows deleted.
    unenrolments: usize,
    /// Group memberships made.
    joined_groups: usize,
    /// Group memberships deleted, the last-enrolment cleanup's included.
    left_groups: usize,
}

impl Predicted {
    fn add(&mut self, effects: &Value) {
        for e in effects.as_array().into_iter().flatten() {
            match e["effect"].as_str().unwrap_or_default() {
                "enrol" | "suspend" => self.enrolments_written += 1,
                "unenrol" => self.unenrolments += 1,
                "add_to_group" => self.joined_groups += 1,
                "remove_from_group" => self.left_groups += 1,
                "leave_course" => {
                    self.left_groups += e["groups"].as_array().map_or(0, Vec::len);
                }
                _ => {}
            }
        }
    }

    fn from_moodle(side: &Value) -> Self {
        let mut found = Predicted::default();
        for phase in ["operations_phase", "sync_phase"] {
            for e in side["logstore_standard_log"][phase]
                .as_array()
                .into_iter()
                .flatten()
            {
                let name = e["eventname"].as_str().unwrap_or_default();
                match name.rsplit('\\').next().unwrap_or_default() {
                    "user_enrolment_created" | "user_enrolment_updated" => {
                        found.enrolments_written += 1
                    }
                    "user_enrolment_deleted" => found.unenrolments += 1,
                    "group_member_added" => found.joined_groups += 1,
                    "group_member_removed" => found.left_groups += 1,
                    _ => {}
                }
            }
        }
        found
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

async fn conformance(url: Option<String>, fixtures: &Path) -> anyhow::Result<()> {
    let Some(base) = url else { return Ok(()) };
    let index: Value = serde_json::from_slice(&std::fs::read(fixtures.join("cases/index.json"))?)?;
    let mut problems = Vec::new();
    let mut passed = 0;
    for case in index.as_array().context("cases/index.json")? {
        let name = case["case"].as_str().unwrap_or_default();
        let url = cohortsync_backend::store::create_scratch_database(&base).await?;
        let found = run_case(&url, fixtures, name).await?;
        if found.is_empty() {
            passed += 1;
        }
        problems.extend(found);
    }
    assert!(
        problems.is_empty(),
        "{passed} cases passed; differences:\n{}",
        problems.join("\n")
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_case_writes_the_rows_moodle_wrote_on_postgres() -> anyhow::Result<()> {
    let test = "every_case_writes_the_rows_moodle_wrote_on_postgres";
    let Some(fixtures) = moodle_fixtures(test) else {
        return Ok(());
    };
    conformance(postgres_url(test).await, &fixtures).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_case_writes_the_rows_moodle_wrote_on_mariadb() -> anyhow::Result<()> {
    let test = "every_case_writes_the_rows_moodle_wrote_on_mariadb";
    let Some(fixtures) = moodle_fixtures(test) else {
        return Ok(());
    };
    conformance(mariadb_url(test).await, &fixtures).await
}
