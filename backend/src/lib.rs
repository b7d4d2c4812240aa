//! The cohortsync server: the HTTP API, the database store, and the built web app, served
//! from one binary that also carries the command-line tools.
//!
//! The rules themselves live in `cohortsync_shared`; the server re-runs them and never
//! trusts a plan sent by a browser.

#![deny(missing_docs)]

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

pub mod account;
pub mod auth;
pub mod changesets;
pub mod checks;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod demo;
pub mod error;
pub mod import;
pub mod moodle;
pub mod phases;
pub mod routes;
pub mod scheduler;
pub mod security;
pub mod site;
pub mod store;
pub mod validate;
pub mod web_app;

use config::Config;
use store::Database;
use web_app::WebApp;

/// What every request handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// cohortsync's own database.
    pub db: Database,
    /// Where the site lives: the embedded store or a Moodle database.
    pub site: site::Site,
    /// Whether the session cookie is marked `Secure`.
    pub secure_cookies: bool,
    /// The site's own origin (`https://host[:port]`, from `--public-url`): unsafe requests
    /// with the session cookie must come from it. `None`: from the host they were sent to.
    pub public_origin: Option<String>,
    /// A reverse proxy whose `X-Forwarded-For` names the client (`--trusted-proxy`).
    pub trusted_proxy: Option<std::net::IpAddr>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// The sync folder's task: its folder and mail.
    pub sync: scheduler::SyncSetup,
}

impl AppState {
    /// The sync folder's task on this state's database and site.
    pub fn sync_task(&self) -> scheduler::Task {
        scheduler::Task {
            db: self.db.clone(),
            site: self.site.clone(),
            setup: self.sync.clone(),
        }
    }
}

/// The whole HTTP application: `/api/…` and the web app with client-side routes.
pub fn app(state: AppState, web_app: &WebApp) -> Router {
    let index = web_app.index_html().unwrap_or_default();
    let policy = axum::http::HeaderValue::from_str(&security::content_security_policy(&index))
        .unwrap_or_else(|_| axum::http::HeaderValue::from_static("default-src 'self'"));
    let api = routes::router()
        .layer(DefaultBodyLimit::max(state.max_body_bytes))
        // A bug that panics in a handler still answers the API's 500, and is logged.
        .layer(CatchPanicLayer::custom(|_panic| {
            tracing::error!("a request handler panicked");
            error::ApiError::Internal(anyhow::anyhow!("handler panicked")).into_response()
        }));
    Router::new()
        .nest("/api", api)
        .fallback_service(web_app.service())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::refuse_cross_site,
        ))
        .layer(axum::middleware::from_fn_with_state(
            policy,
            security::add_security_headers,
        ))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Connects to the database and serves until Ctrl-C or SIGTERM.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let db = Database::connect(&config.database_url).await?;
    if let Some(examples) = &config.demo_examples {
        // Printed, not logged: the person who asked for the demo reads it.
        print!("{}", demo::load(&db, examples).await?);
    }
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.bind))?;
    let address = listener.local_addr()?;
    tracing::info!(
        database = db.kind().as_str(),
        "cohortsync {}",
        cohortsync_shared::VERSION
    );
    // Printed, not logged: scripts and people starting the server read this line.
    println!("cohortsync is listening on http://{address}/");
    let site = connect_site(&config.moodle).await?;
    let state = AppState {
        db,
        site,
        secure_cookies: config.secure_cookies,
        public_origin: config.public_origin.clone(),
        trusted_proxy: config.trusted_proxy,
        max_body_bytes: config.max_body_bytes,
        sync: config.sync.clone(),
    };
    tokio::spawn(scheduler::schedule::run_on_schedule(state.sync_task()));
    let app = app(state, &config.web_app);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    Ok(())
}

/// The site backend the flags name: a Moodle database, checked before it is served, or
/// the embedded store.
pub async fn connect_site(args: &config::MoodleSiteArgs) -> anyhow::Result<site::Site> {
    let Some(url) = &args.moodle_db_url else {
        return Ok(site::Site::default());
    };
    let moodle = moodle::Moodle::connect(url, &args.moodle_prefix).await?;
    let check = moodle.check().await?;
    if !check.is_ready() {
        anyhow::bail!(
            "the Moodle database is not ready for cohortsync:\n{}",
            check.to_text()
        );
    }
    let actor = moodle.actor(args.moodle_actor.as_deref()).await?;
    tracing::info!(
        database = moodle.database().as_str(),
        release = check.release.as_deref().unwrap_or("unknown"),
        actor,
        "the site is a Moodle database"
    );
    Ok(site::Site::Moodle(std::sync::Arc::new(
        site::MoodleSite::new(
            moodle,
            args.moodle_component.clone(),
            actor,
            args.moodle_after_apply.clone(),
            check.release,
        ),
    )))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
