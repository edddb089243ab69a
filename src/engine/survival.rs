//! Kaplan–Meier aggregate functions for SQL (DESIGN §5): `km_median(days, resolved)` and
//! friends, over (duration, event) pairs per group, computed by [`crate::stats::km`] (the
//! lifelines estimator: Greenwood variance, log(−log) 95% band, median = first t with
//! S(t) ≤ 0.5). "Not reached" is NULL, with `km_median_reached` / `km_quantile_reached` as the
//! flag. The accumulator state is a histogram (time → events, censorings) encoded as bytes,
//! so partial states merge across partitions and across processes.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Float64Array, Int64Array, ListArray, StructArray,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, ColumnarValue, EmitTo, GroupsAccumulator,
    ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature, Volatility,
};

use crate::stats::km::{KaplanMeier, Quantile, TimeCount};

/// Confidence level of every KM band and interval.
pub const KM_LEVEL: f64 = 0.95;

/// Which number of the estimate a function returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Part {
    Estimate,
    Low,
    High,
}

/// What a KM function computes from the curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Statistic {
    /// Time by which a share q of cases ended (q = 0.5 for the median).
    Quantile(Part),
    /// Whether that time is reached.
    Reached,
    /// S(t).
    Survival(Part),
    /// 1 − S(t): share resolved within t.
    EndedBy(Part),
    /// The whole step curve.
    Curve,
    /// The histogram itself, encoded as bytes: one shared fit that several statistics of the
    /// same (duration, event) are read from (see `super::share`).
    Histogram,
}

impl Statistic {
    fn output_type(self) -> DataType {
        match self {
            Statistic::Reached => DataType::Boolean,
            Statistic::Curve => curve_type(),
            Statistic::Histogram => DataType::Binary,
            _ => DataType::Float64,
        }
    }

    /// Whether the function takes a third argument (a parameter) when none is fixed.
    fn takes_parameter(self) -> bool {
        !matches!(self, Statistic::Curve | Statistic::Histogram)
    }
}

/// One KM aggregate function.
#[derive(Debug, PartialEq, Eq, Hash)]
struct KmFunction {
    name: &'static str,
    statistic: Statistic,
    /// Fixed parameter (0.5 for the median functions); `None` takes a third argument.
    fixed: Option<u64>,
    signature: Signature,
}

impl KmFunction {
    fn new(name: &'static str, statistic: Statistic, fixed: Option<f64>) -> Self {
        let mut types = vec![DataType::Float64, DataType::Boolean];
        if fixed.is_none() && statistic.takes_parameter() {
            types.push(DataType::Float64);
        }
        KmFunction {
            name,
            statistic,
            fixed: fixed.map(f64::to_bits),
            signature: Signature::new(TypeSignature::Exact(types), Volatility::Immutable),
        }
    }
}

fn curve_fields() -> Fields {
    Fields::from(vec![
        Field::new("time", DataType::Float64, false),
        Field::new("at_risk", DataType::Int64, false),
        Field::new("events", DataType::Int64, false),
        Field::new("censored", DataType::Int64, false),
        Field::new("survival", DataType::Float64, false),
        Field::new("low", DataType::Float64, false),
        Field::new("high", DataType::Float64, false),
    ])
}

fn curve_type() -> DataType {
    DataType::List(Arc::new(Field::new(
        "item",
        DataType::Struct(curve_fields()),
        true,
    )))
}

impl AggregateUDFImpl for KmFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.statistic.output_type())
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(KmAccumulator::new(
            self.statistic,
            self.fixed.map(f64::from_bits),
        )))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format!("{}[histogram]", args.name),
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
        Ok(Box::new(KmGroups {
            statistic: self.statistic,
            fixed: self.fixed.map(f64::from_bits),
            groups: Vec::new(),
            bytes: 0,
        }))
    }
}

/// Whole days below this are counted in a dense array (the common case: durations in days);
/// other times go to an ordered map.
const DENSE_DAYS: usize = 1 << 14;

