//! The rows of a `cases` table beyond its memory budget, written to a private local folder
//! and read in place by every report ([`mapped`]).
//!
//! A row of `cases` is an ingested row, cut at the as-of date, plus the columns derived from
//! it. When the cut leaves the rows of a chunk as they were (always so when the as-of date is
//! the data's latest, the default), only the derived columns of the batches ingest wrote to
//! files are written: the table reads their other columns from ingest's files, so those rows
//! cross the disk once instead of twice. A chunk with a row the cut removes or changes is
//! written whole.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionContext;
use tempfile::TempDir;

use super::mapped::{self, Segment};
use crate::config::DERIVED_COLUMNS;
use crate::ingest::ipc;
use crate::ingest::store;

/// Every column of an ingested row that the as-of cut or a derived column reads
/// (`super::cases_sql`): a `cases` row whose values of these equal an ingested row's has the
/// derived columns of that row.
pub(super) const DERIVED_FROM: [&str; 5] = [
    "opened_on",
    "closed_on",
    "outcome",
    "debt_age_days",
    "amount_claimed",
];

/// How a row of `cases` is made of an ingested row and its derived columns.
#[derive(Debug)]
pub(super) struct Layout {
    cases: SchemaRef,
    /// For each column of `cases`: `(0, i)`, column `i` of the ingested row, or `(1, i)`,
    /// derived column `i`, as a [`Segment`] of the ingest file and the derived one reads it.
    columns: Arc<[(usize, usize)]>,
    /// Positions in `cases` of the derived columns.
    derived: Vec<usize>,
    /// Their schema.
    derived_schema: SchemaRef,
    /// The columns of [`DERIVED_FROM`]: position in the ingested rows and in `cases`.
    checked: Vec<(usize, usize)>,
}

impl Layout {
    /// The layout of `cases` over `input`; `None` when a column of `cases` that is not
    /// derived is not the input's column of the same name and type.
    pub fn new(input: &Schema, cases: &SchemaRef) -> Option<Layout> {
        let mut columns = Vec::with_capacity(cases.fields().len());
        let mut derived = Vec::new();
        for (position, field) in cases.fields().iter().enumerate() {
            if DERIVED_COLUMNS.contains(&field.name().as_str()) {
                columns.push((1, derived.len()));
                derived.push(position);
                continue;
            }
            let index = input.index_of(field.name()).ok()?;
            if input.field(index).data_type() != field.data_type() {
                return None;
            }
            columns.push((0, index));
        }
        let checked = DERIVED_FROM
            .iter()
            .map(|name| Some((input.index_of(name).ok()?, cases.index_of(name).ok()?)))
            .collect::<Option<Vec<_>>>()?;
        Some(Layout {
            cases: cases.clone(),
            columns: columns.into(),
            derived_schema: Arc::new(cases.project(&derived).ok()?),
            derived,
            checked,
        })
    }

    /// The derived columns of each of `inputs`, read from `output`, the `cases` rows made of
    /// them by a plan of `output.len()` partitions over the inputs dealt round-robin
    /// ([`super::spread`]). `None` unless every `cases` row lines up with the input row at the
    /// same place and has its values of [`DERIVED_FROM`]: then no row was cut away or changed
    /// by the as-of cut, and the derived columns are the input row's, whatever way the plan
    /// took. Anything else (a cut row, a plan that moved rows between partitions) is `None`,
    /// and the chunk is written whole.
    pub fn derived(
        &self,
        inputs: &[RecordBatch],
        output: &[Vec<RecordBatch>],
    ) -> Option<Vec<RecordBatch>> {
        let partitions = output.len();
        if partitions == 0 {
            return inputs.is_empty().then(Vec::new);
        }
        let mut parts: Vec<Option<RecordBatch>> = vec![None; inputs.len()];
        for (partition, batches) in output.iter().enumerate() {
            let mut rows = Cursor::new(batches);
            for index in (partition..inputs.len()).step_by(partitions) {
                let input = &inputs[index];
                let pieces = rows.take(input.num_rows())?;
                let mut offset = 0;
                for piece in &pieces {
                    for (from, to) in &self.checked {
                        let expected = input.column(*from).slice(offset, piece.num_rows());
                        if !same(&expected, piece.column(*to)) {
                            return None;
                        }
                    }
                    offset += piece.num_rows();
                }
                let projected = pieces
                    .iter()
                    .map(|piece| piece.project(&self.derived))
                    .collect::<Result<Vec<_>, _>>()
                    .ok()?;
                parts[index] = Some(match projected.as_slice() {
                    [one] => one.clone(),
                    _ => concat_batches(&self.derived_schema, &projected).ok()?,
                });
            }
            if !rows.finished() {
                return None;
            }
        }
        parts.into_iter().collect()
    }

