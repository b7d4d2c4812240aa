//! Where the site lives: the embedded store (tables in cohortsync's own database, filled by
//! `cohortsync import` and the demo) or a Moodle database. The rules, the web app and the
//! workflow go through [`Site`] and [`SiteWrite`] and do not know which one is in use.
//!
//! cohortsync's own data (accounts, sessions, tokens, changesets, audit log, settings) is
//! always in its own database; with Moodle, only the site is elsewhere.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cohortsync_shared::api::Applied;
use cohortsync_shared::changeset::Changeset;
use cohortsync_shared::options::Options;
use cohortsync_shared::snapshot::{
    Binding, Cohort, EnrolmentState, Snapshot, SnapshotChanges, UserIndex,
};
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

use crate::moodle::Moodle;
use crate::moodle::write::WriteContext;
use crate::store::{self, StoreResult};

/// How long a snapshot read from Moodle serves requests before it is read again.
pub const MOODLE_SNAPSHOT_TTL: Duration = Duration::from_secs(5);

/// The site backend in use.
#[derive(Debug, Clone)]
pub enum Site {
    /// The site's tables in cohortsync's own database, with the last snapshot built from
    /// them.
    Embedded(Arc<SnapshotCache>),
    /// A Moodle database.
    Moodle(Arc<MoodleSite>),
}

impl Default for Site {
    /// The embedded store.
    fn default() -> Self {
        Site::Embedded(Arc::default())
    }
}

/// The last snapshot built, with the revision it was built at: every request until the
/// next change shares it instead of reading the whole site again (a 50k-user site takes
/// a few hundred milliseconds to read). A revision names one content: every change to
/// the site or to its default options bumps it (on Moodle, the revision is a fingerprint
/// of the content and the options).
#[derive(Debug, Default)]
pub struct SnapshotCache {
    /// The admin's variant, as the rules see the site.
    admin: Slot,
    /// The admin's snapshots of the last revisions served (the current one included),
    /// oldest first: what `GET /api/snapshot?since=REV` works out the changes from.
    history: std::sync::Mutex<std::collections::VecDeque<Arc<Snapshot>>>,
    /// The teacher's variant of it ([`Snapshot::for_teacher`]: 150,000 keyed hashes on a
    /// 50k-user site), so that teachers' browsers share it too.
    teacher: Slot,
    /// The users of the last admin's snapshot checked against, indexed for the rules, so
    /// that every check of that revision shares one index.
    users: std::sync::Mutex<Option<Arc<UserIndex>>>,
}

/// One kept snapshot.
#[derive(Debug, Default)]
struct Slot(std::sync::Mutex<Option<Arc<Snapshot>>>);

impl Slot {
    /// The snapshot of `revision`, if it is the one kept.
    fn get(&self, revision: u64) -> Option<Arc<Snapshot>> {
        let kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        kept.as_ref().filter(|s| s.revision == revision).cloned()
    }

    /// Keeps `snapshot` (the newest one made) in place of the one kept.
    fn keep(&self, snapshot: &Arc<Snapshot>) {
        let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *kept = Some(snapshot.clone());
    }
}

/// How many revisions' snapshots [`SnapshotCache`] keeps for `?since=` (each is a copy of
/// the site: tens of megabytes on a large one).
pub const SNAPSHOT_HISTORY: usize = 4;

impl SnapshotCache {
    /// Keeps `snapshot` as the admin's current one, and in the history.
    fn keep_admin(&self, snapshot: &Arc<Snapshot>) {
        self.admin.keep(snapshot);
        let mut history = self.history.lock().unwrap_or_else(|e| e.into_inner());
        history.retain(|kept| kept.revision != snapshot.revision);
        history.push_back(snapshot.clone());
        while history.len() > SNAPSHOT_HISTORY {
            history.pop_front();
        }
    }

