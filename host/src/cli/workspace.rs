//! The project as `weft serve` loads it again: a pipeline read, validated and built on
//! request, its failure told as a problem with the file and line where one is known.

use std::path::Path;
use std::sync::Arc;

use weft_runtime::Runtime;
use weft_server::workspace::{Problem, Workspace};
use weft_server::Loaded;

use crate::build::{BuildError, Builder, NoProgress};
use crate::error::CliError;
use crate::project::Project;

/// A project served by `weft serve`.
pub struct ProjectWorkspace {
    project: Project,
    runtime: Arc<Runtime>,
}

impl ProjectWorkspace {
    /// The workspace of `project`, building with `runtime`.
    pub fn new(project: Project, runtime: Arc<Runtime>) -> Self {
        ProjectWorkspace { project, runtime }
    }
}

impl Workspace for ProjectWorkspace {
    fn root(&self) -> &Path {
        &self.project.root
    }

    fn load(&self, name: &str) -> Result<Loaded, Problem> {
        self.read(name, false)
    }

    fn load_quick(&self, name: &str) -> Result<Loaded, Problem> {
        self.read(name, true)
    }

    fn prepare(&self) {
        let builder = Builder::new(&self.project.root, &self.runtime);
        if let Err(e) = builder.runner(&NoProgress) {
            tracing::warn!("the Python runner for edited blocks is not ready: {e}");
        }
    }
}

impl ProjectWorkspace {
    /// Read, validate and build pipeline `name`; `quick`: edited Python blocks run from
    /// their source in the shared runner until their own build (see `build::quick`).
    fn read(&self, name: &str, quick: bool) -> Result<Loaded, Problem> {
        let manifest = format!("pipelines/{name}/pipeline.yaml");
        let pipeline = Arc::new(
            self.project
                .pipeline(name)
                .map_err(|e| problem(&e, Some(&manifest)))?,
        );
        let triggers = self
            .project
            .triggers(name)
            .map_err(|e| problem(&e, Some(&format!("pipelines/{name}/triggers.yaml"))))?;
        let builder = Builder::new(&self.project.root, &self.runtime);
        let full = || {
            builder
                .build_pipeline(&pipeline, &NoProgress)
                .map(|c| (c, false))
        };
        let built = if quick {
            match builder.build_pipeline_quick(&pipeline, &NoProgress) {
                // A source that does not compile or a block that is refused is the answer;
                // the runner failing (no toolchain, a trap, its limits) is not: the full
                // build is.
                Err(e) if !e.is_the_blocks() => {
                    tracing::warn!("a quick load of {name} did not work ({e}); building it");
                    full()
                }
                r => r,
            }
        } else {
            full()
        };
        let (components, provisional) = built.map_err(|e| build_problem(&e))?;
        Ok(Loaded {
            pipeline,
            components,
            triggers,
            provisional,
        })
    }
}

/// A manifest or trigger file problem.
fn problem(e: &CliError, file: Option<&str>) -> Problem {
    let message = e.to_string();
    Problem {
        line: manifest_line(&message),
        file: file.map(str::to_string),
        block: None,
        message,
    }
}

/// A block that does not build: its file and, from the compiler's message, its line.
fn build_problem(e: &BuildError) -> Problem {
    let message = e.to_string();
    let (block, file) = match e {
        BuildError::Refused {
            block, source_path, ..
        }
        | BuildError::Compile {
            block, source_path, ..
        }
        | BuildError::Component {
            block, source_path, ..
        } => (Some(block.clone()), Some(source_path.clone())),
        _ => (None, None),
    };
    let line = file
        .as_deref()
        .and_then(|f| compiler_line(&message, f))
        .or_else(|| match e {
            BuildError::Refused { reason, .. } => manifest_line(reason),
            _ => None,
        });
    Problem {
        message,
        block,
        file,
        line,
    }
}

/// `line N` in a parser's message.
fn manifest_line(message: &str) -> Option<u32> {
    let at = message.find("line ")?;
    let digits: String = message[at + 5..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The line a compiler points at in `file`: Python's `File "<file>", line N` (the last such
/// frame) or rustc's `--> src/lib.rs:N:M`.
fn compiler_line(message: &str, file: &str) -> Option<u32> {
    let python = format!("\"{file}\", line ");
    if let Some(at) = message.rfind(&python) {
        return manifest_line(&message[at + python.len() - 5..]);
    }
    let rust = message.find("--> ")?;
    let rest = &message[rust + 4..];
    let rest = rest.split_whitespace().next()?;
    let mut parts = rest.rsplitn(3, ':');
    let _col = parts.next()?;
    parts.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_found_in_compiler_messages() {
        let py = "block \"b\" (blocks/b.py) does not compile:\n  File \"blocks/b.py\", line 7\n    def f(:\n          ^\nSyntaxError: invalid syntax";
        assert_eq!(compiler_line(py, "blocks/b.py"), Some(7));
        let rs = "error[E0425]: cannot find value `x`\n --> src/lib.rs:12:5\n";
        assert_eq!(compiler_line(rs, "blocks/r"), Some(12));
        assert_eq!(compiler_line("no place", "blocks/b.py"), None);
        assert_eq!(
            manifest_line("pipeline.yaml: did not find expected key at line 4 column 3"),
            Some(4)
        );
    }
}
