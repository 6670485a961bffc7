//! Integration tests of manifest parsing.

mod edits;
mod fuzz;
mod ui;
