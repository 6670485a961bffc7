//! Callback blocks: told when a block run (`callbacks:` on a block) or the whole run
//! (`callbacks:` at the top of pipeline.yaml) ends in one of the ends they handle (`on:`).
//! They see the end as variables (`callback_status`, `callback_error`, `callback_block`) and,
//! after a success, the block's output as input. A failing callback is logged; it never
//! changes how the block or the run ended.

use std::collections::BTreeMap;

use weft_data::Table;
use weft_pipeline::{Block, End};
use weft_runtime::LogLevel;
use weft_store::{BlockStatus, RunStatus};

use crate::invoke::{invoke, Call};
use crate::local::RunContext;

/// How a block run ended, as its callbacks see it.
pub(crate) struct BlockEnded<'a> {
    pub(crate) key: &'a str,
    pub(crate) status: BlockStatus,
    pub(crate) error: Option<&'a str>,
    pub(crate) output: Option<&'a Table>,
}

fn end_of_block(status: BlockStatus) -> Option<End> {
    match status {
        BlockStatus::Success => Some(End::Success),
        BlockStatus::Failed => Some(End::Failure),
        BlockStatus::Cancelled => Some(End::Cancel),
        _ => None,
    }
}

fn end_of_run(status: RunStatus) -> Option<End> {
    match status {
        RunStatus::Success => Some(End::Success),
        RunStatus::Failed => Some(End::Failure),
        RunStatus::Cancelled => Some(End::Cancel),
        _ => None,
    }
}

/// Tell `block`'s callbacks how its run `ended`.
pub(crate) async fn for_block(
    run: &RunContext,
    block: &Block,
    ended: &BlockEnded<'_>,
    variables: &BTreeMap<String, String>,
) {
    let Some(end) = end_of_block(ended.status) else {
        return;
    };
    let inputs: Vec<(String, Table)> = match (end, ended.output) {
        (End::Success, Some(t)) => vec![(block.name.clone(), t.clone())],
        _ => Vec::new(),
    };
    for name in &block.flow.callbacks {
        tell(
            run,
            name,
            end,
            ended.key,
            ended.error,
            inputs.clone(),
            variables,
        )
        .await;
    }
}

/// Tell the pipeline's callbacks how the run ended.
pub(crate) async fn for_run(run: &RunContext, status: RunStatus, error: Option<&str>) {
    let Some(end) = end_of_run(status) else {
        return;
    };
    for name in &run.pipeline.callbacks {
        tell(run, name, end, "", error, Vec::new(), &run.variables).await;
    }
}

async fn tell(
    run: &RunContext,
    name: &str,
    end: End,
    key: &str,
    error: Option<&str>,
    inputs: Vec<(String, Table)>,
    variables: &BTreeMap<String, String>,
) {
    let Some(callback) = run.block(name) else {
        return;
    };
    if !callback.flow.on.contains(&end) {
        return;
    }
    let mut variables = variables.clone();
    variables.insert("callback_status".into(), end.to_string());
    variables.insert("callback_block".into(), key.to_string());
    if let Some(e) = error {
        variables.insert("callback_error".into(), e.to_string());
    }
    let log_key = if key.is_empty() {
        name.to_string()
    } else {
        format!("{name}({key})")
    };
    let call = Call {
        run,
        block: callback,
        log_key: &log_key,
        attempt: 1,
        inputs,
        variables,
        peak_memory: Default::default(),
    };
    match invoke(call).await {
        Ok(_) => run.log.note(
            &log_key,
            1,
            LogLevel::Info,
            format!("callback \"{name}\" told of {end}"),
        ),
        Err(f) => run.log.note(
            &log_key,
            1,
            LogLevel::Error,
            format!(
                "callback \"{name}\" failed (the outcome stands): {}",
                run.log.redact(&f.message)
            ),
        ),
    }
}
