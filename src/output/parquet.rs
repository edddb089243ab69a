//! Parquet tables through parquet's `ArrowWriter`, with a fixed `created_by` so the bytes
//! depend only on the data.

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;

/// Writes one table as a Parquet file.
pub fn write(out: &mut (impl std::io::Write + Send), batch: &RecordBatch) -> anyhow::Result<()> {
    let properties = WriterProperties::builder()
        .set_created_by(concat!("dispute-stats ", env!("CARGO_PKG_VERSION")).to_string())
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .build();
    let mut writer = ArrowWriter::try_new(out, batch.schema(), Some(properties))?;
    writer.write(batch)?;
    writer.close()?;
    Ok(())
}
