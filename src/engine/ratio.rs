//! Interval functions for ratio-of-sums rates (recovery rate = Σ recovered ÷ Σ claimed), see
//! [`crate::stats::ratio`]:
//!
//! - aggregates `ratio_of_sums_low(y, x [, level])` and `ratio_of_sums_high(y, x [, level])`
//!   over the rows of a group;
//! - scalars `ratio_moments_low(n, sum_y, sum_x, sum_yy, sum_xy, sum_xx [, level])` and
//!   `ratio_moments_high(…)`: the same interval from sums computed in SQL, for tables whose
//!   sums are cumulative (the vintage curves).
//!
//! Money is DECIMAL, and the aggregates sum it exactly (as 128-bit integers at a common scale),
//! so the result does not depend on how rows are split over partitions or machines.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Decimal128Array, Float64Array,
};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, ColumnarValue, EmitTo, GroupsAccumulator,
    ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature, Volatility,
};

use super::functions::DEFAULT_LEVEL;
use crate::stats::ratio::RatioMoments;

/// Which bound an aggregate returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Bound {
    Low,
    High,
    /// The sums themselves, encoded: one shared fit that both bounds are read from (see
    /// `super::share`).
    Fit,
}

/// `ratio_of_sums_low` / `ratio_of_sums_high`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct RatioOfSums {
    name: &'static str,
    bound: Bound,
    signature: Signature,
}

impl RatioOfSums {
    fn new(name: &'static str, bound: Bound) -> Self {
        RatioOfSums {
            name,
            bound,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

/// Scale of an exact numeric type (integers have scale 0), or `None` for other types.
fn exact_scale(data_type: &DataType) -> Option<i8> {
    match data_type {
        DataType::Decimal128(_, scale) | DataType::Decimal256(_, scale) => Some(*scale),
        t if t.is_integer() => Some(0),
        _ => None,
    }
}

impl AggregateUDFImpl for RatioOfSums {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    /// Both values become DECIMAL(38, s) at their larger scale when both are exact numbers,
    /// otherwise DOUBLE; the level is DOUBLE.
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if !(2..=3).contains(&arg_types.len()) {
            return plan_err!("{}(y, x [, level]) takes 2 or 3 arguments", self.name);
        }
        for t in arg_types {
            if !(t.is_numeric() || t.is_null()) {
                return plan_err!("{}: arguments must be numbers, not {t}", self.name);
            }
        }
        let values = match (exact_scale(&arg_types[0]), exact_scale(&arg_types[1])) {
            (Some(a), Some(b)) if (0..=18).contains(&a.max(b)) => {
                DataType::Decimal128(38, a.max(b))
            }
            _ => DataType::Float64,
        };
        let mut types = vec![values.clone(), values];
        if arg_types.len() == 3 {
            types.push(DataType::Float64);
        }
        Ok(types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self.bound {
            Bound::Fit => DataType::Binary,
            _ => DataType::Float64,
        })
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(RatioAccumulator {
            bound: self.bound,
            level: None,
            sums: Sums::Empty,
        }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format!("{}[sums]", args.name),
            DataType::Binary,
            true,
        ))])
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        _args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(RatioGroups {
            bound: self.bound,
            groups: Vec::new(),
        }))
    }
}

/// The five sums and the count, exact for DECIMAL input.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Sums {
    Empty,
    Exact { n: u64, s: [i128; 5] },
    Float { n: u64, s: [f64; 5] },
}

impl Sums {
    fn moments(&self) -> RatioMoments {
        let (n, s) = match *self {
            Sums::Empty => return RatioMoments::default(),
            Sums::Exact { n, s } => (n, s.map(|v| v as f64)),
            Sums::Float { n, s } => (n, s),
        };
        RatioMoments {
            n: n as f64,
            sum_y: s[0],
            sum_x: s[1],
            sum_yy: s[2],
            sum_xy: s[3],
            sum_xx: s[4],
        }
    }

