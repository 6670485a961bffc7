//! Python blocks runnable within a second of an edit: a block whose own component is not
//! built yet runs from its source in the shared runner (one prebuilt component for every
//! Python block without requirements), once the runner has found, inside the sandbox, that the
//! source compiles. The block's own component is built after, and replaces it.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use weft_pipeline::{Pipeline, Source};
use weft_runtime::{BlockCall, LogLevel, LogSink, RuntimeError};
use weft_schedule::{ComponentRef, Script};

use super::python::{PythonBlock, Runner};
use super::{BuildError, BuildObserver, Builder};

/// Memory the runner may use to compile a source.
const CHECK_MEMORY: u64 = 256 << 20;
/// Time it may take.
const CHECK_TIME: Duration = Duration::from_secs(30);

/// Drops the runner's lines while it checks a source.
struct Discard;

impl LogSink for Discard {
    fn log(&self, _: LogLevel, _: String) {}
}

impl Builder<'_> {
    /// Like [`Builder::build_pipeline`], except that a Python block whose own component is
    /// not cached and that bundles no requirements runs from its source in the shared runner.
    /// Returns the components and whether any block runs so (a full build should follow).
    ///
    /// # Errors
    /// As a build; a source that does not compile is [`BuildError::Compile`] with Python's
    /// message (file and line).
    pub fn build_pipeline_quick(
        &self,
        pipeline: &Pipeline,
        progress: &dyn BuildObserver,
    ) -> Result<(HashMap<String, ComponentRef>, bool), BuildError> {
        let built = self.quick_blocks(pipeline, progress);
        self.runtime.forget_compiled_functions();
        built
    }

    fn quick_blocks(
        &self,
        pipeline: &Pipeline,
        progress: &dyn BuildObserver,
    ) -> Result<(HashMap<String, ComponentRef>, bool), BuildError> {
        let mut runner: Option<ComponentRef> = None;
        let mut scripted = HashMap::new();
        for block in &pipeline.blocks {
            let Source::Python { path, written } = &block.source else {
                continue;
            };
            let Some(script) = self.script(&block.name, path, written)? else {
                continue;
            };
            let r = match &runner {
                Some(r) => r.clone(),
                None => runner.insert(self.runner(progress)?).clone(),
            };
            self.check(&r, &block.name, &script)?;
            let component = ComponentRef {
                script: Some(Arc::new(script)),
                ..r
            };
            scripted.insert(block.name.clone(), component);
        }
        let provisional = !scripted.is_empty();
        Ok((
            self.build_blocks(pipeline, scripted, progress)?,
            provisional,
        ))
    }

    /// The block as a script for the runner, unless its own component is already built or
    /// it bundles requirements.
    fn script(
        &self,
        block: &str,
        path: &Path,
        written: &str,
    ) -> Result<Option<Script>, BuildError> {
        let py = PythonBlock::new(block, written, path, &self.home)?;
        if py.has_requirements() {
            return Ok(None);
        }
        let key = py.key(self.sdk.hash()).map_err(|e| BuildError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let (cwasm, digest) = self.native_names(&key);
        if self.cached(&format!("{key}.wasm")) && self.cached(&cwasm) && self.cached(&digest) {
            return Ok(None);
        }
        Ok(Some(Script {
            module: py.module().to_string(),
            file: written.to_string(),
            source: py.source().to_string(),
        }))
    }

    /// The shared runner's component, built the first time it is needed on this machine.
    ///
    /// # Errors
    /// As a build: no toolchain, or componentize-py failing.
    pub fn runner(&self, progress: &dyn BuildObserver) -> Result<ComponentRef, BuildError> {
        const NAME: &str = "(Python runner)";
        /// One build of the runner at a time in this process (the first save of an edit may
        /// come while the notebook's opening still builds it).
        static BUILDING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one = BUILDING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let started = std::time::Instant::now();
        let key = Runner::key(self.sdk.hash());
        let file = format!("{key}.wasm");
        let wasm = self.cache.join(&file);
        std::fs::create_dir_all(&self.cache).map_err(|e| BuildError::Io {
            path: self.cache.clone(),
            source: e,
        })?;
        let cached = self.cached(&file);
        if !cached {
            progress.compiling(NAME, "weft SDK");
            self.sdk.install(&self.home)?;
            Runner::new(&self.home)?.build(&self.home.join("cache").join("python"), &wasm, &key)?;
            self.share(&file);
        }
        let (component, compiled) = self.native(NAME, "weft SDK", key, wasm, cached)?;
        progress.done(NAME, !compiled, started.elapsed());
        Ok(component)
    }

    /// Whether `script` compiles, asked of the runner in the sandbox (no grants, no inputs,
    /// nothing of the block run).
    fn check(&self, runner: &ComponentRef, block: &str, script: &Script) -> Result<(), BuildError> {
        let component_error = |reason: String| BuildError::Component {
            block: block.to_string(),
            source_path: script.file.clone(),
            reason,
        };
        let cwasm = runner.cwasm.as_deref();
        let loaded = self
            .runtime
            .load(
                block,
                &runner.key,
                &runner.wasm,
                cwasm.zip(runner.cwasm_digest.as_deref()),
            )
            .map_err(|e| component_error(e.to_string()))?;
        let call = BlockCall {
            block: block.to_string(),
            config: script.envelope(&serde_json::json!({}), true),
            inputs: Vec::new(),
            variables: Arc::new(BTreeMap::new()),
            env: Vec::new(),
            memory_limit: CHECK_MEMORY,
            read_limit: 0,
            timeout: CHECK_TIME,
            log: Arc::new(Discard),
            cancel: Default::default(),
            io: None,
            peak_memory: Default::default(),
        };
        match self.runtime.invoke(&loaded, call) {
            Ok(_) => Ok(()),
            Err(RuntimeError::Failed { message, .. }) => Err(BuildError::Compile {
                block: block.to_string(),
                source_path: script.file.clone(),
                output: message,
            }),
            Err(e) => Err(component_error(e.to_string())),
        }
    }
}
