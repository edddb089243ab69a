//! The `run` command: ingest → identifier gate → engine → disclosure control → writers →
//! staged release → publish. Settings are resolved in one place before anything is read.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{RunArgs, SourceArgs};
use crate::config::{JobConfig, PrivacyConfig};
use crate::engine::{Engine, EngineOptions, Window};
use crate::error::{data, usage};
use crate::ingest::store::{Accepted, Budget};
use crate::ingest::{self, Ingested, files, hex, parse};
use crate::manifest::{self, Manifest};
use crate::output::labels::Lang;
use crate::output::{self, Format, Summary, Table, html, markdown, xlsx};
use crate::period::{self, Period};
use crate::privacy::disclosure::{self, InnerCells, InnerRequest};
use crate::queries::{self, Query};
use crate::release::{self, Staging};

/// Everything `run` needs, resolved from flags, config and defaults.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// Data source settings.
    pub source: SourceSettings,
    /// Extra query folders.
    pub query_folders: Vec<PathBuf>,
    /// Whether the built-in suite is included.
    pub builtin: bool,
    /// Output folder.
    pub out: PathBuf,
    /// Largest tolerated reject share.
    pub max_reject_rate: f64,
    /// Language of the documents people read.
    pub lang: Lang,
}

/// Where data comes from and how it is read.
#[derive(Debug, Clone)]
pub struct SourceSettings {
    /// Job config (defaults when none was given).
    pub config: JobConfig,
    /// Path and SHA-256 of the config file, if any.
    pub config_file: Option<(String, String)>,
    /// Input paths (empty: bundled sample).
    pub inputs: Vec<PathBuf>,
    /// Period to publish.
    pub period: Option<Period>,
    /// Explicit as-of date.
    pub as_of: Option<NaiveDate>,
    /// Engine sizing.
    pub engine: EngineOptions,
}

impl SourceSettings {
    /// Resolves source flags against the config file.
    pub fn resolve(args: &SourceArgs) -> anyhow::Result<SourceSettings> {
        let SourceArgs {
            input,
            config,
            period,
            as_of,
            memory_limit,
            cluster,
        } = args;
        let (job, config_file) = match config {
            Some(path) => {
                let bytes = std::fs::read(path)
                    .map_err(|e| usage(format!("cannot read config `{}`: {e}", path.display())))?;
                let digest = hex(&<sha2::Sha256 as sha2::Digest>::digest(&bytes));
                (
                    JobConfig::load(path)?,
                    Some((path.display().to_string(), digest)),
                )
            }
            None => (JobConfig::default(), None),
        };
        let inputs = if input.is_empty() {
            job.run.input.clone()
        } else {
            input.clone()
        };
        let period = period.as_deref().map(Period::parse).transpose()?;
        let as_of = as_of.as_deref().map(period::parse_as_of).transpose()?;
        let mut engine = EngineOptions::default();
        if let Some(text) = memory_limit {
            engine = engine.with_memory_limit(parse_bytes(text)?);
        }
        engine.cluster = crate::cluster::resolve(cluster, &job.run)?;
        Ok(SourceSettings {
            config: job,
            config_file,
            inputs,
            period,
            as_of,
            engine,
        })
    }

    /// The as-of date: explicit, else the period end, else the latest date in the data.
    pub fn as_of(&self, ingested: &Ingested) -> anyhow::Result<NaiveDate> {
        if let Some(date) = self.as_of {
            return Ok(date);
        }
        if let Some(period) = &self.period {
            return Ok(period.end);
        }
        latest_date(ingested).ok_or_else(|| data("no valid dates in the input"))
    }
}

