//! The contract rules of DESIGN §2, applied row by row: a row that breaks one is quarantined
//! with its file, line, column and rule; a row that passes is appended to the columnar table.
//! Every source cell also goes through the identifier scan here, so the input is read once.
//!
//! Rows are checked a chunk at a time ([`FileRules::check`], on any thread); a [`Validator`]
//! then merges the checked chunks in input order, which is where a case id already accepted
//! earlier makes a row a `duplicate_case_id` reject (the first occurrence wins).

use std::borrow::Cow;
use std::collections::BTreeMap;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, StringArray};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Float64Type, Int32Type, Int64Type,
};
use datafusion::arrow::record_batch::RecordBatch;

use super::columns::{Columns, Rebatch, Value};
use super::parse;
use super::rows::Rows;
use super::store::{Accepted, Budget};
use super::text;
use crate::config::JobConfig;
use crate::contract::{self, Kind};
use crate::error::{data, usage};
use crate::hash::FingerprintSet;
use crate::privacy::identifiers::{self, Detector};

mod columnar;

/// One quarantined row.
#[derive(Debug, Clone, PartialEq)]
pub struct Reject {
    /// Input name.
    pub source: String,
    /// 1-based line (CSV, NDJSON) or row (Parquet) number.
    pub line: u64,
    /// Source column name ("" when the rule is about the whole row).
    pub column: String,
    /// Rule broken.
    pub rule: &'static str,
    /// Offending cell, unless it looks like an identifier (then never copied).
    pub value: Option<String>,
}

/// Read access to the cells of one source row.
pub trait Cells {
    /// Number of cells.
    fn count(&self) -> usize;
    /// Cell text by position; `None` when missing.
    fn cell(&self, index: usize) -> Option<&str>;
    /// The decoded column read directly at this position, with the row's place in it; such a
    /// column has no text (`cell` is `None`).
    fn typed(&self, _index: usize) -> Option<(&ArrayRef, usize)> {
        None
    }
}

/// Where each piece a row needs sits in one file's header.
struct Layout {
    contract: Vec<Option<usize>>,
    keep: Vec<usize>,
    filters: Vec<(usize, Vec<String>)>,
    scanned: Vec<usize>,
    /// Scanned columns whose validated values cannot hold an identifier are left out here.
    scanned_when_valid: Vec<usize>,
    /// The scanned columns left out of `scanned_when_valid`.
    scanned_unless_valid: Vec<usize>,
    /// Per header column, the kind of the one contract column it feeds when its rule can read
    /// decoded values directly (see [`FileRules::text`]).
    typed: Vec<Option<Kind>>,
    header: Vec<String>,
}

/// Counts kept for the manifest.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Counts {
    /// Data rows read from all inputs.
    pub read: u64,
    /// Rows left out by the config's row filter.
    pub filtered: u64,
    /// Rows that passed every rule.
    pub accepted: u64,
    /// Rejected rows per rule.
    pub rejected: BTreeMap<String, u64>,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.read += other.read;
        self.filtered += other.filtered;
        self.accepted += other.accepted;
        for (rule, rows) in &other.rejected {
            *self.rejected.entry(rule.clone()).or_default() += rows;
        }
    }
}

/// Identifier scan hits per (source column, detector).
pub type Hits = BTreeMap<(String, Detector), u64>;

/// The rules for the rows of one input: the job config and where each piece a row needs sits in
/// the input's header.
pub struct FileRules<'a> {
    config: &'a JobConfig,
    keep_names: Vec<String>,
    layout: Layout,
    source: String,
    /// Whether decoded columns are read directly where they can be.
    read_typed: bool,
    /// Whether chunks are checked a column at a time ([`FileRules::check_columnar`]).
    columnar: bool,
}

/// The outcome of checking one chunk of rows, before duplicate case ids are known.
#[derive(Default)]
pub struct Checked {
    /// Rows that passed every rule but the unique case id.
    batches: Vec<RecordBatch>,
    /// Per row of `batches`: its position in the chunk and its case id's fingerprint.
    accepted: Vec<(usize, Option<Fingerprint>)>,
    /// Quarantined rows with their position in the chunk.
    rejects: Vec<(usize, Reject)>,
    counts: Counts,
    identifiers: Hits,
}

