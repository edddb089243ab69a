//! An optimizer rule: a `GROUP BY` over a dictionary-encoded text column groups by an integer
//! code of the text instead, and the text is put back after grouping.
//!
//! DataFusion groups a dictionary column through its row format: the text of every row is
//! copied into a row key and compared. Every breakdown of the suite groups by one such column
//! (region, debt type, channel, …) over every case. The rule replaces each such key with
//! `group_code(key)`, a `UInt32` that is the same for the same text whatever dictionary it
//! comes from (one table of the engine gives the codes out, and each dictionary's values are
//! looked up once, not each row's), which DataFusion groups as plain integers; a projection
//! above the aggregate turns each code back into its text (`group_value`), with the key's
//! name, qualifier and type as before. Values are unchanged: equal texts get equal codes,
//! NULL stays NULL, and texts are never compared other than for equality.
//!
//! The rule is local: codes live in this process, so a cluster session does not use it.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray, StringBuilder, UInt32Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int32Type};
use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, Result, exec_err};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{
    Aggregate, ColumnarValue, Expr, ExprSchemable, LogicalPlan, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, Volatility,
};
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

use super::share::keep_schema;

/// Dictionaries whose codes are remembered (a table's batches usually share a few).
const RECENT: usize = 8;

/// The codes of texts: the same text always gets the same code.
#[derive(Default)]
pub struct Codes {
    table: Mutex<Table>,
}

impl fmt::Debug for Codes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Codes").finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Table {
    by_text: HashMap<String, u32>,
    texts: Vec<String>,
    /// The codes of recently seen dictionaries, by their values array (held, so that its
    /// address is not reused while it is here).
    recent: Vec<(ArrayRef, Arc<[Option<u32>]>)>,
}

impl Table {
    fn code(&mut self, text: &str) -> Result<u32> {
        if let Some(&code) = self.by_text.get(text) {
            return Ok(code);
        }
        let Ok(code) = u32::try_from(self.texts.len()) else {
            return exec_err!("group_code: more than 2^32 distinct values");
        };
        self.by_text.insert(text.to_string(), code);
        self.texts.push(text.to_string());
        Ok(code)
    }
}

impl Codes {
    /// The code of each value of a dictionary (`None` for a NULL value).
    fn of_values(&self, values: &ArrayRef) -> Result<Arc<[Option<u32>]>> {
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, codes)) = table.recent.iter().find(|(v, _)| Arc::ptr_eq(v, values)) {
            return Ok(Arc::clone(codes));
        }
        let Some(texts) = values.as_string_opt::<i32>() else {
            return exec_err!("group_code: dictionary values must be text");
        };
        let codes: Arc<[Option<u32>]> = texts
            .iter()
            .map(|text| text.map(|t| table.code(t)).transpose())
            .collect::<Result<_>>()?;
        if table.recent.len() == RECENT {
            table.recent.remove(0);
        }
        table.recent.push((Arc::clone(values), Arc::clone(&codes)));
        Ok(codes)
    }

    /// The texts of codes.
    fn texts(&self, codes: &UInt32Array) -> Result<StringArray> {
        let table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = StringBuilder::with_capacity(codes.len(), codes.len() * 8);
        for code in codes {
            match code.map(|c| table.texts.get(c as usize)) {
                None => out.append_null(),
                Some(Some(text)) => out.append_value(text),
                Some(None) => return exec_err!("group_value: unknown code {}", code.unwrap_or(0)),
            }
        }
        Ok(out.finish())
    }
}

/// `group_code(key)`: the code of a dictionary-encoded text.
#[derive(Debug)]
struct GroupCode {
    codes: Arc<Codes>,
    signature: Signature,
}

impl PartialEq for GroupCode {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.codes, &other.codes)
    }
}

impl Eq for GroupCode {}

impl std::hash::Hash for GroupCode {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        Arc::as_ptr(&self.codes).hash(state);
    }
}

impl ScalarUDFImpl for GroupCode {
    fn name(&self) -> &str {
        "group_code"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::UInt32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let array = args.args[0].to_array(args.number_rows)?;
        let Some(dictionary) = array.as_any_dictionary_opt() else {
            return exec_err!("group_code: the argument must be a dictionary");
        };
        let codes = self.codes.of_values(dictionary.values())?;
        let code = |key: usize| codes.get(key).copied().flatten().unwrap_or(0);
        // NULL keys and keys of NULL values; the code of a NULL row is never read.
        let nulls = array.logical_nulls();
        let values: Vec<u32> = match array.as_dictionary_opt::<Int32Type>() {
            Some(int32) => int32
                .keys()
                .values()
                .iter()
                .map(|&key| code(usize::try_from(key).unwrap_or(0)))
                .collect(),
            None => dictionary.normalized_keys().into_iter().map(code).collect(),
        };
        Ok(ColumnarValue::Array(Arc::new(UInt32Array::new(
            values.into(),
            nulls,
        ))))
    }
}

