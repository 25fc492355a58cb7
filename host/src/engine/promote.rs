//! Slots the Wasm back end extracts up front, learned from the events: a
//! slot a group's evaluations fetch nearly every time is cheaper extracted
//! before the call, with the slots every evaluation reads, than fetched by
//! a host call from inside it.
//!
//! Results do not depend on it: a slot's value is the same extracted up
//! front or fetched, and slots left missing are never fetched, so never
//! promoted. One exception: a promoted field's bytes count against the
//! filter's memory limit on every event, also those whose rules would not
//! have reached it (a value too large for the limit is an evaluation
//! error either way). A promotion is kept (a workload that changes may
//! leave a slot extracted it no longer needs; a group's slots bound that
//! cost).

/// Evaluations of a group between two decisions.
pub(super) const WINDOW: u32 = 1024;

/// A slot fetched in at least this many of a window's evaluations is
/// promoted (three in four).
const OFTEN: u32 = WINDOW / 4 * 3;

/// What one group's evaluations fetched in the current window.
#[derive(Clone, Debug, Default)]
pub(super) struct Fetches {
    evals: u32,
    /// Fetches per slot of the group (in the order of its sorted slots).
    counts: Vec<u32>,
}

impl Fetches {
    /// Counts a fetch of `slot`, one of the group's sorted `slots`.
    pub(super) fn fetched(&mut self, slots: &[u32], slot: u32) {
        if self.counts.len() != slots.len() {
            self.counts = vec![0; slots.len()];
        }
        if let Ok(i) = slots.binary_search(&slot) {
            self.counts[i] = self.counts[i].saturating_add(1);
        }
    }

    /// Counts an evaluation; at the end of a window, the slots fetched
    /// often join `eager` (kept sorted).
    pub(super) fn evaluated(&mut self, slots: &[u32], eager: &mut Vec<u32>) {
        self.evals += 1;
        if self.evals < WINDOW {
            return;
        }
        self.evals = 0;
        let before = eager.len();
        for (&s, c) in slots.iter().zip(&mut self.counts) {
            if *c >= OFTEN && eager.binary_search(&s).is_err() {
                eager.push(s);
            }
            *c = 0;
        }
        if eager.len() != before {
            eager.sort_unstable();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_fetched_often_are_promoted_once() {
        let slots = [2, 5, 9];
        let mut eager = vec![2];
        let mut f = Fetches::default();
        for i in 0..WINDOW {
            // slot 5 in every evaluation, 9 in half, 7 is not the group's
            f.fetched(&slots, 5);
            if i % 2 == 0 {
                f.fetched(&slots, 9);
            }
            f.fetched(&slots, 7);
            f.evaluated(&slots, &mut eager);
        }
        assert_eq!(eager, [2, 5]);
        // each window counts from zero: one fetch short of three in four
        // is not often
        for i in 0..WINDOW {
            if i > WINDOW / 4 {
                f.fetched(&slots, 9);
            }
            f.evaluated(&slots, &mut eager);
        }
        assert_eq!(eager, [2, 5]);
        for _ in 0..WINDOW {
            f.fetched(&slots, 9);
            f.evaluated(&slots, &mut eager);
        }
        assert_eq!(eager, [2, 5, 9]);
    }
}
