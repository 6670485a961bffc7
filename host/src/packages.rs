//! Block packages in a project. `[packages.NAME]` in weft.toml says what `weft package NAME`
//! makes of a block; `weft.lock` pins the packages pipelines use as `source: pkg:NS/NAME`,
//! which are resolved here — checked against the lock, fetched into the cache when missing
//! (never with `--locked`) — into the component or SQL they hold.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use weft_package::meta::{self, Contents};
use weft_package::registry::Registry;
use weft_package::{cache::Cache, Language, Limits, Lock, Locked, Meta, PackageError, PackageRef};
use weft_pipeline::{Block, Grants, Kind, Pipeline, Source};

use crate::build::{BuildObserver, Builder};
use crate::error::CliError;
use crate::project::Project;

/// `[packages.NAME]` of weft.toml: a block of this project offered as a package.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageSpec {
    /// The block's source, as pipeline.yaml would write it.
    pub source: String,
    /// Its role.
    pub kind: Kind,
    /// Its version (semver).
    pub version: String,
    /// One line on what it does.
    pub description: Option<String>,
    /// SPDX license expression.
    pub license: Option<String>,
    /// Where its source lives.
    pub repository: Option<String>,
    /// A JSON Schema file for its `config`, relative to the project.
    pub config_schema: Option<String>,
    /// What it asks to be granted.
    #[serde(default)]
    pub grants: Grants,
    /// Limits it suggests.
    #[serde(default)]
    pub limits: Limits,
}

/// A package made by [`make`].
pub struct Made {
    /// Its metadata.
    pub meta: Meta,
    /// The component, metadata inside.
    pub bytes: Vec<u8>,
    /// Where it was written.
    pub path: PathBuf,
}

fn invalid(name: &str, field: &str, reason: impl std::fmt::Display) -> CliError {
    CliError::Usage(format!("weft.toml [packages.{name}] {field}: {reason}"))
}

/// Build package `name` of the project and write it to `.weft/packages/NAME-VERSION.wasm`.
///
/// # Errors
/// [`CliError::Usage`] naming the weft.toml field at fault, build errors for the block.
pub fn make(
    project: &Project,
    builder: &Builder<'_>,
    name: &str,
    progress: &dyn BuildObserver,
) -> Result<Made, CliError> {
    let spec = project.config.packages.get(name).ok_or_else(|| {
        let known: Vec<&str> = project.config.packages.keys().map(String::as_str).collect();
        CliError::Usage(format!(
            "weft.toml has no [packages.{name}]; packages: {}",
            if known.is_empty() {
                "(none)".to_string()
            } else {
                known.join(", ")
            }
        ))
    })?;
    if !weft_pipeline::is_package_part(name) {
        return Err(CliError::Usage(format!(
            "weft.toml [packages.{name}]: a package name is lowercase letters and digits with single . _ - between them"
        )));
    }
    let source = weft_pipeline::source(&project.root, &spec.source)
        .map_err(|e| invalid(name, "source", format!("`{}` {e}", spec.source)))?;
    let meta = spec_meta(project, name, spec, &source)?;
    let bytes = match &source {
        Source::Sql { path, .. } => {
            let sql = std::fs::read_to_string(path).map_err(|e| CliError::Io {
                path: path.clone(),
                source: e,
            })?;
            meta::sql_component(&sql, &meta)?
        }
        Source::Package { .. } => {
            return Err(invalid(
                name,
                "source",
                "a package cannot repackage a package",
            ))
        }
        _ => {
            let wasm = builder.component_file(name, &source, progress)?;
            let component = std::fs::read(&wasm).map_err(|e| CliError::Io {
                path: wasm.clone(),
                source: e,
            })?;
            meta::embed(&component, &meta)?
        }
    };
    let dir = project.dot_weft().join("packages");
    std::fs::create_dir_all(&dir).map_err(|e| CliError::Io {
        path: dir.clone(),
        source: e,
    })?;
    let path = dir.join(format!("{name}-{}.wasm", meta.version));
    std::fs::write(&path, &bytes).map_err(|e| CliError::Io {
        path: path.clone(),
        source: e,
    })?;
    Ok(Made { meta, bytes, path })
}

