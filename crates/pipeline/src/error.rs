//! Everything that can be wrong with a pipeline manifest, one variant per problem.

use std::fmt;
use std::path::PathBuf;

/// One problem found in a pipeline manifest. Each names the file and, where there is one, the
/// block, and says what would have been valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("{file}: cannot read: {reason}")]
    Read {
        /// The manifest path.
        file: PathBuf,
        /// The operating system's message.
        reason: String,
    },
    /// The file is not valid YAML, or its top level has the wrong shape.
    #[error("{file}: {reason}")]
    Syntax {
        /// The manifest path.
        file: PathBuf,
        /// The parser's message, with line and column.
        reason: String,
    },
    /// A key the manifest format does not know.
    #[error("{file}: {}unknown field `{field}`{}; valid fields: {valid}", at(.block), hint(.suggestion))]
    UnknownField {
        /// The manifest path.
        file: PathBuf,
        /// The block holding the key, or none for the top level.
        block: Option<String>,
        /// The unknown key.
        field: String,
        /// The closest valid key, if one is close.
        suggestion: Option<String>,
        /// The valid keys, comma separated.
        valid: String,
    },
    /// A field has a value of the wrong type or form.
    #[error("{file}: {}field `{field}`: {reason}", at(.block))]
    InvalidField {
        /// The manifest path.
        file: PathBuf,
        /// The block holding the field, or none for the top level.
        block: Option<String>,
        /// The field.
        field: String,
        /// What is wrong and what would be valid.
        reason: String,
    },
    /// A required field is absent.
    #[error("{file}: {}missing field `{field}`", at(.block))]
    MissingField {
        /// The manifest path.
        file: PathBuf,
        /// The block missing the field, or none for the top level.
        block: Option<String>,
        /// The field.
        field: String,
    },
    /// Two blocks share a name.
    #[error("{file}: block \"{block}\" is defined more than once (entries {first} and {second})")]
    DuplicateBlock {
        /// The manifest path.
        file: PathBuf,
        /// The repeated name.
        block: String,
        /// 1-based position of the first definition.
        first: usize,
        /// 1-based position of the repeated definition.
        second: usize,
    },
    /// `upstream:` names a block that does not exist.
    #[error("{file}: block \"{block}\": upstream \"{upstream}\" is not a block of this pipeline{}", hint(.suggestion))]
    UnknownUpstream {
        /// The manifest path.
        file: PathBuf,
        /// The block whose upstream list is wrong.
        block: String,
        /// The unknown name.
        upstream: String,
        /// The closest block name, if one is close.
        suggestion: Option<String>,
    },
    /// The blocks' upstream edges form a cycle.
    #[error("{file}: cycle in upstream edges: {}", .blocks.join(" -> "))]
    Cycle {
        /// The manifest path.
        file: PathBuf,
        /// The blocks in the cycle, in edge order, the first repeated at the end.
        blocks: Vec<String>,
    },
    /// A field of a trigger in triggers.yaml is wrong.
    #[error("{file}: trigger \"{trigger}\": field `{field}`: {reason}")]
    TriggerField {
        /// The triggers file.
        file: PathBuf,
        /// The trigger (`#n` when it has no usable name).
        trigger: String,
        /// The field.
        field: String,
        /// What is wrong and what would be valid.
        reason: String,
    },
    /// `source:` does not point at a block the host can build or load.
    #[error("{file}: block \"{block}\": source `{source_path}`: {reason}")]
    BadSource {
        /// The manifest path.
        file: PathBuf,
        /// The block.
        block: String,
        /// The source as written.
        source_path: String,
        /// What is wrong and what would be valid.
        reason: String,
    },
}

fn at(block: &Option<String>) -> String {
    block
        .as_ref()
        .map(|b| format!("block \"{b}\": "))
        .unwrap_or_default()
}

fn hint(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map(|s| format!("; did you mean \"{s}\"?"))
        .unwrap_or_default()
}

/// All problems found in one manifest (never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestErrors(pub Vec<ManifestError>);

impl fmt::Display for ManifestErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ManifestErrors {}

impl From<ManifestError> for ManifestErrors {
    fn from(e: ManifestError) -> Self {
        ManifestErrors(vec![e])
    }
}

/// The closest candidate to `name`, if it is close enough to be a likely typo.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.to_string())
}
