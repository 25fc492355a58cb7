//! Admission to the channels' queues: each channel's queue is bounded in
//! alerts and in bytes, and every source gets a fair share of both.
//!
//! Several sources (the syscall capture, one thread per plugin source, the
//! engine's internal alerts) push into the same channels. Without shares a
//! source emitting as fast as it can keeps every queue full and the others'
//! alerts are dropped. With them:
//!
//! - a source is *active* while it has pushed in the last [`ACTIVE_FOR`];
//! - with `n` active sources, each may hold `pool / n` alerts and bytes of a
//!   channel's queue, where `pool` is the bound minus a reserve of an eighth
//!   (a lone source gets the whole pool);
//! - the reserve lets a source that was quiet (an internal alert, a source
//!   starting up) queue at once even while another source still holds the
//!   whole pool: that source is held to its new share from then on and its
//!   excess drains;
//! - a source with nothing queued may always queue one alert, however large,
//!   as long as the channel's bounds allow it;
//! - an alert over its source's share or over the channel's bounds is
//!   dropped and counted for its channel and its source.
//!
//! An alert holds its place until its channel has written it. The
//! accounting is atomics in slots made at start: it adds no allocation and
//! no waiting to a push (only a source's first alert takes a lock, to name
//! its slot).

use super::alert::{Alert, FieldValue};
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// Byte bound of each channel's queue when none is configured.
pub const DEFAULT_QUEUE_BYTES: usize = 64 << 20;

/// A source counts as active for this long after its last alert.
pub const ACTIVE_FOR: Duration = Duration::from_secs(1);

/// Sources counted one by one; more share the last slot, [`OTHER_SOURCES`].
pub const MAX_SOURCES: usize = 64;

/// The name of the slot shared by sources past [`MAX_SOURCES`].
pub const OTHER_SOURCES: &str = "<other>";

/// How often the number of active sources is counted again (a source that
/// becomes active is counted at once).
const RECOUNT_MS: u64 = 100;

/// Bounds of each channel's queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueLimits {
    /// Alerts (`outputs_queue.capacity`).
    pub alerts: usize,
    /// Bytes, as [`alert_size`] estimates them (`outputs_queue.max_bytes`).
    pub bytes: usize,
}

impl QueueLimits {
    /// `alerts` alerts and [`DEFAULT_QUEUE_BYTES`] (each at least 1).
    pub fn alerts(alerts: usize) -> QueueLimits {
        QueueLimits {
            alerts: alerts.max(1),
            bytes: DEFAULT_QUEUE_BYTES,
        }
    }

    /// The part of a bound that shares are cut from (the rest is the
    /// reserve for sources that were quiet).
    fn pool(bound: usize) -> usize {
        (bound - bound / 8).max(1)
    }
}

/// An estimate of the memory an alert holds while queued: its strings, its
/// `output_fields` and a fixed overhead for the structures around them.
pub fn alert_size(a: &Alert) -> usize {
    const OVERHEAD: usize = 256;
    const PER_ITEM: usize = 32;
    let tags: usize = a.tags.iter().map(|t| t.len() + PER_ITEM).sum();
    let fields: usize = a
        .fields
        .iter()
        .map(|(name, v)| {
            name.len()
                + PER_ITEM
                + match v {
                    Some(FieldValue::Text(s)) => s.len(),
                    _ => 8,
                }
        })
        .sum();
    OVERHEAD + a.rule.len() + a.source.len() + a.message.len() + a.hostname.len() + tags + fields
}

/// Alerts and bytes held.
#[derive(Debug, Default)]
struct Usage {
    alerts: AtomicUsize,
    bytes: AtomicUsize,
}

/// One source's use of one channel.
#[derive(Debug, Default)]
struct SourceUse {
    held: Usage,
    dropped: AtomicU64,
}

/// One source: its name (set once), when it last pushed, its use of each
/// channel.
#[derive(Debug)]
struct Slot {
    name: OnceLock<Box<str>>,
    /// Milliseconds since the budget started, plus one (0: never pushed).
    last_push: AtomicU64,
    channels: Box<[SourceUse]>,
}

/// Where an alert was admitted: its source's slot and its size.
#[derive(Clone, Copy, Debug)]
pub(super) struct Ticket {
    slot: usize,
    bytes: usize,
}

/// What a source may hold of each channel right now.
#[derive(Clone, Copy, Debug)]
pub(super) struct Share {
    slot: usize,
    alerts: usize,
    bytes: usize,
}