/// The metadata `spec` describes, every field checked.
fn spec_meta(
    project: &Project,
    name: &str,
    spec: &PackageSpec,
    source: &Source,
) -> Result<Meta, CliError> {
    let version = semver::Version::parse(&spec.version).map_err(|e| {
        invalid(
            name,
            "version",
            format!("`{}` is not semver: {e}", spec.version),
        )
    })?;
    let language = match source {
        Source::Rust { .. } => Language::Rust,
        Source::Python { .. } => Language::Python,
        Source::Sql { .. } => Language::Sql,
        Source::Wasm { .. } | Source::Package { .. } => Language::Wasm,
    };
    let config_schema = match &spec.config_schema {
        None => serde_json::json!({}),
        Some(file) => {
            let path = project.root.join(file);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| invalid(name, "config_schema", format!("{file}: {e}")))?;
            let schema: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| invalid(name, "config_schema", format!("{file} is not JSON: {e}")))?;
            if !schema.is_object() {
                return Err(invalid(
                    name,
                    "config_schema",
                    format!("{file} is not a JSON Schema object"),
                ));
            }
            weft_package::config::check_schema(&schema)
                .map_err(|e| invalid(name, "config_schema", format!("{file}: {e}")))?;
            schema
        }
    };
    limits(&spec.limits).map_err(|e| invalid(name, "limits", e))?;
    Ok(Meta {
        name: name.to_string(),
        version,
        kind: spec.kind,
        language,
        wit: semver::Version::parse(weft_package::WIT_VERSION).expect("a valid WIT version"),
        config_schema,
        grants: spec.grants.clone(),
        limits: spec.limits.clone(),
        description: spec.description.clone(),
        license: spec.license.clone(),
        source: spec.repository.clone(),
    })
}

/// A package's suggested limits, parsed: timeout, memory, read limit, retries.
type Parsed = (Option<Duration>, Option<u64>, Option<u64>, Option<u32>);

/// Most retries a package may suggest.
const MAX_PACKAGE_RETRIES: u32 = 10;

/// Parse a package's suggested limits. A package may only tighten weft's defaults (and
/// suggest a few retries): what it says comes from its author, not from the project.
fn limits(l: &Limits) -> Result<Parsed, String> {
    use weft_pipeline::{
        DEFAULT_MEMORY_LIMIT, DEFAULT_READ_LIMIT, DEFAULT_TIMEOUT, MIN_MEMORY_LIMIT,
    };
    let timeout = l
        .timeout
        .as_deref()
        .map(|s| {
            let d =
                humantime::parse_duration(s.trim()).map_err(|e| format!("timeout `{s}`: {e}"))?;
            if d.is_zero() || d > DEFAULT_TIMEOUT {
                return Err(format!(
                    "timeout `{s}`: a package may suggest more than 0s and at most {}",
                    humantime::format_duration(DEFAULT_TIMEOUT)
                ));
            }
            Ok(d)
        })
        .transpose()?;
    let size = |field: &str, s: &Option<String>, max: u64| {
        s.as_deref()
            .map(|s| {
                let b = s
                    .trim()
                    .parse::<bytesize::ByteSize>()
                    .map_err(|e| format!("{field} `{s}`: {e}"))?
                    .as_u64();
                if !(MIN_MEMORY_LIMIT..=max).contains(&b) {
                    return Err(format!(
                        "{field} `{s}`: a package may suggest {} to {}",
                        bytesize::ByteSize(MIN_MEMORY_LIMIT),
                        bytesize::ByteSize(max)
                    ));
                }
                Ok(b)
            })
            .transpose()
    };
    let memory = size("memory_limit", &l.memory_limit, DEFAULT_MEMORY_LIMIT)?;
    let read = size("read_limit", &l.read_limit, DEFAULT_READ_LIMIT)?;
    if let Some(r) = l.retries.filter(|r| *r > MAX_PACKAGE_RETRIES) {
        return Err(format!(
            "retries {r}: a package may suggest at most {MAX_PACKAGE_RETRIES}"
        ));
    }
    Ok((timeout, memory, read, l.retries))
}

/// The package cache: `$WEFT_PACKAGE_CACHE`, default `~/.weft/cache/packages`.
pub fn cache() -> Cache {
    let dir = std::env::var_os("WEFT_PACKAGE_CACHE")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::build::weft_home().join("cache").join("packages"));
    Cache::new(&dir)
}

/// Whether packages may be downloaded while resolving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetch {
    /// Download what the cache lacks.
    Allowed,
    /// `--locked`: the lock and the cache only; anything missing is an error.
    Locked,
}

