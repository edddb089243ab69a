//! `index.html`: the release as one self-contained page people open from a USB stick or an
//! e-mail attachment. Inline CSS and inline SVG only: no script, no font, image or style
//! from anywhere else, so opening it makes no request. Every text is escaped (a category
//! label can never become markup), numbers are printed with fixed precision, and a print
//! stylesheet makes "print to PDF" a clean document.
//!
//! Layout: title and run facts, contents, headline figures from the `overview` table, one
//! section per report (description, chart, the chart's data table, footnotes, CSV link), the
//! reports not produced, and the metric definitions.

use std::io::Write;
use std::path::Path;

use datafusion::arrow::datatypes::DataType;

use super::display::{self, MISSING, Role};
use super::labels::{self, Lang, Texts};
use super::{Summary, Table, charts};

/// Writes the page.
pub fn write(out: &mut impl Write, summary: &Summary, tables: &[Table]) -> anyhow::Result<()> {
    let page = render(summary, tables);
    out.write_all(page.as_bytes())?;
    Ok(())
}

/// The page as a string.
pub fn render(summary: &Summary, tables: &[Table]) -> String {
    let lang = summary.lang;
    let texts = labels::texts(lang);
    let mut page = String::new();
    page.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"generator\" content=\"dispute-stats {}\">\n<title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<main>\n",
        lang.tag(),
        env!("CARGO_PKG_VERSION"),
        escape(&summary.document_title()),
    ));
    header(&mut page, summary, texts);
    contents(&mut page, summary, tables, texts);
    if let Some(overview) = tables.iter().find(|t| t.query.name == "overview") {
        headline(&mut page, overview, tables, lang);
    }
    for table in tables {
        section(&mut page, table, lang);
    }
    if !summary.skipped.is_empty() {
        page.push_str(&format!(
            "<section id=\"skipped\">\n<h2>{}</h2>\n<ul>\n",
            escape(texts.skipped)
        ));
        for (name, reason) in summary.skipped {
            page.push_str(&format!(
                "<li><code>{}</code>{}{}</li>\n",
                escape(name),
                texts.colon,
                with_code(&labels::note(lang, reason))
            ));
        }
        page.push_str("</ul>\n</section>\n");
    }
    definitions(&mut page, lang, texts);
    page.push_str(&format!(
        "</main>\n<footer>\n<p>{}</p>\n</footer>\n</body>\n</html>\n",
        escape(&texts.produced_by.replace("{}", env!("CARGO_PKG_VERSION")))
    ));
    page
}

fn header(page: &mut String, summary: &Summary, texts: &Texts) {
    let release = match summary.period {
        Some(period) => format!(" <span class=\"release\">{}</span>", escape(&period.label)),
        None => String::new(),
    };
    page.push_str(&format!(
        "<header>\n<h1>{}{release}</h1>\n<dl class=\"facts\">\n",
        escape(texts.title),
    ));
    let rows = |count: u64| format!("{} {}", display::thousands(count as f64, 0), texts.rows);
    let facts = [
        (texts.period, summary.period_text()),
        (texts.as_of, summary.as_of.format("%Y-%m-%d").to_string()),
        (texts.rows_read, rows(summary.read)),
        (texts.rows_accepted, rows(summary.accepted)),
        (
            texts.rows_rejected,
            format!("{} ({})", rows(summary.rejected), texts.rejects_hint),
        ),
    ];
    for (term, value) in facts {
        page.push_str(&format!(
            "<dt>{}</dt><dd>{}</dd>\n",
            escape(term),
            escape(&value)
        ));
    }
    page.push_str(&format!(
        "<dt>{}</dt><dd><ul class=\"sources\">\n",
        escape(texts.sources)
    ));
    for input in summary.inputs {
        let name = Path::new(&input.path)
            .file_name()
            .map_or(input.path.as_str(), |n| n.to_str().unwrap_or_default());
        page.push_str(&format!(
            "<li><code>{}</code>: {}</li>\n",
            escape(name),
            escape(&rows(input.rows))
        ));
    }
    page.push_str("</ul></dd>\n</dl>\n</header>\n");
}

fn contents(page: &mut String, summary: &Summary, tables: &[Table], texts: &Texts) {
    let lang = summary.lang;
    page.push_str(&format!(
        "<nav aria-labelledby=\"contents\">\n<h2 id=\"contents\">{}</h2>\n<ol>\n",
        escape(texts.contents)
    ));
    if tables.iter().any(|t| t.query.name == "overview") {
        page.push_str(&format!(
            "<li><a href=\"#headline\">{}</a></li>\n",
            escape(texts.headline)
        ));
    }
    for table in tables {
        page.push_str(&format!(
            "<li><a href=\"#report-{}\">{}</a></li>\n",
            escape(&table.query.name),
            escape(labels::title(lang, &table.query))
        ));
    }
    if !summary.skipped.is_empty() {
        page.push_str(&format!(
            "<li><a href=\"#skipped\">{}</a></li>\n",
            escape(texts.skipped)
        ));
    }
    page.push_str(&format!(
        "<li><a href=\"#definitions\">{}</a></li>\n</ol>\n</nav>\n",
        escape(texts.definitions)
    ));
}