    /// The changes from the kept snapshot of revision `since` to `current`, if it is kept.
    fn changes_since(&self, since: u64, current: &Snapshot) -> Option<SnapshotChanges> {
        let old = {
            let history = self.history.lock().unwrap_or_else(|e| e.into_inner());
            history.iter().find(|kept| kept.revision == since).cloned()
        }?;
        Some(SnapshotChanges::between(&old, current))
    }

    /// The index of `snapshot`'s users, the kept one when it fits.
    fn user_index(&self, snapshot: &Snapshot) -> Arc<UserIndex> {
        let mut kept = self.users.lock().unwrap_or_else(|e| e.into_inner());
        match kept.as_ref() {
            Some(index) if index.fits(snapshot) => index.clone(),
            _ => {
                let index = Arc::new(UserIndex::new(snapshot));
                *kept = Some(index.clone());
                index
            }
        }
    }

    /// The teacher's variant of `snapshot` (the admin's), hashed with `key`: made once per
    /// revision and key, then shared.
    fn teacher(&self, snapshot: &Snapshot, key: &[u8]) -> Arc<Snapshot> {
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        if let Some(kept) = self.teacher.get(snapshot.revision)
            && kept.user_hash_key.as_deref() == Some(hex.as_str())
        {
            return kept;
        }
        let teacher = Arc::new(snapshot.for_teacher(key));
        self.teacher.keep(&teacher);
        teacher
    }
}

/// A Moodle site, with what writing into it needs.
#[derive(Debug)]
pub struct MoodleSite {
    /// The database.
    pub moodle: Moodle,
    /// The `component` of the cohorts managed by files (`--moodle-component`).
    pub managed: String,
    /// The Moodle user changes are made as (`--moodle-actor`, else the first site admin).
    pub actor: i64,
    /// The last snapshot with cohortsync's default options, by its combined revision.
    with_defaults: SnapshotCache,
    /// The command run after each apply's commit (`--moodle-after-apply`).
    pub after_apply: Option<String>,
    /// Moodle's release, for `/api/health`.
    pub release: Option<String>,
    cache: tokio::sync::Mutex<Option<(Instant, Arc<Snapshot>)>>,
}

impl MoodleSite {
    /// A Moodle site reached through `moodle`.
    pub fn new(
        moodle: Moodle,
        managed: String,
        actor: i64,
        after_apply: Option<String>,
        release: Option<String>,
    ) -> MoodleSite {
        MoodleSite {
            moodle,
            managed,
            actor,
            after_apply,
            release,
            with_defaults: SnapshotCache::default(),
            cache: tokio::sync::Mutex::new(None),
        }
    }

    /// Moodle's part of the snapshot, read at most every [`MOODLE_SNAPSHOT_TTL`].
    async fn cached(&self) -> StoreResult<Arc<Snapshot>> {
        let mut cache = self.cache.lock().await;
        if let Some((when, snapshot)) = cache.as_ref()
            && when.elapsed() < MOODLE_SNAPSHOT_TTL
        {
            return Ok(snapshot.clone());
        }
        let snapshot = Arc::new(self.moodle.load_snapshot(&self.managed).await?);
        *cache = Some((Instant::now(), snapshot.clone()));
        Ok(snapshot)
    }

    /// Forgets the cached snapshot (after an apply wrote into Moodle).
    async fn forget(&self) {
        *self.cache.lock().await = None;
    }
}

/// The revision of a Moodle snapshot with cohortsync's own default options: Moodle's
/// content fingerprint and the options, hashed together (53 bits, exact in JavaScript).
fn combined_revision(moodle_revision: u64, defaults: &Options) -> u64 {
    let mut hash = Sha256::new();
    hash.update(moodle_revision.to_be_bytes());
    hash.update(serde_json::to_vec(defaults).unwrap_or_default());
    let digest = hash.finalize();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(bytes) >> 11
}

