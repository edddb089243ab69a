//! `nth_largest(value, k)`: the k-th largest non-NULL value of a group (NULL when the group has
//! fewer than k values). Disclosure control asks for the largest contributions of every inner
//! cell (the dominance rule); DataFusion's `nth_value(v, k ORDER BY v DESC)` keeps every value
//! of a group while it runs, which costs memory and time in proportion to the table when there
//! are as many inner cells as cases. This keeps the k largest values per group in a flat
//! array, and implements [`GroupsAccumulator`] so that many groups cost no allocation each.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Float64Builder, ListArray, ListBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, GroupsAccumulator, Signature,
    TypeSignature, Volatility,
};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::Literal;

/// Largest k accepted (the dominance rule's n is a small number).
const MAX_K: i64 = 64;

#[derive(Debug, PartialEq, Eq, Hash)]
struct NthLargest {
    signature: Signature,
}

/// The constant `k` of a call, from its second argument.
fn k_of(args: &AccumulatorArgs) -> Result<usize> {
    let literal = args
        .exprs
        .get(1)
        .and_then(|e| <dyn PhysicalExpr>::downcast_ref::<Literal>(e.as_ref()));
    match literal.map(Literal::value) {
        Some(ScalarValue::Int64(Some(k))) if (1..=MAX_K).contains(k) => Ok(*k as usize),
        _ => plan_err!("nth_largest(value, k): k must be a constant between 1 and {MAX_K}"),
    }
}

impl AggregateUDFImpl for NthLargest {
    fn name(&self) -> &str {
        "nth_largest"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(Single(Tops::new(k_of(&args)?))))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format!("{}[largest]", args.name),
            DataType::List(Arc::new(Field::new("item", DataType::Float64, true))),
            true,
        ))])
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(Tops::new(k_of(&args)?)))
    }
}

/// The k largest values of each group, descending, in one flat array (stride k).
#[derive(Debug)]
pub(crate) struct Tops {
    k: usize,
    values: Vec<f64>,
    lengths: Vec<u8>,
}

impl Tops {
    pub(crate) fn new(k: usize) -> Self {
        Tops {
            k,
            values: Vec::new(),
            lengths: Vec::new(),
        }
    }

    pub(crate) fn resize(&mut self, groups: usize) {
        if self.lengths.len() < groups {
            self.lengths.resize(groups, 0);
            self.values.resize(groups * self.k, 0.0);
        }
    }

    /// Offers `value` to `group` (NaN is never kept).
    pub(crate) fn insert(&mut self, group: usize, value: f64) {
        if value.is_nan() {
            return;
        }
        let k = self.k;
        let length = self.lengths[group] as usize;
        let slot = &mut self.values[group * k..group * k + k];
        if length == k && value <= slot[k - 1] {
            return;
        }
        // First position holding a smaller value; later values move down one place.
        let at = slot[..length].partition_point(|&v| v >= value);
        let end = length.min(k - 1);
        slot.copy_within(at..end, at + 1);
        slot[at] = value;
        self.lengths[group] = (length + 1).min(k) as u8;
    }

    /// Number of groups held.
    pub(crate) fn groups(&self) -> usize {
        self.lengths.len()
    }

    /// The kept values of `group`, descending.
    pub(crate) fn group(&self, group: usize) -> &[f64] {
        let start = group * self.k;
        &self.values[start..start + self.lengths[group] as usize]
    }

    /// Number of groups to emit, and drops them from the front afterwards via `drain`.
    fn emitted(&self, emit_to: EmitTo) -> usize {
        match emit_to {
            EmitTo::All => self.lengths.len(),
            EmitTo::First(n) => n.min(self.lengths.len()),
        }
    }

    fn drain(&mut self, groups: usize) {
        self.lengths.drain(..groups);
        self.values.drain(..groups * self.k);
    }

    fn kth(&self, groups: usize) -> Float64Array {
        (0..groups)
            .map(|g| {
                let values = self.group(g);
                (values.len() == self.k).then(|| values[self.k - 1])
            })
            .collect()
    }

    fn lists(&self, groups: usize) -> ListArray {
        let mut builder = ListBuilder::new(Float64Builder::new());
        for g in 0..groups {
            builder.values().append_slice(self.group(g));
            builder.append(true);
        }
        builder.finish()
    }

    fn merge_list(&mut self, group: usize, list: &ListArray, row: usize) {
        if list.is_null(row) {
            return;
        }
        let values = list.value(row);
        let values = values.as_primitive::<Float64Type>();
        for value in values.iter().flatten() {
            self.insert(group, value);
        }
    }
}

fn floats(array: &ArrayRef) -> Result<&Float64Array> {
    match array.as_any().downcast_ref::<Float64Array>() {
        Some(values) => Ok(values),
        None => exec_err!("nth_largest takes a DOUBLE value"),
    }
}