impl Checked {
    /// Counts a filtered or rejected row (keeping the reject); for an accepted one, returns
    /// its case id's fingerprint for the caller to record.
    fn tally(&mut self, index: usize, check: Check) -> Option<Option<Fingerprint>> {
        match check {
            Check::Filtered => self.counts.filtered += 1,
            Check::Rejected(reject) => {
                *self
                    .counts
                    .rejected
                    .entry(reject.rule.to_string())
                    .or_default() += 1;
                self.rejects.push((index, reject));
            }
            Check::Accepted(id) => return Some(id),
        }
        None
    }
}

impl<'a> FileRules<'a> {
    /// The rules for an input with this header; errors when a mapped column is missing.
    pub fn new(config: &'a JobConfig, source: &str, header: &[String]) -> anyhow::Result<Self> {
        let position = |name: &str| header.iter().position(|h| h == name);
        let missing = |name: &str, role: String| {
            data(format!(
                "`{source}`: header has no column `{name}` ({role})\nhint: map it in `[columns]`, or list the contract column in `absent`"
            ))
        };
        let mut contract_positions = Vec::new();
        for column in contract::COLUMNS {
            let index =
                match config.source_name(column.name) {
                    None => None,
                    Some(name) => Some(position(name).ok_or_else(|| {
                        missing(name, format!("contract column `{}`", column.name))
                    })?),
                };
            contract_positions.push(index);
        }
        let mut keep = Vec::new();
        for (name, source_column) in &config.keep {
            keep.push(
                position(source_column)
                    .ok_or_else(|| missing(source_column, format!("kept as `{name}`")))?,
            );
        }
        let mut filters = Vec::new();
        for filter in &config.filter {
            let index = position(&filter.column)
                .ok_or_else(|| missing(&filter.column, "row filter".into()))?;
            filters.push((index, filter.values.clone()));
        }
        let scanned: Vec<usize> = header
            .iter()
            .enumerate()
            .filter(|(_, name)| !config.privacy.safe_columns.contains_key(*name))
            .map(|(index, _)| index)
            .collect();
        // The contract columns a header column feeds.
        let uses = |index: usize| {
            contract::COLUMNS
                .iter()
                .zip(&contract_positions)
                .filter(move |(_, position)| **position == Some(index))
                .map(|(column, _)| column)
        };
        let proven_safe = |index: &usize| {
            let mut fed = uses(*index).peekable();
            fed.peek().is_some()
                && !keep.contains(index)
                && fed.all(|column| validated_values_are_safe(column.kind))
        };
        let (scanned_unless_valid, scanned_when_valid): (Vec<usize>, Vec<usize>) =
            scanned.iter().copied().partition(proven_safe);
        let typed = (0..header.len())
            .map(|index| {
                let mut fed = uses(index);
                let column = fed.next()?;
                // The scan reads an amount's decoded value (see `FileRules::scan`).
                let alone = fed.next().is_none()
                    && !keep.contains(&index)
                    && !filters.iter().any(|(f, _)| *f == index)
                    && (column.kind == Kind::Amount || !scanned_when_valid.contains(&index));
                (alone && reads_typed(config, column)).then_some(column.kind)
            })
            .collect();
        Ok(FileRules {
            config,
            keep_names: config.keep.keys().cloned().collect(),
            layout: Layout {
                contract: contract_positions,
                keep,
                filters,
                scanned,
                scanned_when_valid,
                scanned_unless_valid,
                typed,
                header: header.to_vec(),
            },
            source: source.to_string(),
            read_typed: true,
            columnar: true,
        })
    }

    /// Whether decoded columns are read directly where they can be (the default); without,
    /// every cell is checked as text. Both give the same result.
    pub fn read_typed(self, read_typed: bool) -> Self {
        FileRules { read_typed, ..self }
    }

    /// Whether chunks are checked a column at a time (the default); without, row by row. Both
    /// give the same result.
    pub fn columnar(self, columnar: bool) -> Self {
        FileRules { columnar, ..self }
    }