    fn merge(&mut self, other: Sums) -> Result<()> {
        *self = match (*self, other) {
            (a, Sums::Empty) => a,
            (Sums::Empty, b) => b,
            (Sums::Exact { n, s }, Sums::Exact { n: m, s: t }) => {
                let mut sum = [0i128; 5];
                for i in 0..5 {
                    sum[i] = checked(s[i].checked_add(t[i]))?;
                }
                Sums::Exact { n: n + m, s: sum }
            }
            (Sums::Float { n, s }, Sums::Float { n: m, s: t }) => Sums::Float {
                n: n + m,
                s: std::array::from_fn(|i| s[i] + t[i]),
            },
            _ => return exec_err!("ratio_of_sums: mixed exact and floating-point states"),
        };
        Ok(())
    }

    /// Encoding: tag byte (0 empty, 1 exact, 2 float), n, then five 16-byte sums.
    fn encode(&self, level: Option<f64>, bytes: &mut Vec<u8>) {
        bytes.extend_from_slice(&level.unwrap_or(f64::NAN).to_le_bytes());
        match self {
            Sums::Empty => bytes.push(0),
            Sums::Exact { n, s } => {
                bytes.push(1);
                bytes.extend_from_slice(&n.to_le_bytes());
                s.iter()
                    .for_each(|v| bytes.extend_from_slice(&v.to_le_bytes()));
            }
            Sums::Float { n, s } => {
                bytes.push(2);
                bytes.extend_from_slice(&n.to_le_bytes());
                s.iter()
                    .for_each(|v| bytes.extend_from_slice(&(v.to_bits() as i128).to_le_bytes()));
            }
        }
    }

    fn decode(bytes: &[u8]) -> Result<(Option<f64>, Sums)> {
        let corrupt = || exec_err!("corrupt ratio_of_sums state");
        if bytes.len() < 9 {
            return corrupt();
        }
        let level = f64::from_le_bytes(bytes[0..8].try_into().expect("8 bytes"));
        let level = (!level.is_nan()).then_some(level);
        let tag = bytes[8];
        if tag == 0 {
            return Ok((level, Sums::Empty));
        }
        if bytes.len() != 9 + 8 + 5 * 16 {
            return corrupt();
        }
        let n = u64::from_le_bytes(bytes[9..17].try_into().expect("8 bytes"));
        let s: [i128; 5] = std::array::from_fn(|i| {
            i128::from_le_bytes(
                bytes[17 + 16 * i..33 + 16 * i]
                    .try_into()
                    .expect("16 bytes"),
            )
        });
        match tag {
            1 => Ok((level, Sums::Exact { n, s })),
            2 => Ok((
                level,
                Sums::Float {
                    n,
                    s: s.map(|v| f64::from_bits(v as u64)),
                },
            )),
            _ => corrupt(),
        }
    }
}

/// Adds one (y, x) pair of DECIMAL raw values to exact sums.
#[inline]
fn add_exact(sums: &mut Sums, y: i128, x: i128) -> Result<()> {
    if let Sums::Empty = sums {
        *sums = Sums::Exact { n: 0, s: [0; 5] };
    }
    let Sums::Exact { n, s } = sums else {
        return exec_err!("ratio_of_sums: mixed exact and floating-point states");
    };
    *n += 1;
    if let (Ok(a), Ok(b)) = (i64::try_from(y), i64::try_from(x)) {
        // The usual case: a product of two 64-bit values cannot overflow 128 bits.
        let (a, b) = (i128::from(a), i128::from(b));
        // Overflow is checked once for the five sums, off the per-sum path.
        let mut overflow = false;
        for (sum, term) in s.iter_mut().zip([y, x, a * a, b * a, b * b]) {
            let (value, over) = sum.overflowing_add(term);
            *sum = value;
            overflow |= over;
        }
        return if overflow {
            checked(None).map(|_| ())
        } else {
            Ok(())
        };
    }
    let terms = [
        Some(y),
        Some(x),
        y.checked_mul(y),
        x.checked_mul(y),
        x.checked_mul(x),
    ];
    for (sum, term) in s.iter_mut().zip(terms) {
        *sum = checked(sum.checked_add(checked(term)?))?;
    }
    Ok(())
}

/// Adds one (y, x) pair of doubles to floating-point sums.
#[inline]
fn add_float(sums: &mut Sums, y: f64, x: f64) -> Result<()> {
    if let Sums::Empty = sums {
        *sums = Sums::Float { n: 0, s: [0.0; 5] };
    }
    let Sums::Float { n, s } = sums else {
        return exec_err!("ratio_of_sums: mixed exact and floating-point states");
    };
    *n += 1;
    for (sum, term) in s.iter_mut().zip([y, x, y * y, x * y, x * x]) {
        *sum += term;
    }
    Ok(())
}

