//! An optimizer rule: aggregates of one `GROUP BY` that read different numbers off the same
//! fit share it: Kaplan–Meier functions over the same (duration, event) and filter share one
//! histogram per group, `ratio_of_sums_low` and `_high` over the same (y, x) one set of sums.
//!
//! A time-to-resolution report asks for a median, its interval, quartiles and the shares
//! resolved by 30, 90, 180 and 365 days: 18 aggregates that would each build the same
//! histogram from every row. The rule replaces them with one fit aggregate (`km_fit`,
//! `ratio_of_sums_fit`) and a projection reading each value from it (`…_from_fit`), so every
//! query, the built-in suite's and users' own, pays for one fit per (arguments, filter),
//! whatever it asks of it. Values are unchanged: they are computed from the same state by the
//! same code.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, BinaryArray, Float64Array};
use datafusion::arrow::datatypes::FieldRef;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, DFSchemaRef, Result, exec_err};
use datafusion::logical_expr::expr::{AggregateFunction, ScalarFunction};
use datafusion::logical_expr::{
    Aggregate, AggregateUDF, Expr, LogicalPlan, Projection, ScalarFunctionArgs,
};
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

use super::{ratio, survival};

/// The rule (added to every local session by [`super::Engine::new`]).
#[derive(Debug)]
pub struct ShareFits {
    /// The fit aggregate of each family, by [`Family`] index.
    fits: [Arc<AggregateUDF>; 2],
}

impl Default for ShareFits {
    fn default() -> Self {
        ShareFits {
            fits: [
                Arc::new(survival::fit_function()),
                Arc::new(ratio::fit_function()),
            ],
        }
    }
}

/// Aggregates whose values can be read from one shared fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Family {
    /// The KM functions: a histogram of (duration, event).
    KaplanMeier = 0,
    /// `ratio_of_sums_low` / `_high`: the sums of (y, x).
    RatioOfSums = 1,
}

/// What aggregates must have in common to share a fit: the family, the first two arguments
/// and the filter.
type Key = (Family, Expr, Expr, Option<Box<Expr>>);

/// One aggregate that can be read from a shared fit.
struct Member {
    /// Index in the aggregate's `aggr_expr`.
    index: usize,
    /// Aggregates with equal keys share a fit.
    key: Key,
    extractor: Arc<datafusion::logical_expr::ScalarUDF>,
    /// The aggregate's arguments after the first two (literals).
    rest: Vec<Expr>,
}

fn member(index: usize, expr: &Expr) -> Option<Member> {
    let inner = match expr {
        Expr::Alias(alias) => alias.expr.as_ref(),
        other => other,
    };
    let Expr::AggregateFunction(AggregateFunction { func, params }) = inner else {
        return None;
    };
    let plain = !params.distinct && params.order_by.is_empty() && params.null_treatment.is_none();
    let rest = params.args.get(2..)?;
    // A parameter must be a constant to be read after grouping (it is the same for every row
    // anyway: the aggregates refuse one that varies).
    if !plain || !rest.iter().all(|e| matches!(e, Expr::Literal(..))) {
        return None;
    }
    let (family, extractor) = match survival::from_fit(func, rest.len()) {
        Some(extractor) => (Family::KaplanMeier, extractor),
        None => (Family::RatioOfSums, ratio::from_fit(func, rest.len())?),
    };
    // Common-subexpression elimination names the first use of a shared argument
    // (`__common_expr_1 AS cases.duration_days`) and not the others: aliases are not part of
    // the value.
    let plain_expr = |expr: &Expr| expr.clone().unalias_nested().data;
    Some(Member {
        index,
        key: (
            family,
            plain_expr(&params.args[0]),
            plain_expr(&params.args[1]),
            params.filter.as_deref().map(|f| Box::new(plain_expr(f))),
        ),
        extractor: Arc::new(extractor),
        rest: rest.to_vec(),
    })
}

