//! The small commands: `list`, `check`, `sql`, `generate`. Each resolves its arguments and
//! calls into the library.

use std::io::Write;

use crate::cli::{GenerateArgs, SqlArgs, SuiteArgs};
use crate::config::JobConfig;
use crate::error::usage;
use crate::generate::{GenerateOptions, generate};
use crate::period;
use crate::queries::{self, Query};
use crate::run::{SourceSettings, check_suite, prepare};

fn suite(args: &SuiteArgs) -> anyhow::Result<(Vec<Query>, JobConfig)> {
    let SuiteArgs {
        queries: folders,
        no_builtin,
        config,
    } = args;
    let config = match config {
        Some(path) => JobConfig::load(path)?,
        None => JobConfig::default(),
    };
    let mut folders = folders.clone();
    if folders.is_empty() {
        folders.extend(config.run.queries.clone());
    }
    Ok((queries::load(&folders, !no_builtin)?, config))
}

/// `list`: one line per report: name, title, grain.
pub fn list(args: &SuiteArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let (suite, _) = suite(args)?;
    let width = suite.iter().map(|q| q.name.len()).max().unwrap_or(0);
    for query in suite {
        writeln!(
            out,
            "{:width$}  {} ({})",
            query.name, query.title, query.grain
        )?;
    }
    Ok(())
}

/// `check`: parses every header and plans every query without reading data.
pub async fn check(args: &SuiteArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let (suite, config) = suite(args)?;
    let keep: Vec<String> = config.keep.keys().cloned().collect();
    check_suite(&suite, &keep).await?;
    writeln!(out, "{} reports checked", suite.len())?;
    Ok(())
}

/// `sql`: runs one query on the validated cases and prints CSV.
pub async fn sql(args: &SqlArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let source = SourceSettings::resolve(&args.source)?;
    let (engine, _, _) = prepare(&source).await?;
    let frame = engine
        .context()
        .sql(&args.query)
        .await
        .map_err(|e| usage(format!("query: {e}")))?;
    let schema = std::sync::Arc::new(frame.schema().as_arrow().clone());
    let batches = frame.collect().await?;
    let batch = crate::output::normalize(&batches, &schema)?;
    crate::output::csv::write(out, &batch)
}

/// `generate`: writes synthetic cases.
pub fn generate_cases(args: &GenerateArgs) -> anyhow::Result<u64> {
    let GenerateArgs {
        cases,
        seed,
        out,
        as_of,
        start,
    } = args;
    generate(&GenerateOptions {
        cases: *cases,
        seed: *seed,
        out: out.clone(),
        as_of: period::parse_as_of(as_of)?,
        start: period::parse_as_of(start)?,
    })
}
