//! The command line: `cohortsync serve` and the other subcommands.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::account::{AccountAddArgs, AccountListArgs, AccountNameArgs};
use crate::config::ServeArgs;
use crate::demo::DemoArgs;
use crate::import::ImportArgs;
use crate::moodle::MoodleArgs;
use crate::validate::ValidateArgs;

/// cohortsync: check, review and apply Moodle-style cohort files.
#[derive(Debug, Parser)]
#[command(name = "cohortsync", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands of `cohortsync`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API and the web app.
    Serve(ServeArgs),
    /// Check a file against a snapshot (a file, or read from a Moodle database): exit 0
    /// without errors, 1 with errors.
    Validate(ValidateArgs),
    /// Load a generated demo university, the demo accounts and example files (once).
    Demo(DemoArgs),
    /// Import base data (users, courses, roles, groups) from CSV files as Moodle exports
    /// them; running the same file twice changes nothing.
    Import(ImportArgs),
    /// Manage the accounts that sign in to the web app and the API.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Work with a Moodle database.
    #[command(subcommand)]
    Moodle(MoodleCommand),
    /// The sync folder's task.
    #[command(subcommand)]
    Sync(SyncCommand),
}

/// `cohortsync sync …`.
#[derive(Debug, Subcommand)]
pub enum SyncCommand {
    /// Run the sync folder's task now: take the cohort file, then the binding file, apply
    /// or hold each under the policy, archive them and write their reports and tryback
    /// files. Exit 0 when the run worked, whatever the files held.
    Run(crate::scheduler::command::SyncRunArgs),
}

/// `cohortsync moodle …`.
#[derive(Debug, Subcommand)]
pub enum MoodleCommand {
    /// Connect to a Moodle database and say whether cohortsync can work on it: Moodle's
    /// release, every table and column cohortsync needs, the account's privileges, and
    /// counts of users, cohorts, courses and cohort-sync instances. Exit 1 when something
    /// is missing (named). Reads only.
    Check(MoodleArgs),
}

/// `cohortsync account …`.
#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create an account, or reset the password and role of an existing one (which ends
    /// its sessions and revokes its tokens). The password is asked at a prompt, or read
    /// from the first line of standard input.
    Add(AccountAddArgs),
    /// List the accounts: role, disabled or not, live sessions and tokens.
    List(AccountListArgs),
    /// Disable an account: it can no longer sign in, its sessions end, its tokens are revoked.
    Disable(AccountNameArgs),
    /// Enable a disabled account again (sessions and tokens stay ended).
    Enable(AccountNameArgs),
}

/// Logs go to standard error; `RUST_LOG` chooses what is shown (default: `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// Runs one parsed command line and returns the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => {
            crate::serve(args.resolve()?).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Validate(args) => crate::validate::run(args).await,
        Command::Account(AccountCommand::Add(args)) => crate::account::add(args).await,
        Command::Account(AccountCommand::List(args)) => crate::account::list(args).await,
        Command::Account(AccountCommand::Disable(args)) => {
            crate::account::set_disabled(args, true).await
        }
        Command::Account(AccountCommand::Enable(args)) => {
            crate::account::set_disabled(args, false).await
        }
        Command::Import(args) => crate::import::run(args).await,
        Command::Demo(args) => crate::demo::run(args).await,
        Command::Moodle(MoodleCommand::Check(args)) => crate::moodle::run_check(args).await,
        Command::Sync(SyncCommand::Run(args)) => crate::scheduler::command::run(args).await,
    }
}
