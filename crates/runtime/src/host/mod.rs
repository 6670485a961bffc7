//! Implementations of the WIT interfaces the host provides, one file per interface.

mod context;
mod types;
