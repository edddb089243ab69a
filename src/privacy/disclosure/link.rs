//! Secondary suppression over a whole release (DESIGN §6) with
//! [`suppression::secondary_suppression`](crate::privacy::suppression::secondary_suppression).
//!
//! Cells are grouped into problems, one per measure. The case counts of every linked table
//! (whatever the column's name, since they were checked against the inner cells) form one
//! problem, together with every count column found to count the cases of a union of rows (a
//! duplicate of the case count, or a cumulative one such as the funnel's `reached`). Each other
//! count column forms a problem by name, each amount one by the `cases` column it sums. In a
//! problem every cell of a linked table is the sum of the inner cells it covers, so totals,
//! margins and the same measure in other tables are all linear relations the rank test sees.
//! Candidates are offered by the number of cases they cover, so totals stay published and the
//! partners chosen are small cells. An unlinked table forms its own
//! problems: its rows are disjoint cells plus a virtual total that is assumed published (other
//! tables usually give it away), so a single suppressed row is never left alone.
//!
//! Suppressions only grow, so a problem is solved again whenever more of its cells have been
//! suppressed since its last solve (a row suppressed for the case counts takes its cells into
//! the other problems), until none changes. At the fixed point every problem's suppressed
//! cells are exactly a pattern its last solve protected (primary cells plus the partners it
//! chose), so each passes [`is_protected`](crate::privacy::suppression::is_protected). Singletons (a cell of one case,
//! or a count of 1, whose case knows the value) get the treatment suggested in the suppression
//! module: the problem is solved once more with that cell (and its copies) taken as published,
//! so the case cannot recompute the other suppressed cells either.

use std::collections::{BTreeMap, HashMap};

use super::Rule;
use super::inner::InnerCells;
use super::sheet::{Kind, Sheet, Support};
use crate::privacy::suppression::secondary_suppression;

/// A cell of a problem: a real table cell, or the virtual total of an unlinked table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CellRef {
    sheet: usize,
    measure: usize,
    row: usize,
}

/// One linear system: cells as supports over inner cells.
#[derive(Debug, Default)]
struct Problem {
    n_inner: usize,
    cells: Vec<Support>,
    refs: Vec<Option<CellRef>>,
    /// Cases each cell covers: the larger, the more it is wanted for publication.
    priority: Vec<f64>,
}

impl Problem {
    fn push(&mut self, support: Support, cell: Option<CellRef>, cases: f64) {
        self.cells.push(support);
        self.refs.push(cell);
        self.priority.push(cases);
    }
}

/// The problem a measure of a linked table belongs to: `cases` for the columns that count
/// the cases of a union of rows, the column name for other counts, the summed `cases` column
/// for amounts.
fn measure_key(sheet: &Sheet, measure: usize) -> String {
    let m = &sheet.measures[measure];
    match &m.kind {
        _ if sheet.cases_support[measure].is_some() => "cases".to_string(),
        Kind::Count => format!("count:{}", m.column),
        Kind::Amount { source } => format!("amount:{source}"),
    }
}

/// Builds the problems of a release.
fn problems(sheets: &[Sheet], inner: &InnerCells) -> Vec<Problem> {
    // Supports are shared, so each distinct one is summed once.
    let mut sums: HashMap<*const u32, f64> = HashMap::new();
    let mut covered = |support: &Support| -> f64 {
        *sums.entry(support.as_ptr()).or_insert_with(|| {
            support
                .iter()
                .map(|&i| inner.cases[i as usize] as f64)
                .sum()
        })
    };
    let mut linked: BTreeMap<String, Problem> = BTreeMap::new();
    let mut own = Vec::new();
    for (s, sheet) in sheets.iter().enumerate() {
        for measure in 0..sheet.measures.len() {
            let published = |row: &usize| sheet.measures[measure].values[*row].is_some();
            let cell = |row| {
                Some(CellRef {
                    sheet: s,
                    measure,
                    row,
                })
            };
            if sheet.unlinked.is_none() {
                let problem = linked.entry(measure_key(sheet, measure)).or_default();
                problem.n_inner = inner.len();
                let supports = sheet.cases_support[measure]
                    .as_ref()
                    .unwrap_or(&sheet.cover);
                for row in (0..sheet.rows).filter(published) {
                    let support = &supports[row];
                    problem.push(support.clone(), cell(row), covered(support));
                }
                continue;
            }
            let mut problem = Problem {
                n_inner: sheet.rows,
                ..Problem::default()
            };
            let non_empty = |row: &usize| sheet.cases(*row) > 0.0;
            for row in (0..sheet.rows).filter(published) {
                let support: Support = if non_empty(&row) {
                    Support::from([row as u32])
                } else {
                    Support::from([])
                };
                problem.push(support, cell(row), sheet.cases(row));
            }
            let total = (0..sheet.rows)
                .filter(non_empty)
                .map(|r| r as u32)
                .collect();
            // The assumed-known total is offered first, so it is never the partner chosen.
            problem.push(total, None, f64::MAX);
            own.push(problem);
        }
    }
    // Case counts first: a row suppressed there carries its cells into the other problems.
    let cases = linked.remove("cases");
    cases
        .into_iter()
        .chain(linked.into_values())
        .chain(own)
        .collect()
}

