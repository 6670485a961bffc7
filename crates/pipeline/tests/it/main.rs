//! Integration tests of manifest parsing.

mod ui;
