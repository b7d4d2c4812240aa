//! Harness for cohortsync's end-to-end tests: start the real `cohortsync` binary on a
//! temporary database and a free port, and drive headless Chromium over WebDriver.
//!
//! The binary and the web app must be built first; `scripts/test` does both. Each helper
//! fails with a message saying what to run when something is missing.

#![deny(missing_docs)]

pub mod moodle_site;
pub mod moodle_tables;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The environment variable naming a PostgreSQL server for the tests that need one.
pub const POSTGRES_URL_VAR: &str = "COHORTSYNC_TEST_POSTGRES_URL";

/// The root of the source tree.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The built `cohortsync` binary: `COHORTSYNC_BIN`, or the one next to this test binary.
pub fn binary_path() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("COHORTSYNC_BIN") {
        return Ok(PathBuf::from(path));
    }
    // Test binaries live in target/<profile>/deps; the cohortsync binary in target/<profile>.
    let exe = std::env::current_exe()?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .context("test binary has no target directory")?;
    let binary = profile_dir.join(format!("cohortsync{}", std::env::consts::EXE_SUFFIX));
    if !binary.is_file() {
        bail!(
            "{} does not exist: build it first with `cargo build --bin cohortsync` \
             (scripts/test does), or set COHORTSYNC_BIN",
            binary.display()
        );
    }
    Ok(binary)
}

/// An HTTP client that talks as the web app's own pages do: browsers send
/// `Sec-Fetch-Site: same-origin` with them, and the server refuses unsafe requests made with
/// the session cookie from anywhere else.
pub fn client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "sec-fetch-site",
        reqwest::header::HeaderValue::from_static("same-origin"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("an HTTP client")
}

/// A running `cohortsync serve`, killed when dropped.
pub struct Server {
    child: Child,
    /// Base URL, e.g. `http://127.0.0.1:41234`, without a trailing slash.
    pub url: String,
    /// Holds the data directory (and the SQLite file) alive as long as the server.
    data_dir: tempfile::TempDir,
    database_url: Option<String>,
    extra_args: Vec<String>,
}

impl Server {
    /// Starts the server on a fresh SQLite file in a temporary data directory.
    pub async fn start_sqlite() -> anyhow::Result<Server> {
        Server::start(None).await
    }

    /// Starts the server on the given database URL (`None`: SQLite in the data directory).
    pub async fn start(database_url: Option<&str>) -> anyhow::Result<Server> {
        Server::start_in(tempfile::tempdir()?, database_url, Vec::new()).await
    }

    /// Starts the server on the given database URL (`None`: SQLite in the data directory)
    /// with `extra` flags.
    pub async fn start_with(database_url: Option<&str>, extra: &[&str]) -> anyhow::Result<Server> {
        let extra = extra.iter().map(|a| (*a).to_owned()).collect();
        Server::start_in(tempfile::tempdir()?, database_url, extra).await
    }

    /// The server's data directory (its sync folder is `sync` in it by default).
    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    /// Starts the server on a fresh SQLite file, its site a Moodle database (`postgres://…`
    /// or `mysql://…`), with `extra` flags.
    pub async fn start_on_moodle(moodle_url: &str, extra: &[&str]) -> anyhow::Result<Server> {
        let mut args = vec!["--moodle-db-url".to_owned(), moodle_url.to_owned()];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        Server::start_in(tempfile::tempdir()?, None, args).await
    }

    /// Starts `binary` (a copy of the server, anywhere) from the working directory `cwd`,
    /// with nothing but a data directory: what an admin who copied one file does.
    pub async fn start_copy(binary: &Path, cwd: &Path) -> anyhow::Result<Server> {
        let data_dir = tempfile::tempdir()?;
        let mut command = Command::new(binary);
        command.current_dir(cwd);
        Server::spawn(command, data_dir, None, Vec::new()).await
    }

