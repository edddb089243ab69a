//! One integration-test binary (it compiles and links once), a module per area.

mod cfpb;
mod cli;
mod ingest;
mod peers;
mod release;
mod reports;
mod stats;
mod support;
