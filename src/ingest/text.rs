//! Decoded (Parquet) columns as text, the form every rule reads. Dates and decimals, the typed
//! columns of a contract-shaped Parquet file, are written directly (several times faster than
//! Arrow's general cast, which formats each value through `chrono` or a temporary string);
//! the text is exactly Arrow's, which a property test checks. Other types go through Arrow.

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Decimal128Array, StringArray, StringBuilder,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Date32Type, Decimal128Type};
use datafusion::arrow::error::ArrowError;

use crate::period::civil_from_days;

/// The type a Parquet text column that feeds a category is read as: a dictionary of its texts,
/// so that each distinct text is checked once per chunk.
pub fn text_dictionary() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
}

/// The column as UTF-8 text, value for value as `arrow::compute::cast(array, Utf8)` gives it.
pub fn to_text(array: &ArrayRef) -> Result<StringArray, ArrowError> {
    let written = match array.data_type() {
        DataType::Date32 => dates(array.as_primitive::<Date32Type>()),
        DataType::Decimal128(_, scale) if *scale > 0 => Some(decimals(
            array.as_primitive::<Decimal128Type>(),
            *scale as u32,
        )),
        _ => None,
    };
    match written {
        Some(text) => Ok(text),
        None => Ok(cast(array, &DataType::Utf8)?.as_string::<i32>().clone()),
    }
}

/// `YYYY-MM-DD`; `None` (use Arrow's cast) when a year is outside 1..=9999.
fn dates(days: &Date32Array) -> Option<StringArray> {
    let mut out = StringBuilder::with_capacity(days.len(), days.len() * 10);
    for value in days.iter() {
        let Some(value) = value else {
            out.append_null();
            continue;
        };
        let (year, month, day) = civil_from_days(i64::from(value));
        if !(1..=9999).contains(&year) {
            return None;
        }
        let mut text = [b'-'; 10];
        two_digits(&mut text[0..2], (year / 100) as u32);
        two_digits(&mut text[2..4], (year % 100) as u32);
        two_digits(&mut text[5..7], month);
        two_digits(&mut text[8..10], day);
        out.append_value(std::str::from_utf8(&text).ok()?);
    }
    Some(out.finish())
}

pub(crate) fn two_digits(slot: &mut [u8], value: u32) {
    slot[0] = b'0' + (value / 10) as u8;
    slot[1] = b'0' + (value % 10) as u8;
}

/// `[-]int.frac` with exactly `scale` fraction digits (scale > 0).
fn decimals(values: &Decimal128Array, scale: u32) -> StringArray {
    let mut out = StringBuilder::with_capacity(values.len(), values.len() * 12);
    let mut text = Vec::with_capacity(48);
    for value in values.iter() {
        let Some(value) = value else {
            out.append_null();
            continue;
        };
        decimal_text(value, scale, &mut text);
        out.append_value(std::str::from_utf8(&text).expect("ASCII digits"));
    }
    out.finish()
}

/// One decimal's text as [`to_text`] writes it (`scale` > 0), into `text`.
pub fn decimal_text(value: i128, scale: u32, text: &mut Vec<u8>) {
    let mut digits = [0u8; 48];
    // Digits of |value|, least significant first, at least scale + 1 of them.
    let mut count = 0;
    match u64::try_from(value.unsigned_abs()) {
        // The usual case, in 64-bit arithmetic (128-bit division is a library call).
        Ok(mut magnitude) => {
            while magnitude > 0 || count <= scale as usize {
                digits[count] = b'0' + (magnitude % 10) as u8;
                magnitude /= 10;
                count += 1;
            }
        }
        Err(_) => {
            let mut magnitude = value.unsigned_abs();
            while magnitude > 0 || count <= scale as usize {
                digits[count] = b'0' + (magnitude % 10) as u8;
                magnitude /= 10;
                count += 1;
            }
        }
    }
    text.clear();
    if value < 0 {
        text.push(b'-');
    }
    for (position, digit) in digits[..count].iter().enumerate().rev() {
        text.push(*digit);
        if position == scale as usize {
            text.push(b'.');
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use proptest::prelude::*;

    use super::*;

    fn arrow_text(array: &ArrayRef) -> StringArray {
        cast(array, &DataType::Utf8)
            .expect("cast")
            .as_string::<i32>()
            .clone()
    }

    #[test]
    fn dates_and_decimals_read_as_arrow_reads_them() {
        let dates: ArrayRef = Arc::new(Date32Array::from(vec![
            Some(0),
            None,
            Some(-1),
            Some(19_723),
            Some(-719_162),
            Some(2_932_896),
            Some(11_016),
        ]));
        assert_eq!(to_text(&dates).unwrap(), arrow_text(&dates));
        let decimals: ArrayRef = Arc::new(
            Decimal128Array::from(vec![
                Some(0),
                Some(-5),
                Some(301_410),
                None,
                Some(-100),
                Some(7),
            ])
            .with_precision_and_scale(18, 2)
            .unwrap(),
        );
        let text = to_text(&decimals).unwrap();
        assert_eq!(text, arrow_text(&decimals));
        assert_eq!(text.value(2), "3014.10");
        assert_eq!(text.value(1), "-0.05");
        // Years past 9999 fall back to Arrow's own text.
        let far: ArrayRef = Arc::new(Date32Array::from(vec![Some(3_000_000), Some(1)]));
        assert_eq!(to_text(&far).unwrap(), arrow_text(&far));
    }

    proptest! {
        #[test]
        fn dates_match_arrow(days in proptest::collection::vec(proptest::option::of(-800_000i32..3_000_000), 0..50)) {
            let array: ArrayRef = Arc::new(Date32Array::from(days));
            prop_assert_eq!(to_text(&array).unwrap(), arrow_text(&array));
        }

        #[test]
        fn decimals_match_arrow(
            values in proptest::collection::vec(proptest::option::of(any::<i64>()), 0..50),
            scale in 1i8..=18,
            wide in any::<bool>(),
        ) {
            let values: Vec<Option<i128>> = values
                .into_iter()
                .map(|v| v.map(|v| if wide { i128::from(v) * 1_000_000_000_000_000_000 } else { i128::from(v) }))
                .collect();
            let array: ArrayRef = Arc::new(
                Decimal128Array::from(values).with_precision_and_scale(38, scale).unwrap(),
            );
            prop_assert_eq!(to_text(&array).unwrap(), arrow_text(&array));
        }
    }
}
