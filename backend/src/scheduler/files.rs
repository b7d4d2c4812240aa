//! The folder's files: reading a dropped file once it has settled, the run lock, and what
//! a run leaves (`archive/`, `reports/`, `tryback/`) and later deletes.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Local};
use cohortsync_shared::api::DatabaseKind;
use cohortsync_shared::folder::FileRun;
use sqlx::AnyConnection;

use super::{Outputs, SyncFolder};
use crate::error::ApiError;
use crate::store::Database;

/// The folders a run writes in, relative to the sync folder.
pub(super) const ARCHIVE: &str = "archive";
pub(super) const REPORTS: &str = "reports";
pub(super) const TRYBACK: &str = "tryback";

/// The key of the PostgreSQL advisory lock every server's task takes ("cohortsync"
/// "sync" in ASCII).
const ADVISORY_KEY: i64 = 0x636f_686f_7274_7379;

/// Held while a run goes on: a lock on `.cohortsync.lock` in the folder and, on
/// PostgreSQL, an advisory lock on a connection of its own, which the server releases if
/// the process dies.
pub(super) struct RunLock {
    _file: File,
    _postgres: Option<AnyConnection>,
}

impl RunLock {
    /// Takes the lock, or `None` when another run holds it.
    pub(super) async fn take(db: &Database, folder: &Path) -> Result<Option<RunLock>, ApiError> {
        std::fs::create_dir_all(folder).map_err(|e| {
            anyhow::anyhow!("cannot create the sync folder {}: {e}", folder.display())
        })?;
        let path = folder.join(".cohortsync.lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Ok(None),
            Err(TryLockError::Error(e)) => {
                return Err(anyhow::anyhow!("cannot lock {}: {e}", path.display()).into());
            }
        }
        let postgres = match db.kind() {
            DatabaseKind::Postgres => {
                // Detached: closing it (at the end of the run, or with the process) is what
                // releases the lock; back in the pool it would stay held.
                let mut conn = db.pool().acquire().await?.detach();
                let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                    .bind(ADVISORY_KEY)
                    .fetch_one(&mut conn)
                    .await?;
                if !taken {
                    return Ok(None);
                }
                Some(conn)
            }
            DatabaseKind::Sqlite => None,
        };
        Ok(Some(RunLock {
            _file: file,
            _postgres: postgres,
        }))
    }
}

/// What is in the folder under a file's name.
pub(super) enum Read {
    /// Nothing.
    Absent,
    /// A file changed this long ago, less than the settle time.
    NotSettled(Duration),
    /// Something that cannot be read, and why.
    Unreadable(String),
    /// The file, settled.
    Bytes(Vec<u8>),
}

/// Reads `path` if it is a regular file (or a link to one) unchanged for the settle time
/// at `now`, and unchanged while it was read.
pub(super) async fn read_settled(path: &Path, folder: &SyncFolder, now: SystemTime) -> Read {
    let metadata = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Read::Absent,
        Err(e) => return Read::Unreadable(e.to_string()),
        Ok(m) if m.file_type().is_symlink() => match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => return Read::Unreadable(format!("a link to nothing readable ({e})")),
        },
        Ok(m) => m,
    };
    if metadata.is_dir() {
        return Read::Unreadable("it is a folder, not a file".into());
    }
    if !metadata.is_file() {
        return Read::Unreadable("it is not a regular file".into());
    }
    if metadata.len() > folder.max_file_bytes {
        return Read::Unreadable(format!(
            "it has {} bytes, more than the {} a file may have (--sync-max-file-bytes)",
            metadata.len(),
            folder.max_file_bytes
        ));
    }
    let Ok(modified) = metadata.modified() else {
        return Read::Unreadable("its modification time cannot be read".into());
    };
    let age = now.duration_since(modified).unwrap_or(Duration::ZERO);
    if age < folder.settle {
        return Read::NotSettled(age);
    }
    let bytes = match tokio::fs::read(path).await {
        Ok(bytes) => bytes,
        Err(e) => return Read::Unreadable(e.to_string()),
    };
    let same = std::fs::metadata(path)
        .is_ok_and(|m| m.len() == metadata.len() && m.modified().ok() == Some(modified));
    if !same {
        return Read::NotSettled(Duration::ZERO);
    }
    Read::Bytes(bytes)
}

/// `YYYYMMDD-HHMMSS`, tool_sync's stamp.
fn stamp(now: DateTime<Local>) -> String {
    now.format("%Y%m%d-%H%M%S").to_string()
}

/// `name` without its `.csv` (or other) extension.
fn stem(name: &str) -> &str {
    Path::new(name)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(name)
}

/// A path in `dir` (of the folder) named `name`, or `name-2`, `name-3`… when taken (two
/// runs in one second).
fn free_name(folder: &Path, dir: &str, name: &str) -> std::io::Result<String> {
    std::fs::create_dir_all(folder.join(dir))?;
    let (stem, extension) = match name.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() => (stem, format!(".{extension}")),
        _ => (name, String::new()),
    };
    let mut candidate = format!("{dir}/{name}");
    let mut n = 2;
    while folder.join(&candidate).exists() {
        candidate = format!("{dir}/{stem}-{n}{extension}");
        n += 1;
    }
    Ok(candidate)
}

