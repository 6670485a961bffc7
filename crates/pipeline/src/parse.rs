//! `pipeline.yaml` → [`Pipeline`]: reads the YAML, checks every field, resolves sources and
//! orders the DAG, collecting one error per problem.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_yaml::{Mapping, Value};

use crate::dag::Dag;
use crate::error::{closest, ManifestError, ManifestErrors};
use crate::model::*;

mod flow;

const TOP_FIELDS: &[&str] = &[
    "name",
    "description",
    "concurrency",
    "max_active_runs",
    "on_failure",
    "on_success",
    "variables",
    "callbacks",
    "blocks",
];
const BLOCK_FIELDS: &[&str] = &[
    "name",
    "kind",
    "source",
    "upstream",
    "config",
    "description",
    "retries",
    "retry_delay",
    "timeout",
    "memory_limit",
    "read_limit",
    "grants",
    "engine",
];

/// Read and validate the manifest at `file`. Relative `source:` paths resolve against
/// `project_root`; the pipeline's default name is the manifest's folder name.
///
/// # Errors
/// Every problem found, each naming the file and block.
pub fn load(file: &Path, project_root: &Path) -> Result<Pipeline, ManifestErrors> {
    let text = std::fs::read_to_string(file).map_err(|e| ManifestError::Read {
        file: file.to_path_buf(),
        reason: e.to_string(),
    })?;
    let default_name = file
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pipeline".into());
    parse(&text, file, project_root, &default_name)
}

