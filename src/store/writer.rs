//! Group commit: one thread owns redb's single write transaction. Callers queue operations;
//! the thread runs everything queued in one transaction, commits durably (fsync) once, then
//! answers each caller. This queue is the in-process lock that replaces Redis: an operation's
//! availability check and its insert run with no other writer in between.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use redb::{Database, Durability, WriteTransaction};
use tokio::sync::{mpsc, oneshot};

use super::StoreError;

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
    quick_repair: Arc<AtomicBool>,
}

/// Clears `alive` when the writer thread ends, however it ends.
struct Alive(Arc<AtomicBool>);

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

impl Writer {
    /// Starts the writer thread. It stops when every handle is dropped, after draining.
    pub fn start(
        db: Arc<Database>,
        lock_timeout: Duration,
    ) -> (Writer, std::thread::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
        let in_flight = Arc::new(AtomicUsize::new(0));
        let closing = Arc::new(AtomicBool::new(false));
        let alive = Arc::new(AtomicBool::new(true));
        let quick_repair = Arc::new(AtomicBool::new(false));
        let (counter, stop, guard) = (in_flight.clone(), closing.clone(), Alive(alive.clone()));
        let quick = quick_repair.clone();
        let handle = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || {
                let _guard = guard;
                run_writer(&db, rx, lock_timeout, &counter, &stop, &quick);
            })
            .expect("spawn the store writer thread");
        (
            Writer {
                queue: tx,
                in_flight,
                closing,
                alive,
                quick_repair,
            },
            handle,
        )
    }

    /// With `on`, every commit from now on saves the allocator state in two phases, so that
    /// opening the store after a crash needs no full repair (at the price of a second fsync).
    pub fn set_quick_repair(&self, on: bool) {
        self.quick_repair.store(on, Ordering::Relaxed);
    }

    /// Runs `f` inside a write transaction and returns its result once that transaction is
    /// durably committed. An `Err` from `f` rolls back every operation of the same commit.
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
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Whether the writer thread is running (writes can succeed).
    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
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

fn run_writer(
    db: &Database,
    mut rx: mpsc::Receiver<Box<dyn Pending>>,
    lock_timeout: Duration,
    in_flight: &AtomicUsize,
    closing: &AtomicBool,
    quick_repair: &AtomicBool,
) {
    let mut batch: Vec<Box<dyn Pending>> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        commit_batch(
            db,
            &mut batch,
            lock_timeout,
            quick_repair.load(Ordering::Relaxed),
        );
        metrics::gauge!("store_write_queue_depth").set(in_flight.load(Ordering::Relaxed) as f64);
        if closing.load(Ordering::SeqCst) {
            break;
        }
    }
    tracing::info!("store writer stopped");
}

fn commit_batch(
    db: &Database,
    batch: &mut Vec<Box<dyn Pending>>,
    lock_timeout: Duration,
    quick_repair: bool,
) {
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
    let txn = match begin(db, quick_repair) {
        Ok(txn) => txn,
        Err(e) => {
            tracing::error!(error = %e, "cannot begin a write transaction");
            for op in live {
                op.fail(StoreError::Closed);
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
    metrics::histogram!("store_commit_duration_seconds").record(started.elapsed().as_secs_f64());
    metrics::histogram!("store_commit_batch_size").record(done.len() as f64);
    if let Err(e) = &outcome
        && !matches!(e, StoreError::BatchAborted)
    {
        tracing::error!(error = %e, "store commit failed");
    }
    for d in done {
        let commit = match &outcome {
            Ok(()) => Ok(()),
            Err(StoreError::BatchAborted) => Err(StoreError::BatchAborted),
            Err(e) => Err(StoreError::CommitFailed(e.to_string())),
        };
        d.finish(commit);
    }
}

fn begin(db: &Database, quick_repair: bool) -> Result<WriteTransaction, StoreError> {
    let mut txn = db.begin_write()?;
    txn.set_durability(Durability::Immediate)?;
    // Without quick repair (`server.quick_repair`, off by default) a crashed store is repaired
    // on open by reading it whole (bench/run.sh history: ~3 s at 1 M reservations, 1.7 GB),
    // and each commit costs one fsync instead of two (about a third more holds per second).
    txn.set_quick_repair(quick_repair);
    Ok(txn)
}
