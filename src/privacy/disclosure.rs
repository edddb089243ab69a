//! Disclosure control: a pure transform from result tables to publishable tables, between the
//! engine and the writers, so that no unprotected table can reach a writer (DESIGN §6; the
//! rules, settings and limits are described for users in `docs/privacy.md`).
//!
//! The query headers say what every column is. Primary rules: the **threshold rule** suppresses
//! a row with fewer than `min_cell` cases (the `cases` column, else the first count) and every
//! other count cell below `min_cell`; for a rate between two counts, a numerator whose
//! complement (denominator − numerator) is below `min_cell` is suppressed too (**complement**);
//! the **(n, k) dominance rule** suppresses an amount when its largest `n` cases hold more than
//! `k`% of it. **Secondary suppression** ([`link`]) then hides further cells, over the whole
//! release, until no suppressed cell can be recomputed from the published ones. Rates are
//! blanked when a part is, derived columns follow their base, a suppressed case count takes its
//! whole row, and published counts are optionally rounded last. Every table gains a `suppressed`
//! column (`column:rule` items, `*` for the whole row) and footnotes naming the rules used.
//!
//! The caller computes the [`InnerCells`] (SQL in [`InnerRequest`]) and passes them in; nothing
//! here does I/O.

mod inner;
mod link;
mod sheet;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, Float64Array, StringArray};
use datafusion::arrow::compute::{cast, nullif};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;

pub use inner::{Grouper, InnerCells, InnerRequest};
use sheet::{Kind, Sheet};

use crate::config::PrivacyConfig;
use crate::error::usage;
use crate::output::Table;
use crate::queries::Query;

/// Name of the flag column added to every table.
pub const FLAG_COLUMN: &str = "suppressed";

/// Default smallest publishable number of cases.
pub const DEFAULT_MIN_CELL: u64 = 10;
/// Default number of largest contributors in the dominance rule.
pub const DEFAULT_DOMINANCE_N: usize = 2;
/// Default share (percent) those contributors may hold.
pub const DEFAULT_DOMINANCE_K: f64 = 85.0;

/// The privacy settings with defaults applied.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Settings {
    /// Smallest publishable number of cases.
    pub min_cell: u64,
    /// Dominance rule: number of largest cases.
    pub dominance_n: usize,
    /// Dominance rule: the share in percent they may hold.
    pub dominance_k: f64,
    /// Base to which published counts are rounded, if any.
    pub rounding_base: Option<u64>,
}

impl Settings {
    /// Settings from the `[privacy]` table.
    pub fn new(config: &PrivacyConfig) -> Settings {
        Settings {
            min_cell: config.min_cell.unwrap_or(DEFAULT_MIN_CELL),
            dominance_n: config.dominance_n.unwrap_or(DEFAULT_DOMINANCE_N).max(1),
            dominance_k: config.dominance_k.unwrap_or(DEFAULT_DOMINANCE_K),
            rounding_base: config.rounding_base.filter(|&b| b > 1),
        }
    }
}

/// Why a cell was suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// Fewer than `min_cell` cases.
    Threshold,
    /// Fewer than `min_cell` cases outside a rate's numerator.
    Complement,
    /// A few cases dominate an amount.
    Dominance,
    /// Hidden so that another suppressed cell cannot be recomputed.
    Secondary,
    /// A statistic blanked because the counts it was computed from were rounded.
    Rounding,
}

impl Rule {
    /// Every rule, in report order.
    pub const ALL: [Rule; 5] = [
        Rule::Threshold,
        Rule::Complement,
        Rule::Dominance,
        Rule::Secondary,
        Rule::Rounding,
    ];

    /// Stable name used in flag columns and the manifest.
    pub fn name(self) -> &'static str {
        match self {
            Rule::Threshold => "threshold",
            Rule::Complement => "complement",
            Rule::Dominance => "dominance",
            Rule::Secondary => "secondary",
            Rule::Rounding => "rounding",
        }
    }
}

/// Protected tables plus what was done to them, for the manifest.
#[derive(Debug, Clone)]
pub struct Protected {
    /// Tables safe to write.
    pub tables: Vec<Table>,
    /// Settings and per-table suppression counts.
    pub report: serde_json::Value,
}

