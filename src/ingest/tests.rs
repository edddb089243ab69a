//! Ingest on several workers and small chunks gives exactly what one worker reading each input
//! as a single chunk gives: same batches (down to dictionary order), rejects, counts, hits, errors.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Schema};
use proptest::prelude::*;

use super::*;
use crate::ingest::store::Budget;
use crate::privacy::identifiers::Detector;
use datafusion::arrow::record_batch::RecordBatch;

const HEADER: [&str; 17] = [
    "case_id",
    "opened_on",
    "closed_on",
    "outcome",
    "debt_type",
    "region",
    "channel",
    "stage",
    "amount_claimed",
    "amount_recovered",
    "debt_age_days",
    "fee_rate",
    "complaint",
    "complaint_upheld",
    "cross_border",
    "note",
    "team",
];

/// Keeps `note`, drops rows of team `c`, and maps an identifier-looking channel label to a
/// contract one (so a column proven safe once valid can still hold one in the source).
fn config() -> JobConfig {
    let config: JobConfig = toml::from_str(
        r#"
[keep]
note = "note"
[[filter]]
column = "team"
in = ["a", "b"]
[labels.channel]
"x 13800138000" = "web"
"#,
    )
    .unwrap();
    config.validate().unwrap();
    config
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    Whole,
    /// Too few fields (CSV), missing fields (NDJSON, Parquet).
    Short,
    /// Invalid UTF-8 (CSV), invalid JSON (NDJSON), a non-ASCII note (Parquet).
    Broken,
}

#[derive(Debug, Clone)]
struct Case {
    id: String,
    opened: &'static str,
    closed_outcome: (&'static str, &'static str),
    region: String,
    channel: &'static str,
    amount: &'static str,
    note: &'static str,
    team: &'static str,
    shape: Shape,
}

impl Case {
    fn valid(id: &str) -> Case {
        Case {
            id: id.to_string(),
            opened: "2024-02-01",
            closed_outcome: ("2024-03-01", "settled"),
            region: "shanghai".into(),
            channel: "hotline",
            amount: "100.00",
            note: "",
            team: "a",
            shape: Shape::Whole,
        }
    }

    /// Cell texts; `None` for a field the row lacks.
    fn cells(&self) -> Vec<Option<String>> {
        let (closed, outcome) = self.closed_outcome;
        let texts = [
            self.id.as_str(),
            self.opened,
            closed,
            outcome,
            "commercial",
            &self.region,
            self.channel,
            "reminder",
            self.amount,
            "50.00",
            "30",
            "0.2500",
            "false",
            "",
            "false",
            self.note,
            self.team,
        ];
        let present = if self.shape == Shape::Short { 8 } else { 17 };
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| (i < present).then(|| t.to_string()))
            .collect()
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Csv,
    CsvGz,
    Ndjson,
    Parquet,
}

