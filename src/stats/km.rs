//! Kaplan–Meier product-limit estimate of the survival function S(t) for right-censored
//! durations (E. L. Kaplan and P. Meier 1958, JASA 53(282), 457–481), reproducing lifelines'
//! `KaplanMeierFitter` with default settings (lifelines 0.30.3): Greenwood's variance
//! (M. Greenwood 1926, "The natural duration of cancer", Reports on Public Health and Medical
//! Subjects 33) and a pointwise confidence band built on log(−log S) and transformed back, the
//! "exponential Greenwood" band of J. D. Kalbfleisch and R. L. Prentice (1980), *The
//! Statistical Analysis of Failure Time Data*, Wiley.
//!
//! At each distinct time t with n cases at risk and d events, S(t) = S(t−)·(n − d)/n and the
//! Greenwood sum V(t) = Σ d/(n(n − d)). With v = ln S and z the two-sided normal critical value
//! of `level`, the band is exp(−exp(ln(−v) ∓ z·√V / v)), lower bound first.
//!
//! Conventions, all lifelines' unless marked otherwise:
//! - Ties: at a shared time, events happen before censorings, so cases censored at t are still
//!   at risk for the events at t. `at_risk` counts everyone whose time is ≥ t.
//! - A time-0 row (no events, no censorings, S = 1, band 1..1) is added when every time is
//!   positive; when cases end at time 0 the first row is time 0 and carries them.
//! - While S = 1 the band is 1..1. When S reaches 0 (everyone left at risk has the event) the
//!   Greenwood term d/(n(n − d)) of that time is taken as 0 and the band is 0..0; that can only
//!   happen at the last row. For a `level` in [0, 1] no value is ever NaN.
//! - Quantile q (q = 0.5 is the median) is the first time t with S(t) ≤ 1 − q, as in lifelines;
//!   statsmodels and SAS use S(t) < 1 − q instead. Its confidence interval is the first time the
//!   lower band, respectively the upper band, is ≤ 1 − q (lifelines `qth_survival_times` applied
//!   to `confidence_interval_`, as `median_survival_times` does; lifelines locates it with a
//!   binary search, which gives the same first crossing whenever the band is non-increasing,
//!   the usual case). A curve that never gets there
//!   gives `None`, "not reached" (lifelines: `inf`). lifelines' `percentile(p)` is indexed by
//!   the survival level, so `quantile(q)` here equals lifelines `percentile(1 − q)`.
//! - Ours, not lifelines': "≤ 1 − q" is tested with an absolute tolerance of 1e-12, so that
//!   S equal to the level in exact arithmetic counts whichever way rounding falls. lifelines
//!   sums logarithms and can land just above: for six uncensored durations 3, 4, 4, 6, 7, 7 it
//!   computes S(4) = 0.5000000000000001 and reports median 6, where the ≤ rule gives 4.
//! - Ours: S is also defined outside the observed times: 1 before the first row, the last row's
//!   values after the last time (lifelines `predict` gives NaN before the first time).
//! - Ours: empty input gives no rows, `survival_at` = `None` and "not reached" quantiles
//!   (lifelines refuses to fit). Non-finite times and entries with no cases are ignored.

use super::normal;

/// Absolute slack in "value ≤ level" so that values equal to the level up to rounding reach it.
const REACH_TOLERANCE: f64 = 1e-12;

/// One distinct time with how many cases ended there by event and by censoring.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeCount {
    /// Duration at which the cases ended.
    pub time: f64,
    /// Cases that ended with the event at `time`.
    pub events: u64,
    /// Cases censored at `time`.
    pub censored: u64,
}

/// One row of the Kaplan–Meier table: lifelines' `event_table` joined with the estimate and band.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KmRow {
    /// Distinct time, increasing from row to row.
    pub time: f64,
    /// Cases with a time ≥ `time`.
    pub at_risk: u64,
    /// Events at `time`.
    pub events: u64,
    /// Censorings at `time`.
    pub censored: u64,
    /// Estimated S(`time`), right-continuous.
    pub survival: f64,
    /// Lower bound of the pointwise confidence band at `time`.
    pub ci_low: f64,
    /// Upper bound of the pointwise confidence band at `time`.
    pub ci_high: f64,
}