    /// Column `position` of a decoded chunk as text.
    fn as_text(&self, position: usize, array: &ArrayRef) -> anyhow::Result<StringArray> {
        text::to_text(array).map_err(|e| {
            let column = self.layout.header.get(position).map_or("", String::as_str);
            usage(format!(
                "`{}` column `{column}`: cannot read as text: {e}",
                self.source
            ))
        })
    }

    /// Header positions of the columns that feed a category: a Parquet text column among them
    /// is read as a dictionary ([`text::text_dictionary`]), whose texts the columnar check
    /// looks up once each.
    pub fn category_positions(&self) -> Vec<usize> {
        contract::COLUMNS
            .iter()
            .zip(&self.layout.contract)
            .filter(|(column, _)| matches!(column.kind, Kind::Category(_)))
            .filter_map(|(_, position)| *position)
            .collect()
    }

    /// The chunk as cells: decoded columns ([`Rows::Typed`]) are written as text
    /// ([`text::to_text`]), the form every rule reads, except those whose rule reads their
    /// values directly: a date, day count, fraction or flag column of a matching type that
    /// feeds one contract column only, is not kept or filtered on, and is not scanned on
    /// accepted rows. Other rows pass through.
    pub fn text(&self, rows: Rows) -> anyhow::Result<Rows> {
        let Rows::Typed {
            first_line,
            columns,
            rows,
        } = rows
        else {
            return Ok(rows);
        };
        let mut text = Vec::with_capacity(columns.len());
        let mut typed = Vec::with_capacity(columns.len());
        let mut dictionaries = Vec::with_capacity(columns.len());
        for (position, array) in columns.into_iter().enumerate() {
            let kind = self.layout.typed.get(position).copied().flatten();
            if array.data_type() == &text::text_dictionary() {
                text.push(None);
                typed.push(None);
                dictionaries.push(Some(array.as_dictionary::<Int32Type>().clone()));
                continue;
            }
            dictionaries.push(None);
            if self.read_typed && kind.is_some_and(|k| typed_type(k, array.data_type())) {
                text.push(None);
                typed.push(Some(array));
            } else {
                text.push(Some(self.as_text(position, &array)?));
                typed.push(None);
            }
        }
        Ok(Rows::Arrow {
            first_line,
            columns: text,
            typed,
            dictionaries,
            rows,
        })
    }

    /// Checks every row of a chunk; `row` is scratch space kept between calls.
    pub fn check(&self, rows: &Rows, row: &mut Vec<Value>) -> anyhow::Result<Checked> {
        if self.columnar
            && let Some(checked) = self.check_columnar(rows, row)?
        {
            return Ok(checked);
        }
        let mut columns = Columns::new(&self.keep_names);
        let mut checked = Checked::default();
        for index in 0..rows.len() {
            checked.counts.read += 1;
            let check = self.check_one(rows, index, row, &mut checked.identifiers)?;
            if let Some(id) = checked.tally(index, check) {
                columns.append(row)?;
                checked.counts.accepted += 1;
                checked.accepted.push((index, id));
            }
        }
        checked.batches = columns.finish()?;
        Ok(checked)
    }

    /// Checks row `index` of a chunk; `row` is scratch space.
    fn check_one(
        &self,
        rows: &Rows,
        index: usize,
        row: &mut Vec<Value>,
        identifiers: &mut Hits,
    ) -> anyhow::Result<Check> {
        let line = rows.line(index);
        Ok(match rows.row(index) {
            // A row with decoded columns that is not accepted as it is, is checked again as
            // text: rejects, their values and the identifier scan are then the text path's.
            Ok(cells) if rows.has_typed() => {
                let mut hits = Hits::new();
                match self.check_row(row, line, &cells, &mut hits) {
                    Check::Accepted(id) => {
                        for (key, count) in hits {
                            *identifiers.entry(key).or_default() += count;
                        }
                        Check::Accepted(id)
                    }
                    _ => {
                        let text = rows.text_row(index, |p, a| self.as_text(p, a))?;
                        let cells = text.row(0).map_err(|r| anyhow::anyhow!(r))?;
                        self.check_row(row, line, &cells, identifiers)
                    }
                }
            }
            Ok(cells) => self.check_row(row, line, &cells, identifiers),
            // Could not even be split into cells (bad encoding, bad JSON).
            Err(rule) => Check::Rejected(self.reject(line, "", rule, None)),
        })
    }

