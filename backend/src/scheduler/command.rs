//! `cohortsync sync run [--simulate]`: one run of the sync folder's task, at once, on the
//! server's database (and its Moodle, when the site is one).

use std::process::ExitCode;

use clap::Args;

use super::{RunBy, Task};
use crate::config::{DatabaseArgs, MoodleSiteArgs, SyncFolderArgs};
use crate::store::Database;

/// Flags of `cohortsync sync run`.
#[derive(Debug, Clone, Args)]
pub struct SyncRunArgs {
    /// Check the files and say what would happen: nothing is stored, applied, moved or
    /// written.
    #[arg(long)]
    pub simulate: bool,
    /// Print the run's report as JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Where the database is.
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Where the site is, when it is a Moodle database.
    #[command(flatten)]
    pub moodle: MoodleSiteArgs,
    /// The folder and the mail.
    #[command(flatten)]
    pub sync: SyncFolderArgs,
    /// The server's address, for links in mail.
    #[arg(long, env = "COHORTSYNC_PUBLIC_URL")]
    pub public_url: Option<String>,
}

/// Runs the task once; exit 0 when the run worked, whatever the files held.
pub async fn run(args: SyncRunArgs) -> anyhow::Result<ExitCode> {
    let db = Database::connect(&args.database.url()?).await?;
    let site = crate::connect_site(&args.moodle).await?;
    let setup = args
        .sync
        .setup(&args.database.data_dir, args.public_url.clone())?;
    let folder = setup.folder.dir.clone();
    let task = Task { db, site, setup };
    let report = task
        .run(RunBy::Manual, args.simulate, chrono::Local::now())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    if report.files.is_empty() {
        println!("no file to take in {}", folder.display());
    }
    for file in &report.files {
        println!(
            "{}: {} — {}",
            file.file_name,
            file.outcome.as_str(),
            file.message
        );
        for (label, path) in [
            ("archive", &file.archive),
            ("report", &file.report),
            ("tryback", &file.tryback),
        ] {
            if !path.is_empty() {
                println!("  {label}: {}", folder.join(path).display());
            }
        }
    }
    for text in &report.reports {
        println!("\n{text}");
    }
    if report.deleted_old_files > 0 {
        println!(
            "deleted {} archive, report and tryback file(s) past the retention",
            report.deleted_old_files
        );
    }
    if report.simulated {
        println!("(simulated: nothing was stored, applied, moved or written)");
    }
    Ok(ExitCode::SUCCESS)
}
