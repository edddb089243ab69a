//! `workbook.xlsx` read back with calamine and checked cell by cell against the CSV tables of
//! the same release; and its bytes do not depend on the clock.

use std::path::Path;

use calamine::{Data, Reader, Xlsx, open_workbook};
use dispute_stats::output::labels::{self, Lang};
use dispute_stats::output::xlsx::HEADER_ROW;

use super::fixture_release;

/// Checks every sheet of a release's workbook against `tables/<report>.csv`.
fn check_against_csv(release: &Path, lang: Lang) {
    let mut workbook: Xlsx<_> = open_workbook(release.join("workbook.xlsx")).unwrap();
    let sheets = workbook.sheet_names();
    assert_eq!(sheets[0], labels::texts(lang).summary_sheet);
    let mut checked_missing = 0;
    for sheet in &sheets[1..] {
        assert!(sheet.chars().count() <= 31);
        let csv_path = release.join("tables").join(format!("{sheet}.csv"));
        let mut reader = csv::Reader::from_path(&csv_path).unwrap();
        let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        let range = workbook.worksheet_range(sheet).unwrap();
        let cell = |row: u32, col: usize| {
            range
                .get_value((row, col as u32))
                .cloned()
                .unwrap_or(Data::Empty)
        };
        for (col, name) in headers.iter().enumerate() {
            assert_eq!(
                cell(HEADER_ROW, col),
                Data::String(labels::column(lang, name)),
                "{sheet} header {col}"
            );
        }
        let mut rows = 0;
        for (index, record) in reader.records().enumerate() {
            let record = record.unwrap();
            let row = HEADER_ROW + 1 + index as u32;
            for (col, value) in record.iter().enumerate() {
                let at = format!("{sheet} row {row} `{}`", headers[col]);
                match cell(row, col) {
                    Data::Float(number) => {
                        assert_eq!(number, value.parse::<f64>().unwrap(), "{at}");
                    }
                    Data::String(text) if value.is_empty() => {
                        assert_eq!(text, "–", "{at}: a suppressed cell is marked");
                        checked_missing += 1;
                    }
                    Data::String(text) => {
                        assert!(
                            value.parse::<f64>().is_err(),
                            "{at}: number {value} written as text"
                        );
                        assert_eq!(text, labels::category(lang, &headers[col], value), "{at}");
                    }
                    other => panic!("{at}: unexpected {other:?} for `{value}`"),
                }
            }
            rows += 1;
        }
        assert_eq!(
            cell(HEADER_ROW + 1 + rows, 0),
            Data::Empty,
            "{sheet}: no extra row"
        );
    }
    assert!(
        checked_missing > 0,
        "the fixture has empty cells (complaint rates of zero complaints)"
    );
}

#[test]
fn sheets_hold_the_csv_tables_cell_by_cell() {
    let out = tempfile::tempdir().unwrap();
    for (code, lang) in [("en", Lang::En), ("zh", Lang::Zh)] {
        let release = fixture_release(&out.path().join(code), code);
        check_against_csv(&release, lang);
    }
}

#[test]
fn the_same_release_gives_the_same_workbook() {
    let out = tempfile::tempdir().unwrap();
    let first =
        std::fs::read(fixture_release(&out.path().join("a"), "zh").join("workbook.xlsx")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let second =
        std::fs::read(fixture_release(&out.path().join("b"), "zh").join("workbook.xlsx")).unwrap();
    assert!(
        first == second,
        "two runs of the same release give the same workbook"
    );
}
