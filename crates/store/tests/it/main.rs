//! The state store behaves the same on SQLite and Postgres.
// Dropping a test database from inside an async test needs a thread of its own.
#![allow(clippy::disallowed_methods)]

mod backends;
mod group;
mod pg;
