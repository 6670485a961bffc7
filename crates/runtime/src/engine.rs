//! The [`Runtime`]: one wasmtime engine per process, its linker, the epoch ticker that enforces
//! timeouts, and the cache of pre-instantiated components.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::bindings::{Block, BlockPre};
use crate::compile_cache::CompileCache;
use crate::error::RuntimeError;
use crate::precompiled;
use crate::state::HostState;

/// How often the engine's epoch advances; the granularity of block timeouts.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Settings of the process-wide engine.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Instances that may exist at once (bounds pooled memory reservations).
    pub max_instances: u32,
    /// Largest linear memory any block may have, in bytes.
    pub max_memory: u64,
    /// Bytes of each pooled linear memory kept resident (zeroed, not returned to the OS)
    /// between instances. Large values make big tables cross into blocks without page faults
    /// (a 100 MiB round trip: 52 ms instead of 130 ms) at the cost of resident memory.
    pub keep_resident: usize,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            max_instances: 128,
            max_memory: weft_pipeline::MAX_MEMORY_LIMIT,
            keep_resident: 512 << 20,
        }
    }
}

/// A component ready to instantiate: compiled, linked and type-checked once, instantiated
/// once per block run. Clones share one copy of the code; it is unmapped when the last clone
/// is dropped.
#[derive(Clone)]
pub struct BlockComponent {
    pub(crate) pre: Arc<BlockPre<HostState>>,
}

/// The Wasm engine shared by every block run of the process.
pub struct Runtime {
    pub(crate) engine: Engine,
    linker: Linker<HostState>,
    /// Components some block run holds, by content key: a second run of the same code while
    /// one is alive shares it; once none holds it, its code is unmapped (a block's compiled
    /// CPython is tens of MB resident) and the next load maps the file again.
    loaded: Mutex<HashMap<String, Weak<BlockPre<HostState>>>>,
    ticker_stop: Arc<AtomicBool>,
    /// Functions compiled by [`Runtime::precompile`], reused by the next components.
    pub(crate) compile_cache: Arc<CompileCache>,
}

