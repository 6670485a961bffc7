//! Integration tests of manifest parsing.

mod fuzz;
mod ui;
