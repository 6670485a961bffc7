//! From a Python block's facts to the grants it needs and what needs a hand: the profiles
//! and tables its `mage_ai.io` calls use, the URLs it reads, the environment it reads, and
//! whatever cannot run in the sandbox (with file and line).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::facts::{Call, Facts};
use super::report::Finding;

/// Grants of one block, each list sorted and without repeats.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Needs {
    /// URL prefixes it reads.
    pub urls: BTreeSet<String>,
    /// Folders and tables it writes.
    pub write: BTreeSet<String>,
    /// io_config.yaml profiles it uses.
    pub profiles: BTreeSet<String>,
    /// Environment variables it reads.
    pub env: BTreeSet<String>,
}

/// `mage_ai` modules weft provides inside the sandbox.
const MAGE_MODULES: &[&str] = &[
    "mage_ai.data_preparation.decorators",
    "mage_ai.io.config",
    "mage_ai.io.postgres",
    "mage_ai.io.bigquery",
    "mage_ai.io.google_cloud_storage",
    "mage_ai.io.s3",
    "mage_ai.io.file",
    "mage_ai.settings.repo",
];

/// Packages beyond those `weft build` refuses (native code) that cannot run in the sandbox:
/// database drivers and cloud SDKs built on native code or sockets.
const NATIVE_TOO: &[&str] = &[
    "psycopg",
    "sqlalchemy",
    "snowflake",
    "google",
    "boto3",
    "botocore",
    "pyspark",
];

/// Standard-library modules that need what the sandbox does not have.
const NO_SANDBOX: &[(&str, &str)] = &[
    ("subprocess", "starts processes"),
    ("multiprocessing", "starts processes"),
    ("socket", "opens network connections"),
    ("ssl", "opens network connections"),
    ("urllib.request", "opens network connections"),
    ("http.client", "opens network connections"),
    ("ftplib", "opens network connections"),
    ("smtplib", "opens network connections"),
    ("ctypes", "loads native code"),
];

/// Third-party modules that open network connections themselves.
const NETWORK: &[&str] = &["requests", "httpx", "aiohttp", "urllib3"];

/// Calls that touch the filesystem directly.
const FILESYSTEM: &[&str] = &[
    "open",
    "os.remove",
    "os.unlink",
    "os.listdir",
    "os.scandir",
    "os.walk",
    "os.mkdir",
    "os.makedirs",
    "os.rename",
    "os.rmdir",
    "shutil.copy",
    "shutil.copyfile",
    "shutil.move",
    "shutil.rmtree",
    "glob.glob",
    "io.open",
];

/// DataFrame writers that take a location as their first argument.
const WRITERS: &[&str] = &["to_parquet", "to_csv"];

/// Readers that take a location as their first argument.
const READERS: &[&str] = &["read_csv", "read_parquet", "read_json"];

/// What a Python block needs, judged from `facts` of its file (`file` as reported), the
/// pipeline's `variables`, and the top-level module names of the Mage project
/// (`project_modules`).
pub fn python(
    file: &Path,
    facts: &Facts,
    variables: &BTreeMap<String, String>,
    project_modules: &BTreeSet<String>,
) -> (Needs, Vec<Finding>) {
    let mut needs = Needs::default();
    let mut findings = Vec::new();
    let hand = |line: u32, reason: String| Finding::hand(file, line, reason);
    if let Some(e) = &facts.error {
        findings.push(hand(
            e.line,
            format!("Python cannot parse it: {}", e.message),
        ));
        return (needs, findings);
    }
    if let Some(problem) = decorators(facts) {
        findings.push(hand(problem.0, problem.1));
    }
    for i in &facts.imports {
        if let Some(why) = import_problem(&i.module, i.stdlib, project_modules) {
            findings.push(hand(i.line, why));
        }
    }
    for c in &facts.calls {
        if FILESYSTEM.contains(&c.callee.as_str()) {
            findings.push(hand(
                c.line,
                format!(
                    "`{}` touches the filesystem directly; a block has no files: read with \
                     pd.read_csv/read_parquet or weft.io under a granted `file://` URL",
                    c.callee
                ),
            ));
        }
    }
    let profiles: BTreeSet<String> = facts
        .calls
        .iter()
        .filter(|c| c.method == "ConfigFileLoader")
        .filter_map(|c| {
            let given = c.kwargs.contains_key("profile") || c.args.len() > 1;
            let p = c
                .kwargs
                .get("profile")
                .cloned()
                .flatten()
                .or_else(|| c.args.get(1).cloned().flatten())
                // Mage's ConfigFileLoader uses the `default` profile when none is named.
                .or_else(|| (!given).then(|| "default".to_string()));
            if p.is_none() {
                findings.push(hand(
                    c.line,
                    "the io_config.yaml profile is computed; name it in `grants.profiles`".into(),
                ));
            }
            p
        })
        .collect();
    needs.profiles.extend(profiles.iter().cloned());
    let profile = (profiles.len() == 1)
        .then(|| profiles.iter().next().cloned())
        .flatten();
    for c in &facts.calls {
        io_call(c, profile.as_deref(), &mut needs, &mut findings, file);
    }
    let url_variables: Vec<&String> = facts
        .variables
        .iter()
        .filter_map(|v| variables.get(&v.name))
        .filter(|value| is_url(value))
        .collect();
    for value in &url_variables {
        match value.strip_prefix("file://") {
            Some(_) => match file_grant(value) {
                Some(g) => {
                    needs.urls.insert(g);
                }
                None => findings.push(outside(file, 0, value, "reads")),
            },
            None => {
                needs.urls.insert((*value).clone());
            }
        }
    }
    locations(
        file,
        facts,
        variables,
        !url_variables.is_empty(),
        &mut needs,
        &mut findings,
    );
    for e in &facts.env {
        needs.env.insert(e.name.clone());
    }
    (needs, findings)
}

