//! Standard normal quantile function (inverse of the cumulative distribution function),
//! computed with Wichura's algorithm AS 241, routine PPND16: M. J. Wichura (1988),
//! "Algorithm AS 241: The Percentage Points of the Normal Distribution", Applied Statistics
//! 37(3), 477–484. Rational minimax approximations in three regions give about 16 correct
//! significant digits.

const SPLIT1: f64 = 0.425;
const SPLIT2: f64 = 5.0;
const CONST1: f64 = 0.180625;
const CONST2: f64 = 1.6;

/// Numerator coefficients for |p - 0.5| <= 0.425.
#[allow(clippy::excessive_precision, reason = "digits as published in AS 241")]
const A: [f64; 8] = [
    3.387_132_872_796_366_608,
    1.331_416_678_917_843_774_5e2,
    1.971_590_950_306_551_442_7e3,
    1.373_169_376_550_946_112_5e4,
    4.592_195_393_154_987_145_7e4,
    6.726_577_092_700_870_085_3e4,
    3.343_057_558_358_812_810_5e4,
    2.509_080_928_730_122_672_7e3,
];
/// Denominator coefficients for |p - 0.5| <= 0.425.
#[allow(clippy::excessive_precision, reason = "digits as published in AS 241")]
const B: [f64; 8] = [
    1.0,
    4.231_333_070_160_091_125_2e1,
    6.871_870_074_920_579_083e2,
    5.394_196_021_424_751_107_7e3,
    2.121_379_430_158_659_586_7e4,
    3.930_789_580_009_271_061e4,
    2.872_908_573_572_194_267_4e4,
    5.226_495_278_852_854_561e3,
];
/// Numerator coefficients for the intermediate tail, r = sqrt(-ln(min(p, 1-p))) <= 5.
#[allow(clippy::excessive_precision, reason = "digits as published in AS 241")]
const C: [f64; 8] = [
    1.423_437_110_749_683_577_34,
    4.630_337_846_156_545_295_9,
    5.769_497_221_460_691_405_5,
    3.647_848_324_763_204_605_04,
    1.270_458_252_452_368_382_58,
    2.417_807_251_774_506_117_7e-1,
    2.272_384_498_926_918_458_33e-2,
    7.745_450_142_783_414_076_4e-4,
];
/// Denominator coefficients for the intermediate tail.
#[allow(clippy::excessive_precision, reason = "digits as published in AS 241")]
const D: [f64; 8] = [
    1.0,
    2.053_191_626_637_758_821_87,
    1.676_384_830_183_803_849_4,
    6.897_673_349_851_000_045_5e-1,
    1.481_039_764_274_800_745_9e-1,
    1.519_866_656_361_645_719_66e-2,
    5.475_938_084_995_344_946e-4,
    1.050_750_071_644_416_843_24e-9,
];
/// Numerator coefficients for the far tail, r > 5.
#[allow(clippy::excessive_precision, reason = "digits as published in AS 241")]
const E: [f64; 8] = [
    6.657_904_643_501_103_777_2,
    5.463_784_911_164_114_369_9,
    1.784_826_539_917_291_335_8,
    2.965_605_718_285_048_912_3e-1,
    2.653_218_952_657_612_309_3e-2,
    1.242_660_947_388_078_438_6e-3,
    2.711_555_568_743_487_578_15e-5,
    2.010_334_399_292_288_132_65e-7,
];
/// Denominator coefficients for the far tail.
#[allow(clippy::excessive_precision, reason = "digits as published in AS 241")]
const F: [f64; 8] = [
    1.0,
    5.998_322_065_558_879_376_9e-1,
    1.369_298_809_227_358_053_1e-1,
    1.487_536_129_085_061_485_25e-2,
    7.868_691_311_456_132_591e-4,
    1.846_318_317_510_054_681_8e-5,
    1.421_511_758_316_445_888_7e-7,
    2.044_263_103_389_939_785_64e-15,
];

/// Evaluates the polynomial with coefficients `c` (lowest degree first) at `x`.
fn poly(c: &[f64; 8], x: f64) -> f64 {
    c.iter().rev().fold(0.0, |acc, &ci| acc * x + ci)
}

/// Returns z with Φ(z) = p for the standard normal Φ; ±∞ at p = 0 or 1, NaN outside [0, 1].
pub fn quantile(p: f64) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let q = p - 0.5;
    if q.abs() <= SPLIT1 {
        let r = CONST1 - q * q;
        return q * poly(&A, r) / poly(&B, r);
    }
    let tail = if q < 0.0 { p } else { 1.0 - p };
    let r = (-tail.ln()).sqrt();
    let z = if r <= SPLIT2 {
        let s = r - CONST2;
        poly(&C, s) / poly(&D, s)
    } else {
        let s = r - SPLIT2;
        poly(&E, s) / poly(&F, s)
    };
    if q < 0.0 { -z } else { z }
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn known_values() {
        assert!((quantile(0.975) - 1.959_963_984_540_054).abs() <= 1e-15);
        assert!((quantile(0.95) - 1.644_853_626_951_472_2).abs() <= 1e-15);
        assert!((quantile(0.995) - 2.575_829_303_548_900_4).abs() <= 1e-15);
        assert_eq!(quantile(0.5), 0.0);
    }

    #[test]
    fn tails_and_symmetry() {
        assert!((quantile(1e-10) + 6.361_340_902_404_056).abs() <= 1e-13);
        assert!((quantile(1e-300) + 37.047_096_299_361_2).abs() <= 1e-12);
        // Probabilities whose complement is exact in binary, so symmetry must hold exactly.
        for p in [2f64.powi(-40), 2f64.powi(-10), 0.0625, 0.25, 0.375] {
            assert_eq!(quantile(p), -quantile(1.0 - p), "p = {p}");
        }
    }

    #[test]
    fn domain() {
        assert_eq!(quantile(0.0), f64::NEG_INFINITY);
        assert_eq!(quantile(1.0), f64::INFINITY);
        assert!(quantile(-0.1).is_nan());
        assert!(quantile(1.1).is_nan());
        assert!(quantile(f64::NAN).is_nan());
    }
}
