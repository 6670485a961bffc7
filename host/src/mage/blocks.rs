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

/// Map Mage block `b` of pipeline `p`.
///
/// # Errors
/// [`ImportError::Io`] when its file exists but cannot be read.
pub fn map(
    ctx: &Ctx,
    b: &MageBlock,
    p: &MagePipeline,
    variables: &BTreeMap<String, String>,
    pipeline: &str,
) -> Result<Mapped, ImportError> {
    let file = b.file();
    let mut report = BlockReport {
        pipeline: pipeline.to_string(),
        block: b.uuid.clone(),
        kind: String::new(),
        grants: Vec::new(),
        findings: Vec::new(),
    };
    let left_out = |mut report: BlockReport, finding: Finding| {
        report.findings.push(finding);
        Ok((None, None, report))
    };
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
            return left_out(
                report,
                Finding::note(
                    &file,
                    0,
                    format!("a {} block is not a step of a run; left out", b.kind),
                ),
            );
        }
        other => {
            return left_out(
                report,
                Finding::hand(
                    &file,
                    0,
                    format!("`{other}` blocks have no weft counterpart; left out"),
                ),
            );
        }
    };
    let language = b.language();
    if !matches!(language, "python" | "sql") {
        return left_out(
            report,
            Finding::hand(
                &file,
                0,
                format!(
                    "{} block cannot run in weft (Python and SQL blocks do); left out",
                    match language {
                        "r" => "an R",
                        "yaml" => "a YAML (data integration)",
                        "markdown" => "a Markdown",
                        _ => "this language's",
                    }
                ),
            ),
        );
    }
    let path = ctx.src.join(&file);
    if !inside(ctx.src, &file) {
        return left_out(
            report,
            Finding::hand(
                &file,
                0,
                "the block's file lies outside the Mage project (an absolute path, `..` or a link out); left out".into(),
            ),
        );
    }
    if !path.is_file() {
        return left_out(
            report,
            Finding::hand(&file, 0, "the block's file is missing; left out".into()),
        );
    }
    let bytes = std::fs::read(&path).map_err(|source| ImportError::Io {
        path: path.clone(),
        source,
    })?;
    let (needs, engine) = if language == "python" {
        let facts = ctx.facts.get(&path).map_or_else(Default::default, |f| {
            grants::python(&file, f, variables, ctx.modules)
        });
        report.findings.extend(facts.1);
        (facts.0, None)
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
    let retry = b
        .retry_config
        .clone()
        .or_else(|| p.retry_config.clone())
        .unwrap_or_default();
    let timeout = b
        .timeout
        .as_ref()
        .map(model::scalar)
        .filter(|t| t.parse::<u64>().is_ok());
    let dest = PathBuf::from("blocks").join(&file);
    let entry = BlockEntry {
        name: b.uuid.clone(),
        kind: kind.to_string(),
        source: dest.to_string_lossy().replace('\\', "/"),
        upstream: b.upstream_blocks.clone(),
        dynamic: b.flag("dynamic"),
        reduce: b.flag("reduce_output"),
        conditions: b.conditional_blocks.clone(),
        callbacks: b.callback_blocks.clone(),
        engine,
        retries: retry.retries.filter(|r| *r > 0),
        retry_delay: retry
            .delay
            .filter(|_| retry.retries.unwrap_or(0) > 0)
            .map(|d| format!("{d}s")),
        timeout: timeout.map(|t| format!("{t}s")),
        grants: GrantsEntry::from(&needs),
    };
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
    Ok((Some(entry), Some((dest, bytes)), report))
}

/// Whether `file` (relative, as metadata.yaml gives it) names a file inside `root`: plain
/// folder names only, and no link that leads out.
fn inside(root: &Path, file: &Path) -> bool {
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
                needs.write.insert(format!("postgres://{profile}/"));
                findings.push(Finding::note(file, 0, format!(
                    "its SQL writes, so it is granted the whole database of profile `{profile}`; narrow `grants.write` if it needs less"
                )));
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
                let start = start.map(|s| if s.len() == 19 { format!("{s}Z") } else { s });
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