/// Grants for the locations readers and writers are given: a constant, or a run variable's
/// value (`url = kwargs.get("source_url")`); a location computed otherwise needs a hand
/// (for a reader, unless a URL variable was read: it is granted already).
fn locations(
    file: &Path,
    facts: &Facts,
    variables: &BTreeMap<String, String>,
    read_a_url_variable: bool,
    needs: &mut Needs,
    findings: &mut Vec<Finding>,
) {
    for c in &facts.calls {
        // weft.io.read(url) reads too; another object's `read()` (a file's) does not.
        let reads = (READERS.contains(&c.method.as_str())
            && c.receiver.as_deref() != Some("FileIO"))
            || (c.method == "read" && c.receiver.as_deref() == Some("io"));
        // `df.to_csv()` with no path returns text: not a write.
        let has_target = !c.args.is_empty()
            || c.kwargs
                .keys()
                .any(|k| matches!(k.as_str(), "path" | "path_or_buf"));
        let writes = WRITERS.contains(&c.method.as_str()) && has_target;
        if !reads && !writes {
            continue;
        }
        let from_variable = c
            .arg_vars
            .first()
            .cloned()
            .flatten()
            .and_then(|v| variables.get(&v).cloned());
        let location = c
            .args
            .first()
            .cloned()
            .flatten()
            .or_else(|| {
                ["filepath_or_buffer", "path", "path_or_buf"]
                    .iter()
                    .find_map(|k| c.kwargs.get(*k).cloned().flatten())
            })
            .or(from_variable);
        let set = if writes {
            &mut needs.write
        } else {
            &mut needs.urls
        };
        match location {
            Some(loc) if is_url(&loc) && !loc.starts_with("file://") => {
                set.insert(loc);
            }
            Some(loc) => match file_grant(&loc) {
                Some(g) => {
                    set.insert(g);
                }
                None => findings.push(outside(
                    file,
                    c.line,
                    &loc,
                    if writes { "writes" } else { "reads" },
                )),
            },
            None if writes || !read_a_url_variable => {
                let (verb, grant) = if writes {
                    ("writes", "write")
                } else {
                    ("reads", "urls")
                };
                findings.push(Finding::hand(
                    file,
                    c.line,
                    format!(
                        "`{}` {verb} a location computed at run time; add it to `grants.{grant}`",
                        c.callee
                    ),
                ));
            }
            None => {}
        }
    }
}

/// Decorators of Mage's block API weft runs.
const BLOCK_DECORATORS: &[&str] = &[
    "data_loader",
    "transformer",
    "data_exporter",
    "custom",
    "sensor",
    "condition",
    "callback",
];
/// Decorators that mark helpers of a block.
const HELPER_DECORATORS: &[&str] = &["test", "on_success", "on_failure"];

