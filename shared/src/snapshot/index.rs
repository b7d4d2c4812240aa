//! The snapshot's users indexed for the rules: by each identifier a file may name them
//! with ([`UserLookup`]), with the id and suspension of each. [`UserIndex`] is built once per
//! snapshot and kept beside it (the server per revision, the browser's worker per snapshot),
//! so that a check does not index 50,000 users again.

use std::borrow::Cow;
use std::sync::OnceLock;

use super::{KeyedHasher, Snapshot, USER_HASH_HEX, hash_key_from_hex, normalise_user_key};
use crate::options::UserIdentifier;

/// A snapshot's users, indexed for the rules, built once and shared by every check of
/// files against that snapshot ([`crate::check::check_indexed`]).
///
/// Each identifier's lookup is built the first time a file names users by it. An index is
/// only right for the snapshot it was made from: a check given the index of another
/// snapshot (another revision, or another number of users) builds a fresh one instead.
///
/// ```
/// use cohortsync_shared::check::{check, check_indexed};
/// use cohortsync_shared::options::Options;
/// use cohortsync_shared::snapshot::{Snapshot, User, UserIndex};
///
/// let snapshot = Snapshot {
///     users: vec![User { id: 1, idnumber: "U0001".into(), ..User::default() }],
///     ..Snapshot::default()
/// };
/// let index = UserIndex::new(&snapshot);
/// let file = b"cmd;cname;userid;cidnumber\nadd;L2 Pharmacie;U0001;COH001\n";
/// let options = Options::default();
/// let checked = check_indexed(file, &snapshot, &index, &options, &mut |_| {});
/// assert_eq!(checked, check(file, &snapshot, &options));
/// ```
#[derive(Debug)]
pub struct UserIndex {
    /// What it was built from: a revision, a number of users and, for a teacher's
    /// snapshot, the key of its hashes (an admin's snapshot and a teacher's of the same
    /// revision index different keys).
    revision: u64,
    users: usize,
    hash_key: Option<String>,
    /// Each user's id and suspension, by index: what the rules ask of a user found, kept
    /// apart from the users themselves so that asking stays in the processor's cache.
    ids: Vec<i64>,
    suspended: Vec<bool>,
    /// Whether `ids` is in increasing order (as sites list their users), so that a user is
    /// found by id with a binary search; else by `by_id`, built when first needed.
    ids_sorted: bool,
    by_id: OnceLock<crate::HashMap<i64, u32>>,
    /// One lookup per [`UserIdentifier`], in the order of [`UserIdentifier::ALL`].
    lookups: [OnceLock<UserLookup>; 4],
}

impl UserIndex {
    /// Indexes `snapshot`'s users (the lookups themselves are built when first used).
    pub fn new(snapshot: &Snapshot) -> UserIndex {
        let ids: Vec<i64> = snapshot.users.iter().map(|u| u.id).collect();
        UserIndex {
            revision: snapshot.revision,
            users: snapshot.users.len(),
            hash_key: snapshot.user_hash_key.clone(),
            ids_sorted: ids.is_sorted_by(|a, b| a < b),
            ids,
            suspended: snapshot.users.iter().map(|u| u.suspended).collect(),
            by_id: OnceLock::new(),
            lookups: Default::default(),
        }
    }

    /// Where the user of id `id` is in the snapshot's users, if there.
    pub fn position_of(&self, id: i64) -> Option<usize> {
        if self.ids_sorted {
            return self.ids.binary_search(&id).ok();
        }
        let by_id = self.by_id.get_or_init(|| {
            let mut by_id = crate::HashMap::default();
            for (at, id) in self.ids.iter().enumerate() {
                by_id.entry(*id).or_insert(at as u32);
            }
            by_id
        });
        by_id.get(&id).map(|at| *at as usize)
    }

    /// Whether this index was built from `snapshot` (as far as its revision, its number of
    /// users and the key of its hashes tell).
    pub fn fits(&self, snapshot: &Snapshot) -> bool {
        self.revision == snapshot.revision
            && self.users == snapshot.users.len()
            && self.hash_key == snapshot.user_hash_key
    }