/// A quantile of the time to event with its confidence interval; `None` means "not reached".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantile {
    /// First time the survival estimate reaches the level.
    pub time: Option<f64>,
    /// First time the lower band reaches the level.
    pub ci_low: Option<f64>,
    /// First time the upper band reaches the level.
    pub ci_high: Option<f64>,
}

/// Kaplan–Meier estimate with its pointwise confidence band at a fixed confidence level.
#[derive(Debug, Clone, PartialEq)]
pub struct KaplanMeier {
    rows: Vec<KmRow>,
    level: f64,
}

impl KaplanMeier {
    /// Fits the estimate to counts per time (in any order, times may repeat) with a band at
    /// confidence `level`, e.g. 0.95.
    pub fn from_counts(counts: &[TimeCount], level: f64) -> KaplanMeier {
        let z = -normal::quantile((1.0 - level) / 2.0);
        KaplanMeier {
            rows: build_rows(&merge_counts(counts), z),
            level,
        }
    }

    /// Fits the estimate to one duration and one event flag (false = censored) per case; the
    /// slices must have equal length (debug builds check it, release builds ignore the excess).
    pub fn from_durations(durations: &[f64], events: &[bool], level: f64) -> KaplanMeier {
        debug_assert_eq!(durations.len(), events.len(), "one event flag per duration");
        let counts: Vec<TimeCount> = durations
            .iter()
            .zip(events)
            .map(|(&time, &event)| TimeCount {
                time,
                events: u64::from(event),
                censored: u64::from(!event),
            })
            .collect();
        KaplanMeier::from_counts(&counts, level)
    }

    /// Returns the confidence level of the band.
    pub fn level(&self) -> f64 {
        self.level
    }

    /// Returns the table, one row per distinct time including the leading time-0 row.
    pub fn rows(&self) -> &[KmRow] {
        &self.rows
    }

    /// Returns (S(t), band low, band high) of the right-continuous step function, or `None`
    /// without data or for a NaN `t`.
    pub fn survival_at(&self, t: f64) -> Option<(f64, f64, f64)> {
        if self.rows.is_empty() || t.is_nan() {
            return None;
        }
        let reached = self.rows.partition_point(|row| row.time <= t);
        Some(match reached.checked_sub(1) {
            None => (1.0, 1.0, 1.0),
            Some(i) => (
                self.rows[i].survival,
                self.rows[i].ci_low,
                self.rows[i].ci_high,
            ),
        })
    }

    /// Returns the time by which a fraction `q` of cases has had the event (first t with
    /// S(t) ≤ 1 − q) and its interval; all `None` for `q` outside [0, 1].
    pub fn quantile(&self, q: f64) -> Quantile {
        if !(0.0..=1.0).contains(&q) {
            return Quantile {
                time: None,
                ci_low: None,
                ci_high: None,
            };
        }
        let level = 1.0 - q;
        Quantile {
            time: self.first_reaching(level, |row| row.survival),
            ci_low: self.first_reaching(level, |row| row.ci_low),
            ci_high: self.first_reaching(level, |row| row.ci_high),
        }
    }

    /// Returns the median time to event (first S(t) ≤ 0.5) with its interval.
    pub fn median(&self) -> Quantile {
        self.quantile(0.5)
    }

    /// Returns the first row time whose `value` is at most `level` (up to rounding).
    fn first_reaching(&self, level: f64, value: impl Fn(&KmRow) -> f64) -> Option<f64> {
        self.rows
            .iter()
            .find(|row| value(row) <= level + REACH_TOLERANCE)
            .map(|row| row.time)
    }
}