/// Columns of a one-row table (`overview` first) that the headline shows as the median time to
/// resolution, with `<column>_low` / `<column>_high` as its interval when present.
pub const MEDIAN_COLUMNS: &[&str] = &["median_days", "median_days_to_resolution", "km_median_days"];

/// The first cell of a column, formatted for people.
fn first_cell(table: &Table, name: &str) -> Option<String> {
    let array = table.batch.column_by_name(name)?;
    let role = display::role(&table.query, name);
    (table.batch.num_rows() > 0).then(|| display::cell(array, 0, role))
}

/// "95% CI low–high" from a table's `<name>_low` / `<name>_high`.
fn interval(table: &Table, name: &str, unit: &str, lang: Lang) -> Option<String> {
    let (low, high) = [("_low", "_high"), ("_ci_low", "_ci_high")]
        .iter()
        .find_map(|(low, high)| {
            let low = first_cell(table, &format!("{name}{low}"))?;
            Some((low, first_cell(table, &format!("{name}{high}"))?))
        })?;
    if low == MISSING || high == MISSING {
        return None;
    }
    Some(format!(
        "{} {low}–{high}{unit}",
        labels::texts(lang).interval
    ))
}

/// The median column of a table, if it has one.
fn median_column(table: &Table) -> Option<&'static str> {
    MEDIAN_COLUMNS
        .iter()
        .copied()
        .find(|name| table.batch.column_by_name(name).is_some())
}

/// The headline block: the first row of `overview`, and the median time to resolution from
/// `overview` or else the first one-row table that has one.
fn headline(page: &mut String, overview: &Table, tables: &[Table], lang: Lang) {
    let texts = labels::texts(lang);
    if overview.batch.num_rows() == 0 {
        return;
    }
    let cell = |name: &str| first_cell(overview, name);
    let mut cards: Vec<(String, String, Option<String>)> = Vec::new();
    for name in ["cases", "resolved"] {
        if let Some(value) = cell(name) {
            cards.push((labels::column(lang, name), value, None));
        }
    }
    if let Some(value) = cell("settlement_rate") {
        let detail = interval(overview, "settlement_rate", "", lang);
        cards.push((labels::column(lang, "settlement_rate"), value, detail));
    }
    let one_row = tables
        .iter()
        .filter(|t| t.query.dimensions.is_empty() && t.batch.num_rows() == 1);
    let median = std::iter::once(overview)
        .chain(one_row)
        .find_map(|t| Some((t, median_column(t)?)));
    if let Some((table, name)) = median {
        let value = first_cell(table, name).unwrap_or_default();
        let unit = format!(" {}", texts.days);
        let reached = first_cell(table, "median_reached").is_none_or(|r| r != "false");
        let shown = if !reached {
            texts.not_reached.to_string()
        } else if value == MISSING {
            value
        } else {
            format!("{value}{unit}")
        };
        let detail = interval(table, name, &unit, lang);
        cards.push((texts.median_time.to_string(), shown, detail));
    }
    if let Some(value) = cell("recovery_rate") {
        cards.push((labels::column(lang, "recovery_rate"), value, None));
    }
    page.push_str(&format!(
        "<section id=\"headline\">\n<h2>{}</h2>\n<div class=\"cards\">\n",
        escape(texts.headline)
    ));
    for (label, value, detail) in cards {
        page.push_str(&format!(
            "<div class=\"card\"><div class=\"label\">{}</div><div class=\"value\">{}</div>",
            escape(&label),
            escape(&value)
        ));
        if let Some(detail) = detail {
            page.push_str(&format!("<div class=\"detail\">{}</div>", escape(&detail)));
        }
        page.push_str("</div>\n");
    }
    page.push_str("</div>\n</section>\n");
}

