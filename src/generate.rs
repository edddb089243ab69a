//! Synthetic case generator behind `dispute-stats generate`: it writes fully artificial,
//! contract-shaped dispute cases (DESIGN.md §2) to a CSV or Parquet file, so that the
//! pipeline, its reports and its benchmarks can run without any real case data.
//!
//! Every row satisfies the contract rules, and the figures the reports compute from a large
//! sample reproduce the published industry figures listed in `docs/synthetic-data.md`
//! (intake channel mix, escalation by debt age, settlement and recovery rates, commission
//! rates, complaint and cross-border shares). Rows are sampled one at a time from a single
//! ChaCha8 stream seeded with the caller's seed and streamed to the file, so memory use does
//! not grow with the number of cases and the same options always give byte-identical output.
//!
//! The parameter tables that drive outcomes and durations are public, so that tests can derive
//! the true settlement rate and time to resolution they imply (`tests/it/calibration.rs`).

use std::fmt;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use chrono::{Days, NaiveDate};
use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Decimal128Builder, Int32Builder, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Date32Type, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use rand::distr::weighted::WeightedIndex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution, LogNormal};

/// Options of one `dispute-stats generate` run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateOptions {
    /// Number of cases (rows) to write.
    pub cases: u64,
    /// Seed of the random stream; the same seed and options give a byte-identical file.
    pub seed: u64,
    /// Output file; its extension (`.csv` or `.parquet`) chooses the format.
    pub out: PathBuf,
    /// Period end: cases still unresolved on this date are written as `open`.
    pub as_of: NaiveDate,
    /// First possible opening date; cases open uniformly over `[start, as_of]`.
    pub start: NaiveDate,
}

/// Writes `options.cases` synthetic cases to `options.out` and returns the number of rows written.
pub fn generate(options: &GenerateOptions) -> Result<u64> {
    let format = OutputFormat::from_path(&options.out)?;
    validate(options)?;
    let file = File::create(&options.out)
        .with_context(|| format!("cannot create {}", options.out.display()))?;
    let written = match format {
        OutputFormat::Csv => write_cases(options, CsvSink::new(file)?),
        OutputFormat::Parquet => write_cases(options, ParquetSink::new(file)?),
    };
    written.with_context(|| format!("cannot write {}", options.out.display()))
}

/// Output column names, in file order (the contract's names).
const COLUMNS: [&str; 15] = [
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
];

/// Rows per Arrow record batch handed to the Parquet writer.
const PARQUET_BATCH_ROWS: usize = 65_536;
/// Rows per Parquet row group (16 batches).
const PARQUET_ROW_GROUP_ROWS: usize = 1 << 20;
/// Fixed `created_by` so that Parquet output does not depend on the library version.
const PARQUET_CREATED_BY: &str = "dispute-stats generate";

/// Intake channels and their shares in percent.
const CHANNELS: [(&str, f64); 6] = [
    ("hotline", 35.0),
    ("web", 12.0),
    ("association_platform", 37.0),
    ("mini_program", 9.0),
    ("referral", 5.0),
    ("other", 2.0),
];

/// Regions and their shares in percent; `taicang` is deliberately tiny so that small cells exist.
const REGIONS: [(&str, f64); 9] = [
    ("shanghai", 30.0),
    ("suzhou", 15.0),
    ("wuxi", 8.0),
    ("kunshan", 7.95),
    ("hangzhou", 14.0),
    ("nanjing", 11.0),
    ("changzhou", 6.0),
    ("ningbo", 8.0),
    ("taicang", 0.05),
];

/// Debt types: name, share in percent, multiplier of the median claimed amount.
const DEBT_TYPES: [(&str, f64, f64); 5] = [
    ("commercial", 35.0, 1.6),
    ("construction", 15.0, 2.5),
    ("consumer_loan", 20.0, 0.35),
    ("private_loan", 22.0, 0.8),
    ("other", 8.0, 1.0),
];

/// Median claimed amount in yuan before the debt-type multiplier.
const AMOUNT_MEDIAN_YUAN: f64 = 29_000.0;
/// Log-scale standard deviation of the claimed amount.
const AMOUNT_SIGMA: f64 = 1.3;
/// Smallest and largest claimed amount in yuan (draws outside are redrawn).
const AMOUNT_RANGE_YUAN: (f64, f64) = (500.0, 50_000_000.0);

/// Median age of the debt at opening, in days.
pub const DEBT_AGE_MEDIAN_DAYS: f64 = 120.0;
/// Log-scale standard deviation of the debt age.
pub const DEBT_AGE_SIGMA: f64 = 1.1;
/// Oldest debt age in days (older draws are redrawn).
pub const DEBT_AGE_MAX_DAYS: f64 = 1_500.0;
/// Upper limits (exclusive) of the debt-age buckets <90, 90–180, 180–365; the last is >= 365.
pub const AGE_BUCKET_LIMITS: [i32; 3] = [90, 180, 365];

/// Final-stage weights per debt-age bucket (rows) over the five stages (columns).
pub const STAGE_WEIGHTS: [[f64; 5]; 4] = [
    [37.0, 27.0, 17.0, 11.0, 8.0],
    [24.0, 25.0, 21.0, 16.0, 14.0],
    [14.0, 22.0, 21.0, 22.0, 21.0],
    [9.0, 18.0, 21.0, 24.0, 28.0],
];

/// Median days from opening to resolution per final stage.
pub const DURATION_MEDIAN_DAYS: [f64; 5] = [30.0, 55.0, 80.0, 130.0, 220.0];
/// Log-scale standard deviation of the time to resolution.
pub const DURATION_SIGMA: f64 = 0.75;
/// Longest time to resolution in days (longer draws are redrawn).
pub const DURATION_MAX_DAYS: f64 = 3_650.0;

/// Outcome weights per final stage, columns in the order of `RESOLVED_OUTCOMES`: paid_in_full,
/// settled, partial, judgment, withdrawn, uncollectable.
pub const OUTCOME_WEIGHTS: [[f64; 6]; 5] = [
    [44.0, 34.0, 8.0, 0.0, 7.0, 6.0],
    [24.0, 49.0, 12.0, 0.0, 6.0, 9.0],
    [18.0, 46.0, 15.0, 0.0, 7.0, 14.0],
    [12.0, 42.0, 18.0, 0.0, 6.0, 23.0],
    [5.0, 29.0, 10.0, 33.0, 4.0, 20.0],
];
/// Per debt-age bucket factors on the paid-in-full, settled and uncollectable weights.
pub const OUTCOME_AGE_FACTORS: [[f64; 3]; 4] = [
    [1.0, 1.0, 0.8],
    [0.7, 1.1, 1.1],
    [0.35, 1.25, 1.6],
    [0.2, 1.35, 2.2],
];

