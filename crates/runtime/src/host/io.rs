use wasmtime::component::Resource;
use weft_data::Table;
use weft_io::{BlockIo, Breach, IoError};

use crate::bindings::weft::block::io::Host;
use crate::bindings::GuestError;
use crate::budget::HostStop;
use crate::state::HostState;

/// The one place an IO failure becomes a WIT error case — or, for a limit the call ran into,
/// a stop of the block.
fn guest(e: IoError) -> Result<GuestError, HostStop> {
    Ok(match e {
        IoError::Stopped(Breach::Deadline) => return Err(HostStop::Deadline),
        IoError::Stopped(Breach::Cancelled) => return Err(HostStop::Cancelled),
        IoError::Stopped(b) => return Err(HostStop::Budget(b.to_string())),
        e if e.kind() == "denied" => GuestError::Denied(e.to_string()),
        e if e.kind() == "io" => GuestError::Io(e.to_string()),
        e => GuestError::InvalidInput(e.to_string()),
    })
}

impl HostState {
    /// The block's IO for one call, held to what is left of its limits.
    fn io(&self) -> Result<BlockIo, GuestError> {
        let io = self.io.as_ref().ok_or_else(|| {
            GuestError::Denied("this block runs without IO: no io profiles or grants apply".into())
        })?;
        Ok(io
            .clone()
            .with_limits(self.budget.io_limits(self.limiter.total)))
    }

    /// Run one IO call: a refused call is the block's error, a limit stops the block.
    fn io_call<T>(
        &mut self,
        call: impl FnOnce(&BlockIo) -> Result<T, IoError>,
    ) -> wasmtime::Result<Result<T, GuestError>> {
        self.budget.check()?;
        let io = match self.io() {
            Ok(io) => io,
            Err(e) => return Ok(Err(e)),
        };
        match call(&io) {
            Ok(v) => Ok(Ok(v)),
            Err(e) => Ok(Err(guest(e)?)),
        }
    }
}

impl Host for HostState {
    fn read(
        &mut self,
        uri: String,
        options: String,
    ) -> wasmtime::Result<Result<Resource<Table>, GuestError>> {
        let made = self.io_call(|io| io.read(&uri, &options))?;
        self.hand_over(made)
    }

    fn write(
        &mut self,
        target: String,
        data: Resource<Table>,
        options: String,
    ) -> wasmtime::Result<Result<String, GuestError>> {
        let t = self.table.get(&data)?.clone();
        self.io_call(|io| io.write(&target, &t, &options))
    }

    fn query(
        &mut self,
        profile: String,
        sql: String,
    ) -> wasmtime::Result<Result<Resource<Table>, GuestError>> {
        let made = self.io_call(|io| io.query(&profile, &sql, &[]))?;
        self.hand_over(made)
    }

    fn available(
        &mut self,
        profile: String,
        service: String,
    ) -> wasmtime::Result<Result<bool, GuestError>> {
        self.io_call(|io| io.available(&profile, &service))
    }

    fn setting(
        &mut self,
        profile: String,
        key: String,
    ) -> wasmtime::Result<Result<Option<String>, GuestError>> {
        self.io_call(|io| io.setting(&profile, &key))
    }
}
