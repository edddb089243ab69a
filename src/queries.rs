//! The report suite: one `.sql` file per report with a strict `-- key: value` header.
//!
//! The header tells disclosure control what every result column is (dimension, count,
//! amount, rate, or a statistic derived from another column) and tells the writers the title
//! and chart. An unknown key, a missing required key or an unclassified result column is an
//! error: a typo must never turn protection off.

pub mod chart;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use datafusion::arrow::datatypes::Schema;

use crate::error::usage;
pub use chart::{Chart, ChartKind};

/// The built-in suite, compiled into the binary so `dispute-stats run` works anywhere.
pub const BUILTIN: &[(&str, &str)] = &[
    ("overview", include_str!("../queries/overview.sql")),
    (
        "flow_and_stock",
        include_str!("../queries/flow_and_stock.sql"),
    ),
    (
        "period_change",
        include_str!("../queries/period_change.sql"),
    ),
    ("by_region", include_str!("../queries/by_region.sql")),
    ("by_debt_type", include_str!("../queries/by_debt_type.sql")),
    ("by_channel", include_str!("../queries/by_channel.sql")),
    ("by_stage", include_str!("../queries/by_stage.sql")),
    ("funnel", include_str!("../queries/funnel.sql")),
    ("by_debt_age", include_str!("../queries/by_debt_age.sql")),
    (
        "by_amount_tier",
        include_str!("../queries/by_amount_tier.sql"),
    ),
    ("by_month", include_str!("../queries/by_month.sql")),
    ("vintage", include_str!("../queries/vintage.sql")),
    (
        "resolution_time",
        include_str!("../queries/resolution_time.sql"),
    ),
    (
        "resolution_time_by_region",
        include_str!("../queries/resolution_time_by_region.sql"),
    ),
    (
        "resolution_time_by_debt_type",
        include_str!("../queries/resolution_time_by_debt_type.sql"),
    ),
    (
        "resolution_time_by_channel",
        include_str!("../queries/resolution_time_by_channel.sql"),
    ),
    (
        "resolution_time_by_stage",
        include_str!("../queries/resolution_time_by_stage.sql"),
    ),
    (
        "resolution_time_by_debt_age",
        include_str!("../queries/resolution_time_by_debt_age.sql"),
    ),
    (
        "resolution_time_by_amount_tier",
        include_str!("../queries/resolution_time_by_amount_tier.sql"),
    ),
    (
        "resolution_curve_by_region",
        include_str!("../queries/resolution_curve_by_region.sql"),
    ),
    ("complaints", include_str!("../queries/complaints.sql")),
];

/// A rate column and the columns it divides.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rate {
    /// Rate column.
    pub name: String,
    /// Numerator column.
    pub numerator: String,
    /// Denominator column.
    pub denominator: String,
}

/// One report: its header and SQL.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Query {
    /// Report name (the file stem).
    pub name: String,
    /// Where it came from (a path, or `builtin`).
    pub origin: String,
    /// Title for people.
    pub title: String,
    /// One-paragraph description.
    pub description: String,
    /// Title in Simplified Chinese (`title_zh`), if given.
    pub title_zh: Option<String>,
    /// Description in Simplified Chinese (`description_zh`), if given.
    pub description_zh: Option<String>,
    /// What one row is.
    pub grain: String,
    /// Grouping columns.
    pub dimensions: Vec<String>,
    /// Case-count columns.
    pub counts: Vec<String>,
    /// Money-sum columns.
    pub amounts: Vec<String>,
    /// Amount column → the `cases` column it sums, when written `name = column` in the header.
    pub amount_sources: BTreeMap<String, String>,
    /// Rate columns.
    pub rates: Vec<Rate>,
    /// Statistic column → the column whose protection it follows.
    pub derived: BTreeMap<String, String>,
    /// Charts the HTML page draws (empty for `none` or no `chart` key), see [`chart`].
    pub chart: Vec<Chart>,
    /// Contract columns the report needs; it is skipped when the source lacks one.
    pub requires: Vec<String>,
    /// The SQL text (header included).
    pub sql: String,
}

const KEYS: &[&str] = &[
    "title",
    "title_zh",
    "description",
    "description_zh",
    "grain",
    "dimensions",
    "counts",
    "amounts",
    "rates",
    "derived",
    "chart",
    "requires",
];

