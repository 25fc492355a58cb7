//! Recording syscall events to capture files, beside detection:
//! `falco-wasm capture -w FILE [FILTER]` records every event (or those a
//! filter selects), and Falco's `capture` config records the events that
//! follow an alert, for the rule's `capture_duration` (or
//! `capture.default_duration`), to `PREFIX_<ts>_<evtnum>.scap`.
//!
//! A file starts with the state tables as they are when it opens (the
//! processes, their fds, the users, the known containers), so it replays
//! alone (`-e FILE`).

use super::Shared;
use crate::capture::record::Record;
use crate::config::{Config, ConfigError};
use crate::outputs::alert::{Alert, FieldValue};
use crate::rules::SourceRules;
use crate::scap::encode::{self, Encoder};
use crate::scap::meta::MachineInfo;
use crate::scap::write::{EventBuf, Writer};
use crate::state::State;
use std::path::PathBuf;

/// Falco's `capture` config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaptureConfig {
    /// Files are `PREFIX_<timestamp>_<event number>.scap`.
    pub path_prefix: String,
    /// `all_rules`: every alert starts a capture (else only rules with
    /// `capture: true`).
    pub all_rules: bool,
    /// How long a capture lasts after the last alert that extended it, ms.
    pub default_duration_ms: u64,
    /// Hard cap on a file's size, MB (0: none).
    pub max_file_size_mb: u64,
}

impl CaptureConfig {
    /// The `capture` section; `None` unless `capture.enabled`.
    pub fn from_config(c: &Config) -> Result<Option<CaptureConfig>, ConfigError> {
        if !c.bool_at("capture.enabled", false)? {
            return Ok(None);
        }
        let all_rules = match c.str_at("capture.mode")?.as_deref() {
            None | Some("rules") => false,
            Some("all_rules") => true,
            Some(m) => {
                return Err(ConfigError::key(
                    "capture.mode",
                    format!("unknown mode '{m}' (expected rules or all_rules)"),
                ));
            }
        };
        Ok(Some(CaptureConfig {
            path_prefix: c
                .str_at("capture.path_prefix")?
                .unwrap_or_else(|| "/tmp/falco".into()),
            all_rules,
            default_duration_ms: c.u64_at("capture.default_duration", 5000)?,
            max_file_size_mb: c.u64_at("capture.max_file_size_mb", 0)?,
        }))
    }

    /// The file a capture starting at `ts` (ns) with event `num` goes to
    /// (both zero-padded to 20 digits, as Falco names them).
    pub fn path(&self, ts: i64, num: u64) -> PathBuf {
        PathBuf::from(format!("{}_{ts:020}_{num:020}.scap", self.path_prefix))
    }
}

/// What starts and ends recording.
pub enum Trigger {
    /// `capture -w`: one file, from the start; `all`: every event (else
    /// the events the stage's rules — the filter — match).
    File {
        /// Where.
        path: PathBuf,
        /// gzip-compressed.
        gzip: bool,
        /// Every event, not only the filter's matches.
        all: bool,
    },
    /// The `capture` config: files opened by alerts.
    Alerts(CaptureConfig),
}

/// The file being written.
struct Open {
    writer: Writer,
    path: PathBuf,
    /// Stop after this time (ns since the epoch).
    deadline: i64,
}

/// Writes a stage's events to capture files as its trigger says.
pub struct Recorder {
    trigger: Trigger,
    enc: Encoder,
    buf: EventBuf,
    open: Option<Open>,
    /// Files closed: path and events written.
    pub files: Vec<(PathBuf, u64)>,
    /// Records with no capture equivalent.
    pub skipped: u64,
}

/// The machine, as a capture's machine-info block says it.
fn machine(state: &State, hostname: &str) -> MachineInfo {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let mem_kb: u64 = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    MachineInfo {
        num_cpus: std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
        memory_bytes: mem_kb * 1024,
        max_pid: read("/proc/sys/kernel/pid_max").trim().parse().unwrap_or(0),
        hostname: hostname.to_string(),
        boot_ts_epoch: state.epoch_ns(0).max(0) as u64,
    }
}

impl Recorder {
    /// A recorder; nothing is written before [`Recorder::start`] or an alert.
    pub fn new(trigger: Trigger) -> Recorder {
        Recorder {
            trigger,
            enc: Encoder::default(),
            buf: EventBuf::default(),
            open: None,
            files: Vec::new(),
            skipped: 0,
        }
    }

    /// Whether the stage's rules are a capture filter (no alerts then).
    pub fn is_filter(&self) -> bool {
        matches!(self.trigger, Trigger::File { .. })
    }

    /// Whether every event is recorded (the kernel must send them all).
    pub fn records_everything(&self) -> bool {
        matches!(self.trigger, Trigger::File { all: true, .. })
    }

    /// Opens the `capture -w` file with the state as it is now.
    pub fn start(&mut self, state: &State, hostname: &str) -> Result<(), crate::scap::ScapError> {
        if let Trigger::File { path, gzip, .. } = &self.trigger {
            let (path, gzip) = (path.clone(), *gzip);
            self.open_file(path, gzip, i64::MAX, state, hostname)?;
        }
        Ok(())
    }

