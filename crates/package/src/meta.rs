//! A package's metadata, kept inside its component as the `weft:package` custom section: the
//! component's content digest covers it, and tools that do not know weft carry it unchanged.
//! A SQL package is a component with no code: its query rides in a `weft:sql` section.

use serde::{Deserialize, Serialize};
use weft_pipeline::{Grants, Kind};

use crate::error::PackageError;

/// The custom section holding [`Meta`] as JSON.
pub const SECTION: &str = "weft:package";
/// The custom section holding a SQL package's query.
pub const SQL_SECTION: &str = "weft:sql";

/// The language a package's block was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// A Rust crate built with the weft SDK.
    Rust,
    /// A Python file built with the weft SDK.
    Python,
    /// A SQL query run by the host's engine.
    Sql,
    /// A prebuilt component (any language).
    Wasm,
}

impl Language {
    /// The spelling used in metadata and annotations.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Python => "python",
            Language::Sql => "sql",
            Language::Wasm => "wasm",
        }
    }
}

/// Limits a package suggests, in pipeline.yaml's spelling (`30s`, `256MiB`); a pipeline's own
/// values win.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Wall-clock limit of one attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// Memory the block may use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_limit: Option<String>,
    /// Bytes one IO call may read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_limit: Option<String>,
    /// Extra attempts after a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
}

/// What a package says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// The package's name (its block's name where it was written).
    pub name: String,
    /// Its version.
    pub version: semver::Version,
    /// The role its block plays.
    pub kind: Kind,
    /// The language it was written in.
    pub language: Language,
    /// The `weft:block` contract it was built against.
    pub wit: semver::Version,
    /// A JSON Schema of the block's `config` (`{}`: anything).
    #[serde(default = "any_config")]
    pub config_schema: serde_json::Value,
    /// What the block asks to be granted; a project decides.
    #[serde(default)]
    pub grants: Grants,
    /// Limits it suggests.
    #[serde(default)]
    pub limits: Limits,
    /// One line on what it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// SPDX license expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// Where its source lives (a repository URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

fn any_config() -> serde_json::Value {
    serde_json::json!({})
}

/// What a component holds: its metadata (when it is a weft package), a SQL package's query,
/// and the names of its top-level imports and exports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Contents {
    /// The `weft:package` section, parsed.
    pub meta: Option<Meta>,
    /// The `weft:sql` section.
    pub sql: Option<String>,
    /// Top-level import names (`weft:block/host@0.1.0`, `wasi:io/streams@0.2.0`, ...).
    pub imports: Vec<String>,
    /// Top-level export names.
    pub exports: Vec<String>,
}

/// `component` with `meta` embedded as its last section.
///
/// # Errors
/// [`PackageError::Invalid`] when `component` is not a component or already carries weft
/// metadata.
pub fn embed(component: &[u8], meta: &Meta) -> Result<Vec<u8>, PackageError> {
    let contents = read(component)?;
    if let Some(old) = contents.meta {
        return Err(PackageError::Invalid(format!(
            "the component is already the package {} {}",
            old.name, old.version
        )));
    }
    let json = serde_json::to_vec(meta).map_err(|e| PackageError::Invalid(e.to_string()))?;
    let mut out = component.to_vec();
    out.extend_from_slice(&section_bytes(SECTION, &json));
    Ok(out)
}

/// A SQL package: a component with no code, holding `sql` and `meta`.
///
/// # Errors
/// As [`embed`].
pub fn sql_component(sql: &str, meta: &Meta) -> Result<Vec<u8>, PackageError> {
    let mut c = wasm_encoder::Component::new();
    c.section(&wasm_encoder::CustomSection {
        name: SQL_SECTION.into(),
        data: sql.as_bytes().into(),
    });
    embed(&c.finish(), meta)
}

/// The encoded custom section `name` holding `data`, without the component preamble.
fn section_bytes(name: &str, data: &[u8]) -> Vec<u8> {
    let mut c = wasm_encoder::Component::new();
    c.section(&wasm_encoder::CustomSection {
        name: name.into(),
        data: data.into(),
    });
    let bytes = c.finish();
    // The preamble (magic and version) is 8 bytes; the section follows it.
    bytes[8..].to_vec()
}

