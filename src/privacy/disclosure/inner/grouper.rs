//! The inner cells counted in one pass over the rows of `cases`, without the engine's GROUP BY.
//!
//! The engine groups dictionary columns through its row format, which copies and compares the
//! text of every breakdown column of every row; with half a dozen breakdown columns that is
//! most of the cost of the inner cells. Here each breakdown value gets a small code (looked up
//! once per dictionary, or once per row for plain text), a row's codes are packed into one
//! 128-bit key, and the cells are a hash map of those keys. Each partition of `cases` is
//! grouped on its own and the results merged; the cells come out sorted by their values, so
//! the result does not depend on how the rows were split.

use std::collections::HashMap;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;

use super::{InnerCells, InnerRequest, float_column};
use crate::engine::top::Tops;
use crate::hash::MixedMap;

/// Bits of one column's code in a packed key.
const CODE_BITS: usize = 16;

/// Most breakdown columns a packed key holds.
pub const MAX_COLUMNS: usize = u128::BITS as usize / CODE_BITS;

/// Most distinct values (NULL included) of one breakdown column.
pub const MAX_VALUES: usize = 1 << CODE_BITS;

/// The values of one breakdown column seen so far, coded in order of first sight.
#[derive(Debug, Default)]
struct Values {
    codes: HashMap<String, u32>,
    texts: Vec<Option<String>>,
    null: Option<u32>,
    /// The last dictionary seen (held, so that its address is not reused) and its codes.
    last: Option<(ArrayRef, Vec<u32>)>,
}

impl Values {
    fn code(&mut self, text: Option<&str>) -> u32 {
        let Some(text) = text else {
            return *self.null.get_or_insert_with(|| {
                self.texts.push(None);
                (self.texts.len() - 1) as u32
            });
        };
        if let Some(&code) = self.codes.get(text) {
            return code;
        }
        let code = self.texts.len() as u32;
        self.texts.push(Some(text.to_string()));
        self.codes.insert(text.to_string(), code);
        code
    }

    /// The code of every row of `column` into `out`: a dictionary's values are coded once,
    /// any other type is read as text (the same cast as the engine's path).
    fn code_rows(&mut self, column: &ArrayRef, out: &mut Vec<u32>) -> anyhow::Result<()> {
        out.clear();
        let nulls = column.logical_nulls();
        let null = nulls
            .as_ref()
            .is_some_and(|n| n.null_count() > 0)
            .then(|| self.code(None));
        let is_null = |row: usize| nulls.as_ref().is_some_and(|n| n.is_null(row));
        if let Some(dictionary) = column.as_any_dictionary_opt() {
            let values = dictionary.values();
            let known = self
                .last
                .as_ref()
                .is_some_and(|(last, _)| std::sync::Arc::ptr_eq(last, values));
            if !known {
                let text = cast(values, &DataType::Utf8)?;
                let text = text.as_string::<i32>();
                let codes = (0..text.len())
                    .map(|i| self.code(text.is_valid(i).then(|| text.value(i))))
                    .collect();
                self.last = Some((values.clone(), codes));
            }
            let codes = &self.last.as_ref().expect("set above").1;
            out.extend(
                dictionary
                    .normalized_keys()
                    .into_iter()
                    .enumerate()
                    .map(|(row, key)| match null {
                        Some(null) if is_null(row) => null,
                        _ => codes[key],
                    }),
            );
        } else {
            let text = cast(column, &DataType::Utf8)?;
            let text = text.as_string::<i32>();
            for row in 0..text.len() {
                let code = match null {
                    Some(null) if is_null(row) => null,
                    _ => self.code(Some(text.value(row))),
                };
                out.push(code);
            }
        }
        Ok(())
    }
}

/// The code of column `column` in a packed key.
fn code_at(key: u128, column: usize) -> usize {
    ((key >> (column * CODE_BITS)) as usize) & (MAX_VALUES - 1)
}

/// Inner cells being counted: see the module documentation.
#[derive(Debug)]
pub struct Grouper {
    columns: Vec<String>,
    sources: Vec<String>,
    values: Vec<Values>,
    /// Packed key (as two words, which [`crate::hash::Mixed`] hashes word by word) to cell.
    cells: MixedMap<(u64, u64), u32>,
    keys: Vec<u128>,
    cases: Vec<u64>,
    tops: Vec<Tops>,
    /// Set when a key cannot hold the codes; the caller then asks the engine instead.
    too_wide: bool,
    codes: Vec<u32>,
    packed: Vec<u128>,
    cell_of: Vec<u32>,
}

impl Grouper {
    /// An empty grouping for `request`.
    pub fn new(request: &InnerRequest) -> Grouper {
        Grouper {
            columns: request.columns.clone(),
            sources: request.sources.clone(),
            values: request.columns.iter().map(|_| Values::default()).collect(),
            cells: MixedMap::default(),
            keys: Vec::new(),
            cases: Vec::new(),
            tops: request
                .sources
                .iter()
                .map(|_| Tops::new(request.top_n.max(1)))
                .collect(),
            too_wide: request.columns.len() > MAX_COLUMNS,
            codes: Vec::new(),
            packed: Vec::new(),
            cell_of: Vec::new(),
        }
    }

    /// True when there are more breakdown columns than [`MAX_COLUMNS`] or a column has more
    /// than [`MAX_VALUES`] values: the cells counted so far are then incomplete.
    pub fn too_wide(&self) -> bool {
        self.too_wide
    }

