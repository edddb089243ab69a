//! Intervals for rates that are not a share of cases.
//!
//! **Ratio of sums** (recovery rate = Σ recovered ÷ Σ claimed over cases): the ratio
//! estimator R = Σy/Σx with its Taylor-linearisation (delta-method) variance, the textbook
//! treatment of a ratio mean (W. G. Cochran, *Sampling Techniques*, 3rd ed., 1977, §6.4):
//! with residuals dᵢ = yᵢ − R·xᵢ,
//! V(R) = n/(n−1) · Σdᵢ² / (Σxᵢ)², and the interval is R ± z·√V(R).
//! This is exactly the HC1 heteroskedasticity-robust standard error of a weighted least squares
//! fit of y on x through the origin with weights 1/x (whose estimate is Σy/Σx), which is how
//! it is checked against statsmodels. The interval is the symmetric normal one, not truncated.
//!
//! **Ratio of two counts** (clearance rate = resolved ÷ opened in a period): the two counts are
//! taken as Poisson counts over the same exposure; conditionally on their total, the first is
//! binomial with p = r/(1+r), so the Wilson score interval for p maps to an interval for r.
//! This is the score interval for a ratio of Poisson rates, statsmodels'
//! `confint_poisson_2indep(k1, 1, k2, 1, method="score", compare="ratio")`, in closed form.

use super::normal;
use super::wilson::wilson_interval;

/// The sums the ratio estimator needs, over n pairs (y, x).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RatioMoments {
    pub n: f64,
    pub sum_y: f64,
    pub sum_x: f64,
    pub sum_yy: f64,
    pub sum_xy: f64,
    pub sum_xx: f64,
}

impl RatioMoments {
    /// Moments of a list of pairs (for tests and references).
    pub fn of(pairs: &[(f64, f64)]) -> RatioMoments {
        let mut m = RatioMoments::default();
        for &(y, x) in pairs {
            m.n += 1.0;
            m.sum_y += y;
            m.sum_x += x;
            m.sum_yy += y * y;
            m.sum_xy += x * y;
            m.sum_xx += x * x;
        }
        m
    }

    /// R = Σy/Σx, or `None` when Σx is 0.
    pub fn ratio(&self) -> Option<f64> {
        (self.sum_x != 0.0).then(|| self.sum_y / self.sum_x)
    }

    /// Standard error of R, or `None` with fewer than 2 pairs or Σx = 0.
    pub fn standard_error(&self) -> Option<f64> {
        let r = self.ratio()?;
        if self.n < 2.0 {
            return None;
        }
        let residual = (self.sum_yy - 2.0 * r * self.sum_xy + r * r * self.sum_xx).max(0.0);
        let variance = self.n / (self.n - 1.0) * residual / (self.sum_x * self.sum_x);
        Some(variance.sqrt())
    }

    /// The delta-method interval `(low, high)` at confidence `level`.
    pub fn interval(&self, level: f64) -> Option<(f64, f64)> {
        if !(level > 0.0 && level < 1.0) {
            return None;
        }
        let r = self.ratio()?;
        let se = self.standard_error()?;
        let z = -normal::quantile((1.0 - level) / 2.0);
        Some((r - z * se, r + z * se))
    }
}

/// Score interval for the ratio k1/k2 of two Poisson counts over the same exposure, or `None`
/// when k2 is 0 (the ratio is undefined), a count is negative or not finite, or the level is
/// outside (0, 1).
pub fn poisson_ratio_interval(k1: f64, k2: f64, level: f64) -> Option<(f64, f64)> {
    if !(k1 >= 0.0 && k2 > 0.0 && k1.is_finite() && k2.is_finite()) {
        return None;
    }
    let (low, high) = wilson_interval(k1, k1 + k2, level)?;
    let odds = |p: f64| p / (1.0 - p);
    Some((odds(low), odds(high)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_interval_matches_a_hand_computation() {
        // y = (1, 2, 3), x = (2, 2, 4): R = 6/8 = 0.75, d = (-0.5, 0.5, 0),
        // V = 3/2 · 0.5 / 64, se = sqrt(0.01171875).
        let m = RatioMoments::of(&[(1.0, 2.0), (2.0, 2.0), (3.0, 4.0)]);
        assert_eq!(m.ratio(), Some(0.75));
        let se = m.standard_error().unwrap();
        assert!((se - 0.011_718_75_f64.sqrt()).abs() < 1e-15);
        let (low, high) = m.interval(0.95).unwrap();
        let z = 1.959_963_984_540_054;
        assert!((low - (0.75 - z * se)).abs() < 1e-12);
        assert!((high - (0.75 + z * se)).abs() < 1e-12);
    }

    #[test]
    fn exact_proportional_data_has_a_zero_width_interval() {
        let m = RatioMoments::of(&[(1.0, 2.0), (3.0, 6.0), (5.0, 10.0)]);
        assert_eq!(m.interval(0.95), Some((0.5, 0.5)));
    }

    #[test]
    fn undefined_cases_are_none() {
        assert_eq!(RatioMoments::of(&[(1.0, 2.0)]).interval(0.95), None);
        assert_eq!(RatioMoments::of(&[]).interval(0.95), None);
        assert_eq!(
            RatioMoments::of(&[(1.0, 0.0), (1.0, 0.0)]).interval(0.95),
            None
        );
        assert_eq!(
            RatioMoments::of(&[(1.0, 2.0), (1.0, 3.0)]).interval(1.0),
            None
        );
    }

    #[test]
    fn poisson_ratio_interval_brackets_the_ratio() {
        let (low, high) = poisson_ratio_interval(120.0, 100.0, 0.95).unwrap();
        assert!(low < 1.2 && 1.2 < high);
        // statsmodels confint_poisson_2indep(120, 1, 100, 1, method="score", compare="ratio")
        assert!((low - 0.921_008_345_485_195_6).abs() < 1e-8);
        assert!((high - 1.563_503_753_464_186_5).abs() < 1e-8);
        assert_eq!(poisson_ratio_interval(0.0, 10.0, 0.95).unwrap().0, 0.0);
        assert_eq!(poisson_ratio_interval(5.0, 0.0, 0.95), None);
        assert_eq!(poisson_ratio_interval(-1.0, 3.0, 0.95), None);
    }
}