/// Exact sums of (y, x) pairs of DECIMAL raw values.
fn exact_sums(pairs: impl Iterator<Item = (i128, i128)>) -> Result<Sums> {
    let mut sums = Sums::Exact { n: 0, s: [0; 5] };
    for (y, x) in pairs {
        add_exact(&mut sums, y, x)?;
    }
    Ok(sums)
}

fn checked(value: Option<i128>) -> Result<i128> {
    match value {
        Some(v) => Ok(v),
        None => exec_err!("ratio_of_sums: sums overflow 128-bit integers"),
    }
}

#[derive(Debug)]
struct RatioAccumulator {
    bound: Bound,
    level: Option<f64>,
    sums: Sums,
}

impl RatioAccumulator {
    fn set_level(&mut self, value: f64) -> Result<()> {
        set_group_level(&mut self.level, value)
    }
}

impl Accumulator for RatioAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        if let Some(levels) = values.get(2) {
            let Some(levels) = levels.as_any().downcast_ref::<Float64Array>() else {
                return exec_err!("the level of ratio_of_sums must be DOUBLE");
            };
            for value in levels.iter().flatten() {
                self.set_level(value)?;
            }
        }
        let batch = if let (Some(y), Some(x)) = (
            values[0].as_any().downcast_ref::<Decimal128Array>(),
            values[1].as_any().downcast_ref::<Decimal128Array>(),
        ) {
            if y.null_count() == 0 && x.null_count() == 0 {
                exact_sums(y.values().iter().copied().zip(x.values().iter().copied()))?
            } else {
                exact_sums(
                    (0..y.len())
                        .filter(|&row| y.is_valid(row) && x.is_valid(row))
                        .map(|row| (y.value(row), x.value(row))),
                )?
            }
        } else if let (Some(y), Some(x)) = (
            values[0].as_any().downcast_ref::<Float64Array>(),
            values[1].as_any().downcast_ref::<Float64Array>(),
        ) {
            let mut sums = Sums::Float { n: 0, s: [0.0; 5] };
            for row in 0..y.len() {
                if y.is_valid(row) && x.is_valid(row) {
                    add_float(&mut sums, y.value(row), x.value(row))?;
                }
            }
            sums
        } else {
            return exec_err!("ratio_of_sums takes (y, x) as DECIMAL or DOUBLE");
        };
        self.sums.merge(batch)
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if self.bound == Bound::Fit {
            return Ok(ScalarValue::Binary(Some(fit_bytes(&self.sums))));
        }
        Ok(ScalarValue::Float64(bound_of(
            &self.sums, self.level, self.bound,
        )))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let mut bytes = Vec::with_capacity(9 + 8 + 80);
        self.sums.encode(self.level, &mut bytes);
        Ok(vec![ScalarValue::Binary(Some(bytes))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let Some(states) = states[0].as_any().downcast_ref::<BinaryArray>() else {
            return exec_err!("ratio_of_sums state must be BINARY");
        };
        for bytes in states.iter().flatten() {
            let (level, sums) = Sums::decode(bytes)?;
            if let Some(level) = level {
                self.set_level(level)?;
            }
            self.sums.merge(sums)?;
        }
        Ok(())
    }
}

/// `ratio_of_sums_*` under GROUP BY: the level and sums of every group, filled straight from
/// the group indices.
#[derive(Debug)]
struct RatioGroups {
    bound: Bound,
    groups: Vec<(Option<f64>, Sums)>,
}

fn set_group_level(slot: &mut Option<f64>, value: f64) -> Result<()> {
    match slot {
        Some(existing) if existing.to_bits() != value.to_bits() => {
            exec_err!("the level of ratio_of_sums must be the same for every row")
        }
        _ => {
            *slot = Some(value);
            Ok(())
        }
    }
}

