//! `workbook.xlsx`: a first sheet with the release summary, contents and definitions, then one
//! sheet per table. Numbers stay numbers (with percentage, thousands and date formats), the
//! header row is styled and frozen, suppressed cells hold the marker `–` and are footnoted.
//!
//! The bytes depend only on the release: rust_xlsxwriter stamps zip entries with a fixed
//! date, and the one clock it reads (the document creation time in `docProps/core.xml`) is
//! set from [`Summary::timestamp`] (`SOURCE_DATE_EPOCH` or the as-of date).

use std::io::Write;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Date32Type};
use rust_xlsxwriter::{
    DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet,
};

use super::display::{self, MISSING, Role};
use super::labels::{self, Lang};
use super::{Summary, Table};

/// Zero-based row of the column headers on a table sheet (title and description above).
pub const HEADER_ROW: u32 = 3;
/// Longest sheet name Excel accepts.
const SHEET_NAME_MAX: usize = 31;

/// Writes the workbook.
pub fn write(out: &mut impl Write, summary: &Summary, tables: &[Table]) -> anyhow::Result<()> {
    let mut workbook = build(summary, tables)?;
    out.write_all(&workbook.save_to_buffer()?)?;
    Ok(())
}

/// Sheet names: the summary sheet, then one per table (the report name), each at most 31
/// characters and unique regardless of case, as Excel requires.
pub fn sheet_names(lang: Lang, tables: &[Table]) -> Vec<String> {
    let mut names: Vec<String> = vec![labels::texts(lang).summary_sheet.to_string()];
    for table in tables {
        let clean: String = table
            .query
            .name
            .chars()
            .map(|c| if "[]:*?/\\'".contains(c) { '_' } else { c })
            .collect();
        let mut candidate = truncate(&clean, SHEET_NAME_MAX);
        let mut counter = 2;
        while names
            .iter()
            .any(|n| n.to_lowercase() == candidate.to_lowercase())
        {
            let suffix = format!("~{counter}");
            candidate = format!(
                "{}{suffix}",
                truncate(&clean, SHEET_NAME_MAX - suffix.len())
            );
            counter += 1;
        }
        names.push(candidate);
    }
    names
}

/// The first `max` UTF-16 units of `text` (Excel counts sheet names in UTF-16).
fn truncate(text: &str, max: usize) -> String {
    let mut used = 0;
    text.chars()
        .take_while(|c| {
            used += c.len_utf16();
            used <= max
        })
        .collect()
}

/// The formats of the workbook.
struct Styles {
    title: Format,
    heading: Format,
    header: Format,
    text: Format,
    wrap: Format,
    note: Format,
    missing: Format,
    date: Format,
    rate: Format,
    count: Format,
    amount: Format,
    decimal: Format,
}

impl Styles {
    fn new() -> Styles {
        let number = |pattern: &str| Format::new().set_num_format(pattern);
        Styles {
            title: Format::new().set_bold().set_font_size(14),
            heading: Format::new().set_bold().set_font_size(12),
            header: Format::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Bottom)
                .set_background_color("#DCE6F1")
                .set_border_bottom(FormatBorder::Medium),
            text: Format::new(),
            wrap: Format::new().set_text_wrap().set_align(FormatAlign::Top),
            note: Format::new().set_italic().set_font_color("#444444"),
            missing: Format::new()
                .set_align(FormatAlign::Center)
                .set_font_color("#666666")
                .set_background_color("#EFEFEF"),
            date: number("yyyy-mm-dd"),
            rate: number("0.0%"),
            count: number("#,##0"),
            amount: number("#,##0.00"),
            decimal: number("#,##0.0"),
        }
    }
}

fn build(summary: &Summary, tables: &[Table]) -> anyhow::Result<Workbook> {
    let lang = summary.lang;
    let mut workbook = Workbook::new();
    let created = ExcelDateTime::from_timestamp(summary.timestamp)?;
    workbook.set_properties(
        &DocProperties::new()
            .set_title(summary.document_title())
            .set_author("dispute-stats")
            .set_creation_datetime(&created),
    );
    let styles = Styles::new();
    let names = sheet_names(lang, tables);
    let sheet = workbook.add_worksheet();
    sheet.set_name(&names[0])?;
    summary_sheet(sheet, summary, tables, &names, &styles)?;
    for (table, name) in tables.iter().zip(&names[1..]) {
        let sheet = workbook.add_worksheet();
        sheet.set_name(name)?;
        table_sheet(sheet, table, lang, &styles)?;
    }
    Ok(workbook)
}

