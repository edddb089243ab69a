//! Chunks of source rows, as the reader hands them to the validating workers: consecutive rows
//! of one input with their line numbers, stored compactly (one text buffer per chunk).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, DictionaryArray, StringArray};
use datafusion::arrow::datatypes::Int32Type;

use super::validate::Cells;

/// Marks a cell that has no value (an absent or null NDJSON field) in [`Records::ends`].
const MISSING: u64 = 1 << 63;

/// Rows split into text cells (CSV records, NDJSON objects).
#[derive(Debug, Default)]
pub struct Records {
    /// Every cell of every row, one after the other.
    text: String,
    /// End of each cell in `text`, with [`MISSING`] set for a cell without a value.
    ends: Vec<u64>,
    /// One entry per row.
    rows: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    line: u64,
    /// End of the row's cells in `ends`; they start where the previous row's end.
    cells_end: usize,
    /// The rule a row breaks when it could not be split into cells.
    unreadable: Option<&'static str>,
}

impl Records {
    /// Room for `rows` rows.
    pub fn with_capacity(rows: usize) -> Records {
        Records {
            text: String::new(),
            ends: Vec::new(),
            rows: Vec::with_capacity(rows.min(1 << 16)),
        }
    }

    /// Takes the rows out, leaving an empty chunk with room for as many again.
    pub fn take(&mut self) -> Records {
        let empty = Records {
            text: String::with_capacity(self.text.len()),
            ends: Vec::with_capacity(self.ends.len()),
            rows: Vec::with_capacity(self.rows.len()),
        };
        std::mem::replace(self, empty)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there is no row.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Adds a row of cells (`None`: the cell has no value).
    pub fn push<'c>(&mut self, line: u64, cells: impl IntoIterator<Item = Option<&'c str>>) {
        for cell in cells {
            match cell {
                Some(text) => {
                    self.text.push_str(text);
                    self.ends.push(self.text.len() as u64);
                }
                None => self.ends.push(self.text.len() as u64 | MISSING),
            }
        }
        self.rows.push(Entry {
            line,
            cells_end: self.ends.len(),
            unreadable: None,
        });
    }

    /// Adds a row that could not be split into cells, with the rule it breaks.
    pub fn push_unreadable(&mut self, line: u64, rule: &'static str) {
        self.rows.push(Entry {
            line,
            cells_end: self.ends.len(),
            unreadable: Some(rule),
        });
    }

    fn cells_start(&self, row: usize) -> usize {
        row.checked_sub(1)
            .map_or(0, |previous| self.rows[previous].cells_end)
    }

    fn cell(&self, row: usize, index: usize) -> Option<&str> {
        let position = self.cells_start(row) + index;
        if position >= self.rows[row].cells_end {
            return None;
        }
        let end = self.ends[position];
        if end & MISSING != 0 {
            return None;
        }
        let start = position
            .checked_sub(1)
            .map_or(0, |previous| self.ends[previous] & !MISSING);
        Some(&self.text[start as usize..end as usize])
    }
}

/// One chunk of consecutive rows of one input.
#[derive(Debug)]
pub enum Rows {
    /// Rows split into text cells.
    Text(Records),
    /// A Parquet batch, each column as text or, when its rule can read the decoded values
    /// directly, as decoded; its rows are numbered from `first_line`.
    Arrow {
        /// Row number of the first row.
        first_line: u64,
        /// One entry per header column: its text, `None` for a column read as decoded or as
        /// a dictionary.
        columns: Vec<Option<StringArray>>,
        /// One entry per header column: the decoded column its rule reads, if any.
        typed: Vec<Option<ArrayRef>>,
        /// One entry per header column: the column as read when it is a dictionary of texts.
        dictionaries: Vec<Option<DictionaryArray<Int32Type>>>,
        /// Number of rows.
        rows: usize,
    },
    /// A Parquet batch as decoded, turned into [`Rows::Arrow`] by the worker that checks it
    /// ([`super::validate::FileRules::text`]) rather than on the reader thread.
    Typed {
        /// Row number of the first row.
        first_line: u64,
        /// One column per header column.
        columns: Vec<ArrayRef>,
        /// Number of rows.
        rows: usize,
    },
}

