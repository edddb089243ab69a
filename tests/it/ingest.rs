//! Ingest through the binary: every contract rule, every input format and encoding.

use std::io::Write;
use std::path::Path;

use predicates::prelude::*;
use predicates::str::contains;

use crate::support::{binary, fixture, read_csv, run_ok};

#[test]
fn every_rule_quarantines_its_row_with_line_column_and_rule() {
    let out = tempfile::tempdir().unwrap();
    let input = fixture("rules.csv").display().to_string();
    let release = run_ok(out.path(), &["--input", &input, "--max-reject-rate", "1"]);
    let rejects = read_csv(&release.join("rejects.csv"));
    assert_eq!(rejects[0], ["source", "line", "column", "rule", "value"]);
    let got: Vec<Vec<String>> = rejects[1..]
        .iter()
        .map(|r| vec![r[1].clone(), r[2].clone(), r[3].clone()])
        .collect();
    let expected: Vec<Vec<String>> = read_csv(&fixture("rules.expected.csv"))[1..].to_vec();
    assert_eq!(got, expected);
    assert!(rejects[1..].iter().all(|r| r[0] == input));
    let bad_amount = rejects.iter().find(|r| r[3] == "bad_amount").unwrap();
    assert_eq!(bad_amount[4], "10.559", "the offending value is shown");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(release.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["rows"]["accepted"], 10);
    assert_eq!(manifest["rows"]["rejected"], 14);
    assert_eq!(manifest["rows"]["rejected_by_rule"]["duplicate_case_id"], 1);
}

#[test]
fn too_many_rejects_exit_65_and_keep_the_rejects() {
    let out = tempfile::tempdir().unwrap();
    binary()
        .args(["run", "--input"])
        .arg(fixture("rules.csv"))
        .arg("--out")
        .arg(out.path())
        .assert()
        .code(65)
        .stderr(
            contains("14 of 24 rows rejected")
                .and(contains("line 12, column `case_id`: missing_required")),
        );
    assert!(!out.path().join("all").exists(), "no release");
    let rejects = read_csv(&out.path().join("all.rejects.csv"));
    assert_eq!(rejects.len(), 15);
}

#[test]
fn invalid_utf8_is_a_rejected_row_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.csv");
    let mut bytes = std::fs::read(fixture("cases_small.csv")).unwrap();
    bytes.extend_from_slice(b"X-1,2024-02-01,2024-03-01,settled,commercial,m\xfcnchen,web,reminder,1.00,1.00,1,0.1,false,,false\n");
    std::fs::write(&path, bytes).unwrap();
    let release = run_ok(
        dir.path().join("out").as_path(),
        &[
            "--input",
            path.to_str().unwrap(),
            "--max-reject-rate",
            "0.05",
        ],
    );
    let rejects = read_csv(&release.join("rejects.csv"));
    assert_eq!(
        rejects[1][1..4],
        ["62".to_string(), String::new(), "invalid_utf8".to_string()]
    );
}

/// The tables of a release, for comparing inputs that must mean the same thing.
fn tables(release: &Path) -> Vec<(String, String)> {
    let mut tables: Vec<(String, String)> = std::fs::read_dir(release.join("tables"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    tables.sort();
    tables
}

#[test]
fn every_format_and_encoding_gives_the_same_tables() {
    let dir = tempfile::tempdir().unwrap();
    let csv_text = std::fs::read_to_string(fixture("cases_small.csv")).unwrap();
    let reference = tables(&run_ok(
        &dir.path().join("ref"),
        &["--input", fixture("cases_small.csv").to_str().unwrap()],
    ));
    let variants = dir.path().join("variants");
    std::fs::create_dir(&variants).unwrap();
    // gzip, zstd, BOM + CRLF, GB18030, NDJSON, Parquet.
    let gz = variants.join("a.csv.gz");
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    encoder.write_all(csv_text.as_bytes()).unwrap();
    encoder.finish().unwrap();
    let zst = variants.join("b.csv.zst");
    std::fs::write(&zst, zstd::encode_all(csv_text.as_bytes(), 3).unwrap()).unwrap();
    let crlf = variants.join("c.csv");
    std::fs::write(&crlf, format!("\u{feff}{}", csv_text.replace('\n', "\r\n"))).unwrap();
    let ndjson = variants.join("d.ndjson");
    std::fs::write(&ndjson, to_ndjson(&csv_text)).unwrap();
    let parquet = variants.join("e.parquet");
    for path in [&gz, &zst, &crlf, &ndjson] {
        let got = tables(&run_ok(
            &dir.path().join(path.file_name().unwrap()),
            &["--input", path.to_str().unwrap()],
        ));
        assert_eq!(got, reference, "{}", path.display());
    }
    let gbk_dir = dir.path().join("gbk");
    std::fs::create_dir(&gbk_dir).unwrap();
    let chinese = csv_text.replace("shanghai", "上海");
    let (encoded, _, _) = encoding_rs::GB18030.encode(&chinese);
    std::fs::write(gbk_dir.join("cases.csv"), &encoded).unwrap();
    std::fs::write(
        gbk_dir.join("job.toml"),
        "[input]\nencoding = \"gb18030\"\n[labels.region]\n\"上海\" = \"shanghai\"\n",
    )
    .unwrap();
    let got = tables(&run_ok(
        &dir.path().join("gbk-out"),
        &[
            "--input",
            gbk_dir.join("cases.csv").to_str().unwrap(),
            "--config",
            gbk_dir.join("job.toml").to_str().unwrap(),
        ],
    ));
    assert_eq!(got, reference, "GB18030");
    write_parquet(&parquet, &csv_text);
    let got = tables(&run_ok(
        &dir.path().join("pq"),
        &["--input", parquet.to_str().unwrap()],
    ));
    assert_eq!(got, reference, "parquet");
}

fn to_ndjson(csv_text: &str) -> String {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let mut out = String::new();
    for record in reader.records() {
        let record = record.unwrap();
        let object: serde_json::Map<String, serde_json::Value> = header
            .iter()
            .zip(record.iter())
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.to_string())))
            .collect();
        out.push_str(&serde_json::to_string(&object).unwrap());
        out.push('\n');
    }
    out
}

