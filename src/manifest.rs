//! `manifest.json`: what went into a release and what came out, so a reader can audit it.
//! Field order is fixed and no clock time is written (SOURCE_DATE_EPOCH or the as-of date).

use std::io::Write;

use sha2::{Digest, Sha256};

use crate::engine::Window;
use crate::ingest::{Ingested, InputRecord, hex};
use crate::privacy::disclosure::Protected;
use crate::queries::Query;
use crate::release::{OutputFile, Staging};
use crate::run::RunSettings;

/// The manifest document.
#[derive(Debug, serde::Serialize)]
pub struct Manifest {
    tool: Tool,
    release: String,
    generated_at: String,
    parameters: serde_json::Value,
    inputs: Vec<InputRecord>,
    rows: serde_json::Value,
    queries: Vec<QueryRecord>,
    skipped: Vec<serde_json::Value>,
    privacy: serde_json::Value,
    outputs: Vec<OutputFile>,
}

#[derive(Debug, serde::Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Debug, serde::Serialize)]
struct QueryRecord {
    name: String,
    origin: String,
    sha256: String,
}

impl Manifest {
    /// Collects the manifest of a release about to be published.
    pub fn build(
        settings: &RunSettings,
        ingested: &Ingested,
        window: &Window,
        suite: &[Query],
        skipped: &[(String, String)],
        protected: &Protected,
        staging: &Staging,
    ) -> anyhow::Result<Manifest> {
        let source = &settings.source;
        let release = window
            .period
            .as_ref()
            .map_or("all".to_string(), |p| p.label.clone());
        let parameters = serde_json::json!({
            "period": window.period.as_ref().map(|p| &p.label),
            "period_start": window.period.as_ref().map(|p| p.start.to_string()),
            "period_end": window.period.as_ref().map(|p| p.end.to_string()),
            "as_of": window.as_of.to_string(),
            "max_reject_rate": settings.max_reject_rate,
            "lang": settings.lang.code(),
            "config": source.config_file.as_ref().map(|(path, sha)| serde_json::json!({"path": path, "sha256": sha})),
            "job": source.config,
        });
        let counts = &ingested.counts;
        let rows = serde_json::json!({
            "read": counts.read,
            "filtered_out": counts.filtered,
            "accepted": counts.accepted,
            "rejected": ingested.rejects.len(),
            "rejected_by_rule": counts.rejected,
        });
        Ok(Manifest {
            tool: Tool {
                name: env!("CARGO_PKG_NAME"),
                version: env!("CARGO_PKG_VERSION"),
            },
            release,
            generated_at: generated_at(window)?,
            parameters,
            inputs: ingested.inputs.clone(),
            rows,
            queries: suite
                .iter()
                .map(|q| QueryRecord {
                    name: q.name.clone(),
                    origin: q.origin.clone(),
                    sha256: hex(&Sha256::digest(q.sql.as_bytes())),
                })
                .collect(),
            skipped: skipped
                .iter()
                .map(|(name, reason)| serde_json::json!({"name": name, "reason": reason}))
                .collect(),
            privacy: protected.report.clone(),
            outputs: staging.files(),
        })
    }
}

/// `SOURCE_DATE_EPOCH` if set, else the as-of date at midnight UTC: never the clock.
fn generated_at(window: &Window) -> anyhow::Result<String> {
    let seconds = release_timestamp(window)?;
    let time = chrono::DateTime::from_timestamp(seconds, 0)
        .ok_or_else(|| crate::error::usage("SOURCE_DATE_EPOCH out of range"))?;
    Ok(time.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// The release's timestamp in seconds since 1970: `SOURCE_DATE_EPOCH` if set, else the as-of
/// date at midnight UTC. Every time written into a release comes from here.
pub fn release_timestamp(window: &Window) -> anyhow::Result<i64> {
    if let Ok(epoch) = std::env::var("SOURCE_DATE_EPOCH") {
        return epoch
            .trim()
            .parse()
            .map_err(|_| crate::error::usage("SOURCE_DATE_EPOCH must be whole seconds"));
    }
    Ok(window
        .as_of
        .and_time(chrono::NaiveTime::MIN)
        .and_utc()
        .timestamp())
}

/// Writes the manifest as pretty JSON with a final newline.
pub fn write(out: &mut impl Write, manifest: &Manifest) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, manifest)?;
    out.write_all(b"\n")?;
    Ok(())
}
