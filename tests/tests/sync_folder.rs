//! The sync folder, end to end: the real server and command line on SQLite and
//! PostgreSQL, files dropped in the folder as a student information system does, the task
//! run over HTTP (*Run now*) and from `cohortsync sync run`, a real SMTP server reading the
//! mail. The schedule itself is tested with an injected clock in
//! `backend/src/scheduler/schedule.rs`, not by sleeping here.

use std::path::Path;

use cohortsync_e2e::{Server, SmtpServer, client, postgres_url};
use reqwest::StatusCode;
use reqwest::header::COOKIE;
use serde_json::{Value, json};

const ADMIN_PASSWORD: &str = "admin-password";

fn users(count: usize) -> String {
    let mut csv = String::from("username;idnumber;email;firstname;lastname\n");
    for i in 1..=count {
        csv.push_str(&format!(
            "u{i:05};U{i:05};u{i:05}@univ.example;First{i};Last{i}\n"
        ));
    }
    csv
}

/// A nightly export of cohort `idnumber` with users `ids`, and `extra` rows after them.
fn nightly(idnumber: &str, ids: impl IntoIterator<Item = usize>, extra: &str) -> String {
    let mut csv = String::from("cmd;cname;userid;cidnumber\n");
    for i in ids {
        csv.push_str(&format!("add;Nightly {idnumber};U{i:05};{idnumber}\n"));
    }
    csv.push_str(extra);
    csv
}

async fn get(server: &Server, cookie: &str, path: &str) -> anyhow::Result<Value> {
    let response = client()
        .get(server.at(path))
        .header(COOKIE, cookie)
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    Ok(response.json().await?)
}

async fn run_now(server: &Server, cookie: &str) -> anyhow::Result<(StatusCode, Value)> {
    let response = client()
        .post(server.at("/api/sync/run"))
        .header(COOKIE, cookie)
        .send()
        .await?;
    let status = response.status();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

/// The one file of a run's report.
async fn run_one(server: &Server, cookie: &str) -> anyhow::Result<Value> {
    let (status, report) = run_now(server, cookie).await?;
    assert_eq!(status, StatusCode::OK, "{report}");
    let files = report["files"].as_array().cloned().unwrap_or_default();
    assert_eq!(files.len(), 1, "{report}");
    Ok(files[0].clone())
}

async fn members(server: &Server, cookie: &str, idnumber: &str) -> anyhow::Result<usize> {
    let snapshot = get(server, cookie, "/api/snapshot").await?;
    Ok(snapshot["cohorts"]
        .as_array()
        .and_then(|cohorts| cohorts.iter().find(|c| c["idnumber"] == idnumber))
        .and_then(|c| c["members"].as_array())
        .map_or(0, Vec::len))
}

async fn set_sync(server: &Server, cookie: &str, sync: Value) -> anyhow::Result<()> {
    let mut settings = get(server, cookie, "/api/settings").await?;
    for (key, value) in sync.as_object().expect("an object") {
        settings["sync"][key] = value.clone();
    }
    let response = client()
        .put(server.at("/api/settings"))
        .header(COOKIE, cookie)
        .json(&settings)
        .send()
        .await?;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{}",
        response.text().await?
    );
    Ok(())
}

fn drop_file(folder: &Path, name: &str, text: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(folder)?;
    // Written beside, then renamed in: what a careful exporter does.
    let temporary = folder.join(format!(".{name}.part"));
    std::fs::write(&temporary, text)?;
    std::fs::rename(temporary, folder.join(name))?;
    Ok(())
}

async fn changesets(server: &Server, cookie: &str) -> anyhow::Result<Vec<Value>> {
    Ok(get(server, cookie, "/api/changesets")
        .await?
        .as_array()
        .cloned()
        .unwrap_or_default())
}

