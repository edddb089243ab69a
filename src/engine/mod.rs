//! The engine: one DataFusion session, built here and nowhere else, holding the validated
//! cases as table `cases` and the project's SQL functions, so that every report is plain SQL.
//!
//! The session is the only thing that executes queries; nothing else assumes in-process
//! execution, so the same session can later be a cluster session.

pub mod cluster;
pub mod codes;
pub mod functions;
mod mapped;
pub mod ratio;
pub mod share;
mod spill;
pub mod survival;
pub mod top;

use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::MemTable;
use datafusion::common::Column;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{Expr, SessionConfig, SessionContext};
use futures::StreamExt;
use std::sync::{Mutex, PoisonError};
use tempfile::TempDir;

use crate::config::DERIVED_COLUMNS;
use crate::ingest::store::{Accepted, Budget, Footprint};
use crate::period::Period;
use crate::privacy::disclosure::{Grouper, InnerCells, InnerRequest};
use crate::queries::Query;
use spill::{Layout, Spilled, remove_files};

/// How the session is sized.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Memory budget for query execution in bytes; sorts and aggregations spill above it.
    pub memory_limit: usize,
    /// Bytes of table rows held in memory, first the ingested rows, then `cases`; beyond it
    /// they go to local files in the spill folder. Half of `memory_limit` by default.
    pub table_memory: usize,
    /// Folder for spill files (`None`: the system temporary folder, `TMPDIR`).
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

impl EngineOptions {
    /// Sets the memory limit, and the table memory to half of it.
    pub fn with_memory_limit(self, bytes: usize) -> EngineOptions {
        EngineOptions {
            memory_limit: bytes,
            table_memory: bytes / 2,
            ..self
        }
    }

    /// Where ingest holds accepted rows: `table_memory` bytes, then the spill folder.
    pub fn ingest_budget(&self) -> Budget {
        Budget {
            bytes: self.table_memory,
            dir: self.spill_dir.clone(),
        }
    }
}

impl Default for EngineOptions {
    fn default() -> Self {
        let memory_limit = default_memory_limit();
        EngineOptions {
            memory_limit,
            table_memory: memory_limit / 2,
            spill_dir: None,
            partitions: std::thread::available_parallelism().map_or(2, |n| n.get()),
            cluster: None,
        }
    }
}

/// Input batches converted to `cases` at a time (16 × 65,536 rows).
const CHUNK_BATCHES: usize = 16;

