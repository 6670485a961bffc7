//! The weft files an import writes: `pipeline.yaml` and `triggers.yaml`, from what was mapped.

use std::collections::BTreeMap;

use serde::Serialize;

use super::grants::Needs;

/// A weft pipeline manifest as the importer writes it.
#[derive(Debug, Default, Serialize)]
pub struct Manifest {
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Blocks of one run at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<usize>,
    /// Runs at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_active_runs: Option<usize>,
    /// Run variables.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, String>,
    /// The blocks.
    pub blocks: Vec<BlockEntry>,
}

/// One block of the manifest.
#[derive(Debug, Default, Serialize)]
pub struct BlockEntry {
    /// Name.
    pub name: String,
    /// weft kind.
    pub kind: String,
    /// File, relative to the weft project.
    pub source: String,
    /// Upstream blocks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub upstream: Vec<String>,
    /// Fans out.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dynamic: bool,
    /// Gathers its children's outputs.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reduce: bool,
    /// Conditions guarding it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
    /// Callbacks told when it ends.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub callbacks: Vec<String>,
    /// Where a SQL block runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// Extra attempts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    /// Between attempts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_delay: Option<String>,
    /// Limit of one attempt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// Settings for Mage's block API (`mage.items`: inputs from a fan-out; `mage.typed`:
    /// variables to decode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<serde_json::Value>,
    /// What it may touch.
    #[serde(skip_serializing_if = "GrantsEntry::is_empty")]
    pub grants: GrantsEntry,
}

/// `grants:` of a block.
#[derive(Debug, Default, Serialize)]
pub struct GrantsEntry {
    /// Read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    /// Written.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub write: Vec<String>,
    /// io_config.yaml profiles.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
    /// Environment variables.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
}

impl GrantsEntry {
    fn is_empty(&self) -> bool {
        self.urls.is_empty()
            && self.write.is_empty()
            && self.profiles.is_empty()
            && self.env.is_empty()
    }
}

impl From<&Needs> for GrantsEntry {
    fn from(n: &Needs) -> Self {
        GrantsEntry {
            urls: n.urls.iter().cloned().collect(),
            write: n.write.iter().cloned().collect(),
            profiles: n.profiles.iter().cloned().collect(),
            env: n.env.iter().cloned().collect(),
        }
    }
}

/// A weft trigger as the importer writes it.
#[derive(Debug, Default, Serialize)]
pub struct TriggerEntry {
    /// Name.
    pub name: String,
    /// `schedule` or `api`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Cron line of a schedule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    /// First tick.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// Run variables.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, String>,
}

/// `value` as YAML under a comment saying where it came from.
pub fn yaml<T: Serialize>(value: &T, from: &str) -> Vec<u8> {
    let body = serde_yaml::to_string(value).unwrap_or_default();
    format!(
        "# Imported from Mage ({from}) by `weft import mage`. Edits are kept when it is\n\
         # imported again, unless the Mage side changed too (then the import stops and names it).\n{body}"
    )
    .into_bytes()
}
