//! Threads of the server's own for work that is heavy in memory and CPU (password
//! hashes, photos), rather than the runtime's blocking threads.
//!
//! The runtime starts blocking threads as it likes, and the allocator keeps each one's
//! freed memory for it: 20 MiB hashes and photo buffers spread over a changing set of
//! threads made the server's memory grow with every new one. A fixed set of threads,
//! each doing one job at a time, keeps it to what those few need at their largest. The
//! queue is bounded, and a job whose caller went away is skipped.

use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::oneshot;

/// Why a job was not done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkError {
    /// So many jobs wait already that this one would not be reached in good time.
    #[error("the server is busy; try again in a moment")]
    Busy,
    /// The threads are gone (they failed to start, or a job panicked on each).
    #[error("the server's {0} threads are not running")]
    Stopped(&'static str),
}

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of threads taking jobs from one bounded queue.
pub struct WorkerPool {
    name: &'static str,
    jobs: mpsc::SyncSender<Job>,
}

impl WorkerPool {
    /// `threads` threads named after `name`, with at most `queue` jobs waiting.
    pub fn new(name: &'static str, threads: usize, queue: usize) -> Self {
        let (jobs, waiting) = mpsc::sync_channel::<Job>(queue);
        let waiting = Arc::new(Mutex::new(waiting));
        for n in 0..threads.max(1) {
            let waiting = Arc::clone(&waiting);
            let spawned = std::thread::Builder::new()
                .name(format!("{name}-{n}"))
                .spawn(move || loop {
                    let next = waiting
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .recv();
                    match next {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                });
            if let Err(error) = spawned {
                tracing::error!(%error, name, "could not start a worker thread");
            }
        }
        Self { name, jobs }
    }

    /// Runs `job` on one of the pool's threads and answers what it returns.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, WorkError> {
        let (done, answer) = oneshot::channel::<T>();
        let work: Job = Box::new(move || {
            // Its caller went away (the client hung up): no one would read the answer.
            if !done.is_closed() {
                let _ = done.send(job());
            }
        });
        self.jobs.try_send(work).map_err(|error| match error {
            mpsc::TrySendError::Full(_) => WorkError::Busy,
            mpsc::TrySendError::Disconnected(_) => WorkError::Stopped(self.name),
        })?;
        answer.await.map_err(|_| WorkError::Stopped(self.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn jobs_run_on_the_pools_own_threads() {
        let pool = WorkerPool::new("test-worker", 2, 8);
        let name = pool
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .expect("ran");
        assert!(name.is_some_and(|name| name.starts_with("test-worker-")));
        let sums = futures_util::future::join_all((0..6u64).map(|n| pool.run(move || n * n))).await;
        assert_eq!(sums, [Ok(0), Ok(1), Ok(4), Ok(9), Ok(16), Ok(25)]);
    }

    #[tokio::test]
    async fn a_full_queue_says_busy_and_an_abandoned_job_is_skipped() {
        let pool = Arc::new(WorkerPool::new("test-busy", 1, 1));
        let (release, held) = std::sync::mpsc::channel::<()>();
        let blocking = Arc::clone(&pool);
        let blocker = tokio::spawn(async move {
            blocking
                .run(move || {
                    let _ = held.recv_timeout(Duration::from_secs(5));
                })
                .await
        });
        // Let the thread take the blocker, then fill the one place in the queue.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let queued = {
            let (ran, pool) = (Arc::clone(&ran), Arc::clone(&pool));
            tokio::spawn(async move {
                pool.run(move || ran.store(true, std::sync::atomic::Ordering::SeqCst))
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(pool.run(|| ()).await, Err(WorkError::Busy));
        // The queued job's caller goes away before its turn: it is not run.
        queued.abort();
        tokio::time::sleep(Duration::from_millis(50)).await;
        release.send(()).expect("release");
        blocker.await.expect("joined").expect("ran");
        // The thread passes over the abandoned job and is free again.
        let mut answer = pool.run(|| 7).await;
        for _ in 0..50 {
            if answer != Err(WorkError::Busy) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            answer = pool.run(|| 7).await;
        }
        assert_eq!(answer, Ok(7));
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
    }
}
