//! One integration-test binary (it compiles and links once), a module per area.

mod cfpb;
mod cli;
mod ingest;
mod peers;
mod privacy;
mod release;
mod stats;
mod support;
