//! The project's SQL functions, registered once on every session (and so available to every
//! report, to users' own `queries/*.sql` and to `dispute-stats sql`).
//!
//! Scalar functions here take and return DOUBLE; the planner coerces integer and decimal
//! arguments. Definitions are in docs/functions.md.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayBuilder, ArrayRef, AsArray, Date32Array, DictionaryArray, Float64Array, Int32Array,
    StringArray, StringBuilder,
};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::datatypes::{Date32Type, Decimal128Type, Int32Type, Int64Type};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    AggregateUDF, ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    TypeSignature, Volatility,
};
use datafusion::prelude::SessionContext;

use crate::ingest::text::two_digits;
use crate::period::civil_from_days;
use crate::stats::ratio::poisson_ratio_interval;
use crate::stats::wilson::wilson_interval;

/// Confidence level used when a function is called without one.
pub const DEFAULT_LEVEL: f64 = 0.95;

/// A row-wise function of DOUBLE arguments returning DOUBLE (NULL when undefined).
#[derive(Debug)]
struct FloatFunction {
    name: &'static str,
    signature: Signature,
    function: fn(&[f64]) -> Option<f64>,
}

impl FloatFunction {
    fn new(name: &'static str, arities: &[usize], function: fn(&[f64]) -> Option<f64>) -> Self {
        let variants = arities
            .iter()
            .map(|n| TypeSignature::Exact(vec![DataType::Float64; *n]))
            .collect();
        FloatFunction {
            name,
            signature: Signature::one_of(variants, Volatility::Immutable),
            function,
        }
    }
}

/// Functions are identified by name (the registry's key).
impl PartialEq for FloatFunction {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for FloatFunction {}

impl std::hash::Hash for FloatFunction {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl ScalarUDFImpl for FloatFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let arrays: Vec<ArrayRef> = args
            .args
            .iter()
            .map(|a| a.to_array(rows))
            .collect::<Result<_>>()?;
        let mut columns = Vec::with_capacity(arrays.len());
        for array in &arrays {
            match array.as_any().downcast_ref::<Float64Array>() {
                Some(column) => columns.push(column),
                None => return exec_err!("{}: arguments must be DOUBLE", self.name),
            }
        }
        let mut values = vec![0.0; columns.len()];
        let result: Float64Array = (0..rows)
            .map(|row| {
                for (slot, column) in values.iter_mut().zip(&columns) {
                    if column.is_null(row) {
                        return None;
                    }
                    *slot = column.value(row);
                }
                (self.function)(&values)
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(result)))
    }
}

/// `ratio(a, b)`: a / b, NULL when b is 0 or NULL.
fn ratio(args: &[f64]) -> Option<f64> {
    (args[1] != 0.0).then(|| args[0] / args[1])
}

fn level(args: &[f64]) -> f64 {
    args.get(2).copied().unwrap_or(DEFAULT_LEVEL)
}

/// `wilson_low(k, n [, level])`: lower Wilson score bound.
fn wilson_low(args: &[f64]) -> Option<f64> {
    wilson_interval(args[0], args[1], level(args)).map(|(low, _)| low)
}

/// `wilson_high(k, n [, level])`: upper Wilson score bound.
fn wilson_high(args: &[f64]) -> Option<f64> {
    wilson_interval(args[0], args[1], level(args)).map(|(_, high)| high)
}

/// `poisson_ratio_low(k1, k2 [, level])`: lower score bound of k1/k2 for two Poisson counts.
fn poisson_ratio_low(args: &[f64]) -> Option<f64> {
    poisson_ratio_interval(args[0], args[1], level(args)).map(|(low, _)| low)
}

/// `poisson_ratio_high(k1, k2 [, level])`: upper score bound of k1/k2.
fn poisson_ratio_high(args: &[f64]) -> Option<f64> {
    poisson_ratio_interval(args[0], args[1], level(args)).map(|(_, high)| high)
}

/// `ratio_moments_low(n, Σy, Σx, Σy², Σxy, Σx² [, level])`: lower delta-method bound of Σy/Σx.
fn ratio_moments_low(args: &[f64]) -> Option<f64> {
    super::ratio::moments_bound(args, false)
}

/// `ratio_moments_high(…)`: upper delta-method bound of Σy/Σx.
fn ratio_moments_high(args: &[f64]) -> Option<f64> {
    super::ratio::moments_bound(args, true)
}

/// `year_month(date)`: `YYYY-MM`, as `to_char(date, '%Y-%m')` but written directly (it runs
/// once per case when `cases` is built), as dictionary-encoded text like the other categories.
#[derive(Debug, PartialEq, Eq, Hash)]
struct YearMonth {
    signature: Signature,
}