/// Checks the header rules disclosure control relies on, against the schema of `cases`: at
/// least one count column, no column named like the flag column, and every amount sums a
/// numeric `cases` column (named after it, or mapped with `amounts: name = column`).
pub fn check_query(query: &Query, cases: &Schema) -> anyhow::Result<()> {
    let origin = &query.origin;
    if query.counts.is_empty() {
        return Err(usage(format!(
            "`{origin}`: header needs at least one count column (`counts:`): disclosure control needs the number of cases in each row"
        )));
    }
    if query.classified().contains(&FLAG_COLUMN) {
        return Err(usage(format!(
            "`{origin}`: column name `{FLAG_COLUMN}` is reserved for the suppression flags"
        )));
    }
    for amount in &query.amounts {
        let source = query.amount_source(amount);
        let numeric = cases
            .field_with_name(source)
            .is_ok_and(|f| f.data_type().is_numeric());
        if !numeric {
            return Err(usage(format!(
                "`{origin}`: amount `{amount}` must sum a numeric column of `cases` for the dominance rule; `{source}` is not one\nhint: name the column after the one it sums, or write `amounts: {amount} = amount_claimed`"
            )));
        }
    }
    Ok(())
}

/// Applies disclosure control to every table of a release.
pub fn protect(
    tables: Vec<Table>,
    inner: &InnerCells,
    config: &PrivacyConfig,
) -> anyhow::Result<Protected> {
    let settings = Settings::new(config);
    let started = std::time::Instant::now();
    let mut sheets = tables
        .iter()
        .map(|t| Sheet::new(t, inner))
        .collect::<anyhow::Result<Vec<_>>>()?;
    tracing::debug!(
        seconds = started.elapsed().as_secs_f64(),
        resident_mb = crate::run::resident_mb(),
        "sheets linked"
    );
    for (sheet, table) in sheets.iter_mut().zip(&tables) {
        sheet.primary(table, &settings, inner);
    }
    tracing::debug!(
        seconds = started.elapsed().as_secs_f64(),
        resident_mb = crate::run::resident_mb(),
        "primary suppression"
    );
    link::secondary(&mut sheets, inner);
    tracing::debug!(
        seconds = started.elapsed().as_secs_f64(),
        resident_mb = crate::run::resident_mb(),
        "secondary suppression"
    );
    let mut published = Vec::new();
    let mut reports = Vec::new();
    for (table, sheet) in tables.into_iter().zip(&sheets) {
        let (table, tally) = publish(table, sheet, &settings)?;
        reports.push(serde_json::json!({
            "name": sheet.name,
            "linked": sheet.unlinked.is_none(),
            "protected_alone_because": sheet.unlinked,
            "suppressed": Rule::ALL
                .iter()
                .map(|r| (r.name().to_string(), tally.get(r).copied().unwrap_or(0).into()))
                .collect::<serde_json::Map<_, _>>(),
        }));
        published.push(table);
    }
    let report = serde_json::json!({
        "safe_columns": config.safe_columns,
        "settings": {
            "min_cell": settings.min_cell,
            "dominance_n": settings.dominance_n,
            "dominance_k": settings.dominance_k,
            "rounding_base": settings.rounding_base,
            "flag_column": FLAG_COLUMN,
        },
        "quasi_identifiers": inner.quasi_identifiers(settings.min_cell),
        "tables": reports,
    });
    Ok(Protected {
        tables: published,
        report,
    })
}

/// Per rule, the number of cells it blanked.
type Tally = BTreeMap<Rule, usize>;

/// What one result column is, for publication.
enum Role {
    Dimension,
    Measure(usize),
    Rate {
        numerator: usize,
        denominator: usize,
    },
    Derived(String),
}

fn role(query: &Query, sheet: &Sheet, column: &str) -> anyhow::Result<Role> {
    if query.dimensions.iter().any(|d| d == column) {
        return Ok(Role::Dimension);
    }
    if let Some(m) = sheet.measure(column) {
        return Ok(Role::Measure(m));
    }
    if let Some(rate) = query.rates.iter().find(|r| r.name == column) {
        let part = |name: &str| {
            sheet.measure(name).ok_or_else(|| {
                anyhow::anyhow!(
                    "report `{}`: rate `{column}` uses `{name}`, not a count or amount",
                    query.name
                )
            })
        };
        return Ok(Role::Rate {
            numerator: part(&rate.numerator)?,
            denominator: part(&rate.denominator)?,
        });
    }
    if let Some(base) = query.derived.get(column) {
        return Ok(Role::Derived(base.clone()));
    }
    Err(usage(format!(
        "report `{}`: column `{column}` is not classified in the header, so it cannot be protected",
        query.name
    )))
}

