//! `falco-wasm run` with the live syscall source:
//! probe → state → rules → outputs, plus the web server, SIGUSR1 (reopen
//! output files) and hot reload (SIGHUP or a watched file changing).

use crate::capture::drops::{DropAction, DropPolicy};
use crate::capture::record::Record;
use crate::capture::{Probe, ProbeStats, syscalls};
use crate::config::Config;
use crate::engine::SourceEngine;
use crate::fields::SYSCALL_SOURCE;
use crate::outputs::Outputs;
use crate::outputs::alert::{Alert, FieldValue};
use crate::outputs::config::OutputsConfig;
use crate::rules::Priority;
use crate::server::metrics::Metrics;
use crate::state::event::{FieldNames, SyscallEvent};
use crate::state::{State, StateOptions};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// Rebuilds the configuration and the engines (for a reload).
pub(super) type Reload<'a> = &'a dyn Fn() -> Result<(Config, Vec<SourceEngine>), String>;
/// The files whose change triggers a reload.
pub(super) type Watched<'a> = &'a dyn Fn() -> Vec<PathBuf>;

/// What the loop swaps on a reload.
struct Active {
    engine: SourceEngine,
    names: FieldNames,
    out_cfg: OutputsConfig,
    outputs: Outputs,
    outputs_key: String,
    watch: bool,
}

impl Active {
    fn new(
        engines: Vec<SourceEngine>,
        config: &Config,
        metrics: &Metrics,
    ) -> Result<Active, String> {
        let engine = engines
            .into_iter()
            .find(|e| e.rules().fields.source == SYSCALL_SOURCE)
            .ok_or("no rules for the `syscall` source are loaded; nothing to capture")?;
        let out_cfg = OutputsConfig::from_config(config).map_err(|e| e.to_string())?;
        let outputs = Outputs::start_with(
            out_cfg.sinks().map_err(|e| e.to_string())?,
            out_cfg.format,
            out_cfg.queue_limits(),
        );
        *metrics.outputs.lock().expect("metrics lock") = outputs.stats();
        metrics
            .rules_loaded
            .store(engine.active_count() as u64, Ordering::Relaxed);
        Ok(Active {
            names: FieldNames::new(&engine.rules().fields),
            engine,
            outputs_key: outputs_key(config),
            out_cfg,
            outputs,
            watch: config
                .bool_at("watch_config_files", true)
                .map_err(|e| e.to_string())?,
        })
    }

    /// The in-kernel filter these rules need.
    fn interesting(&self) -> Vec<u8> {
        syscalls::interesting_set(self.engine.event_types_in_use().as_deref())
    }

