//! A table of rows kept as Arrow IPC files ([`ipc`]) that scans them in place, its rows in
//! segments whose columns lie in one file or across several (`super::spill`): each file is
//! mapped into memory and the columns a query asks for are read from the mapping, with no
//! decoding and no copy. Only the pages of those columns are touched, and a file is unmapped as soon as
//! the last array reading it is dropped, so the resident memory of a scan is that of the
//! batches in flight; the rest stays in the page cache, or on disk when memory is short.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::stats::Precision;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{
    DataFusionError, Result, Statistics, internal_datafusion_err, internal_err,
};
use datafusion::datasource::TableType;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, Partitioning, PhysicalExpr};
use datafusion::physical_plan::coop::make_cooperative;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType, SchedulingType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, StatisticsArgs,
};
use datafusion::prelude::Expr;

use crate::ingest::ipc;

/// A run of consecutive rows of the table, with its columns in one file or across several:
/// the rows of an ingested batch, say, kept in the file ingest wrote, and their derived
/// columns in a file of their own.
#[derive(Debug, Clone)]
pub struct Segment {
    /// Number of rows (the same in every file).
    pub rows: usize,
    /// The files holding the columns, each written by [`ipc::write`].
    pub files: Arc<[PathBuf]>,
    /// For each column of the table: the file holding it (an index into `files`) and its
    /// position in that file.
    pub columns: Arc<[(usize, usize)]>,
}

impl Segment {
    /// Rows whose columns are all in one file, in the table's order.
    pub fn whole(path: PathBuf, rows: usize, columns: usize) -> Segment {
        Segment {
            rows,
            files: Arc::from([path]),
            columns: (0..columns).map(|column| (0, column)).collect(),
        }
    }

    /// Reads the columns `projection` of the segment as `schema` (the table's schema
    /// projected the same way), each file mapped and read only for the columns it holds.
    fn read(&self, schema: &SchemaRef, projection: &[usize]) -> anyhow::Result<RecordBatch> {
        let mut arrays: Vec<Option<ArrayRef>> = vec![None; projection.len()];
        for (index, path) in self.files.iter().enumerate() {
            let (slots, wanted): (Vec<usize>, Vec<usize>) = projection
                .iter()
                .enumerate()
                .filter_map(|(slot, column)| {
                    let (file, position) = *self.columns.get(*column)?;
                    (file == index).then_some((slot, position))
                })
                .unzip();
            if wanted.is_empty() {
                continue;
            }
            let batch = ipc::read(path, Some(&wanted))?;
            anyhow::ensure!(
                batch.num_rows() == self.rows,
                "spilled rows `{}` have {} rows, not {}",
                path.display(),
                batch.num_rows(),
                self.rows
            );
            for (slot, array) in slots.into_iter().zip(batch.columns()) {
                arrays[slot] = Some(array.clone());
            }
        }
        let arrays = arrays
            .into_iter()
            .collect::<Option<Vec<ArrayRef>>>()
            .ok_or_else(|| anyhow::anyhow!("a column of the spilled cases has no file"))?;
        let options = RecordBatchOptions::new().with_row_count(Some(self.rows));
        Ok(RecordBatch::try_new_with_options(
            schema.clone(),
            arrays,
            &options,
        )?)
    }
}

/// A table of [`Segment`]s of files written by [`ipc::write`], with schema `schema`, scanned
/// as `partitions` partitions, spread as the in-memory table spreads its batches. Its exact
/// row count is known to the planner, which therefore joins the one-row `params` to it rather
/// than the other way round.
pub struct MappedFiles {
    schema: SchemaRef,
    /// The segments of each partition, in order.
    partitions: Vec<Vec<Segment>>,
}

impl MappedFiles {
    pub fn new(schema: SchemaRef, segments: Vec<Segment>, partitions: usize) -> MappedFiles {
        MappedFiles {
            schema,
            partitions: super::spread(segments, partitions),
        }
    }
}

impl fmt::Debug for MappedFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let segments: usize = self.partitions.iter().map(Vec::len).sum();
        f.debug_struct("MappedFiles")
            .field("segments", &segments)
            .field("partitions", &self.partitions.len())
            .finish()
    }
}

#[async_trait]
impl TableProvider for MappedFiles {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let projection: Arc<[usize]> = match projection {
            Some(columns) => columns.as_slice().into(),
            None => (0..self.schema.fields().len()).collect(),
        };
        let schema = Arc::new(self.schema.project(&projection)?);
        let partitions = self.partitions.clone();
        let properties = PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(partitions.len()),
            EmissionType::Incremental,
            Boundedness::Bounded,
        )
        .with_scheduling_type(SchedulingType::Cooperative);
        Ok(Arc::new(MappedExec {
            schema,
            projection,
            partitions,
            properties: Arc::new(properties),
        }))
    }
}

