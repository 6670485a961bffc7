//! The state store behaves the same on SQLite and Postgres.

mod backends;
