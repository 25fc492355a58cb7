//! The engine's own log (not alerts): `log_level`, `log_stderr` and
//! `log_syslog` from falco.yaml. Messages below the level are dropped;
//! the others go to stderr and/or syslog (facility user, tag `falco`).

use crate::priority::Priority;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

static LEVEL: AtomicU8 = AtomicU8::new(Priority::Informational as u8);
static TO_STDERR: AtomicBool = AtomicBool::new(true);
static TO_SYSLOG: AtomicBool = AtomicBool::new(false);

/// Where the log goes and from which level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogOptions {
    /// `log_level`: messages below it are dropped.
    pub level: Priority,
    /// `log_stderr`.
    pub stderr: bool,
    /// `log_syslog`.
    pub syslog: bool,
}

impl Default for LogOptions {
    /// Falco's defaults: info, stderr on, syslog on.
    fn default() -> LogOptions {
        LogOptions {
            level: Priority::Informational,
            stderr: true,
            syslog: true,
        }
    }
}

/// Applies `o` from now on.
pub fn configure(o: LogOptions) {
    LEVEL.store(o.level as u8, Ordering::Relaxed);
    TO_STDERR.store(o.stderr, Ordering::Relaxed);
    TO_SYSLOG.store(o.syslog, Ordering::Relaxed);
}

/// Logs a message at a level.
pub fn log(level: Priority, msg: &str) {
    if level as u8 > LEVEL.load(Ordering::Relaxed) {
        return;
    }
    if TO_STDERR.load(Ordering::Relaxed) {
        let prefix = match level {
            Priority::Emergency | Priority::Alert | Priority::Critical | Priority::Error => {
                "Error: "
            }
            Priority::Warning => "Warning: ",
            _ => "",
        };
        eprintln!("{prefix}{msg}");
    }
    if TO_SYSLOG.load(Ordering::Relaxed)
        && let Ok(s) = std::os::unix::net::UnixDatagram::unbound()
    {
        let pri = 8 + level.level();
        let _ = s.send_to(
            format!("<{pri}>falco[{}]: {msg}", std::process::id()).as_bytes(),
            "/dev/log",
        );
    }
}

/// An error.
pub fn error(msg: &str) {
    log(Priority::Error, msg)
}

/// A warning.
pub fn warning(msg: &str) {
    log(Priority::Warning, msg)
}

/// Information.
pub fn info(msg: &str) {
    log(Priority::Informational, msg)
}
