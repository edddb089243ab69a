//! Running on an Apache DataFusion Ballista cluster (cargo feature `distributed`): the
//! `--engine` / `--cluster-storage` options of `run` and `sql`, and the `scheduler` and
//! `executor` commands, which start Ballista's scheduler and executor with the project's SQL
//! functions registered (both resolve functions by name, so stock Ballista binaries cannot run
//! our reports). The session side is in [`crate::engine::cluster`].

use std::path::PathBuf;

use clap::Args;

use crate::config::RunConfig;
use crate::engine::cluster::ClusterOptions;
use crate::error::usage;

/// Where the reports run (flags of `run` and `sql`; only in builds with feature `distributed`).
#[derive(Debug, Clone, Default, Args)]
pub struct ClusterArgs {
    /// Run the reports on a Ballista cluster: its scheduler's address, `df://HOST:PORT`
    /// (started with `dispute-stats scheduler`). Default: in this process.
    #[cfg(feature = "distributed")]
    #[arg(long, value_name = "df://HOST:PORT")]
    pub engine: Option<String>,
    /// Folder every executor reads at the same path (a shared mount), where the validated cases
    /// are staged for the cluster; required unless the scheduler runs on this machine
    /// [default: the temporary folder].
    #[cfg(feature = "distributed")]
    #[arg(long, value_name = "DIR", requires = "engine")]
    pub cluster_storage: Option<PathBuf>,
    /// Partitions a report is split into on the cluster; about the executors' task slots in
    /// total [default: the number of CPU cores here].
    #[cfg(feature = "distributed")]
    #[arg(long, value_name = "N", requires = "engine", value_parser = clap::value_parser!(u16).range(1..))]
    pub cluster_partitions: Option<u16>,
}

impl ClusterArgs {
    #[cfg(feature = "distributed")]
    fn flags(&self) -> (Option<String>, Option<PathBuf>, Option<usize>) {
        (
            self.engine.clone(),
            self.cluster_storage.clone(),
            self.cluster_partitions.map(usize::from),
        )
    }

    #[cfg(not(feature = "distributed"))]
    fn flags(&self) -> (Option<String>, Option<PathBuf>, Option<usize>) {
        (None, None, None)
    }
}

/// The cluster to run on, from flags, else the config's `[run] engine`, `cluster_storage` and
/// `cluster_partitions`.
pub fn resolve(args: &ClusterArgs, run: &RunConfig) -> anyhow::Result<Option<ClusterOptions>> {
    let (engine, storage, partitions) = args.flags();
    let Some(address) = engine.or_else(|| run.engine.clone()) else {
        return Ok(None);
    };
    if cfg!(not(feature = "distributed")) {
        return Err(usage(format!(
            "`run.engine = \"{address}\"`: this build cannot run on a cluster (build with `--features distributed`)"
        )));
    }
    let mut options =
        ClusterOptions::parse(&address, storage.or_else(|| run.cluster_storage.clone()))?;
    options.partitions = match partitions.or(run.cluster_partitions) {
        Some(0) => return Err(usage("`run.cluster_partitions` must be at least 1")),
        other => other,
    };
    if options.storage.is_none() && !options.is_loopback() {
        return Err(usage(format!(
            "`--engine {address}` is not on this machine: give `--cluster-storage DIR` (or `run.cluster_storage`), a folder every executor reads at the same path"
        )));
    }
    Ok(Some(options))
}

#[cfg(feature = "distributed")]
pub use servers::{ExecutorArgs, SchedulerArgs, executor, scheduler};

#[cfg(feature = "distributed")]
mod servers {
    use std::net::SocketAddr;
    use std::path::PathBuf;
    use std::sync::Arc;

    use anyhow::Context;
    use ballista_core::registry::BallistaFunctionRegistry;
    use ballista_core::utils::{default_config_producer, default_session_builder};
    use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
    use ballista_scheduler::cluster::BallistaCluster;
    use ballista_scheduler::config::{SchedulerConfig, TaskDistributionPolicy};
    use ballista_scheduler::scheduler_process::start_server;
    use clap::Args;
    use datafusion::execution::SessionState;
    use datafusion::prelude::{SessionConfig, SessionContext};

    use crate::engine::cluster::{ClusterOptions, DEFAULT_PORT};
    use crate::engine::functions;
    use crate::run::parse_bytes;

    /// Arguments of `scheduler`.
    #[derive(Debug, Clone, Args)]
    pub struct SchedulerArgs {
        /// Address to listen on (`0.0.0.0` for every interface).
        #[arg(long, default_value = "127.0.0.1")]
        pub bind_host: String,
        /// Port of the scheduler; clients run with `--engine df://HOST:PORT`.
        #[arg(long, default_value_t = DEFAULT_PORT)]
        pub port: u16,
        /// Host name executors and clients reach this scheduler at (set it on a real cluster).
        #[arg(long, default_value = "localhost")]
        pub external_host: String,
        /// How tasks are spread over the executors' free slots.
        #[arg(long, value_enum, default_value_t = Distribution::Bias)]
        pub task_distribution: Distribution,
    }

