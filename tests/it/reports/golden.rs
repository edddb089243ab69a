//! Golden pages of the fixture release, compared byte for byte; `UPDATE_GOLDEN=1` rewrites
//! them (review the diff like code).

use super::fixture_release;
use crate::support::golden;

#[test]
fn pages_match_the_golden_files() {
    let out = tempfile::tempdir().unwrap();
    for lang in ["en", "zh"] {
        let release = fixture_release(&out.path().join(lang), lang);
        let page = std::fs::read_to_string(release.join("index.html")).unwrap();
        golden(&format!("html/index.{lang}.html"), &page);
    }
}
