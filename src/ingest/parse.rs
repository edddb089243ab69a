//! Strict parsers for contract cell values: each returns the value or the name of the rule
//! the text breaks. Nothing is coerced: `10.559` is not an amount, `2024-13-01` is not a date.

use chrono::{Datelike, NaiveDate};

/// Days from 0001-01-01 (chrono's day 1) to 1970-01-01, for Arrow's Date32.
const UNIX_EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// Parses a date with the first matching format and returns Arrow Date32 days.
pub fn date(text: &str, formats: &[String]) -> Result<i32, &'static str> {
    let parsed = if formats.len() == 1 && formats[0] == "%Y-%m-%d" {
        iso_date(text)
    } else {
        formats
            .iter()
            .find_map(|format| NaiveDate::parse_from_str(text, format).ok())
    };
    parsed
        .map(|date| date.num_days_from_ce() - UNIX_EPOCH_DAYS_FROM_CE)
        .ok_or("bad_date")
}

/// Exactly `YYYY-MM-DD`, the contract's default (chrono also accepts one-digit months).
fn iso_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        bytes[range].iter().try_fold(0u32, |acc, b| {
            b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
        })
    };
    let year = i32::try_from(number(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, number(5..7)?, number(8..10)?)
}

/// Converts Arrow Date32 days back to a date.
pub fn date_from_days(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(days.checked_add(UNIX_EPOCH_DAYS_FROM_CE)?)
}

/// Arrow Date32 days of a date.
pub fn days_of(date: NaiveDate) -> i32 {
    date.num_days_from_ce() - UNIX_EPOCH_DAYS_FROM_CE
}

/// Parses money with at most two decimals into cents; negative amounts break `negative_amount`.
pub fn amount(text: &str) -> Result<i128, &'static str> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 16 || !all_digits(whole) || !all_digits(fraction) {
        return Err("bad_amount");
    }
    if fraction.len() > 2 || (digits.ends_with('.')) {
        return Err("bad_amount");
    }
    let mut cents: i128 = whole.parse::<i128>().map_err(|_| "bad_amount")? * 100;
    let mut scale = 10;
    for b in fraction.bytes() {
        cents += i128::from(b - b'0') * scale;
        scale /= 10;
    }
    if negative && cents != 0 {
        return Err("negative_amount");
    }
    Ok(cents)
}

/// Parses a whole non-negative number of days.
pub fn days(text: &str) -> Result<i32, &'static str> {
    match text.parse::<i32>() {
        Ok(value) if value >= 0 => Ok(value),
        Ok(_) => Err("negative_days"),
        Err(_) => Err("bad_number"),
    }
}

/// Parses a fraction in [0, 1].
pub fn fraction(text: &str) -> Result<f64, &'static str> {
    let value: f64 = text.parse().map_err(|_| "bad_number")?;
    if !value.is_finite() || !(0.0..=1.0).contains(&value) {
        return Err("fraction_out_of_range");
    }
    Ok(value)
}

/// Parses a boolean: true/false, yes/no, y/n, 1/0 in any case.
pub fn flag(text: &str) -> Result<bool, &'static str> {
    // Compared without allocating a lower-cased copy (three flags per case).
    let is = |words: [&str; 5]| words.iter().any(|w| w.eq_ignore_ascii_case(text));
    if is(["true", "yes", "y", "1", "t"]) {
        Ok(true)
    } else if is(["false", "no", "n", "0", "f"]) {
        Ok(false)
    } else {
        Err("bad_boolean")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_strict() {
        let iso = vec!["%Y-%m-%d".to_string()];
        assert_eq!(date("1970-01-02", &iso), Ok(1));
        assert_eq!(
            date("2024-02-29", &iso)
                .map(date_from_days)
                .unwrap()
                .unwrap()
                .day(),
            29
        );
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "20240105",
            "2024-01-05T23:59:59",
            "2024-1-5",
            "",
        ] {
            assert_eq!(date(bad, &iso), Err("bad_date"), "{bad}");
        }
        let us = vec!["%m/%d/%Y".to_string(), "%Y-%m-%d".to_string()];
        assert_eq!(date("01/02/1970", &us), Ok(1));
        assert_eq!(date("1970-01-02", &us), Ok(1));
    }

    #[test]
    fn amounts_are_exact_cents() {
        assert_eq!(amount("10.5"), Ok(1050));
        assert_eq!(amount("10.05"), Ok(1005));
        assert_eq!(amount("0"), Ok(0));
        assert_eq!(amount("-0.00"), Ok(0));
        assert_eq!(amount("-1"), Err("negative_amount"));
        for bad in [
            "10.559",
            "1e3",
            "1,000",
            "",
            ".5",
            "10.",
            "abc",
            "12345678901234567",
        ] {
            assert_eq!(amount(bad), Err("bad_amount"), "{bad}");
        }
    }

    #[test]
    fn other_values() {
        assert_eq!(days("30"), Ok(30));
        assert_eq!(days("-1"), Err("negative_days"));
        assert_eq!(days("3.5"), Err("bad_number"));
        assert_eq!(fraction("0.25"), Ok(0.25));
        assert_eq!(fraction("1.5"), Err("fraction_out_of_range"));
        assert_eq!(fraction("NaN"), Err("fraction_out_of_range"));
        assert_eq!(flag("Yes"), Ok(true));
        assert_eq!(flag("0"), Ok(false));
        assert_eq!(flag("maybe"), Err("bad_boolean"));
        assert_eq!(flag("TRUE"), Ok(true));
        assert_eq!(flag("F"), Ok(false));
        for bad in ["", "tru", "truee", "yes ", "ＹＥＳ", "2"] {
            assert_eq!(flag(bad), Err("bad_boolean"), "{bad}");
        }
    }
}
