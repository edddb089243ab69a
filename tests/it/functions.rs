//! Edge cases of the SQL functions (docs/functions.md) through `dispute-stats sql`: the
//! Kaplan–Meier aggregates on a single case, all censored, all resolved on day 0, ties of
//! resolutions and censorings, a group with one event and an empty group; Wilson and ratio on
//! zero denominators. Expected values are worked out from first principles in the comments
//! (S(t) = Π (n − d)/n, Greenwood V = Σ d/(n(n − d)), band exp(−exp(ln(−ln S) ∓ z√V/ln S)));
//! the same data sets give the same numbers in lifelines 0.30.3 (the tables in the unit tests
//! of src/stats/km.rs).

use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate};

use crate::support::binary;

const AS_OF: &str = "2024-12-31";
/// z for a two-sided 95% interval, Φ⁻¹(0.975).
const Z: f64 = 1.959_963_984_540_054;

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// Writes cases given as (group, days, resolved): a resolved case is opened on 2024-01-01 and
/// closed `days` later; an open case is opened `days` before the as-of date, so both have
/// `duration_days` = `days`. The group is the `region`.
fn input(dir: &Path, cases: &[(&str, i64, bool)]) -> PathBuf {
    let opened = date("2024-01-01");
    let as_of = date(AS_OF);
    let mut text = String::from("case_id,opened_on,closed_on,outcome,region\n");
    for (index, &(group, days, resolved)) in cases.iter().enumerate() {
        if resolved {
            let closed = opened + Duration::days(days);
            text.push_str(&format!("F{index},{opened},{closed},settled,{group}\n"));
        } else {
            let start = as_of - Duration::days(days);
            text.push_str(&format!("F{index},{start},,open,{group}\n"));
        }
    }
    let path = dir.join("cases.csv");
    std::fs::write(&path, text).unwrap();
    std::fs::write(
        dir.join("job.toml"),
        "absent = [\"debt_type\", \"channel\", \"stage\", \"amount_claimed\", \"amount_recovered\", \
         \"debt_age_days\", \"fee_rate\", \"complaint\", \"complaint_upheld\", \"cross_border\"]\n",
    )
    .unwrap();
    path
}

