//! Calibration of the published 95% intervals against known truth.
//!
//! Synthetic cases from `dispute_stats::generate::generate` have a settlement rate and a
//! survival curve of the time to resolution that follow exactly from the generator's public
//! parameter tables ([`Truth`] derives them; nothing is estimated). For each of many seeds, the
//! built-in reports `overview` and `resolution_time` run on that seed's cases along the path
//! of `dispute-stats run` (ingest, identifier gate, `Engine` with the as-of cut and derived
//! columns, the report SQL calling `wilson_low/high` and `km_median_low/high`), and the test
//! counts how often each 95% interval contains the true value. It accepts 93–97%.
//!
//! Slow (minutes): `cargo test --locked --test it calibration -- --ignored --nocapture`.
//! docs/metrics.md records the coverage measured.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use datafusion::arrow::array::{Array, Float64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;
use dispute_stats::config::JobConfig;
use dispute_stats::engine::EngineOptions;
use dispute_stats::generate::{
    AGE_BUCKET_LIMITS, DEBT_AGE_MAX_DAYS, DEBT_AGE_MEDIAN_DAYS, DEBT_AGE_SIGMA, DURATION_MAX_DAYS,
    DURATION_MEDIAN_DAYS, DURATION_SIGMA, GenerateOptions, OUTCOME_AGE_FACTORS, OUTCOME_WEIGHTS,
    STAGE_WEIGHTS, generate,
};
use dispute_stats::queries::{self, Query};
use dispute_stats::run::{SourceSettings, prepare};

/// Number of independent samples (seeds 1, 2, …).
const SEEDS: u64 = 1_000;
/// Cases per sample: about 410 resolved, so a Wilson interval about ±0.047 wide.
const CASES: u64 = 500;

fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2023, 1, 1).expect("date")
}

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 9, 30).expect("date")
}

/// Standard normal distribution function by Marsaglia's series Φ(x) = ½ + φ(x)·Σ x^(2k+1)/(2k+1)!!
/// (G. Marsaglia 2004, "Evaluating the Normal Distribution", Journal of Statistical Software
/// 11(4)); absolute error about 1e-15. Beyond |x| = 8, Φ is within 7e-16 of 0 or 1.
fn normal_cdf(x: f64) -> f64 {
    if x < -8.0 {
        return 0.0;
    }
    if x > 8.0 {
        return 1.0;
    }
    let q = x * x;
    let (mut sum, mut term, mut odd) = (x, x, 1.0);
    loop {
        odd += 2.0;
        term *= q / odd;
        let next = sum + term;
        if next == sum {
            break;
        }
        sum = next;
    }
    // ln √(2π)
    0.5 + sum * (-0.5 * q - 0.918_938_533_204_672_8).exp()
}

/// P(X < x) for X log-normal with the given median and log-scale standard deviation.
fn lognormal_cdf(x: f64, median: f64, sigma: f64) -> f64 {
    if x <= 0.0 {
        0.0
    } else {
        normal_cdf((x / median).ln() / sigma)
    }
}

/// What the generator's parameters imply for cases opened uniformly over [start, as_of].
///
/// The generator draws each case independently (src/generate.rs): a debt age X (log-normal,
/// redrawn above `DEBT_AGE_MAX_DAYS`, so truncated) whose bucket picks the final stage; a
/// duration D (log-normal per stage, truncated to [0, `DURATION_MAX_DAYS`]) of which it keeps
/// ⌊D⌋ days; the case is resolved when opening day + ⌊D⌋ ≤ as-of, and a resolved case's outcome
/// is drawn from the stage's weights times the bucket's factors. The opening day is uniform on
/// the W days of the window, independent of everything else (censoring is independent), so
/// with a = as-of − opening day uniform on 0..W:
/// - S(t) = P(⌊D⌋ > t) = Σ_b P(b) Σ_s P(s | b) (1 − P(D < t + 1 | s)), the curve Kaplan–Meier
///   estimates, and the median is the first whole day t with S(t) ≤ 0.5 (lifelines' rule);
/// - P(resolved | s) = (1/W) Σ_a P(D < a + 1 | s), and the settlement rate is
///   Σ P(b) P(s | b) P(resolved | s) P(settled or paid in full | s, b) / Σ P(b) P(s | b) P(resolved | s).
///
/// Given the number of resolved cases n, the settled count is exactly Binomial(n, rate).
/// Every term is a normal probability, so the only errors are floating point and Φ's (about
/// 1e-15), and the redraw limit of 64 (a clamp happens with probability below 0.011^65).
struct Truth {
    settlement_rate: f64,
    /// S(t) for t = 0, 1, … whole days.
    survival: Vec<f64>,
}

