//! The whole server workflow against the real binary over HTTP: accounts and base data from
//! the command line, then a teacher submits a file and an admin approves and applies it.
//! On SQLite always; on PostgreSQL when `COHORTSYNC_TEST_POSTGRES_URL` is set.

use cohortsync_e2e::{Server, postgres_url};
use reqwest::StatusCode;
use reqwest::header::COOKIE;
use serde_json::{Value, json};

const USERS: &str = "username;idnumber;email;firstname;lastname\n\
jdupont;U0001;jean.dupont@univ.example;Jean;Dupont\n\
mmartin;U0002;marie.martin@univ.example;Marie;Martin\n";
const FILE: &str =
    "cmd;cname;userid;cidnumber\nadd;L2 Pharmacie;U0001;COH001\nadd;L2 Pharmacie;U0002;COH001\n";

async fn workflow(server: Server) -> anyhow::Result<()> {
    server
        .add_account("admin", "admin", "admin-password")
        .await?;
    server
        .add_account("prof", "teacher", "teacher-password")
        .await?;
    let dir = tempfile::tempdir()?;
    let users = dir.path().join("users.csv");
    std::fs::write(&users, USERS)?;
    let users = users.to_str().unwrap_or_default();
    let (code, out) = server.cli(&["import", "users", users], "").await?;
    assert_eq!(
        (code, out.trim_end()),
        (
            0,
            format!("{users}: 2 created, 0 updated, 0 unchanged").as_str()
        )
    );
    let (_, out) = server.cli(&["import", "users", users], "").await?;
    assert!(out.contains("0 created, 0 updated, 2 unchanged"), "{out}");

    let client = cohortsync_e2e::client();
    let teacher = server.sign_in("prof", "teacher-password").await?;
    let admin = server.sign_in("admin", "admin-password").await?;

    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(FILE.as_bytes()).file_name("l2.csv"),
        )
        .text("options", r#"{"mode": "incremental"}"#);
    let response = client
        .post(server.at("/api/changesets"))
        .header(COOKIE, &teacher)
        .multipart(form)
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    let submitted: Value = response.json().await?;
    assert_eq!(submitted["file_name"], "l2.csv");
    let id = submitted["id"].as_i64().unwrap_or_default();

    let approve = client
        .post(server.at(&format!("/api/changesets/{id}/approve")))
        .header(COOKIE, &admin)
        .json(&json!({"comment": "ok"}))
        .send()
        .await?;
    assert_eq!(approve.status(), StatusCode::OK);
    let applied = client
        .post(server.at(&format!("/api/changesets/{id}/apply")))
        .header(COOKIE, &admin)
        .send()
        .await?;
    assert_eq!(applied.status(), StatusCode::OK);
    let report: Value = applied.json().await?;
    assert_eq!(report["totals"]["members_added"], 2);

    // The snapshot comes compressed when asked, with the revision as its ETag.
    let response = client
        .get(server.at("/api/snapshot"))
        .header(COOKIE, &admin)
        .header("accept-encoding", "gzip")
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let etag = response.headers()["etag"].to_str()?.to_owned();
    assert_eq!(etag, format!("\"{}-admin\"", report["revision"]));
    let again = client
        .get(server.at("/api/snapshot"))
        .header(COOKIE, &admin)
        .header("if-none-match", &etag)
        .send()
        .await?;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    server.stop().await
}

#[tokio::test]
async fn teacher_submits_admin_applies_on_sqlite() -> anyhow::Result<()> {
    workflow(Server::start_sqlite().await?).await
}

#[tokio::test]
async fn teacher_submits_admin_applies_on_postgres() -> anyhow::Result<()> {
    let Some(url) = postgres_url("teacher_submits_admin_applies_on_postgres").await else {
        return Ok(());
    };
    workflow(Server::start(Some(&url)).await?).await
}