/// Histogram of (time → events, censorings) plus the function's parameter.
#[derive(Debug)]
struct KmAccumulator {
    statistic: Statistic,
    parameter: Option<f64>,
    dense: Vec<(u64, u64)>,
    counts: BTreeMap<TimeKey, (u64, u64)>,
}

/// An f64 time with a total order usable as a map key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct TimeKey(u64);

impl TimeKey {
    fn new(time: f64) -> Self {
        let bits = time.to_bits();
        TimeKey(if bits >> 63 == 1 {
            !bits
        } else {
            bits | (1 << 63)
        })
    }

    fn time(self) -> f64 {
        let bits = self.0;
        f64::from_bits(if bits >> 63 == 1 {
            bits & !(1 << 63)
        } else {
            !bits
        })
    }
}

impl KmAccumulator {
    fn new(statistic: Statistic, parameter: Option<f64>) -> Self {
        KmAccumulator {
            statistic,
            parameter,
            dense: Vec::new(),
            counts: BTreeMap::new(),
        }
    }

    /// Counts one time; returns how many bytes the histogram grew by.
    #[inline]
    fn add(&mut self, time: f64, events: u64, censored: u64) -> usize {
        let day = time as usize;
        let mut grown = 0;
        let entry = if day as f64 == time && day < DENSE_DAYS && time.is_sign_positive() {
            if self.dense.len() <= day {
                let before = self.dense.capacity();
                self.dense.resize(day + 1, (0, 0));
                grown = (self.dense.capacity() - before) * 16;
            }
            &mut self.dense[day]
        } else {
            let key = TimeKey::new(time);
            if !self.counts.contains_key(&key) {
                grown = 40;
            }
            self.counts.entry(key).or_default()
        };
        entry.0 += events;
        entry.1 += censored;
        grown
    }

    /// Bytes the histogram holds outside the struct.
    fn heap_size(&self) -> usize {
        self.dense.capacity() * 16 + self.counts.len() * 40
    }

    /// Every (time, events, censorings) with at least one case, in time order.
    fn histogram(&self) -> Vec<TimeCount> {
        let dense = self
            .dense
            .iter()
            .enumerate()
            .filter(|(_, (events, censored))| events + censored > 0)
            .map(|(day, (events, censored))| TimeCount {
                time: day as f64,
                events: *events,
                censored: *censored,
            });
        let sparse = self
            .counts
            .iter()
            .map(|(key, (events, censored))| TimeCount {
                time: key.time(),
                events: *events,
                censored: *censored,
            });
        let mut all: Vec<TimeCount> = dense.chain(sparse).collect();
        all.sort_by(|a, b| a.time.total_cmp(&b.time));
        all
    }

    fn set_parameter(&mut self, value: f64) -> Result<()> {
        match self.parameter {
            Some(existing) if existing.to_bits() != value.to_bits() => {
                exec_err!("the third argument of a KM function must be the same for every row")
            }
            _ => {
                self.parameter = Some(value);
                Ok(())
            }
        }
    }

    fn encode(&self) -> Vec<u8> {
        let histogram = self.histogram();
        let mut bytes = Vec::with_capacity(8 + histogram.len() * 24);
        bytes.extend_from_slice(&self.parameter.unwrap_or(f64::NAN).to_le_bytes());
        for count in histogram {
            bytes.extend_from_slice(&count.time.to_le_bytes());
            bytes.extend_from_slice(&count.events.to_le_bytes());
            bytes.extend_from_slice(&count.censored.to_le_bytes());
        }
        bytes
    }

    /// Merges an encoded state; returns how many bytes the histogram grew by.
    fn decode_into(&mut self, bytes: &[u8]) -> Result<usize> {
        if bytes.len() < 8 || !(bytes.len() - 8).is_multiple_of(24) {
            return exec_err!("corrupt Kaplan-Meier state");
        }
        let word = |at: usize| -> [u8; 8] {
            let mut word = [0u8; 8];
            word.copy_from_slice(&bytes[at..at + 8]);
            word
        };
        let parameter = f64::from_le_bytes(word(0));
        if !parameter.is_nan() {
            self.set_parameter(parameter)?;
        }
        let mut grown = 0;
        for at in (8..bytes.len()).step_by(24) {
            let time = f64::from_le_bytes(word(at));
            grown += self.add(
                time,
                u64::from_le_bytes(word(at + 8)),
                u64::from_le_bytes(word(at + 16)),
            );
        }
        Ok(grown)
    }

