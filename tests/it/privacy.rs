//! Privacy end to end: the identifier gate refuses planted identifiers without ever repeating
//! them, safe columns are recorded, real data passes, and published tables are protected.

use std::collections::BTreeMap;
use std::path::Path;

use predicates::str::contains;

use crate::support::{binary, fixture, read_csv, root};

/// Runs `run` with a config and an input into `out`; returns (exit code, stdout, stderr).
fn run(out: &Path, config: &Path, input: &Path) -> (i32, String, String) {
    let output = binary()
        .args(["run", "--config"])
        .arg(config)
        .arg("--input")
        .arg(input)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A CSV table as a map from the first column (the row label) to the named column's text.
fn column(table: &[Vec<String>], name: &str) -> BTreeMap<String, String> {
    let index = table[0].iter().position(|c| c == name).unwrap();
    table[1..]
        .iter()
        .map(|row| (row[0].clone(), row[index].clone()))
        .collect()
}

fn manifest(release: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(release.join("manifest.json")).unwrap()).unwrap()
}

/// Every byte under a folder, as text, for leak checks.
fn everything_under(folder: &Path) -> String {
    let mut text = String::new();
    let mut stack = vec![folder.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if let Ok(bytes) = std::fs::read(&path) {
            text.push_str(&String::from_utf8_lossy(&bytes));
            text.push('\n');
        }
    }
    text
}

/// Full-width ASCII forms folded to ASCII, as the gate reads them.
fn fold(value: &str) -> String {
    value
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        })
        .collect()
}

/// The planted identifiers of one fixture file: (column, detector, value).
fn planted(file: &str) -> Vec<(String, String, String)> {
    read_csv(&fixture("identifiers/planted.csv"))[1..]
        .iter()
        .filter(|row| row[0] == file)
        .map(|row| (row[1].clone(), row[2].clone(), row[3].clone()))
        .collect()
}

/// Whether any form of a planted value occurs in `text`: as written, folded to ASCII, or (for
/// values with 8 or more letters and digits) as its letters and digits with separators dropped.
fn leaks(text: &str, value: &str) -> bool {
    let folded = fold(value);
    let compact = |t: &str| -> String {
        fold(t)
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect()
    };
    let digits = compact(value);
    text.contains(value)
        || text.contains(&folded)
        || (digits.len() >= 8 && compact(text).contains(&digits))
}

fn assert_absent(text: &str, value: &str, place: &str) {
    assert!(!leaks(text, value), "`{value}` leaked into {place}");
}

#[test]
fn planted_identifiers_refuse_the_run_and_are_never_repeated() {
    for file in ["free_text.csv", "contract_columns.csv"] {
        let input = fixture("identifiers").join(file);
        let text = std::fs::read_to_string(&input).unwrap();
        let out = tempfile::tempdir().unwrap();
        let (code, stdout, stderr) = run(out.path(), &fixture("identifiers/job.toml"), &input);
        assert_eq!(code, 65, "{file}: {stderr}");
        let mut expected: BTreeMap<(String, String), usize> = BTreeMap::new();
        for (column, detector, value) in planted(file) {
            assert!(
                text.contains(&value) && leaks(&text, &value),
                "{file} holds `{value}`"
            );
            *expected.entry((column, detector)).or_default() += 1;
        }
        for ((column, detector), rows) in &expected {
            let line = format!("column `{column}`: {detector} in {rows} row(s)");
            assert!(
                stderr.contains(&line),
                "{file}: expected `{line}` in\n{stderr}"
            );
        }
        let reported = stderr.matches("column `").count();
        assert_eq!(
            reported,
            expected.len(),
            "near misses do not fire:\n{stderr}"
        );
        assert!(!out.path().join("all").exists(), "nothing is published");
        let files = everything_under(out.path());
        for (_, _, value) in planted(file) {
            assert_absent(&stderr, &value, "stderr");
            assert_absent(&stdout, &value, "stdout");
            assert_absent(&files, &value, "the output folder");
        }
    }
}

#[test]
fn near_misses_pass_the_gate() {
    let out = tempfile::tempdir().unwrap();
    let input = fixture("identifiers/near_misses.csv");
    let (code, _, stderr) = run(out.path(), &fixture("identifiers/job.toml"), &input);
    assert_eq!(code, 0, "{stderr}");
    assert!(out.path().join("all/manifest.json").exists());
}

