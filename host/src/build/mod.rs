//! `weft build`: every block source of a project compiled to a component and to native code,
//! both cached by content hash, so an unchanged project builds in milliseconds and a run never
//! compiles.

mod cargo;
mod hash;
pub mod jail;
mod python;
mod quick;
mod sdk;
mod target_dir;
mod toolchain;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use weft_pipeline::{Pipeline, Source};
use weft_runtime::Runtime;
use weft_schedule::ComponentRef;

pub(crate) use python::NATIVE;
pub use sdk::{Sdk, SETUP_SCRIPT};
pub use toolchain::Toolchain;

/// Why a block could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The Wasm toolchain is not installed.
    #[error("the Wasm toolchain is not set up: {reason}")]
    NoToolchain {
        /// What is missing.
        reason: String,
    },
    /// A Python block imports a package that cannot run in the sandbox.
    #[error("block \"{block}\" ({source_path}): {reason}")]
    Refused {
        /// A block using the source.
        block: String,
        /// The source as written.
        source_path: String,
        /// What was refused and why.
        reason: String,
    },
    /// The block's code did not compile.
    #[error("block \"{block}\" ({source_path}) does not compile:\n{output}")]
    Compile {
        /// A block using the source.
        block: String,
        /// The source as written in pipeline.yaml.
        source_path: String,
        /// The compiler's error messages.
        output: String,
    },
    /// The compiled file is not a usable component.
    #[error("block \"{block}\" ({source_path}): {reason}")]
    Component {
        /// A block using the source.
        block: String,
        /// The source as written.
        source_path: String,
        /// What is wrong.
        reason: String,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// A suffix for temporary names that no other build uses, in this process or another: the
/// process id and a count (a server builds a quick load and a full one at the same time).
pub(crate) fn unique() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}-{n}", std::process::id())
}

impl BuildError {
    /// Whether the fault is the block's own: its source does not compile, or it is refused.
    pub fn is_the_blocks(&self) -> bool {
        matches!(
            self,
            BuildError::Compile { .. } | BuildError::Refused { .. }
        )
    }
}

/// Progress callbacks of a build.
pub trait BuildObserver {
    /// `block`'s source is being compiled (not cached).
    fn compiling(&self, block: &str, source: &str);
    /// Cargo reported progress (a crate compiled).
    fn step(&self, block: &str, message: &str);
    /// `block`'s source is ready; `cached` when nothing had to be compiled.
    fn done(&self, block: &str, cached: bool, took: Duration);
}

/// Ignores build progress.
pub struct NoProgress;

impl BuildObserver for NoProgress {
    fn compiling(&self, _: &str, _: &str) {}
    fn step(&self, _: &str, _: &str) {}
    fn done(&self, _: &str, _: bool, _: Duration) {}
}

/// `$WEFT_HOME`, default `~/.weft`: toolchain, SDK copies, shared guest build cache.
pub fn weft_home() -> PathBuf {
    match std::env::var_os("WEFT_HOME") {
        Some(h) if !h.is_empty() => PathBuf::from(h),
        _ => std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."))
            .join(".weft"),
    }
}

/// Builds the block sources of a project.
pub struct Builder<'a> {
    runtime: &'a Runtime,
    cache: PathBuf,
    /// Components of every project on this machine, by the same content-hash names.
    shared: PathBuf,
    home: PathBuf,
    sdk: Sdk,
}