/// Blanks suppressed cells, rounds counts, adds the flag column and footnotes.
fn publish(table: Table, sheet: &Sheet, settings: &Settings) -> anyhow::Result<(Table, Tally)> {
    let Table {
        query,
        batch,
        mut notes,
    } = table;
    let schema = batch.schema();
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let roles = names
        .iter()
        .map(|n| role(&query, sheet, n))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let rules = cell_rules(&batch, &names, &roles, sheet, settings);
    let mut columns = published_columns(&batch, &names, &roles, &rules, sheet, settings)?;
    columns.push(Arc::new(flag_column(&names, &roles, &rules, sheet, &batch)));
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new(FLAG_COLUMN, DataType::Utf8, true));
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?;
    let mut tally = Tally::new();
    for rule in rules.iter().flatten().flatten() {
        *tally.entry(*rule).or_default() += 1;
    }
    notes.extend(footnotes(&tally, sheet, settings));
    let table = Table {
        query,
        batch,
        notes,
    };
    Ok((table, tally))
}

/// Whether a column is a rate between two counts.
fn is_count_rate(role: &Role, sheet: &Sheet) -> bool {
    match role {
        Role::Rate {
            numerator,
            denominator,
        } => [numerator, denominator]
            .iter()
            .all(|&&m| sheet.measures[m].kind == Kind::Count),
        _ => false,
    }
}

/// Per column, per row: the rule that empties the cell (only cells that hold a value).
fn cell_rules(
    batch: &RecordBatch,
    names: &[String],
    roles: &[Role],
    sheet: &Sheet,
    settings: &Settings,
) -> Vec<Vec<Option<Rule>>> {
    let rows = sheet.rows;
    let mut rules: Vec<Vec<Option<Rule>>> = vec![vec![None; rows]; names.len()];
    for (c, role) in roles.iter().enumerate() {
        rules[c] = match role {
            Role::Dimension | Role::Derived(_) => continue,
            Role::Measure(m) => sheet.measures[*m].rule.clone(),
            Role::Rate {
                numerator,
                denominator,
            } => (0..rows)
                .map(|r| {
                    sheet.measures[*numerator].rule[r].or(sheet.measures[*denominator].rule[r])
                })
                .collect(),
        };
    }
    for (c, role) in roles.iter().enumerate() {
        let Role::Derived(base) = role else { continue };
        let b = names.iter().position(|n| n == base);
        let rounded =
            settings.rounding_base.is_some() && b.is_some_and(|b| is_count_rate(&roles[b], sheet));
        rules[c] = (0..rows)
            .map(|r| {
                let from_base = b.and_then(|b| rules[b][r]).or(sheet.row_rule[r]);
                from_base.or(rounded.then_some(Rule::Rounding))
            })
            .collect();
    }
    for (c, column) in batch.columns().iter().enumerate() {
        for (r, rule) in rules[c].iter_mut().enumerate() {
            if column.is_null(r) {
                *rule = None;
            }
        }
    }
    rules
}

/// The table's columns with suppressed cells emptied and, with rounding, counts rounded and
/// count rates recomputed from the rounded counts.
fn published_columns(
    batch: &RecordBatch,
    names: &[String],
    roles: &[Role],
    rules: &[Vec<Option<Rule>>],
    sheet: &Sheet,
    settings: &Settings,
) -> anyhow::Result<Vec<ArrayRef>> {
    let emptied = |c: usize| -> anyhow::Result<ArrayRef> {
        let mask: BooleanArray = rules[c].iter().map(|r| Some(r.is_some())).collect();
        Ok(nullif(batch.column(c), &mask)?)
    };
    // Dimensions and measures first: rates are recomputed from the rounded counts.
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (c, role) in roles.iter().enumerate() {
        columns.push(match (role, settings.rounding_base) {
            (Role::Dimension, _) => batch.column(c).clone(),
            (Role::Measure(m), Some(base)) if sheet.measures[*m].kind == Kind::Count => {
                round(&emptied(c)?, base)?
            }
            _ => emptied(c)?,
        });
    }
    if settings.rounding_base.is_none() {
        return Ok(columns);
    }
    let position = |m: usize| names.iter().position(|n| *n == sheet.measures[m].column);
    for (c, role) in roles.iter().enumerate() {
        if let Role::Rate {
            numerator,
            denominator,
        } = role
            && is_count_rate(role, sheet)
            && let (Some(n), Some(d)) = (position(*numerator), position(*denominator))
        {
            columns[c] = recomputed_rate(&columns[c], &columns[n], &columns[d])?;
        }
    }
    Ok(columns)
}

