//! Released migrations never change: a database made by the migrations as they were
//! released opens with the current server (sqlx refuses one whose applied migration's
//! checksum differs), and its data stays. `released_migrations/` holds the SQL as it was
//! released (0001–0002 at the stop of 2026-11-22, 0003–0004 at stop 16, 0005–0006 at stops 20–21); a new migration is
//! added there once it lands.

use std::path::Path;

use cohortsync_backend::store::{Database, accounts};
use sqlx::migrate::Migrator;

fn released(kind: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/released_migrations")
        .join(kind)
}

#[test]
fn no_released_migration_was_edited() {
    for kind in ["sqlite", "postgres"] {
        for entry in std::fs::read_dir(released(kind)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap();
            let current = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(kind)
                .join(name);
            assert_eq!(
                std::fs::read(&path).unwrap(),
                std::fs::read(&current).unwrap_or_default(),
                "{kind}/{name:?} changed after it was released: add a new migration instead"
            );
        }
    }
}

async fn opens_after_the_released_migrations(kind: &str, url: &str) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .unwrap();
    Migrator::new(released(kind))
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO accounts (username, password_hash, role, created_at) \
         VALUES ('veteran', 'x', 'admin', 1)",
    )
    .execute(&pool)
    .await
    .unwrap();
    // A binding and its enrolment, which 0007 rebuilds the table under on SQLite.
    for sql in [
        "INSERT INTO users (id, username, idnumber, email, firstname, lastname) \
         VALUES (1, 'u1', 'U1', 'u1@x', 'U', 'One')",
        "INSERT INTO cohorts (id, idnumber, name) VALUES (1, 'C1', 'Cohort 1')",
        "INSERT INTO courses (id, shortname, idnumber, fullname) VALUES (1, 'K1', '', 'K')",
        "INSERT INTO roles (id, shortname) VALUES (50, 'student50')",
        "INSERT INTO bindings (id, course_id, cohort_id, role_id, name, status) \
         VALUES (7, 1, 1, 50, 'Kept', 'disabled')",
        "INSERT INTO enrolments (binding_id, user_id, status, role_removed) \
         VALUES (7, 1, 'suspended', 1)",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    pool.close().await;
    let db = Database::connect(url).await.unwrap_or_else(|e| {
        panic!("{kind}: the current server refuses a released database: {e:#}")
    });
    let account = accounts::find_account(db.pool(), "veteran").await.unwrap();
    assert_eq!(account.map(|a| a.username).as_deref(), Some("veteran"));
    let binding: (i64, i64, String, String) =
        sqlx::query_as("SELECT id, cohort_id, name, status FROM bindings")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(
        binding,
        (7, 1, "Kept".to_owned(), "disabled".to_owned()),
        "{kind}"
    );
    let enrolment: (i64, i64, String, i64) =
        sqlx::query_as("SELECT binding_id, user_id, status, role_removed FROM enrolments")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(enrolment, (7, 1, "suspended".to_owned(), 1), "{kind}");
    // Since 0007 a binding outlives its cohort (Moodle's suspend actions keep it).
    sqlx::query("DELETE FROM cohorts WHERE id = 1")
        .execute(db.pool())
        .await
        .unwrap_or_else(|e| panic!("{kind}: a bound cohort cannot be deleted: {e}"));
}

#[tokio::test]
async fn a_database_made_by_the_released_migrations_opens_with_the_current_server() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
    opens_after_the_released_migrations("sqlite", &url).await;
    match std::env::var("COHORTSYNC_TEST_POSTGRES_URL") {
        Ok(base) if !base.is_empty() => {
            let url = cohortsync_backend::store::create_scratch_database(&base)
                .await
                .unwrap();
            opens_after_the_released_migrations("postgres", &url).await;
        }
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but COHORTSYNC_TEST_POSTGRES_URL is not set")
        }
        _ => eprintln!("SKIPPED on PostgreSQL: COHORTSYNC_TEST_POSTGRES_URL is not set"),
    }
}