/// Mean share of the claim recovered by a settlement, per debt-age bucket.
const SETTLED_SHARE_MEAN: [f64; 4] = [0.80, 0.62, 0.33, 0.26];
/// Beta concentration (alpha + beta) of the settled share.
const SETTLED_SHARE_CONCENTRATION: f64 = 10.0;
/// Beta concentration of the partial-payment share, whose mean is half the settled mean.
const PARTIAL_SHARE_CONCENTRATION: f64 = 6.0;
/// Probability that a judgment recovers nothing.
const JUDGMENT_UNENFORCED: f64 = 0.3;
/// Beta parameters of the share recovered by an enforced judgment.
const JUDGMENT_SHARE_BETA: (f64, f64) = (2.0, 3.0);
/// Probability that an open case has recovered something to date, and the largest such share.
const OPEN_PART_PAID: (f64, f64) = (0.3, 0.3);

/// Commission rate ranges in 1/10,000 by claimed amount: below 50,000, below 1,000,000, above.
const FEE_RANGES: [(i64, i32, i32); 3] = [
    (5_000_000, 2_500, 4_000),
    (100_000_000, 2_000, 3_500),
    (i64::MAX, 2_000, 3_000),
];
/// Commission rates are whole multiples of this step (0.5 percentage point).
const FEE_STEP: i32 = 50;

/// Probability of a complaint per highest stage reached.
const COMPLAINT_RATE: [f64; 5] = [0.008, 0.011, 0.016, 0.032, 0.022];
/// Probability that a complaint is upheld.
const COMPLAINT_UPHELD_RATE: f64 = 1.0 / 3.0;
/// Probability that the debtor is outside the jurisdiction.
const CROSS_BORDER_RATE: f64 = 0.03;

/// Number of distinct case ids (`C-XXXX-XXXX`, base 36).
const CASE_ID_CAPACITY: u64 = 36u64.pow(8);

/// Redraws from a distribution at most this often before clamping into range.
const MAX_REDRAWS: usize = 64;

/// File format chosen by the output extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutputFormat {
    Csv,
    Parquet,
}

impl OutputFormat {
    /// Picks the format from the file extension, case-insensitively.
    fn from_path(path: &Path) -> Result<Self> {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("csv") => Ok(Self::Csv),
            Some("parquet") => Ok(Self::Parquet),
            _ => bail!(
                "unsupported output file {}: the name must end in .csv or .parquet",
                path.display()
            ),
        }
    }
}

/// Rejects options that cannot produce a valid file.
fn validate(options: &GenerateOptions) -> Result<()> {
    if options.as_of < options.start {
        bail!(
            "as-of date {} is before the start date {}",
            options.as_of,
            options.start
        );
    }
    if options.cases > CASE_ID_CAPACITY {
        bail!(
            "at most {CASE_ID_CAPACITY} cases can be generated, {} requested",
            options.cases
        );
    }
    Ok(())
}

/// Samples every case in order and streams it into `sink`.
fn write_cases<S: RowSink>(options: &GenerateOptions, mut sink: S) -> Result<u64> {
    let mut sampler = CaseSampler::new(options)?;
    for seq in 1..=options.cases {
        let case = sampler.next_case(seq)?;
        sink.write_case(&case)?;
    }
    sink.finish()?;
    Ok(options.cases)
}

/// Opaque case id for sequence number `seq`: `C-` and eight base-36 digits split by a dash.
///
/// At most four decimal digits stand in a row, so no id can look like a phone, identity or
/// card number, and ids sort in sequence order.
fn case_id(seq: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut chars = [b'0'; 8];
    let mut rest = seq;
    for slot in chars.iter_mut().rev() {
        *slot = DIGITS[(rest % 36) as usize];
        rest /= 36;
    }
    let mut id = String::with_capacity(11);
    id.push_str("C-");
    for (position, &digit) in chars.iter().enumerate() {
        if position == 4 {
            id.push('-');
        }
        id.push(char::from(digit));
    }
    id
}

/// Escalation stage, in escalation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Reminder,
    Mediation,
    LawyerLetter,
    FieldVisit,
    CourtEnforcement,
}

/// All stages in escalation order.
const STAGES: [Stage; 5] = [
    Stage::Reminder,
    Stage::Mediation,
    Stage::LawyerLetter,
    Stage::FieldVisit,
    Stage::CourtEnforcement,
];

impl Stage {
    /// Contract label of the stage.
    fn label(self) -> &'static str {
        match self {
            Self::Reminder => "reminder",
            Self::Mediation => "mediation",
            Self::LawyerLetter => "lawyer_letter",
            Self::FieldVisit => "field_visit",
            Self::CourtEnforcement => "court_enforcement",
        }
    }
}

/// Case outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    PaidInFull,
    Settled,
    Partial,
    Judgment,
    Withdrawn,
    Uncollectable,
    Open,
}

/// Outcomes of resolved cases, in the column order of `OUTCOME_WEIGHTS`.
const RESOLVED_OUTCOMES: [Outcome; 6] = [
    Outcome::PaidInFull,
    Outcome::Settled,
    Outcome::Partial,
    Outcome::Judgment,
    Outcome::Withdrawn,
    Outcome::Uncollectable,
];

impl Outcome {
    /// Contract label of the outcome.
    fn label(self) -> &'static str {
        match self {
            Self::PaidInFull => "paid_in_full",
            Self::Settled => "settled",
            Self::Partial => "partial",
            Self::Judgment => "judgment",
            Self::Withdrawn => "withdrawn",
            Self::Uncollectable => "uncollectable",
            Self::Open => "open",
        }
    }
}

/// One generated case; amounts are in cents and the fee rate in 1/10,000.
#[derive(Debug, Clone, PartialEq)]
struct Case {
    seq: u64,
    opened_on: NaiveDate,
    closed_on: Option<NaiveDate>,
    outcome: Outcome,
    debt_type: &'static str,
    region: &'static str,
    channel: &'static str,
    stage: Stage,
    claimed_cents: i64,
    recovered_cents: i64,
    debt_age_days: i32,
    fee_rate_bp: i32,
    complaint: bool,
    complaint_upheld: Option<bool>,
    cross_border: bool,
}

/// Where the resolution of a case stands on the as-of date.
struct Resolution {
    closed_on: Option<NaiveDate>,
    outcome: Outcome,
    stage: Stage,
    recovered_cents: i64,
}