/// Rounds a numeric column to the nearest multiple of `base`, keeping its type.
fn round(column: &ArrayRef, base: u64) -> anyhow::Result<ArrayRef> {
    let values = cast(column, &DataType::Float64)?;
    let values = values
        .as_any()
        .downcast_ref::<Float64Array>()
        .ok_or_else(|| anyhow::anyhow!("count column is not numeric"))?;
    let base = base as f64;
    let rounded: Float64Array = values
        .iter()
        .map(|v| v.map(|v| (v / base).round() * base))
        .collect();
    Ok(cast(&rounded, column.data_type())?)
}

/// A rate recomputed from rounded parts where it is published, keeping its type.
fn recomputed_rate(
    rate: &ArrayRef,
    numerator: &ArrayRef,
    denominator: &ArrayRef,
) -> anyhow::Result<ArrayRef> {
    let as_f64 = |a: &ArrayRef| -> anyhow::Result<Float64Array> {
        let values = cast(a, &DataType::Float64)?;
        values
            .as_any()
            .downcast_ref::<Float64Array>()
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("rate part is not numeric"))
    };
    let (num, den) = (as_f64(numerator)?, as_f64(denominator)?);
    let values: Float64Array = (0..rate.len())
        .map(|r| {
            let published = rate.is_valid(r) && num.is_valid(r) && den.is_valid(r);
            (published && den.value(r) > 0.0).then(|| num.value(r) / den.value(r))
        })
        .collect();
    Ok(cast(&values, rate.data_type())?)
}

/// The flag column: per row, `*:rule` when every value of the row was emptied, else
/// `column:rule` items joined by `;`.
fn flag_column(
    names: &[String],
    roles: &[Role],
    rules: &[Vec<Option<Rule>>],
    sheet: &Sheet,
    batch: &RecordBatch,
) -> StringArray {
    let measures: Vec<usize> = (0..names.len())
        .filter(|&c| !matches!(roles[c], Role::Dimension))
        .collect();
    (0..sheet.rows)
        .map(|r| {
            let kept = |c: &usize| batch.column(*c).is_valid(r) && rules[*c][r].is_none();
            if let Some(rule) = sheet.row_rule[r]
                && !measures.iter().any(kept)
            {
                return Some(format!("*:{}", rule.name()));
            }
            let items: Vec<String> = measures
                .iter()
                .filter_map(|&c| rules[c][r].map(|rule| format!("{}:{}", names[c], rule.name())))
                .collect();
            (!items.is_empty()).then(|| items.join(";"))
        })
        .collect()
}

/// Footnotes for a table: one per rule that blanked something, and how it is protected.
fn footnotes(tally: &Tally, sheet: &Sheet, settings: &Settings) -> Vec<String> {
    let min = settings.min_cell;
    let mut notes = Vec::new();
    for (rule, cells) in tally {
        let text = match rule {
            Rule::Threshold => format!("Values based on fewer than {min} cases are suppressed (threshold rule)."),
            Rule::Complement => format!("Rates with fewer than {min} cases outside their numerator are suppressed with the numerator (threshold rule on the complement)."),
            Rule::Dominance => format!("Amounts of which the {} largest cases hold more than {}% are suppressed (dominance rule).", settings.dominance_n, settings.dominance_k),
            Rule::Secondary => "Further values are suppressed so that no suppressed value can be recomputed from totals, margins or other tables (secondary suppression).".to_string(),
            Rule::Rounding => "Statistics computed from unrounded counts are left out because they would reveal the rounded counts (rounding).".to_string(),
        };
        notes.push(format!("{text} Cells: {cells}."));
    }
    if let Some(base) = settings.rounding_base {
        notes.push(format!(
            "Counts are rounded to the nearest multiple of {base}; rates between counts are computed from the rounded counts."
        ));
    }
    if !tally.is_empty() {
        notes.push(format!(
            "Suppressed values are empty; the `{FLAG_COLUMN}` column names them with their rule (`*` for the whole row)."
        ));
    }
    if let Some(reason) = &sheet.unlinked {
        notes.push(format!(
            "This table is protected on its own, because {reason}; suppressions are not coordinated with the other tables."
        ));
    }
    notes
}
