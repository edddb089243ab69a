//! Kaplan–Meier through SQL and through a full run against lifelines' tables
//! (`../shared/data/survival/km_reference`), with durations and events encoded as
//! opening and closing dates and an explicit `--as-of`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::support::{binary, read_csv, root, run_ok};

const AS_OF: &str = "2010-01-01";

fn survival(name: &str) -> PathBuf {
    root().join("../shared/data/survival").join(name)
}

/// Maps a lifelines data set onto the contract: an event is a case opened on 2000-01-01 and
/// closed `time` days later; a censored case is opened `time` days before the as-of date.
fn contract_csv(dir: &Path, source: &str, time: &str, event: &str, group: &str) -> PathBuf {
    let rows = read_csv(&survival(source));
    let column = |name: &str| rows[0].iter().position(|c| c == name).unwrap();
    let (t, e, g) = (column(time), column(event), column(group));
    let epoch = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
    let as_of = chrono::NaiveDate::parse_from_str(AS_OF, "%Y-%m-%d").unwrap();
    let mut text = String::from("case_id,opened_on,closed_on,outcome,region\n");
    for (index, row) in rows[1..].iter().enumerate() {
        let days = row[t].parse::<f64>().unwrap() as i64;
        let region = format!("{group}={}", row[g]);
        if row[e].parse::<f64>().unwrap() == 1.0 {
            let closed = epoch + chrono::Duration::days(days);
            text.push_str(&format!("K{index},{epoch},{closed},settled,{region}\n"));
        } else {
            let opened = as_of - chrono::Duration::days(days);
            text.push_str(&format!("K{index},{opened},,open,{region}\n"));
        }
    }
    let path = dir.join(format!("{source}.contract.csv"));
    std::fs::write(&path, text).unwrap();
    path
}

/// The job config for those files: every other optional contract column is absent.
fn config(dir: &Path) -> PathBuf {
    let path = dir.join("survival.toml");
    std::fs::write(
        &path,
        "absent = [\"debt_type\", \"channel\", \"stage\", \"amount_claimed\", \"amount_recovered\", \
         \"debt_age_days\", \"fee_rate\", \"complaint\", \"complaint_upheld\", \"cross_border\"]\n",
    )
    .unwrap();
    path
}

fn lifelines_quantiles() -> BTreeMap<(String, String, String), [String; 3]> {
    read_csv(&root().join("tests/reference/km_quantiles_lifelines.csv"))[1..]
        .iter()
        .map(|r| {
            (
                (r[0].clone(), r[1].clone(), r[2].clone()),
                [r[4].clone(), r[5].clone(), r[6].clone()],
            )
        })
        .collect()
}

/// lifelines writes `inf` for "not reached"; we publish an empty cell.
fn same(ours: &str, lifelines: &str) -> bool {
    if lifelines == "inf" {
        return ours.is_empty();
    }
    match (ours.parse::<f64>(), lifelines.parse::<f64>()) {
        (Ok(a), Ok(b)) => (a - b).abs() <= 1e-9,
        _ => false,
    }
}

