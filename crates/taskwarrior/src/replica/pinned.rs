//! The thread the replica is written from, kept on one CPU together with taskchampion's own
//! storage thread. Every storage call of taskchampion is a round trip between the two threads
//! (a task created is about a dozen), and when the two run on different CPUs each round trip
//! wakes the other CPU: measured on a 2-CPU VM, 1,000 new tasks took 0.7-1.0 s that way and
//! 0.15-0.18 s with both threads on one CPU, one apply 1.2-1.7 ms against 0.6-0.7 ms.
//! taskchampion starts its storage thread from the thread that opens the replica, and a new
//! thread inherits its creator's CPU affinity: so the replica is opened and written only from
//! here. Each writer takes the next CPU it may run on, so two writers in one process spread.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::runtime::Handle;
use tokio::sync::oneshot;

/// Writers started in this process: the next one takes the next CPU.
static STARTED: AtomicUsize = AtomicUsize::new(0);

/// A thread with a runtime of its own, on one CPU.
pub(crate) struct Pinned {
    handle: Handle,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Pinned {
    /// Starts the thread; `None` when it cannot be started (then the caller's runtime writes).
    pub(crate) fn start() -> Option<Pinned> {
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("replica-writer".into())
            .spawn(move || {
                pin_to_one_cpu();
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        tracing::warn!(error = %e, "no runtime for the replica writer");
                        return;
                    }
                };
                if handle_tx.send(rt.handle().clone()).is_ok() {
                    rt.block_on(async {
                        let _ = stopped.await;
                    });
                }
            })
            .ok()?;
        let handle = handle_rx.recv().ok()?;
        Some(Pinned {
            handle,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Runs `f` on the thread; `None` if it did not finish there (it panicked).
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        f: impl Future<Output = T> + Send + 'static,
    ) -> Option<T> {
        self.handle.spawn(f).await.ok()
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Keeps the calling thread (and the threads it starts) on one of the CPUs it may run on,
/// taken in turn; left as it is when the system does not allow it.
fn pin_to_one_cpu() {
    use rustix::thread::{CpuSet, sched_getaffinity, sched_setaffinity};
    let Ok(allowed) = sched_getaffinity(None) else {
        return;
    };
    let cpus: Vec<usize> = (0..CpuSet::MAX_CPU)
        .filter(|&c| allowed.is_set(c))
        .collect();
    if cpus.len() < 2 {
        return;
    }
    let mut one = CpuSet::new();
    one.set(cpus[STARTED.fetch_add(1, Ordering::Relaxed) % cpus.len()]);
    if let Err(e) = sched_setaffinity(None, &one) {
        tracing::debug!(error = %e, "the replica writer runs on any CPU");
    }
}
