//! Shared set-up for weft's benchmarks: the probe test block, built once per process with
//! weft's own builder, and a runtime to run it.

use std::path::{Path, PathBuf};

use weft::build::{Builder, NoProgress};
use weft_runtime::{Runtime, RuntimeConfig};
use weft_schedule::ComponentRef;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo root")
        .to_path_buf()
}

/// A runtime plus the compiled probe block (tests/blocks/probe), in a temporary project.
pub struct Fixture {
    /// The project folder (kept alive while the fixture lives).
    pub dir: tempfile::TempDir,
    /// The runtime.
    pub runtime: std::sync::Arc<Runtime>,
    /// The probe's component.
    pub probe: ComponentRef,
}

impl Fixture {
    /// The block's component, loaded and linked.
    ///
    /// # Panics
    /// When the component does not load.
    pub fn load(&self) -> weft_runtime::BlockComponent {
        let p = &self.probe;
        self.runtime
            .load(
                "probe",
                &p.key,
                &p.wasm,
                p.cwasm.as_deref().zip(p.cwasm_digest.as_deref()),
            )
            .expect("load the component")
    }
}

/// Build the probe block and start a runtime.
///
/// # Panics
/// When the Wasm toolchain is missing or the probe does not build.
pub fn fixture() -> Fixture {
    build(&repo().join("tests/blocks/probe"))
}

/// Build one block source (a Rust crate folder or a `.py` file) in a new temporary project.
///
/// # Panics
/// When the toolchain is missing or the block does not build.
pub fn build(source: &Path) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    build_in(&dir, source).with_dir(dir)
}

/// Build one block source in the project folder `dir` (cached when built there before).
///
/// # Panics
/// When the toolchain is missing or the block does not build.
pub fn build_in(dir: &tempfile::TempDir, source: &Path) -> Built {
    let yaml = format!(
        "blocks:\n  - {{ name: probe, kind: transformer, source: {} }}\n",
        source.display()
    );
    let file = dir.path().join("pipelines/bench/pipeline.yaml");
    let pipeline = weft_pipeline::parse(&yaml, &file, dir.path(), "bench").expect("bench pipeline");
    let runtime = std::sync::Arc::new(Runtime::new(&RuntimeConfig::default()).expect("runtime"));
    let probe = Builder::new(dir.path(), &runtime)
        .build_pipeline(&pipeline, &NoProgress)
        .expect("build the block (run scripts/setup.sh first)")
        .remove("probe")
        .expect("component");
    Built { runtime, probe }
}

/// A built block and the runtime that compiled it.
pub struct Built {
    /// The runtime.
    pub runtime: std::sync::Arc<Runtime>,
    /// The block's component.
    pub probe: ComponentRef,
}

impl Built {
    fn with_dir(self, dir: tempfile::TempDir) -> Fixture {
        Fixture {
            dir,
            runtime: self.runtime,
            probe: self.probe,
        }
    }
}
