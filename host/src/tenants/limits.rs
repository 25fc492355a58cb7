//! A tenant's limits and the two that act per event: the CPU budget (its
//! evaluation time per second; over it, its events are shed and counted
//! until the next second) and the alert rate (a token bucket; the alerts
//! over it are counted per rule and reported, never dropped silently).

use crate::config::ConfigError;
use crate::filter::runtime::{EPOCH_TICK, FilterLimits};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// `limits:` of a tenant.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Limits {
    /// `cpu_budget_ms`: evaluation time per second of wall time.
    pub cpu_budget: Option<Duration>,
    /// `alert_rate`: alerts per second.
    pub alert_rate: Option<f64>,
    /// `alert_burst`: alerts at once (default: one second's worth).
    pub alert_burst: Option<f64>,
    /// `filter_memory_mb`: the rule filter's linear memory.
    pub filter_memory: Option<usize>,
    /// `event_deadline_ms`: the rule filter's time per event (rounded up
    /// to the epoch tick).
    pub event_deadline: Option<Duration>,
}

const KEYS: &[&str] = &[
    "cpu_budget_ms",
    "alert_rate",
    "alert_burst",
    "filter_memory_mb",
    "event_deadline_ms",
];

impl Limits {
    /// Reads `limits:` at `key` (absent: no limits beyond the engine's).
    pub fn parse(v: Option<&Value>, key: &str) -> Result<Limits, ConfigError> {
        let map = match v {
            None | Some(Value::Null) => return Ok(Limits::default()),
            Some(Value::Object(m)) => m,
            Some(v) => {
                return Err(ConfigError::key(
                    key,
                    format!("expected a mapping of limits, got {v}"),
                ));
            }
        };
        if let Some(k) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(ConfigError::key(
                format!("{key}.{k}"),
                format!("unknown limit (expected one of {})", KEYS.join(", ")),
            ));
        }
        let num = |k: &str| -> Result<Option<f64>, ConfigError> {
            match map.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v
                    .as_f64()
                    .filter(|n| n.is_finite() && *n > 0.0)
                    .map(Some)
                    .ok_or_else(|| {
                        ConfigError::key(
                            format!("{key}.{k}"),
                            format!("expected a positive number, got {v}"),
                        )
                    }),
            }
        };
        let ms = |k: &str| -> Result<Option<Duration>, ConfigError> {
            num(k)?
                .map(|n| {
                    Duration::try_from_secs_f64(n / 1000.0).map_err(|_| {
                        ConfigError::key(format!("{key}.{k}"), format!("{n} ms is too long"))
                    })
                })
                .transpose()
        };
        Ok(Limits {
            cpu_budget: ms("cpu_budget_ms")?,
            alert_rate: num("alert_rate")?,
            alert_burst: num("alert_burst")?,
            filter_memory: num("filter_memory_mb")?.map(|m| (m * 1024.0 * 1024.0) as usize),
            event_deadline: ms("event_deadline_ms")?,
        })
    }

    /// The rule filter's limits: these where set, else `base`.
    pub fn filter(&self, base: FilterLimits) -> FilterLimits {
        let tick = EPOCH_TICK.as_nanos().max(1);
        FilterLimits {
            max_memory: self.filter_memory.unwrap_or(base.max_memory),
            deadline_ticks: self.event_deadline.map_or(base.deadline_ticks, |d| {
                d.as_nanos().div_ceil(tick).max(1) as u64
            }),
        }
    }
}

/// The CPU budget of one second, shared by a tenant's threads (its
/// syscall rules and each of its plugin sources): lock-free, so that a
/// tenant's evaluation on one thread never waits for another's.
#[derive(Debug)]
pub struct Budget {
    /// ns per second; `u64::MAX`: unlimited (still measured).
    limit_ns: AtomicU64,
    /// When the current second began, ns since `origin`.
    second_ns: AtomicU64,
    used_ns: AtomicU64,
    origin: Instant,
}

impl Budget {
    /// A budget of `limit` per second (`None`: unlimited, still measured).
    pub fn new(limit: Option<Duration>) -> Budget {
        let b = Budget {
            limit_ns: AtomicU64::new(u64::MAX),
            second_ns: AtomicU64::new(0),
            used_ns: AtomicU64::new(0),
            origin: Instant::now(),
        };
        b.set_limit(limit);
        b
    }

    /// The limit from now on (a reload's).
    pub fn set_limit(&self, limit: Option<Duration>) {
        let ns = limit.map_or(u64::MAX, |l| l.as_nanos().min(u64::MAX as u128 - 1) as u64);
        self.limit_ns.store(ns, Ordering::Relaxed);
    }

