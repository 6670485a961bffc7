//! A block for tests and benchmarks. `config.mode` picks what it does:
//!
//! | mode      | behaviour                                                        |
//! |-----------|------------------------------------------------------------------|
//! | `rows`    | output `rows` rows: `id` (Int64), `value` (Float64 = id / 2)     |
//! | `pass`    | output the first input unchanged (no copy into the guest)        |
//! | `copy`    | copy the first input into the guest and back (a full round trip) |
//! | `sum`     | one row: total rows and sum of `value` over all inputs           |
//! | `noop`    | no output                                                        |
//! | `sleep`   | sleep `ms` milliseconds, then output one row                     |
//! | `print_sleep` | print `message` to stdout, then as `sleep`                   |
//! | `trap`    | panic                                                            |
//! | `spin`    | loop forever                                                     |
//! | `hog`     | allocate until memory runs out                                   |
//! | `flaky`   | fail while the attempt number is at most `fail_times`            |
//! | `bad_ipc` | hand the host bytes that are not Arrow IPC                       |
//! | `error`   | return an error with `message`                                   |
//! | `poison`  | like `rows`, plus a `poison` column that fails the block's test  |
//! | `vars`    | one row per requested variable name: name, value                 |
//! | `sql`     | `sql` over the inputs (as `self` and by block name), host engine |
//! | `read`    | `weft_sdk::io::read(url, options)`                               |
//! | `write`   | `weft_sdk::io::write(first input, target, options)`; one row     |
//! | `query`   | `weft_sdk::io::query(profile, sql)`                              |
//! | `connect` | open a TCP connection to `url` (`host:port`); one row: `outcome` |
//! | `lookup`  | resolve the host name `url`; one row: `outcome`                  |
//! | `setting` | `weft_sdk::io::setting(profile, message)`; one row: `outcome`    |
//! | `log_flood` | `rows` log lines of `message`                                  |
//! | `hoard_tables` | hand the host `rows` tables of 250,000 rows, keeping them all |
//! | `answer`  | a sensor's or condition's answer: variable `var` = `equals`, else attempt > `after`, else `value` |
//! | `fail_if` | fail with `message` when variable `var` = `equals`, else as `pass` |
use std::sync::Arc;

use weft_sdk::arrow_array::{Array, Float64Array, Int64Array, StringArray};
use weft_sdk::prelude::*;

#[derive(serde::Deserialize)]
struct Config {
    mode: String,
    #[serde(default)]
    rows: i64,
    #[serde(default)]
    ms: u64,
    #[serde(default)]
    fail_times: u32,
    #[serde(default)]
    message: String,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    sql: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    profile: String,
    #[serde(default)]
    options: serde_json::Value,
    #[serde(default)]
    var: String,
    #[serde(default)]
    equals: String,
    #[serde(default)]
    after: u32,
    #[serde(default)]
    value: Option<bool>,
}

