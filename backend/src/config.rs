//! Server configuration: command-line flags with environment variable fallbacks.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::web_app::WebApp;

/// Where the database is: flags shared by every subcommand that opens it.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Directory for the server's own files (the SQLite database when no URL is given).
    #[arg(long, env = "COHORTSYNC_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Database URL: `sqlite://PATH` or `postgres://USER@HOST:PORT/DB`.
    /// Default: the SQLite file `cohortsync.db` in the data directory.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
}

impl DatabaseArgs {
    /// The database URL; creates the data directory for the default SQLite file.
    pub fn url(&self) -> anyhow::Result<String> {
        match &self.database_url {
            Some(url) => Ok(url.clone()),
            None => {
                std::fs::create_dir_all(&self.data_dir).with_context(|| {
                    format!(
                        "cannot create the data directory {}",
                        self.data_dir.display()
                    )
                })?;
                let file = self.data_dir.join("cohortsync.db");
                Ok(format!("sqlite://{}", file.display()))
            }
        }
    }
}

/// Flags of `cohortsync serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "COHORTSYNC_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Where the database is.
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Largest request body accepted, in bytes (uploaded files included).
    #[arg(long, env = "COHORTSYNC_MAX_BODY_BYTES", default_value_t = 50 * 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Load the demo university, demo accounts and example files first (once).
    #[arg(long, conflicts_with = "moodle_db_url")]
    pub demo: bool,

    /// Where the site is: a Moodle database instead of the embedded store.
    #[command(flatten)]
    pub moodle: MoodleSiteArgs,

    /// The sync folder's task.
    #[command(flatten)]
    pub sync: SyncFolderArgs,

    /// Mark the session cookie `Secure` (on by itself when --public-url is https).
    #[arg(long, env = "COHORTSYNC_SECURE_COOKIES")]
    pub secure_cookies: bool,

    /// The address people reach the server at, e.g. `https://cohorts.univ.example`: unsafe
    /// requests with the session cookie must come from its pages. Default: the host each
    /// request was sent to.
    #[arg(long, env = "COHORTSYNC_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// The address of a reverse proxy in front of the server (e.g. `127.0.0.1`): requests
    /// from it are counted for failed logins by the last address of their
    /// `X-Forwarded-For`, not as one client. Default: none, every peer is a client.
    #[arg(long, env = "COHORTSYNC_TRUSTED_PROXY")]
    pub trusted_proxy: Option<std::net::IpAddr>,

    /// Directory holding a built web app (`index.html` and the WASM bundle), served
    /// instead of the copy inside the binary: for development, after `trunk build`.
    #[arg(long, env = "COHORTSYNC_ASSETS_DIR")]
    pub assets_dir: Option<PathBuf>,
}

/// Flags of the sync folder's task (`serve` and `sync run`).
#[derive(Debug, Clone, Args)]
pub struct SyncFolderArgs {
    /// The sync folder, where the student information system drops its files. Default:
    /// `sync` in the data directory.
    #[arg(long, env = "COHORTSYNC_SYNC_DIR")]
    pub sync_dir: Option<PathBuf>,
    /// A file changed less than this many seconds ago is still being written: the task
    /// leaves it for its next run.
    #[arg(long, env = "COHORTSYNC_SYNC_SETTLE_SECONDS", default_value_t = 30)]
    pub sync_settle_seconds: u64,
    /// Larger files in the sync folder are not read (a report entry says so).
    #[arg(long, env = "COHORTSYNC_SYNC_MAX_FILE_BYTES", default_value_t = 200 * 1024 * 1024)]
    pub sync_max_file_bytes: u64,
    /// The SMTP server admins are mailed through when a scheduled file needs them:
    /// `smtp://host:25`, `smtp://user:password@host:587?tls=required`, `smtps://host:465`.
    /// Default: no mail.
    #[arg(long, env = "COHORTSYNC_SMTP_URL", requires = "mail_from")]
    pub smtp_url: Option<String>,
    /// The sender of that mail, e.g. `cohortsync <noreply@univ.example>`.
    #[arg(long, env = "COHORTSYNC_MAIL_FROM")]
    pub mail_from: Option<String>,
}

impl SyncFolderArgs {
    /// The task's setup: the folder (in `data_dir` by default), the mailer, and the
    /// address links in mail start with.
    pub fn setup(
        &self,
        data_dir: &std::path::Path,
        public_url: Option<String>,
    ) -> anyhow::Result<crate::scheduler::SyncSetup> {
        let folder = crate::scheduler::SyncFolder {
            dir: self
                .sync_dir
                .clone()
                .unwrap_or_else(|| data_dir.join("sync")),
            settle: std::time::Duration::from_secs(self.sync_settle_seconds),
            max_file_bytes: self.sync_max_file_bytes,
        };
        let mailer = match (&self.smtp_url, &self.mail_from) {
            (Some(url), Some(from)) => Some(crate::scheduler::Mailer::new(url, from)?),
            _ => {
                tracing::info!("no --smtp-url: the sync folder's task sends no mail");
                None
            }
        };
        Ok(crate::scheduler::SyncSetup {
            folder,
            mailer,
            public_url,
        })
    }
}

