//! The case-outcome data contract v1 (DESIGN §2): column names, types, allowed categories.
//!
//! Everything downstream (ingest, the `cases` table, query planning) takes the schema from
//! here, so the contract lives in exactly one place.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};

/// How a contract column is parsed and stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Opaque text key.
    Text,
    /// Calendar date.
    Date,
    /// A value from a fixed (or, for region, configurable) list.
    Category(&'static [&'static str]),
    /// Money with two decimals.
    Amount,
    /// Whole number of days.
    Days,
    /// A fraction between 0 and 1.
    Fraction,
    /// True or false.
    Flag,
}

/// One column of the contract.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Contract name, also the column name in the `cases` table.
    pub name: &'static str,
    /// How values are parsed.
    pub kind: Kind,
    /// Whether every source must provide it.
    pub required: bool,
}

/// Outcome labels; `open` means not resolved.
pub const OUTCOMES: &[&str] = &[
    "settled",
    "paid_in_full",
    "partial",
    "judgment",
    "withdrawn",
    "uncollectable",
    "open",
];
/// Debt types.
pub const DEBT_TYPES: &[&str] = &[
    "commercial",
    "construction",
    "consumer_loan",
    "private_loan",
    "other",
];
/// Intake channels.
pub const CHANNELS: &[&str] = &[
    "hotline",
    "web",
    "association_platform",
    "mini_program",
    "referral",
    "other",
];
/// Escalation stages, in order.
pub const STAGES: &[&str] = &[
    "reminder",
    "mediation",
    "lawyer_letter",
    "field_visit",
    "court_enforcement",
];
/// Region is a free category unless the job config lists the allowed regions.
pub const ANY: &[&str] = &[];

/// The contract columns, in canonical order.
pub const COLUMNS: &[Column] = &[
    column("case_id", Kind::Text, true),
    column("opened_on", Kind::Date, true),
    column("closed_on", Kind::Date, false),
    column("outcome", Kind::Category(OUTCOMES), true),
    column("debt_type", Kind::Category(DEBT_TYPES), false),
    column("region", Kind::Category(ANY), false),
    column("channel", Kind::Category(CHANNELS), false),
    column("stage", Kind::Category(STAGES), false),
    column("amount_claimed", Kind::Amount, false),
    column("amount_recovered", Kind::Amount, false),
    column("debt_age_days", Kind::Days, false),
    column("fee_rate", Kind::Fraction, false),
    column("complaint", Kind::Flag, false),
    column("complaint_upheld", Kind::Flag, false),
    column("cross_border", Kind::Flag, false),
];

const fn column(name: &'static str, kind: Kind, required: bool) -> Column {
    Column {
        name,
        kind,
        required,
    }
}

/// Looks a contract column up by name.
pub fn find(name: &str) -> Option<&'static Column> {
    COLUMNS.iter().find(|column| column.name == name)
}

/// Arrow type a contract column is stored as in the `cases` table.
pub fn data_type(kind: Kind) -> DataType {
    match kind {
        Kind::Text => DataType::Utf8,
        Kind::Date => DataType::Date32,
        Kind::Category(_) => {
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
        }
        Kind::Amount => DataType::Decimal128(18, 2),
        Kind::Days => DataType::Int32,
        Kind::Fraction => DataType::Float64,
        Kind::Flag => DataType::Boolean,
    }
}

/// Schema of validated contract rows plus the extra source columns kept as text.
pub fn schema(extra_columns: &[String]) -> SchemaRef {
    let mut fields: Vec<Field> = COLUMNS
        .iter()
        .map(|column| Field::new(column.name, data_type(column.kind), !column.required))
        .collect();
    fields.extend(
        extra_columns
            .iter()
            .map(|name| Field::new(name, DataType::Utf8, true)),
    );
    Arc::new(Schema::new(fields))
}

/// Position of a stage in the escalation order (0 = reminder).
pub fn stage_rank(stage: &str) -> Option<usize> {
    STAGES.iter().position(|known| *known == stage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_columns_are_the_three_of_the_contract() {
        let required: Vec<_> = COLUMNS
            .iter()
            .filter(|c| c.required)
            .map(|c| c.name)
            .collect();
        assert_eq!(required, ["case_id", "opened_on", "outcome"]);
        assert_eq!(schema(&["note".into()]).fields().len(), COLUMNS.len() + 1);
        assert_eq!(stage_rank("lawyer_letter"), Some(2));
        assert!(find("amount_claimed").is_some() && find("amount").is_none());
    }
}
