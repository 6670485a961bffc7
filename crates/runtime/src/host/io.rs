use wasmtime::component::Resource;
use weft_data::Table;
use weft_io::{BlockIo, IoError};

use crate::bindings::weft::block::io::Host;
use crate::bindings::GuestError;
use crate::state::HostState;

/// The one place an IO failure becomes a WIT error case.
fn guest(e: IoError) -> GuestError {
    match e.kind() {
        "denied" => GuestError::Denied(e.to_string()),
        "io" => GuestError::Io(e.to_string()),
        _ => GuestError::InvalidInput(e.to_string()),
    }
}

impl HostState {
    fn io(&self) -> Result<&BlockIo, GuestError> {
        self.io.as_ref().ok_or_else(|| {
            GuestError::Denied("this block runs without IO: no io profiles or grants apply".into())
        })
    }
}

impl Host for HostState {
    fn read(
        &mut self,
        uri: String,
        options: String,
    ) -> wasmtime::Result<Result<Resource<Table>, GuestError>> {
        let made = self
            .io()
            .and_then(|io| io.read(&uri, &options).map_err(guest));
        self.hand_over(made)
    }

    fn write(
        &mut self,
        target: String,
        data: Resource<Table>,
        options: String,
    ) -> wasmtime::Result<Result<String, GuestError>> {
        let t = self.table.get(&data)?.clone();
        Ok(self
            .io()
            .and_then(|io| io.write(&target, &t, &options).map_err(guest)))
    }

    fn query(
        &mut self,
        profile: String,
        sql: String,
    ) -> wasmtime::Result<Result<Resource<Table>, GuestError>> {
        let made = self
            .io()
            .and_then(|io| io.query(&profile, &sql, &[]).map_err(guest));
        self.hand_over(made)
    }

    fn available(
        &mut self,
        profile: String,
        service: String,
    ) -> wasmtime::Result<Result<bool, GuestError>> {
        Ok(self
            .io()
            .and_then(|io| io.available(&profile, &service).map_err(guest)))
    }

    fn setting(
        &mut self,
        profile: String,
        key: String,
    ) -> wasmtime::Result<Result<Option<String>, GuestError>> {
        Ok(self
            .io()
            .and_then(|io| io.setting(&profile, &key).map_err(guest)))
    }
}