/// The scan of a [`MappedFiles`] table: each partition reads its segments in order.
#[derive(Debug)]
struct MappedExec {
    schema: SchemaRef,
    projection: Arc<[usize]>,
    partitions: Vec<Vec<Segment>>,
    properties: Arc<PlanProperties>,
}

impl DisplayAs for MappedExec {
    fn fmt_as(&self, _format: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let segments: usize = self.partitions.iter().map(Vec::len).sum();
        write!(
            f,
            "MappedFilesExec: segments={segments}, projection={:?}",
            &*self.projection
        )
    }
}

impl ExecutionPlan for MappedExec {
    fn name(&self) -> &str {
        "MappedFilesExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        Vec::new()
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if children.is_empty() {
            Ok(self)
        } else {
            internal_err!("MappedFilesExec has no children")
        }
    }

    fn execute(
        &self,
        partition: usize,
        _ctx: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let segments = self
            .partitions
            .get(partition)
            .ok_or_else(|| internal_datafusion_err!("no partition {partition}"))?
            .clone();
        let schema = self.schema.clone();
        let projection = self.projection.clone();
        let batches = segments.into_iter().map(move |segment| {
            segment
                .read(&schema, &projection)
                .map_err(|e| DataFusionError::External(e.into()))
        });
        let stream =
            RecordBatchStreamAdapter::new(self.schema.clone(), futures::stream::iter(batches));
        Ok(make_cooperative(Box::pin(stream)))
    }

    fn statistics_from_inputs(
        &self,
        _input_stats: &[Arc<Statistics>],
        args: &StatisticsArgs,
    ) -> Result<Arc<Statistics>> {
        let rows = |segments: &[Segment]| segments.iter().map(|s| s.rows).sum();
        let rows = match args.partition() {
            Some(partition) => self
                .partitions
                .get(partition)
                .map_or(0, |segments| rows(segments)),
            None => self.partitions.iter().map(|segments| rows(segments)).sum(),
        };
        let statistics =
            Statistics::new_unknown(&self.schema).with_num_rows(Precision::Exact(rows));
        Ok(Arc::new(statistics))
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{
        ArrayRef, Decimal128Array, DictionaryArray, Int64Array, StringArray,
    };
    use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Schema};
    use datafusion::prelude::SessionContext;

    use std::path::Path;

    use super::*;