    /// Applies a new configuration and engines; outputs restart only when
    /// their keys changed.
    fn replace(
        &mut self,
        engines: Vec<SourceEngine>,
        config: &Config,
        metrics: &Metrics,
    ) -> Result<(), String> {
        let engine = engines
            .into_iter()
            .find(|e| e.rules().fields.source == SYSCALL_SOURCE)
            .ok_or("the new rules have no `syscall` source rules")?;
        let key = outputs_key(config);
        if key != self.outputs_key {
            let out_cfg = OutputsConfig::from_config(config).map_err(|e| e.to_string())?;
            let outputs = Outputs::start_with(
                out_cfg.sinks().map_err(|e| e.to_string())?,
                out_cfg.format,
                out_cfg.queue_limits(),
            );
            *metrics.outputs.lock().expect("metrics lock") = outputs.stats();
            self.outputs = outputs;
            self.out_cfg = out_cfg;
            self.outputs_key = key;
        }
        self.names = FieldNames::new(&engine.rules().fields);
        metrics
            .rules_loaded
            .store(engine.active_count() as u64, Ordering::Relaxed);
        self.engine = engine;
        self.watch = config
            .bool_at("watch_config_files", true)
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// The output-related part of a configuration, to see whether it changed.
fn outputs_key(c: &Config) -> String {
    let keys = [
        "json_output",
        "json_include_output_property",
        "json_include_message_property",
        "json_include_output_fields_property",
        "json_include_tags_property",
        "time_format_iso_8601",
        "buffered_outputs",
        "outputs_queue",
        "static_fields",
        "stdout_output",
        "syslog_output",
        "file_output",
        "program_output",
        "http_output",
        "output_timeout",
    ];
    keys.iter()
        .map(|k| format!("{k}={}", c.get(k).cloned().unwrap_or_default()))
        .collect()
}

/// (path, modification time, length) of each watched file.
pub(super) fn fingerprint(files: &[PathBuf]) -> Vec<(PathBuf, Option<SystemTime>, u64)> {
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

fn flag(signal: i32) -> Result<Arc<AtomicBool>, String> {
    let f = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal, Arc::clone(&f))
        .map_err(|e| format!("cannot install a signal handler: {e}"))?;
    Ok(f)
}

/// Runs detection until SIGINT or SIGTERM.
pub(super) fn live(
    engines: Vec<SourceEngine>,
    config: &Config,
    reload: Reload<'_>,
    watched: Watched<'_>,
) -> ExitCode {
    match run(engines, config, reload, watched) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => super::fail(e),
    }
}

fn run(
    engines: Vec<SourceEngine>,
    config: &Config,
    reload: Reload<'_>,
    watched: Watched<'_>,
) -> Result<(), String> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};
    config.check_engine_kind().map_err(|e| e.to_string())?;
    crate::log::configure(config).map_err(|e| e.to_string())?;
    let metrics = Arc::new(Metrics::default());
    let mut active = Active::new(engines, config, &metrics)?;
    let (stop, stop2, reopen, hup) = (flag(SIGINT)?, flag(SIGTERM)?, flag(SIGUSR1)?, flag(SIGHUP)?);
    let _server = crate::server::start_from_config(config, &metrics, Vec::new())?;
    let mut probe = Probe::open(&active.interesting()).map_err(|e| e.to_string())?;
    if !probe.missing_tracepoints().is_empty() {
        crate::log::warning(&format!(
            "this kernel has no tracepoint for {} (those syscalls are not captured)",
            probe.missing_tracepoints().join(", ")
        ));
    }
    let mut state_opts = StateOptions::default();
    if let Some(sockets) = config.container_sockets() {
        state_opts.runtime_sockets = sockets;
    }
    let mut state = State::new(state_opts, probe.boot_to_epoch_ns());
    state.bootstrap();
    let hostname = hostname();
    crate::log::info(&format!(
        "Capturing system calls: {} syscall(s) sent by the kernel, {} process(es) read from /proc",
        active.interesting().iter().filter(|&&v| v != 0).count(),
        state.process_count()
    ));
    let mut drops = DropPolicy::from_config(config).map_err(|e| e.to_string())?;
    let snapshots = MetricsOutput::from_config(config).map_err(|e| e.to_string())?;
    let mut next_snapshot = snapshots.as_ref().map(|m| Instant::now() + m.interval);
    let mut last_submitted = 0u64;
    let mut watched_files = watched();
    let mut watched_print = fingerprint(&watched_files);
    let mut hits = Vec::new();
    let (mut events, mut alerts, mut errors) = (0u64, 0u64, 0u64);
    let mut last_drops = 0u64;
    let mut last_check = Instant::now();
    while !stop.load(Ordering::Relaxed) && !stop2.load(Ordering::Relaxed) {
        let before = events;
        let n = probe.drain(|bytes| {
            let Ok(rec) = Record::parse(bytes) else {
                state.stats.bad_records += 1;
                return;
            };
            state.update(&rec);
            events += 1;
            let ev = SyscallEvent::new(&rec, &state, &active.names, events, &hostname);
            hits.clear();
            if let Err(e) = active.engine.process(&ev, &mut hits) {
                errors += 1;
                metrics.eval_errors.fetch_add(1, Ordering::Relaxed);
                if errors <= 10 {
                    crate::log::error(&format!("evaluating event {events}: {e}"));
                }
            }
            for &r in &hits {
                alerts += 1;
                let mut alert = active
                    .engine
                    .alert(r, &ev, state.epoch_ns(rec.ts_boot), &hostname);
                add_static_fields(&mut alert, &active.out_cfg.static_fields);
                metrics.add_alert(&alert.rule, alert.priority.as_str(), &alert.source);
                active.outputs.push(alert);
            }
            state.finish(&rec);
        });
        metrics.add_events(SYSCALL_SOURCE, events - before);
        if n == 0 {
            std::thread::sleep(Duration::from_millis(2));
        }
        if reopen.swap(false, Ordering::Relaxed) {
            active.outputs.reopen();
        }
        let mut reload_now = hup.swap(false, Ordering::Relaxed);
        if last_check.elapsed() >= Duration::from_secs(1) {
            last_check = Instant::now();
            let s = probe.stats();
            metrics
                .kernel_submitted
                .store(s.submitted, Ordering::Relaxed);
            metrics.kernel_drops.store(s.dropped, Ordering::Relaxed);
            metrics
                .state_processes
                .store(state.process_count() as u64, Ordering::Relaxed);
            metrics
                .state_purged
                .store(state.stats.purged, Ordering::Relaxed);
            let (new_subm, new_drops) = (s.submitted - last_submitted, s.dropped - last_drops);
            (last_submitted, last_drops) = (s.submitted, s.dropped);
            for action in drops.on_second(new_subm, new_drops) {
                match action {
                    DropAction::Ignore => {}
                    DropAction::Log => crate::log::warning(&format!(
                        "Syscall event drop: {new_drops} record(s) lost in the last second (ring buffer full); {} total",
                        s.dropped
                    )),
                    DropAction::Alert => active.outputs.push(drop_alert(new_drops, s, &hostname)),
                    DropAction::Exit => {
                        return Err(format!(
                            "{new_drops} syscall records dropped in the last second (syscall_event_drops.actions: exit)"
                        ));
                    }
                }
            }
            if let (Some(m), Some(at)) = (&snapshots, next_snapshot)
                && Instant::now() >= at
            {
                next_snapshot = Some(at + m.interval);
                m.emit(&metrics, &active.outputs, &hostname);
            }
            if active.watch {
                let now = fingerprint(&watched_files);
                if now != watched_print {
                    watched_print = now;
                    reload_now = true;
                }
            }
        }
        if reload_now {
            // Events keep arriving in the ring buffer meanwhile: none is lost.
            let result = reload().and_then(|(config, engines)| {
                active.replace(engines, &config, &metrics)?;
                probe
                    .set_interesting(&active.interesting())
                    .map_err(|e| e.to_string())
            });
            match result {
                Ok(()) => {
                    metrics.reloads.fetch_add(1, Ordering::Relaxed);
                    watched_files = watched();
                    watched_print = fingerprint(&watched_files);
                    crate::log::info(&format!(
                        "Reloaded configuration and rules: {} rule(s) enabled",
                        active.engine.active_count()
                    ));
                }
                Err(e) => {
                    metrics.reload_failures.fetch_add(1, Ordering::Relaxed);
                    crate::log::error(&format!(
                        "reload rejected, the previous rules keep running: {e}"
                    ));
                    active.outputs.push(internal_alert(
                        "Falco internal: hot restart failure",
                        format!("Reload rejected, the previous rules keep running: {e}"),
                        Vec::new(),
                        &hostname,
                    ));
                }
            }
        }
    }
    let s = probe.stats();
    drop(probe);
    active.outputs.flush();
    for (name, st) in active.outputs.stats() {
        let (sent, dropped, failed) = (
            st.sent.load(Ordering::Relaxed),
            st.dropped.load(Ordering::Relaxed),
            st.failed.load(Ordering::Relaxed),
        );
        if dropped + failed > 0 {
            crate::log::info(&format!(
                "Output {name}: {sent} sent, {dropped} dropped (queue full), {failed} failed"
            ));
        }
    }
    let st = state.stats;
    crate::log::info(&format!(
        "Events detected: {alerts}\nSyscall events: {events} processed, {} submitted by the kernel, {} dropped; {} evaluation error(s)\nState: {} processes tracked ({} read from /proc at start, {} later), {} purged after exit, {} evicted, {} malformed records",
        s.submitted,
        s.dropped,
        errors,
        state.process_count(),
        st.bootstrapped,
        st.late_reads,
        st.purged,
        st.evicted,
        st.bad_records
    ));
    Ok(())
}

