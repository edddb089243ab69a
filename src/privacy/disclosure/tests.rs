//! Disclosure control on hand-made releases, and property tests over random ones.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Float64Array, Int64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use proptest::prelude::*;

use super::inner::float_column;
use super::*;
use crate::privacy::suppression::{CellSupport, is_protected};
use crate::queries::parse;

/// One inner cell of a test release: its key, its counts and each case's amount.
#[derive(Debug, Clone)]
struct Cell {
    key: Vec<String>,
    resolved: u64,
    settled: u64,
    amounts: Vec<f64>,
}

impl Cell {
    fn new(key: &[&str], cases: u64, resolved: u64, settled: u64) -> Cell {
        Cell {
            key: key.iter().map(|k| k.to_string()).collect(),
            resolved,
            settled,
            amounts: vec![100.0; cases as usize],
        }
    }

    fn cases(&self) -> u64 {
        self.amounts.len() as u64
    }
}

/// Inner cells over named dimensions, from which tables are grouped.
#[derive(Debug, Clone)]
struct Release {
    dims: Vec<String>,
    cells: Vec<Cell>,
}

const MEASURES: &str = "-- counts: cases, resolved, settled\n-- amounts: amount_claimed\n\
    -- rates: settlement_rate = settled / resolved, claim_per_case = amount_claimed / cases\n\
    -- derived: settlement_rate_low <- settlement_rate\n";

impl Release {
    fn new(dims: &[&str], cells: Vec<Cell>) -> Release {
        Release {
            dims: dims.iter().map(|d| d.to_string()).collect(),
            cells,
        }
    }

    fn inner(&self) -> InnerCells {
        let mut top = Vec::new();
        for cell in &self.cells {
            let mut amounts = cell.amounts.clone();
            amounts.sort_unstable_by(|a, b| b.total_cmp(a));
            amounts.truncate(DEFAULT_DOMINANCE_N);
            top.push(amounts);
        }
        InnerCells::from_keys(
            self.dims.clone(),
            self.cells
                .iter()
                .map(|c| c.key.iter().cloned().map(Some).collect())
                .collect(),
            self.cells.iter().map(Cell::cases).collect(),
            BTreeMap::from([("amount_claimed".to_string(), top)]),
        )
    }

    /// The table grouping the inner cells by the dimensions `by` (indices), named `name`.
    fn table(&self, name: &str, by: &[usize]) -> Table {
        let names: Vec<String> = by.iter().map(|&d| self.dims[d].clone()).collect();
        let mut groups: BTreeMap<Vec<String>, Vec<&Cell>> = BTreeMap::new();
        for cell in &self.cells {
            let key = by.iter().map(|&d| cell.key[d].clone()).collect();
            groups.entry(key).or_default().push(cell);
        }
        let sum = |cells: &[&Cell], f: fn(&Cell) -> u64| cells.iter().map(|c| f(c)).sum::<u64>();
        let mut columns: Vec<ArrayRef> = (0..by.len())
            .map(|i| {
                let values: Vec<String> = groups.keys().map(|k| k[i].clone()).collect();
                Arc::new(StringArray::from(values)) as ArrayRef
            })
            .collect();
        let counts = |f: fn(&Cell) -> u64| -> Vec<i64> {
            groups.values().map(|g| sum(g, f) as i64).collect()
        };
        let (cases, resolved, settled) = (
            counts(Cell::cases),
            counts(|c| c.resolved),
            counts(|c| c.settled),
        );
        let claimed: Vec<f64> = groups
            .values()
            .map(|g| g.iter().flat_map(|c| &c.amounts).sum())
            .collect();
        let ratio = |a: &[f64], b: &[i64]| -> Float64Array {
            a.iter()
                .zip(b)
                .map(|(&a, &b)| (b > 0).then(|| a / b as f64))
                .collect()
        };
        let settled_f: Vec<f64> = settled.iter().map(|&s| s as f64).collect();
        let rate = ratio(&settled_f, &resolved);
        let low: Float64Array = rate.iter().map(|r| r.map(|r| r * 0.9)).collect();
        columns.push(Arc::new(Int64Array::from(cases.clone())));
        columns.push(Arc::new(Int64Array::from(resolved.clone())));
        columns.push(Arc::new(Int64Array::from(settled)));
        columns.push(Arc::new(rate));
        columns.push(Arc::new(low));
        columns.push(Arc::new(Float64Array::from(claimed.clone())));
        columns.push(Arc::new(ratio(&claimed, &cases)));
        let mut fields: Vec<Field> = names
            .iter()
            .map(|n| Field::new(n, DataType::Utf8, true))
            .collect();
        for (n, t) in [
            ("cases", DataType::Int64),
            ("resolved", DataType::Int64),
            ("settled", DataType::Int64),
            ("settlement_rate", DataType::Float64),
            ("settlement_rate_low", DataType::Float64),
            ("amount_claimed", DataType::Float64),
            ("claim_per_case", DataType::Float64),
        ] {
            fields.push(Field::new(n, t, true));
        }
        let dims = if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        };
        let header = format!(
            "-- title: {name}\n-- description: d\n-- grain: g\n-- dimensions: {dims}\n{MEASURES}SELECT 1"
        );
        Table {
            query: parse(name, "test", &header).unwrap(),
            batch: RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap(),
            notes: Vec::new(),
        }
    }
}