/// Runs `dispute-stats sql` on the cases and returns the rows after the header.
fn sql(cases: &[(&str, i64, bool)], query: &str) -> Vec<Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let path = input(dir.path(), cases);
    let output = binary()
        .args(["sql", query, "--as-of", AS_OF, "--input"])
        .arg(&path)
        .arg("--config")
        .arg(dir.path().join("job.toml"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{query}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(output.stdout.as_slice());
    reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

/// Expected cell: a number, or `None` for NULL (an empty cell).
fn assert_cells(row: &[String], expected: &[Option<f64>], context: &str) {
    assert_eq!(row.len(), expected.len(), "{context}: {row:?}");
    for (index, (cell, want)) in row.iter().zip(expected).enumerate() {
        let ok = match want {
            None => cell.is_empty(),
            Some(want) => cell
                .parse::<f64>()
                .is_ok_and(|got| (got - want).abs() <= 1e-12),
        };
        assert!(ok, "{context}, column {index}: got `{cell}`, want {want:?}");
    }
}

/// The log(−log) band of Kalbfleisch & Prentice for survival `s` and Greenwood sum `v`.
fn band(s: f64, v: f64) -> (f64, f64) {
    let log = s.ln();
    let spread = Z * v.sqrt() / log;
    let centre = (-log).ln();
    (
        (-(centre - spread).exp()).exp(),
        (-(centre + spread).exp()).exp(),
    )
}

/// Median with interval, then first and third quartile with intervals, and the flags.
const QUANTILES: &str = "SELECT km_median(duration_days, resolved), \
    km_median_low(duration_days, resolved), km_median_high(duration_days, resolved), \
    km_quantile(duration_days, resolved, 0.25), km_quantile_low(duration_days, resolved, 0.25), \
    km_quantile_high(duration_days, resolved, 0.25), \
    km_quantile(duration_days, resolved, 0.75), km_quantile_low(duration_days, resolved, 0.75), \
    km_quantile_high(duration_days, resolved, 0.75), \
    km_median_reached(duration_days, resolved), km_quantile_reached(duration_days, resolved, 0.75) \
    FROM cases";

/// S(t) with band, and 1 − S(t) with band, at day `t`.
fn at_day(t: i64) -> String {
    let fs = ["km_survival", "km_survival_low", "km_survival_high"];
    let ends = [
        "km_resolved_by",
        "km_resolved_by_low",
        "km_resolved_by_high",
    ];
    let calls: Vec<String> = fs
        .iter()
        .chain(&ends)
        .map(|f| format!("{f}(duration_days, resolved, {t})"))
        .collect();
    format!("SELECT {} FROM cases", calls.join(", "))
}

/// The curve as rows: time, at_risk, events, censored, survival, low, high.
const CURVE: &str = "WITH c AS (SELECT km_curve(duration_days, resolved) AS curve FROM cases), \
    p AS (SELECT unnest(curve) AS p FROM c) \
    SELECT get_field(p, 'time') AS time, get_field(p, 'at_risk') AS at_risk, \
    get_field(p, 'events') AS events, get_field(p, 'censored') AS censored, \
    get_field(p, 'survival') AS survival, get_field(p, 'low') AS low, \
    get_field(p, 'high') AS high FROM p ORDER BY time";

fn flags(row: &[String], reached: [&str; 2], context: &str) {
    assert_eq!(
        &row[9..],
        &reached.map(String::from),
        "{context}: reached flags"
    );
}

#[test]
fn a_single_resolved_case() {
    // One case resolved on day 5: S drops from 1 to (1 − 1)/1 = 0 there; at S = 0 the band is
    // 0..0, so every quantile and both of its limits are day 5.
    let cases = [("x", 5, true)];
    let rows = sql(&cases, QUANTILES);
    assert_cells(&rows[0][..9], &[Some(5.0); 9], "quantiles");
    flags(&rows[0], ["true", "true"], "single event");
    assert_cells(
        &sql(&cases, &at_day(4))[0],
        &[
            Some(1.0),
            Some(1.0),
            Some(1.0),
            Some(0.0),
            Some(0.0),
            Some(0.0),
        ],
        "day 4",
    );
    assert_cells(
        &sql(&cases, &at_day(5))[0],
        &[
            Some(0.0),
            Some(0.0),
            Some(0.0),
            Some(1.0),
            Some(1.0),
            Some(1.0),
        ],
        "day 5",
    );
    let curve = sql(&cases, CURVE);
    assert_eq!(curve.len(), 2, "day-0 row and day 5");
    assert_cells(
        &curve[1],
        &[
            Some(5.0),
            Some(1.0),
            Some(1.0),
            Some(0.0),
            Some(0.0),
            Some(0.0),
            Some(0.0),
        ],
        "curve",
    );
}

#[test]
fn a_single_open_case() {
    // One case open for 5 days: no event, S = 1 everywhere, nothing is reached.
    let cases = [("x", 5, false)];
    let rows = sql(&cases, QUANTILES);
    assert_cells(&rows[0][..9], &[None; 9], "quantiles");
    flags(&rows[0], ["false", "false"], "single censored case");
    assert_cells(
        &sql(&cases, &at_day(10))[0],
        &[
            Some(1.0),
            Some(1.0),
            Some(1.0),
            Some(0.0),
            Some(0.0),
            Some(0.0),
        ],
        "day 10",
    );
}

#[test]
fn all_censored() {
    // Three open cases (1, 2 and 3 days): S = 1 with band 1..1 on every row, no quantile.
    let cases = [("x", 1, false), ("x", 2, false), ("x", 3, false)];
    let rows = sql(&cases, QUANTILES);
    assert_cells(&rows[0][..9], &[None; 9], "quantiles");
    flags(&rows[0], ["false", "false"], "all censored");
    assert_cells(
        &sql(&cases, &at_day(2))[0],
        &[
            Some(1.0),
            Some(1.0),
            Some(1.0),
            Some(0.0),
            Some(0.0),
            Some(0.0),
        ],
        "day 2",
    );
    let curve = sql(&cases, CURVE);
    let expected = [
        (0.0, 3.0, 0.0),
        (1.0, 3.0, 1.0),
        (2.0, 2.0, 1.0),
        (3.0, 1.0, 1.0),
    ];
    assert_eq!(curve.len(), expected.len());
    for (row, (time, at_risk, censored)) in curve.iter().zip(expected) {
        let want = [time, at_risk, 0.0, censored, 1.0, 1.0, 1.0].map(Some);
        assert_cells(row, &want, "curve");
    }
}

#[test]
fn all_resolved_on_day_zero() {
    // Three cases closed the day they were opened: the first row is day 0 with n = 3, d = 3,
    // S = 0 (band 0..0); before day 0 the curve is 1.
    let cases = [("x", 0, true), ("x", 0, true), ("x", 0, true)];
    let rows = sql(&cases, QUANTILES);
    assert_cells(&rows[0][..9], &[Some(0.0); 9], "quantiles");
    flags(&rows[0], ["true", "true"], "day zero");
    assert_cells(
        &sql(&cases, &at_day(0))[0],
        &[
            Some(0.0),
            Some(0.0),
            Some(0.0),
            Some(1.0),
            Some(1.0),
            Some(1.0),
        ],
        "day 0",
    );
    assert_cells(
        &sql(&cases, &at_day(-1))[0],
        &[
            Some(1.0),
            Some(1.0),
            Some(1.0),
            Some(0.0),
            Some(0.0),
            Some(0.0),
        ],
        "day -1",
    );
    let curve = sql(&cases, CURVE);
    assert_eq!(curve.len(), 1, "no separate day-0 row");
    assert_cells(
        &curve[0],
        &[
            Some(0.0),
            Some(3.0),
            Some(3.0),
            Some(0.0),
            Some(0.0),
            Some(0.0),
            Some(0.0),
        ],
        "curve",
    );
}

#[test]
fn resolutions_come_before_censorings_on_the_same_day() {
    // Days 1, 1, 1, 2, 2, 3 with one censoring on day 1 and one on day 2.
    // Day 1: n = 6 (the case censored on day 1 is still at risk), d = 2: S = 4/6,
    //        V = 2/(6·4) = 1/12. (Censoring first would give n = 5 and S = 3/5.)
    // Day 2: n = 3, d = 1: S = 4/6 · 2/3 = 4/9, V = 1/12 + 1/(3·2) = 1/4.
    // Day 3: n = 1, d = 1: S = 0, band 0..0.
    let cases = [
        ("x", 1, true),
        ("x", 1, true),
        ("x", 1, false),
        ("x", 2, true),
        ("x", 2, false),
        ("x", 3, true),
    ];
    let (s1, s2) = (2.0 / 3.0, 4.0 / 9.0);
    let ((low1, high1), (low2, high2)) = (band(s1, 1.0 / 12.0), band(s2, 0.25));
    let curve = sql(&cases, CURVE);
    let expected = [
        [0.0, 6.0, 0.0, 0.0, 1.0, 1.0, 1.0],
        [1.0, 6.0, 2.0, 1.0, s1, low1, high1],
        [2.0, 3.0, 1.0, 1.0, s2, low2, high2],
        [3.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0],
    ];
    assert_eq!(curve.len(), expected.len());
    for (row, want) in curve.iter().zip(expected) {
        assert_cells(row, &want.map(Some), "curve");
    }
    // Median: first S ≤ 0.5 is day 2 (4/9); the lower band is ≤ 0.5 from day 1 (0.195), the
    // upper band only on day 3 (0.785 on day 2). Quartiles: S ≤ 0.75 on day 1, S ≤ 0.25 on
    // day 3; lower band ≤ 0.75 from day 1, upper band ≤ 0.75 on day 3 (0.904, then 0.785).
    let rows = sql(&cases, QUANTILES);
    let want = [2.0, 1.0, 3.0, 1.0, 1.0, 3.0, 3.0, 1.0, 3.0].map(Some);
    assert_cells(&rows[0][..9], &want, "quantiles");
    flags(&rows[0], ["true", "true"], "ties");
    let want = [s2, low2, high2, 1.0 - s2, 1.0 - high2, 1.0 - low2].map(Some);
    assert_cells(&sql(&cases, &at_day(2))[0], &want, "day 2");
}

#[test]
fn a_group_with_one_event() {
    // Group `one`: days 2 (open), 3, 3 (open), 5 (open), 8 (open) with the only resolution on
    // day 3: n = 4, d = 1, S = 3/4, V = 1/(4·3) = 1/12. The median is not reached; its lower
    // limit is day 3 (lower band 0.128 ≤ 0.5), its upper limit is not reached (upper band
    // 0.961). Group `other` is there to show that groups do not mix.
    let cases = [
        ("one", 2, false),
        ("one", 3, true),
        ("one", 3, false),
        ("one", 5, false),
        ("one", 8, false),
        ("other", 1, true),
    ];
    let (low, high) = band(0.75, 1.0 / 12.0);
    let query = "SELECT region, km_median(duration_days, resolved), \
        km_median_low(duration_days, resolved), km_median_high(duration_days, resolved), \
        km_median_reached(duration_days, resolved), km_survival(duration_days, resolved, 8), \
        km_survival_low(duration_days, resolved, 8), km_survival_high(duration_days, resolved, 8), \
        km_resolved_by(duration_days, resolved, 8) \
        FROM cases GROUP BY region ORDER BY region";
    let rows = sql(&cases, query);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][0], "one");
    assert_eq!(rows[0][4], "false");
    assert_cells(&rows[0][1..4], &[None, Some(3.0), None], "one: median");
    assert_cells(
        &rows[0][5..],
        &[0.75, low, high, 0.25].map(Some),
        "one: day 8",
    );
    assert_eq!(rows[1][0], "other");
    assert_cells(&rows[1][1..4], &[Some(1.0); 3], "other: median");
}

