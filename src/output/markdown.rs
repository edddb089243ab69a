//! `report.md`: the whole release as one Markdown document, a section per report, with the
//! labels of the release's language ([`super::labels`]).

use std::io::Write;

use super::display::{self, Role};
use super::labels::{self, Lang};
use super::{Summary, Table};

/// Writes the Markdown report.
pub fn write(out: &mut impl Write, summary: &Summary, tables: &[Table]) -> anyhow::Result<()> {
    let lang = summary.lang;
    let texts = labels::texts(lang);
    let rows = |count: u64| format!("{} {}", display::thousands(count as f64, 0), texts.rows);
    writeln!(out, "# {}\n", summary.document_title())?;
    writeln!(out, "- {}: {}", texts.period, summary.period_text())?;
    writeln!(
        out,
        "- {}: {}",
        texts.as_of,
        summary.as_of.format("%Y-%m-%d")
    )?;
    writeln!(out, "- {}: {}", texts.rows_read, rows(summary.read))?;
    writeln!(out, "- {}: {}", texts.rows_accepted, rows(summary.accepted))?;
    writeln!(
        out,
        "- {}: {} ({})\n",
        texts.rows_rejected,
        rows(summary.rejected),
        texts.rejects_hint
    )?;
    for table in tables {
        write_table(out, table, lang)?;
    }
    if !summary.skipped.is_empty() {
        writeln!(out, "## {}\n", texts.skipped)?;
        for (name, reason) in summary.skipped {
            writeln!(out, "- `{name}`: {}", labels::note(lang, reason))?;
        }
        writeln!(out)?;
    }
    writeln!(out, "## {}\n", texts.definitions)?;
    for (term, definition) in labels::glossary(lang) {
        writeln!(out, "- **{term}**: {definition}")?;
    }
    Ok(())
}

fn write_table(out: &mut impl Write, table: &Table, lang: Lang) -> anyhow::Result<()> {
    let query = &table.query;
    writeln!(
        out,
        "## {}\n\n{}\n",
        labels::title(lang, query),
        labels::description(lang, query)
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
                if role == Role::Dimension && !column.is_null(row) {
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
        writeln!(out, "> - {}", labels::note(lang, note))?;
    }
    if has_missing || !table.notes.is_empty() {
        writeln!(out)?;
    }
    Ok(())
}

fn escape(text: &str) -> String {
    text.replace('|', "\\|")
}