/// `group_value(code)`: the text of a code, as the key's type.
#[derive(Debug)]
struct GroupValue {
    codes: Arc<Codes>,
    data_type: DataType,
    signature: Signature,
}

impl PartialEq for GroupValue {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.codes, &other.codes) && self.data_type == other.data_type
    }
}

impl Eq for GroupValue {}

impl std::hash::Hash for GroupValue {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        Arc::as_ptr(&self.codes).hash(state);
        self.data_type.hash(state);
    }
}

impl ScalarUDFImpl for GroupValue {
    fn name(&self) -> &str {
        "group_value"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.data_type.clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let array = args.args[0].to_array(args.number_rows)?;
        let Some(codes) = array.as_primitive_opt() else {
            return exec_err!("group_value: the argument must be a UInt32 code");
        };
        let texts = self.codes.texts(codes)?;
        Ok(ColumnarValue::Array(cast(&texts, &self.data_type)?))
    }
}

/// The rule (added to every local session by [`super::Engine::new`]).
#[derive(Debug)]
pub struct GroupByCode {
    codes: Arc<Codes>,
    encode: Arc<ScalarUDF>,
}

impl Default for GroupByCode {
    fn default() -> Self {
        let codes = Arc::new(Codes::default());
        let encode = Arc::new(ScalarUDF::new_from_impl(GroupCode {
            codes: Arc::clone(&codes),
            signature: Signature::any(1, Volatility::Immutable),
        }));
        GroupByCode { codes, encode }
    }
}

/// Whether a key of this type is grouped by code: dictionary-encoded `Utf8`.
fn coded(data_type: &DataType) -> bool {
    matches!(data_type, DataType::Dictionary(key, value)
        if key.is_dictionary_key_type() && value.as_ref() == &DataType::Utf8)
}