/// The queues' accounting, shared by the pushing threads and the channels.
pub(super) struct Budget {
    limits: QueueLimits,
    start: Instant,
    /// `MAX_SOURCES` slots: named ones first (`named` of them), the last is
    /// [`OTHER_SOURCES`].
    slots: Box<[Slot]>,
    named: AtomicUsize,
    naming: Mutex<()>,
    /// Per channel.
    totals: Box<[Usage]>,
    /// Active sources, as last counted, and when (ms since start).
    active: AtomicUsize,
    counted_at: AtomicU64,
}

impl fmt::Debug for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Budget")
            .field("limits", &self.limits)
            .field("channels", &self.totals.len())
            .field("sources", &self.named.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Budget {
    /// The accounting for `channels` channels.
    pub(super) fn new(limits: QueueLimits, channels: usize) -> Budget {
        let slots = (0..MAX_SOURCES)
            .map(|_| Slot {
                name: OnceLock::new(),
                last_push: AtomicU64::new(0),
                channels: (0..channels).map(|_| SourceUse::default()).collect(),
            })
            .collect::<Box<[Slot]>>();
        let _ = slots[MAX_SOURCES - 1].name.set(OTHER_SOURCES.into());
        Budget {
            limits: QueueLimits {
                alerts: limits.alerts.max(1),
                bytes: limits.bytes.max(1),
            },
            start: Instant::now(),
            slots,
            named: AtomicUsize::new(0),
            naming: Mutex::new(()),
            totals: (0..channels).map(|_| Usage::default()).collect(),
            active: AtomicUsize::new(1),
            counted_at: AtomicU64::new(0),
        }
    }

    /// Notes that `source` pushes now; returns what it may hold.
    pub(super) fn enter(&self, source: &str) -> Share {
        let slot = self.slot_of(source);
        let now = self.start.elapsed().as_millis() as u64 + 1;
        let last = &self.slots[slot].last_push;
        let before = last.load(Ordering::Relaxed);
        if before != now {
            last.store(now, Ordering::Relaxed);
        }
        let newly_active =
            before == 0 || now.saturating_sub(before) > ACTIVE_FOR.as_millis() as u64;
        let active = if newly_active
            || now.saturating_sub(self.counted_at.load(Ordering::Relaxed)) > RECOUNT_MS
        {
            self.count_active(now)
        } else {
            self.active.load(Ordering::Relaxed)
        };
        let n = active.max(1);
        Share {
            slot,
            alerts: (QueueLimits::pool(self.limits.alerts) / n).max(1),
            bytes: (QueueLimits::pool(self.limits.bytes) / n).max(1),
        }
    }

    /// Counts the sources that pushed in the last [`ACTIVE_FOR`].
    fn count_active(&self, now: u64) -> usize {
        let window = ACTIVE_FOR.as_millis() as u64;
        let n = self
            .live_slots()
            .filter(|s| {
                let t = s.last_push.load(Ordering::Relaxed);
                t != 0 && now.saturating_sub(t) <= window
            })
            .count();
        self.active.store(n, Ordering::Relaxed);
        self.counted_at.store(now, Ordering::Relaxed);
        n
    }

    /// The named slots and the shared one.
    fn live_slots(&self) -> impl Iterator<Item = &Slot> {
        let named = self.named.load(Ordering::Acquire);
        self.slots[..named]
            .iter()
            .chain(std::iter::once(&self.slots[MAX_SOURCES - 1]))
    }

    /// The slot of a source (named on its first alert).
    fn slot_of(&self, source: &str) -> usize {
        let find = |named: usize| {
            self.slots[..named]
                .iter()
                .position(|s| s.name.get().is_some_and(|n| **n == *source))
        };
        if let Some(i) = find(self.named.load(Ordering::Acquire)) {
            return i;
        }
        let _naming = self.naming.lock().unwrap_or_else(PoisonError::into_inner);
        let named = self.named.load(Ordering::Acquire);
        if let Some(i) = find(named) {
            return i;
        }
        if named == MAX_SOURCES - 1 {
            return MAX_SOURCES - 1;
        }
        let _ = self.slots[named].name.set(source.into());
        self.named.store(named + 1, Ordering::Release);
        named
    }

    /// Reserves a place on a channel for an alert of `bytes` bytes; `None`
    /// (and a drop counted for the source) when its source is over its share
    /// or the channel over its bounds.
    pub(super) fn admit(&self, channel: usize, share: Share, bytes: usize) -> Option<Ticket> {
        let src = &self.slots[share.slot].channels[channel];
        let total = &self.totals[channel];
        let ticket = Ticket {
            slot: share.slot,
            bytes,
        };
        let held = src.held.alerts.fetch_add(1, Ordering::Relaxed);
        let held_bytes = src.held.bytes.fetch_add(bytes, Ordering::Relaxed);
        let queued = total.alerts.fetch_add(1, Ordering::Relaxed);
        let queued_bytes = total.bytes.fetch_add(bytes, Ordering::Relaxed);
        let fits = held < share.alerts
            // A source's first alert is not held to its byte share.
            && (held == 0 || held_bytes + bytes <= share.bytes)
            && queued < self.limits.alerts
            && queued_bytes + bytes <= self.limits.bytes;
        if fits {
            Some(ticket)
        } else {
            self.release(channel, ticket);
            src.dropped.fetch_add(1, Ordering::Relaxed);
            None
        }
    }

    /// Gives back an admitted alert's place (written, or not queued after
    /// all).
    pub(super) fn release(&self, channel: usize, t: Ticket) {
        let src = &self.slots[t.slot].channels[channel].held;
        let total = &self.totals[channel];
        src.alerts.fetch_sub(1, Ordering::Relaxed);
        src.bytes.fetch_sub(t.bytes, Ordering::Relaxed);
        total.alerts.fetch_sub(1, Ordering::Relaxed);
        total.bytes.fetch_sub(t.bytes, Ordering::Relaxed);
    }

    /// Counts a drop for an admitted alert that could not be queued, and
    /// gives its place back.
    pub(super) fn refuse(&self, channel: usize, t: Ticket) {
        self.release(channel, t);
        self.slots[t.slot].channels[channel]
            .dropped
            .fetch_add(1, Ordering::Relaxed);
    }

    /// (source, alerts dropped) of a channel, for each source that pushed.
    pub(super) fn dropped(&self, channel: usize) -> Vec<(String, u64)> {
        self.live_slots()
            .filter(|s| s.last_push.load(Ordering::Relaxed) != 0)
            .map(|s| {
                let name = s.name.get().map_or("", |n| &**n).to_string();
                (name, s.channels[channel].dropped.load(Ordering::Relaxed))
            })
            .collect()
    }

    /// Alerts and bytes a channel holds now.
    #[cfg(test)]
    fn held(&self, channel: usize) -> (usize, usize) {
        let t = &self.totals[channel];
        (
            t.alerts.load(Ordering::Relaxed),
            t.bytes.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(alerts: usize, bytes: usize) -> QueueLimits {
        QueueLimits { alerts, bytes }
    }

    #[test]
    fn a_lone_source_gets_the_pool_and_shares_it_when_another_arrives() {
        let b = Budget::new(limits(64, 1 << 20), 1);
        let a = b.enter("a");
        let mut held = Vec::new();
        while let Some(t) = b.admit(0, a, 100) {
            held.push(t);
        }
        assert_eq!(held.len(), 56, "64 minus the reserve");
        // Source b arrives: the reserve takes its alerts at once; a is now
        // held to half the pool.
        let s = b.enter("b");
        assert!(b.admit(0, s, 100).is_some());
        let a = b.enter("a");
        for t in held.drain(..30) {
            b.release(0, t);
        }
        assert_eq!(b.held(0), (27, 2700));
        assert!(b.admit(0, a, 100).is_some(), "26 < 28");
        assert!(b.admit(0, a, 100).is_some());
        assert!(b.admit(0, a, 100).is_none(), "a holds its 28");
        assert_eq!(b.dropped(0), vec![("a".into(), 2), ("b".into(), 0)]);
    }

    #[test]
    fn bytes_are_bounded_and_shared() {
        let b = Budget::new(limits(1000, 8000), 1);
        let a = b.enter("a");
        let first = b.admit(0, a, 7000).expect("a first alert fits the bound");
        assert!(b.admit(0, a, 100).is_none(), "over a's 7000 byte pool");
        let s = b.enter("b");
        assert!(
            b.admit(0, s, 2000).is_none(),
            "over the channel's 8000 bytes"
        );
        assert!(b.admit(0, s, 900).is_some());
        b.release(0, first);
        assert_eq!(b.held(0), (1, 900));
        assert!(b.admit(0, s, 9000).is_none(), "never over the bound");
    }

    #[test]
    fn sources_past_the_limit_share_a_slot() {
        let b = Budget::new(limits(10, 1 << 20), 2);
        for i in 0..MAX_SOURCES + 5 {
            let s = b.enter(&format!("s{i}"));
            assert_eq!(s.slot, i.min(MAX_SOURCES - 1));
        }
        let names: Vec<String> = b.dropped(1).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names.len(), MAX_SOURCES);
        assert_eq!(names.last().map(String::as_str), Some(OTHER_SOURCES));
    }
}
