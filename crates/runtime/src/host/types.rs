use wasmtime::component::Resource;
use weft_data::Table;

use crate::bindings::weft::block::types::{Host, HostTable};
use crate::bindings::{Column, GuestError};
use crate::state::HostState;

impl Host for HostState {}

impl HostTable for HostState {
    fn from_ipc(&mut self, data: Vec<u8>) -> wasmtime::Result<Result<Resource<Table>, GuestError>> {
        let made = Table::from_ipc(data).map_err(|e| GuestError::InvalidInput(e.to_string()));
        self.hand_over(made)
    }

    fn num_rows(&mut self, this: Resource<Table>) -> wasmtime::Result<u64> {
        Ok(self.table.get(&this)?.num_rows())
    }

    fn schema(&mut self, this: Resource<Table>) -> wasmtime::Result<Vec<Column>> {
        Ok(self
            .table
            .get(&this)?
            .columns()
            .into_iter()
            .map(|c| Column {
                name: c.name,
                data_type: c.data_type,
                nullable: c.nullable,
            })
            .collect())
    }

    fn to_ipc(&mut self, this: Resource<Table>, limit: Option<u64>) -> wasmtime::Result<Vec<u8>> {
        Ok(self.table.get(&this)?.to_ipc(limit)?)
    }

    fn from_json(&mut self, rows: String) -> wasmtime::Result<Result<Resource<Table>, GuestError>> {
        let made = Table::from_json(&rows).map_err(|e| GuestError::InvalidInput(e.to_string()));
        self.hand_over(made)
    }

    fn to_json(
        &mut self,
        this: Resource<Table>,
        limit: Option<u64>,
    ) -> wasmtime::Result<Result<String, GuestError>> {
        Ok(self
            .table
            .get(&this)?
            .to_json(limit)
            .map_err(|e| GuestError::InvalidInput(e.to_string())))
    }

    fn drop(&mut self, this: Resource<Table>) -> wasmtime::Result<()> {
        self.budget.release(this.rep());
        self.table.delete(this)?;
        Ok(())
    }
}