    /// `self` when it fits `snapshot`, else a fresh index of it, kept in `fresh`.
    pub(crate) fn or_fresh<'a>(
        &'a self,
        snapshot: &Snapshot,
        fresh: &'a mut Option<UserIndex>,
    ) -> &'a UserIndex {
        if self.fits(snapshot) {
            self
        } else {
            fresh.insert(UserIndex::new(snapshot))
        }
    }

    /// Builds the lookup by `kind` now rather than in the first check that needs it (a
    /// program can do it while it waits for a file); nothing when `snapshot` is not the one
    /// this index was built from ([`Self::fits`]).
    pub fn prepare(&self, snapshot: &Snapshot, kind: UserIdentifier) {
        if self.fits(snapshot) {
            self.lookup(snapshot, kind);
        }
    }

    /// The users of `snapshot` by `kind`; `snapshot` is the one this index was built from.
    pub(crate) fn lookup(&self, snapshot: &Snapshot, kind: UserIdentifier) -> &UserLookup {
        let at = UserIdentifier::ALL
            .iter()
            .position(|k| *k == kind)
            .unwrap_or_default();
        self.lookups[at].get_or_init(|| UserLookup::new(snapshot, kind))
    }

    /// The id of the user at `index`.
    pub(crate) fn id(&self, index: usize) -> i64 {
        self.ids[index]
    }

    /// Whether the user at `index` is suspended.
    pub(crate) fn is_suspended(&self, index: usize) -> bool {
        self.suspended[index]
    }
}

/// Users looked up by one identifier.
///
/// Every row of a file looks a user up, in no particular order, among tens of thousands:
/// the keys are therefore in a [`KeyTable`], packed in one buffer behind small fixed-size
/// slots, so that lookups stay in the processor's cache instead of chasing one allocation
/// per user.
#[derive(Debug)]
pub(crate) struct UserLookup {
    kind: UserIdentifier,
    /// The hasher of a teacher's snapshot's identifiers.
    key: Option<KeyedHasher>,
    /// Hex digits of the snapshot's hashes (they were longer in older snapshots).
    hash_digits: usize,
    keys: KeyTable,
}

/// Text keys, each with the values (indexes) of the things it names: the users of an
/// identifier, the cohorts of an idnumber or a name.
///
/// All keys are in one buffer, and the hash table holds 24-byte slots that keep a key's
/// first [`INLINE_KEY`] bytes, so that finding a short key reads one slot, not also a
/// string elsewhere in memory.
#[derive(Debug, Default)]
pub(crate) struct KeyTable {
    /// All keys, one after the other.
    keys: String,
    table: hashbrown::HashTable<Slot>,
    /// Values of keys that name several (emails are not unique in Moodle, nor cohort names).
    shared: Vec<Vec<u32>>,
}

/// One key: its first [`INLINE_KEY`] bytes, its length and where it is in `keys`, and its
/// value, or, for a key several values share, an index in `shared`.
#[derive(Debug, Clone, Copy)]
struct Slot {
    head: [u8; INLINE_KEY],
    len: u32,
    start: u32,
    /// The value, or an index in `shared` when [`SHARED`] is set.
    value: u32,
}

/// The first [`INLINE_KEY`] bytes of `key`, zeros after its end.
fn head_of(key: &[u8]) -> [u8; INLINE_KEY] {
    let mut head = [0; INLINE_KEY];
    let inline = key.len().min(INLINE_KEY);
    head[..inline].copy_from_slice(&key[..inline]);
    head
}

/// Bytes of a key kept in its slot.
const INLINE_KEY: usize = 12;
/// The bit of [`Slot::value`] that says it indexes `KeyTable::shared`.
const SHARED: u32 = 1 << 31;

impl Slot {
    /// Whether this slot's key is `probe` (whose [`head_of`] is `head`), reading `keys`
    /// only for a long key. Heads are compared whole, as two machine words, not byte by
    /// byte.
    fn holds(&self, keys: &str, probe: &[u8], head: &[u8; INLINE_KEY]) -> bool {
        if self.len as usize != probe.len() {
            return false;
        }
        self.head == *head
            && (probe.len() <= INLINE_KEY || {
                let start = self.start as usize + INLINE_KEY;
                keys.as_bytes()[start..self.start as usize + probe.len()] == probe[INLINE_KEY..]
            })
    }

    fn key<'k>(&self, keys: &'k str) -> &'k str {
        &keys[self.start as usize..(self.start + self.len) as usize]
    }
}

fn hash_key(key: &str) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::default().hash_one(key)
}

impl KeyTable {
    /// An empty table with room for `keys` keys.
    ///
    /// Offsets and values are u32 (values below 2³¹): a table of more than 4 GB of keys,
    /// or of two billion things, is not a thing.
    pub(crate) fn with_capacity(keys: usize) -> KeyTable {
        KeyTable {
            keys: String::new(),
            table: hashbrown::HashTable::with_capacity(keys),
            shared: Vec::new(),
        }
    }

