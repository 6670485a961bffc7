use crate::bindings::weft::block::context::Host;
use crate::bindings::Level;
use crate::state::{HostState, LogLevel};

impl Host for HostState {
    fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        let level = match level {
            Level::Trace => LogLevel::Trace,
            Level::Debug => LogLevel::Debug,
            Level::Info => LogLevel::Info,
            Level::Warn => LogLevel::Warn,
            Level::Error => LogLevel::Error,
        };
        self.log.emit(level, message);
        Ok(())
    }

    fn variable(&mut self, name: String) -> wasmtime::Result<Option<String>> {
        Ok(self.variables.get(&name).cloned())
    }

    fn variables(&mut self) -> wasmtime::Result<Vec<(String, String)>> {
        Ok(self
            .variables
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
}