impl ScalarUDFImpl for YearMonth {
    fn name(&self) -> &str {
        "year_month"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Dictionary(
            Box::new(DataType::Int32),
            Box::new(DataType::Utf8),
        ))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let dates = args.args[0].to_array(args.number_rows)?;
        let Some(dates) = dates.as_any().downcast_ref::<Date32Array>() else {
            return exec_err!("year_month: the argument must be a DATE");
        };
        // Each month of the batch is written once, in order of first sight; a row gets the
        // key of its month (negative: NULL). Months near the first one are found by position.
        const NEAR: i64 = 2048;
        const UNSEEN: i32 = i32::MIN;
        let mut near = vec![UNSEEN; NEAR as usize];
        let mut far: HashMap<i64, i32> = HashMap::new();
        let mut base = None;
        let mut texts = StringBuilder::new();
        let mut keys = Vec::with_capacity(dates.len());
        for value in dates.iter() {
            let Some(days) = value else {
                keys.push(-1);
                continue;
            };
            let (year, month, _) = civil_from_days(i64::from(days));
            let index = year * 12 + i64::from(month) - 1;
            let first = *base.get_or_insert(index - NEAR / 2);
            let slot = match usize::try_from(index - first) {
                Ok(offset) if offset < near.len() => &mut near[offset],
                _ => far.entry(index).or_insert(UNSEEN),
            };
            if *slot == UNSEEN {
                *slot = match month_text(days, year, month) {
                    Some(text) => {
                        let key = texts.len() as i32;
                        texts.append_value(text);
                        key
                    }
                    None => -1,
                };
            }
            keys.push(*slot);
        }
        let nulls = keys
            .iter()
            .any(|&key| key < 0)
            .then(|| NullBuffer::from_iter(keys.iter().map(|&key| key >= 0)));
        let keys = Int32Array::new(keys.into_iter().map(|key| key.max(0)).collect(), nulls);
        let months = DictionaryArray::<Int32Type>::try_new(keys, Arc::new(texts.finish()))?;
        Ok(ColumnarValue::Array(Arc::new(months)))
    }
}

/// `YYYY-MM` of a day (`year` and `month` its civil date), as chrono writes it.
fn month_text(days: i32, year: i64, month: u32) -> Option<String> {
    if (0..=9999).contains(&year) {
        let mut text = [b'-'; 7];
        two_digits(&mut text[0..2], (year / 100) as u32);
        two_digits(&mut text[2..4], (year % 100) as u32);
        two_digits(&mut text[5..7], month);
        Some(String::from_utf8_lossy(&text).into_owned())
    } else {
        // chrono's form of years past four digits (`+10000-01`).
        Date32Type::to_naive_date_opt(days).map(|date| date.format("%Y-%m").to_string())
    }
}

/// `age_bucket_of(days)` and `amount_tier_of(amount)`: the bucket of a value (docs/metrics.md),
/// as the category the `cases` table stores: `labels[i]` for the values with `i` bounds at or
/// below them, NULL for NULL. Keys are computed by comparison, not by hashing label text.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Buckets {
    name: &'static str,
    /// Lower bounds of every bucket but the first, in whole units, ascending.
    bounds: &'static [i128],
    labels: &'static [&'static str],
    signature: Signature,
}

impl Buckets {
    /// Debt-age buckets of DESIGN §5, in days.
    fn ages() -> Buckets {
        Buckets {
            name: "age_bucket_of",
            bounds: &[90, 180, 365],
            labels: &["under_90", "90_to_180", "180_to_365", "over_365"],
            signature: Signature::new(TypeSignature::Any(1), Volatility::Immutable),
        }
    }