/// Checks a report name against `^[a-z][a-z0-9_]*$`.
pub fn valid_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Parses one report file's text.
pub fn parse(name: &str, origin: &str, sql: &str) -> anyhow::Result<Query> {
    if !valid_name(name) {
        return Err(usage(format!(
            "`{origin}`: report name `{name}` must match ^[a-z][a-z0-9_]*$"
        )));
    }
    let mut values: BTreeMap<&str, String> = BTreeMap::new();
    for (number, line) in sql.lines().enumerate() {
        let Some(comment) = line.trim().strip_prefix("--") else {
            break;
        };
        let comment = comment.trim();
        if comment.is_empty() {
            continue;
        }
        let at = format!("`{origin}` line {}", number + 1);
        let (key, value) = comment
            .split_once(':')
            .ok_or_else(|| usage(format!("{at}: header line must be `-- key: value`")))?;
        let key = key.trim();
        if !KEYS.contains(&key) {
            return Err(usage(format!(
                "{at}: unknown header key `{key}` (known: {})",
                KEYS.join(", ")
            )));
        }
        let entry = values.entry(key).or_default();
        if !entry.is_empty() {
            entry.push(' ');
        }
        entry.push_str(value.trim());
    }
    let required = |key: &str| {
        values
            .get(key)
            .filter(|v| !v.is_empty())
            .cloned()
            .ok_or_else(|| usage(format!("`{origin}`: header key `{key}` is missing")))
    };
    let list = |key: &str| split_list(values.get(key).map_or("", String::as_str));
    let (amounts, amount_sources) = parse_amounts(&list("amounts"));
    let optional = |key: &str| values.get(key).filter(|v| !v.is_empty()).cloned();
    let chart = match values.get("chart") {
        Some(text) => chart::parse(text).map_err(|e| usage(format!("`{origin}`: {e:#}")))?,
        None => Vec::new(),
    };
    let query = Query {
        name: name.to_string(),
        origin: origin.to_string(),
        title: required("title")?,
        description: required("description")?,
        title_zh: optional("title_zh"),
        description_zh: optional("description_zh"),
        grain: required("grain")?,
        dimensions: split_list(&required("dimensions")?),
        counts: list("counts"),
        amounts,
        amount_sources,
        rates: parse_rates(origin, values.get("rates").map_or("", String::as_str))?,
        derived: parse_derived(origin, values.get("derived").map_or("", String::as_str))?,
        chart,
        requires: list("requires"),
        sql: sql.to_string(),
    };
    query.check_references()?;
    Ok(query)
}

