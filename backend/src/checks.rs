//! Where the rules run on the server: on the blocking thread pool, at most one check per
//! core at a time. A check of a large file takes seconds of CPU; run on the async executor
//! it would stall every other request (logins, snapshots, the web app's files) meanwhile,
//! and many at once would each hold their file's table in memory.

use std::sync::LazyLock;

use tokio::sync::Semaphore;

use crate::error::ApiError;

/// Checks running at once, at most: the machine's cores.
static PERMITS: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())));

/// Runs `work` (a check, a plan) off the async executor once a core is free for it.
pub async fn off_executor<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let _permit = PERMITS
        .acquire()
        .await
        .map_err(|e| anyhow::anyhow!("the check semaphore is closed: {e}"))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("a check failed: {e}")))
}