impl GroupsAccumulator for RatioGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        if self.groups.len() < total_num_groups {
            self.groups.resize(total_num_groups, (None, Sums::Empty));
        }
        let included = |row: usize| opt_filter.is_none_or(|f| f.is_valid(row) && f.value(row));
        if let Some(levels) = values.get(2) {
            let Some(levels) = levels.as_any().downcast_ref::<Float64Array>() else {
                return exec_err!("the level of ratio_of_sums must be DOUBLE");
            };
            for (row, &group) in group_indices.iter().enumerate() {
                if included(row) && levels.is_valid(row) {
                    set_group_level(&mut self.groups[group].0, levels.value(row))?;
                }
            }
        }
        if let (Some(y), Some(x)) = (
            values[0].as_any().downcast_ref::<Decimal128Array>(),
            values[1].as_any().downcast_ref::<Decimal128Array>(),
        ) {
            if opt_filter.is_none() && y.null_count() == 0 && x.null_count() == 0 {
                let pairs = y.values().iter().zip(x.values().iter());
                for ((&y, &x), &group) in pairs.zip(group_indices) {
                    add_exact(&mut self.groups[group].1, y, x)?;
                }
            } else {
                for (row, &group) in group_indices.iter().enumerate() {
                    if included(row) && y.is_valid(row) && x.is_valid(row) {
                        add_exact(&mut self.groups[group].1, y.value(row), x.value(row))?;
                    }
                }
            }
        } else if let (Some(y), Some(x)) = (
            values[0].as_any().downcast_ref::<Float64Array>(),
            values[1].as_any().downcast_ref::<Float64Array>(),
        ) {
            for (row, &group) in group_indices.iter().enumerate() {
                if included(row) && y.is_valid(row) && x.is_valid(row) {
                    add_float(&mut self.groups[group].1, y.value(row), x.value(row))?;
                }
            }
        } else {
            return exec_err!("ratio_of_sums takes (y, x) as DECIMAL or DOUBLE");
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let bound = self.bound;
        let groups = emit_to.take_needed(&mut self.groups);
        if bound == Bound::Fit {
            let fits: BinaryArray = groups
                .iter()
                .map(|(_, sums)| Some(fit_bytes(sums)))
                .collect();
            return Ok(Arc::new(fits));
        }
        let values: Float64Array = groups
            .iter()
            .map(|(level, sums)| bound_of(sums, *level, bound))
            .collect();
        Ok(Arc::new(values))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let states: BinaryArray = emit_to
            .take_needed(&mut self.groups)
            .iter()
            .map(|(level, sums)| {
                let mut bytes = Vec::with_capacity(9 + 8 + 80);
                sums.encode(*level, &mut bytes);
                Some(bytes)
            })
            .collect();
        Ok(vec![Arc::new(states)])
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        if self.groups.len() < total_num_groups {
            self.groups.resize(total_num_groups, (None, Sums::Empty));
        }
        let Some(states) = values[0].as_any().downcast_ref::<BinaryArray>() else {
            return exec_err!("ratio_of_sums state must be BINARY");
        };
        for (row, &group) in group_indices.iter().enumerate() {
            if states.is_valid(row) {
                let (level, sums) = Sums::decode(states.value(row))?;
                let slot = &mut self.groups[group];
                if let Some(level) = level {
                    set_group_level(&mut slot.0, level)?;
                }
                slot.1.merge(sums)?;
            }
        }
        Ok(())
    }

    /// Each input row as a state of its own (when DataFusion skips partial aggregation).
    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let rows = values[0].len();
        let mut single = RatioGroups {
            bound: self.bound,
            groups: Vec::new(),
        };
        let indices: Vec<usize> = (0..rows).collect();
        single.update_batch(values, &indices, opt_filter, rows)?;
        single.state(EmitTo::All)
    }

    fn size(&self) -> usize {
        self.groups.capacity() * std::mem::size_of::<(Option<f64>, Sums)>()
    }
}

/// The aggregate functions of this module.
pub fn aggregate_functions() -> Vec<AggregateUDF> {
    [
        RatioOfSums::new("ratio_of_sums_low", Bound::Low),
        RatioOfSums::new("ratio_of_sums_high", Bound::High),
    ]
    .into_iter()
    .map(AggregateUDF::new_from_impl)
    .collect()
}

/// The bound of a group's sums at its level (the default when none was given).
fn bound_of(sums: &Sums, level: Option<f64>, bound: Bound) -> Option<f64> {
    sums.moments()
        .interval(level.unwrap_or(DEFAULT_LEVEL))
        .map(|(low, high)| if bound == Bound::High { high } else { low })
}

