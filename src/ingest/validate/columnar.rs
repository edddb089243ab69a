//! The rules applied a column at a time to a whole chunk, the usual way a chunk is checked.
//!
//! Every cell is parsed by the same functions the row path uses ([`FileRules::value`],
//! [`typed_value`], [`FileRules::category`]), but straight into one Arrow array per column:
//! no per-row list of values, no copy of a case id or region label per row, a closed category
//! list matched by its position instead of through a hash table. A row this path does not
//! accept as it is (a rule breaks, a decoded value needs its text, a wrong field count) is then
//! checked by the row path, which gives its reject, its identifier hits and its filter outcome;
//! should the row path accept such a row after all, the whole chunk is checked row by row. So
//! the outcome is the row path's by construction, which the ingest tests check on random input.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayBuilder, ArrayRef, AsArray, BooleanArray, DictionaryArray, Int32Builder,
    StringArray, StringBuilder,
};
use datafusion::arrow::compute::filter;
use datafusion::arrow::datatypes::{Date32Type, Int32Type};
use datafusion::arrow::record_batch::RecordBatch;

use super::super::columns::{Builder, Value};
use super::super::rows::{Row, Rows};
use super::{Cells, Check, Checked, Counts, FileRules, Hits, fingerprint, typed_value};
use crate::contract::{self, Kind};

/// Index of each contract column in [`contract::COLUMNS`] that the cross-column rules read.
struct Cross {
    case_id: usize,
    opened: usize,
    closed: usize,
    outcome: usize,
}

impl Cross {
    fn new() -> Cross {
        let at = |name: &str| {
            contract::COLUMNS
                .iter()
                .position(|c| c.name == name)
                .unwrap_or_default()
        };
        Cross {
            case_id: at("case_id"),
            opened: at("opened_on"),
            closed: at("closed_on"),
            outcome: at("outcome"),
        }
    }
}

