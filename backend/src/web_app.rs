//! The web app the server serves: embedded in the binary when it was built (one file to
//! deploy: copy `cohortsync` anywhere and it serves the app), or read from a directory
//! with `--assets-dir` during development.
//!
//! Embedded files answer with their content type, an `ETag` (their SHA-256) and a cache
//! policy: the files Trunk names by their hash never change (`immutable`, a year); every
//! other file — `index.html`, the service worker, the worker's script — is revalidated on
//! each load (`no-cache`), which costs a `304` when nothing changed. A path that names no
//! file is a client-side route: it gets `index.html`.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tower_http::services::{ServeDir, ServeFile};

/// The files of `frontend/dist` as they were when the binary was built (none when the web
/// app had not been built yet: the server then refuses to start without `--assets-dir`).
#[derive(rust_embed::Embed)]
#[folder = "$CARGO_MANIFEST_DIR/../frontend/dist"]
#[allow_missing = true]
struct Embedded;

/// Where the web app comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebApp {
    /// The copy inside the binary.
    Embedded,
    /// A directory holding a built copy (`--assets-dir`).
    Directory(PathBuf),
}

impl WebApp {
    /// The web app of `--assets-dir DIR` when given, else the embedded one; refused, saying
    /// how to build it, when it has no `index.html`.
    pub fn choose(assets_dir: Option<PathBuf>) -> anyhow::Result<WebApp> {
        let app = match assets_dir {
            Some(dir) => WebApp::Directory(dir),
            None => WebApp::Embedded,
        };
        if app.index_html().is_none() {
            let place = match &app {
                WebApp::Embedded => "this binary (it was built before the web app)".to_owned(),
                WebApp::Directory(dir) => format!("{} (no index.html)", dir.display()),
            };
            anyhow::bail!(
                "the built web app was not found in {place}.\n\
                 Build it with `scripts/setup && trunk build --release` from the source tree, \
                 then `cargo build --release` to embed it, or point --assets-dir / \
                 COHORTSYNC_ASSETS_DIR at a built copy."
            );
        }
        Ok(app)
    }

    /// The text of `index.html`, if the web app has one.
    pub fn index_html(&self) -> Option<String> {
        match self {
            WebApp::Embedded => Embedded::get("index.html")
                .map(|file| String::from_utf8_lossy(&file.data).into_owned()),
            WebApp::Directory(dir) => std::fs::read_to_string(dir.join("index.html")).ok(),
        }
    }

    /// The service that answers every path outside `/api`.
    pub fn service(&self) -> Router {
        match self {
            WebApp::Embedded => Router::new().fallback(serve_embedded),
            WebApp::Directory(dir) => Router::new().fallback_service(serve_directory(dir)),
        }
    }
}

fn serve_directory(dir: &Path) -> ServeDir<ServeFile> {
    ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html")))
}

async fn serve_embedded(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
        )
            .into_response();
    }
    let path = uri.path().trim_start_matches('/');
    let (name, file) = match Embedded::get(path).filter(|_| !path.is_empty()) {
        Some(file) => (path, file),
        None => match Embedded::get("index.html") {
            Some(file) => ("index.html", file),
            None => return StatusCode::NOT_FOUND.into_response(),
        },
    };
    let etag = format!("\"{}\"", crate::crypto::hex(&file.metadata.sha256_hash()));
    let cache = if is_hashed(name) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut answer = Response::builder()
        .header(header::ETAG, &etag)
        .header(header::CACHE_CONTROL, cache);
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if unchanged {
        return answer
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .unwrap_or_else(|_| StatusCode::NOT_MODIFIED.into_response());
    }
    answer = answer.header(
        header::CONTENT_TYPE,
        HeaderValue::from_str(file.metadata.mimetype())
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        // The embedded bytes are static: sent as they are, never copied per request.
        match file.data {
            std::borrow::Cow::Borrowed(bytes) => Body::from(Bytes::from_static(bytes)),
            std::borrow::Cow::Owned(bytes) => Body::from(bytes),
        }
    };
    answer
        .body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// Whether Trunk named the file by its content (`name-0123456789abcdef.ext`): such a
/// file never changes, a new build writes another name.
fn is_hashed(name: &str) -> bool {
    let stem = name.rsplit('/').next().unwrap_or(name);
    let stem = stem.split('.').next().unwrap_or(stem);
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-')
        // Trunk writes its 64-bit hash in hex without leading zeros: 16 digits, or fewer (one
        // name in sixteen has 15).
        .is_some_and(|(_, hash)| {
            (8..=16).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit())
        })
}

#[cfg(test)]
mod tests {
    use super::is_hashed;

    #[test]
    fn only_files_named_by_their_hash_are_immutable() {
        assert!(is_hashed("cohortsync-frontend-1f2e3d4c5b6a7980.js"));
        assert!(is_hashed("cohortsync-frontend-1f2e3d4c5b6a7980_bg.wasm"));
        assert!(is_hashed("style-0123456789abcdef.css"));
        assert!(is_hashed("cohortsync-frontend-ddb2e014cf1b75c_bg.wasm"));
        for name in [
            "index.html",
            "sw.js",
            "worker.js",
            "worker_bg.wasm",
            "a-b.js",
        ] {
            assert!(!is_hashed(name), "{name}");
        }
    }
}
