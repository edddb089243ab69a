//! Wilson score confidence interval for a binomial proportion: E. B. Wilson (1927),
//! "Probable Inference, the Law of Succession, and Statistical Inference", Journal of the
//! American Statistical Association 22(158), 209–212. With p̂ = k/n and z the two-sided
//! normal critical value, the bounds are
//! (p̂ + z²/2n ∓ z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n), clipped to [0, 1].
//! The arithmetic follows statsmodels' `proportion_confint(count, nobs, alpha, method="wilson")`
//! step by step, which is the reference it is tested against. One deliberate difference: the
//! lower bound is exactly 0 when k = 0 and the upper bound exactly 1 when k = n (their values in
//! exact arithmetic), where statsmodels can leave rounding residue such as 5.6e-17 or 1 − 2e-16.

use super::normal;

/// Returns the Wilson interval `(low, high)` at confidence `level` (e.g. 0.95) for `k` successes
/// out of `n`, or `None` unless `n > 0`, `0 <= k <= n` and `0 < level < 1`.
pub fn wilson_interval(k: f64, n: f64, level: f64) -> Option<(f64, f64)> {
    let valid = n > 0.0 && n.is_finite() && (0.0..=n).contains(&k) && level > 0.0 && level < 1.0;
    if !valid {
        return None;
    }
    let z = -normal::quantile((1.0 - level) / 2.0);
    let z2 = z * z;
    let p = k / n;
    let denom = 1.0 + z2 / n;
    let center = (p + z2 / (2.0 * n)) / denom;
    let half_width = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    let low = if k == 0.0 {
        0.0
    } else {
        (center - half_width).clamp(0.0, 1.0)
    };
    let high = if k == n {
        1.0
    } else {
        (center + half_width).clamp(0.0, 1.0)
    };
    Some((low, high))
}

#[cfg(test)]
mod tests {
    use super::wilson_interval;

    const REFERENCE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/reference/wilson_statsmodels.csv"
    );

    #[test]
    fn matches_statsmodels_reference() {
        let text = std::fs::read_to_string(REFERENCE).expect("read wilson_statsmodels.csv");
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("k,n,level,low,high"));
        let mut checked = 0;
        for line in lines {
            let f: Vec<f64> = line
                .split(',')
                .map(|x| x.parse().expect("number"))
                .collect();
            let (low, high) = wilson_interval(f[0], f[1], f[2]).expect("valid input");
            assert!((low - f[3]).abs() <= 1e-12, "{line}: low {low}");
            assert!((high - f[4]).abs() <= 1e-12, "{line}: high {high}");
            checked += 1;
        }
        assert!(checked >= 200, "only {checked} reference rows");
    }

    #[test]
    fn single_known_value() {
        // statsmodels 0.15.0: proportion_confint(81, 263, alpha=0.05, method="wilson").
        let (low, high) = wilson_interval(81.0, 263.0, 0.95).expect("valid input");
        assert!((low - 0.255_288_519_878_274_2).abs() <= 1e-12, "{low}");
        assert!((high - 0.366_209_576_982_800_04).abs() <= 1e-12, "{high}");
    }

    #[test]
    fn bounds_stay_in_unit_interval() {
        for n in [1.0, 2.0, 7.0, 1e6] {
            for k in [0.0, 1.0, n - 1.0, n] {
                let (low, high) = wilson_interval(k, n, 0.99).expect("valid input");
                assert!((0.0..=1.0).contains(&low) && (0.0..=1.0).contains(&high));
                assert!(low <= k / n && k / n <= high);
            }
        }
        assert_eq!(wilson_interval(0.0, 10.0, 0.95).map(|b| b.0), Some(0.0));
        assert_eq!(wilson_interval(10.0, 10.0, 0.95).map(|b| b.1), Some(1.0));
    }

    #[test]
    fn rejects_invalid_input() {
        assert_eq!(wilson_interval(0.0, 0.0, 0.95), None);
        assert_eq!(wilson_interval(1.0, -1.0, 0.95), None);
        assert_eq!(wilson_interval(-1.0, 10.0, 0.95), None);
        assert_eq!(wilson_interval(11.0, 10.0, 0.95), None);
        assert_eq!(wilson_interval(5.0, 10.0, 0.0), None);
        assert_eq!(wilson_interval(5.0, 10.0, 1.0), None);
        assert_eq!(wilson_interval(f64::NAN, 10.0, 0.95), None);
        assert_eq!(wilson_interval(5.0, f64::INFINITY, 0.95), None);
        assert_eq!(wilson_interval(5.0, 10.0, f64::NAN), None);
    }
}
