//! `weft cancel RUN`: stop a run, whichever process drives it (a `weft serve`, a `weft run`),
//! or record it cancelled when no live process does.

use std::time::{Duration, Instant};

use weft_schedule::{now_ms, Instance};
use weft_store::{RunStatus, Store};

use super::render;
use crate::error::CliError;
use crate::project::Project;

/// How long `weft cancel` waits for the driving process to stop the run.
const WAIT: Duration = Duration::from_secs(60);

/// Arguments of `weft cancel`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run id, or `latest`.
    pub run: String,
}

/// Cancel the run and wait until it has stopped.
pub fn run(project: &Project, args: Args) -> Result<i32, CliError> {
    super::block_on(async {
        let store = Store::connect(&project.state_url()).await?;
        let run = render::resolve_run(&store, &args.run).await?;
        if !matches!(run.status, RunStatus::Queued | RunStatus::Running) {
            return Err(CliError::Usage(format!(
                "run {} already ended: {}",
                run.id, run.status
            )));
        }
        let now = now_ms();
        let live = store
            .open_runs()
            .await?
            .into_iter()
            .find(|o| o.run.id == run.id)
            .and_then(|o| o.instance)
            .is_some_and(|i| Instance::is_alive(&i, now));
        if !live {
            store
                .abandon_run(&run.id, RunStatus::Cancelled, "cancelled", now)
                .await?;
            eprintln!("run {} cancelled (no live weft process drove it)", run.id);
            return Ok(0);
        }
        if store.request_cancel(&run.id, now).await? {
            eprintln!("asked the weft process driving run {} to stop it", run.id);
        }
        let started = Instant::now();
        loop {
            let status = store.run(&run.id).await?.status;
            if status == RunStatus::Cancelled {
                eprintln!("run {} cancelled", run.id);
                return Ok(0);
            }
            if status != RunStatus::Queued && status != RunStatus::Running {
                return Err(CliError::Usage(format!(
                    "run {} ended {status} before the cancel reached it",
                    run.id
                )));
            }
            if started.elapsed() > WAIT {
                return Err(CliError::Usage(format!(
                    "run {} is still {status} after {}s; its process may be busy",
                    run.id,
                    WAIT.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
}
