//! Command-line entry point: parses arguments, calls the library, maps the result to an exit
//! code (DESIGN §7). Logs go to stderr; the last stdout line of `run` is a JSON summary.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use dispute_stats::cli::{Cli, Command, LogFormat};
use dispute_stats::error::{EXIT_OK, EXIT_USAGE, exit_code};
use dispute_stats::{commands, run};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() {
                EXIT_USAGE
            } else {
                EXIT_OK
            });
        }
    };
    init_logging(cli.log_format, cli.verbose);
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| runtime.block_on(execute(&cli.command)));
    match result {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(error) if is_broken_pipe(&error) => ExitCode::from(EXIT_OK),
        Err(error) => {
            tracing::error!("{error:#}");
            ExitCode::from(exit_code(&error))
        }
    }
}

async fn execute(command: &Command) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match command {
        Command::Run(args) => {
            let settings = run::RunSettings::resolve(args)?;
            let summary = run::run(&settings).await?;
            tracing::info!(release = %summary.release, "release published");
            writeln!(stdout, "{}", serde_json::to_string(&summary)?)?;
        }
        Command::List(args) => commands::list(args, &mut stdout)?,
        Command::Check(args) => commands::check(args, &mut stdout).await?,
        Command::Sql(args) => commands::sql(args, &mut stdout).await?,
        Command::Generate(args) => {
            let rows = commands::generate_cases(args)?;
            tracing::info!(rows, path = %args.out.display(), "cases generated");
        }
        #[cfg(feature = "distributed")]
        Command::Scheduler(args) => dispute_stats::cluster::scheduler(args).await?,
        #[cfg(feature = "distributed")]
        Command::Executor(args) => dispute_stats::cluster::executor(args).await?,
    }
    stdout.flush()?;
    Ok(())
}

/// Quiet by default (warnings and errors only) so cron mails nothing on success.
fn init_logging(format: LogFormat, verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("DISPUTE_STATS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .without_time()
            .init(),
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
