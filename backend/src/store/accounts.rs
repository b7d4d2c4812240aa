//! Accounts, sessions, API tokens and failed-login counts.

use sqlx::{AnyPool, Row};

use super::now;
use super::{StoreError, StoreResult};
use serde::{Deserialize, Serialize};

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reviews, approves, applies and reverts changesets; sees everything.
    Admin,
    /// Checks and submits files; sees their own changesets and the hashed snapshot.
    Teacher,
}

impl Role {
    /// `admin` or `teacher`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Teacher => "teacher",
        }
    }

    /// Parses a stored role name.
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "teacher" => Some(Role::Teacher),
            _ => None,
        }
    }
}

/// What an API token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TokenScope {
    /// Submit files and read one's own changesets, as a teacher would: what a nightly
    /// export needs, and all a stolen token gives.
    #[default]
    Submit,
    /// Everything the account may do (except making tokens: only people do that).
    Admin,
}

impl TokenScope {
    /// `submit` or `admin`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Submit => "submit",
            TokenScope::Admin => "admin",
        }
    }

    /// Parses a stored scope.
    pub fn parse(text: &str) -> Option<TokenScope> {
        match text {
            "submit" => Some(TokenScope::Submit),
            "admin" => Some(TokenScope::Admin),
            _ => None,
        }
    }
}

/// A signed-in account, by session cookie or by `Authorization: Bearer` token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Caller {
    /// Account id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// What the caller may do now: the account's role, or `teacher` through a `submit`
    /// token whatever the account.
    pub role: Role,
    /// The scope of the token the caller came with (`None`: a session).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_scope: Option<TokenScope>,
}

/// An account as stored, with its password hash.
#[derive(Debug, Clone)]
pub struct Account {
    /// Id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Argon2 hash.
    pub password_hash: String,
    /// Role.
    pub role: Role,
}

/// Creates an account, or replaces the password and role of an existing one.
/// Returns the account id.
pub async fn upsert_account(
    pool: &AnyPool,
    username: &str,
    password_hash: &str,
    role: Role,
) -> StoreResult<i64> {
    sqlx::query_scalar(
        "INSERT INTO accounts (username, password_hash, role, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, \
         role = excluded.role RETURNING id",
    )
    .bind(username)
    .bind(password_hash)
    .bind(role.as_str())
    .bind(now())
    .fetch_one(pool)
    .await
    .map_err(StoreError::from)
}

/// Sets the email address of account `id` (`""`: none).
pub async fn set_email(pool: &AnyPool, id: i64, email: &str) -> StoreResult<()> {
    sqlx::query("UPDATE accounts SET email = $1 WHERE id = $2")
        .bind(email)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// The account named `username`, if any and not disabled.
pub async fn find_account(pool: &AnyPool, username: &str) -> StoreResult<Option<Account>> {
    let row = sqlx::query(
        "SELECT id, username, password_hash, role FROM accounts \
         WHERE username = $1 AND disabled_at IS NULL",
    )
    .bind(username)
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|r| {
        Some(Account {
            id: r.get(0),
            username: r.get(1),
            password_hash: r.get(2),
            role: Role::parse(&r.get::<String, _>(3))?,
        })
    }))
}

fn caller(row: sqlx::any::AnyRow) -> Option<Caller> {
    Some(Caller {
        id: row.get(0),
        username: row.get(1),
        role: Role::parse(&row.get::<String, _>(2))?,
        token_scope: None,
    })
}

/// Stores a new session for `account`, by the hash of its token.
pub async fn create_session(
    pool: &AnyPool,
    account: i64,
    token_hash: &str,
    seconds: i64,
) -> StoreResult<()> {
    let now = now();
    // Old sessions of everyone are swept here rather than by a timer.
    sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
        .bind(now)
        .execute(pool)
        .await?;
    sqlx::query(
        "INSERT INTO sessions (token_hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(account)
    .bind(now)
    .bind(now + seconds)
    .execute(pool)
    .await
    .map(drop).map_err(StoreError::from)
}

/// Ends a session.
pub async fn delete_session(pool: &AnyPool, token_hash: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(pool)
        .await
        .map(drop)
        .map_err(StoreError::from)
}

/// The account of a live session.
pub async fn caller_by_session(pool: &AnyPool, token_hash: &str) -> StoreResult<Option<Caller>> {
    let row = sqlx::query(
        "SELECT a.id, a.username, a.role FROM sessions s JOIN accounts a ON a.id = s.account_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND a.disabled_at IS NULL",
    )
    .bind(token_hash)
    .bind(now())
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(caller))
}

