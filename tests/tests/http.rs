//! The real binary over HTTP, on SQLite and (when configured) PostgreSQL.

use cohortsync_e2e::{Server, postgres_url};
use serde_json::Value;

async fn health(server: &Server) -> anyhow::Result<Value> {
    let response = reqwest::get(server.at("/api/health")).await?;
    assert_eq!(response.status(), 200);
    Ok(response.json().await?)
}

#[tokio::test]
async fn health_names_version_and_sqlite() -> anyhow::Result<()> {
    let server = Server::start_sqlite().await?;
    let body = health(&server).await?;
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], cohortsync_shared::VERSION);
    assert_eq!(body["database"], "sqlite");
    server.stop().await
}

#[tokio::test]
async fn health_names_postgres() -> anyhow::Result<()> {
    let Some(url) = postgres_url("health_names_postgres").await else {
        return Ok(());
    };
    let server = Server::start(Some(&url)).await?;
    assert_eq!(health(&server).await?["database"], "postgres");
    server.stop().await
}

#[tokio::test]
async fn unknown_api_path_is_a_json_404_and_other_paths_serve_the_app() -> anyhow::Result<()> {
    let server = Server::start_sqlite().await?;

    let response = reqwest::get(server.at("/api/no-such-thing")).await?;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await?;
    assert_eq!(body["error"]["code"], "not_found");

    for path in ["/", "/changesets/7", "/cohorts"] {
        let response = reqwest::get(server.at(path)).await?;
        assert_eq!(response.status(), 200, "{path}");
        let html = response.text().await?;
        assert!(html.contains("<title>cohortsync</title>"), "{path}: {html}");
    }
    server.stop().await
}

#[tokio::test]
async fn missing_web_app_stops_the_server_with_how_to_build_it() -> anyhow::Result<()> {
    let empty = tempfile::tempdir()?;
    let output = tokio::process::Command::new(cohortsync_e2e::binary_path()?)
        .args(["serve", "--bind", "127.0.0.1:0", "--assets-dir"])
        .arg(empty.path())
        .arg("--data-dir")
        .arg(empty.path())
        .output()
        .await?;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("trunk build --release"), "{stderr}");
    Ok(())
}
