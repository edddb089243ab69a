//! Inner cells: the finest cross-classification of `cases` by every breakdown column of a
//! release (the dimensions of its tables that are columns of `cases`), with each cell's number
//! of cases and its largest contributions to every summed amount.
//!
//! Every published cell of a table grouped by columns of `cases` is a sum over inner cells,
//! which is what secondary suppression needs (DESIGN §6); the largest contributions feed the
//! dominance rule, because the largest `n` cases of a union of inner cells are among the largest
//! `n` of each part. The SQL is built here and run by the caller, or the caller streams the
//! rows of `cases` through a [`Grouper`]; this module does no I/O.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use datafusion::arrow::array::{Array, Float64Array, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::arrow::record_batch::RecordBatch;

use crate::hash::MixedMap;
use crate::queries::Query;

mod grouper;
pub use grouper::Grouper;

/// The inner cells with equal keys, each group in cell order, groups in order of first cell.
fn group_cells<K: std::hash::Hash + Eq>(keys: impl Iterator<Item = K>) -> Vec<Vec<u32>> {
    let mut index: MixedMap<K, usize> = MixedMap::default();
    let mut groups: Vec<Vec<u32>> = Vec::new();
    for (cell, key) in keys.enumerate() {
        let next = groups.len();
        let group = *index.entry(key).or_insert(next);
        if group == next {
            groups.push(Vec::new());
        }
        groups[group].push(cell as u32);
    }
    groups
}

/// Each cell's codes of the projected columns as one number (mixed radix), or `None` when the
/// product of the columns' code counts does not fit in 64 bits.
fn packed_keys<'a>(
    projected: &'a [&'a [u32]],
    cells: usize,
) -> Option<impl Iterator<Item = u64> + 'a> {
    let radices: Vec<u64> = projected
        .iter()
        .map(|codes| codes.iter().max().map_or(1, |m| u64::from(*m) + 1))
        .collect();
    radices
        .iter()
        .try_fold(1u64, |product, r| product.checked_mul(*r))?;
    Some((0..cells).map(move |cell| {
        projected
            .iter()
            .zip(&radices)
            .fold(0u64, |key, (codes, radix)| {
                key * radix + u64::from(codes[cell])
            })
    }))
}

/// Name of the case-count column of the inner-cell query.
const CASES: &str = "__cases";

/// Name of the column holding the `k`-th largest value (from 1) of the `source`-th source.
fn top_column(source: usize, k: usize) -> String {
    format!("__top_{source}_{k}")
}

/// What to ask the engine for: which columns classify, which amounts need contributions.
#[derive(Debug, Clone, PartialEq)]
pub struct InnerRequest {
    /// Breakdown columns, in order of first appearance in the release.
    pub columns: Vec<String>,
    /// Numeric `cases` columns summed by some amount column of the release.
    pub sources: Vec<String>,
    /// How many of the largest contributions to keep per inner cell (the dominance `n`).
    pub top_n: usize,
}

