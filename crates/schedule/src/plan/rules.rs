//! Trigger rules: given how a block's upstream block runs ended, does it run, and if not,
//! which status does it take.

use weft_pipeline::TriggerRule;

use super::Status;

/// What a block run whose upstream block runs have all ended does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// It runs.
    Run,
    /// It takes this status without running, for this reason.
    Not(Status, String),
}

/// Apply `rule` to the final statuses of a block run's upstream block runs (`upstream` names
/// each). A block without upstream blocks runs.
pub(crate) fn decide(rule: TriggerRule, upstream: &[(&str, Status)]) -> Verdict {
    if upstream.is_empty() {
        return Verdict::Run;
    }
    let first = |want: &[Status]| {
        upstream
            .iter()
            .find(|(_, s)| want.contains(s))
            .map(|(n, _)| *n)
    };
    if let Some(n) = first(&[Status::Cancelled]) {
        return Verdict::Not(
            Status::Cancelled,
            format!("upstream block \"{n}\" was cancelled"),
        );
    }
    let failed = first(&[Status::Failed, Status::UpstreamFailed]);
    let skipped = first(&[Status::Skipped]);
    let any_success = upstream.iter().any(|(_, s)| *s == Status::Success);
    let upstream_failed = |n: &str| {
        Verdict::Not(
            Status::UpstreamFailed,
            format!("upstream block \"{n}\" failed"),
        )
    };
    let upstream_skipped = |n: &str| {
        Verdict::Not(
            Status::Skipped,
            format!("upstream block \"{n}\" was skipped"),
        )
    };
    match rule {
        TriggerRule::AllDone => Verdict::Run,
        TriggerRule::AllSuccess => match (failed, skipped) {
            (Some(n), _) => upstream_failed(n),
            (None, Some(n)) => upstream_skipped(n),
            (None, None) => Verdict::Run,
        },
        TriggerRule::NoneFailed => match failed {
            Some(n) => upstream_failed(n),
            None => Verdict::Run,
        },
        TriggerRule::OneSuccess => match (any_success, failed, skipped) {
            (true, _, _) => Verdict::Run,
            (false, Some(n), _) => upstream_failed(n),
            (false, None, Some(n)) => upstream_skipped(n),
            (false, None, None) => Verdict::Run,
        },
    }
}