/// A group's sums as the `ratio_of_sums_fit` value (its state without a level).
fn fit_bytes(sums: &Sums) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(9 + 8 + 80);
    sums.encode(None, &mut bytes);
    bytes
}

/// `ratio_of_sums_fit(y, x)`: a group's sums as bytes, not registered under a name users call;
/// `super::share` puts it in place of `ratio_of_sums_low` and `_high` over the same (y, x) and
/// reads both from it with [`from_fit`].
pub(super) fn fit_function() -> AggregateUDF {
    AggregateUDF::new_from_impl(RatioOfSums::new("ratio_of_sums_fit", Bound::Fit))
}

/// For `ratio_of_sums_low` / `_high` called with `extra` arguments after (y, x) (0, or 1: the
/// level): the scalar function computing the same value from a [`fit_function`] result.
pub(super) fn from_fit(aggregate: &AggregateUDF, extra: usize) -> Option<ScalarUDF> {
    let inner: &dyn std::any::Any = aggregate.inner().as_ref();
    let function = inner.downcast_ref::<RatioOfSums>()?;
    if function.bound == Bound::Fit || extra > 1 {
        return None;
    }
    let with_level = vec![DataType::Binary, DataType::Float64];
    let signature = Signature::one_of(
        vec![
            TypeSignature::Exact(vec![DataType::Binary]),
            TypeSignature::Exact(with_level),
        ],
        Volatility::Immutable,
    );
    Some(ScalarUDF::new_from_impl(RatioFromFit {
        name: format!("{}_from_fit", function.name),
        bound: function.bound,
        signature,
    }))
}

/// A ratio-of-sums bound read from a fit (one row per group).
#[derive(Debug, PartialEq, Eq, Hash)]
struct RatioFromFit {
    name: String,
    bound: Bound,
    signature: Signature,
}

impl ScalarUDFImpl for RatioFromFit {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let (fits, levels) = super::share::fit_arguments(&args, &self.name, "level")?;
        let mut values = Vec::with_capacity(rows);
        for row in 0..rows {
            let sums = if fits.is_valid(row) {
                Sums::decode(fits.value(row))?.1
            } else {
                Sums::Empty
            };
            // As in the aggregate, a NULL level is no level (the default).
            let level = levels
                .as_ref()
                .and_then(|l| l.is_valid(row).then(|| l.value(row)));
            values.push(bound_of(&sums, level, self.bound));
        }
        Ok(ColumnarValue::Array(Arc::new(Float64Array::from(values))))
    }
}