/// The default options of a Moodle site: cohortsync's own (read on `own`), except the
/// unenrol action, which is Moodle's (`moodle`, as its snapshot carries it).
async fn moodle_defaults(own: &mut AnyConnection, moodle: &Snapshot) -> StoreResult<Options> {
    Ok(Options {
        unenrol_action: moodle.defaults.unenrol_action,
        ..store::site::default_options(own).await?
    })
}

/// A Moodle snapshot with the site's default options and the revision they give.
async fn with_own_defaults(
    own: &mut AnyConnection,
    mut snapshot: Snapshot,
) -> StoreResult<Snapshot> {
    snapshot.defaults = moodle_defaults(own, &snapshot).await?;
    snapshot.revision = combined_revision(snapshot.revision, &snapshot.defaults);
    Ok(snapshot)
}

impl Site {
    /// `embedded` or `moodle`.
    pub fn kind(&self) -> &'static str {
        match self {
            Site::Embedded(_) => "embedded",
            Site::Moodle(_) => "moodle",
        }
    }

    /// The site as the rules see it (the admin's variant), read with `own` (a connection to
    /// cohortsync's database, for the default options), as a copy the caller may change.
    /// See [`Site::shared_snapshot`].
    pub async fn snapshot(&self, own: &mut AnyConnection) -> StoreResult<Snapshot> {
        Ok(Arc::unwrap_or_clone(self.shared_snapshot(own).await?))
    }

    /// The site as the rules see it (the admin's variant), shared: the snapshot of the
    /// current revision is built once and kept until the next change (Moodle's own part is
    /// read again at most every [`MOODLE_SNAPSHOT_TTL`]). An apply reads the state under
    /// its lock instead ([`SiteWrite::snapshot`]).
    pub async fn shared_snapshot(&self, own: &mut AnyConnection) -> StoreResult<Arc<Snapshot>> {
        match self {
            Site::Embedded(cache) => {
                let (revision, _) = store::site::state(own).await?;
                if let Some(snapshot) = cache.admin.get(revision) {
                    return Ok(snapshot);
                }
                let snapshot = Arc::new(store::site::load_snapshot(own).await?);
                cache.keep_admin(&snapshot);
                Ok(snapshot)
            }
            Site::Moodle(site) => {
                let moodle = site.cached().await?;
                let defaults = moodle_defaults(own, &moodle).await?;
                let revision = combined_revision(moodle.revision, &defaults);
                if let Some(snapshot) = site.with_defaults.admin.get(revision) {
                    return Ok(snapshot);
                }
                let snapshot = Arc::new(with_own_defaults(own, Snapshot::clone(&moodle)).await?);
                site.with_defaults.keep_admin(&snapshot);
                Ok(snapshot)
            }
        }
    }

    /// The index of `snapshot`'s users (an admin's snapshot of this site), for
    /// [`cohortsync_shared::check_indexed`]: built once per revision and shared by every
    /// check against it.
    pub fn user_index(&self, snapshot: &Snapshot) -> Arc<UserIndex> {
        match self {
            Site::Embedded(cache) => cache.user_index(snapshot),
            Site::Moodle(site) => site.with_defaults.user_index(snapshot),
        }
    }

    /// A teacher's variant of `snapshot` (this site's [`Site::shared_snapshot`]), hashed
    /// with `key`, shared like it.
    pub fn teacher_snapshot(&self, snapshot: &Snapshot, key: &[u8]) -> Arc<Snapshot> {
        match self {
            Site::Embedded(cache) => cache.teacher(snapshot, key),
            Site::Moodle(site) => site.with_defaults.teacher(snapshot, key),
        }
    }

    /// What changed from revision `since` to `current` (this site's
    /// [`Site::shared_snapshot`]), the admin's variant, if the snapshot of `since` is still
    /// kept (the last [`SNAPSHOT_HISTORY`] revisions served are).
    pub fn changes_since(&self, since: u64, current: &Snapshot) -> Option<SnapshotChanges> {
        match self {
            Site::Embedded(cache) => cache.changes_since(since, current),
            Site::Moodle(site) => site.with_defaults.changes_since(since, current),
        }
    }

    /// The current revision and the key of teachers' hashes, without building a snapshot.
    pub async fn state(&self, own: &mut AnyConnection) -> StoreResult<(u64, String)> {
        let (revision, key) = store::site::state(own).await?;
        match self {
            Site::Embedded(_) => Ok((revision, key)),
            // The cached snapshot's fingerprint with the defaults: no copy of the site.
            Site::Moodle(site) => {
                let moodle = site.cached().await?;
                let defaults = moodle_defaults(own, &moodle).await?;
                Ok((combined_revision(moodle.revision, &defaults), key))
            }
        }
    }

    /// The site's default options (on Moodle, with Moodle's unenrol action), without
    /// building a snapshot.
    pub async fn default_options(&self, own: &mut AnyConnection) -> StoreResult<Options> {
        match self {
            Site::Embedded(_) => store::site::default_options(own).await,
            Site::Moodle(site) => moodle_defaults(own, &*site.cached().await?).await,
        }
    }

    /// `options` as this site runs a file with them: on Moodle the unenrol action is Moodle's
    /// own setting (as `snapshot` carries it), since that is what its writer follows,
    /// whatever the file was submitted with; the embedded store runs them as given.
    pub fn run_options(&self, options: &Options, snapshot: &Snapshot) -> Options {
        let mut options = options.clone();
        if self.is_moodle() {
            options.unenrol_action = snapshot.defaults.unenrol_action;
        }
        options
    }

    /// What the bindings and the other enrolment methods hold in `courses` of `snapshot`
    /// (see [`cohortsync_shared::snapshot::EnrolmentState`]), read now.
    pub async fn enrolment_state(
        &self,
        own: &mut AnyConnection,
        snapshot: &Snapshot,
        courses: &BTreeSet<i64>,
    ) -> StoreResult<EnrolmentState> {
        match self {
            Site::Embedded(_) => {
                store::site::enrolment_state(own, &snapshot.bindings, courses).await
            }
            Site::Moodle(site) => {
                let mut conn = site.moodle.pool().acquire().await?;
                Ok(site
                    .moodle
                    .enrolment_state_on(&mut conn, &snapshot.bindings, courses)
                    .await?)
            }
        }
    }

    /// Whether the site is a Moodle database.
    pub fn is_moodle(&self) -> bool {
        matches!(self, Site::Moodle(_))
    }
}

