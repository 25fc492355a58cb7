//! `falco-wasm run` with plugin sources: each source plugin's batches →
//! fields extracted once per batch per plugin → its source's rules →
//! outputs. Runs until every source reaches EOF (or fails), or SIGINT /
//! SIGTERM.
//!
//! A plugin that faults (trap, limit, malformed answer) is disabled: its
//! source stops, an internal alert and a log line name it, and the other
//! sources keep running.

use super::live::{hostname, internal_alert};
use crate::config::Config;
use crate::engine::SourceEngine;
use crate::outputs::Outputs;
use crate::outputs::alert::FieldValue;
use crate::outputs::config::OutputsConfig;
use crate::plugins::drive::SourcePump;
use crate::plugins::{FieldOrigin, LoadedPlugin};
use crate::server::metrics::Metrics;
use crate::server::push::PushServer;
use crate::server::{Server, ServerConfig};
use guest_sdk::BatchStatus;
use guest_sdk::native::CallError;
use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Runs the source plugins among `plugins` against `engines`.
pub(super) fn run(
    mut plugins: Vec<LoadedPlugin>,
    mut engines: Vec<SourceEngine>,
    origins: &HashMap<String, Vec<FieldOrigin>>,
    config: &Config,
) -> ExitCode {
    let fail = |m: String| {
        eprintln!("Error: {m}");
        ExitCode::FAILURE
    };
    let out_cfg = match OutputsConfig::from_config(config) {
        Ok(c) => c,
        Err(e) => return fail(e.to_string()),
    };
    let sinks = match out_cfg.sinks() {
        Ok(s) => s,
        Err(e) => return fail(e.to_string()),
    };
    if let Err(e) = crate::log::configure(config) {
        return fail(e.to_string());
    }
    let outputs = Outputs::start(sinks, out_cfg.format, out_cfg.queue);
    let host = hostname();
    let metrics = Arc::new(Metrics::default());
    *metrics.outputs.lock().expect("metrics lock") = outputs.stats();
    metrics.rules_loaded.store(
        engines.iter().map(|e| e.active_count() as u64).sum(),
        Ordering::Relaxed,
    );
    let server_cfg = match ServerConfig::from_config(config) {
        Err(e) => return fail(e.to_string()),
        Ok(c) => c.map(|c| ServerConfig {
            plugins: plugins
                .iter()
                .map(|p| (p.info.name.clone(), p.info.version.clone()))
                .collect(),
            ..c
        }),
    };
    let _server = match server_cfg {
        None => None,
        Some(cfg) => match Server::start(&cfg, Arc::clone(&metrics)) {
            Ok(s) => Some(s),
            Err(e) => {
                // Detection goes on without the web server.
                crate::log::warning(&format!("web server not started: {e}"));
                None
            }
        },
    };
    // Webhooks the host serves for plugins (kept until the run ends).
    let mut push_servers = Vec::new();
    for p in &plugins {
        if let (Some(g), Some(q)) = (&p.spec.grants.webhook, &p.webhook) {
            match PushServer::start(&g.listen, &g.path, g.tls_pem.as_deref(), Arc::clone(q)) {
                Ok(s) => {
                    eprintln!(
                        "Plugin {} receives POSTs on {}{}",
                        p.spec.name, s.addr, g.path
                    );
                    push_servers.push(s);
                }
                Err(e) => return fail(format!("plugin {}: webhook: {e}", p.spec.name)),
            }
        }
    }
    // (pump, engine index, done)
    let mut running: Vec<(SourcePump, usize, bool)> = Vec::new();
    let mut open_failures = 0;
    for pi in 0..plugins.len() {
        let Some((_, source)) = plugins[pi].source.clone() else {
            continue;
        };
        let p = &mut plugins[pi];
        let Some(ei) = engines
            .iter()
            .position(|e| e.rules().fields.source == source)
        else {
            eprintln!(
                "Warning: no rules for source '{source}' (plugin {}) are loaded; its events are not read",
                p.spec.name
            );
            continue;
        };
        if let Err(e) = p.runner.open(&p.spec.open_params) {
            // The other sources still run; the exit status says it failed.
            open_failures += 1;
            report(
                &outputs,
                &host,
                &p.spec.name,
                &CallError::Plugin(format!("cannot open '{}': {e}", p.spec.open_params)),
            );
            continue;
        }
        eprintln!(
            "Opened source '{source}' (plugin {} {}) with '{}'",
            p.info.name, p.info.version, p.spec.open_params
        );
        let pump = SourcePump::new(&plugins, pi, &engines[ei], &origins[&source]);
        running.push((pump, ei, false));
    }
    if running.is_empty() {
        outputs.flush();
        return fail("no plugin source could be read".into());
    }
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(sig, Arc::clone(&stop)) {
            return fail(format!("cannot install a signal handler: {e}"));
        }
    }
    let mut evt_num = 0u64;
    let mut last_metrics = Instant::now();
    let (mut events, mut alerts, mut failures) = (0u64, 0u64, 0u64);
    // Restart policy: restarts done and the next one due, per plugin.
    let mut restarts = vec![0u32; plugins.len()];
    let mut due: Vec<Option<Instant>> = vec![None; plugins.len()];
    while !stop.load(Ordering::Relaxed)
        && (running.iter().any(|r| !r.2) || due.iter().any(Option::is_some))
    {
        for i in 0..plugins.len() {
            if due[i].is_none_or(|t| t > Instant::now()) {
                continue;
            }
            due[i] = None;
            restarts[i] += 1;
            let (n, max) = (restarts[i], plugins[i].spec.restart.max);
            match plugins[i].restart() {
                Ok(()) => {
                    crate::log::warning(&format!(
                        "plugin {}: restarted ({n}/{max})",
                        plugins[i].spec.name
                    ));
                    for r in running.iter_mut().filter(|r| r.0.plugin == i) {
                        r.2 = false;
                    }
                }
                Err(e) => {
                    failures += 1;
                    metrics.add_plugin_failure(&plugins[i].spec.name);
                    let name = plugins[i].spec.name.clone();
                    report(&outputs, &host, &name, &CallError::Plugin(e.to_string()));
                    due[i] = next_restart(&plugins[i], restarts[i]);
                }
            }
        }
        let mut idle = true;
        for (pump, ei, done) in running.iter_mut().filter(|r| !r.2) {
            let mut errors = Vec::new();
            let step = pump.step(
                &mut plugins,
                &mut engines[*ei],
                &mut evt_num,
                &host,
                &mut |a| {
                    metrics.add_alert(&a.rule, a.priority.as_str(), &a.source);
                    outputs.push(a)
                },
                &mut |name, e| errors.push((name.to_string(), e)),
            );
            let name = plugins[pump.plugin].spec.name.clone();
            for (n, e) in errors
                .into_iter()
                .chain(step.as_ref().err().map(|e| (name, e.clone())))
            {
                if !matches!(e, CallError::Disabled(_)) {
                    failures += 1;
                    metrics.add_plugin_failure(&n);
                }
                report(&outputs, &host, &n, &e);
                if let CallError::Fault(_) = e
                    && let Some(i) = plugins.iter().position(|p| p.spec.name == n)
                    && due[i].is_none()
                {
                    due[i] = next_restart(&plugins[i], restarts[i]);
                }
            }
            match step {
                Ok(s) => {
                    idle &= s.events == 0;
                    events += s.events as u64;
                    metrics.add_events(&engines[*ei].rules().fields.source, s.events as u64);
                    alerts += s.alerts as u64;
                    *done = s.status == BatchStatus::Eof;
                }
                Err(_) => *done = true,
            }
        }
        if last_metrics.elapsed() >= Duration::from_secs(1) {
            last_metrics = Instant::now();
            read_plugin_metrics(&mut plugins, &metrics);
        }
        if idle {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    for (pump, _, _) in &running {
        let _ = plugins[pump.plugin].runner.close();
    }
    drop(push_servers);
    outputs.flush();
    eprintln!("Events processed: {events}, alerts: {alerts}, plugin failures: {failures}");
    if open_failures > 0 {
        return fail(format!(
            "{open_failures} plugin source(s) could not be opened"
        ));
    }
    ExitCode::SUCCESS
}

/// When to restart a faulted plugin that has had `done` restarts, if its
/// policy allows another.
fn next_restart(p: &LoadedPlugin, done: u32) -> Option<Instant> {
    let policy = &p.spec.restart;
    if done >= policy.max {
        if policy.max > 0 {
            crate::log::error(&format!(
                "plugin {}: not restarted again ({} restart(s) allowed)",
                p.spec.name, policy.max
            ));
        }
        return None;
    }
    let delay = policy.delay(done + 1);
    crate::log::warning(&format!(
        "plugin {}: restarting in {} ms ({}/{})",
        p.spec.name,
        delay.as_millis(),
        done + 1,
        policy.max
    ));
    Some(Instant::now() + delay)
}

/// Reads every plugin's own metrics (and its webhook counters) into `/metrics`.
fn read_plugin_metrics(plugins: &mut [LoadedPlugin], metrics: &Metrics) {
    let mut m = metrics.plugin_metrics.lock().expect("metrics lock");
    for p in plugins.iter_mut() {
        if let Ok(list) = p.runner.metrics() {
            for x in list {
                m.insert((p.spec.name.clone(), x.name), (x.value, x.monotonic));
            }
        }
        if let Some(q) = &p.webhook {
            for (name, v) in [
                ("webhook_received", &q.received),
                ("webhook_refused", &q.refused),
            ] {
                let v = v.load(Ordering::Relaxed) as f64;
                m.insert((p.spec.name.clone(), name.into()), (v, true));
            }
        }
    }
}

/// A plugin failure: an error line and an internal alert naming it.
fn report(outputs: &Outputs, host: &str, plugin: &str, e: &CallError) {
    let kind = match e {
        CallError::Plugin(_) => "error",
        CallError::Fault(_) => "fault (instance disabled)",
        // Reported when it happened.
        CallError::Disabled(_) => return,
    };
    eprintln!("Error: plugin {plugin}: {kind}: {e}");
    outputs.push(internal_alert(
        "Falco internal: plugin failure",
        format!("Plugin {plugin} failed: {e}"),
        vec![
            ("plugin".into(), Some(FieldValue::Text(plugin.to_string()))),
            ("error".into(), Some(FieldValue::Text(e.to_string()))),
        ],
        host,
    ));
}