#[test]
fn an_empty_group_gives_null() {
    // A WHERE that selects nothing, and rows whose duration is NULL: no usable case, so every
    // aggregate is NULL, like SQL's own (sum, avg, array_agg); the curve too.
    let cases = [("x", 1, true), ("x", 2, false)];
    let every = "km_median(d, resolved), km_median_low(d, resolved), km_median_high(d, resolved), \
        km_median_reached(d, resolved), km_quantile(d, resolved, 0.25), \
        km_quantile_low(d, resolved, 0.25), km_quantile_high(d, resolved, 0.25), \
        km_quantile_reached(d, resolved, 0.25), km_survival(d, resolved, 1), \
        km_survival_low(d, resolved, 1), km_survival_high(d, resolved, 1), \
        km_resolved_by(d, resolved, 1), km_resolved_by_low(d, resolved, 1), \
        km_resolved_by_high(d, resolved, 1), km_curve(d, resolved) IS NULL, \
        ratio(count(*), count(*)), wilson_low(count(*), count(*)), wilson_high(count(*), count(*))";
    for from in [
        "(SELECT duration_days AS d, resolved FROM cases) WHERE FALSE",
        "(SELECT CAST(NULL AS DOUBLE) AS d, resolved FROM cases)",
    ] {
        let rows = sql(&cases, &format!("SELECT {every} FROM {from}"));
        assert_eq!(rows.len(), 1, "{from}");
        let row = &rows[0];
        assert_eq!(row[14], "true", "{from}: km_curve IS NULL");
        let mut nulls: Vec<&String> = row[..14].iter().collect();
        if from.contains("WHERE FALSE") {
            // ratio and Wilson over count(*) = 0
            nulls.extend(&row[15..]);
        }
        assert!(nulls.iter().all(|c| c.is_empty()), "{from}: {row:?}");
    }
    // A NULL third argument leaves the statistic undefined: NULL, the flag too.
    let rows = sql(
        &cases,
        "SELECT km_quantile(duration_days, resolved, NULL), \
         km_quantile_reached(duration_days, resolved, NULL), \
         km_survival(duration_days, resolved, NULL) FROM cases",
    );
    assert_cells(&rows[0], &[None, None, None], "NULL parameter");
}