/// Writes the cases as one input file.
fn write(dir: &Path, name: &str, kind: Kind, cases: &[Case]) -> files::Input {
    let extension = match kind {
        Kind::Csv => "csv",
        Kind::CsvGz => "csv.gz",
        Kind::Ndjson => "ndjson",
        Kind::Parquet => "parquet",
    };
    let path = dir.join(format!("{name}.{extension}"));
    match kind {
        Kind::Csv | Kind::CsvGz => {
            let mut bytes = HEADER.join(",").into_bytes();
            bytes.push(b'\n');
            for case in cases {
                let cells: Vec<String> = case.cells().into_iter().flatten().collect();
                let mut line = cells.join(",").into_bytes();
                if case.shape == Shape::Broken {
                    line.extend_from_slice(b" m\xfcnchen");
                }
                bytes.extend_from_slice(&line);
                bytes.push(b'\n');
            }
            if let Kind::CsvGz = kind {
                let mut encoder =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                encoder.write_all(&bytes).unwrap();
                bytes = encoder.finish().unwrap();
            }
            std::fs::write(&path, bytes).unwrap();
        }
        Kind::Ndjson => {
            let mut text = String::new();
            for case in cases {
                if case.shape == Shape::Broken {
                    text.push_str("{\"case_id\": \n");
                    continue;
                }
                let object: serde_json::Map<String, serde_json::Value> = HEADER
                    .iter()
                    .zip(case.cells())
                    .filter_map(|(key, cell)| Some((key.to_string(), cell?.into())))
                    .collect();
                text.push_str(&serde_json::to_string(&object).unwrap());
                text.push('\n');
            }
            std::fs::write(&path, text).unwrap();
        }
        Kind::Parquet => {
            let schema = Arc::new(Schema::new(
                HEADER
                    .iter()
                    .map(|name| Field::new(*name, DataType::Utf8, true))
                    .collect::<Vec<_>>(),
            ));
            let rows: Vec<Vec<Option<String>>> = cases
                .iter()
                .map(|case| {
                    let mut cells = case.cells();
                    if case.shape == Shape::Broken {
                        cells[15] = Some("münchen".into());
                    }
                    cells
                        .into_iter()
                        .map(|c| c.filter(|c| !c.is_empty()))
                        .collect()
                })
                .collect();
            let columns: Vec<ArrayRef> = (0..HEADER.len())
                .map(|i| {
                    Arc::new(rows.iter().map(|r| r[i].clone()).collect::<StringArray>()) as ArrayRef
                })
                .collect();
            let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
            let file = std::fs::File::create(&path).unwrap();
            let mut writer =
                datafusion::parquet::arrow::ArrowWriter::try_new(file, schema, None).unwrap();
            writer.write(&batch).unwrap();
            writer.close().unwrap();
        }
    }
    files::Input {
        name: name.to_string(),
        format: files::format_of(&path).unwrap(),
        origin: files::Origin::Path(path),
    }
}

/// Each input validated as one chunk by one worker.
const SEQUENTIAL: Plan = Plan {
    workers: 1,
    chunk_rows: usize::MAX,
    budget: Budget {
        bytes: usize::MAX,
        dir: None,
    },
    read_typed: true,
    columnar: false,
};

fn run(inputs: &[files::Input], config: &JobConfig, plan: &Plan) -> anyhow::Result<Ingested> {
    ingest_with(inputs, config, &ProgressBar::hidden(), plan)
}

/// Panics unless both results are the same, down to the order of every batch's dictionaries.
fn assert_same(expected: &anyhow::Result<Ingested>, got: &anyhow::Result<Ingested>, plan: &Plan) {
    let (expected, got) = match (expected, got) {
        (Err(expected), Err(got)) => {
            assert_eq!(format!("{expected:#}"), format!("{got:#}"), "{plan:?}");
            return;
        }
        (Ok(expected), Ok(got)) => (expected, got),
        (expected, got) => panic!(
            "{plan:?}: {:?} vs {:?}",
            expected.as_ref().err(),
            got.as_ref().err()
        ),
    };
    assert_eq!(expected.batches.schema(), got.batches.schema(), "{plan:?}");
    assert_eq!(expected.counts, got.counts, "{plan:?}");
    assert_eq!(expected.rejects, got.rejects, "{plan:?}");
    assert_eq!(expected.identifiers, got.identifiers, "{plan:?}");
    assert_eq!(
        serde_json::to_string(&expected.inputs).unwrap(),
        serde_json::to_string(&got.inputs).unwrap(),
        "{plan:?}"
    );
    let rows = |batches: &[RecordBatch]| {
        batches
            .iter()
            .map(RecordBatch::num_rows)
            .collect::<Vec<_>>()
    };
    let (expected_batches, got_batches) = (
        expected.batches.batches().unwrap(),
        got.batches.batches().unwrap(),
    );
    assert_eq!(rows(&expected_batches), rows(&got_batches), "{plan:?}");
    for (a, b) in expected_batches.iter().zip(&got_batches) {
        for (index, (a, b)) in a.columns().iter().zip(b.columns()).enumerate() {
            let column = a.data_type();
            assert_eq!(column, b.data_type());
            if let DataType::Dictionary(_, _) = column {
                let (a, b) = (
                    a.as_dictionary::<Int32Type>(),
                    b.as_dictionary::<Int32Type>(),
                );
                assert_eq!(a.keys(), b.keys(), "{plan:?} column {index} keys");
                assert_eq!(
                    a.values().to_data(),
                    b.values().to_data(),
                    "{plan:?} column {index} dictionary"
                );
            } else {
                assert_eq!(a.to_data(), b.to_data(), "{plan:?} column {index}");
            }
        }
    }
}

