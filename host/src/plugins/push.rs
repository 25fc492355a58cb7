//! The queue between a plugin's webhook and the plugin: bodies POSTed by
//! clients wait here until the plugin's source takes them through the
//! `receive` host import. The web server (`server::push`) fills it; the
//! plugin owns it.
//!
//! Every client is assumed hostile: the queue is bounded in bodies and in
//! bytes, and a body's bytes are reserved before it is read, so bodies in
//! flight count too.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bodies waiting for a plugin.
#[derive(Debug)]
pub struct PushQueue {
    state: Mutex<State>,
    capacity: usize,
    max_body: usize,
    max_bytes: usize,
    /// Bodies accepted.
    pub received: AtomicU64,
    /// POSTs refused: unauthorised, too large, queue full, or the body
    /// not received in time.
    pub refused: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    bodies: VecDeque<Vec<u8>>,
    /// Bytes of the queued bodies.
    queued: usize,
    /// Bytes promised to bodies being received.
    reserved: usize,
}

impl PushQueue {
    /// A queue of at most `capacity` bodies of at most `max_body` bytes,
    /// holding (with the bodies being received) at most `max_bytes`
    /// bytes. A body larger than `max_bytes` could never be queued, so
    /// `max_body` is at most `max_bytes`.
    pub fn new(capacity: usize, max_body: usize, max_bytes: usize) -> PushQueue {
        PushQueue {
            state: Mutex::new(State::default()),
            capacity,
            max_body: max_body.min(max_bytes),
            max_bytes,
            received: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The largest body accepted.
    pub fn max_body(&self) -> usize {
        self.max_body
    }

    /// Bytes of the bodies waiting (not counting those being received).
    pub fn queued_bytes(&self) -> usize {
        self.lock().queued
    }

    /// Promises `bytes` of the byte budget to a body about to be received;
    /// `None` when the body is too large or the queue is full.
    pub fn reserve(&self, bytes: usize) -> Option<Reservation<'_>> {
        let mut s = self.lock();
        if bytes > self.max_body
            || s.bodies.len() >= self.capacity
            || s.queued + s.reserved + bytes > self.max_bytes
        {
            return None;
        }
        s.reserved += bytes;
        Some(Reservation { queue: self, bytes })
    }

    /// Queues a body; false if refused (counted).
    pub fn push(&self, body: Vec<u8>) -> bool {
        let queued = self.reserve(body.len()).is_some_and(|r| r.commit(body));
        if !queued {
            self.refused.fetch_add(1, Ordering::Relaxed);
        }
        queued
    }

    /// Takes up to `max` bodies, oldest first, and (past the first) no
    /// more than `max_bytes` in all: what a plugin's memory must hold.
    pub fn take(&self, max: usize, max_bytes: usize) -> Vec<Vec<u8>> {
        let mut s = self.lock();
        let mut taken = Vec::new();
        let mut bytes = 0;
        while taken.len() < max {
            let Some(len) = s.bodies.front().map(Vec::len) else {
                break;
            };
            if !taken.is_empty() && bytes + len > max_bytes {
                break;
            }
            bytes += len;
            taken.extend(s.bodies.pop_front());
        }
        s.queued -= bytes;
        taken
    }
}

/// Bytes of a [`PushQueue`]'s budget promised to one body; given back
/// when dropped unless the body is queued.
#[derive(Debug)]
pub struct Reservation<'a> {
    queue: &'a PushQueue,
    bytes: usize,
}

impl Reservation<'_> {
    /// Bytes reserved.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Reserves up to `total` bytes; false (nothing changed) when the
    /// body would be too large or the budget is spent.
    pub fn grow_to(&mut self, total: usize) -> bool {
        if total <= self.bytes {
            return true;
        }
        let q = self.queue;
        let mut s = q.lock();
        let more = total - self.bytes;
        if total > q.max_body || s.queued + s.reserved + more > q.max_bytes {
            return false;
        }
        s.reserved += more;
        self.bytes = total;
        true
    }

    /// Queues `body` in the place reserved (counted as received); false
    /// when it does not fit: larger than reserved and no more budget, or
    /// the queue already holds its number of bodies.
    pub fn commit(mut self, body: Vec<u8>) -> bool {
        if !self.grow_to(body.len()) {
            return false;
        }
        let q = self.queue;
        let mut s = q.lock();
        if s.bodies.len() >= q.capacity {
            return false;
        }
        s.reserved -= self.bytes;
        self.bytes = 0;
        s.queued += body.len();
        s.bodies.push_back(body);
        q.received.fetch_add(1, Ordering::Relaxed);
        true
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if self.bytes > 0 {
            self.queue.lock().reserved -= self.bytes;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_budget_counts_queued_and_reserved_bytes() {
        let q = PushQueue::new(100, 8, 10);
        assert!(q.push(vec![0; 6]));
        assert!(!q.push(vec![0; 6]), "6 + 6 > 10");
        let r = q.reserve(4).unwrap();
        assert!(q.reserve(1).is_none(), "6 queued + 4 reserved");
        drop(r);
        let mut r = q.reserve(0).unwrap();
        assert!(r.grow_to(4));
        assert!(!r.grow_to(5));
        assert!(r.commit(vec![1; 3]));
        assert_eq!(q.queued_bytes(), 9);
        assert_eq!(q.take(1, usize::MAX), vec![vec![0; 6]]);
        assert_eq!(q.queued_bytes(), 3);
        assert!(q.push(vec![2; 7]));
        assert_eq!(q.refused.load(Ordering::Relaxed), 1);
        assert_eq!(q.received.load(Ordering::Relaxed), 3);
        assert_eq!(PushQueue::new(1, 100, 10).max_body(), 10);
        // Past the first body, no more than the bytes asked for.
        let q2 = PushQueue::new(10, 100, 1000);
        for n in [40, 40, 40] {
            assert!(q2.push(vec![0; n]));
        }
        assert_eq!(q2.take(10, 10).len(), 1);
        assert_eq!(q2.take(10, 80).len(), 2);
        assert_eq!(q2.queued_bytes(), 0);
    }
}
