//! What `weft import mage` reads of a Mage project: pipelines' `metadata.yaml`, their
//! `triggers.yaml`, and where each block's file lives.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ImportError;

/// A Mage pipeline's `metadata.yaml` (the fields weft maps; the rest is ignored).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MagePipeline {
    /// Display name.
    pub name: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// `python`, `integration`, `streaming`, `databricks`, ...
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The steps of the pipeline.
    #[serde(deserialize_with = "null_default")]
    pub blocks: Vec<MageBlock>,
    /// Callback blocks (attached to blocks by their `callback_blocks`).
    #[serde(deserialize_with = "null_default")]
    pub callbacks: Vec<MageBlock>,
    /// Conditional blocks (attached to blocks by their `conditional_blocks`).
    #[serde(deserialize_with = "null_default")]
    pub conditionals: Vec<MageBlock>,
    /// Pipeline variables (any YAML value).
    pub variables: Option<BTreeMap<String, serde_yaml::Value>>,
    /// Retries of every block that sets none.
    pub retry_config: Option<RetryConfig>,
    /// `block_run_limit`, `pipeline_run_limit`.
    pub concurrency_config: Option<ConcurrencyConfig>,
    /// Where Mage ran the blocks (`local_python`, `k8s`, `ecs`, ...).
    pub executor_type: Option<String>,
}

/// One block entry of `metadata.yaml`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MageBlock {
    /// The block's id (its file name without extension).
    pub uuid: String,
    /// `data_loader`, `transformer`, `data_exporter`, `sensor`, `custom`, `conditional`,
    /// `callback`, `dbt`, `scratchpad`, `markdown`, `chart`, `extension`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// `python`, `sql`, `r`, `yaml`, `markdown`.
    pub language: Option<String>,
    /// Blocks whose outputs it receives, in order.
    #[serde(deserialize_with = "null_default")]
    pub upstream_blocks: Vec<String>,
    /// `dynamic`, `reduce_output`, `data_provider*`, `file_source`, ...
    pub configuration: Option<serde_yaml::Mapping>,
    /// Conditional blocks evaluated before it.
    #[serde(deserialize_with = "null_default")]
    pub conditional_blocks: Vec<String>,
    /// Callback blocks run after it.
    #[serde(deserialize_with = "null_default")]
    pub callback_blocks: Vec<String>,
    /// Its own retries.
    pub retry_config: Option<RetryConfig>,
    /// Seconds one attempt may take.
    pub timeout: Option<serde_yaml::Value>,
    /// Where Mage ran it.
    pub executor_type: Option<String>,
}

/// Mage's `retry_config`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct RetryConfig {
    /// Extra attempts.
    pub retries: Option<u32>,
    /// Seconds between attempts.
    pub delay: Option<f64>,
}

/// Mage's `concurrency_config`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ConcurrencyConfig {
    /// Blocks of one run at once.
    pub block_run_limit: Option<usize>,
    /// Runs of the pipeline at once.
    pub pipeline_run_limit: Option<usize>,
}

/// A Mage trigger of `pipelines/<uuid>/triggers.yaml`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MageTrigger {
    /// Its name.
    pub name: String,
    /// `time`, `api` or `event`.
    pub schedule_type: Option<String>,
    /// `@hourly`, `@daily`, `@weekly`, `@monthly`, `@once`, `@always_on`, or a cron line.
    pub schedule_interval: Option<String>,
    /// First tick.
    pub start_time: Option<serde_yaml::Value>,
    /// `active` or `inactive`.
    pub status: Option<String>,
    /// Run variables.
    pub variables: Option<BTreeMap<String, serde_yaml::Value>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TriggerFile {
    #[serde(deserialize_with = "null_default")]
    triggers: Vec<MageTrigger>,
}

