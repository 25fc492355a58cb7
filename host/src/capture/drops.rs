//! `syscall_event_drops`: what to do when the kernel drops records
//! (Falco's threshold, actions and rate limit).

use crate::config::{Config, ConfigError};

/// One action on drops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropAction {
    /// Nothing (counters and /metrics still show the drops).
    Ignore,
    /// A line on stderr.
    Log,
    /// An internal alert (`Falco internal: syscall event drop`).
    Alert,
    /// Stop the engine with an error.
    Exit,
}

/// The policy, with its token bucket.
#[derive(Clone, Debug)]
pub struct DropPolicy {
    /// Fraction of dropped records in the last second that triggers actions.
    pub threshold: f64,
    /// What happens.
    pub actions: Vec<DropAction>,
    /// Actions per second allowed on average.
    pub rate: f64,
    /// Actions allowed in a burst.
    pub max_burst: f64,
    tokens: f64,
}

impl DropPolicy {
    /// From `syscall_event_drops` (Falco's defaults: threshold 0.1,
    /// actions [log, alert], rate 0.03333, max_burst 1).
    pub fn from_config(c: &Config) -> Result<DropPolicy, ConfigError> {
        let num = |k: &str, d: f64| -> Result<f64, ConfigError> {
            match c.get(k) {
                None | Some(serde_json::Value::Null) => Ok(d),
                Some(v) => v
                    .as_f64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                    .filter(|x| *x >= 0.0)
                    .ok_or_else(|| {
                        ConfigError::key(k, format!("expected a non-negative number, got {v}"))
                    }),
            }
        };
        let actions = match c.get("syscall_event_drops.actions") {
            None | Some(serde_json::Value::Null) => vec![DropAction::Log, DropAction::Alert],
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .map(|v| match v.as_str() {
                    Some("ignore") => Ok(DropAction::Ignore),
                    Some("log") => Ok(DropAction::Log),
                    Some("alert") => Ok(DropAction::Alert),
                    Some("exit") => Ok(DropAction::Exit),
                    _ => Err(ConfigError::key(
                        "syscall_event_drops.actions",
                        format!("unknown action {v} (expected ignore, log, alert or exit)"),
                    )),
                })
                .collect::<Result<_, _>>()?,
            Some(v) => {
                return Err(ConfigError::key(
                    "syscall_event_drops.actions",
                    format!("expected a list, got {v}"),
                ));
            }
        };
        let max_burst = num("syscall_event_drops.max_burst", 1.0)?;
        Ok(DropPolicy {
            threshold: num("syscall_event_drops.threshold", 0.1)?,
            actions,
            rate: num("syscall_event_drops.rate", 0.03333)?,
            max_burst,
            tokens: max_burst,
        })
    }

    /// Called once a second with that second's submitted and dropped
    /// counts; returns the actions to take now (empty when under the
    /// threshold or rate-limited).
    pub fn on_second(&mut self, submitted: u64, dropped: u64) -> &[DropAction] {
        self.tokens = (self.tokens + self.rate).min(self.max_burst);
        if dropped == 0 {
            return &[];
        }
        let ratio = dropped as f64 / (submitted + dropped) as f64;
        if ratio < self.threshold || self.tokens < 1.0 {
            return &[];
        }
        self.tokens -= 1.0;
        &self.actions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_and_rate_limit() {
        let c = Config::load(
            None,
            &[
                "syscall_event_drops.max_burst=2".into(),
                "syscall_event_drops.rate=0.5".into(),
            ],
        )
        .unwrap();
        let mut p = DropPolicy::from_config(&c).unwrap();
        assert_eq!(p.actions, [DropAction::Log, DropAction::Alert]);
        assert!(p.on_second(1000, 0).is_empty());
        assert!(
            p.on_second(1000, 10).is_empty(),
            "1% is under the 10% threshold"
        );
        // Bucket of 2, refilled by 0.5 a second: act, act, act, wait, act.
        let acted: Vec<bool> = (0..5).map(|_| !p.on_second(100, 100).is_empty()).collect();
        assert_eq!(acted, [true, true, true, false, true]);
        let bad = Config::load(None, &["syscall_event_drops.actions=[shout]".into()]).unwrap();
        assert!(DropPolicy::from_config(&bad).is_err());
    }
}
