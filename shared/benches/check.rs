//! Throughput of `check` (validate + plan) on a generated 100k-row cohort file against a
//! generated 50k-user / 1k-cohort snapshot, next to a raw `csv::ByteRecord` pass over the
//! same bytes, and peak heap memory of each; then the same number of memberships as
//! Moodle's user upload file (50k users, two `cohortN` cells each). Run:
//! `cargo bench -p cohortsync-shared --bench check`

// A counting global allocator is the one unsafe thing here (heap peak measurement).
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cohortsync_shared::check::{check, check_indexed};
use cohortsync_shared::decode::decode;
use cohortsync_shared::options::Options;
use cohortsync_shared::snapshot::{Cohort, Snapshot, UserIndex};

#[path = "common/site.rs"]
mod site;

struct Counting;
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: delegates to the system allocator and only counts bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const USERS: i64 = 50_000;
const COHORTS: i64 = 1_000;
const ROWS: i64 = 100_000;
/// Cohorts of a dry run the web app shows before "show all" (`DRY_RUN_ROWS_SHOWN`).
const SHOWN_FIRST: usize = 100;

fn snapshot() -> Snapshot {
    let users = site::users(USERS);
    let cohorts = (1..=COHORTS)
        .map(|id| Cohort {
            id,
            idnumber: format!("C{id:05}"),
            name: format!("Cohorte {id}"),
            component: "cohortsync".into(),
            // Every cohort starts with 20 members, so some rows are already members.
            members: (0..20).map(|k| (id * 37 + k * 101) % USERS + 1).collect(),
            ..Cohort::default()
        })
        .collect();
    Snapshot {
        revision: 1,
        users,
        cohorts,
        ..Snapshot::default()
    }
}

fn file() -> Vec<u8> {
    let mut text = String::from("cmd;cidnumber;cname;userid;cdescription\n");
    for row in 0..ROWS {
        let cohort = row % COHORTS + 1;
        // Distinct (cohort, user) pairs: the second half shifts users by one.
        let user = (row * 7919 + row / USERS) % USERS + 1;
        text.push_str(&format!("add;C{cohort:05};Cohorte {cohort};E{user:07};\n"));
    }
    text.into_bytes()
}

/// 100k memberships as Moodle's user upload file: every user once, in two cohorts, with
/// the user columns Moodle's file has beside them.
fn moodle_user_file() -> Vec<u8> {
    let mut text = String::from("username,password,firstname,lastname,email,cohort1,cohort2\n");
    for user in 1..=USERS {
        let (a, b) = (user % COHORTS + 1, (user * 7) % COHORTS + 1);
        let b = if a == b { b % COHORTS + 1 } else { b };
        text.push_str(&format!(
            "user{user},Secret1!,Prénom,Nom,user{user}@univ.example,C{a:05},C{b:05}\n"
        ));
    }
    text.into_bytes()
}

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut peak = 0;
    for _ in 0..runs {
        let base = CURRENT.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let start = Instant::now();
        std::hint::black_box(f());
        best = best.min(start.elapsed());
        peak = peak.max(PEAK.load(Ordering::Relaxed) - base);
    }
    (best, peak)
}

/// The raw pass: every record of `bytes` read as bytes, nothing kept.
fn raw_pass(bytes: &[u8]) -> usize {
    let mut reader = csv::ReaderBuilder::new().delimiter(b';').from_reader(bytes);
    let mut record = csv::ByteRecord::new();
    let mut fields = 0usize;
    while reader.read_byte_record(&mut record).unwrap() {
        fields += record.len();
    }
    fields
}