fn rows(n: i64, poison: bool) -> Result<RecordBatch> {
    let mut fields = vec![
        Field::new("id", DataType::Int64, false),
        Field::new("value", DataType::Float64, false),
    ];
    let mut columns: Vec<Arc<dyn Array>> = vec![
        Arc::new(Int64Array::from_iter_values(0..n)),
        Arc::new(Float64Array::from_iter_values(
            (0..n).map(|i| i as f64 / 2.0),
        )),
    ];
    if poison {
        fields.push(Field::new("poison", DataType::Int64, false));
        columns.push(Arc::new(Int64Array::from_iter_values(0..n)));
    }
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

#[transformer(tests(no_poison))]
fn probe(ctx: &Context, mut inputs: Inputs) -> Result<Option<Table>> {
    let cfg: Config = ctx.config()?;
    match cfg.mode.as_str() {
        "rows" => Ok(Some(Table::from_batch(&rows(cfg.rows, false)?)?)),
        "poison" => Ok(Some(Table::from_batch(&rows(cfg.rows, true)?)?)),
        "pass" => {
            let first = inputs.iter().next().map(|(n, _)| n.to_string());
            match first {
                Some(name) => Ok(Some(inputs.take(&name)?)),
                None => Ok(None),
            }
        }
        "copy" => {
            let batches = inputs.first()?.to_batches()?;
            let schema = match batches.first() {
                Some(b) => b.schema(),
                None => Arc::new(Schema::empty()),
            };
            Ok(Some(Table::from_batches(schema, &batches)?))
        }
        "sum" => {
            let mut count = 0i64;
            let mut total = 0f64;
            for (_, t) in inputs.iter() {
                let b = t.to_batch()?;
                count += b.num_rows() as i64;
                if let Some(v) = b
                    .column_by_name("value")
                    .and_then(|c| c.as_any().downcast_ref::<Float64Array>())
                {
                    total += v.iter().flatten().sum::<f64>();
                }
            }
            ctx.info(format!("sum of {count} rows is {total}"));
            let schema = Arc::new(Schema::new(vec![
                Field::new("rows", DataType::Int64, false),
                Field::new("total", DataType::Float64, false),
            ]));
            let b = RecordBatch::try_new(
                schema,
                vec![
                    Arc::new(Int64Array::from(vec![count])),
                    Arc::new(Float64Array::from(vec![total])),
                ],
            )?;
            Ok(Some(Table::from_batch(&b)?))
        }
        "noop" => Ok(None),
        "sleep" => {
            std::thread::sleep(std::time::Duration::from_millis(cfg.ms));
            Ok(Some(Table::from_batch(&rows(1, false)?)?))
        }
        "print_sleep" => {
            println!("{}", cfg.message);
            std::thread::sleep(std::time::Duration::from_millis(cfg.ms));
            Ok(Some(Table::from_batch(&rows(1, false)?)?))
        }
        "sleep_first" => {
            // Slow on the first attempt only: an interrupted first attempt is re-run quickly.
            if ctx.variable("attempt").as_deref() == Some("1") {
                std::thread::sleep(std::time::Duration::from_millis(cfg.ms));
            }
            Ok(Some(Table::from_batch(&rows(1, false)?)?))
        }
        "trap" => panic!("probe panicked on purpose"),
        "spin" => {
            let mut x = 0u64;
            loop {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        }
        "hog" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(vec![7u8; 8 << 20]);
                ctx.debug(format!("holding {} MiB", hoard.len() * 8));
            }
        }
        "flaky" => {
            let attempt: u32 = ctx
                .variable("attempt")
                .and_then(|a| a.parse().ok())
                .unwrap_or(0);
            if attempt <= cfg.fail_times {
                return Err(Error::Io(format!("flaky failure on attempt {attempt}")));
            }
            ctx.info(format!("succeeded on attempt {attempt}"));
            Ok(Some(Table::from_batch(&rows(3, false)?)?))
        }
        "bad_ipc" => Ok(Some(Table::from_ipc(b"this is not an Arrow IPC stream")?)),
        "error" => Err(Error::Failed(cfg.message)),
        "answer" => {
            let attempt: u32 = ctx.variable("attempt").and_then(|a| a.parse().ok()).unwrap_or(1);
            let yes = if !cfg.var.is_empty() {
                ctx.variable(&cfg.var).as_deref() == Some(cfg.equals.as_str())
            } else if cfg.after > 0 {
                attempt > cfg.after
            } else {
                cfg.value.unwrap_or(true)
            };
            ctx.info(format!("answer {yes} (attempt {attempt})"));
            yes.into_output()
        }
        "fail_if" => {
            if ctx.variable(&cfg.var).as_deref() == Some(cfg.equals.as_str()) {
                return Err(Error::Failed(cfg.message));
            }
            let first = inputs.iter().next().map(|(n, _)| n.to_string());
            match first {
                Some(name) => Ok(Some(inputs.take(&name)?)),
                None => Ok(None),
            }
        }
        "vars" => {
            let values: Vec<Option<String>> = cfg.names.iter().map(|n| ctx.variable(n)).collect();
            let schema = Arc::new(Schema::new(vec![
                Field::new("name", DataType::Utf8, false),
                Field::new("value", DataType::Utf8, true),
            ]));
            let b = RecordBatch::try_new(
                schema,
                vec![
                    Arc::new(StringArray::from_iter_values(cfg.names.iter())),
                    Arc::new(StringArray::from(values)),
                ],
            )?;
            Ok(Some(Table::from_batch(&b)?))
        }
        "sql" => {
            let mut tables: Vec<(&str, &Table)> = inputs.iter().collect();
            if let Some(&(_, first)) = tables.first() {
                tables.push(("self", first));
            }
            Ok(Some(weft_sdk::sql(&cfg.sql, &tables)?))
        }
        "read" => Ok(Some(weft_sdk::io::read(&cfg.url, &cfg.options)?)),
        "write" => {
            let summary = weft_sdk::io::write(inputs.first()?, &cfg.target, &cfg.options)?;
            let rows = summary["rows"].as_i64().unwrap_or(-1);
            ctx.info(format!("wrote {rows} rows to {}", cfg.target));
            let schema = Arc::new(Schema::new(vec![Field::new("rows", DataType::Int64, false)]));
            let b = RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![rows]))])?;
            Ok(Some(Table::from_batch(&b)?))
        }
        "query" => Ok(Some(weft_sdk::io::query(&cfg.profile, &cfg.sql)?)),
        "connect" => outcome(match std::net::TcpStream::connect(cfg.url.as_str()) {
            Ok(mut s) => {
                use std::io::Write;
                let _ = s.write_all(b"hello from a block\n");
                "ok: connected".to_string()
            }
            Err(e) => format!("error: {e}"),
        }),
        "lookup" => {
            use std::net::ToSocketAddrs;
            outcome(match (cfg.url.as_str(), 80).to_socket_addrs() {
                Ok(addrs) => format!("ok: {:?}", addrs.collect::<Vec<_>>()),
                Err(e) => format!("error: {e}"),
            })
        }
        "setting" => outcome(match weft_sdk::io::setting(&cfg.profile, &cfg.message) {
            Ok(v) => format!("ok: {v:?}"),
            Err(e) => format!("error: {e}"),
        }),
        "log_flood" => {
            for _ in 0..cfg.rows {
                ctx.info(&cfg.message);
            }
            Ok(None)
        }
        "hoard_tables" => {
            let batch = rows(250_000, false)?;
            let mut kept = Vec::new();
            for i in 0..cfg.rows {
                kept.push(Table::from_batch(&batch)?);
                ctx.debug(format!("holding {} tables", i + 1));
            }
            Ok(kept.pop())
        }
        other => Err(Error::InvalidInput(format!("unknown mode `{other}`"))),
    }
}

/// One row, one column: `outcome`.
fn outcome(text: String) -> Result<Option<Table>> {
    let schema = Arc::new(Schema::new(vec![Field::new("outcome", DataType::Utf8, false)]));
    let b = RecordBatch::try_new(schema, vec![Arc::new(StringArray::from(vec![text]))])?;
    Ok(Some(Table::from_batch(&b)?))
}

#[test_block]
fn no_poison(output: &Table) -> Result<()> {
    ensure(
        !output.columns().iter().any(|c| c.name == "poison"),
        "the output has a `poison` column",
    )
}
