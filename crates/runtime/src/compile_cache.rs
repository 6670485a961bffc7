//! Compiled functions shared between the components one process compiles. Every Python block
//! carries its own copy of CPython; with this cache Cranelift compiles CPython's functions once
//! per build, not once per block.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use wasmtime::CacheStore;

/// Bytes of compiled functions kept at most; beyond, new ones are compiled but not kept.
const LIMIT: usize = 512 << 20;

/// An in-memory store of Cranelift's incremental compilation cache.
#[derive(Debug, Default)]
pub(crate) struct CompileCache {
    entries: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<Vec<u8>, Vec<u8>>,
    bytes: usize,
}

impl CompileCache {
    fn lock(&self) -> MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forget every entry (after a build, so a long-running server does not keep them).
    pub(crate) fn clear(&self) {
        let mut e = self.lock();
        e.map = HashMap::new();
        e.bytes = 0;
    }

    /// Bytes held.
    pub(crate) fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

impl CacheStore for CompileCache {
    fn get(&self, key: &[u8]) -> Option<Cow<'_, [u8]>> {
        self.lock().map.get(key).map(|v| Cow::Owned(v.clone()))
    }

    fn insert(&self, key: &[u8], value: Vec<u8>) -> bool {
        let mut e = self.lock();
        let size = key.len() + value.len();
        if e.bytes + size > LIMIT {
            return false;
        }
        if let Some(old) = e.map.insert(key.to_vec(), value) {
            // Two compilations of one function: count it once.
            e.bytes -= key.len() + old.len();
        }
        e.bytes += size;
        true
    }
}

#[cfg(test)]
mod tests {
    use crate::{Runtime, RuntimeConfig};

    /// `(module (func (export "f") (result i32) i32.const 42))`
    const MODULE: &[u8] = &[
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f,
        0x03, 0x02, 0x01, 0x00, 0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, 0x0a, 0x06, 0x01, 0x04,
        0x00, 0x41, 0x2a, 0x0b,
    ];

    #[test]
    fn compiled_functions_are_kept_until_forgotten() {
        let rt = Runtime::new(&RuntimeConfig {
            max_instances: 4,
            ..RuntimeConfig::default()
        })
        .unwrap();
        assert_eq!(rt.compile_cache.bytes(), 0);
        wasmtime::Module::new(&rt.engine, MODULE).unwrap();
        let kept = rt.compile_cache.bytes();
        assert!(kept > 0, "nothing was kept");
        // The same function again is found, not added.
        wasmtime::Module::new(&rt.engine, MODULE).unwrap();
        assert_eq!(rt.compile_cache.bytes(), kept);
        rt.forget_compiled_functions();
        assert_eq!(rt.compile_cache.bytes(), 0);
    }
}
