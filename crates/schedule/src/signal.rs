//! Ctrl-C → cancellation of a run.

use tokio_util::sync::CancellationToken;

/// On the first Ctrl-C call `first` and cancel `token` (running blocks stop within an epoch
/// tick and the run is recorded as cancelled); on a second one call `second`.
pub fn cancel_on_ctrl_c(
    token: CancellationToken,
    first: impl FnOnce() + Send + 'static,
    second: impl FnOnce() + Send + 'static,
) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            first();
            token.cancel();
            if tokio::signal::ctrl_c().await.is_ok() {
                second();
            }
        }
    });
}