    /// Ballista's task distribution policies.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
    pub enum Distribution {
        /// Fill an executor's free slots before the next one's (fewer transfers).
        Bias,
        /// One task per executor in turn (spreads the load).
        RoundRobin,
    }

    /// Arguments of `executor`.
    #[derive(Debug, Clone, Args)]
    pub struct ExecutorArgs {
        /// The scheduler to register with.
        #[arg(
            long,
            value_name = "df://HOST:PORT",
            default_value = "df://localhost:50050"
        )]
        pub scheduler: String,
        /// Address to listen on (`0.0.0.0` for every interface).
        #[arg(long, default_value = "127.0.0.1")]
        pub bind_host: String,
        /// Host name the scheduler, the clients and other executors reach this executor at
        /// [default: the address it connects from].
        #[arg(long)]
        pub external_host: Option<String>,
        /// Arrow Flight port: results and shuffle data are fetched from it.
        #[arg(long, default_value_t = 50051)]
        pub port: u16,
        /// gRPC port: the scheduler sends tasks to it.
        #[arg(long, default_value_t = 50052)]
        pub grpc_port: u16,
        /// Tasks run at the same time [default: the number of CPU cores].
        #[arg(long)]
        pub concurrent_tasks: Option<usize>,
        /// Memory for running tasks, e.g. `8GiB`, shared by the concurrent tasks; sorts and
        /// aggregations spill above it [default: Ballista's share of the machine's memory].
        #[arg(long)]
        pub memory_limit: Option<String>,
        /// Folder for shuffle files [default: a new folder in the temporary folder].
        #[arg(long, value_name = "DIR")]
        pub work_dir: Option<PathBuf>,
    }

    /// A session state with DataFusion's and Ballista's functions and the project's own.
    fn session_with_functions(config: SessionConfig) -> datafusion::common::Result<SessionState> {
        let ctx = SessionContext::new_with_state(default_session_builder(config)?);
        functions::register(&ctx);
        Ok(ctx.state())
    }

    /// `scheduler`: Ballista's scheduler, planning with the project's functions.
    pub async fn scheduler(args: &SchedulerArgs) -> anyhow::Result<()> {
        let address: SocketAddr = format!("{}:{}", args.bind_host, args.port)
            .parse()
            .map_err(|e| crate::error::usage(format!("`--bind-host {}`: {e}", args.bind_host)))?;
        let config = SchedulerConfig {
            bind_host: args.bind_host.clone(),
            bind_port: args.port,
            external_host: args.external_host.clone(),
            task_distribution: match args.task_distribution {
                Distribution::Bias => TaskDistributionPolicy::Bias,
                Distribution::RoundRobin => TaskDistributionPolicy::RoundRobin,
            },
            ..SchedulerConfig::default()
        }
        .with_override_session_builder(Arc::new(session_with_functions));
        let cluster = BallistaCluster::new_from_config(&config).await?;
        tracing::info!(%address, "scheduler listening");
        start_server(cluster, address, Arc::new(config))
            .await
            .with_context(|| format!("scheduler on {address}"))
    }

    /// `executor`: Ballista's executor, running tasks with the project's functions.
    pub async fn executor(args: &ExecutorArgs) -> anyhow::Result<()> {
        let scheduler = ClusterOptions::parse(&args.scheduler, None)?;
        let (work_dir, temporary) = match &args.work_dir {
            Some(dir) => (std::path::absolute(dir)?, false),
            None => (
                std::env::temp_dir().join(format!("dispute-stats-executor-{}", std::process::id())),
                true,
            ),
        };
        std::fs::create_dir_all(&work_dir)
            .with_context(|| format!("cannot create `{}`", work_dir.display()))?;
        let memory_pool_size = match &args.memory_limit {
            Some(text) => Some(parse_bytes(text)? as u64),
            None => None,
        };
        let registry =
            BallistaFunctionRegistry::from(&session_with_functions(default_config_producer())?);
        let defaults = ExecutorProcessConfig::default();
        let config = ExecutorProcessConfig {
            bind_host: args.bind_host.clone(),
            external_host: args.external_host.clone(),
            port: args.port,
            grpc_port: args.grpc_port,
            scheduler_host: scheduler.host.clone(),
            scheduler_port: scheduler.port,
            // Wait for a scheduler that is still starting.
            scheduler_connect_timeout_seconds: 60,
            vcores: args.concurrent_tasks.unwrap_or(defaults.vcores),
            work_dir: Some(work_dir.display().to_string()),
            memory_pool_size,
            override_function_registry: Some(Arc::new(registry)),
            ..defaults
        };
        tracing::info!(scheduler = %scheduler.address, port = args.port, "executor starting");
        let result = start_executor_process(Arc::new(config)).await;
        if temporary {
            let _ = std::fs::remove_dir_all(&work_dir);
        }
        result.with_context(|| format!("executor of `{}`", scheduler.address))
    }
}
