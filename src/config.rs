//! The job config (TOML): how one source maps onto the data contract, and run defaults.
//!
//! Everything is validated when loaded, and every error names the config key, so a typo can
//! never silently turn a rule or a protection off (`deny_unknown_fields` throughout).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::contract::{self, Kind};
use crate::error::usage;

/// A whole job config file.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JobConfig {
    /// How input files are read.
    #[serde(default)]
    pub input: InputConfig,
    /// Contract column name → source column name.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Optional contract columns the source does not have.
    #[serde(default)]
    pub absent: Vec<String>,
    /// Per contract column: source label → contract label.
    #[serde(default)]
    pub labels: BTreeMap<String, BTreeMap<String, String>>,
    /// Rows to keep before validation; rows that fail it are counted, not rejected.
    #[serde(default)]
    pub filter: Vec<FilterConfig>,
    /// Extra source columns kept (as text) for custom queries: name in `cases` → source column.
    #[serde(default)]
    pub keep: BTreeMap<String, String>,
    /// Contract rules that can be relaxed.
    #[serde(default)]
    pub rules: RulesConfig,
    /// Privacy settings.
    #[serde(default)]
    pub privacy: PrivacyConfig,
    /// Run defaults that the command line can override.
    #[serde(default)]
    pub run: RunConfig,
}

/// The `[input]` table.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InputConfig {
    /// Text encoding of CSV files: `utf-8` or `gb18030` (which also reads GBK).
    #[serde(default = "default_encoding")]
    pub encoding: String,
    /// CSV field delimiter (one ASCII character).
    #[serde(default = "default_delimiter")]
    pub delimiter: String,
    /// Date formats tried in order (chrono `strftime` syntax).
    #[serde(default = "default_date_formats")]
    pub date_formats: Vec<String>,
    /// Cell values that mean "no value" besides the empty string.
    #[serde(default)]
    pub null_values: Vec<String>,
}

impl Default for InputConfig {
    fn default() -> Self {
        InputConfig {
            encoding: default_encoding(),
            delimiter: default_delimiter(),
            date_formats: default_date_formats(),
            null_values: Vec::new(),
        }
    }
}

fn default_encoding() -> String {
    "utf-8".into()
}
fn default_delimiter() -> String {
    ",".into()
}
fn default_date_formats() -> Vec<String> {
    vec!["%Y-%m-%d".into()]
}

/// One `[[filter]]` entry: keep rows whose source column equals one of the values.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FilterConfig {
    /// Source column name.
    pub column: String,
    /// Values that keep the row.
    #[serde(rename = "in")]
    pub values: Vec<String>,
}

/// The `[rules]` table.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RulesConfig {
    /// `closed_on` must be present exactly when the outcome is not `open`.
    #[serde(default = "yes")]
    pub closed_iff_resolved: bool,
    /// Allowed regions; empty means any non-empty label.
    #[serde(default)]
    pub regions: Vec<String>,
}

impl Default for RulesConfig {
    fn default() -> Self {
        RulesConfig {
            closed_iff_resolved: true,
            regions: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}

/// The `[privacy]` table.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyConfig {
    /// Source columns exempt from the identifier scan, each with the reason (kept in the manifest).
    #[serde(default)]
    pub safe_columns: BTreeMap<String, String>,
    /// Smallest published cell (cases); default 10.
    pub min_cell: Option<u64>,
    /// Dominance rule: the largest `dominance_n` cases may hold at most `dominance_k` percent.
    pub dominance_n: Option<usize>,
    /// Dominance rule threshold in percent.
    pub dominance_k: Option<f64>,
    /// Round published counts to this base (e.g. 5 for the "10-5" preset).
    pub rounding_base: Option<u64>,
}

/// The `[run]` table: defaults for command-line options.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Input paths, relative to the config file.
    #[serde(default)]
    pub input: Vec<PathBuf>,
    /// Queries folder, relative to the config file.
    pub queries: Option<PathBuf>,
    /// Output folder.
    pub out: Option<PathBuf>,
    /// Largest tolerated share of rejected rows.
    pub max_reject_rate: Option<f64>,
    /// Report language (`en` or `zh`).
    pub lang: Option<String>,
    /// Ballista scheduler to run the reports on, `df://HOST:PORT` (feature `distributed`).
    /// Where a release was computed is not part of it: not recorded in the manifest.
    #[serde(default, skip_serializing)]
    pub engine: Option<String>,
    /// Folder every executor reads at the same path, for the cases staged for the cluster.
    #[serde(default, skip_serializing)]
    pub cluster_storage: Option<PathBuf>,
    /// Partitions a report is split into on the cluster.
    #[serde(default, skip_serializing)]
    pub cluster_partitions: Option<usize>,
}

