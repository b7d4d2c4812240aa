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
async fn a_copied_binary_alone_serves_the_web_app_with_the_right_cache_headers()
-> anyhow::Result<()> {
    // One file, copied to a directory with nothing else, started from yet another one.
    let elsewhere = tempfile::tempdir()?;
    let copy = elsewhere.path().join("cohortsync");
    std::fs::copy(cohortsync_e2e::binary_path()?, &copy)?;
    let cwd = tempfile::tempdir()?;
    let server = Server::start_copy(&copy, cwd.path()).await?;

    let index = reqwest::get(server.at("/")).await?;
    assert_eq!(index.status(), 200);
    assert_eq!(index.headers()["content-type"], "text/html");
    assert_eq!(index.headers()["cache-control"], "no-cache");
    let etag = index.headers()["etag"].to_str()?.to_owned();
    let html = index.text().await?;
    assert!(html.contains("<title>cohortsync</title>"), "{html}");

    // A client-side route is the app too; an unchanged file is a 304 without a body.
    let route = reqwest::get(server.at("/changesets/7")).await?;
    assert_eq!(route.text().await?, html);
    let again = cohortsync_e2e::client()
        .get(server.at("/index.html"))
        .header("if-none-match", &etag)
        .send()
        .await?;
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await?.is_empty());

    // The bundle index.html names is named by its hash: cached for good.
    let wasm = html
        .split(['"', '\''])
        .find(|part| part.ends_with("_bg.wasm") && part.starts_with('/'))
        .expect("index.html names the app's wasm");
    let response = reqwest::get(server.at(wasm)).await?;
    assert_eq!(response.status(), 200, "{wasm}");
    assert_eq!(response.headers()["content-type"], "application/wasm");
    assert_eq!(
        response.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(response.bytes().await?.starts_with(b"\0asm"));

    // The service worker must be revalidated, or a new version would never reach anyone.
    let worker = reqwest::get(server.at("/sw.js")).await?;
    assert_eq!(worker.status(), 200);
    assert_eq!(worker.headers()["cache-control"], "no-cache");
    assert!(
        worker.headers()["content-type"]
            .to_str()?
            .contains("javascript")
    );
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

/// A TCP relay to a server that a test can cut (every connection dropped, new ones
/// refused) and restore: a database going away and coming back.
struct Relay {
    port: u16,
    cut: tokio::sync::watch::Sender<bool>,
}

impl Relay {
    async fn to(upstream: std::net::SocketAddr) -> anyhow::Result<Relay> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let (cut, watch) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut watch = watch.clone();
                if *watch.borrow() {
                    continue; // dropped at once: the database is gone
                }
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = watch.wait_for(|cut| *cut) => {}
                    }
                });
            }
        });
        Ok(Relay { port, cut })
    }
}

#[tokio::test]
async fn a_database_outage_answers_503_quickly_and_the_server_recovers_by_itself()
-> anyhow::Result<()> {
    let Some(url) = postgres_url("a_database_outage_answers_503").await else {
        return Ok(());
    };
    // postgres://user@127.0.0.1:5432/db → the same through the relay.
    let (before, after) = url.split_once('@').expect("a user in the URL");
    let (host_port, database) = after.split_once('/').expect("a database in the URL");
    let upstream: std::net::SocketAddr = tokio::net::lookup_host(host_port)
        .await?
        .next()
        .expect("the PostgreSQL address");
    let relay = Relay::to(upstream).await?;
    let relayed = format!("{before}@127.0.0.1:{}/{database}", relay.port);
    let server = Server::start(Some(&relayed)).await?;
    let client = cohortsync_e2e::client();
    let me = server.at("/api/me");
    let login = server.at("/api/login");
    assert_eq!(health(&server).await?["status"], "ok");

    relay.cut.send(true)?;
    for _ in 0..3 {
        let response = reqwest::get(server.at("/api/health")).await?;
        assert_eq!(response.status(), 503);
        let body: Value = response.json().await?;
        assert_eq!(body["error"]["code"], "database_unavailable");
        let response = client
            .get(&me)
            .header("cookie", "cohortsync_session=abc")
            .send()
            .await?;
        assert_eq!(response.status(), 503, "{}", response.text().await?);
        let response = client
            .post(&login)
            .json(&serde_json::json!({"username": "admin", "password": "x"}))
            .send()
            .await?;
        assert_eq!(response.status(), 503, "{}", response.text().await?);
    }

    relay.cut.send(false)?;
    let mut recovered = false;
    for _ in 0..50 {
        if reqwest::get(server.at("/api/health")).await?.status() == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(
        recovered,
        "the server did not recover when the database came back"
    );
    let response = client.get(&me).send().await?;
    assert_eq!(response.status(), 401);
    server.stop().await
}