/// Line and reason when the block's function cannot be found by its decorator, or a
/// decorator of Mage's has no weft counterpart.
fn decorators(facts: &Facts) -> Option<(u32, String)> {
    let mut found = false;
    for f in &facts.functions {
        for d in &f.decorators {
            let Some(name) = d.name.as_deref() else {
                continue;
            };
            let last = name.rsplit('.').next().unwrap_or(name);
            if BLOCK_DECORATORS.contains(&last) {
                found = true;
                if last == "callback"
                    && d.args.as_ref().is_some_and(|a| {
                        a.iter().any(|x| {
                            x.as_deref()
                                .is_some_and(|s| !matches!(s, "success" | "failure"))
                        })
                    })
                {
                    return Some((
                        f.line,
                        format!(
                            "`@callback` of `{}` names a status other than success or failure",
                            f.name
                        ),
                    ));
                }
            } else if !HELPER_DECORATORS.contains(&last) && MAGE_ONLY.contains(&last) {
                return Some((
                    f.line,
                    format!(
                        "`@{last}` (on `{}`) is a Mage decorator weft does not run",
                        f.name
                    ),
                ));
            }
        }
    }
    (!found).then(|| (0, "no function decorated with @data_loader, @transformer, @data_exporter, @custom, @sensor, @condition or @callback: weft finds the block by it".to_string()))
}

/// Mage decorators of block kinds weft has no counterpart for.
const MAGE_ONLY: &[&str] = &[
    "extension",
    "data_source",
    "streaming_source",
    "streaming_sink",
    "configuration",
    "render",
    "columns",
    "xy",
    "x",
    "y",
    "data_integration_destination",
    "data_integration_source",
];

/// Why `module` cannot be imported in the sandbox, if it cannot.
fn import_problem(module: &str, stdlib: bool, project: &BTreeSet<String>) -> Option<String> {
    let top = module.split('.').next().unwrap_or(module);
    if module.starts_with('.') || project.contains(top) {
        return Some(format!(
            "imports the project's own module `{module}`, which is not bundled with a block; \
             copy what the block needs into its file"
        ));
    }
    if top == "mage_ai" {
        if MAGE_MODULES
            .iter()
            .any(|m| module == *m || m.starts_with(&format!("{module}.")))
        {
            return None;
        }
        return Some(format!(
            "`{module}` is not part of the Mage API weft provides (decorators, mage_ai.io \
             Postgres/BigQuery/GoogleCloudStorage/S3/FileIO, ConfigFileLoader, get_repo_path)"
        ));
    }
    if top == "weft" || top == "pandas" {
        return None;
    }
    if let Some((m, why)) = NO_SANDBOX
        .iter()
        .find(|(m, _)| module == *m || module.starts_with(&format!("{m}.")) || top == *m)
    {
        return Some(format!(
            "`{m}` {why}, which a sandboxed block cannot; read and write through pandas or \
             weft.io within the block's grants"
        ));
    }
    if stdlib {
        return None;
    }
    if crate::build::NATIVE.contains(&top) || NATIVE_TOO.contains(&top) {
        return Some(format!(
            "`{top}` is a native package and cannot run in the sandbox; pandas (weft's own, \
             in the sandbox) and the Table API do what ETL blocks use it for"
        ));
    }
    if NETWORK.contains(&top) {
        return Some(format!(
            "`{top}` opens network connections itself, which a sandboxed block cannot; read \
             URLs with pd.read_csv/read_json or weft.io.read under `grants.urls`"
        ));
    }
    Some(format!(
        "`{top}` is not in Python's standard library: if it is pure Python, list its package \
         in a `# requirements: ...` comment of the block"
    ))
}