/// Resolve every `pkg:` block of `pipeline` to the component or SQL its locked package
/// holds: the cached bytes (or the downloaded ones) must match weft.lock, the package must
/// be of the block's kind and built for this host's WIT contract. Returns notices for the
/// user (grants a package requests that the pipeline does not give).
///
/// # Errors
/// [`CliError::Package`] naming the block and package.
pub fn resolve(
    project: &Project,
    pipeline: &mut Pipeline,
    fetch: Fetch,
) -> Result<Vec<String>, CliError> {
    if !pipeline
        .blocks
        .iter()
        .any(|b| matches!(b.source, Source::Package { .. }))
    {
        return Ok(Vec::new());
    }
    let lock_file = project.root.join("weft.lock");
    let lock = Lock::read(&lock_file)?;
    let cache = crate::packages::cache();
    let mut notices = Vec::new();
    let mut resolved: BTreeMap<String, (PathBuf, Contents)> = BTreeMap::new();
    for block in &mut pipeline.blocks {
        let Source::Package { name, written } = &block.source else {
            continue;
        };
        let (name, written, block_name) = (name.clone(), written.clone(), block.name.clone());
        let fail = |e: PackageError| CliError::Package {
            block: block_name.clone(),
            source_path: written.clone(),
            error: Box::new(e),
        };
        let entry = lock.get(&name).ok_or_else(|| {
            fail(PackageError::NotFound(format!(
                "weft.lock has no package {name}; add it with `weft add REGISTRY/{name}@VERSION`"
            )))
        })?;
        if !resolved.contains_key(&name) {
            let bytes = locked_bytes(entry, &cache, fetch).map_err(fail)?;
            let contents = meta::read(&bytes).map_err(fail)?;
            check(entry, &contents).map_err(fail)?;
            let path = materialize(project, entry, &bytes, &contents).map_err(fail)?;
            resolved.insert(name.clone(), (path, contents));
        }
        let (path, contents) = &resolved[&name];
        apply(block, path, contents, &written).map_err(fail)?;
        if let Some(m) = &contents.meta {
            let given = weft_package::grants::entries(&block.grants);
            for (kind, value) in weft_package::grants::entries(&m.grants) {
                let covered = given.iter().any(|(k, v)| {
                    *k == kind
                        && (*v == value
                            || (matches!(kind, "urls" | "write") && value.starts_with(v.as_str())))
                });
                if !covered {
                    notices.push(format!(
                        "block \"{}\": package {name} requests `{kind}: {}`, which pipeline.yaml does not grant; calls that need it will be denied",
                        block.name,
                        weft_package::printable(&value)
                    ));
                }
            }
        }
    }
    Ok(notices)
}

/// The component `entry` pins: from the cache, else (when allowed) from its registry.
fn locked_bytes(entry: &Locked, cache: &Cache, fetch: Fetch) -> Result<Vec<u8>, PackageError> {
    if let Some(bytes) = cache.get(&entry.content)? {
        return Ok(bytes);
    }
    if fetch == Fetch::Locked {
        return Err(PackageError::NotFound(format!(
            "{} {} is not in the package cache, and --locked does not download; run `weft build` once online",
            entry.name, entry.version
        )));
    }
    let package = PackageRef::parse(&format!("{}/{}", entry.registry, entry.name))?;
    let (fetched, tagged) = block_on(async {
        let registry = Registry::new(&package);
        let fetched = registry
            .fetch(&package, &format!("@{}", entry.manifest))
            .await?;
        let tagged = registry.digest_of(&package, &entry.version).await?;
        Ok::<_, PackageError>((fetched, tagged))
    })??;
    pinned(entry, &fetched.manifest, &fetched.content)?;
    // The pinned manifest is what runs; a tag moved since is still worth stopping for.
    if let Some(now) = tagged {
        pinned(entry, &now, &entry.content)?;
    }
    cache.put(&entry.content, &fetched.bytes)?;
    Ok(fetched.bytes)
}

/// What a registry answered must be what the lock pinned.
pub fn pinned(entry: &Locked, manifest: &str, content: &str) -> Result<(), PackageError> {
    if manifest != entry.manifest {
        return Err(PackageError::Digest {
            what: format!(
                "tag {} of {}/{} now points at another manifest than weft.lock pinned",
                entry.version, entry.registry, entry.name
            ),
            expected: entry.manifest.clone(),
            actual: manifest.to_string(),
        });
    }
    if content != entry.content {
        return Err(PackageError::Digest {
            what: format!("component of {} {}", entry.name, entry.version),
            expected: entry.content.clone(),
            actual: content.to_string(),
        });
    }
    Ok(())
}

/// A package's own claims must agree with the lock and this host.
fn check(entry: &Locked, c: &Contents) -> Result<(), PackageError> {
    let Some(m) = &c.meta else {
        // A component published by another tool: usable, with no requests of its own.
        return Ok(());
    };
    let host = semver::Version::parse(weft_package::WIT_VERSION).expect("a valid WIT version");
    if !meta::wit_compatible(&m.wit, &host) {
        return Err(PackageError::Incompatible(format!(
            "{} {} was built for weft:block {}, which this weft (weft:block {host}) cannot run",
            entry.name, m.version, m.wit
        )));
    }
    let grants = weft_package::grants::digest(&m.grants);
    if grants != entry.grants {
        return Err(PackageError::Digest {
            what: format!("grants requested by {} {}", entry.name, entry.version),
            expected: entry.grants.clone(),
            actual: grants,
        });
    }
    Ok(())
}

