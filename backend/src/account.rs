//! `cohortsync account add NAME --role admin|teacher`: creates an account, or resets the
//! password and role of an existing one.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use crate::auth::{self, Role};
use crate::config::DatabaseArgs;
use crate::store::{Database, accounts};

/// Flags of `cohortsync account add`.
#[derive(Debug, Clone, Args)]
pub struct AccountAddArgs {
    /// Login name (stored lowercased).
    pub name: String,
    /// What the account may do.
    #[arg(long, value_enum)]
    pub role: RoleArg,
    /// Where the database is.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// `admin` or `teacher`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    /// Reviews, approves, applies.
    Admin,
    /// Checks and submits files.
    Teacher,
}

/// Reads the password (a hidden prompt on a terminal, else the first line of stdin) and
/// stores the account.
pub async fn add(args: AccountAddArgs) -> anyhow::Result<ExitCode> {
    let name = args.name.trim().to_lowercase();
    if name.is_empty() {
        anyhow::bail!("the account name is empty");
    }
    let password = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("Password for {name}: "))?
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    if password.chars().count() < 8 {
        anyhow::bail!("the password must have at least 8 characters");
    }
    let role = match args.role {
        RoleArg::Admin => Role::Admin,
        RoleArg::Teacher => Role::Teacher,
    };
    let db = Database::connect(&args.database.url()?).await?;
    let hash = auth::hash_password(&password)?;
    let id = accounts::upsert_account(db.pool(), &name, &hash, role).await?;
    println!("account {name} ({}) saved, id {id}", role.as_str());
    Ok(ExitCode::SUCCESS)
}