#[test]
fn the_third_argument_must_be_constant_within_a_group() {
    let dir = tempfile::tempdir().unwrap();
    let path = input(dir.path(), &[("x", 1, true), ("x", 2, true)]);
    binary()
        .args([
            "sql",
            "SELECT km_survival(duration_days, resolved, duration_days) FROM cases",
            "--as-of",
            AS_OF,
            "--input",
        ])
        .arg(&path)
        .arg("--config")
        .arg(dir.path().join("job.toml"))
        .assert()
        .failure()
        .stderr(predicates::str::contains("must be the same for every row"));
}

#[test]
fn wilson_and_ratio_on_zero_and_null() {
    let cases = [("x", 1, true)];
    // statsmodels 0.15.0: proportion_confint(81, 263, alpha, method="wilson") =
    // (0.2552885198782742, 0.36620957698280004) at alpha 0.05 and
    // (0.2633136171884814, 0.35656634960848815) at alpha 0.10.
    let query = "SELECT wilson_low(81, 263), wilson_high(81, 263), \
        wilson_low(81, 263, 0.9), wilson_high(81, 263, 0.9), \
        wilson_low(0, 10), wilson_high(10, 10), ratio(7, 2), 7 / 2 FROM cases";
    let want = [
        0.255_288_519_878_274_2,
        0.366_209_576_982_800_04,
        0.263_313_617_188_481_4,
        0.356_566_349_608_488_15,
        0.0,
        1.0,
        3.5,
        3.0, // DataFusion's integer division, which ratio() exists to avoid
    ];
    assert_cells(&sql(&cases, query)[0], &want.map(Some), "values");
    // No cases (n = 0), k outside 0..=n, a level outside (0, 1), NULL arguments, a zero
    // denominator: all NULL, never an error, NaN or infinity.
    let query = "SELECT wilson_low(0, 0), wilson_high(0, 0), wilson_low(5, 4), \
        wilson_high(-1, 4), wilson_low(1, 2, 1.0), wilson_high(1, 2, 0), wilson_low(NULL, 10), \
        wilson_high(1, NULL), ratio(1, 0), ratio(0, 0), ratio(-1, 0.0), ratio(NULL, 2), \
        ratio(2, NULL) FROM cases";
    assert_cells(&sql(&cases, query)[0], &[None; 13], "undefined");
}