/// A write into the site, from its lock to its commit: inside cohortsync's own transaction
/// for the embedded store, in a transaction of its own on Moodle's database.
pub enum SiteWrite {
    /// The embedded store: everything goes through the caller's own transaction.
    Embedded,
    /// A Moodle transaction.
    Moodle {
        /// The site.
        site: Arc<MoodleSite>,
        /// The open transaction on Moodle's database.
        tx: sqlx::Transaction<'static, sqlx::Any>,
    },
}

/// What running `--moodle-after-apply` gave.
pub type AfterApply = Box<cohortsync_shared::api::AfterApply>;

impl SiteWrite {
    /// Starts a write and locks what it will touch: for Moodle, the rows of the cohorts
    /// and instances named (so that Moodle's own writes to them wait), and on MariaDB the
    /// index ranges of those cohorts' members.
    pub async fn begin(site: &Site, cohorts: &[i64], bindings: &[i64]) -> StoreResult<SiteWrite> {
        match site {
            Site::Embedded(_) => Ok(SiteWrite::Embedded),
            Site::Moodle(moodle) => {
                let mut tx = moodle.moodle.pool().begin().await?;
                moodle.moodle.lock(&mut tx, cohorts, bindings).await?;
                Ok(SiteWrite::Moodle {
                    site: moodle.clone(),
                    tx,
                })
            }
        }
    }

