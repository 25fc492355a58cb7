//! Text that comes from a plugin — errors, log lines, names, descriptions,
//! progress — on its way into the engine's log, alerts, listings and
//! metrics: bounded in size, control characters escaped (one message is
//! one line, and no terminal escape reaches a terminal), and log lines
//! rate-limited per plugin.

use crate::escape::{escape_of, push_escape};
use std::time::{Duration, Instant};

/// The most bytes of a plugin's message kept (the rest is cut, and the cut
/// said).
pub const MAX_MESSAGE: usize = 4096;

/// `s` with control characters escaped as alert text is
/// ([`crate::escape`]) and cut to about `max` bytes, saying how much was
/// cut.
pub fn clean(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max) + 32);
    for (i, c) in s.char_indices() {
        if out.len() >= max {
            out.push_str(&format!("… ({} more bytes)", s.len() - i));
            break;
        }
        match escape_of(c) {
            Some(code) => push_escape(&mut out, code),
            None => out.push(c),
        }
    }
    out
}

/// A plugin's message (error, log line): [`clean`] to [`MAX_MESSAGE`].
pub fn message(s: &str) -> String {
    clean(s, MAX_MESSAGE)
}

/// Whether `s` is a name a plugin may give itself, its event source, a
/// field or a metric: ASCII letters, digits, `_`, `-`, `.` (1 to 128).
pub fn is_name(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// Log lines a plugin may write per second before the rest of that second
/// is suppressed (and counted).
pub const LOG_LINES_PER_SECOND: u32 = 50;

/// A per-plugin log rate limit: up to `per_second` lines in each second;
/// the lines over it are counted, and said in the first line let through
/// after them.
#[derive(Debug)]
pub struct LogLimiter {
    per_second: u32,
    window: Instant,
    used: u32,
    suppressed: u64,
}

impl LogLimiter {
    /// A limiter allowing `per_second` lines per second.
    pub fn new(per_second: u32) -> LogLimiter {
        LogLimiter {
            per_second,
            window: Instant::now(),
            used: 0,
            suppressed: 0,
        }
    }

    /// Whether a line may be written now; `Some(n)` with the lines
    /// suppressed since the last one let through (to be said with it).
    pub fn admit(&mut self) -> Option<u64> {
        if self.window.elapsed() >= Duration::from_secs(1) {
            self.window = Instant::now();
            self.used = 0;
        }
        if self.used >= self.per_second {
            self.suppressed += 1;
            return None;
        }
        self.used += 1;
        Some(std::mem::take(&mut self.suppressed))
    }

    /// Lines suppressed and not yet said.
    pub fn pending(&self) -> u64 {
        self.suppressed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_long_text_cut() {
        assert_eq!(
            clean("a\nError: forged\x1b[2J\r\t\u{85}é", 100),
            "a\\nError: forged\\x1b[2J\\r\\t\\u0085é"
        );
        let long = "x".repeat(10_000);
        let c = clean(&long, 4096);
        assert!(c.starts_with(&"x".repeat(4096)));
        assert!(c.ends_with("… (5904 more bytes)"), "{c}");
        assert!(!clean(&"\n".repeat(1 << 20), 4096).contains('\n'));
        assert!(clean(&"\n".repeat(1 << 20), 4096).len() < 4200);
    }

    #[test]
    fn names() {
        assert!(is_name("aws_cloudtrail") && is_name("ct.name") && is_name("k8s-audit"));
        assert!(!is_name("") && !is_name("a b") && !is_name("a\nb") && !is_name("a{b}"));
        assert!(!is_name(&"a".repeat(129)));
    }

    #[test]
    fn log_lines_are_limited_per_second_and_the_rest_counted() {
        let mut l = LogLimiter::new(3);
        assert_eq!(l.admit(), Some(0));
        assert_eq!(l.admit(), Some(0));
        assert_eq!(l.admit(), Some(0));
        assert_eq!(l.admit(), None);
        assert_eq!(l.admit(), None);
        assert_eq!(l.pending(), 2);
        l.window -= Duration::from_secs(1);
        assert_eq!(l.admit(), Some(2));
        assert_eq!(l.pending(), 0);
    }
}
