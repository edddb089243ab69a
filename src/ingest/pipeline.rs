//! Validating one input on every core: a reader thread splits the input into chunks of rows,
//! workers check the chunks, and the calling thread merges the checked chunks in input order
//! (duplicate case ids, rejects, counts, batches), so the result does not depend on how many
//! workers there are or which finishes first.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

use indicatif::ProgressBar;

use super::rows::Rows;
use super::store::Budget;
use super::validate::{Checked, FileRules, Validator};

/// How the rows are split up and checked.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Validating worker threads (at least 1).
    pub workers: usize,
    /// Rows per chunk handed to a worker.
    pub chunk_rows: usize,
    /// Where the accepted rows are held.
    pub budget: Budget,
    /// Whether decoded Parquet columns are read directly where their rule allows (the same
    /// result as checking their text, [`super::validate::FileRules::read_typed`]).
    pub read_typed: bool,
    /// Whether chunks are checked a column at a time (the same result as row by row,
    /// [`super::validate::FileRules::columnar`]).
    pub columnar: bool,
}

impl Plan {
    /// One worker per available core, chunks of 16,384 rows.
    pub fn available() -> Plan {
        Plan {
            workers: thread::available_parallelism().map_or(1, usize::from),
            chunk_rows: 16_384,
            budget: Budget::unlimited(),
            read_typed: true,
            columnar: true,
        }
    }

    /// Chunks handed out but not merged yet, at most: bounds the memory in flight.
    fn in_flight(&self) -> usize {
        2 * self.workers.max(1) + 2
    }
}

/// Hands a chunk to the workers; `false` when validation has stopped (then stop reading).
pub type Handoff<'s> = dyn FnMut(Rows) -> bool + 's;

/// A checked chunk (its rows as checked, and the outcome), or the panic of the worker.
type Done = (usize, thread::Result<anyhow::Result<(Rows, Checked)>>);

/// Runs `read` on a reader thread, checks the chunks it sends with `rules` on `plan.workers`
/// threads and merges them into `validator` in the order they were read. The first error in
/// input order wins: a chunk's error before the reader's own.
pub fn validate<R>(
    plan: &Plan,
    rules: &FileRules,
    validator: &mut Validator,
    progress: &ProgressBar,
    read: R,
) -> anyhow::Result<()>
where
    R: FnOnce(&mut Handoff) -> anyhow::Result<()> + Send,
{
    let in_flight = plan.in_flight();
    let stopped = AtomicBool::new(false);
    thread::scope(|scope| {
        let (work_sender, work) = sync_channel::<(usize, Rows)>(in_flight);
        let (done_sender, done) = sync_channel::<Done>(in_flight);
        // The reader takes a ticket per chunk and the merge gives it back, so at most
        // `in_flight` chunks exist at once, however far one worker falls behind.
        let (ticket_sender, tickets) = sync_channel::<()>(in_flight);
        for _ in 0..in_flight {
            ticket_sender.send(())?;
        }
        let stopped = &stopped;
        let reader = scope.spawn(move || {
            let mut next = 0;
            read(&mut |rows: Rows| {
                let sent = !stopped.load(Ordering::Relaxed)
                    && tickets.recv().is_ok()
                    && work_sender.send((next, rows)).is_ok();
                next += 1;
                sent
            })
        });
        let work = Arc::new(Mutex::new(work));
        for _ in 0..plan.workers.max(1) {
            let work = Arc::clone(&work);
            let done_sender = done_sender.clone();
            scope.spawn(move || {
                let mut row = Vec::new();
                loop {
                    let next = work.lock().unwrap_or_else(PoisonError::into_inner).recv();
                    let Ok((sequence, rows)) = next else { break };
                    let checked = catch_unwind(AssertUnwindSafe(|| {
                        let rows = rules.text(rows)?;
                        let checked = rules.check(&rows, &mut row)?;
                        Ok((rows, checked))
                    }));
                    if done_sender.send((sequence, checked)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(work);
        drop(done_sender);
        let merged = merge(rules, validator, progress, done, ticket_sender);
        // After an error the reader stops at its next chunk instead of using up its tickets.
        stopped.store(true, Ordering::Relaxed);
        let read = reader.join().unwrap_or_else(|panic| resume_unwind(panic));
        merged.and(read)
    })
}

/// Merges checked chunks in sequence order until the workers are done, or up to an error; either
/// way the receiver and the tickets are dropped on return, which stops the reader and workers.
fn merge(
    rules: &FileRules,
    validator: &mut Validator,
    progress: &ProgressBar,
    done: Receiver<Done>,
    tickets: SyncSender<()>,
) -> anyhow::Result<()> {
    let mut waiting = BTreeMap::new();
    let mut next = 0;
    for (sequence, checked) in done {
        waiting.insert(sequence, checked);
        while let Some(checked) = waiting.remove(&next) {
            let (rows, checked) = checked.unwrap_or_else(|panic| resume_unwind(panic))?;
            validator.merge(rules, &rows, checked)?;
            next += 1;
            progress.set_position(validator.counts.read);
            let _ = tickets.send(());
        }
    }
    anyhow::ensure!(waiting.is_empty(), "a validating worker stopped early");
    Ok(())
}
