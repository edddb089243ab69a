//! dispute-stats: turns anonymized dispute case outcomes into published statistical reports.
//!
//! Data flows one way (DESIGN §4): [`ingest`] → [`privacy`] input gate → [`engine`] running
//! [`queries`] → [`privacy::disclosure`] → [`output`] writers → [`release`].

pub mod cli;
pub mod cluster;
pub mod commands;
pub mod config;
pub mod contract;
pub mod engine;
pub mod error;
pub mod generate;
pub mod hash;
pub mod ingest;
pub mod manifest;
pub mod output;
pub mod period;
pub mod privacy;
pub mod queries;
pub mod release;
pub mod run;
pub mod stats;