impl Rows {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Rows::Text(records) => records.len(),
            Rows::Arrow { rows, .. } | Rows::Typed { rows, .. } => *rows,
        }
    }

    /// Whether there is no row.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Line (CSV, NDJSON) or row (Parquet) number of row `index`.
    pub fn line(&self, index: usize) -> u64 {
        match self {
            Rows::Text(records) => records.rows[index].line,
            Rows::Arrow { first_line, .. } | Rows::Typed { first_line, .. } => {
                first_line + index as u64
            }
        }
    }

    /// Column `position` of an Arrow chunk: its text (if any) and the decoded column its rule
    /// reads (if any); `None` for other chunks.
    pub fn arrow_column(
        &self,
        position: usize,
    ) -> Option<(Option<&StringArray>, Option<&ArrayRef>)> {
        match self {
            Rows::Arrow { columns, typed, .. } => Some((
                columns.get(position)?.as_ref(),
                typed.get(position)?.as_ref(),
            )),
            _ => None,
        }
    }

    /// Column `position` of an Arrow chunk as read, when it is a dictionary of texts.
    pub fn arrow_dictionary(&self, position: usize) -> Option<&DictionaryArray<Int32Type>> {
        match self {
            Rows::Arrow { dictionaries, .. } => dictionaries.get(position)?.as_ref(),
            _ => None,
        }
    }

    /// Whether some columns are read as decoded (then a row that is not accepted is checked
    /// again as text, [`Rows::text_row`]).
    pub fn has_typed(&self) -> bool {
        matches!(self, Rows::Arrow { typed, .. } if typed.iter().any(Option::is_some))
    }

    /// Row `index` alone, every column as text.
    pub fn text_row(
        &self,
        index: usize,
        text: impl Fn(usize, &ArrayRef) -> anyhow::Result<StringArray>,
    ) -> anyhow::Result<Rows> {
        let Rows::Arrow {
            columns,
            typed,
            dictionaries,
            ..
        } = self
        else {
            anyhow::bail!("only decoded rows have a text form to make");
        };
        let columns = (0..columns.len())
            .map(|position| {
                let decoded: Option<ArrayRef> = match (&typed[position], &dictionaries[position]) {
                    (Some(typed), _) => Some(typed.slice(index, 1)),
                    (None, Some(dictionary)) => Some(Arc::new(dictionary.slice(index, 1))),
                    (None, None) => None,
                };
                match (&columns[position], decoded) {
                    (Some(column), _) => Ok(Some(column.slice(index, 1))),
                    (None, Some(decoded)) => text(position, &decoded).map(Some),
                    (None, None) => anyhow::bail!("column {position} has neither text nor values"),
                }
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Rows::Arrow {
            first_line: self.line(index),
            typed: vec![None; columns.len()],
            dictionaries: vec![None; columns.len()],
            columns,
            rows: 1,
        })
    }

    /// The cells of row `index`, or the rule it breaks when it could not be split into cells.
    pub fn row(&self, index: usize) -> Result<Row<'_>, &'static str> {
        match self {
            Rows::Text(records) => match records.rows[index].unreadable {
                Some(rule) => Err(rule),
                None => Ok(Row::Text {
                    records,
                    row: index,
                    count: records.rows[index].cells_end - records.cells_start(index),
                }),
            },
            Rows::Arrow {
                columns,
                typed,
                dictionaries,
                ..
            } => Ok(Row::Arrow {
                columns,
                typed,
                dictionaries,
                row: index,
            }),
            Rows::Typed { .. } => unreachable!("decoded rows are made into Arrow rows first"),
        }
    }
}

/// The cells of one row of a chunk.
pub enum Row<'a> {
    /// A row of [`Records`].
    Text {
        /// The chunk.
        records: &'a Records,
        /// Row position in the chunk.
        row: usize,
        /// Number of cells.
        count: usize,
    },
    /// A row of Arrow columns.
    Arrow {
        /// The text columns.
        columns: &'a [Option<StringArray>],
        /// The decoded columns read directly.
        typed: &'a [Option<ArrayRef>],
        /// The columns read as dictionaries of texts.
        dictionaries: &'a [Option<DictionaryArray<Int32Type>>],
        /// Row position in the columns.
        row: usize,
    },
}

impl Cells for Row<'_> {
    fn count(&self) -> usize {
        match self {
            Row::Text { count, .. } => *count,
            Row::Arrow { columns, .. } => columns.len(),
        }
    }

    fn cell(&self, index: usize) -> Option<&str> {
        match self {
            Row::Text { records, row, .. } => records.cell(*row, index),
            Row::Arrow {
                columns,
                dictionaries,
                row,
                ..
            } => match columns.get(index)? {
                Some(column) => (!column.is_null(*row)).then(|| column.value(*row)),
                None => dictionary_text(dictionaries.get(index)?.as_ref()?, *row),
            },
        }
    }

    fn typed(&self, index: usize) -> Option<(&ArrayRef, usize)> {
        match self {
            Row::Text { .. } => None,
            Row::Arrow { typed, row, .. } => Some((typed.get(index)?.as_ref()?, *row)),
        }
    }
}

/// The text at `row` of a dictionary of texts (`None` for NULL).
pub fn dictionary_text(dictionary: &DictionaryArray<Int32Type>, row: usize) -> Option<&str> {
    let values = dictionary.values().as_string_opt::<i32>()?;
    let key = dictionary.key(row)?;
    values.is_valid(key).then(|| values.value(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_keep_cells_missing_values_and_unreadable_rows() {
        let mut records = Records::with_capacity(4);
        records.push(2, [Some("a"), Some(""), Some("ccc")]);
        records.push_unreadable(3, "invalid_utf8");
        records.push(5, [None, Some("x"), None]);
        records.push(6, []);
        let rows = Rows::Text(records);
        assert_eq!(rows.len(), 4);
        assert_eq!(
            (0..4).map(|i| rows.line(i)).collect::<Vec<_>>(),
            [2, 3, 5, 6]
        );
        let cells = |index: usize| {
            let row = rows.row(index).unwrap();
            (0..=row.count())
                .map(|i| row.cell(i).map(str::to_string))
                .collect::<Vec<_>>()
        };
        let text = |cells: &[Option<&str>]| {
            cells
                .iter()
                .map(|c| c.map(str::to_string))
                .collect::<Vec<_>>()
        };
        assert_eq!(cells(0), text(&[Some("a"), Some(""), Some("ccc"), None]));
        assert!(matches!(rows.row(1), Err("invalid_utf8")));
        assert_eq!(cells(2), text(&[None, Some("x"), None, None]));
        assert_eq!(cells(3), text(&[None]));
    }
}