    /// The cell of a packed key, made when new.
    fn cell(&mut self, key: u128) -> usize {
        let next = self.keys.len() as u32;
        let cell = *self
            .cells
            .entry(((key >> 64) as u64, key as u64))
            .or_insert(next);
        if cell == next {
            self.keys.push(key);
            self.cases.push(0);
        }
        cell as usize
    }

    /// Counts the rows of `batch`, which holds the breakdown columns and sources by name.
    pub fn add(&mut self, batch: &RecordBatch) -> anyhow::Result<()> {
        if self.too_wide {
            return Ok(());
        }
        let rows = batch.num_rows();
        self.packed.clear();
        self.packed.resize(rows, 0);
        for (index, name) in self.columns.iter().enumerate() {
            let column = batch
                .column_by_name(name)
                .ok_or_else(|| anyhow::anyhow!("column `{name}` is missing"))?;
            self.values[index].code_rows(column, &mut self.codes)?;
            if self.values[index].texts.len() > MAX_VALUES {
                self.too_wide = true;
                return Ok(());
            }
            let shift = index * CODE_BITS;
            for (key, code) in self.packed.iter_mut().zip(&self.codes) {
                *key |= u128::from(*code) << shift;
            }
        }
        let mut cell_of = std::mem::take(&mut self.cell_of);
        cell_of.clear();
        for row in 0..rows {
            let cell = self.cell(self.packed[row]);
            self.cases[cell] += 1;
            cell_of.push(cell as u32);
        }
        for (source, tops) in self.sources.iter().zip(&mut self.tops) {
            tops.resize(self.keys.len());
            let values = float_column(batch, source)?;
            for (row, cell) in cell_of.iter().enumerate() {
                if values.is_valid(row) {
                    tops.insert(*cell as usize, values.value(row));
                }
            }
        }
        self.cell_of = cell_of;
        Ok(())
    }

    /// Adds the cells of `other`, a grouping of other rows for the same request.
    pub fn merge(&mut self, other: Grouper) {
        self.too_wide |= other.too_wide;
        if self.too_wide {
            return;
        }
        // Their codes in terms of ours, per column.
        let recode: Vec<Vec<u32>> = self
            .values
            .iter_mut()
            .zip(&other.values)
            .map(|(ours, theirs)| {
                theirs
                    .texts
                    .iter()
                    .map(|t| ours.code(t.as_deref()))
                    .collect()
            })
            .collect();
        if self.values.iter().any(|v| v.texts.len() > MAX_VALUES) {
            self.too_wide = true;
            return;
        }
        for (theirs, key) in other.keys.iter().enumerate() {
            let key = recode
                .iter()
                .enumerate()
                .fold(0u128, |packed, (column, codes)| {
                    packed | u128::from(codes[code_at(*key, column)]) << (column * CODE_BITS)
                });
            let ours = self.cell(key);
            self.cases[ours] += other.cases[theirs];
            for (mine, their_tops) in self.tops.iter_mut().zip(&other.tops) {
                mine.resize(self.keys.len());
                for value in their_tops.group(theirs) {
                    mine.insert(ours, *value);
                }
            }
        }
    }

    /// The inner cells, sorted by their values (NULL first).
    pub fn finish(self) -> InnerCells {
        // Per column, the values some cell has, ascending, and each code's rank among them.
        let mut values = Vec::new();
        let mut ranks = Vec::new();
        for (column, seen) in self.values.iter().enumerate() {
            let mut used = vec![false; seen.texts.len()];
            for &key in &self.keys {
                used[code_at(key, column)] = true;
            }
            let mut order: Vec<usize> = (0..seen.texts.len()).filter(|&c| used[c]).collect();
            order.sort_unstable_by(|a, b| seen.texts[*a].cmp(&seen.texts[*b]));
            let mut rank = vec![0u32; seen.texts.len()];
            for (position, &code) in order.iter().enumerate() {
                rank[code] = position as u32;
            }
            values.push(order.iter().map(|&c| seen.texts[c].clone()).collect());
            ranks.push(rank);
        }
        let rank_of = |key: u128, column: usize| ranks[column][code_at(key, column)];
        let mut order: Vec<(u128, u32)> = self
            .keys
            .iter()
            .enumerate()
            .map(|(cell, &key)| {
                let sort = (0..ranks.len()).fold(0u128, |sort, column| {
                    sort << CODE_BITS | u128::from(rank_of(key, column))
                });
                (sort, cell as u32)
            })
            .collect();
        order.sort_unstable();
        let cells: Vec<usize> = order.into_iter().map(|(_, cell)| cell as usize).collect();
        let codes = (0..self.columns.len())
            .map(|column| {
                cells
                    .iter()
                    .map(|&cell| rank_of(self.keys[cell], column))
                    .collect()
            })
            .collect();
        let top = self
            .sources
            .into_iter()
            .zip(&self.tops)
            .map(|(source, tops)| {
                let lists = cells
                    .iter()
                    .map(|&cell| {
                        if cell < tops.groups() {
                            tops.group(cell).to_vec()
                        } else {
                            Vec::new()
                        }
                    })
                    .collect();
                (source, lists)
            })
            .collect();
        InnerCells {
            columns: self.columns,
            values,
            codes,
            cases: cells.iter().map(|&cell| self.cases[cell]).collect(),
            top,
        }
    }
}