impl Runtime {
    /// Start an engine with the pooling allocator and epoch interruption.
    ///
    /// # Errors
    /// [`RuntimeError::Engine`] when wasmtime rejects the configuration.
    pub fn new(config: &RuntimeConfig) -> Result<Self, RuntimeError> {
        let compile_cache = Arc::new(CompileCache::default());
        let mut engine_config = engine_config(config);
        engine_config
            .enable_incremental_compilation(compile_cache.clone())
            .map_err(|e| RuntimeError::Engine(e.to_string()))?;
        let engine =
            Engine::new(&engine_config).map_err(|e| RuntimeError::Engine(e.to_string()))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| RuntimeError::Engine(e.to_string()))?;
        Block::add_to_linker::<_, wasmtime::component::HasSelf<_>>(&mut linker, |s| s)
            .map_err(|e| RuntimeError::Engine(e.to_string()))?;
        let ticker_stop = Arc::new(AtomicBool::new(false));
        spawn_ticker(engine.clone(), ticker_stop.clone());
        Ok(Runtime {
            engine,
            linker,
            loaded: Mutex::new(HashMap::new()),
            ticker_stop,
            compile_cache,
        })
    }

    /// A key that changes whenever compiled code from this engine would not load in another:
    /// wasmtime version, engine settings and host CPU features.
    pub fn compatibility_key(&self) -> String {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.engine.precompile_compatibility_hash().hash(&mut h);
        format!("wasmtime{}-{:016x}", wasmtime_version(), h.finish())
    }

    /// Compile a component's bytes to native code for this engine (a `.cwasm`).
    ///
    /// # Errors
    /// [`RuntimeError::Load`] naming `path` when the bytes are not a valid component.
    pub fn precompile(&self, wasm: &[u8], path: &Path) -> Result<Vec<u8>, RuntimeError> {
        self.engine
            .precompile_component(wasm)
            .map_err(|e| RuntimeError::Load {
                path: path.to_path_buf(),
                reason: format!("{e:#}"),
            })
    }

    /// Drop the functions kept from earlier compilations (call when a build is done; a later
    /// build compiles them again).
    pub fn forget_compiled_functions(&self) {
        let held = self.compile_cache.bytes();
        self.compile_cache.clear();
        tracing::debug!(bytes = held, "compile cache cleared");
    }

    /// Load a block's component and link it. Precompiled native code (`cwasm`: its file and
    /// the SHA-256 weft recorded when it compiled it) is used only when the file's digest
    /// matches (see [`precompiled`]); otherwise the `.wasm` is compiled (and validated) again.
    /// Loads are shared under `key` (a content hash) for as long as a returned
    /// [`BlockComponent`] is alive.
    ///
    /// # Errors
    /// [`RuntimeError::Load`] when the file cannot be read or compiled;
    /// [`RuntimeError::Incompatible`] when it does not implement the block world.
    pub fn load(
        &self,
        block: &str,
        key: &str,
        wasm: &Path,
        cwasm: Option<(&Path, &str)>,
    ) -> Result<BlockComponent, RuntimeError> {
        if let Some(pre) = self
            .loaded
            .lock()
            .expect("component cache poisoned")
            .get(key)
            .and_then(Weak::upgrade)
        {
            return Ok(BlockComponent { pre });
        }
        let native = cwasm.and_then(|(p, digest)| precompiled::check(p, digest).map(|c| (p, c)));
        let component = match native {
            // SAFETY: this file is, digest for digest, what `weft build` wrote from this
            // engine's `precompile` into the project's private cache (out of every block's
            // grants), keyed by the compatibility key; it is mapped from the very file checked.
            #[allow(unsafe_code)]
            Some((p, checked)) => {
                unsafe { Component::deserialize_file(&self.engine, checked.path()) }.map_err(
                    |e| RuntimeError::Load {
                        path: p.to_path_buf(),
                        reason: format!("{e:#}"),
                    },
                )?
            }
            None => {
                let compiled = Component::from_file(&self.engine, wasm);
                // Compiled outside a build: keep nothing of it.
                self.compile_cache.clear();
                compiled.map_err(|e| RuntimeError::Load {
                    path: wasm.to_path_buf(),
                    reason: format!("{e:#}"),
                })?
            }
        };
        let pre = self
            .linker
            .instantiate_pre(&component)
            .and_then(BlockPre::new)
            .map_err(|e| RuntimeError::Incompatible {
                block: block.to_string(),
                reason: format!("{e:#}"),
            })?;
        let pre = Arc::new(pre);
        let mut loaded = self.loaded.lock().expect("component cache poisoned");
        loaded.retain(|_, held| held.strong_count() > 0);
        loaded.insert(key.to_string(), Arc::downgrade(&pre));
        Ok(BlockComponent { pre })
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

fn engine_config(config: &RuntimeConfig) -> Config {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(config.max_instances)
        .total_core_instances(config.max_instances * 16)
        .total_memories(config.max_instances * 4)
        .total_tables(config.max_instances * 16)
        .max_memories_per_component(16)
        .max_tables_per_component(64)
        .max_core_instances_per_component(64)
        .max_component_instance_size(16 << 20)
        .max_core_instance_size(16 << 20)
        .max_memory_size(config.max_memory as usize)
        .table_elements(1 << 20)
        .linear_memory_keep_resident(config.keep_resident)
        .table_keep_resident(1 << 16);
    let mut c = Config::new();
    c.wasm_component_model(true)
        .epoch_interruption(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
        .wasm_backtrace_details(wasmtime::WasmBacktraceDetails::Enable);
    c
}

fn spawn_ticker(engine: Engine, stop: Arc<AtomicBool>) {
    std::thread::Builder::new()
        .name("weft-epoch".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        })
        .expect("spawn epoch ticker thread");
}

fn wasmtime_version() -> &'static str {
    "48.0.8"
}
