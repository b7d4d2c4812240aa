//! Who is calling: session cookies and API tokens, and the [`Caller`] and [`Admin`]
//! extractors that every protected handler takes.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use crate::AppState;
use crate::crypto::sha256_hex;
use crate::error::ApiError;
use crate::store::accounts;
pub use crate::store::accounts::{Caller, Role, TokenScope};

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "cohortsync_session";

/// How long a session lasts without a new login.
pub const SESSION_SECONDS: i64 = 12 * 3600;

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