/// Distributions built once from the parameter tables.
struct Distributions {
    channel: WeightedIndex<f64>,
    region: WeightedIndex<f64>,
    debt_type: WeightedIndex<f64>,
    stage_by_age: Vec<WeightedIndex<f64>>,
    outcome_by_stage_age: Vec<WeightedIndex<f64>>,
    debt_age: LogNormal<f64>,
    amount: LogNormal<f64>,
    duration_by_stage: Vec<LogNormal<f64>>,
    settled_share_by_age: Vec<Beta<f64>>,
    partial_share_by_age: Vec<Beta<f64>>,
    judgment_share: Beta<f64>,
}

impl Distributions {
    /// Builds all distributions from the parameter tables.
    fn new() -> Result<Self> {
        Ok(Self {
            channel: weighted(CHANNELS.iter().map(|c| c.1))?,
            region: weighted(REGIONS.iter().map(|r| r.1))?,
            debt_type: weighted(DEBT_TYPES.iter().map(|d| d.1))?,
            stage_by_age: STAGE_WEIGHTS
                .iter()
                .map(|row| weighted(row.iter().copied()))
                .collect::<Result<_>>()?,
            outcome_by_stage_age: outcome_distributions()?,
            debt_age: lognormal(DEBT_AGE_MEDIAN_DAYS, DEBT_AGE_SIGMA)?,
            amount: lognormal(AMOUNT_MEDIAN_YUAN, AMOUNT_SIGMA)?,
            duration_by_stage: DURATION_MEDIAN_DAYS
                .iter()
                .map(|&median| lognormal(median, DURATION_SIGMA))
                .collect::<Result<_>>()?,
            settled_share_by_age: SETTLED_SHARE_MEAN
                .iter()
                .map(|&mean| beta_with_mean(mean, SETTLED_SHARE_CONCENTRATION))
                .collect::<Result<_>>()?,
            partial_share_by_age: SETTLED_SHARE_MEAN
                .iter()
                .map(|&mean| beta_with_mean(mean / 2.0, PARTIAL_SHARE_CONCENTRATION))
                .collect::<Result<_>>()?,
            judgment_share: Beta::new(JUDGMENT_SHARE_BETA.0, JUDGMENT_SHARE_BETA.1)
                .context("invalid judgment share parameters")?,
        })
    }
}

/// Outcome distributions indexed by `stage * 4 + age bucket`.
fn outcome_distributions() -> Result<Vec<WeightedIndex<f64>>> {
    let mut distributions = Vec::with_capacity(STAGES.len() * OUTCOME_AGE_FACTORS.len());
    for stage_weights in OUTCOME_WEIGHTS {
        for [paid_in_full, settled, uncollectable] in OUTCOME_AGE_FACTORS {
            let mut weights = stage_weights;
            weights[0] *= paid_in_full;
            weights[1] *= settled;
            weights[5] *= uncollectable;
            distributions.push(weighted(weights)?);
        }
    }
    Ok(distributions)
}

/// Weighted choice over the given weights.
fn weighted(weights: impl IntoIterator<Item = f64>) -> Result<WeightedIndex<f64>> {
    WeightedIndex::new(weights).context("invalid category weights")
}

/// Log-normal distribution with the given median and log-scale standard deviation.
fn lognormal(median: f64, sigma: f64) -> Result<LogNormal<f64>> {
    LogNormal::new(median.ln(), sigma).context("invalid log-normal parameters")
}

/// Beta distribution with the given mean and concentration (alpha + beta).
fn beta_with_mean(mean: f64, concentration: f64) -> Result<Beta<f64>> {
    Beta::new(mean * concentration, (1.0 - mean) * concentration).context("invalid beta parameters")
}

/// Draws from `dist` until the value lies in `[low, high]`, clamping after `MAX_REDRAWS` tries.
fn draw_in_range(rng: &mut ChaCha8Rng, dist: &LogNormal<f64>, low: f64, high: f64) -> f64 {
    let mut value = dist.sample(rng);
    for _ in 0..MAX_REDRAWS {
        if (low..=high).contains(&value) {
            break;
        }
        value = dist.sample(rng);
    }
    value.clamp(low, high)
}

/// Debt-age bucket: 0 for <90 days, 1 for 90–180, 2 for 180–365, 3 for older debts.
fn age_bucket(debt_age_days: i32) -> usize {
    AGE_BUCKET_LIMITS
        .iter()
        .take_while(|&&limit| debt_age_days >= limit)
        .count()
}

/// Opening dates in non-decreasing order, drawn as sorted uniform order statistics.
///
/// The next of `remaining` sorted uniforms above `last` is `1 - (1 - last) * V^(1/remaining)`
/// with V uniform, so the dates come out sorted without holding them all.
struct OpeningClock {
    start: NaiveDate,
    window_days: u64,
    remaining: u64,
    last: f64,
}

impl OpeningClock {
    /// Clock for `cases` openings spread uniformly over `[start, as_of]`.
    fn new(options: &GenerateOptions) -> Self {
        let window_days = (options.as_of - options.start).num_days().unsigned_abs() + 1;
        Self {
            start: options.start,
            window_days,
            remaining: options.cases,
            last: 0.0,
        }
    }

    /// Next opening date.
    fn next_date(&mut self, rng: &mut ChaCha8Rng) -> Result<NaiveDate> {
        let v: f64 = 1.0 - rng.random::<f64>();
        let remaining = self.remaining.max(1) as f64;
        self.last = 1.0 - (1.0 - self.last) * v.powf(1.0 / remaining);
        self.remaining = self.remaining.saturating_sub(1);
        let offset = ((self.last * self.window_days as f64) as u64).min(self.window_days - 1);
        add_days(self.start, offset)
    }
}

/// `date` plus `days`, or an error past the calendar's end.
fn add_days(date: NaiveDate, days: u64) -> Result<NaiveDate> {
    date.checked_add_days(Days::new(days))
        .with_context(|| format!("date {date} plus {days} days is out of range"))
}

/// Samples cases one at a time from one seeded random stream.
struct CaseSampler {
    rng: ChaCha8Rng,
    dist: Distributions,
    clock: OpeningClock,
    as_of: NaiveDate,
}

impl CaseSampler {
    /// Sampler for the given options.
    fn new(options: &GenerateOptions) -> Result<Self> {
        Ok(Self {
            rng: ChaCha8Rng::seed_from_u64(options.seed),
            dist: Distributions::new()?,
            clock: OpeningClock::new(options),
            as_of: options.as_of,
        })
    }

