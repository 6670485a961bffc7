//! What every command that drives runs (`run`, `retry`, `backfill`, `serve`) sets up and
//! tears down: the state store, an executor whose runs this process owns (a registered
//! instance with a heartbeat, and a watcher for cancels asked by other processes), and at
//! the end webhooks delivered, the instance retired, the store closed.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use weft_runtime::Runtime;
use weft_schedule::{Executor, Instance, Outputs};
use weft_store::Store;

use crate::error::CliError;
use crate::project::Project;

/// The store and executor of a process that drives runs.
pub(crate) struct Driver {
    /// The state store.
    pub(crate) store: Store,
    /// The executor; its runs belong to this process's instance.
    pub(crate) executor: Executor,
    instance: Instance,
    beating: CancellationToken,
}

impl Driver {
    /// Open the project's store and outputs, register this process as a `kind` instance.
    pub(crate) async fn start(
        project: &Project,
        runtime: &Arc<Runtime>,
        io: Arc<weft_io::IoContext>,
        kind: &str,
    ) -> Result<Driver, CliError> {
        let store = Store::connect(&project.state_url()).await?;
        let outputs = Outputs::local(&project.objects_dir())?;
        let instance = Instance::register(&store, kind).await?;
        let beating = CancellationToken::new();
        instance.keep_alive(beating.clone());
        let executor = Executor::new(runtime.clone(), store.clone(), outputs)
            .with_io(io)
            .with_owner(instance.id());
        executor.watch_cancels(beating.clone());
        Ok(Driver {
            store,
            executor,
            instance,
            beating,
        })
    }

    /// This process's instance id.
    pub(crate) fn owner(&self) -> &str {
        self.instance.id()
    }

    /// Deliver pending webhooks, retire the instance, close the store.
    pub(crate) async fn finish(self) {
        self.executor.notified().await;
        self.beating.cancel();
        self.instance.retire().await;
        self.store.close().await;
    }
}

/// A token Ctrl-C cancels (`what` names what stops); a second Ctrl-C quits at once.
pub(crate) fn cancel_on_ctrl_c(what: &'static str) -> CancellationToken {
    let cancel = CancellationToken::new();
    weft_schedule::cancel_on_ctrl_c(
        cancel.clone(),
        move || eprintln!("cancelling {what} (Ctrl-C again to quit at once)"),
        #[allow(clippy::disallowed_methods)]
        || std::process::exit(130),
    );
    cancel
}