impl RunSettings {
    /// Resolves `run` flags; flags win over `[run]` keys of the config.
    pub fn resolve(args: &RunArgs) -> anyhow::Result<RunSettings> {
        let RunArgs {
            source,
            queries,
            no_builtin,
            out,
            max_reject_rate,
            lang,
        } = args;
        let source = SourceSettings::resolve(source)?;
        let mut query_folders = queries.clone();
        if query_folders.is_empty() {
            query_folders.extend(source.config.run.queries.clone());
        }
        let out = out
            .clone()
            .or_else(|| source.config.run.out.clone())
            .unwrap_or_else(|| PathBuf::from("reports"));
        let max_reject_rate = max_reject_rate
            .or(source.config.run.max_reject_rate)
            .unwrap_or(0.01);
        if !(0.0..=1.0).contains(&max_reject_rate) {
            return Err(usage("`--max-reject-rate` must be between 0 and 1"));
        }
        let lang = match (lang, &source.config.run.lang) {
            (Some(lang), _) => *lang,
            (None, Some(text)) => Lang::parse(text).ok_or_else(|| {
                usage(format!(
                    "`run.lang`: `{text}` is not a supported language (use `en` or `zh`)"
                ))
            })?,
            (None, None) => Lang::default(),
        };
        Ok(RunSettings {
            source,
            query_folders,
            builtin: !no_builtin,
            out,
            max_reject_rate,
            lang,
        })
    }
}

/// Parses `2GiB`, `512MiB`, `1G`, `300M` or a plain number of bytes.
pub fn parse_bytes(text: &str) -> anyhow::Result<usize> {
    let lower = text.trim().to_ascii_lowercase();
    let split = lower
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(lower.len());
    let (number, unit) = lower.split_at(split);
    let factor: f64 = match unit.trim() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(usage(format!("`--memory-limit {text}`: unknown unit"))),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| usage(format!("`--memory-limit {text}`: not a size")))?;
    Ok((value * factor) as usize)
}

fn latest_date(ingested: &Ingested) -> Option<NaiveDate> {
    ingested
        .batches
        .latest_date()
        .and_then(parse::date_from_days)
}

/// A progress bar on a terminal, nothing otherwise (cron mails any output).
pub fn progress(message: &'static str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner().with_message(message);
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}: {pos} rows ({elapsed})") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// What a finished run reports on the last stdout line.
#[derive(Debug, serde::Serialize)]
pub struct RunSummary {
    /// Path of the release link.
    pub release: String,
    /// Release name.
    pub name: String,
    /// Data rows read.
    pub rows_read: u64,
    /// Rows accepted.
    pub rows_accepted: u64,
    /// Rows rejected.
    pub rows_rejected: u64,
    /// Reports written.
    pub reports: usize,
    /// Reports skipped (source lacks a column).
    pub skipped: usize,
}

/// Logs how long a step took and the memory resident after it (at `-v`), so a slow or large
/// run can be located without a profiler.
fn step_done(step: &str, started: Instant) {
    tracing::info!(
        step,
        seconds = format!("{:.3}", started.elapsed().as_secs_f64()),
        resident_mb = resident_mb(),
        "done"
    );
}

/// Resident memory of this process in MiB (Linux; `None` elsewhere).
pub fn resident_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

/// Ingests the source, refuses identifiable input, and returns the engine with `cases`.
pub async fn prepare(source: &SourceSettings) -> anyhow::Result<(Engine, Ingested, Window)> {
    let engine = Engine::open(&source.engine).await?;
    let inputs = files::list(&source.inputs)?;
    let bar = progress("reading");
    let started = Instant::now();
    let budget = source.engine.ingest_budget();
    let mut ingested = ingest::ingest(&inputs, &source.config, &bar, budget)?;
    bar.finish_and_clear();
    step_done("ingest", started);
    refuse_identifiers(&ingested)?;
    let window = Window {
        as_of: source.as_of(&ingested)?,
        period: source.period.clone(),
    };
    let rows = ingested.batches.take();
    let started = Instant::now();
    engine.register_cases(rows, &window).await?;
    step_done("cases table", started);
    Ok((engine, ingested, window))
}