#[test]
fn a_safe_column_goes_through_and_its_reason_is_recorded() {
    let out = tempfile::tempdir().unwrap();
    let input = fixture("identifiers/free_text.csv");
    let (code, _, stderr) = run(
        out.path(),
        &fixture("identifiers/job_safe_note.toml"),
        &input,
    );
    assert_eq!(code, 0, "{stderr}");
    let release = out.path().join("all");
    let manifest = manifest(&release);
    assert_eq!(
        manifest["privacy"]["safe_columns"]["note"],
        "remarks column; never published nor kept, reviewed by the data steward"
    );
    let files = everything_under(&release);
    for (_, _, value) in planted("free_text.csv") {
        assert_absent(&files, &value, "the release");
    }
}

#[test]
fn a_safe_column_needs_a_written_reason() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("job.toml");
    let text = std::fs::read_to_string(fixture("identifiers/job_safe_note.toml")).unwrap();
    let short = text.replace(
        "\"remarks column; never published nor kept, reviewed by the data steward\"",
        "\"ok\"",
    );
    std::fs::write(&config, short).unwrap();
    binary()
        .args(["run", "--config"])
        .arg(&config)
        .arg("--input")
        .arg(fixture("identifiers/free_text.csv"))
        .arg("--out")
        .arg(dir.path().join("out"))
        .assert()
        .code(2)
        .stderr(contains("privacy.safe_columns"));
}

#[test]
fn the_cfpb_sample_passes_the_gate() {
    use dispute_stats::config::JobConfig;
    use dispute_stats::ingest::{self, files};
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("cfpb.toml");
    std::fs::write(
        &config,
        r#"
absent = [
  "closed_on", "debt_type", "region", "channel", "stage", "amount_claimed", "amount_recovered",
  "debt_age_days", "fee_rate", "complaint", "complaint_upheld", "cross_border",
]
[columns]
case_id = "Complaint ID"
opened_on = "Date received"
outcome = "Company response to consumer"
[labels.outcome]
"Closed with monetary relief" = "paid_in_full"
"Closed with non-monetary relief" = "settled"
"Closed with explanation" = "withdrawn"
"Closed" = "withdrawn"
"Untimely response" = "open"
"In progress" = "open"
[rules]
closed_iff_resolved = false
"#,
    )
    .unwrap();
    let config = JobConfig::load(&config).unwrap();
    let data = root().join("../shared/data/cfpb/ccdb_sample_2015-2020_no_narrative.csv");
    let inputs = files::list(&[data]).unwrap();
    let ingested = ingest::ingest(
        &inputs,
        &config,
        &indicatif::ProgressBar::hidden(),
        ingest::store::Budget::unlimited(),
    )
    .unwrap();
    assert_eq!(
        ingested.counts.read, 6623,
        "every row, every column was scanned"
    );
    assert!(
        ingested.identifiers.is_empty(),
        "false alarms on real data: {:?}",
        ingested.identifiers
    );
    assert_eq!(ingested.counts.accepted, 6623);
}