    /// Samples the case with sequence number `seq`.
    fn next_case(&mut self, seq: u64) -> Result<Case> {
        let opened_on = self.clock.next_date(&mut self.rng)?;
        let channel = CHANNELS[self.dist.channel.sample(&mut self.rng)].0;
        let region = REGIONS[self.dist.region.sample(&mut self.rng)].0;
        let (debt_type, amount_factor) = self.sample_debt_type();
        let debt_age_days = self.sample_debt_age();
        let claimed_cents = self.sample_claimed(amount_factor);
        let fee_rate_bp = self.sample_fee_rate(claimed_cents);
        let cross_border = self.rng.random_bool(CROSS_BORDER_RATE);
        let resolution = self.sample_resolution(opened_on, debt_age_days, claimed_cents)?;
        let (complaint, complaint_upheld) = self.sample_complaint(resolution.stage);
        Ok(Case {
            seq,
            opened_on,
            closed_on: resolution.closed_on,
            outcome: resolution.outcome,
            debt_type,
            region,
            channel,
            stage: resolution.stage,
            claimed_cents,
            recovered_cents: resolution.recovered_cents,
            debt_age_days,
            fee_rate_bp,
            complaint,
            complaint_upheld,
            cross_border,
        })
    }

    /// Debt type and its claimed-amount multiplier.
    fn sample_debt_type(&mut self) -> (&'static str, f64) {
        let (name, _, factor) = DEBT_TYPES[self.dist.debt_type.sample(&mut self.rng)];
        (name, factor)
    }

    /// Age of the debt at opening in whole days, 0 to `DEBT_AGE_MAX_DAYS`.
    fn sample_debt_age(&mut self) -> i32 {
        draw_in_range(&mut self.rng, &self.dist.debt_age, 0.0, DEBT_AGE_MAX_DAYS) as i32
    }

    /// Claimed amount in cents.
    fn sample_claimed(&mut self, amount_factor: f64) -> i64 {
        let (low, high) = AMOUNT_RANGE_YUAN;
        let base = draw_in_range(
            &mut self.rng,
            &self.dist.amount,
            low / amount_factor,
            high / amount_factor,
        );
        (base * amount_factor * 100.0).round() as i64
    }

    /// Commission rate in 1/10,000 for a claim of `claimed_cents`.
    fn sample_fee_rate(&mut self, claimed_cents: i64) -> i32 {
        let (_, low, high) = FEE_RANGES
            .iter()
            .copied()
            .find(|&(limit, _, _)| claimed_cents < limit)
            .unwrap_or(FEE_RANGES[FEE_RANGES.len() - 1]);
        low + FEE_STEP * self.rng.random_range(0..=(high - low) / FEE_STEP)
    }

    /// Final stage, closing date, outcome and recovery, or the open state on the as-of date.
    fn sample_resolution(
        &mut self,
        opened_on: NaiveDate,
        debt_age_days: i32,
        claimed_cents: i64,
    ) -> Result<Resolution> {
        let bucket = age_bucket(debt_age_days);
        let stage = STAGES[self.dist.stage_by_age[bucket].sample(&mut self.rng)];
        let duration = &self.dist.duration_by_stage[stage as usize];
        let days = draw_in_range(&mut self.rng, duration, 0.0, DURATION_MAX_DAYS) as u64;
        let closing = add_days(opened_on, days)?;
        if closing > self.as_of {
            let elapsed = (self.as_of - opened_on).num_days().max(0) as u64;
            return Ok(self.open_state(stage, elapsed, days, claimed_cents));
        }
        let index = stage as usize * OUTCOME_AGE_FACTORS.len() + bucket;
        let outcome =
            RESOLVED_OUTCOMES[self.dist.outcome_by_stage_age[index].sample(&mut self.rng)];
        let share = self.recovered_share(outcome, bucket);
        Ok(Resolution {
            closed_on: Some(closing),
            outcome,
            stage,
            recovered_cents: share_of(claimed_cents, share),
        })
    }

    /// State of a case still open on the as-of date, `elapsed` of its `days` to resolution in.
    ///
    /// The stage reached so far grows with the elapsed share of the time to resolution, and
    /// some open cases have recovered part of the claim to date.
    fn open_state(&mut self, stage: Stage, elapsed: u64, days: u64, claimed: i64) -> Resolution {
        let progress = elapsed as f64 / days.max(1) as f64;
        let reached = ((stage as usize + 1) as f64 * progress) as usize;
        let (paid_probability, max_share) = OPEN_PART_PAID;
        let share = if self.rng.random_bool(paid_probability) {
            self.rng.random::<f64>() * max_share
        } else {
            0.0
        };
        Resolution {
            closed_on: None,
            outcome: Outcome::Open,
            stage: STAGES[reached.min(stage as usize)],
            recovered_cents: share_of(claimed, share),
        }
    }

    /// Share of the claim recovered by a resolved case with `outcome` in debt-age `bucket`.
    fn recovered_share(&mut self, outcome: Outcome, bucket: usize) -> f64 {
        match outcome {
            Outcome::PaidInFull => 1.0,
            Outcome::Settled => self.dist.settled_share_by_age[bucket].sample(&mut self.rng),
            Outcome::Partial => self.dist.partial_share_by_age[bucket].sample(&mut self.rng),
            Outcome::Judgment => {
                if self.rng.random_bool(JUDGMENT_UNENFORCED) {
                    0.0
                } else {
                    self.dist.judgment_share.sample(&mut self.rng)
                }
            }
            Outcome::Withdrawn | Outcome::Uncollectable | Outcome::Open => 0.0,
        }
    }

    /// Whether a complaint was filed, and if so whether it was upheld.
    fn sample_complaint(&mut self, stage: Stage) -> (bool, Option<bool>) {
        if self.rng.random_bool(COMPLAINT_RATE[stage as usize]) {
            (true, Some(self.rng.random_bool(COMPLAINT_UPHELD_RATE)))
        } else {
            (false, None)
        }
    }
}

/// `share` (clamped to 0–1) of `cents`, rounded to the cent; never more than `cents`.
fn share_of(cents: i64, share: f64) -> i64 {
    ((cents as f64 * share.clamp(0.0, 1.0)).round() as i64).clamp(0, cents)
}

/// Fixed-point number printed with exactly `decimals` decimals.
struct Fixed {
    units: i64,
    decimals: u32,
}

impl fmt::Display for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scale = 10u64.pow(self.decimals);
        let width = self.decimals as usize;
        let sign = if self.units < 0 { "-" } else { "" };
        let units = self.units.unsigned_abs();
        write!(f, "{sign}{}.{:0width$}", units / scale, units % scale)
    }
}

/// Destination of generated rows.
trait RowSink {
    /// Writes one case.
    fn write_case(&mut self, case: &Case) -> Result<()>;
    /// Flushes everything and completes the file.
    fn finish(self) -> Result<()>;
}

