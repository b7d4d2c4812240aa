//! `POST /api/login`, `POST /api/logout`, `GET /api/me`.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::response::{AppendHeaders, IntoResponse};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{self, Caller, SESSION_COOKIE, SESSION_SECONDS};
use crate::crypto;
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
    std::sync::LazyLock::new(|| crypto::hash_password(&crypto::random_hex(16)).unwrap_or_default());

/// Failed logins allowed in a row for one username from one address before each new
/// attempt must wait.
const FREE_FAILURES_PER_PERSON: i64 = 5;

/// Failed logins allowed in a row from one address, whatever the usernames (guessing
/// across accounts). Generous: people behind one NAT share an address.
const FREE_FAILURES_PER_ADDRESS: i64 = 30;

/// The address a request came from: its peer, or for a request through the trusted
/// proxy the last address its `X-Forwarded-For` names (the one the proxy added). None for
/// requests made in-process, as in tests.
fn client_address(parts: &Parts, trusted_proxy: Option<IpAddr>) -> String {
    let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
        return "local".to_owned();
    };
    let forwarded = || {
        parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            // The proxy's own entry, the last; what comes before is the client's to forge.
            .next_back()
            .and_then(|a| a.trim().parse::<IpAddr>().ok())
    };
    match trusted_proxy {
        Some(proxy) if proxy == peer.ip() => forwarded().unwrap_or(peer.ip()).to_string(),
        _ => peer.ip().to_string(),
    }
}

async fn login(
    State(state): State<AppState>,
    parts: Parts,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let pool = state.db.pool();
    let username = request.username.trim().to_lowercase();
    let address = client_address(&parts, state.trusted_proxy);
    // Limited per address and per (address, username): a stranger's wrong passwords from
    // elsewhere never lock a person out.
    let by_address = accounts::ThrottleKey {
        key: format!("addr:{address}"),
        free: FREE_FAILURES_PER_ADDRESS,
    };
    let by_person = accounts::ThrottleKey {
        key: format!("user:{address}|{username}"),
        free: FREE_FAILURES_PER_PERSON,
    };
    let keys = [by_address, by_person];
    // Counted before the password is checked, so parallel guesses cannot slip past.
    if let Some(wait) = accounts::count_login_attempt(&state.db, &keys, now()).await? {
        return Err(ApiError::TooManyAttempts(wait as u64));
    }
    let [by_address, by_person] = keys;
    let account = accounts::find_account(pool, &username).await?;
    // Unknown names cost one hash too, so that timing does not tell which names exist.
    let hash = match &account {
        Some(account) => account.password_hash.clone(),
        None => DUMMY_HASH.clone(),
    };
    let password = request.password;
    let matches = tokio::task::spawn_blocking(move || crypto::verify_password(&password, &hash))
        .await
        .map_err(anyhow::Error::from)?;
    let Some(account) = account.filter(|_| matches) else {
        // A small fixed delay on every failure slows guessing further.
        tokio::time::sleep(Duration::from_millis(200)).await;
        return Err(ApiError::BadCredentials);
    };
    accounts::login_succeeded(&state.db, &by_person, &by_address).await?;
    let token = crypto::random_hex(32);
    accounts::create_session(
        pool,
        account.id,
        &crypto::sha256_hex(token.as_bytes()),
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
        token_scope: None,
    };
    Ok((AppendHeaders([(SET_COOKIE, cookie)]), ApiJson(caller)))
}

async fn logout(
    State(state): State<AppState>,
    parts: Parts,
) -> Result<impl IntoResponse, ApiError> {
    if let Some(token) = auth::cookie(&parts, SESSION_COOKIE) {
        accounts::delete_session(state.db.pool(), &crypto::sha256_hex(token.as_bytes())).await?;
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
    fn behind_the_trusted_proxy_the_client_is_the_address_it_forwards() {
        let request = |peer: &str, forwarded: Option<&str>| {
            let mut builder = axum::http::Request::builder();
            if let Some(f) = forwarded {
                builder = builder.header("x-forwarded-for", f);
            }
            let (mut parts, ()) = builder.body(()).unwrap().into_parts();
            let peer: SocketAddr = peer.parse().unwrap();
            parts.extensions.insert(ConnectInfo(peer));
            parts
        };
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let through = request("127.0.0.1:5000", Some("198.51.100.1, 203.0.113.7"));
        assert_eq!(client_address(&through, Some(proxy)), "203.0.113.7");
        // Not trusted: the header is anyone's to write.
        assert_eq!(client_address(&through, None), "127.0.0.1");
        let direct = request("192.0.2.9:5000", Some("203.0.113.7"));
        assert_eq!(client_address(&direct, Some(proxy)), "192.0.2.9");
        assert_eq!(
            client_address(&request("127.0.0.1:1", None), Some(proxy)),
            "127.0.0.1"
        );
    }

    #[test]
    fn waits_grow_after_the_free_failures_up_to_five_minutes() {
        let wait = |n| accounts::wait_after(n, FREE_FAILURES_PER_PERSON);
        assert_eq!(wait(0), 0);
        assert_eq!(wait(4), 0);
        assert_eq!(wait(5), 1);
        assert_eq!(wait(7), 4);
        assert_eq!(wait(13), 256);
        assert_eq!(wait(14), 300);
        assert_eq!(wait(100), 300);
    }
}