fn section(page: &mut String, table: &Table, lang: Lang) {
    let texts = labels::texts(lang);
    let query = &table.query;
    let name = escape(&query.name);
    let title = labels::title(lang, query);
    page.push_str(&format!(
        "<section class=\"report\" id=\"report-{name}\">\n<h2>{}</h2>\n<p class=\"description\">{}</p>\n",
        escape(title),
        escape(labels::description(lang, query))
    ));
    let table_id = format!("table-{}", query.name);
    for (index, chart) in query.chart.iter().enumerate() {
        let id = format!("chart-{}-{}", query.name, index + 1);
        let rendered = charts::render(chart, table, lang, &id, &table_id);
        page.push_str("<figure class=\"chart-figure\">\n");
        page.push_str(&rendered.svg);
        page.push('\n');
        if let Some(note) = rendered.note {
            page.push_str(&format!("<figcaption>{}</figcaption>\n", escape(note)));
        }
        page.push_str("</figure>\n");
    }
    data_table(page, table, lang, &table_id);
    let has_missing = table.batch.columns().iter().any(|c| c.null_count() > 0);
    if has_missing || !table.notes.is_empty() {
        page.push_str("<ul class=\"notes\">\n");
        if has_missing {
            page.push_str(&format!("<li>{}</li>\n", escape(texts.missing_legend)));
        }
        for note in &table.notes {
            page.push_str(&format!(
                "<li>{}</li>\n",
                with_code(&labels::note(lang, note))
            ));
        }
        page.push_str("</ul>\n");
    }
    page.push_str(&format!(
        "<p class=\"download\"><a href=\"tables/{name}.csv\" download>{}</a> <code>tables/{name}.csv</code></p>\n</section>\n",
        escape(texts.download_csv)
    ));
}

/// Tables longer than this (a Kaplan–Meier curve has a row per event day) are folded into a
/// `<details>` element: still in the page for screen readers, not in the way of readers.
const LONG_TABLE: usize = 40;

