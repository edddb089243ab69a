//! The engine on an Apache DataFusion Ballista cluster (`--engine df://HOST:PORT`, cargo
//! feature `distributed`).
//!
//! What runs where: this process reads, validates and derives `cases` exactly as a local run
//! does, writes them as Parquet into a staging folder that every executor reads at the same
//! path, and registers that folder as table `cases` of a Ballista session. `params` is a view
//! over literals, so it travels inside every plan. Reports are planned by the scheduler and run
//! by the executors; their results come back here, where disclosure control and the writers
//! run as usual. The scheduler and the executors must know the project's SQL functions: run
//! them as `dispute-stats scheduler` and `dispute-stats executor` (see [`crate::cluster`]).

use std::path::PathBuf;

use super::{Engine, EngineOptions};
use crate::error::usage;

/// Port of a scheduler address given without one (Ballista's default).
pub const DEFAULT_PORT: u16 = 50050;

/// Where the cluster is and where this process stages `cases` for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterOptions {
    /// The scheduler's address as given, `df://HOST:PORT` (for messages and logs).
    pub address: String,
    /// The scheduler's host.
    pub host: String,
    /// The scheduler's gRPC port.
    pub port: u16,
    /// Folder every executor reads at the same path; each run stages in a fresh subfolder and
    /// removes it when done. `None`: the system's temporary folder (a scheduler on this machine
    /// only).
    pub storage: Option<PathBuf>,
    /// Partitions a report is split into on the cluster; `None`: as in a local run.
    pub partitions: Option<usize>,
}

impl ClusterOptions {
    /// Parses `df://HOST[:PORT]`; anything else is a usage error naming the address.
    pub fn parse(address: &str, storage: Option<PathBuf>) -> anyhow::Result<ClusterOptions> {
        let bad = |why: &str| {
            usage(format!(
                "`{address}`: {why} (expected `df://HOST:PORT`, e.g. `df://127.0.0.1:{DEFAULT_PORT}`)"
            ))
        };
        let rest = address
            .strip_prefix("df://")
            .ok_or_else(|| bad("not a Ballista scheduler address"))?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() || rest.contains(['/', '?', '#', '@']) {
            return Err(bad("give only a host and a port"));
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(':') && !port.contains(']') => {
                let port: u16 = port
                    .parse()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| bad("the port must be a number between 1 and 65535"))?;
                (host, port)
            }
            _ => (rest, DEFAULT_PORT),
        };
        if host.is_empty() || host.trim() != host {
            return Err(bad("no host"));
        }
        Ok(ClusterOptions {
            address: address.to_string(),
            host: host.to_string(),
            port,
            storage,
            partitions: None,
        })
    }

    /// Whether the scheduler runs on this machine (then the temporary folder can be shared).
    pub fn is_loopback(&self) -> bool {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// The scheduler's gRPC endpoint, `http://HOST:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }
}

impl Engine {
    /// Opens the session the options ask for: in this process, or on a cluster. A cluster is
    /// reached here, before any input is read, so an unreachable one fails the run early.
    pub async fn open(options: &EngineOptions) -> anyhow::Result<Engine> {
        match &options.cluster {
            None => Engine::new(options),
            Some(cluster) => remote::connect(options, cluster).await,
        }
    }
}

pub use remote::Remote;

#[cfg(not(feature = "distributed"))]
mod remote {
    use datafusion::prelude::SessionContext;

    use super::ClusterOptions;
    use crate::engine::{Engine, EngineOptions, Window};
    use crate::error::usage;
    use crate::ingest::store::Accepted;

    /// A cluster session's state; this build has none.
    pub enum Remote {}

    impl Remote {
        pub(in crate::engine) async fn register_cases(
            &self,
            _ctx: &SessionContext,
            _rows: Accepted,
            _window: &Window,
        ) -> anyhow::Result<u64> {
            match *self {}
        }
    }