impl Truth {
    fn new(start: NaiveDate, as_of: NaiveDate) -> Truth {
        let window = (as_of - start).num_days() + 1;
        let age = |x: f64| lognormal_cdf(x, DEBT_AGE_MEDIAN_DAYS, DEBT_AGE_SIGMA);
        let [a, b, c] = AGE_BUCKET_LIMITS.map(f64::from);
        let all = age(DEBT_AGE_MAX_DAYS);
        let bucket = [age(a), age(b) - age(a), age(c) - age(b), all - age(c)].map(|p| p / all);
        // P(D < x | stage) for D truncated to [0, DURATION_MAX_DAYS].
        let duration_below = |stage: usize, x: f64| {
            let cdf = |x: f64| lognormal_cdf(x, DURATION_MEDIAN_DAYS[stage], DURATION_SIGMA);
            cdf(x.min(DURATION_MAX_DAYS)) / cdf(DURATION_MAX_DAYS)
        };
        let resolved_given_stage: Vec<f64> = (0..5)
            .map(|s| {
                (0..window)
                    .map(|a| duration_below(s, a as f64 + 1.0))
                    .sum::<f64>()
                    / window as f64
            })
            .collect();
        let (mut settled, mut resolved) = (0.0, 0.0);
        let mut stage_share = [0.0; 5];
        for (b, weights) in STAGE_WEIGHTS.iter().enumerate() {
            let total: f64 = weights.iter().sum();
            for (s, weight) in weights.iter().enumerate() {
                let share = bucket[b] * weight / total;
                stage_share[s] += share;
                let [paid, settle, uncollectable] = OUTCOME_AGE_FACTORS[b];
                let mut outcome = OUTCOME_WEIGHTS[s];
                outcome[0] *= paid;
                outcome[1] *= settle;
                outcome[5] *= uncollectable;
                let settled_share = (outcome[0] + outcome[1]) / outcome.iter().sum::<f64>();
                resolved += share * resolved_given_stage[s];
                settled += share * resolved_given_stage[s] * settled_share;
            }
        }
        let survival = (0..=DURATION_MAX_DAYS as usize)
            .map(|t| {
                (0..5)
                    .map(|s| stage_share[s] * (1.0 - duration_below(s, t as f64 + 1.0)))
                    .sum()
            })
            .collect();
        Truth {
            settlement_rate: settled / resolved,
            survival,
        }
    }

    /// First whole day with S(t) ≤ 0.5.
    fn median(&self) -> usize {
        self.survival
            .iter()
            .position(|&s| s <= 0.5)
            .expect("median reached")
    }
}

/// What one sample's reports publish.
#[derive(Debug, Default, Clone, Copy)]
struct Published {
    resolved: f64,
    settled: f64,
    settlement_low: f64,
    settlement_high: f64,
    median_low: Option<f64>,
    median_high: Option<f64>,
    /// resolved_within_30d, 90d, 180d, 365d.
    resolved_within: [f64; 4],
}

const WITHIN_DAYS: [usize; 4] = [30, 90, 180, 365];

fn value(batches: &[RecordBatch], column: &str) -> Option<f64> {
    let batch = batches.iter().find(|b| b.num_rows() > 0).expect("one row");
    let array = batch.column_by_name(column).expect(column);
    let array = cast(array, &DataType::Float64).expect("numeric column");
    let floats = array
        .as_any()
        .downcast_ref::<Float64Array>()
        .expect("DOUBLE");
    (!floats.is_null(0)).then(|| floats.value(0))
}

fn number(batches: &[RecordBatch], column: &str) -> f64 {
    value(batches, column).unwrap_or_else(|| panic!("{column} is empty"))
}

fn report<'a>(suite: &'a [Query], name: &str) -> &'a Query {
    suite.iter().find(|q| q.name == name).expect(name)
}

/// Generates one sample and runs the two built-in reports on it.
async fn publish(seed: u64, file: &Path, suite: &[Query]) -> Published {
    generate(&GenerateOptions {
        cases: CASES,
        seed,
        out: file.to_path_buf(),
        as_of: as_of(),
        start: start(),
    })
    .expect("generated");
    let source = SourceSettings {
        config: JobConfig::default(),
        config_file: None,
        inputs: vec![PathBuf::from(file)],
        period: None,
        as_of: Some(as_of()),
        engine: EngineOptions {
            partitions: 1,
            ..EngineOptions::default()
        },
    };
    let (engine, _, _) = prepare(&source).await.expect("ingested");
    let (_, overview) = engine
        .run(report(suite, "overview"))
        .await
        .expect("overview");
    let (_, times) = engine
        .run(report(suite, "resolution_time"))
        .await
        .expect("resolution_time");
    Published {
        resolved: number(&overview, "resolved"),
        settled: number(&overview, "settled"),
        settlement_low: number(&overview, "settlement_rate_low"),
        settlement_high: number(&overview, "settlement_rate_high"),
        median_low: value(&times, "median_days_ci_low"),
        median_high: value(&times, "median_days_ci_high"),
        resolved_within: WITHIN_DAYS.map(|d| number(&times, &format!("resolved_within_{d}d"))),
    }
}

/// How often intervals missed a true value, on either side.
#[derive(Debug, Clone, Copy)]
struct Misses {
    samples: usize,
    /// Intervals entirely below the truth.
    below: usize,
    /// Intervals entirely above the truth.
    above: usize,
}

