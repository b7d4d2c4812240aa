//! `kill -9` of a server in the middle of an apply into Moodle, ten times per database: Moodle
//! holds either nothing of the changeset or all of it, never a part; after a restart the
//! changeset ends applied exactly once (applied again when nothing landed; refused as
//! drift or as already applied when it had).

use std::time::Duration;

use anyhow::{Context, bail};
use cohortsync_e2e::moodle_site::{Scale, generate};
use cohortsync_e2e::{Server, client, mariadb_url, moodle_fixtures, postgres_url};
use reqwest::StatusCode;
use reqwest::header::COOKIE;
use serde_json::{Value, json};
use sqlx::{AnyConnection, Connection, Row};

const SCALE: Scale = Scale {
    users: 20_000,
    cohorts: 100,
    members: 50,
    courses: 100,
};
const ADDED_PER_COHORT: u64 = 100;
const ADDED: i64 = (SCALE.cohorts * ADDED_PER_COHORT) as i64;
const TABLES: [&str; 4] = [
    "mdl_cohort_members",
    "mdl_user_enrolments",
    "mdl_role_assignments",
    "mdl_groups_members",
];

fn additions() -> String {
    let mut text = String::from("cmd;cidnumber;userid\n");
    for cohort in 1..=SCALE.cohorts {
        for k in SCALE.members..SCALE.members + ADDED_PER_COHORT {
            let slot = (cohort - 1) * SCALE.members + k;
            text.push_str(&format!("add;COH{cohort};user{}\n", slot % SCALE.users + 1));
        }
    }
    text
}

async fn counts(moodle: &mut AnyConnection) -> anyhow::Result<Vec<i64>> {
    let mut out = Vec::new();
    for table in TABLES.iter().chain(&["mdl_cache_flags"]) {
        let row = sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&mut *moodle)
            .await?;
        out.push(row.try_get(0)?);
    }
    Ok(out)
}

/// Takes the generated site back to before the apply: every row the apply wrote is stamped
/// now, the generated ones long ago.
async fn reset(moodle: &mut AnyConnection, since: i64) -> anyhow::Result<()> {
    for sql in [
        format!("DELETE FROM mdl_cohort_members WHERE timeadded >= {since}"),
        format!("DELETE FROM mdl_user_enrolments WHERE timecreated >= {since}"),
        format!("DELETE FROM mdl_role_assignments WHERE timemodified >= {since}"),
        format!("DELETE FROM mdl_groups_members WHERE timeadded >= {since}"),
        format!("DELETE FROM mdl_cache_flags WHERE timemodified >= {since}"),
    ] {
        sqlx::query(&sql).execute(&mut *moodle).await?;
    }
    Ok(())
}

async fn post(server: &Server, cookie: &str, path: &str) -> anyhow::Result<(StatusCode, Value)> {
    let response = client()
        .post(server.at(path))
        .header(COOKIE, cookie)
        .json(&json!({"comment": ""}))
        .send()
        .await?;
    let status = response.status();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

async fn crash_ten_times(base: Option<String>, name: &str) -> anyhow::Result<()> {
    let Some(base) = base else { return Ok(()) };
    let Some(fixtures) = moodle_fixtures(name) else {
        return Ok(());
    };
    let url = cohortsync_backend::store::create_scratch_database(&base).await?;
    generate(&url, &fixtures, SCALE).await?;
    let mut moodle = AnyConnection::connect(&url).await?;
    let before = counts(&mut moodle).await?;
    let mut server = Server::start_on_moodle(&url, &[]).await?;
    server
        .add_account("admin", "admin", "admin-password")
        .await?;
    let options = json!({"user_identifier": "username", "cohort_identifier": "idnumber",
                         "mode": "incremental"});
    let (mut landed_whole, mut landed_nothing) = (0, 0);
    for round in 0..10u64 {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs() as i64
            - 1;
        let admin = server.sign_in("admin", "admin-password").await?;
        let form = reqwest::multipart::Form::new()
            .part(
                "file",
                reqwest::multipart::Part::bytes(additions().into_bytes()).file_name("add.csv"),
            )
            .text("options", options.to_string());
        let response = client()
            .post(server.at("/api/changesets"))
            .header(COOKIE, &admin)
            .multipart(form)
            .send()
            .await?;
        if response.status() != StatusCode::CREATED {
            bail!("{name}: submit answered {}", response.status());
        }
        let id = response.json::<Value>().await?["id"]
            .as_i64()
            .context("no id")?;
        let (status, body) =
            post(&server, &admin, &format!("/api/changesets/{id}/approve")).await?;
        assert_eq!(status, StatusCode::OK, "{name}: {body}");
        // The apply starts; the server is killed somewhere in it.
        let apply = {
            let url = server.at(&format!("/api/changesets/{id}/apply"));
            let admin = admin.clone();
            tokio::spawn(async move { client().post(url).header(COOKIE, admin).send().await })
        };
        tokio::time::sleep(Duration::from_millis(100 + round * 120)).await;
        server = server.kill_and_restart().await?;
        let _ = apply.await;
        let now = counts(&mut moodle).await?;
        let whole: Vec<i64> = before
            .iter()
            .take(TABLES.len())
            .map(|n| n + ADDED)
            .collect();
        if now[..TABLES.len()] == before[..TABLES.len()] {
            landed_nothing += 1;
            assert_eq!(
                now[TABLES.len()],
                before[TABLES.len()],
                "{name}: flags without rows"
            );
        } else if now[..TABLES.len()] == whole[..] {
            landed_whole += 1;
        } else {
            panic!("{name} round {round}: a part of the apply landed: {now:?}, before {before:?}");
        }
        // After the restart the changeset ends applied once, whatever the kill interrupted.
        let admin = server.sign_in("admin", "admin-password").await?;
        let (status, body) = post(&server, &admin, &format!("/api/changesets/{id}/apply")).await?;
        let code = body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        match (status, code.as_str()) {
            (StatusCode::OK, _) => {}
            (StatusCode::CONFLICT, "drift" | "already_applied") => {}
            other => panic!("{name} round {round}: applying again answered {other:?}: {body}"),
        }
        let now = counts(&mut moodle).await?;
        assert_eq!(
            now[..TABLES.len()],
            whole[..],
            "{name} round {round}: not applied once"
        );
        reset(&mut moodle, since).await?;
        assert_eq!(counts(&mut moodle).await?, before, "{name}: the reset");
    }
    eprintln!(
        "{name}: of 10 kills, {landed_nothing} left Moodle untouched, {landed_whole} came after \
         the commit"
    );
    server.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_apply_leaves_moodle_whole_on_postgres() -> anyhow::Result<()> {
    let name = "kill_9_mid_apply_leaves_moodle_whole_on_postgres";
    crash_ten_times(postgres_url(name).await, name).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_apply_leaves_moodle_whole_on_mariadb() -> anyhow::Result<()> {
    let name = "kill_9_mid_apply_leaves_moodle_whole_on_mariadb";
    crash_ten_times(mariadb_url(name).await, name).await
}
