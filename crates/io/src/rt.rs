//! The IO layer's own Tokio runtime: network and database work runs here, driven from the
//! blocking threads that block host calls and SQL blocks run on.

use std::future::Future;
use std::sync::OnceLock;

use crate::error::IoError;
use crate::limits;

/// Worker threads of the IO runtime (network waits, not compute).
const IO_THREADS: usize = 2;

/// The process-wide IO runtime.
pub(crate) fn handle() -> &'static tokio::runtime::Runtime {
    static IO: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    IO.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(IO_THREADS)
            .thread_name("weft-io")
            .enable_all()
            .build()
            .expect("start the IO runtime")
    })
}

/// Run `future` to completion on the IO runtime from a thread that may block.
pub fn block_on<F: Future>(future: F) -> F::Output {
    handle().block_on(future)
}

/// Run `future` on the IO runtime within the current call's limits: past its deadline, or
/// when its run is cancelled, the future is dropped (its request or query with it) and the
/// call stops with the breach.
///
/// # Errors
/// The future's own error, or [`IoError::Stopped`].
pub(crate) fn run<T>(future: impl Future<Output = Result<T, IoError>>) -> Result<T, IoError> {
    let Some(meter) = limits::current() else {
        return handle().block_on(future);
    };
    meter.check()?;
    handle().block_on(async {
        let watch = async {
            loop {
                tokio::time::sleep(limits::WATCH_EVERY).await;
                if let Err(b) = meter.check() {
                    return b;
                }
            }
        };
        tokio::select! {
            done = future => done,
            breach = watch => Err(IoError::Stopped(breach)),
        }
    })
}
