//! Golden pages of the fixture release, compared byte for byte; `UPDATE_GOLDEN=1` rewrites
//! them (review the diff like code).

use std::path::Path;

use super::{artifacts, fixture_release};

#[test]
fn pages_match_the_golden_files() {
    let out = tempfile::tempdir().unwrap();
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let mut failures = Vec::new();
    for lang in ["en", "zh"] {
        let release = fixture_release(&out.path().join(lang), lang);
        let actual = std::fs::read(release.join("index.html")).unwrap();
        let golden = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden/html")
            .join(format!("index.{lang}.html"));
        if update {
            std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
            std::fs::write(&golden, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read(&golden).unwrap_or_default();
        if actual != expected {
            let kept = artifacts().join(format!("index.{lang}.actual.html"));
            std::fs::write(&kept, &actual).unwrap();
            let (actual, expected) = (
                String::from_utf8_lossy(&actual),
                String::from_utf8_lossy(&expected),
            );
            let line = actual
                .lines()
                .zip(expected.lines())
                .position(|(a, e)| a != e)
                .map_or(actual.lines().count().min(expected.lines().count()), |n| n);
            failures.push(format!(
                "{} differs from the page (kept in {}) at line {}:\n  golden: {}\n  actual: {}",
                golden.display(),
                kept.display(),
                line + 1,
                expected.lines().nth(line).unwrap_or("<end>"),
                actual.lines().nth(line).unwrap_or("<end>"),
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\nhint: if the change is intended, rerun with UPDATE_GOLDEN=1 and review the diff",
        failures.join("\n")
    );
}