/// `ratio_moments_low/high(n, sum_y, sum_x, sum_yy, sum_xy, sum_xx [, level])`.
pub fn moments_bound(args: &[f64], high: bool) -> Option<f64> {
    let moments = RatioMoments {
        n: args[0],
        sum_y: args[1],
        sum_x: args[2],
        sum_yy: args[3],
        sum_xy: args[4],
        sum_xx: args[5],
    };
    let level = args.get(6).copied().unwrap_or(DEFAULT_LEVEL);
    moments
        .interval(level)
        .map(|(low, upper)| if high { upper } else { low })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_past_128_bits_are_an_error() {
        let mut sums = Sums::Empty;
        let big = i128::from(i64::MAX);
        // (2^63 − 1)^2 ≈ 2^126: the third square takes Σy² past i128::MAX.
        add_exact(&mut sums, big, 1).expect("one square fits");
        add_exact(&mut sums, big, 1).expect("two squares fit");
        let error = add_exact(&mut sums, big, 1).expect_err("three do not");
        assert!(error.to_string().contains("overflow"), "{error}");
        // Below the limit nothing is lost.
        let mut sums = Sums::Empty;
        add_exact(&mut sums, 3, 4).expect("small");
        add_exact(&mut sums, -5, 6).expect("small");
        assert_eq!(
            sums,
            Sums::Exact {
                n: 2,
                s: [-2, 10, 34, -18, 52]
            }
        );
    }

    #[test]
    fn groups_accumulator_equals_one_accumulator_per_group() {
        let n = 2000;
        let mut state = 0x9e37_79b9_u64;
        let mut next = move |m: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 33) % m
        };
        let groups: Vec<usize> = (0..n).map(|_| next(4) as usize).collect();
        let mut cell = || (next(25) != 0).then(|| next(10_000_000) as i128);
        let mut y: Vec<Option<i128>> = (0..n).map(|_| cell()).collect();
        let x: Vec<Option<i128>> = (0..n).map(|_| cell()).collect();
        // One value past 64 bits takes the checked path.
        y[7] = Some(i128::from(i64::MAX) + 5);
        let filter: BooleanArray = (0..n).map(|i| Some(i % 5 != 0)).collect();
        let decimal = |v: &[Option<i128>]| -> ArrayRef {
            Arc::new(
                v.iter()
                    .copied()
                    .collect::<Decimal128Array>()
                    .with_precision_and_scale(38, 2)
                    .unwrap(),
            )
        };
        let float = |v: &[Option<i128>]| -> ArrayRef {
            Arc::new(
                v.iter()
                    .map(|v| v.map(|v| v as f64 / 100.0))
                    .collect::<Float64Array>(),
            )
        };
        for values in [vec![decimal(&y), decimal(&x)], vec![float(&y), float(&x)]] {
            for bound in [Bound::Low, Bound::High] {
                for filtered in [false, true] {
                    let expected: Vec<Option<f64>> = (0..4)
                        .map(|g| {
                            let keep: BooleanArray = (0..n)
                                .map(|i| Some(groups[i] == g && (!filtered || filter.value(i))))
                                .collect();
                            let mine: Vec<ArrayRef> = values
                                .iter()
                                .map(|v| datafusion::arrow::compute::filter(v, &keep).unwrap())
                                .collect();
                            let mut one = RatioAccumulator {
                                bound,
                                level: None,
                                sums: Sums::Empty,
                            };
                            one.update_batch(&mine).unwrap();
                            match one.evaluate().unwrap() {
                                ScalarValue::Float64(v) => v,
                                other => panic!("{other:?}"),
                            }
                        })
                        .collect();
                    let mut first = RatioGroups {
                        bound,
                        groups: Vec::new(),
                    };
                    let part_filter = filtered.then_some(&filter);
                    first
                        .update_batch(&values, &groups, part_filter, 4)
                        .unwrap();
                    let state = first.state(EmitTo::All).unwrap();
                    let mut second = RatioGroups {
                        bound,
                        groups: Vec::new(),
                    };
                    second.merge_batch(&state, &[0, 1, 2, 3], 4).unwrap();
                    let head = second.evaluate(EmitTo::First(1)).unwrap();
                    let tail = second.evaluate(EmitTo::All).unwrap();
                    let got: Vec<Option<f64>> = [head, tail]
                        .iter()
                        .flat_map(|a| {
                            let a = a.as_any().downcast_ref::<Float64Array>().unwrap();
                            a.iter().collect::<Vec<_>>()
                        })
                        .collect();
                    assert_eq!(got, expected, "{bound:?}, filtered {filtered}");
                    assert!(got.iter().all(Option::is_some));
                }
            }
        }
    }

    #[test]
    fn states_round_trip() {
        for sums in [
            Sums::Empty,
            Sums::Exact {
                n: 3,
                s: [1, -2, i128::MAX, 4, 5],
            },
            Sums::Float {
                n: 2,
                s: [0.5, -1.25, 3.0, f64::MIN_POSITIVE, 7.0],
            },
        ] {
            let mut bytes = Vec::new();
            sums.encode(Some(0.9), &mut bytes);
            assert_eq!(Sums::decode(&bytes).unwrap(), (Some(0.9), sums));
        }
        assert!(Sums::decode(&[1, 2, 3]).is_err());
    }

    #[test]
    fn exact_merge_is_order_independent_and_checked() {
        let a = Sums::Exact {
            n: 1,
            s: [1, 2, 3, 4, 5],
        };
        let b = Sums::Exact {
            n: 2,
            s: [10, 20, 30, 40, 50],
        };
        let (mut ab, mut ba) = (a, b);
        ab.merge(b).unwrap();
        ba.merge(a).unwrap();
        assert_eq!(ab, ba);
        let mut big = Sums::Exact {
            n: 1,
            s: [i128::MAX, 0, 0, 0, 0],
        };
        assert!(big.merge(a).is_err());
        assert!(big.merge(Sums::Float { n: 1, s: [0.0; 5] }).is_err());
    }
}
