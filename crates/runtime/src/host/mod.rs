//! Implementations of the WIT interfaces the host provides, one file per interface.

mod compute;
mod context;
mod io;
mod types;