async fn nightly_files(database_url: Option<&str>, label: &str) -> anyhow::Result<()> {
    let smtp = SmtpServer::start(label).await?;
    let mut extra = vec!["--sync-settle-seconds", "0"];
    let mail_from = "cohortsync <noreply@univ.example>";
    if let Some(smtp) = &smtp {
        extra.extend(["--smtp-url", smtp.url.as_str(), "--mail-from", mail_from]);
    }
    let server = Server::start_with(database_url, &extra).await?;
    server.import("users", &users(40)).await?;
    let (code, out) = server
        .cli(
            &[
                "account",
                "add",
                "admin",
                "--role",
                "admin",
                "--email",
                "admin@univ.example",
            ],
            &format!("{ADMIN_PASSWORD}\n"),
        )
        .await?;
    assert_eq!(code, 0, "{out}");
    let cookie = server.sign_in("admin", ADMIN_PASSWORD).await?;
    let folder = server.data_dir().join("sync");
    set_sync(
        &server,
        &cookie,
        json!({"auto_apply": true, "options": {"mode": "full"}}),
    )
    .await?;

    // A good nightly file in full mode: applied at once, archived, with its report.
    let first = nightly("NIGHTLY", 1..=20, "");
    drop_file(&folder, "cohorts.csv", &first)?;
    let file = run_one(&server, &cookie).await?;
    assert_eq!(file["outcome"], "applied", "{file}");
    assert_eq!(members(&server, &cookie, "NIGHTLY").await?, 20);
    assert!(!folder.join("cohorts.csv").exists());
    let archive = folder.join(file["archive"].as_str().unwrap_or_default());
    assert_eq!(std::fs::read_to_string(&archive)?, first);
    assert!(
        file["archive"]
            .as_str()
            .is_some_and(|a| a.starts_with("archive/") && a.ends_with("_cohorts.csv")),
        "{file}"
    );
    let report = std::fs::read_to_string(folder.join(file["report"].as_str().unwrap_or_default()))?;
    assert!(report.starts_with("cohorts.csv: cohort file"), "{report}");
    assert!(report.contains("20  members added"), "{report}");
    let applied = changesets(&server, &cookie).await?;
    assert_eq!(applied.len(), 1);
    assert_eq!(applied[0]["author"], "scheduler");
    assert_eq!(applied[0]["status"], "applied");

    // The same file dropped again: archived, not applied again.
    drop_file(&folder, "cohorts.csv", &first)?;
    let again = run_one(&server, &cookie).await?;
    assert_eq!(again["outcome"], "already_applied", "{again}");
    assert_eq!(again["changeset"], applied[0]["id"]);
    assert_eq!(changesets(&server, &cookie).await?.len(), 1);
    assert!(!folder.join("cohorts.csv").exists());

    // A simulated run (the command line) says what would happen and changes nothing.
    let second = nightly("NIGHTLY", 1..=18, "");
    drop_file(&folder, "cohorts.csv", &second)?;
    let files_before = count_files(&folder);
    let (code, out) = server
        .cli(
            &["sync", "run", "--simulate", "--sync-settle-seconds", "0"],
            "",
        )
        .await?;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("cohorts.csv: applied — would be applied"),
        "{out}"
    );
    assert!(out.contains("2  members removed"), "{out}");
    assert!(out.contains("simulated: nothing was stored"), "{out}");
    assert_eq!(std::fs::read_to_string(folder.join("cohorts.csv"))?, second);
    assert_eq!(count_files(&folder), files_before);
    assert_eq!(changesets(&server, &cookie).await?.len(), 1);
    assert_eq!(members(&server, &cookie, "NIGHTLY").await?, 20);
    // Run for real from the command line: removed, as full mode says.
    let (code, out) = server
        .cli(&["sync", "run", "--sync-settle-seconds", "0"], "")
        .await?;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("cohorts.csv: applied"), "{out}");
    assert_eq!(members(&server, &cookie, "NIGHTLY").await?, 18);

    // Over the removal limit (13 of 18 = 72 % > 25 %): waits for approval, admin mailed.
    drop_file(&folder, "cohorts.csv", &nightly("NIGHTLY", 1..=5, ""))?;
    let held = run_one(&server, &cookie).await?;
    assert_eq!(held["outcome"], "waiting", "{held}");
    assert_eq!(held["waiting"], "limit", "{held}");
    let id = held["changeset"].as_i64().expect("a changeset");
    assert_eq!(members(&server, &cookie, "NIGHTLY").await?, 18);
    let waiting = get(&server, &cookie, &format!("/api/changesets/{id}")).await?;
    assert_eq!(waiting["status"], "submitted");
    assert_eq!(waiting["waiting_reason"], "limit");
    if let Some(smtp) = &smtp {
        let messages = smtp.messages()?;
        assert_eq!(messages.len(), 1, "{messages:?}");
        // Undo quoted-printable's soft line breaks.
        let mail = &messages[0].replace("=\r\n", "").replace("=\n", "");
        assert!(mail.contains("To: admin@univ.example"), "{mail}");
        assert!(
            mail.contains(&format!(
                "cohorts.csv waits for an admin (limit) (changeset {id})"
            )),
            "{mail}"
        );
        assert!(mail.contains("approving it overrides the limit"), "{mail}");
    }

    // Approved by the admin but not applied yet, the same file dropped again is still
    // theirs: the task does not apply it for them.
    let response = client()
        .post(server.at(&format!("/api/changesets/{id}/approve")))
        .header(COOKIE, &cookie)
        .json(&json!({"comment": "checked with the registrar"}))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    drop_file(&folder, "cohorts.csv", &nightly("NIGHTLY", 1..=5, ""))?;
    let still = run_one(&server, &cookie).await?;
    assert_eq!(still["outcome"], "waiting", "{still}");
    assert_eq!(still["changeset"], id);
    assert_eq!(members(&server, &cookie, "NIGHTLY").await?, 18);

    // Rows with errors under apply_valid_rows: the others are applied, the bad ones (and
    // only they) go to the tryback file.
    set_sync(&server, &cookie, json!({"on_errors": "apply_valid_rows"})).await?;
    let bad = "add;Nightly NIGHTLY;U99999;NIGHTLY\nremove;Nightly NIGHTLY;U00001;NIGHTLY\n";
    drop_file(&folder, "cohorts.csv", &nightly("NIGHTLY", 1..=19, bad))?;
    let partly = run_one(&server, &cookie).await?;
    assert_eq!(partly["outcome"], "applied", "{partly}");
    assert_eq!(partly["rows_set_aside"], 2, "{partly}");
    assert_eq!(members(&server, &cookie, "NIGHTLY").await?, 19);
    let tryback = partly["tryback"].as_str().unwrap_or_default();
    assert!(
        tryback.starts_with("tryback/cohorts_tryback_") && tryback.ends_with(".csv"),
        "{partly}"
    );
    assert_eq!(
        std::fs::read_to_string(folder.join(tryback))?,
        "cmd;cname;userid;cidnumber\r\nadd;Nightly NIGHTLY;U99999;NIGHTLY\r\n\
         remove;Nightly NIGHTLY;U00001;NIGHTLY\r\n"
    );

    // A script pushes instead of dropping: the same policy, the answer says what happened;
    // the same file pushed again is not applied twice.
    let pushed = nightly("NIGHTLY", 1..=21, "");
    for (expected_status, expected_outcome) in [
        (StatusCode::CREATED, "applied"),
        (StatusCode::OK, "already_applied"),
    ] {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(pushed.clone().into_bytes()).file_name("push.csv"),
        );
        let response = client()
            .post(server.at("/api/changesets?policy=auto"))
            .header(COOKIE, &cookie)
            .multipart(form)
            .send()
            .await?;
        assert_eq!(response.status(), expected_status);
        let push: Value = response.json().await?;
        assert_eq!(push["outcome"], expected_outcome, "{push}");
    }
    assert_eq!(members(&server, &cookie, "NIGHTLY").await?, 21);

    // The history, newest first, and every step in the audit log.
    let status = get(&server, &cookie, "/api/sync").await?;
    let outcomes: Vec<&str> = status["runs"]
        .as_array()
        .map(|runs| runs.iter().filter_map(|r| r["outcome"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        outcomes,
        [
            "applied",
            "waiting",
            "waiting",
            "applied",
            "already_applied",
            "applied"
        ]
    );
    let audit = get(&server, &cookie, "/api/audit").await?;
    let actions: Vec<&str> = audit
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    assert!(actions.contains(&"sync_waiting"), "{actions:?}");
    assert!(actions.contains(&"sync_already_applied"), "{actions:?}");
    if let Some(smtp) = smtp {
        smtp.stop().await?;
    }
    server.stop().await
}

fn count_files(folder: &Path) -> usize {
    fn walk(dir: &Path) -> usize {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| {
                        let path = e.path();
                        if path.is_dir() { walk(&path) } else { 1 }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    walk(folder)
}

#[tokio::test]
async fn nightly_files_on_sqlite() -> anyhow::Result<()> {
    nightly_files(None, "nightly_files_on_sqlite").await
}

#[tokio::test]
async fn nightly_files_on_postgres() -> anyhow::Result<()> {
    let Some(url) = postgres_url("nightly_files_on_postgres").await else {
        return Ok(());
    };
    nightly_files(Some(&url), "nightly_files_on_postgres").await
}

/// A power cut in the middle of a run: the server is killed with SIGKILL at a random
/// moment of a run taking a 4,000-row file (within the time an uncut run takes), started
/// again, and the task run again. Each file is applied exactly once, whatever the moment,
/// and archived.
async fn power_cut_mid_run(database_url: Option<&str>) -> anyhow::Result<()> {
    const USERS: usize = 4_000;
    const ROUNDS: usize = 6;
    let mut server = Server::start_with(database_url, &["--sync-settle-seconds", "0"]).await?;
    server.import("users", &users(USERS)).await?;
    server.add_account("admin", "admin", ADMIN_PASSWORD).await?;
    let mut cookie = server.sign_in("admin", ADMIN_PASSWORD).await?;
    set_sync(&server, &cookie, json!({"auto_apply": true})).await?;
    let folder = server.data_dir().join("sync");
    // One run uncut, timed: the kills fall within that time, each at a random moment.
    drop_file(&folder, "cohorts.csv", &nightly("WARM", 1..=USERS, ""))?;
    let started = std::time::Instant::now();
    assert_eq!(run_one(&server, &cookie).await?["outcome"], "applied");
    let run_ms = started.elapsed().as_millis().max(20) as u64;
    eprintln!("an uncut run of {USERS} rows takes {run_ms} ms");
    for round in 1..=ROUNDS {
        let idnumber = format!("CUT{round}");
        drop_file(&folder, "cohorts.csv", &nightly(&idnumber, 1..=USERS, ""))?;
        let url = server.at("/api/sync/run");
        let run_cookie = cookie.clone();
        let run =
            tokio::spawn(async move { client().post(url).header(COOKIE, run_cookie).send().await });
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .subsec_nanos();
        let delay = u64::from(nanos) % run_ms;
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
        server = server.kill_and_restart().await?;
        let _ = run.await;
        cookie = server.sign_in("admin", ADMIN_PASSWORD).await?;
        let (status, report) = run_now(&server, &cookie).await?;
        assert_eq!(status, StatusCode::OK, "round {round}: {report}");
        assert!(
            !folder.join("cohorts.csv").exists(),
            "round {round} (killed after {delay} ms): the file is still there: {report}"
        );
        assert_eq!(
            members(&server, &cookie, &idnumber).await?,
            USERS,
            "round {round} (killed after {delay} ms): {report}"
        );
        let made: Vec<Value> = changesets(&server, &cookie)
            .await?
            .into_iter()
            .filter(|c| c["status"] == "applied")
            .collect();
        assert_eq!(
            made.len(),
            round + 1,
            "round {round} (killed after {delay} ms): one applied changeset per file"
        );
    }
    server.stop().await
}

#[tokio::test]
async fn power_cut_mid_run_on_sqlite() -> anyhow::Result<()> {
    power_cut_mid_run(None).await
}

#[tokio::test]
async fn power_cut_mid_run_on_postgres() -> anyhow::Result<()> {
    let Some(url) = postgres_url("power_cut_mid_run_on_postgres").await else {
        return Ok(());
    };
    power_cut_mid_run(Some(&url)).await
}

/// Two servers on one PostgreSQL never run the task at once: while another holds the
/// database's lock (here, the test itself), *Run now* answers `409 sync_running` and
/// takes nothing.
#[tokio::test]
async fn the_database_lock_keeps_two_servers_apart() -> anyhow::Result<()> {
    let Some(url) = postgres_url("the_database_lock_keeps_two_servers_apart").await else {
        return Ok(());
    };
    let server = Server::start_with(Some(&url), &["--sync-settle-seconds", "0"]).await?;
    server.import("users", &users(3)).await?;
    server.add_account("admin", "admin", ADMIN_PASSWORD).await?;
    let cookie = server.sign_in("admin", ADMIN_PASSWORD).await?;
    let folder = server.data_dir().join("sync");
    drop_file(&folder, "cohorts.csv", &nightly("LOCKED", 1..=3, ""))?;
    sqlx::any::install_default_drivers();
    let mut other = <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(0x636f_686f_7274_7379_i64)
        .execute(&mut other)
        .await?;
    let (status, body) = run_now(&server, &cookie).await?;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "sync_running", "{body}");
    assert!(folder.join("cohorts.csv").exists());
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(0x636f_686f_7274_7379_i64)
        .execute(&mut other)
        .await?;
    let file = run_one(&server, &cookie).await?;
    assert_eq!(file["outcome"], "waiting", "{file}");
    assert_eq!(file["waiting"], "policy", "{file}");
    server.stop().await
}

/// What cannot be read gets a report entry, not a crash: a folder where the file should
/// be, a link to nothing.
#[tokio::test]
async fn unreadable_entries_are_reported() -> anyhow::Result<()> {
    let server = Server::start_with(None, &["--sync-settle-seconds", "0"]).await?;
    server.add_account("admin", "admin", ADMIN_PASSWORD).await?;
    let cookie = server.sign_in("admin", ADMIN_PASSWORD).await?;
    let folder = server.data_dir().join("sync");
    std::fs::create_dir_all(folder.join("cohorts.csv"))?;
    std::os::unix::fs::symlink(
        folder.join("nowhere.csv"),
        folder.join("cohortscourses.csv"),
    )?;
    let (status, report) = run_now(&server, &cookie).await?;
    assert_eq!(status, StatusCode::OK, "{report}");
    let files = report["files"].as_array().cloned().unwrap_or_default();
    assert_eq!(files.len(), 2, "{report}");
    assert_eq!(files[0]["outcome"], "unreadable");
    assert!(
        files[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("folder"),
        "{report}"
    );
    assert_eq!(files[1]["outcome"], "unreadable");
    assert!(
        files[1]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("link"),
        "{report}"
    );
    server.stop().await
}

/// On a Moodle site the task writes into Moodle: a dropped file that adds a member to a
/// bound cohort is applied under the policy, and Moodle has the member and the enrolment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_moodle_a_dropped_file_is_applied_into_moodle() -> anyhow::Result<()> {
    use cohortsync_e2e::{load_moodle_site, mariadb_url, moodle_fixtures};
    use sqlx::Connection;
    let test = "on_moodle_a_dropped_file_is_applied_into_moodle";
    let Some(fixtures) = moodle_fixtures(test) else {
        return Ok(());
    };
    sqlx::any::install_default_drivers();
    for url in [postgres_url(test).await, mariadb_url(test).await]
        .into_iter()
        .flatten()
    {
        load_moodle_site(&url, &fixtures).await?;
        let server = Server::start_on_moodle(&url, &["--sync-settle-seconds", "0"]).await?;
        server.add_account("admin", "admin", ADMIN_PASSWORD).await?;
        let cookie = server.sign_in("admin", ADMIN_PASSWORD).await?;
        set_sync(&server, &cookie, json!({"auto_apply": true})).await?;
        // E20260020 joins Maths TD1, bound to MATH102.
        let folder = server.data_dir().join("sync");
        drop_file(
            &folder,
            "cohorts.csv",
            "cmd;cidnumber;userid\nadd;CS-MATH-TD1;E20260020\n",
        )?;
        let file = run_one(&server, &cookie).await?;
        assert_eq!(file["outcome"], "applied", "{url}: {file}");
        let mut moodle = sqlx::AnyConnection::connect(&url).await?;
        let enrolled: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM mdl_user_enrolments ue \
             JOIN mdl_enrol e ON e.id = ue.enrolid \
             JOIN mdl_cohort c ON c.id = e.customint1 \
             JOIN mdl_user u ON u.id = ue.userid \
             WHERE e.enrol = 'cohort' AND c.idnumber = 'CS-MATH-TD1' \
             AND u.idnumber = 'E20260020' AND ue.status = 0",
        )
        .fetch_one(&mut moodle)
        .await?;
        assert_eq!(
            enrolled, 1,
            "{url}: the member is enrolled through the binding"
        );
        let members: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM mdl_cohort_members cm JOIN mdl_cohort c ON c.id = cm.cohortid \
             JOIN mdl_user u ON u.id = cm.userid \
             WHERE c.idnumber = 'CS-MATH-TD1' AND u.idnumber = 'E20260020'",
        )
        .fetch_one(&mut moodle)
        .await?;
        assert_eq!(members, 1, "{url}");
        server.stop().await?;
    }
    Ok(())
}
