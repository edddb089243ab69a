//! How a cell looks to people (Markdown, HTML, workbook labels): rates as percentages,
//! money with thousands separators, missing values as an en dash.

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::util::display::array_value_to_string;

use crate::queries::Query;

/// What a column holds, for formatting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A grouping label.
    Dimension,
    /// A count of cases.
    Count,
    /// A money amount.
    Amount,
    /// A proportion shown as a percentage.
    Rate,
    /// Any other statistic.
    Statistic,
}

/// The role of a result column according to the report header.
pub fn role(query: &Query, column: &str) -> Role {
    let base = query.derived.get(column).map_or(column, String::as_str);
    let is = |list: &[String], name: &str| list.iter().any(|c| c == name);
    if is(&query.dimensions, column) {
        Role::Dimension
    } else if query.rates.iter().any(|r| r.name == base) || is_share(column) {
        Role::Rate
    } else if is(&query.counts, column) {
        Role::Count
    } else if is(&query.amounts, column) {
        Role::Amount
    } else {
        Role::Statistic
    }
}

/// Whether a statistic column holds a share (shown as a percentage) by its name (docs/queries.md):
/// `*_rate`, `*_share`, `*_change`, `resolved_within_*`, `still_open`, `survival`, and the
/// interval bounds of these (`_low`, `_high`, `_ci_low`, `_ci_high`).
pub fn is_share(column: &str) -> bool {
    let name = ["_ci_low", "_ci_high", "_low", "_high"]
        .iter()
        .find_map(|suffix| column.strip_suffix(suffix))
        .unwrap_or(column);
    ["_rate", "_share", "_change"]
        .iter()
        .any(|end| name.ends_with(end))
        || name.starts_with("resolved_within_")
        || ["still_open", "survival"].contains(&name)
}

/// Placeholder for a missing value.
pub const MISSING: &str = "–";

/// Formats one cell for people.
pub fn cell(array: &ArrayRef, row: usize, role: Role) -> String {
    if array.is_null(row) {
        return MISSING.to_string();
    }
    match number_at(array, row) {
        Some(value) => number(value, role),
        None => array_value_to_string(array, row).unwrap_or_default(),
    }
}

/// The numeric value of a cell (`None` for NULL or a non-numeric column). Read through the
/// cell's text so that it equals what the CSV file says, decimals included.
pub fn number_at(array: &ArrayRef, row: usize) -> Option<f64> {
    if array.is_null(row) || !array.data_type().is_numeric() {
        return None;
    }
    array_value_to_string(array, row).ok()?.parse().ok()
}

/// Formats a number for people according to its role.
pub fn number(value: f64, role: Role) -> String {
    match role {
        Role::Rate => format!("{:.1}%", value * 100.0),
        Role::Amount => thousands(value, 2),
        Role::Count => thousands(value, 0),
        Role::Dimension => format!("{value}"),
        Role::Statistic if value.fract() != 0.0 => format!("{value:.1}"),
        Role::Statistic => format!("{value:.0}"),
    }
}

/// `1234567.8` → `1,234,567.80`.
pub fn thousands(value: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, value.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let mut grouped = String::new();
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign = if value < 0.0 { "-" } else { "" };
    if fraction.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{fraction}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_for_people() {
        assert_eq!(thousands(1234567.8, 2), "1,234,567.80");
        assert_eq!(thousands(999.0, 0), "999");
        assert_eq!(thousands(-1000.0, 0), "-1,000");
    }

    #[test]
    fn shares_by_name() {
        for share in [
            "still_open_low",
            "resolved_within_30d",
            "opened_change",
            "survival",
            "x_rate_ci_high",
        ] {
            assert!(is_share(share), "{share}");
        }
        for other in [
            "median_days",
            "median_days_ci_low",
            "cases",
            "still_opened",
            "rate_of_x",
        ] {
            assert!(!is_share(other), "{other}");
        }
    }
}