/// CSV writer: header row, `\n` line ends, UTF-8 without BOM.
struct CsvSink {
    out: BufWriter<File>,
}

impl CsvSink {
    /// Starts the CSV file with its header row.
    fn new(file: File) -> Result<Self> {
        let mut out = BufWriter::with_capacity(1 << 16, file);
        writeln!(out, "{}", COLUMNS.join(","))?;
        Ok(Self { out })
    }
}

impl RowSink for CsvSink {
    fn write_case(&mut self, case: &Case) -> Result<()> {
        let out = &mut self.out;
        write!(out, "{},{},", case_id(case.seq), case.opened_on)?;
        if let Some(closed_on) = case.closed_on {
            write!(out, "{closed_on}")?;
        }
        let upheld = match case.complaint_upheld {
            Some(true) => "true",
            Some(false) => "false",
            None => "",
        };
        writeln!(
            out,
            ",{},{},{},{},{},{},{},{},{},{},{},{}",
            case.outcome.label(),
            case.debt_type,
            case.region,
            case.channel,
            case.stage.label(),
            Fixed {
                units: case.claimed_cents,
                decimals: 2
            },
            Fixed {
                units: case.recovered_cents,
                decimals: 2
            },
            case.debt_age_days,
            Fixed {
                units: i64::from(case.fee_rate_bp),
                decimals: 4
            },
            case.complaint,
            upheld,
            case.cross_border,
        )?;
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        self.out.flush()?;
        Ok(())
    }
}

/// Arrow schema of the Parquet output; the contract's required columns are non-nullable.
fn parquet_schema() -> SchemaRef {
    let money = DataType::Decimal128(18, 2);
    Arc::new(Schema::new(vec![
        Field::new("case_id", DataType::Utf8, false),
        Field::new("opened_on", DataType::Date32, false),
        Field::new("closed_on", DataType::Date32, true),
        Field::new("outcome", DataType::Utf8, false),
        Field::new("debt_type", DataType::Utf8, true),
        Field::new("region", DataType::Utf8, true),
        Field::new("channel", DataType::Utf8, true),
        Field::new("stage", DataType::Utf8, true),
        Field::new("amount_claimed", money.clone(), true),
        Field::new("amount_recovered", money, true),
        Field::new("debt_age_days", DataType::Int32, true),
        Field::new("fee_rate", DataType::Decimal128(6, 4), true),
        Field::new("complaint", DataType::Boolean, true),
        Field::new("complaint_upheld", DataType::Boolean, true),
        Field::new("cross_border", DataType::Boolean, true),
    ]))
}

/// Column builders for one record batch.
struct ColumnBuilders {
    case_id: StringBuilder,
    opened_on: Date32Builder,
    closed_on: Date32Builder,
    labels: [StringBuilder; 5],
    amount_claimed: Decimal128Builder,
    amount_recovered: Decimal128Builder,
    debt_age_days: Int32Builder,
    fee_rate: Decimal128Builder,
    flags: [BooleanBuilder; 3],
    rows: usize,
}

impl ColumnBuilders {
    /// Empty builders sized for one batch.
    fn new() -> Result<Self> {
        let n = PARQUET_BATCH_ROWS;
        let decimal = |precision, scale| {
            Decimal128Builder::with_capacity(n).with_precision_and_scale(precision, scale)
        };
        Ok(Self {
            case_id: StringBuilder::with_capacity(n, n * 11),
            opened_on: Date32Builder::with_capacity(n),
            closed_on: Date32Builder::with_capacity(n),
            labels: std::array::from_fn(|_| StringBuilder::with_capacity(n, n * 12)),
            amount_claimed: decimal(18, 2)?,
            amount_recovered: decimal(18, 2)?,
            debt_age_days: Int32Builder::with_capacity(n),
            fee_rate: decimal(6, 4)?,
            flags: std::array::from_fn(|_| BooleanBuilder::with_capacity(n)),
            rows: 0,
        })
    }

    /// Appends one case.
    fn append(&mut self, case: &Case) {
        self.case_id.append_value(case_id(case.seq));
        self.opened_on
            .append_value(Date32Type::from_naive_date(case.opened_on));
        self.closed_on
            .append_option(case.closed_on.map(Date32Type::from_naive_date));
        let labels = [
            case.outcome.label(),
            case.debt_type,
            case.region,
            case.channel,
            case.stage.label(),
        ];
        for (builder, label) in self.labels.iter_mut().zip(labels) {
            builder.append_value(label);
        }
        self.amount_claimed
            .append_value(i128::from(case.claimed_cents));
        self.amount_recovered
            .append_value(i128::from(case.recovered_cents));
        self.debt_age_days.append_value(case.debt_age_days);
        self.fee_rate.append_value(i128::from(case.fee_rate_bp));
        let flags = [
            Some(case.complaint),
            case.complaint_upheld,
            Some(case.cross_border),
        ];
        for (builder, flag) in self.flags.iter_mut().zip(flags) {
            builder.append_option(flag);
        }
        self.rows += 1;
    }

    /// Turns the appended rows into a record batch and empties the builders.
    fn finish_batch(&mut self, schema: &SchemaRef) -> Result<RecordBatch> {
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(self.case_id.finish()),
            Arc::new(self.opened_on.finish()),
            Arc::new(self.closed_on.finish()),
        ];
        columns.extend(
            self.labels
                .iter_mut()
                .map(|b| Arc::new(b.finish()) as ArrayRef),
        );
        columns.push(Arc::new(self.amount_claimed.finish()));
        columns.push(Arc::new(self.amount_recovered.finish()));
        columns.push(Arc::new(self.debt_age_days.finish()));
        columns.push(Arc::new(self.fee_rate.finish()));
        columns.extend(
            self.flags
                .iter_mut()
                .map(|b| Arc::new(b.finish()) as ArrayRef),
        );
        self.rows = 0;
        Ok(RecordBatch::try_new(schema.clone(), columns)?)
    }
}

/// Parquet writer: ZSTD-compressed row groups fed by batches of `PARQUET_BATCH_ROWS` rows.
struct ParquetSink {
    writer: ArrowWriter<File>,
    schema: SchemaRef,
    builders: ColumnBuilders,
}

