//! The web app in a real browser: headless Chromium against the real binary.

use cohortsync_e2e::{Browser, Server};

#[tokio::test]
async fn wasm_app_renders_and_reaches_its_server() -> anyhow::Result<()> {
    let server = Server::start_sqlite().await?;
    let browser = Browser::start().await?;

    browser.client.goto(&server.at("/")).await?;
    // Rendered by the WASM app (index.html has no such element), after it called the API.
    let status = browser.wait_for("[data-testid=server-status].ok").await?;
    let text = status.text().await?;
    assert!(text.contains("is up, on sqlite"), "status says: {text}");
    assert!(
        text.contains(cohortsync_shared::VERSION),
        "status says: {text}"
    );

    // A client-side route deep-linked from outside still opens the app.
    browser.client.goto(&server.at("/changesets/42")).await?;
    browser.wait_for("[data-testid=app]").await?;

    browser.close().await?;
    server.stop().await
}
