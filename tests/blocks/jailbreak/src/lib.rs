//! Nothing to run: the crate exists for its build script.
