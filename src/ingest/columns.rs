//! Typed Arrow builders for validated rows: categories dictionary-encoded, money as exact
//! Decimal128(18,2), dates as Date32. Rows are appended only after they passed every rule.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Date32Builder, Decimal128Builder, DictionaryArray,
    Float64Builder, Int32Builder, StringBuilder, StringDictionaryBuilder,
};
use datafusion::arrow::compute::concat;
use datafusion::arrow::datatypes::{DataType, Int32Type, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;

use super::store::{Accepted, Budget};
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

/// A builder for one contract column's Arrow array.
pub(crate) enum Builder {
    Text(StringBuilder),
    Date(Date32Builder),
    Category(StringDictionaryBuilder<Int32Type>),
    Amount(Decimal128Builder),
    Days(Int32Builder),
    Fraction(Float64Builder),
    Flag(BooleanBuilder),
}

impl Builder {
    pub(crate) fn new(kind: Kind) -> Builder {
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

    pub(crate) fn append(&mut self, value: &Value) {
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

    pub(crate) fn append_null(&mut self) {
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

    pub(crate) fn finish(&mut self) -> ArrayRef {
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

/// Gathers record batches of accepted rows into batches of [`BATCH_ROWS`] rows (the last one
/// shorter), the same batches [`Columns`] builds from the same rows appended one by one: the
/// dictionary of each category column holds that batch's values in order of first use.
pub struct Rebatch {
    schema: SchemaRef,
    pending: Vec<RecordBatch>,
    rows: usize,
    batches: Accepted,
}

impl Rebatch {
    /// Batches of the given schema, held within `budget`.
    pub fn new(schema: SchemaRef, budget: Budget) -> Rebatch {
        Rebatch {
            batches: Accepted::new(schema.clone(), budget),
            schema,
            pending: Vec::new(),
            rows: 0,
        }
    }

    /// Appends the rows of `batch`.
    pub fn push(&mut self, mut batch: RecordBatch) -> anyhow::Result<()> {
        while self.rows + batch.num_rows() >= BATCH_ROWS {
            let head = BATCH_ROWS - self.rows;
            self.pending.push(batch.slice(0, head));
            self.rows = BATCH_ROWS;
            self.flush()?;
            batch = batch.slice(head, batch.num_rows() - head);
        }
        if batch.num_rows() > 0 {
            self.rows += batch.num_rows();
            self.pending.push(batch);
        }
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let pieces = std::mem::take(&mut self.pending);
        let arrays = (0..self.schema.fields().len())
            .map(|index| {
                let column: Vec<&dyn Array> =
                    pieces.iter().map(|b| b.column(index).as_ref()).collect();
                match column[0].data_type() {
                    DataType::Dictionary(_, _) => categories(&column),
                    _ => Ok(concat(&column)?),
                }
            })
            .collect::<anyhow::Result<Vec<ArrayRef>>>()?;
        self.batches
            .push(RecordBatch::try_new(self.schema.clone(), arrays)?)?;
        self.rows = 0;
        Ok(())
    }

    /// Memory held alongside the rows, for their budget ([`Accepted::set_elsewhere`]).
    pub fn set_elsewhere(&mut self, bytes: usize) {
        self.batches.set_elsewhere(bytes);
    }

    /// All rows pushed so far, as record batches.
    pub fn finish(mut self) -> anyhow::Result<Accepted> {
        self.flush()?;
        self.batches.finish_writes()?;
        Ok(self.batches)
    }
}

/// Joins pieces of a category column into one array whose dictionary lists the values in order
/// of first use, as [`StringDictionaryBuilder`] does.
fn categories(pieces: &[&dyn Array]) -> anyhow::Result<ArrayRef> {
    let rows = pieces.iter().map(|piece| piece.len()).sum();
    let mut keys = Int32Builder::with_capacity(rows);
    let mut values = StringBuilder::new();
    let mut codes: HashMap<&str, i32> = HashMap::new();
    for piece in pieces {
        let piece = piece.as_dictionary::<Int32Type>();
        let dictionary = piece.values().as_string::<i32>();
        let mut recoded: Vec<Option<i32>> = vec![None; dictionary.len()];
        for key in piece.keys() {
            let Some(key) = key else {
                keys.append_null();
                continue;
            };
            let key = usize::try_from(key)?;
            let code = match recoded[key] {
                Some(code) => code,
                None => {
                    let value = dictionary.value(key);
                    let next = i32::try_from(codes.len())?;
                    let code = *codes.entry(value).or_insert_with(|| {
                        values.append_value(value);
                        next
                    });
                    recoded[key] = Some(code);
                    code
                }
            };
            keys.append_value(code);
        }
    }
    Ok(Arc::new(DictionaryArray::try_new(
        keys.finish(),
        Arc::new(values.finish()),
    )?))
}
