//! Writers: one module per output format behind one [`Format`] enum. Every writer takes
//! `&mut impl Write`, so tests render into a `Vec<u8>`; all of them see only protected tables.

pub mod charts;
pub mod csv;
pub mod display;
#[cfg(test)]
mod fixtures;
pub mod html;
pub mod json;
pub mod labels;
pub mod markdown;
pub mod parquet;
pub mod xlsx;

use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;

use chrono::NaiveDate;

use crate::ingest::InputRecord;
use crate::period::Period;
use crate::queries::Query;
use labels::Lang;

/// Machine-readable table formats, also the values of `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// Apache Parquet.
    Parquet,
    /// A JSON array of objects.
    Json,
}

impl Format {
    /// File extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
            Format::Json => "json",
        }
    }

    /// Writes one table in this format.
    pub fn write(
        self,
        out: &mut (impl std::io::Write + Send),
        batch: &RecordBatch,
    ) -> anyhow::Result<()> {
        match self {
            Format::Csv => csv::write(out, batch),
            Format::Parquet => parquet::write(out, batch),
            Format::Json => json::write(out, batch),
        }
    }
}

/// A finished report table, protected and ready for the writers.
#[derive(Debug, Clone)]
pub struct Table {
    /// The report it came from.
    pub query: Query,
    /// All rows in one batch, dictionaries decoded.
    pub batch: RecordBatch,
    /// Footnotes (suppression rules applied, etc.).
    pub notes: Vec<String>,
}

/// Concatenates a query's batches into one and decodes dictionary and string-view columns to
/// plain text, so published types do not depend on how the engine computed them (a cluster
/// session plans `VARCHAR` as `Utf8`, a local one as `Utf8View`).
pub fn normalize(batches: &[RecordBatch], schema: &Arc<Schema>) -> anyhow::Result<RecordBatch> {
    let batch = concat_batches(schema, batches)?;
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        if let DataType::Dictionary(_, value) = field.data_type() {
            fields.push(Field::new(field.name(), value.as_ref().clone(), true));
            columns.push(cast(column, value)?);
        } else if field.data_type() == &DataType::Utf8View {
            fields.push(Field::new(field.name(), DataType::Utf8, true));
            columns.push(cast(column, &DataType::Utf8)?);
        } else {
            fields.push(field.as_ref().clone().with_nullable(true));
            columns.push(column.clone());
        }
    }
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

/// What the documents people read (`index.html`, `report.md`, `workbook.xlsx`) say about the
/// run besides the tables.
#[derive(Debug, Clone)]
pub struct Summary<'a> {
    /// Release name (period or `all`).
    pub release: &'a str,
    /// The period published, if any.
    pub period: Option<&'a Period>,
    /// The as-of date.
    pub as_of: NaiveDate,
    /// Data rows read.
    pub read: u64,
    /// Rows accepted.
    pub accepted: u64,
    /// Rows rejected.
    pub rejected: u64,
    /// The input files.
    pub inputs: &'a [InputRecord],
    /// Reports skipped, with the reason.
    pub skipped: &'a [(String, String)],
    /// Language of the labels.
    pub lang: Lang,
    /// Document time written into the workbook, in seconds since 1970-01-01 UTC
    /// (`SOURCE_DATE_EPOCH` or the as-of date: never the clock).
    pub timestamp: i64,
}

impl Summary<'_> {
    /// "Dispute statistics 2024-Q3", or the bare title for a release without a period.
    pub fn document_title(&self) -> String {
        let title = labels::texts(self.lang).title;
        match self.period {
            Some(period) => format!("{title} {}", period.label),
            None => title.to_string(),
        }
    }

    /// The period for people: `2024-Q3 (2024-07-01 – 2024-09-30)`, or "all cases".
    pub fn period_text(&self) -> String {
        match self.period {
            Some(period) => format!(
                "{} ({} – {})",
                period.label,
                period.start.format("%Y-%m-%d"),
                period.end.format("%Y-%m-%d")
            ),
            None => labels::texts(self.lang).all_periods.to_string(),
        }
    }
}