fn sql(input: &Path, query: &str) -> Vec<Vec<String>> {
    let output = binary()
        .args(["sql", query, "--as-of", AS_OF, "--input"])
        .arg(input)
        .arg("--config")
        .arg(config(input.parent().unwrap()))
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

#[test]
fn km_sql_functions_reproduce_lifelines_quantiles() {
    let dir = tempfile::tempdir().unwrap();
    let expected = lifelines_quantiles();
    for (dataset, source, time, event, group) in [
        ("rossi", "rossi.csv", "week", "arrest", "fin"),
        ("waltons", "waltons_dataset.csv", "T", "E", "group"),
    ] {
        let input = contract_csv(dir.path(), source, time, event, group);
        let query = "SELECT region, q, km_quantile(duration_days, resolved, q) AS t, \
            km_quantile_low(duration_days, resolved, q) AS low, \
            km_quantile_high(duration_days, resolved, q) AS high, \
            km_quantile_reached(duration_days, resolved, q) AS reached \
            FROM cases CROSS JOIN (VALUES (0.25), (0.5), (0.75)) AS qs(q) \
            GROUP BY region, q ORDER BY region, q";
        let rows = sql(&input, query);
        assert_eq!(rows.len(), 1 + 2 * 3);
        for row in &rows[1..] {
            let key = (dataset.to_string(), row[0].clone(), row[1].clone());
            let reference = expected.get(&key).unwrap_or_else(|| panic!("{key:?}"));
            for (ours, theirs) in row[2..5].iter().zip(reference) {
                assert!(
                    same(ours, theirs),
                    "{key:?}: ours {ours} lifelines {theirs}"
                );
            }
            assert_eq!(
                row[5] == "true",
                reference[0] != "inf",
                "{key:?} reached flag"
            );
        }
    }
}

#[test]
fn km_curve_reproduces_the_lifelines_table() {
    let dir = tempfile::tempdir().unwrap();
    let input = contract_csv(dir.path(), "waltons_dataset.csv", "T", "E", "group");
    let query = "WITH c AS (SELECT km_curve(duration_days, resolved) AS curve FROM cases), \
        p AS (SELECT unnest(curve) AS p FROM c), \
        s AS (SELECT get_field(p, 'time') AS time, get_field(p, 'at_risk') AS at_risk, \
          get_field(p, 'events') AS events, get_field(p, 'survival') AS survival, \
          get_field(p, 'low') AS low, get_field(p, 'high') AS high FROM p) \
        SELECT * FROM s ORDER BY time";
    let ours = sql(&input, query);
    let reference: Vec<Vec<String>> = read_csv(&survival("km_reference/waltons_km.csv"))
        .into_iter()
        .filter(|r| r[0] == "ALL")
        .collect();
    assert_eq!(ours.len() - 1, reference.len());
    for (row, theirs) in ours[1..].iter().zip(&reference) {
        // reference: group,time,removed,observed,censored,entrance,at_risk,survival,ci_lower_95,ci_upper_95
        assert!(same(&row[0], &theirs[1]), "time {row:?} {theirs:?}");
        assert_eq!(row[1], theirs[6], "at risk at {}", theirs[1]);
        assert_eq!(row[2], theirs[3], "events at {}", theirs[1]);
        for (ours, lifelines) in row[3..6].iter().zip(&theirs[7..10]) {
            assert!(
                same(ours, lifelines),
                "at {}: ours {ours} lifelines {lifelines}",
                theirs[1]
            );
        }
    }
}

#[test]
fn a_full_run_publishes_lifelines_medians_and_not_reached() {
    let dir = tempfile::tempdir().unwrap();
    let medians = read_csv(&survival("km_reference/km_medians.csv"));
    for (dataset, source, time, event, group) in [
        ("rossi", "rossi.csv", "week", "arrest", "fin"),
        ("waltons", "waltons_dataset.csv", "T", "E", "group"),
    ] {
        let input = contract_csv(dir.path(), source, time, event, group);
        let release = run_ok(
            &dir.path().join(dataset),
            &[
                "--input",
                input.to_str().unwrap(),
                "--config",
                config(dir.path()).to_str().unwrap(),
                "--as-of",
                AS_OF,
                "--max-reject-rate",
                "0",
            ],
        );
        let overall = read_csv(&release.join("tables/resolution_time.csv"));
        let by_group = read_csv(&release.join("tables/resolution_time_by_region.csv"));
        let header = &overall[0];
        let at = |name: &str| header.iter().position(|c| c == name).unwrap();
        for reference in medians[1..].iter().filter(|r| r[0] == dataset) {
            let row = if reference[1] == "ALL" {
                &overall[1]
            } else {
                by_group.iter().find(|r| r[0] == reference[1]).unwrap()
            };
            let offset = usize::from(reference[1] != "ALL");
            assert_eq!(
                row[at("cases") + offset],
                reference[2],
                "{dataset} {}",
                reference[1]
            );
            assert!(
                same(&row[at("median_days") + offset], &reference[4]),
                "{dataset} {}: median {} vs lifelines {}",
                reference[1],
                row[at("median_days") + offset],
                reference[4]
            );
            let reached = reference[4] != "inf";
            assert_eq!(row[at("median_reached") + offset], reached.to_string());
        }
    }
}