fn config(min_cell: u64) -> PrivacyConfig {
    PrivacyConfig {
        min_cell: Some(min_cell),
        ..PrivacyConfig::default()
    }
}

fn values(table: &Table, column: &str) -> Vec<Option<f64>> {
    let array = float_column(&table.batch, column).unwrap();
    (0..array.len())
        .map(|r| array.is_valid(r).then(|| array.value(r)))
        .collect()
}

fn flags(table: &Table) -> Vec<Option<String>> {
    let column = table.batch.column_by_name(FLAG_COLUMN).unwrap();
    let text = column.as_any().downcast_ref::<StringArray>().unwrap();
    (0..text.len())
        .map(|r| text.is_valid(r).then(|| text.value(r).to_string()))
        .collect()
}

fn regions() -> Release {
    Release::new(
        &["region"],
        vec![
            Cell::new(&["a"], 3, 3, 2),
            Cell::new(&["b"], 25, 20, 10),
            Cell::new(&["c"], 30, 25, 12),
            Cell::new(&["d"], 40, 30, 15),
        ],
    )
}

#[test]
fn small_row_and_its_partner_are_suppressed_and_the_total_stays() {
    let release = regions();
    let tables = vec![
        release.table("overview", &[]),
        release.table("by_region", &[0]),
    ];
    let protected = protect(tables, &release.inner(), &config(10)).unwrap();
    let by_region = &protected.tables[1];
    assert_eq!(
        flags(by_region),
        [
            Some("*:threshold".into()),
            Some("*:secondary".into()),
            None,
            None
        ]
    );
    assert_eq!(
        values(by_region, "cases"),
        [None, None, Some(30.0), Some(40.0)]
    );
    assert_eq!(values(by_region, "claim_per_case")[0], None);
    assert_eq!(values(&protected.tables[0], "cases"), [Some(98.0)]);
    assert_eq!(flags(&protected.tables[0]), [None]);
    let report = &protected.report["tables"][1]["suppressed"];
    assert_eq!(report["threshold"], 7, "every non-dimension cell of row a");
    assert_eq!(report["secondary"], 7);
    assert!(
        by_region
            .notes
            .iter()
            .any(|n| n.contains("fewer than 10 cases"))
    );
    assert!(
        by_region
            .notes
            .iter()
            .any(|n| n.contains("secondary suppression"))
    );
    assert_eq!(protected.report["quasi_identifiers"]["k"], 3);
    assert_eq!(
        protected.report["quasi_identifiers"]["cases_below_min_cell"],
        3
    );
}

#[test]
fn complement_suppresses_the_numerator_and_the_rate() {
    let release = Release::new(
        &["region"],
        vec![Cell::new(&["a"], 30, 20, 15), Cell::new(&["b"], 40, 30, 12)],
    );
    let tables = vec![release.table("by_region", &[0])];
    let protected = protect(tables, &release.inner(), &config(10)).unwrap();
    let table = &protected.tables[0];
    assert_eq!(values(table, "settled"), [None, Some(12.0)]);
    assert_eq!(values(table, "resolved"), [Some(20.0), Some(30.0)]);
    assert_eq!(values(table, "settlement_rate")[0], None);
    assert_eq!(values(table, "settlement_rate_low")[0], None);
    assert_eq!(
        flags(table)[0].as_deref(),
        Some("settled:complement;settlement_rate:complement;settlement_rate_low:complement")
    );
    assert_eq!(flags(table)[1], None);
}