/// The account of a live API token; records its use.
pub async fn caller_by_token(pool: &AnyPool, token_hash: &str) -> StoreResult<Option<Caller>> {
    let now = now();
    let row = sqlx::query(
        "SELECT a.id, a.username, a.role, t.scope FROM api_tokens t \
         JOIN accounts a ON a.id = t.account_id \
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 \
         AND a.disabled_at IS NULL",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    if row.is_some() {
        // At most one write a minute per token: a script's every call would otherwise take
        // SQLite's write lock just to say it was here.
        sqlx::query(
            "UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2 \
             AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(now)
        .bind(token_hash)
        .bind(now - 60)
        .execute(pool)
        .await?;
    }
    Ok(row.and_then(|row| {
        let scope = TokenScope::parse(&row.get::<String, _>(3))?;
        let mut caller = caller(row)?;
        caller.token_scope = Some(scope);
        // A submit token does what a teacher does, whatever its account.
        if scope == TokenScope::Submit {
            caller.role = Role::Teacher;
        }
        Some(caller)
    }))
}

/// An API token as listed to its owner (never the token itself).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TokenInfo {
    /// Id.
    pub id: i64,
    /// The name the owner gave it.
    pub name: String,
    /// Creation time (Unix seconds).
    pub created_at: i64,
    /// Last use (Unix seconds).
    pub last_used_at: Option<i64>,
    /// What it may do.
    pub scope: TokenScope,
    /// When it stops working (Unix seconds).
    pub expires_at: i64,
}

/// Stores a new token for `account`, working until `expires_at`; returns its id.
pub async fn create_token(
    pool: &AnyPool,
    account: i64,
    name: &str,
    token_hash: &str,
    scope: TokenScope,
    expires_at: i64,
) -> StoreResult<i64> {
    sqlx::query_scalar(
        "INSERT INTO api_tokens (account_id, name, token_hash, created_at, scope, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(account)
    .bind(name)
    .bind(token_hash)
    .bind(now())
    .bind(scope.as_str())
    .bind(expires_at)
    .fetch_one(pool)
    .await
    .map_err(StoreError::from)
}

/// The live tokens of `account`.
pub async fn list_tokens(pool: &AnyPool, account: i64) -> StoreResult<Vec<TokenInfo>> {
    let rows = sqlx::query(
        "SELECT id, name, created_at, last_used_at, scope, expires_at FROM api_tokens \
         WHERE account_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY id",
    )
    .bind(account)
    .bind(now())
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| TokenInfo {
            id: r.get(0),
            name: r.get(1),
            created_at: r.get(2),
            last_used_at: r.get(3),
            scope: TokenScope::parse(&r.get::<String, _>(4)).unwrap_or_default(),
            expires_at: r.get(5),
        })
        .collect())
}

/// Revokes token `id` of `account`; false when it has no such live token.
pub async fn revoke_token(pool: &AnyPool, account: i64, id: i64) -> StoreResult<bool> {
    let result = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND account_id = $3 \
         AND revoked_at IS NULL",
    )
    .bind(now())
    .bind(id)
    .bind(account)
    .execute(pool)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Counted failures per throttle key expire this long after the key's last attempt.
pub const LOGIN_FAILURES_EXPIRE_SECONDS: i64 = 3600;

/// Seconds a key must wait after `failures` failed logins in a row, when `free` are
/// allowed without waiting: 1 s after the last free one, doubling, at most 5 minutes.
pub fn wait_after(failures: i64, free: i64) -> i64 {
    if failures < free {
        0
    } else {
        (1i64 << (failures - free).min(9)).min(300)
    }
}

/// One throttle key of a login attempt (`addr:…` or `user:…`) and how many failures in a
/// row it is allowed before it must wait.
#[derive(Debug, Clone)]
pub struct ThrottleKey {
    /// The key.
    pub key: String,
    /// Failures allowed in a row without waiting.
    pub free: i64,
}

