//! Files built to hurt: the real server must answer each with a clear diagnostic or a 4xx,
//! never a 500, and never hold memory in proportion to the problems a file has.

use cohortsync_e2e::Server;
use reqwest::StatusCode;
use reqwest::header::COOKIE;
use serde_json::Value;

async fn teacher(server: &Server) -> anyhow::Result<String> {
    server
        .add_account("prof", "teacher", "prof-password")
        .await?;
    server.sign_in("prof", "prof-password").await
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
    assert_eq!(listed, cohortsync_shared::api::REFUSAL_ERRORS);
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

/// What one hostile file gets: the command line's exit code and codes, the API's status
/// and codes.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Outcome {
    cli_exit: i32,
    cli_codes: Vec<String>,
    http_status: u16,
    http_codes: Vec<String>,
}

fn codes_of(report: &Value) -> Vec<String> {
    report["codes"]
        .as_object()
        .map(|codes| codes.keys().cloned().collect())
        .unwrap_or_default()
}

/// Every file of `tests/hostile/` (made by its `make.py`) through `cohortsync validate` and
/// `POST /api/changesets`: a clear diagnostic or a 4xx each, never a crash or a 500, the
/// server's memory bounded; the codes each gets are in `expected.json`
/// (`BLESS=1` rewrites it after a deliberate change).
#[tokio::test]
async fn every_hostile_file_gets_a_diagnostic_or_a_4xx_and_never_a_500() -> anyhow::Result<()> {
    let dir = cohortsync_e2e::repo_root().join("tests/hostile");
    let snapshot = cohortsync_e2e::repo_root().join("shared/tests/golden/snapshot.json");
    let mut names: Vec<String> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".csv"))
        .collect();
    names.sort();
    assert!(names.len() >= 50, "only {} hostile files", names.len());
    let server = Server::start_sqlite().await?;
    let cookie = teacher(&server).await?;
    let mut found = std::collections::BTreeMap::new();
    for name in &names {
        let path = dir.join(name);
        let output = tokio::process::Command::new(cohortsync_e2e::binary_path()?)
            .arg("validate")
            .arg(&path)
            .arg("--snapshot")
            .arg(&snapshot)
            .args(["--format", "json"])
            .output()
            .await?;
        let cli_exit = output.status.code().unwrap_or(-1);
        assert!(
            cli_exit == 0 || cli_exit == 1,
            "{name}: validate exited {cli_exit}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{name}: validate printed no JSON report: {e}"));
        let (status, body) = submit(&server, &cookie, std::fs::read(&path)?).await?;
        assert!(
            status.is_success() || status.is_client_error(),
            "{name}: the API answered {status}: {body}"
        );
        found.insert(
            name.clone(),
            Outcome {
                cli_exit,
                cli_codes: codes_of(&report),
                http_status: status.as_u16(),
                http_codes: codes_of(&body["error"]["details"]),
            },
        );
    }
    let peak = server.peak_rss_kib()?;
    eprintln!(
        "peak RSS of the server after {} hostile files: {peak} KiB",
        names.len()
    );
    assert!(peak < 512 * 1024, "the server held {peak} KiB");
    let expected_path = dir.join("expected.json");
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&expected_path, serde_json::to_string_pretty(&found)? + "\n")?;
    }
    let expected: std::collections::BTreeMap<String, Outcome> =
        serde_json::from_slice(&std::fs::read(&expected_path)?)?;
    let mut differences = Vec::new();
    for (name, outcome) in &found {
        match expected.get(name) {
            Some(want) if want == outcome => {}
            want => differences.push(format!("{name}: expected {want:?}, got {outcome:?}")),
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    assert_eq!(
        expected.len(),
        found.len(),
        "expected.json lists files that are gone"
    );
    server.stop().await
}
