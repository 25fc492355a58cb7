//! What the control thread watches: signals, the files whose change
//! reloads, and source steps that stall.

use guest_sdk::native::CallError;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// The signal flags of a run.
pub struct Signals {
    hup: Arc<AtomicBool>,
    reopen: Arc<AtomicBool>,
}

impl Signals {
    /// SIGINT and SIGTERM set `stop`; SIGHUP asks for a reload, SIGUSR1
    /// for output files to be reopened.
    pub fn install(stop: &Arc<AtomicBool>) -> std::io::Result<Signals> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};
        let s = Signals {
            hup: Arc::default(),
            reopen: Arc::default(),
        };
        for (sig, flag) in [
            (SIGINT, stop),
            (SIGTERM, stop),
            (SIGHUP, &s.hup),
            (SIGUSR1, &s.reopen),
        ] {
            signal_hook::flag::register(sig, Arc::clone(flag))?;
        }
        Ok(s)
    }

    /// Whether SIGHUP came since the last look.
    pub fn hup(&self) -> bool {
        self.hup.swap(false, Ordering::Relaxed)
    }

    /// Whether SIGUSR1 came since the last look.
    pub fn reopen(&self) -> bool {
        self.reopen.swap(false, Ordering::Relaxed)
    }
}

/// The files whose change triggers a reload.
pub type Watched<'a> = &'a (dyn Fn() -> Vec<PathBuf> + Sync);

/// (path, modification time, length) of each watched file.
type Fingerprint = Vec<(PathBuf, Option<SystemTime>, u64)>;

/// `watch_config_files`: the watched files as last seen.
pub struct Watch<'a> {
    watched: Watched<'a>,
    enabled: AtomicBool,
    seen: Mutex<Fingerprint>,
}

impl<'a> Watch<'a> {
    /// Watches the files `watched` lists (when `enabled`).
    pub fn new(watched: Watched<'a>, enabled: bool) -> Watch<'a> {
        let print = fingerprint(&watched());
        Watch {
            watched,
            enabled: AtomicBool::new(enabled),
            seen: Mutex::new(print),
        }
    }

    /// Turns watching on or off (a reload may change the key).
    pub fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::Relaxed);
    }

    /// Whether a watched file changed, came or went since the last look
    /// (the list is made again: a file new in a rules directory counts).
    pub fn changed(&self) -> bool {
        if !self.enabled.load(Ordering::Relaxed) {
            return false;
        }
        let now = fingerprint(&(self.watched)());
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let changed = now != *seen;
        *seen = now;
        changed
    }

    /// Lists the watched files again (after a reload: rules files may have
    /// come or gone).
    pub fn rearm(&self) {
        let print = fingerprint(&(self.watched)());
        *self.seen.lock().unwrap_or_else(|p| p.into_inner()) = print;
    }
}

fn fingerprint(files: &[PathBuf]) -> Fingerprint {
    files
        .iter()
        .map(|f| {
            let m = std::fs::metadata(f).ok();
            (
                f.clone(),
                m.as_ref().and_then(|m| m.modified().ok()),
                m.map_or(0, |m| m.len()),
            )
        })
        .collect()
}

/// A source's step that has run far past its time limit: a plugin call
/// blocked in a file operation that does not return (those run in place
/// and are not cut at the deadline). Said once per step.
pub struct Stall {
    name: String,
    /// The longest call limit of the source's plugins.
    limit: Option<Duration>,
    /// Milliseconds since `base` when the current step began; 0: idle.
    since: AtomicU64,
    base: Instant,
    said: AtomicBool,
}

impl Stall {
    /// Watches the steps of source `name`; `limit`: its plugins' longest
    /// call limit (no limit: never stalled).
    pub fn new(name: &str, limit: Option<Duration>) -> Stall {
        Stall {
            name: name.to_string(),
            limit,
            since: AtomicU64::new(0),
            base: Instant::now(),
            said: AtomicBool::new(false),
        }
    }

    /// The source's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The call limit this watch was made with.
    pub fn limit(&self) -> Option<Duration> {
        self.limit
    }

    /// A step begins.
    pub fn begin(&self) {
        let ms = self.base.elapsed().as_millis() as u64;
        self.since.store(ms.max(1), Ordering::Relaxed);
    }

    /// The step ended.
    pub fn end(&self) {
        self.since.store(0, Ordering::Relaxed);
        self.said.store(false, Ordering::Relaxed);
    }

    /// The stall, the first time it is seen in a step: past twice the
    /// call limit, plus a second.
    pub fn check(&self) -> Option<CallError> {
        let limit = self.limit? * 2 + Duration::from_secs(1);
        let since = self.since.load(Ordering::Relaxed);
        // A step begun within the first millisecond is stored as 1: `now`
        // may still be 0.
        let blocked = (self.base.elapsed().as_millis() as u64).saturating_sub(since);
        if since == 0
            || blocked < limit.as_millis() as u64
            || self.said.swap(true, Ordering::Relaxed)
        {
            return None;
        }
        // Not a fault: the call cannot be cut, the instance stays as it is.
        Some(CallError::Plugin(format!(
            "a call has been blocked for {} s, past its time limit (a file operation that does \
             not return, e.g. a FIFO in a granted directory); source {} is stalled",
            blocked / 1000,
            self.name
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stall_is_said_once_per_step_and_never_without_a_limit() {
        let s = Stall::new("x", Some(Duration::ZERO));
        // Checked at once after the first step began: no underflow.
        s.begin();
        assert!(s.check().is_none());
        std::thread::sleep(Duration::from_millis(1100));
        assert!(s.check().is_some());
        assert!(s.check().is_none(), "said once");
        s.end();
        assert!(s.check().is_none(), "idle");
        let never = Stall::new("y", None);
        never.begin();
        assert!(never.check().is_none());
    }
}