    /// The state under the lock.
    pub async fn snapshot(&mut self, own: &mut AnyConnection) -> StoreResult<Snapshot> {
        match self {
            SiteWrite::Embedded => store::site::load_snapshot(own).await,
            SiteWrite::Moodle { site, tx } => {
                let snapshot = site.moodle.load_snapshot_on(tx, &site.managed).await?;
                with_own_defaults(own, snapshot).await
            }
        }
    }

    /// [`Site::enrolment_state`] under the lock.
    pub async fn enrolment_state(
        &mut self,
        own: &mut AnyConnection,
        snapshot: &Snapshot,
        courses: &BTreeSet<i64>,
    ) -> StoreResult<EnrolmentState> {
        match self {
            SiteWrite::Embedded => {
                store::site::enrolment_state(own, &snapshot.bindings, courses).await
            }
            SiteWrite::Moodle { site, tx } => Ok(site
                .moodle
                .enrolment_state_on(tx, &snapshot.bindings, courses)
                .await?),
        }
    }

    /// The cohorts and bindings with these ids, as they are now (for a revert's data):
    /// taken from `now` when the caller has just read the state, else read.
    pub async fn objects(
        &mut self,
        own: &mut AnyConnection,
        cohorts: &[i64],
        bindings: &[i64],
        now: Option<&Snapshot>,
    ) -> StoreResult<(Vec<Cohort>, Vec<Binding>)> {
        match self {
            SiteWrite::Embedded => Ok((
                store::site::load_cohorts(own, cohorts).await?,
                store::site::load_bindings(own, bindings).await?,
            )),
            SiteWrite::Moodle { .. } => {
                let read;
                let snapshot = match now {
                    Some(snapshot) => snapshot,
                    None => {
                        read = self.snapshot(own).await?;
                        &read
                    }
                };
                let cohorts: std::collections::HashSet<i64> = cohorts.iter().copied().collect();
                let bindings: std::collections::HashSet<i64> = bindings.iter().copied().collect();
                let mut cohorts: Vec<Cohort> = snapshot
                    .cohorts
                    .iter()
                    .filter(|c| cohorts.contains(&c.id))
                    .cloned()
                    .collect();
                cohorts.sort_by_key(|c| c.id);
                let bindings = snapshot
                    .bindings
                    .iter()
                    .filter(|b| bindings.contains(&b.id))
                    .cloned()
                    .collect();
                Ok((cohorts, bindings))
            }
        }
    }

    /// Writes `plan`, stopping after `fail_after` operations (failure injection). On Moodle,
    /// also hands back the state after the write (its fingerprint is the new revision).
    pub async fn write(
        &mut self,
        own: &mut AnyConnection,
        plan: &Changeset,
        fail_after: Option<usize>,
    ) -> StoreResult<(Applied, Option<Snapshot>)> {
        match self {
            SiteWrite::Embedded => Ok((
                store::site::write_changeset_failing_after(own, plan, fail_after).await?,
                None,
            )),
            SiteWrite::Moodle { site, tx } => {
                let unenrol = site.moodle.unenrol_action_on(tx).await?;
                let context = WriteContext {
                    actor: site.actor,
                    managed: site.managed.clone(),
                    unenrol,
                    now: store::now(),
                };
                let mut applied = crate::moodle::write::write_changeset(
                    &site.moodle,
                    tx,
                    plan,
                    &context,
                    fail_after,
                )
                .await?;
                let after = self.snapshot(own).await?;
                applied.revision = after.revision;
                Ok((applied, Some(after)))
            }
        }
    }

    /// Commits a Moodle write, then runs `--moodle-after-apply` (its outcome is returned);
    /// the embedded store commits with the caller's transaction.
    pub async fn commit(self) -> StoreResult<Option<AfterApply>> {
        match self {
            SiteWrite::Embedded => Ok(None),
            SiteWrite::Moodle { site, tx } => {
                tx.commit().await?;
                site.forget().await;
                Ok(match &site.after_apply {
                    Some(command) => Some(crate::moodle::run_after_apply(command).await),
                    None => None,
                })
            }
        }
    }
}