fn data_table(page: &mut String, table: &Table, lang: Lang, id: &str) {
    let query = &table.query;
    let schema = table.batch.schema();
    let roles: Vec<Role> = schema
        .fields()
        .iter()
        .map(|f| display::role(query, f.name()))
        .collect();
    let texts = labels::texts(lang);
    let rows = table.batch.num_rows();
    let long = rows > LONG_TABLE;
    if long {
        page.push_str(&format!(
            "<details class=\"long-table\">\n<summary>{} ({} {})</summary>\n",
            escape(texts.show_table),
            display::thousands(rows as f64, 0),
            escape(texts.rows)
        ));
    }
    let class = if schema.fields().len() > 8 {
        " class=\"wide\""
    } else {
        ""
    };
    page.push_str(&format!(
        "<div class=\"table-wrap\">\n<table id=\"{}\"{class}>\n<caption>{}: {}</caption>\n<thead><tr>",
        escape(id),
        escape(texts.data_table),
        escape(labels::title(lang, query))
    ));
    for (field, role) in schema.fields().iter().zip(&roles) {
        let class = if *role == Role::Dimension {
            ""
        } else {
            " class=\"num\""
        };
        page.push_str(&format!(
            "<th scope=\"col\"{class}>{}</th>",
            escape(&labels::column(lang, field.name()))
        ));
    }
    page.push_str("</tr></thead>\n<tbody>\n");
    for row in 0..table.batch.num_rows() {
        page.push_str("<tr>");
        for ((field, column), role) in schema
            .fields()
            .iter()
            .zip(table.batch.columns())
            .zip(&roles)
        {
            let text = display::cell(column, row, *role);
            if column.is_null(row) {
                page.push_str(&format!(
                    "<td class=\"missing\" title=\"{}\">{MISSING}</td>",
                    escape(labels::texts(lang).missing_legend)
                ));
            } else if *role == Role::Dimension {
                let label = labels::category(lang, field.name(), &text);
                page.push_str(&format!("<th scope=\"row\">{}</th>", escape(&label)));
            } else if field.data_type() == &DataType::Boolean {
                let label = labels::category(lang, field.name(), &text);
                page.push_str(&format!("<td>{}</td>", escape(&label)));
            } else {
                page.push_str(&format!("<td class=\"num\">{}</td>", escape(&text)));
            }
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody>\n</table>\n</div>\n");
    if long {
        page.push_str("</details>\n");
    }
}

fn definitions(page: &mut String, lang: Lang, texts: &Texts) {
    page.push_str(&format!(
        "<section id=\"definitions\">\n<h2>{}</h2>\n<dl class=\"glossary\">\n",
        escape(texts.definitions)
    ));
    for (term, definition) in labels::glossary(lang) {
        page.push_str(&format!(
            "<dt>{}</dt>\n<dd>{}</dd>\n",
            escape(term),
            escape(definition)
        ));
    }
    page.push_str("</dl>\n</section>\n");
}

/// Escapes text and shows `backticked` names (columns, flags) as code.
fn with_code(text: &str) -> String {
    let mut out = String::new();
    for (index, piece) in escape(text).split('`').enumerate() {
        if index % 2 == 1 {
            out.push_str(&format!("<code>{piece}</code>"));
        } else {
            out.push_str(piece);
        }
    }
    out
}

/// Escapes text for HTML content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#":root { color-scheme: light; }
body { margin: 0; color: #222; background: #fff; line-height: 1.5;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans",
    "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif; }
main { max-width: 62rem; margin: 0 auto; padding: 1.5rem 1.25rem 2rem; }
footer { max-width: 62rem; margin: 0 auto; padding: 0 1.25rem 2rem; font-size: .85rem; color: #555; }
h1 { font-size: 1.9rem; margin: 0 0 .75rem; line-height: 1.2; }
h1 .release { color: #1f5fa8; white-space: nowrap; }
h2 { font-size: 1.35rem; margin: 2.25rem 0 .5rem; padding-bottom: .2rem; border-bottom: 2px solid #1f5fa8; }
nav h2 { font-size: 1.1rem; border-bottom: 1px solid #ccc; margin-top: 1.5rem; }
nav ol { columns: 2; column-gap: 2rem; margin: .25rem 0; }
a { color: #1f5fa8; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .9em; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1.25rem; margin: 0; }
.facts dt { font-weight: 600; }
.facts dd { margin: 0; }
.sources { margin: 0; padding: 0; list-style: none; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(10.5rem, 1fr)); gap: .75rem; }
.card { border: 1px solid #d0d7e2; border-left: 4px solid #1f5fa8; border-radius: 4px; padding: .6rem .9rem; background: #f6f8fb; }
.card .label { font-size: .9rem; color: #444; }
.card .value { font-size: 1.6rem; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .detail { font-size: .85rem; color: #555; }
.description { margin: .25rem 0 .75rem; color: #333; }
figure { margin: 1rem 0; }
figcaption { font-size: .85rem; color: #555; }
svg.chart { display: block; width: 100%; height: auto; }
svg.chart text { fill: #222; font-size: 12px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: .875rem; font-variant-numeric: tabular-nums; margin: .5rem 0; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { padding: .3rem .5rem; border-bottom: 1px solid #e3e3e3; text-align: left; vertical-align: top; }
thead th { background: #eef2f7; border-bottom: 2px solid #555; font-weight: 600; vertical-align: bottom;
  min-width: 4.5em; max-width: 9em; }
tbody th { font-weight: 500; white-space: nowrap; }
table.wide { font-size: .8rem; }
table.wide th, table.wide td { padding: .25rem .4rem; }
details.long-table > summary { cursor: pointer; color: #1f5fa8; margin: .5rem 0; }
.num { text-align: right; }
td.num { white-space: nowrap; }
td.missing { text-align: center; color: #555; background: repeating-linear-gradient(135deg, #f4f4f4 0 4px, #e4e4e4 4px 8px); }
.notes { font-size: .85rem; color: #444; padding-left: 1.25rem; }
.download { font-size: .85rem; }
.download code { color: #666; }
.glossary dt { font-weight: 600; margin-top: .6rem; }
.glossary dd { margin: .1rem 0 0; }
@media print {
  @page { margin: 15mm 12mm; }
  body { font-size: 10pt; }
  main, footer { max-width: none; padding: 0; }
  nav, .download, details.long-table { display: none; }
  a { color: inherit; text-decoration: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  figure, .card, tr, .glossary dd { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  .table-wrap { overflow: visible; }
  .cards { grid-template-columns: repeat(3, 1fr); }
  .card, thead th { background: none; }
  td.missing { background: none; }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert(\"x\")</script> & 'y'"),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(escape("上海"), "上海");
        assert_eq!(
            with_code("run with `--period`"),
            "run with <code>--period</code>"
        );
        assert_eq!(with_code("a `<b>`"), "a <code>&lt;b&gt;</code>");
    }

    #[test]
    fn labels_titles_and_notes_cannot_inject_markup() {
        let evil = "<img src=x onerror=alert(1)>\"'&";
        let mut table = super::super::fixtures::region_table(evil);
        table.notes.push(format!("note {evil}"));
        table.query.description = format!("about {evil}");
        for lang in [Lang::En, Lang::Zh] {
            let page = render(
                &super::super::fixtures::summary(lang, 0),
                std::slice::from_ref(&table),
            );
            assert!(!page.contains("<img"), "{page}");
            assert!(!page.contains("onerror=alert(1)>"));
            assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;"));
            assert!(page.contains("Cases by &lt;region&gt;") || page.contains("按地区"));
        }
    }

    #[test]
    fn suppressed_cells_are_marked_and_explained() {
        let table = super::super::fixtures::region_table("hangzhou");
        let page = render(&super::super::fixtures::summary(Lang::Zh, 0), &[table]);
        assert_eq!(page.matches("<td class=\"missing\"").count(), 6);
        assert!(page.contains("不予公布"));
        assert!(page.contains("案件数少于 10 的单元格不予公布"));
        assert!(page.contains("<th scope=\"row\">上海</th>"));
        assert!(page.contains("href=\"tables/by_region.csv\""));
        assert_eq!(page.matches("<svg").count(), 1);
    }
}
