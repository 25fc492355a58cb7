//! `falco-wasm run` with the live syscall source: probe → state → rules → stdout.

use crate::capture::record::Record;
use crate::capture::{Probe, ProbeStats, syscalls};
use crate::config::Config;
use crate::engine::SourceEngine;
use crate::fields::SYSCALL_SOURCE;
use crate::outputs::Outputs;
use crate::outputs::alert::{Alert, FieldValue};
use crate::outputs::config::OutputsConfig;
use crate::rules::Priority;
use crate::state::event::{FieldNames, SyscallEvent};
use crate::state::{State, StateOptions};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Runs detection until SIGINT or SIGTERM.
pub(super) fn live(engines: &mut [SourceEngine], config: &Config) -> ExitCode {
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
    let hostname = hostname();
    let out_cfg = match OutputsConfig::from_config(config) {
        Ok(c) => c,
        Err(e) => return super::fail(e),
    };
    let outputs = match out_cfg.sinks() {
        Ok(sinks) => Outputs::start(sinks, out_cfg.format, out_cfg.queue),
        Err(e) => return super::fail(e),
    };
    let reopen = Arc::new(AtomicBool::new(false));
    if let Err(e) = signal_hook::flag::register(signal_hook::consts::SIGUSR1, Arc::clone(&reopen)) {
        return super::fail(format!("cannot install the SIGUSR1 handler: {e}"));
    }
    eprintln!(
        "Capturing system calls: {} syscall(s) sent by the kernel, {} process(es) read from /proc",
        set.iter().filter(|&&v| v != 0).count(),
        state.process_count()
    );
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
            for &r in &hits {
                alerts += 1;
                let mut alert = engine.alert(r, &ev, state.epoch_ns(rec.ts_boot), &hostname);
                add_static_fields(&mut alert, &out_cfg.static_fields);
                outputs.push(alert);
            }
            state.finish(&rec);
        });
        if n == 0 {
            std::thread::sleep(Duration::from_millis(2));
        }
        if reopen.swap(false, Ordering::Relaxed) {
            outputs.reopen();
        }
        if last_check.elapsed() >= Duration::from_secs(1) {
            last_check = Instant::now();
            let s = probe.stats();
            if s.dropped > last_drops {
                let n = s.dropped - last_drops;
                eprintln!(
                    "Syscall event drop: {n} record(s) lost since the last report (ring buffer full); {} total",
                    s.dropped
                );
                outputs.push(drop_alert(n, s, &hostname));
                last_drops = s.dropped;
            }
        }
    }
    let s = probe.stats();
    drop(probe);
    outputs.flush();
    for (name, st) in outputs.stats() {
        let (sent, dropped, failed) = (
            st.sent.load(Ordering::Relaxed),
            st.dropped.load(Ordering::Relaxed),
            st.failed.load(Ordering::Relaxed),
        );
        if dropped + failed > 0 {
            eprintln!(
                "Output {name}: {sent} sent, {dropped} dropped (queue full), {failed} failed"
            );
        }
    }
    drop(outputs);
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

/// The host name alerts carry: `FALCO_HOSTNAME` if set, else the kernel's.
fn hostname() -> String {
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

/// Falco's internal alert for kernel drops.
fn drop_alert(n: u64, s: ProbeStats, hostname: &str) -> Alert {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64);
    Alert {
        time_ns: now,
        rule: "Falco internal: syscall event drop".into(),
        priority: Priority::Critical,
        source: "internal".into(),
        tags: Vec::new(),
        message: format!("{n} system calls dropped in last second."),
        fields: vec![
            ("n_drops".into(), Some(FieldValue::Num(n as i64))),
            (
                "n_drops_total".into(),
                Some(FieldValue::Num(s.dropped as i64)),
            ),
            ("n_evts".into(), Some(FieldValue::Num(s.submitted as i64))),
        ],
        hostname: hostname.to_string(),
    }
}