    /// Kills the server with SIGKILL (no shutdown of any kind: a power cut) and starts it
    /// again on the same data directory and database.
    pub async fn kill_and_restart(self) -> anyhow::Result<Server> {
        let Server {
            mut child,
            data_dir,
            database_url,
            extra_args,
            ..
        } = self;
        child.kill().await?;
        Server::start_in(data_dir, database_url.as_deref(), extra_args).await
    }

    async fn start_in(
        data_dir: tempfile::TempDir,
        database_url: Option<&str>,
        extra_args: Vec<String>,
    ) -> anyhow::Result<Server> {
        // The web app the binary embeds: the one `trunk build` wrote before it was built.
        Server::spawn(
            Command::new(binary_path()?),
            data_dir,
            database_url,
            extra_args,
        )
        .await
    }

    async fn spawn(
        mut command: Command,
        data_dir: tempfile::TempDir,
        database_url: Option<&str>,
        extra_args: Vec<String>,
    ) -> anyhow::Result<Server> {
        command
            .arg("serve")
            .args(["--bind", "127.0.0.1:0"])
            .arg("--data-dir")
            .arg(data_dir.path())
            .env_remove("DATABASE_URL")
            .env_remove("COHORTSYNC_ASSETS_DIR")
            .env_remove("COHORTSYNC_MOODLE_DB_URL")
            .args(&extra_args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        if let Some(url) = database_url {
            command.args(["--database-url", url]);
        }
        let mut child = command.spawn().context("cannot start cohortsync")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let url = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(rest) = line.strip_prefix("cohortsync is listening on ") {
                    return Ok(rest.trim_end_matches('/').to_owned());
                }
            }
            bail!("cohortsync exited before listening (its errors are above)")
        })
        .await
        .context("cohortsync did not start listening within 60 s")??;
        // Keep reading stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Server {
            child,
            url,
            data_dir,
            database_url: database_url.map(str::to_owned),
            extra_args,
        })
    }

    /// The most memory the server's process has held so far (`VmHWM` of
    /// `/proc/PID/status`), in KiB.
    pub fn peak_rss_kib(&self) -> anyhow::Result<u64> {
        let pid = self.child.id().context("the server has exited")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmHWM in /proc/PID/status")
    }

    /// The full URL of `path` (which starts with `/`).
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// Runs `cohortsync ARGS… --data-dir … [--database-url …]` on the server's database,
    /// with `stdin` as standard input; returns the exit code and standard output.
    pub async fn cli(&self, args: &[&str], stdin: &str) -> anyhow::Result<(i32, String)> {
        use tokio::io::AsyncWriteExt;
        let mut command = Command::new(binary_path()?);
        command
            .args(args)
            .arg("--data-dir")
            .arg(self.data_dir.path())
            .env_remove("DATABASE_URL")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(url) = &self.database_url {
            command.args(["--database-url", url]);
        }
        let mut child = command.spawn().context("cannot run cohortsync")?;
        let mut input = child.stdin.take().context("no stdin")?;
        input.write_all(stdin.as_bytes()).await?;
        drop(input);
        let output = child.wait_with_output().await?;
        Ok((
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        ))
    }

    /// Creates (or resets) account `name` with `role` and `password` through the command
    /// line; fails unless it exits 0.
    pub async fn add_account(&self, name: &str, role: &str, password: &str) -> anyhow::Result<()> {
        let (code, out) = self
            .cli(
                &["account", "add", name, "--role", role],
                &format!("{password}\n"),
            )
            .await?;
        if code != 0 {
            bail!("cohortsync account add {name} exited {code}: {out}");
        }
        Ok(())
    }

    /// Signs `name` in over HTTP; the session cookie (`name=value`) to send back.
    pub async fn sign_in(&self, name: &str, password: &str) -> anyhow::Result<String> {
        let response = client()
            .post(self.at("/api/login"))
            .json(&serde_json::json!({"username": name, "password": password}))
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("signing {name} in answered {}", response.status());
        }
        let cookie = response
            .headers()
            .get(reqwest::header::SET_COOKIE)
            .and_then(|c| c.to_str().ok())
            .context("no session cookie")?;
        Ok(cookie.split(';').next().unwrap_or_default().to_owned())
    }

    /// Runs `cohortsync import KIND` on `csv` (written to a temporary file); fails unless it
    /// exits 0. Returns what it printed.
    pub async fn import(&self, kind: &str, csv: &str) -> anyhow::Result<String> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join(format!("{kind}.csv"));
        std::fs::write(&path, csv)?;
        let path = path
            .to_str()
            .context("a temporary path that is not UTF-8")?;
        let (code, out) = self.cli(&["import", kind, path], "").await?;
        if code != 0 {
            bail!("cohortsync import {kind} exited {code}: {out}");
        }
        Ok(out)
    }

    /// Stops the server and waits for it to exit.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        Ok(())
    }
}