impl JobConfig {
    /// Reads and validates a config file; relative paths in `[run]` resolve against its folder.
    pub fn load(path: &Path) -> anyhow::Result<JobConfig> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| usage(format!("cannot read config `{}`: {e}", path.display())))?;
        let mut config: JobConfig = toml::from_str(&text)
            .map_err(|e| usage(format!("invalid config `{}`: {e}", path.display())))?;
        let base = path.parent().unwrap_or(Path::new(""));
        config.run.input = config.run.input.iter().map(|p| base.join(p)).collect();
        config.run.queries = config.run.queries.as_ref().map(|p| base.join(p));
        config
            .validate()
            .with_context(|| format!("invalid config `{}`", path.display()))?;
        Ok(config)
    }

    /// Checks every key against the contract; errors name the key.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.validate_input()?;
        for name in self.columns.keys() {
            if contract::find(name).is_none() {
                return Err(usage(format!(
                    "`columns.{name}`: not a contract column (known: {})",
                    contract_names()
                )));
            }
        }
        for name in &self.absent {
            let column = contract::find(name)
                .ok_or_else(|| usage(format!("`absent`: `{name}` is not a contract column")))?;
            if column.required {
                return Err(usage(format!(
                    "`absent`: `{name}` is required by the contract and cannot be absent"
                )));
            }
            if self.columns.contains_key(name) {
                return Err(usage(format!(
                    "`absent`: `{name}` is also mapped in `columns`"
                )));
            }
        }
        self.validate_labels()?;
        self.validate_keep()?;
        self.validate_privacy()
    }

    fn validate_input(&self) -> anyhow::Result<()> {
        let encoding = self.input.encoding.to_ascii_lowercase();
        if !["utf-8", "utf8", "gb18030", "gbk"].contains(&encoding.as_str()) {
            return Err(usage(format!(
                "`input.encoding`: `{}` is not supported (use `utf-8` or `gb18030`)",
                self.input.encoding
            )));
        }
        if self.input.delimiter.len() != 1 || !self.input.delimiter.is_ascii() {
            return Err(usage("`input.delimiter`: must be one ASCII character"));
        }
        if self.input.date_formats.is_empty() {
            return Err(usage("`input.date_formats`: needs at least one format"));
        }
        for format in &self.input.date_formats {
            let probe =
                chrono::NaiveDate::from_ymd_opt(2024, 7, 1).map(|d| d.format(format).to_string());
            if probe.is_none() || !format.contains('%') {
                return Err(usage(format!(
                    "`input.date_formats`: `{format}` is not a date format"
                )));
            }
        }
        if let Some(lang) = &self.run.lang
            && crate::output::labels::Lang::parse(lang).is_none()
        {
            return Err(usage(format!(
                "`run.lang`: `{lang}` is not a supported language (use `en` or `zh`)"
            )));
        }
        if let Some(rate) = self.run.max_reject_rate
            && !(0.0..=1.0).contains(&rate)
        {
            return Err(usage("`run.max_reject_rate`: must be between 0 and 1"));
        }
        Ok(())
    }

    fn validate_labels(&self) -> anyhow::Result<()> {
        for (name, labels) in &self.labels {
            let column = contract::find(name)
                .ok_or_else(|| usage(format!("`labels.{name}`: not a contract column")))?;
            let allowed: &[&str] = match column.kind {
                Kind::Category(values) => values,
                Kind::Flag => &["true", "false"],
                _ => {
                    return Err(usage(format!(
                        "`labels.{name}`: only category and boolean columns take labels"
                    )));
                }
            };
            for (source, target) in labels {
                if !allowed.is_empty() && !allowed.contains(&target.as_str()) {
                    return Err(usage(format!(
                        "`labels.{name}.\"{source}\"`: `{target}` is not one of {}",
                        allowed.join(", ")
                    )));
                }
            }
        }
        Ok(())
    }

    fn validate_keep(&self) -> anyhow::Result<()> {
        for name in self.keep.keys() {
            let valid = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !valid || contract::find(name).is_some() || DERIVED_COLUMNS.contains(&name.as_str())
            {
                return Err(usage(format!(
                    "`keep.{name}`: name must match ^[a-z][a-z0-9_]*$ and not be a contract or derived column"
                )));
            }
        }
        Ok(())
    }

    fn validate_privacy(&self) -> anyhow::Result<()> {
        for (column, reason) in &self.privacy.safe_columns {
            if reason.trim().len() < 10 {
                return Err(usage(format!(
                    "`privacy.safe_columns.\"{column}\"`: give a written reason (at least 10 characters)"
                )));
            }
        }
        if let Some(k) = self.privacy.dominance_k
            && !(0.0..=100.0).contains(&k)
        {
            return Err(usage(
                "`privacy.dominance_k`: a percentage between 0 and 100",
            ));
        }
        if self.privacy.min_cell == Some(0) || self.privacy.rounding_base == Some(0) {
            return Err(usage(
                "`privacy.min_cell` and `privacy.rounding_base` must be at least 1",
            ));
        }
        Ok(())
    }

    /// Source column name of a contract column: the mapping, or the contract name itself.
    pub fn source_name<'a>(&'a self, contract_name: &'a str) -> Option<&'a str> {
        if self.absent.iter().any(|a| a == contract_name) {
            return None;
        }
        Some(
            self.columns
                .get(contract_name)
                .map(String::as_str)
                .unwrap_or(contract_name),
        )
    }
}