/// `metrics`: periodic snapshots as internal alerts and/or JSON lines.
struct MetricsOutput {
    interval: Duration,
    output_rule: bool,
    output_file: Option<PathBuf>,
}

impl MetricsOutput {
    fn from_config(c: &Config) -> Result<Option<MetricsOutput>, crate::config::ConfigError> {
        if !c.bool_at("metrics.enabled", false)? {
            return Ok(None);
        }
        let interval = c.duration_at("metrics.interval", Duration::from_secs(3600))?;
        if interval.is_zero() {
            return Err(crate::config::ConfigError(
                "metrics.interval: must be positive".into(),
            ));
        }
        Ok(Some(MetricsOutput {
            interval,
            output_rule: c.bool_at("metrics.output_rule", true)?,
            output_file: c
                .str_at("metrics.output_file")?
                .filter(|f| !f.is_empty())
                .map(PathBuf::from),
        }))
    }

    fn emit(&self, metrics: &Metrics, outputs: &crate::outputs::Outputs, hostname: &str) {
        let snap = metrics.snapshot();
        if self.output_rule {
            let fields = snap
                .iter()
                .map(|(k, v)| (k.clone(), Some(FieldValue::Num(*v))))
                .collect();
            let mut a = internal_alert(
                "Falco internal: metrics snapshot",
                "Falco metrics snapshot".into(),
                fields,
                hostname,
            );
            a.priority = Priority::Informational;
            outputs.push(a);
        }
        if let Some(f) = &self.output_file {
            let obj: serde_json::Map<String, serde_json::Value> =
                snap.into_iter().map(|(k, v)| (k, v.into())).collect();
            let line = serde_json::json!({"hostname": hostname, "output_fields": obj}).to_string();
            let r = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(f)
                .and_then(|mut w| {
                    std::io::Write::write_all(&mut w, format!("{line}\n").as_bytes())
                });
            if let Err(e) = r {
                crate::log::error(&format!("metrics.output_file {}: {e}", f.display()));
            }
        }
    }
}