    /// Tiers of claimed amounts, in currency units.
    fn amounts() -> Buckets {
        Buckets {
            name: "amount_tier_of",
            bounds: &[10_000, 50_000, 200_000, 1_000_000],
            labels: &[
                "under_10k",
                "10k_to_50k",
                "50k_to_200k",
                "200k_to_1m",
                "over_1m",
            ],
            signature: Signature::new(TypeSignature::Any(1), Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for Buckets {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Dictionary(
            Box::new(DataType::Int32),
            Box::new(DataType::Utf8),
        ))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let values = args.args[0].to_array(args.number_rows)?;
        // A value's key is the number of bounds at or below it, the bounds taken at the
        // value's scale (a DECIMAL(18, 2) amount is in cents); NULL stays NULL.
        let at_scale = |scale: u32| -> Vec<i128> {
            let unit = 10i128.pow(scale);
            self.bounds.iter().map(|b| b * unit).collect()
        };
        let key = |bounds: &[i128], v: i128| bounds.partition_point(|b| *b <= v) as i32;
        let keys: Int32Array = match values.data_type() {
            DataType::Int32 => {
                let bounds = at_scale(0);
                let values = values.as_primitive::<Int32Type>();
                values.unary(|v| key(&bounds, i128::from(v)))
            }
            DataType::Int64 => {
                let bounds = at_scale(0);
                let values = values.as_primitive::<Int64Type>();
                values.unary(|v| key(&bounds, i128::from(v)))
            }
            DataType::Decimal128(_, scale) if (0..=18).contains(scale) => {
                let bounds = at_scale(*scale as u32);
                let values = values.as_primitive::<Decimal128Type>();
                values.unary(|v| key(&bounds, v))
            }
            other => return exec_err!("{}: takes an integer or DECIMAL, not {other}", self.name),
        };
        let labels: ArrayRef = Arc::new(StringArray::from(self.labels.to_vec()));
        let buckets = DictionaryArray::<Int32Type>::try_new(keys, labels)?;
        Ok(ColumnarValue::Array(Arc::new(buckets)))
    }
}

/// `outcome_as_of(outcome, closed_on, as_of)`: the outcome as it stood on `as_of`, `'open'`
/// for a case closed after it (docs/metrics.md). A dictionary-encoded outcome keeps its
/// encoding: only the keys of later closures change, to the key of `open` (added to the values
/// when missing), so no label is compared or hashed. Text stays text.
#[derive(Debug, PartialEq, Eq, Hash)]
struct OutcomeAsOf {
    signature: Signature,
}

impl ScalarUDFImpl for OutcomeAsOf {
    fn name(&self) -> &str {
        "outcome_as_of"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[0].clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let outcome = args.args[0].to_array(rows)?;
        let closed = args.args[1].to_array(rows)?;
        let as_of = args.args[2].to_array(rows)?;
        let (Some(closed), Some(as_of)) = (
            closed.as_any().downcast_ref::<Date32Array>(),
            as_of.as_any().downcast_ref::<Date32Array>(),
        ) else {
            return exec_err!("outcome_as_of: closed_on and as_of must be DATE");
        };
        let later = |row: usize| {
            closed.is_valid(row) && as_of.is_valid(row) && closed.value(row) > as_of.value(row)
        };
        let cut: ArrayRef = match outcome.data_type() {
            DataType::Dictionary(key, value)
                if **key == DataType::Int32 && **value == DataType::Utf8 =>
            {
                let outcome = outcome.as_dictionary::<Int32Type>();
                let labels = outcome.values().as_string::<i32>();
                let (open, labels): (i32, ArrayRef) =
                    match labels.iter().position(|l| l == Some("open")) {
                        Some(index) => (index as i32, outcome.values().clone()),
                        None => {
                            let mut with_open: Vec<Option<&str>> = labels.iter().collect();
                            with_open.push(Some("open"));
                            (labels.len() as i32, Arc::new(StringArray::from(with_open)))
                        }
                    };
                let keys: Int32Array = outcome
                    .keys()
                    .iter()
                    .enumerate()
                    .map(|(row, key)| if later(row) { Some(open) } else { key })
                    .collect();
                Arc::new(DictionaryArray::<Int32Type>::try_new(keys, labels)?)
            }
            DataType::Utf8 => {
                let outcome = outcome.as_string::<i32>();
                let text: StringArray = outcome
                    .iter()
                    .enumerate()
                    .map(|(row, label)| if later(row) { Some("open") } else { label })
                    .collect();
                Arc::new(text)
            }
            other => return exec_err!("outcome_as_of: outcome must be text, not {other}"),
        };
        Ok(ColumnarValue::Array(cut))
    }
}

/// The scalar functions, by name.
pub fn scalar_functions() -> Vec<ScalarUDF> {
    let year_month = ScalarUDF::new_from_impl(YearMonth {
        signature: Signature::exact(vec![DataType::Date32], Volatility::Immutable),
    });
    [
        FloatFunction::new("ratio", &[2], ratio),
        FloatFunction::new("wilson_low", &[2, 3], wilson_low),
        FloatFunction::new("wilson_high", &[2, 3], wilson_high),
        FloatFunction::new("poisson_ratio_low", &[2, 3], poisson_ratio_low),
        FloatFunction::new("poisson_ratio_high", &[2, 3], poisson_ratio_high),
        FloatFunction::new("ratio_moments_low", &[6, 7], ratio_moments_low),
        FloatFunction::new("ratio_moments_high", &[6, 7], ratio_moments_high),
    ]
    .into_iter()
    .map(ScalarUDF::new_from_impl)
    .chain([
        year_month,
        ScalarUDF::new_from_impl(Buckets::ages()),
        ScalarUDF::new_from_impl(Buckets::amounts()),
        ScalarUDF::new_from_impl(OutcomeAsOf {
            signature: Signature::new(TypeSignature::Any(3), Volatility::Immutable),
        }),
    ])
    .collect()
}

/// Registers every project function on a session, with the shared fits and the functions
/// reading them (`super::share`), so that a plan rewritten by one session (a cluster's client)
/// runs on another (its scheduler and executors), which look functions up by name.
pub fn register(ctx: &SessionContext) {
    for function in scalar_functions() {
        ctx.register_udf(function);
    }
    let aggregates: Vec<AggregateUDF> = super::survival::aggregate_functions()
        .into_iter()
        .chain(super::ratio::aggregate_functions())
        .chain([super::top::aggregate_function()])
        .collect();
    for function in &aggregates {
        let readers = (0..=1).filter_map(|extra| {
            super::survival::from_fit(function, extra)
                .or_else(|| super::ratio::from_fit(function, extra))
        });
        for reader in readers {
            ctx.register_udf(reader);
        }
    }
    for function in aggregates.into_iter().chain([
        super::survival::fit_function(),
        super::ratio::fit_function(),
    ]) {
        ctx.register_udaf(function);
    }
}
