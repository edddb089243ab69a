//! One table under protection: its count and amount cells as numbers, which rule (if any)
//! suppressed each, which inner cells each row covers, and the primary rules of DESIGN §6.

use datafusion::arrow::array::Array;

use super::inner::{InnerCells, float_column, key_at, text_columns};
use super::{Rule, Settings};
use crate::output::Table;
use std::sync::Arc;

/// The inner cells a cell covers, sorted; shared between the rows, measures and problems that
/// cover the same cells (a curve's rows all cover their group's cells).
pub type Support = Arc<[u32]>;

/// What a measure column holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A number of cases.
    Count,
    /// A sum of the `cases` column `source`.
    Amount {
        /// The summed `cases` column.
        source: String,
    },
}

/// One count or amount column.
#[derive(Debug, Clone)]
pub struct Measure {
    /// Column name.
    pub column: String,
    /// Count or amount.
    pub kind: Kind,
    /// Cell values (`None` for NULL).
    pub values: Vec<Option<f64>>,
    /// The rule that suppressed each cell.
    pub rule: Vec<Option<Rule>>,
}

/// A table's cells and their protection state.
#[derive(Debug, Clone)]
pub struct Sheet {
    /// Report name.
    pub name: String,
    /// Number of rows.
    pub rows: usize,
    /// Counts (in header order), then amounts.
    pub measures: Vec<Measure>,
    /// Index of the measure that counts the cases of a row: `cases`, else the first count.
    pub row_measure: usize,
    /// The rule that suppressed a whole row.
    pub row_rule: Vec<Option<Rule>>,
    /// Per row, the inner cells matching it on the table's dimensions that are breakdown columns
    /// (all inner cells when none is).
    pub cover: Vec<Support>,
    /// Per measure of a linked table, when it counts cases, the inner cells of each cell.
    pub cases_support: Vec<Option<Vec<Support>>>,
    /// Why the rows are not exact sums of inner cells, if they are not.
    pub unlinked: Option<String>,
    /// Per measure, whether its cells are about the cases of their own row (see `follows_row`).
    follows: Vec<bool>,
}

impl Sheet {
    /// Reads a table's measures and matches its rows to inner cells.
    pub fn new(table: &Table, inner: &InnerCells) -> anyhow::Result<Sheet> {
        let query = &table.query;
        let batch = &table.batch;
        let rows = batch.num_rows();
        if query.counts.is_empty() {
            anyhow::bail!(
                "report `{}` has no count column: disclosure control needs the cases of each row",
                query.name
            );
        }
        let measures = read_measures(table)?;
        let row_measure = query.counts.iter().position(|c| c == "cases").unwrap_or(0);
        let linking: Vec<String> = query
            .dimensions
            .iter()
            .filter(|d| inner.columns.contains(d))
            .cloned()
            .collect();
        let groups: std::collections::HashMap<_, Support> = inner
            .group_by(&linking)
            .into_iter()
            .map(|(key, members)| (key, Support::from(members)))
            .collect();
        let keys = text_columns(batch, &linking)?;
        let empty = Support::from(Vec::new());
        let cover: Vec<Support> = (0..rows)
            .map(|r| groups.get(&key_at(&keys, r)).unwrap_or(&empty).clone())
            .collect();
        let mut sheet = Sheet {
            name: query.name.clone(),
            rows,
            measures,
            row_measure,
            row_rule: vec![None; rows],
            cover,
            cases_support: Vec::new(),
            unlinked: None,
            follows: Vec::new(),
        };
        if sheet.counts_match(inner) {
            sheet.cases_support = (0..sheet.measures.len())
                .map(|m| sheet.counts_of_cases(m))
                .collect();
        } else {
            let matched = if linking.is_empty() {
                String::new()
            } else {
                format!(" by {}", linking.join(", "))
            };
            sheet.unlinked = Some(format!(
                "its `{}` column does not equal the number of cases of each group{matched} (its rows are filtered, joined or grouped by a computed column)",
                sheet.measures[row_measure].column
            ));
        }
        sheet.follows = (0..sheet.measures.len())
            .map(|m| match sheet.cases_support.get(m) {
                Some(Some(supports)) => *supports == sheet.cover,
                _ => true,
            })
            .collect();
        Ok(sheet)
    }

    /// When a count column counts cases of unions of rows (the row itself, or all rows from
    /// it to the last or from the first to it, as a cumulative funnel does), the inner cells
    /// each of its cells covers; `None` for any other column.
    fn counts_of_cases(&self, measure: usize) -> Option<Vec<Support>> {
        if self.measures[measure].kind != Kind::Count {
            return None;
        }
        let cases: Vec<f64> = (0..self.rows).map(|r| self.cases(r)).collect();
        let values = &self.measures[measure].values;
        let ranges: [&dyn Fn(usize) -> std::ops::Range<usize>; 3] =
            [&|r| r..r + 1, &|r| r..self.rows, &|r| 0..r + 1];
        let range = ranges.into_iter().find(|range| {
            (0..self.rows).all(|r| values[r] == Some(cases[range(r)].iter().sum::<f64>()))
        })?;
        let supports = (0..self.rows)
            .map(|r| match &self.cover[range(r)] {
                [single] => single.clone(),
                rows => {
                    let mut union: Vec<u32> = rows.iter().flat_map(|r| r.iter().copied()).collect();
                    union.sort_unstable();
                    union.dedup();
                    Support::from(union)
                }
            })
            .collect();
        Some(supports)
    }