/// Headless Chromium driven over WebDriver through its own chromedriver process.
pub struct Browser {
    /// The WebDriver client.
    pub client: fantoccini::Client,
    _driver: Child,
    profile: tempfile::TempDir,
}

/// Flags without which Chromium keeps reaching for the (closed) network here.
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
];

impl Browser {
    /// Starts chromedriver on a free port and opens a fresh headless Chromium profile.
    pub async fn start() -> anyhow::Result<Browser> {
        let driver_path =
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        for path in [&driver_path, &chromium] {
            if !Path::new(path).is_file() {
                bail!(
                    "{path} not found: install Debian's chromium and chromium-driver \
                     (scripts/setup does, as root)"
                );
            }
        }
        let port = free_port()?;
        let driver = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {driver_path}"))?;
        let profile = tempfile::tempdir()?;
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        // For profiling a bench, e.g. a trace of the page's thread that `scripts/page-trace`
        // reads: `CHROMIUM_EXTRA_ARGS="--trace-startup=devtools.timeline,toplevel,cc
        // --trace-startup-format=json --trace-startup-file=/tmp/page.json"` (BENCHMARKS.md).
        if let Ok(extra) = std::env::var("CHROMIUM_EXTRA_ARGS") {
            args.extend(extra.split_whitespace().map(str::to_owned));
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": chromium,
                "args": args,
                // Downloads land where tests can read them (see `Browser::downloads`).
                "prefs": {
                    "download.default_directory": profile.path().join("downloads"),
                    "download.prompt_for_download": false,
                },
            }),
        );
        let webdriver = format!("http://127.0.0.1:{port}");
        let mut last_error = None;
        for _ in 0..100 {
            match fantoccini::ClientBuilder::rustls()?
                .capabilities(capabilities.clone())
                .connect(&webdriver)
                .await
            {
                Ok(client) => {
                    return Ok(Browser {
                        client,
                        _driver: driver,
                        profile,
                    });
                }
                Err(error) => {
                    last_error = Some(error);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        bail!("cannot open a Chromium session: {last_error:?}")
    }

    /// Waits (up to 30 s) for an element matching `css` and returns it.
    pub async fn wait_for(&self, css: &str) -> anyhow::Result<fantoccini::elements::Element> {
        self.client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(fantoccini::Locator::Css(css))
            .await
            .with_context(|| format!("no element matches {css} after 30 s"))
    }

    /// Waits for an element matching `css`, brings it into view, lets the page lay out what
    /// came into view with it, and clicks it. A report lays out its dry run only when it
    /// comes into view (`content-visibility: auto`), so what is below the dry run moves once
    /// scrolled to; a plain WebDriver click aims at where it was.
    pub async fn click_in_view(&self, css: &str) -> anyhow::Result<()> {
        let element = self.wait_for(css).await?;
        self.client
            .execute_async(
                "const [element, done] = arguments;
                 element.scrollIntoView({ block: 'center' });
                 requestAnimationFrame(() => requestAnimationFrame(() => done()));",
                vec![serde_json::to_value(&element)?],
            )
            .await?;
        element.click().await?;
        Ok(())
    }

    /// The directory where the browser saves downloads.
    pub fn downloads(&self) -> PathBuf {
        self.profile.path().join("downloads")
    }

    /// Runs axe-core (from `tests/node_modules`, installed by `scripts/setup --browser`) on
    /// the current page; returns its violations, each as `"id: help (n nodes)"`.
    pub async fn accessibility_violations(&self) -> anyhow::Result<Vec<String>> {
        let path = repo_root().join("tests/node_modules/axe-core/axe.min.js");
        let axe = std::fs::read_to_string(&path).with_context(|| {
            format!("{} is missing: run scripts/setup --browser", path.display())
        })?;
        self.client.execute(&axe, vec![]).await?;
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];\n\
                 axe.run(document).then(r => done(r.violations.map(v => \n\
                   `${v.id}: ${v.help} (${v.nodes.length} nodes: ${v.nodes.map(n => n.target.join(' ')).join(', ')})`)))\n\
                   .catch(e => done(['axe failed: ' + e]));",
                vec![],
            )
            .await?;
        Ok(serde_json::from_value(result)?)
    }

    /// Runs a Chrome DevTools Protocol command on the page (chromedriver's
    /// `goog/cdp/execute`), e.g. `Profiler.start`; returns its result.
    pub async fn cdp(
        &self,
        method: &str,
        params: serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        let answer = self
            .client
            .issue_cmd(Cdp {
                body: serde_json::json!({ "cmd": method, "params": params }).to_string(),
            })
            .await
            .with_context(|| format!("DevTools command {method}"))?;
        Ok(answer)
    }

    /// Closes the browser session.
    pub async fn close(self) -> anyhow::Result<()> {
        self.client.close().await?;
        Ok(())
    }
}

