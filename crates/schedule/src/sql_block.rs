//! SQL blocks: a `.sql` file rendered as a Jinja template (`{{ df_1 }}`, `{{ execution_date }}`,
//! `{{ variables('name') }}`) and run by the host's engine over the upstream outputs, or in a
//! profile's Postgres database.

use std::collections::BTreeMap;
use std::path::Path;

use minijinja::{Environment, UndefinedBehavior, Value};
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
) -> Result<Table, SqlFailure> {
    let fail = |message: String, retryable: bool| SqlFailure { message, retryable };
    let written = block.source.written();
    let text = std::fs::read_to_string(file).map_err(|e| {
        fail(
            format!("block \"{}\": cannot read {written}: {e}", block.name),
            false,
        )
    })?;
    let query = render(block, &text, variables)
        .map_err(|e| fail(format!("block \"{}\" ({written}): {e}", block.name), false))?;
    match &block.engine {
        Engine::DataFusion => weft_data::sql(&query, inputs).map_err(|e| {
            fail(
                format!("block \"{}\" ({written}): SQL error: {e}", block.name),
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

/// Fill in the template: `df_1`… name the upstream tables (quoted), other names are run
/// variables; an unknown name is an error naming it and its line.
fn render(
    block: &Block,
    text: &str,
    variables: &BTreeMap<String, String>,
) -> Result<String, String> {
    if !text.contains("{{") && !text.contains("{%") {
        return Ok(text.to_string());
    }
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    let vars = variables.clone();
    env.add_function(
        "variables",
        move |name: String| -> Result<String, minijinja::Error> {
            vars.get(&name).cloned().ok_or_else(|| {
                minijinja::Error::new(
                    minijinja::ErrorKind::UndefinedError,
                    format!("no run variable `{name}`"),
                )
            })
        },
    );
    let mut ctx: BTreeMap<String, Value> = variables
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
        .collect();
    for (i, up) in block.upstream.iter().enumerate() {
        ctx.insert(
            format!("df_{}", i + 1),
            Value::from(format!("\"{}\"", up.replace('"', "\"\""))),
        );
    }
    let known = |name: &str| name == "variables" || ctx.contains_key(name);
    let template = env
        .template_from_str(text)
        .map_err(|e| describe(&e, block, variables))?;
    let mut unknown: Vec<String> = template
        .undeclared_variables(false)
        .into_iter()
        .filter(|n| !known(n))
        .collect();
    unknown.sort();
    if let Some(name) = unknown.first() {
        let line = text
            .lines()
            .position(|l| l.contains(name.as_str()))
            .map(|i| format!("line {}: ", i + 1))
            .unwrap_or_default();
        return Err(format!(
            "template {line}unknown name `{name}`; names available: {}",
            names(block, variables)
        ));
    }
    template
        .render(&ctx)
        .map_err(|e| describe(&e, block, variables))
}

/// The names a template may use.
fn names(block: &Block, variables: &BTreeMap<String, String>) -> String {
    (1..=block.upstream.len())
        .map(|i| format!("df_{i}"))
        .chain(variables.keys().cloned())
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe(e: &minijinja::Error, block: &Block, variables: &BTreeMap<String, String>) -> String {
    let line = e.line().map(|l| format!("line {l}: ")).unwrap_or_default();
    let detail = e
        .detail()
        .map(str::to_string)
        .unwrap_or_else(|| e.kind().to_string());
    format!(
        "template {line}{detail}; names available: {}",
        names(block, variables)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(upstream: &[&str]) -> Block {
        let dir = std::env::temp_dir();
        let file = dir.join("weft-sql-block-test.sql");
        std::fs::write(&file, "select 1").unwrap();
        let yaml = format!(
            "blocks:\n  - {{ name: q, kind: transformer, source: {}, upstream: [{}] }}\n{}",
            file.display(),
            upstream.join(", "),
            upstream
                .iter()
                .map(|u| format!(
                    "  - {{ name: {u}, kind: loader, source: {} }}\n",
                    file.display()
                ))
                .collect::<String>()
        );
        let p = weft_pipeline::parse(&yaml, Path::new("p.yaml"), &dir, "p").unwrap();
        p.block("q").unwrap().clone()
    }

    #[test]
    fn placeholders_name_upstreams_and_variables() {
        let b = block(&["trips", "zones"]);
        let vars = BTreeMap::from([("day".to_string(), "2021-01-01".to_string())]);
        let out = render(
            &b,
            "SELECT * FROM {{ df_1 }} JOIN {{ df_2 }} USING (z) WHERE d = '{{ day }}' AND e = '{{ variables('day') }}'",
            &vars,
        )
        .unwrap();
        assert_eq!(
            out,
            "SELECT * FROM \"trips\" JOIN \"zones\" USING (z) WHERE d = '2021-01-01' AND e = '2021-01-01'"
        );
    }

    #[test]
    fn unknown_names_are_reported_with_their_line() {
        let b = block(&["trips"]);
        let e = render(&b, "SELECT *\nFROM {{ df_2 }}", &BTreeMap::new()).unwrap_err();
        assert!(
            e.contains("line 2: unknown name `df_2`") && e.contains("df_1"),
            "{e}"
        );
    }
}
