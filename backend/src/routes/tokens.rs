//! `POST /api/tokens`, `GET /api/tokens`, `DELETE /api/tokens/{id}`: API tokens for scripts.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::{Caller, Role, TokenScope};
use crate::crypto;
use crate::error::{ApiError, ApiJson, ApiPath};
use crate::store::accounts::{self, TokenInfo};
use crate::store::now;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/tokens", get(list_tokens).post(create_token))
        .route("/tokens/{id}", delete(revoke_token))
}

/// Body of `POST /api/tokens`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateTokenRequest {
    name: String,
    /// `submit` (the default) or `admin`.
    #[serde(default)]
    scope: TokenScope,
    /// Days it works, 1 to 365.
    #[serde(default = "default_days")]
    expires_in_days: i64,
}

/// Days a token works when its maker does not say.
pub const DEFAULT_TOKEN_DAYS: i64 = 90;

fn default_days() -> i64 {
    DEFAULT_TOKEN_DAYS
}

/// Answer of `POST /api/tokens`: the token is shown this once, only its hash is kept.
#[derive(Debug, Serialize)]
struct CreateTokenResponse {
    id: i64,
    name: String,
    token: String,
    scope: TokenScope,
    expires_at: i64,
}

async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<CreateTokenRequest>,
) -> Result<(StatusCode, ApiJson<CreateTokenResponse>), ApiError> {
    // A stolen token must not breed tokens that outlive its revocation.
    if caller.token_scope.is_some() {
        return Err(ApiError::Forbidden(
            "tokens are made by a signed-in person, not by another token",
        ));
    }
    let name = request.name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(ApiError::bad_request(
            "invalid_name",
            "a token needs a name of 1 to 100 characters",
        ));
    }
    if !(1..=365).contains(&request.expires_in_days) {
        return Err(ApiError::bad_request(
            "invalid_expiry",
            "a token works for 1 to 365 days (expires_in_days)",
        ));
    }
    if request.scope == TokenScope::Admin && caller.role != Role::Admin {
        return Err(ApiError::Forbidden("only an admin may make an admin token"));
    }
    let token = format!("cs_{}", crypto::random_hex(32));
    let expires_at = now() + request.expires_in_days * 86_400;
    let id = accounts::create_token(
        state.db.pool(),
        caller.id,
        name,
        &crypto::sha256_hex(token.as_bytes()),
        request.scope,
        expires_at,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(CreateTokenResponse {
            id,
            name: name.to_owned(),
            token,
            scope: request.scope,
            expires_at,
        }),
    ))
}

async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<ApiJson<Vec<TokenInfo>>, ApiError> {
    Ok(ApiJson(
        accounts::list_tokens(state.db.pool(), caller.id).await?,
    ))
}

async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    if accounts::revoke_token(state.db.pool(), caller.id, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}