    fn check_row(
        &self,
        row: &mut Vec<Value>,
        line: u64,
        cells: &dyn Cells,
        identifiers: &mut Hits,
    ) -> Check {
        let layout = &self.layout;
        if cells.count() != layout.header.len() {
            self.scan(&layout.scanned, cells, identifiers);
            return Check::Rejected(self.reject(line, "", "wrong_field_count", None));
        }
        let keeps = |(index, values): &(usize, Vec<String>)| {
            cells
                .cell(*index)
                .is_some_and(|c| values.iter().any(|v| v == c))
        };
        if !layout.filters.iter().all(keeps) {
            self.scan(&layout.scanned, cells, identifiers);
            return Check::Filtered;
        }
        match self.parse_row(row, cells) {
            Err((index, rule)) => {
                self.scan(&layout.scanned, cells, identifiers);
                let value = index.and_then(|i| cells.cell(i));
                let column = index
                    .and_then(|i| layout.header.get(i).cloned())
                    .unwrap_or_default();
                Check::Rejected(self.reject(line, &column, rule, value))
            }
            Ok(id) => {
                self.scan(&layout.scanned_when_valid, cells, identifiers);
                Check::Accepted(id)
            }
        }
    }

    fn reject(&self, line: u64, column: &str, rule: &'static str, value: Option<&str>) -> Reject {
        let value = value
            .filter(|v| identifiers::detect(v).is_none())
            .map(str::to_string);
        Reject {
            source: self.source.clone(),
            line,
            column: column.to_string(),
            rule,
            value,
        }
    }

    fn scan(&self, columns: &[usize], cells: &dyn Cells, identifiers: &mut Hits) {
        for index in columns {
            let found = match (cells.cell(*index), cells.typed(*index)) {
                (Some(text), _) => identifiers::detect(text),
                (None, Some((array, row))) => typed_detect(array, row),
                (None, None) => None,
            };
            if let Some(detector) = found {
                let name = self.layout.header[*index].clone();
                *identifiers.entry((name, detector)).or_default() += 1;
            }
        }
    }

    /// Quarantines an accepted row whose case id was accepted before: the row is scanned as
    /// any rejected row is (the columns left out for valid rows too).
    fn duplicate(
        &self,
        rows: &Rows,
        index: usize,
        identifiers: &mut Hits,
    ) -> anyhow::Result<Reject> {
        let line = rows.line(index);
        let text;
        let (rows, index) = if rows.has_typed() {
            text = rows.text_row(index, |p, a| self.as_text(p, a))?;
            (&text, 0)
        } else {
            (rows, index)
        };
        let (column, value) = match rows.row(index) {
            Ok(cells) => {
                self.scan(&self.layout.scanned_unless_valid, &cells, identifiers);
                let source = self.position("case_id").and_then(|(_, source)| source);
                let column = source.and_then(|s| self.layout.header.get(s).cloned());
                let value = source.and_then(|s| cells.cell(s)).map(str::to_string);
                (column.unwrap_or_default(), value)
            }
            Err(_) => (String::new(), None),
        };
        Ok(self.reject(line, &column, "duplicate_case_id", value.as_deref()))
    }

