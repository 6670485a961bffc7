//! One Mage block (and trigger) as weft sees it: its kind, file, flow settings and grants.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::emit::{BlockEntry, GrantsEntry, TriggerEntry};
use super::grants::{self, Needs};
use super::model::{self, MageBlock, MagePipeline};
use super::report::{grant_lines, BlockReport, Finding};
use super::{Ctx, ImportError};

/// Statements that write, for SQL blocks.
const WRITES: &[&str] = &[
    "insert", "update", "delete", "create", "drop", "alter", "truncate", "merge", "grant",
];

/// A mapped block: its manifest entry and file (path in the weft project, bytes), or neither
/// when it was left out; and its report.
type Mapped = (Option<BlockEntry>, Option<(PathBuf, Vec<u8>)>, BlockReport);

/// The pipeline a block is mapped in.
pub struct Pipe<'a> {
    /// Its folder name.
    pub name: &'a str,
    /// Its metadata.
    pub meta: &'a MagePipeline,
    /// Its variables, as weft's strings.
    pub variables: BTreeMap<String, String>,
    /// Variables whose Mage value was not text (numbers, booleans, lists): the Mage API hands
    /// them to blocks decoded again.
    pub typed: Vec<String>,
}

/// Map Mage block `b` of pipeline `pipe`.
///
/// # Errors
/// [`ImportError::Io`] when its file exists but cannot be read.
pub fn map(ctx: &Ctx, b: &MageBlock, pipe: &Pipe) -> Result<Mapped, ImportError> {
    let file = b.file();
    let mut report = BlockReport {
        pipeline: pipe.name.to_string(),
        block: b.uuid.clone(),
        kind: String::new(),
        grants: Vec::new(),
        findings: Vec::new(),
    };
    let (kind, bytes) = match weft_kind(b, &file).and_then(|k| Ok((k, block_file(ctx, b, &file)?)))
    {
        Ok(found) => found,
        Err(Left::Out(finding)) => {
            report.findings.push(finding);
            return Ok((None, None, report));
        }
        Err(Left::Io(e)) => return Err(e),
    };
    let (needs, engine) = if b.language() == "python" {
        let path = ctx.src.join(&file);
        match ctx.facts.get(&path) {
            Some(f) => {
                let (needs, findings) = grants::python(&file, f, &pipe.variables, ctx.modules);
                report.findings.extend(findings);
                (needs, None)
            }
            None => {
                report.findings.push(Finding::hand(
                    &file,
                    0,
                    "Python could not read the file; check it by hand".into(),
                ));
                (Needs::default(), None)
            }
        }
    } else {
        sql(
            b,
            &file,
            &String::from_utf8_lossy(&bytes),
            &mut report.findings,
        )
    };
    report.kind = kind.to_string();
    report.grants = grant_lines(&needs);
    if let Some(e) = b
        .executor_type
        .as_deref()
        .filter(|e| !e.starts_with("local_python"))
    {
        report.findings.push(Finding::note(
            &file,
            0,
            format!("executor_type `{e}` ignored: it runs in weft's sandbox"),
        ));
    }
    let dest = PathBuf::from("blocks").join(&file);
    // Typed variables the block reads: the Mage API decodes them again.
    let typed: Vec<String> = ctx
        .facts
        .get(&ctx.src.join(&file))
        .map(|f| {
            pipe.typed
                .iter()
                .filter(|t| f.variables.iter().any(|v| &v.name == *t))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let entry = entry(b, pipe, kind, &dest, engine, &needs, &typed);
    Ok((Some(entry), Some((dest, bytes)), report))
}

/// Why a block is left out: a finding, or a file that could not be read.
enum Left {
    Out(Finding),
    Io(ImportError),
}

/// The weft kind of `b`, or why it has none.
fn weft_kind(b: &MageBlock, file: &Path) -> Result<&'static str, Left> {
    let out = |f: Finding| Err(Left::Out(f));
    let kind = match b.kind.as_str() {
        "data_loader" => "loader",
        "transformer" => "transformer",
        "data_exporter" => "exporter",
        "sensor" => "sensor",
        "conditional" => "condition",
        "callback" => "callback",
        "custom" if b.upstream_blocks.is_empty() => "loader",
        "custom" => "transformer",
        "scratchpad" | "markdown" | "chart" => {
            return out(Finding::note(
                file,
                0,
                format!("a {} block is not a step of a run; left out", b.kind),
            ));
        }
        other => {
            return out(Finding::hand(
                file,
                0,
                format!("`{other}` blocks have no weft counterpart; left out"),
            ));
        }
    };
    let language = b.language();
    if !matches!(language, "python" | "sql") {
        let what = match language {
            "r" => "an R",
            "yaml" => "a YAML (data integration)",
            "markdown" => "a Markdown",
            _ => "this language's",
        };
        return out(Finding::hand(
            file,
            0,
            format!("{what} block cannot run in weft (Python and SQL blocks do); left out"),
        ));
    }
    Ok(kind)
}

/// The bytes of the block's file, once it is known to be a `.py`/`.sql` file inside the Mage
/// project (not a dotfile, not `io_config.yaml`).
fn block_file(ctx: &Ctx, b: &MageBlock, file: &Path) -> Result<Vec<u8>, Left> {
    let out = |reason: &str| Err(Left::Out(Finding::hand(file, 0, reason.to_string())));
    if !inside(ctx.src, file) {
        return out("the block's file lies outside the Mage project (an absolute path, `..` or a link out); left out");
    }
    let ext = if b.language() == "sql" { "sql" } else { "py" };
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if name.starts_with('.') || file.extension().and_then(|e| e.to_str()) != Some(ext) {
        return out(&format!(
            "the block's file is not a `.{ext}` file; left out"
        ));
    }
    let path = ctx.src.join(file);
    if !path.is_file() {
        return out("the block's file is missing; left out");
    }
    std::fs::read(&path).map_err(|source| Left::Io(ImportError::Io { path, source }))
}

/// The manifest entry of a mapped block.
fn entry(
    b: &MageBlock,
    pipe: &Pipe,
    kind: &str,
    dest: &Path,
    engine: Option<String>,
    needs: &Needs,
    typed: &[String],
) -> BlockEntry {
    let retry = b
        .retry_config
        .clone()
        .or_else(|| pipe.meta.retry_config.clone())
        .unwrap_or_default();
    let timeout = b
        .timeout
        .as_ref()
        .map(model::scalar)
        .filter(|t| t.parse::<u64>().is_ok());
    let attached = matches!(kind, "condition" | "callback");
    // Inputs that come from a fan-out: Mage hands each child the item, not a table.
    let items: Vec<usize> = b
        .upstream_blocks
        .iter()
        .enumerate()
        .filter(|(_, u)| {
            pipe.meta
                .blocks
                .iter()
                .any(|x| &x.uuid == *u && x.flag("dynamic"))
        })
        .map(|(i, _)| i)
        .collect();
    let mut mage = serde_json::Map::new();
    if !items.is_empty() && !attached {
        mage.insert("items".into(), serde_json::json!(items));
    }
    if !typed.is_empty() {
        mage.insert("typed".into(), serde_json::json!(typed));
    }
    BlockEntry {
        name: b.uuid.clone(),
        kind: kind.to_string(),
        source: dest.to_string_lossy().replace('\\', "/"),
        // Conditions and callbacks run attached to a block: they have no upstream of their own.
        upstream: if attached {
            Vec::new()
        } else {
            b.upstream_blocks.clone()
        },
        dynamic: b.flag("dynamic"),
        reduce: b.flag("reduce_output"),
        conditions: b.conditional_blocks.clone(),
        callbacks: b.callback_blocks.clone(),
        engine,
        retries: retry.retries.filter(|r| *r > 0),
        retry_delay: retry
            .delay
            .filter(|d| *d > 0.0 && retry.retries.unwrap_or(0) > 0)
            .map(|d| format!("{}s", d.ceil() as u64)),
        timeout: timeout.map(|t| format!("{t}s")),
        config: (!mage.is_empty()).then(|| serde_json::json!({ "mage": mage })),
        grants: GrantsEntry::from(needs),
    }
}

/// Whether `file` (relative, as metadata.yaml gives it) names a file inside `root`: plain
/// folder names only, and no link that leads out.
pub(super) fn inside(root: &Path, file: &Path) -> bool {
    use std::path::Component;
    if !file.components().all(|c| matches!(c, Component::Normal(_))) {
        return false;
    }
    match (root.canonicalize(), root.join(file).canonicalize()) {
        (Ok(r), Ok(f)) => f.starts_with(r),
        // A missing file is reported as missing.
        (Ok(_), Err(_)) => true,
        _ => false,
    }
}

/// Grants and engine of a SQL block, from its `configuration`.
fn sql(
    b: &MageBlock,
    file: &Path,
    text: &str,
    findings: &mut Vec<Finding>,
) -> (Needs, Option<String>) {
    let mut needs = Needs::default();
    let provider = b.setting("data_provider");
    match provider.as_deref() {
        None => {
            findings.push(Finding::note(
                file,
                0,
                "no data_provider: runs in weft's own engine over the upstream outputs".into(),
            ));
            (needs, None)
        }
        Some("postgres") => {
            let profile = b
                .setting("data_provider_profile")
                .unwrap_or_else(|| "default".into());
            needs.profiles.insert(profile.clone());
            let lower = text.to_lowercase();
            let writes = lower
                .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                .any(|w| WRITES.contains(&w));
            if writes {
                findings.push(Finding::hand(
                    file,
                    0,
                    format!("its SQL may write (it names a writing statement); weft runs SQL blocks read-only unless `grants.write` covers the whole database: add `postgres://{profile}/` if it must write"),
                ));
            }
            if !b.flag("use_raw_sql") {
                if let Some(table) = b.setting("data_provider_table") {
                    let schema = b
                        .setting("data_provider_schema")
                        .unwrap_or_else(|| "public".into());
                    findings.push(Finding::note(file, 0, format!(
                        "Mage also stored the result as {schema}.{table}; weft keeps it as the block's output (add an exporter to keep the table)"
                    )));
                }
            }
            (needs, Some(format!("postgres:{profile}")))
        }
        Some(other) => {
            findings.push(Finding::hand(file, 0, format!(
                "its SQL runs in `{other}`; weft runs SQL blocks in its own engine or in Postgres: port the query or load the data first"
            )));
            (needs, None)
        }
    }
}

/// Take blocks that were left out out of every list that names them, saying so.
pub fn drop_missing(entries: &mut [BlockEntry], reports: &mut [BlockReport], meta: &Path) {
    let present: BTreeSet<String> = entries.iter().map(|e| e.name.clone()).collect();
    for e in entries.iter_mut() {
        let mut gone = Vec::new();
        for list in [&mut e.upstream, &mut e.conditions, &mut e.callbacks] {
            list.retain(|n| {
                let keep = present.contains(n);
                if !keep {
                    gone.push(n.clone());
                }
                keep
            });
        }
        if let Some(r) = reports.iter_mut().find(|r| r.block == e.name) {
            for g in gone {
                r.findings.push(Finding::hand(
                    meta,
                    0,
                    format!("`{g}`, which it follows or uses, was left out; so is that link"),
                ));
            }
        }
    }
}

/// The pipeline's Mage triggers as weft triggers; what does not map is noted.
///
/// # Errors
/// [`ImportError::Mage`] for a `triggers.yaml` that does not parse.
pub fn triggers(
    src: &Path,
    pipeline: &str,
    notes: &mut Vec<Finding>,
) -> Result<Vec<TriggerEntry>, ImportError> {
    let file = PathBuf::from("pipelines")
        .join(pipeline)
        .join("triggers.yaml");
    let mut out = Vec::new();
    let mut taken = BTreeSet::new();
    for t in model::triggers(src, pipeline)? {
        let name: String = t
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        // Names are unique within a pipeline's triggers: "Daily load" and "daily_load" differ.
        let base = if name.is_empty() {
            "trigger".to_string()
        } else {
            name
        };
        let mut name = base.clone();
        let mut n = 2;
        while !taken.insert(name.clone()) {
            name = format!("{base}_{n}");
            n += 1;
        }
        let variables = t
            .variables
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), model::scalar(v)))
            .collect();
        if t.status.as_deref() == Some("inactive") {
            notes.push(Finding::note(
                &file,
                0,
                format!("trigger `{}` is inactive in Mage; left out", t.name),
            ));
            continue;
        }
        let entry = match t.schedule_type.as_deref().unwrap_or("time") {
            "api" => TriggerEntry {
                name,
                kind: "api".into(),
                variables,
                ..Default::default()
            },
            "time" => {
                let interval = t.schedule_interval.clone().unwrap_or_default();
                let cron = match interval.as_str() {
                    "@hourly" => "0 * * * *".to_string(),
                    "@daily" => "0 0 * * *".to_string(),
                    "@weekly" => "0 0 * * 0".to_string(),
                    "@monthly" => "0 0 1 * *".to_string(),
                    s if !s.starts_with('@') && !s.is_empty() => s.to_string(),
                    other => {
                        notes.push(Finding::hand(&file, 0, format!("trigger `{}`: interval `{other}` has no schedule; run it with `weft run` or an API trigger", t.name)));
                        continue;
                    }
                };
                let start = t
                    .start_time
                    .as_ref()
                    .map(model::scalar)
                    .filter(|s| !s.is_empty())
                    .map(|s| s.replacen(' ', "T", 1));
                // A time without an offset is UTC, as Mage reads it.
                let start = start.map(|s| {
                    let time = s.split_once('T').map_or("", |(_, t)| t);
                    if s.ends_with('Z')
                        || time.contains('+')
                        || time.contains('-')
                        || time.is_empty()
                    {
                        s
                    } else {
                        format!("{s}Z")
                    }
                });
                TriggerEntry {
                    name,
                    kind: "schedule".into(),
                    cron: Some(cron),
                    start,
                    variables,
                }
            }
            other => {
                notes.push(Finding::hand(&file, 0, format!("trigger `{}`: `{other}` triggers have no weft counterpart; use an API trigger", t.name)));
                continue;
            }
        };
        out.push(entry);
    }
    Ok(out)
}