impl InnerRequest {
    /// The request for a release: `queries` are its tables' headers, `cases` the table's schema.
    pub fn new<'a>(
        queries: impl IntoIterator<Item = &'a Query>,
        cases: &Schema,
        top_n: usize,
    ) -> InnerRequest {
        let mut columns: Vec<String> = Vec::new();
        let mut sources = BTreeSet::new();
        for query in queries {
            for dimension in &query.dimensions {
                if cases.field_with_name(dimension).is_ok() && !columns.contains(dimension) {
                    columns.push(dimension.clone());
                }
            }
            for amount in &query.amounts {
                let source = query.amount_source(amount);
                if cases
                    .field_with_name(source)
                    .is_ok_and(|f| f.data_type().is_numeric())
                {
                    sources.insert(source.to_string());
                }
            }
        }
        InnerRequest {
            columns,
            sources: sources.into_iter().collect(),
            top_n,
        }
    }

    /// SQL returning every non-empty inner cell with its number of cases and the `top_n`
    /// largest values of every source (`max`, then `nth_largest`, NULL when the cell has fewer
    /// values): one grouped scan for the whole release. `nth_largest` keeps only the `top_n`
    /// largest values per cell while it runs.
    pub fn sql(&self) -> Vec<String> {
        let keys = self.key_list();
        let group = if keys.is_empty() {
            String::new()
        } else {
            format!(" GROUP BY {keys}")
        };
        let mut select: Vec<String> = Vec::new();
        if !keys.is_empty() {
            select.push(keys.clone());
        }
        select.push(format!("count(*) AS {CASES}"));
        for (index, source) in self.sources.iter().enumerate() {
            let value = quote(source);
            select.push(format!("max({value}) AS {}", top_column(index, 1)));
            for k in 2..=self.top_n {
                select.push(format!(
                    "nth_largest(CAST({value} AS DOUBLE), {k}) AS {}",
                    top_column(index, k)
                ));
            }
        }
        vec![format!("SELECT {} FROM cases{group}", select.join(", "))]
    }

    /// The columns of `cases` the cells are counted from: breakdown columns, then sources.
    pub fn scanned(&self) -> Vec<String> {
        let mut columns = self.columns.clone();
        for source in &self.sources {
            if !columns.contains(source) {
                columns.push(source.clone());
            }
        }
        columns
    }

    fn key_list(&self) -> String {
        self.columns
            .iter()
            .map(|c| quote(c))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A SQL identifier in double quotes.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The key of one inner cell: the text of each breakdown column, `None` for NULL.
pub type Key = Vec<Option<String>>;

/// The inner cells of a release, in order of their keys (NULL first).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InnerCells {
    /// Breakdown columns.
    pub columns: Vec<String>,
    /// Per breakdown column, its values in ascending order (NULL first).
    pub values: Vec<Vec<Option<String>>>,
    /// Per breakdown column, per inner cell, the position of the cell's value in `values`.
    pub codes: Vec<Vec<u32>>,
    /// Per inner cell, its number of cases (at least 1).
    pub cases: Vec<u64>,
    /// Per summed `cases` column, per inner cell, the largest contributions in descending order.
    pub top: BTreeMap<String, Vec<Vec<f64>>>,
}