/// Counts a login attempt against every key, as a failure until [`login_succeeded`] says
/// otherwise, in one write transaction: parallel attempts are counted one after the other
/// and each sees the wait the previous ones set. `Ok(Some(seconds))` when a key must still
/// wait (the attempt is counted and its password must not be checked).
pub async fn count_login_attempt(
    db: &super::Database,
    keys: &[ThrottleKey],
    now: i64,
) -> StoreResult<Option<i64>> {
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM login_throttle WHERE updated_at < $1")
        .bind(now - LOGIN_FAILURES_EXPIRE_SECONDS)
        .execute(&mut *tx)
        .await?;
    let mut wait = 0;
    let mut counted = Vec::with_capacity(keys.len());
    for key in keys {
        // The update keeps `blocked_until`: it answers the wait set before this attempt.
        let row = sqlx::query(
            "INSERT INTO login_throttle (key, failures, blocked_until, updated_at) \
             VALUES ($1, 1, 0, $2) ON CONFLICT (key) DO UPDATE SET \
             failures = login_throttle.failures + 1, updated_at = excluded.updated_at \
             RETURNING failures, blocked_until",
        )
        .bind(&key.key)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let (failures, blocked_until): (i64, i64) = (row.get(0), row.get(1));
        wait = wait.max(blocked_until - now);
        counted.push((key, failures));
    }
    if wait <= 0 {
        for (key, failures) in counted {
            // Times are whole seconds: one more makes sure the full wait passes.
            let blocked_until = match wait_after(failures, key.free) {
                0 => 0,
                wait => now + wait + 1,
            };
            sqlx::query("UPDATE login_throttle SET blocked_until = $2 WHERE key = $1")
                .bind(&key.key)
                .bind(blocked_until)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok((wait > 0).then_some(wait))
}

/// After a correct password: the (address, username) key starts again from zero, and the
/// attempt no longer counts as a failure of the address.
pub async fn login_succeeded(
    db: &super::Database,
    person: &ThrottleKey,
    address: &ThrottleKey,
) -> StoreResult<()> {
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM login_throttle WHERE key = $1")
        .bind(&person.key)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE login_throttle SET failures = failures - 1, \
         blocked_until = CASE WHEN failures - 1 < $2 THEN 0 ELSE blocked_until END \
         WHERE key = $1 AND failures > 0",
    )
    .bind(&address.key)
    .bind(address.free)
    .execute(&mut *tx)
    .await?;
    tx.commit().await.map_err(StoreError::from)
}

/// Ends every session of `account` and revokes its tokens (a new password, a disabled
/// account); returns how many sessions and tokens ended.
pub async fn end_sessions_and_tokens(pool: &AnyPool, account: i64) -> StoreResult<(u64, u64)> {
    let mut tx = pool.begin().await?;
    let sessions = sqlx::query("DELETE FROM sessions WHERE account_id = $1")
        .bind(account)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let tokens = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL",
    )
    .bind(now())
    .bind(account)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok((sessions, tokens))
}

/// An account as `cohortsync account list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSummary {
    /// Login name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// Since when it is disabled (Unix seconds), if it is.
    pub disabled_at: Option<i64>,
    /// Live sessions.
    pub sessions: i64,
    /// Live tokens.
    pub tokens: i64,
}

/// Every account, by name.
pub async fn list_accounts(pool: &AnyPool) -> StoreResult<Vec<AccountSummary>> {
    let now = now();
    let rows = sqlx::query(
        "SELECT a.username, a.role, a.disabled_at, \
         (SELECT COUNT(*) FROM sessions s WHERE s.account_id = a.id AND s.expires_at > $1), \
         (SELECT COUNT(*) FROM api_tokens t WHERE t.account_id = a.id AND t.revoked_at IS NULL \
          AND t.expires_at > $1) \
         FROM accounts a ORDER BY a.username",
    )
    .bind(now)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(AccountSummary {
                username: r.get(0),
                role: Role::parse(&r.get::<String, _>(1))?,
                disabled_at: r.get(2),
                sessions: r.get(3),
                tokens: r.get(4),
            })
        })
        .collect())
}

/// Disables (or enables again) the account named `username`; a disabled account's
/// sessions end and its tokens are revoked. `None` when there is no such account.
pub async fn set_disabled(
    pool: &AnyPool,
    username: &str,
    disabled: bool,
) -> StoreResult<Option<i64>> {
    let id: Option<i64> = if disabled {
        sqlx::query_scalar("UPDATE accounts SET disabled_at = $1 WHERE username = $2 RETURNING id")
            .bind(now())
            .bind(username)
            .fetch_optional(pool)
            .await?
    } else {
        sqlx::query_scalar(
            "UPDATE accounts SET disabled_at = NULL WHERE username = $1 RETURNING id",
        )
        .bind(username)
        .fetch_optional(pool)
        .await?
    };
    if let (Some(id), true) = (id, disabled) {
        end_sessions_and_tokens(pool, id).await?;
    }
    Ok(id)
}