    fn batch(start: i64, rows: usize) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Utf8, false),
            Field::new("n", DataType::Int64, true),
            Field::new("amount", DataType::Decimal128(18, 2), true),
            Field::new(
                "region",
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                true,
            ),
        ]));
        let n: Int64Array = (start..start + rows as i64)
            .map(|i| (i % 7 != 0).then_some(i))
            .collect();
        let ids: StringArray = (0..rows).map(|i| Some(format!("C-{start}-{i}"))).collect();
        let amounts = Decimal128Array::from_iter((0..rows).map(|i| Some(i as i128 * 101)))
            .with_precision_and_scale(18, 2)
            .unwrap();
        let regions: DictionaryArray<Int32Type> = (0..rows)
            .map(|i| ["north", "south", "east"][(i + start as usize) % 3])
            .collect();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(ids),
            Arc::new(n),
            Arc::new(amounts),
            Arc::new(regions),
        ];
        RecordBatch::try_new(schema, columns).unwrap()
    }

    /// Writes each batch to a file of its own in `dir`; a segment of each.
    fn write_all(dir: &Path, batches: &[RecordBatch]) -> Vec<Segment> {
        batches
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let path = dir.join(format!("{i}.arrow"));
                ipc::write(&path, b).unwrap();
                Segment::whole(path, b.num_rows(), b.num_columns())
            })
            .collect()
    }

    async fn query(ctx: &SessionContext, sql: &str) -> Vec<RecordBatch> {
        ctx.sql(sql).await.unwrap().collect().await.unwrap()
    }

    /// The one BIGINT a query returns.
    async fn query_i64(ctx: &SessionContext, sql: &str) -> i64 {
        let batches = query(ctx, sql).await;
        let column = batches[0].column(0).as_any().downcast_ref::<Int64Array>();
        column.unwrap().value(0)
    }

    #[test]
    fn a_file_reads_back_the_batch_written_and_any_projection_of_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.arrow");
        let written = batch(3, 1000);
        ipc::write(&path, &written).unwrap();
        let segment = Segment::whole(path, 1000, 4);
        let all: Vec<usize> = (0..4).collect();
        assert_eq!(segment.read(&written.schema(), &all).unwrap(), written);
        for projection in [vec![3, 1], vec![2], vec![]] {
            let schema = Arc::new(written.schema().project(&projection).unwrap());
            let projected = segment.read(&schema, &projection).unwrap();
            assert_eq!(projected, written.project(&projection).unwrap());
            assert_eq!(projected.num_rows(), 1000);
        }
    }

    #[test]
    fn a_segment_split_across_files_reads_each_column_from_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let written = batch(7, 500);
        // Columns 0 and 3 in one file, 2 and 1 (in that order) in another.
        let (first, second) = (dir.path().join("a.arrow"), dir.path().join("b.arrow"));
        ipc::write(&first, &written.project(&[0, 3]).unwrap()).unwrap();
        ipc::write(&second, &written.project(&[2, 1]).unwrap()).unwrap();
        let segment = Segment {
            rows: 500,
            files: Arc::from([first, second]),
            columns: Arc::from([(0, 0), (1, 1), (1, 0), (0, 1)]),
        };
        for projection in [vec![0, 1, 2, 3], vec![3, 1], vec![2, 0], vec![1], vec![]] {
            let schema = Arc::new(written.schema().project(&projection).unwrap());
            let projected = segment.read(&schema, &projection).unwrap();
            assert_eq!(projected, written.project(&projection).unwrap());
        }
        // Files that disagree on the row count are an error, not a misaligned batch.
        let short = Segment {
            rows: 499,
            ..segment
        };
        let error = short.read(&written.schema(), &[0, 1]).unwrap_err();
        assert!(error.to_string().contains("not 499"), "{error}");
    }

    #[test]
    fn a_file_that_cannot_be_written_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone").join("0.arrow");
        let error = ipc::write(&path, &batch(0, 10)).unwrap_err().to_string();
        assert!(error.contains("gone/0.arrow"), "{error}");
    }

    #[test]
    fn a_damaged_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.arrow");
        let written = batch(0, 10);
        ipc::write(&path, &written).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let error = ipc::read(&path, Some(&[0])).unwrap_err();
        let error = format!("{error:#}");
        assert!(error.contains("0.arrow"), "{error}");
    }

    #[tokio::test]
    async fn queries_over_the_files_see_every_row_of_every_partition() {
        let dir = tempfile::tempdir().unwrap();
        let batches: Vec<RecordBatch> = (0..5).map(|i| batch(i * 100, 100 + i as usize)).collect();
        let files = write_all(dir.path(), &batches);
        let ctx = SessionContext::new();
        let schema = batches[0].schema();
        ctx.register_table(
            "mapped",
            Arc::new(MappedFiles::new(schema.clone(), files, 2)),
        )
        .unwrap();
        ctx.register_batch(
            "memory",
            datafusion::arrow::compute::concat_batches(&schema, &batches).unwrap(),
        )
        .unwrap();
        let sql = |table: &str| {
            format!(
                "SELECT region, count(*) AS cases, count(n) AS n, sum(n) AS total, sum(amount) AS amount, \
                 max(id) AS last FROM {table} GROUP BY region ORDER BY region"
            )
        };
        let (mapped, memory) = (
            query(&ctx, &sql("mapped")).await,
            query(&ctx, &sql("memory")).await,
        );
        assert_eq!(mapped, memory);
        assert_eq!(query_i64(&ctx, "SELECT count(*) FROM mapped").await, 510);
    }

    #[tokio::test]
    async fn a_one_row_table_is_joined_to_the_files_not_the_files_to_it() {
        use datafusion::execution::memory_pool::FairSpillPool;
        use datafusion::execution::runtime_env::RuntimeEnvBuilder;
        use datafusion::prelude::SessionConfig;

        let dir = tempfile::tempdir().unwrap();
        let batches: Vec<RecordBatch> = (0..4).map(|i| batch(i * 50_000, 50_000)).collect();
        let expected: i64 = batches
            .iter()
            .flat_map(|b| b.column(1).as_any().downcast_ref::<Int64Array>().unwrap())
            .flatten()
            .sum();
        let files = write_all(dir.path(), &batches);
        // A pool far smaller than the files: holding them as a join's build side fails.
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(Arc::new(FairSpillPool::new(256 << 10)))
            .build_arc()
            .unwrap();
        let config = SessionConfig::new().with_target_partitions(2);
        let ctx = SessionContext::new_with_config_rt(config, runtime);
        let schema = batches[0].schema();
        ctx.register_table("mapped", Arc::new(MappedFiles::new(schema, files, 2)))
            .unwrap();
        let sql = "SELECT sum(n * x) FROM mapped CROSS JOIN (VALUES (CAST(1 AS BIGINT))) v(x)";
        assert_eq!(query_i64(&ctx, sql).await, expected);
    }
}
