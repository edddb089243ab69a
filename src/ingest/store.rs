//! The accepted rows, in input order: held in memory up to a byte budget, and written to local
//! Arrow IPC files beyond it, one file per batch ([`super::ipc`]), so that ingest memory stays
//! bounded however large the input. The files live in a private temporary folder (in `TMPDIR`
//! unless another folder is given) that is removed when the rows are dropped, or, once they
//! are handed out, with whoever keeps it: a `cases` table kept on disk reads the files in place.

use std::collections::HashSet;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Mutex, PoisonError};
use std::thread::JoinHandle;

use datafusion::arrow::array::{Array, ArrayData, Date32Array};
use datafusion::arrow::compute::max;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::ipc::reader::FileReader;
use datafusion::arrow::record_batch::RecordBatch;
use tempfile::TempDir;

/// Where to hold accepted rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    /// Bytes of Arrow arrays held in memory before rows go to disk.
    pub bytes: usize,
    /// Folder for the files (`None`: the system temporary folder).
    pub dir: Option<PathBuf>,
}

impl Budget {
    /// Everything in memory.
    pub fn unlimited() -> Budget {
        Budget {
            bytes: usize::MAX,
            dir: None,
        }
    }
}

/// Memory held by record batches: every buffer counted once at its allocated capacity, however
/// many arrays or slices share it (`RecordBatch::get_array_memory_size` counts a shared buffer
/// once per array and a slice at the size of what it slices, which overstates query output).
#[derive(Debug, Default)]
pub struct Footprint {
    seen: HashSet<usize>,
    bytes: usize,
}

impl Footprint {
    /// Adds the buffers of `batch` not counted yet; returns the bytes added.
    pub fn add(&mut self, batch: &RecordBatch) -> usize {
        let before = self.bytes;
        for column in batch.columns() {
            self.add_data(&column.to_data());
        }
        self.bytes - before
    }

    fn add_data(&mut self, data: &ArrayData) {
        let nulls = data.nulls().map(|n| n.buffer());
        for buffer in data.buffers().iter().chain(nulls) {
            if self.seen.insert(buffer.data_ptr().as_ptr() as usize) {
                self.bytes += buffer.capacity();
            }
        }
        for child in data.child_data() {
            self.add_data(child);
        }
    }

