//! Small tables for the writers' unit tests.

use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;

use super::labels::Lang;
use super::{Summary, Table};
use crate::queries;

const HEADER: &str = "-- title: Cases by <region>\n-- title_zh: 按地区\n-- description: Rates & \"intervals\".\n-- grain: one row per region\n-- dimensions: region\n-- counts: cases, resolved, settled\n-- rates: settlement_rate = settled / resolved\n-- derived: settlement_rate_low, settlement_rate_high <- settlement_rate\n-- chart: bar settlement_rate by region\nSELECT 1";

/// A by-region table whose second label is `label` and whose third row is suppressed.
pub fn region_table(label: &str) -> Table {
    let query = queries::parse("by_region", "test.sql", HEADER).expect("header parses");
    let float =
        |values: [Option<f64>; 3]| Arc::new(Float64Array::from(values.to_vec())) as ArrayRef;
    let int = |values: [Option<i64>; 3]| Arc::new(Int64Array::from(values.to_vec())) as ArrayRef;
    let schema = Schema::new(vec![
        Field::new("region", DataType::Utf8, true),
        Field::new("cases", DataType::Int64, true),
        Field::new("resolved", DataType::Int64, true),
        Field::new("settled", DataType::Int64, true),
        Field::new("settlement_rate", DataType::Float64, true),
        Field::new("settlement_rate_low", DataType::Float64, true),
        Field::new("settlement_rate_high", DataType::Float64, true),
    ]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec!["shanghai", label, "taicang"])),
        int([Some(120), Some(80), None]),
        int([Some(100), Some(60), None]),
        int([Some(64), Some(30), None]),
        float([Some(0.64), Some(0.5), None]),
        float([Some(0.54), Some(0.38), None]),
        float([Some(0.73), Some(0.62), None]),
    ];
    Table {
        query,
        batch: RecordBatch::try_new(Arc::new(schema), columns).expect("batch"),
        notes: vec!["cells with fewer than 10 cases are suppressed".into()],
    }
}

/// A summary of a release without a period.
pub fn summary(lang: Lang, timestamp: i64) -> Summary<'static> {
    Summary {
        release: "all",
        period: None,
        as_of: NaiveDate::from_ymd_opt(2024, 6, 30).expect("date"),
        read: 210,
        accepted: 200,
        rejected: 10,
        inputs: &[],
        skipped: &[],
        lang,
        timestamp,
    }
}
