use wasmtime::component::Resource;
use weft_data::Table;

use crate::bindings::weft::block::compute::Host;
use crate::bindings::GuestError;
use crate::state::HostState;

impl Host for HostState {
    fn sql(
        &mut self,
        query: String,
        tables: Vec<(String, Resource<Table>)>,
    ) -> wasmtime::Result<Result<Resource<Table>, GuestError>> {
        let mut named = Vec::with_capacity(tables.len());
        for (name, handle) in &tables {
            named.push((name.clone(), self.table.get(handle)?.clone()));
        }
        match weft_data::sql(&query, &named) {
            Ok(t) => Ok(Ok(self.table.push(t)?)),
            Err(e) => Ok(Err(GuestError::InvalidInput(e.to_string()))),
        }
    }
}
