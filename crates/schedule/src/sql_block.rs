//! SQL blocks: a `.sql` file rendered as a Jinja template (see [`crate::sql_template`]) and
//! run by the host's engine over the upstream outputs, or in a profile's Postgres database.

use std::collections::BTreeMap;
use std::path::Path;

use weft_data::Table;
use weft_io::BlockIo;
use weft_pipeline::{Block, Engine};

/// Why a SQL block failed, and whether trying again could help.
pub(crate) struct SqlFailure {
    pub(crate) message: String,
    pub(crate) retryable: bool,
}

/// Run SQL block `block` from `file` over `inputs` (upstream outputs, named after their blocks).
pub(crate) fn run(
    block: &Block,
    file: &Path,
    inputs: &[(String, Table)],
    variables: &BTreeMap<String, String>,
    io: Option<&BlockIo>,
    limits: &weft_data::QueryLimits,
) -> Result<Table, SqlFailure> {
    let fail = |message: String, retryable: bool| SqlFailure { message, retryable };
    let written = block.source.written();
    let text = std::fs::read_to_string(file).map_err(|e| {
        fail(
            format!("block \"{}\": cannot read {written}: {e}", block.name),
            false,
        )
    })?;
    let query = crate::sql_template::render(block, &text, variables)
        .map_err(|e| fail(format!("block \"{}\" ({written}): {e}", block.name), false))?;
    match &block.engine {
        Engine::DataFusion => weft_data::sql(&query, inputs, limits).map_err(|e| {
            let what = match e {
                weft_data::DataError::Query(_) => "SQL error: ",
                _ => "",
            };
            fail(
                format!("block \"{}\" ({written}): {what}{e}", block.name),
                false,
            )
        }),
        Engine::Postgres { profile } => {
            let io = io.ok_or_else(|| {
                fail(
                    format!("block \"{}\": this run has no io profiles", block.name),
                    false,
                )
            })?;
            io.query(profile, &query, inputs).map_err(|e| {
                let retryable = e.kind() == "io";
                fail(
                    format!("block \"{}\" ({written}): {e}", block.name),
                    retryable,
                )
            })
        }
    }
}