/// Asserts each cell within a relative tolerance (`None`: an empty cell).
fn assert_close(row: &[String], expected: &[Option<f64>], tolerance: f64, context: &str) {
    assert_eq!(row.len(), expected.len(), "{context}: {row:?}");
    for (index, (cell, want)) in row.iter().zip(expected).enumerate() {
        let ok = match want {
            None => cell.is_empty(),
            Some(want) => cell
                .parse::<f64>()
                .is_ok_and(|got| (got - want).abs() <= tolerance * want.abs().max(1.0)),
        };
        assert!(ok, "{context}, column {index}: got `{cell}`, want {want:?}");
    }
}

#[test]
fn poisson_ratio_matches_statsmodels_score_interval() {
    let cases = [("x", 1, true)];
    // statsmodels 0.15.0: confint_poisson_2indep(81, 1, 263, 1, method="score",
    // compare="ratio") = (0.24023749669786995, 0.39483690933251725) at alpha 0.05 and
    // (0.2499872410090635, 0.3794378911127285) at alpha 0.10; statsmodels finds them by root
    // finding, hence the tolerance.
    let query = "SELECT poisson_ratio_low(81, 263), poisson_ratio_high(81, 263), \
        poisson_ratio_low(81, 263, 0.9), poisson_ratio_high(81, 263, 0.9), \
        poisson_ratio_low(0, 5), poisson_ratio_low(3, 0), poisson_ratio_high(3, 0), \
        poisson_ratio_high(NULL, 4), poisson_ratio_low(1, 2, 1.5) FROM cases";
    let want = [
        Some(0.240_237_496_697_869_95),
        Some(0.394_836_909_332_517_25),
        Some(0.249_987_241_009_063_5),
        Some(0.379_437_891_112_728_5),
        Some(0.0),
        None,
        None,
        None,
        None,
    ];
    assert_close(&sql(&cases, query)[0], &want, 1e-8, "poisson ratio");
}

