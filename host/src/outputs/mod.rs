//! Alerts and where they go.
//!
//! ```text
//! engine ─► Alert ─► Outputs::push ─┬─► [queue] stdout thread
//!    (never blocks: an alert over   ├─► [queue] file thread     (SIGUSR1: reopen)
//!     its source's share or the     ├─► [queue] syslog thread
//!     queue's bounds is dropped     ├─► [queue] program thread
//!     and counted)                  └─► [queue] http thread     (retries, backoff)
//! ```
//!
//! [`format`] renders rule outputs, [`alert`] is Falco's text and JSON form,
//! [`sinks`] the channels, [`queue`] the queues' bounds and each source's
//! share of them, [`config::OutputsConfig`] their falco.yaml keys.

pub mod alert;
pub mod config;
pub mod format;
pub mod nats;
pub mod queue;
pub mod sinks;

use alert::{Alert, FormatOptions};
use queue::{Budget, QueueLimits, Ticket};
use sinks::Sink;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::{Duration, Instant};

/// Counters of one channel.
#[derive(Debug, Default)]
pub struct SinkStats {
    /// Alerts delivered.
    pub sent: AtomicU64,
    /// Alerts dropped: the channel's queue was full or the alert's source
    /// over its share of it (see [`queue`]).
    pub dropped: AtomicU64,
    /// Alerts the channel failed to deliver (after its retries).
    pub failed: AtomicU64,
    /// Retried attempts (http).
    pub retries: AtomicU64,
    /// The accounting that knows `dropped` per source, and this channel's
    /// index in it (`None` for counters made by hand).
    budget: Option<(Arc<Budget>, usize)>,
}

impl SinkStats {
    /// (source, alerts dropped) for each source that pushed alerts; the
    /// counts add up to `dropped`.
    pub fn dropped_by_source(&self) -> Vec<(String, u64)> {
        self.budget
            .as_ref()
            .map_or_else(Vec::new, |(b, ch)| b.dropped(*ch))
    }
}

enum Msg {
    Alert(Arc<Alert>, Ticket),
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

/// Room in each channel beyond its alerts, for reopen and flush requests.
const CONTROL_SLOTS: usize = 16;

/// The running output channels.
pub struct Outputs {
    channels: Vec<Channel>,
    budget: Arc<Budget>,
}

impl Outputs {
    /// Starts one thread per sink, each behind a queue of `capacity` alerts
    /// and [`queue::DEFAULT_QUEUE_BYTES`].
    pub fn start(sinks: Vec<Box<dyn Sink>>, format: FormatOptions, capacity: usize) -> Outputs {
        Outputs::start_with(sinks, format, QueueLimits::alerts(capacity))
    }

    /// Starts one thread per sink, each behind a queue bounded by `limits`.
    pub fn start_with(
        sinks: Vec<Box<dyn Sink>>,
        format: FormatOptions,
        limits: QueueLimits,
    ) -> Outputs {
        let budget = Arc::new(Budget::new(limits, sinks.len()));
        let channels = sinks
            .into_iter()
            .enumerate()
            .map(|(index, sink)| {
                let (tx, rx) = sync_channel(limits.alerts.max(1) + CONTROL_SLOTS);
                let stats = Arc::new(SinkStats {
                    budget: Some((Arc::clone(&budget), index)),
                    ..SinkStats::default()
                });
                let name = sink.name();
                let (done_tx, done) = sync_channel(1);
                let run = SinkRun {
                    stats: Arc::clone(&stats),
                    budget: Arc::clone(&budget),
                    index,
                    format,
                };
                std::thread::Builder::new()
                    .name(format!("output-{name}"))
                    .spawn(move || {
                        run.run(sink, rx);
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
        Outputs { channels, budget }
    }

    /// Queues an alert on every channel; never blocks. An alert over its
    /// source's share of a channel's queue, or over the queue's bounds, is
    /// dropped from that channel and counted (for the channel and the
    /// source).
    pub fn push(&self, alert: Alert) {
        let share = self.budget.enter(&alert.source);
        let bytes = queue::alert_size(&alert);
        let a = Arc::new(alert);
        for (index, c) in self.channels.iter().enumerate() {
            let Some(ticket) = self.budget.admit(index, share, bytes) else {
                c.stats.dropped.fetch_add(1, Ordering::Relaxed);
                continue;
            };
            if c.tx.try_send(Msg::Alert(Arc::clone(&a), ticket)).is_err() {
                // Full (cannot happen: admission bounds it) or the thread ended.
                self.budget.refuse(index, ticket);
                c.stats.dropped.fetch_add(1, Ordering::Relaxed);
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

    /// (source, alerts dropped) for each source that pushed alerts, summed
    /// over the channels (an alert dropped by two channels counts twice, as
    /// in the channels' `dropped`).
    pub fn dropped_by_source(&self) -> Vec<(String, u64)> {
        let mut total: Vec<(String, u64)> = Vec::new();
        for c in &self.channels {
            for (source, n) in c.stats.dropped_by_source() {
                match total.iter_mut().find(|(s, _)| *s == source) {
                    Some((_, t)) => *t += n,
                    None => total.push((source, n)),
                }
            }
        }
        total
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

/// What a channel's thread needs besides its sink and queue.
struct SinkRun {
    stats: Arc<SinkStats>,
    budget: Arc<Budget>,
    index: usize,
    format: FormatOptions,
}

impl SinkRun {
    /// Delivers the channel's messages until its queue is closed; each
    /// alert gives its place in the queue back once written.
    fn run(self, mut sink: Box<dyn Sink>, rx: Receiver<Msg>) {
        let stats = &self.stats;
        let mut reported = 0u64;
        for msg in rx {
            match msg {
                Msg::Alert(a, ticket) => {
                    let r = sink.write(&a, &a.line(&self.format));
                    drop(a);
                    self.budget.release(self.index, ticket);
                    stats.retries.store(sink.retries(), Ordering::Relaxed);
                    match r {
                        Ok(()) => {
                            stats.sent.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
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
                    }
                }
                Msg::Reopen => sink.reopen(),
                Msg::Flush(done) => {
                    let _ = done.send(());
                }
            }
        }
    }
}