    /// Parses every contract and kept column into `row`; errors carry the source index.
    /// Returns the fingerprint of the case id, for the unique case id rule.
    fn parse_row(
        &self,
        row: &mut Vec<Value>,
        cells: &dyn Cells,
    ) -> Result<Option<Fingerprint>, (Option<usize>, &'static str)> {
        let layout = &self.layout;
        row.clear();
        for (column, index) in contract::COLUMNS.iter().zip(&layout.contract) {
            if let Some((array, at)) = index.and_then(|i| cells.typed(i)) {
                let value = match typed_value(column.kind, array, at) {
                    Some(Value::Null) if column.required => {
                        return Err((*index, "missing_required"));
                    }
                    Some(value) => value,
                    // Not accepted as decoded: the row is checked again as text.
                    None => return Err((*index, "decoded_value_needs_text")),
                };
                row.push(value);
                continue;
            }
            let text = index.and_then(|i| cells.cell(i)).map(str::trim);
            let text = text.filter(|t| !t.is_empty() && !self.is_null(t));
            let value = match text {
                None if column.required => return Err((*index, "missing_required")),
                None => Value::Null,
                Some(text) => self.value(column, text).map_err(|rule| (*index, rule))?,
            };
            row.push(value);
        }
        for index in &layout.keep {
            let text = cells.cell(*index).filter(|t| !t.is_empty());
            row.push(text.map_or(Value::Null, |t| Value::Text(t.to_string())));
        }
        self.cross_rules(row)
    }

    fn is_null(&self, text: &str) -> bool {
        self.config.input.null_values.iter().any(|n| n == text)
    }

    fn value(&self, column: &contract::Column, text: &str) -> Result<Value, &'static str> {
        let formats = &self.config.input.date_formats;
        Ok(match column.kind {
            Kind::Text => Value::Text(text.to_string()),
            Kind::Date => Value::Date(parse::date(text, formats)?),
            Kind::Amount => Value::Amount(parse::amount(text)?),
            Kind::Days => Value::Days(parse::days(text)?),
            Kind::Fraction => Value::Fraction(parse::fraction(text)?),
            Kind::Flag => Value::Flag(parse::flag(self.label(column.name, text))?),
            Kind::Category(allowed) => {
                Value::Category(self.category(column.name, allowed, text)?)
            }
        })
    }

    fn label<'t>(&'t self, column: &str, text: &'t str) -> &'t str {
        self.config
            .labels
            .get(column)
            .and_then(|labels| labels.get(text))
            .map_or(text, String::as_str)
    }

    fn category(
        &self,
        column: &str,
        allowed: &'static [&'static str],
        text: &str,
    ) -> Result<Cow<'static, str>, &'static str> {
        let label = self.label(column, text);
        if let Some(known) = allowed.iter().find(|known| **known == label) {
            return Ok(Cow::Borrowed(known));
        }
        let regions = &self.config.rules.regions;
        let open_list =
            allowed.is_empty() && (regions.is_empty() || regions.iter().any(|r| r == label));
        if open_list {
            Ok(Cow::Owned(label.to_string()))
        } else {
            Err("unknown_category")
        }
    }

    /// Position of a contract column in the row, and of its source in the header.
    fn position(&self, name: &str) -> Option<(usize, Option<usize>)> {
        contract::COLUMNS
            .iter()
            .position(|c| c.name == name)
            .map(|i| (i, self.layout.contract[i]))
    }

    /// Rules across columns: closing date order, closure vs outcome. The unique case id is
    /// checked when chunks are merged; this returns the id's fingerprint for it.
    fn cross_rules(
        &self,
        row: &[Value],
    ) -> Result<Option<Fingerprint>, (Option<usize>, &'static str)> {
        let at = |name: &str| {
            self.position(name)
                .and_then(|(i, source)| source.map(|source| (i, source)))
        };
        let closed = at("closed_on");
        if let (Some((o, _)), Some((c, source))) = (at("opened_on"), closed)
            && let (Value::Date(opened), Value::Date(closed)) = (&row[o], &row[c])
            && closed < opened
        {
            return Err((Some(source), "closed_before_opened"));
        }
        if let (Some((c, source)), Some((o, _))) = (closed, at("outcome"))
            && self.config.rules.closed_iff_resolved
        {
            let open = row[o] == Value::Category(Cow::Borrowed("open"));
            let has_date = row[c] != Value::Null;
            if open && has_date {
                return Err((Some(source), "closed_but_open"));
            }
            if !open && !has_date {
                return Err((Some(source), "resolved_without_closed_on"));
            }
        }
        let (i, _) = at("case_id").ok_or((None, "missing_required"))?;
        Ok(match &row[i] {
            Value::Text(id) => Some(fingerprint(id)),
            _ => None,
        })
    }
}

