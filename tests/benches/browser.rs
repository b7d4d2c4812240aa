//! The web app's speed, measured in headless Chromium in one run, against the real binary:
//!
//! - snapshot of 50k users: download (`fetch` + body) and decode, in JavaScript
//!   (`JSON.parse`) and in the check worker (WASM, `Snapshot::from_json`);
//! - validate + plan of a 100k-row cohort file: the app's WASM check in its web worker,
//!   next to a JavaScript baseline (PapaParse and `Map` look-ups doing the same checks on the
//!   same file and snapshot) in the page;
//! - a million rows, and a million errors: the worker's time and the page's longest pause;
//! - the teacher's snapshot: its size and decode, and the 100k-row check against it (users
//!   found through keyed hashes).
//!
//! Run: `cargo bench -p cohortsync-e2e --bench browser` (needs `scripts/setup --browser`,
//! `trunk build --release` and `cargo build --release --bin cohortsync`; set
//! `COHORTSYNC_BIN=target/release/cohortsync` to use the release server).

use std::time::Duration;

use cohortsync_e2e::{Browser, Server, repo_root};
use fantoccini::Locator;
use serde_json::{Value, json};

const USERS: u64 = 50_000;
const COHORTS: u64 = 1_000;
const ROWS: u64 = 100_000;
const RUNS: usize = 3;

fn users_csv() -> String {
    let mut text = String::from("username;idnumber;email;firstname;lastname;suspended\n");
    for id in 1..=USERS {
        let suspended = u8::from(id % 97 == 0);
        text.push_str(&format!(
            "user{id};E{id:07};user{id}@univ.example;Prénom;Nom;{suspended}\n"
        ));
    }
    text
}

/// `rows` (cohort, user) additions to 1k cohorts that the file creates (distinct up to
/// 50k × 1k rows).
fn cohort_file(rows: u64) -> String {
    let mut text = String::from("cmd;cidnumber;cname;userid;cdescription\n");
    for row in 0..rows {
        let cohort = row % COHORTS + 1;
        let user = (row * 7919 + row / USERS) % USERS + 1;
        text.push_str(&format!("add;C{cohort:05};Cohorte {cohort};E{user:07};\n"));
    }
    text
}

/// The JavaScript baseline: the checks this file exercises, as a plain JS implementation
/// would do them (PapaParse, then `Map`/`Set` look-ups), returning milliseconds. Node runs
/// the same one beside the rules in WASM (`scripts/bench-wasm`).
const JS_BASELINE: &str = include_str!("js_baseline.js");

async fn sign_in(browser: &Browser, server: &Server, username: &str) -> anyhow::Result<()> {
    browser.client.goto(&server.at("/login")).await?;
    browser
        .wait_for("#username")
        .await?
        .send_keys(username)
        .await?;
    browser
        .wait_for("#password")
        .await?
        .send_keys("bench-password")
        .await?;
    browser
        .client
        .find(Locator::Css("form.login button[type=submit]"))
        .await?
        .click()
        .await?;
    browser.wait_for("[data-testid=whoami]").await?;
    Ok(())
}

/// The summary's check id and time, read in one go (the page re-renders it as it pleases).
async fn summary(browser: &Browser) -> anyhow::Result<(u32, Option<String>)> {
    let answer = browser
        .client
        .execute(
            "const s = document.querySelector('[data-testid=summary]');
             return s ? [s.dataset.checkId, s.dataset.millis] : ['0', null];",
            vec![],
        )
        .await?;
    let id = answer[0].as_str().unwrap_or("0").parse().unwrap_or(0);
    Ok((id, answer[1].as_str().map(str::to_owned)))
}

/// Starts measuring the longest pause of the page's thread (a 10 ms timer that notes gaps).
async fn start_pause_meter(browser: &Browser) -> anyhow::Result<()> {
    browser
        .client
        .execute(
            "window.__pause = 0; let last = performance.now();
             window.__ticker = setInterval(() => { const now = performance.now();
               window.__pause = Math.max(window.__pause, now - last); last = now; }, 10);",
            vec![],
        )
        .await?;
    Ok(())
}

/// The longest pause since `start_pause_meter`, in milliseconds.
async fn stop_pause_meter(browser: &Browser) -> anyhow::Result<f64> {
    let pause = browser
        .client
        .execute(
            "clearInterval(window.__ticker); return window.__pause;",
            vec![],
        )
        .await?;
    Ok(pause.as_f64().unwrap_or(f64::NAN))
}