    fn open_file(
        &mut self,
        path: PathBuf,
        gzip: bool,
        deadline: i64,
        state: &State,
        hostname: &str,
    ) -> Result<(), crate::scap::ScapError> {
        let meta = encode::metadata(state, machine(state, hostname));
        let mut writer = Writer::create(&path, gzip, &meta)?;
        let mut result = Ok(());
        encode::known_containers(state, &mut self.enc, |ev| {
            if result.is_ok() {
                result = writer.event(state.epoch_ns(0).max(0) as u64, 0, ev);
            }
        });
        result.map_err(|source| crate::scap::ScapError::Io {
            path: path.display().to_string(),
            source,
        })?;
        self.open = Some(Open {
            writer,
            path,
            deadline,
        });
        Ok(())
    }

    /// One evaluated record: `hits` are the rules it matched (the filter's
    /// match, for `capture -w`), `num` its event number.
    pub fn event(
        &mut self,
        rec: &Record,
        state: &State,
        rules: &SourceRules,
        hits: &[u32],
        num: u64,
        sh: &Shared,
    ) {
        let ts = state.epoch_ns(rec.ts_boot);
        if let Trigger::Alerts(cfg) = &self.trigger
            && let Some(deadline) = alert_deadline(cfg, rules, hits, ts)
        {
            self.extend_or_open(deadline, ts, num, state, sh);
        }
        let wanted = match &self.trigger {
            Trigger::File { all, .. } => *all || !hits.is_empty(),
            Trigger::Alerts(_) => true,
        };
        if wanted && self.open.is_some() {
            self.write(rec, state, ts, sh);
        }
    }

    /// Extends the open alert capture to `deadline`, or opens one.
    fn extend_or_open(&mut self, deadline: i64, ts: i64, num: u64, state: &State, sh: &Shared) {
        if let Some(o) = &mut self.open {
            o.deadline = o.deadline.max(deadline);
            return;
        }
        let Trigger::Alerts(cfg) = &self.trigger else {
            return;
        };
        let path = cfg.path(ts, num);
        if let Err(e) = self.open_file(path, true, deadline, state, &sh.host) {
            crate::log::error(&format!("capture: {e}"));
        }
    }

    /// Writes `rec`'s event (and its container's, the first time), then
    /// closes the file if a stop condition is met.
    fn write(&mut self, rec: &Record, state: &State, ts: i64, sh: &Shared) {
        let Some(o) = &mut self.open else { return };
        let mut result = Ok(());
        if self.enc.container(rec, state, &mut self.buf) {
            result = o.writer.event(ts as u64, rec.tid as u64, &self.buf);
        }
        if self.enc.event(rec, state, &mut self.buf) {
            result = result.and_then(|_| o.writer.event(ts as u64, rec.tid as u64, &self.buf));
        } else {
            self.skipped += 1;
        }
        if let Err(e) = result {
            let msg = format!("capture {}: {e}", o.path.display());
            self.close();
            match self.trigger {
                Trigger::File { .. } => sh.fail(msg),
                Trigger::Alerts(_) => crate::log::error(&msg),
            }
            return;
        }
        let limit = match &self.trigger {
            Trigger::Alerts(c) if c.max_file_size_mb > 0 => c.max_file_size_mb << 20,
            _ => u64::MAX,
        };
        if o.writer.bytes >= limit {
            let written = o.writer.bytes;
            self.close();
            sh.internal(size_limit_alert(limit >> 20, written, &sh.host));
        } else if ts > o.deadline {
            self.close();
        }
    }

    /// Closes the open file, if any.
    pub fn close(&mut self) {
        if let Some(o) = self.open.take() {
            let events = o.writer.events;
            if let Err(e) = o.writer.finish() {
                crate::log::error(&format!("capture {}: {e}", o.path.display()));
            }
            crate::log::info(&format!(
                "Capture written: {} ({events} event(s))",
                o.path.display()
            ));
            self.files.push((o.path, events));
        }
    }
}

/// Until when the alerts of `hits` want events recorded (ns since the
/// epoch): the longest of their rules' durations after `ts`; `None` when
/// none of them records.
fn alert_deadline(cfg: &CaptureConfig, rules: &SourceRules, hits: &[u32], ts: i64) -> Option<i64> {
    hits.iter()
        .map(|&h| &rules.rules[h as usize])
        .filter(|r| cfg.all_rules || r.capture)
        .map(|r| {
            let ms = r.capture_duration.unwrap_or(cfg.default_duration_ms);
            ts.saturating_add((ms as i64).saturating_mul(1_000_000))
        })
        .max()
}

/// Falco's internal alert for a capture cut at `capture.max_file_size_mb`.
fn size_limit_alert(limit_mb: u64, written: u64, hostname: &str) -> crate::outputs::alert::Alert {
    let mut a = Alert::internal(
        "Falco internal: capture size limit reached",
        format!("Falco internal: capture size limit reached. Configured limit: {limit_mb} MB."),
        vec![
            (
                "max_file_size_mb".into(),
                Some(FieldValue::Num(limit_mb as i64)),
            ),
            (
                "written_bytes".into(),
                Some(FieldValue::Num(written as i64)),
            ),
        ],
        hostname,
    );
    a.priority = crate::priority::Priority::Informational;
    a
}
