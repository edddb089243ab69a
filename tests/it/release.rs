//! Releases: golden tables, determinism, atomic replacement, the lock, a killed run.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::support::{binary, fixture, golden, run_ok};

const SMALL: &[&str] = &["--period", "2024-Q2"];

fn small_args(extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "--input".to_string(),
        fixture("cases_small.csv").display().to_string(),
    ];
    args.extend(SMALL.iter().chain(extra).map(|s| s.to_string()));
    args
}

fn run_small(out: &Path, extra: &[&str]) -> std::path::PathBuf {
    let args = small_args(extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_ok(out, &args)
}

#[test]
fn golden_release_of_the_small_fixture() {
    let out = tempfile::tempdir().unwrap();
    let release = run_small(out.path(), &[]);
    assert!(release.ends_with("2024-Q2"));
    let mut reports: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(release.join("tables")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "csv") {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            golden(
                &format!("small/{name}"),
                &std::fs::read_to_string(&path).unwrap(),
            );
            reports.push(name);
        }
    }
    golden(
        "small/report.md",
        &std::fs::read_to_string(release.join("report.md")).unwrap(),
    );
    // Orphan check: every golden table belongs to a report of this release and vice versa.
    let mut goldens: Vec<String> =
        std::fs::read_dir(crate::support::root().join("tests/golden/small"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| n.ends_with(".csv"))
            .collect();
    goldens.sort();
    reports.sort();
    if std::env::var_os("UPDATE_GOLDEN").is_none() {
        assert_eq!(goldens, reports, "golden tables and reports differ");
    }
}

#[test]
fn release_layout_and_checksums() {
    let out = tempfile::tempdir().unwrap();
    let release = run_small(out.path(), &[]);
    for file in [
        "report.md",
        "rejects.csv",
        "manifest.json",
        "SHA256SUMS",
        "tables/overview.parquet",
        "tables/by_region.json",
    ] {
        assert!(release.join(file).is_file(), "{file} missing");
    }
    let status = std::process::Command::new("sha256sum")
        .args(["-c", "--quiet", "SHA256SUMS"])
        .current_dir(&release)
        .status()
        .unwrap();
    assert!(status.success(), "sha256sum -c failed");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(release.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["rows"]["read"], 60);
    assert_eq!(manifest["rows"]["accepted"], 60);
    assert_eq!(manifest["parameters"]["as_of"], "2024-06-30");
    assert_eq!(manifest["generated_at"], "2024-06-30T00:00:00Z");
    assert_eq!(manifest["inputs"][0]["sha256"].as_str().unwrap().len(), 64);
    assert!(manifest["queries"].as_array().unwrap().len() >= 9);
    let outputs = manifest["outputs"].as_array().unwrap();
    assert!(outputs.iter().any(|o| o["path"] == "tables/overview.csv"));
    assert_eq!(
        std::fs::read_link(out.path().join("latest")).unwrap(),
        Path::new("2024-Q2")
    );
}

#[test]
fn same_inputs_same_bytes() {
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    let a = run_small(first.path(), &[]);
    let b = run_small(second.path(), &[]);
    let sums = |p: &Path| std::fs::read_to_string(p.join("SHA256SUMS")).unwrap();
    assert_eq!(sums(&a), sums(&b));
    assert!(sums(&a).contains("manifest.json"));
    // SOURCE_DATE_EPOCH is the only clock that reaches the release.
    let third = tempfile::tempdir().unwrap();
    let args = small_args(&[]);
    let output = binary()
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .arg("run")
        .arg("--out")
        .arg(third.path())
        .args(&args)
        .output()
        .unwrap();
    assert!(output.status.success());
    let manifest = std::fs::read_to_string(third.path().join("2024-Q2/manifest.json")).unwrap();
    assert!(manifest.contains("\"generated_at\": \"2023-11-14T22:13:20Z\""));
}

#[test]
fn rerunning_a_period_replaces_it() {
    let out = tempfile::tempdir().unwrap();
    run_small(out.path(), &[]);
    let release = run_small(out.path(), &["--as-of", "2024-05-31"]);
    let manifest = std::fs::read_to_string(release.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"as_of\": \"2024-05-31\""));
    assert_eq!(
        std::fs::read_dir(out.path().join(".releases"))
            .unwrap()
            .count(),
        1
    );
    assert!(!out.path().join(".staging").exists());
}