impl InnerCells {
    /// Reads the result of the query of [`InnerRequest::sql`].
    pub fn from_batches(
        request: &InnerRequest,
        results: &[Vec<RecordBatch>],
    ) -> anyhow::Result<InnerCells> {
        let mut keys = Vec::new();
        let mut cases = Vec::new();
        let mut lists: Vec<Vec<Vec<f64>>> = vec![Vec::new(); request.sources.len()];
        for batch in results.first().into_iter().flatten() {
            let texts = text_columns(batch, &request.columns)?;
            let counts = float_column(batch, CASES)?;
            let tops = (0..request.sources.len())
                .map(|number| {
                    (1..=request.top_n.max(1))
                        .map(|k| float_column(batch, &top_column(number, k)))
                        .collect::<anyhow::Result<Vec<_>>>()
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            for row in
                (0..batch.num_rows()).filter(|&r| counts.is_valid(r) && counts.value(r) >= 1.0)
            {
                keys.push(key_at(&texts, row));
                cases.push(counts.value(row) as u64);
                for (list, columns) in lists.iter_mut().zip(&tops) {
                    let mut values: Vec<f64> = columns
                        .iter()
                        .filter(|c| c.is_valid(row))
                        .map(|c| c.value(row))
                        .collect();
                    values.sort_unstable_by(|a, b| b.total_cmp(a));
                    list.push(values);
                }
            }
        }
        let top = request.sources.iter().cloned().zip(lists).collect();
        Ok(InnerCells::from_keys(
            request.columns.clone(),
            keys,
            cases,
            top,
        ))
    }

    /// Inner cells from each cell's key, number of cases and largest contributions, in any
    /// order; keys are distinct.
    pub fn from_keys(
        columns: Vec<String>,
        keys: Vec<Key>,
        cases: Vec<u64>,
        top: BTreeMap<String, Vec<Vec<f64>>>,
    ) -> InnerCells {
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_unstable_by(|a, b| keys[*a].cmp(&keys[*b]));
        let mut values = Vec::new();
        let mut codes = Vec::new();
        for column in 0..columns.len() {
            let mut distinct: Vec<Option<String>> =
                keys.iter().map(|k| k[column].clone()).collect();
            distinct.sort_unstable();
            distinct.dedup();
            codes.push(
                order
                    .iter()
                    .map(|&cell| distinct.binary_search(&keys[cell][column]).unwrap_or(0) as u32)
                    .collect(),
            );
            values.push(distinct);
        }
        InnerCells {
            columns,
            values,
            codes,
            cases: order.iter().map(|&i| cases[i]).collect(),
            top: top
                .into_iter()
                .map(|(source, lists)| (source, order.iter().map(|&i| lists[i].clone()).collect()))
                .collect(),
        }
    }

    /// Number of inner cells.
    pub fn len(&self) -> usize {
        self.cases.len()
    }

    /// True when there is no inner cell (no case).
    pub fn is_empty(&self) -> bool {
        self.cases.is_empty()
    }

    /// The values of the breakdown columns at `positions` of one inner cell.
    fn key(&self, cell: usize, positions: &[usize]) -> Key {
        positions
            .iter()
            .map(|&p| self.values[p][self.codes[p][cell] as usize].clone())
            .collect()
    }

    /// Groups the inner cells by their values of `columns` (a subset of the breakdown columns).
    pub fn group_by(&self, columns: &[String]) -> HashMap<Key, Vec<u32>> {
        let positions: Vec<usize> = columns
            .iter()
            .filter_map(|c| self.columns.iter().position(|b| b == c))
            .collect();
        let projected: Vec<&[u32]> = positions
            .iter()
            .map(|&p| self.codes[p].as_slice())
            .collect();
        let groups = match packed_keys(&projected, self.len()) {
            Some(packed) => group_cells(packed),
            None => group_cells((0..self.len()).map(|cell| {
                projected
                    .iter()
                    .map(|codes| codes[cell])
                    .collect::<Vec<u32>>()
            })),
        };
        groups
            .into_iter()
            .map(|members| (self.key(members[0] as usize, &positions), members))
            .collect()
    }

    /// The sum of the largest `n` contributions to `source` over the given inner cells, or
    /// `None` when the contributions of `source` are unknown.
    pub fn top_sum(&self, source: &str, support: &[u32], n: usize) -> Option<f64> {
        let lists = self.top.get(source)?;
        // The n largest so far, descending; one pass, no sort of the whole support.
        let mut largest: Vec<f64> = Vec::with_capacity(n + 1);
        for value in support
            .iter()
            .filter_map(|&i| lists.get(i as usize))
            .flatten()
        {
            if largest.len() == n
                && largest
                    .last()
                    .is_none_or(|last| value.total_cmp(last).is_le())
            {
                continue;
            }
            let at = largest.partition_point(|v| v.total_cmp(value).is_ge());
            largest.insert(at, *value);
            largest.truncate(n);
        }
        Some(largest.iter().sum())
    }

    /// The quasi-identifier check of DESIGN §6: k and the cases in groups below `min_cell`.
    pub fn quasi_identifiers(&self, min_cell: u64) -> serde_json::Value {
        let small: Vec<u64> = self
            .cases
            .iter()
            .copied()
            .filter(|&n| n < min_cell)
            .collect();
        serde_json::json!({
            "columns": self.columns,
            "groups": self.cases.len(),
            "k": self.cases.iter().min(),
            "groups_below_min_cell": small.len(),
            "cases_below_min_cell": small.iter().sum::<u64>(),
        })
    }
}

/// The named columns of a batch as text (NULL stays NULL), with one kernel for every type.
pub fn text_columns(batch: &RecordBatch, names: &[String]) -> anyhow::Result<Vec<StringArray>> {
    names
        .iter()
        .map(|name| {
            let column = batch
                .column_by_name(name)
                .ok_or_else(|| anyhow::anyhow!("column `{name}` is missing"))?;
            let text = cast(column, &DataType::Utf8)?;
            text.as_any()
                .downcast_ref::<StringArray>()
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("column `{name}` cannot be read as text"))
        })
        .collect()
}

/// The key of `row` from text columns.
pub fn key_at(columns: &[StringArray], row: usize) -> Key {
    columns
        .iter()
        .map(|c| c.is_valid(row).then(|| c.value(row).to_string()))
        .collect()
}

/// A numeric column as `Float64`.
pub fn float_column(batch: &RecordBatch, name: &str) -> anyhow::Result<Float64Array> {
    let column = batch
        .column_by_name(name)
        .ok_or_else(|| anyhow::anyhow!("column `{name}` is missing"))?;
    let values = cast(column, &DataType::Float64)
        .map_err(|e| anyhow::anyhow!("column `{name}` is not numeric: {e}"))?;
    values
        .as_any()
        .downcast_ref::<Float64Array>()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("column `{name}` is not numeric"))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, Int64Array};
    use datafusion::arrow::datatypes::Field;

    use super::*;
    use crate::queries::parse;

    #[test]
    fn packed_and_listed_keys_group_alike() {
        let a: Vec<u32> = (0..50).map(|i| i % 3).collect();
        let b: Vec<u32> = (0..50).map(|i| (i * 7) % 5).collect();
        let projected = [a.as_slice(), b.as_slice()];
        let packed = group_cells(packed_keys(&projected, 50).unwrap());
        let listed = group_cells((0..50).map(|c| vec![a[c], b[c]]));
        assert_eq!(packed, listed);
        assert_eq!(packed.len(), 15);
        assert_eq!(packed[0], [0, 15, 30, 45]);
        assert_eq!(group_cells(packed_keys(&[], 4).unwrap()), [[0, 1, 2, 3]]);
        // Code counts whose product passes 64 bits are grouped by their list of codes.
        let wide: Vec<u32> = (0..50).map(|i| if i == 0 { u32::MAX } else { i }).collect();
        assert!(packed_keys(&[wide.as_slice(), wide.as_slice(), wide.as_slice()], 50).is_none());
    }

    fn query(dimensions: &str, amounts: &str) -> Query {
        let sql = format!(
            "-- title: T\n-- description: D\n-- grain: g\n-- dimensions: {dimensions}\n-- counts: cases\n-- amounts: {amounts}\nSELECT 1"
        );
        parse("t", "t.sql", &sql).unwrap()
    }

    #[test]
    fn request_collects_breakdown_columns_and_summed_sources() {
        let cases = Schema::new(vec![
            Field::new("region", DataType::Utf8, true),
            Field::new("channel", DataType::Utf8, true),
            Field::new("amount_claimed", DataType::Float64, true),
            Field::new("note", DataType::Utf8, true),
        ]);
        let queries = [
            query("region", "amount_claimed"),
            query(
                "channel, size_band, region",
                "settled_claimed = amount_claimed, note",
            ),
        ];
        let request = InnerRequest::new(&queries, &cases, 2);
        assert_eq!(request.columns, ["region", "channel"]);
        assert_eq!(request.sources, ["amount_claimed"]);
        assert_eq!(
            request.sql(),
            [
                "SELECT \"region\", \"channel\", count(*) AS __cases, max(\"amount_claimed\") AS __top_0_1, \
             nth_largest(CAST(\"amount_claimed\" AS DOUBLE), 2) AS __top_0_2 \
             FROM cases GROUP BY \"region\", \"channel\""
            ]
        );
        let none = InnerRequest::new(&[query("none", "")], &cases, 2);
        assert_eq!(none.sql(), ["SELECT count(*) AS __cases FROM cases"]);
    }

    #[test]
    fn batches_become_cells_with_sorted_top_lists() {
        let request = InnerRequest {
            columns: vec!["region".into()],
            sources: vec!["amount".into()],
            top_n: 2,
        };
        let schema = Arc::new(Schema::new(vec![
            Field::new("region", DataType::Utf8, true),
            Field::new(CASES, DataType::Int64, false),
            Field::new("__top_0_1", DataType::Float64, true),
            Field::new("__top_0_2", DataType::Float64, true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![Some("a"), None, Some("b")])) as ArrayRef,
                Arc::new(Int64Array::from(vec![3, 1, 0])),
                Arc::new(Float64Array::from(vec![Some(9.0), Some(2.0), None])),
                Arc::new(Float64Array::from(vec![Some(5.0), None, None])),
            ],
        )
        .unwrap();
        let cells = InnerCells::from_batches(&request, &[vec![batch]]).unwrap();
        assert_eq!(cells.len(), 2, "empty cells are dropped");
        assert_eq!(cells.values, [vec![None, Some("a".to_string())]]);
        assert_eq!(cells.key(0, &[0]), [None], "cells are sorted by key");
        assert_eq!(cells.key(1, &[0]), [Some("a".to_string())]);
        assert_eq!(cells.cases, [1, 3]);
        assert_eq!(cells.top["amount"], vec![vec![2.0], vec![9.0, 5.0]]);
        assert_eq!(cells.top_sum("amount", &[0, 1], 2), Some(14.0));
        assert_eq!(cells.top_sum("amount", &[0], 2), Some(2.0));
        assert_eq!(cells.top_sum("other", &[0], 2), None);
        let k = cells.quasi_identifiers(3);
        assert_eq!(k["k"], 1);
        assert_eq!(k["cases_below_min_cell"], 1);
        assert_eq!(cells.group_by(&[]).len(), 1);
        assert_eq!(cells.group_by(&["region".to_string()]).len(), 2);
    }
}
