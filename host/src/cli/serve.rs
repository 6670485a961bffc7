//! `weft serve`: the HTTP API, the cron scheduler and the executor in one process.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use weft_runtime::{Runtime, RuntimeConfig};
use weft_server::{AppState, Loaded};

use super::driver::Driver;
use super::progress::BuildProgress;
use crate::build::Builder;
use crate::error::CliError;
use crate::project::Project;

/// Arguments of `weft serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:6789")]
    pub bind: SocketAddr,
}

/// Build every pipeline, then serve until SIGINT/SIGTERM (a second signal stops runs at once).
pub fn run(project: &Project, args: Args) -> Result<i32, CliError> {
    let runtime = Arc::new(Runtime::new(&RuntimeConfig::default())?);
    let builder = Builder::new(&project.root, &runtime);
    let mut pipelines = BTreeMap::new();
    for name in project.pipeline_names() {
        let pipeline = Arc::new(project.pipeline(&name)?);
        let triggers = project.triggers(&name)?;
        let components = builder.build_pipeline(&pipeline, &BuildProgress::new())?;
        pipelines.insert(
            name,
            Loaded {
                pipeline,
                components,
                triggers,
            },
        );
    }
    let io = Arc::new(project.io()?);
    super::block_on(async {
        let driver = Driver::start(project, &runtime, io, "serve").await?;
        super::triggers::synced(project, &driver.store).await?;
        let state = AppState::new(driver.executor.clone(), pipelines)
            .with_api_token(std::env::var("WEFT_API_TOKEN").ok());
        if state.api_token().is_none() && !args.bind.ip().is_loopback() {
            eprintln!(
                "weft serve: warning: listening on {} without WEFT_API_TOKEN: anyone who reaches it can start and cancel runs",
                args.bind
            );
        }
        // Runs a crashed server left behind continue (or end failed, with the reason).
        let recovered = weft_server::recovery::recover(&state)
            .await
            .map_err(|e| CliError::Usage(format!("recovering interrupted runs: {e}")))?;
        if !recovered.resumed.is_empty() {
            eprintln!(
                "weft serve: resuming {} interrupted run(s): {}",
                recovered.resumed.len(),
                recovered.resumed.join(", ")
            );
        }
        for (id, reason) in &recovered.failed {
            eprintln!("weft serve: run {id} failed: {reason}");
        }
        let listener = tokio::net::TcpListener::bind(args.bind)
            .await
            .map_err(|e| CliError::Usage(format!("cannot listen on {}: {e}", args.bind)))?;
        let shutdown = CancellationToken::new();
        let abort = CancellationToken::new();
        on_signals(shutdown.clone(), abort.clone());
        eprintln!(
            "weft serve: listening on http://{} ({} pipelines)",
            listener.local_addr().map_or(args.bind, |a| a),
            state.pipelines().len()
        );
        weft_server::serve(listener, state, shutdown, abort)
            .await
            .map_err(|e| CliError::Io {
                path: "<server>".into(),
                source: e,
            })?;
        driver.finish().await;
        eprintln!("weft serve: stopped");
        Ok(0)
    })
}

/// First SIGINT/SIGTERM: stop taking work, let runs finish. Second: stop the runs.
fn on_signals(shutdown: CancellationToken, abort: CancellationToken) {
    #[allow(clippy::disallowed_methods)]
    tokio::spawn(async move {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return,
            };
        for token in [shutdown, abort] {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            eprintln!("weft serve: shutting down (again to stop running blocks)");
            token.cancel();
        }
    });
}
