//! Server benchmarks, on SQLite and (when `COHORTSYNC_TEST_POSTGRES_URL` is set) PostgreSQL:
//!
//! - applying 100k membership additions with their enrolment effects (rows/s), the plan
//!   made by the shared rules from a generated file, the write timed alone;
//! - building the snapshot of a site of 50k users, 2k cohorts and 200k memberships: time,
//!   and size raw and gzip-compressed, for the admin and the teacher variants;
//! - reading a submitted 100-row changeset with its drift and dry run
//!   (`GET /api/changesets/{id}`'s work, `changesets::detail`), as an admin and as a
//!   teacher: median of 20;
//! - what `GET /api/snapshot?since=REV` sends after a 100-member change.
//!
//! Run: `cargo bench -p cohortsync-backend --bench apply`

use std::io::Write;
use std::time::{Duration, Instant};

use cohortsync_backend::changesets;
use cohortsync_backend::site::Site;
use cohortsync_backend::store::accounts::{self, Caller};
use cohortsync_backend::store::bulk::{self, Value};
use cohortsync_backend::store::{Database, site};
use cohortsync_shared::options::Options;
use cohortsync_shared::report::Lang;

const USERS: i64 = 50_000;
const COHORTS: i64 = 2_000;
const MEMBERS_PER_COHORT: i64 = 100; // 200k memberships
const ADDS: i64 = 100_000;