#[test]
fn dominated_amounts_are_suppressed_with_their_rates_and_partners() {
    let mut release = regions();
    release.cells.remove(0);
    release.cells[1].amounts = vec![10.0; 30];
    release.cells[1].amounts[0] = 5000.0;
    release.cells[1].amounts[1] = 4000.0;
    let tables = vec![
        release.table("overview", &[]),
        release.table("by_region", &[0]),
    ];
    let protected = protect(tables, &release.inner(), &config(10)).unwrap();
    let table = &protected.tables[1];
    assert_eq!(values(table, "amount_claimed"), [None, None, Some(4000.0)]);
    assert_eq!(values(table, "claim_per_case")[1], None);
    assert_eq!(
        values(table, "cases")[1],
        Some(30.0),
        "the counts of c stay"
    );
    assert_eq!(
        flags(table)[1].as_deref(),
        Some("amount_claimed:dominance;claim_per_case:dominance")
    );
    assert_eq!(
        flags(table)[0].as_deref(),
        Some("amount_claimed:secondary;claim_per_case:secondary"),
        "b, the smallest other region, hides c from the total"
    );
    assert_eq!(protected.report["tables"][1]["suppressed"]["dominance"], 2);
    assert!(
        table
            .notes
            .iter()
            .any(|n| n.contains("2 largest cases hold more than 85%"))
    );
}

#[test]
fn unknown_contributions_count_as_dominated() {
    let release = regions();
    let mut inner = release.inner();
    inner.top.clear();
    let protected = protect(vec![release.table("overview", &[])], &inner, &config(10)).unwrap();
    assert_eq!(values(&protected.tables[0], "amount_claimed"), [None]);
}

#[test]
fn rounding_rounds_counts_recomputes_rates_and_drops_their_intervals() {
    let release = Release::new(&["region"], vec![Cell::new(&["a"], 33, 27, 12)]);
    let settings = PrivacyConfig {
        rounding_base: Some(5),
        ..config(10)
    };
    let protected = protect(
        vec![release.table("by_region", &[0])],
        &release.inner(),
        &settings,
    )
    .unwrap();
    let table = &protected.tables[0];
    assert_eq!(values(table, "cases"), [Some(35.0)]);
    assert_eq!(values(table, "resolved"), [Some(25.0)]);
    assert_eq!(values(table, "settled"), [Some(10.0)]);
    assert_eq!(values(table, "settlement_rate"), [Some(0.4)]);
    assert_eq!(values(table, "settlement_rate_low"), [None]);
    assert_eq!(
        values(table, "amount_claimed"),
        [Some(3300.0)],
        "amounts are not rounded"
    );
    assert_eq!(
        flags(table)[0].as_deref(),
        Some("settlement_rate_low:rounding")
    );
    assert_eq!(
        table.batch.column_by_name("cases").unwrap().data_type(),
        &DataType::Int64
    );
    assert!(table.notes.iter().any(|n| n.contains("multiple of 5")));
}

#[test]
fn a_table_with_a_computed_dimension_is_protected_alone() {
    let release = regions();
    let mut table = release.table("by_band", &[0]);
    let sql = table
        .query
        .sql
        .replace("dimensions: region", "dimensions: band");
    table.query = parse("by_band", "test", &sql).unwrap();
    let schema = table.batch.schema();
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields[0] = Field::new("band", DataType::Utf8, true);
    table.batch = RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        table.batch.columns().to_vec(),
    )
    .unwrap();
    let protected = protect(vec![table], &release.inner(), &config(10)).unwrap();
    let table = &protected.tables[0];
    assert_eq!(
        flags(table),
        [
            Some("*:threshold".into()),
            Some("*:secondary".into()),
            None,
            None
        ],
        "the table's own total is assumed known"
    );
    assert_eq!(protected.report["tables"][0]["linked"], false);
    assert!(
        table
            .notes
            .iter()
            .any(|n| n.contains("protected on its own"))
    );
}