/// Merges checked chunks, in input order, into one table.
pub struct Validator {
    seen: FingerprintSet,
    batches: Rebatch,
    /// Quarantined rows.
    pub rejects: Vec<Reject>,
    /// Row counts.
    pub counts: Counts,
    /// Identifier scan hits per (source column, detector).
    pub identifiers: Hits,
}

impl Validator {
    /// A validator for one job config.
    pub fn new(config: &JobConfig, budget: Budget) -> Validator {
        let keep_names: Vec<String> = config.keep.keys().cloned().collect();
        let schema = contract::schema(&keep_names);
        Validator {
            batches: Rebatch::new(schema, budget),
            seen: FingerprintSet::default(),
            rejects: Vec::new(),
            counts: Counts::default(),
            identifiers: Hits::new(),
        }
    }

    /// Takes in the next chunk of rows, `rows`, checked by `rules` into `checked`: an accepted
    /// row whose case id was accepted before becomes a `duplicate_case_id` reject.
    pub fn merge(
        &mut self,
        rules: &FileRules,
        rows: &Rows,
        checked: Checked,
    ) -> anyhow::Result<()> {
        let Checked {
            batches,
            accepted,
            rejects,
            counts,
            mut identifiers,
        } = checked;
        let ids: Vec<Fingerprint> = accepted.iter().filter_map(|(_, id)| *id).collect();
        let mut fresh = self.seen.insert_all(&ids).into_iter();
        let mut keep = Vec::with_capacity(accepted.len());
        let mut duplicates = Vec::new();
        for (index, id) in accepted {
            let first = id.is_none() || fresh.next().unwrap_or(true);
            keep.push(first);
            if !first {
                duplicates.push((index, rules.duplicate(rows, index, &mut identifiers)?));
            }
        }
        self.batches.set_elsewhere(self.seen_bytes());
        self.counts.add(&counts);
        for (key, rows) in identifiers {
            *self.identifiers.entry(key).or_default() += rows;
        }
        if duplicates.is_empty() {
            self.rejects
                .extend(rejects.into_iter().map(|(_, reject)| reject));
            for batch in batches {
                self.batches.push(batch)?;
            }
            return Ok(());
        }
        self.counts.accepted -= duplicates.len() as u64;
        *self
            .counts
            .rejected
            .entry("duplicate_case_id".to_string())
            .or_default() += duplicates.len() as u64;
        // Both lists are in row order; so is the merged one.
        let mut duplicates = duplicates.into_iter().peekable();
        for (index, reject) in rejects {
            while let Some((_, duplicate)) = duplicates.next_if(|(d, _)| *d < index) {
                self.rejects.push(duplicate);
            }
            self.rejects.push(reject);
        }
        self.rejects.extend(duplicates.map(|(_, reject)| reject));
        let mut start = 0;
        for batch in batches {
            let end = start + batch.num_rows();
            let mask = BooleanArray::from(keep[start..end].to_vec());
            self.batches.push(filter_record_batch(&batch, &mask)?)?;
            start = end;
        }
        Ok(())
    }

    /// Makes room for `rows` more case ids, when the input says how many rows it has: the set
    /// of ids seen then never grows by doubling, which would hold the old and new tables at once.
    pub fn reserve(&mut self, rows: usize) {
        self.seen.reserve(rows);
        self.batches.set_elsewhere(self.seen_bytes());
    }

    /// Memory of the set of seen case ids: a fingerprint per slot.
    fn seen_bytes(&self) -> usize {
        self.seen.capacity() * std::mem::size_of::<Fingerprint>()
    }

    /// The accepted rows.
    pub fn finish(self) -> anyhow::Result<Accepted> {
        self.batches.finish()
    }
}

