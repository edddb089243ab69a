//! One integration-test binary (it compiles and links once), a module per area.

mod calibration;
mod cfpb;
mod cli;
#[cfg(feature = "distributed")]
mod cluster;
mod functions;
mod ingest;
mod metrics;
mod peers;
mod privacy;
mod release;
mod reports;
mod stats;
mod support;
