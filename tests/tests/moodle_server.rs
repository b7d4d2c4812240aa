//! A server whose site is a Moodle database, over HTTP, on the fixture site in scratch
//! PostgreSQL and MariaDB databases: `/api/health` names it; a teacher's snapshot carries
//! no name, username or email read from Moodle; the revision follows changes made in
//! Moodle itself, with `304` for an unchanged one; the unenrol action is Moodle's, shown and
//! not changed by cohortsync.

use std::time::Duration;

use cohortsync_e2e::{
    Server, client, load_moodle_site, mariadb_url, moodle_fixtures, postgres_url,
};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, ETAG, IF_NONE_MATCH};
use serde_json::{Value, json};
use sqlx::{AnyConnection, Connection};

async fn get(server: &Server, cookie: &str, path: &str) -> anyhow::Result<(StatusCode, Value)> {
    let response = client()
        .get(server.at(path))
        .header(COOKIE, cookie)
        .send()
        .await?;
    let status = response.status();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

async fn one_site(url: &str) -> anyhow::Result<()> {
    let server = Server::start_on_moodle(url, &[]).await?;
    server
        .add_account("admin", "admin", "admin-password")
        .await?;
    server
        .add_account("prof", "teacher", "teacher-password")
        .await?;
    let admin = server.sign_in("admin", "admin-password").await?;
    let teacher = server.sign_in("prof", "teacher-password").await?;

    let health: Value = client()
        .get(server.at("/api/health"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(health["site"], "moodle", "{health}");
    assert_eq!(health["database"], "sqlite", "{health}");

    // The teacher's snapshot: Moodle's users as keyed hashes only.
    let response = client()
        .get(server.at("/api/snapshot"))
        .header(COOKIE, &teacher)
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.text().await?;
    for clear in ["timothee.faure", "univ-fixture.fr", "Faure", "E20260056"] {
        assert!(!body.contains(clear), "a teacher received {clear:?}");
    }
    let snapshot: Value = serde_json::from_str(&body)?;
    // In the compact form: users as columns.
    assert_eq!(snapshot["users"]["ids"].as_array().map(Vec::len), Some(117));
    let read = cohortsync_shared::snapshot::Snapshot::from_json(body.as_bytes())?;
    assert_eq!(read.users.len(), 117);
    assert!(
        read.users
            .iter()
            .all(|u| u.hashes.as_ref().is_some_and(|h| !h.username.is_empty()))
    );
    // The admin's has them.
    let (_, admin_snapshot) = get(&server, &admin, "/api/snapshot").await?;
    assert!(admin_snapshot.to_string().contains("timothee.faure"));

    // The revision is the content's: unchanged, 304; changed in Moodle, a new one.
    let first = client()
        .get(server.at("/api/snapshot"))
        .header(COOKIE, &admin)
        .send()
        .await?;
    let tag = first.headers()[ETAG].to_str()?.to_owned();
    let again = client()
        .get(server.at("/api/snapshot"))
        .header(COOKIE, &admin)
        .header(IF_NONE_MATCH, &tag)
        .send()
        .await?;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    let mut moodle = AnyConnection::connect(url).await?;
    sqlx::raw_sql(
        "UPDATE mdl_cohort SET name = 'Licence 1 Lettres 2026 (renamed in Moodle)' \
         WHERE idnumber = 'L1-LET-2026'",
    )
    .execute(&mut moodle)
    .await?;
    // The snapshot is read from Moodle at most every 5 seconds.
    tokio::time::sleep(Duration::from_millis(5_500)).await;
    let changed = client()
        .get(server.at("/api/snapshot"))
        .header(COOKIE, &admin)
        .header(IF_NONE_MATCH, &tag)
        .send()
        .await?;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_ne!(changed.headers()[ETAG].to_str()?, tag);
    assert!(changed.text().await?.contains("renamed in Moodle"));

    // Moodle's unenrol action: shown, fixed, refused when changed here.
    let (status, settings) = get(&server, &admin, "/api/settings").await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(settings["options"]["unenrol_action"], "unenrol");
    assert_eq!(settings["fixed_by_site"], json!(["unenrol_action"]));
    let mut options = settings["options"].clone();
    options["unenrol_action"] = json!("suspend");
    let response = client()
        .put(server.at("/api/settings"))
        .header(COOKIE, &admin)
        .json(&json!({"options": options}))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await?;
    assert_eq!(body["error"]["code"], "set_in_moodle", "{body}");
    // Other defaults are cohortsync's own and saved.
    let mut options = settings["options"].clone();
    options["max_removals"] = json!(7);
    let response = client()
        .put(server.at("/api/settings"))
        .header(COOKIE, &admin)
        .json(&json!({"options": options}))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let (_, settings) = get(&server, &admin, "/api/settings").await?;
    assert_eq!(settings["options"]["max_removals"], 7);
    server.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moodle_backed_server_keeps_privacy_revisions_and_moodles_settings() -> anyhow::Result<()>
{
    let test = "a_moodle_backed_server_keeps_privacy_revisions_and_moodles_settings";
    let Some(fixtures) = moodle_fixtures(test) else {
        return Ok(());
    };
    for url in [postgres_url(test).await, mariadb_url(test).await]
        .into_iter()
        .flatten()
    {
        load_moodle_site(&url, &fixtures).await?;
        one_site(&url).await?;
    }
    Ok(())
}