    /// The function's value for this histogram.
    fn value(&self) -> Result<ScalarValue> {
        if self.statistic == Statistic::Histogram {
            return Ok(ScalarValue::Binary(Some(self.encode())));
        }
        let km = self.estimate();
        let parameter = self.parameter.unwrap_or(f64::NAN);
        let float = |value: Option<f64>| Ok(ScalarValue::Float64(value));
        // Like SQL's own aggregates, no usable row gives NULL. A NULL third argument gives NULL
        // too: as NaN it makes every statistic undefined, and the flag is tested for it.
        match (self.statistic, km.as_ref()) {
            (Statistic::Histogram, _) => unreachable!("returned above"),
            (Statistic::Curve, None) => ScalarValue::try_from(curve_type()),
            (Statistic::Curve, Some(km)) => self.curve(km),
            (Statistic::Reached, Some(km)) if self.parameter.is_some() => Ok(ScalarValue::Boolean(
                Some(km.quantile(parameter).time.is_some()),
            )),
            (Statistic::Reached, _) => Ok(ScalarValue::Boolean(None)),
            (_, None) => float(None),
            (Statistic::Quantile(p), Some(km)) => float(part(km.quantile(parameter), p)),
            (Statistic::Survival(p), Some(km)) => {
                float(km.survival_at(parameter).map(|(s, low, high)| match p {
                    Part::Estimate => s,
                    Part::Low => low,
                    Part::High => high,
                }))
            }
            (Statistic::EndedBy(p), Some(km)) => {
                float(km.survival_at(parameter).map(|(s, low, high)| match p {
                    Part::Estimate => 1.0 - s,
                    Part::Low => 1.0 - high,
                    Part::High => 1.0 - low,
                }))
            }
        }
    }

    fn estimate(&self) -> Option<KaplanMeier> {
        let counts = self.histogram();
        (!counts.is_empty()).then(|| KaplanMeier::from_counts(&counts, KM_LEVEL))
    }

    fn curve(&self, km: &KaplanMeier) -> Result<ScalarValue> {
        let rows = km.rows();
        let floats = |f: fn(&crate::stats::km::KmRow) -> f64| -> ArrayRef {
            Arc::new(rows.iter().map(f).collect::<Float64Array>())
        };
        let ints = |f: fn(&crate::stats::km::KmRow) -> u64| -> ArrayRef {
            Arc::new(rows.iter().map(|r| f(r) as i64).collect::<Int64Array>())
        };
        let columns = vec![
            floats(|r| r.time),
            ints(|r| r.at_risk),
            ints(|r| r.events),
            ints(|r| r.censored),
            floats(|r| r.survival),
            floats(|r| r.ci_low),
            floats(|r| r.ci_high),
        ];
        let points = StructArray::try_new(curve_fields(), columns, None)?;
        let field = Arc::new(Field::new("item", DataType::Struct(curve_fields()), true));
        let list = ListArray::try_new(
            field,
            OffsetBuffer::from_lengths([rows.len()]),
            Arc::new(points),
            None,
        )?;
        Ok(ScalarValue::List(Arc::new(list)))
    }
}

fn part(quantile: Quantile, part: Part) -> Option<f64> {
    match part {
        Part::Estimate => quantile.time,
        Part::Low => quantile.ci_low,
        Part::High => quantile.ci_high,
    }
}