/// When `cases` is larger than its memory budget: the table of its rows held in memory and
/// the table of the rest, on disk; `cases` is then a view of the one followed by the other.
const HELD_CASES: &str = "cases_in_memory";
const SPILLED_CASES: &str = "cases_on_disk";

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
    table_memory: usize,
    spill_dir: Option<PathBuf>,
    /// Input batches converted to `cases` at a time.
    chunk_batches: usize,
    /// The folders of a `cases` table kept on disk (its own files and the ingested ones it
    /// reads in place), removed with the engine.
    cases_dirs: Mutex<Vec<TempDir>>,
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
        ctx.add_optimizer_rule(Arc::new(codes::GroupByCode::default()));
        Ok(Engine::with_context(ctx, partitions, options, None))
    }

    fn with_context(
        ctx: SessionContext,
        partitions: usize,
        options: &EngineOptions,
        remote: Option<cluster::Remote>,
    ) -> Engine {
        Engine {
            ctx,
            partitions,
            table_memory: options.table_memory,
            spill_dir: options.spill_dir.clone(),
            chunk_batches: CHUNK_BATCHES,
            cases_dirs: Mutex::new(Vec::new()),
            remote,
        }
    }

    /// The underlying session (for ad-hoc SQL).
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// Registers validated rows as `cases_input`, then builds `cases` and `params` for a window.
    /// `cases` stays in memory up to [`EngineOptions::table_memory`]; the rows of a larger
    /// table beyond it are kept in local Arrow files, which every report then reads in place
    /// (`spill`).
    pub async fn register_cases(&self, rows: Accepted, window: &Window) -> anyhow::Result<u64> {
        if let Some(remote) = &self.remote {
            return remote.register_cases(&self.ctx, rows, window).await;
        }
        // The input is converted a chunk at a time and each chunk is dropped once converted
        // and kept or written, so the rows are held about once, not twice (input and `cases`).
        let schema = rows.schema();
        let sql = cases_sql(&schema, window);
        let mut input = rows.into_stored();
        let mut held = Vec::new();
        let mut footprint = Footprint::default();
        let mut disk: Option<Spilled> = None;
        let mut derived_schema = None;
        let mut rows = 0u64;
        loop {
            let chunk = input
                .by_ref()
                .take(self.chunk_batches)
                .collect::<anyhow::Result<Vec<_>>>()?;
            if chunk.is_empty() && derived_schema.is_some() {
                break;
            }
            let batches: Vec<RecordBatch> = chunk.iter().map(|(batch, _)| batch.clone()).collect();
            let table = MemTable::try_new(schema.clone(), self.spread(batches.clone()))?;
            self.ctx.register_table("cases_input", Arc::new(table))?;
            let derived = self.ctx.sql(&sql).await?;
            let cases_schema: SchemaRef = Arc::new(derived.schema().as_arrow().clone());
            derived_schema = Some(cases_schema.clone());
            let output = derived.collect_partitioned().await?;
            self.ctx.deregister_table("cases_input")?;
            rows += output
                .iter()
                .flatten()
                .map(|b| b.num_rows() as u64)
                .sum::<u64>();
            // Chunks stay in memory while they fit the budget; from the first that does not,
            // every chunk goes to disk, so the rows keep the input's order: memory, then disk.
            if disk.is_none() {
                let mut bytes = Footprint::default();
                for batch in output.iter().flatten() {
                    bytes.add(batch);
                }
                if footprint.bytes() + bytes.bytes() <= self.table_memory {
                    for batch in output.iter().flatten() {
                        footprint.add(batch);
                    }
                    held.extend(output.into_iter().flatten());
                    remove_files(chunk);
                    continue;
                }
            }
            let spilled = match disk.as_mut() {
                Some(spilled) => spilled,
                None => {
                    // No later chunk is held: their ingested files can be read without a copy.
                    input.map_files();
                    disk.insert(Spilled::new(self.spill_dir.as_deref())?)
                }
            };
            let layout = Layout::new(&schema, &cases_schema);
            let parts = layout
                .as_ref()
                .and_then(|l| Some((l, l.derived(&batches, &output)?)));
            match parts {
                Some((layout, parts)) => spilled.write_derived(layout, chunk, parts).await?,
                None => {
                    remove_files(chunk);
                    spilled
                        .write(output.into_iter().flatten().collect())
                        .await?;
                }
            }
        }
        let ingest_dir = input.into_dir();
        let derived_schema: SchemaRef = derived_schema.expect("one chunk at least");
        match disk {
            None => {
                if rows > 0 {
                    tracing::info!(rows, mb = footprint.bytes() >> 20, "cases table in memory");
                }
                let cases = MemTable::try_new(derived_schema, self.spread(held))?;
                self.ctx.register_table("cases", Arc::new(cases))?;
            }
            Some(mut disk) => {
                let in_memory: usize = held.iter().map(RecordBatch::num_rows).sum();
                tracing::info!(
                    rows,
                    in_memory,
                    mb = footprint.bytes() >> 20,
                    segments = disk.segments(),
                    ingest_files_read_in_place = disk.kept_ingest_files,
                    "cases table larger than its memory budget; the rest kept in local Arrow files"
                );
                if held.is_empty() {
                    disk.register(&self.ctx, "cases", derived_schema, self.partitions)
                        .await?;
                } else {
                    // The rows that fit stay in memory; `cases` is them, then the files.
                    let memory = MemTable::try_new(derived_schema.clone(), self.spread(held))?;
                    self.ctx.register_table(HELD_CASES, Arc::new(memory))?;
                    disk.register(&self.ctx, SPILLED_CASES, derived_schema, self.partitions)
                        .await?;
                    let union = format!(
                        "CREATE VIEW cases AS SELECT * FROM {HELD_CASES} UNION ALL SELECT * FROM {SPILLED_CASES}"
                    );
                    self.ctx.sql(&union).await?.collect().await?;
                }
                let read_in_place = disk.kept_ingest_files > 0;
                let mut dirs = self
                    .cases_dirs
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                dirs.push(disk.into_dir());
                dirs.extend(ingest_dir.filter(|_| read_in_place));
            }
        }
        self.ctx.sql(&params_sql(window)).await?.collect().await?;
        Ok(rows)
    }

    fn spread(&self, batches: Vec<RecordBatch>) -> Vec<Vec<RecordBatch>> {
        spread(batches, self.partitions)
    }

    /// Runs one report and returns its result schema and rows.
    pub async fn run(&self, query: &Query) -> anyhow::Result<(SchemaRef, Vec<RecordBatch>)> {
        let frame = self.ctx.sql(&query.sql).await?;
        let schema: SchemaRef = Arc::new(frame.schema().as_arrow().clone());
        Ok((schema, frame.collect().await?))
    }

    /// The inner cells disclosure control needs. On a local engine each partition of `cases`
    /// is streamed through a [`Grouper`] of its own, at the same time, and the groupings are
    /// merged; on a cluster, or when the breakdown has more values than a packed key holds,
    /// the engine groups them ([`Engine::inner_cells_sql`]).
    pub async fn inner_cells(&self, request: &InnerRequest) -> anyhow::Result<InnerCells> {
        if self.remote.is_some() {
            return self.inner_cells_sql(request).await;
        }
        let columns = request
            .scanned()
            .into_iter()
            .map(|name| Expr::Column(Column::new_unqualified(name)))
            .collect::<Vec<_>>();
        let streams = self
            .ctx
            .table("cases")
            .await?
            .select(columns)?
            .execute_stream_partitioned()
            .await?;
        let tasks: Vec<_> = streams
            .into_iter()
            .map(|mut stream| {
                let mut grouper = Grouper::new(request);
                tokio::spawn(async move {
                    let started = std::time::Instant::now();
                    while let Some(batch) = stream.next().await {
                        grouper.add(&batch?)?;
                        if grouper.too_wide() {
                            break;
                        }
                    }
                    tracing::debug!(
                        seconds = started.elapsed().as_secs_f64(),
                        "partition grouped"
                    );
                    anyhow::Ok(grouper)
                })
            })
            .collect();
        let started = std::time::Instant::now();
        let mut total = Grouper::new(request);
        for task in tasks {
            total.merge(task.await??);
        }
        tracing::debug!(
            seconds = started.elapsed().as_secs_f64(),
            "inner cells grouped"
        );
        if total.too_wide() {
            tracing::debug!("inner cells have too many values for packed keys; grouped by SQL");
            return self.inner_cells_sql(request).await;
        }
        let cells = total.finish();
        tracing::debug!(
            seconds = started.elapsed().as_secs_f64(),
            "inner cells sorted"
        );
        Ok(cells)
    }

    /// The inner cells grouped by the engine, from the SQL of [`InnerRequest::sql`].
    pub async fn inner_cells_sql(&self, request: &InnerRequest) -> anyhow::Result<InnerCells> {
        let mut results = Vec::new();
        for sql in request.sql() {
            results.push(self.ctx.sql(&sql).await?.collect().await?);
        }
        InnerCells::from_batches(request, &results)
    }

    /// Plans one report without running it and returns its result schema.
    pub async fn plan(&self, query: &Query) -> anyhow::Result<SchemaRef> {
        let frame = self.ctx.sql(&query.sql).await?;
        let schema: SchemaRef = Arc::new(frame.schema().as_arrow().clone());
        frame.create_physical_plan().await?;
        Ok(schema)
    }
}