/// Flags that serve the site from a Moodle database (`cohortsync serve --moodle-db-url`).
#[derive(Debug, Clone, Default, Args)]
pub struct MoodleSiteArgs {
    /// The Moodle database the site is read from and applied into: `postgres://…` or
    /// `mysql://…` (MariaDB too). Default: the embedded store.
    #[arg(long, env = "COHORTSYNC_MOODLE_DB_URL")]
    pub moodle_db_url: Option<String>,
    /// The prefix of Moodle's tables (`$CFG->prefix`).
    #[arg(long, env = "COHORTSYNC_MOODLE_PREFIX", default_value = "mdl_")]
    pub moodle_prefix: String,
    /// The `component` of the cohorts cohortsync creates and manages in Moodle.
    #[arg(
        long,
        env = "COHORTSYNC_MOODLE_COMPONENT",
        default_value = "local_cohortsync"
    )]
    pub moodle_component: String,
    /// The Moodle username changes are made as (`modifierid`). Default: the first site
    /// admin.
    #[arg(long, env = "COHORTSYNC_MOODLE_ACTOR")]
    pub moodle_actor: Option<String>,
    /// A command run (with `sh -c`) after each apply's commit, for the caches Moodle keeps
    /// outside its database, e.g. `php /path/to/moodle/admin/cli/purge_caches.php`.
    #[arg(long, env = "COHORTSYNC_MOODLE_AFTER_APPLY")]
    pub moodle_after_apply: Option<String>,
}

/// A checked configuration, ready to serve.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address and port to listen on.
    pub bind: SocketAddr,
    /// Database URL (a SQLite file in the data directory when none was given).
    pub database_url: String,
    /// The web app to serve; it is known to have an `index.html`.
    pub web_app: WebApp,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Whether the session cookie is `Secure`.
    pub secure_cookies: bool,
    /// The site's own origin, from `--public-url`.
    pub public_origin: Option<String>,
    /// A reverse proxy whose `X-Forwarded-For` names the client.
    pub trusted_proxy: Option<std::net::IpAddr>,
    /// With `--demo`: where to write the example files.
    pub demo_examples: Option<PathBuf>,
    /// The Moodle database, when the site is one.
    pub moodle: MoodleSiteArgs,
    /// The sync folder's task.
    pub sync: crate::scheduler::SyncSetup,
}

impl ServeArgs {
    /// Checks the flags, creates the data directory, and fills in defaults.
    pub fn resolve(self) -> anyhow::Result<Config> {
        let web_app = WebApp::choose(self.assets_dir)?;
        let database_url = self.database.url()?;
        let public_origin = self
            .public_url
            .as_deref()
            .map(crate::security::origin_of)
            .transpose()?;
        let https = public_origin
            .as_deref()
            .is_some_and(|o| o.starts_with("https://"));
        let sync = self
            .sync
            .setup(&self.database.data_dir, public_origin.clone())?;
        Ok(Config {
            bind: self.bind,
            database_url,
            web_app,
            max_body_bytes: self.max_body_bytes,
            secure_cookies: self.secure_cookies || https,
            public_origin,
            trusted_proxy: self.trusted_proxy,
            demo_examples: self.demo.then(|| self.database.data_dir.join("examples")),
            moodle: self.moodle,
            sync,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn args(assets: &Path, data: &Path) -> ServeArgs {
        ServeArgs {
            bind: "127.0.0.1:0".parse().unwrap(),
            database: DatabaseArgs {
                data_dir: data.to_path_buf(),
                database_url: None,
            },
            max_body_bytes: 1024,
            demo: false,
            secure_cookies: false,
            public_url: None,
            trusted_proxy: None,
            assets_dir: Some(assets.to_path_buf()),
            moodle: MoodleSiteArgs::default(),
            sync: SyncFolderArgs {
                sync_dir: None,
                sync_settle_seconds: 30,
                sync_max_file_bytes: 1024,
                smtp_url: None,
                mail_from: None,
            },
        }
    }

    #[test]
    fn missing_assets_are_refused_with_how_to_build_them() {
        let dir = tempfile::tempdir().unwrap();
        let error = args(dir.path(), dir.path())
            .resolve()
            .unwrap_err()
            .to_string();
        assert!(error.contains("no index.html"), "{error}");
        assert!(error.contains("trunk build --release"), "{error}");
    }

    #[test]
    fn default_database_is_a_sqlite_file_in_the_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "<html></html>").unwrap();
        let data = dir.path().join("nested/data");
        let config = args(dir.path(), &data).resolve().unwrap();
        assert_eq!(
            config.database_url,
            format!("sqlite://{}", data.join("cohortsync.db").display())
        );
        assert!(data.is_dir());
    }
}