/// The arguments of a `…_from_fit` function: one fit per row, and the literal parameter after
/// it (named `parameter` in errors), if the function takes one.
pub(super) fn fit_arguments(
    args: &ScalarFunctionArgs,
    function: &str,
    parameter: &str,
) -> Result<(BinaryArray, Option<Float64Array>)> {
    let rows = args.number_rows;
    let fits = args.args[0].to_array(rows)?;
    let Some(fits) = fits.as_any().downcast_ref::<BinaryArray>() else {
        return exec_err!("{function}: the fit must be BINARY");
    };
    let values = match args.args.get(1) {
        None => None,
        Some(value) => {
            let array = value.to_array(rows)?;
            match array.as_any().downcast_ref::<Float64Array>() {
                Some(floats) => Some(floats.clone()),
                None => return exec_err!("{function}: the {parameter} must be DOUBLE"),
            }
        }
    };
    Ok((fits.clone(), values))
}

impl OptimizerRule for ShareFits {
    fn name(&self) -> &str {
        "share_fits"
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
        let members: Vec<Member> = aggregate
            .aggr_expr
            .iter()
            .enumerate()
            .filter_map(|(index, expr)| member(index, expr))
            .collect();
        // Fits in order of first use, each with the members reading from it.
        let mut fits: Vec<(usize, Vec<usize>)> = Vec::new();
        let mut by_key: HashMap<&Key, usize> = HashMap::new();
        for (position, m) in members.iter().enumerate() {
            let fit = *by_key.entry(&m.key).or_insert_with(|| {
                fits.push((position, Vec::new()));
                fits.len() - 1
            });
            fits[fit].1.push(position);
        }
        fits.retain(|(_, readers)| readers.len() > 1);
        // The fits are named `__fit_<n>` inside the rewritten aggregate; a query naming its
        // own output so is left as written.
        let taken = |f: &FieldRef| f.name().starts_with("__fit_");
        if fits.is_empty() || aggregate.schema.fields().iter().any(taken) {
            return Ok(Transformed::no(LogicalPlan::Aggregate(aggregate)));
        }
        // Which fit each aggregate index reads from, if any.
        let mut reads: HashMap<usize, (usize, &Member)> = HashMap::new();
        for (fit, (_, readers)) in fits.iter().enumerate() {
            for &position in readers {
                reads.insert(members[position].index, (fit, &members[position]));
            }
        }
        let fit_name = |fit: usize| format!("__fit_{fit}");
        let mut aggr_expr: Vec<Expr> = aggregate
            .aggr_expr
            .iter()
            .enumerate()
            .filter(|(index, _)| !reads.contains_key(index))
            .map(|(_, expr)| expr.clone())
            .collect();
        for (fit, (first, _)) in fits.iter().enumerate() {
            let (family, first_arg, second_arg, filter) = members[*first].key.clone();
            let call = AggregateFunction::new_udf(
                Arc::clone(&self.fits[family as usize]),
                vec![first_arg, second_arg],
                false,
                filter,
                vec![],
                None,
            );
            aggr_expr.push(Expr::AggregateFunction(call).alias(fit_name(fit)));
        }
        let grouped = aggregate.schema.fields().len() - aggregate.aggr_expr.len();
        let shared = Aggregate::try_new(
            Arc::clone(&aggregate.input),
            aggregate.group_expr.clone(),
            aggr_expr,
        )?;
        keep_schema(&aggregate.schema, shared, |i| {
            let (fit, m) = reads.get(&i.checked_sub(grouped)?)?;
            let mut args = vec![Expr::Column(Column::new_unqualified(fit_name(*fit)))];
            args.extend(m.rest.iter().cloned());
            Some(Expr::ScalarFunction(ScalarFunction::new_udf(
                Arc::clone(&m.extractor),
                args,
            )))
        })
    }
}

