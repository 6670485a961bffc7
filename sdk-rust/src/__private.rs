//! Glue called by the attribute macros; not part of the public API.

use crate::bindings::weft::block::types::{Error as WitError, Table as Handle};
use crate::context::{Context, Inputs};
use crate::error::Result;
use crate::table::{IntoOutput, Table};

/// Adapt the WIT `run` export to a block function.
pub fn run<O: IntoOutput>(
    config: String,
    inputs: Vec<(String, Handle)>,
    f: fn(&Context, Inputs) -> Result<O>,
) -> std::result::Result<Option<Handle>, WitError> {
    let ctx = Context::new(config);
    let inputs = Inputs::new(
        inputs
            .into_iter()
            .map(|(n, h)| (n, Table::from_handle(h)))
            .collect(),
    );
    let out = f(&ctx, inputs).and_then(IntoOutput::into_output)?;
    Ok(out.map(Table::into_handle))
}

/// Adapt the WIT `run-test` export to the block's test functions.
pub fn run_test(
    name: &str,
    output: &Handle,
    tests: &[(&str, fn(&Table) -> Result<()>)],
) -> std::result::Result<(), String> {
    let test = tests
        .iter()
        .find(|(n, _)| *n == name)
        .ok_or_else(|| format!("no test named `{name}`"))?;
    (test.1)(Table::from_borrowed(output)).map_err(|e| e.to_string())
}
