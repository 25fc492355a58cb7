//! `falco-wasm run` with the live syscall source: probe → state → rules → stdout.

use crate::capture::record::Record;
use crate::capture::{Probe, syscalls};
use crate::config::Config;
use crate::engine::SourceEngine;
use crate::fields::SYSCALL_SOURCE;
use crate::outputs::format::{iso8601, time_of_day};
use crate::state::event::{FieldNames, SyscallEvent};
use crate::state::{State, StateOptions};
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How the live loop prints alerts.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct LiveOptions {
    /// JSON alerts instead of text.
    pub(super) json: bool,
}

/// Runs detection until SIGINT or SIGTERM.
pub(super) fn live(engines: &mut [SourceEngine], config: &Config, opts: LiveOptions) -> ExitCode {
    let Some(engine) = engines
        .iter_mut()
        .find(|e| e.rules().fields.source == SYSCALL_SOURCE)
    else {
        return super::fail("no rules for the `syscall` source are loaded; nothing to capture");
    };
    let types = engine.event_types_in_use();
    let set = syscalls::interesting_set(types.as_deref());
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(sig, Arc::clone(&stop)) {
            return super::fail(format!("cannot install the signal handler: {e}"));
        }
    }
    let mut probe = match Probe::open(&set) {
        Ok(p) => p,
        Err(e) => return super::fail(e),
    };
    if !probe.missing_tracepoints().is_empty() {
        eprintln!(
            "Warning: this kernel has no tracepoint for {} (those syscalls are not captured)",
            probe.missing_tracepoints().join(", ")
        );
    }
    let mut state_opts = StateOptions::default();
    if let Some(sockets) = config.container_sockets() {
        state_opts.runtime_sockets = sockets;
    }
    let mut state = State::new(state_opts, probe.boot_to_epoch_ns());
    state.bootstrap();
    let names = FieldNames::new(&engine.rules().fields);
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    eprintln!(
        "Capturing system calls: {} syscall(s) sent by the kernel, {} process(es) read from /proc",
        set.iter().filter(|&&v| v != 0).count(),
        state.process_count()
    );
    let stdout = std::io::stdout();
    let mut hits = Vec::new();
    let (mut events, mut alerts, mut errors) = (0u64, 0u64, 0u64);
    let mut last_drops = 0u64;
    let mut last_check = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let n = probe.drain(|bytes| {
            let Ok(rec) = Record::parse(bytes) else {
                state.stats.bad_records += 1;
                return;
            };
            state.update(&rec);
            events += 1;
            let ev = SyscallEvent::new(&rec, &state, &names, events, &hostname);
            hits.clear();
            if let Err(e) = engine.process(&ev, &mut hits) {
                errors += 1;
                if errors <= 10 {
                    eprintln!("Error: evaluating event {events}: {e}");
                }
            }
            if !hits.is_empty() {
                let mut out = stdout.lock();
                for &r in &hits {
                    alerts += 1;
                    let line = alert_line(
                        engine,
                        r,
                        &ev,
                        state.epoch_ns(rec.ts_boot),
                        &hostname,
                        opts.json,
                    );
                    let _ = writeln!(out, "{line}");
                }
                let _ = out.flush();
            }
            state.finish(&rec);
        });
        if n == 0 {
            std::thread::sleep(Duration::from_millis(2));
        }
        if last_check.elapsed() >= Duration::from_secs(1) {
            last_check = Instant::now();
            let s = probe.stats();
            if s.dropped > last_drops {
                eprintln!(
                    "Syscall event drop: {} record(s) lost since the last report (ring buffer full); {} total",
                    s.dropped - last_drops,
                    s.dropped
                );
                last_drops = s.dropped;
            }
        }
    }
    let s = probe.stats();
    drop(probe);
    let st = state.stats;
    eprintln!(
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
    );
    ExitCode::SUCCESS
}

/// One alert in Falco's text or JSON form.
fn alert_line(
    engine: &SourceEngine,
    rule: u32,
    ev: &SyscallEvent<'_>,
    time_ns: i64,
    hostname: &str,
    json: bool,
) -> String {
    let r = &engine.rules().rules[rule as usize];
    let output = engine.format_output(rule, ev);
    if !json {
        return format!("{}: {} {}", time_of_day(time_ns), r.priority, output);
    }
    serde_json::json!({
        "hostname": hostname,
        "output": format!("{} {} {}", time_of_day(time_ns), r.priority, output),
        "priority": r.priority.to_string(),
        "rule": r.name,
        "source": SYSCALL_SOURCE,
        "tags": r.tags.iter().collect::<Vec<_>>(),
        "time": iso8601(time_ns),
    })
    .to_string()
}