    pub(super) async fn connect(
        _options: &EngineOptions,
        cluster: &ClusterOptions,
    ) -> anyhow::Result<Engine> {
        Err(usage(format!(
            "`--engine {}`: this build cannot run on a cluster (build with `--features distributed`)",
            cluster.address
        )))
    }
}

#[cfg(feature = "distributed")]
mod remote {
    use std::path::{Path, PathBuf};
    use std::sync::Arc;
    use std::time::Duration;

    use anyhow::Context;
    use ballista::prelude::{SessionConfigExt, SessionContextExt};
    use ballista_core::config::BallistaConfig;
    use ballista_core::utils::{GrpcClientConfig, create_grpc_client_connection};
    use datafusion::arrow::datatypes::{DataType, SchemaRef};
    use datafusion::catalog::default_table_source::source_as_provider;
    use datafusion::common::ScalarValue;
    use datafusion::common::config::ConfigOptions;
    use datafusion::common::tree_node::Transformed;
    use datafusion::dataframe::{DataFrame, DataFrameWriteOptions};
    use datafusion::datasource::file_format::parquet::ParquetFormat;
    use datafusion::datasource::listing::{
        ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
    };
    use datafusion::execution::SessionStateBuilder;
    use datafusion::functions_table::generate_series::GenerateSeriesTable;
    use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder, TableScan};
    use datafusion::optimizer::AnalyzerRule;
    use datafusion::prelude::{Expr, SessionConfig, SessionContext, cast, ident, lit};

    use super::ClusterOptions;
    use crate::engine::{Engine, EngineOptions, Window, functions, params_sql};
    use crate::ingest::store::Accepted;

    /// The folder as a listing path (a trailing slash marks a folder).
    fn folder_url(dir: &Path) -> String {
        let mut path = dir.display().to_string();
        if !path.ends_with('/') {
            path.push('/');
        }
        path
    }

    /// Registers the Parquet files of a folder as table `name`, read with `schema` (the schema of
    /// the table they were written from, so that types come back as they were).
    fn register_parquet_folder(
        ctx: &SessionContext,
        name: &str,
        dir: &Path,
        schema: SchemaRef,
    ) -> anyhow::Result<()> {
        let options =
            ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
        let config = ListingTableConfig::new(ListingTableUrl::parse(folder_url(dir))?)
            .with_listing_options(options)
            .with_schema(schema);
        ctx.register_table(name, Arc::new(ListingTable::try_new(config)?))?;
        Ok(())
    }

    /// How long reaching the scheduler may take before the run fails.
    const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

    /// A cluster session's state: the folder this run staged `cases` in (removed on drop) and
    /// the options of the in-process session that derives them.
    pub struct Remote {
        staged: PathBuf,
        local: EngineOptions,
    }

    impl Drop for Remote {
        fn drop(&mut self) {
            if let Err(e) = std::fs::remove_dir_all(&self.staged) {
                tracing::warn!(folder = %self.staged.display(), "cannot remove staged cases: {e}");
            }
        }
    }

    /// Reaches the scheduler, then builds a Ballista session with the project's functions.
    pub(super) async fn connect(
        options: &EngineOptions,
        cluster: &ClusterOptions,
    ) -> anyhow::Result<Engine> {
        reach(cluster).await?;
        let partitions = cluster.partitions.unwrap_or(options.partitions).max(1);
        let config = SessionConfig::new_with_ballista()
            .with_target_partitions(partitions)
            .with_information_schema(true);
        let state = SessionStateBuilder::new()
            .with_config(config)
            .with_default_features()
            .build();
        let ctx = SessionContext::remote_with_state(&cluster.address, state)
            .await
            .with_context(|| format!("cannot open a session on `{}`", cluster.address))?;
        // Functions must be registered on the context Ballista returns: the state passed in
        // loses them.
        functions::register(&ctx);
        ctx.add_analyzer_rule(Arc::new(SeriesAsValues));
        ctx.add_optimizer_rule(Arc::new(crate::engine::share::ShareFits::default()));
        let staged = stage_folder(cluster)?;
        tracing::info!(
            engine = %cluster.address,
            staged = %staged.display(),
            "running the reports on a Ballista cluster"
        );
        let local = EngineOptions {
            cluster: None,
            ..options.clone()
        };
        let remote = Remote { staged, local };
        Ok(Engine::with_context(ctx, partitions, options, Some(remote)))
    }

    /// Opens a gRPC connection to the scheduler: a wrong address fails here, naming it.
    async fn reach(cluster: &ClusterOptions) -> anyhow::Result<()> {
        let failed = || {
            format!(
                "cannot reach the Ballista scheduler at `{}`",
                cluster.address
            )
        };
        let grpc = GrpcClientConfig::from(&BallistaConfig::default());
        let attempt = create_grpc_client_connection(cluster.endpoint(), &grpc);
        match tokio::time::timeout(CONNECT_TIMEOUT, attempt).await {
            Ok(Ok(_channel)) => Ok(()),
            Ok(Err(e)) => Err(anyhow::Error::new(e).context(failed())),
            Err(_) => Err(anyhow::anyhow!(
                "{}: no answer within {} s",
                failed(),
                CONNECT_TIMEOUT.as_secs()
            )),
        }
    }

    /// A fresh folder for this run's `cases`, under the shared storage folder.
    fn stage_folder(cluster: &ClusterOptions) -> anyhow::Result<PathBuf> {
        let root = match &cluster.storage {
            Some(dir) => std::path::absolute(dir)
                .with_context(|| format!("cluster storage `{}`", dir.display()))?,
            None => std::env::temp_dir(),
        };
        let name = format!(
            "dispute-stats-cases-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        );
        let staged = root.join(name);
        std::fs::create_dir_all(&staged)
            .with_context(|| format!("cannot create `{}`", staged.display()))?;
        Ok(staged)
    }

    impl Remote {
        /// Derives `cases` in process (the same SQL as a local run), stages them as Parquet and
        /// registers the staged folder as `cases` on the cluster session, with `params`.
        pub(in crate::engine) async fn register_cases(
            &self,
            ctx: &SessionContext,
            rows: Accepted,
            window: &Window,
        ) -> anyhow::Result<u64> {
            let local = Engine::new(&self.local)?;
            let rows = Box::pin(local.register_cases(rows, window)).await?;
            let cases = plain_text(local.ctx.table("cases").await?)?;
            let schema: SchemaRef = Arc::new(cases.schema().as_arrow().clone());
            let folder = folder_url(&self.staged);
            cases
                .write_parquet(&folder, DataFrameWriteOptions::new(), None)
                .await
                .with_context(|| format!("cannot stage cases in `{folder}`"))?;
            register_parquet_folder(ctx, "cases", &self.staged, schema)?;
            ctx.sql(&params_sql(window)).await?.collect().await?;
            Ok(rows)
        }
    }

    /// Category columns decoded from dictionaries to plain text. Ballista 55 sends results and
    /// shuffled data over Arrow Flight with dictionaries hydrated to their values, while the
    /// receiving side still expects the planned dictionary type ("column types must match
    /// schema types"); reports decode categories to text anyway ([`crate::output::normalize`]).
    fn plain_text(cases: DataFrame) -> datafusion::common::Result<DataFrame> {
        let columns: Vec<Expr> = cases
            .schema()
            .fields()
            .iter()
            .map(|field| match field.data_type() {
                DataType::Dictionary(_, value) => {
                    cast(ident(field.name()), value.as_ref().clone()).alias(field.name())
                }
                _ => ident(field.name()),
            })
            .collect();
        cases.select(columns)
    }

    /// Largest `generate_series` / `range` inlined as literal rows.
    const MAX_SERIES_ROWS: usize = 100_000;

    /// Replaces scans of `generate_series(…)` / `range(…)` by the literal rows they produce.
    /// Ballista 55 cannot send a table function's scan to the scheduler ("Error serializing
    /// custom table … LogicalExtensionCodec is not provided"); literal rows travel as a plain
    /// `VALUES` list. Reports keep calling the table functions.
    #[derive(Debug)]
    struct SeriesAsValues;

    impl AnalyzerRule for SeriesAsValues {
        fn analyze(
            &self,
            plan: LogicalPlan,
            config: &ConfigOptions,
        ) -> datafusion::common::Result<LogicalPlan> {
            let batch_size = config.execution.batch_size.get();
            plan.transform_up_with_subqueries(|node| match &node {
                LogicalPlan::TableScan(scan) => match series_values(scan, batch_size)? {
                    Some(values) => Ok(Transformed::yes(values)),
                    None => Ok(Transformed::no(node)),
                },
                _ => Ok(Transformed::no(node)),
            })
            .map(|transformed| transformed.data)
        }

        fn name(&self) -> &str {
            "series_as_values"
        }
    }

    /// The rows of a series scan as `VALUES`, with the scan's column names and qualifier.
    fn series_values(
        scan: &TableScan,
        batch_size: usize,
    ) -> datafusion::common::Result<Option<LogicalPlan>> {
        let Ok(provider) = source_as_provider(&scan.source) else {
            return Ok(None);
        };
        let Some(series) = provider.downcast_ref::<GenerateSeriesTable>() else {
            return Ok(None);
        };
        if !scan.filters.is_empty() || scan.fetch.is_some() {
            return Ok(None);
        }
        let generator = series.as_generator(batch_size)?;
        let mut rows: Vec<Vec<Expr>> = Vec::new();
        while let Some(batch) = generator.write().generate_next_batch()? {
            if rows.len() + batch.num_rows() > MAX_SERIES_ROWS {
                return Ok(None);
            }
            let batch = match &scan.projection {
                Some(projection) => batch.project(projection)?,
                None => batch,
            };
            for row in 0..batch.num_rows() {
                rows.push(
                    batch
                        .columns()
                        .iter()
                        .map(|column| ScalarValue::try_from_array(column, row).map(lit))
                        .collect::<datafusion::common::Result<_>>()?,
                );
            }
        }
        let fields = scan.projected_schema.fields();
        if rows.is_empty() || fields.is_empty() {
            return Ok(None);
        }
        let names: Vec<Expr> = fields
            .iter()
            .enumerate()
            .map(|(index, field)| ident(format!("column{}", index + 1)).alias(field.name()))
            .collect();
        LogicalPlanBuilder::values(rows)?
            .project(names)?
            .alias(scan.table_name.clone())?
            .build()
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_scheduler_addresses() {
        let options = ClusterOptions::parse("df://127.0.0.1:50123", None).unwrap();
        assert_eq!((options.host.as_str(), options.port), ("127.0.0.1", 50123));
        assert!(options.is_loopback());
        assert_eq!(options.endpoint(), "http://127.0.0.1:50123");
        let options = ClusterOptions::parse("df://scheduler.internal", None).unwrap();
        assert_eq!(options.port, DEFAULT_PORT);
        assert!(!options.is_loopback());
        let options = ClusterOptions::parse("df://[::1]:7000/", None).unwrap();
        assert_eq!((options.host.as_str(), options.port), ("[::1]", 7000));
        assert!(options.is_loopback());
        for bad in [
            "127.0.0.1:50050",
            "http://h:1",
            "df://",
            "df://h:0",
            "df://h:x",
            "df://h:1/db",
        ] {
            let error = ClusterOptions::parse(bad, None).unwrap_err();
            assert_eq!(crate::error::exit_code(&error), crate::error::EXIT_USAGE);
            assert!(error.to_string().contains(bad), "{error}");
        }
    }
}
