//! The contract rules of DESIGN §2, applied row by row: a row that breaks one is quarantined
//! with its file, line, column and rule; a row that passes is appended to the columnar table.
//! Every source cell also goes through the identifier scan here, so the input is read once.

use std::borrow::Cow;
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashSet};
use std::hash::BuildHasherDefault;
use std::hash::{Hash, Hasher};

use super::columns::{Columns, Value};
use super::parse;
use crate::config::JobConfig;
use crate::contract::{self, Kind};
use crate::error::data;
use crate::privacy::identifiers::{self, Detector};

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
}

/// Where each piece a row needs sits in one file's header.
struct Layout {
    contract: Vec<Option<usize>>,
    keep: Vec<usize>,
    filters: Vec<(usize, Vec<String>)>,
    scanned: Vec<usize>,
    /// Scanned columns whose validated values cannot hold an identifier are left out here.
    scanned_when_valid: Vec<usize>,
    header: Vec<String>,
}

/// Counts kept for the manifest.
#[derive(Debug, Default, Clone)]
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

/// Validates rows from any number of files into one table.
pub struct Validator<'a> {
    config: &'a JobConfig,
    keep_names: Vec<String>,
    columns: Columns,
    seen: HashSet<(u64, u64), BuildHasherDefault<Fingerprinted>>,
    row: Vec<Value>,
    layout: Option<Layout>,
    source: String,
    /// Quarantined rows.
    pub rejects: Vec<Reject>,
    /// Row counts.
    pub counts: Counts,
    /// Identifier scan hits per (source column, detector).
    pub identifiers: BTreeMap<(String, Detector), u64>,
}

