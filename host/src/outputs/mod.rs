//! Alerts and where they go.
//!
//! ```text
//! engine ─► Alert ─► Outputs::push ─┬─► [queue] stdout thread
//!    (never blocks: a full queue    ├─► [queue] file thread     (SIGUSR1: reopen)
//!     drops and counts)             ├─► [queue] syslog thread
//!                                   ├─► [queue] program thread
//!                                   └─► [queue] http thread     (retries, backoff)
//! ```
//!
//! [`format`] renders rule outputs, [`alert`] is Falco's text and JSON form,
//! [`sinks`] the channels, [`config::OutputsConfig`] their falco.yaml keys.

pub mod alert;
pub mod append;
pub mod config;
pub mod format;
pub mod sinks;

use alert::{Alert, FormatOptions};
use sinks::Sink;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, Instant};

/// Counters of one channel.
#[derive(Debug, Default)]
pub struct SinkStats {
    /// Alerts delivered.
    pub sent: AtomicU64,
    /// Alerts dropped because the channel's queue was full.
    pub dropped: AtomicU64,
    /// Alerts the channel failed to deliver (after its retries).
    pub failed: AtomicU64,
    /// Retried attempts (http).
    pub retries: AtomicU64,
}

enum Msg {
    Alert(Arc<Alert>),
    Reopen,
    Flush(SyncSender<()>),
}

struct Channel {
    name: &'static str,
    tx: SyncSender<Msg>,
    stats: Arc<SinkStats>,
    /// Signalled when the sink's thread ends (a Mutex only to make
    /// `Outputs` shareable between source threads; used at shutdown).
    done: std::sync::Mutex<Receiver<()>>,
}

/// How long [`Outputs::flush`] and shutdown wait for a channel (a stalled
/// receiver must not hold the engine hostage).
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// The running output channels.
pub struct Outputs {
    channels: Vec<Channel>,
}

impl Outputs {
    /// Starts one thread per sink, each behind a queue of `capacity` alerts.
    pub fn start(sinks: Vec<Box<dyn Sink>>, format: FormatOptions, capacity: usize) -> Outputs {
        let channels = sinks
            .into_iter()
            .map(|sink| {
                let (tx, rx) = sync_channel(capacity.max(1));
                let stats = Arc::new(SinkStats::default());
                let name = sink.name();
                let s = Arc::clone(&stats);
                let (done_tx, done) = sync_channel(1);
                std::thread::Builder::new()
                    .name(format!("output-{name}"))
                    .spawn(move || {
                        run_sink(sink, rx, s, format);
                        let _ = done_tx.send(());
                    })
                    .expect("spawn output thread");
                Channel {
                    name,
                    tx,
                    stats,
                    done: std::sync::Mutex::new(done),
                }
            })
            .collect();
        Outputs { channels }
    }

    /// Queues an alert on every channel; never blocks.
    pub fn push(&self, alert: Alert) {
        let a = Arc::new(alert);
        for c in &self.channels {
            match c.tx.try_send(Msg::Alert(Arc::clone(&a))) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                    c.stats.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// Asks file channels to reopen their files (log rotation).
    pub fn reopen(&self) {
        for c in &self.channels {
            let _ = c.tx.try_send(Msg::Reopen);
        }
    }

    /// Waits until every channel has handled what was queued before (at
    /// most [`DRAIN_TIMEOUT`] per channel).
    pub fn flush(&self) {
        let deadline = Instant::now() + DRAIN_TIMEOUT;
        for c in &self.channels {
            let (tx, rx) = sync_channel(1);
            if c.tx.try_send(Msg::Flush(tx)).is_ok() {
                let _ = rx.recv_timeout(deadline.saturating_duration_since(Instant::now()));
            }
        }
    }

    /// (channel, counters) for each channel.
    pub fn stats(&self) -> Vec<(&'static str, Arc<SinkStats>)> {
        self.channels
            .iter()
            .map(|c| (c.name, Arc::clone(&c.stats)))
            .collect()
    }
}

impl Drop for Outputs {
    /// Delivers what is queued and stops the threads; a channel still stuck
    /// after [`DRAIN_TIMEOUT`] is left behind (it dies with the process).
    fn drop(&mut self) {
        let deadline = Instant::now() + DRAIN_TIMEOUT;
        for c in &mut self.channels {
            let (tx, _) = sync_channel(1);
            drop(std::mem::replace(&mut c.tx, tx));
        }
        for c in &self.channels {
            if let Ok(done) = c.done.lock() {
                let _ = done.recv_timeout(deadline.saturating_duration_since(Instant::now()));
            }
        }
    }
}

fn run_sink(
    mut sink: Box<dyn Sink>,
    rx: Receiver<Msg>,
    stats: Arc<SinkStats>,
    format: FormatOptions,
) {
    let mut reported = 0u64;
    for msg in rx {
        match msg {
            Msg::Alert(a) => match sink.write(&a, &a.line(&format)) {
                Ok(()) => {
                    stats.sent.fetch_add(1, Ordering::Relaxed);
                    stats.retries.store(sink.retries(), Ordering::Relaxed);
                }
                Err(e) => {
                    stats.retries.store(sink.retries(), Ordering::Relaxed);
                    let n = stats.failed.fetch_add(1, Ordering::Relaxed) + 1;
                    // Say it the first time and then at powers of two.
                    if n.is_power_of_two() && n > reported {
                        reported = n;
                        crate::log::error(&format!(
                            "{} output failed ({n} alert(s) so far): {e}",
                            sink.name()
                        ));
                    }
                }
            },
            Msg::Reopen => sink.reopen(),
            Msg::Flush(done) => {
                let _ = done.send(());
            }
        }
    }
}
