//! Real data by configuration alone: the CFPB sample must reproduce the reference figures
//! of `../shared/data/README.md` (computed independently of this project).

use crate::support::{read_csv, root, run_ok};

#[test]
fn cfpb_sample_reproduces_the_reference_figures() {
    let out = tempfile::tempdir().unwrap();
    let config = root().join("examples/cfpb/job.toml");
    let release = run_ok(out.path(), &["--config", config.to_str().unwrap()]);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(release.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["rows"]["read"], 6623);
    assert_eq!(manifest["rows"]["filtered_out"], 6623 - 1231);
    assert_eq!(manifest["rows"]["accepted"], 1231);
    let table = read_csv(&release.join("tables/cfpb_overview.csv"));
    let text = |name: &str| -> &str {
        let index = table[0].iter().position(|c| c == name).unwrap();
        &table[1][index]
    };
    let column = |name: &str| -> f64 { text(name).parse().unwrap() };
    assert_eq!(column("complaints"), 1231.0);
    assert_eq!(column("closed"), 1215.0);
    assert_eq!(format!("{:.2}", column("timely_rate") * 100.0), "96.67");
    assert_eq!(format!("{:.2}", column("relief_rate") * 100.0), "9.30");
    // Monetary relief (0.25% of closed) is 3 complaints: fewer than 10, so disclosure control
    // suppresses the count and its rate, and says so.
    assert_eq!(text("monetary_relief"), "");
    assert_eq!(text("monetary_relief_rate"), "");
    assert_eq!(
        text("suppressed"),
        "monetary_relief:threshold;monetary_relief_rate:threshold"
    );
    // The unpublished figure itself, through the analysts' `sql` command on the same config.
    let output = crate::support::binary()
        .args([
            "sql",
            "SELECT ratio(count(*) FILTER (WHERE response = 'Closed with monetary relief'), \
             count(*) FILTER (WHERE response LIKE 'Closed%')) AS share FROM cases",
            "--config",
        ])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let share: f64 = stdout.lines().nth(1).unwrap().parse().unwrap();
    assert_eq!(format!("{:.2}", share * 100.0), "0.25");
    // The built-in overview agrees: settled + paid in full over resolved is the relief rate.
    let overview = read_csv(&release.join("tables/overview.csv"));
    let resolved = overview[0].iter().position(|c| c == "resolved").unwrap();
    assert_eq!(overview[1][resolved], "1215");
    // Reports needing columns the source lacks are skipped with a note, not filled.
    let skipped = manifest["skipped"].as_array().unwrap();
    assert!(skipped.iter().any(|s| s["name"] == "by_stage"));
    assert!(!release.join("tables/by_stage.csv").exists());
    let channels = read_csv(&release.join("tables/timely_by_channel.csv"));
    let web = channels.iter().find(|r| r[0] == "web").unwrap();
    assert_eq!(web[1], "1007");
}