fn split_list(text: &str) -> Vec<String> {
    if text.trim() == "none" {
        return Vec::new();
    }
    text.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// `amount, other = column, ...`: names, and the `cases` column each explicitly mapped one sums.
fn parse_amounts(items: &[String]) -> (Vec<String>, BTreeMap<String, String>) {
    let mut names = Vec::new();
    let mut sources = BTreeMap::new();
    for item in items {
        match item.split_once('=') {
            Some((name, source)) => {
                names.push(name.trim().to_string());
                sources.insert(name.trim().to_string(), source.trim().to_string());
            }
            None => names.push(item.clone()),
        }
    }
    (names, sources)
}

/// `rate = numerator / denominator, ...`
fn parse_rates(origin: &str, text: &str) -> anyhow::Result<Vec<Rate>> {
    split_list(text)
        .iter()
        .map(|item| {
            let parsed = item.split_once('=').and_then(|(name, ratio)| {
                let (numerator, denominator) = ratio.split_once('/')?;
                Some(Rate {
                    name: name.trim().to_string(),
                    numerator: numerator.trim().to_string(),
                    denominator: denominator.trim().to_string(),
                })
            });
            parsed.ok_or_else(|| {
                usage(format!(
                    "`{origin}`: rate `{item}` must read `name = numerator / denominator`"
                ))
            })
        })
        .collect()
}

/// `a, b <- base; c <- other`
fn parse_derived(origin: &str, text: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let mut derived = BTreeMap::new();
    for group in text.split(';').map(str::trim).filter(|g| !g.is_empty()) {
        let (columns, base) = group.split_once("<-").ok_or_else(|| {
            usage(format!(
                "`{origin}`: derived `{group}` must read `column, column <- base`"
            ))
        })?;
        for column in split_list(columns) {
            derived.insert(column, base.trim().to_string());
        }
    }
    Ok(derived)
}

impl Query {
    /// The `cases` column an amount column sums: its mapping, else its own name.
    pub fn amount_source<'a>(&'a self, amount: &'a str) -> &'a str {
        self.amount_sources
            .get(amount)
            .map_or(amount, String::as_str)
    }

    /// Every column the header classifies, in no particular order.
    pub fn classified(&self) -> Vec<&str> {
        let mut all: Vec<&str> = Vec::new();
        all.extend(self.dimensions.iter().map(String::as_str));
        all.extend(self.counts.iter().map(String::as_str));
        all.extend(self.amounts.iter().map(String::as_str));
        all.extend(self.rates.iter().map(|r| r.name.as_str()));
        all.extend(self.derived.keys().map(String::as_str));
        all
    }

    /// Rates and derived statistics must refer to classified columns.
    fn check_references(&self) -> anyhow::Result<()> {
        let measures: Vec<&str> = self
            .counts
            .iter()
            .chain(&self.amounts)
            .map(String::as_str)
            .collect();
        for rate in &self.rates {
            for part in [&rate.numerator, &rate.denominator] {
                if !measures.contains(&part.as_str()) {
                    return Err(usage(format!(
                        "`{}`: rate `{}` uses `{part}`, which is not a count or amount of the header",
                        self.origin, rate.name
                    )));
                }
            }
        }
        let classified = self.classified();
        for (column, base) in &self.derived {
            if !classified.contains(&base.as_str()) || self.derived.contains_key(base) {
                return Err(usage(format!(
                    "`{}`: derived `{column}` follows `{base}`, which must be a count, amount or rate",
                    self.origin
                )));
            }
        }
        for (index, name) in classified.iter().enumerate() {
            if classified[..index].contains(name) {
                return Err(usage(format!(
                    "`{}`: column `{name}` is classified twice",
                    self.origin
                )));
            }
        }
        Ok(())
    }

    /// Checks that the result columns are exactly the classified ones.
    pub fn check_columns(&self, result_columns: &[String]) -> anyhow::Result<()> {
        let classified = self.classified();
        for column in result_columns {
            if !classified.contains(&column.as_str()) {
                return Err(usage(format!(
                    "`{}`: result column `{column}` is not classified in the header (dimensions, counts, amounts, rates or derived)",
                    self.origin
                )));
            }
        }
        for column in classified {
            if !result_columns.iter().any(|c| c == column) {
                return Err(usage(format!(
                    "`{}`: header names `{column}`, which the query does not return",
                    self.origin
                )));
            }
        }
        for chart in &self.chart {
            chart
                .clone()
                .resolve(result_columns)
                .map_err(|e| usage(format!("`{}`: {e}", self.origin)))?;
        }
        Ok(())
    }

    /// Checks that every chart plots numbers where it needs them.
    pub fn check_chart_types(&self, schema: &Schema) -> anyhow::Result<()> {
        let columns: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        for chart in &self.chart {
            let mut chart = chart.clone();
            chart
                .resolve(&columns)
                .and_then(|()| chart.check_types(schema))
                .map_err(|e| usage(format!("`{}`: {e}", self.origin)))?;
        }
        Ok(())
    }
}

/// Loads the built-in suite (in its publication order) plus every `.sql` file of the given
/// folders, sorted by name; a file replaces the built-in report of the same name.
pub fn load(folders: &[PathBuf], builtin: bool) -> anyhow::Result<Vec<Query>> {
    let mut suite: Vec<Query> = Vec::new();
    if builtin {
        for (name, sql) in BUILTIN {
            suite.push(parse(name, &format!("queries/{name}.sql"), sql)?);
        }
    }
    for folder in folders {
        for path in sql_files(folder)? {
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            let origin = path.display().to_string();
            let sql = std::fs::read_to_string(&path)
                .map_err(|e| usage(format!("cannot read `{origin}`: {e}")))?;
            let query = parse(&name, &origin, &sql)?;
            match suite.iter_mut().find(|q| q.name == name) {
                Some(existing) => *existing = query,
                None => suite.push(query),
            }
        }
    }
    if suite.is_empty() {
        return Err(usage("the report suite is empty"));
    }
    Ok(suite)
}

fn sql_files(folder: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(folder).map_err(|e| {
        usage(format!(
            "cannot read queries folder `{}`: {e}",
            folder.display()
        ))
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "sql") {
            files.push(path);
        }
    }
    if files.is_empty() {
        return Err(usage(format!(
            "queries folder `{}` has no .sql file",
            folder.display()
        )));
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "-- title: By region\n-- description: Cases by region.\n-- grain: one row per region\n-- dimensions: region\n-- counts: cases, resolved, settled\n-- rates: settlement_rate = settled / resolved\n-- derived: settlement_rate_low, settlement_rate_high <- settlement_rate\nSELECT 1";

    #[test]
    fn parses_a_full_header() {
        let query = parse("by_region", "x.sql", GOOD).unwrap();
        assert_eq!(query.dimensions, ["region"]);
        assert_eq!(query.rates[0].denominator, "resolved");
        assert_eq!(query.derived["settlement_rate_low"], "settlement_rate");
        let columns: Vec<String> = [
            "region",
            "cases",
            "resolved",
            "settled",
            "settlement_rate",
            "settlement_rate_low",
            "settlement_rate_high",
        ]
        .map(String::from)
        .to_vec();
        query.check_columns(&columns).unwrap();
        let mut extra = columns.clone();
        extra.push("median_amount".into());
        assert!(
            query
                .check_columns(&extra)
                .unwrap_err()
                .to_string()
                .contains("median_amount")
        );
    }

    #[test]
    fn amounts_may_name_the_cases_column_they_sum() {
        let text = GOOD.replace(
            "-- rates:",
            "-- amounts: amount_claimed, settled_claimed = amount_claimed\n-- rates:",
        );
        let query = parse("r", "x.sql", &text).unwrap();
        assert_eq!(query.amounts, ["amount_claimed", "settled_claimed"]);
        assert_eq!(query.amount_source("settled_claimed"), "amount_claimed");
        assert_eq!(query.amount_source("amount_claimed"), "amount_claimed");
    }

    #[test]
    fn rejects_typos_and_bad_names() {
        let typo = GOOD.replace("-- counts:", "-- count:");
        assert!(
            parse("r", "x.sql", &typo)
                .unwrap_err()
                .to_string()
                .contains("unknown header key `count`")
        );
        let missing = GOOD.replace("-- grain: one row per region\n", "");
        assert!(
            parse("r", "x.sql", &missing)
                .unwrap_err()
                .to_string()
                .contains("`grain`")
        );
        assert!(parse("By-Region", "x.sql", GOOD).is_err());
        let bad_rate = GOOD.replace("settled / resolved", "settled / cases_total");
        assert!(parse("r", "x.sql", &bad_rate).is_err());
    }

    #[test]
    fn chinese_titles_and_charts_parse() {
        let text = GOOD.replace(
            "-- grain:",
            "-- title_zh: 按地区\n-- description_zh: 按地区统计。\n-- chart: bar settlement_rate by region\n-- grain:",
        );
        let query = parse("by_region", "x.sql", &text).unwrap();
        assert_eq!(query.title_zh.as_deref(), Some("按地区"));
        assert_eq!(query.description_zh.as_deref(), Some("按地区统计。"));
        assert_eq!(query.chart[0].kind, ChartKind::Bar);
        let columns: Vec<String> = [
            "region",
            "cases",
            "resolved",
            "settled",
            "settlement_rate",
            "settlement_rate_low",
            "settlement_rate_high",
        ]
        .map(String::from)
        .to_vec();
        query.check_columns(&columns).unwrap();
        let wrong = text.replace("by region", "by channel");
        let error = parse("r", "x.sql", &wrong)
            .unwrap()
            .check_columns(&columns)
            .unwrap_err();
        assert!(error.to_string().contains("names `channel`"), "{error}");
        let pie = text.replace("-- chart: bar", "-- chart: pie");
        let error = parse("r", "x.sql", &pie).unwrap_err();
        assert!(
            format!("{error:#}").contains("unknown chart kind `pie`"),
            "{error:#}"
        );
        let empty = text.replace("-- chart: bar settlement_rate by region", "-- chart:");
        assert!(
            parse("r", "x.sql", &empty).is_err(),
            "an empty chart is `none`, spelled out"
        );
    }

    #[test]
    fn builtin_suite_parses_and_matches_the_folder() {
        let suite = load(&[], true).unwrap();
        let mut on_disk: Vec<String> =
            sql_files(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/queries")))
                .unwrap()
                .iter()
                .filter_map(|p| p.file_stem()?.to_str().map(String::from))
                .collect();
        on_disk.sort();
        let mut builtin: Vec<String> = suite.iter().map(|q| q.name.clone()).collect();
        builtin.sort();
        assert_eq!(
            builtin, on_disk,
            "every file in queries/ is built in, and only those"
        );
    }
}