#[test]
fn ratio_of_sums_matches_statsmodels_wls_hc1() {
    let cases = [("x", 1, true)];
    // statsmodels 0.15.0: WLS(y, x, weights=1/x).fit(cov_type="HC1").conf_int(alpha) for
    // y = (10, 0, 25.5, 40, 3), x = (100, 50, 60, 80, 12.5): estimate Σy/Σx =
    // 0.25950413223140495, 95% (0.043201519504047325, 0.4758067449587626),
    // 90% (0.07797725731427915, 0.4410310071485307).
    let rows = "(10.00, 100.00), (0.00, 50.00), (25.50, 60.00), (40.00, 80.00), (3.00, 12.50)";
    let want = [
        Some(0.043_201_519_504_047_325),
        Some(0.475_806_744_958_762_6),
        Some(0.077_977_257_314_279_15),
        Some(0.441_031_007_148_530_7),
    ];
    // DECIMAL (summed exactly), DOUBLE, and the scalar form on the sums: the same bounds.
    for (label, y, x) in [
        (
            "decimal",
            "CAST(y AS DECIMAL(18, 2))",
            "CAST(x AS DECIMAL(18, 2))",
        ),
        ("double", "CAST(y AS DOUBLE)", "CAST(x AS DOUBLE)"),
    ] {
        let query = format!(
            "SELECT ratio_of_sums_low({y}, {x}), ratio_of_sums_high({y}, {x}), \
             ratio_of_sums_low({y}, {x}, 0.9), ratio_of_sums_high({y}, {x}, 0.9) \
             FROM (VALUES {rows}) AS t(y, x)"
        );
        assert_close(&sql(&cases, &query)[0], &want, 1e-12, label);
    }
    let query = format!(
        "SELECT ratio_moments_low(count(*), sum(y), sum(x), sum(y * y), sum(x * y), sum(x * x)), \
         ratio_moments_high(count(*), sum(y), sum(x), sum(y * y), sum(x * y), sum(x * x)), \
         ratio_moments_low(count(*), sum(y), sum(x), sum(y * y), sum(x * y), sum(x * x), 0.9), \
         ratio_moments_high(count(*), sum(y), sum(x), sum(y * y), sum(x * y), sum(x * x), 0.9) \
         FROM (VALUES {rows}) AS t(y, x)"
    );
    assert_close(&sql(&cases, &query)[0], &want, 1e-12, "moments");
    // One row, no claims, a NULL pair skipped: undefined bounds are NULL, never an error.
    let query = "SELECT ratio_of_sums_low(y, x), ratio_of_sums_high(y, x) \
        FROM (VALUES (1.0, 2.0), (NULL, 3.0)) AS t(y, x)";
    assert_close(&sql(&cases, query)[0], &[None, None], 0.0, "one pair");
    let query = "SELECT ratio_of_sums_low(y, x) FROM (VALUES (1.0, 0.0), (2.0, 0.0)) AS t(y, x)";
    assert_close(&sql(&cases, query)[0], &[None], 0.0, "no claims");
}

#[test]
fn year_month_is_to_char_year_month() {
    let cases = [("2024-01-01", 10, true)];
    // Every day from 0001-01-01 to 9999-12-31 in steps of 997 days, with leap days, a NULL and
    // the published months of the cases table.
    let query = "SELECT count(d), count(*) FILTER (WHERE year_month(d) = to_char(d, '%Y-%m')), \
        count(*) FILTER (WHERE year_month(d) IS NULL) \
        FROM (SELECT CAST(CAST(value AS INT) AS DATE) AS d FROM generate_series(-719162, 2932896, 997) \
        UNION ALL SELECT DATE '2024-02-29' UNION ALL SELECT DATE '2000-02-29' \
        UNION ALL SELECT CAST(NULL AS DATE))";
    let row = &sql(&cases, query)[0];
    assert_eq!(row[0], "3666", "{row:?}");
    assert_eq!(row[0], row[1], "every day: {row:?}");
    assert_eq!(row[2], "1");
    let months = sql(
        &cases,
        "SELECT year_month(DATE '0999-12-31'), year_month(DATE '2024-02-29'), opened_month FROM cases",
    );
    assert_eq!(months[0], ["0999-12", "2024-02", "2024-01"]);
}

