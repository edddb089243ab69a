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
    PrimitiveArray, StringArray, StringBuilder,
};
use datafusion::arrow::compute::filter;
use datafusion::arrow::datatypes::{
    ArrowPrimitiveType, DataType, Date32Type, Decimal128Type, Float64Type, Int32Type, Int64Type,
};
use datafusion::arrow::record_batch::RecordBatch;

use super::super::columns::{Builder, Value};
use super::super::rows::{Row, Rows, dictionary_text};
use super::{
    Cells, Checked, FileRules, Hits, day_count, decimal_cents, decimal_fraction, fingerprint,
    iso_day, typed_detect, typed_value, unit_fraction,
};
use crate::contract::{self, Kind};
use crate::privacy::identifiers;

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

/// The cells of a chunk, read a column at a time.
struct Chunk<'a> {
    rows: &'a Rows,
    /// Each row's cells, `None` when it could not be split into as many as the header has.
    cells: Vec<Option<Row<'a>>>,
}

/// One column's cell texts.
enum Texts<'a> {
    /// A text column of an Arrow chunk.
    Arrow(&'a StringArray),
    /// A column of an Arrow chunk read as a dictionary of texts.
    Dictionary(&'a DictionaryArray<Int32Type>),
    /// Column `.1` of each row.
    Rows(&'a [Option<Row<'a>>], usize),
    /// Not in the input, or read as decoded.
    Missing,
}

impl Texts<'_> {
    fn get(&self, index: usize) -> Option<&str> {
        match self {
            Texts::Arrow(column) => (!column.is_null(index)).then(|| column.value(index)),
            Texts::Dictionary(column) => dictionary_text(column, index),
            Texts::Rows(cells, position) => cells[index].as_ref()?.cell(*position),
            Texts::Missing => None,
        }
    }
}

impl<'a> Chunk<'a> {
    fn new(rows: &'a Rows, width: usize) -> Chunk<'a> {
        let cells = (0..rows.len())
            .map(|index| rows.row(index).ok().filter(|cells| cells.count() == width))
            .collect();
        Chunk { rows, cells }
    }

    /// The texts of column `position` (`None`: the column is not in the input).
    fn texts(&self, position: Option<usize>) -> Texts<'_> {
        let Some(position) = position else {
            return Texts::Missing;
        };
        match self.rows.arrow_column(position) {
            Some((Some(text), _)) => Texts::Arrow(text),
            Some((None, _)) => match self.rows.arrow_dictionary(position) {
                Some(dictionary) => Texts::Dictionary(dictionary),
                None => Texts::Missing,
            },
            None => Texts::Rows(&self.cells, position),
        }
    }

    /// Column `position` as read, when it is a dictionary of texts.
    fn dictionary(&self, position: Option<usize>) -> Option<&DictionaryArray<Int32Type>> {
        self.rows.arrow_dictionary(position?)
    }

