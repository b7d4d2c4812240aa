//! The Moodle connector's speed, on a generated Moodle-shaped site (Moodle's own schema) of
//! 50k users, 2k cohorts of 100 members (200k memberships), 2k courses each with a group
//! and a cohort-sync instance, and their 200k enrolments, role assignments and group
//! memberships; on PostgreSQL and on MariaDB:
//!
//! - the snapshot read from Moodle (median of 5);
//! - the enrolment state of every bound course, what a plan touching them all reads besides
//!   (median of 3);
//! - the apply of one approved changeset of 100k member additions (50 to each cohort),
//!   which writes them with their 100k enrolments, role assignments and group memberships
//!   in one transaction: the server's own apply, re-planning included.
//!
//! Run: `cargo bench -p cohortsync-e2e --bench moodle` with `COHORTSYNC_TEST_POSTGRES_URL`,
//! `COHORTSYNC_TEST_MARIADB_URL` and `COHORTSYNC_MOODLE_FIXTURES` set as `.ci/run` sets them;
//! with `RUST_LOG=cohortsync_backend=debug`, the apply's phases are printed.

use std::time::Instant;

use cohortsync_backend::auth::Admin;
use cohortsync_backend::changesets;
use cohortsync_backend::config::MoodleSiteArgs;
use cohortsync_backend::moodle::Moodle;
use cohortsync_backend::store::{Database, accounts};
use cohortsync_e2e::moodle_site::{Scale, generate};
use cohortsync_shared::options::{CohortIdentifier, Mode, Options, UserIdentifier};
use cohortsync_shared::report::Lang;

const SCALE: Scale = Scale {
    users: 50_000,
    cohorts: 2_000,
    members: 100,
    courses: 2_000,
};
const ADDED_PER_COHORT: u64 = 50;

/// 50 users added to each cohort, none of them a member already.
fn additions() -> String {
    let mut text = String::from("cmd;cidnumber;userid\n");
    for cohort in 1..=SCALE.cohorts {
        for k in SCALE.members..SCALE.members + ADDED_PER_COHORT {
            let slot = (cohort - 1) * SCALE.members + k;
            text.push_str(&format!("add;COH{cohort};user{}\n", slot % SCALE.users + 1));
        }
    }
    text
}

async fn bench(name: &str, base: &str) -> anyhow::Result<()> {
    let fixtures = std::env::var("COHORTSYNC_MOODLE_FIXTURES")
        .unwrap_or_else(|_| "../shared/moodle".to_owned());
    let url = cohortsync_backend::store::create_scratch_database(base).await?;
    let started = Instant::now();
    generate(&url, std::path::Path::new(&fixtures), SCALE).await?;
    println!(
        "{name}: generated the site in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let moodle = Moodle::connect(&url, "mdl_").await?;
    let mut times = Vec::new();
    let mut snapshot = None;
    for _ in 0..5 {
        let started = Instant::now();
        snapshot = Some(moodle.load_snapshot("local_cohortsync").await?);
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let snapshot = snapshot.expect("a snapshot");
    println!(
        "{name}: snapshot read: median {:.0} ms (min {:.0}, max {:.0}) for {} users, {} cohorts, \
         {} memberships, {} bindings",
        times[2],
        times[0],
        times[4],
        snapshot.users.len(),
        snapshot.cohorts.len(),
        snapshot
            .cohorts
            .iter()
            .map(|c| c.members.len())
            .sum::<usize>(),
        snapshot.bindings.len()
    );

    // What a plan touching every course reads besides: the enrolment state of those courses.
    let courses: std::collections::BTreeSet<i64> =
        snapshot.bindings.iter().map(|b| b.course).collect();
    let mut times = Vec::new();
    let mut rows = 0;
    for _ in 0..3 {
        let mut conn = moodle.pool().acquire().await?;
        let started = Instant::now();
        let state = moodle
            .enrolment_state_on(&mut conn, &snapshot.bindings, &courses)
            .await?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        rows = state
            .bindings
            .iter()
            .map(|b| b.active.len() + b.suspended.len())
            .sum();
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{name}: enrolment state of {} courses ({rows} enrolments): median {:.0} ms (min {:.0}, max {:.0})",
        courses.len(),
        times[1],
        times[0],
        times[2]
    );

    let dir = tempfile::tempdir()?;
    let db =
        Database::connect(&format!("sqlite://{}", dir.path().join("own.db").display())).await?;
    let site = cohortsync_backend::connect_site(&MoodleSiteArgs {
        moodle_db_url: Some(url.clone()),
        moodle_prefix: "mdl_".to_owned(),
        moodle_component: "local_cohortsync".to_owned(),
        moodle_actor: None,
        moodle_after_apply: None,
    })
    .await?;
    let hash = cohortsync_backend::crypto::hash_password("password123")?;
    let id = accounts::upsert_account(db.pool(), "admin", &hash, accounts::Role::Admin).await?;
    let token_hash = cohortsync_backend::crypto::sha256_hex(b"bench-token");
    accounts::create_session(db.pool(), id, &token_hash, 3600).await?;
    let caller = accounts::caller_by_session(db.pool(), &token_hash)
        .await?
        .expect("a session");
    let admin = Admin::try_from(caller.clone()).map_err(|_| anyhow::anyhow!("not an admin"))?;
    let options = Options {
        user_identifier: UserIdentifier::Username,
        cohort_identifier: CohortIdentifier::Idnumber,
        mode: Mode::Incremental,
        ..Options::default()
    };
    let file = additions();
    let id = changesets::submit(
        &db,
        &site,
        &caller,
        "additions.csv",
        file.into_bytes(),
        &options,
        Lang::En,
    )
    .await
    .map_err(|e| anyhow::anyhow!("submit: {e:?}"))?;
    changesets::approve(&db, &site, &admin, id, "")
        .await
        .map_err(|e| anyhow::anyhow!("approve: {e:?}"))?;
    let started = Instant::now();
    let report = changesets::apply(&db, &site, &admin, id)
        .await
        .map_err(|e| anyhow::anyhow!("apply: {e:?}"))?;
    let seconds = started.elapsed().as_secs_f64();
    let added = report.totals.members_added;
    println!(
        "{name}: apply of {added} additions ({} enrolments): {seconds:.2} s, {:.0} additions/s",
        report.totals.enrolments,
        added as f64 / seconds
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `RUST_LOG=cohortsync_backend=debug` shows where the apply's time goes.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let mut ran = false;
    for (name, var) in [
        ("postgres", "COHORTSYNC_TEST_POSTGRES_URL"),
        ("mariadb", "COHORTSYNC_TEST_MARIADB_URL"),
    ] {
        match std::env::var(var) {
            Ok(url) if !url.is_empty() => {
                bench(name, &url).await?;
                ran = true;
            }
            _ => println!("SKIPPED {name}: set {var}"),
        }
    }
    anyhow::ensure!(ran, "no database to measure on");
    Ok(())
}