    /// Whether every row counts exactly the cases of the inner cells it covers.
    fn counts_match(&self, inner: &InnerCells) -> bool {
        let counts = &self.measures[self.row_measure].values;
        (0..self.rows).all(|r| {
            let covered: u64 = self.cover[r].iter().map(|&i| inner.cases[i as usize]).sum();
            counts[r] == Some(covered as f64)
        })
    }

    /// The number of cases in a row, as far as the table says (NULL counts as none).
    pub fn cases(&self, row: usize) -> f64 {
        self.measures[self.row_measure].values[row].unwrap_or(0.0)
    }

    /// Whether a cell is suppressed.
    pub fn is_suppressed(&self, measure: usize, row: usize) -> bool {
        self.measures[measure].rule[row].is_some()
    }

    /// Suppresses a cell, and the whole row when it is the row's case count (every cell about
    /// the row's own cases); true if anything changed.
    pub fn suppress(&mut self, measure: usize, row: usize, rule: Rule) -> bool {
        if measure != self.row_measure {
            let cell = &mut self.measures[measure].rule[row];
            let changed = cell.is_none();
            cell.get_or_insert(rule);
            return changed;
        }
        let mut changed = self.row_rule[row].is_none();
        self.row_rule[row].get_or_insert(rule);
        for m in 0..self.measures.len() {
            if self.follows_row(m) {
                let cell = &mut self.measures[m].rule[row];
                changed |= cell.is_none();
                cell.get_or_insert(rule);
            }
        }
        changed
    }

    /// Whether a measure's cells are about the cases of their own row, and so go with it; a
    /// cumulative count covers other rows too and is protected on its own.
    fn follows_row(&self, measure: usize) -> bool {
        self.follows.get(measure).copied().unwrap_or(true)
    }

    /// Index of a measure column.
    pub fn measure(&self, column: &str) -> Option<usize> {
        self.measures.iter().position(|m| m.column == column)
    }

    /// Applies the primary rules: threshold on rows and counts, complement on count rates,
    /// dominance on amounts.
    pub fn primary(&mut self, table: &Table, settings: &Settings, inner: &InnerCells) {
        let min = settings.min_cell as f64;
        for row in 0..self.rows {
            if self.cases(row) < min {
                self.suppress(self.row_measure, row, Rule::Threshold);
            }
        }
        for m in 0..self.measures.len() {
            for row in 0..self.rows {
                let measure = &self.measures[m];
                let small = match (&measure.kind, measure.values[row]) {
                    (Kind::Count, Some(v)) => v < min,
                    (Kind::Amount { source }, Some(v)) => {
                        self.dominated(inner, source, row, v, settings)
                    }
                    (_, None) => false,
                };
                if small {
                    let rule = match measure.kind {
                        Kind::Count => Rule::Threshold,
                        Kind::Amount { .. } => Rule::Dominance,
                    };
                    self.suppress(m, row, rule);
                }
            }
        }
        for rate in &table.query.rates {
            let (Some(n), Some(d)) = (
                self.measure(&rate.numerator),
                self.measure(&rate.denominator),
            ) else {
                continue;
            };
            if self.measures[n].kind != Kind::Count || self.measures[d].kind != Kind::Count {
                continue;
            }
            for row in 0..self.rows {
                let (Some(num), Some(den)) =
                    (self.measures[n].values[row], self.measures[d].values[row])
                else {
                    continue;
                };
                if num <= den && den - num < min {
                    self.suppress(n, row, Rule::Complement);
                }
            }
        }
    }

    /// The (n, k) dominance rule: the largest `n` cases hold more than `k`% of the cell's sum.
    /// A positive sum whose contributions are unknown counts as dominated.
    fn dominated(
        &self,
        inner: &InnerCells,
        source: &str,
        row: usize,
        total: f64,
        settings: &Settings,
    ) -> bool {
        if total <= 0.0 {
            return false;
        }
        if self.cover[row].is_empty() {
            return true;
        }
        match inner.top_sum(source, &self.cover[row], settings.dominance_n) {
            Some(top) => top > settings.dominance_k / 100.0 * total,
            None => true,
        }
    }
}

/// The count columns (in header order), then the amount columns, as numbers.
fn read_measures(table: &Table) -> anyhow::Result<Vec<Measure>> {
    let query = &table.query;
    let counts = query.counts.iter().map(|c| (c, Kind::Count));
    let amounts = query.amounts.iter().map(|a| {
        let source = query.amount_source(a).to_string();
        (a, Kind::Amount { source })
    });
    let rows = table.batch.num_rows();
    counts
        .chain(amounts)
        .map(|(column, kind)| {
            let values = float_column(&table.batch, column)
                .map_err(|e| anyhow::anyhow!("report `{}`: {e}", query.name))?;
            Ok(Measure {
                column: column.clone(),
                kind,
                values: (0..rows)
                    .map(|r| values.is_valid(r).then(|| values.value(r)))
                    .collect(),
                rule: vec![None; rows],
            })
        })
        .collect()
}
