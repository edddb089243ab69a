//! Ingest: reads CSV / Parquet / NDJSON inputs once, maps them onto the data contract, runs the
//! identifier scan over every source cell and the contract rules over every row, and returns
//! the accepted rows as columnar batches plus everything the manifest needs.

pub mod columns;
pub mod files;
pub mod ipc;
pub mod parse;
pub mod pipeline;
pub mod rows;
pub mod store;
pub mod text;
pub mod validate;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;

use anyhow::Context;
use datafusion::arrow::datatypes::{DataType, FieldRef, Schema};
use datafusion::parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use indicatif::ProgressBar;
use sha2::{Digest, Sha256};

use crate::config::JobConfig;
use crate::error::data;
use crate::privacy::identifiers::Detector;
use files::{Format, Input, Origin};
use pipeline::{Handoff, Plan};
use rows::{Records, Rows};
use store::{Accepted, Budget};
use validate::{Counts, FileRules, Reject, Validator};

/// One input as recorded in the manifest.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InputRecord {
    /// Name as given (or the bundled sample's name).
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256 of the raw bytes.
    pub sha256: String,
    /// Data rows read.
    pub rows: u64,
}

/// Everything ingest produced.
pub struct Ingested {
    /// Accepted rows, contract schema plus kept columns.
    pub batches: Accepted,
    /// Inputs read.
    pub inputs: Vec<InputRecord>,
    /// Row counts.
    pub counts: Counts,
    /// Quarantined rows.
    pub rejects: Vec<Reject>,
    /// Identifier scan hits per (source column, detector).
    pub identifiers: BTreeMap<(String, Detector), u64>,
}

/// Reads every input, in order, into one table; validation runs on every available core, and
/// accepted rows beyond `budget` are held on disk.
pub fn ingest(
    inputs: &[Input],
    config: &JobConfig,
    progress: &ProgressBar,
    budget: Budget,
) -> anyhow::Result<Ingested> {
    let plan = Plan {
        budget,
        ..Plan::available()
    };
    ingest_with(inputs, config, progress, &plan)
}

/// [`ingest`] with a given number of workers and chunk size; the result is the same for all.
pub fn ingest_with(
    inputs: &[Input],
    config: &JobConfig,
    progress: &ProgressBar,
    plan: &Plan,
) -> anyhow::Result<Ingested> {
    let mut validator = Validator::new(config, plan.budget.clone());
    let mut records = Vec::new();
    for input in inputs {
        let before = validator.counts.read;
        let (bytes, sha256) = read_one(input, config, plan, &mut validator, progress)
            .with_context(|| format!("reading `{}`", input.name))?;
        let rows = validator.counts.read - before;
        if rows == 0 {
            return Err(data(format!("input `{}` has no data rows", input.name)));
        }
        records.push(InputRecord {
            path: input.name.clone(),
            bytes,
            sha256,
            rows,
        });
    }
    let counts = validator.counts.clone();
    let rejects = std::mem::take(&mut validator.rejects);
    let identifiers = std::mem::take(&mut validator.identifiers);
    Ok(Ingested {
        batches: validator.finish()?,
        inputs: records,
        counts,
        rejects,
        identifiers,
    })
}

/// Reads one input; returns its size and SHA-256.
fn read_one(
    input: &Input,
    config: &JobConfig,
    plan: &Plan,
    validator: &mut Validator,
    progress: &ProgressBar,
) -> anyhow::Result<(u64, String)> {
    match input.format {
        Format::Csv(compression) => {
            let mut hashing = Hashing::new(input.open_raw()?);
            let reader = files::decompress(compression, Box::new(&mut hashing))?;
            read_csv(&input.name, reader, config, plan, validator, progress)?;
            Ok(hashing.finish())
        }
        Format::Ndjson => {
            let mut text = String::new();
            let mut hashing = Hashing::new(input.open_raw()?);
            hashing
                .read_to_string(&mut text)
                .map_err(|e| data(format!("`{}` is not UTF-8 text: {e}", input.name)))?;
            read_ndjson(&input.name, &text, config, plan, validator, progress)?;
            Ok(hashing.finish())
        }
        Format::Parquet => {
            let Origin::Path(path) = &input.origin else {
                anyhow::bail!("bundled inputs are CSV");
            };
            read_parquet(&input.name, path, config, plan, validator, progress)?;
            let mut hashing = Hashing::new(input.open_raw()?);
            std::io::copy(&mut hashing, &mut std::io::sink())?;
            Ok(hashing.finish())
        }
    }
}