    /// The whole `cases` rows of `input` with its derived columns `derived`.
    fn whole(&self, input: &RecordBatch, derived: &RecordBatch) -> anyhow::Result<RecordBatch> {
        let columns = self
            .columns
            .iter()
            .map(|&(file, index)| match file {
                0 => input.column(index).clone(),
                _ => derived.column(index).clone(),
            })
            .collect();
        Ok(RecordBatch::try_new(self.cases.clone(), columns)?)
    }
}

/// Equal values: a dictionary array is compared by its keys when the values of one begin
/// with those of the other (the as-of cut may add `open` at the end), else value by value.
fn same(left: &ArrayRef, right: &ArrayRef) -> bool {
    if let (Some(l), Some(r)) = (left.as_any_dictionary_opt(), right.as_any_dictionary_opt()) {
        let shared = l.values().len().min(r.values().len());
        if l.keys().data_type() == r.keys().data_type()
            && l.values().slice(0, shared) == r.values().slice(0, shared)
        {
            // Keys valid in the shorter dictionary are below `shared`: equal keys, equal values.
            return l.keys() == r.keys();
        }
    }
    left == right
}

/// Reads consecutive rows of a partition's batches as slices of them.
struct Cursor<'a> {
    batches: &'a [RecordBatch],
    batch: usize,
    offset: usize,
}