impl<'a> Validator<'a> {
    /// A validator for one job config.
    pub fn new(config: &'a JobConfig) -> Validator<'a> {
        let keep_names: Vec<String> = config.keep.keys().cloned().collect();
        Validator {
            config,
            columns: Columns::new(&keep_names),
            keep_names,
            seen: HashSet::default(),
            row: Vec::new(),
            layout: None,
            source: String::new(),
            rejects: Vec::new(),
            counts: Counts::default(),
            identifiers: BTreeMap::new(),
        }
    }

    /// Starts a new file with its header; errors when a mapped column is missing.
    pub fn start_file(&mut self, source: &str, header: &[String]) -> anyhow::Result<()> {
        let position = |name: &str| header.iter().position(|h| h == name);
        let missing = |name: &str, role: String| {
            data(format!(
                "`{source}`: header has no column `{name}` ({role})\nhint: map it in `[columns]`, or list the contract column in `absent`"
            ))
        };
        let mut contract_positions = Vec::new();
        for column in contract::COLUMNS {
            let index =
                match self.config.source_name(column.name) {
                    None => None,
                    Some(name) => Some(position(name).ok_or_else(|| {
                        missing(name, format!("contract column `{}`", column.name))
                    })?),
                };
            contract_positions.push(index);
        }
        let mut keep = Vec::new();
        for (name, source_column) in &self.config.keep {
            keep.push(
                position(source_column)
                    .ok_or_else(|| missing(source_column, format!("kept as `{name}`")))?,
            );
        }
        let mut filters = Vec::new();
        for filter in &self.config.filter {
            let index = position(&filter.column)
                .ok_or_else(|| missing(&filter.column, "row filter".into()))?;
            filters.push((index, filter.values.clone()));
        }
        let scanned: Vec<usize> = header
            .iter()
            .enumerate()
            .filter(|(_, name)| !self.config.privacy.safe_columns.contains_key(*name))
            .map(|(index, _)| index)
            .collect();
        let proven_safe = |index: &usize| {
            let mut uses = contract::COLUMNS
                .iter()
                .zip(&contract_positions)
                .filter(|(_, position)| **position == Some(*index))
                .peekable();
            uses.peek().is_some()
                && !keep.contains(index)
                && uses.all(|(column, _)| validated_values_are_safe(column.kind))
        };
        let scanned_when_valid = scanned
            .iter()
            .filter(|index| !proven_safe(index))
            .copied()
            .collect();
        self.layout = Some(Layout {
            contract: contract_positions,
            keep,
            filters,
            scanned,
            scanned_when_valid,
            header: header.to_vec(),
        });
        self.source = source.to_string();
        Ok(())
    }

    /// Checks one source row and either appends it or quarantines it.
    pub fn row(&mut self, line: u64, cells: &dyn Cells) -> anyhow::Result<()> {
        let Some(layout) = self.layout.take() else {
            anyhow::bail!("row before header");
        };
        let outcome = self.check(&layout, line, cells);
        self.layout = Some(layout);
        match outcome {
            Check::Filtered => self.counts.filtered += 1,
            Check::Rejected(reject) => {
                *self
                    .counts
                    .rejected
                    .entry(reject.rule.to_string())
                    .or_default() += 1;
                self.rejects.push(reject);
            }
            Check::Accepted => {
                self.columns.append(&self.row)?;
                self.counts.accepted += 1;
            }
        }
        Ok(())
    }

    fn check(&mut self, layout: &Layout, line: u64, cells: &dyn Cells) -> Check {
        self.counts.read += 1;
        if cells.count() != layout.header.len() {
            self.scan(&layout.scanned, layout, cells);
            return Check::Rejected(self.reject(line, "", "wrong_field_count", None));
        }
        let keeps = |(index, values): &(usize, Vec<String>)| {
            cells
                .cell(*index)
                .is_some_and(|c| values.iter().any(|v| v == c))
        };
        if !layout.filters.iter().all(keeps) {
            self.scan(&layout.scanned, layout, cells);
            return Check::Filtered;
        }
        match self.parse_row(layout, cells) {
            Err((index, rule)) => {
                self.scan(&layout.scanned, layout, cells);
                let value = index.and_then(|i| cells.cell(i));
                let column = index
                    .and_then(|i| layout.header.get(i).cloned())
                    .unwrap_or_default();
                Check::Rejected(self.reject(line, &column, rule, value))
            }
            Ok(()) => {
                self.scan(&layout.scanned_when_valid, layout, cells);
                Check::Accepted
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

    fn scan(&mut self, columns: &[usize], layout: &Layout, cells: &dyn Cells) {
        for index in columns {
            if let Some(detector) = cells.cell(*index).and_then(identifiers::detect) {
                let name = layout.header[*index].clone();
                *self.identifiers.entry((name, detector)).or_default() += 1;
            }
        }
    }

    /// Parses every contract and kept column into `self.row`; errors carry the source index.
    fn parse_row(
        &mut self,
        layout: &Layout,
        cells: &dyn Cells,
    ) -> Result<(), (Option<usize>, &'static str)> {
        self.row.clear();
        for (column, index) in contract::COLUMNS.iter().zip(&layout.contract) {
            let text = index.and_then(|i| cells.cell(i)).map(str::trim);
            let text = text.filter(|t| !t.is_empty() && !self.is_null(t));
            let value = match text {
                None if column.required => return Err((*index, "missing_required")),
                None => Value::Null,
                Some(text) => self.value(column, text).map_err(|rule| (*index, rule))?,
            };
            self.row.push(value);
        }
        for index in &layout.keep {
            let text = cells.cell(*index).filter(|t| !t.is_empty());
            self.row
                .push(text.map_or(Value::Null, |t| Value::Text(t.to_string())));
        }
        self.cross_rules(layout)
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

    /// Rules across columns: closing date order, closure vs outcome, unique case id.
    fn cross_rules(&mut self, layout: &Layout) -> Result<(), (Option<usize>, &'static str)> {
        let at = |name: &str| {
            contract::COLUMNS
                .iter()
                .position(|c| c.name == name)
                .and_then(|i| layout.contract[i].map(|source| (i, source)))
        };
        let closed = at("closed_on");
        if let (Some((o, _)), Some((c, source))) = (at("opened_on"), closed)
            && let (Value::Date(opened), Value::Date(closed)) = (&self.row[o], &self.row[c])
            && closed < opened
        {
            return Err((Some(source), "closed_before_opened"));
        }
        if let (Some((c, source)), Some((o, _))) = (closed, at("outcome"))
            && self.config.rules.closed_iff_resolved
        {
            let open = self.row[o] == Value::Category(Cow::Borrowed("open"));
            let has_date = self.row[c] != Value::Null;
            if open && has_date {
                return Err((Some(source), "closed_but_open"));
            }
            if !open && !has_date {
                return Err((Some(source), "resolved_without_closed_on"));
            }
        }
        let (i, source) = at("case_id").ok_or((None, "missing_required"))?;
        if let Value::Text(id) = &self.row[i]
            && !self.seen.insert(fingerprint(id))
        {
            return Err((Some(source), "duplicate_case_id"));
        }
        Ok(())
    }

    /// Names of the kept extra columns, in table order.
    pub fn keep_names(&self) -> &[String] {
        &self.keep_names
    }

    /// The accepted rows as record batches.
    pub fn finish(self) -> anyhow::Result<Vec<datafusion::arrow::record_batch::RecordBatch>> {
        self.columns.finish()
    }

    /// Schema of the accepted rows.
    pub fn schema(&self) -> datafusion::arrow::datatypes::SchemaRef {
        self.columns.schema()
    }
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
    Accepted,
}

/// A 128-bit fingerprint of a case id: collisions are negligible (~10^-25 at 10^7 ids) and
/// memory stays at 16 bytes per case instead of the id itself.
fn fingerprint(id: &str) -> (u64, u64) {
    let mut first = DefaultHasher::new();
    id.hash(&mut first);
    let mut second = DefaultHasher::new();
    (id, 0x5eed_u32).hash(&mut second);
    (first.finish(), second.finish())
}

/// Hashes a fingerprint by using its bits: they are already a keyed hash of the id, so hashing
/// them again (SipHash, the default) would only cost time.
#[derive(Default)]
struct Fingerprinted(u64);

impl Hasher for Fingerprinted {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = self.0.rotate_left(29) ^ value;
    }
}

impl Validator<'_> {
    /// Quarantines a row that could not even be split into cells (bad encoding, bad JSON).
    pub fn reject_whole_row(&mut self, line: u64, rule: &'static str) {
        self.counts.read += 1;
        *self.counts.rejected.entry(rule.to_string()).or_default() += 1;
        let reject = self.reject(line, "", rule, None);
        self.rejects.push(reject);
    }
}
