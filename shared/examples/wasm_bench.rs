//! The rules in WebAssembly, timed side by side with the JavaScript baseline of the browser
//! bench in one V8 process (Node), where a browser's page, worker and WebDriver add noise:
//! `scripts/bench-wasm` builds this example for `wasm32-unknown-unknown`, optimises it as
//! Trunk optimises the check worker (`wasm-opt -O3`), and runs `shared/benches/wasm.mjs`.
//!
//! The site and file are the browser bench's: 50,000 users (every 97th suspended), no
//! cohorts, and a 100,000-row cohort file that creates 1,000 cohorts. Each check is what the
//! worker does with a file: `check_indexed` with the users indexed once per snapshot, then
//! the dry run, its people named for the first cohorts shown (by the file's identifiers in a
//! teacher's snapshot), and the first page of the diagnostics with their lines of the file.
//!
//! Three variants ([`exports::bench_prepare`]): the admin's snapshot; the teacher's (keyed
//! hashes: each row's user is hashed to be found); the admin's with a file whose users are
//! all unknown (a million errors at a million rows).
//!
//! No wasm-bindgen: four plain exports, and the texts handed to JavaScript as bytes in the
//! module's memory. There is no clock in `wasm32-unknown-unknown`: JavaScript times the calls.

// Plain exports are `no_mangle`, which the workspace's `unsafe_code` lint counts as unsafe.
#![allow(unsafe_code)]

#[cfg(target_arch = "wasm32")]
#[path = "../benches/common/site.rs"]
mod site;

#[cfg(target_arch = "wasm32")]
mod exports {
    use std::cell::RefCell;

    use cohortsync_shared::check::check_indexed;
    use cohortsync_shared::decode::PhysicalLines;
    use cohortsync_shared::dry_run::{dry_run_unnamed, file_identifiers};
    use cohortsync_shared::options::Options;
    use cohortsync_shared::report::{DiagnosticFilter, DiagnosticPage, Lang};
    use cohortsync_shared::snapshot::{Snapshot, UserIndex};

    use super::site;

    const USERS: i64 = 50_000;
    const COHORTS: i64 = 1_000;
    /// Cohorts of a dry run the web app shows before "show all" (`DRY_RUN_ROWS_SHOWN`).
    const SHOWN_FIRST: usize = 100;

    struct Bench {
        snapshot: Snapshot,
        index: UserIndex,
        file: Vec<u8>,
        snapshot_json: Vec<u8>,
        options: Options,
    }

    thread_local! {
        static BENCH: RefCell<Option<Bench>> = const { RefCell::new(None) };
    }

    fn snapshot() -> Snapshot {
        Snapshot {
            revision: 1,
            users: site::users(USERS),
            ..Snapshot::default()
        }
    }

    /// The browser bench's file: `rows` additions to 1,000 cohorts the file creates.
    fn file(rows: i64) -> Vec<u8> {
        let mut text = String::from("cmd;cidnumber;cname;userid;cdescription\n");
        for row in 0..rows {
            let cohort = row % COHORTS + 1;
            let user = (row * 7919 + row / USERS) % USERS + 1;
            text.push_str(&format!("add;C{cohort:05};Cohorte {cohort};E{user:07};\n"));
        }
        text.into_bytes()
    }

    /// Makes the site and a file of `rows` rows, and indexes the users (as the worker does
    /// when a snapshot arrives). `variant` 0: the admin's snapshot; 1: the teacher's; 2: the
    /// admin's, and a file whose users are all unknown.
    #[unsafe(no_mangle)]
    pub extern "C" fn bench_prepare(rows: u32, variant: u32) {
        let snapshot = match variant {
            1 => snapshot().for_teacher(b"0123456789abcdef0123456789abcdef"),
            _ => snapshot(),
        };
        let mut file = file(i64::from(rows));
        if variant == 2 {
            file = String::from_utf8_lossy(&file)
                .replace(";E", ";NOBODY")
                .into_bytes();
        }
        let options = Options::default();
        let index = UserIndex::new(&snapshot);
        index.prepare(&snapshot, options.user_identifier);
        let snapshot_json = serde_json::to_vec(&snapshot).unwrap_or_default();
        BENCH.with(|bench| {
            *bench.borrow_mut() = Some(Bench {
                snapshot,
                index,
                file,
                snapshot_json,
                options,
            })
        });
    }

    /// One check of the file, as the worker makes it; returns the plan's operations, or
    /// minus the file's errors when it did not plan.
    #[unsafe(no_mangle)]
    pub extern "C" fn bench_check() -> i32 {
        BENCH.with(|bench| {
            let bench = bench.borrow();
            let Some(b) = bench.as_ref() else {
                return -1;
            };
            let checked = check_indexed(&b.file, &b.snapshot, &b.index, &b.options, &mut |_| {});
            let errors = checked.report.counts().errors;
            let Some(plan) = checked.changeset else {
                std::hint::black_box(checked.report);
                return -(errors as i32);
            };
            let mut whole = dry_run_unnamed(&b.snapshot, &plan);
            let first = if b.snapshot.is_hashed() {
                whole = whole.for_teacher(&file_identifiers(&b.file, &plan, &b.options));
                whole.first(SHOWN_FIRST)
            } else {
                let mut first = whole.first(SHOWN_FIRST);
                first.name_people(&b.snapshot, &b.index);
                first
            };
            // The first page of the diagnostics (here the warnings about suspended users),
            // each with its line of the file.
            let diagnostics = checked.report.diagnostics;
            let lines = if diagnostics.is_empty() {
                PhysicalLines::default()
            } else {
                PhysicalLines::new(&b.file, b.options.encoding)
            };
            let page = DiagnosticPage::of(
                &diagnostics,
                Lang::En,
                &DiagnosticFilter::default(),
                0,
                |n| lines.line(n),
            );
            std::hint::black_box((whole, first, page));
            plan.operations.len() as i32
        })
    }

    /// Where the file's bytes (`which` 0) or the snapshot's JSON (1) are in memory.
    #[unsafe(no_mangle)]
    pub extern "C" fn bench_text_at(which: u32) -> u32 {
        text(which, |t| t.as_ptr() as u32)
    }

    /// How long the file (`which` 0) or the snapshot's JSON (1) is, in bytes.
    #[unsafe(no_mangle)]
    pub extern "C" fn bench_text_len(which: u32) -> u32 {
        text(which, |t| t.len() as u32)
    }

    fn text(which: u32, f: impl Fn(&[u8]) -> u32) -> u32 {
        BENCH.with(|bench| {
            bench.borrow().as_ref().map_or(0, |b| {
                f(if which == 0 {
                    &b.file
                } else {
                    &b.snapshot_json
                })
            })
        })
    }
}