    /// Whether an event may be evaluated (or a plugin called) at `now`; a
    /// new second starts a new budget.
    pub fn admits(&self, now: Instant) -> bool {
        let t = now.saturating_duration_since(self.origin).as_nanos() as u64;
        let second = self.second_ns.load(Ordering::Relaxed);
        if t.saturating_sub(second) >= 1_000_000_000
            && self
                .second_ns
                .compare_exchange(second, t, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.used_ns.store(0, Ordering::Relaxed);
        }
        self.used_ns.load(Ordering::Relaxed) < self.limit_ns.load(Ordering::Relaxed)
    }

    /// Counts `spent` against this second.
    pub fn spend(&self, spent: Duration) {
        let ns = spent.as_nanos().min(u64::MAX as u128) as u64;
        self.used_ns.fetch_add(ns, Ordering::Relaxed);
    }
}

/// The alert rate: a token bucket and the alerts it held back, per rule.
#[derive(Debug)]
pub struct AlertBucket {
    rate: Option<f64>,
    burst: f64,
    tokens: f64,
    last: Instant,
    /// Rule → alerts suppressed since the last report.
    pub suppressed: BTreeMap<String, u64>,
}

impl AlertBucket {
    /// A bucket filling at `rate` per second up to `burst` (default: one
    /// second's worth, at least 1); no rate: every alert passes.
    pub fn new(rate: Option<f64>, burst: Option<f64>) -> AlertBucket {
        let burst = burst.unwrap_or(rate.unwrap_or(1.0)).max(1.0);
        AlertBucket {
            rate,
            burst,
            tokens: burst,
            last: Instant::now(),
            suppressed: BTreeMap::new(),
        }
    }

    /// Whether an alert of `rule` goes out at `now`; if not, it is counted.
    pub fn take(&mut self, rule: &str, now: Instant) -> bool {
        let Some(rate) = self.rate else {
            return true;
        };
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return true;
        }
        match self.suppressed.get_mut(rule) {
            Some(n) => *n += 1,
            None => {
                self.suppressed.insert(rule.to_string(), 1);
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_and_reject() {
        let l = Limits::parse(
            Some(&serde_json::json!({"cpu_budget_ms": 50, "alert_rate": 2.5,
                "filter_memory_mb": 16, "event_deadline_ms": 25})),
            "limits",
        )
        .unwrap();
        assert_eq!(l.cpu_budget, Some(Duration::from_millis(50)));
        let f = l.filter(FilterLimits::default());
        assert_eq!(f.max_memory, 16 << 20);
        assert_eq!(f.deadline_ticks, 3, "25 ms is three 10 ms ticks");
        for (v, want) in [
            (
                serde_json::json!({"alert_rate": 0}),
                "limits.alert_rate: expected a positive",
            ),
            (serde_json::json!({"cpu": 1}), "limits.cpu: unknown limit"),
            (
                serde_json::json!({"cpu_budget_ms": 1e30}),
                "limits.cpu_budget_ms: 1",
            ),
            (serde_json::json!(5), "limits: expected a mapping"),
        ] {
            let e = Limits::parse(Some(&v), "limits").unwrap_err().to_string();
            assert!(e.starts_with(want), "{e}");
        }
    }

    #[test]
    fn the_bucket_lets_a_burst_through_then_its_rate_and_counts_the_rest() {
        let mut b = AlertBucket::new(Some(2.0), Some(3.0));
        let t0 = Instant::now();
        let passed = (0..10).filter(|_| b.take("r", t0)).count();
        assert_eq!(passed, 3);
        assert_eq!(b.suppressed["r"], 7);
        assert!(
            b.take("r", t0 + Duration::from_millis(500)),
            "one token after 0.5 s"
        );
        assert!(!b.take("s", t0 + Duration::from_millis(500)));
        assert_eq!(b.suppressed["s"], 1);
        let mut free = AlertBucket::new(None, None);
        assert!((0..1000).all(|_| free.take("r", t0)));
    }

    #[test]
    fn the_budget_sheds_until_the_next_second() {
        let b = Budget::new(Some(Duration::from_millis(10)));
        let t0 = b.origin;
        assert!(b.admits(t0));
        b.spend(Duration::from_millis(11));
        assert!(!b.admits(t0 + Duration::from_millis(500)));
        assert!(b.admits(t0 + Duration::from_millis(1000)));
        b.spend(Duration::from_millis(11));
        assert!(!b.admits(t0 + Duration::from_millis(1500)));
        b.set_limit(None);
        assert!(
            b.admits(t0 + Duration::from_millis(1500)),
            "a reload lifted it"
        );
    }
}
