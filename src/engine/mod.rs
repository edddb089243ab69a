//! The engine: one DataFusion session, built here and nowhere else, holding the validated
//! cases as table `cases` and the project's SQL functions, so that every report is plain SQL.
//!
//! The session is the only thing that executes queries; nothing else assumes in-process
//! execution, so the same session can later be a cluster session.

pub mod cluster;
pub mod functions;
pub mod ratio;
pub mod share;
pub mod survival;
pub mod top;

use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::MemTable;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::config::DERIVED_COLUMNS;
use crate::period::Period;
use crate::queries::Query;

/// How the session is sized.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Memory budget for query execution in bytes; sorts and aggregations spill above it.
    pub memory_limit: usize,
    /// Folder for spill files.
    pub spill_dir: Option<PathBuf>,
    /// Parallelism (partitions).
    pub partitions: usize,
    /// The cluster to run on (`--engine df://…`); `None` runs in this process.
    pub cluster: Option<cluster::ClusterOptions>,
}

/// A quarter of the machine's memory, between 512 MiB and 4 GiB (2 GiB when unknown).
pub fn default_memory_limit() -> usize {
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        });
    total.map_or(2 << 30, |bytes| (bytes / 4).clamp(512 << 20, 4 << 30))
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            memory_limit: default_memory_limit(),
            spill_dir: None,
            partitions: std::thread::available_parallelism().map_or(2, |n| n.get()),
            cluster: None,
        }
    }
}

/// Input batches converted to `cases` at a time (16 × 65,536 rows).
const CHUNK_BATCHES: usize = 16;

/// The reporting window the `cases` table is built for.
#[derive(Debug, Clone)]
pub struct Window {
    /// The only "today": cases opened later are out, closures later are ignored.
    pub as_of: NaiveDate,
    /// The period being published, if any.
    pub period: Option<Period>,
}

/// A DataFusion session with the project's functions and tables.
pub struct Engine {
    ctx: SessionContext,
    partitions: usize,
    /// Set when the session runs on a cluster.
    remote: Option<cluster::Remote>,
}

impl Engine {
    /// Builds the session; the single place where sessions are made.
    pub fn new(options: &EngineOptions) -> anyhow::Result<Engine> {
        let partitions = options.partitions.max(1);
        let config = SessionConfig::new()
            .with_target_partitions(partitions)
            .with_information_schema(true);
        let mut runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(Arc::new(FairSpillPool::new(options.memory_limit)));
        if let Some(dir) = &options.spill_dir {
            runtime = runtime.with_disk_manager_builder(
                DiskManagerBuilder::default()
                    .with_mode(DiskManagerMode::Directories(vec![dir.clone()])),
            );
        }
        let ctx = SessionContext::new_with_config_rt(config, runtime.build_arc()?);
        functions::register(&ctx);
        ctx.add_optimizer_rule(Arc::new(share::ShareFits::default()));
        Ok(Engine {
            ctx,
            partitions,
            remote: None,
        })
    }

    /// The underlying session (for ad-hoc SQL).
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// Registers validated rows as `cases_input`, then builds `cases` and `params` for a window.
    pub async fn register_cases(
        &self,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
        window: &Window,
    ) -> anyhow::Result<u64> {
        if let Some(remote) = &self.remote {
            return remote
                .register_cases(&self.ctx, schema, batches, window)
                .await;
        }
        // The input is converted a chunk at a time and each chunk is dropped once converted,
        // so the rows are held about once, not twice (input and `cases`).
        let sql = cases_sql(&schema, window);
        let mut input = batches.into_iter().peekable();
        let mut output = Vec::new();
        let mut derived_schema = None;
        while derived_schema.is_none() || input.peek().is_some() {
            let chunk: Vec<RecordBatch> = input.by_ref().take(CHUNK_BATCHES).collect();
            let table = MemTable::try_new(schema.clone(), self.spread(chunk))?;
            self.ctx.register_table("cases_input", Arc::new(table))?;
            let derived = self.ctx.sql(&sql).await?;
            derived_schema = Some(Arc::new(derived.schema().as_arrow().clone()));
            output.extend(derived.collect().await?);
            self.ctx.deregister_table("cases_input")?;
        }
        let derived_schema: SchemaRef = derived_schema.expect("one chunk at least");
        let rows = output.iter().map(|b| b.num_rows() as u64).sum();
        let cases = MemTable::try_new(derived_schema, self.spread(output))?;
        self.ctx.register_table("cases", Arc::new(cases))?;
        self.ctx.sql(&params_sql(window)).await?.collect().await?;
        Ok(rows)
    }