impl Accumulator for KmAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let (Some(times), Some(events)) = (
            values[0].as_any().downcast_ref::<Float64Array>(),
            values[1].as_any().downcast_ref::<BooleanArray>(),
        ) else {
            return exec_err!("KM functions take (DOUBLE duration, BOOLEAN event)");
        };
        if let Some(parameters) = values.get(2) {
            let Some(parameters) = parameters.as_any().downcast_ref::<Float64Array>() else {
                return exec_err!("the third argument of a KM function must be DOUBLE");
            };
            // Every row is checked: a parameter that varies within a group is an error, not
            // silently the first row's value.
            if let Some(first) = parameters.iter().flatten().next() {
                let bits = first.to_bits();
                if parameters.null_count() > 0
                    || parameters.values().iter().any(|v| v.to_bits() != bits)
                {
                    for value in parameters.iter().flatten() {
                        self.set_parameter(value)?;
                    }
                }
                self.set_parameter(first)?;
            }
        }
        if times.null_count() == 0 && events.null_count() == 0 {
            // The usual case, without per-row validity checks.
            for (&time, event) in times.values().iter().zip(events.values().iter()) {
                if !time.is_nan() {
                    self.add(time, u64::from(event), u64::from(!event));
                }
            }
            return Ok(());
        }
        for row in 0..times.len() {
            if times.is_null(row) || events.is_null(row) || times.value(row).is_nan() {
                continue;
            }
            let event = events.value(row);
            self.add(times.value(row), u64::from(event), u64::from(!event));
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        self.value()
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.heap_size()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Binary(Some(self.encode()))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let Some(states) = states[0].as_any().downcast_ref::<BinaryArray>() else {
            return exec_err!("corrupt Kaplan-Meier state");
        };
        for bytes in states.iter().flatten() {
            self.decode_into(bytes)?;
        }
        Ok(())
    }
}

/// The KM functions under GROUP BY: one histogram per group, filled straight from the group
/// indices (no per-group copy of the input as with a plain [`Accumulator`]).
#[derive(Debug)]
struct KmGroups {
    statistic: Statistic,
    fixed: Option<f64>,
    groups: Vec<KmAccumulator>,
    /// Bytes held by the histograms, kept up to date as they grow.
    bytes: usize,
}

impl KmGroups {
    fn resize(&mut self, total: usize) {
        if self.groups.len() < total {
            let (statistic, fixed) = (self.statistic, self.fixed);
            self.groups
                .resize_with(total, || KmAccumulator::new(statistic, fixed));
        }
    }

    /// Takes the groups to emit off the front.
    fn take(&mut self, emit_to: EmitTo) -> Vec<KmAccumulator> {
        let taken = emit_to.take_needed(&mut self.groups);
        let freed: usize = taken.iter().map(KmAccumulator::heap_size).sum();
        self.bytes = self.bytes.saturating_sub(freed);
        taken
    }
}

