//! `POST /api/login`, `POST /api/logout`, `GET /api/me`.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::response::{AppendHeaders, IntoResponse};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{self, Caller, SESSION_COOKIE, SESSION_SECONDS};
use crate::error::{ApiError, ApiJson};
use crate::store::{accounts, now};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/me", get(me))
}

/// Body of `POST /api/login`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginRequest {
    username: String,
    password: String,
}

/// A hash no password matches, verified for unknown names.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| auth::hash_password(&auth::random_hex(16)).unwrap_or_default());

/// Failed logins allowed in a row before each new attempt must wait.
const FREE_FAILURES: i64 = 5;

/// Seconds to wait after `failures` failed logins in a row: doubling, at most 5 minutes.
fn wait_after(failures: i64) -> i64 {
    if failures < FREE_FAILURES {
        0
    } else {
        (1i64 << (failures - FREE_FAILURES).min(8)).min(300)
    }
}

async fn login(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let pool = state.db.pool();
    let username = request.username.trim().to_lowercase();
    let (failures, last) = accounts::login_failures(pool, &username).await?;
    // Times are whole seconds: one more second makes sure the full wait has passed.
    let wait = last + wait_after(failures) + 1 - now();
    if wait_after(failures) > 0 && wait > 0 {
        return Err(ApiError::TooManyAttempts(wait as u64));
    }
    let account = accounts::find_account(pool, &username).await?;
    // Unknown names cost one hash too, so that timing does not tell which names exist.
    let hash = match &account {
        Some(account) => account.password_hash.clone(),
        None => DUMMY_HASH.clone(),
    };
    let password = request.password;
    let matches = tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
        .await
        .map_err(anyhow::Error::from)?;
    let Some(account) = account.filter(|_| matches) else {
        accounts::record_login_failure(pool, &username).await?;
        // A small fixed delay on every failure slows guessing further.
        tokio::time::sleep(Duration::from_millis(200)).await;
        return Err(ApiError::BadCredentials);
    };
    accounts::clear_login_failures(pool, &username).await?;
    let token = auth::random_hex(32);
    accounts::create_session(
        pool,
        account.id,
        &auth::sha256_hex(token.as_bytes()),
        SESSION_SECONDS,
    )
    .await?;
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let cookie = format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={SESSION_SECONDS}{secure}"
    );
    let caller = Caller {
        id: account.id,
        username: account.username,
        role: account.role,
    };
    Ok((AppendHeaders([(SET_COOKIE, cookie)]), ApiJson(caller)))
}

async fn logout(
    State(state): State<AppState>,
    parts: Parts,
) -> Result<impl IntoResponse, ApiError> {
    if let Some(token) = auth::cookie(&parts, SESSION_COOKIE) {
        accounts::delete_session(state.db.pool(), &auth::sha256_hex(token.as_bytes())).await?;
    }
    let expired = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    Ok((
        AppendHeaders([(SET_COOKIE, expired)]),
        ApiJson(serde_json::json!({"ok": true})),
    ))
}

async fn me(caller: Caller) -> ApiJson<Caller> {
    ApiJson(caller)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_after_five_failures_and_stay_bounded() {
        assert_eq!(wait_after(0), 0);
        assert_eq!(wait_after(4), 0);
        assert_eq!(wait_after(5), 1);
        assert_eq!(wait_after(7), 4);
        assert_eq!(wait_after(100), 256);
    }
}
