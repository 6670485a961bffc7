//! End-to-end tests of the `weft` command: real components built from source, real
//! processes, real SQLite and Postgres state stores.

mod served;
mod services;
mod support;

mod api;
mod browser;
mod cloud;
mod dag;
mod doors;
mod events;
mod faults;
mod flow;
mod formats;
mod golden;
mod init;
mod io;
mod live;
mod mage;
mod mage_io;
mod notebook;
mod packages;
mod pandas;
mod postgres;
mod profiles;
mod python;
mod recovery;
mod serve;
mod sql;
mod taxi;
mod triggers;
mod validate;