impl GroupsAccumulator for KmGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.resize(total_num_groups);
        let (Some(times), Some(events)) = (
            values[0].as_any().downcast_ref::<Float64Array>(),
            values[1].as_any().downcast_ref::<BooleanArray>(),
        ) else {
            return exec_err!("KM functions take (DOUBLE duration, BOOLEAN event)");
        };
        let included = |row: usize| opt_filter.is_none_or(|f| f.is_valid(row) && f.value(row));
        if let Some(parameters) = values.get(2) {
            let Some(parameters) = parameters.as_any().downcast_ref::<Float64Array>() else {
                return exec_err!("the third argument of a KM function must be DOUBLE");
            };
            // Every row is checked: a parameter that varies within a group is an error.
            for (row, &group) in group_indices.iter().enumerate() {
                if included(row) && parameters.is_valid(row) {
                    let value = parameters.value(row);
                    let accumulator = &mut self.groups[group];
                    if accumulator.parameter.map(f64::to_bits) != Some(value.to_bits()) {
                        accumulator.set_parameter(value)?;
                    }
                }
            }
        }
        let mut grown = 0;
        if opt_filter.is_none() && times.null_count() == 0 && events.null_count() == 0 {
            // The usual case, without per-row validity checks.
            let rows = times.values().iter().zip(events.values().iter());
            for ((&time, event), &group) in rows.zip(group_indices) {
                if !time.is_nan() {
                    grown += self.groups[group].add(time, u64::from(event), u64::from(!event));
                }
            }
        } else {
            for (row, &group) in group_indices.iter().enumerate() {
                if !included(row) || times.is_null(row) || events.is_null(row) {
                    continue;
                }
                let (time, event) = (times.value(row), events.value(row));
                if !time.is_nan() {
                    grown += self.groups[group].add(time, u64::from(event), u64::from(!event));
                }
            }
        }
        self.bytes += grown;
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let values = self
            .take(emit_to)
            .iter()
            .map(KmAccumulator::value)
            .collect::<Result<Vec<_>>>()?;
        if values.is_empty() {
            let data_type = self.statistic.output_type();
            return Ok(datafusion::arrow::array::new_empty_array(&data_type));
        }
        ScalarValue::iter_to_array(values)
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let states: BinaryArray = self
            .take(emit_to)
            .iter()
            .map(|accumulator| Some(accumulator.encode()))
            .collect();
        Ok(vec![Arc::new(states)])
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.resize(total_num_groups);
        let Some(states) = values[0].as_any().downcast_ref::<BinaryArray>() else {
            return exec_err!("corrupt Kaplan-Meier state");
        };
        let mut grown = 0;
        for (row, &group) in group_indices.iter().enumerate() {
            if states.is_valid(row) {
                grown += self.groups[group].decode_into(states.value(row))?;
            }
        }
        self.bytes += grown;
        Ok(())
    }

    /// Each input row as a state of its own (when DataFusion skips partial aggregation).
    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let rows = values[0].len();
        let mut single = KmGroups {
            statistic: self.statistic,
            fixed: self.fixed,
            groups: Vec::new(),
            bytes: 0,
        };
        let indices: Vec<usize> = (0..rows).collect();
        single.update_batch(values, &indices, opt_filter, rows)?;
        single.state(EmitTo::All)
    }

    fn size(&self) -> usize {
        self.groups.capacity() * std::mem::size_of::<KmAccumulator>() + self.bytes
    }
}

/// `km_fit(duration, event)`: the group's histogram as bytes, not registered under a name
/// users call; `super::share` puts it in place of several KM aggregates over the same
/// (duration, event) and reads each of their values from it with [`from_fit`].
pub(super) fn fit_function() -> AggregateUDF {
    AggregateUDF::new_from_impl(KmFunction::new("km_fit", Statistic::Histogram, None))
}

/// For a KM aggregate (other than the fit itself) called with `extra` arguments after the
/// first two: the scalar function computing the same value from a [`fit_function`] result and
/// those arguments; `None` when the function takes another number of them.
pub(super) fn from_fit(aggregate: &AggregateUDF, extra: usize) -> Option<ScalarUDF> {
    let inner: &dyn std::any::Any = aggregate.inner().as_ref();
    let function = inner.downcast_ref::<KmFunction>()?;
    let parameter = function.fixed.is_none() && function.statistic.takes_parameter();
    if function.statistic == Statistic::Histogram || extra != usize::from(parameter) {
        return None;
    }
    let mut types = vec![DataType::Binary];
    if parameter {
        types.push(DataType::Float64);
    }
    let extractor = KmFromFit {
        name: format!("{}_from_fit", function.name),
        statistic: function.statistic,
        fixed: function.fixed,
        signature: Signature::new(TypeSignature::Exact(types), Volatility::Immutable),
    };
    Some(ScalarUDF::new_from_impl(extractor))
}

/// A KM statistic read from a fitted histogram (one row per group).
#[derive(Debug, PartialEq, Eq, Hash)]
struct KmFromFit {
    name: String,
    statistic: Statistic,
    fixed: Option<u64>,
    signature: Signature,
}

impl ScalarUDFImpl for KmFromFit {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.statistic.output_type())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let (fits, parameters) = super::share::fit_arguments(&args, &self.name, "parameter")?;
        let mut values = Vec::with_capacity(rows);
        for row in 0..rows {
            let mut accumulator =
                KmAccumulator::new(self.statistic, self.fixed.map(f64::from_bits));
            if fits.is_valid(row) {
                accumulator.decode_into(fits.value(row))?;
            }
            // The aggregate knows its parameter only once a group has a row, but without a
            // usable row every statistic is NULL whatever the parameter.
            if let Some(parameters) = &parameters
                && parameters.is_valid(row)
            {
                accumulator.set_parameter(parameters.value(row))?;
            }
            values.push(accumulator.value()?);
        }
        if values.is_empty() {
            return Ok(ColumnarValue::Array(
                datafusion::arrow::array::new_empty_array(&self.statistic.output_type()),
            ));
        }
        Ok(ColumnarValue::Array(ScalarValue::iter_to_array(values)?))
    }
}