#[test]
fn a_one_row_table_protected_alone_keeps_its_small_cell_suppressed() {
    // One row whose count does not match the inner cells (a filtered table), with a small
    // `settled`: its problem's assumed-known total is the cell itself.
    let release = regions();
    let mut table = release.table("overview", &[]);
    let mut columns = table.batch.columns().to_vec();
    columns[0] = Arc::new(Int64Array::from(vec![90]));
    columns[2] = Arc::new(Int64Array::from(vec![4]));
    table.batch = RecordBatch::try_new(table.batch.schema(), columns).unwrap();
    let protected = protect(vec![table], &release.inner(), &config(10)).unwrap();
    assert_eq!(protected.report["tables"][0]["linked"], false);
    assert_eq!(values(&protected.tables[0], "settled"), [None]);
    assert_eq!(values(&protected.tables[0], "cases"), [Some(90.0)]);
}

#[test]
fn a_filtered_table_is_protected_alone() {
    let release = regions();
    let mut table = release.table("by_region", &[0]);
    let mut columns = table.batch.columns().to_vec();
    columns[1] = Arc::new(Int64Array::from(vec![3, 25, 29, 40]));
    table.batch = RecordBatch::try_new(table.batch.schema(), columns).unwrap();
    let protected = protect(vec![table], &release.inner(), &config(10)).unwrap();
    let reason = protected.report["tables"][0]["protected_alone_because"]
        .as_str()
        .unwrap();
    assert!(reason.contains("`cases`"), "{reason}");
}

/// `table` with an extra count column placed first and listed first in the header.
fn with_count(mut table: Table, name: &str, values: Vec<i64>) -> Table {
    let sql = table
        .query
        .sql
        .replace("-- counts: cases", &format!("-- counts: {name}, cases"));
    table.query = parse(&table.query.name, "test", &sql).unwrap();
    let schema = table.batch.schema();
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    let mut columns = table.batch.columns().to_vec();
    fields.push(Field::new(name, DataType::Int64, true));
    columns.push(Arc::new(Int64Array::from(values)));
    table.batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    table
}

#[test]
fn a_cumulative_count_is_linked_to_the_case_counts() {
    // A funnel: `reached` counts the cases at this stage or a later one.
    let release = Release::new(
        &["stage"],
        vec![
            Cell::new(&["s1"], 40, 30, 15),
            Cell::new(&["s2"], 30, 25, 12),
            Cell::new(&["s3"], 20, 20, 10),
            Cell::new(&["s4"], 5, 5, 2),
        ],
    );
    let funnel = with_count(
        release.table("funnel", &[0]),
        "reached",
        vec![95, 55, 25, 5],
    );
    let protected = protect(vec![funnel], &release.inner(), &config(10)).unwrap();
    let table = &protected.tables[0];
    assert_eq!(flags(table)[3].as_deref(), Some("*:threshold"));
    let (cases, reached) = (values(table, "cases"), values(table, "reached"));
    // Cells over the four stages: cases of each stage, then reached = this stage and later.
    let mut cells: Vec<CellSupport> = (0..4).map(|i| vec![i]).collect();
    cells.extend((0..4).map(|i| (i..4).collect::<Vec<u32>>()));
    let suppressed: Vec<bool> = cases.iter().chain(&reached).map(Option::is_none).collect();
    assert!(
        is_protected(4, &cells, &suppressed),
        "reached(s3) − cases(s3) must not give s4: {cases:?} {reached:?}"
    );
    assert_eq!(protected.report["tables"][0]["linked"], true);
}

#[test]
fn a_table_with_an_extra_computed_dimension_links_when_its_counts_match() {
    // One row per region and month since opening, each repeating the region's cases.
    let release = regions();
    let table = release.table("by_region", &[0]);
    let mut rows = Vec::new();
    for month in ["0", "1"] {
        let mut columns = table.batch.columns().to_vec();
        columns.insert(1, Arc::new(StringArray::from(vec![month; 4])) as ArrayRef);
        rows.push(columns);
    }
    let schema = table.batch.schema();
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.insert(1, Field::new("months", DataType::Utf8, true));
    let schema = Arc::new(Schema::new(fields));
    let batches: Vec<RecordBatch> = rows
        .into_iter()
        .map(|c| RecordBatch::try_new(schema.clone(), c).unwrap())
        .collect();
    let batch = datafusion::arrow::compute::concat_batches(&schema, &batches).unwrap();
    let sql = table
        .query
        .sql
        .replace("dimensions: region", "dimensions: region, months");
    let curve = Table {
        query: parse("curve", "test", &sql).unwrap(),
        batch,
        notes: Vec::new(),
    };
    let tables = vec![
        release.table("overview", &[]),
        release.table("by_region", &[0]),
        curve,
    ];
    let protected = protect(tables, &release.inner(), &config(10)).unwrap();
    assert_eq!(protected.report["tables"][2]["linked"], true);
    let secondary = flags(&protected.tables[1])
        .iter()
        .position(|f| f.as_deref() == Some("*:secondary"));
    assert_eq!(secondary, Some(1), "b hides a in by_region");
    let curve = flags(&protected.tables[2]);
    assert_eq!(
        curve[1].as_deref(),
        Some("*:secondary"),
        "and b's copies in the curve go too"
    );
    assert_eq!(curve[5].as_deref(), Some("*:secondary"));
}