#[test]
fn a_second_run_on_the_same_output_exits_75() {
    let out = tempfile::tempdir().unwrap();
    let _held = dispute_stats::release::lock(out.path()).unwrap();
    binary()
        .args(["run", "--out"])
        .arg(out.path())
        .assert()
        .code(75)
        .stderr(predicates::str::contains("lock"));
}

#[test]
fn a_killed_run_leaves_the_previous_release_intact() {
    let out = tempfile::tempdir().unwrap();
    let release = run_ok(out.path(), &[]);
    let before = std::fs::read_to_string(release.join("SHA256SUMS")).unwrap();
    for delay in [50u64, 300, 700, 1200, 2000] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("dispute-stats"))
            .args(["run", "--as-of", "2024-06-30", "--out"])
            .arg(out.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill();
        let _ = child.wait();
        let after = std::fs::read_to_string(out.path().join("all/SHA256SUMS")).unwrap();
        let finished = after != before;
        if finished {
            // The run completed before the kill: the new release must be whole.
            let status = std::process::Command::new("sha256sum")
                .args(["-c", "--quiet", "SHA256SUMS"])
                .current_dir(out.path().join("all"))
                .status()
                .unwrap();
            assert!(status.success());
            return;
        }
        let status = std::process::Command::new("sha256sum")
            .args(["-c", "--quiet", "SHA256SUMS"])
            .current_dir(out.path().join("all"))
            .status()
            .unwrap();
        assert!(
            status.success(),
            "previous release damaged after kill at {delay} ms"
        );
        let visible: Vec<_> = std::fs::read_dir(out.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| !n.starts_with('.'))
            .collect();
        assert_eq!(
            visible.len(),
            2,
            "only `all` and `latest` are visible: {visible:?}"
        );
    }
}

/// A run whose table rows do not fit their memory budget (the ingested rows and the `cases`
/// table kept on disk) publishes the same bytes as a run holding them in memory. (Many batches
/// and chunks on disk: the engine's and ingest's own tests.)
#[tokio::test]
async fn rows_kept_on_disk_publish_the_same_release() {
    use dispute_stats::config::JobConfig;
    use dispute_stats::engine::EngineOptions;
    use dispute_stats::period::Period;
    use dispute_stats::run::{RunSettings, SourceSettings, run};

    let spill = tempfile::tempdir().unwrap();
    let settings = |out: &Path, table_memory: usize| RunSettings {
        source: SourceSettings {
            config: JobConfig::default(),
            config_file: None,
            inputs: vec![fixture("cases_small.csv")],
            period: Some(Period::parse("2024-Q2").unwrap()),
            as_of: None,
            engine: EngineOptions {
                table_memory,
                spill_dir: Some(spill.path().to_path_buf()),
                ..EngineOptions::default()
            },
        },
        query_folders: Vec::new(),
        builtin: true,
        out: out.to_path_buf(),
        max_reject_rate: 0.01,
        lang: Default::default(),
    };
    let (memory, disk) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let in_memory = run(&settings(memory.path(), usize::MAX)).await.unwrap();
    let on_disk = run(&settings(disk.path(), 0)).await.unwrap();
    assert_eq!(in_memory.rows_accepted, 60);
    assert_eq!(on_disk.rows_accepted, 60);
    let sums = |p: &Path| std::fs::read_to_string(p.join("2024-Q2/SHA256SUMS")).unwrap();
    assert_eq!(sums(memory.path()), sums(disk.path()));
    let left: Vec<_> = std::fs::read_dir(spill.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|name| name.to_string_lossy().starts_with("dispute-stats-"))
        .collect();
    assert!(left.is_empty(), "spill folders left behind: {left:?}");
}
