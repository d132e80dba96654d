//! Group commit: one thread owns redb's single write transaction. Callers queue operations;
//! the thread runs everything queued in one transaction, commits durably (fsync) once, then
//! answers each caller. This queue is the in-process lock that replaces Redis: an operation's
//! availability check and its insert run with no other writer in between.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use redb::{Database, Durability, WriteTransaction};
use tokio::sync::{mpsc, oneshot};

use super::StoreError;
use super::hold_limits::LiveHolds;
use super::space::{self, DbHandle, SpaceGuard};
use super::unreadable::Unreadable;

/// Most operations folded into one commit.
const MAX_BATCH: usize = 512;
/// Most operations waiting; beyond it callers get [`StoreError::Busy`] at once.
const QUEUE_CAPACITY: usize = 16_384;

trait Pending: Send {
    fn enqueued(&self) -> Instant;
    fn run(self: Box<Self>, txn: &WriteTransaction) -> Box<dyn Finish>;
    fn fail(self: Box<Self>, error: StoreError);
}

trait Finish: Send {
    fn failed(&self) -> bool;
    fn finish(self: Box<Self>, commit: Result<(), StoreError>);
}

struct Op<F, T> {
    enqueued: Instant,
    f: F,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

struct Done<T> {
    result: Result<T, StoreError>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<F, T> Pending for Op<F, T>
where
    F: FnOnce(&WriteTransaction) -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    fn enqueued(&self) -> Instant {
        self.enqueued
    }

    fn run(self: Box<Self>, txn: &WriteTransaction) -> Box<dyn Finish> {
        let Op { f, reply, .. } = *self;
        let result = catch_unwind(AssertUnwindSafe(|| f(txn))).unwrap_or_else(|_| {
            tracing::error!("a store write operation panicked; its commit is rolled back");
            Err(StoreError::Panicked)
        });
        Box::new(Done { result, reply })
    }

    fn fail(self: Box<Self>, error: StoreError) {
        let _ = self.reply.send(Err(error));
    }
}

impl<T: Send + 'static> Finish for Done<T> {
    fn failed(&self) -> bool {
        self.result.is_err()
    }

    fn finish(self: Box<Self>, commit: Result<(), StoreError>) {
        let outcome = self.result.and_then(|v| commit.map(|()| v));
        let _ = self.reply.send(outcome);
    }
}

/// Handle to the writer thread; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<Box<dyn Pending>>,
    in_flight: Arc<AtomicUsize>,
    closing: Arc<AtomicBool>,
    alive: Arc<AtomicBool>,
    space: Arc<SpaceGuard>,
    quick_repair: Arc<AtomicBool>,
    unreadable: Unreadable,
}

/// Clears `alive` when the writer thread ends, however it ends.
struct Alive(Arc<AtomicBool>);

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

impl Writer {
    /// Starts the writer thread for the store in `dir`. It stops when every handle is
    /// dropped, after draining.
    pub fn start(
        db: Arc<DbHandle>,
        dir: PathBuf,
        lock_timeout: Duration,
        (unreadable, live_holds): (Unreadable, Arc<LiveHolds>),
    ) -> (Writer, std::thread::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
        let in_flight = Arc::new(AtomicUsize::new(0));
        let closing = Arc::new(AtomicBool::new(false));
        let alive = Arc::new(AtomicBool::new(true));
        let space = Arc::new(SpaceGuard::new(dir));
        let quick_repair = Arc::new(AtomicBool::new(false));
        let (counter, stop, guard) = (in_flight.clone(), closing.clone(), Alive(alive.clone()));
        let (thread_space, quick) = (space.clone(), quick_repair.clone());
        let handle = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || {
                let _guard = guard;
                live_holds.install();
                let ctx = WriterContext {
                    live_holds: &live_holds,
                    lock_timeout,
                    in_flight: &counter,
                    closing: &stop,
                    space: &thread_space,
                    quick_repair: &quick,
                };
                run_writer(&db, rx, &ctx);
            })
            .expect("spawn the store writer thread");
        (
            Writer {
                queue: tx,
                in_flight,
                closing,
                alive,
                space,
                quick_repair,
                unreadable,
            },
            handle,
        )
    }

    /// With `on`, every commit from now on saves the allocator state in two phases, so that
    /// opening the store after a crash needs no full repair (at the price of a second fsync).
    pub fn set_quick_repair(&self, on: bool) {
        self.quick_repair.store(on, Ordering::Relaxed);
    }

    /// Writes are refused while less than `bytes` are free (0: never).
    pub fn set_min_free_bytes(&self, bytes: u64) {
        self.space.set_min_free(bytes);
    }

    /// Whether the last write was refused because the disk is full.
    pub fn is_storage_full(&self) -> bool {
        self.space.is_full()
    }

    /// Runs `f` inside a write transaction and returns its result once that transaction is
    /// durably committed. An `Err` from `f` rolls back every operation of the same commit; a
    /// record `f` could not decode is noted.
    pub async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&WriteTransaction) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let op = Box::new(Op {
            enqueued: Instant::now(),
            f,
            reply,
        });
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        let _guard = InFlight(&self.in_flight);
        self.queue.try_send(op).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => StoreError::Busy,
            mpsc::error::TrySendError::Closed(_) => StoreError::Closed,
        })?;
        let result = answer.await.map_err(|_| StoreError::Closed)?;
        if let Err(e) = &result {
            self.unreadable.note_error(e);
        }
        result
    }

    /// Whether the writer thread is running (writes can succeed).
    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    /// Whether [`Writer::close`] was called: long readers stop at their next pause.
    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }

    /// Runs one last (empty) commit, then stops the thread; writes queued after it get
    /// [`StoreError::Closed`]. Call after the HTTP server has drained.
    pub async fn close(&self) {
        self.closing.store(true, Ordering::SeqCst);
        let _ = self.write(|_| Ok(())).await;
    }

    /// Operations queued or running right now (the "locks held").
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }
}

struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What the writer thread works with besides the database and its queue.
struct WriterContext<'a> {
    live_holds: &'a LiveHolds,
    lock_timeout: Duration,
    in_flight: &'a AtomicUsize,
    closing: &'a AtomicBool,
    space: &'a SpaceGuard,
    quick_repair: &'a AtomicBool,
}

fn run_writer(db: &DbHandle, mut rx: mpsc::Receiver<Box<dyn Pending>>, ctx: &WriterContext<'_>) {
    let mut batch: Vec<Box<dyn Pending>> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        commit_batch(db, &mut batch, ctx);
        metrics::gauge!("store_write_queue_depth")
            .set(ctx.in_flight.load(Ordering::Relaxed) as f64);
        if ctx.closing.load(Ordering::SeqCst) {
            break;
        }
    }
    tracing::info!("store writer stopped");
}

fn commit_batch(handle: &DbHandle, batch: &mut Vec<Box<dyn Pending>>, ctx: &WriterContext<'_>) {
    let (lock_timeout, space) = (ctx.lock_timeout, ctx.space);
    let mut live = Vec::with_capacity(batch.len());
    for op in batch.drain(..) {
        let waited = op.enqueued().elapsed();
        metrics::histogram!("reservation_lock_wait_seconds").record(waited.as_secs_f64());
        if waited > lock_timeout {
            metrics::counter!("store_lock_timeouts_total").increment(1);
            op.fail(StoreError::LockTimeout);
        } else {
            live.push(op);
        }
    }
    if live.is_empty() {
        return;
    }
    if space.below_minimum() {
        space.set_full(true);
        metrics::counter!("store_writes_refused_total", "reason" => "storage_full")
            .increment(live.len() as u64);
        for op in live {
            op.fail(StoreError::StorageFull);
        }
        return;
    }
    let txn = match begin(handle, ctx.quick_repair.load(Ordering::Relaxed)) {
        Ok(txn) => txn,
        Err(e) => {
            tracing::error!(error = %e, "cannot begin a write transaction");
            let answer = if space::means_no_space(&e) {
                StoreError::StorageFull
            } else {
                StoreError::Closed
            };
            for op in live {
                op.fail(clone_refusal(&answer));
            }
            return;
        }
    };
    let started = Instant::now();
    let done: Vec<Box<dyn Finish>> = live.into_iter().map(|op| op.run(&txn)).collect();
    let outcome = if done.iter().any(|d| d.failed()) {
        let _ = txn.abort();
        Err(StoreError::BatchAborted)
    } else {
        txn.commit().map_err(StoreError::from)
    };
    ctx.live_holds.settle(outcome.is_ok());
    metrics::histogram!("store_commit_duration_seconds").record(started.elapsed().as_secs_f64());
    metrics::histogram!("store_commit_batch_size").record(done.len() as f64);
    let no_space = matches!(&outcome, Err(e) if space::means_no_space(e));
    match &outcome {
        Ok(()) => space.set_full(false),
        Err(StoreError::BatchAborted) => {}
        Err(e) => {
            tracing::error!(error = %e, "store commit failed");
            if no_space {
                space.set_full(true);
            }
            if space::needs_reopen(e) {
                reopen(handle);
            }
        }
    }
    for d in done {
        let commit = match &outcome {
            Ok(()) => Ok(()),
            Err(StoreError::BatchAborted) => Err(StoreError::BatchAborted),
            Err(_) if no_space => Err(StoreError::StorageFull),
            Err(e) => Err(StoreError::CommitFailed(e.to_string())),
        };
        d.finish(commit);
    }
}

/// The same refusal for every caller of a batch.
fn clone_refusal(e: &StoreError) -> StoreError {
    match e {
        StoreError::StorageFull => StoreError::StorageFull,
        _ => StoreError::Closed,
    }
}

/// Closes and opens the database again after an I/O failure, so later writes can succeed.
fn reopen(handle: &DbHandle) {
    if let Err(e) = handle.reopen() {
        tracing::error!(error = %e, "cannot reopen the store; retrying with the next write");
    }
}

/// Begins the batch's transaction; a database left failed by an earlier I/O error (or closed
/// by a reopen that did not finish) is reopened first.
fn begin(handle: &DbHandle, quick_repair: bool) -> Result<WriteTransaction, StoreError> {
    match handle.get().and_then(|db| begin_on(&db, quick_repair)) {
        Err(e) if space::needs_reopen(&e) || matches!(e, StoreError::Closed) => {
            handle.reopen()?;
            begin_on(&*handle.get()?, quick_repair)
        }
        other => other,
    }
}

fn begin_on(db: &Database, quick_repair: bool) -> Result<WriteTransaction, StoreError> {
    let mut txn = db.begin_write()?;
    txn.set_durability(Durability::Immediate)?;
    // With quick repair (`server.quick_repair`, off by default) each commit saves the allocator
    // state, so a crashed store opens without reading the live file whole; that state grows with
    // the file and each commit becomes two-phase. Without it a crashed store's first open reads
    // the live file (0.66-0.83 s at 1 M reservations with the archive file, bench/run.sh).
    txn.set_quick_repair(quick_repair);
    Ok(txn)
}