impl MageBlock {
    /// A string setting of `configuration`.
    pub fn setting(&self, key: &str) -> Option<String> {
        let v = self.configuration.as_ref()?.get(key)?;
        match v {
            serde_yaml::Value::String(s) => Some(s.clone()),
            serde_yaml::Value::Bool(b) => Some(b.to_string()),
            serde_yaml::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// Whether boolean setting `key` of `configuration` is true.
    pub fn flag(&self, key: &str) -> bool {
        self.setting(key).as_deref() == Some("true")
    }

    /// `python` unless said otherwise.
    pub fn language(&self) -> &str {
        self.language.as_deref().unwrap_or("python")
    }

    /// The block's file relative to the Mage project root: `configuration.file_source.path`,
    /// `configuration.file_path`, else `<type>s/<uuid>.<ext>` as Mage lays it out.
    pub fn file(&self) -> PathBuf {
        let configured = self.configuration.as_ref().and_then(|c| {
            c.get("file_source")
                .and_then(|f| f.get("path"))
                .or_else(|| c.get("file_path"))
                .and_then(|p| p.as_str())
                .map(str::to_string)
        });
        if let Some(p) = configured {
            return PathBuf::from(p);
        }
        let ext = match self.language() {
            "sql" => "sql",
            "r" => "r",
            "yaml" => "yaml",
            "markdown" => "md",
            _ => "py",
        };
        PathBuf::from(type_dir(&self.kind)).join(format!("{}.{ext}", self.uuid))
    }
}

/// A field Mage may write as `null`: its default then.
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// The folder Mage keeps blocks of `kind` in (`data_loader` → `data_loaders`).
pub fn type_dir(kind: &str) -> String {
    if kind == "custom" {
        kind.to_string()
    } else {
        format!("{kind}s")
    }
}

/// The pipelines of the Mage project at `root`, by folder name, sorted.
///
/// # Errors
/// [`ImportError::NotMage`] when `root` has no `pipelines/*/metadata.yaml`;
/// [`ImportError::Mage`] naming a file that does not parse.
pub fn pipelines(root: &Path) -> Result<Vec<(String, MagePipeline)>, ImportError> {
    let dir = root.join("pipelines");
    let entries = std::fs::read_dir(&dir).map_err(|_| ImportError::NotMage {
        path: root.to_path_buf(),
    })?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().join("metadata.yaml").is_file())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    names.sort();
    if names.is_empty() {
        return Err(ImportError::NotMage {
            path: root.to_path_buf(),
        });
    }
    names
        .into_iter()
        .map(|n| {
            let file = dir.join(&n).join("metadata.yaml");
            let p: MagePipeline = read_yaml(&file)?;
            Ok((n, p))
        })
        .collect()
}

/// The triggers of pipeline `name` (none when it has no `triggers.yaml`).
///
/// # Errors
/// [`ImportError::Mage`] naming a `triggers.yaml` that does not parse.
pub fn triggers(root: &Path, name: &str) -> Result<Vec<MageTrigger>, ImportError> {
    let file = root.join("pipelines").join(name).join("triggers.yaml");
    if !file.is_file() {
        return Ok(Vec::new());
    }
    let t: TriggerFile = read_yaml(&file)?;
    Ok(t.triggers)
}

fn read_yaml<T: serde::de::DeserializeOwned + Default>(file: &Path) -> Result<T, ImportError> {
    let text = std::fs::read_to_string(file).map_err(|source| ImportError::Io {
        path: file.to_path_buf(),
        source,
    })?;
    if text.trim().is_empty() {
        return Ok(T::default());
    }
    serde_yaml::from_str(&text).map_err(|e| ImportError::Mage {
        path: file.to_path_buf(),
        reason: e.to_string(),
    })
}

/// A YAML scalar as weft's string variable value (lists and maps as JSON).
pub fn scalar(v: &serde_yaml::Value) -> String {
    match v {
        serde_yaml::Value::String(s) => s.clone(),
        serde_yaml::Value::Bool(b) => b.to_string(),
        serde_yaml::Value::Number(n) => n.to_string(),
        serde_yaml::Value::Null => String::new(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}
