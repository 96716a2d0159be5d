//! Group commit: writes that arrive while another is being stored wait for it, then are stored
//! together, in one transaction on one connection, each in a savepoint of its own.
//!
//! Committing is the fixed cost of a write (on SQLite the WAL frames and their checksums, on
//! PostgreSQL a flush to disk), and each write on its own also costs a hop to a blocking thread
//! and a connection from the pool. Under a flood of replies from other servers that fixed cost
//! was most of the work; taken together, a batch pays it once. A write that fails fails alone:
//! its batch is stored again with each write in a savepoint, and the others are stored.
//! Replies written here are stored the same way ([`Site::reply`]): 32 writers on SQLite, side by
//! side, 1,320-1,420 replies a second one transaction each, 4,400-5,000 together (p99 44-48 ->
//! 13-15 ms).
//!
//! There is no task waiting for work: the first write to arrive when none is being stored
//! starts a drainer, which takes whatever is queued (at most [`MOST`] at a time) until the queue
//! is empty, then ends. A drainer that is cancelled (the runtime stopping) lets the next write
//! start another; what it had taken answers with an error, so its senders try again.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use tokio::sync::oneshot;

use super::{Inner, Site};
use crate::db::Conn;
use crate::error::ForumError;

/// The most writes one transaction takes: enough that the commit is a small part of a busy
/// batch, few enough that a batch holds the write lock for milliseconds, not seconds.
const MOST: usize = 64;

/// One write. It may run twice: once with the whole batch, and again in a savepoint of its own
/// when a write of that batch failed (see [`store`]). `M` is what the writes of one batch
/// share: reads that several of them would repeat, kept by the first (made afresh for each
/// try of the batch).
pub(super) type Work<T, M = ()> =
    Box<dyn Fn(&mut Conn<'_>, &mut M) -> Result<T, ForumError> + Send>;

/// Run once per batch, after its writes and before the commit, with what the writes that
/// succeeded returned: bookkeeping that every write would otherwise repeat (counts), done once.
pub(super) type Finish<T> = fn(&mut Conn<'_>, &[&T]) -> Result<(), ForumError>;

struct Job<T, M> {
    work: Work<T, M>,
    done: oneshot::Sender<Result<T, ForumError>>,
}

/// Writes of one kind waiting to be stored together.
pub(super) struct GroupCommit<T, M = ()> {
    queue: Mutex<Vec<Job<T, M>>>,
    /// How many drainers are running.
    draining: AtomicUsize,
    /// How many may run at once.
    drainers: usize,
    finish: Finish<T>,
}

impl<T, M> GroupCommit<T, M> {
    /// Writes stored `drainers` batches at a time (at least one), each batch finished by
    /// `finish`.
    pub(super) fn new(drainers: usize, finish: Finish<T>) -> GroupCommit<T, M> {
        GroupCommit {
            queue: Mutex::new(Vec::new()),
            draining: AtomicUsize::new(0),
            drainers: drainers.max(1),
            finish,
        }
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Vec<Job<T, M>>> {
        // A panic while the lock was held cannot leave the queue half-changed (push and drain
        // are whole), so a poisoned lock is still a good queue.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Becomes a drainer unless as many as may run are running; true when it did.
    fn start(&self) -> bool {
        self.draining
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < self.drainers).then_some(n + 1)
            })
            .is_ok()
    }

    fn stop(&self) {
        self.draining.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Counts a drainer out when it ends in any way while counted in.
struct Draining<'a, T, M> {
    commits: &'a GroupCommit<T, M>,
    held: bool,
}

impl<T, M> Drop for Draining<'_, T, M> {
    fn drop(&mut self) {
        if self.held {
            self.commits.stop();
        }
    }
}

/// Which group of an [`Inner`] a write belongs to.
pub(super) type Group<T, M = ()> = fn(&Inner) -> &GroupCommit<T, M>;

impl Site {
    /// Stores `work` with whatever other writes of `group` arrive meanwhile; answers with what it
    /// returned once its batch is committed (or with its own error, its batch stored without it).
    pub(super) async fn together<T: Send + 'static, M: Default + 'static>(
        &self,
        group: Group<T, M>,
        work: Work<T, M>,
    ) -> Result<T, ForumError> {
        let (done, answer) = oneshot::channel();
        let commits = group(&self.inner);
        commits.queue().push(Job { work, done });
        if commits.start() {
            tokio::spawn(self.clone().drain(group));
        }
        answer.await.map_err(|_| {
            ForumError::Internal("the write was stopped before it was stored".into())
        })?
    }

    async fn drain<T: Send + 'static, M: Default + 'static>(self, group: Group<T, M>) {
        let commits = group(&self.inner);
        let mut draining = Draining {
            commits,
            held: true,
        };
        loop {
            let jobs: Vec<Job<T, M>> = {
                let mut queue = commits.queue();
                let take = queue.len().min(MOST);
                queue.drain(..take).collect()
            };
            if jobs.is_empty() {
                draining.held = false;
                commits.stop();
                // A write queued after the take above may have seen this drainer running and
                // started none.
                if commits.queue().is_empty() || !commits.start() {
                    return;
                }
                draining.held = true;
                continue;
            }
            let (works, dones): (Vec<Work<T, M>>, Vec<_>) =
                jobs.into_iter().map(|job| (job.work, job.done)).unzip();
            let finish = commits.finish;
            let stored = self
                .blocking(move |_inner, conn| store(conn, &works, finish))
                .await;
            match stored {
                Ok(results) => {
                    for (done, result) in dones.into_iter().zip(results) {
                        // The writer may have stopped waiting (its request timed out): what
                        // it wrote is stored all the same, and a repeat is recognised.
                        let _ = done.send(result);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, writes = dones.len(), "a batch of writes failed");
                    for done in dones {
                        let _ = done.send(Err(ForumError::Internal(format!(
                            "storing failed, nothing was stored: {e}"
                        ))));
                    }
                }
            }
        }
    }
}

/// Stores a batch: first all together, with nothing between the writes (on PostgreSQL a
/// savepoint is two more round trips a write); when one of them fails, the batch is rolled back
/// and stored again with each write in a savepoint of its own, so that only that one fails.
fn store<T, M: Default>(
    conn: &mut Conn<'_>,
    works: &[Work<T, M>],
    finish: Finish<T>,
) -> Result<Vec<Result<T, ForumError>>, ForumError> {
    let together = conn.transaction(|conn| {
        let mut shared = M::default();
        let values = works
            .iter()
            .map(|work| work(conn, &mut shared))
            .collect::<Result<Vec<T>, ForumError>>()?;
        finish(conn, &values.iter().collect::<Vec<_>>())?;
        Ok::<_, ForumError>(values)
    });
    if let Ok(values) = together {
        return Ok(values.into_iter().map(Ok).collect());
    }
    conn.transaction(|conn| {
        let mut shared = M::default();
        let results: Vec<Result<T, ForumError>> = works
            .iter()
            .map(|work| conn.savepoint(|conn| work(conn, &mut shared)))
            .collect();
        let succeeded: Vec<&T> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        finish(conn, &succeeded)?;
        Ok(results)
    })
}