impl ParquetSink {
    /// Starts the Parquet file with deterministic writer properties.
    fn new(file: File) -> Result<Self> {
        let properties = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .set_created_by(PARQUET_CREATED_BY.to_string())
            .set_max_row_group_row_count(Some(PARQUET_ROW_GROUP_ROWS))
            .build();
        let schema = parquet_schema();
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(properties))?;
        Ok(Self {
            writer,
            schema,
            builders: ColumnBuilders::new()?,
        })
    }

    /// Writes the rows buffered so far as one record batch.
    fn flush_batch(&mut self) -> Result<()> {
        if self.builders.rows > 0 {
            let batch = self.builders.finish_batch(&self.schema)?;
            self.writer.write(&batch)?;
        }
        Ok(())
    }
}

impl RowSink for ParquetSink {
    fn write_case(&mut self, case: &Case) -> Result<()> {
        self.builders.append(case);
        if self.builders.rows >= PARQUET_BATCH_ROWS {
            self.flush_batch()?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        self.flush_batch()?;
        self.writer.close()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, Decimal128Array, StringArray};
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use std::collections::HashSet;
    use std::sync::OnceLock;

    const SAMPLE_CASES: u64 = 50_000;
    const SAMPLE_SEED: u64 = 20_240_930;

    const OUTCOMES: [&str; 7] = [
        "settled",
        "paid_in_full",
        "partial",
        "judgment",
        "withdrawn",
        "uncollectable",
        "open",
    ];

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn options(cases: u64, seed: u64, out: PathBuf) -> GenerateOptions {
        GenerateOptions {
            cases,
            seed,
            out,
            as_of: date(2024, 9, 30),
            start: date(2023, 1, 1),
        }
    }

    /// Generates into a fresh temporary directory and returns the file's bytes.
    fn generate_bytes(cases: u64, seed: u64, extension: &str) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("cases.{extension}"));
        let written = generate(&options(cases, seed, path.clone())).unwrap();
        assert_eq!(written, cases);
        std::fs::read(path).unwrap()
    }

    fn sample_csv() -> &'static str {
        static SAMPLE: OnceLock<String> = OnceLock::new();
        SAMPLE.get_or_init(|| {
            String::from_utf8(generate_bytes(SAMPLE_CASES, SAMPLE_SEED, "csv")).unwrap()
        })
    }

    /// One parsed CSV row; amounts in cents, fee rate in 1/10,000.
    struct Row {
        case_id: String,
        opened_on: NaiveDate,
        closed_on: Option<NaiveDate>,
        outcome: String,
        debt_type: String,
        region: String,
        channel: String,
        stage: usize,
        claimed: i64,
        recovered: i64,
        debt_age_days: i32,
        fee_rate: i64,
        complaint: bool,
        complaint_upheld: Option<bool>,
        cross_border: bool,
    }

    impl Row {
        fn resolved(&self) -> bool {
            self.outcome != "open"
        }

        fn settled(&self) -> bool {
            self.outcome == "settled" || self.outcome == "paid_in_full"
        }

        /// Days to resolution, or to the as-of date for open (censored) cases.
        fn duration(&self, as_of: NaiveDate) -> i64 {
            (self.closed_on.unwrap_or(as_of) - self.opened_on).num_days()
        }
    }

    /// Parses `text` with exactly `decimals` decimals into integer units.
    fn fixed(text: &str, decimals: usize) -> i64 {
        let (whole, fraction) = text.split_once('.').unwrap();
        assert_eq!(fraction.len(), decimals, "{text}");
        assert!(whole.chars().all(|c| c.is_ascii_digit()), "{text}");
        assert!(fraction.chars().all(|c| c.is_ascii_digit()), "{text}");
        whole.parse::<i64>().unwrap() * 10i64.pow(decimals as u32)
            + fraction.parse::<i64>().unwrap()
    }

    fn flag(text: &str) -> bool {
        match text {
            "true" => true,
            "false" => false,
            other => panic!("not a boolean: {other:?}"),
        }
    }

    fn parse_row(record: &csv::StringRecord) -> Row {
        let day = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
        let stage = STAGES.iter().position(|s| s.label() == &record[7]);
        Row {
            case_id: record[0].to_string(),
            opened_on: day(&record[1]),
            closed_on: (!record[2].is_empty()).then(|| day(&record[2])),
            outcome: record[3].to_string(),
            debt_type: record[4].to_string(),
            region: record[5].to_string(),
            channel: record[6].to_string(),
            stage: stage.unwrap_or_else(|| panic!("unknown stage {}", &record[7])),
            claimed: fixed(&record[8], 2),
            recovered: fixed(&record[9], 2),
            debt_age_days: record[10].parse().unwrap(),
            fee_rate: fixed(&record[11], 4),
            complaint: flag(&record[12]),
            complaint_upheld: (!record[13].is_empty()).then(|| flag(&record[13])),
            cross_border: flag(&record[14]),
        }
    }

    fn parse_csv(text: &str) -> Vec<Row> {
        let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(header, COLUMNS);
        reader.records().map(|r| parse_row(&r.unwrap())).collect()
    }

    fn sample_rows() -> &'static [Row] {
        static ROWS: OnceLock<Vec<Row>> = OnceLock::new();
        ROWS.get_or_init(|| parse_csv(sample_csv()))
    }

    fn share<'a>(rows: impl IntoIterator<Item = &'a Row>, pred: impl Fn(&Row) -> bool) -> f64 {
        let (mut hits, mut total) = (0usize, 0usize);
        for row in rows {
            total += 1;
            hits += usize::from(pred(row));
        }
        hits as f64 / total as f64
    }

    /// Σ recovered / Σ claimed.
    fn recovery<'a>(rows: impl IntoIterator<Item = &'a Row>) -> f64 {
        let (mut recovered, mut claimed) = (0i64, 0i64);
        for row in rows {
            recovered += row.recovered;
            claimed += row.claimed;
        }
        recovered as f64 / claimed as f64
    }

    fn median(mut values: Vec<i64>) -> i64 {
        values.sort_unstable();
        values[values.len() / 2]
    }

    /// Kaplan–Meier median time to resolution; open cases are censored at `as_of`.
    fn km_median<'a>(rows: impl IntoIterator<Item = &'a Row>, as_of: NaiveDate) -> i64 {
        let mut times: Vec<(i64, bool)> = rows
            .into_iter()
            .map(|r| (r.duration(as_of), r.resolved()))
            .collect();
        times.sort_unstable();
        let mut at_risk = times.len() as f64;
        let mut survival = 1.0;
        let mut i = 0;
        while i < times.len() {
            let t = times[i].0;
            let j = times[i..]
                .iter()
                .position(|&(u, _)| u != t)
                .map_or(times.len(), |k| i + k);
            let events = times[i..j].iter().filter(|&&(_, e)| e).count() as f64;
            survival *= 1.0 - events / at_risk;
            if survival <= 0.5 {
                return t;
            }
            at_risk -= (j - i) as f64;
            i = j;
        }
        i64::MAX
    }

    /// Resolved rows whose debt age lies in `ages`.
    fn resolved_aged(rows: &[Row], ages: std::ops::Range<i32>) -> impl Iterator<Item = &Row> {
        rows.iter()
            .filter(move |r| r.resolved() && ages.contains(&r.debt_age_days))
    }

    /// How a calibration figure is measured over all rows of a sample.
    type Measure = fn(&[Row]) -> f64;

    /// Calibration figures: name, target, tolerance and measurement.
    const TARGETS: [(&str, f64, f64, Measure); 13] = [
        ("intake share hotline", 0.35, 0.015, |rows| {
            share(rows, |r| r.channel == "hotline")
        }),
        ("intake share association_platform", 0.37, 0.015, |rows| {
            share(rows, |r| r.channel == "association_platform")
        }),
        (
            "debts <90 days: resolved by lawyer_letter",
            0.85,
            0.03,
            |rows| share(resolved_aged(rows, 0..90), |r| r.stage < 3),
        ),
        (
            "debts >=180 days: resolved by lawyer_letter",
            0.60,
            0.08,
            |rows| share(resolved_aged(rows, 180..1_501), |r| r.stage < 3),
        ),
        ("debts >=180 days: recovery rate", 0.23, 0.03, |rows| {
            recovery(resolved_aged(rows, 180..1_501))
        }),
        ("debts <180 days: recovery rate", 0.60, 0.08, |rows| {
            recovery(resolved_aged(rows, 0..180))
        }),
        ("settlement rate", 0.635, 0.035, |rows| {
            share(resolved_aged(rows, 0..1_501), Row::settled)
        }),
        ("complaint rate", 0.015, 0.005, |rows| {
            share(rows, |r| r.complaint)
        }),
        ("complaints upheld", 1.0 / 3.0, 0.08, |rows| {
            let complaints = rows.iter().filter(|r| r.complaint);
            share(complaints, |r| r.complaint_upheld == Some(true))
        }),
        ("cross-border share", 0.03, 0.005, |rows| {
            share(rows, |r| r.cross_border)
        }),
        (
            "Kaplan-Meier median days to resolution",
            75.0,
            15.0,
            |rows| km_median(rows, date(2024, 9, 30)) as f64,
        ),
        ("median amount claimed (CNY)", 30_000.0, 5_000.0, |rows| {
            median(rows.iter().map(|r| r.claimed).collect()) as f64 / 100.0
        }),
        ("region share taicang", 0.0005, 0.0004, |rows| {
            share(rows, |r| r.region == "taicang")
        }),
    ];

    #[test]
    fn case_ids_are_opaque_and_sorted() {
        assert_eq!(case_id(1), "C-0000-0001");
        assert_eq!(case_id(36), "C-0000-0010");
        assert_eq!(case_id(CASE_ID_CAPACITY - 1), "C-ZZZZ-ZZZZ");
        for seq in [1, 9_999, 1_679_615, 1_679_616, 99_999_999, 1_234_567_890] {
            assert!(case_id(seq) < case_id(seq + 1));
            let id = case_id(seq);
            assert_eq!(id.len(), 11);
            let longest = id.split(|c: char| !c.is_ascii_digit()).map(str::len).max();
            assert!(longest.unwrap_or(0) <= 4, "{id}");
        }
    }

    #[test]
    fn fixed_point_prints_exact_decimals() {
        let text = |units, decimals| Fixed { units, decimals }.to_string();
        assert_eq!(text(1_250_000, 2), "12500.00");
        assert_eq!(text(7, 2), "0.07");
        assert_eq!(text(2_500, 4), "0.2500");
        assert_eq!(text(-5, 2), "-0.05");
    }

    #[test]
    fn unknown_extension_is_an_error_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["cases.json", "cases"] {
            let path = dir.path().join(name);
            let error = generate(&options(10, 1, path.clone())).unwrap_err();
            assert!(
                error.to_string().contains(&path.display().to_string()),
                "{error}"
            );
            assert!(!path.exists());
        }
    }

    #[test]
    fn as_of_before_start_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let mut bad = options(10, 1, dir.path().join("cases.csv"));
        bad.as_of = date(2022, 12, 31);
        assert!(generate(&bad).is_err());
    }

    #[test]
    fn zero_cases_write_only_the_header() {
        let bytes = generate_bytes(0, 1, "csv");
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            format!("{}\n", COLUMNS.join(","))
        );
        let parquet = generate_bytes(0, 1, "parquet");
        assert!(parquet.starts_with(b"PAR1"));
    }

    #[test]
    fn single_day_window_is_valid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cases.csv");
        let mut one_day = options(500, 3, path.clone());
        one_day.start = one_day.as_of;
        assert_eq!(generate(&one_day).unwrap(), 500);
        let rows = parse_csv(&std::fs::read_to_string(path).unwrap());
        assert!(rows.iter().all(|r| r.opened_on == one_day.as_of));
        assert!(
            rows.iter()
                .all(|r| r.closed_on.is_none_or(|c| c == one_day.as_of))
        );
    }

    #[test]
    fn csv_is_deterministic_per_seed() {
        let again = generate_bytes(SAMPLE_CASES, SAMPLE_SEED, "csv");
        assert!(again == sample_csv().as_bytes());
        let other = generate_bytes(SAMPLE_CASES, SAMPLE_SEED + 1, "csv");
        assert!(other != sample_csv().as_bytes());
    }

    #[test]
    fn csv_layout_follows_the_contract() {
        let text = sample_csv();
        assert!(!text.starts_with('\u{feff}'));
        assert!(!text.contains('\r'));
        assert!(!text.contains('"'));
        assert!(text.ends_with('\n'));
        assert_eq!(text.lines().count() as u64, SAMPLE_CASES + 1);
        assert!(
            text.lines()
                .all(|line| line.split(',').count() == COLUMNS.len())
        );
    }

    #[test]
    fn rows_satisfy_the_contract() {
        let (start, as_of) = (date(2023, 1, 1), date(2024, 9, 30));
        let rows = sample_rows();
        assert_eq!(rows.len() as u64, SAMPLE_CASES);
        let ids: HashSet<&str> = rows.iter().map(|r| r.case_id.as_str()).collect();
        assert_eq!(ids.len(), rows.len());
        for (row, next) in rows.iter().zip(rows.iter().skip(1)) {
            assert!(row.case_id < next.case_id && row.opened_on <= next.opened_on);
        }
        for row in rows {
            assert!(start <= row.opened_on && row.opened_on <= as_of);
            assert_eq!(row.closed_on.is_some(), row.resolved(), "{}", row.case_id);
            assert!(
                row.closed_on
                    .is_none_or(|c| row.opened_on <= c && c <= as_of)
            );
            assert!(OUTCOMES.contains(&row.outcome.as_str()));
            assert!(DEBT_TYPES.iter().any(|d| d.0 == row.debt_type));
            assert!(REGIONS.iter().any(|r| r.0 == row.region));
            assert!(CHANNELS.iter().any(|c| c.0 == row.channel));
            assert!(row.claimed > 0 && 0 <= row.recovered && row.recovered <= row.claimed);
            assert!((0..=1_500).contains(&row.debt_age_days));
            assert_eq!(row.complaint_upheld.is_some(), row.complaint);
        }
    }

    #[test]
    fn recovered_amounts_follow_the_outcome() {
        for row in sample_rows() {
            match row.outcome.as_str() {
                "paid_in_full" => assert_eq!(row.recovered, row.claimed),
                "withdrawn" | "uncollectable" => assert_eq!(row.recovered, 0),
                _ => assert!(row.recovered <= row.claimed),
            }
        }
        let mean_share = |outcome: &str| {
            let rows = sample_rows().iter().filter(|r| r.outcome == outcome);
            recovery(rows)
        };
        assert!(mean_share("settled") > mean_share("partial"));
        assert!(mean_share("judgment") > 0.0 && mean_share("judgment") < mean_share("settled"));
    }

    #[test]
    fn commission_rates_follow_the_amount() {
        let rows = sample_rows();
        assert!(rows.iter().all(|r| (2_000..=4_000).contains(&r.fee_rate)));
        let large = rows.iter().filter(|r| r.claimed >= 5_000_000);
        assert!(large.clone().all(|r| r.fee_rate <= 3_500));
        assert!(large.clone().any(|r| r.fee_rate == 2_000));
        assert!(
            rows.iter()
                .any(|r| r.claimed < 5_000_000 && r.fee_rate > 3_500)
        );
    }

    #[test]
    fn amount_tiers_are_all_populated() {
        let limits = [0, 1_000_000, 5_000_000, 20_000_000, 100_000_000, i64::MAX];
        for tier in limits.windows(2) {
            let count = sample_rows()
                .iter()
                .filter(|r| tier[0] <= r.claimed && r.claimed < tier[1])
                .count();
            assert!(count >= 50, "tier {tier:?} has {count} cases");
        }
    }

    #[test]
    fn older_debts_escalate_further_and_recover_less() {
        let resolved = || sample_rows().iter().filter(|r| r.resolved());
        for bounds in [
            (0, 90, 90, 180),
            (90, 180, 180, 365),
            (180, 365, 365, 1_501),
        ] {
            let younger = || resolved().filter(|r| (bounds.0..bounds.1).contains(&r.debt_age_days));
            let older = || resolved().filter(|r| (bounds.2..bounds.3).contains(&r.debt_age_days));
            assert!(share(younger(), |r| r.stage < 3) > share(older(), |r| r.stage < 3));
            assert!(recovery(younger()) > recovery(older()));
        }
    }

    #[test]
    fn recent_cases_are_more_often_open_and_higher_stages_take_longer() {
        let rows = sample_rows();
        let recent = rows.iter().filter(|r| r.opened_on > date(2024, 7, 1));
        let early = rows.iter().filter(|r| r.opened_on < date(2023, 7, 1));
        let (recent_open, early_open) = (
            share(recent, |r| !r.resolved()),
            share(early, |r| !r.resolved()),
        );
        assert!(
            recent_open > 0.5 && early_open < 0.05,
            "{recent_open} {early_open}"
        );
        let as_of = date(2024, 9, 30);
        let medians: Vec<i64> = (0..STAGES.len())
            .map(|s| {
                km_median(
                    rows.iter()
                        .filter(|r| r.stage == s && r.opened_on < date(2024, 1, 1)),
                    as_of,
                )
            })
            .collect();
        assert!(medians.windows(2).all(|w| w[0] < w[1]), "{medians:?}");
    }

    #[test]
    fn calibration_targets_are_met() {
        let rows = sample_rows();
        println!("| figure | target | measured |");
        println!("|---|---|---|");
        for (name, target, tolerance, measure) in TARGETS {
            println!(
                "| {name} | {target:.4} ± {tolerance} | {:.4} |",
                measure(rows)
            );
        }
        for (name, target, tolerance, measure) in TARGETS {
            let measured = measure(rows);
            let message = format!("{name}: {measured} vs {target} ± {tolerance}");
            assert!((measured - target).abs() <= tolerance, "{message}");
        }
    }

    fn parquet_rows(bytes: Vec<u8>) -> (Vec<RecordBatch>, Option<String>, SchemaRef) {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&bytes).unwrap();
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        let created_by = builder
            .metadata()
            .file_metadata()
            .created_by()
            .map(String::from);
        let schema = builder.schema().clone();
        let batches = builder.build().unwrap().map(Result::unwrap).collect();
        (batches, created_by, schema)
    }

    #[test]
    fn parquet_is_deterministic_and_matches_the_csv() {
        let cases = 70_000;
        let bytes = generate_bytes(cases, 7, "parquet");
        assert!(bytes == generate_bytes(cases, 7, "parquet"));
        let (batches, created_by, schema) = parquet_rows(bytes);
        assert_eq!(created_by.as_deref(), Some(PARQUET_CREATED_BY));
        assert_eq!(schema.fields(), parquet_schema().fields());
        assert_eq!(
            batches.iter().map(RecordBatch::num_rows).sum::<usize>() as u64,
            cases
        );
        let csv_rows = parse_csv(&String::from_utf8(generate_bytes(cases, 7, "csv")).unwrap());
        let mut rows = csv_rows.iter();
        for batch in &batches {
            let ids = batch
                .column(0)
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap();
            let closed = batch.column(2);
            let claimed = batch
                .column(8)
                .as_any()
                .downcast_ref::<Decimal128Array>()
                .unwrap();
            let fee = batch
                .column(11)
                .as_any()
                .downcast_ref::<Decimal128Array>()
                .unwrap();
            let upheld = batch.column(13);
            for i in 0..batch.num_rows() {
                let row = rows.next().unwrap();
                assert_eq!(ids.value(i), row.case_id);
                assert_eq!(closed.is_null(i), row.closed_on.is_none());
                assert_eq!(claimed.value(i), i128::from(row.claimed));
                assert_eq!(fee.value(i), i128::from(row.fee_rate));
                assert_eq!(upheld.is_null(i), !row.complaint);
            }
        }
        assert!(rows.next().is_none());
    }
}