async fn seed(db: &Database) -> anyhow::Result<()> {
    let mut tx = db.begin_write().await?;
    let users: Vec<Vec<Value>> = (1..=USERS)
        .map(|id| {
            vec![
                Value::Int(id),
                format!("user{id}").into(),
                format!("E{id:07}").into(),
                format!("user{id}@univ.example").into(),
                "Prénom".into(),
                "Nom".into(),
            ]
        })
        .collect();
    bulk::insert(
        &mut tx,
        "users",
        &[
            "id",
            "username",
            "idnumber",
            "email",
            "firstname",
            "lastname",
        ],
        &users,
        "",
    )
    .await?;
    let courses: Vec<Vec<Value>> = (1..=COHORTS)
        .map(|id| vec![Value::Int(id), format!("COURSE{id}").into()])
        .collect();
    bulk::insert(&mut tx, "courses", &["id", "shortname"], &courses, "").await?;
    let cohorts: Vec<Vec<Value>> = (1..=COHORTS)
        .map(|id| {
            vec![
                Value::Int(id),
                format!("C{id:05}").into(),
                format!("Cohorte {id}").into(),
                "cohortsync".into(),
            ]
        })
        .collect();
    bulk::insert(
        &mut tx,
        "cohorts",
        &["id", "idnumber", "name", "component"],
        &cohorts,
        "",
    )
    .await?;
    let mut members = Vec::new();
    for cohort in 1..=COHORTS {
        for k in 0..MEMBERS_PER_COHORT {
            members.push(vec![Value::Int(cohort), Value::Int(member(cohort, k))]);
        }
    }
    bulk::insert(
        &mut tx,
        "cohort_members",
        &["cohort_id", "user_id"],
        &members,
        "",
    )
    .await?;
    // Every cohort is bound to its course as students: each addition enrols.
    let bindings: Vec<Vec<Value>> = (1..=COHORTS)
        .map(|id| {
            vec![
                Value::Int(id),
                Value::Int(id),
                Value::Int(id),
                Value::Int(5),
            ]
        })
        .collect();
    bulk::insert(
        &mut tx,
        "bindings",
        &["id", "course_id", "cohort_id", "role_id"],
        &bindings,
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The `k`-th member of `cohort` in the seeded site, distinct for k < 150: one user at a
/// random place in each window of 333 ids, from a random start, so that consecutive
/// members are 1 to 665 ids apart, as scattered as a real cohort's (a regular pattern would
/// make the snapshot's sizes, once compressed, look better than they are).
fn member(cohort: i64, k: i64) -> i64 {
    let mix = |x: u64| {
        // splitmix64
        let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) as i64 & i64::MAX
    };
    let start = mix(cohort as u64) % USERS;
    let within = mix(((cohort as u64) << 20) | k as u64) % 333;
    (start + k * 333 + within) % USERS + 1
}

/// A cohort file adding 100k members who are not members yet.
fn additions() -> Vec<u8> {
    let mut text = String::from("cmd;cidnumber;userid\n");
    let per_cohort = ADDS / COHORTS;
    for cohort in 1..=COHORTS {
        for k in 0..per_cohort {
            // Offsets past the seeded members' pattern: never already a member.
            let user = member(cohort, MEMBERS_PER_COHORT + k);
            text.push_str(&format!("add;C{cohort:05};E{user:07}\n"));
        }
    }
    text.into_bytes()
}

fn gzip(bytes: &[u8]) -> usize {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("in-memory write");
    encoder.finish().expect("in-memory write").len()
}

async fn bench(name: &str, url: &str) -> anyhow::Result<()> {
    let db = Database::connect(url).await?;
    seed(&db).await?;

    // Snapshot build: load and serialise, as GET /api/snapshot does.
    let mut best = Duration::MAX;
    let mut sizes = (0, 0, 0, 0);
    for _ in 0..3 {
        let start = Instant::now();
        let mut conn = db.pool().acquire().await?;
        let snapshot = site::load_snapshot(&mut conn).await?;
        let json = serde_json::to_vec(&snapshot)?;
        best = best.min(start.elapsed());
        let teacher = serde_json::to_vec(&snapshot.for_teacher(b"0123456789abcdef"))?;
        sizes = (json.len(), gzip(&json), teacher.len(), gzip(&teacher));
    }
    println!(
        "{name}: snapshot of {USERS} users, {COHORTS} cohorts, {} memberships: built in {:.0} ms; \
         admin {:.1} MB raw, {:.1} MB gzip; teacher {:.1} MB raw, {:.1} MB gzip",
        COHORTS * MEMBERS_PER_COHORT,
        best.as_secs_f64() * 1e3,
        sizes.0 as f64 / 1e6,
        sizes.1 as f64 / 1e6,
        sizes.2 as f64 / 1e6,
        sizes.3 as f64 / 1e6,
    );

    detail(name, &db).await?;

    // Plan with the shared rules, then time the write and commit alone.
    let mut conn = db.pool().acquire().await?;
    let snapshot = site::load_snapshot(&mut conn).await?;
    drop(conn);
    let checked = cohortsync_shared::check(&additions(), &snapshot, &Options::default());
    let plan = checked.changeset.ok_or_else(|| {
        anyhow::anyhow!(
            "the generated file has errors: {:?}",
            checked.report.diagnostics.first()
        )
    })?;
    let totals = plan.totals();
    assert_eq!(totals.members_added as i64, ADDS);
    // The drift check of an apply compares the plan made now with the stored one.
    let again = plan.clone();
    let start = Instant::now();
    let (added, removed) = cohortsync_shared::api::difference(&again.operations, &plan.operations);
    let (effects_added, effects_removed) =
        cohortsync_shared::api::difference(&again.effects, &plan.effects);
    let compared = start.elapsed();
    assert!(added.is_empty() && removed.is_empty());
    assert!(effects_added.is_empty() && effects_removed.is_empty());
    println!(
        "{name}: drift comparison of that plan with itself ({} operations, {} effects): {:.0} ms",
        plan.operations.len(),
        plan.effects.len(),
        compared.as_secs_f64() * 1e3,
    );
    let start = Instant::now();
    let mut tx = db.begin_write().await?;
    site::write_changeset(&mut tx, &plan).await?;
    tx.commit().await?;
    let elapsed = start.elapsed();
    println!(
        "{name}: apply of {} member additions and {} enrolments: {:.2} s, {:.0} additions/s",
        totals.members_added,
        totals.enrolments,
        elapsed.as_secs_f64(),
        totals.members_added as f64 / elapsed.as_secs_f64(),
    );

    refresh(name, &db).await
}

/// What `GET /api/snapshot?since=REV` sends after a 100-member change: 100 members removed
/// from 100 cohorts, applied, and the changes between the snapshots before and after.
async fn refresh(name: &str, db: &Database) -> anyhow::Result<()> {
    let mut conn = db.pool().acquire().await?;
    let before = site::load_snapshot(&mut conn).await?;
    drop(conn);
    let mut file = String::from("cmd;cidnumber;userid\n");
    for cohort in 1..=100 {
        file.push_str(&format!("del;C{cohort:05};E{:07}\n", member(cohort, 0)));
    }
    let checked = cohortsync_shared::check(file.as_bytes(), &before, &Options::default());
    let plan = checked
        .changeset
        .ok_or_else(|| anyhow::anyhow!("the removals have errors"))?;
    assert_eq!(plan.totals().members_removed, 100);
    let mut tx = db.begin_write().await?;
    site::write_changeset(&mut tx, &plan).await?;
    tx.commit().await?;
    let mut conn = db.pool().acquire().await?;
    let after = site::load_snapshot(&mut conn).await?;
    drop(conn);
    let start = Instant::now();
    let changes = cohortsync_shared::snapshot::SnapshotChanges::between(&before, &after);
    let took = start.elapsed();
    let admin = serde_json::to_vec(&changes)?;
    let teacher = serde_json::to_vec(&changes.for_teacher(b"0123456789abcdef"))?;
    let whole = serde_json::to_vec(&after.for_teacher(b"0123456789abcdef"))?;
    println!(
        "{name}: refresh after 100 member removals (GET /api/snapshot?since=): admin {} bytes, {} gzip; \
         teacher {} bytes, {} gzip (the whole teacher's snapshot: {:.2} MB gzip); changes worked out in {:.1} ms",
        admin.len(),
        gzip(&admin),
        teacher.len(),
        gzip(&teacher),
        gzip(&whole) as f64 / 1e6,
        took.as_secs_f64() * 1e3,
    );
    Ok(())
}

/// A signed-in caller of `role`, by a session made for the bench.
async fn caller(db: &Database, name: &str, role: accounts::Role) -> anyhow::Result<Caller> {
    let id = accounts::upsert_account(db.pool(), name, "not-a-hash", role).await?;
    let token = cohortsync_backend::crypto::sha256_hex(name.as_bytes());
    accounts::create_session(db.pool(), id, &token, 3600).await?;
    accounts::caller_by_session(db.pool(), &token)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no session for {name}"))
}

/// The median of 20 reads of a submitted 100-row changeset, by an admin and by its author.
async fn detail(name: &str, db: &Database) -> anyhow::Result<()> {
    let site = Site::default();
    let admin = caller(db, "bench-admin", accounts::Role::Admin).await?;
    let teacher = caller(db, "bench-teacher", accounts::Role::Teacher).await?;
    let mut file = String::from("cmd;cidnumber;userid\n");
    for k in 0..100 {
        let cohort = k * 20 + 1;
        let user = member(cohort, MEMBERS_PER_COHORT + ADDS / COHORTS + 1);
        file.push_str(&format!("add;C{cohort:05};E{user:07}\n"));
    }
    let id = changesets::submit(
        db,
        &site,
        &teacher,
        "hundred.csv",
        file.into_bytes(),
        &Options::default(),
        Lang::En,
    )
    .await
    .map_err(|e| anyhow::anyhow!("submit: {e:?}"))?;
    for (who, caller) in [("admin", &admin), ("teacher", &teacher)] {
        let mut times = Vec::new();
        for _ in 0..20 {
            let start = Instant::now();
            let read = changesets::detail(db, &site, caller, id, false)
                .await
                .map_err(|e| anyhow::anyhow!("detail: {e:?}"))?;
            times.push(start.elapsed());
            assert!(read.dry_run.is_some());
        }
        times.sort();
        println!(
            "{name}: detail of a submitted 100-row changeset, as {who}: median {:.1} ms \
             (min {:.1}, max {:.1}; 20 reads)",
            times[10].as_secs_f64() * 1e3,
            times[0].as_secs_f64() * 1e3,
            times[19].as_secs_f64() * 1e3,
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    bench(
        "sqlite",
        &format!("sqlite://{}", dir.path().join("bench.db").display()),
    )
    .await?;
    match std::env::var("COHORTSYNC_TEST_POSTGRES_URL") {
        Ok(base) if !base.is_empty() => {
            let url = cohortsync_backend::store::create_scratch_database(&base).await?;
            bench("postgres", &url).await?;
        }
        _ => println!("postgres: SKIPPED (set COHORTSYNC_TEST_POSTGRES_URL)"),
    }
    Ok(())
}
