//! The HTTP API's handlers, one module per resource.

pub mod blocks;
pub mod body;
pub mod events;
pub mod pipelines;
pub mod preview;
pub mod runs;
pub mod trigger;
pub mod triggers;
pub mod views;
