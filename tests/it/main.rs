//! End-to-end tests of the `weft` command: real components built from source, real
//! processes, real SQLite and Postgres state stores.

mod support;

mod dag;
mod faults;
mod init;
mod postgres;
mod python;
mod validate;
