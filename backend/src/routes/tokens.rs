//! `POST /api/tokens`, `GET /api/tokens`, `DELETE /api/tokens/{id}`: API tokens for scripts.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::{self, Caller};
use crate::error::{ApiError, ApiJson, ApiPath};
use crate::store::accounts::{self, TokenInfo};

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
}

/// Answer of `POST /api/tokens`: the token is shown this once, only its hash is kept.
#[derive(Debug, Serialize)]
struct CreateTokenResponse {
    id: i64,
    name: String,
    token: String,
}

async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<CreateTokenRequest>,
) -> Result<(StatusCode, ApiJson<CreateTokenResponse>), ApiError> {
    let name = request.name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(ApiError::bad_request(
            "invalid_name",
            "a token needs a name of 1 to 100 characters",
        ));
    }
    let token = format!("cs_{}", auth::random_hex(32));
    let id = accounts::create_token(
        state.db.pool(),
        caller.id,
        name,
        &auth::sha256_hex(token.as_bytes()),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(CreateTokenResponse {
            id,
            name: name.to_owned(),
            token,
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