#[test]
fn a_case_alone_in_a_suppressed_cell_cannot_recompute_its_partner() {
    let release = Release::new(
        &["region"],
        vec![
            Cell::new(&["a"], 1, 1, 0),
            Cell::new(&["b"], 4, 4, 2),
            Cell::new(&["c"], 30, 30, 15),
            Cell::new(&["d"], 40, 40, 20),
        ],
    );
    let tables = vec![
        release.table("overview", &[]),
        release.table("by_region", &[0]),
    ];
    let protected = protect(tables, &release.inner(), &config(10)).unwrap();
    assert_eq!(
        flags(&protected.tables[1]),
        [
            Some("*:threshold".into()),
            Some("*:threshold".into()),
            Some("*:secondary".into()),
            None
        ]
    );
}

#[test]
fn unclassified_columns_are_refused() {
    let release = regions();
    let mut table = release.table("by_region", &[0]);
    let sql = table
        .query
        .sql
        .replace("-- derived: settlement_rate_low <- settlement_rate\n", "");
    table.query = parse("by_region", "test", &sql).unwrap();
    let error = protect(vec![table], &release.inner(), &config(10)).unwrap_err();
    assert!(error.to_string().contains("settlement_rate_low"), "{error}");
}

#[test]
fn header_checks_name_the_problem() {
    let cases = Schema::new(vec![
        Field::new("region", DataType::Utf8, true),
        Field::new("amount_claimed", DataType::Decimal128(18, 2), true),
    ]);
    let header = |counts: &str, amounts: &str| {
        let sql = format!(
            "-- title: t\n-- description: d\n-- grain: g\n-- dimensions: region\n-- counts: {counts}\n-- amounts: {amounts}\nSELECT 1"
        );
        parse("t", "t.sql", &sql).unwrap()
    };
    check_query(&header("cases", "amount_claimed"), &cases).unwrap();
    check_query(&header("cases", "claimed = amount_claimed"), &cases).unwrap();
    let error = |q: Query| check_query(&q, &cases).unwrap_err().to_string();
    assert!(error(header("none", "amount_claimed")).contains("at least one count"));
    assert!(error(header("cases", "claimed")).contains("claimed = amount_claimed"));
    assert!(error(header("cases", "x = region")).contains("`region` is not one"));
    assert!(error(header("cases, suppressed", "")).contains("reserved"));
}

#[test]
fn settings_default_to_10_and_2_85() {
    let settings = Settings::new(&PrivacyConfig::default());
    assert_eq!(
        (
            settings.min_cell,
            settings.dominance_n,
            settings.dominance_k,
            settings.rounding_base
        ),
        (10, 2, 85.0, None)
    );
}

// ---------------------------------------------------------------------------------------------
// Property tests: random small releases
// ---------------------------------------------------------------------------------------------

/// A random release: levels per dimension, inner cells on that grid, groupings, `min_cell`.
fn release_strategy() -> impl Strategy<Value = (Release, Vec<Vec<usize>>, u64)> {
    let dims = prop::collection::vec(2usize..=4, 2..=3);
    let cells = prop::collection::vec(
        prop::option::weighted(0.75, (1u64..=30, 0u64..=100, 0u64..=100, 0u64..=100)),
        64,
    );
    let groupings = prop::collection::vec(any::<bool>(), 8);
    (dims, cells, groupings, 2u64..=12).prop_map(|(levels, cells, chosen, min_cell)| {
        let names = ["a", "b", "c"];
        let mut inner = Vec::new();
        let grid: usize = levels.iter().product();
        for (code, spec) in cells.into_iter().take(grid).enumerate() {
            let Some((cases, r, s, big)) = spec else {
                continue;
            };
            let mut rest = code;
            let key: Vec<String> = levels
                .iter()
                .map(|&l| {
                    let v = rest % l;
                    rest /= l;
                    format!("v{v}")
                })
                .collect();
            let resolved = cases * r / 100;
            let mut cell = Cell {
                key,
                resolved,
                settled: resolved * s / 100,
                amounts: vec![100.0; cases as usize],
            };
            cell.amounts[0] += big as f64 * 50.0;
            inner.push(cell);
        }
        let n = levels.len();
        let mut groupings: Vec<Vec<usize>> = vec![Vec::new()];
        for (mask, _) in chosen
            .iter()
            .enumerate()
            .take(1 << n)
            .skip(1)
            .filter(|(_, c)| **c)
        {
            groupings.push((0..n).filter(|d| mask & (1 << d) != 0).collect());
        }
        (Release::new(&names[..n], inner), groupings, min_cell)
    })
}

