use wasmtime::component::Resource;
use weft_data::Table;

use crate::bindings::weft::block::compute::Host;
use crate::bindings::GuestError;
use crate::budget::query_failure;
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
        let made = match weft_data::sql(&query, &named, &self.query_limits()) {
            Ok(t) => Ok(t),
            Err(e) => Err(query_failure(e)?),
        };
        self.hand_over(made)
    }
}