/// The host name alerts carry: `FALCO_HOSTNAME` if set, else the kernel's.
pub(super) fn hostname() -> String {
    std::env::var("FALCO_HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_default()
        })
}

/// `static_fields` go into every alert's `output_fields`.
fn add_static_fields(alert: &mut Alert, fields: &[(String, String)]) {
    for (k, v) in fields {
        alert
            .fields
            .push((k.clone(), Some(FieldValue::Text(v.clone()))));
    }
}

/// An alert with `source: internal` (Falco's rule names for them).
pub(super) fn internal_alert(
    rule: &str,
    message: String,
    fields: Vec<(String, Option<FieldValue>)>,
    hostname: &str,
) -> Alert {
    let now = SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64);
    Alert {
        time_ns: now,
        rule: rule.into(),
        priority: Priority::Critical,
        source: "internal".into(),
        tags: Vec::new(),
        message,
        fields,
        hostname: hostname.to_string(),
    }
}

/// Falco's internal alert for kernel drops.
fn drop_alert(n: u64, s: ProbeStats, hostname: &str) -> Alert {
    internal_alert(
        "Falco internal: syscall event drop",
        format!("{n} system calls dropped in last second."),
        vec![
            ("n_drops".into(), Some(FieldValue::Num(n as i64))),
            (
                "n_drops_total".into(),
                Some(FieldValue::Num(s.dropped as i64)),
            ),
            ("n_evts".into(), Some(FieldValue::Num(s.submitted as i64))),
        ],
        hostname,
    )
}
