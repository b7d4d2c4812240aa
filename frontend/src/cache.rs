//! The snapshot, kept in IndexedDB (it can be megabytes: too big for local storage) with
//! its ETag and the time it was fetched, so that files can be checked offline.
//!
//! An admin's snapshot is a copy of the directory: the cache holds one account's snapshot
//! at most, marked with its owner, and is emptied when that account signs out, when the
//! server says the session has ended, and before another account's snapshot is kept.

use rexie::{ObjectStore, Rexie, TransactionMode};
use serde::{Deserialize, Serialize};

const DATABASE: &str = "cohortsync";
const STORE: &str = "snapshot";
const KEY: &str = "current";

/// A cached snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedSnapshot {
    /// The snapshot's JSON, as the server sent it.
    pub json: String,
    /// Its ETag, for the next conditional fetch.
    pub etag: String,
    /// Its revision.
    pub revision: u64,
    /// When it was fetched or confirmed current (milliseconds since the epoch).
    pub fetched_at: f64,
    /// The site's default options it carries (kept apart: reading them from `json` would
    /// parse megabytes).
    #[serde(default)]
    pub defaults: cohortsync_shared::options::Options,
    /// The account it was fetched for (`None`: cached by a version that did not say).
    #[serde(default)]
    pub owner: Option<i64>,
}

async fn open() -> Result<Rexie, rexie::Error> {
    Rexie::builder(DATABASE)
        .version(1)
        .add_object_store(ObjectStore::new(STORE))
        .build()
        .await
}

/// The cached snapshot, if any (`None` too when IndexedDB is unavailable).
pub async fn load() -> Option<CachedSnapshot> {
    let db = open().await.ok()?;
    let tx = db.transaction(&[STORE], TransactionMode::ReadOnly).ok()?;
    let store = tx.store(STORE).ok()?;
    let value = store.get(KEY.into()).await.ok()??;
    serde_wasm_bindgen::from_value(value).ok()
}

/// Stores `snapshot` as the cached one.
pub async fn save(snapshot: &CachedSnapshot) -> Result<(), String> {
    let db = open().await.map_err(|e| e.to_string())?;
    let tx = db
        .transaction(&[STORE], TransactionMode::ReadWrite)
        .map_err(|e| e.to_string())?;
    let store = tx.store(STORE).map_err(|e| e.to_string())?;
    let value = serde_wasm_bindgen::to_value(snapshot).map_err(|e| e.to_string())?;
    store
        .put(&value, Some(&KEY.into()))
        .await
        .map_err(|e| e.to_string())?;
    tx.done().await.map_err(|e| e.to_string())?;
    Ok(())
}

/// Forgets every cached snapshot (signing out, a session ended, another account).
pub async fn clear() -> Result<(), String> {
    let db = open().await.map_err(|e| e.to_string())?;
    let tx = db
        .transaction(&[STORE], TransactionMode::ReadWrite)
        .map_err(|e| e.to_string())?;
    let store = tx.store(STORE).map_err(|e| e.to_string())?;
    store.clear().await.map_err(|e| e.to_string())?;
    tx.done().await.map_err(|e| e.to_string())?;
    Ok(())
}