    fn spread(&self, batches: Vec<RecordBatch>) -> Vec<Vec<RecordBatch>> {
        let mut partitions = vec![Vec::new(); self.partitions];
        for (index, batch) in batches.into_iter().enumerate() {
            partitions[index % self.partitions].push(batch);
        }
        partitions
    }

    /// Runs one report and returns its result schema and rows.
    pub async fn run(&self, query: &Query) -> anyhow::Result<(SchemaRef, Vec<RecordBatch>)> {
        let frame = self.ctx.sql(&query.sql).await?;
        let schema: SchemaRef = Arc::new(frame.schema().as_arrow().clone());
        Ok((schema, frame.collect().await?))
    }

    /// Plans one report without running it and returns its result schema.
    pub async fn plan(&self, query: &Query) -> anyhow::Result<SchemaRef> {
        let frame = self.ctx.sql(&query.sql).await?;
        let schema: SchemaRef = Arc::new(frame.schema().as_arrow().clone());
        frame.create_physical_plan().await?;
        Ok(schema)
    }
}

fn date_literal(date: NaiveDate) -> String {
    format!("DATE '{}'", date.format("%Y-%m-%d"))
}

/// The `params` table: one row with the window, for queries that need it. A view over
/// literals, so that it travels inside every plan (a cluster cannot read in-memory tables).
fn params_sql(window: &Window) -> String {
    let null = || "CAST(NULL AS DATE)".to_string();
    let period = window.period.as_ref();
    let previous = period.and_then(Period::previous);
    let (start, end) = period.map_or((null(), null()), |p| {
        (date_literal(p.start), date_literal(p.end))
    });
    let (previous_start, previous_end) = previous.map_or((null(), null()), |p| {
        (date_literal(p.start), date_literal(p.end))
    });
    let label = period.map_or("all".to_string(), |p| p.label.clone());
    format!(
        "CREATE VIEW params AS SELECT {} AS as_of, {start} AS period_start, {end} AS period_end, \
         {previous_start} AS previous_start, {previous_end} AS previous_end, '{label}' AS period",
        date_literal(window.as_of)
    )
}

/// SQL building `cases` from `cases_input`: the as-of cut (cases opened later are out, later
/// closures are undone), then the derived columns every report shares (docs/metrics.md).
fn cases_sql(schema: &SchemaRef, window: &Window) -> String {
    let as_of = date_literal(window.as_of);
    let dictionary = "'Dictionary(Int32, Utf8)'";
    let later = format!("closed_on > {as_of}");
    let columns: Vec<String> = schema
        .fields()
        .iter()
        .map(|field| match field.name().as_str() {
            "closed_on" => format!("CASE WHEN {later} THEN NULL ELSE closed_on END AS closed_on"),
            "outcome" => format!(
                "arrow_cast(CASE WHEN {later} THEN 'open' ELSE CAST(outcome AS VARCHAR) END, {dictionary}) AS outcome"
            ),
            name => format!("\"{name}\""),
        })
        .collect();
    let in_period = match &window.period {
        Some(p) => format!(
            "opened_on BETWEEN {} AND {}",
            date_literal(p.start),
            date_literal(p.end)
        ),
        None => "TRUE".into(),
    };
    let derived = [
        "outcome <> 'open' AS resolved".to_string(),
        "outcome IN ('settled', 'paid_in_full') AS settled".to_string(),
        format!(
            "CAST(CASE WHEN outcome = 'open' THEN {as_of} - opened_on ELSE closed_on - opened_on END AS BIGINT) AS duration_days"
        ),
        "year_month(opened_on) AS opened_month".to_string(),
        "age_bucket_of(debt_age_days) AS age_bucket".to_string(),
        "amount_tier_of(amount_claimed) AS amount_tier".to_string(),
        format!("{in_period} AS in_period"),
    ];
    debug_assert_eq!(derived.len(), DERIVED_COLUMNS.len());
    format!(
        "WITH cut AS (SELECT {} FROM cases_input WHERE opened_on <= {as_of}) SELECT *, {} FROM cut",
        columns.join(", "),
        derived.join(", ")
    )
}