/// Validate manifest `text` as if read from `file`.
///
/// # Errors
/// Every problem found, each naming the file and block.
pub fn parse(
    text: &str,
    file: &Path,
    project_root: &Path,
    default_name: &str,
) -> Result<Pipeline, ManifestErrors> {
    let mut cx = Cx {
        file: file.to_path_buf(),
        root: project_root.to_path_buf(),
        errors: Vec::new(),
    };
    let value: Value = serde_yaml::from_str(text).map_err(|e| cx.syntax(e.to_string()))?;
    let Value::Mapping(top) = value else {
        return Err(cx
            .syntax("the top level must be a mapping with a `blocks:` list".into())
            .into());
    };
    cx.unknown_fields(&top, TOP_FIELDS, None);
    let name = cx
        .field::<String>(&top, "name", None)
        .unwrap_or_else(|| default_name.to_string());
    let description = cx.field::<String>(&top, "description", None);
    let concurrency = cx
        .field::<usize>(&top, "concurrency", None)
        .unwrap_or(DEFAULT_CONCURRENCY);
    if concurrency == 0 {
        cx.invalid(None, "concurrency", "must be at least 1".into());
    }
    let max_active_runs = cx.field::<usize>(&top, "max_active_runs", None);
    if max_active_runs == Some(0) {
        cx.invalid(None, "max_active_runs", "must be at least 1".into());
    }
    let on_failure = cx.webhook(&top, "on_failure");
    let on_success = cx.webhook(&top, "on_success");
    let variables = cx.variables(&top);
    let blocks = match top.get("blocks") {
        None => {
            cx.errors.push(ManifestError::MissingField {
                file: cx.file.clone(),
                block: None,
                field: "blocks".into(),
            });
            Vec::new()
        }
        Some(Value::Sequence(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| cx.block(i, item))
            .collect(),
        Some(_) => {
            cx.invalid(None, "blocks", "must be a list of blocks".into());
            Vec::new()
        }
    };
    let callbacks = match top.get("callbacks") {
        Some(Value::String(s)) => vec![s.clone()],
        _ => cx
            .field::<Vec<String>>(&top, "callbacks", None)
            .unwrap_or_default(),
    };
    let mut blocks = cx.link(blocks);
    cx.check_flow(&mut blocks, &callbacks);
    if !cx.errors.is_empty() {
        return Err(ManifestErrors(cx.errors));
    }
    Ok(Pipeline {
        name,
        file: file.to_path_buf(),
        description,
        concurrency,
        max_active_runs,
        notify: Notify {
            on_failure,
            on_success,
        },
        variables,
        callbacks,
        blocks,
    })
}

/// Parsing context: the file being read and the problems found so far.
struct Cx {
    file: PathBuf,
    root: PathBuf,
    errors: Vec<ManifestError>,
}

impl Cx {
    fn syntax(&self, reason: String) -> ManifestError {
        ManifestError::Syntax {
            file: self.file.clone(),
            reason,
        }
    }

    fn invalid(&mut self, block: Option<&str>, field: &str, reason: String) {
        self.errors.push(ManifestError::InvalidField {
            file: self.file.clone(),
            block: block.map(str::to_string),
            field: field.to_string(),
            reason,
        });
    }

    /// An optional `http(s)://` URL to POST run summaries to.
    fn webhook(&mut self, top: &Mapping, field: &str) -> Option<String> {
        let url = self.field::<String>(top, field, None)?;
        if url.starts_with("http://") || url.starts_with("https://") {
            Some(url)
        } else {
            self.invalid(
                None,
                field,
                format!("`{url}` is not an http:// or https:// URL"),
            );
            None
        }
    }

    fn unknown_fields(&mut self, map: &Mapping, valid: &[&str], block: Option<&str>) {
        for key in map.keys() {
            let key = match key {
                Value::String(s) => s.clone(),
                other => format!("{other:?}"),
            };
            if !valid.contains(&key.as_str()) {
                self.errors.push(ManifestError::UnknownField {
                    file: self.file.clone(),
                    block: block.map(str::to_string),
                    suggestion: closest(&key, valid.iter().copied()),
                    field: key,
                    valid: valid.join(", "),
                });
            }
        }
    }

    /// Deserialize an optional field, recording an error naming it on failure.
    fn field<T: DeserializeOwned>(
        &mut self,
        map: &Mapping,
        key: &str,
        block: Option<&str>,
    ) -> Option<T> {
        let value = map.get(key)?;
        match serde_yaml::from_value::<T>(value.clone()) {
            Ok(v) => Some(v),
            Err(e) => {
                self.invalid(block, key, e.to_string());
                None
            }
        }
    }

    fn variables(&mut self, top: &Mapping) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        match top.get("variables") {
            None | Some(Value::Null) => {}
            Some(Value::Mapping(m)) => {
                for (k, v) in m {
                    match (k.as_str(), scalar(v)) {
                        (Some(k), Some(v)) => {
                            out.insert(k.to_string(), v);
                        }
                        _ => self.invalid(
                            None,
                            "variables",
                            format!("{k:?}: names must be strings and values scalars"),
                        ),
                    }
                }
            }
            Some(_) => self.invalid(None, "variables", "must be a mapping of name: value".into()),
        }
        out
    }

    /// `grants:`; the removed `secrets:` list is named with what to use instead.
    fn grants(&mut self, map: &Mapping, block: Option<&str>) -> Option<Grants> {
        if let Some(Value::Mapping(g)) = map.get("grants") {
            if g.contains_key("secrets") {
                self.invalid(
                    block,
                    "grants.secrets",
                    "blocks never see io profile secrets: weft uses them on the block's behalf when it is granted the profile (`profiles: [name]`); pass a value into the block with `env: [NAME]` instead".into(),
                );
                let mut g = g.clone();
                g.remove("secrets");
                let mut m = map.clone();
                m.insert("grants".into(), Value::Mapping(g));
                return self.field::<Grants>(&m, "grants", block);
            }
        }
        self.field::<Grants>(map, "grants", block)
    }

    /// One entry of `blocks:`; `None` when it is too broken to take part in linking.
    fn block(&mut self, index: usize, item: &Value) -> Option<RawBlock> {
        let Value::Mapping(map) = item else {
            self.invalid(
                Some(&format!("#{}", index + 1)),
                "blocks",
                "each block must be a mapping with at least `name`, `kind` and `source`".into(),
            );
            return None;
        };
        let name = match map.get("name") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
            Some(_) => {
                self.invalid(
                    Some(&format!("#{}", index + 1)),
                    "name",
                    "must be a non-empty string".into(),
                );
                format!("#{}", index + 1)
            }
            None => {
                self.missing(&format!("#{}", index + 1), "name");
                format!("#{}", index + 1)
            }
        };
        let b = Some(name.as_str());
        let valid: Vec<&str> = BLOCK_FIELDS.iter().chain(flow::FIELDS).copied().collect();
        self.unknown_fields(map, &valid, b);
        let kind = self.kind(map, &name);
        let flow = self.flow(map, &name, kind);
        let source = self.source(map, &name);
        let upstream = self.upstream(map, &name);
        let config = match map.get("config") {
            None | Some(Value::Null) => serde_json::Value::Object(Default::default()),
            Some(v) => match serde_json::to_value(v) {
                Ok(j) => j,
                Err(e) => {
                    self.invalid(b, "config", format!("cannot be expressed as JSON: {e}"));
                    serde_json::Value::Null
                }
            },
        };
        let retries = self.field::<u32>(map, "retries", b).unwrap_or(0);
        if retries > MAX_RETRIES {
            self.invalid(
                b,
                "retries",
                format!("{retries} is more than the maximum {MAX_RETRIES}"),
            );
        }
        let retry_delay = self
            .duration(map, "retry_delay", &name)
            .unwrap_or(Duration::ZERO);
        let timeout = self
            .duration(map, "timeout", &name)
            .unwrap_or(DEFAULT_TIMEOUT);
        if timeout.is_zero() {
            self.invalid(
                b,
                "timeout",
                "must be longer than zero, e.g. `30s` or `10m`".into(),
            );
        }
        let memory_limit = self
            .size(
                map,
                &name,
                "memory_limit",
                MIN_MEMORY_LIMIT..=MAX_MEMORY_LIMIT,
            )
            .unwrap_or(DEFAULT_MEMORY_LIMIT);
        let read_limit = self
            .size(map, &name, "read_limit", MIN_MEMORY_LIMIT..=u64::MAX)
            .unwrap_or(DEFAULT_READ_LIMIT);
        let grants = self.grants(map, b).unwrap_or_default();
        self.check_urls(&grants, &name);
        let engine = self.engine(map, &name, source.as_ref(), &grants);
        Some(RawBlock {
            block: Block {
                name,
                kind: kind.unwrap_or(Kind::Transformer),
                source: source.unwrap_or(Source::Wasm {
                    path: PathBuf::new(),
                    written: String::new(),
                }),
                upstream,
                config,
                retries,
                retry_delay,
                timeout,
                memory_limit,
                read_limit,
                grants,
                engine,
                flow,
                unset: ["timeout", "memory_limit", "read_limit", "retries"]
                    .into_iter()
                    .filter(|k| !map.contains_key(*k))
                    .collect(),
            },
        })
    }

    /// `engine:` of a SQL block: `datafusion` (default) or `postgres:<profile>`, whose profile
    /// must be granted.
    fn engine(
        &mut self,
        map: &Mapping,
        block: &str,
        source: Option<&Source>,
        grants: &Grants,
    ) -> Engine {
        let Some(v) = map.get("engine") else {
            return Engine::DataFusion;
        };
        if !matches!(
            source,
            Some(Source::Sql { .. } | Source::Package { .. }) | None
        ) {
            self.invalid(
                Some(block),
                "engine",
                "only SQL blocks (a .sql source) choose an engine".into(),
            );
            return Engine::DataFusion;
        }
        let text = scalar(v).unwrap_or_default();
        let engine = match text.trim().split_once(':') {
            None if text.trim() == "datafusion" => Engine::DataFusion,
            Some(("postgres", profile)) if !profile.trim().is_empty() => Engine::Postgres {
                profile: profile.trim().to_string(),
            },
            _ => {
                self.invalid(
                    Some(block),
                    "engine",
                    format!(
                        "`{text}` is not an engine; valid: `datafusion` or `postgres:<profile>`"
                    ),
                );
                return Engine::DataFusion;
            }
        };
        if let Engine::Postgres { profile } = &engine {
            if !grants.profiles.contains(profile) {
                self.invalid(
                    Some(block),
                    "engine",
                    format!(
                        "`{text}` uses io profile \"{profile}\", which the block is not granted; add `grants: {{ profiles: [{profile}] }}`"
                    ),
                );
            }
        }
        engine
    }

    /// URL grants must be absolute URLs with a scheme, so prefixes cannot be ambiguous; write
    /// grants name folders or database tables, and their profile must be granted.
    fn check_urls(&mut self, grants: &Grants, block: &str) {
        for u in &grants.urls {
            let ok = u.split_once("://").is_some_and(|(scheme, rest)| {
                !scheme.is_empty()
                    && (!rest.is_empty() || matches!(scheme, "file" | "s3" | "gs" | "local"))
            });
            if !ok {
                self.invalid(
                    Some(block),
                    "grants.urls",
                    format!("`{u}` is not a URL prefix; write e.g. `https://example.com/data/`, `s3://bucket/`, `file:///srv/data/`"),
                );
            }
        }
        for w in &grants.write {
            let Some((scheme, rest)) = w.split_once("://") else {
                self.invalid(
                    Some(block),
                    "grants.write",
                    format!("`{w}` is not a write target; write e.g. `local://exports/`, `gs://lake/raw/`, `postgres://default/ny_taxi`, `bigquery://gcs/dataset`"),
                );
                continue;
            };
            match scheme {
                "file" | "local" | "s3" | "gs" => {}
                "postgres" | "bigquery" => {
                    let profile = rest.split('/').next().unwrap_or("");
                    if profile.is_empty() {
                        self.invalid(
                            Some(block),
                            "grants.write",
                            format!("`{w}` names no io profile; write `{scheme}://<profile>/…`"),
                        );
                    } else if !grants.profiles.iter().any(|p| p == profile) {
                        self.invalid(
                            Some(block),
                            "grants.write",
                            format!("`{w}` writes through io profile \"{profile}\", which the block is not granted; add `profiles: [{profile}]`"),
                        );
                    }
                }
                other => self.invalid(
                    Some(block),
                    "grants.write",
                    format!("`{w}`: cannot write to {other}://; valid: file://, local://, s3://, gs://, postgres://, bigquery://"),
                ),
            }
        }
    }

    fn missing(&mut self, block: &str, field: &str) {
        self.errors.push(ManifestError::MissingField {
            file: self.file.clone(),
            block: Some(block.to_string()),
            field: field.to_string(),
        });
    }

    fn kind(&mut self, map: &Mapping, block: &str) -> Option<Kind> {
        let Some(v) = map.get("kind") else {
            self.missing(block, "kind");
            return None;
        };
        let text = scalar(v).unwrap_or_default();
        let found = Kind::ALL.iter().find(|k| k.as_str() == text).copied();
        if found.is_none() {
            let valid: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
            let hint = closest(&text, valid.iter().copied())
                .map(|s| format!("; did you mean \"{s}\"?"))
                .unwrap_or_default();
            self.invalid(
                Some(block),
                "kind",
                format!(
                    "unknown kind `{text}`; valid kinds: {}{hint}",
                    valid.join(", ")
                ),
            );
        }
        found
    }

    fn source(&mut self, map: &Mapping, block: &str) -> Option<Source> {
        let Some(v) = map.get("source") else {
            self.missing(block, "source");
            return None;
        };
        let Some(written) = v.as_str().filter(|s| !s.trim().is_empty()) else {
            self.invalid(
                Some(block),
                "source",
                "must be a path, e.g. `blocks/clean`".into(),
            );
            return None;
        };
        match resolve_source(&self.root, written) {
            Ok(s) => Some(s),
            Err(reason) => {
                self.errors.push(ManifestError::BadSource {
                    file: self.file.clone(),
                    block: block.to_string(),
                    source_path: written.to_string(),
                    reason,
                });
                None
            }
        }
    }

    fn upstream(&mut self, map: &Mapping, block: &str) -> Vec<String> {
        match map.get("upstream") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(v) => self
                .field::<Vec<String>>(
                    &Mapping::from_iter([("upstream".into(), v.clone())]),
                    "upstream",
                    Some(block),
                )
                .unwrap_or_default(),
        }
    }

    fn duration(&mut self, map: &Mapping, key: &str, block: &str) -> Option<Duration> {
        let v = map.get(key)?;
        let parsed = match v {
            Value::Number(n) => n
                .as_f64()
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(Duration::from_secs_f64)
                .ok_or_else(|| format!("`{n}` is not a number of seconds")),
            Value::String(s) => humantime::parse_duration(s.trim()).map_err(|e| {
                format!("`{s}` is not a duration ({e}); write e.g. `500ms`, `30s`, `5m`, `1h`")
            }),
            _ => Err("must be a duration such as `30s` or a number of seconds".into()),
        };
        parsed.map_err(|r| self.invalid(Some(block), key, r)).ok()
    }

    /// A size field (`256MiB`, `2GiB`) within `range`.
    fn size(
        &mut self,
        map: &Mapping,
        block: &str,
        field: &str,
        range: std::ops::RangeInclusive<u64>,
    ) -> Option<u64> {
        let v = map.get(field)?;
        let text = scalar(v).unwrap_or_default();
        let bytes = match text.trim().parse::<bytesize::ByteSize>() {
            Ok(b) => b.as_u64(),
            Err(e) => {
                self.invalid(
                    Some(block),
                    field,
                    format!("`{text}` is not a size ({e}); write e.g. `256MiB` or `2GiB`"),
                );
                return None;
            }
        };
        if !range.contains(&bytes) {
            let shown = |b: u64| match b {
                b if b % (1 << 30) == 0 => format!("{}GiB", b >> 30),
                b => format!("{}MiB", b >> 20),
            };
            let why = if *range.end() == u64::MAX {
                format!("it must be at least {}", shown(*range.start()))
            } else {
                format!(
                    "it must be between {} and {}",
                    shown(*range.start()),
                    shown(*range.end())
                )
            };
            self.invalid(
                Some(block),
                field,
                format!("`{text}` is out of range: {why}"),
            );
            return None;
        }
        Some(bytes)
    }

    /// Check names and edges across blocks and return them in topological order.
    fn link(&mut self, raw: Vec<RawBlock>) -> Vec<Block> {
        let mut position: HashMap<&str, usize> = HashMap::new();
        for (i, r) in raw.iter().enumerate() {
            if let Some(&first) = position.get(r.block.name.as_str()) {
                self.errors.push(ManifestError::DuplicateBlock {
                    file: self.file.clone(),
                    block: r.block.name.clone(),
                    first: first + 1,
                    second: i + 1,
                });
            } else {
                position.insert(&r.block.name, i);
            }
        }
        let mut edges = Vec::with_capacity(raw.len());
        for r in &raw {
            let mut ups = Vec::new();
            for u in &r.block.upstream {
                match position.get(u.as_str()) {
                    Some(&p) => ups.push(p),
                    None => self.errors.push(ManifestError::UnknownUpstream {
                        file: self.file.clone(),
                        block: r.block.name.clone(),
                        upstream: u.clone(),
                        suggestion: closest(u, position.keys().copied()),
                    }),
                }
            }
            edges.push(ups);
        }
        let dag = Dag::new(raw.len(), &edges);
        let cycles = dag.cycles();
        for cycle in &cycles {
            self.errors.push(ManifestError::Cycle {
                file: self.file.clone(),
                blocks: cycle.iter().map(|&i| raw[i].block.name.clone()).collect(),
            });
        }
        if !cycles.is_empty() {
            return Vec::new();
        }
        let mut slots: Vec<Option<RawBlock>> = raw.into_iter().map(Some).collect();
        dag.order()
            .into_iter()
            .filter_map(|i| slots[i].take().map(|r| r.block))
            .collect()
    }
}