/// Checks the file at `big` in the app and prints how long it took, the page's longest
/// pause, the progress values shown, and what the page's thread was busy with.
async fn million_rows(browser: &Browser, big: &std::path::Path, label: &str) -> anyhow::Result<()> {
    let before = summary(browser).await?.0;
    // A CPU profile of the page's thread meanwhile, to tell what its longest pause is made of.
    // It does not slow the worker down measurably (BENCHMARKS.md, web app, 2026-12-07,
    // second part).
    browser.cdp("Profiler.enable", json!({})).await?;
    browser
        .cdp("Profiler.setSamplingInterval", json!({"interval": 250}))
        .await?;
    browser.cdp("Profiler.start", json!({})).await?;
    // And Chromium's long animation frames: how much of each is scripts, and how much
    // style and layout.
    browser
        .client
        .execute(
            "window.__frames = [];
             window.__frameObserver = new PerformanceObserver(list => {
               for (const e of list.getEntries()) if (e.duration > 100) window.__frames.push({
                 duration: e.duration,
                 styleAndLayout: e.styleAndLayoutStart ? e.startTime + e.duration - e.styleAndLayoutStart : 0,
                 scripts: e.scripts.map(s => ({ invoker: s.invoker, duration: s.duration,
                   forcedStyleAndLayout: s.forcedStyleAndLayoutDuration })),
               });
             });
             window.__frameObserver.observe({ type: 'long-animation-frame' });",
            vec![],
        )
        .await?;
    start_pause_meter(browser).await?;
    let started = std::time::Instant::now();
    browser
        .wait_for("[data-testid=file-input]")
        .await?
        .send_keys(big.to_str().unwrap_or_default())
        .await?;
    let mut big_millis = None;
    let mut progress_seen = Vec::new();
    for _ in 0..6000 {
        let value = browser
            .client
            .execute(
                "const p = document.querySelector('[data-testid=progress] progress[value]');
                 return p ? p.getAttribute('value') : null;",
                vec![],
            )
            .await?;
        if let Some(value) = value.as_str().map(str::to_owned)
            && progress_seen.last() != Some(&value)
        {
            progress_seen.push(value);
        }
        let (id, time) = summary(browser).await?;
        if id > before {
            big_millis = time;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let wall = started.elapsed();
    let pause = browser
        .client
        .execute(
            "clearInterval(window.__ticker); return window.__pause;",
            vec![],
        )
        .await?;
    let profile = browser.cdp("Profiler.stop", json!({})).await?;
    let elements = browser
        .client
        .execute("return document.querySelectorAll('*').length;", vec![])
        .await?;
    println!("{label}: elements in the page with the report shown: {elements}");
    let frames = browser
        .client
        .execute(
            "window.__frameObserver.disconnect(); return window.__frames;",
            vec![],
        )
        .await?;
    for frame in frames.as_array().into_iter().flatten() {
        let scripts: Vec<String> = frame["scripts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                format!(
                    "{} {:.0} ms (forced style and layout {:.0} ms)",
                    s["invoker"].as_str().unwrap_or("?"),
                    s["duration"].as_f64().unwrap_or(0.0),
                    s["forcedStyleAndLayout"].as_f64().unwrap_or(0.0)
                )
            })
            .collect();
        println!(
            "{label}: a long frame of {:.0} ms: style and layout {:.0} ms; scripts: {}",
            frame["duration"].as_f64().unwrap_or(0.0),
            frame["styleAndLayout"].as_f64().unwrap_or(0.0),
            scripts.join("; ")
        );
    }
    println!(
        "{label}: the page's longest busy stretch in its CPU profile:\n{}",
        longest_busy_stretch(&profile["profile"])
    );
    println!(
        "{label} ({:.0} MB): WASM in the worker {} ms; from picking the file to the report {:.1} s; \
         longest pause of the page's thread {:.0} ms; progress values seen: {}",
        std::fs::metadata(big)?.len() as f64 / 1e6,
        big_millis.unwrap_or_else(|| "(did not finish)".into()),
        wall.as_secs_f64(),
        pause,
        progress_seen.join(", "),
    );

    Ok(())
}