impl OptimizerRule for GroupByCode {
    fn name(&self) -> &str {
        "group_by_code"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::BottomUp)
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        let LogicalPlan::Aggregate(aggregate) = plan else {
            return Ok(Transformed::no(plan));
        };
        let input_schema = aggregate.input.schema();
        let grouping_sets = aggregate
            .group_expr
            .iter()
            .any(|e| matches!(e, Expr::GroupingSet(_)));
        // The codes are named `__group_code_<n>` inside the rewritten aggregate; a query
        // naming its own output so is left as written.
        let taken = aggregate
            .schema
            .fields()
            .iter()
            .any(|f| f.name().starts_with("__group_code_"));
        let mut types = Vec::with_capacity(aggregate.group_expr.len());
        for expr in &aggregate.group_expr {
            types.push(expr.get_type(input_schema)?);
        }
        if grouping_sets || taken || !types.iter().any(coded) {
            return Ok(Transformed::no(LogicalPlan::Aggregate(aggregate)));
        }
        let code_name = |i: usize| format!("__group_code_{i}");
        let group_expr: Vec<Expr> = aggregate
            .group_expr
            .iter()
            .zip(&types)
            .enumerate()
            .map(|(i, (expr, data_type))| {
                if coded(data_type) {
                    Expr::ScalarFunction(ScalarFunction::new_udf(
                        Arc::clone(&self.encode),
                        vec![expr.clone()],
                    ))
                    .alias(code_name(i))
                } else {
                    expr.clone()
                }
            })
            .collect();
        let coded_aggregate = Aggregate::try_new(
            Arc::clone(&aggregate.input),
            group_expr,
            aggregate.aggr_expr.clone(),
        )?;
        keep_schema(&aggregate.schema, coded_aggregate, |i| {
            let data_type = types.get(i).filter(|t| coded(t))?;
            let decode = ScalarUDF::new_from_impl(GroupValue {
                codes: Arc::clone(&self.codes),
                data_type: data_type.clone(),
                signature: Signature::exact(vec![DataType::UInt32], Volatility::Immutable),
            });
            Some(Expr::ScalarFunction(ScalarFunction::new_udf(
                Arc::new(decode),
                vec![Expr::Column(Column::new_unqualified(code_name(i)))],
            )))
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{
        ArrayRef, DictionaryArray, Float64Array, Int32Array, StringArray,
    };
    use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Schema};
    use datafusion::arrow::record_batch::RecordBatch;
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion::catalog::MemTable;
    use datafusion::prelude::SessionContext;
    use proptest::prelude::*;

    use super::GroupByCode;
    use crate::engine::functions;

    /// A batch of `(region key, channel key, amount)` rows over a dictionary of its own (the
    /// values in `dictionary`, which may repeat a text and hold a NULL).
    fn batch(dictionary: &[Option<&str>], rows: &[(Option<i32>, Option<i32>, f64)]) -> RecordBatch {
        let values: ArrayRef = Arc::new(StringArray::from(dictionary.to_vec()));
        let column = |keys: Int32Array| -> ArrayRef {
            Arc::new(DictionaryArray::<Int32Type>::try_new(keys, Arc::clone(&values)).unwrap())
        };
        let regions = column(rows.iter().map(|r| r.0).collect());
        let channels = column(rows.iter().map(|r| r.1).collect());
        let amounts: Float64Array = rows.iter().map(|r| Some(r.2)).collect();
        let text = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        let schema = Arc::new(Schema::new(vec![
            Field::new("region", text.clone(), true),
            Field::new("channel", text, true),
            Field::new("amount", DataType::Float64, false),
        ]));
        RecordBatch::try_new(schema, vec![regions, channels, Arc::new(amounts)]).unwrap()
    }

    async fn session(partitions: Vec<Vec<RecordBatch>>, coded: bool) -> SessionContext {
        let ctx = SessionContext::new();
        functions::register(&ctx);
        if coded {
            ctx.add_optimizer_rule(Arc::new(GroupByCode::default()));
        }
        let schema = partitions[0][0].schema();
        let table = MemTable::try_new(schema, partitions).unwrap();
        ctx.register_table("cases", Arc::new(table)).unwrap();
        ctx
    }

    /// The table as text, its schema and the optimized plan.
    async fn run(ctx: &SessionContext, sql: &str) -> (String, String, String) {
        let frame = ctx.sql(sql).await.unwrap();
        let plan = frame.clone().into_optimized_plan().unwrap();
        let schema = format!("{:?}", frame.schema().as_arrow());
        let batches = frame.collect().await.unwrap();
        let text = pretty_format_batches(&batches).unwrap().to_string();
        (text, schema, plan.display_indent().to_string())
    }

    const QUERIES: [&str; 5] = [
        "SELECT region, count(*) AS n, sum(amount) AS s FROM cases GROUP BY region ORDER BY region NULLS FIRST",
        "SELECT cases.region, channel, count(*) AS n FROM cases GROUP BY cases.region, channel \
         ORDER BY cases.region NULLS FIRST, channel NULLS FIRST",
        "SELECT region, count(*) AS n FROM cases WHERE region IS NOT NULL GROUP BY region \
         HAVING count(*) > 1 ORDER BY n DESC, region",
        "WITH g AS (SELECT region AS r, max(amount) AS m FROM cases GROUP BY region) \
         SELECT upper(r) AS u, m FROM g ORDER BY u NULLS FIRST",
        "SELECT count(DISTINCT region) AS d, count(*) AS n FROM cases",
    ];

    const TEXTS: [&str; 4] = ["north", "south", "", "east"];

    fn rows() -> impl Strategy<Value = Vec<(Option<i32>, Option<i32>, f64)>> {
        let key = proptest::option::weighted(0.9, 0..5i32);
        proptest::collection::vec((key.clone(), key, 0.0..100.0f64), 1..40)
    }

    /// Two to five batches in two partitions, each batch over its own dictionary: a subset of
    /// the texts in its own order, with a repeated text and a NULL value.
    fn batches() -> impl Strategy<Value = Vec<RecordBatch>> {
        let one = (Just(TEXTS.to_vec()).prop_shuffle(), rows()).prop_map(|(texts, rows)| {
            let dictionary = [
                Some(texts[0]),
                Some(texts[1]),
                None,
                Some(texts[0]),
                Some(texts[2]),
            ];
            batch(&dictionary, &rows)
        });
        proptest::collection::vec(one, 2..6)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn grouping_by_code_gives_the_same_tables(batches in batches()) {
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            runtime.block_on(async {
                let half = batches.len() / 2;
                let partitions = vec![batches[..half].to_vec(), batches[half..].to_vec()];
                let plain = session(partitions.clone(), false).await;
                let coded = session(partitions, true).await;
                for sql in QUERIES {
                    let (plain_table, plain_schema, plain_plan) = run(&plain, sql).await;
                    let (coded_table, coded_schema, coded_plan) = run(&coded, sql).await;
                    prop_assert_eq!(&plain_table, &coded_table, "{}", sql);
                    prop_assert_eq!(&plain_schema, &coded_schema, "{}", sql);
                    prop_assert!(!plain_plan.contains("group_code"), "{}", plain_plan);
                    if sql.contains("GROUP BY") {
                        prop_assert!(coded_plan.contains("group_code("), "{}", coded_plan);
                    }
                }
                Ok(())
            })?;
        }
    }

    #[tokio::test]
    async fn text_and_grouping_sets_are_left_alone() {
        let parts = vec![vec![batch(
            &[Some("a"), Some("b")],
            &[(Some(0), Some(1), 1.0), (Some(1), None, 2.0)],
        )]];
        let ctx = session(parts, true).await;
        for sql in [
            "SELECT CAST(region AS VARCHAR) AS r, count(*) FROM cases GROUP BY 1",
            "SELECT region, channel, count(*) FROM cases GROUP BY ROLLUP (region, channel)",
        ] {
            let (_, _, plan) = run(&ctx, sql).await;
            assert!(!plan.contains("group_code("), "{plan}");
        }
    }
}