/// The inner cells a row of a grouped table covers, computed independently of the module.
fn supports(release: &Release, table: &Table) -> Vec<CellSupport> {
    let dims: Vec<usize> = table
        .query
        .dimensions
        .iter()
        .map(|d| release.dims.iter().position(|x| x == d).unwrap())
        .collect();
    let keys: Vec<&StringArray> = (0..dims.len())
        .map(|i| {
            table
                .batch
                .column(i)
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap()
        })
        .collect();
    (0..table.batch.num_rows())
        .map(|r| {
            (0..release.cells.len() as u32)
                .filter(|&i| {
                    dims.iter()
                        .zip(&keys)
                        .all(|(&d, k)| release.cells[i as usize].key[d] == k.value(r))
                })
                .collect()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_releases_are_protected(spec in release_strategy()) {
        let (release, groupings, min_cell) = spec;
        prop_assume!(!release.cells.is_empty());
        // One-way tables also carry a funnel-like `reached`: the cases of this row and all later ones.
        let tables: Vec<Table> = groupings
            .iter()
            .enumerate()
            .map(|(i, by)| {
                let table = release.table(&format!("t{i}"), by);
                if by.len() != 1 {
                    return table;
                }
                let cases = values(&table, "cases");
                let reached = (0..cases.len())
                    .map(|r| cases[r..].iter().map(|c| c.unwrap() as i64).sum())
                    .collect();
                with_count(table, "reached", reached)
            })
            .collect();
        let protected = protect(tables.clone(), &release.inner(), &config(min_cell)).unwrap();
        let min = min_cell as f64;
        for measure in ["cases", "resolved", "settled", "amount_claimed"] {
            let mut cells = Vec::new();
            let mut suppressed = Vec::new();
            for (before, after) in tables.iter().zip(&protected.tables) {
                let rows = supports(&release, before);
                let mut columns = vec![(measure, rows.clone())];
                if measure == "cases" && before.batch.column_by_name("reached").is_some() {
                    let suffixes = (0..rows.len())
                        .map(|r| {
                            let mut union: CellSupport = rows[r..].concat();
                            union.sort_unstable();
                            union
                        })
                        .collect();
                    columns.push(("reached", suffixes));
                }
                for (column, supports) in columns {
                    let (old, new) = (values(before, column), values(after, column));
                    for (r, support) in supports.into_iter().enumerate() {
                        cells.push(support);
                        suppressed.push(new[r].is_none());
                        if let Some(value) = new[r] {
                            prop_assert_eq!(Some(value), old[r], "published cells are untouched");
                            if measure != "amount_claimed" {
                                prop_assert!(value >= min, "{} {} < {}", column, value, min);
                            }
                        }
                    }
                }
            }
            prop_assert!(
                is_protected(release.cells.len(), &cells, &suppressed),
                "a suppressed `{}` cell can be recomputed", measure
            );
        }
        for table in &protected.tables {
            let (num, den, rate) = (values(table, "settled"), values(table, "resolved"), values(table, "settlement_rate"));
            for r in 0..rate.len() {
                if rate[r].is_some() {
                    let (n, d) = (num[r].unwrap(), den[r].unwrap());
                    prop_assert!(n >= min && d >= min && d - n >= min);
                }
            }
            let flags = flags(table);
            let cases = values(table, "cases");
            for r in 0..cases.len() {
                let flagged = flags[r]
                    .as_deref()
                    .is_some_and(|f| f.starts_with("*:") || f.starts_with("cases:") || f.contains(";cases:"));
                prop_assert_eq!(cases[r].is_none(), flagged);
            }
        }
    }
}
