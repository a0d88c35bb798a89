//! Picking up a new build without a restart. A [`Watcher`] thread compares the root's
//! [`Stamp`] (three `stat` calls) with the served build's at an interval, and reloads on a
//! change or when asked ([`Watcher::reload`], which the binary calls on SIGHUP). The new
//! build is loaded on the watcher's thread, off the request path, and swapped in whole;
//! a build that does not load is refused and logged, and the old one keeps serving.
//!
//! Polling rather than filesystem events: an atomic swap shows as a new inode at the
//! root's path on every filesystem (network and container mounts included, where inotify
//! sees nothing), a retargeted symlink (`current -> releases/42`) does too, and the cost
//! is three `stat` calls per interval, none per request.

use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::service::{Mount, Reloaded};
use crate::stamp::Stamp;

/// How often a [`Watcher`] looks at the root by default.
pub const DEFAULT_WATCH_INTERVAL: Duration = Duration::from_secs(1);

/// The tracing target of reload events (INFO for a reload, ERROR for a refused build).
pub const RELOAD_LOG_TARGET: &str = "assetc::reload";

/// What a [`Watcher`] has done so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchStatus {
    /// Reloads attempted (successful or refused).
    pub attempts: u64,
    /// The last attempt: the reload, or why the new build was refused.
    pub last: Option<Result<Reloaded, String>>,
}

#[derive(Debug, Default)]
struct Shared {
    status: Mutex<WatchStatus>,
    changed: Condvar,
}

impl Shared {
    fn record(&self, outcome: Result<Reloaded, String>) {
        let mut status = self.status.lock().unwrap_or_else(|e| e.into_inner());
        status.attempts += 1;
        status.last = Some(outcome);
        self.changed.notify_all();
    }
}

enum Message {
    Reload,
    Stop,
}

/// A thread that reloads a [`Mount`] when a new build appears at its root, or when
/// asked. Stopped (and joined) on drop.
#[derive(Debug)]
pub struct Watcher {
    tx: mpsc::Sender<Message>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// Asks a [`Watcher`] to reload; cheap to clone and to send to a signal handler.
#[derive(Debug, Clone)]
pub struct ReloadHandle {
    tx: mpsc::Sender<Message>,
}

impl ReloadHandle {
    /// Reloads now, whatever the stamp says (returns at once; the reload is logged).
    pub fn reload(&self) {
        let _ = self.tx.send(Message::Reload);
    }
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Message::Reload => "Reload",
            Message::Stop => "Stop",
        })
    }
}

impl Watcher {
    /// Watches `mount`'s root every `interval` (`None`: only reload when asked).
    pub fn start(mount: Mount, interval: Option<Duration>) -> Watcher {
        let (tx, rx) = mpsc::channel();
        let shared = Arc::new(Shared::default());
        let for_thread = shared.clone();
        let thread = std::thread::Builder::new()
            .name("assetc-reload".into())
            .spawn(move || run(&mount, &rx, interval, &for_thread))
            .expect("spawn the reload thread");
        Watcher {
            tx,
            shared,
            thread: Some(thread),
        }
    }

    /// What the watcher has done so far.
    pub fn status(&self) -> WatchStatus {
        self.shared
            .status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits until more than `attempts` reloads have been attempted, at most `timeout`;
    /// returns the status then, or `None` on timeout.
    pub fn wait_for_attempt(&self, attempts: u64, timeout: Duration) -> Option<WatchStatus> {
        let deadline = Instant::now() + timeout;
        let mut status = self.shared.status.lock().unwrap_or_else(|e| e.into_inner());
        while status.attempts <= attempts {
            let left = deadline.checked_duration_since(Instant::now())?;
            status = self
                .shared
                .changed
                .wait_timeout(status, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        Some(status.clone())
    }

    /// Reloads now, whatever the stamp says (returns at once; the reload is logged).
    pub fn reload(&self) {
        let _ = self.tx.send(Message::Reload);
    }

    /// A handle that asks for reloads, for a signal handler.
    pub fn handle(&self) -> ReloadHandle {
        ReloadHandle {
            tx: self.tx.clone(),
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.tx.send(Message::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(mount: &Mount, rx: &mpsc::Receiver<Message>, interval: Option<Duration>, shared: &Shared) {
    // The stamp of a build that was refused: not tried again until the root changes
    // again, or a reload is asked for.
    let mut refused: Option<Stamp> = None;
    loop {
        let message = match interval {
            Some(interval) => rx.recv_timeout(interval),
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        let mut forced = match message {
            Ok(Message::Reload) => true,
            Ok(Message::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => false,
        };
        // Requests that queued meanwhile are one reload.
        while let Ok(message) = rx.try_recv() {
            match message {
                Message::Reload => forced = true,
                Message::Stop => return,
            }
        }
        let current = mount.build();
        let stamp = Stamp::of(current.root());
        if !forced && (stamp.is_none() || stamp == current.stamp() || stamp == refused) {
            continue;
        }
        match mount.reload() {
            Ok(r) => {
                refused = None;
                log_reloaded(current.root(), &r, forced);
                shared.record(Ok(r));
            }
            Err(error) => {
                refused = stamp;
                tracing::error!(
                    target: RELOAD_LOG_TARGET,
                    "refused the new build at `{}`: {error}; still serving generation {}",
                    current.root().display(),
                    current.generation(),
                );
                shared.record(Err(error.to_string()));
            }
        }
    }
}

fn log_reloaded(root: &Path, r: &Reloaded, forced: bool) {
    let why = if forced { "on request" } else { "new build" };
    let change = if r.generation == r.previous {
        "unchanged".to_owned()
    } else {
        format!("was {}", r.previous)
    };
    tracing::info!(
        target: RELOAD_LOG_TARGET,
        "reloaded `{}` ({why}): generation {} ({change}), {} URLs, {} older generations kept, {} KiB in memory ({} KiB reused), in {} ms",
        root.display(),
        r.generation,
        r.routes,
        r.older_generations,
        r.memory_bytes / 1024,
        r.reused_bytes / 1024,
        r.took.as_millis(),
    );
}