impl FileRules<'_> {
    /// Checks a chunk a column at a time; `None` when it must be checked row by row (the row
    /// path accepts a row this path does not).
    pub(super) fn check_columnar(
        &self,
        rows: &Rows,
        row: &mut Vec<Value>,
    ) -> anyhow::Result<Option<Checked>> {
        let layout = &self.layout;
        let width = layout.header.len();
        let cells: Vec<Option<Row>> = (0..rows.len())
            .map(|index| rows.row(index).ok().filter(|cells| cells.count() == width))
            .collect();
        // Whether each row is still accepted by this path.
        let mut ok: Vec<bool> = cells.iter().map(Option::is_some).collect();
        let cell = |index: usize, position: usize| cells[index].as_ref()?.cell(position);
        for (position, values) in &layout.filters {
            for (index, ok) in ok.iter_mut().enumerate() {
                *ok = *ok && cell(index, *position).is_some_and(|c| values.iter().any(|v| v == c));
            }
        }
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(contract::COLUMNS.len());
        for (column, position) in contract::COLUMNS.iter().zip(&layout.contract) {
            arrays.push(self.column_values(column, *position, &cells, &mut ok)?);
        }
        for position in &layout.keep {
            let mut kept = StringBuilder::new();
            for (index, ok) in ok.iter().enumerate() {
                kept.append_option(cell(index, *position).filter(|t| *ok && !t.is_empty()));
            }
            arrays.push(Arc::new(kept.finish()));
        }
        self.cross_columns(&arrays, &mut ok);

        let mut checked = Checked {
            batches: Vec::new(),
            accepted: Vec::new(),
            rejects: Vec::new(),
            counts: Counts::default(),
            identifiers: Hits::new(),
        };
        let ids = arrays[Cross::new().case_id].as_string::<i32>();
        for (index, accepted) in ok.iter().enumerate() {
            checked.counts.read += 1;
            if *accepted {
                checked.counts.accepted += 1;
                checked
                    .accepted
                    .push((index, Some(fingerprint(ids.value(index)))));
                if let Some(cells) = &cells[index] {
                    self.scan(&layout.scanned_when_valid, cells, &mut checked.identifiers);
                }
                continue;
            }
            match self.check_one(rows, index, row, &mut checked.identifiers)? {
                Check::Accepted(_) => return Ok(None),
                Check::Filtered => checked.counts.filtered += 1,
                Check::Rejected(reject) => {
                    *checked
                        .counts
                        .rejected
                        .entry(reject.rule.to_string())
                        .or_default() += 1;
                    checked.rejects.push((index, reject));
                }
            }
        }
        if checked.counts.accepted > 0 {
            let mask = BooleanArray::from(ok);
            let arrays = arrays
                .iter()
                .map(|array| filter(array, &mask))
                .collect::<Result<Vec<_>, _>>()?;
            let schema = contract::schema(&self.keep_names);
            checked.batches.push(RecordBatch::try_new(schema, arrays)?);
        }
        Ok(Some(checked))
    }

    /// One contract column of every row, as stored in `cases` (NULL where a row is not
    /// accepted); clears `ok` for each row whose cell this path does not accept.
    fn column_values(
        &self,
        column: &contract::Column,
        position: Option<usize>,
        cells: &[Option<Row>],
        ok: &mut [bool],
    ) -> anyhow::Result<ArrayRef> {
        match column.kind {
            Kind::Category(allowed) => {
                return self.category_values(column, allowed, position, cells, ok);
            }
            Kind::Text => return Ok(self.text_values(column, position, cells, ok)),
            _ => {}
        }
        let mut builder = Builder::new(column.kind);
        for (cells, ok) in cells.iter().zip(ok.iter_mut()) {
            let value = match cells.as_ref().filter(|_| *ok) {
                None => None,
                Some(cells) => match position.and_then(|p| cells.typed(p)) {
                    Some((array, at)) => typed_value(column.kind, array, at),
                    None => match self.text_of(position, cells) {
                        None => Some(Value::Null),
                        Some(text) => self.value(column, text).ok(),
                    },
                },
            };
            match value {
                Some(Value::Null) if column.required => *ok = false,
                Some(value) => builder.append(&value),
                None => *ok = false,
            }
            if !*ok {
                builder.append_null();
            }
        }
        Ok(builder.finish())
    }

    /// A text column (the case id): the trimmed cells, copied once.
    fn text_values(
        &self,
        column: &contract::Column,
        position: Option<usize>,
        cells: &[Option<Row>],
        ok: &mut [bool],
    ) -> ArrayRef {
        let mut texts = StringBuilder::with_capacity(cells.len(), cells.len() * 16);
        for (cells, ok) in cells.iter().zip(ok.iter_mut()) {
            let text = cells
                .as_ref()
                .filter(|_| *ok)
                .and_then(|cells| self.text_of(position, cells));
            if text.is_none() && column.required {
                *ok = false;
            }
            texts.append_option(text.filter(|_| *ok));
        }
        Arc::new(texts.finish())
    }

    /// A category column as dictionary keys: a closed list without labels is matched by position
    /// in the list, anything else through the labels and a table of the chunk's values.
    fn category_values(
        &self,
        column: &contract::Column,
        allowed: &'static [&'static str],
        position: Option<usize>,
        cells: &[Option<Row>],
        ok: &mut [bool],
    ) -> anyhow::Result<ArrayRef> {
        let mut keys = Int32Builder::with_capacity(cells.len());
        let mut values = StringBuilder::new();
        let plain = !allowed.is_empty() && !self.config.labels.contains_key(column.name);
        if plain {
            for known in allowed {
                values.append_value(known);
            }
        }
        // Source text to key, for labels and open lists.
        let mut codes: HashMap<&str, Option<i32>> = HashMap::new();
        for (cells, ok) in cells.iter().zip(ok.iter_mut()) {
            let text = match cells.as_ref().filter(|_| *ok) {
                None => {
                    keys.append_null();
                    continue;
                }
                Some(cells) => self.text_of(position, cells),
            };
            let key = match text {
                None if column.required => None,
                None => {
                    keys.append_null();
                    continue;
                }
                Some(text) if plain => allowed
                    .iter()
                    .position(|known| *known == text)
                    .map(|at| at as i32),
                Some(text) => *codes.entry(text).or_insert_with(|| {
                    let label = self.category(column.name, allowed, text).ok()?;
                    let key = values.len() as i32;
                    values.append_value(label);
                    Some(key)
                }),
            };
            match key {
                Some(key) => keys.append_value(key),
                None => {
                    *ok = false;
                    keys.append_null();
                }
            }
        }
        let values = dedupe(values.finish());
        let keys = keys.finish();
        let keys = match values.1 {
            None => keys,
            Some(map) => keys.unary::<_, Int32Type>(|key| map[key as usize]),
        };
        Ok(Arc::new(DictionaryArray::try_new(
            keys,
            Arc::new(values.0),
        )?))
    }

    /// A cell's text as the rules read it: trimmed, `None` when empty or a null value.
    fn text_of<'c>(&self, position: Option<usize>, cells: &'c Row) -> Option<&'c str> {
        let text = cells.cell(position?)?.trim();
        (!text.is_empty() && !self.is_null(text)).then_some(text)
    }

    /// The closing date after the opening date; closed exactly when resolved, when the config
    /// asks. Mirrors [`FileRules::cross_rules`].
    fn cross_columns(&self, arrays: &[ArrayRef], ok: &mut [bool]) {
        let cross = Cross::new();
        let mapped = |index: usize| self.layout.contract[index].is_some();
        let opened = arrays[cross.opened].as_primitive::<Date32Type>();
        let closed = arrays[cross.closed].as_primitive::<Date32Type>();
        if mapped(cross.opened) && mapped(cross.closed) {
            for (index, ok) in ok.iter_mut().enumerate() {
                let both = opened.is_valid(index) && closed.is_valid(index);
                *ok = *ok && !(both && closed.value(index) < opened.value(index));
            }
        }
        if mapped(cross.closed) && self.config.rules.closed_iff_resolved {
            let outcome = arrays[cross.outcome].as_dictionary::<Int32Type>();
            let labels = outcome.values().as_string::<i32>();
            let open = (0..labels.len()).find(|key| labels.value(*key) == "open");
            let key = outcome.keys();
            for (index, ok) in ok.iter_mut().enumerate() {
                let is_open = key.is_valid(index) && Some(key.value(index) as usize) == open;
                *ok = *ok && is_open != closed.is_valid(index);
            }
        }
    }
}

/// The dictionary with each label once, and how old keys map to new ones when some label came
/// twice (two source texts with the same label).
fn dedupe(values: StringArray) -> (StringArray, Option<Vec<i32>>) {
    let mut seen: HashMap<&str, i32> = HashMap::new();
    let map: Vec<i32> = values
        .iter()
        .map(|value| {
            let next = seen.len() as i32;
            *seen.entry(value.unwrap_or_default()).or_insert(next)
        })
        .collect();
    if seen.len() == values.len() {
        return (values, None);
    }
    let mut unique = StringBuilder::new();
    let mut order: Vec<(&str, i32)> = seen.into_iter().collect();
    order.sort_by_key(|(_, key)| *key);
    for (value, _) in order {
        unique.append_value(value);
    }
    (unique.finish(), Some(map))
}