/// Runs secondary suppression over every problem until nothing changes.
pub fn secondary(sheets: &mut [Sheet], inner: &InnerCells) {
    let problems = problems(sheets, inner);
    tracing::debug!(
        problems = problems.len(),
        cells = problems.iter().map(|p| p.cells.len()).sum::<usize>(),
        resident_mb = crate::run::resident_mb(),
        "suppression problems built"
    );
    // Per problem, the suppressions known to be protected: a problem is solved again only when
    // other problems (or whole rows) have suppressed more of its cells since.
    let mut settled: Vec<Vec<bool>> = vec![Vec::new(); problems.len()];
    loop {
        let mut changed = false;
        for (problem, last) in problems.iter().zip(&mut settled) {
            let now = suppressed(sheets, problem);
            if now != *last {
                *last = solve(sheets, problem, now);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

/// Which cells of a problem are suppressed now (the virtual total never is).
fn suppressed(sheets: &[Sheet], problem: &Problem) -> Vec<bool> {
    problem
        .refs
        .iter()
        .map(|c| c.is_some_and(|c| sheets[c.sheet].is_suppressed(c.measure, c.row)))
        .collect()
}

/// Protects the `primary` suppressions of one problem and returns the protected pattern: the
/// primary cells plus the secondary ones chosen (suppressing a row's case count may empty more
/// of the row; the caller then solves again).
fn solve(sheets: &mut [Sheet], problem: &Problem, primary: Vec<bool>) -> Vec<bool> {
    if !primary.contains(&true) {
        return primary;
    }
    let priority = &problem.priority;
    let mut pattern = primary;
    let chosen = secondary_suppression(problem.n_inner, &problem.cells, &pattern, priority);
    apply(sheets, problem, &mut pattern, chosen);
    let singletons: Vec<usize> = (0..pattern.len())
        .filter(|&s| pattern[s] && is_singleton(sheets, problem, s))
        .collect();
    for s in singletons {
        // The case knows its cell, and every copy of it in this problem.
        let copies: Vec<usize> = (0..problem.cells.len())
            .filter(|&j| problem.cells[j] == problem.cells[s])
            .collect();
        let mut known = pattern.clone();
        let mut first = priority.clone();
        for &j in &copies {
            known[j] = false;
            first[j] = f64::MAX;
        }
        let mut extra = secondary_suppression(problem.n_inner, &problem.cells, &known, &first);
        extra.retain(|j| !copies.contains(j));
        apply(sheets, problem, &mut pattern, extra);
    }
    pattern
}

/// A cell whose value one case knows: one case in the row, or a count of 1.
fn is_singleton(sheets: &[Sheet], problem: &Problem, cell: usize) -> bool {
    let Some(c) = problem.refs[cell] else {
        return false;
    };
    let sheet = &sheets[c.sheet];
    let measure = &sheet.measures[c.measure];
    sheet.cases(c.row) == 1.0 || (measure.kind == Kind::Count && measure.values[c.row] == Some(1.0))
}

/// Suppresses the given cells of a problem as secondary and marks them in `pattern`.
fn apply(sheets: &mut [Sheet], problem: &Problem, pattern: &mut [bool], cells: Vec<usize>) {
    // The virtual total of an unlinked table stays known whatever the solver says.
    for j in cells {
        if let Some(c) = problem.refs[j] {
            pattern[j] = true;
            sheets[c.sheet].suppress(c.measure, c.row, Rule::Secondary);
        }
    }
}
