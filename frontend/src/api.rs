//! Calls to the server's API (`docs/api.md`). Same-origin requests carry the session cookie.

use cohortsync_shared::api::{
    ApplyReport, AuditEntry, ChangesetDetail, ChangesetStatus, ChangesetSummary, ReviewRequest,
    SiteSettings,
};
use cohortsync_shared::options::Options;
use cohortsync_shared::report::Lang;
use gloo_net::http::{Request, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The signed-in account, as `GET /api/me` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    /// Account id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// `admin` or `teacher`.
    pub role: String,
}

impl Me {
    /// Whether the account may review and apply.
    pub fn is_admin(&self) -> bool {
        self.role == "admin"
    }
}

/// A failed call: the API's error body when there is one.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// No answer (offline, server down).
    Network(String),
    /// An answer with an error status: its code, message and details.
    Status {
        /// HTTP status.
        status: u16,
        /// The API's error code.
        code: String,
        /// The API's message.
        message: String,
        /// The API's details (a report, a difference…).
        details: Value,
    },
}

impl ApiError {
    /// A line for people.
    pub fn describe(&self) -> String {
        match self {
            ApiError::Network(e) => e.clone(),
            ApiError::Status {
                status,
                code,
                message,
                ..
            } => format!("{message} ({status} {code})"),
        }
    }
}

async fn check(response: Result<Response, gloo_net::Error>) -> Result<Response, ApiError> {
    let response = response.map_err(|e| ApiError::Network(e.to_string()))?;
    if response.ok() || response.status() == 304 {
        return Ok(response);
    }
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let error = &body["error"];
    Err(ApiError::Status {
        status,
        code: error["code"].as_str().unwrap_or("").to_owned(),
        message: error["message"].as_str().unwrap_or("").to_owned(),
        details: error["details"].clone(),
    })
}

async fn json<T: for<'de> Deserialize<'de>>(response: Response) -> Result<T, ApiError> {
    response
        .json()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))
}