fn summary_sheet(
    sheet: &mut Worksheet,
    summary: &Summary,
    tables: &[Table],
    names: &[String],
    styles: &Styles,
) -> anyhow::Result<()> {
    let lang = summary.lang;
    let texts = labels::texts(lang);
    sheet.set_column_width(0, 30)?;
    sheet.set_column_width(1, 36)?;
    sheet.set_column_width(2, 70)?;
    sheet.set_column_width(3, 26)?;
    sheet.write_string_with_format(0, 0, summary.document_title(), &styles.title)?;
    sheet.write_string_with_format(2, 0, texts.release_summary, &styles.heading)?;
    let mut row = 3;
    sheet.write_string(row, 0, texts.period)?;
    sheet.write_string(row, 1, summary.period_text())?;
    row += 1;
    sheet.write_string(row, 0, texts.as_of)?;
    let as_of = summary.as_of;
    let date = ExcelDateTime::from_ymd(
        u16::try_from(chrono::Datelike::year(&as_of))?,
        chrono::Datelike::month(&as_of) as u8,
        chrono::Datelike::day(&as_of) as u8,
    )?;
    sheet.write_datetime_with_format(
        row,
        1,
        &date,
        &styles.date.clone().set_align(FormatAlign::Left),
    )?;
    for (label, count) in [
        (texts.rows_read, summary.read),
        (texts.rows_accepted, summary.accepted),
        (texts.rows_rejected, summary.rejected),
    ] {
        row += 1;
        sheet.write_string(row, 0, label)?;
        sheet.write_number_with_format(
            row,
            1,
            count as f64,
            &styles.count.clone().set_align(FormatAlign::Left),
        )?;
    }
    sheet.write_string_with_format(row, 2, texts.rejects_hint, &styles.note)?;
    for (index, input) in summary.inputs.iter().enumerate() {
        row += 1;
        if index == 0 {
            sheet.write_string(row, 0, texts.sources)?;
        }
        let name = std::path::Path::new(&input.path)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(&input.path);
        sheet.write_string(row, 1, name)?;
        sheet.write_string(
            row,
            2,
            format!(
                "{} {}",
                display::thousands(input.rows as f64, 0),
                texts.rows
            ),
        )?;
    }
    row += 2;
    sheet.write_string_with_format(row, 0, texts.contents, &styles.heading)?;
    row += 1;
    for (col, header) in texts.contents_columns.iter().enumerate() {
        sheet.write_string_with_format(row, col as u16, *header, &styles.header)?;
    }
    for (table, name) in tables.iter().zip(&names[1..]) {
        row += 1;
        sheet.write_url_with_text(row, 0, format!("internal:'{name}'!A1").as_str(), name)?;
        sheet.write_string_with_format(row, 1, labels::title(lang, &table.query), &styles.wrap)?;
        sheet.write_string_with_format(
            row,
            2,
            labels::description(lang, &table.query),
            &styles.wrap,
        )?;
        sheet.write_string_with_format(
            row,
            3,
            format!("tables/{}.csv", table.query.name),
            &styles.wrap,
        )?;
    }
    if !summary.skipped.is_empty() {
        row += 2;
        sheet.write_string_with_format(row, 0, texts.skipped, &styles.heading)?;
        for (name, reason) in summary.skipped {
            row += 1;
            sheet.write_string(row, 0, name)?;
            sheet.write_string(row, 1, labels::note(lang, reason))?;
        }
    }
    row += 2;
    sheet.write_string_with_format(row, 0, texts.definitions, &styles.heading)?;
    row += 1;
    sheet.write_string_with_format(row, 0, texts.definition_columns[0], &styles.header)?;
    sheet.merge_range(row, 1, row, 2, texts.definition_columns[1], &styles.header)?;
    for (term, definition) in labels::glossary(lang) {
        row += 1;
        sheet.write_string_with_format(row, 0, term, &styles.wrap)?;
        sheet.merge_range(row, 1, row, 2, definition, &styles.wrap)?;
        // Excel does not grow merged rows to fit wrapped text: size the row from the text.
        let lines = (text_width(definition) / 100.0).ceil().max(1.0);
        sheet.set_row_height(row, 15.0 * lines + 3.0)?;
    }
    row += 2;
    sheet.write_string_with_format(row, 0, texts.missing_legend, &styles.note)?;
    sheet.set_active(true);
    Ok(())
}