impl Misses {
    fn coverage(&self) -> f64 {
        1.0 - (self.below + self.above) as f64 / self.samples as f64
    }
}

impl std::fmt::Display for Misses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let share = self.coverage();
        let se = (share * (1.0 - share) / self.samples as f64).sqrt();
        write!(
            f,
            "coverage {:.1}% (Monte Carlo SE {:.1}; {} below, {} above the truth)",
            100.0 * share,
            100.0 * se,
            self.below,
            self.above
        )
    }
}

/// Counts the samples whose interval lies below or above `truth`.
fn misses(
    samples: &[Published],
    interval: impl Fn(&Published) -> (f64, f64),
    truth: f64,
) -> Misses {
    let mut result = Misses {
        samples: samples.len(),
        below: 0,
        above: 0,
    };
    for sample in samples {
        let (low, high) = interval(sample);
        if high < truth {
            result.below += 1;
        } else if low > truth {
            result.above += 1;
        }
    }
    result
}

#[test]
fn truth_matches_the_figures_measured_on_a_large_sample() {
    // docs/synthetic-data.md, 50,000 cases over the same window: settlement rate 0.6397,
    // Kaplan–Meier median 70 days, resolved within 30/90/180/365 days 0.211/0.595/0.815/0.943.
    let truth = Truth::new(start(), as_of());
    assert!(
        (truth.settlement_rate - 0.6397).abs() < 0.01,
        "{}",
        truth.settlement_rate
    );
    assert_eq!(truth.median(), 70);
    for (days, measured) in WITHIN_DAYS.iter().zip([0.211, 0.595, 0.815, 0.943]) {
        let resolved = 1.0 - truth.survival[*days];
        assert!(
            (resolved - measured).abs() < 0.01,
            "{days} days: {resolved}"
        );
    }
    assert!((normal_cdf(1.959_963_984_540_054) - 0.975).abs() < 1e-15);
    assert!((normal_cdf(-1.0) - 0.158_655_253_931_457_05).abs() < 1e-15);
}

#[tokio::test]
#[ignore = "slow: run with `cargo test --locked --test it calibration -- --ignored --nocapture`"]
async fn intervals_cover_the_true_values() {
    let truth = Truth::new(start(), as_of());
    let median = truth.median();
    // The true median is unambiguous: S crosses 0.5 between two whole days with a margin far
    // above any error in S.
    assert!(truth.survival[median] < 0.5 - 1e-6 && truth.survival[median - 1] > 0.5 + 1e-6);
    let suite = queries::load(&[], true).expect("built-in suite");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("cases.csv");
    let mut samples = Vec::new();
    for seed in 1..=SEEDS {
        samples.push(publish(seed, &file, &suite).await);
    }
    let rate = truth.settlement_rate;
    let m = median as f64;
    let rate_misses = misses(&samples, |p| (p.settlement_low, p.settlement_high), rate);
    let median_misses = misses(
        &samples,
        |p| {
            // "Not reached" bounds: no lower bound lies beyond every observed time; no upper
            // bound is an open interval.
            let low = p.median_low.unwrap_or(f64::INFINITY);
            (low, p.median_high.unwrap_or(f64::INFINITY))
        },
        m,
    );
    println!("{SEEDS} seeds x {CASES} cases, {} to {}", start(), as_of());
    println!("settlement rate: truth {rate:.6}; Wilson 95% {rate_misses}");
    println!(
        "median days to resolution: truth {median} (S({}) = {:.5}, S({median}) = {:.5}); \
         Kaplan-Meier 95% {median_misses}",
        median - 1,
        truth.survival[median - 1],
        truth.survival[median],
    );

    // The truth is right: pooled over all seeds, the estimates agree with it.
    let (settled, resolved) = samples
        .iter()
        .fold((0.0, 0.0), |(s, r), p| (s + p.settled, r + p.resolved));
    let pooled_se = (rate * (1.0 - rate) / resolved).sqrt();
    println!(
        "pooled settlement rate {:.6} (SE {pooled_se:.6})",
        settled / resolved
    );
    assert!((settled / resolved - rate).abs() <= 4.0 * pooled_se);
    for (i, days) in WITHIN_DAYS.iter().enumerate() {
        let values: Vec<f64> = samples.iter().map(|p| p.resolved_within[i]).collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>()
            / (values.len() - 1) as f64)
            .sqrt();
        let se = sd / (values.len() as f64).sqrt();
        let expected = 1.0 - truth.survival[*days];
        println!(
            "resolved within {days} days: truth {expected:.5}, mean estimate {mean:.5} (SE {se:.5})"
        );
        assert!((mean - expected).abs() <= 4.0 * se, "{days} days");
    }

    for (name, misses) in [("settlement rate", rate_misses), ("median", median_misses)] {
        assert!(
            (0.93..=0.97).contains(&misses.coverage()),
            "{name}: {misses}"
        );
    }
}
