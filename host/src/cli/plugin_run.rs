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
use crate::plugins::event::{Batch, ExtractionPlan};
use crate::plugins::{FieldOrigin, LoadedPlugin};
use guest_sdk::BatchStatus;
use guest_sdk::native::CallError;
use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

/// One running plugin source.
struct Running {
    plugin: usize,
    engine: usize,
    plan: ExtractionPlan,
    done: bool,
}

/// Runs the source plugins among `plugins` against `engines`.
pub(super) fn run(
    mut plugins: Vec<LoadedPlugin>,
    engines: Vec<SourceEngine>,
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
    let outputs = Outputs::start(sinks, out_cfg.format, out_cfg.queue);
    let host = hostname();
    let mut engines = engines;
    let mut running = Vec::new();
    let mut open_failures = 0;
    for (pi, p) in plugins.iter_mut().enumerate() {
        let Some((_, source)) = p.source.clone() else {
            continue;
        };
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
        let rules = engines[ei].rules();
        let needed = rules
            .program
            .slots
            .iter()
            .chain(rules.output_program.slots.iter())
            .map(|s| s.key.field.clone());
        let plan = ExtractionPlan::new(&rules.fields, &origins[&source], needed);
        eprintln!(
            "Opened source '{source}' (plugin {} {}) with '{}'",
            p.info.name, p.info.version, p.spec.open_params
        );
        running.push(Running {
            plugin: pi,
            engine: ei,
            plan,
            done: false,
        });
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
    let (mut events, mut alerts, mut failures) = (0u64, 0u64, 0u64);
    let mut hits = Vec::new();
    let mut batch = Vec::new();
    while !stop.load(Ordering::Relaxed) && running.iter().any(|r| !r.done) {
        let mut idle = true;
        for r in running.iter_mut().filter(|r| !r.done) {
            let max = plugins[r.plugin].spec.limits.max_batch;
            batch.clear();
            let status = plugins[r.plugin].runner.next_batch(max, &mut batch);
            let status = match status {
                Ok(s) => s,
                Err(e) => {
                    if !matches!(e, CallError::Disabled(_)) {
                        failures += 1;
                    }
                    report(&outputs, &host, &plugins[r.plugin].spec.name, &e);
                    r.done = true;
                    continue;
                }
            };
            if !batch.is_empty() {
                idle = false;
            }
            let now = SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            let evs: Vec<_> = batch
                .drain(..)
                .map(|e| {
                    evt_num += 1;
                    (evt_num, e.timestamp.unwrap_or(now), e)
                })
                .collect();
            let n = evs.len();
            let source = plugins[r.plugin]
                .source
                .as_ref()
                .map(|(_, s)| s.clone())
                .unwrap_or_default();
            let pname = plugins[r.plugin].info.name.clone();
            let mut errors = Vec::new();
            let b = Batch::extract(
                &r.plan,
                &source,
                &pname,
                Some(r.plugin),
                &mut plugins,
                evs,
                &mut |name, e| errors.push((name.to_string(), e)),
            );
            for (name, e) in &errors {
                if !matches!(e, CallError::Disabled(_)) {
                    failures += 1;
                }
                report(&outputs, &host, name, e);
            }
            let engine = &mut engines[r.engine];
            for i in 0..n {
                let ev = b.event(&r.plan, i);
                hits.clear();
                if let Err(e) = engine.process(&ev, &mut hits) {
                    eprintln!("Error: source {source}: rule evaluation failed: {e}");
                    continue;
                }
                for &rule in &hits {
                    alerts += 1;
                    outputs.push(engine.alert(rule, &ev, ev.time_ns(), &host));
                }
            }
            events += n as u64;
            match status {
                BatchStatus::Eof => r.done = true,
                BatchStatus::Timeout | BatchStatus::Ok => {}
            }
        }
        if idle {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    for r in &running {
        let _ = plugins[r.plugin].runner.close();
    }
    outputs.flush();
    eprintln!("Events processed: {events}, alerts: {alerts}, plugin failures: {failures}");
    if open_failures > 0 {
        return fail(format!(
            "{open_failures} plugin source(s) could not be opened"
        ));
    }
    ExitCode::SUCCESS
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