/// Downloads the annotated copy of the file just checked: how long until the file is
/// saved, and the page's longest pause meanwhile (the worker writes it).
async fn annotated_download(browser: &Browser, name: &str) -> anyhow::Result<()> {
    let path = browser.downloads().join(name);
    start_pause_meter(browser).await?;
    let started = std::time::Instant::now();
    browser
        .wait_for("[data-testid=download]")
        .await?
        .click()
        .await?;
    let mut size = 0;
    for _ in 0..600 {
        // Chromium writes a `.crdownload` first and renames it when done.
        if let Ok(meta) = std::fs::metadata(&path) {
            size = meta.len();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = started.elapsed();
    let pause = stop_pause_meter(browser).await?;
    println!(
        "1,000,000 rows: annotated file ({:.0} MB) saved {:.1} s after the click; longest pause of the page's thread {pause:.0} ms",
        size as f64 / 1e6,
        elapsed.as_secs_f64()
    );
    Ok(())
}

/// The longest run of samples of a DevTools CPU profile that are not idle: its length, and
/// the functions it spent most time in (self and inclusive), in milliseconds.
fn longest_busy_stretch(profile: &Value) -> String {
    use std::collections::HashMap;
    let empty = Vec::new();
    let nodes = profile["nodes"].as_array().unwrap_or(&empty);
    let mut label = HashMap::new();
    let mut parent = HashMap::new();
    for node in nodes {
        let id = node["id"].as_i64().unwrap_or(0);
        let frame = &node["callFrame"];
        let name = frame["functionName"].as_str().unwrap_or("");
        let url = frame["url"].as_str().unwrap_or("");
        let file = url.rsplit('/').next().unwrap_or("");
        let name = if name.is_empty() { "(anonymous)" } else { name };
        label.insert(id, format!("{name} {file}").trim().to_owned());
        for child in node["children"].as_array().unwrap_or(&empty) {
            parent.insert(child.as_i64().unwrap_or(0), id);
        }
    }
    let samples: Vec<i64> = profile["samples"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .map(|v| v.as_i64().unwrap_or(0))
        .collect();
    let deltas: Vec<f64> = profile["timeDeltas"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .map(|v| v.as_f64().unwrap_or(0.0) / 1000.0)
        .collect();
    // Sample i lasts until sample i + 1.
    let duration = |i: usize| deltas.get(i + 1).copied().unwrap_or(0.0);
    let idle = |id: i64| label.get(&id).is_some_and(|l| l == "(idle)");
    let (mut best, mut start, mut length) = ((0, 0, 0.0), 0, 0.0);
    for (i, &id) in samples.iter().enumerate() {
        if idle(id) {
            start = i + 1;
            length = 0.0;
        } else {
            length += duration(i);
            if length > best.2 {
                best = (start, i + 1, length);
            }
        }
    }
    // The stretch in order: runs of samples under the same top-level frame.
    let root_child = |mut id: i64| {
        while let Some(&p) = parent.get(&id) {
            if !parent.contains_key(&p) {
                break;
            }
            id = p;
        }
        label.get(&id).map_or("?", String::as_str)
    };
    let mut runs: Vec<(&str, f64)> = Vec::new();
    for (i, &sample) in samples.iter().enumerate().take(best.1).skip(best.0) {
        let top = root_child(sample);
        match runs.last_mut() {
            Some((l, t)) if *l == top => *t += duration(i),
            _ => runs.push((top, duration(i))),
        }
    }
    let started: f64 = deltas[..best.0.min(deltas.len())].iter().sum();
    let runs: Vec<String> = runs
        .iter()
        .filter(|(_, t)| *t >= 5.0)
        .map(|(l, t)| format!("{l} {t:.0}"))
        .collect();
    let mut self_time: HashMap<&str, f64> = HashMap::new();
    let mut total_time: HashMap<&str, f64> = HashMap::new();
    for (i, &sample) in samples.iter().enumerate().take(best.1).skip(best.0) {
        let mut id = sample;
        if let Some(l) = label.get(&id) {
            *self_time.entry(l).or_default() += duration(i);
        }
        let mut seen = std::collections::HashSet::new();
        while let Some(l) = label.get(&id) {
            if seen.insert(l.as_str()) {
                *total_time.entry(l).or_default() += duration(i);
            }
            match parent.get(&id) {
                Some(&p) => id = p,
                None => break,
            }
        }
    }
    let top = |map: HashMap<&str, f64>, n: usize| {
        let mut list: Vec<_> = map.into_iter().collect();
        list.sort_by(|a, b| b.1.total_cmp(&a.1));
        list.into_iter()
            .take(n)
            .map(|(l, t)| format!("    {t:7.1}  {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    format!(
        "  {:.0} ms over {} samples, {started:.0} ms after the profile started\n  in order (runs of 5 ms or more): {}\n  self:\n{}\n  inclusive:\n{}",
        best.2,
        best.1 - best.0,
        runs.join(", "),
        top(self_time, 12),
        top(total_time, 25)
    )
}

/// A teacher's snapshot of the same site: its size as the server sends it (gzip, as the
/// browser's resource timing reports it) and its decode in the worker, best of RUNS page
/// loads (each decodes the copy the app cached).
/// The teacher's side: the snapshot's size and decode, then the same 100k-row file checked
/// against it, each row's user found through a keyed hash (`dir` holds the file's copies).
async fn teacher_snapshot(
    browser: &Browser,
    server: &Server,
    dir: &std::path::Path,
) -> anyhow::Result<()> {
    browser
        .client
        .find(Locator::XPath(
            "//span[@data-testid='whoami']/following-sibling::button",
        ))
        .await?
        .click()
        .await?;
    browser.wait_for("header a[href='/login']").await?;
    sign_in(browser, server, "teacher").await?;
    let sizes = browser
        .client
        .execute_async(
            "const done = arguments[0];
             (async () => {
               const url = location.origin + '/api/snapshot?bench=' + Date.now();
               const text = await (await fetch(url, { cache: 'no-store' })).text();
               await new Promise(r => setTimeout(r, 100));
               const entry = performance.getEntriesByName(url)[0];
               done({ bytes: text.length, sent: entry ? entry.encodedBodySize : -1 });
             })();",
            vec![],
        )
        .await?;
    let mut decode = f64::MAX;
    for _ in 0..RUNS {
        browser.client.goto(&server.at("/")).await?;
        let ms: f64 = attr(
            browser,
            "[data-testid=snapshot-badge][data-decode-ms]:not([data-decode-ms=''])",
            "data-decode-ms",
        )
        .await?
        .parse()
        .unwrap_or(f64::NAN);
        decode = decode.min(ms);
    }
    println!(
        "teacher's snapshot of {USERS} users: {:.2} MB JSON, {:.2} MB as sent (gzip); decode in the worker (WASM) {decode:.0} ms",
        sizes["bytes"].as_f64().unwrap_or(0.0) / 1e6,
        sizes["sent"].as_f64().unwrap_or(0.0) / 1e6,
    );
    let (wasm, pauses) = timed_checks(browser, dir, "teacher", &cohort_file(ROWS)).await?;
    println!(
        "teacher's check of {ROWS} rows: each in the worker, the first after the page \
         loaded first: {wasm:?} ms; longest pauses of the page's thread: {:?} ms",
        pauses.iter().map(|p: &f64| p.round()).collect::<Vec<_>>()
    );
    Ok(())
}

/// Drops `file` on the check page `RUNS` times (as `{name}-{run}.csv` in `dir`): the
/// worker's time of each check, the first after the page loaded first, and the page's
/// longest pause during each.
async fn timed_checks(
    browser: &Browser,
    dir: &std::path::Path,
    name: &str,
    file: &str,
) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let mut wasm = Vec::new();
    let mut pauses = Vec::new();
    for run in 0..RUNS {
        let path = dir.join(format!("{name}-{run}.csv"));
        std::fs::write(&path, file)?;
        let before = summary(browser).await?.0;
        start_pause_meter(browser).await?;
        browser
            .wait_for("[data-testid=file-input]")
            .await?
            .send_keys(path.to_str().unwrap_or_default())
            .await?;
        let mut millis = None;
        for _ in 0..1200 {
            let (id, time) = summary(browser).await?;
            if id > before {
                millis = time;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let millis: f64 = millis
            .ok_or_else(|| anyhow::anyhow!("the check of run {run} did not finish"))?
            .parse()?;
        wasm.push(millis);
        pauses.push(stop_pause_meter(browser).await?);
    }
    Ok((wasm, pauses))
}

async fn attr(browser: &Browser, css: &str, name: &str) -> anyhow::Result<String> {
    let element = browser.wait_for(css).await?;
    Ok(element.attr(name).await?.unwrap_or_default())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let server = Server::start_sqlite().await?;
    let dir = tempfile::tempdir()?;
    server.import("users", &users_csv()).await?;
    server
        .cli(
            &["account", "add", "admin", "--role", "admin"],
            "bench-password\n",
        )
        .await?;
    server
        .cli(
            &["account", "add", "teacher", "--role", "teacher"],
            "bench-password\n",
        )
        .await?;
    let browser = Browser::start().await?;
    sign_in(&browser, &server, "admin").await?;
    browser
        .wait_for("[data-testid=snapshot-badge][data-decode-ms]:not([data-decode-ms=''])")
        .await?;

    // Snapshot: download and decode, best of RUNS.
    let mut best = (f64::MAX, f64::MAX, f64::MAX, 0.0);
    for _ in 0..RUNS {
        let answer = browser
            .client
            .execute_async(
                "const done = arguments[0];
                 (async () => {
                   const t0 = performance.now();
                   const response = await fetch('/api/snapshot', { cache: 'no-store' });
                   const text = await response.text();
                   const t1 = performance.now();
                   JSON.parse(text);
                   const t2 = performance.now();
                   done({ download: t1 - t0, decode: t2 - t1, bytes: text.length });
                 })();",
                vec![],
            )
            .await?;
        best.0 = best.0.min(answer["download"].as_f64().unwrap_or(f64::MAX));
        best.1 = best.1.min(answer["decode"].as_f64().unwrap_or(f64::MAX));
        best.3 = answer["bytes"].as_f64().unwrap_or(0.0);
    }
    // The worker's decode of the same snapshot, as the app measured it on sign-in.
    let wasm_decode: f64 = attr(&browser, "[data-testid=snapshot-badge]", "data-decode-ms")
        .await?
        .parse()
        .unwrap_or(f64::NAN);
    best.2 = wasm_decode;
    println!(
        "snapshot of {USERS} users ({:.1} MB JSON): download {:.0} ms; decode: JavaScript JSON.parse {:.0} ms, WASM (worker) {:.0} ms",
        best.3 / 1e6,
        best.0,
        best.1,
        best.2
    );

    // The file: WASM in the app's worker.
    let file = cohort_file(ROWS);
    let (wasm, pauses) = timed_checks(&browser, dir.path(), "bench", &file).await?;
    let totals = browser
        .wait_for("[data-testid=totals]")
        .await?
        .text()
        .await?;
    println!(
        "WASM plan: {totals}; each check in the worker, the first after the page loaded \
         first: {wasm:?} ms; longest pauses of the page's thread: {:?} ms",
        pauses.iter().map(|p: &f64| p.round()).collect::<Vec<_>>()
    );
    let wasm = wasm.iter().copied().fold(f64::MAX, f64::min);

    // A million rows: how long, and the page's longest pause meanwhile (its thread reads
    // the file and hands it over; the worker checks).
    let big = dir.path().join("bench-1m.csv");
    std::fs::write(&big, cohort_file(1_000_000))?;
    // The same file given to a bare <input type=file> that nothing listens to: the pause
    // WebDriver's upload itself causes, to tell it apart from the app's.
    browser
        .client
        .execute(
            "const i = document.createElement('input'); i.type = 'file'; i.id = 'bare';
             i.setAttribute('aria-label', 'bare'); document.body.appendChild(i);",
            vec![],
        )
        .await?;
    start_pause_meter(&browser).await?;
    browser
        .wait_for("#bare")
        .await?
        .send_keys(big.to_str().unwrap_or_default())
        .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let upload_pause = stop_pause_meter(&browser).await?;
    browser
        .client
        .execute("document.getElementById('bare').remove();", vec![])
        .await?;
    println!(
        "1,000,000 rows: longest pause of the page's thread when WebDriver uploads the file to a bare input: {upload_pause:.0} ms"
    );

    million_rows(&browser, &big, "1,000,000 rows").await?;
    annotated_download(&browser, "bench-1m-checked.csv").await?;
    // The worst case for the page: every row an error (users by a wrong identifier).
    let errors = dir.path().join("bench-1m-errors.csv");
    std::fs::write(&errors, cohort_file(1_000_000).replace(";E", ";NOBODY"))?;
    million_rows(&browser, &errors, "1,000,000 rows, each an error").await?;

    // The same file and snapshot in JavaScript.
    let papaparse =
        std::fs::read_to_string(repo_root().join("tests/node_modules/papaparse/papaparse.min.js"))?;
    browser.client.execute(&papaparse, vec![]).await?;
    let snapshot_json = browser
        .client
        .execute_async(
            "const done = arguments[0]; fetch('/api/snapshot').then(r => r.text()).then(done);",
            vec![],
        )
        .await?;
    let mut js = f64::MAX;
    let mut js_answer = Value::Null;
    for _ in 0..RUNS {
        let answer = browser
            .client
            .execute_async(JS_BASELINE, vec![json!(file), snapshot_json.clone()])
            .await?;
        js = js.min(answer["ms"].as_f64().unwrap_or(f64::MAX));
        js_answer = answer;
    }
    let mb = file.len() as f64 / 1e6;
    println!(
        "validate + plan of {ROWS} rows ({mb:.1} MB): WASM in the worker {wasm:.0} ms ({:.0} rows/s); \
         JavaScript baseline {js:.0} ms ({:.0} rows/s, {} operations); WASM / JS speed: {:.2}x",
        ROWS as f64 / (wasm / 1e3),
        ROWS as f64 / (js / 1e3),
        js_answer["operations"],
        js / wasm,
    );

    teacher_snapshot(&browser, &server, dir.path()).await?;
    browser.close().await?;
    server.stop().await
}