/// The input gate (DESIGN §6): names column, detector and row count, never a value.
fn refuse_identifiers(ingested: &Ingested) -> anyhow::Result<()> {
    if ingested.identifiers.is_empty() {
        return Ok(());
    }
    let mut message = String::from("direct identifiers found in the input; nothing was published");
    for ((column, detector), rows) in &ingested.identifiers {
        message.push_str(&format!(
            "\n  column `{column}`: {} in {rows} row(s)",
            detector.name()
        ));
    }
    message.push_str(
        "\nhint: remove or anonymize these columns at the source; a false alarm can be declared in `[privacy.safe_columns]` with a reason",
    );
    Err(data(message))
}

/// Runs the whole job and publishes a release.
pub async fn run(settings: &RunSettings) -> anyhow::Result<RunSummary> {
    let name = settings
        .source
        .period
        .as_ref()
        .map_or("all".to_string(), |p| p.label.clone());
    let _lock = release::lock(&settings.out)?;
    release::remove_orphans(&settings.out)?;
    let suite = queries::load(&settings.query_folders, settings.builtin)?;
    let keep: Vec<String> = settings.source.config.keep.keys().cloned().collect();
    check_suite(&suite, &keep).await?;
    let (engine, ingested, window) = prepare(&settings.source).await?;
    check_reject_rate(settings, &ingested, &name)?;
    let started = Instant::now();
    let (tables, skipped) = run_suite(&engine, &suite, &settings.source.config, &window).await?;
    step_done("reports", started);
    let privacy = &settings.source.config.privacy;
    let started = Instant::now();
    let inner = inner_cells(&engine, &tables, privacy).await?;
    step_done("inner cells", started);
    let started = Instant::now();
    let protected = disclosure::protect(tables, &inner, privacy)?;
    step_done("disclosure control", started);
    let started = Instant::now();
    let mut staging = Staging::new(&settings.out, &name)?;
    let summary = Summary {
        release: &name,
        period: window.period.as_ref(),
        as_of: window.as_of,
        read: ingested.counts.read,
        accepted: ingested.counts.accepted,
        rejected: ingested.rejects.len() as u64,
        inputs: &ingested.inputs,
        skipped: &skipped,
        lang: settings.lang,
        timestamp: manifest::release_timestamp(&window)?,
    };
    write_release(&mut staging, &protected.tables, &ingested, &summary)?;
    let manifest = Manifest::build(
        settings, &ingested, &window, &suite, &skipped, &protected, &staging,
    )?;
    staging.write("manifest.json", |out| manifest::write(out, &manifest))?;
    let link = staging.publish()?;
    step_done("write and publish", started);
    Ok(RunSummary {
        release: link.display().to_string(),
        name,
        rows_read: ingested.counts.read,
        rows_accepted: ingested.counts.accepted,
        rows_rejected: ingested.rejects.len() as u64,
        reports: protected.tables.len(),
        skipped: skipped.len(),
    })
}

/// Runs the inner-cell queries disclosure control needs (the finest breakdown of `cases`).
async fn inner_cells(
    engine: &Engine,
    tables: &[Table],
    privacy: &PrivacyConfig,
) -> anyhow::Result<InnerCells> {
    let cases = engine
        .context()
        .table("cases")
        .await?
        .schema()
        .as_arrow()
        .clone();
    let top_n = disclosure::Settings::new(privacy).dominance_n;
    let request = InnerRequest::new(tables.iter().map(|t| &t.query), &cases, top_n);
    engine.inner_cells(&request).await
}

/// Plans every report against an empty `cases` table: a bad report fails before the scan.
pub async fn check_suite(suite: &[Query], keep: &[String]) -> anyhow::Result<()> {
    let engine = Engine::new(&EngineOptions::default())?;
    let window = Window {
        as_of: NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default(),
        period: None,
    };
    let empty = Accepted::new(crate::contract::schema(keep), Budget::unlimited());
    engine.register_cases(empty, &window).await?;
    let cases = engine
        .context()
        .table("cases")
        .await?
        .schema()
        .as_arrow()
        .clone();
    for query in suite {
        let schema = engine
            .plan(query)
            .await
            .map_err(|e| usage(format!("`{}`: {e:#}", query.origin)))?;
        let columns: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        query.check_columns(&columns)?;
        disclosure::check_query(query, &cases)?;
        query.check_chart_types(&schema)?;
    }
    Ok(())
}