fn case() -> impl Strategy<Value = Case> {
    let id = prop_oneof![
        6 => (0..8u8).prop_map(|i| format!("C-{i}")),
        1 => Just(" C-1 ".to_string()),
        1 => Just(String::new()),
        1 => Just("13800138000".to_string()),
    ];
    let opened = prop_oneof![4 => Just("2024-02-01"), 1 => Just("2024-02-30")];
    let closed_outcome = prop_oneof![
        4 => Just(("2024-03-01", "settled")),
        2 => Just(("", "open")),
        1 => Just(("2024-03-01", "open")),
        1 => Just(("", "settled")),
        1 => Just(("2024-01-01", "settled")),
        1 => Just(("2024-03-01", "bogus")),
    ];
    let channel = prop_oneof![
        4 => Just("hotline"),
        1 => Just("web"),
        1 => Just("x 13800138000"),
        1 => Just("carrier_pigeon"),
    ];
    let amount = prop_oneof![4 => Just("100.00"), 1 => Just("10.559")];
    let note = prop_oneof![
        3 => Just(""),
        2 => Just("plain"),
        1 => Just("a@example.com"),
        1 => Just("13800138000"),
    ];
    let team = prop_oneof![4 => Just("a"), 1 => Just("b"), 1 => Just("c")];
    // An open category: a Parquet chunk reads it as a dictionary, whose texts are looked up
    // and scanned once each (padded, empty and identifier values among them).
    let region = prop_oneof![
        8 => (0..12u8).prop_map(|r| format!("r{r}")),
        1 => Just(" r1 ".to_string()),
        1 => Just(String::new()),
        1 => Just("13800138000".to_string()),
    ];
    let shape = prop_oneof![
        10 => Just(Shape::Whole),
        1 => Just(Shape::Short),
        1 => Just(Shape::Broken),
    ];
    (
        id,
        opened,
        closed_outcome,
        region,
        channel,
        amount,
        note,
        team,
        shape,
    )
        .prop_map(
            |(id, opened, closed_outcome, region, channel, amount, note, team, shape)| Case {
                id,
                opened,
                closed_outcome,
                region,
                channel,
                amount,
                note,
                team,
                shape,
            },
        )
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        3 => Just(Kind::Csv),
        1 => Just(Kind::CsvGz),
        1 => Just(Kind::Ndjson),
        1 => Just(Kind::Parquet),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_workers_and_chunks_give_the_sequential_result(
        files in prop::collection::vec((kind(), prop::collection::vec(case(), 0..40)), 1..4),
        workers in 1..4usize,
        chunk_rows in 1..8usize,
        spill in any::<bool>(),
        columnar in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let inputs: Vec<files::Input> = files
            .iter()
            .enumerate()
            .map(|(i, (kind, cases))| write(dir.path(), &format!("part-{i}"), *kind, cases))
            .collect();
        let config = config();
        let expected = run(&inputs, &config, &SEQUENTIAL);
        // Every accepted batch in memory, or every one on disk.
        let bytes = if spill { 0 } else { usize::MAX };
        let plan = Plan {
            workers,
            chunk_rows,
            budget: Budget { bytes, dir: None },
            read_typed: true,
            columnar,
        };
        assert_same(&expected, &run(&inputs, &config, &plan), &plan);
    }
}