#[test]
fn small_cells_are_suppressed_with_their_partners() {
    let out = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(
        out.path(),
        &fixture("small_cells.toml"),
        &fixture("small_cells.csv"),
    );
    assert_eq!(code, 0, "{stderr}");
    let release = out.path().join("all");
    let regions = read_csv(&release.join("tables/by_region.csv"));
    let cases = column(&regions, "cases");
    let flags = column(&regions, "suppressed");
    assert_eq!(cases["islands"], "", "the tiny region");
    assert_eq!(flags["islands"], "*:threshold");
    assert_eq!(cases["east"], "", "its partner");
    assert_eq!(flags["east"], "*:secondary");
    assert_eq!(
        (cases["north"].as_str(), cases["south"].as_str()),
        ("60", "50")
    );
    assert_eq!((flags["north"].as_str(), flags["south"].as_str()), ("", ""));
    for measure in [
        "resolved",
        "settled",
        "settlement_rate",
        "settlement_rate_low",
    ] {
        let values = column(&regions, measure);
        assert_eq!(
            (values["islands"].as_str(), values["east"].as_str()),
            ("", "")
        );
    }
    let channels = read_csv(&release.join("tables/by_channel.csv"));
    let cases = column(&channels, "cases");
    let flags = column(&channels, "suppressed");
    assert_eq!(cases["mini_program"], "");
    assert_eq!(flags["mini_program"], "*:threshold");
    assert_eq!(cases["referral"], "");
    assert_eq!(flags["referral"], "*:secondary");
    assert_eq!(
        (cases["web"].as_str(), cases["hotline"].as_str()),
        ("70", "50")
    );
    // The total minus the published regions gives islands + east, not islands.
    let overview = read_csv(&release.join("tables/overview.csv"));
    let total: i64 = overview[1][0].parse().unwrap();
    assert_eq!(total, 155);
    let published: i64 = column(&regions, "cases")
        .values()
        .filter_map(|v| v.parse::<i64>().ok())
        .sum();
    assert_eq!(total - published, 45, "islands (5) + east (40)");
    let manifest = manifest(&release);
    let privacy = &manifest["privacy"];
    assert_eq!(privacy["settings"]["min_cell"], 10);
    assert_eq!(
        privacy["quasi_identifiers"]["columns"],
        serde_json::json!(["region", "channel", "opened_month"])
    );
    assert_eq!(privacy["quasi_identifiers"]["k"], 2);
    assert_eq!(
        privacy["quasi_identifiers"]["cases_below_min_cell"],
        2 + 2 + 7 + 3 + 2
    );
    let by_region = privacy["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "by_region")
        .unwrap();
    assert_eq!(by_region["linked"], true);
    assert_eq!(
        by_region["suppressed"]["threshold"], 6,
        "the counts, rate and interval of one row (the source has no amounts)"
    );
    assert_eq!(by_region["suppressed"]["secondary"], 6);
    let report = std::fs::read_to_string(release.join("report.md")).unwrap();
    assert!(report.contains("fewer than 10 cases are suppressed (threshold rule)"));
    assert!(report.contains("(secondary suppression)"));
}

#[test]
fn rounding_publishes_multiples_of_the_base() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("job.toml");
    let text = std::fs::read_to_string(fixture("small_cells.toml")).unwrap();
    std::fs::write(&config, format!("{text}\n[privacy]\nrounding_base = 5\n")).unwrap();
    let (code, _, stderr) = run(
        &dir.path().join("out"),
        &config,
        &fixture("small_cells.csv"),
    );
    assert_eq!(code, 0, "{stderr}");
    let release = dir.path().join("out/all");
    let channels = read_csv(&release.join("tables/by_channel.csv"));
    let resolved = column(&channels, "resolved");
    assert_eq!(resolved["web"], "65", "64 rounded to base 5");
    assert_eq!(column(&channels, "settled")["hotline"], "25", "26 rounded");
    let rate: f64 = column(&channels, "settlement_rate")["hotline"]
        .parse()
        .unwrap();
    assert!(
        (rate - 25.0 / 45.0).abs() < 1e-12,
        "computed from the rounded counts"
    );
    assert_eq!(column(&channels, "settlement_rate_low")["hotline"], "");
    assert_eq!(
        manifest(&release)["privacy"]["settings"]["rounding_base"],
        5
    );
}

#[test]
fn no_small_count_survives_in_the_sample_release() {
    let out = tempfile::tempdir().unwrap();
    let output = binary()
        .args(["run", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let release = out.path().join("all");
    let manifest = manifest(&release);
    for table in manifest["privacy"]["tables"].as_array().unwrap() {
        let name = table["name"].as_str().unwrap();
        let rows = read_csv(&release.join(format!("tables/{name}.csv")));
        assert_eq!(rows[0].last().map(String::as_str), Some("suppressed"));
        for (index, header) in rows[0].iter().enumerate() {
            let is_count =
                ["cases", "resolved", "settled", "complaints", "upheld"].contains(&header.as_str());
            for row in rows[1..].iter().filter(|_| is_count) {
                if let Ok(value) = row[index].parse::<f64>() {
                    assert!(value >= 10.0, "{name}.{header} = {value}");
                }
            }
        }
    }
    let by_region = read_csv(&release.join("tables/by_region.csv"));
    assert_eq!(
        column(&by_region, "settled")["taicang"],
        "",
        "6 settled cases"
    );
    assert_eq!(manifest["privacy"]["quasi_identifiers"]["k"], 1);
}