/// A block whose own fields were read; edges not yet checked.
struct RawBlock {
    block: Block,
}

/// A YAML scalar as text.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Whether `s` can be a package namespace or name: an OCI path component,
/// `[a-z0-9]+([._-][a-z0-9]+)*`.
pub fn is_package_part(s: &str) -> bool {
    let mut prev_sep = true;
    for c in s.chars() {
        let sep = matches!(c, '.' | '_' | '-');
        if sep && prev_sep || !(sep || c.is_ascii_lowercase() || c.is_ascii_digit()) {
            return false;
        }
        prev_sep = sep;
    }
    !s.is_empty() && !prev_sep
}

/// `namespace/name` of a `pkg:` source: two lowercase OCI path components.
fn package_name(name: &str) -> Result<String, String> {
    match name.split_once('/') {
        Some((ns, n)) if is_package_part(ns) && is_package_part(n) => Ok(name.to_string()),
        _ => Err(
            "is not a package reference: write pkg:NAMESPACE/NAME (lowercase), as added with `weft add`"
                .into(),
        ),
    }
}

/// Decide what kind of code `written` (relative to `root`) points at, as a block's `source:`
/// would.
///
/// # Errors
/// Why `written` is not a block source.
pub fn source(root: &Path, written: &str) -> Result<Source, String> {
    resolve_source(root, written)
}

fn resolve_source(root: &Path, written: &str) -> Result<Source, String> {
    if let Some(name) = written.strip_prefix("pkg:") {
        return package_name(name).map(|name| Source::Package {
            name,
            written: written.to_string(),
        });
    }
    let path = root.join(written);
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if path.is_dir() {
        if path.join("Cargo.toml").is_file() {
            return Ok(Source::Rust {
                dir: path,
                written: written.to_string(),
            });
        }
        return Err("is a folder without Cargo.toml; a Rust block is a crate folder".into());
    }
    if !path.exists() {
        return Err(
            "does not exist (paths are relative to the project folder); give a Rust crate folder, a .py or .sql file or a .wasm component"
                .into(),
        );
    }
    match ext {
        "wasm" => Ok(Source::Wasm {
            path,
            written: written.to_string(),
        }),
        "py" => Ok(Source::Python {
            path,
            written: written.to_string(),
        }),
        "sql" => Ok(Source::Sql {
            path,
            written: written.to_string(),
        }),
        _ => Err("is not a Rust crate folder, a .py or .sql file or a .wasm component".into()),
    }
}