#[test]
fn duplicates_across_chunks_are_rejected_where_they_occur() {
    let dir = tempfile::tempdir().unwrap();
    let mut spaced = Case::valid(" C-2 ");
    spaced.note = "13800138000";
    let mut labelled = Case::valid("C-3");
    labelled.channel = "x 13800138000";
    let mut filtered = Case::valid("C-9");
    filtered.team = "c";
    let mut bad_date = Case::valid("C-9");
    bad_date.opened = "2024-02-30";
    let first = [
        Case::valid("C-1"),         // line 2
        Case::valid("C-2"),         // 3
        Case::valid("C-1"),         // 4: duplicate, in the next chunk
        spaced,                     // 5: duplicate; the raw cell is kept
        filtered,                   // 6: filtered, not seen
        bad_date,                   // 7: rejected, not seen
        Case::valid("C-9"),         // 8: accepted
        Case::valid("13800138000"), // 9: accepted (an identifier hit)
        Case::valid("13800138000"), // 10: duplicate; the value is withheld
        Case::valid("C-3"),         // 11
    ];
    let second = [labelled, Case::valid("C-4"), Case::valid("C-9")];
    let inputs = [
        write(dir.path(), "first", Kind::Csv, &first),
        write(dir.path(), "second", Kind::Ndjson, &second),
    ];
    let config = config();
    let expected = run(&inputs, &config, &SEQUENTIAL);
    for workers in 1..=3 {
        for chunk_rows in [1, 2, 3, 5] {
            let plan = Plan {
                workers,
                chunk_rows,
                budget: Budget::unlimited(),
                read_typed: true,
                columnar: true,
            };
            assert_same(&expected, &run(&inputs, &config, &plan), &plan);
        }
    }
    let ingested = expected.unwrap();
    let rejects: Vec<(&str, u64, &str, &str, Option<&str>)> = ingested
        .rejects
        .iter()
        .map(|r| {
            (
                r.source.as_str(),
                r.line,
                r.column.as_str(),
                r.rule,
                r.value.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        rejects,
        [
            ("first", 4, "case_id", "duplicate_case_id", Some("C-1")),
            ("first", 5, "case_id", "duplicate_case_id", Some(" C-2 ")),
            ("first", 7, "opened_on", "bad_date", Some("2024-02-30")),
            ("first", 10, "case_id", "duplicate_case_id", None),
            ("second", 1, "case_id", "duplicate_case_id", Some("C-3")),
            ("second", 3, "case_id", "duplicate_case_id", Some("C-9")),
        ]
    );
    assert_eq!(
        (
            ingested.counts.read,
            ingested.counts.filtered,
            ingested.counts.accepted
        ),
        (13, 1, 6)
    );
    assert_eq!(ingested.counts.rejected["duplicate_case_id"], 5);
    let mobile = |column: &str| {
        ingested
            .identifiers
            .get(&(column.to_string(), Detector::MainlandMobile))
    };
    // Accepted and duplicate ids, the duplicate's note, and the channel of the duplicate only
    // (a valid channel is not scanned).
    assert_eq!(mobile("case_id"), Some(&2));
    assert_eq!(mobile("note"), Some(&1));
    assert_eq!(mobile("channel"), Some(&1));
    let batches = ingested.batches.batches().unwrap();
    let ids: Vec<&str> = batches
        .iter()
        .flat_map(|b| b.column(0).as_string::<i32>().iter().flatten())
        .collect();
    assert_eq!(ids, ["C-1", "C-2", "C-9", "13800138000", "C-3", "C-4"]);
}

#[test]
fn batches_span_chunks_as_if_built_row_by_row() {
    // More than two batches of accepted rows, regions varying so that each batch's dictionary
    // has its own order of first use, and duplicates and rejects spread over the chunks.
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<Case> = (0..2 * columns::BATCH_ROWS + 20_000)
        .map(|i| {
            let mut case = Case::valid(&format!("C-{}", i % 140_000));
            case.region = format!("r{}", (i * 7919) % 97);
            if i % 1_000 == 7 {
                case.amount = "10.559";
            }
            case
        })
        .collect();
    let inputs = [write(dir.path(), "big", Kind::Csv, &cases)];
    let config = config();
    let expected = run(&inputs, &config, &SEQUENTIAL);
    let batches = expected.as_ref().unwrap().batches.batches().unwrap();
    assert_eq!(batches.len(), 3);
    // The first batch held in memory, the others written to disk: the budget holds one batch
    // and the set of 140,000 case ids (2^18 slots of 16 bytes, 4 MiB), not two batches.
    let first = store::Footprint::default().add(&batches[0]);
    assert!(first > 2 << 20);
    let plan = Plan {
        workers: 2,
        chunk_rows: 4_099,
        budget: Budget {
            bytes: first + (6 << 20),
            dir: None,
        },
        read_typed: true,
        columnar: true,
    };
    let got = run(&inputs, &config, &plan);
    assert_same(&expected, &got, &plan);
    assert_eq!(got.unwrap().batches.spilled(), 2);
    assert!(expected.unwrap().counts.rejected["duplicate_case_id"] > 0);
}

#[test]
fn the_first_error_in_input_order_wins() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<Case> = (0..5_000).map(|i| Case::valid(&format!("C-{i}"))).collect();
    let good = write(dir.path(), "good", Kind::Csv, &cases);
    // A gzip stream cut short: the rows before the cut are read, then the CSV reader fails.
    let cut = write(dir.path(), "cut", Kind::CsvGz, &cases);
    let files::Origin::Path(path) = &cut.origin else {
        unreachable!()
    };
    let bytes = std::fs::read(path).unwrap();
    std::fs::write(path, &bytes[..bytes.len() / 2]).unwrap();
    let empty = write(dir.path(), "empty", Kind::Csv, &[]);
    let config = config();
    for inputs in [
        vec![good.clone(), cut.clone(), empty.clone()],
        vec![good.clone(), empty.clone(), cut.clone()],
    ] {
        let expected = run(&inputs, &config, &SEQUENTIAL);
        for workers in 1..=3 {
            let plan = Plan {
                workers,
                chunk_rows: 64,
                budget: Budget::unlimited(),
                read_typed: true,
                columnar: true,
            };
            assert_same(&expected, &run(&inputs, &config, &plan), &plan);
        }
    }
    let error = run(&[good, cut], &config, &Plan::available())
        .err()
        .unwrap();
    assert!(format!("{error:#}").contains("malformed CSV"), "{error:#}");
}

/// One row of a Parquet file with contract types (dates, decimals, integers, booleans).
#[derive(Debug, Clone)]
struct TypedRow {
    id: Option<String>,
    opened: Option<i32>,
    closed: Option<i32>,
    outcome: &'static str,
    amount: Option<i128>,
    days: Option<i64>,
    fee: Option<f64>,
    fee_raw: Option<i128>,
    flags: [Option<bool>; 3],
    note: Option<&'static str>,
    team: &'static str,
}

fn typed_row() -> impl Strategy<Value = TypedRow> {
    // Day numbers: usual ones, and ones around 0001-01-01 (-719162) and 9999-12-31 (2932896),
    // where the text stops being `YYYY-MM-DD`.
    let day = || {
        prop_oneof![
            6 => (19_700..19_760i32).prop_map(Some),
            1 => (-719_165..-719_160i32).prop_map(Some),
            1 => (2_932_894..2_932_899i32).prop_map(Some),
            2 => Just(None),
        ]
    };
    let id = prop_oneof![
        6 => (0..8u8).prop_map(|i| Some(format!("C-{i}"))),
        1 => Just(None),
        1 => Just(Some("13800138000".to_string())),
    ];
    let days = prop_oneof![
        4 => Just(Some(30i64)),
        1 => Just(Some(0)),
        1 => Just(Some(-5)),
        1 => Just(Some(i64::from(i32::MAX))),
        1 => Just(Some(i64::from(i32::MAX) + 1)),
        1 => Just(None),
    ];
    let fee = prop_oneof![
        3 => Just(Some(0.25)),
        1 => Just(Some(0.1)),
        1 => Just(Some(-0.0)),
        1 => Just(Some(1.0)),
        1 => Just(Some(1.000_000_000_000_000_2)),
        1 => Just(Some(1e-7)),
        1 => Just(Some(f64::NAN)),
        1 => Just(Some(-0.5)),
        1 => Just(None),
    ];
    let fee_raw = prop_oneof![
        3 => Just(Some(2_500i128)),
        1 => Just(Some(0)),
        1 => Just(Some(10_000)),
        1 => Just(Some(10_001)),
        1 => Just(Some(-1)),
        1 => Just(Some(3_333)),
        1 => Just(None),
    ];
    let flag = || prop_oneof![Just(Some(true)), Just(Some(false)), Just(None)];
    // Around the 8 digits below which no detector can fire, the 16 whole digits an amount may
    // have, negative and 0; a phone number and a card number (Luhn) hidden in amounts.
    let amount = prop_oneof![
        4 => Just(Some(10_000i128)),
        1 => Just(Some(-100)),
        1 => Just(Some(0)),
        1 => Just(Some(9_999_999)),
        1 => Just(Some(13_800_138_000)),
        1 => Just(Some(1_380_013_800_000)),
        1 => Just(Some(4_539_578_763_621_486)),
        1 => Just(Some(999_999_999_999_999_999)),
        1 => Just(Some(10i128.pow(20))),
        1 => Just(None),
    ];
    (
        (
            id,
            day(),
            day(),
            prop_oneof![Just("settled"), Just("open"), Just("bogus")],
        ),
        (amount, days, fee, fee_raw),
        (flag(), flag(), flag()),
        (
            prop_oneof![Just(None), Just(Some("plain")), Just(Some("a@example.com"))],
            prop_oneof![4 => Just("a"), 1 => Just("c")],
        ),
    )
        .prop_map(
            |((id, opened, closed, outcome), (amount, days, fee, fee_raw), flags, (note, team))| {
                TypedRow {
                    id,
                    opened,
                    closed,
                    outcome,
                    amount,
                    days,
                    fee,
                    fee_raw,
                    flags: [flags.0, flags.1, flags.2],
                    note,
                    team,
                }
            },
        )
}

/// Writes the rows as Parquet with contract types: days as INT32 or INT64, the fee rate as
/// DOUBLE or DECIMAL(6, 4), amounts as DECIMAL(38, `amount_scale`).
fn write_typed(
    path: &Path,
    rows: &[TypedRow],
    wide_days: bool,
    decimal_fee: bool,
    amount_scale: i8,
) {
    use datafusion::arrow::array::{
        BooleanArray, Date32Array, Decimal128Array, Float64Array, Int32Array, Int64Array,
    };
    let text = |f: &dyn Fn(&TypedRow) -> Option<String>| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<StringArray>())
    };
    let same = |value: &'static str| text(&|_| Some(value.to_string()));
    let dates = |f: &dyn Fn(&TypedRow) -> Option<i32>| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<Date32Array>())
    };
    let money = |f: &dyn Fn(&TypedRow) -> Option<i128>| -> ArrayRef {
        Arc::new(
            rows.iter()
                .map(f)
                .collect::<Decimal128Array>()
                .with_precision_and_scale(38, amount_scale)
                .unwrap(),
        )
    };
    let days: ArrayRef = if wide_days {
        Arc::new(rows.iter().map(|r| r.days).collect::<Int64Array>())
    } else {
        let narrow = |d: Option<i64>| d.and_then(|d| i32::try_from(d).ok());
        Arc::new(rows.iter().map(|r| narrow(r.days)).collect::<Int32Array>())
    };
    let fee: ArrayRef = if decimal_fee {
        Arc::new(
            rows.iter()
                .map(|r| r.fee_raw)
                .collect::<Decimal128Array>()
                .with_precision_and_scale(6, 4)
                .unwrap(),
        )
    } else {
        Arc::new(rows.iter().map(|r| r.fee).collect::<Float64Array>())
    };
    let flag = |i: usize| -> ArrayRef {
        Arc::new(rows.iter().map(|r| r.flags[i]).collect::<BooleanArray>())
    };
    let columns = vec![
        text(&|r| r.id.clone()),
        dates(&|r| r.opened),
        dates(&|r| r.closed),
        text(&|r| Some(r.outcome.to_string())),
        same("commercial"),
        same("r3"),
        same("hotline"),
        same("reminder"),
        money(&|r| r.amount),
        money(&|r| r.amount.map(|a| a / 2)),
        days,
        fee,
        flag(0),
        flag(1),
        flag(2),
        text(&|r| r.note.map(str::to_string)),
        text(&|r| Some(r.team.to_string())),
    ];
    let fields: Vec<Field> = HEADER
        .iter()
        .zip(&columns)
        .map(|(name, column)| Field::new(*name, column.data_type().clone(), true))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut writer = datafusion::parquet::arrow::ArrowWriter::try_new(file, schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

/// The test config, and variants under which some decoded columns must be read as text.
fn typed_config(variant: usize) -> JobConfig {
    let extra = match variant {
        0 => "",
        1 => "[input]\nnull_values = [\"0\", \"NA\"]\n",
        2 => "[input]\nnull_values = [\"false\"]\n",
        3 => "[input]\ndate_formats = [\"%d/%m/%Y\", \"%Y-%m-%d\"]\n",
        4 => "[input]\nnull_values = [\"100.00\"]\n",
        _ => "[labels.complaint]\n\"true\" = \"false\"\n",
    };
    let base = r#"
[keep]
note = "note"
[[filter]]
column = "team"
in = ["a", "b"]
"#;
    let config: JobConfig = toml::from_str(&format!("{extra}{base}")).unwrap();
    config.validate().unwrap();
    config
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn decoded_columns_are_checked_as_their_text(
        rows in prop::collection::vec(typed_row(), 0..40),
        wide_days in any::<bool>(),
        decimal_fee in any::<bool>(),
        amount_scale in prop_oneof![4 => Just(2i8), 1 => Just(1), 1 => Just(0), 1 => Just(3)],
        variant in 0..6usize,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("typed.parquet");
        write_typed(&path, &rows, wide_days, decimal_fee, amount_scale);
        let inputs = [files::Input {
            name: "typed".into(),
            format: files::format_of(&path).unwrap(),
            origin: files::Origin::Path(path),
        }];
        let config = typed_config(variant);
        let typed = Plan {
            workers: 2,
            chunk_rows: 7,
            budget: Budget::unlimited(),
            read_typed: true,
            columnar: true,
        };
        let text = Plan {
            read_typed: false,
            columnar: false,
            ..typed.clone()
        };
        assert_same(&run(&inputs, &config, &text), &run(&inputs, &config, &typed), &typed);
    }
}

#[test]
fn contract_typed_parquet_columns_are_read_as_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cases.parquet");
    let date = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
    crate::generate::generate(&crate::generate::GenerateOptions {
        cases: 50,
        seed: 1,
        out: path.clone(),
        as_of: date(2024, 6, 30),
        start: date(2023, 1, 1),
    })
    .unwrap();
    let file = std::fs::File::open(&path).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let header: Vec<String> = reader
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let batch = reader.build().unwrap().next().unwrap().unwrap();
    let decoded = || Rows::Typed {
        first_line: 1,
        columns: batch.columns().to_vec(),
        rows: batch.num_rows(),
    };
    let config = JobConfig::default();
    let typed_columns = |rules: FileRules| match rules.text(decoded()).unwrap() {
        Rows::Arrow { typed, .. } => typed
            .iter()
            .zip(&header)
            .filter(|(typed, _)| typed.is_some())
            .map(|(_, name)| name.clone())
            .collect::<Vec<_>>(),
        _ => panic!("decoded rows become Arrow rows"),
    };
    let rules = || FileRules::new(&config, "cases", &header).unwrap();
    assert_eq!(
        typed_columns(rules()),
        [
            "opened_on",
            "closed_on",
            "amount_claimed",
            "amount_recovered",
            "debt_age_days",
            "fee_rate",
            "complaint",
            "complaint_upheld",
            "cross_border"
        ]
    );
    assert!(typed_columns(rules().read_typed(false)).is_empty());
}
