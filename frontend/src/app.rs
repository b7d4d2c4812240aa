//! The application shell: header and the server status.

use cohortsync_shared::api::HealthResponse;
use gloo_net::http::Request;
use yew::prelude::*;

/// What the app knows about the server it was loaded from.
#[derive(Debug, Clone, PartialEq)]
enum ServerStatus {
    Checking,
    Up(HealthResponse),
    Unreachable(String),
}

async fn fetch_health() -> ServerStatus {
    let response = match Request::get("/api/health").send().await {
        Ok(response) => response,
        Err(error) => return ServerStatus::Unreachable(error.to_string()),
    };
    if !response.ok() {
        return ServerStatus::Unreachable(format!("HTTP {}", response.status()));
    }
    match response.json::<HealthResponse>().await {
        Ok(health) => ServerStatus::Up(health),
        Err(error) => ServerStatus::Unreachable(error.to_string()),
    }
}

/// The root component.
#[function_component(App)]
pub fn app() -> Html {
    let status = use_state(|| ServerStatus::Checking);
    {
        let status = status.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                status.set(fetch_health().await);
            });
        });
    }
    let status_view = match &*status {
        ServerStatus::Checking => html! {
            <p class="status" data-testid="server-status">{ "Contacting the server…" }</p>
        },
        ServerStatus::Up(health) => html! {
            <p class="status ok" data-testid="server-status">
                { format!("Server cohortsync {} is up, on {}.", health.version, health.database.as_str()) }
            </p>
        },
        ServerStatus::Unreachable(reason) => html! {
            <p class="status error" role="alert" data-testid="server-status">
                { format!("The server cannot be reached: {reason}") }
            </p>
        },
    };
    html! {
        <>
            <header><h1>{ "cohortsync" }</h1></header>
            <main data-testid="app" data-version={cohortsync_shared::VERSION}>
                <p>{ "Check, review and apply Moodle cohort files." }</p>
                { status_view }
            </main>
        </>
    }
}
