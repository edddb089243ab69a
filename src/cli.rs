//! Command-line arguments (clap derive). Doc comments are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::output::labels::Lang;

/// Turns anonymized dispute case outcomes into published statistical reports.
#[derive(Debug, Parser)]
#[command(name = "dispute-stats", version, about, long_about = None)]
pub struct Cli {
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// More log output (-v info, -vv debug).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Log output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ingest, validate, run the report suite and publish a release.
    Run(RunArgs),
    /// List the reports of the suite.
    List(SuiteArgs),
    /// Parse every query header and plan every query, without reading data.
    Check(SuiteArgs),
    /// Run one SQL query on the validated `cases` table and print CSV.
    Sql(SqlArgs),
    /// Write synthetic contract-shaped cases.
    Generate(GenerateArgs),
    /// Start a Ballista scheduler that knows the project's SQL functions.
    #[cfg(feature = "distributed")]
    Scheduler(crate::cluster::SchedulerArgs),
    /// Start a Ballista executor that knows the project's SQL functions.
    #[cfg(feature = "distributed")]
    Executor(crate::cluster::ExecutorArgs),
}

/// Where the data comes from and how it is mapped.
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// Input files, folders or globs (CSV, CSV.gz, CSV.zst, Parquet, NDJSON); default: the bundled sample.
    #[arg(long, short, num_args = 1..)]
    pub input: Vec<PathBuf>,
    /// Job config (TOML): column and label mapping, filter, privacy settings.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Reporting period: `YYYY`, `YYYY-MM` or `YYYY-Qn`.
    #[arg(long)]
    pub period: Option<String>,
    /// As-of date `YYYY-MM-DD` (default: the period end, else the latest date in the input).
    #[arg(long)]
    pub as_of: Option<String>,
    /// Memory budget, e.g. `2GiB`, `512MiB` (default: a quarter of RAM, at most 4GiB): queries
    /// spill above it, table rows beyond half of it are kept in local files under TMPDIR.
    #[arg(long)]
    pub memory_limit: Option<String>,
    /// Where the reports run.
    #[command(flatten)]
    pub cluster: crate::cluster::ClusterArgs,
}

/// Which reports make up the suite.
#[derive(Debug, Clone, Args)]
pub struct SuiteArgs {
    /// Extra folders of report `.sql` files (a file replaces the built-in report of the same name).
    #[arg(long, short)]
    pub queries: Vec<PathBuf>,
    /// Leave the built-in reports out (only the `--queries` folders).
    #[arg(long)]
    pub no_builtin: bool,
    /// Job config (TOML), for `check` to plan against the kept columns.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
}

/// Arguments of `run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Data source.
    #[command(flatten)]
    pub source: SourceArgs,
    /// Extra folders of report `.sql` files (a file replaces the built-in report of the same name).
    #[arg(long, short)]
    pub queries: Vec<PathBuf>,
    /// Leave the built-in reports out (only the `--queries` folders).
    #[arg(long)]
    pub no_builtin: bool,
    /// Output folder; the release is `<out>/<period or all>`.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Largest share of rejected rows before the run fails with exit code 65 [default: 0.01].
    #[arg(long)]
    pub max_reject_rate: Option<f64>,
    /// Language of index.html, report.md and workbook.xlsx [default: en].
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
}

/// Arguments of `sql`.
#[derive(Debug, Clone, Args)]
pub struct SqlArgs {
    /// The query, e.g. "SELECT region, count(*) FROM cases GROUP BY region ORDER BY region".
    pub query: String,
    /// Data source.
    #[command(flatten)]
    pub source: SourceArgs,
}

/// Arguments of `generate`.
#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    /// Number of cases.
    #[arg(long, default_value_t = 20_000)]
    pub cases: u64,
    /// Random seed (same seed, same file).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output file, `.csv` or `.parquet`.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Date the data is generated as of (open cases are open at this date).
    #[arg(long, default_value = "2024-09-30")]
    pub as_of: String,
    /// First opening date.
    #[arg(long, default_value = "2023-01-01")]
    pub start: String,
}