    /// Bytes counted so far.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

enum Piece {
    Memory(RecordBatch),
    Disk(PathBuf),
}

/// Writes spilled batches, one file each, on a thread of its own: the merge of checked chunks,
/// which hands them over, goes on meanwhile (at 100M cases it is the step that bounds ingest,
/// and writing the files took a third of its time).
struct Writer {
    sender: Option<SyncSender<(PathBuf, RecordBatch)>>,
    thread: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Writer {
    fn start() -> Writer {
        // Two batches wait at most: the memory in flight stays a few MB.
        let (sender, batches) = sync_channel::<(PathBuf, RecordBatch)>(2);
        let thread = std::thread::spawn(move || {
            for (path, batch) in batches {
                // Files a `cases` table can map and read in place.
                super::ipc::write(&path, &batch)?;
            }
            Ok(())
        });
        Writer {
            sender: Some(sender),
            thread: Some(thread),
        }
    }

    /// Queues a batch; an error is the writer's first.
    fn send(&mut self, path: PathBuf, batch: RecordBatch) -> anyhow::Result<()> {
        let sent = self.sender.as_ref().map(|s| s.send((path, batch)));
        match sent {
            Some(Ok(())) => Ok(()),
            _ => self.finish(),
        }
    }

    /// Waits until every queued batch is written; the first error, if any.
    fn finish(&mut self) -> anyhow::Result<()> {
        self.sender = None;
        match self.thread.take().map(JoinHandle::join) {
            None => Ok(()),
            Some(Ok(result)) => result,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Joined before the folder it writes to is removed.
        self.sender = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Accepted rows in input order, partly in memory and partly on disk.
pub struct Accepted {
    schema: SchemaRef,
    budget: Budget,
    pieces: Vec<Piece>,
    /// Writes the pieces on disk; declared before `dir`, so it is dropped (joined) first.
    writer: Mutex<Option<Writer>>,
    held: Footprint,
    /// Memory held alongside the rows, counted against the same budget.
    elsewhere: usize,
    rows: u64,
    dir: Option<TempDir>,
    /// Positions of the date columns, for the latest date.
    dates: Vec<usize>,
    latest: Option<i32>,
}

impl Accepted {
    /// No rows yet.
    pub fn new(schema: SchemaRef, budget: Budget) -> Accepted {
        let dates = ["opened_on", "closed_on"]
            .iter()
            .filter_map(|name| schema.index_of(name).ok())
            .collect();
        Accepted {
            schema,
            budget,
            pieces: Vec::new(),
            writer: Mutex::new(None),
            held: Footprint::default(),
            elsewhere: 0,
            rows: 0,
            dir: None,
            dates,
            latest: None,
        }
    }

    /// Appends a batch: in memory while the budget allows, else to a file of its own.
    pub fn push(&mut self, batch: RecordBatch) -> anyhow::Result<()> {
        for index in &self.dates {
            if let Some(dates) = batch.column(*index).as_any().downcast_ref::<Date32Array>() {
                self.latest = self.latest.max(max(dates));
            }
        }
        self.rows += batch.num_rows() as u64;
        if self.dir.is_none() {
            self.held.add(&batch);
            if self.held.bytes().saturating_add(self.elsewhere) <= self.budget.bytes {
                self.pieces.push(Piece::Memory(batch));
                return Ok(());
            }
        }
        let dir = match &self.dir {
            Some(dir) => dir.path(),
            None => self
                .dir
                .insert(spill_dir(self.budget.dir.as_deref())?)
                .path(),
        };
        let path = dir.join(format!("{:06}.arrow", self.pieces.len()));
        let writer = self
            .writer
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        writer
            .get_or_insert_with(Writer::start)
            .send(path.clone(), batch)?;
        self.pieces.push(Piece::Disk(path));
        Ok(())
    }

    /// Waits until every batch handed to disk is written; the first write error, if any.
    /// Reading the rows waits too.
    pub fn finish_writes(&self) -> anyhow::Result<()> {
        let writer = self
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        writer.map_or(Ok(()), |mut writer| writer.finish())
    }

    /// Sets the memory held alongside the rows (ingest's set of case ids), which the budget
    /// covers too: later batches go to disk once both together reach it.
    pub fn set_elsewhere(&mut self, bytes: usize) {
        self.elsewhere = bytes;
    }

    /// The rows, leaving an empty store of the same schema in their place.
    pub fn take(&mut self) -> Accepted {
        let empty = Accepted::new(self.schema.clone(), Budget::unlimited());
        std::mem::replace(self, empty)
    }

    /// Schema of the rows.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Number of rows.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Batches written to disk.
    pub fn spilled(&self) -> usize {
        self.pieces
            .iter()
            .filter(|p| matches!(p, Piece::Disk(_)))
            .count()
    }

    /// The latest `opened_on` or `closed_on`, as Arrow Date32 days.
    pub fn latest_date(&self) -> Option<i32> {
        self.latest
    }

    /// Every batch, in order (those on disk read back).
    pub fn batches(&self) -> anyhow::Result<Vec<RecordBatch>> {
        self.finish_writes()?;
        self.pieces.iter().map(Piece::read).collect()
    }

    /// The batches one at a time, in order, each with the file holding it if it was spilled.
    /// The files stay until the folder holding them is dropped ([`Stored::into_dir`]) or
    /// whoever read them removes them.
    pub fn into_stored(self) -> Stored {
        let written = self.finish_writes();
        Stored {
            written: written.err(),
            pieces: self.pieces.into_iter(),
            dir: self.dir,
            mapped: false,
        }
    }
}

impl Piece {
    fn read(&self) -> anyhow::Result<RecordBatch> {
        match self {
            Piece::Memory(batch) => Ok(batch.clone()),
            Piece::Disk(path) => read(path),
        }
    }
}

/// The batches of [`Accepted`], consumed in order, each with its file if it has one.
pub struct Stored {
    /// A write that failed, handed out first.
    written: Option<anyhow::Error>,
    pieces: std::vec::IntoIter<Piece>,
    dir: Option<TempDir>,
    /// Whether spilled batches are read from a mapping of their file rather than copied.
    mapped: bool,
}

impl Stored {
    /// From now on, hands out a spilled batch as a mapping of its file, not a copy: no
    /// memory is filled, but the batch's buffers are the file's pages, so it is for batches
    /// that will not be held (the file must stay while they are used).
    pub fn map_files(&mut self) {
        self.mapped = true;
    }

    /// The folder of the spilled batches, if any were: the files in it last as long as it.
    pub fn into_dir(self) -> Option<TempDir> {
        self.dir
    }
}

impl Iterator for Stored {
    type Item = anyhow::Result<(RecordBatch, Option<PathBuf>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(error) = self.written.take() {
            self.pieces = Vec::new().into_iter();
            return Some(Err(error));
        }
        let piece = self.pieces.next()?;
        let batch = match (&piece, self.mapped) {
            (Piece::Disk(path), true) => super::ipc::read(path, None),
            _ => piece.read(),
        };
        Some(batch.map(|batch| match piece {
            Piece::Memory(_) => (batch, None),
            Piece::Disk(path) => (batch, Some(path)),
        }))
    }
}

/// A private temporary folder for spilled rows, in `parent` (`None`: the system's).
pub fn spill_dir(parent: Option<&Path>) -> anyhow::Result<TempDir> {
    let builder = {
        let mut builder = tempfile::Builder::new();
        builder.prefix("dispute-stats-");
        builder
    };
    let dir = match parent {
        Some(dir) => builder.tempdir_in(dir),
        None => builder.tempdir(),
    };
    dir.map_err(|e| anyhow::anyhow!("cannot create a folder for spilled rows: {e}"))
}

/// Reads a spilled batch into memory (a copy, not a mapping: the rows may be held long after).
fn read(path: &Path) -> anyhow::Result<RecordBatch> {
    let file = File::open(path)
        .map_err(|e| anyhow::anyhow!("cannot read spilled rows `{}`: {e}", path.display()))?;
    let mut reader = FileReader::try_new(BufReader::new(file), None)?;
    reader
        .next()
        .transpose()?
        .ok_or_else(|| anyhow::anyhow!("spilled rows `{}` are empty", path.display()))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, Int32Array, StringDictionaryBuilder};
    use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Schema};

    use super::*;

    fn batch(start: i32, labels: &[&str]) -> RecordBatch {
        let mut categories = StringDictionaryBuilder::<Int32Type>::new();
        for label in labels {
            categories.append_value(label);
        }
        let rows = labels.len() as i32;
        let dates: ArrayRef = Arc::new(Date32Array::from_iter_values(start..start + rows));
        let schema = Schema::new(vec![
            Field::new("opened_on", DataType::Date32, true),
            Field::new(
                "region",
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                true,
            ),
            Field::new("days", DataType::Int32, true),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                dates,
                Arc::new(categories.finish()),
                Arc::new(Int32Array::from_iter_values(0..rows)),
            ],
        )
        .unwrap()
    }

    fn batches() -> Vec<RecordBatch> {
        // Each batch with its own dictionary order, as ingest builds them.
        vec![
            batch(10, &["north", "south", "north"]),
            batch(40, &["south", "east"]),
            batch(5, &["west", "west", "north", "east"]),
        ]
    }

    fn store(bytes: usize, dir: Option<PathBuf>) -> Accepted {
        let batches = batches();
        let mut accepted = Accepted::new(batches[0].schema(), Budget { bytes, dir });
        for batch in batches {
            accepted.push(batch).unwrap();
        }
        accepted
    }

    #[test]
    fn rows_come_back_the_same_in_order_wherever_they_were_held() {
        let one = Footprint::default().add(&batches()[0]);
        let parent = tempfile::tempdir().unwrap();
        for (bytes, spilled) in [(usize::MAX, 0), (one, 2), (0, 3)] {
            let accepted = store(bytes, Some(parent.path().to_path_buf()));
            assert_eq!(accepted.spilled(), spilled, "{bytes}");
            assert_eq!(accepted.rows(), 9);
            assert_eq!(accepted.latest_date(), Some(41));
            assert_eq!(accepted.batches().unwrap(), batches(), "{bytes}");
            let folders = || std::fs::read_dir(parent.path()).unwrap().count();
            assert_eq!(folders(), usize::from(spilled > 0));
            let mut stored = accepted.into_stored();
            if spilled == 2 {
                // Spilled batches handed out as mappings of their files, not copies.
                stored.map_files();
            }
            let mut streamed = Vec::new();
            for (index, item) in stored.by_ref().enumerate() {
                let (batch, file) = item.unwrap();
                // Spilled batches are the last ones, and each file holds its batch.
                assert_eq!(file.is_some(), index + spilled >= 3, "{bytes}");
                if let Some(file) = file {
                    assert_eq!(crate::ingest::ipc::read(&file, None).unwrap(), batch);
                }
                streamed.push(batch);
            }
            assert_eq!(streamed, batches(), "{bytes}");
            assert_eq!(
                folders(),
                usize::from(spilled > 0),
                "the files outlive the reading"
            );
            drop(stored.into_dir());
            assert_eq!(folders(), 0, "the spill folder is removed with its keeper");
        }
    }

    #[test]
    fn a_failed_write_of_spilled_rows_is_an_error_when_they_are_read() {
        let parent = tempfile::tempdir().unwrap();
        let mut accepted = Accepted::new(
            batches()[0].schema(),
            Budget {
                bytes: 0,
                dir: Some(parent.path().to_path_buf()),
            },
        );
        accepted.push(batches()[0].clone()).unwrap();
        accepted.finish_writes().unwrap();
        // The folder vanishes under the writer: the next file cannot be created.
        for folder in std::fs::read_dir(parent.path()).unwrap() {
            std::fs::remove_dir_all(folder.unwrap().path()).unwrap();
        }
        let pushed = accepted.push(batches()[1].clone());
        let error = pushed
            .and_then(|()| accepted.finish_writes())
            .expect_err("the write fails");
        assert!(
            format!("{error:#}").contains("cannot write spilled rows"),
            "{error:#}"
        );
    }

    #[test]
    fn memory_held_elsewhere_counts_against_the_budget() {
        let one = Footprint::default().add(&batches()[0]);
        let mut accepted = Accepted::new(
            batches()[0].schema(),
            Budget {
                bytes: 2 * one,
                dir: None,
            },
        );
        accepted.set_elsewhere(one + 1);
        accepted.push(batches()[0].clone()).unwrap();
        assert_eq!(accepted.spilled(), 1);
    }

    #[test]
    fn shared_buffers_and_slices_count_once() {
        let batch = batches()[2].clone();
        let mut footprint = Footprint::default();
        let whole = footprint.add(&batch);
        assert!(whole > 0);
        assert_eq!(
            footprint.add(&batch.slice(1, 2)),
            0,
            "a slice of counted buffers"
        );
        assert_eq!(footprint.add(&batch), 0);
        assert_eq!(Footprint::default().add(&batch.slice(1, 2)), whole);
        assert!(footprint.add(&batches()[1]) > 0, "other buffers");
    }

    #[test]
    fn once_rows_went_to_disk_later_ones_follow_them() {
        // A small batch after a spilled one still goes to disk: the order stays the input's.
        let big = Footprint::default().add(&batches()[2]);
        let mut accepted = Accepted::new(
            batches()[0].schema(),
            Budget {
                bytes: big - 1,
                dir: None,
            },
        );
        for batch in [batches()[2].clone(), batches()[1].clone()] {
            accepted.push(batch).unwrap();
        }
        assert_eq!(accepted.spilled(), 2);
    }
}
