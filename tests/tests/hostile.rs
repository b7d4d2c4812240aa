//! Files built to hurt: the real server must answer each with a clear diagnostic or a 4xx,
//! never a 500, and never hold memory in proportion to the problems a file has.

use cohortsync_e2e::Server;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};

async fn teacher(server: &Server) -> anyhow::Result<String> {
    let (code, out) = server
        .cli(
            &["account", "add", "prof", "--role", "teacher"],
            "prof-password\n",
        )
        .await?;
    assert_eq!(code, 0, "{out}");
    let response = cohortsync_e2e::client()
        .post(server.at("/api/login"))
        .json(&json!({"username": "prof", "password": "prof-password"}))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()[SET_COOKIE].to_str()?;
    Ok(cookie.split(';').next().unwrap_or_default().to_owned())
}

async fn submit(
    server: &Server,
    cookie: &str,
    file: Vec<u8>,
) -> anyhow::Result<(StatusCode, Value)> {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(file).file_name("hostile.csv"),
    );
    let response = cohortsync_e2e::client()
        .post(server.at("/api/changesets"))
        .header(COOKIE, cookie)
        .multipart(form)
        .send()
        .await?;
    let status = response.status();
    Ok((status, response.json().await?))
}

/// 45 MB of one-letter lines under a cohort header: 23 million rows, each an error. Before
/// reports were bounded, 2 MB of this took 1.5 GB.
#[tokio::test]
async fn a_45_mb_file_of_errors_is_refused_with_a_page_while_memory_stays_bounded()
-> anyhow::Result<()> {
    let server = Server::start_sqlite().await?;
    let cookie = teacher(&server).await?;
    let mut file = b"cidnumber\n".to_vec();
    file.resize(45 * 1024 * 1024, b'x');
    for pair in file[10..].chunks_exact_mut(2) {
        pair[1] = b'\n';
    }
    let rows = (file.len() - 10) / 2;
    let (status, body) = submit(&server, &cookie, file).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let report = &body["error"]["details"];
    assert_eq!(report["summary"]["rows"], rows);
    assert_eq!(report["summary"]["errors"], rows);
    assert_eq!(report["truncated"], true);
    let listed = report["diagnostics"].as_array().map_or(0, Vec::len);
    assert_eq!(listed, cohortsync_shared::report::PAGE_ROWS);
    assert_eq!(report["omitted"], rows - listed);
    assert_eq!(report["diagnostics"][0]["line"], 2);
    let peak = server.peak_rss_kib()?;
    eprintln!("peak RSS of the server after a 45 MB file of {rows} errors: {peak} KiB");
    assert!(peak < 1024 * 1024, "the server held {peak} KiB");
    // And it still serves.
    let health = reqwest::get(server.at("/api/health")).await?;
    assert_eq!(health.status(), StatusCode::OK);
    server.stop().await
}