/// A Chrome DevTools Protocol command, sent through chromedriver.
#[derive(Debug)]
struct Cdp {
    body: String,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.clone()))
    }
}

/// A TCP port free at the time of asking.
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// A real SMTP server (Python's aiosmtpd from PyPI, which `scripts/setup --browser`
/// installs) writing every message it receives to a Maildir; killed when dropped.
pub struct SmtpServer {
    child: Child,
    /// The `--smtp-url` that reaches it.
    pub url: String,
    maildir: tempfile::TempDir,
}

impl SmtpServer {
    /// Starts it on a free port, or `None` (SKIPPED on stderr; a failure under `CI=true`)
    /// when aiosmtpd is not installed.
    pub async fn start(test: &str) -> anyhow::Result<Option<SmtpServer>> {
        let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
        let installed = std::process::Command::new(&python)
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !installed {
            if std::env::var("CI").as_deref() == Ok("true") {
                bail!(
                    "CI=true but aiosmtpd is not installed: {test} needs it (scripts/setup --browser)"
                );
            }
            eprintln!(
                "SKIPPED {test}: aiosmtpd is not installed (scripts/setup --browser installs it)"
            );
            return Ok(None);
        }
        let maildir = tempfile::tempdir()?;
        let port = free_port()?;
        let child = Command::new(&python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            // A path that does not exist yet: Python's Maildir makes it with its folders.
            .arg(maildir.path().join("mail"))
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start aiosmtpd")?;
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(Some(SmtpServer {
                    child,
                    url: format!("smtp://127.0.0.1:{port}"),
                    maildir,
                }));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("aiosmtpd did not listen on port {port} within 10 s")
    }

    /// The messages received so far, raw (headers and body), oldest first.
    pub fn messages(&self) -> anyhow::Result<Vec<String>> {
        let mut messages = Vec::new();
        let new = self.maildir.path().join("mail/new");
        let Ok(entries) = std::fs::read_dir(&new) else {
            return Ok(messages);
        };
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        for path in paths {
            messages.push(std::fs::read_to_string(path)?);
        }
        Ok(messages)
    }

    /// Stops it.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        Ok(())
    }
}

