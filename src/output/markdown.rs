//! `report.md`: the whole release as one Markdown document, a section per report, with the
//! labels of the release's language ([`super::labels`]).

use std::io::Write;

use datafusion::arrow::datatypes::DataType;

use super::display::{self, Role};
use super::labels::{self, Lang};
use super::{Summary, Table};

/// Writes the Markdown report.
pub fn write(out: &mut impl Write, summary: &Summary, tables: &[Table]) -> anyhow::Result<()> {
    let lang = summary.lang;
    let texts = labels::texts(lang);
    let rows = |count: u64| format!("{} {}", display::thousands(count as f64, 0), texts.rows);
    let colon = texts.colon;
    writeln!(out, "# {}\n", escape(&summary.document_title()))?;
    writeln!(out, "- {}{colon}{}", texts.period, summary.period_text())?;
    writeln!(
        out,
        "- {}{colon}{}",
        texts.as_of,
        summary.as_of.format("%Y-%m-%d")
    )?;
    writeln!(out, "- {}{colon}{}", texts.rows_read, rows(summary.read))?;
    writeln!(
        out,
        "- {}{colon}{}",
        texts.rows_accepted,
        rows(summary.accepted)
    )?;
    writeln!(
        out,
        "- {}{colon}{} ({})",
        texts.rows_rejected,
        rows(summary.rejected),
        texts.rejects_hint
    )?;
    for input in summary.inputs {
        let name = std::path::Path::new(&input.path)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(&input.path);
        writeln!(
            out,
            "- {}{colon}`{name}` ({})",
            texts.sources,
            rows(input.rows)
        )?;
    }
    writeln!(out)?;
    for table in tables {
        write_table(out, table, lang)?;
    }
    if !summary.skipped.is_empty() {
        writeln!(out, "## {}\n", texts.skipped)?;
        for (name, reason) in summary.skipped {
            let reason = escape(&labels::note(lang, reason));
            writeln!(out, "- `{name}`{}{reason}", labels::texts(lang).colon)?;
        }
        writeln!(out)?;
    }
    writeln!(out, "## {}\n", texts.definitions)?;
    for (term, definition) in labels::glossary(lang) {
        writeln!(out, "- **{term}**{}{definition}", texts.colon)?;
    }
    Ok(())
}

fn write_table(out: &mut impl Write, table: &Table, lang: Lang) -> anyhow::Result<()> {
    let query = &table.query;
    writeln!(
        out,
        "## {}\n\n{}\n",
        escape(labels::title(lang, query)),
        escape(labels::description(lang, query))
    )?;
    let schema = table.batch.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let headers: Vec<String> = names
        .iter()
        .map(|n| escape(&labels::column(lang, n)))
        .collect();
    writeln!(out, "| {} |", headers.join(" | "))?;
    let align: Vec<&str> = names
        .iter()
        .map(|n| match display::role(query, n) {
            Role::Dimension => "---",
            _ => "---:",
        })
        .collect();
    writeln!(out, "|{}|", align.join("|"))?;
    for row in 0..table.batch.num_rows() {
        let cells: Vec<String> = table
            .batch
            .columns()
            .iter()
            .zip(&names)
            .map(|(column, name)| {
                let role = display::role(query, name);
                let text = display::cell(column, row, role);
                let label = role == Role::Dimension || column.data_type() == &DataType::Boolean;
                if label && !column.is_null(row) {
                    escape(&labels::category(lang, name, &text))
                } else {
                    escape(&text)
                }
            })
            .collect();
        writeln!(out, "| {} |", cells.join(" | "))?;
    }
    writeln!(out)?;
    let has_missing = table.batch.columns().iter().any(|c| c.null_count() > 0);
    if has_missing {
        writeln!(out, "> - {}", labels::texts(lang).missing_legend)?;
    }
    for note in &table.notes {
        writeln!(out, "> - {}", escape(&labels::note(lang, note)))?;
    }
    if has_missing || !table.notes.is_empty() {
        writeln!(out)?;
    }
    Ok(())
}

/// Keeps text text: table pipes are escaped, and so is HTML, which Markdown would pass through.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{region_table, summary};
    use super::*;

    fn render(lang: Lang, label: &str) -> String {
        let mut out = Vec::new();
        write(&mut out, &summary(lang, 0), &[region_table(label)]).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn chinese_labels_and_escaped_markup() {
        let text = render(Lang::Zh, "<b>x|y</b>");
        assert!(text.starts_with("# 纠纷案件统计\n"));
        assert!(text.contains("| 地区 | 案件数 | 已结案数 |"), "{text}");
        assert!(text.contains("| 上海 | 120 |"));
        assert!(text.contains("| &lt;b&gt;x\\|y&lt;/b&gt; | 80 |"), "{text}");
        assert!(text.contains("> - 案件数少于 10 的单元格不予公布"));
        assert!(text.contains("- 数据截止日期：2024-06-30"));
        let english = render(Lang::En, "hangzhou");
        assert!(english.contains("| Region | Cases |") && english.contains("| Hangzhou |"));
        assert!(english.contains("## Cases by &lt;region&gt;"));
    }
}
