//! A power cut during an apply: the real server is killed with SIGKILL at a random moment
//! while it applies a 100,000-row changeset, twenty times per database. After each restart
//! the site is exactly as before or exactly as after, the changeset's status says which,
//! and applying again (when it had not applied) works.

use cohortsync_e2e::{Server, client, postgres_url};
use reqwest::StatusCode;
use reqwest::header::COOKIE;
use serde_json::{Value, json};

const USERS: usize = 5_000;
const COHORTS: usize = 20;
const ROUNDS: usize = 20;

async fn login(server: &Server) -> anyhow::Result<String> {
    server.sign_in("admin", "admin-password").await
}

async fn snapshot(server: &Server, cookie: &str) -> anyhow::Result<Value> {
    let response = client()
        .get(server.at("/api/snapshot"))
        .header(COOKIE, cookie)
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    Ok(response.json().await?)
}

async fn post(server: &Server, cookie: &str, path: &str) -> anyhow::Result<(StatusCode, Value)> {
    let response = client()
        .post(server.at(path))
        .header(COOKIE, cookie)
        .json(&json!({}))
        .send()
        .await?;
    let status = response.status();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

/// The site without its revision and without the cohorts of `round`.
fn without_round(mut site: Value, round: usize) -> Value {
    site["revision"] = Value::Null;
    let prefix = format!("CRASH{round}-");
    if let Some(cohorts) = site["cohorts"].as_array_mut() {
        cohorts.retain(|c| {
            !c["idnumber"]
                .as_str()
                .unwrap_or_default()
                .starts_with(&prefix)
        });
    }
    site
}

fn members_of_round(site: &Value, round: usize) -> usize {
    let prefix = format!("CRASH{round}-");
    site["cohorts"]
        .as_array()
        .map(|cohorts| {
            cohorts
                .iter()
                .filter(|c| {
                    c["idnumber"]
                        .as_str()
                        .unwrap_or_default()
                        .starts_with(&prefix)
                })
                .map(|c| c["members"].as_array().map_or(0, Vec::len))
                .sum()
        })
        .unwrap_or(0)
}

async fn power_cuts(database_url: Option<&str>, label: &str) -> anyhow::Result<()> {
    let mut server = Server::start(database_url).await?;
    let (code, out) = server
        .cli(
            &["account", "add", "admin", "--role", "admin"],
            "admin-password\n",
        )
        .await?;
    assert_eq!(code, 0, "{out}");
    let mut users = String::from("username,idnumber,email,firstname,lastname\n");
    for n in 0..USERS {
        users.push_str(&format!(
            "u{n},E{n:06},u{n}@univ.example,Prénom{n},Nom{n}\n"
        ));
    }
    server.import("users", &users).await?;
    // A pseudo-random moment in each round, the same every run.
    let mut seed: u64 = 0x2026_1201;
    let mut random = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut before_count, mut after_count) = (0, 0);
    for round in 0..ROUNDS {
        let mut cookie = login(&server).await?;
        let mut file = String::from("cmd;cname;userid;cidnumber\n");
        for cohort in 0..COHORTS {
            for user in 0..USERS {
                file.push_str(&format!(
                    "add;Crash {round} {cohort};E{user:06};CRASH{round}-{cohort}\n"
                ));
            }
        }
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(file.into_bytes()).file_name("crash.csv"),
        );
        let response = client()
            .post(server.at("/api/changesets"))
            .header(COOKIE, &cookie)
            .multipart(form)
            .send()
            .await?;
        assert_eq!(response.status(), StatusCode::CREATED);
        let id = response.json::<Value>().await?["id"]
            .as_i64()
            .unwrap_or_default();
        let started = std::time::Instant::now();
        let (status, body) =
            post(&server, &cookie, &format!("/api/changesets/{id}/approve")).await?;
        assert_eq!(status, StatusCode::OK, "{body}");
        // The apply plans again (as long as the approval did) and then writes: the cut
        // falls anywhere from the request to well after the answer would have come.
        let span = started.elapsed().as_millis() as u64 * 3 + 200;
        let before = snapshot(&server, &cookie).await?;
        let apply_url = server.at(&format!("/api/changesets/{id}/apply"));
        let apply = tokio::spawn({
            let cookie = cookie.clone();
            async move { client().post(apply_url).header(COOKIE, cookie).send().await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(random() % span)).await;
        server = server.kill_and_restart().await?;
        let _ = apply.await;
        cookie = login(&server).await?;
        let now = snapshot(&server, &cookie).await?;
        let detail: Value = client()
            .get(server.at(&format!("/api/changesets/{id}")))
            .header(COOKIE, &cookie)
            .send()
            .await?
            .json()
            .await?;
        let status = detail["status"].as_str().unwrap_or_default().to_owned();
        if now == before {
            before_count += 1;
            assert_eq!(
                status, "approved",
                "{label} round {round}: as before but {status}"
            );
            let (code, body) =
                post(&server, &cookie, &format!("/api/changesets/{id}/apply")).await?;
            assert_eq!(
                code,
                StatusCode::OK,
                "{label} round {round}: applying again: {body}"
            );
        } else {
            after_count += 1;
            assert_eq!(
                status, "applied",
                "{label} round {round}: changed but {status}"
            );
            assert_eq!(
                without_round(now.clone(), round),
                without_round(before.clone(), round),
                "{label} round {round}: the site is neither as before nor as after"
            );
            assert_eq!(
                members_of_round(&now, round),
                USERS * COHORTS,
                "{label} round {round}"
            );
        }
        let applied = snapshot(&server, &cookie).await?;
        assert_eq!(
            members_of_round(&applied, round),
            USERS * COHORTS,
            "{label} round {round}"
        );
        // Undone, so that the site stays the same size round after round.
        let (code, body) = post(&server, &cookie, &format!("/api/changesets/{id}/revert")).await?;
        assert_eq!(
            code,
            StatusCode::OK,
            "{label} round {round}: revert: {body}"
        );
    }
    eprintln!(
        "{label}: {ROUNDS} power cuts during a {}-row apply: {before_count} left the site as before \
         (then applied again), {after_count} as after",
        USERS * COHORTS
    );
    server.stop().await
}

#[tokio::test]
async fn a_power_cut_during_an_apply_leaves_the_site_before_or_after_on_sqlite()
-> anyhow::Result<()> {
    power_cuts(None, "SQLite").await
}

#[tokio::test]
async fn a_power_cut_during_an_apply_leaves_the_site_before_or_after_on_postgres()
-> anyhow::Result<()> {
    let Some(url) = postgres_url("a_power_cut_during_an_apply_on_postgres").await else {
        return Ok(());
    };
    power_cuts(Some(&url), "PostgreSQL").await
}