    /// The decoded column at `position` its rule reads, if any (then for every row).
    fn typed(&self, position: Option<usize>) -> Option<&ArrayRef> {
        self.rows.arrow_column(position?)?.1
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
        let chunk = Chunk::new(rows, layout.header.len());
        // Whether each row is still accepted by this path.
        let mut ok: Vec<bool> = chunk.cells.iter().map(Option::is_some).collect();
        for (position, values) in &layout.filters {
            let texts = chunk.texts(Some(*position));
            for (index, ok) in ok.iter_mut().enumerate() {
                *ok = *ok
                    && texts
                        .get(index)
                        .is_some_and(|c| values.iter().any(|v| v == c));
            }
        }
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(contract::COLUMNS.len());
        for (column, position) in contract::COLUMNS.iter().zip(&layout.contract) {
            arrays.push(self.column_values(column, *position, &chunk, &mut ok)?);
        }
        for position in &layout.keep {
            let texts = chunk.texts(Some(*position));
            let mut kept = StringBuilder::new();
            for (index, ok) in ok.iter().enumerate() {
                kept.append_option(texts.get(index).filter(|t| *ok && !t.is_empty()));
            }
            arrays.push(Arc::new(kept.finish()));
        }
        self.cross_columns(&arrays, &mut ok);

        let mut checked = Checked::default();
        self.scan_columns(&chunk, &ok, &mut checked.identifiers);
        let ids = arrays[Cross::new().case_id].as_string::<i32>();
        for (index, accepted) in ok.iter().enumerate() {
            checked.counts.read += 1;
            if *accepted {
                checked.counts.accepted += 1;
                checked
                    .accepted
                    .push((index, Some(fingerprint(ids.value(index)))));
                continue;
            }
            let check = self.check_one(rows, index, row, &mut checked.identifiers)?;
            if checked.tally(index, check).is_some() {
                return Ok(None);
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

    /// The identifier scan of the accepted rows (`ok`), as [`FileRules::scan`] does it for each.
    fn scan_columns(&self, chunk: &Chunk, ok: &[bool], identifiers: &mut Hits) {
        for position in &self.layout.scanned_when_valid {
            let mut count = |detector| {
                let name = self.layout.header[*position].clone();
                *identifiers.entry((name, detector)).or_default() += 1;
            };
            match chunk.typed(Some(*position)) {
                Some(array) => {
                    for index in (0..ok.len()).filter(|i| ok[*i]) {
                        if let Some(detector) = typed_detect(array, index) {
                            count(detector);
                        }
                    }
                }
                None => {
                    let texts = chunk.texts(Some(*position));
                    // A dictionary's texts are scanned once each, on first use.
                    let dictionary = chunk.dictionary(Some(*position));
                    let mut found = vec![None; dictionary.map_or(0, |d| d.values().len())];
                    for index in (0..ok.len()).filter(|i| ok[*i]) {
                        let hit = match dictionary.and_then(|d| d.key(index)) {
                            Some(key) => *found[key].get_or_insert_with(|| {
                                texts.get(index).and_then(identifiers::detect)
                            }),
                            None => texts.get(index).and_then(identifiers::detect),
                        };
                        if let Some(detector) = hit {
                            count(detector);
                        }
                    }
                }
            }
        }
    }

    /// One contract column of every row, as stored in `cases` (any value where a row is not
    /// accepted, as those rows are left out); clears `ok` for each row whose cell this path
    /// does not accept.
    fn column_values(
        &self,
        column: &contract::Column,
        position: Option<usize>,
        chunk: &Chunk,
        ok: &mut [bool],
    ) -> anyhow::Result<ArrayRef> {
        match column.kind {
            Kind::Category(allowed) => {
                return self.category_values(column, allowed, position, chunk, ok);
            }
            Kind::Text => return Ok(self.text_values(column, position, chunk, ok)),
            _ => {}
        }
        if let Some(array) = chunk.typed(position)
            && let Some(values) = typed_values(column, array, ok)
        {
            return Ok(values);
        }
        let texts = chunk.texts(position);
        let mut builder = Builder::new(column.kind);
        for (index, ok) in ok.iter_mut().enumerate() {
            let value = match chunk.typed(position) {
                _ if !*ok => None,
                Some(array) => typed_value(column.kind, array, index),
                None => match self.clean(texts.get(index)) {
                    None => Some(Value::Null),
                    Some(text) => self.value(column, text).ok(),
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
        chunk: &Chunk,
        ok: &mut [bool],
    ) -> ArrayRef {
        let texts = chunk.texts(position);
        let mut values = StringBuilder::with_capacity(ok.len(), ok.len() * 16);
        for (index, ok) in ok.iter_mut().enumerate() {
            let text = self.clean(texts.get(index).filter(|_| *ok));
            if text.is_none() && column.required {
                *ok = false;
            }
            values.append_option(text.filter(|_| *ok));
        }
        Arc::new(values.finish())
    }

    /// A category column as dictionary keys: a closed list without labels is matched by position
    /// in the list, anything else through the labels and a table of the chunk's values.
    fn category_values(
        &self,
        column: &contract::Column,
        allowed: &'static [&'static str],
        position: Option<usize>,
        chunk: &Chunk,
        ok: &mut [bool],
    ) -> anyhow::Result<ArrayRef> {
        let texts = chunk.texts(position);
        let mut keys = Int32Builder::with_capacity(ok.len());
        let mut values = StringBuilder::new();
        let plain = !allowed.is_empty() && !self.config.labels.contains_key(column.name);
        if plain {
            for known in allowed {
                values.append_value(known);
            }
        }
        // Source text to key, for labels and open lists.
        let mut codes: HashMap<&str, Option<i32>> = HashMap::new();
        // Row `index`'s key: `None` when empty, else the key of its text (`None`: not
        // accepted).
        let mut key_of = |index: usize| -> Option<Option<i32>> {
            Some(match self.clean(texts.get(index))? {
                text if plain => allowed
                    .iter()
                    .position(|known| *known == text)
                    .map(|at| at as i32),
                text => *codes.entry(text).or_insert_with(|| {
                    let label = self.category(column.name, allowed, text).ok()?;
                    let key = values.len() as i32;
                    values.append_value(label);
                    Some(key)
                }),
            })
        };
        // A dictionary's texts are looked up once each, on first use, so in the same order as
        // cell by cell.
        let dictionary = chunk.dictionary(position);
        let mut known: Vec<Option<Option<Option<i32>>>> =
            vec![None; dictionary.map_or(0, |d| d.values().len())];
        for (index, ok) in ok.iter_mut().enumerate() {
            if !*ok {
                keys.append_null();
                continue;
            }
            let cell = match dictionary.and_then(|d| d.key(index)) {
                Some(at) => *known[at].get_or_insert_with(|| key_of(index)),
                None => key_of(index),
            };
            let key = match cell {
                None if column.required => None,
                None => {
                    keys.append_null();
                    continue;
                }
                Some(key) => key,
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
    fn clean<'c>(&self, text: Option<&'c str>) -> Option<&'c str> {
        let text = text?.trim();
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

/// A decoded column its rule reads, checked a whole column at a time with the rules
/// [`typed_value`] reads per value, as stored in `cases` (the column itself where its type is
/// the stored one); clears `ok` where a rule does not accept the value. `None` for a type this
/// does not cover (each value is then checked by [`typed_value`]).
fn typed_values(column: &contract::Column, array: &ArrayRef, ok: &mut [bool]) -> Option<ArrayRef> {
    let required = column.required;
    Some(match (column.kind, array.data_type()) {
        (Kind::Date, DataType::Date32) => {
            check(array.as_primitive::<Date32Type>(), required, ok, iso_day);
            array.clone()
        }
        (Kind::Days, DataType::Int32) => {
            let days = |days: i32| day_count(days.into());
            check(array.as_primitive::<Int32Type>(), required, ok, days);
            array.clone()
        }
        (Kind::Days, DataType::Int64) => {
            let days = array.as_primitive::<Int64Type>();
            Arc::new(convert::<_, Int32Type>(days, required, ok, day_count))
        }
        (Kind::Fraction, DataType::Float64) => {
            check(
                array.as_primitive::<Float64Type>(),
                required,
                ok,
                unit_fraction,
            );
            array.clone()
        }
        (Kind::Fraction, DataType::Decimal128(_, scale)) => {
            let raw = array.as_primitive::<Decimal128Type>();
            let fraction = |raw| decimal_fraction(raw, *scale);
            Arc::new(convert::<_, Float64Type>(raw, required, ok, fraction))
        }
        (Kind::Flag, DataType::Boolean) if !required => array.clone(),
        (Kind::Amount, DataType::Decimal128(_, scale @ 1..=2)) => {
            let raw = array.as_primitive::<Decimal128Type>();
            let cents = |raw| decimal_cents(raw, *scale);
            let cents = convert::<_, Decimal128Type>(raw, required, ok, cents);
            Arc::new(cents.with_data_type(contract::data_type(Kind::Amount)))
        }
        _ => return None,
    })
}

/// Clears `ok` where the value is NULL in a required column, or its rule gives `None`; the
/// column is kept as it is.
fn check<T: ArrowPrimitiveType, O>(
    values: &PrimitiveArray<T>,
    required: bool,
    ok: &mut [bool],
    rule: impl Fn(T::Native) -> Option<O>,
) {
    for (index, ok) in ok.iter_mut().enumerate() {
        if *ok {
            *ok = if values.is_null(index) {
                !required
            } else {
                rule(values.value(index)).is_some()
            };
        }
    }
}

/// [`check`], and the column made of what the rule gives (NULL where a row is not accepted).
fn convert<T: ArrowPrimitiveType, O: ArrowPrimitiveType>(
    values: &PrimitiveArray<T>,
    required: bool,
    ok: &mut [bool],
    rule: impl Fn(T::Native) -> Option<O::Native>,
) -> PrimitiveArray<O> {
    ok.iter_mut()
        .enumerate()
        .map(|(index, ok)| {
            if !*ok {
                return None;
            }
            if values.is_null(index) {
                *ok = !required;
                return None;
            }
            let value = rule(values.value(index));
            *ok = value.is_some();
            value
        })
        .collect()
}