/// Sorts counts by time, merges equal times, drops unusable entries and adds the time-0 row.
fn merge_counts(counts: &[TimeCount]) -> Vec<TimeCount> {
    let mut sorted: Vec<TimeCount> = counts
        .iter()
        .filter(|c| c.time.is_finite() && (c.events > 0 || c.censored > 0))
        // Adding +0.0 turns -0.0 into +0.0 so that both land on the time-0 row.
        .map(|c| TimeCount {
            time: c.time + 0.0,
            ..*c
        })
        .collect();
    sorted.sort_by(|a, b| a.time.total_cmp(&b.time));
    let mut merged: Vec<TimeCount> = Vec::with_capacity(sorted.len() + 1);
    if sorted.first().is_some_and(|c| c.time > 0.0) {
        merged.push(TimeCount {
            time: 0.0,
            events: 0,
            censored: 0,
        });
    }
    for c in sorted {
        match merged.last_mut() {
            Some(last) if last.time == c.time => {
                last.events = last.events.saturating_add(c.events);
                last.censored = last.censored.saturating_add(c.censored);
            }
            _ => merged.push(c),
        }
    }
    merged
}

/// Computes the product-limit estimate, Greenwood sum and band row by row over merged counts.
fn build_rows(counts: &[TimeCount], z: f64) -> Vec<KmRow> {
    let mut at_risk = counts.iter().fold(0u64, |n, c| {
        n.saturating_add(c.events).saturating_add(c.censored)
    });
    let mut survival = 1.0;
    let mut greenwood = 0.0;
    let mut rows = Vec::with_capacity(counts.len());
    for c in counts {
        let (n, d) = (at_risk as f64, c.events as f64);
        if c.events > 0 {
            survival *= (n - d) / n;
        }
        if c.events > 0 && at_risk > c.events {
            greenwood += d / (n * (n - d));
        }
        let (ci_low, ci_high) = log_log_band(survival, greenwood, z);
        rows.push(KmRow {
            time: c.time,
            at_risk,
            events: c.events,
            censored: c.censored,
            survival,
            ci_low,
            ci_high,
        });
        at_risk = at_risk.saturating_sub(c.events.saturating_add(c.censored));
    }
    rows
}

/// Returns the band exp(−exp(ln(−ln S) ∓ z·√V / ln S)); 1..1 at S = 1 and 0..0 at S = 0.
fn log_log_band(survival: f64, greenwood: f64, z: f64) -> (f64, f64) {
    if survival >= 1.0 {
        return (1.0, 1.0);
    }
    if survival <= 0.0 {
        return (0.0, 0.0);
    }
    let v = survival.ln();
    let centre = (-v).ln();
    let spread = z * greenwood.sqrt() / v;
    (
        (-(centre - spread).exp()).exp(),
        (-(centre + spread).exp()).exp(),
    )
}

#[cfg(test)]
mod tests {
    use super::{KaplanMeier, KmRow, Quantile, TimeCount};
    use std::collections::BTreeMap;