/// `rewritten` under a projection that gives the output `schema` of the aggregate it
/// replaces: output `i` is `value(i)` when that is given, else the rewritten aggregate's column
/// of the same name, each under its original qualifier and name. What the optimizer rules of
/// this engine return, so that nothing above the aggregate sees the rewrite.
pub(super) fn keep_schema(
    schema: &DFSchemaRef,
    rewritten: Aggregate,
    value: impl Fn(usize) -> Option<Expr>,
) -> Result<Transformed<LogicalPlan>> {
    let columns = (0..schema.fields().len())
        .map(|i| {
            let (qualifier, field) = schema.qualified_field(i);
            match value(i) {
                None => Expr::Column(Column::new(qualifier.cloned(), field.name())),
                Some(expr) => expr.alias_qualified(qualifier.cloned(), field.name()),
            }
        })
        .collect();
    let projection = Projection::try_new(columns, Arc::new(LogicalPlan::Aggregate(rewritten)))?;
    Ok(Transformed::yes(LogicalPlan::Projection(projection)))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{BooleanArray, Float64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::arrow::record_batch::RecordBatch;
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion::catalog::MemTable;
    use datafusion::prelude::SessionContext;
    use proptest::prelude::*;

    use super::ShareFits;
    use crate::engine::functions;

    /// Groups, durations (with NULLs and fractions) and events (with NULLs).
    fn cases(rows: &[(u8, Option<f64>, Option<bool>)]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("region", DataType::Utf8, true),
            Field::new("days", DataType::Float64, true),
            Field::new("resolved", DataType::Boolean, true),
        ]));
        let regions: StringArray = rows
            .iter()
            .map(|(g, _, _)| (*g < 4).then(|| format!("r{g}")))
            .collect();
        let days: Float64Array = rows.iter().map(|(_, d, _)| *d).collect();
        let events: BooleanArray = rows.iter().map(|(_, _, e)| *e).collect();
        RecordBatch::try_new(
            schema,
            vec![Arc::new(regions), Arc::new(days), Arc::new(events)],
        )
        .expect("batch")
    }

    async fn session(batch: &RecordBatch, share: bool) -> SessionContext {
        let ctx = SessionContext::new();
        functions::register(&ctx);
        if share {
            ctx.add_optimizer_rule(Arc::new(ShareFits::default()));
        }
        // Two partitions, so partial states are merged as in a real run.
        let half = batch.num_rows() / 2;
        let parts = vec![
            vec![batch.slice(0, half)],
            vec![batch.slice(half, batch.num_rows() - half)],
        ];
        let table = MemTable::try_new(batch.schema(), parts).expect("table");
        ctx.register_table("cases", Arc::new(table))
            .expect("register");
        ctx
    }

    async fn run(ctx: &SessionContext, sql: &str) -> (String, String) {
        let frame = ctx.sql(sql).await.expect("plan");
        let plan = frame.clone().into_optimized_plan().expect("optimize");
        let batches = frame.collect().await.expect("run");
        let text = pretty_format_batches(&batches).expect("format").to_string();
        (text, plan.display_indent().to_string())
    }

    const QUERY: &str = "SELECT region, count(*) AS cases,
          km_median(days, resolved) AS median, km_median_low(days, resolved) AS low,
          km_median_reached(days, resolved) AS reached,
          km_quantile(days, resolved, 0.25) AS q1,
          km_resolved_by(days, resolved, 30) AS by30,
          km_resolved_by_high(days, resolved, 30) AS by30_high,
          km_survival_low(days, resolved, 10) AS s10,
          km_quantile_reached(days, resolved, 0.9) AS q9,
          km_median(days, resolved) FILTER (WHERE days > 5) AS late_median,
          km_resolved_by(days, resolved, 20) FILTER (WHERE days > 5) AS late_by20,
          km_curve(days, resolved) AS curve
        FROM cases GROUP BY region ORDER BY region";

    #[tokio::test]
    async fn shared_fits_give_the_same_table() {
        let rows: Vec<_> = (0..400u32)
            .map(|i| {
                let days = match i % 17 {
                    0 => None,
                    1 => Some(f64::from(i % 40) + 0.5),
                    _ => Some(f64::from((i * 7919) % 60)),
                };
                let event = (i % 23 != 0).then_some(i % 3 != 0);
                ((i % 5) as u8, days, event)
            })
            .collect();
        let batch = cases(&rows);
        let (plain, plain_plan) = run(&session(&batch, false).await, QUERY).await;
        let (shared, shared_plan) = run(&session(&batch, true).await, QUERY).await;
        assert_eq!(plain, shared);
        assert!(!plain_plan.contains("km_fit"), "{plain_plan}");
        // One fit per (duration, event, filter): two here.
        assert_eq!(shared_plan.matches("km_fit(").count(), 2, "{shared_plan}");
        assert!(
            !shared_plan.contains("km_median(cases.days"),
            "{shared_plan}"
        );
    }

    #[tokio::test]
    async fn an_integer_duration_cast_once_is_shared() {
        // A BIGINT duration is cast to DOUBLE for every KM function; the optimizer computes
        // the cast once and names it at its first use only.
        let rows: Vec<_> = (0..200u32)
            .map(|i| ((i % 3) as u8, Some(f64::from(i % 37)), Some(i % 4 != 0)))
            .collect();
        let batch = cases(&rows);
        let query = "SELECT region, km_median(d, resolved) AS m, km_median_low(d, resolved) AS l,
              km_resolved_by(d, resolved, 30) AS r30, km_quantile(d, resolved, 0.25) AS q1
            FROM whole_days GROUP BY region ORDER BY region";
        let mut tables = Vec::new();
        for share in [false, true] {
            let ctx = session(&batch, share).await;
            ctx.sql("CREATE TABLE whole_days AS SELECT region, CAST(days AS BIGINT) AS d, resolved FROM cases")
                .await
                .expect("plan")
                .collect()
                .await
                .expect("create");
            tables.push(run(&ctx, query).await);
        }
        let (plain, plan) = (&tables[0].0, &tables[1].1);
        assert_eq!(plain, &tables[1].0);
        assert!(plan.contains("__common_expr_1"), "{plan}");
        // All four read from the one fit, the first (aliased) use included.
        assert_eq!(plan.matches("km_fit(").count(), 1, "{plan}");
        assert_eq!(plan.matches("_from_fit(").count(), 4, "{plan}");
    }

    #[tokio::test]
    async fn ratio_bounds_share_their_sums() {
        let rows: Vec<_> = (0..300u32)
            .map(|i| {
                let days = (i % 11 != 0).then(|| f64::from((i * 37) % 101));
                ((i % 4) as u8, days, Some(i % 3 == 0))
            })
            .collect();
        let batch = cases(&rows);
        // DECIMAL (exact sums) and DOUBLE pairs, a level, a NULL level, and a filter.
        let query = "SELECT region,
              ratio_of_sums_low(CAST(days AS DECIMAL(18, 2)), CAST(days + 3 AS DECIMAL(18, 2))) AS dl,
              ratio_of_sums_high(CAST(days AS DECIMAL(18, 2)), CAST(days + 3 AS DECIMAL(18, 2))) AS dh,
              ratio_of_sums_low(days, days * 2 + 1, 0.9) AS fl,
              ratio_of_sums_high(days, days * 2 + 1, 0.9) AS fh,
              ratio_of_sums_high(days, days * 2 + 1, CAST(NULL AS DOUBLE)) AS fn,
              ratio_of_sums_low(days, days * 2 + 1) FILTER (WHERE resolved) AS rl,
              ratio_of_sums_high(days, days * 2 + 1) FILTER (WHERE resolved) AS rh,
              km_median(days, resolved) AS m, km_median_high(days, resolved) AS mh
            FROM cases GROUP BY region ORDER BY region";
        let (plain, plain_plan) = run(&session(&batch, false).await, query).await;
        let (shared, plan) = run(&session(&batch, true).await, query).await;
        assert_eq!(plain, shared);
        assert!(!plain_plan.contains("_fit("), "{plain_plan}");
        // Three sets of sums (decimal; double; double filtered) and one histogram.
        assert_eq!(plan.matches("ratio_of_sums_fit(").count(), 3, "{plan}");
        assert_eq!(plan.matches("km_fit(").count(), 1, "{plan}");
        assert_eq!(plan.matches("_from_fit(").count(), 9, "{plan}");
    }

    #[tokio::test]
    async fn a_column_parameter_stays_an_aggregate() {
        let rows: Vec<_> = (0..50u32)
            .map(|i| (0, Some(f64::from(i % 9)), Some(i % 2 == 0)))
            .collect();
        let batch = cases(&rows);
        let query = "SELECT km_median(days, resolved) AS m, km_median_high(days, resolved) AS h,
            km_quantile(days, resolved, CAST(resolved AS DOUBLE) * 0 + 0.5) AS q FROM cases";
        let (plain, _) = run(&session(&batch, false).await, query).await;
        let (shared, plan) = run(&session(&batch, true).await, query).await;
        assert_eq!(plain, shared);
        eprintln!("PLAN {plan}");
        assert_eq!(plan.matches("km_fit(").count(), 1, "{plan}");
        assert!(plan.contains("km_quantile(cases.days"), "{plan}");
    }

    #[tokio::test]
    async fn an_aggregate_named_like_a_fit_is_left_alone() {
        use datafusion::execution::FunctionRegistry as _;
        use datafusion::prelude::col;
        let batch = cases(&[(0, Some(3.0), Some(true)), (0, Some(4.0), Some(false))]);
        let ctx = session(&batch, true).await;
        let call = |name: &str| {
            ctx.udaf(name)
                .expect("registered")
                .call(vec![col("days"), col("resolved")])
        };
        // Through the DataFrame API an aggregate itself can carry the name a fit would get.
        let frame = ctx
            .table("cases")
            .await
            .expect("table")
            .aggregate(
                vec![],
                vec![call("km_median").alias("__fit_0"), call("km_median_low")],
            )
            .expect("aggregate");
        let plan = frame.clone().into_optimized_plan().expect("optimize");
        assert!(!plan.display_indent().to_string().contains("km_fit"));
        let batches = frame.collect().await.expect("run");
        // S(3) = 1/2: the median is day 3.
        let median = batches[0]
            .column(0)
            .as_any()
            .downcast_ref::<Float64Array>()
            .expect("DOUBLE")
            .value(0);
        assert_eq!(median, 3.0);
    }

    #[tokio::test]
    async fn a_lone_aggregate_is_left_alone() {
        let batch = cases(&[(0, Some(3.0), Some(true)), (1, Some(4.0), Some(false))]);
        let (_, plan) = run(
            &session(&batch, true).await,
            "SELECT region, km_median(days, resolved) AS m FROM cases GROUP BY region",
        )
        .await;
        assert!(!plan.contains("km_fit"), "{plan}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn shared_equals_plain(rows in proptest::collection::vec(
            (0u8..6, proptest::option::weighted(0.9, 0u8..50), proptest::option::weighted(0.95, any::<bool>())),
            1..300,
        )) {
            let rows: Vec<_> = rows
                .into_iter()
                .map(|(g, d, e)| (g, d.map(f64::from), e))
                .collect();
            let batch = cases(&rows);
            let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
            let (plain, shared) = runtime.block_on(async {
                let plain = run(&session(&batch, false).await, QUERY).await.0;
                let shared = run(&session(&batch, true).await, QUERY).await.0;
                (plain, shared)
            });
            prop_assert_eq!(plain, shared);
        }
    }
}