/// Items dealt round-robin into `partitions` partitions: item `i` goes to `i % partitions`.
fn spread<T>(items: Vec<T>, partitions: usize) -> Vec<Vec<T>> {
    let partitions = partitions.max(1);
    let mut spread: Vec<Vec<T>> = (0..partitions).map(|_| Vec::new()).collect();
    for (index, item) in items.into_iter().enumerate() {
        spread[index % partitions].push(item);
    }
    spread
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
    let later = format!("closed_on > {as_of}");
    let columns: Vec<String> = schema
        .fields()
        .iter()
        .map(|field| match field.name().as_str() {
            "closed_on" => format!("CASE WHEN {later} THEN NULL ELSE closed_on END AS closed_on"),
            "outcome" => format!("outcome_as_of(outcome, closed_on, {as_of}) AS outcome"),
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

#[cfg(test)]
mod tests {
    use datafusion::arrow::datatypes::DataType;
    use indicatif::ProgressBar;

    use super::*;
    use crate::config::JobConfig;
    use crate::generate::{GenerateOptions, generate};
    use crate::ingest::{self, files};
    use crate::output;

    pub(super) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// Every report of the suite, run on `engine`, normalized as the writers see it.
    async fn reports(engine: &Engine) -> Vec<(String, RecordBatch)> {
        let mut tables = Vec::new();
        for query in crate::queries::load(&[], true).unwrap() {
            let (schema, batches) = engine.run(&query).await.unwrap();
            let table = output::normalize(&batches, &schema).unwrap();
            tables.push((query.name.clone(), table));
        }
        tables
    }

    #[tokio::test]
    async fn a_cases_table_kept_on_disk_gives_the_same_reports() {
        // As of the data's last day the cut changes no row: `cases` reads the ingested files
        // in place, and only the derived columns are written.
        spilled_cases_give_the_same_reports(date(2024, 6, 30), "2024-Q2", true).await;
        // As of an earlier day rows are cut and closures undone: the rows are written whole.
        spilled_cases_give_the_same_reports(date(2024, 3, 31), "2024-Q1", false).await;
    }

    /// `cases` generated cases opened from `start` to 2024-06-30, ingested into memory.
    pub(super) fn generated(cases: u64, seed: u64, start: NaiveDate) -> ingest::Ingested {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cases.csv");
        generate(&GenerateOptions {
            cases,
            seed,
            out: file.clone(),
            as_of: date(2024, 6, 30),
            start,
        })
        .unwrap();
        let inputs = files::list(&[file]).unwrap();
        let config = JobConfig::default();
        let unlimited = ingest::store::Budget::unlimited();
        ingest::ingest(&inputs, &config, &ProgressBar::hidden(), unlimited).unwrap()
    }

    async fn spilled_cases_give_the_same_reports(as_of: NaiveDate, period: &str, in_place: bool) {
        let ingested = generated(12_000, 7, date(2022, 1, 1));
        let window = Window {
            as_of,
            period: Some(Period::parse(period).unwrap()),
        };
        let batches = ingested.batches.batches().unwrap();
        let options = EngineOptions {
            partitions: 2,
            ..EngineOptions::default()
        };
        let memory = Engine::new(&options).unwrap();
        let mut in_memory = Accepted::new(ingested.batches.schema(), Budget::unlimited());
        for batch in &batches {
            in_memory.push(batch.clone()).unwrap();
        }
        let rows = memory.register_cases(in_memory, &window).await.unwrap();

        // Ingested rows and `cases` both on disk, `cases` converted in several chunks of small
        // batches, so it is written as several files.
        let spill = tempfile::tempdir().unwrap();
        let disk_options = EngineOptions {
            table_memory: 0,
            spill_dir: Some(spill.path().to_path_buf()),
            ..options
        };
        let mut disk = Engine::new(&disk_options).unwrap();
        disk.chunk_batches = 2;
        // The ingested rows in batches of 2,500, each written to a file of its own.
        let sliced_to_disk = || {
            let mut on_disk =
                Accepted::new(ingested.batches.schema(), disk_options.ingest_budget());
            for batch in &batches {
                for start in (0..batch.num_rows()).step_by(2_500) {
                    let length = 2_500.min(batch.num_rows() - start);
                    on_disk.push(batch.slice(start, length)).unwrap();
                }
            }
            on_disk
        };
        let on_disk = sliced_to_disk();
        assert_eq!(on_disk.spilled(), 5);
        assert_eq!(disk.register_cases(on_disk, &window).await.unwrap(), rows);
        // DataFusion's own spill folder for sorts and aggregations sits beside ours.
        let ours = || -> Vec<PathBuf> {
            std::fs::read_dir(spill.path())
                .unwrap()
                .map(|entry| entry.unwrap().path())
                .filter(|path| path.to_string_lossy().contains("dispute-stats-"))
                .collect()
        };
        let files = || -> Vec<usize> {
            let mut files: Vec<usize> = ours()
                .iter()
                .map(|folder| std::fs::read_dir(folder).unwrap().count())
                .collect();
            files.sort_unstable();
            files
        };
        if in_place {
            // The ingest folder with its five files, and one of the derived columns of each.
            assert_eq!(files(), [5, 5]);
        } else {
            // The ingest folder is gone; one file per chunk of two small batches is left.
            assert_eq!(files(), [3]);
        }

        let (expected_reports, got) = (reports(&memory).await, reports(&disk).await);
        assert_eq!(expected_reports.len(), got.len());
        for ((name, expected), (_, got)) in expected_reports.iter().zip(&got) {
            assert!(expected.num_rows() > 0, "{name}");
            assert_eq!(expected, got, "{name}");
        }

        // The inner cells of the whole suite: grouped here from memory and from the mapped
        // files, and by the engine's SQL, alike.
        let cases = memory.ctx.table("cases").await.unwrap();
        let suite = crate::queries::load(&[], true).unwrap();
        let request = InnerRequest::new(&suite, cases.schema().as_arrow(), 2);
        assert!(request.columns.len() >= 6 && !request.sources.is_empty());
        let expected = memory.inner_cells_sql(&request).await.unwrap();
        assert!(expected.len() > 1_000, "{}", expected.len());
        assert_eq!(memory.inner_cells(&request).await.unwrap(), expected);
        assert_eq!(disk.inner_cells(&request).await.unwrap(), expected);
        drop(disk);
        assert_eq!(ours(), Vec::<PathBuf>::new());

        // A budget that holds some chunks of `cases` but not all: the first ones stay in
        // memory, the rest go to disk, and the reports and inner cells are the same again.
        use datafusion::arrow::array::AsArray;
        use datafusion::arrow::datatypes::Int64Type;
        let held = memory.ctx.sql("SELECT * FROM cases").await.unwrap();
        let mut whole = Footprint::default();
        for batch in &held.collect().await.unwrap() {
            whole.add(batch);
        }
        let mut splits = 0;
        for tenth in 1..10 {
            let split_options = EngineOptions {
                table_memory: whole.bytes() * tenth / 10,
                ..disk_options.clone()
            };
            let mut split = Engine::new(&split_options).unwrap();
            split.chunk_batches = 2;
            // Ingested rows read back from files, so that no chunk shares another's buffers.
            assert_eq!(
                split
                    .register_cases(sliced_to_disk(), &window)
                    .await
                    .unwrap(),
                rows
            );
            if !split.ctx.table_exist(HELD_CASES).unwrap() {
                continue;
            }
            let count = |table: &'static str| {
                let ctx = split.ctx.clone();
                async move {
                    let sql = format!("SELECT count(*) FROM {table}");
                    let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
                    let counts = batches[0].column(0).as_primitive::<Int64Type>();
                    counts.value(0) as u64
                }
            };
            let (in_memory, on_disk) = (count(HELD_CASES).await, count(SPILLED_CASES).await);
            assert!(
                in_memory > 0 && on_disk > 0,
                "{tenth}: {in_memory} {on_disk}"
            );
            assert_eq!(in_memory + on_disk, rows);
            let written = files();
            if in_place {
                // The ingested files of the chunks on disk and their derived columns.
                assert!(
                    matches!(written[..], [a, b] if a == b && a > 0),
                    "{written:?}"
                );
            } else {
                assert!(matches!(written[..], [1 | 2]), "{tenth}: {written:?}");
            }
            let got = reports(&split).await;
            for ((name, expected), (_, got)) in expected_reports.iter().zip(&got) {
                assert_eq!(expected, got, "{tenth}: {name}");
            }
            assert_eq!(split.inner_cells(&request).await.unwrap(), expected);
            drop(split);
            assert_eq!(ours(), Vec::<PathBuf>::new());
            splits += 1;
            break;
        }
        assert_eq!(splits, 1, "no budget held only part of `cases`");
    }

    /// A random `cases` table for the inner cells: a dictionary column (its dictionary shared
    /// by some batches, not others), a text and an integer column, each with NULLs, and a
    /// decimal and a float amount with NULLs; in 1–3 partitions of 0–4 batches.
    fn inner_cases() -> impl proptest::strategy::Strategy<Value = (Vec<Vec<RecordBatch>>, usize)> {
        use datafusion::arrow::array::{
            ArrayRef, Decimal128Array, DictionaryArray, Float64Array, Int32Array, StringArray,
        };
        use datafusion::arrow::datatypes::{Field, Int32Type, Schema};
        use proptest::prelude::*;
        type Row = (Option<u8>, Option<u8>, Option<i32>, Option<i64>, Option<u8>);
        let row = (
            proptest::option::of(0u8..5),
            proptest::option::of(0u8..4),
            proptest::option::of(-2i32..3),
            proptest::option::of(-500i64..100_000),
            proptest::option::of(0u8..20),
        );
        let batch = (proptest::collection::vec(row, 0..40), any::<bool>());
        let partition = proptest::collection::vec(batch, 0..5);
        (proptest::collection::vec(partition, 1..4), 1usize..4).prop_map(|(partitions, top_n)| {
            let schema = Arc::new(Schema::new(vec![
                Field::new(
                    "region",
                    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                    true,
                ),
                Field::new("month", DataType::Utf8, true),
                Field::new("days", DataType::Int32, true),
                Field::new("amount", DataType::Decimal128(18, 2), true),
                Field::new("score", DataType::Float64, true),
            ]));
            let shared: ArrayRef = Arc::new(StringArray::from(vec![
                "north", "south", "east", "west", "x",
            ]));
            let batch = |rows: &[Row], own: bool| -> RecordBatch {
                // An own dictionary lists the values in another order, with one unused.
                let (values, key): (ArrayRef, fn(u8) -> i32) = if own {
                    let own: ArrayRef = Arc::new(StringArray::from(vec![
                        Some("unused"),
                        Some("x"),
                        Some("west"),
                        Some("east"),
                        Some("south"),
                        Some("north"),
                    ]));
                    (own, |r| 5 - i32::from(r))
                } else {
                    (shared.clone(), i32::from)
                };
                let keys = Int32Array::from(rows.iter().map(|r| r.0.map(key)).collect::<Vec<_>>());
                let region = DictionaryArray::<Int32Type>::try_new(keys, values).unwrap();
                let month = StringArray::from(
                    rows.iter()
                        .map(|r| r.1.map(|m| format!("2024-0{}", m + 1)))
                        .collect::<Vec<_>>(),
                );
                let columns: Vec<ArrayRef> = vec![
                    Arc::new(region),
                    Arc::new(month),
                    Arc::new(Int32Array::from(
                        rows.iter().map(|r| r.2).collect::<Vec<_>>(),
                    )),
                    Arc::new(
                        Decimal128Array::from(
                            rows.iter().map(|r| r.3.map(i128::from)).collect::<Vec<_>>(),
                        )
                        .with_precision_and_scale(18, 2)
                        .unwrap(),
                    ),
                    Arc::new(Float64Array::from(
                        rows.iter()
                            .map(|r| r.4.map(|v| f64::from(v) / 4.0))
                            .collect::<Vec<_>>(),
                    )),
                ];
                RecordBatch::try_new(schema.clone(), columns).unwrap()
            };
            let partitions = partitions
                .iter()
                .map(|batches| {
                    batches
                        .iter()
                        .map(|(rows, own)| batch(rows, *own))
                        .collect()
                })
                .collect();
            (partitions, top_n)
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Grouped a partition at a time and merged, or by the engine: the same inner cells,
        /// for every subset of the breakdown columns.
        #[test]
        fn inner_cells_grouped_here_equal_the_engines((partitions, top_n) in inner_cases()) {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
            runtime.block_on(async {
                let engine = Engine::new(&EngineOptions::default()).unwrap();
                let schema = partitions.iter().flatten().next().map(|b| b.schema());
                let Some(schema) = schema else { return };
                let table = MemTable::try_new(schema, partitions).unwrap();
                engine.ctx.register_table("cases", Arc::new(table)).unwrap();
                let all = ["region", "month", "days"];
                for mask in 0..8usize {
                    let request = InnerRequest {
                        columns: all.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, c)| c.to_string()).collect(),
                        sources: vec!["amount".into(), "score".into()],
                        top_n,
                    };
                    let expected = engine.inner_cells_sql(&request).await.unwrap();
                    let got = engine.inner_cells(&request).await.unwrap();
                    assert_eq!(got, expected, "{:?}", request.columns);
                }
            });
        }
    }

    #[tokio::test]
    async fn inner_cells_too_wide_for_a_packed_key_are_grouped_by_the_engine() {
        use datafusion::arrow::array::{ArrayRef, Int32Array};
        use datafusion::arrow::datatypes::{Field, Schema};
        let engine = Engine::new(&EngineOptions::default()).unwrap();
        // Nine columns, one with more values than a code holds.
        let names: Vec<String> = (0..9).map(|i| format!("c{i}")).collect();
        let schema = Arc::new(Schema::new(
            names
                .iter()
                .map(|n| Field::new(n, DataType::Int32, true))
                .collect::<Vec<_>>(),
        ));
        let rows = 70_000;
        let columns: Vec<ArrayRef> = (0..9)
            .map(|i| {
                let values: Vec<i32> = (0..rows)
                    .map(|r| if i == 0 { r } else { r % (i + 1) })
                    .collect();
                Arc::new(Int32Array::from(values)) as ArrayRef
            })
            .collect();
        let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
        let table = MemTable::try_new(schema, vec![vec![batch]]).unwrap();
        engine.ctx.register_table("cases", Arc::new(table)).unwrap();
        for columns in [names.clone(), vec!["c0".to_string()], names[1..].to_vec()] {
            let request = InnerRequest {
                columns,
                sources: vec!["c1".into()],
                top_n: 2,
            };
            let mut grouper = Grouper::new(&request);
            let scanned = engine
                .ctx
                .table("cases")
                .await
                .unwrap()
                .collect()
                .await
                .unwrap();
            for batch in &scanned {
                grouper.add(batch).unwrap();
            }
            let wide = request.columns.len() > 8 || request.columns[0] == "c0";
            assert_eq!(grouper.too_wide(), wide, "{:?}", request.columns);
            let expected = engine.inner_cells_sql(&request).await.unwrap();
            assert_eq!(engine.inner_cells(&request).await.unwrap(), expected);
        }
    }
}