/// Grants of a `mage_ai.io` load or export.
fn io_call(
    c: &Call,
    profile: Option<&str>,
    needs: &mut Needs,
    findings: &mut Vec<Finding>,
    file: &Path,
) {
    let Some(class) = c.receiver.as_deref() else {
        return;
    };
    let export = c.method == "export";
    if !export && c.method != "load" {
        return;
    }
    let arg = |i: usize, key: &str| {
        c.kwargs
            .get(key)
            .cloned()
            .flatten()
            .or_else(|| c.args.get(i).cloned().flatten())
    };
    // Exports take the data first.
    let at = usize::from(export);
    let mut need_profile = |what: &str| -> Option<String> {
        if profile.is_none() {
            findings.push(Finding::hand(
                file,
                c.line,
                format!("{class}.{}: the io_config.yaml profile it uses is not a constant; add the `{what}` grant by hand", c.method),
            ));
        }
        profile.map(str::to_string)
    };
    let grant = match (class, export) {
        ("Postgres", true) => match (arg(at, "schema_name"), arg(at + 1, "table_name")) {
            (Some(s), Some(t)) => need_profile("postgres://<profile>/<schema>.<table>")
                .map(|p| (true, format!("postgres://{p}/{s}.{t}"))),
            _ => {
                findings.push(Finding::hand(file, c.line, "Postgres.export: the schema or table is computed; add `postgres://<profile>/<schema>.<table>` to `grants.write`".into()));
                None
            }
        },
        ("BigQuery", true) => match arg(at, "table_id") {
            Some(id) => {
                let parts: Vec<&str> = id.split('.').collect();
                let tail = parts[parts.len().saturating_sub(2)..].join(".");
                need_profile("bigquery://<profile>/<dataset>.<table>")
                    .map(|p| (true, format!("bigquery://{p}/{tail}")))
            }
            None => {
                findings.push(Finding::hand(file, c.line, "BigQuery.export: the table is computed; add `bigquery://<profile>/<dataset>.<table>` to `grants.write`".into()));
                None
            }
        },
        ("GoogleCloudStorage" | "S3", _) => {
            let scheme = if class == "S3" { "s3" } else { "gs" };
            match (arg(at, "bucket_name"), arg(at + 1, "object_key")) {
                (Some(b), Some(k)) => Some((export, format!("{scheme}://{b}/{k}"))),
                _ => {
                    findings.push(Finding::hand(file, c.line, format!("{class}.{}: the bucket or key is computed; add `{scheme}://<bucket>/<key>` to the grants", c.method)));
                    None
                }
            }
        }
        ("FileIO", _) => match arg(at, "filepath") {
            Some(f) => match file_grant(&f) {
                Some(g) => Some((export, g)),
                None => {
                    findings.push(outside(
                        file,
                        c.line,
                        &f,
                        if export { "writes" } else { "reads" },
                    ));
                    None
                }
            },
            None => {
                findings.push(Finding::hand(
                    file,
                    c.line,
                    format!(
                        "FileIO.{}: the path is computed; add its `file://` URL to the grants",
                        c.method
                    ),
                ));
                None
            }
        },
        ("Postgres" | "BigQuery", false) => None,
        _ => return,
    };
    match grant {
        Some((true, g)) => {
            needs.write.insert(g);
        }
        Some((false, g)) => {
            needs.urls.insert(g);
        }
        None => {}
    }
}

/// The `file://` grant for a path a block names, when it is a file or folder inside the
/// project: relative, plain names only (no `..`, no leading dot, not the project itself).
fn file_grant(loc: &str) -> Option<String> {
    use std::path::Component;
    let path = loc.strip_prefix("file://").unwrap_or(loc);
    let path = path.strip_prefix("./").unwrap_or(path);
    let plain = Path::new(path)
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    if path.is_empty() || path.starts_with('.') || path.starts_with('~') || !plain {
        return None;
    }
    Some(format!("file://{path}"))
}

/// The finding for a path out of the project: never granted by the import.
fn outside(file: &Path, line: u32, loc: &str, verb: &str) -> Finding {
    Finding::hand(
        file,
        line,
        format!(
            "{verb} `{loc}`, which is not a path inside the project: the import grants no such \
             path; put the data in a folder of the project and grant that folder"
        ),
    )
}

/// A location read over the network or from an object store.
fn is_url(s: &str) -> bool {
    ["http://", "https://", "gs://", "s3://", "file://"]
        .iter()
        .any(|p| s.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_inside_the_project_become_file_grants() {
        for (path, grant) in [
            ("data/trips.csv", Some("file://data/trips.csv")),
            ("./data/", Some("file://data/")),
            (
                "file://exports/out.parquet",
                Some("file://exports/out.parquet"),
            ),
            ("/home/u/.bashrc", None),
            ("../../outside.csv", None),
            ("data/../../x", None),
            ("", None),
            ("./", None),
            (".", None),
            (".env", None),
            ("~/secrets.csv", None),
            ("file:///etc/passwd", None),
        ] {
            assert_eq!(file_grant(path).as_deref(), grant, "{path}");
        }
    }
}
