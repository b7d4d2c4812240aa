//! Who is calling: passwords (argon2), session cookies and API tokens, and the [`Caller`]
//! extractor that every protected handler takes.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;
use crate::store::accounts;

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "cohortsync_session";

/// How long a session lasts without a new login.
pub const SESSION_SECONDS: i64 = 12 * 3600;

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

/// A caller who is an admin. As an extractor it answers `403` to anyone else, so a handler
/// or a function that takes an `Admin` cannot be reached by a teacher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admin(Caller);

impl Admin {
    /// `caller`, if an admin; `403` otherwise.
    pub fn try_from(caller: Caller) -> Result<Admin, ApiError> {
        match caller.role {
            Role::Admin => Ok(Admin(caller)),
            Role::Teacher => Err(ApiError::Forbidden("only an admin may do this")),
        }
    }
}

impl std::ops::Deref for Admin {
    type Target = Caller;

    fn deref(&self) -> &Caller {
        &self.0
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Admin::try_from(Caller::from_request_parts(parts, state).await?)
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .ok_or(ApiError::Unauthenticated)?;
            let caller = accounts::caller_by_token(state.db.pool(), &sha256_hex(token.as_bytes()))
                .await?
                .ok_or(ApiError::Unauthenticated)?;
            if caller.token_scope == Some(TokenScope::Submit) && !submit_scope_allows(parts) {
                return Err(ApiError::Forbidden(
                    "this token may only submit files and read its account's changesets",
                ));
            }
            return Ok(caller);
        }
        let Some(session) = cookie(parts, SESSION_COOKIE) else {
            return Err(ApiError::Unauthenticated);
        };
        accounts::caller_by_session(state.db.pool(), &sha256_hex(session.as_bytes()))
            .await?
            .ok_or(ApiError::Unauthenticated)
    }
}

/// What a `submit` token may call: submit, list and read changesets, and `/api/me`.
fn submit_scope_allows(parts: &Parts) -> bool {
    let path = parts
        .extensions
        .get::<axum::extract::OriginalUri>()
        .map_or(parts.uri.path(), |uri| uri.0.path());
    let path = path.strip_prefix("/api").unwrap_or(path);
    let method = &parts.method;
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        ["me"] => method == axum::http::Method::GET,
        ["changesets"] => matches!(*method, axum::http::Method::GET | axum::http::Method::POST),
        ["changesets", id] => method == axum::http::Method::GET && id.parse::<i64>().is_ok(),
        _ => false,
    }
}

/// The value of cookie `name` in the request, if any.
pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// `bytes` random bytes from the operating system, as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).expect("the operating system gives random bytes");
    hex(&buffer)
}

/// SHA-256 of `bytes`, as lowercase hex. Session and API tokens are stored only hashed.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An argon2id hash of `password`, in PHC string form.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| anyhow::anyhow!("no random bytes: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))
}

/// Whether `password` matches the stored `hash` (false for a malformed hash).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }
}