/// The file a build uses: a copy of the verified bytes in the project's own `.weft/` (out of
/// every grant), `wasm/<hex>.wasm` or `sql/<hex>.sql`, written through a temporary file so
/// a reader never sees half of one.
fn materialize(
    project: &Project,
    entry: &Locked,
    bytes: &[u8],
    c: &Contents,
) -> Result<PathBuf, PackageError> {
    let hex = entry.content.trim_start_matches("sha256:");
    let (dir, path, body) = match &c.sql {
        Some(sql) => {
            let dir = project.dot_weft().join("packages").join("sql");
            let path = dir.join(format!("{hex}.sql"));
            (dir, path, sql.as_bytes())
        }
        None => {
            let dir = project.dot_weft().join("packages").join("wasm");
            let path = dir.join(format!("{hex}.wasm"));
            (dir, path, bytes)
        }
    };
    if std::fs::read(&path).is_ok_and(|old| old == body) {
        return Ok(path);
    }
    std::fs::create_dir_all(&dir).map_err(PackageError::io(&dir))?;
    let tmp = dir.join(format!(".{hex}.tmp{}", std::process::id()));
    std::fs::write(&tmp, body).map_err(PackageError::io(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(PackageError::io(&path))?;
    Ok(path)
}

/// Point `block` at the resolved file and fill the limits its manifest left unset.
fn apply(block: &mut Block, path: &Path, c: &Contents, written: &str) -> Result<(), PackageError> {
    if let Some(m) = &c.meta {
        if m.kind != block.kind {
            return Err(PackageError::Incompatible(format!(
                "the package is a {} block; pipeline.yaml says kind: {}",
                m.kind, block.kind
            )));
        }
        let wrong = weft_package::config::problems(&m.config_schema, &block.config);
        if !wrong.is_empty() {
            return Err(PackageError::Invalid(format!(
                "its config does not fit the package's config_schema: {}",
                wrong.join("; ")
            )));
        }
        let (timeout, memory, read, retries) = limits(&m.limits).map_err(PackageError::Invalid)?;
        for field in block.unset.clone() {
            match field {
                "timeout" => block.timeout = timeout.unwrap_or(block.timeout),
                "memory_limit" => block.memory_limit = memory.unwrap_or(block.memory_limit),
                "read_limit" => block.read_limit = read.unwrap_or(block.read_limit),
                "retries" => block.retries = retries.unwrap_or(block.retries),
                _ => {}
            }
        }
    }
    let sql = c.sql.is_some();
    if !sql && block.engine != weft_pipeline::Engine::DataFusion {
        return Err(PackageError::Incompatible(
            "`engine` is for SQL blocks, and this package is a component".into(),
        ));
    }
    block.source = if sql {
        Source::Sql {
            path: path.to_path_buf(),
            written: written.to_string(),
        }
    } else {
        Source::Wasm {
            path: path.to_path_buf(),
            written: written.to_string(),
        }
    };
    Ok(())
}

/// Run `f` to completion on a runtime of its own (registry calls happen before any run
/// starts, outside the command's runtime).
///
/// # Errors
/// [`PackageError::Invalid`] when called from inside a runtime; [`PackageError::Io`] when no
/// runtime can start.
pub fn block_on<T>(f: impl std::future::Future<Output = T>) -> Result<T, PackageError> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(PackageError::Invalid(
            "packages are fetched before a run starts, not from inside one".into(),
        ));
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(PackageError::io(Path::new("<tokio runtime>")))?;
    Ok(rt.block_on(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits_of(
        timeout: Option<&str>,
        memory: Option<&str>,
        retries: Option<u32>,
    ) -> Result<Parsed, String> {
        limits(&Limits {
            timeout: timeout.map(String::from),
            memory_limit: memory.map(String::from),
            read_limit: None,
            retries,
        })
    }

    #[test]
    fn a_package_may_only_tighten_limits() {
        let ok = limits_of(Some("30s"), Some("256MiB"), Some(2)).unwrap();
        assert_eq!(ok.0, Some(Duration::from_secs(30)));
        assert_eq!(ok.1, Some(256 << 20));
        for (t, m, r, why) in [
            (Some("0s"), None, None, "timeout"),
            (Some("500000000000y"), None, None, "timeout"),
            (Some("2h"), None, None, "timeout"),
            (None, Some("64GiB"), None, "memory_limit"),
            (None, Some("1KiB"), None, "memory_limit"),
            (None, None, Some(4_294_967_295), "retries"),
        ] {
            let e = limits_of(t, m, r).unwrap_err();
            assert!(e.starts_with(why), "{e}");
        }
    }
}
