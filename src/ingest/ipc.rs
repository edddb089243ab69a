//! Spilled rows as Arrow IPC files, one batch each, written so that they can be read in place:
//! mapped into memory, with the columns asked for taken where they lie in the file, nothing
//! decoded and nothing copied. Ingest writes the rows beyond its budget this way, and a
//! `cases` table kept on disk reads them, and its own files, so (`crate::engine::mapped`).

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use datafusion::arrow::buffer::Buffer;
use datafusion::arrow::ipc::convert::fb_to_schema;
use datafusion::arrow::ipc::reader::{FileDecoder, read_footer_length};
use datafusion::arrow::ipc::root_as_footer;
use datafusion::arrow::ipc::writer::FileWriter;
use datafusion::arrow::record_batch::RecordBatch;
use memmap2::Mmap;

/// Writes `batch` as an Arrow IPC file at `path`. The writer aligns every buffer to 64 bytes
/// from the start of the file, so the mapped file is read without realigning anything.
pub fn write(path: &Path, batch: &RecordBatch) -> anyhow::Result<()> {
    encode(path, batch)
        .with_context(|| format!("cannot write spilled rows to `{}`", path.display()))
}

fn encode(path: &Path, batch: &RecordBatch) -> anyhow::Result<()> {
    let mut writer = FileWriter::try_new(BufWriter::new(File::create(path)?), &batch.schema())?;
    writer.write(batch)?;
    writer.finish()?;
    writer
        .into_inner()?
        .into_inner()
        .map_err(|e| e.into_error())?;
    Ok(())
}

/// Reads the columns `projection` (in that order; `None`: every column) of the one batch of
/// the file at `path`, from a mapping of the file.
pub fn read(path: &Path, projection: Option<&[usize]>) -> anyhow::Result<RecordBatch> {
    decode(path, projection)
        .with_context(|| format!("cannot read spilled rows `{}`", path.display()))
}

fn decode(path: &Path, projection: Option<&[usize]>) -> anyhow::Result<RecordBatch> {
    let file = File::open(path)?;
    // SAFETY: the file is one this process wrote, whole, in a folder only this process uses
    // (created private); nothing writes or truncates it once written. Removing it leaves a
    // mapping as it was.
    let map = unsafe { Mmap::map(&file) }?;
    let buffer = Buffer::from(bytes::Bytes::from_owner(map));
    let broken = || anyhow::anyhow!("not an Arrow file");
    let trailer = buffer.len().checked_sub(10).ok_or_else(broken)?;
    let footer_length = read_footer_length(buffer[trailer..].try_into()?)?;
    let footer_start = trailer.checked_sub(footer_length).ok_or_else(broken)?;
    let footer = root_as_footer(&buffer[footer_start..trailer]).map_err(|_| broken())?;
    let file_schema = fb_to_schema(footer.schema().ok_or_else(broken)?);
    let mut decoder = FileDecoder::new(Arc::new(file_schema), footer.version());
    if let Some(projection) = projection {
        decoder = decoder.with_projection(projection.to_vec());
    }
    let block_bytes = |offset: i64, meta: i32, body: i64| {
        buffer.slice_with_length(offset as usize, meta as usize + body as usize)
    };
    for block in footer.dictionaries().into_iter().flatten() {
        let bytes = block_bytes(block.offset(), block.metaDataLength(), block.bodyLength());
        decoder.read_dictionary(block, &bytes)?;
    }
    let block = footer
        .recordBatches()
        .and_then(|blocks| blocks.iter().next())
        .ok_or_else(broken)?;
    let bytes = block_bytes(block.offset(), block.metaDataLength(), block.bodyLength());
    decoder.read_record_batch(block, &bytes)?.ok_or_else(broken)
}
