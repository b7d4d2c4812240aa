//! What every answer carries and every unsafe request must show: the browser's security
//! headers (a Content-Security-Policy that lets the WASM app and nothing else run, no MIME
//! sniffing, no referrer beyond the site) and the refusal of cross-site requests made with
//! the session cookie.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;

/// The Content-Security-Policy of the app served from `index_html`: scripts only from the
/// server itself and the page's own inline scripts (by their SHA-256, which Trunk's loader
/// and the service-worker registration are), WebAssembly allowed to compile, workers from
/// the server or from `blob:` URLs (gloo-worker starts the check worker from a blob its own
/// script made, which then loads `/worker.js`), no frames, no plugins, no foreign
/// connections.
///
/// ```
/// let policy = cohortsync_backend::security::content_security_policy(
///     "<html><script>go()</script><script src=\"/a.js\"></script></html>",
/// );
/// assert!(policy.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"));
/// assert!(policy.contains("frame-ancestors 'none'"));
/// assert_eq!(policy.matches("'sha256-").count(), 1);
/// ```
pub fn content_security_policy(index_html: &str) -> String {
    use base64::Engine;
    let hashes: String = inline_scripts(index_html)
        .map(|script| {
            let digest = Sha256::digest(script.as_bytes());
            format!(
                " 'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        })
        .collect();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; worker-src 'self' blob:; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The text of each `<script>` without a `src`, exactly as the browser hashes it.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    let mut rest = html;
    std::iter::from_fn(move || {
        loop {
            let open = rest.find("<script")?;
            let after_open = &rest[open..];
            let tag_end = after_open.find('>')?;
            let tag = &after_open[..tag_end];
            let body = &after_open[tag_end + 1..];
            let close = body.find("</script>")?;
            rest = &body[close + "</script>".len()..];
            if !tag.contains("src=") {
                return Some(&body[..close]);
            }
        }
    })
}

/// Adds the security headers to every answer (the API's and the web app's files).
pub async fn add_security_headers(
    State(policy): State<HeaderValue>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// Refuses (`403 cross_site`) an unsafe request (`POST`, `PUT`, `PATCH`, `DELETE`) that a
/// browser did not send from this site's own pages: the session cookie goes with requests
/// that any page of a sibling subdomain can make. A request passes when `Sec-Fetch-Site` is
/// `same-origin` or `none` (typed by the person), or else when its `Origin` is the
/// server's own (`--public-url`, or the host it was asked for when none is set). Requests
/// with an `Authorization: Bearer` token carry no ambient credential and pass.
pub async fn refuse_cross_site(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if is_unsafe(request.method())
        && !request.headers().contains_key(header::AUTHORIZATION)
        && !same_site(request.headers(), state.public_origin.as_deref())
    {
        return ApiError::CrossSite.into_response();
    }
    next.run(request).await
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn same_site(headers: &HeaderMap, public_origin: Option<&str>) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match text("sec-fetch-site") {
        Some("same-origin" | "none") => return true,
        // A browser that says where the request comes from is believed.
        Some(_) => return false,
        None => {}
    }
    let Some(origin) = text("origin") else {
        return false;
    };
    match public_origin {
        Some(own) => origin.eq_ignore_ascii_case(own),
        // Without a configured URL: the origin's host must be the host that was asked.
        None => {
            let host = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"));
            host.is_some_and(|h| text("host").is_some_and(|asked| h.eq_ignore_ascii_case(asked)))
        }
    }
}

/// The origin (`scheme://host[:port]`) of `--public-url`, checked.
pub fn origin_of(url: &str) -> anyhow::Result<String> {
    let (scheme, rest) = url
        .split_once("://")
        .filter(|(s, _)| matches!(*s, "http" | "https"))
        .ok_or_else(|| {
            anyhow::anyhow!("--public-url must start with https:// or http://: {url}")
        })?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || host.contains('@') {
        anyhow::bail!("--public-url needs a host, without credentials: {url}");
    }
    Ok(format!("{scheme}://{}", host.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn only_the_sites_own_pages_pass() {
        let own = Some("https://cohorts.univ.example");
        assert!(same_site(
            &headers(&[("sec-fetch-site", "same-origin")]),
            own
        ));
        assert!(same_site(&headers(&[("sec-fetch-site", "none")]), own));
        assert!(!same_site(
            &headers(&[("sec-fetch-site", "same-site")]),
            own
        ));
        assert!(!same_site(
            &headers(&[("sec-fetch-site", "cross-site")]),
            own
        ));
        assert!(same_site(
            &headers(&[("origin", "https://cohorts.univ.example")]),
            own
        ));
        assert!(!same_site(
            &headers(&[("origin", "https://evil.univ.example")]),
            own
        ));
        assert!(!same_site(&headers(&[]), own));
        let asked = &[
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080"),
        ];
        assert!(same_site(&headers(asked), None));
        let sibling = &[
            ("origin", "http://other.example:8080"),
            ("host", "127.0.0.1:8080"),
        ];
        assert!(!same_site(&headers(sibling), None));
    }

    #[test]
    fn a_public_url_gives_its_origin() {
        assert_eq!(
            origin_of("https://Cohorts.Univ.example/app/").unwrap(),
            "https://cohorts.univ.example"
        );
        assert!(origin_of("ftp://x").is_err());
        assert!(origin_of("https://user@host").is_err());
    }
}
