//! Run-end webhooks: a JSON summary of the run POSTed to the pipeline's `on_failure` or
//! `on_success` URL, retried with exponential backoff.

use std::time::Duration;

use serde_json::{json, Value};
use weft_pipeline::Pipeline;
use weft_store::RunStatus;

use crate::executor::RunSummary;

/// Deliveries tried before giving up.
pub(crate) const ATTEMPTS: u32 = 5;
/// Wait before the first retry; doubled before each next one.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// Time one delivery may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The webhook a finished run goes to, if its pipeline has one for its outcome.
pub(crate) fn target(pipeline: &Pipeline, status: RunStatus) -> Option<&str> {
    match status {
        RunStatus::Success => pipeline.notify.on_success.as_deref(),
        RunStatus::Failed => pipeline.notify.on_failure.as_deref(),
        _ => None,
    }
}

/// The JSON a webhook receives.
pub(crate) fn payload(
    pipeline: &Pipeline,
    trigger: &str,
    summary: &RunSummary,
    error: Option<&str>,
) -> Value {
    json!({
        "event": format!("run_{}", summary.status),
        "pipeline": pipeline.name,
        "run_id": summary.run_id,
        "status": summary.status,
        "trigger": trigger,
        "error": error,
        "blocks": summary.blocks.iter().map(|b| json!({
            "block": b.block,
            "status": b.status,
            "attempts": b.attempts,
            "rows": b.rows,
            "duration_ms": b.duration.as_millis() as u64,
            "error": b.error,
        })).collect::<Vec<_>>(),
    })
}

/// `url` as logs show it: scheme and host only, since webhook paths often hold tokens.
pub(crate) fn shown(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => format!("{}://{}/…", u.scheme(), u.host_str().unwrap_or("?")),
        Err(_) => "<webhook>".into(),
    }
}

/// POST `body` to `url` until it answers 2xx or [`ATTEMPTS`] run out. Returns the number
/// of attempts made, or why the last one failed.
pub(crate) async fn deliver(url: &str, body: &Value) -> Result<u32, String> {
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .map_err(|e| e.to_string())?;
    let mut backoff = FIRST_BACKOFF;
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        match client
            .post(url)
            .header("user-agent", concat!("weft/", env!("CARGO_PKG_VERSION")))
            .json(body)
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => return Ok(attempt),
            Ok(r) => last = format!("answered {}", r.status()),
            // The URL may hold a token (Slack, Discord): never in messages.
            Err(e) => last = e.without_url().to_string(),
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
    }
    Err(format!("gave up after {ATTEMPTS} attempts: {last}"))
}