fn table_sheet(
    sheet: &mut Worksheet,
    table: &Table,
    lang: Lang,
    styles: &Styles,
) -> anyhow::Result<()> {
    let texts = labels::texts(lang);
    let query = &table.query;
    let batch = &table.batch;
    let schema = batch.schema();
    sheet.write_string_with_format(0, 0, labels::title(lang, query), &styles.title)?;
    sheet.write_string(1, 0, labels::description(lang, query))?;
    let first = HEADER_ROW + 1;
    for (col, (field, column)) in schema.fields().iter().zip(batch.columns()).enumerate() {
        let col = u16::try_from(col)?;
        let role = display::role(query, field.name());
        let header = labels::column(lang, field.name());
        sheet.write_string_with_format(HEADER_ROW, col, &header, &styles.header)?;
        let mut width = text_width(&header).min(18.0);
        for row in 0..batch.num_rows() {
            let at = first + u32::try_from(row)?;
            let shown = write_cell(
                sheet,
                at,
                col,
                column,
                row,
                role,
                field.name(),
                lang,
                styles,
            )?;
            width = width.max(text_width(&shown));
        }
        sheet.set_column_width(col, (width + 2.0).clamp(8.0, 48.0))?;
    }
    let last_row = HEADER_ROW + u32::try_from(batch.num_rows())?;
    let last_col = u16::try_from(schema.fields().len().max(1) - 1)?;
    sheet.set_freeze_panes(first, 0)?;
    if batch.num_rows() > 0 {
        sheet.autofilter(HEADER_ROW, 0, last_row, last_col)?;
    }
    let mut row = last_row + 2;
    if batch.columns().iter().any(|c| c.null_count() > 0) {
        sheet.write_string_with_format(row, 0, texts.missing_legend, &styles.note)?;
        row += 1;
    }
    for note in &table.notes {
        sheet.write_string_with_format(row, 0, labels::note(lang, note), &styles.note)?;
        row += 1;
    }
    sheet.write_string_with_format(row, 0, format!("tables/{}.csv", query.name), &styles.note)?;
    Ok(())
}

/// Writes one cell and returns the text it shows (for the column width).
#[allow(clippy::too_many_arguments)]
fn write_cell(
    sheet: &mut Worksheet,
    at: u32,
    col: u16,
    column: &ArrayRef,
    row: usize,
    role: Role,
    name: &str,
    lang: Lang,
    styles: &Styles,
) -> anyhow::Result<String> {
    if column.is_null(row) {
        sheet.write_string_with_format(at, col, MISSING, &styles.missing)?;
        return Ok(MISSING.to_string());
    }
    let shown = display::cell(column, row, role);
    match column.data_type() {
        DataType::Date32 => {
            let days = column.as_primitive::<Date32Type>().value(row);
            let date = ExcelDateTime::from_timestamp(i64::from(days) * 86_400)?;
            sheet.write_datetime_with_format(at, col, &date, &styles.date)?;
            return Ok("2024-01-01".into());
        }
        DataType::Boolean => {
            let value = column.as_boolean().value(row);
            let label = labels::category(lang, name, if value { "true" } else { "false" });
            sheet.write_string(at, col, label.as_ref())?;
            return Ok(label.into_owned());
        }
        _ => {}
    }
    if let Some(value) = display::number_at(column, row).filter(|v| v.is_finite()) {
        let format = match role {
            Role::Rate => &styles.rate,
            Role::Count => &styles.count,
            Role::Amount => &styles.amount,
            Role::Statistic if is_integer(column.data_type()) => &styles.count,
            Role::Statistic => &styles.decimal,
            Role::Dimension => &styles.text,
        };
        sheet.write_number_with_format(at, col, value, format)?;
        return Ok(shown);
    }
    let text = if role == Role::Dimension {
        labels::category(lang, name, &shown).into_owned()
    } else {
        shown
    };
    sheet.write_string(at, col, &text)?;
    Ok(text)
}

fn is_integer(data_type: &DataType) -> bool {
    data_type.is_integer()
}

/// Width of a text in Excel character units (CJK characters take two).
fn text_width(text: &str) -> f64 {
    text.chars()
        .map(|c| if c.is_ascii() { 1.0 } else { 2.0 })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_counts_utf16_units() {
        assert_eq!(truncate("abc", 2), "ab");
        assert_eq!(truncate("上海上海", 3), "上海上");
        assert_eq!(truncate("a😀b", 2), "a");
    }

    fn bytes(lang: Lang, timestamp: i64) -> Vec<u8> {
        let tables = [super::super::fixtures::region_table("hangzhou")];
        let mut out = Vec::new();
        write(
            &mut out,
            &super::super::fixtures::summary(lang, timestamp),
            &tables,
        )
        .unwrap();
        out
    }

    #[test]
    fn bytes_depend_on_the_release_time_only() {
        let first = bytes(Lang::Zh, 1_719_705_600);
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert!(
            first == bytes(Lang::Zh, 1_719_705_600),
            "same release, same bytes"
        );
        assert!(
            first != bytes(Lang::Zh, 1_700_000_000),
            "the document time comes from the release"
        );
    }

    #[test]
    fn sheet_names_are_short_and_unique() {
        let mut long = super::super::fixtures::region_table("x");
        long.query.name = "a_very_long_report_name_that_excel_refuses".into();
        let mut clash = long.clone();
        clash.query.name = "summary".into();
        let names = sheet_names(Lang::En, &[long.clone(), long, clash]);
        assert_eq!(names[0], "Summary");
        assert_eq!(names[1], "a_very_long_report_name_that_ex");
        assert_eq!(names[2], "a_very_long_report_name_that_~2");
        assert_eq!(names[3], "summary~2");
        assert!(names.iter().all(|n| n.encode_utf16().count() <= 31));
    }
}