/// Every KM aggregate function, by name (documented in docs/functions.md).
pub fn aggregate_functions() -> Vec<AggregateUDF> {
    use Part::{Estimate, High, Low};
    use Statistic::{Curve, EndedBy, Quantile, Reached, Survival};
    let median = Some(0.5);
    [
        KmFunction::new("km_median", Quantile(Estimate), median),
        KmFunction::new("km_median_low", Quantile(Low), median),
        KmFunction::new("km_median_high", Quantile(High), median),
        KmFunction::new("km_median_reached", Reached, median),
        KmFunction::new("km_quantile", Quantile(Estimate), None),
        KmFunction::new("km_quantile_low", Quantile(Low), None),
        KmFunction::new("km_quantile_high", Quantile(High), None),
        KmFunction::new("km_quantile_reached", Reached, None),
        KmFunction::new("km_survival", Survival(Estimate), None),
        KmFunction::new("km_survival_low", Survival(Low), None),
        KmFunction::new("km_survival_high", Survival(High), None),
        KmFunction::new("km_resolved_by", EndedBy(Estimate), None),
        KmFunction::new("km_resolved_by_low", EndedBy(Low), None),
        KmFunction::new("km_resolved_by_high", EndedBy(High), None),
        KmFunction::new("km_curve", Curve, None),
    ]
    .into_iter()
    .map(AggregateUDF::new_from_impl)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_keys_keep_order_and_value() {
        let times = [-3.5, -0.0, 0.0, 1.0, 2.5, 1e9];
        let keys: Vec<TimeKey> = times.iter().map(|t| TimeKey::new(*t)).collect();
        assert!(keys.windows(2).all(|w| w[0] <= w[1]));
        for (time, key) in times.iter().zip(&keys) {
            assert_eq!(key.time().to_bits(), time.to_bits());
        }
    }

    /// Rows of a small deterministic data set: (group, time or NULL, event or NULL, filter).
    fn rows() -> Vec<(usize, Option<f64>, Option<bool>, bool)> {
        let mut state = 0x2545_f491_u64;
        let mut next = move |m: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 33) % m
        };
        (0..3000)
            .map(|_| {
                let group = next(5) as usize;
                let time = match next(40) {
                    0 => None,
                    1 => Some(f64::NAN),
                    2 => Some(20_000.5),
                    _ => Some(next(400) as f64),
                };
                let event = (next(30) != 0).then(|| next(3) != 0);
                (group, time, event, next(7) != 0)
            })
            .collect()
    }

    fn statistics() -> Vec<(Statistic, Option<f64>, Option<f64>)> {
        use Part::{Estimate, High, Low};
        vec![
            (Statistic::Quantile(Estimate), Some(0.5), None),
            (Statistic::Quantile(Low), None, Some(0.25)),
            (Statistic::Reached, Some(0.5), None),
            (Statistic::Survival(High), None, Some(90.0)),
            (Statistic::EndedBy(Low), None, Some(30.0)),
            (Statistic::Curve, None, None),
        ]
    }

    #[test]
    fn groups_accumulator_equals_one_accumulator_per_group() {
        let rows = rows();
        let times: ArrayRef = Arc::new(rows.iter().map(|r| r.1).collect::<Float64Array>());
        let events: ArrayRef = Arc::new(rows.iter().map(|r| r.2).collect::<BooleanArray>());
        let filter: BooleanArray = rows.iter().map(|r| Some(r.3)).collect();
        let groups: Vec<usize> = rows.iter().map(|r| r.0).collect();
        for (statistic, fixed, parameter) in statistics() {
            let mut values = vec![times.clone(), events.clone()];
            if let Some(p) = parameter {
                values.push(Arc::new(Float64Array::from(vec![p; rows.len()])));
            }
            for filtered in [false, true] {
                let filter = filtered.then_some(&filter);
                // Reference: the plain accumulator over each group's rows.
                let expected: Vec<ScalarValue> = (0..5)
                    .map(|g| {
                        let keep: BooleanArray = rows
                            .iter()
                            .map(|r| Some(r.0 == g && (!filtered || r.3)))
                            .collect();
                        let mine: Vec<ArrayRef> = values
                            .iter()
                            .map(|v| datafusion::arrow::compute::filter(v, &keep).unwrap())
                            .collect();
                        let mut one = KmAccumulator::new(statistic, fixed);
                        one.update_batch(&mine).unwrap();
                        one.evaluate().unwrap()
                    })
                    .collect();
                // Two batches into one groups accumulator, its state merged into another.
                let mut first = KmGroups {
                    statistic,
                    fixed,
                    groups: Vec::new(),
                    bytes: 0,
                };
                let half = rows.len() / 2;
                let slice = |v: &ArrayRef, a: usize, n: usize| v.slice(a, n);
                for (start, length) in [(0, half), (half, rows.len() - half)] {
                    let part: Vec<ArrayRef> =
                        values.iter().map(|v| slice(v, start, length)).collect();
                    let part_filter = filter.map(|f| f.slice(start, length));
                    first
                        .update_batch(
                            &part,
                            &groups[start..start + length],
                            part_filter.as_ref(),
                            5,
                        )
                        .unwrap();
                }
                assert!(first.size() > 0);
                let state = first.state(EmitTo::All).unwrap();
                let mut second = KmGroups {
                    statistic,
                    fixed,
                    groups: Vec::new(),
                    bytes: 0,
                };
                second.merge_batch(&state, &[0, 1, 2, 3, 4], 5).unwrap();
                let head = second.evaluate(EmitTo::First(2)).unwrap();
                let tail = second.evaluate(EmitTo::All).unwrap();
                let got: Vec<ScalarValue> = (0..2)
                    .map(|i| ScalarValue::try_from_array(&head, i).unwrap())
                    .chain((0..3).map(|i| ScalarValue::try_from_array(&tail, i).unwrap()))
                    .collect();
                assert_eq!(got, expected, "{statistic:?}, filtered {filtered}");
            }
        }
    }

    #[test]
    fn groups_reject_a_parameter_that_varies_within_a_group() {
        let mut groups = KmGroups {
            statistic: Statistic::Survival(Part::Estimate),
            fixed: None,
            groups: Vec::new(),
            bytes: 0,
        };
        let values: Vec<ArrayRef> = vec![
            Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0])),
            Arc::new(BooleanArray::from(vec![true, false, true])),
            Arc::new(Float64Array::from(vec![30.0, 90.0, 30.0])),
        ];
        assert!(groups.update_batch(&values, &[0, 1, 0], None, 2).is_ok());
        assert!(groups.update_batch(&values, &[0, 0, 1], None, 2).is_err());
    }

    #[test]
    fn state_round_trips_and_merges() {
        let mut first = KmAccumulator::new(Statistic::Quantile(Part::Estimate), Some(0.5));
        first.add(3.0, 1, 0);
        first.add(5.0, 0, 2);
        first.add(2.5, 1, 0);
        let mut second = KmAccumulator::new(Statistic::Quantile(Part::Estimate), None);
        second.add(3.0, 2, 1);
        second.add(1e9, 0, 1);
        second.decode_into(&first.encode()).unwrap();
        assert_eq!(second.parameter, Some(0.5));
        let histogram: Vec<(f64, u64, u64)> = second
            .histogram()
            .iter()
            .map(|c| (c.time, c.events, c.censored))
            .collect();
        assert_eq!(
            histogram,
            [(2.5, 1, 0), (3.0, 3, 1), (5.0, 0, 2), (1e9, 0, 1)],
            "dense days, fractional and large times merge in order"
        );
        assert!(second.decode_into(&[1, 2, 3]).is_err());
    }
}