    const SURVIVAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/survival/");
    const QUANTILES: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/reference/km_quantiles_lifelines.csv"
    );
    const TOL: f64 = 1e-9;

    /// Reads a CSV file into its header and rows of string fields.
    fn read_csv(path: &str) -> (Vec<String>, Vec<Vec<String>>) {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut lines = text.lines().filter(|l| !l.is_empty());
        let split = |l: &str| l.split(',').map(str::to_owned).collect::<Vec<_>>();
        let header = split(lines.next().expect("header"));
        (header, lines.map(split).collect())
    }

    fn column(header: &[String], name: &str) -> usize {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }

    fn num(field: &str) -> f64 {
        field.parse().unwrap_or_else(|e| panic!("{field}: {e}"))
    }

    fn time_or_none(field: &str) -> Option<f64> {
        Some(num(field)).filter(|t| t.is_finite())
    }

    /// Fits ALL and one curve per value of `by`, named like the km_reference files.
    fn fit_groups(file: &str, time: &str, event: &str, by: &str) -> BTreeMap<String, KaplanMeier> {
        let (header, rows) = read_csv(&format!("{SURVIVAL}{file}"));
        let (t, e, g) = (
            column(&header, time),
            column(&header, event),
            column(&header, by),
        );
        let mut split: BTreeMap<String, (Vec<f64>, Vec<bool>)> = BTreeMap::new();
        for row in &rows {
            for key in ["ALL".to_owned(), format!("{by}={}", row[g])] {
                let entry = split.entry(key).or_default();
                entry.0.push(num(&row[t]));
                entry.1.push(num(&row[e]) != 0.0);
            }
        }
        split
            .into_iter()
            .map(|(k, (d, ev))| (k, KaplanMeier::from_durations(&d, &ev, 0.95)))
            .collect()
    }

    fn datasets() -> BTreeMap<String, BTreeMap<String, KaplanMeier>> {
        BTreeMap::from([
            (
                "rossi".to_owned(),
                fit_groups("rossi.csv", "week", "arrest", "fin"),
            ),
            (
                "waltons".to_owned(),
                fit_groups("waltons_dataset.csv", "T", "E", "group"),
            ),
        ])
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    fn check_table(dataset: &str, fits: &BTreeMap<String, KaplanMeier>) {
        let (header, rows) = read_csv(&format!("{SURVIVAL}km_reference/{dataset}_km.csv"));
        let col = |name| column(&header, name);
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for r in &rows {
            let group = r[col("group")].as_str();
            let i = seen.entry(group).or_insert(0);
            let ours = fits[group].rows()[*i];
            *i += 1;
            let ctx = format!("{dataset} {group} t={}", r[col("time")]);
            assert_eq!(ours.time, num(&r[col("time")]), "{ctx}");
            assert_eq!(ours.at_risk as f64, num(&r[col("at_risk")]), "{ctx}");
            assert_eq!(ours.events as f64, num(&r[col("observed")]), "{ctx}");
            assert_eq!(ours.censored as f64, num(&r[col("censored")]), "{ctx}");
            assert!(close(ours.survival, num(&r[col("survival")]), TOL), "{ctx}");
            assert!(
                close(ours.ci_low, num(&r[col("ci_lower_95")]), TOL),
                "{ctx}"
            );
            assert!(
                close(ours.ci_high, num(&r[col("ci_upper_95")]), TOL),
                "{ctx}"
            );
        }
        assert_eq!(seen.len(), fits.len(), "{dataset}: groups");
        for (group, n) in seen {
            assert_eq!(fits[group].rows().len(), n, "{dataset} {group}: row count");
        }
    }

    #[test]
    fn reproduces_lifelines_tables() {
        for (dataset, fits) in &datasets() {
            check_table(dataset, fits);
        }
    }

    #[test]
    fn reproduces_lifelines_medians() {
        let all = datasets();
        let (header, rows) = read_csv(&format!("{SURVIVAL}km_reference/km_medians.csv"));
        let col = |name| column(&header, name);
        for r in &rows {
            let km = &all[&r[col("dataset")]][&r[col("group")]];
            let events: u64 = km.rows().iter().map(|row| row.events).sum();
            assert_eq!(km.rows()[0].at_risk as f64, num(&r[col("n")]));
            assert_eq!(events as f64, num(&r[col("events")]));
            assert_eq!(km.median().time, time_or_none(&r[col("median")]), "{r:?}");
        }
        assert_eq!(rows.len(), 6);
    }

    #[test]
    fn reproduces_lifelines_quantiles_and_intervals() {
        let all = datasets();
        let (header, rows) = read_csv(QUANTILES);
        let col = |name| column(&header, name);
        for r in &rows {
            let km = &all[&r[col("dataset")]][&r[col("group")]];
            let got = km.quantile(num(&r[col("q")]));
            let want = [col("time"), col("ci_lower"), col("ci_upper")].map(|c| time_or_none(&r[c]));
            for (g, w) in [got.time, got.ci_low, got.ci_high].into_iter().zip(want) {
                let same = match (g, w) {
                    (Some(a), Some(b)) => close(a, b, TOL),
                    (a, b) => a == b,
                };
                assert!(same, "{r:?}: got {got:?}");
            }
        }
        assert_eq!(rows.len(), 18);
    }

    type Expected = (f64, u64, u64, u64, f64, f64, f64);

    fn fit(durations: &[f64], events: &[u8]) -> KaplanMeier {
        let flags: Vec<bool> = events.iter().map(|&e| e == 1).collect();
        KaplanMeier::from_durations(durations, &flags, 0.95)
    }

    fn assert_rows(km: &KaplanMeier, expected: &[Expected]) {
        assert_eq!(km.rows().len(), expected.len(), "{km:?}");
        for (row, &(time, at_risk, events, censored, s, lo, hi)) in km.rows().iter().zip(expected) {
            let want = KmRow {
                time,
                at_risk,
                events,
                censored,
                survival: s,
                ci_low: lo,
                ci_high: hi,
            };
            let near = |a: f64, b: f64| close(a, b, 1e-12);
            let ok = (row.time, row.at_risk, row.events, row.censored)
                == (time, at_risk, events, censored)
                && near(row.survival, s)
                && near(row.ci_low, lo)
                && near(row.ci_high, hi);
            assert!(ok, "got {row:?}, want {want:?}");
        }
    }

    /// Checks quantiles 0.25, 0.5 and 0.75 as (time, ci_low, ci_high) triples.
    fn assert_quantiles(km: &KaplanMeier, expected: [[Option<f64>; 3]; 3]) {
        for (q, [time, ci_low, ci_high]) in [0.25, 0.5, 0.75].into_iter().zip(expected) {
            assert_eq!(
                km.quantile(q),
                Quantile {
                    time,
                    ci_low,
                    ci_high
                },
                "q = {q}"
            );
        }
    }

    const NONE3: [Option<f64>; 3] = [None, None, None];

    // Expected rows and quantiles in the tests below are lifelines 0.30.3 output for the same data.

    #[test]
    fn empty_input() {
        let km = KaplanMeier::from_counts(&[], 0.95);
        assert!(km.rows().is_empty());
        assert_eq!(km.survival_at(1.0), None);
        assert_quantiles(&km, [NONE3; 3]);
        let only_unusable = [
            TimeCount {
                time: 3.0,
                events: 0,
                censored: 0,
            },
            TimeCount {
                time: f64::NAN,
                events: 2,
                censored: 0,
            },
        ];
        assert!(
            KaplanMeier::from_counts(&only_unusable, 0.95)
                .rows()
                .is_empty()
        );
    }

    #[test]
    fn single_case() {
        let event = fit(&[5.0], &[1]);
        assert_rows(
            &event,
            &[(0.0, 1, 0, 0, 1.0, 1.0, 1.0), (5.0, 1, 1, 0, 0.0, 0.0, 0.0)],
        );
        assert_quantiles(&event, [[Some(5.0); 3]; 3]);
        let censored = fit(&[5.0], &[0]);
        assert_rows(
            &censored,
            &[(0.0, 1, 0, 0, 1.0, 1.0, 1.0), (5.0, 1, 0, 1, 1.0, 1.0, 1.0)],
        );
        assert_quantiles(&censored, [NONE3; 3]);
    }

    #[test]
    fn all_censored() {
        let km = fit(&[3.0, 1.0, 2.0], &[0, 0, 0]);
        assert_rows(
            &km,
            &[
                (0.0, 3, 0, 0, 1.0, 1.0, 1.0),
                (1.0, 3, 0, 1, 1.0, 1.0, 1.0),
                (2.0, 2, 0, 1, 1.0, 1.0, 1.0),
                (3.0, 1, 0, 1, 1.0, 1.0, 1.0),
            ],
        );
        assert_quantiles(&km, [NONE3; 3]);
    }

    #[test]
    fn all_events_at_time_zero() {
        let km = fit(&[0.0, 0.0, -0.0], &[1, 1, 1]);
        assert_rows(&km, &[(0.0, 3, 3, 0, 0.0, 0.0, 0.0)]);
        assert_quantiles(&km, [[Some(0.0); 3]; 3]);
        assert_eq!(km.survival_at(-1.0), Some((1.0, 1.0, 1.0)));
        assert_eq!(km.survival_at(0.0), Some((0.0, 0.0, 0.0)));
    }

    #[test]
    fn cases_ending_at_time_zero_share_the_first_row() {
        let km = fit(&[0.0, 0.0, 1.0, 2.0], &[1, 0, 1, 0]);
        assert_rows(
            &km,
            &[
                (
                    0.0,
                    4,
                    1,
                    1,
                    0.75,
                    0.127_946_917_595_145_65,
                    0.960_548_642_285_078_5,
                ),
                (
                    1.0,
                    2,
                    1,
                    0,
                    0.375,
                    0.010_971_121_574_844_577,
                    0.808_001_072_481_343_6,
                ),
                (
                    2.0,
                    1,
                    0,
                    1,
                    0.375,
                    0.010_971_121_574_844_577,
                    0.808_001_072_481_343_6,
                ),
            ],
        );
        // S(0) is 3/4 exactly; lifelines computes 0.7500000000000001 and gives time 1 for q = 0.25.
        let (t0, t1) = (Some(0.0), Some(1.0));
        assert_quantiles(&km, [[t0, t0, None], [t1, t0, None], [None, t0, None]]);
    }

    #[test]
    fn ties_put_events_before_censorings() {
        let km = fit(&[1.0, 1.0, 1.0, 2.0, 2.0, 3.0], &[1, 1, 0, 1, 0, 1]);
        assert_rows(
            &km,
            &[
                (0.0, 6, 0, 0, 1.0, 1.0, 1.0),
                (
                    1.0,
                    6,
                    2,
                    1,
                    2.0 / 3.0,
                    0.194_616_636_806_234_87,
                    0.904_434_164_322_516_3,
                ),
                (
                    2.0,
                    3,
                    1,
                    1,
                    4.0 / 9.0,
                    0.066_186_753_146_412_47,
                    0.784_908_367_147_958_4,
                ),
                (3.0, 1, 1, 0, 0.0, 0.0, 0.0),
            ],
        );
        let (t1, t2, t3) = (Some(1.0), Some(2.0), Some(3.0));
        assert_quantiles(&km, [[t1, t1, t3], [t2, t1, t3], [t3, t1, t3]]);
    }

    #[test]
    fn band_follows_the_level() {
        let km = KaplanMeier::from_durations(
            &[1.0, 1.0, 1.0, 2.0, 2.0, 3.0],
            &[true, true, false, true, false, true],
            0.90,
        );
        assert_eq!(km.level(), 0.90);
        let band: Vec<(f64, f64)> = km.rows().iter().map(|r| (r.ci_low, r.ci_high)).collect();
        let want = [
            (1.0, 1.0),
            (0.270_412_902_044_804, 0.881_872_062_948_065_5),
            (0.106_905_454_674_980_98, 0.745_183_314_040_973_7),
            (0.0, 0.0),
        ];
        for (got, want) in band.iter().zip(want) {
            assert!(
                close(got.0, want.0, 1e-12) && close(got.1, want.1, 1e-12),
                "{got:?}"
            );
        }
    }

    #[test]
    fn group_with_one_event() {
        let km = fit(&[2.0, 3.0, 3.0, 5.0, 8.0], &[0, 1, 0, 0, 0]);
        let (lo, hi) = (0.127_946_917_595_145_65, 0.960_548_642_285_078_5);
        assert_rows(
            &km,
            &[
                (0.0, 5, 0, 0, 1.0, 1.0, 1.0),
                (2.0, 5, 0, 1, 1.0, 1.0, 1.0),
                (3.0, 4, 1, 1, 0.75, lo, hi),
                (5.0, 2, 0, 1, 0.75, lo, hi),
                (8.0, 1, 0, 1, 0.75, lo, hi),
            ],
        );
        // S(3) is 3/4 exactly; lifelines computes 0.7500000000000001, so q = 0.25 "not reached".
        let t3 = Some(3.0);
        assert_quantiles(&km, [[t3, t3, None], [None, t3, None], [None, t3, None]]);
    }

    #[test]
    fn survival_reaching_zero() {
        let km = fit(&[1.0, 2.0, 3.0, 3.0], &[0, 1, 1, 1]);
        assert_rows(
            &km,
            &[
                (0.0, 4, 0, 0, 1.0, 1.0, 1.0),
                (1.0, 4, 0, 1, 1.0, 1.0, 1.0),
                (
                    2.0,
                    3,
                    1,
                    0,
                    2.0 / 3.0,
                    0.054_073_426_786_516_68,
                    0.945_206_387_272_047,
                ),
                (3.0, 2, 2, 0, 0.0, 0.0, 0.0),
            ],
        );
        let (t2, t3) = (Some(2.0), Some(3.0));
        assert_quantiles(&km, [[t2, t2, t3], [t3, t2, t3], [t3, t2, t3]]);
        assert!(
            km.rows()
                .iter()
                .all(|r| !(r.ci_low.is_nan() || r.ci_high.is_nan()))
        );
    }

    #[test]
    fn survival_exactly_at_the_level_reaches_it() {
        // lifelines computes S(4) = 0.5000000000000001 here and reports median 6; S(4) is 3/6.
        let km = fit(&[3.0, 4.0, 4.0, 6.0, 7.0, 7.0], &[1, 1, 1, 1, 1, 1]);
        assert!(close(km.rows()[2].survival, 0.5, 1e-15));
        let (t3, t4, t6, t7) = (Some(3.0), Some(4.0), Some(6.0), Some(7.0));
        assert_quantiles(&km, [[t4, t3, t6], [t4, t3, t7], [t7, t4, t7]]);
        assert_eq!(
            fit(&[1.0, 2.0], &[1, 1]).median(),
            Quantile {
                time: Some(1.0),
                ci_low: Some(1.0),
                ci_high: Some(2.0)
            }
        );
    }

    #[test]
    fn counts_need_not_be_sorted_or_unique() {
        let tc = |time, events, censored| TimeCount {
            time,
            events,
            censored,
        };
        let counts = [
            tc(2.0, 1, 0),
            tc(1.0, 1, 0),
            tc(3.0, 1, 0),
            tc(1.0, 1, 1),
            tc(2.0, 0, 1),
            tc(9.0, 0, 0),
            tc(f64::INFINITY, 1, 0),
        ];
        let merged = KaplanMeier::from_counts(&counts, 0.95);
        assert_eq!(
            merged,
            fit(&[1.0, 1.0, 1.0, 2.0, 2.0, 3.0], &[1, 1, 0, 1, 0, 1])
        );
    }

    #[test]
    fn survival_at_is_a_right_continuous_step() {
        let km = fit(&[1.0, 1.0, 1.0, 2.0, 2.0, 3.0], &[1, 1, 0, 1, 0, 1]);
        let s = |t| km.survival_at(t).map(|v| v.0);
        assert_eq!(km.survival_at(-0.5), Some((1.0, 1.0, 1.0)));
        assert_eq!(s(0.0), Some(1.0));
        assert_eq!(s(0.999), Some(1.0));
        assert_eq!(
            km.survival_at(1.0),
            Some((
                km.rows()[1].survival,
                km.rows()[1].ci_low,
                km.rows()[1].ci_high
            ))
        );
        assert_eq!(s(1.5), s(1.0));
        assert_eq!(s(2.0), Some(km.rows()[2].survival));
        assert_eq!(s(100.0), Some(0.0));
        assert_eq!(km.survival_at(f64::NAN), None);
    }

    #[test]
    fn quantile_outside_unit_interval_is_not_reached() {
        let km = fit(&[1.0, 2.0], &[1, 1]);
        for q in [-0.1, 1.1, f64::NAN] {
            assert_eq!(
                km.quantile(q),
                Quantile {
                    time: None,
                    ci_low: None,
                    ci_high: None
                }
            );
        }
        assert_eq!(km.quantile(0.0).time, Some(0.0));
        assert_eq!(km.quantile(1.0).time, Some(2.0));
    }
}
