//! Host bindings generated once from `wit/` (the single source of truth).
#![allow(missing_docs)]

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "weft:block/block",
    with: {
        "weft:block/types.table": weft_data::Table,
    },
    imports: { default: trappable },
});

pub use weft::block::types::{Column, Error as GuestError, Level};
