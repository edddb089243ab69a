//! The window of docs/metrics.md §1–2 on the small fixture: an old as-of date reproduces the
//! report of the extract as it was then, and flow counts stay inside the period when the
//! as-of date is later than the period end. Expected values come from the raw fixture rows.

use std::path::Path;

use chrono::NaiveDate;

use crate::support::{binary, fixture, read_csv, root};

fn sql(input: &Path, query: &str, window: &[&str]) -> Vec<Vec<String>> {
    let output = binary()
        .args(["sql", query, "--input"])
        .arg(input)
        .args(window)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(output.stdout.as_slice());
    reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

fn date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// Counts, settlement, durations and Kaplan–Meier figures per region.
const FIGURES: &str = "SELECT region, count(*) AS cases, count(*) FILTER (WHERE resolved) AS resolved, \
    count(*) FILTER (WHERE settled) AS settled, sum(duration_days) AS days, \
    wilson_low(count(*) FILTER (WHERE settled), count(*) FILTER (WHERE resolved)) AS low, \
    km_median(duration_days, resolved) AS median, km_median_low(duration_days, resolved) AS median_low, \
    km_median_high(duration_days, resolved) AS median_high, \
    km_resolved_by(duration_days, resolved, 30) AS within_30 \
    FROM cases GROUP BY region ORDER BY region";

#[test]
fn an_old_as_of_date_reproduces_the_extract_of_that_day() {
    let as_of = "2024-03-31";
    let cut = date(as_of).unwrap();
    // The extract as it stood on the as-of date: later cases absent, later closures not yet made.
    let rows = read_csv(&fixture("cases_small.csv"));
    let column = |name: &str| rows[0].iter().position(|c| c == name).unwrap();
    let (opened, closed, outcome) = (column("opened_on"), column("closed_on"), column("outcome"));
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.csv");
    let mut writer = csv::Writer::from_path(&old).unwrap();
    writer.write_record(&rows[0]).unwrap();
    let mut kept = 0;
    for row in &rows[1..] {
        if date(&row[opened]).unwrap() > cut {
            continue;
        }
        let mut row = row.clone();
        if date(&row[closed]).is_some_and(|c| c > cut) {
            row[closed] = String::new();
            row[outcome] = "open".into();
        }
        writer.write_record(&row).unwrap();
        kept += 1;
    }
    writer.flush().unwrap();
    assert!(kept > 10 && kept < rows.len() - 1, "the cut must matter");
    let window = ["--as-of", as_of];
    let today = sql(&fixture("cases_small.csv"), FIGURES, &window);
    let then = sql(&old, FIGURES, &window);
    assert_eq!(today, then);
}

#[test]
fn flows_stay_inside_the_period_when_the_as_of_date_is_later() {
    let (start, end, as_of) = ("2024-01-01", "2024-03-31", "2024-06-30");
    let (start, end, cut) = (
        date(start).unwrap(),
        date(end).unwrap(),
        date(as_of).unwrap(),
    );
    let rows = read_csv(&fixture("cases_small.csv"));
    let column = |name: &str| rows[0].iter().position(|c| c == name).unwrap();
    let (opened, closed, outcome) = (column("opened_on"), column("closed_on"), column("outcome"));
    let inside = |d: NaiveDate| start <= d && d <= end;
    let (mut opened_in, mut resolved_in, mut open_at) = (0, 0, 0);
    for row in &rows[1..] {
        let opened_on = date(&row[opened]).unwrap();
        if opened_on > cut {
            continue;
        }
        opened_in += usize::from(inside(opened_on));
        match date(&row[closed]).filter(|&c| c <= cut && row[outcome] != "open") {
            Some(closed_on) => resolved_in += usize::from(inside(closed_on)),
            None => open_at += 1,
        }
    }
    let file = std::fs::read_to_string(root().join("queries/flow_and_stock.sql")).unwrap();
    // The header lines are SQL comments, but a leading `--` would read as a flag.
    let query: String = file
        .lines()
        .filter(|l| !l.starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    let window = ["--period", "2024-Q1", "--as-of", as_of];
    let table = sql(&fixture("cases_small.csv"), &query, &window);
    let at = |name: &str| &table[1][table[0].iter().position(|c| c == name).unwrap()];
    assert_eq!(at("opened_in_period"), &opened_in.to_string());
    assert_eq!(at("resolved_in_period"), &resolved_in.to_string());
    assert_eq!(at("open_at_as_of"), &open_at.to_string());
    let clearance: f64 = at("clearance_rate").parse().unwrap();
    assert!((clearance - resolved_in as f64 / opened_in as f64).abs() < 1e-12);
}
