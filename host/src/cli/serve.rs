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
    /// Address to listen on. Beyond loopback, the API needs a token: WEFT_API_TOKEN, or
    /// one created in `.weft/api-token` on first start.
    #[arg(long, default_value = "127.0.0.1:6789")]
    pub bind: SocketAddr,
    /// Another host name the server answers to (repeatable; `*` for any), for clients that
    /// reach it by a DNS name. Loopback names and the bound address always work; requests
    /// naming any other host are refused (no DNS rebinding).
    #[arg(long = "allow-host", value_name = "NAME")]
    pub allow_hosts: Vec<String>,
}

/// Build every pipeline, then serve until SIGINT/SIGTERM (a second signal stops runs at once).
pub fn run(project: &Project, args: Args) -> Result<i32, CliError> {
    let runtime = Arc::new(Runtime::new(&RuntimeConfig::default())?);
    let builder = Builder::new(&project.root, &runtime);
    let mut pipelines = BTreeMap::new();
    for name in project.pipeline_names() {
        // One pipeline that does not load does not keep the others from being served: it is
        // listed with its problem and loaded once its files change.
        match load(project, &builder, &name) {
            Ok(l) => {
                pipelines.insert(name, l);
            }
            Err(e) => eprintln!(
                "weft serve: pipeline {name} does not load (it is served once its files are fixed): {e}"
            ),
        }
    }
    let io = Arc::new(project.io()?.with_private_port(args.bind.port()));
    super::block_on(async {
        let driver = Driver::start(project, &runtime, io, "serve").await?;
        super::triggers::synced_but(project, &driver.store, true).await?;
        let token = api_token(project, &args)?;
        let workspace = super::workspace::ProjectWorkspace::new(project.clone(), runtime.clone());
        let state = AppState::new(driver.executor.clone(), pipelines)
            .with_workspace(Arc::new(workspace))
            .with_api_token(token)
            .with_allowed_hosts(allowed_hosts(&args));
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

/// Read, validate and build pipeline `name`.
fn load(project: &Project, builder: &Builder<'_>, name: &str) -> Result<Loaded, CliError> {
    let pipeline = Arc::new(project.pipeline(name)?);
    let triggers = project.triggers(name)?;
    let components = builder.build_pipeline(&pipeline, &BuildProgress::new())?;
    Ok(Loaded {
        pipeline,
        components,
        triggers,
        provisional: false,
    })
}

/// The API token: WEFT_API_TOKEN; else, when listening beyond loopback, the one in
/// `.weft/api-token`, created (readable by the owner only) on first start.
fn api_token(project: &Project, args: &Args) -> Result<Option<String>, CliError> {
    if let Some(t) = std::env::var("WEFT_API_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
    {
        return Ok(Some(t));
    }
    if args.bind.ip().is_loopback() {
        return Ok(None);
    }
    let path = project.dot_weft().join("api-token");
    let io = |source| CliError::Io {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(t) if !t.trim().is_empty() => {
            eprintln!(
                "weft serve: listening beyond loopback: the API needs the token in {}",
                path.display()
            );
            return Ok(Some(t.trim().to_string()));
        }
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
        _ => {}
    }
    let token: String = (0..32)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect();
    std::fs::create_dir_all(project.dot_weft()).map_err(io)?;
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .map_err(io)?;
        writeln!(f, "{token}").map_err(io)?;
    }
    eprintln!(
        "weft serve: listening beyond loopback: created an API token in {}; send `Authorization: Bearer <it>`",
        path.display()
    );
    Ok(Some(token))
}

/// Host names the server answers to besides loopback: the bound address and `--allow-host`.
fn allowed_hosts(args: &Args) -> Vec<String> {
    let mut hosts = args.allow_hosts.clone();
    let ip = args.bind.ip();
    if !ip.is_unspecified() {
        hosts.push(match ip {
            std::net::IpAddr::V4(v4) => v4.to_string(),
            std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        });
    }
    hosts
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