fn check_reject_rate(
    settings: &RunSettings,
    ingested: &Ingested,
    name: &str,
) -> anyhow::Result<()> {
    let counts = &ingested.counts;
    let considered = counts.read - counts.filtered;
    let rejected = ingested.rejects.len() as u64;
    if considered == 0 || counts.accepted == 0 {
        return Err(data("no rows were accepted; nothing to report"));
    }
    let rate = rejected as f64 / considered as f64;
    if rate <= settings.max_reject_rate {
        return Ok(());
    }
    let path = settings.out.join(format!("{name}.rejects.csv"));
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
    write_rejects(&mut file, ingested)?;
    file.flush()?;
    let mut message = format!(
        "{rejected} of {considered} rows rejected ({:.2}%), above `--max-reject-rate` {:.2}%; no release written; all rejects are in `{}`",
        rate * 100.0,
        settings.max_reject_rate * 100.0,
        path.display()
    );
    for reject in ingested.rejects.iter().take(5) {
        message.push_str(&format!(
            "\n  `{}` line {}, column `{}`: {}",
            reject.source, reject.line, reject.column, reject.rule
        ));
    }
    Err(data(message))
}

/// Runs every report whose columns the source has; returns tables and skipped reports.
async fn run_suite(
    engine: &Engine,
    suite: &[Query],
    config: &JobConfig,
    window: &Window,
) -> anyhow::Result<(Vec<Table>, Vec<(String, String)>)> {
    let mut tables = Vec::new();
    let mut skipped = Vec::new();
    let bar = progress("reports");
    for query in suite {
        if query.requires.iter().any(|c| c == "period") && window.period.is_none() {
            skipped.push((
                query.name.clone(),
                "it compares periods; run with `--period`".into(),
            ));
            continue;
        }
        if let Some(missing) = query.requires.iter().find(|c| config.absent.contains(c)) {
            skipped.push((
                query.name.clone(),
                format!("the source has no `{missing}` column"),
            ));
            continue;
        }
        let started = Instant::now();
        let (schema, batches) = engine
            .run(query)
            .await
            .with_context(|| format!("report `{}`", query.name))?;
        tracing::debug!(
            report = query.name.as_str(),
            seconds = format!("{:.3}", started.elapsed().as_secs_f64()),
            "report done"
        );
        tables.push(Table {
            query: query.clone(),
            batch: output::normalize(&batches, &schema)?,
            notes: Vec::new(),
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok((tables, skipped))
}

fn write_release(
    staging: &mut Staging,
    tables: &[Table],
    ingested: &Ingested,
    summary: &Summary,
) -> anyhow::Result<()> {
    for table in tables {
        for format in [Format::Csv, Format::Parquet, Format::Json] {
            let path = format!("tables/{}.{}", table.query.name, format.extension());
            staging.write(&path, |out| format.write(out, &table.batch))?;
        }
    }
    staging.write("report.md", |out| markdown::write(out, summary, tables))?;
    staging.write("index.html", |out| html::write(out, summary, tables))?;
    staging.write("workbook.xlsx", |out| xlsx::write(out, summary, tables))?;
    staging.write("rejects.csv", |out| write_rejects(out, ingested))
}

/// `rejects.csv`: source, line, column, rule, value (never a value that looks like an identifier).
pub fn write_rejects(out: &mut impl Write, ingested: &Ingested) -> anyhow::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(["source", "line", "column", "rule", "value"])?;
    for reject in &ingested.rejects {
        writer.write_record([
            reject.source.as_str(),
            &reject.line.to_string(),
            &reject.column,
            reject.rule,
            reject.value.as_deref().unwrap_or(""),
        ])?;
    }
    writer.flush()?;
    Ok(())
}
