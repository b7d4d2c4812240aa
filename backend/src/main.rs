//! The `cohortsync` binary: parses the command line and runs the chosen subcommand.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = cohortsync_backend::cli::Cli::parse();
    cohortsync_backend::cli::init_tracing();
    match cohortsync_backend::cli::run(cli).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
