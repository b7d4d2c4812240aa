//! When the task runs: the settings' cron expression, in the server's time zone, read
//! again before each wait so that a change on the Sync page counts at once.
//!
//! The decisions take the time as an argument ([`next_run`], [`due`]): tests give them
//! the clock they want instead of sleeping.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Local, TimeZone};
use cohortsync_shared::folder::SyncSettings;
use croner::Cron;

use super::{RunBy, Task};

/// The longest the loop sleeps before reading the settings again.
const RECHECK: Duration = Duration::from_secs(60);

/// Reads a cron expression (`15 */12 * * *`); the error says what is wrong with it.
pub fn parse(schedule: &str) -> Result<Cron, String> {
    Cron::from_str(schedule)
        .map_err(|e| format!("the schedule “{schedule}” is not a cron expression: {e}"))
}

/// The first scheduled time strictly after `after`, when the schedule is on and reads.
pub fn next_run<Tz: TimeZone>(settings: &SyncSettings, after: &DateTime<Tz>) -> Option<DateTime<Tz>>
where
    DateTime<Tz>: croner::CronDateTime,
{
    if !settings.enabled {
        return None;
    }
    parse(&settings.schedule)
        .ok()?
        .find_next_occurrence(after, false)
        .ok()
}

/// Whether a scheduled time fell in `(since, now]`: the loop last looked at `since`.
pub fn due<Tz: TimeZone>(settings: &SyncSettings, since: &DateTime<Tz>, now: &DateTime<Tz>) -> bool
where
    DateTime<Tz>: croner::CronDateTime,
{
    next_run(settings, since).is_some_and(|next| next <= *now)
}

/// Runs `task` at every scheduled time, for ever (until the server stops). A time missed
/// while the server was down is not made up: the next one is awaited.
pub async fn run_on_schedule(task: Task) {
    let mut since = Local::now();
    loop {
        let settings = match task.db.pool().acquire().await {
            Ok(mut conn) => crate::store::sync::settings(&mut conn).await.ok(),
            Err(_) => None,
        };
        let wait = settings
            .as_ref()
            .and_then(|s| next_run(s, &since))
            .and_then(|next| (next - Local::now()).to_std().ok())
            .map_or(RECHECK, |until| until.min(RECHECK));
        tokio::time::sleep(wait).await;
        let now = Local::now();
        if settings.is_some_and(|s| due(&s, &since, &now)) {
            match task.run(RunBy::Schedule, false, now).await {
                Ok(report) => tracing::info!(
                    files = report.files.len(),
                    deleted_old_files = report.deleted_old_files,
                    "the sync folder's scheduled run is done"
                ),
                Err(error) => tracing::warn!(%error, "the sync folder's scheduled run failed"),
            }
        }
        since = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn on() -> SyncSettings {
        SyncSettings {
            enabled: true,
            ..SyncSettings::default()
        }
    }

    #[test]
    fn tool_syncs_default_runs_at_a_quarter_past_midnight_and_noon() {
        let next = next_run(&on(), &at("2026-12-01T09:00:00Z")).unwrap();
        assert_eq!(next, at("2026-12-01T12:15:00Z"));
        let after = next_run(&on(), &next).unwrap();
        assert_eq!(after, at("2026-12-02T00:15:00Z"));
    }

    #[test]
    fn a_run_is_due_once_when_the_clock_passes_its_time() {
        let settings = on();
        assert!(due(
            &settings,
            &at("2026-12-01T12:14:30Z"),
            &at("2026-12-01T12:15:00Z")
        ));
        assert!(due(
            &settings,
            &at("2026-12-01T12:14:59Z"),
            &at("2026-12-01T12:16:10Z")
        ));
        // The next look starts from where the last one stopped: not due again.
        assert!(!due(
            &settings,
            &at("2026-12-01T12:16:10Z"),
            &at("2026-12-01T12:17:10Z")
        ));
        assert!(!due(
            &settings,
            &at("2026-12-01T12:15:00Z"),
            &at("2026-12-01T13:00:00Z")
        ));
    }

    #[test]
    fn off_or_unreadable_never_runs() {
        let off = SyncSettings::default();
        assert!(!off.enabled);
        assert_eq!(next_run(&off, &at("2026-12-01T12:00:00Z")), None);
        let broken = SyncSettings {
            schedule: "every night".into(),
            ..on()
        };
        assert_eq!(next_run(&broken, &at("2026-12-01T12:00:00Z")), None);
        assert!(parse("every night").unwrap_err().contains("every night"));
        assert!(parse("*/5 * * * *").is_ok());
    }
}
