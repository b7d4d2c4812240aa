//! Types on the wire between the frontend and the backend.
//!
//! Each type is serialised as JSON with `serde`; the field names are the API.

use serde::{Deserialize, Serialize};

/// The kind of database a server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DatabaseKind {
    /// An embedded SQLite file (the default).
    Sqlite,
    /// A PostgreSQL server, for sites that run several server instances.
    Postgres,
}

impl DatabaseKind {
    /// The name used in the API and in logs: `sqlite` or `postgres`.
    pub fn as_str(self) -> &'static str {
        match self {
            DatabaseKind::Sqlite => "sqlite",
            DatabaseKind::Postgres => "postgres",
        }
    }
}

/// Body of `GET /api/health`.
///
/// ```
/// use cohortsync_shared::api::{DatabaseKind, HealthResponse};
///
/// let health = HealthResponse::ok(DatabaseKind::Sqlite);
/// let json = serde_json::to_string(&health).unwrap();
/// assert!(json.contains(r#""database":"sqlite""#));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthResponse {
    /// Always `ok` when the server answers: it is up and its database answered.
    pub status: String,
    /// The server's version.
    pub version: String,
    /// Which database the server runs on.
    pub database: DatabaseKind,
}

impl HealthResponse {
    /// A healthy answer from a server of this version on `database`.
    pub fn ok(database: DatabaseKind) -> Self {
        HealthResponse {
            status: "ok".to_owned(),
            version: crate::VERSION.to_owned(),
            database,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn health_round_trips_through_json() {
        let health = HealthResponse::ok(DatabaseKind::Postgres);
        let json = serde_json::to_string(&health).unwrap();
        assert_eq!(
            json,
            format!(
                r#"{{"status":"ok","version":"{}","database":"postgres"}}"#,
                crate::VERSION
            )
        );
        let back: HealthResponse = serde_json::from_str(&json).unwrap();
        assert_eq!(back, health);
    }
}
