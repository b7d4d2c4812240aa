//! `cohortsync account add NAME --role admin|teacher`: creates an account, or resets the
//! password and role of an existing one (ending its sessions and tokens); `account list`,
//! `account disable NAME`, `account enable NAME`.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use crate::auth::Role;
use crate::config::DatabaseArgs;
use crate::crypto;
use crate::store::{Database, accounts, sync as accounts_sync};

/// Flags of `cohortsync account add`.
#[derive(Debug, Clone, Args)]
pub struct AccountAddArgs {
    /// Login name (stored lowercased).
    pub name: String,
    /// What the account may do.
    #[arg(long, value_enum)]
    pub role: RoleArg,
    /// The account's email address: admins with one are mailed when a file of the sync
    /// folder needs them. Left out: the address stays as it was.
    #[arg(long)]
    pub email: Option<String>,
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
    if name == accounts_sync::SCHEDULER {
        anyhow::bail!(
            "{name} is the account of the sync folder's task (it cannot sign in); choose \
             another name"
        );
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
    let hash = crypto::hash_password(&password)?;
    let id = accounts::upsert_account(db.pool(), &name, &hash, role).await?;
    if let Some(email) = &args.email {
        let email = email.trim();
        if !email.is_empty() && !email.contains('@') {
            anyhow::bail!("--email {email} is not an email address");
        }
        accounts::set_email(db.pool(), id, email).await?;
    }
    // A new password is a reset: whoever held the old one loses their way in.
    let (sessions, tokens) = accounts::end_sessions_and_tokens(db.pool(), id).await?;
    println!("account {name} ({}) saved, id {id}", role.as_str());
    if sessions + tokens > 0 {
        println!("ended {sessions} session(s) and revoked {tokens} token(s) of {name}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Flags of `cohortsync account list`.
#[derive(Debug, Clone, Args)]
pub struct AccountListArgs {
    /// Where the database is.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Flags of `cohortsync account disable|enable`.
#[derive(Debug, Clone, Args)]
pub struct AccountNameArgs {
    /// Login name.
    pub name: String,
    /// Where the database is.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Prints every account, one per line.
pub async fn list(args: AccountListArgs) -> anyhow::Result<ExitCode> {
    let db = Database::connect(&args.database.url()?).await?;
    for account in accounts::list_accounts(db.pool()).await? {
        println!(
            "{}\t{}\t{}\t{} session(s)\t{} token(s)",
            account.username,
            account.role.as_str(),
            if account.disabled_at.is_some() {
                "disabled"
            } else {
                "active"
            },
            account.sessions,
            account.tokens,
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Disables or enables the account; exit 1 when there is no such account.
pub async fn set_disabled(args: AccountNameArgs, disabled: bool) -> anyhow::Result<ExitCode> {
    let name = args.name.trim().to_lowercase();
    let db = Database::connect(&args.database.url()?).await?;
    match accounts::set_disabled(db.pool(), &name, disabled).await? {
        Some(_) => {
            println!(
                "account {name} {}",
                if disabled { "disabled" } else { "enabled" }
            );
            Ok(ExitCode::SUCCESS)
        }
        None => {
            eprintln!("error: there is no account {name}");
            Ok(ExitCode::from(1))
        }
    }
}
