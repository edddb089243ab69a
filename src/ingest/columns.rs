//! Typed Arrow builders for validated rows: categories dictionary-encoded, money as exact
//! Decimal128(18,2), dates as Date32. Rows are appended only after they passed every rule.

use std::borrow::Cow;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder, Int32Builder,
    StringBuilder, StringDictionaryBuilder,
};
use datafusion::arrow::datatypes::{Int32Type, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;

use crate::contract::{self, Kind};

/// A parsed, valid cell of a contract column.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// No value.
    Null,
    /// Text (case id, kept columns).
    Text(String),
    /// Date32 days.
    Date(i32),
    /// A contract category label.
    Category(Cow<'static, str>),
    /// Money in cents.
    Amount(i128),
    /// Whole days.
    Days(i32),
    /// A fraction in [0, 1].
    Fraction(f64),
    /// A boolean.
    Flag(bool),
}

enum Builder {
    Text(StringBuilder),
    Date(Date32Builder),
    Category(StringDictionaryBuilder<Int32Type>),
    Amount(Decimal128Builder),
    Days(Int32Builder),
    Fraction(Float64Builder),
    Flag(BooleanBuilder),
}

impl Builder {
    fn new(kind: Kind) -> Builder {
        match kind {
            Kind::Text => Builder::Text(StringBuilder::new()),
            Kind::Date => Builder::Date(Date32Builder::new()),
            Kind::Category(_) => Builder::Category(StringDictionaryBuilder::new()),
            Kind::Amount => Builder::Amount(
                Decimal128Builder::new().with_data_type(contract::data_type(Kind::Amount)),
            ),
            Kind::Days => Builder::Days(Int32Builder::new()),
            Kind::Fraction => Builder::Fraction(Float64Builder::new()),
            Kind::Flag => Builder::Flag(BooleanBuilder::new()),
        }
    }

    fn append(&mut self, value: &Value) {
        match (self, value) {
            (Builder::Text(b), Value::Text(v)) => b.append_value(v),
            (Builder::Date(b), Value::Date(v)) => b.append_value(*v),
            (Builder::Category(b), Value::Category(v)) => {
                b.append_value(v.as_ref());
            }
            (Builder::Amount(b), Value::Amount(v)) => b.append_value(*v),
            (Builder::Days(b), Value::Days(v)) => b.append_value(*v),
            (Builder::Fraction(b), Value::Fraction(v)) => b.append_value(*v),
            (Builder::Flag(b), Value::Flag(v)) => b.append_value(*v),
            (builder, _) => builder.append_null(),
        }
    }

    fn append_null(&mut self) {
        match self {
            Builder::Text(b) => b.append_null(),
            Builder::Date(b) => b.append_null(),
            Builder::Category(b) => b.append_null(),
            Builder::Amount(b) => b.append_null(),
            Builder::Days(b) => b.append_null(),
            Builder::Fraction(b) => b.append_null(),
            Builder::Flag(b) => b.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Text(b) => Arc::new(b.finish()),
            Builder::Date(b) => Arc::new(b.finish()),
            Builder::Category(b) => Arc::new(b.finish()),
            Builder::Amount(b) => Arc::new(b.finish()),
            Builder::Days(b) => Arc::new(b.finish()),
            Builder::Fraction(b) => Arc::new(b.finish()),
            Builder::Flag(b) => Arc::new(b.finish()),
        }
    }
}

/// Rows per record batch of the `cases` table.
pub const BATCH_ROWS: usize = 65_536;

/// Accumulates valid rows into record batches of the contract schema.
pub struct Columns {
    schema: SchemaRef,
    builders: Vec<Builder>,
    rows: usize,
    batches: Vec<RecordBatch>,
}

impl Columns {
    /// Builders for the contract columns followed by `extra` text columns.
    pub fn new(extra: &[String]) -> Columns {
        let mut builders: Vec<Builder> = contract::COLUMNS
            .iter()
            .map(|column| Builder::new(column.kind))
            .collect();
        builders.extend(extra.iter().map(|_| Builder::new(Kind::Text)));
        Columns {
            schema: contract::schema(extra),
            builders,
            rows: 0,
            batches: Vec::new(),
        }
    }

    /// Appends one valid row (one value per column, in schema order).
    pub fn append(&mut self, values: &[Value]) -> anyhow::Result<()> {
        for (builder, value) in self.builders.iter_mut().zip(values) {
            builder.append(value);
        }
        self.rows += 1;
        if self.rows == BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let arrays: Vec<ArrayRef> = self.builders.iter_mut().map(Builder::finish).collect();
        self.batches
            .push(RecordBatch::try_new(self.schema.clone(), arrays)?);
        self.rows = 0;
        Ok(())
    }

    /// The schema of the batches.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// All rows appended so far, as record batches.
    pub fn finish(mut self) -> anyhow::Result<Vec<RecordBatch>> {
        self.flush()?;
        Ok(self.batches)
    }
}