/// What `bytes` (a component) holds.
///
/// # Errors
/// [`PackageError::Invalid`] when `bytes` is not a well-formed component or its metadata is
/// not valid.
pub fn read(bytes: &[u8]) -> Result<Contents, PackageError> {
    use wasmparser::{Encoding, Parser, Payload};
    let bad = |e: &dyn std::fmt::Display| {
        PackageError::Invalid(format!("not a WebAssembly component: {e}"))
    };
    let mut out = Contents::default();
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| bad(&e))?;
        match payload {
            Payload::Version { encoding, .. } => {
                if depth == 0 && encoding != Encoding::Component {
                    return Err(bad(&"a core module, not a component"));
                }
                depth += 1;
            }
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::CustomSection(s) if depth == 1 => match s.name() {
                SECTION => {
                    let meta = serde_json::from_slice(s.data()).map_err(|e| {
                        PackageError::Invalid(format!("its `{SECTION}` metadata: {e}"))
                    })?;
                    out.meta = Some(meta);
                }
                SQL_SECTION => {
                    let sql = std::str::from_utf8(s.data()).map_err(|e| bad(&e))?;
                    out.sql = Some(sql.to_string());
                }
                _ => {}
            },
            Payload::ComponentImportSection(r) if depth == 1 => {
                for import in r {
                    out.imports
                        .push(import.map_err(|e| bad(&e))?.name.name.to_string());
                }
            }
            Payload::ComponentExportSection(r) if depth == 1 => {
                for export in r {
                    out.exports
                        .push(export.map_err(|e| bad(&e))?.name.name.to_string());
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Whether a package built against `wit` runs on a host serving `host`: the same major
/// version (the same minor while the major is 0), and not newer than the host's.
pub fn wit_compatible(wit: &semver::Version, host: &semver::Version) -> bool {
    let same_line = if host.major == 0 {
        wit.major == 0 && wit.minor == host.minor
    } else {
        wit.major == host.major
    };
    same_line && wit <= host
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(kind: Kind, language: Language) -> Meta {
        Meta {
            name: "slack_alert".into(),
            version: semver::Version::new(1, 2, 3),
            kind,
            language,
            wit: semver::Version::new(0, 1, 0),
            config_schema: serde_json::json!({"type": "object"}),
            grants: Grants {
                urls: vec!["https://hooks.slack.com/".into()],
                ..Grants::default()
            },
            limits: Limits {
                timeout: Some("30s".into()),
                ..Limits::default()
            },
            description: Some("Post rows to Slack".into()),
            license: Some("Apache-2.0".into()),
            source: None,
        }
    }

    #[test]
    fn a_sql_package_reads_back_its_query_and_metadata() {
        let m = meta(Kind::Transformer, Language::Sql);
        let bytes = sql_component("SELECT 1 AS one", &m).unwrap();
        let c = read(&bytes).unwrap();
        assert_eq!(c.meta, Some(m.clone()));
        assert_eq!(c.sql.as_deref(), Some("SELECT 1 AS one"));
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
            .validate_all(&bytes)
            .expect("a valid component");
        let again = embed(&bytes, &m).unwrap_err().to_string();
        assert!(
            again.contains("already the package slack_alert 1.2.3"),
            "{again}"
        );
    }

    #[test]
    fn a_core_module_or_garbage_is_not_a_package() {
        let module = wasm_encoder::Module::new().finish();
        let e = read(&module).unwrap_err().to_string();
        assert!(e.contains("a core module, not a component"), "{e}");
        assert!(read(b"not wasm at all").is_err());
        let m = meta(Kind::Loader, Language::Rust);
        let mut bytes = sql_component("SELECT 1", &m).unwrap();
        // Metadata that is not JSON any more.
        let at = bytes.windows(6).position(|w| w == b"\"name\"").unwrap();
        bytes[at] = b'{';
        let e = read(&bytes).unwrap_err().to_string();
        assert!(e.contains("`weft:package` metadata"), "{e}");
    }

    #[test]
    fn wit_versions_are_compatible_within_their_line() {
        let v = |s: &str| semver::Version::parse(s).unwrap();
        let cases = [
            ("0.1.0", "0.1.0", true),
            ("0.1.0", "0.1.4", true),
            ("0.1.5", "0.1.4", false),
            ("0.2.0", "0.1.0", false),
            ("0.1.0", "0.2.0", false),
            ("1.0.0", "1.3.0", true),
            ("1.4.0", "1.3.0", false),
            ("2.0.0", "1.3.0", false),
        ];
        for (wit, host, ok) in cases {
            assert_eq!(wit_compatible(&v(wit), &v(host)), ok, "{wit} on {host}");
        }
    }
}
