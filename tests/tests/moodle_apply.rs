//! Applying into Moodle when things go wrong, on the fixture site in scratch PostgreSQL and
//! MariaDB databases: a member added in Moodle between approval and apply is a `409 drift`
//! that writes nothing; a failure half-way through the writes leaves Moodle's tables as
//! they were; a revert takes them back. The server's own lifecycle functions, in process,
//! with cohortsync's data in SQLite and the site in Moodle.

use std::collections::BTreeMap;
use std::path::Path;

use cohortsync_backend::auth::{Admin, Caller};
use cohortsync_backend::changesets;
use cohortsync_backend::config::MoodleSiteArgs;
use cohortsync_backend::error::ApiError;
use cohortsync_backend::site::Site;
use cohortsync_backend::store::{Database, accounts};
use cohortsync_e2e::moodle_tables::{Natural, tables_now};
use cohortsync_e2e::{load_moodle_site, mariadb_url, moodle_fixtures, postgres_url};
use cohortsync_shared::options::{CohortIdentifier, Mode, Options, UserIdentifier};
use cohortsync_shared::report::Lang;
use sqlx::{AnyConnection, Connection};

/// Adds three users to L1-LET-2026 (bound to LET101 with a group, and to HIST201 by a
/// disabled instance): case 01.
const ADD_THREE: &str = "cmd;cidnumber;userid\n\
add;L1-LET-2026;timothee.faure\n\
add;L1-LET-2026;helene.lacroix\n\
add;L1-LET-2026;candidat.libre\n";

struct Fixture {
    db: Database,
    site: Site,
    admin: Admin,
    moodle: AnyConnection,
    mysql: bool,
    _dir: tempfile::TempDir,
}

impl Fixture {
    async fn new(url: &str, fixtures: &Path) -> anyhow::Result<Fixture> {
        load_moodle_site(url, fixtures).await?;
        let dir = tempfile::tempdir()?;
        let db =
            Database::connect(&format!("sqlite://{}", dir.path().join("own.db").display())).await?;
        let site = cohortsync_backend::connect_site(&MoodleSiteArgs {
            moodle_db_url: Some(url.to_owned()),
            moodle_prefix: "mdl_".to_owned(),
            moodle_component: "local_cohortsync".to_owned(),
            moodle_actor: None,
            moodle_after_apply: Some("echo caches purged".to_owned()),
        })
        .await?;
        let hash = cohortsync_backend::crypto::hash_password("password123")?;
        accounts::upsert_account(db.pool(), "admin", &hash, accounts::Role::Admin).await?;
        let token = cohortsync_backend::crypto::random_hex(16);
        let token_hash = cohortsync_backend::crypto::sha256_hex(token.as_bytes());
        let id = accounts::find_account(db.pool(), "admin")
            .await?
            .map(|a| a.id)
            .unwrap_or_default();
        accounts::create_session(db.pool(), id, &token_hash, 3600).await?;
        let caller: Caller = accounts::caller_by_session(db.pool(), &token_hash)
            .await?
            .expect("the admin's session");
        let admin = Admin::try_from(caller).map_err(|_| anyhow::anyhow!("not an admin"))?;
        Ok(Fixture {
            db,
            site,
            admin,
            moodle: AnyConnection::connect(url).await?,
            mysql: url.starts_with("mysql://"),
            _dir: dir,
        })
    }

    /// A signed-in account named `name` with `role`.
    async fn caller(&self, name: &str, role: accounts::Role) -> anyhow::Result<Caller> {
        let hash = cohortsync_backend::crypto::hash_password("password123")?;
        let id = accounts::upsert_account(self.db.pool(), name, &hash, role).await?;
        let token_hash = cohortsync_backend::crypto::sha256_hex(name.as_bytes());
        accounts::create_session(self.db.pool(), id, &token_hash, 3600).await?;
        Ok(accounts::caller_by_session(self.db.pool(), &token_hash)
            .await?
            .expect("a session"))
    }

    /// Submits and approves `file`; returns the changeset id.
    async fn approved(&self, file: &str) -> anyhow::Result<i64> {
        let options = Options {
            user_identifier: UserIdentifier::Username,
            cohort_identifier: CohortIdentifier::Idnumber,
            mode: Mode::Incremental,
            ..Options::default()
        };
        let caller: &Caller = &self.admin;
        let id = changesets::submit(
            &self.db,
            &self.site,
            caller,
            "file.csv",
            file.as_bytes().to_vec(),
            &options,
            Lang::En,
        )
        .await
        .map_err(|e| anyhow::anyhow!("submit: {e:?}"))?;
        changesets::approve(&self.db, &self.site, &self.admin, id, "")
            .await
            .map_err(|e| anyhow::anyhow!("approve: {e:?}"))?;
        Ok(id)
    }

    async fn tables(&mut self) -> anyhow::Result<BTreeMap<String, Vec<Natural>>> {
        tables_now(&mut self.moodle, self.mysql).await
    }
}

