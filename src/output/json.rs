//! JSON tables: one array of objects, NULLs written explicitly, through arrow's JSON writer.

use datafusion::arrow::json::{WriterBuilder, writer::JsonArray};
use datafusion::arrow::record_batch::RecordBatch;

/// Writes one table as a JSON array of objects.
pub fn write(out: &mut impl std::io::Write, batch: &RecordBatch) -> anyhow::Result<()> {
    let mut writer = WriterBuilder::new()
        .with_explicit_nulls(true)
        .build::<_, JsonArray>(&mut *out);
    writer.write(batch)?;
    writer.finish()?;
    out.write_all(b"\n")?;
    Ok(())
}