/// Whether the rule of `column` can read decoded values of a matching type directly and give
/// what it gives for their text: dates only with the default `YYYY-MM-DD` format, flags only
/// without `[labels]` for the column, and never when a `null_values` entry is a valid value
/// of the kind (its text would be read as NULL).
fn reads_typed(config: &JobConfig, column: &contract::Column) -> bool {
    let formats = &config.input.date_formats;
    let valid = |text: &str| match column.kind {
        Kind::Date => parse::date(text, formats).is_ok(),
        Kind::Days => parse::days(text).is_ok(),
        Kind::Fraction => parse::fraction(text).is_ok(),
        Kind::Flag => parse::flag(text).is_ok(),
        Kind::Amount => parse::amount(text).is_ok(),
        _ => true,
    };
    let kind_reads = match column.kind {
        Kind::Date => formats.len() == 1 && formats[0] == "%Y-%m-%d",
        Kind::Flag => !config.labels.contains_key(column.name),
        Kind::Days | Kind::Fraction | Kind::Amount => true,
        _ => false,
    };
    kind_reads && !config.input.null_values.iter().any(|n| valid(n.trim()))
}

/// Whether decoded values of `data_type` are read directly for a column of `kind`.
fn typed_type(kind: Kind, data_type: &DataType) -> bool {
    match (kind, data_type) {
        (Kind::Date, DataType::Date32) | (Kind::Flag, DataType::Boolean) => true,
        (Kind::Days, DataType::Int32 | DataType::Int64) => true,
        (Kind::Fraction, DataType::Float64) => true,
        (Kind::Fraction, DataType::Decimal128(_, scale)) => (0..=15).contains(scale),
        (Kind::Amount, DataType::Decimal128(_, scale)) => (1..=2).contains(scale),
        _ => false,
    }
}

/// The value of a decoded cell exactly as its text would parse, or `None` when the text path
/// must decide (the value breaks a rule, or its text would not be the usual one).
fn typed_value(kind: Kind, array: &ArrayRef, row: usize) -> Option<Value> {
    if array.is_null(row) {
        return Some(Value::Null);
    }
    match (kind, array.data_type()) {
        (Kind::Date, DataType::Date32) => {
            iso_day(array.as_primitive::<Date32Type>().value(row)).map(Value::Date)
        }
        (Kind::Days, DataType::Int32) => {
            day_count(array.as_primitive::<Int32Type>().value(row).into()).map(Value::Days)
        }
        (Kind::Days, DataType::Int64) => {
            day_count(array.as_primitive::<Int64Type>().value(row)).map(Value::Days)
        }
        (Kind::Fraction, DataType::Float64) => {
            unit_fraction(array.as_primitive::<Float64Type>().value(row)).map(Value::Fraction)
        }
        (Kind::Fraction, DataType::Decimal128(_, scale)) => {
            let raw = array.as_primitive::<Decimal128Type>().value(row);
            decimal_fraction(raw, *scale).map(Value::Fraction)
        }
        (Kind::Flag, DataType::Boolean) => Some(Value::Flag(array.as_boolean().value(row))),
        (Kind::Amount, DataType::Decimal128(_, scale)) => {
            let raw = array.as_primitive::<Decimal128Type>().value(row);
            decimal_cents(raw, *scale).map(Value::Amount)
        }
        _ => None,
    }
}

// What a decoded value is as its text would parse, `None` when the text path must decide. One
// rule per type, read per value by `typed_value` and per column by the columnar check.

/// Date32 days of 0001-01-01 and 9999-12-31: the years whose text is `YYYY-MM-DD`.
const ISO_DAYS: std::ops::RangeInclusive<i32> = -719_162..=2_932_896;

/// A date whose `YYYY-MM-DD` text the default format reads back to the same day.
fn iso_day(days: i32) -> Option<i32> {
    ISO_DAYS.contains(&days).then_some(days)
}

/// A whole, non-negative number of days that fits the stored INT32.
fn day_count(days: i64) -> Option<i32> {
    i32::try_from(days).ok().filter(|d| *d >= 0)
}

/// A fraction in [0, 1] (Arrow's text of a double is the shortest that reads back to it).
fn unit_fraction(value: f64) -> Option<f64> {
    (0.0..=1.0).contains(&value).then_some(value)
}

/// A decimal fraction: both integers are exact doubles, and one correctly rounded division
/// gives the double nearest the decimal, as parsing its text does.
fn decimal_fraction(raw: i128, scale: i8) -> Option<f64> {
    let exact = raw.unsigned_abs() < 1 << 53;
    let value = raw as f64 / 10f64.powi(i32::from(scale));
    exact.then_some(value).and_then(unit_fraction)
}