#[test]
fn buckets_are_the_documented_case_expressions() {
    let cases = [("2024-01-01", 10, true)];
    let ages =
        "(VALUES (NULL), (-1), (0), (89), (90), (179), (180), (364), (365), (100000)) AS t(v)";
    let age_case = "CASE WHEN d IS NULL THEN NULL WHEN d < 90 THEN 'under_90' \
        WHEN d < 180 THEN '90_to_180' WHEN d < 365 THEN '180_to_365' ELSE 'over_365' END";
    let query = format!(
        "SELECT count(*), count(*) FILTER (WHERE CAST(age_bucket_of(d) AS VARCHAR) IS NOT DISTINCT FROM {age_case}), \
         string_agg(CAST(age_bucket_of(d) AS VARCHAR), ',' ORDER BY d) \
         FROM (SELECT CAST(v AS INT) AS d FROM {ages})"
    );
    let row = &sql(&cases, &query)[0];
    assert_eq!(row[0], "10");
    assert_eq!(row[1], "10", "{row:?}");
    assert_eq!(
        row[2],
        "under_90,under_90,under_90,90_to_180,90_to_180,180_to_365,180_to_365,over_365,over_365"
    );
    let amounts = "(VALUES (NULL), (0.00), (9999.99), (10000.00), (49999.99), (50000.00), \
        (199999.99), (200000.00), (999999.99), (1000000.00)) AS t(v)";
    let tier_case = "CASE WHEN a IS NULL THEN NULL WHEN a < 10000 THEN 'under_10k' \
        WHEN a < 50000 THEN '10k_to_50k' WHEN a < 200000 THEN '50k_to_200k' \
        WHEN a < 1000000 THEN '200k_to_1m' ELSE 'over_1m' END";
    let query = format!(
        "SELECT count(*), count(*) FILTER (WHERE CAST(amount_tier_of(a) AS VARCHAR) IS NOT DISTINCT FROM {tier_case}), \
         string_agg(CAST(amount_tier_of(a) AS VARCHAR), ',' ORDER BY a) \
         FROM (SELECT CAST(v AS DECIMAL(18, 2)) AS a FROM {amounts})"
    );
    let row = &sql(&cases, &query)[0];
    assert_eq!(row[0], "10");
    assert_eq!(row[1], "10", "{row:?}");
    assert_eq!(
        row[2],
        "under_10k,under_10k,10k_to_50k,10k_to_50k,50k_to_200k,50k_to_200k,200k_to_1m,200k_to_1m,over_1m"
    );
}

#[test]
fn outcome_as_of_is_the_documented_case_expression() {
    let cases = [("2024-01-01", 10, true)];
    let rows = "(VALUES ('settled', DATE '2024-01-10', DATE '2024-01-09'), \
        ('settled', DATE '2024-01-09', DATE '2024-01-09'), \
        (NULL, DATE '2024-02-01', DATE '2024-01-01'), \
        ('paid_in_full', NULL, DATE '2024-01-01'), \
        ('open', NULL, DATE '2024-01-01'), \
        ('withdrawn', DATE '2024-01-05', NULL), \
        ('judgment', DATE '2024-03-01', DATE '2024-02-01')) AS t(o, c, a)";
    let expected = "CASE WHEN c > a THEN 'open' ELSE o END";
    let category = "arrow_cast(o, 'Dictionary(Int32, Utf8)')";
    // With and without `open` among the dictionary's values.
    for filter in ["TRUE", "o IS DISTINCT FROM 'open'"] {
        let query = format!(
            "SELECT count(*), \
             count(*) FILTER (WHERE outcome_as_of(o, c, a) IS NOT DISTINCT FROM {expected}), \
             count(*) FILTER (WHERE CAST(outcome_as_of({category}, c, a) AS VARCHAR) IS NOT DISTINCT FROM {expected}), \
             min(arrow_typeof(outcome_as_of({category}, c, a))), \
             string_agg(COALESCE(CAST(outcome_as_of({category}, c, a) AS VARCHAR), '-'), ',' ORDER BY c, o) \
             FROM (SELECT * FROM {rows} WHERE {filter})"
        );
        let row = &sql(&cases, &query)[0];
        let all = if filter == "TRUE" { "7" } else { "6" };
        assert_eq!(row[0], all, "{row:?}");
        assert_eq!((&row[1], &row[2]), (&row[0], &row[0]), "{filter}: {row:?}");
        assert_eq!(row[3], "Dictionary(Int32, Utf8)");
        assert!(
            row[4].starts_with("withdrawn,settled,open,open,open,"),
            "{row:?}"
        );
    }
}