fn lists(array: &ArrayRef) -> Result<&ListArray> {
    match array.as_any().downcast_ref::<ListArray>() {
        Some(values) => Ok(values),
        None => exec_err!("nth_largest state must be a list"),
    }
}

impl GroupsAccumulator for Tops {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.resize(total_num_groups);
        let values = floats(&values[0])?;
        for (row, &group) in group_indices.iter().enumerate() {
            let included = opt_filter.is_none_or(|f| f.is_valid(row) && f.value(row));
            if included && values.is_valid(row) {
                self.insert(group, values.value(row));
            }
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let groups = self.emitted(emit_to);
        let result = self.kth(groups);
        self.drain(groups);
        Ok(Arc::new(result))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let groups = self.emitted(emit_to);
        let result = self.lists(groups);
        self.drain(groups);
        Ok(vec![Arc::new(result)])
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.resize(total_num_groups);
        let states = lists(&values[0])?;
        for (row, &group) in group_indices.iter().enumerate() {
            self.merge_list(group, states, row);
        }
        Ok(())
    }

    /// Each input row as a state of its own: a list of its value (empty when NULL or filtered).
    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let values = floats(&values[0])?;
        let mut builder = ListBuilder::new(Float64Builder::new());
        for row in 0..values.len() {
            let included = opt_filter.is_none_or(|f| f.is_valid(row) && f.value(row));
            if included && values.is_valid(row) && !values.value(row).is_nan() {
                builder.values().append_value(values.value(row));
            }
            builder.append(true);
        }
        Ok(vec![Arc::new(builder.finish())])
    }

    fn size(&self) -> usize {
        self.values.capacity() * 8 + self.lengths.capacity()
    }
}

/// The same for a query without GROUP BY (one group).
#[derive(Debug)]
struct Single(Tops);

impl Accumulator for Single {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.0.resize(1);
        for value in floats(&values[0])?.iter().flatten() {
            self.0.insert(0, value);
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        self.0.resize(1);
        ScalarValue::try_from_array(&self.0.kth(1), 0)
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.0.size()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        self.0.resize(1);
        Ok(vec![ScalarValue::List(Arc::new(self.0.lists(1)))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.0.resize(1);
        let states = lists(&states[0])?;
        for row in 0..states.len() {
            self.0.merge_list(0, states, row);
        }
        Ok(())
    }
}

/// The aggregate function of this module.
pub fn aggregate_function() -> AggregateUDF {
    AggregateUDF::new_from_impl(NthLargest {
        signature: Signature::new(
            TypeSignature::Exact(vec![DataType::Float64, DataType::Int64]),
            Volatility::Immutable,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tops(k: usize, values: &[f64]) -> Vec<f64> {
        let mut t = Tops::new(k);
        t.resize(1);
        for &v in values {
            t.insert(0, v);
        }
        t.group(0).to_vec()
    }

    #[test]
    fn keeps_the_k_largest_in_descending_order() {
        assert_eq!(tops(3, &[5.0, 1.0, 9.0, 7.0, 7.0, 2.0]), [9.0, 7.0, 7.0]);
        assert_eq!(tops(2, &[1.0]), [1.0]);
        assert_eq!(tops(1, &[3.0, f64::NAN, 8.0, -1.0]), [8.0]);
        assert_eq!(tops(4, &[]), Vec::<f64>::new());
    }

    #[test]
    fn groups_merge_and_emit_in_order() {
        let mut a = Tops::new(2);
        let values: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(1.0),
            Some(4.0),
            None,
            Some(3.0),
            Some(2.0),
        ]));
        a.update_batch(&[values], &[0, 1, 1, 0, 2], None, 3)
            .unwrap();
        let state = a.state(EmitTo::All).unwrap();
        let mut b = Tops::new(2);
        b.merge_batch(&state, &[1, 0, 0], 2).unwrap();
        let more: ArrayRef = Arc::new(Float64Array::from(vec![10.0]));
        b.update_batch(&[more], &[1], None, 2).unwrap();
        // group 0 of b = a's groups 1 and 2 = {4, 2}; group 1 = a's group 0 {3, 1} and 10.
        let first = b.evaluate(EmitTo::First(1)).unwrap();
        assert_eq!(first.as_primitive::<Float64Type>().value(0), 2.0);
        let rest = b.evaluate(EmitTo::All).unwrap();
        assert_eq!(rest.as_primitive::<Float64Type>().value(0), 3.0);
        let mut short = Tops::new(3);
        short.resize(1);
        short.insert(0, 1.0);
        assert!(short.evaluate(EmitTo::All).unwrap().is_null(0));
    }
}
