//! CSV tables through arrow's CSV writer: header row, ISO dates, empty cells for NULL.

use datafusion::arrow::csv::WriterBuilder;
use datafusion::arrow::record_batch::RecordBatch;

/// Writes one table as CSV.
pub fn write(out: &mut impl std::io::Write, batch: &RecordBatch) -> anyhow::Result<()> {
    let mut writer = WriterBuilder::new().with_header(true).build(out);
    writer.write(batch)?;
    Ok(())
}