/// A reader that hashes and counts what passes through it.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> Hashing<R> {
    fn new(inner: R) -> Self {
        Hashing {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// Drains what is left (a decoder may stop before the end) and returns size and digest.
    fn finish(mut self) -> (u64, String) {
        let _ = std::io::copy(&mut self, &mut std::io::sink());
        (self.bytes, hex(&self.hasher.finalize()))
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Lower-case hexadecimal of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn read_csv(
    name: &str,
    reader: Box<dyn Read + Send + '_>,
    config: &JobConfig,
    plan: &Plan,
    validator: &mut Validator,
    progress: &ProgressBar,
) -> anyhow::Result<()> {
    // UTF-8 passes through untouched (the CSV reader strips a BOM and reports invalid bytes
    // per row); GB18030 (a superset of GBK) is transcoded to UTF-8 first.
    let decoded: Box<dyn Read + Send + '_> =
        match config.input.encoding.to_ascii_lowercase().as_str() {
            "gb18030" | "gbk" => Box::new(
                encoding_rs_io::DecodeReaderBytesBuilder::new()
                    .encoding(Some(encoding_rs::GB18030))
                    .build(reader),
            ),
            _ => reader,
        };
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(config.input.delimiter.as_bytes()[0])
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(decoded);
    let header: Vec<String> = csv
        .headers()
        .map_err(|e| data(format!("`{name}` line 1: unreadable header: {e}")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let rules = FileRules::new(config, name, &header)?.columnar(plan.columnar);
    pipeline::validate(plan, &rules, validator, progress, |send: &mut Handoff| {
        let mut record = csv::StringRecord::new();
        let mut records = Records::with_capacity(plan.chunk_rows);
        loop {
            match csv.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    let line = record.position().map_or(0, |p| p.line());
                    records.push(line, record.iter().map(Some));
                }
                Err(error) => match error.kind() {
                    csv::ErrorKind::Utf8 { pos, .. } => {
                        let line = pos.as_ref().map_or(0, |p| p.line());
                        records.push_unreadable(line, "invalid_utf8");
                    }
                    _ => {
                        // The rows before the error are validated first: their errors come first.
                        if !records.is_empty() {
                            send(Rows::Text(records));
                        }
                        return Err(data(format!("`{name}`: malformed CSV: {error}")));
                    }
                },
            }
            if records.len() >= plan.chunk_rows && !send(Rows::Text(records.take())) {
                return Ok(());
            }
        }
        if !records.is_empty() {
            send(Rows::Text(records));
        }
        Ok(())
    })
}

fn read_ndjson(
    name: &str,
    text: &str,
    config: &JobConfig,
    plan: &Plan,
    validator: &mut Validator,
    progress: &ProgressBar,
) -> anyhow::Result<()> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut header: Vec<String> = Vec::new();
    for line in text.lines() {
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(line) {
            for key in map.keys() {
                if !header.contains(key) {
                    header.push(key.clone());
                }
            }
        }
    }
    let rules = FileRules::new(config, name, &header)?.columnar(plan.columnar);
    pipeline::validate(plan, &rules, validator, progress, |send: &mut Handoff| {
        let mut records = Records::with_capacity(plan.chunk_rows);
        for (number, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let line_number = number as u64 + 1;
            match serde_json::from_str(line) {
                Ok(serde_json::Value::Object(map)) => {
                    let cells: Vec<Option<String>> = header
                        .iter()
                        .map(|key| map.get(key).and_then(json_text))
                        .collect();
                    records.push(line_number, cells.iter().map(Option::as_deref));
                }
                _ => records.push_unreadable(line_number, "invalid_json"),
            }
            if records.len() >= plan.chunk_rows && !send(Rows::Text(records.take())) {
                return Ok(());
            }
        }
        if !records.is_empty() {
            send(Rows::Text(records));
        }
        Ok(())
    })
}

fn json_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

fn read_parquet(
    name: &str,
    path: &std::path::Path,
    config: &JobConfig,
    plan: &Plan,
    validator: &mut Validator,
    progress: &ProgressBar,
) -> anyhow::Result<()> {
    let file = std::fs::File::open(path).map_err(|e| data(format!("cannot open `{name}`: {e}")))?;
    let unreadable = |e| data(format!("`{name}` is not a readable Parquet file: {e}"));
    let mut builder =
        ParquetRecordBatchReaderBuilder::try_new(file.try_clone()?).map_err(unreadable)?;
    let header: Vec<String> = builder
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let rules = FileRules::new(config, name, &header)?
        .read_typed(plan.read_typed)
        .columnar(plan.columnar);
    if plan.columnar {
        // Text columns that feed a category are read as dictionaries.
        let categories = rules.category_positions();
        let schema = builder.schema().clone();
        let fields: Vec<FieldRef> = schema
            .fields()
            .iter()
            .enumerate()
            .map(|(position, field)| {
                if categories.contains(&position) && field.data_type() == &DataType::Utf8 {
                    Arc::new(
                        field
                            .as_ref()
                            .clone()
                            .with_data_type(text::text_dictionary()),
                    )
                } else {
                    field.clone()
                }
            })
            .collect();
        if fields.iter().zip(schema.fields()).any(|(a, b)| a != b) {
            let hinted = Schema::new_with_metadata(fields, schema.metadata().clone());
            let options = ArrowReaderOptions::new().with_schema(Arc::new(hinted));
            let metadata = ArrowReaderMetadata::try_new(builder.metadata().clone(), options)
                .map_err(unreadable)?;
            builder = ParquetRecordBatchReaderBuilder::new_with_metadata(file, metadata);
        }
    }
    let rows = builder.metadata().file_metadata().num_rows();
    validator.reserve(usize::try_from(rows).unwrap_or(0));
    let reader = builder.with_batch_size(plan.chunk_rows).build()?;
    pipeline::validate(plan, &rules, validator, progress, |send: &mut Handoff| {
        let mut line = 1u64;
        for batch in reader {
            let batch = batch.map_err(|e| data(format!("`{name}`: {e}")))?;
            let rows = batch.num_rows();
            if !send(Rows::Typed {
                first_line: line,
                columns: batch.columns().to_vec(),
                rows,
            }) {
                return Ok(());
            }
            line += rows as u64;
        }
        Ok(())
    })
}
