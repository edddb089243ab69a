//! `report.md`: the whole release as one Markdown document, a section per report.

use std::io::Write;

use super::Table;
use super::display::{self, Role};

/// What the document says about the run.
pub struct Summary<'a> {
    /// Release name (period or `all`).
    pub release: &'a str,
    /// As-of date, `YYYY-MM-DD`.
    pub as_of: &'a str,
    /// Data rows read.
    pub read: u64,
    /// Rows accepted.
    pub accepted: u64,
    /// Rows rejected.
    pub rejected: u64,
    /// Reports skipped, with the reason.
    pub skipped: &'a [(String, String)],
}

/// Writes the Markdown report.
pub fn write(out: &mut impl Write, summary: &Summary, tables: &[Table]) -> anyhow::Result<()> {
    writeln!(out, "# Dispute statistics — {}\n", summary.release)?;
    writeln!(
        out,
        "As of {}. Rows read: {}; accepted: {}; rejected: {}.\n",
        summary.as_of, summary.read, summary.accepted, summary.rejected
    )?;
    for table in tables {
        write_table(out, table)?;
    }
    if !summary.skipped.is_empty() {
        writeln!(out, "## Reports not produced\n")?;
        for (name, reason) in summary.skipped {
            writeln!(out, "- `{name}`: {reason}")?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn write_table(out: &mut impl Write, table: &Table) -> anyhow::Result<()> {
    let query = &table.query;
    writeln!(out, "## {}\n\n{}\n", query.title, query.description)?;
    let schema = table.batch.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    writeln!(out, "| {} |", names.join(" | "))?;
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
            .map(|(column, name)| escape(&display::cell(column, row, display::role(query, name))))
            .collect();
        writeln!(out, "| {} |", cells.join(" | "))?;
    }
    writeln!(out)?;
    for note in &table.notes {
        writeln!(out, "> {note}")?;
    }
    if !table.notes.is_empty() {
        writeln!(out)?;
    }
    Ok(())
}

fn escape(text: &str) -> String {
    text.replace('|', "\\|")
}