/// `GET /api/me`; `None` when not signed in.
pub async fn me() -> Result<Option<Me>, ApiError> {
    match check(Request::get("/api/me").send().await).await {
        Ok(response) => Ok(Some(json(response).await?)),
        Err(ApiError::Status { status: 401, .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `POST /api/login`.
pub async fn login(username: &str, password: &str) -> Result<Me, ApiError> {
    let body = serde_json::json!({"username": username, "password": password});
    let request = Request::post("/api/login")
        .json(&body)
        .map_err(|e| ApiError::Network(e.to_string()))?;
    json(check(request.send().await).await?).await
}

/// `POST /api/logout`.
pub async fn logout() -> Result<(), ApiError> {
    check(Request::post("/api/logout").send().await)
        .await
        .map(drop)
}

/// What `GET /api/snapshot` gave.
#[derive(Debug, Clone, PartialEq)]
pub enum SnapshotFetch {
    /// The cached one is current.
    NotModified,
    /// A new snapshot: its JSON and ETag.
    Fresh {
        /// The snapshot's JSON.
        json: String,
        /// Its ETag.
        etag: String,
    },
    /// What changed since the cached revision: their JSON, and the new snapshot's ETag.
    Changes {
        /// The changes' JSON (`SnapshotChanges`).
        json: String,
        /// The ETag of the snapshot they lead to.
        etag: String,
    },
}

/// `GET /api/snapshot`, conditional on the cached ETag; with the cached revision in
/// `since`, the server may answer only what changed since.
pub async fn snapshot(etag: Option<&str>, since: Option<u64>) -> Result<SnapshotFetch, ApiError> {
    let url = match since {
        Some(revision) => format!("/api/snapshot?since={revision}"),
        None => "/api/snapshot".to_owned(),
    };
    let mut request = Request::get(&url);
    if let Some(etag) = etag {
        request = request.header("If-None-Match", etag);
    }
    let response = check(request.send().await).await?;
    if response.status() == 304 {
        return Ok(SnapshotFetch::NotModified);
    }
    let etag = response.headers().get("etag").unwrap_or_default();
    let json = response
        .text()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    // Changes start with their `since` (the server writes it first); a snapshot has none.
    // Reading the head only: parsing megabytes here would pause the page.
    let is_changes = json.trim_start().starts_with(r#"{"since""#);
    Ok(if is_changes {
        SnapshotFetch::Changes { json, etag }
    } else {
        SnapshotFetch::Fresh { json, etag }
    })
}

/// A `Blob` holding `bytes`, for a file made in the page.
pub fn blob(bytes: &[u8]) -> Result<web_sys::Blob, ApiError> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    web_sys::Blob::new_with_u8_array_sequence(&parts).map_err(|_| ApiError::Network("Blob".into()))
}

/// `POST /api/changesets` with the file (a `Blob`, sent as it is) and its options; the
/// created changeset. A refusal's report comes in `lang`.
pub async fn submit(
    name: &str,
    file: &web_sys::Blob,
    options: &Options,
    lang: Lang,
) -> Result<ChangesetDetail, ApiError> {
    let form = web_sys::FormData::new().map_err(|_| ApiError::Network("FormData".into()))?;
    form.append_with_blob_and_filename("file", file, name)
        .map_err(|_| ApiError::Network("form".into()))?;
    let options = serde_json::to_string(options).unwrap_or_default();
    form.append_with_str("options", &options)
        .map_err(|_| ApiError::Network("form".into()))?;
    let request = Request::post("/api/changesets")
        .header("Accept-Language", crate::i18n::code(lang))
        .body(form)
        .map_err(|e| ApiError::Network(e.to_string()))?;
    json(check(request.send().await).await?).await
}

/// `GET /api/changesets?status=…&author=…`.
pub async fn changesets(
    status: Option<ChangesetStatus>,
    author: Option<&str>,
) -> Result<Vec<ChangesetSummary>, ApiError> {
    let mut query = Vec::new();
    if let Some(status) = status {
        query.push(("status", status.as_str()));
    }
    if let Some(author) = author {
        query.push(("author", author));
    }
    let request = Request::get("/api/changesets").query(query);
    json(check(request.send().await).await?).await
}

/// `GET /api/changesets/{id}`.
pub async fn changeset(id: i64) -> Result<ChangesetDetail, ApiError> {
    json(check(Request::get(&format!("/api/changesets/{id}")).send().await).await?).await
}

/// What an admin does to a changeset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Approve it, with a comment.
    Approve,
    /// Reject it, with a comment.
    Reject,
    /// Apply it.
    Apply,
    /// Undo it.
    Revert,
}

/// The server's answer to an [`Action`].
#[derive(Debug, Clone, PartialEq)]
pub enum Acted {
    /// Approved or rejected: the changeset now.
    Reviewed(Box<ChangesetDetail>),
    /// Applied or reverted: what was written.
    Wrote(Box<ApplyReport>),
}

/// `POST /api/changesets/{id}/approve|reject|apply|revert`.
pub async fn act(id: i64, action: Action, comment: &str) -> Result<Acted, ApiError> {
    let path = match action {
        Action::Approve => "approve",
        Action::Reject => "reject",
        Action::Apply => "apply",
        Action::Revert => "revert",
    };
    let url = format!("/api/changesets/{id}/{path}");
    match action {
        Action::Approve | Action::Reject => {
            let review = ReviewRequest {
                comment: comment.to_owned(),
            };
            let request = Request::post(&url)
                .json(&review)
                .map_err(|e| ApiError::Network(e.to_string()))?;
            let detail = json(check(request.send().await).await?).await?;
            Ok(Acted::Reviewed(Box::new(detail)))
        }
        Action::Apply | Action::Revert => {
            let request = Request::post(&url)
                .build()
                .map_err(|e| ApiError::Network(e.to_string()))?;
            Ok(Acted::Wrote(Box::new(
                json(check(request.send().await).await?).await?,
            )))
        }
    }
}

/// `GET /api/settings`.
pub async fn settings() -> Result<SiteSettings, ApiError> {
    json(check(Request::get("/api/settings").send().await).await?).await
}

/// `PUT /api/settings` (admins).
pub async fn save_settings(settings: &SiteSettings) -> Result<SiteSettings, ApiError> {
    let request = Request::put("/api/settings")
        .json(settings)
        .map_err(|e| ApiError::Network(e.to_string()))?;
    json(check(request.send().await).await?).await
}

/// `GET /api/sync` (admins): the sync folder's settings, next run and history.
pub async fn sync_status() -> Result<cohortsync_shared::folder::SyncStatus, ApiError> {
    json(check(Request::get("/api/sync").send().await).await?).await
}

/// `POST /api/sync/run[?simulate=true]` (admins): runs the sync folder's task now.
pub async fn run_sync(simulate: bool) -> Result<cohortsync_shared::folder::RunReport, ApiError> {
    let url = if simulate {
        "/api/sync/run?simulate=true"
    } else {
        "/api/sync/run"
    };
    json(check(Request::post(url).send().await).await?).await
}

/// `GET /api/audit?changeset=…` (admins): what was done to changeset `id`, newest first.
pub async fn audit(id: i64) -> Result<Vec<AuditEntry>, ApiError> {
    let request = Request::get("/api/audit").query([("changeset", id.to_string())]);
    json(check(request.send().await).await?).await
}