/// Cents of a decimal amount with one or two decimals; a negative one breaks
/// `negative_amount`, and more than 16 whole digits `bad_amount` (decided as text).
fn decimal_cents(raw: i128, scale: i8) -> Option<i128> {
    let scale = u32::try_from(scale).ok().filter(|s| (1..=2).contains(s))?;
    // Whole part below 10^16, without a 128-bit division: raw < 10^(16 + scale).
    (raw >= 0 && raw < 10i128.pow(16 + scale)).then(|| raw * 10i128.pow(2 - scale))
}

/// The identifier scan of a decoded amount, as of its text: the text is written only when it
/// has enough digits for some detector to fire.
fn typed_detect(array: &ArrayRef, row: usize) -> Option<Detector> {
    let DataType::Decimal128(_, scale) = array.data_type() else {
        return None;
    };
    if array.is_null(row) || *scale <= 0 {
        return None;
    }
    let raw = array.as_primitive::<Decimal128Type>().value(row);
    let magnitude = raw.unsigned_abs();
    // The text holds at least scale + 1 digits, a point and maybe a sign.
    let digits =
        (magnitude.checked_ilog10().map_or(1, |d| d as usize + 1)).max(*scale as usize + 1);
    let chars = digits + 1 + usize::from(raw < 0);
    if !identifiers::number_may_match(digits, chars) {
        return None;
    }
    let mut text = Vec::new();
    text::decimal_text(raw, *scale as u32, &mut text);
    std::str::from_utf8(&text)
        .ok()
        .and_then(identifiers::detect)
}

/// Whether a value that passed its column's rule can still hide an identifier: strict dates,
/// closed category lists, booleans, day counts (at most 10 digits, below every detector's
/// minimum) and fractions cannot; text, amounts (up to 16 digits) and open categories can.
fn validated_values_are_safe(kind: Kind) -> bool {
    match kind {
        Kind::Date | Kind::Flag | Kind::Days | Kind::Fraction => true,
        Kind::Category(allowed) => !allowed.is_empty(),
        Kind::Text | Kind::Amount => false,
    }
}

enum Check {
    Filtered,
    Rejected(Reject),
    /// Passed every rule but the unique case id; carries the id's fingerprint.
    Accepted(Option<Fingerprint>),
}

/// A 128-bit fingerprint of a case id.
type Fingerprint = u128;

/// A 128-bit fingerprint of a case id (XXH3-128): collisions are negligible (~10^-25 at 10^7
/// ids) and memory stays at 16 bytes per case instead of the id itself.
fn fingerprint(id: &str) -> Fingerprint {
    xxhash_rust::xxh3::xxh3_128(id.as_bytes())
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    #[test]
    fn decoded_decimals_are_read_as_their_text() {
        for scale in [1i8, 2] {
            let one = 10i128.pow(scale as u32);
            for whole in [
                0,
                1,
                10i128.pow(15),
                10i128.pow(16) - 1,
                10i128.pow(16),
                10i128.pow(17),
            ] {
                for raw in [
                    whole * one - 1,
                    whole * one,
                    whole * one + one - 1,
                    -whole * one - 1,
                ] {
                    let mut text = Vec::new();
                    text::decimal_text(raw, scale as u32, &mut text);
                    let text = String::from_utf8(text).unwrap();
                    assert_eq!(
                        decimal_cents(raw, scale),
                        parse::amount(&text).ok(),
                        "{text}"
                    );
                }
            }
        }
    }

    #[test]
    fn iso_days_are_the_years_1_to_9999() {
        let day = |y, m, d| parse::days_of(NaiveDate::from_ymd_opt(y, m, d).unwrap());
        assert_eq!(ISO_DAYS, day(1, 1, 1)..=day(9999, 12, 31));
        for days in [*ISO_DAYS.start() - 1, *ISO_DAYS.end() + 1] {
            let (year, _, _) = crate::period::civil_from_days(i64::from(days));
            assert!(!(1..=9999).contains(&year) && iso_day(days).is_none());
        }
    }
}