/// A fresh, empty PostgreSQL database for one test, or `None` (and a note on stderr) when
/// no server is configured.
pub async fn postgres_url(test: &str) -> Option<String> {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(
            cohortsync_backend::store::create_scratch_database(&url)
                .await
                .expect("a scratch database on the test PostgreSQL server"),
        ),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but {POSTGRES_URL_VAR} is not set: {test} must run on PostgreSQL")
        }
        _ => {
            eprintln!("SKIPPED {test}: set {POSTGRES_URL_VAR} to run it against PostgreSQL");
            None
        }
    }
}

/// The environment variable naming the test MariaDB server (`.ci/run` sets it).
pub const MARIADB_URL_VAR: &str = "COHORTSYNC_TEST_MARIADB_URL";

/// A fresh scratch database on the test MariaDB server, or `None` (SKIPPED, said loudly)
/// when none is configured; under `CI=true` a missing server fails the test.
pub async fn mariadb_url(test: &str) -> Option<String> {
    match std::env::var(MARIADB_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(
            cohortsync_backend::store::create_scratch_database(&url)
                .await
                .expect("a scratch database on the test MariaDB server"),
        ),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but {MARIADB_URL_VAR} is not set: {test} must run on MariaDB")
        }
        _ => {
            eprintln!("SKIPPED {test}: set {MARIADB_URL_VAR} to run it against MariaDB");
            None
        }
    }
}

/// The folder of what a real Moodle wrote (`shared/moodle/`: schema, site, cases), from
/// `COHORTSYNC_MOODLE_FIXTURES` or beside the checkout; `None` (SKIPPED, said loudly) when
/// it is not there, and under `CI=true` a missing folder fails the test.
pub fn moodle_fixtures(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("COHORTSYNC_MOODLE_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/moodle"));
    if dir.join("schema").is_dir() && dir.join("site").is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "CI=true but the Moodle fixtures are not at {} (set COHORTSYNC_MOODLE_FIXTURES)",
            dir.display()
        );
    }
    eprintln!(
        "SKIPPED {test}: the Moodle fixtures are not at {} (set COHORTSYNC_MOODLE_FIXTURES)",
        dir.display()
    );
    None
}

/// Loads Moodle's schema and the fixture site into the empty database at `url`
/// (`postgres://…` or `mysql://…`), as a plain SQL client would.
pub async fn load_moodle_site(url: &str, fixtures: &Path) -> anyhow::Result<()> {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let kind = if url.starts_with("mysql://") {
        "mariadb"
    } else {
        "postgres"
    };
    let mut conn = sqlx::AnyConnection::connect(url).await?;
    for file in [
        fixtures.join("schema").join(format!("{kind}.sql")),
        fixtures.join("site").join(format!("{kind}.sql")),
    ] {
        let sql = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        run_sql(&mut conn, &sql)
            .await
            .with_context(|| format!("loading {}", file.display()))?;
    }
    Ok(())
}

/// Runs the statements of `sql` one by one (statements end with `;` at the end of a
/// line; `--` comment lines are skipped).
pub async fn run_sql(conn: &mut sqlx::AnyConnection, sql: &str) -> anyhow::Result<()> {
    let mut statement = String::new();
    for line in sql.lines() {
        if statement.is_empty() && (line.trim().is_empty() || line.trim_start().starts_with("--")) {
            continue;
        }
        statement.push_str(line);
        statement.push('\n');
        if line.trim_end().ends_with(';') {
            sqlx::raw_sql(&statement)
                .execute(&mut *conn)
                .await
                .with_context(|| {
                    format!("in {}", statement.chars().take(200).collect::<String>())
                })?;
            statement.clear();
        }
    }
    Ok(())
}
