//! Every number of the built-in breakdowns against DuckDB (the SQL) and statsmodels (the
//! Wilson intervals), computed by `tests/peers/duckdb_suite.py` from the same input.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::support::{fixture, read_csv, root, run_ok};

/// The peers' Python, installed by `scripts/setup-peers`; `None` prints why the test is skipped.
pub fn peer_python() -> Option<PathBuf> {
    match std::env::var_os("DISPUTE_STATS_PYTHON") {
        Some(path) => Some(PathBuf::from(path)),
        None => {
            eprintln!("SKIPPED: peers not installed; run the tests through `scripts/test`");
            None
        }
    }
}

fn rows_by_key(path: &Path) -> (Vec<String>, BTreeMap<String, Vec<String>>) {
    let rows = read_csv(path);
    let header = rows[0].clone();
    let keyed = rows[1..]
        .iter()
        .map(|r| (r[0].clone(), r.clone()))
        .collect();
    (header, keyed)
}

/// Relative tolerance per column: closed forms agree to 1e-12; statsmodels finds the Poisson
/// score bounds by root finding (about 1e-9) and the ratio-of-sums bounds through a regression
/// fit and a sandwich matrix.
fn tolerance(column: &str) -> f64 {
    if column.starts_with("clearance_rate_") {
        1e-8
    } else if column.starts_with("recovery_rate_") {
        1e-10
    } else {
        1e-12
    }
}

fn same_number(ours: &str, theirs: &str, tolerance: f64) -> bool {
    if ours == theirs {
        return true;
    }
    match (ours.parse::<f64>(), theirs.parse::<f64>()) {
        (Ok(a), Ok(b)) => (a - b).abs() <= tolerance * b.abs().max(1.0),
        _ => false,
    }
}

fn compare_with_duckdb(input: &Path, as_of: &str) {
    let Some(python) = peer_python() else { return };
    let out = tempfile::tempdir().unwrap();
    let config = out.path().join("no-suppression.toml");
    std::fs::write(&config, "[privacy]\nmin_cell = 1\ndominance_k = 100.0\n").unwrap();
    let release = run_ok(
        &out.path().join("ours"),
        &[
            "--input",
            input.to_str().unwrap(),
            "--as-of",
            as_of,
            "--config",
            config.to_str().unwrap(),
        ],
    );
    let theirs = out.path().join("theirs");
    let status = std::process::Command::new(python)
        .arg(root().join("tests/peers/duckdb_suite.py"))
        .arg(input)
        .arg(as_of)
        .arg(&theirs)
        .status()
        .unwrap();
    assert!(status.success(), "peer script failed");
    let mut compared = 0;
    for entry in std::fs::read_dir(&theirs).unwrap() {
        let peer = entry.unwrap().path();
        let name = peer.file_name().unwrap().to_string_lossy().to_string();
        let (peer_header, peer_rows) = rows_by_key(&peer);
        let (our_header, our_rows) = rows_by_key(&release.join("tables").join(&name));
        assert_eq!(our_rows.len(), peer_rows.len(), "{name}: row count");
        for (key, peer_row) in &peer_rows {
            let our_row = our_rows
                .get(key)
                .unwrap_or_else(|| panic!("{name}: no row `{key}`"));
            // Cells disclosure control emptied are flagged in `suppressed`; every other cell
            // must equal the peer's.
            let flags = our_header
                .iter()
                .position(|c| c == "suppressed")
                .map_or("", |i| our_row[i].as_str());
            let hidden = |column: &str| {
                flags.split(';').any(|item| {
                    let name = item.split(':').next().unwrap_or_default();
                    name == "*" || name == column
                })
            };
            for (column, theirs) in peer_header.iter().zip(peer_row) {
                if hidden(column) {
                    assert!(
                        our_row[our_header.iter().position(|c| c == column).unwrap()].is_empty()
                    );
                    continue;
                }
                let index = our_header.iter().position(|c| c == column).unwrap();
                assert!(
                    same_number(&our_row[index], theirs, tolerance(column)),
                    "{name} `{key}` {column}: ours {} vs peer {theirs}",
                    our_row[index]
                );
                compared += 1;
            }
        }
    }
    assert!(compared > 100, "only {compared} cells compared");
}

#[test]
fn breakdowns_match_duckdb_and_statsmodels_on_the_fixture() {
    compare_with_duckdb(&fixture("cases_small.csv"), "2024-05-15");
}

#[test]
fn breakdowns_match_duckdb_and_statsmodels_on_the_sample() {
    compare_with_duckdb(&root().join("examples/sample/cases.csv"), "2024-09-30");
}