impl<'a> Cursor<'a> {
    fn new(batches: &'a [RecordBatch]) -> Cursor<'a> {
        Cursor {
            batches,
            batch: 0,
            offset: 0,
        }
    }

    /// The next `rows` rows, as slices of one batch or more; `None` if fewer are left.
    fn take(&mut self, mut rows: usize) -> Option<Vec<RecordBatch>> {
        let mut pieces = Vec::new();
        while rows > 0 {
            let batch = self.batches.get(self.batch)?;
            let length = (batch.num_rows() - self.offset).min(rows);
            if length > 0 {
                pieces.push(batch.slice(self.offset, length));
            }
            self.offset += length;
            rows -= length;
            if self.offset == batch.num_rows() {
                self.batch += 1;
                self.offset = 0;
            }
        }
        Some(pieces)
    }

    /// Whether every row was taken.
    fn finished(&self) -> bool {
        self.batches
            .iter()
            .skip(self.batch)
            .map(RecordBatch::num_rows)
            .sum::<usize>()
            == self.offset
    }
}

/// Removes the files of ingested batches that `cases` does not read.
pub(super) fn remove_files(batches: Vec<(RecordBatch, Option<PathBuf>)>) {
    for file in batches.into_iter().filter_map(|(_, file)| file) {
        let _ = std::fs::remove_file(file);
    }
}

/// The files of the rows of `cases` beyond its budget, as [`Segment`]s in the table's order.
/// A chunk's files are written while the next chunk is converted (one chunk in flight at most).
pub(super) struct Spilled {
    dir: TempDir,
    segments: Vec<Segment>,
    /// Segments that read ingest's file for the columns not derived.
    pub kept_ingest_files: usize,
    writing: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Spilled {
    pub fn new(parent: Option<&Path>) -> anyhow::Result<Spilled> {
        Ok(Spilled {
            dir: store::spill_dir(parent)?,
            segments: Vec::new(),
            kept_ingest_files: 0,
            writing: None,
        })
    }

    fn next_path(&self) -> PathBuf {
        self.dir
            .path()
            .join(format!("{:06}.arrow", self.segments.len()))
    }

    /// Starts writing whole `cases` rows: consecutive batches are joined into files of about
    /// [`BATCH_ROWS`](crate::ingest::columns::BATCH_ROWS) rows, so that a scan maps a few large
    /// files rather than many small ones.
    pub async fn write(&mut self, batches: Vec<RecordBatch>) -> anyhow::Result<()> {
        self.finish().await?;
        let mut groups: Vec<(Vec<RecordBatch>, usize)> = Vec::new();
        for batch in batches.into_iter().filter(|b| b.num_rows() > 0) {
            match groups.last_mut() {
                Some((group, rows)) if *rows < crate::ingest::columns::BATCH_ROWS => {
                    *rows += batch.num_rows();
                    group.push(batch);
                }
                _ => {
                    let rows = batch.num_rows();
                    groups.push((vec![batch], rows));
                }
            }
        }
        let mut work = Vec::with_capacity(groups.len());
        for (group, rows) in groups {
            let path = self.next_path();
            let columns = group[0].num_columns();
            self.segments
                .push(Segment::whole(path.clone(), rows, columns));
            work.push((path, group));
        }
        self.start(work);
        Ok(())
    }

    /// Starts writing the `cases` rows of ingested batches, given their derived columns
    /// ([`Layout::derived`]): for a batch ingest wrote to a file, only the derived columns;
    /// for one it held in memory, the whole rows.
    pub async fn write_derived(
        &mut self,
        layout: &Layout,
        inputs: Vec<(RecordBatch, Option<PathBuf>)>,
        derived: Vec<RecordBatch>,
    ) -> anyhow::Result<()> {
        self.finish().await?;
        let mut work = Vec::with_capacity(inputs.len());
        let mut empty = Vec::new();
        for ((input, file), derived) in inputs.into_iter().zip(derived) {
            let rows = input.num_rows();
            if rows == 0 {
                empty.push((input, file));
                continue;
            }
            let path = self.next_path();
            match file {
                Some(file) => {
                    self.segments.push(Segment {
                        rows,
                        files: Arc::from([file, path.clone()]),
                        columns: layout.columns.clone(),
                    });
                    self.kept_ingest_files += 1;
                    work.push((path, vec![derived]));
                }
                None => {
                    let whole = layout.whole(&input, &derived)?;
                    self.segments
                        .push(Segment::whole(path.clone(), rows, whole.num_columns()));
                    work.push((path, vec![whole]));
                }
            }
        }
        remove_files(empty);
        self.start(work);
        Ok(())
    }

    /// Writes each group of batches, joined, to its file, on a blocking thread.
    fn start(&mut self, work: Vec<(PathBuf, Vec<RecordBatch>)>) {
        self.writing = Some(tokio::task::spawn_blocking(move || {
            work.iter()
                .try_for_each(|(path, group)| match group.as_slice() {
                    [batch] => ipc::write(path, batch),
                    _ => ipc::write(path, &concat_batches(&group[0].schema(), group)?),
                })
        }));
    }

    /// Waits for the chunk being written.
    async fn finish(&mut self) -> anyhow::Result<()> {
        if let Some(writing) = self.writing.take() {
            writing.await??;
        }
        Ok(())
    }

    /// Number of segments.
    pub fn segments(&self) -> usize {
        self.segments.len()
    }

    /// Registers the segments as table `name`, with the schema of the in-memory table.
    pub async fn register(
        &mut self,
        ctx: &SessionContext,
        name: &str,
        schema: SchemaRef,
        partitions: usize,
    ) -> anyhow::Result<()> {
        self.finish().await?;
        let files = mapped::MappedFiles::new(schema, self.segments.clone(), partitions);
        ctx.register_table(name, Arc::new(files))?;
        Ok(())
    }

    /// The folder of the files, which must outlive the table.
    pub fn into_dir(self) -> TempDir {
        self.dir
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use datafusion::arrow::array::{DictionaryArray, Int32Array, StringArray};
    use datafusion::arrow::datatypes::Int32Type;
    use datafusion::catalog::MemTable;

    use super::*;
    use crate::engine::tests::{date, generated};
    use crate::engine::{Engine, EngineOptions, Window, cases_sql, spread};

    /// Generated cases ingested in batches of 700 rows, and the `cases` rows the engine makes
    /// of them as of `as_of`, by partition (two).
    async fn converted(as_of: NaiveDate) -> (SchemaRef, Vec<RecordBatch>, Vec<Vec<RecordBatch>>) {
        let ingested = generated(5_000, 3, date(2023, 1, 1));
        let batches: Vec<RecordBatch> = ingested
            .batches
            .batches()
            .unwrap()
            .iter()
            .flat_map(|b| {
                (0..b.num_rows())
                    .step_by(700)
                    .map(|start| b.slice(start, 700.min(b.num_rows() - start)))
                    .collect::<Vec<_>>()
            })
            .collect();
        let schema = ingested.batches.schema();
        let engine = Engine::new(&EngineOptions {
            partitions: 2,
            ..EngineOptions::default()
        })
        .unwrap();
        let table = MemTable::try_new(schema.clone(), spread(batches.clone(), 2)).unwrap();
        engine
            .ctx
            .register_table("cases_input", Arc::new(table))
            .unwrap();
        let window = Window {
            as_of,
            period: None,
        };
        let sql = cases_sql(&schema, &window);
        let output = engine.ctx.sql(&sql).await.unwrap();
        let output = output.collect_partitioned().await.unwrap();
        (schema, batches, output)
    }

    #[tokio::test]
    async fn derived_columns_line_up_with_the_ingested_rows_they_come_from() {
        let (schema, inputs, output) = converted(date(2024, 6, 30)).await;
        assert_eq!(output.len(), 2);
        let cases = output[0][0].schema();
        let layout = Layout::new(&schema, &cases).unwrap();
        let parts = layout.derived(&inputs, &output).expect("nothing was cut");
        assert_eq!(parts.len(), inputs.len());
        // Each input's whole rows are the engine's rows, in the order the plan made them.
        let whole: Vec<RecordBatch> = inputs
            .iter()
            .zip(&parts)
            .map(|(input, part)| layout.whole(input, part).unwrap())
            .collect();
        let by_partition = |batches: Vec<RecordBatch>| -> Vec<RecordBatch> {
            spread(batches, 2)
                .into_iter()
                .map(|p| concat_batches(&cases, &p).unwrap())
                .collect()
        };
        let expected: Vec<RecordBatch> = output
            .iter()
            .map(|p| concat_batches(&cases, p).unwrap())
            .collect();
        assert_eq!(by_partition(whole), expected);
    }

    #[tokio::test]
    async fn rows_moved_or_cut_by_the_plan_give_no_derived_columns() {
        let (schema, inputs, mut output) = converted(date(2024, 6, 30)).await;
        let layout = Layout::new(&schema, &output[0][0].schema()).unwrap();
        // Partitions swapped: each input lines up with other rows.
        output.swap(0, 1);
        assert!(layout.derived(&inputs, &output).is_none());
        // One partition's rows moved to the other: the counts no longer line up.
        output.swap(0, 1);
        let moved = output[1].pop().unwrap();
        output[0].push(moved);
        assert!(layout.derived(&inputs, &output).is_none());
        // As of an earlier day, cases opened later are cut and closures undone.
        let (schema, inputs, output) = converted(date(2024, 3, 31)).await;
        let layout = Layout::new(&schema, &output[0][0].schema()).unwrap();
        assert!(layout.derived(&inputs, &output).is_none());
    }

    #[tokio::test]
    async fn the_cut_and_the_derived_columns_read_only_the_columns_checked() {
        use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
        use datafusion::logical_expr::{Expr, LogicalPlan};

        let (schema, inputs, _) = converted(date(2024, 6, 30)).await;
        let ctx = datafusion::prelude::SessionContext::new();
        crate::engine::functions::register(&ctx);
        let table = MemTable::try_new(schema.clone(), vec![inputs]).unwrap();
        ctx.register_table("cases_input", Arc::new(table)).unwrap();
        let window = Window {
            as_of: date(2024, 6, 30),
            period: Some(crate::period::Period::parse("2024-Q2").unwrap()),
        };
        let plan = ctx
            .sql(&cases_sql(&schema, &window))
            .await
            .unwrap()
            .into_unoptimized_plan();
        // Every expression of the plan that is not a column passed through as it is.
        let mut read = std::collections::BTreeSet::new();
        let mut computed = 0;
        plan.apply(|node| {
            if matches!(node, LogicalPlan::Projection(_) | LogicalPlan::Filter(_)) {
                for expr in node.expressions() {
                    let expr = expr.unalias();
                    if !matches!(expr, Expr::Column(_)) {
                        computed += 1;
                        read.extend(expr.column_refs().into_iter().map(|c| c.name.clone()));
                    }
                }
            }
            Ok(TreeNodeRecursion::Continue)
        })
        .unwrap();
        // The cut (a filter and two rewritten columns) and the seven derived columns.
        assert_eq!(computed, 1 + 2 + DERIVED_COLUMNS.len());
        let checked: std::collections::BTreeSet<String> =
            DERIVED_FROM.iter().map(|c| c.to_string()).collect();
        assert_eq!(read, checked);
    }

    #[test]
    fn dictionaries_are_equal_by_value_whatever_their_keys() {
        let dictionary = |keys: Vec<Option<i32>>, values: &[&str]| -> ArrayRef {
            let values = Arc::new(StringArray::from(values.to_vec()));
            Arc::new(DictionaryArray::<Int32Type>::try_new(Int32Array::from(keys), values).unwrap())
        };
        let ingested = dictionary(vec![Some(0), Some(1), None], &["settled", "paid_in_full"]);
        let with_open = dictionary(
            vec![Some(0), Some(1), None],
            &["settled", "paid_in_full", "open"],
        );
        assert!(same(&ingested, &with_open));
        let reordered = dictionary(vec![Some(1), Some(0), None], &["paid_in_full", "settled"]);
        assert!(same(&ingested, &reordered));
        let opened = dictionary(
            vec![Some(0), Some(2), None],
            &["settled", "paid_in_full", "open"],
        );
        assert!(!same(&ingested, &opened));
        let null = dictionary(
            vec![Some(0), Some(1), Some(0)],
            &["settled", "paid_in_full"],
        );
        assert!(!same(&ingested, &null));
    }
}