impl<'a> Builder<'a> {
    /// A builder writing components to `<project>/.weft/components`.
    pub fn new(project_root: &Path, runtime: &'a Runtime) -> Self {
        let home = weft_home();
        Builder {
            runtime,
            cache: project_root.join(".weft").join("components"),
            shared: std::env::var_os("WEFT_COMPONENT_CACHE")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join("cache").join("components")),
            home,
            sdk: Sdk::embedded(),
        }
    }

    /// True when `name` is in the project's cache, taking it from the machine-wide cache
    /// (a hard link, else a copy) when only that has it.
    fn cached(&self, name: &str) -> bool {
        let local = self.cache.join(name);
        if local.is_file() {
            return true;
        }
        let shared = self.shared.join(name);
        shared.is_file()
            && (std::fs::hard_link(&shared, &local).is_ok()
                || std::fs::copy(&shared, &local).is_ok())
    }

    /// Offer a freshly built `name` to the machine-wide cache (best effort, atomic).
    fn share(&self, name: &str) {
        let shared = self.shared.join(name);
        if shared.is_file() || std::fs::create_dir_all(&self.shared).is_err() {
            return;
        }
        let tmp = self.shared.join(format!("{name}.tmp{}", unique()));
        let local = self.cache.join(name);
        if std::fs::hard_link(&local, &tmp).is_ok() || std::fs::copy(&local, &tmp).is_ok() {
            let _ = std::fs::rename(&tmp, &shared);
        }
    }

    /// Build every source the pipeline's blocks use; returns each block's component.
    ///
    /// # Errors
    /// The first [`BuildError`]; compiler output names the block.
    pub fn build_pipeline(
        &self,
        pipeline: &Pipeline,
        progress: &dyn BuildObserver,
    ) -> Result<HashMap<String, ComponentRef>, BuildError> {
        let built = self.build_blocks(pipeline, HashMap::new(), progress);
        // Functions the blocks shared (CPython's) were compiled once; free them either way.
        self.runtime.forget_compiled_functions();
        built
    }

    /// Every block's component; those in `preset` are taken as they are.
    fn build_blocks(
        &self,
        pipeline: &Pipeline,
        preset: HashMap<String, ComponentRef>,
        progress: &dyn BuildObserver,
    ) -> Result<HashMap<String, ComponentRef>, BuildError> {
        let mut by_source: HashMap<Source, ComponentRef> = HashMap::new();
        let mut out = preset;
        let mut toolchain: Option<Toolchain> = None;
        for block in &pipeline.blocks {
            if out.contains_key(&block.name) {
                continue;
            }
            if let Source::Sql { path, written } = &block.source {
                // SQL runs in the host's engine: nothing to compile, but the file must be readable.
                std::fs::metadata(path).map_err(|e| BuildError::Io {
                    path: PathBuf::from(written),
                    source: e,
                })?;
                continue;
            }
            let component = match by_source.get(&block.source) {
                Some(c) => c.clone(),
                None => {
                    let c =
                        self.build_source(&block.name, &block.source, &mut toolchain, progress)?;
                    by_source.insert(block.source.clone(), c.clone());
                    c
                }
            };
            out.insert(block.name.clone(), component);
        }
        Ok(out)
    }

    /// The component file of `source` (built when not cached), without compiling it to
    /// native code: what a package holds.
    ///
    /// # Errors
    /// As a build.
    pub fn component_file(
        &self,
        block: &str,
        source: &Source,
        progress: &dyn BuildObserver,
    ) -> Result<PathBuf, BuildError> {
        let started = Instant::now();
        let (_, wasm, cached) = self.wasm_file(block, source, &mut None, progress)?;
        progress.done(block, cached, started.elapsed());
        Ok(wasm)
    }

    /// The component of `source`: `(cache key, file, whether it was cached)`.
    fn wasm_file(
        &self,
        block: &str,
        source: &Source,
        toolchain: &mut Option<Toolchain>,
        progress: &dyn BuildObserver,
    ) -> Result<(String, PathBuf, bool), BuildError> {
        let io = |path: &Path, e: std::io::Error| BuildError::Io {
            path: path.to_path_buf(),
            source: e,
        };
        std::fs::create_dir_all(&self.cache).map_err(|e| io(&self.cache, e))?;
        Ok(match source {
            Source::Python { path, written } => {
                let py = python::PythonBlock::new(block, written, path, &self.home)?;
                let key = py.key(self.sdk.hash()).map_err(|e| io(path, e))?;
                let wasm = self.cache.join(format!("{key}.wasm"));
                if self.cached(&format!("{key}.wasm")) {
                    (key, wasm, true)
                } else {
                    progress.compiling(block, written);
                    let sdk_root = self.sdk.install(&self.home)?;
                    py.build(
                        &sdk_root,
                        &self.home.join("cache").join("python"),
                        &wasm,
                        &key,
                    )?;
                    self.share(&format!("{key}.wasm"));
                    (key, wasm, false)
                }
            }
            Source::Package { written, .. } => {
                return Err(BuildError::Component {
                    block: block.to_string(),
                    source_path: written.clone(),
                    reason: "the package was not resolved from weft.lock before the build".into(),
                })
            }
            Source::Sql { written, .. } => {
                return Err(BuildError::Component {
                    block: block.to_string(),
                    source_path: written.clone(),
                    reason: "a SQL block runs in the host and has no component".into(),
                })
            }
            Source::Wasm { path, .. } => {
                let bytes = std::fs::read(path).map_err(|e| io(path, e))?;
                (hash::bytes(&bytes), path.clone(), true)
            }
            Source::Rust { dir, written } => {
                if toolchain.is_none() {
                    *toolchain = Some(Toolchain::find(&self.home)?);
                }
                let tc = toolchain.as_ref().expect("toolchain just found");
                let key = hash::rust_crate(dir, self.sdk.hash(), &tc.fingerprint)
                    .map_err(|e| io(dir, e))?;
                let wasm = self.cache.join(format!("{key}.wasm"));
                if self.cached(&format!("{key}.wasm")) {
                    (key, wasm, true)
                } else {
                    progress.compiling(block, written);
                    let sdk_dir = self.sdk.install(&self.home)?.join("sdk-rust");
                    let targets = self.home.join("cache").join("guest-target");
                    let built = cargo::build(tc, dir, &sdk_dir, &targets, &mut |m| {
                        progress.step(block, m)
                    })
                    .map_err(|output| BuildError::Compile {
                        block: block.to_string(),
                        source_path: written.clone(),
                        output,
                    })?;
                    // The build may have written Cargo.lock: key the cache on the state after it.
                    let key = hash::rust_crate(dir, self.sdk.hash(), &tc.fingerprint)
                        .map_err(|e| io(dir, e))?;
                    let wasm = self.cache.join(format!("{key}.wasm"));
                    // Through a temporary file: another build may look for it meanwhile.
                    let tmp = wasm.with_extension(format!("tmp{}", unique()));
                    std::fs::copy(&built, &tmp).map_err(|e| io(&built, e))?;
                    std::fs::rename(&tmp, &wasm).map_err(|e| io(&wasm, e))?;
                    self.share(&format!("{key}.wasm"));
                    (key, wasm, false)
                }
            }
        })
    }

    fn build_source(
        &self,
        block: &str,
        source: &Source,
        toolchain: &mut Option<Toolchain>,
        progress: &dyn BuildObserver,
    ) -> Result<ComponentRef, BuildError> {
        let started = Instant::now();
        let (key, wasm, cached) = self.wasm_file(block, source, toolchain, progress)?;
        let (component, compiled) = self.native(block, source.written(), key, wasm, cached)?;
        progress.done(block, !compiled, started.elapsed());
        Ok(component)
    }

    /// The names of `key`'s native code and of its recorded digest.
    fn native_names(&self, key: &str) -> (String, String) {
        let cwasm = format!("{key}.{}.cwasm", self.runtime.compatibility_key());
        let digest = format!("{cwasm}.sha256");
        (cwasm, digest)
    }

    /// `wasm` compiled to native code (when not cached) as a runnable component; also
    /// whether anything was compiled.
    fn native(
        &self,
        block: &str,
        written: &str,
        key: String,
        wasm: PathBuf,
        cached: bool,
    ) -> Result<(ComponentRef, bool), BuildError> {
        let io = |path: &Path, e: std::io::Error| BuildError::Io {
            path: path.to_path_buf(),
            source: e,
        };
        let (cwasm_name, digest_name) = self.native_names(&key);
        let cwasm = self.cache.join(&cwasm_name);
        // The digest of the native code, recorded when weft compiles it: loads check it.
        let mut compiled = !cached;
        if !(self.cached(&cwasm_name) && self.cached(&digest_name)) {
            let bytes = std::fs::read(&wasm).map_err(|e| io(&wasm, e))?;
            let native =
                self.runtime
                    .precompile(&bytes, &wasm)
                    .map_err(|e| BuildError::Component {
                        block: block.to_string(),
                        source_path: written.to_string(),
                        reason: e.to_string(),
                    })?;
            let digest = hash::sha256(&native);
            let tmp = cwasm.with_extension(format!("tmp{}", unique()));
            std::fs::write(&tmp, native).map_err(|e| io(&tmp, e))?;
            std::fs::rename(&tmp, &cwasm).map_err(|e| io(&cwasm, e))?;
            let record = self.cache.join(&digest_name);
            let tmp = record.with_extension(format!("tmp{}", unique()));
            std::fs::write(&tmp, &digest).map_err(|e| io(&tmp, e))?;
            std::fs::rename(&tmp, &record).map_err(|e| io(&record, e))?;
            self.share(&cwasm_name);
            self.share(&digest_name);
            compiled = true;
        }
        let cwasm_digest = std::fs::read_to_string(self.cache.join(&digest_name)).ok();
        Ok((
            ComponentRef {
                key,
                wasm,
                cwasm: Some(cwasm),
                cwasm_digest,
                script: None,
            },
            compiled,
        ))
    }
}
