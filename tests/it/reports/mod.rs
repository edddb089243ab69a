//! The documents people read: `index.html` in a real browser, the page's golden files, and
//! `workbook.xlsx` read back cell by cell.

mod browser;
mod golden;
mod workbook;

use std::path::{Path, PathBuf};

use clap::Parser;
use dispute_stats::cli::{Cli, Command, SuiteArgs};
use dispute_stats::error::{EXIT_USAGE, exit_code};
use dispute_stats::run;

/// The fixture input of the golden pages (see `tests/fixtures/reports/README.md`).
pub const FIXTURE: &str = "tests/fixtures/reports/cases.csv";

/// Runs `run` with `args` into `out` and returns the release folder.
///
/// The pipeline runs in-process, through the same argument parsing and settings resolution as
/// `main` (which only adds logging and the exit code): the build folder is shared between
/// worktrees, so the `dispute-stats` executable next to this test may come from another build.
pub fn release(out: &Path, args: &[&str]) -> PathBuf {
    let mut argv: Vec<String> = vec!["dispute-stats".into(), "run".into()];
    argv.extend(args.iter().map(|a| a.to_string()));
    argv.extend(["--out".into(), out.display().to_string()]);
    let cli = Cli::try_parse_from(&argv).expect("arguments parse");
    let Command::Run(run_args) = &cli.command else {
        unreachable!("`run` parses as the run command")
    };
    let settings = run::RunSettings::resolve(run_args).expect("settings resolve");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime
        .block_on(run::run(&settings))
        .expect("the run succeeds");
    out.join("all")
}

/// The fixture release in a language, with an as-of date so that it never changes.
pub fn fixture_release(out: &Path, lang: &str) -> PathBuf {
    release(
        out,
        &["--input", FIXTURE, "--as-of", "2024-06-30", "--lang", lang],
    )
}

/// Where tests leave files for people to look at (screenshots, differing pages).
pub fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("reports");
    std::fs::create_dir_all(&dir).expect("artifact folder");
    dir
}

#[test]
fn unknown_languages_are_usage_errors() {
    let error = Cli::try_parse_from(["dispute-stats", "run", "--lang", "fr"]).unwrap_err();
    assert_eq!(error.kind(), clap::error::ErrorKind::InvalidValue);
    let out = tempfile::tempdir().unwrap();
    let config = out.path().join("job.toml");
    std::fs::write(&config, "[run]\nlang = \"fr\"\n").unwrap();
    let cli = Cli::try_parse_from(["dispute-stats", "run", "--config", config.to_str().unwrap()])
        .unwrap();
    let Command::Run(args) = &cli.command else {
        unreachable!()
    };
    let error = run::RunSettings::resolve(args).unwrap_err();
    assert_eq!(exit_code(&error), EXIT_USAGE);
    assert!(format!("{error:#}").contains("run.lang"), "{error:#}");
}

#[test]
fn config_language_applies_and_the_flag_wins() {
    let out = tempfile::tempdir().unwrap();
    let config = out.path().join("job.toml");
    std::fs::write(&config, "[run]\nlang = \"zh\"\n").unwrap();
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    let args = [
        "--config",
        config.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
    ];
    let zh = release(&out.path().join("zh"), &args);
    let page = std::fs::read_to_string(zh.join("index.html")).unwrap();
    assert!(page.contains("<html lang=\"zh-CN\">") && page.contains("和解率"));
    let markdown = std::fs::read_to_string(zh.join("report.md")).unwrap();
    assert!(
        markdown.contains("| 地区 |") && markdown.contains("| 上海 |"),
        "{markdown}"
    );
    let mut with_flag = args.to_vec();
    with_flag.extend(["--lang", "en"]);
    let en = release(&out.path().join("en"), &with_flag);
    let page = std::fs::read_to_string(en.join("index.html")).unwrap();
    assert!(page.contains("<html lang=\"en\">") && page.contains("Settlement rate"));
    let manifest = std::fs::read_to_string(en.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"lang\": \"en\""));
}

/// Runs `check` on one report file; returns the error message.
fn check_error(report: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mine.sql"), report).unwrap();
    let args = SuiteArgs {
        queries: vec![dir.path().to_path_buf()],
        no_builtin: true,
        config: None,
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let error = runtime
        .block_on(dispute_stats::commands::check(&args, &mut Vec::new()))
        .unwrap_err();
    assert_eq!(exit_code(&error), EXIT_USAGE);
    format!("{error:#}")
}

#[test]
fn a_bad_chart_header_fails_check() {
    let report = "-- title: T\n-- description: D.\n-- grain: one row per region\n-- dimensions: region\n-- counts: cases\n-- chart: pie cases by region\nSELECT region, count(*) AS cases FROM cases GROUP BY region ORDER BY region\n";
    assert!(check_error(report).contains("unknown chart kind `pie`"));
    let missing = report.replace("pie cases by region", "bar cases by channel");
    assert!(check_error(&missing).contains("names `channel`"));
    let text = report.replace("pie cases by region", "bar region by cases");
    assert!(check_error(&text).contains("needs numbers in `region`"));
}