fn write(folder: &Path, relative: &str, bytes: &[u8]) -> Result<(), ApiError> {
    let path = folder.join(relative);
    std::fs::write(&path, bytes)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()).into())
}

/// Writes the report, the annotated copy and the tryback file of `name`, and notes them
/// in `file`.
pub(super) fn write_outputs(
    folder: &Path,
    name: &str,
    now: DateTime<Local>,
    outputs: &Outputs,
    file: &mut FileRun,
) -> Result<(), ApiError> {
    let at = stamp(now);
    let io = |e: std::io::Error| ApiError::from(anyhow::anyhow!("cannot write a report: {e}"));
    let report = free_name(folder, REPORTS, &format!("{at}_{name}.txt")).map_err(io)?;
    let mut text = outputs.report_text.clone();
    text.push_str(&format!("\n{}\n", file.message));
    write(folder, &report, text.as_bytes())?;
    file.report = report;
    if !outputs.annotated.is_empty() {
        let annotated = free_name(
            folder,
            REPORTS,
            &format!("{at}_{}_annotated.csv", stem(name)),
        )
        .map_err(io)?;
        write(folder, &annotated, &outputs.annotated)?;
    }
    if let Some(tryback) = &outputs.tryback {
        let path =
            free_name(folder, TRYBACK, &format!("{}_tryback_{at}.csv", stem(name))).map_err(io)?;
        write(folder, &path, tryback)?;
        file.tryback = path;
    }
    Ok(())
}

/// Moves `name` to `archive/YYYYMMDD-HHMMSS_NAME`, stamped with `now` as its time (the
/// retention counts from the archiving, not from the export); returns the archive's path.
pub(super) fn archive(folder: &Path, name: &str, now: DateTime<Local>) -> Result<String, ApiError> {
    let io = |e: std::io::Error| ApiError::from(anyhow::anyhow!("cannot archive {name}: {e}"));
    let relative = free_name(folder, ARCHIVE, &format!("{}_{name}", stamp(now))).map_err(io)?;
    let target = folder.join(&relative);
    std::fs::rename(folder.join(name), &target).map_err(io)?;
    if let Ok(file) = File::options().write(true).open(&target) {
        let _ = file.set_modified(now.into());
    }
    Ok(relative)
}

/// Deletes the files of `archive/`, `reports/` and `tryback/` older than `keep` at `now`;
/// returns how many.
pub(super) fn delete_older(folder: &Path, keep: Duration, now: SystemTime) -> usize {
    let Some(limit) = now.checked_sub(keep) else {
        return 0;
    };
    let mut deleted = 0;
    for dir in [ARCHIVE, REPORTS, TRYBACK] {
        let Ok(entries) = std::fs::read_dir(folder.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let old = entry
                .metadata()
                .ok()
                .filter(|m| m.is_file())
                .and_then(|m| m.modified().ok())
                .is_some_and(|modified| modified < limit);
            if old && std::fs::remove_file(entry.path()).is_ok() {
                deleted += 1;
            }
        }
    }
    deleted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_tool_sync_and_never_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let now: DateTime<Local> = "2026-12-01T22:15:00+00:00"
            .parse::<DateTime<chrono::FixedOffset>>()
            .unwrap()
            .with_timezone(&Local);
        std::fs::write(dir.path().join("cohorts.csv"), "x").unwrap();
        let first = archive(dir.path(), "cohorts.csv", now).unwrap();
        assert_eq!(first, format!("archive/{}_cohorts.csv", stamp(now)));
        std::fs::write(dir.path().join("cohorts.csv"), "y").unwrap();
        let second = archive(dir.path(), "cohorts.csv", now).unwrap();
        assert_eq!(second, format!("archive/{}_cohorts-2.csv", stamp(now)));
        assert_eq!(std::fs::read(dir.path().join(second)).unwrap(), b"y");
    }

    #[test]
    fn retention_deletes_only_what_is_older() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        std::fs::create_dir_all(dir.path().join(ARCHIVE)).unwrap();
        for (name, age_days) in [("old.csv", 91), ("young.csv", 89)] {
            let path = dir.path().join(ARCHIVE).join(name);
            std::fs::write(&path, "x").unwrap();
            let file = File::options().write(true).open(&path).unwrap();
            file.set_modified(now - Duration::from_secs(age_days * 86_400))
                .unwrap();
        }
        let deleted = delete_older(dir.path(), Duration::from_secs(90 * 86_400), now);
        assert_eq!(deleted, 1);
        assert!(dir.path().join(ARCHIVE).join("young.csv").exists());
        assert!(!dir.path().join(ARCHIVE).join("old.csv").exists());
    }
}
