//! The command line as a scheduler sees it: help, usage errors, exit codes, stdout summary.

use predicates::prelude::*;
use predicates::str::contains;

use crate::support::{binary, fixture, golden, run_ok};

#[test]
fn help_is_stable() {
    // Feature `distributed` adds commands and flags: its help has golden files of its own.
    let build = if cfg!(feature = "distributed") {
        ".distributed"
    } else {
        ""
    };
    let output = binary().arg("--help").output().unwrap();
    assert!(output.status.success());
    golden(
        &format!("cli/help{build}.txt"),
        &String::from_utf8_lossy(&output.stdout),
    );
    let output = binary().args(["run", "--help"]).output().unwrap();
    golden(
        &format!("cli/run-help{build}.txt"),
        &String::from_utf8_lossy(&output.stdout),
    );
}

#[test]
fn bad_flag_is_a_usage_error() {
    binary()
        .args(["run", "--no-such-flag"])
        .assert()
        .code(2)
        .stderr(contains("--no-such-flag"));
    binary()
        .args(["run", "--period", "2024-Q5"])
        .assert()
        .code(2)
        .stderr(contains("--period 2024-Q5"));
}

#[test]
fn missing_input_is_a_data_error_and_writes_nothing() {
    let out = tempfile::tempdir().unwrap();
    binary()
        .args(["run", "--input", "no/such/file.csv", "--out"])
        .arg(out.path())
        .assert()
        .code(65)
        .stderr(contains("no/such/file.csv"));
    assert!(!out.path().join("all").exists());
}

#[test]
fn bad_query_header_fails_before_reading_data() {
    let out = tempfile::tempdir().unwrap();
    let queries = tempfile::tempdir().unwrap();
    std::fs::write(
        queries.path().join("typo.sql"),
        "-- title: T\n-- description: D\n-- grain: g\n-- dimension: region\nSELECT 1",
    )
    .unwrap();
    binary()
        .args(["run", "--queries"])
        .arg(queries.path())
        .arg("--out")
        .arg(out.path())
        .assert()
        .code(2)
        .stderr(contains("typo.sql").and(contains("unknown header key `dimension`")));
    assert!(!out.path().join("all").exists());
}

#[test]
fn query_returning_an_unclassified_column_is_caught_by_check() {
    let queries = tempfile::tempdir().unwrap();
    std::fs::write(
        queries.path().join("leaky.sql"),
        "-- title: T\n-- description: D\n-- grain: one row per region\n-- dimensions: region\n-- counts: cases\nSELECT region, count(*) AS cases, max(case_id) AS example FROM cases GROUP BY region ORDER BY region",
    )
    .unwrap();
    binary()
        .args(["check", "--queries"])
        .arg(queries.path())
        .assert()
        .code(2)
        .stderr(contains("`example` is not classified"));
}

#[test]
fn list_and_check_the_builtin_suite() {
    binary()
        .arg("list")
        .assert()
        .success()
        .stdout(contains("overview").and(contains("by_region")));
    binary()
        .arg("check")
        .assert()
        .success()
        .stdout(contains("reports checked"));
}

#[test]
fn sql_prints_csv_of_validated_cases() {
    let output = binary()
        .args([
            "sql",
            "SELECT region, count(*) AS cases FROM cases GROUP BY region ORDER BY region",
            "--input",
        ])
        .arg(fixture("cases_small.csv"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "region,cases\nshanghai,21\nsuzhou,25\nwuxi,14\n"
    );
}

#[test]
fn quiet_on_success_with_a_json_summary_last() {
    let out = tempfile::tempdir().unwrap();
    let output = binary()
        .args(["run", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(
        output.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["rows_accepted"], 20_000);
    assert_eq!(summary["name"], "all");
    assert!(run_ok(out.path(), &[]).ends_with("all"));
}

#[test]
fn json_logs_on_request() {
    let out = tempfile::tempdir().unwrap();
    let output = binary()
        .args(["--log-format", "json", "-v", "run", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let first = stderr.lines().next().expect("a log line");
    let record: serde_json::Value = serde_json::from_str(first).expect("JSON log line");
    assert_eq!(record["level"], "INFO");
}

#[test]
fn the_bundled_sample_is_the_generator_output() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cases.csv");
    binary()
        .args(["generate", "--cases", "20000", "--seed", "7", "--out"])
        .arg(&path)
        .assert()
        .success();
    let generated = std::fs::read(&path).unwrap();
    let bundled = std::fs::read(crate::support::root().join("examples/sample/cases.csv")).unwrap();
    assert!(
        generated == bundled,
        "examples/sample/cases.csv must be regenerated"
    );
}
