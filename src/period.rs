//! Reporting periods (`--period 2024-Q3 | 2024-07 | 2024`) and the as-of date.
//!
//! The as-of date is the period's last day unless given; without a period it defaults to the
//! latest date in the input. It is the only notion of "now" the job has (docs/metrics.md).

use chrono::{Datelike, NaiveDate};

use crate::error::usage;

/// A calendar period a release covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// Label as written (`2024-Q3`), also the release folder name.
    pub label: String,
    /// First day.
    pub start: NaiveDate,
    /// Last day.
    pub end: NaiveDate,
}

impl Period {
    /// Parses `YYYY`, `YYYY-MM` or `YYYY-Qn`.
    pub fn parse(text: &str) -> anyhow::Result<Period> {
        let bad = || {
            usage(format!(
                "`--period {text}`: expected `YYYY`, `YYYY-MM` or `YYYY-Qn` (e.g. 2024-Q3)"
            ))
        };
        let (year, rest) = match text.split_once('-') {
            Some((year, rest)) => (year, Some(rest)),
            None => (text, None),
        };
        if year.len() != 4 {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        let (first_month, months) = match rest {
            None => (1, 12),
            Some(q) if q.len() == 2 && (q.starts_with('Q') || q.starts_with('q')) => {
                let quarter: u32 = q[1..].parse().map_err(|_| bad())?;
                if !(1..=4).contains(&quarter) {
                    return Err(bad());
                }
                (quarter * 3 - 2, 3)
            }
            Some(m) if m.len() == 2 => {
                let month: u32 = m.parse().map_err(|_| bad())?;
                if !(1..=12).contains(&month) {
                    return Err(bad());
                }
                (month, 1)
            }
            Some(_) => return Err(bad()),
        };
        let start = NaiveDate::from_ymd_opt(year, first_month, 1).ok_or_else(bad)?;
        let end = add_months(start, months)
            .and_then(|next| next.pred_opt())
            .ok_or_else(bad)?;
        Ok(Period {
            label: text.to_uppercase(),
            start,
            end,
        })
    }

    /// The period of the same length just before this one (for period-over-period change).
    pub fn previous(&self) -> Option<Period> {
        let months = (self.end.year() - self.start.year()) * 12 + self.end.month() as i32
            - self.start.month() as i32
            + 1;
        let start = sub_months(self.start, months as u32)?;
        let end = self.start.pred_opt()?;
        let label = match months {
            12 => format!("{}", start.year()),
            3 => format!("{}-Q{}", start.year(), (start.month() - 1) / 3 + 1),
            _ => format!("{}-{:02}", start.year(), start.month()),
        };
        Some(Period { label, start, end })
    }
}

fn add_months(date: NaiveDate, months: u32) -> Option<NaiveDate> {
    date.checked_add_months(chrono::Months::new(months))
}

fn sub_months(date: NaiveDate, months: u32) -> Option<NaiveDate> {
    date.checked_sub_months(chrono::Months::new(months))
}

/// Parses `--as-of YYYY-MM-DD`.
pub fn parse_as_of(text: &str) -> anyhow::Result<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| usage(format!("`--as-of {text}`: expected a date `YYYY-MM-DD`")))
}

/// (year, month, day) of a count of days since 1970-01-01 in the proleptic Gregorian calendar
/// (H. Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn periods() {
        let q3 = Period::parse("2024-Q3").unwrap();
        assert_eq!((q3.start, q3.end), (date(2024, 7, 1), date(2024, 9, 30)));
        assert_eq!(q3.previous().unwrap().label, "2024-Q2");
        let feb = Period::parse("2024-02").unwrap();
        assert_eq!(feb.end, date(2024, 2, 29));
        assert_eq!(feb.previous().unwrap().label, "2024-01");
        let year = Period::parse("2023").unwrap();
        assert_eq!(year.end, date(2023, 12, 31));
        assert_eq!(year.previous().unwrap().label, "2022");
        assert_eq!(Period::parse("2024-q1").unwrap().label, "2024-Q1");
        for bad in ["2024-Q5", "2024-13", "24-01", "2024-7", "x", "2024-01-01"] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
        assert!(parse_as_of("2024-09-30").is_ok());
        assert!(parse_as_of("30.09.2024").is_err());
    }
}