/// The fixture site in a scratch database of each configured server.
async fn sites(test: &str) -> Vec<(String, std::path::PathBuf)> {
    let Some(fixtures) = moodle_fixtures(test) else {
        return Vec::new();
    };
    [postgres_url(test).await, mariadb_url(test).await]
        .into_iter()
        .flatten()
        .map(|url| (url, fixtures.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_added_in_moodle_after_approval_is_drift_and_nothing_is_written()
-> anyhow::Result<()> {
    for (url, fixtures) in sites("a_member_added_in_moodle_after_approval_is_drift").await {
        let mut f = Fixture::new(&url, &fixtures).await?;
        let id = f.approved(ADD_THREE).await?;
        // In Moodle, meanwhile: helene.lacroix joins the cohort by hand.
        sqlx::raw_sql(
            "INSERT INTO mdl_cohort_members (cohortid, userid, timeadded) \
             SELECT c.id, u.id, 1 FROM mdl_cohort c, mdl_user u \
             WHERE c.idnumber = 'L1-LET-2026' AND u.username = 'helene.lacroix'",
        )
        .execute(&mut f.moodle)
        .await?;
        let before = f.tables().await?;
        let result = changesets::apply(&f.db, &f.site, &f.admin, id).await;
        match result {
            Err(ApiError::Conflict { code: "drift", .. }) => {}
            other => panic!("{url}: expected 409 drift, got {other:?}"),
        }
        assert_eq!(f.tables().await?, before, "{url}: a drifted apply wrote");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_half_way_leaves_moodle_as_it_was() -> anyhow::Result<()> {
    for (url, fixtures) in sites("a_failure_half_way_leaves_moodle_as_it_was").await {
        let mut f = Fixture::new(&url, &fixtures).await?;
        let before = f.tables().await?;
        let flags_before = flag_count(&mut f.moodle).await?;
        let id = f.approved(ADD_THREE).await?;
        // Two of the three members are written, then the apply fails.
        let result = changesets::apply_with_failure_after(&f.db, &f.site, &f.admin, id, 2).await;
        assert!(result.is_err(), "{url}: the injected failure did not fail");
        assert_eq!(f.tables().await?, before, "{url}: a failed apply left rows");
        assert_eq!(flag_count(&mut f.moodle).await?, flags_before, "{url}");
        // The changeset is failed: approved again, it applies whole.
        changesets::approve(&f.db, &f.site, &f.admin, id, "again")
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let report = changesets::apply(&f.db, &f.site, &f.admin, id)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        assert_eq!(report.totals.members_added, 3, "{url}");
        let after_apply = report.after_apply.expect("the after-apply command ran");
        assert!(after_apply.success, "{url}: {after_apply:?}");
        assert_eq!(after_apply.output, "caches purged\n");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revert_takes_moodle_back() -> anyhow::Result<()> {
    for (url, fixtures) in sites("a_revert_takes_moodle_back").await {
        let mut f = Fixture::new(&url, &fixtures).await?;
        let before = f.tables().await?;
        let id = f.approved(ADD_THREE).await?;
        changesets::apply(&f.db, &f.site, &f.admin, id)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let applied = f.tables().await?;
        assert_ne!(applied, before, "{url}: the apply wrote nothing");
        assert_eq!(
            applied["cohort_members"].len(),
            before["cohort_members"].len() + 3
        );
        let revert = changesets::revert(&f.db, &f.site, &f.admin, id)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        assert_eq!(revert.totals.members_removed, 3, "{url}");
        assert_eq!(
            f.tables().await?,
            before,
            "{url}: the revert left a difference"
        );
    }
    Ok(())
}

/// How many rows Moodle's standard log holds.
async fn log_count(moodle: &mut AnyConnection) -> anyhow::Result<i64> {
    use sqlx::Row;
    let row = sqlx::query("SELECT COUNT(*) FROM mdl_logstore_standard_log")
        .fetch_one(&mut *moodle)
        .await?;
    Ok(row.try_get(0)?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_that_disabled_the_standard_log_gets_no_log_rows() -> anyhow::Result<()> {
    for (url, fixtures) in sites("a_site_that_disabled_the_standard_log").await {
        let mut f = Fixture::new(&url, &fixtures).await?;
        // The fixture site has no `tool_log` settings: it logs, as a fresh install does.
        let id = f.approved(ADD_THREE).await?;
        let before = log_count(&mut f.moodle).await?;
        changesets::apply(&f.db, &f.site, &f.admin, id)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let logged = log_count(&mut f.moodle).await? - before;
        assert!(logged > 0, "{url}: a logging site got no log rows");

        // An admin moves the site's log to an external database (Manage log stores).
        sqlx::raw_sql(
            "INSERT INTO mdl_config_plugins (plugin, name, value) \
             VALUES ('tool_log', 'enabled_stores', 'logstore_database')",
        )
        .execute(&mut f.moodle)
        .await?;
        let id = f
            .approved("cmd;cidnumber;userid\nadd;L1-LET-2026;lea.coeur\n")
            .await?;
        let before_rows = f.tables().await?;
        let before = log_count(&mut f.moodle).await?;
        let report = changesets::apply(&f.db, &f.site, &f.admin, id)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        assert_eq!(report.totals.members_added, 1, "{url}");
        assert_ne!(
            f.tables().await?,
            before_rows,
            "{url}: the apply wrote nothing"
        );
        assert_eq!(
            log_count(&mut f.moodle).await?,
            before,
            "{url}: rows were logged to a store Moodle does not use"
        );
    }
    Ok(())
}

/// How many dirty flags Moodle holds and the latest stamp: a failed apply changes neither.
async fn flag_count(moodle: &mut AnyConnection) -> anyhow::Result<(i64, i64)> {
    use sqlx::Row;
    let row = sqlx::query("SELECT COUNT(*), COALESCE(MAX(timemodified), 0) FROM mdl_cache_flags")
        .fetch_one(&mut *moodle)
        .await?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_after_apply_command_printed_is_for_admins_only() -> anyhow::Result<()> {
    for (url, fixtures) in sites("what_the_after_apply_command_printed_is_for_admins_only").await {
        let f = Fixture::new(&url, &fixtures).await?;
        let teacher = f.caller("prof", accounts::Role::Teacher).await?;
        let options = Options {
            user_identifier: UserIdentifier::Username,
            cohort_identifier: CohortIdentifier::Idnumber,
            mode: Mode::Incremental,
            ..Options::default()
        };
        let id = changesets::submit(
            &f.db,
            &f.site,
            &teacher,
            "file.csv",
            ADD_THREE.as_bytes().to_vec(),
            &options,
            Lang::En,
        )
        .await
        .map_err(|e| anyhow::anyhow!("submit: {e:?}"))?;
        changesets::approve(&f.db, &f.site, &f.admin, id, "")
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        changesets::apply(&f.db, &f.site, &f.admin, id)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let after_apply =
            |detail: cohortsync_shared::api::ChangesetDetail| match detail.record.apply_report {
                Some(cohortsync_shared::api::ApplyOutcome::Applied(report)) => report.after_apply,
                other => panic!("{url}: not applied: {other:?}"),
            };
        let admin: &Caller = &f.admin;
        let seen = changesets::detail(&f.db, &f.site, admin, id, false)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        assert_eq!(
            after_apply(seen).map(|a| a.output),
            Some("caches purged\n".into())
        );
        let seen = changesets::detail(&f.db, &f.site, &teacher, id, false)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        assert_eq!(
            after_apply(seen),
            None,
            "{url}: a teacher read the command's output"
        );
    }
    Ok(())
}

/// Moodle's own cohort upload file, applied into Moodle: each cohort in the context its row
/// names (a category by path, by context id, by idnumber; the system's), hidden when the
/// row says so, and manual (no component), as Moodle's upload screen makes them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moodle_cohort_upload_file_creates_its_cohorts_in_moodle() -> anyhow::Result<()> {
    use sqlx::Row;
    for (url, fixtures) in sites("a_moodle_cohort_upload_file_creates_its_cohorts_in_moodle").await
    {
        let mut f = Fixture::new(&url, &fixtures).await?;
        let file = "name,idnumber,description,visible,contextid,category\n\
                    M1 Maths,M1-MATHS,<p>Master 1</p>,no,,Sciences et Technologies / Mathématiques\n\
                    M1 Lettres,M1-LET,,,130,\n\
                    M1 Sciences,,,,,SCI\n\
                    Tout le monde,ALL-2026,,,,\n";
        let id = f.approved(file).await?;
        changesets::apply(&f.db, &f.site, &f.admin, id)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let int = if f.mysql { "SIGNED" } else { "BIGINT" };
        let rows = sqlx::query(&format!(
            "SELECT name, COALESCE(idnumber, ''), CAST(contextid AS {int}), \
             CAST(visible AS {int}), component FROM mdl_cohort WHERE name IN \
             ('M1 Maths', 'M1 Lettres', 'M1 Sciences', 'Tout le monde') ORDER BY name"
        ))
        .fetch_all(&mut f.moodle)
        .await?;
        let text = cohortsync_e2e::moodle_tables::text;
        let found = rows
            .iter()
            .map(|r| {
                Ok((
                    text(r, 0)?,
                    text(r, 1)?,
                    r.try_get::<i64, _>(2)?,
                    r.try_get::<i64, _>(3)?,
                    text(r, 4)?,
                ))
            })
            .collect::<anyhow::Result<Vec<(String, String, i64, i64, String)>>>()?;
        assert_eq!(
            found,
            [
                ("M1 Lettres".into(), "M1-LET".into(), 130, 1, String::new()),
                ("M1 Maths".into(), "M1-MATHS".into(), 129, 0, String::new()),
                ("M1 Sciences".into(), String::new(), 128, 1, String::new()),
                (
                    "Tout le monde".into(),
                    "ALL-2026".into(),
                    1,
                    1,
                    String::new()
                ),
            ],
            "{url}"
        );
    }
    Ok(())
}