/// Columns the engine adds to `cases`; kept columns must not collide with them.
pub const DERIVED_COLUMNS: &[&str] = &[
    "resolved",
    "settled",
    "duration_days",
    "opened_month",
    "age_bucket",
    "amount_tier",
    "in_period",
];

fn contract_names() -> String {
    contract::COLUMNS
        .iter()
        .map(|c| c.name)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> anyhow::Result<JobConfig> {
        let config: JobConfig =
            toml::from_str(text).map_err(|e| usage(format!("invalid config: {e}")))?;
        config.validate()?;
        Ok(config)
    }

    #[test]
    fn unknown_keys_and_columns_are_named() {
        let error = parse("[input]\nencodng = \"gbk\"").unwrap_err();
        assert!(format!("{error:#}").contains("encodng"), "{error:#}");
        let error = parse("[columns]\namount = \"Amount\"").unwrap_err();
        assert!(format!("{error:#}").contains("columns.amount"));
        let error = parse("absent = [\"outcome\"]").unwrap_err();
        assert!(format!("{error:#}").contains("required"));
        let error = parse("[labels.outcome]\n\"Closed\" = \"done\"").unwrap_err();
        assert!(format!("{error:#}").contains("labels.outcome"));
        let error = parse("[privacy.safe_columns]\nid = \"ok\"").unwrap_err();
        assert!(format!("{error:#}").contains("written reason"));
        let error = parse("[keep]\nresolved = \"x\"").unwrap_err();
        assert!(format!("{error:#}").contains("keep.resolved"));
    }

    #[test]
    fn mapping_and_absence_resolve_source_names() {
        let config = parse(
            "absent = [\"closed_on\"]\n[columns]\ncase_id = \"Complaint ID\"\n[input]\nencoding = \"gb18030\"",
        )
        .unwrap();
        assert_eq!(config.source_name("case_id"), Some("Complaint ID"));
        assert_eq!(config.source_name("region"), Some("region"));
        assert_eq!(config.source_name("closed_on"), None);
    }
}
