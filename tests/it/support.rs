//! Shared helpers: running the binary, paths to fixtures, golden-file comparison.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The crate root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fixture file under `tests/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

/// The binary, quiet, with a fixed SOURCE_DATE_EPOCH unset.
pub fn binary() -> Command {
    let mut command = Command::cargo_bin("dispute-stats").expect("binary built");
    command
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("DISPUTE_STATS_LOG");
    command
}

/// Runs `run` with extra arguments into `out`, asserting success; returns the release folder.
pub fn run_ok(out: &Path, args: &[&str]) -> PathBuf {
    let output = binary()
        .arg("run")
        .arg("--out")
        .arg(out)
        .args(args)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "run failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().expect("a summary line");
    let summary: serde_json::Value = serde_json::from_str(last).expect("JSON summary");
    PathBuf::from(summary["release"].as_str().expect("release path"))
}

/// Reads a CSV file into rows of strings (header included).
pub fn read_csv(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    reader
        .records()
        .map(|r| r.expect("record").iter().map(String::from).collect())
        .collect()
}

/// Compares `actual` with the golden file `tests/golden/<name>`; `UPDATE_GOLDEN=1` rewrites it.
pub fn golden(name: &str, actual: &str) {
    let path = root().join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("golden folder");
        std::fs::write(&path, actual).expect("golden written");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing golden file {}; run with UPDATE_GOLDEN=1 to create it",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "{} differs from the golden file; review and rerun with UPDATE_GOLDEN=1 if intended\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}