fn main() {
    let before = CURRENT.load(Ordering::Relaxed);
    let snapshot = snapshot();
    let snapshot_heap = CURRENT.load(Ordering::Relaxed) - before;
    let bytes = file();
    let options = Options::default();
    let mb = bytes.len() as f64 / 1e6;

    // For profilers: `CHECK_PROFILE=N` makes one raw pass and N checks of the cohort file,
    // each with its dry run as the browser makes it
    // (1 for `valgrind --tool=callgrind`, whose instruction counts of each are then read
    // without the rest; more for `perf`), and nothing else.
    if let Some(runs) = std::env::var_os("CHECK_PROFILE") {
        let runs = runs.to_str().and_then(|r| r.parse().ok()).unwrap_or(1);
        std::hint::black_box(raw_pass(&bytes));
        let index = UserIndex::new(&snapshot);
        index.prepare(&snapshot, options.user_identifier);
        for _ in 0..runs {
            let checked = check_indexed(&bytes, &snapshot, &index, &options, &mut |_| {});
            let plan = checked.changeset.expect("a valid file");
            let whole = cohortsync_shared::dry_run::dry_run_unnamed(&snapshot, &plan);
            let mut first = whole.first(SHOWN_FIRST);
            first.name_people(&snapshot, &index);
            std::hint::black_box((whole, first));
        }
        return;
    }

    let (raw, raw_peak) = best_of(5, || raw_pass(&bytes));
    // The users indexed once, as the server keeps them per revision and the browser's
    // worker per snapshot: the check itself is measured with the index kept.
    let (indexed, index_heap) = best_of(5, || {
        let index = UserIndex::new(&snapshot);
        index.prepare(&snapshot, options.user_identifier);
        index
    });
    let index = UserIndex::new(&snapshot);
    index.prepare(&snapshot, options.user_identifier);
    let (checked, check_peak) = best_of(5, || {
        check_indexed(&bytes, &snapshot, &index, &options, &mut |_| {})
    });
    let (unindexed, _) = best_of(5, || check(&bytes, &snapshot, &options));
    // What the browser's worker does next with the plan: the dry run it shows.
    let plan = check(&bytes, &snapshot, &options)
        .changeset
        .expect("a valid file");
    let (told, _) = best_of(5, || {
        cohortsync_shared::dry_run::dry_run_indexed(&snapshot, &index, &plan)
    });
    // What the browser's worker does: its people named for the first cohorts shown only.
    let (told_first, _) = best_of(5, || {
        let whole = cohortsync_shared::dry_run::dry_run_unnamed(&snapshot, &plan);
        let mut first = whole.first(SHOWN_FIRST);
        first.name_people(&snapshot, &index);
        (whole, first)
    });
    // The part of the check that reads the file into a table, before any rule.
    let (decoded, _) = best_of(5, || {
        let mut diagnostics = cohortsync_shared::report::Diagnostics::new();
        decode(
            &bytes,
            options.encoding,
            options.delimiter,
            &mut diagnostics,
        )
    });

    let result = check(&bytes, &snapshot, &options);
    assert!(
        !result.report.has_errors(),
        "the generated file must be valid"
    );
    let ops = result.changeset.map_or(0, |c| c.operations.len());

    let rate = |d: Duration| (ROWS as f64 / d.as_secs_f64(), mb / d.as_secs_f64());
    let (raw_rows, raw_mb) = rate(raw);
    let (rows, mbs) = rate(checked);
    println!(
        "file: {ROWS} rows, {mb:.2} MB; snapshot: {USERS} users, {COHORTS} cohorts, {:.1} MB of heap; plan: {ops} operations",
        snapshot_heap as f64 / 1e6
    );
    println!(
        "raw csv::ByteRecord pass: {:>8.1} ms  {:>10.0} rows/s  {:>7.1} MB/s  peak heap {:>6.1} MB",
        raw.as_secs_f64() * 1e3,
        raw_rows,
        raw_mb,
        raw_peak as f64 / 1e6
    );
    println!(
        "check (validate + plan, users indexed): {:>8.1} ms  {:>10.0} rows/s  {:>7.1} MB/s  peak heap {:>6.1} MB",
        checked.as_secs_f64() * 1e3,
        rows,
        mbs,
        check_peak as f64 / 1e6
    );
    println!(
        "  of which decode (bytes to table): {:>8.1} ms",
        decoded.as_secs_f64() * 1e3
    );
    println!(
        "user index (once per snapshot):     {:>8.1} ms, {:.1} MB of heap; check building its own: {:.1} ms",
        indexed.as_secs_f64() * 1e3,
        index_heap as f64 / 1e6,
        unindexed.as_secs_f64() * 1e3
    );
    println!(
        "dry run of the plan, everyone named: {:.1} ms; named for the first {SHOWN_FIRST} cohorts (the browser's, after the check): {:.1} ms",
        told.as_secs_f64() * 1e3,
        told_first.as_secs_f64() * 1e3
    );
    println!(
        "ratio check / raw: {:.2}x",
        raw.as_secs_f64() / checked.as_secs_f64()
    );

    let moodle = moodle_user_file();
    let (moodle_checked, moodle_peak) = best_of(5, || check(&moodle, &snapshot, &options));
    let result = check(&moodle, &snapshot, &options);
    assert!(!result.report.has_errors(), "the Moodle file must be valid");
    let ops = result.changeset.map_or(0, |c| c.operations.len());
    println!(
        "Moodle user upload, {USERS} rows x 2 cohorts ({:.2} MB, {ops} operations): {:>8.1} ms  peak heap {:>6.1} MB",
        moodle.len() as f64 / 1e6,
        moodle_checked.as_secs_f64() * 1e3,
        moodle_peak as f64 / 1e6
    );
}