/// Writes the CSV as a typed Parquet file (dates as Date32, money as Decimal128).
fn write_parquet(path: &Path, csv_text: &str) {
    use datafusion::arrow::csv::ReaderBuilder;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use dispute_stats::contract;
    use std::sync::Arc;
    let schema = contract::schema(&[]);
    let plain = Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                DataType::Dictionary(_, _) => Field::new(f.name(), DataType::Utf8, true),
                other => Field::new(f.name(), other.clone(), true),
            })
            .collect::<Vec<_>>(),
    );
    let reader = ReaderBuilder::new(Arc::new(plain.clone()))
        .with_header(true)
        .build(csv_text.as_bytes())
        .unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut writer =
        datafusion::parquet::arrow::ArrowWriter::try_new(file, Arc::new(plain), None).unwrap();
    for batch in reader {
        writer.write(&batch.unwrap()).unwrap();
    }
    writer.close().unwrap();
}

#[test]
fn folders_globs_and_empty_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data/2024");
    std::fs::create_dir_all(&data).unwrap();
    let text = std::fs::read_to_string(fixture("cases_small.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    std::fs::write(
        data.join("part-1.csv"),
        format!("{header}\n{}\n", rows[..30].join("\n")),
    )
    .unwrap();
    std::fs::write(
        data.join("part-2.csv"),
        format!("{header}\n{}\n", rows[30..].join("\n")),
    )
    .unwrap();
    let folder = run_ok(
        &dir.path().join("a"),
        &["--input", dir.path().join("data").to_str().unwrap()],
    );
    let reference = run_ok(
        &dir.path().join("b"),
        &["--input", fixture("cases_small.csv").to_str().unwrap()],
    );
    assert_eq!(
        tables(&folder),
        tables(&reference),
        "nested folder reads every file"
    );
    let pattern = data.join("part-*.csv");
    let globbed = run_ok(
        &dir.path().join("c"),
        &["--input", pattern.to_str().unwrap()],
    );
    assert_eq!(tables(&globbed), tables(&reference));
    std::fs::write(data.join("part-3.csv"), format!("{header}\n")).unwrap();
    binary()
        .args(["run", "--input"])
        .arg(dir.path().join("data"))
        .arg("--out")
        .arg(dir.path().join("d"))
        .assert()
        .code(65)
        .stderr(contains("part-3.csv").and(contains("no data rows")));
    std::fs::remove_file(data.join("part-3.csv")).unwrap();
    std::fs::write(data.join("notes.xlsx"), "x").unwrap();
    binary()
        .args(["run", "--input"])
        .arg(dir.path().join("data"))
        .arg("--out")
        .arg(dir.path().join("e"))
        .assert()
        .code(65)
        .stderr(contains("notes.xlsx").and(contains("not a supported file")));
    binary()
        .args(["run", "--input"])
        .arg(dir.path().join("*.parquet"))
        .arg("--out")
        .arg(dir.path().join("f"))
        .assert()
        .code(65)
        .stderr(contains("matches no file"));
}

#[test]
fn a_mapped_column_missing_from_the_header_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("job.toml"),
        "[columns]\ncase_id = \"Case Number\"\n",
    )
    .unwrap();
    binary()
        .args(["run", "--input"])
        .arg(fixture("cases_small.csv"))
        .arg("--config")
        .arg(dir.path().join("job.toml"))
        .arg("--out")
        .arg(dir.path().join("out"))
        .assert()
        .code(65)
        .stderr(contains("header has no column `Case Number`").and(contains("cases_small.csv")));
    std::fs::write(dir.path().join("bad.toml"), "[colums]\ncase_id = \"x\"\n").unwrap();
    binary()
        .args(["run", "--config"])
        .arg(dir.path().join("bad.toml"))
        .arg("--out")
        .arg(dir.path().join("out"))
        .assert()
        .code(2)
        .stderr(contains("colums"));
}