    /// Adds `value` to the values of `key`.
    pub(crate) fn insert(&mut self, key: &str, value: u32) {
        let hash = hash_key(key);
        let head = head_of(key.as_bytes());
        let KeyTable {
            keys,
            table,
            shared,
        } = self;
        match table.find_mut(hash, |slot: &Slot| slot.holds(keys, key.as_bytes(), &head)) {
            Some(slot) if slot.value & SHARED == 0 => {
                shared.push(vec![slot.value, value]);
                slot.value = (shared.len() - 1) as u32 | SHARED;
            }
            Some(slot) => shared[(slot.value & !SHARED) as usize].push(value),
            None => {
                let start = keys.len();
                keys.push_str(key);
                let slot = Slot {
                    head,
                    len: key.len() as u32,
                    start: start as u32,
                    value,
                };
                table.insert_unique(hash, slot, |slot| hash_key(slot.key(keys)));
            }
        }
    }

    /// The values of `key`, in the order they were inserted; empty when it has none.
    pub(crate) fn find(&self, key: &str) -> &[u32] {
        if self.table.is_empty() {
            return &[];
        }
        self.find_hashed(key, hash_key(key))
    }

    /// [`Self::find`] of a key whose [`KeyTable::hash`] is `hash`.
    fn find_hashed(&self, key: &str, hash: u64) -> &[u32] {
        let head = head_of(key.as_bytes());
        let found = self
            .table
            .find(hash, |slot| slot.holds(&self.keys, key.as_bytes(), &head));
        match found {
            None => &[],
            Some(slot) if slot.value & SHARED != 0 => &self.shared[(slot.value & !SHARED) as usize],
            Some(slot) => std::slice::from_ref(&slot.value),
        }
    }
}

impl UserLookup {
    /// Indexes `snapshot`'s users by `kind`.
    pub(crate) fn new(snapshot: &Snapshot, kind: UserIdentifier) -> Self {
        let key = snapshot
            .user_hash_key
            .as_deref()
            .and_then(hash_key_from_hex)
            .map(|key| KeyedHasher::new(&key));
        let mut keys = KeyTable::with_capacity(snapshot.users.len());
        let mut hash_digits = None;
        let mut id = String::new();
        for (index, user) in snapshot.users.iter().enumerate() {
            let text = match (kind, &user.hashes) {
                (UserIdentifier::Id, _) => {
                    use std::fmt::Write;
                    id.clear();
                    let _ = write!(id, "{}", user.id);
                    Cow::Borrowed(id.as_str())
                }
                (UserIdentifier::Username, Some(h)) => Cow::Borrowed(h.username.as_str()),
                (UserIdentifier::Idnumber, Some(h)) => Cow::Borrowed(h.idnumber.as_str()),
                (UserIdentifier::Email, Some(h)) => Cow::Borrowed(h.email.as_str()),
                (UserIdentifier::Username, None) => normalise_user_key(kind, &user.username),
                (UserIdentifier::Idnumber, None) => normalise_user_key(kind, &user.idnumber),
                (UserIdentifier::Email, None) => normalise_user_key(kind, &user.email),
            };
            if text.is_empty() {
                continue;
            }
            if user.hashes.is_some() && hash_digits.is_none() {
                hash_digits = Some(text.len());
            }
            keys.insert(&text, index as u32);
        }
        UserLookup {
            kind,
            key,
            hash_digits: hash_digits.unwrap_or(USER_HASH_HEX),
            keys,
        }
    }

    /// The indexes of the users whose identifier is `value` (normalised, hashed if needed).
    pub(crate) fn find(&self, value: &str) -> &[u32] {
        self.keys.find(&self.probe(value))
    }

    /// The users of each of `values`, into `found` (cleared first).
    ///
    /// The keys are made and hashed first, then looked up in a loop that does nothing
    /// else: each lookup is a wait on memory (the table of 50,000 users does not stay in
    /// the processor's cache while a file streams through it), and so the waits overlap.
    pub(crate) fn find_each<'v, T>(
        &self,
        values: impl Iterator<Item = &'v str>,
        found: &mut Vec<T>,
        mut of: impl FnMut(&[u32]) -> T,
    ) {
        let probes: Vec<(Cow<'v, str>, u64)> = values
            .map(|value| {
                let probe = self.probe(value);
                let hash = hash_key(&probe);
                (probe, hash)
            })
            .collect();
        found.clear();
        found.extend(
            probes
                .iter()
                .map(|(probe, hash)| of(self.keys.find_hashed(probe, *hash))),
        );
    }

    /// The key `value` is found by: normalised, and hashed in a teacher's snapshot.
    fn probe<'v>(&self, value: &'v str) -> Cow<'v, str> {
        let normalised = normalise_user_key(self.kind, value);
        match (&self.key, self.kind) {
            (
                Some(key),
                UserIdentifier::Username | UserIdentifier::Idnumber | UserIdentifier::Email,
            ) => Cow::Owned(key.hash_hex(self.kind, &normalised, self.hash_digits)),
            _ => normalised,
        }
    }
}
