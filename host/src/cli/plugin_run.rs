//! `falco-wasm run` with plugin sources: each source plugin's batches →
//! fields extracted once per batch per plugin → its source's rules →
//! outputs. Runs until every source reaches EOF (or fails), or SIGINT /
//! SIGTERM.
//!
//! Every source runs on a thread of its own, with instances of its own of
//! the plugins (the source and the extractors its rules use): a slow or
//! faulting plugin holds up only its source. A plugin that faults (trap,
//! limit, malformed answer) is disabled: an internal alert and a log line
//! name it, its restart policy applies, and the other sources keep running.
//!
//! Hot reload (SIGHUP, or a watched file changing): the rules are loaded
//! again and each source thread swaps its engine in between two batches;
//! plugins and outputs stay as they are (changing them takes a restart).

use super::live::{Reload, Watched, fingerprint, hostname, internal_alert};
use crate::config::Config;
use crate::engine::SourceEngine;
use crate::outputs::Outputs;
use crate::outputs::alert::FieldValue;
use crate::outputs::config::OutputsConfig;
use crate::plugins::drive::SourcePump;
use crate::plugins::text::LogLimiter;
use crate::plugins::{FieldOrigin, LoadedPlugin};
use crate::server::metrics::Metrics;
use crate::server::push::PushServer;
use guest_sdk::BatchStatus;
use guest_sdk::native::CallError;
use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What one source's thread did.
#[derive(Default)]
struct Totals {
    events: u64,
    alerts: u64,
    failures: u64,
    open_failures: u64,
}

impl Totals {
    fn add(&mut self, t: &Totals) {
        self.events += t.events;
        self.alerts += t.alerts;
        self.failures += t.failures;
        self.open_failures += t.open_failures;
    }
}

/// What every source thread shares.
struct Shared<'a> {
    outputs: &'a Outputs,
    metrics: &'a Metrics,
    stop: &'a AtomicBool,
    host: &'a str,
    /// How often each plugin's failures are said.
    reports: Mutex<HashMap<String, LogLimiter>>,
}

/// Runs the source plugins among `plugins` against `engines`.
pub(super) fn run(
    plugins: Vec<LoadedPlugin>,
    engines: Vec<SourceEngine>,
    origins: &HashMap<String, Vec<FieldOrigin>>,
    config: &Config,
    reload: Reload<'_>,
    watched: Watched<'_>,
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
    let watch = match config.bool_at("watch_config_files", true) {
        Ok(w) => w,
        Err(e) => return fail(e.to_string()),
    };
    let outputs = Outputs::start_with(sinks, out_cfg.format, out_cfg.queue_limits());
    let host = hostname();
    let metrics = Arc::new(Metrics::default());
    *metrics.outputs.lock().expect("metrics lock") = outputs.stats();
    metrics.rules_loaded.store(
        engines.iter().map(|e| e.active_count() as u64).sum(),
        Ordering::Relaxed,
    );
    let versions = plugins
        .iter()
        .map(|p| (p.info.name.clone(), p.info.version.clone()))
        .collect();
    let _server = match crate::server::start_from_config(config, &metrics, versions) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let stop = Arc::new(AtomicBool::new(false));
    let hup = Arc::new(AtomicBool::new(false));
    for (sig, flag) in [
        (signal_hook::consts::SIGINT, &stop),
        (signal_hook::consts::SIGTERM, &stop),
        (signal_hook::consts::SIGHUP, &hup),
    ] {
        if let Err(e) = signal_hook::flag::register(sig, Arc::clone(flag)) {
            return fail(format!("cannot install a signal handler: {e}"));
        }
    }
    let shared = Shared {
        outputs: &outputs,
        metrics: &metrics,
        stop: &stop,
        host: &host,
        reports: Mutex::default(),
    };
    // Each source gets its engine and a set of plugin instances: the first
    // source the already loaded set, the others fresh instances (same
    // order, so field origins stay valid).
    let specs: Vec<_> = plugins.iter().map(|p| p.spec.clone()).collect();
    let sources: Vec<(usize, String)> = plugins
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.source.as_ref().map(|(_, s)| (i, s.clone())))
        .collect();
    let mut engines: Vec<Option<SourceEngine>> = engines.into_iter().map(Some).collect();
    let mut first = Some(plugins);
    let mut jobs = Vec::new();
    let mut totals = Totals::default();
    for (si, source) in sources {
        let Some(engine) = engines
            .iter_mut()
            .find(|e| {
                e.as_ref()
                    .is_some_and(|e| e.rules().fields.source == source)
            })
            .and_then(Option::take)
        else {
            eprintln!(
                "Warning: no rules for source '{source}' (plugin {}) are loaded; its events are not \
                 read (load rules with `source: {source}` with -r, e.g. the plugin's rules file)",
                specs[si].name
            );
            continue;
        };
        let set = match first.take() {
            Some(set) => set,
            None => match specs.iter().cloned().map(LoadedPlugin::load).collect() {
                Ok(set) => set,
                Err(e) => {
                    eprintln!("Error: {e}");
                    totals.open_failures += 1;
                    continue;
                }
            },
        };
        jobs.push((set, si, engine, &origins[&source]));
    }
    if jobs.is_empty() {
        outputs.flush();
        return fail("no plugin source could be read".into());
    }
    // Where a reload leaves each source thread its new engine.
    let slots: Vec<(String, Mutex<Option<SourceEngine>>)> = jobs
        .iter()
        .map(|(_, _, e, _)| (e.rules().fields.source.clone(), Mutex::new(None)))
        .collect();
    // Since when each source thread has been in a step (see `Stall`).
    let stalls: Vec<Stall> = jobs
        .iter()
        .map(|(set, si, _, _)| Stall::new(&specs[*si].name, set))
        .collect();
    let mut watched_files = watched();
    let mut watched_print = fingerprint(&watched_files);
    let mut last_check = Instant::now();
    std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .into_iter()
            .zip(&slots)
            .zip(&stalls)
            .map(|(((set, si, engine, origins), (_, slot)), stall)| {
                let shared = &shared;
                std::thread::Builder::new()
                    .name(format!("source-{}", specs[si].name))
                    .spawn_scoped(scope, move || {
                        run_source(set, si, engine, origins, (slot, stall), shared)
                    })
            })
            .collect();
        // On SIGINT/SIGTERM, plugin calls in progress are cut short.
        let longest = specs
            .iter()
            .map(|s| s.limits.call_timeout)
            .max()
            .unwrap_or_default();
        let mut interrupted: Option<Instant> = None;
        while handles
            .iter()
            .any(|h| h.as_ref().is_ok_and(|h| !h.is_finished()))
        {
            if interrupted.is_none() && stop.load(Ordering::Relaxed) {
                crate::plugins::sandbox::interrupt_all(longest);
                interrupted = Some(Instant::now());
            }
            if interrupted.is_some_and(|t| t.elapsed() > SHUTDOWN_GRACE) {
                abandon_stuck(&handles, &outputs);
            }
            for s in &stalls {
                totals.failures += u64::from(s.check(&shared));
            }
            let interrupted = interrupted.is_some();
            let mut reload_now = hup.swap(false, Ordering::Relaxed);
            if watch && last_check.elapsed() >= Duration::from_secs(1) {
                last_check = Instant::now();
                let now = fingerprint(&watched_files);
                reload_now |= now != watched_print;
                watched_print = now;
            }
            if reload_now && !interrupted && reload_rules(reload, &slots, &shared) {
                watched_files = watched();
                watched_print = fingerprint(&watched_files);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        for h in handles {
            match h.map(|h| h.join()) {
                Ok(Ok(t)) => totals.add(&t),
                Ok(Err(_)) => totals.failures += 1,
                Err(e) => {
                    eprintln!("Error: cannot start a source thread: {e}");
                    totals.open_failures += 1;
                }
            }
        }
    });
    outputs.flush();
    eprintln!(
        "Events processed: {}, alerts: {}, plugin failures: {}",
        totals.events, totals.alerts, totals.failures
    );
    if totals.open_failures > 0 {
        return fail(format!(
            "{} plugin source(s) could not be opened",
            totals.open_failures
        ));
    }
    ExitCode::SUCCESS
}

/// Loads the rules again and hands each source thread its new engine; on
/// failure the previous rules keep running (error, internal alert).
/// Whether the new rules run.
fn reload_rules(
    reload: Reload<'_>,
    slots: &[(String, Mutex<Option<SourceEngine>>)],
    sh: &Shared,
) -> bool {
    match reload().and_then(|(_, engines)| hand_over(engines, slots)) {
        Ok(rules) => {
            sh.metrics.reloads.fetch_add(1, Ordering::Relaxed);
            sh.metrics
                .rules_loaded
                .store(rules as u64, Ordering::Relaxed);
            crate::log::info(&format!(
                "Reloaded the rules: {rules} rule(s) enabled (plugins and outputs change at the \
                 next start)"
            ));
            true
        }
        Err(e) => {
            sh.metrics.reload_failures.fetch_add(1, Ordering::Relaxed);
            crate::log::error(&format!(
                "reload rejected, the previous rules keep running: {e}"
            ));
            sh.outputs.push(internal_alert(
                "Falco internal: hot restart failure",
                format!("Reload rejected, the previous rules keep running: {e}"),
                Vec::new(),
                sh.host,
            ));
            false
        }
    }
}

/// How long a stop waits for source threads: a thread still blocked in a
/// plugin's file operation (calls waiting on timers, HTTP and the guest's
/// own code are cut at once) is left behind.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Ends the run without the source threads still blocked after a stop
/// (see [`SHUTDOWN_GRACE`]), the other sources' alerts delivered.
fn abandon_stuck(
    handles: &[std::io::Result<std::thread::ScopedJoinHandle<'_, Totals>>],
    outputs: &Outputs,
) -> ! {
    let stuck: Vec<&str> = handles
        .iter()
        .flatten()
        .filter(|h| !h.is_finished())
        .map(|h| h.thread().name().unwrap_or("source"))
        .collect();
    crate::log::error(&format!(
        "{} still blocked in a plugin call {} s after the stop (a file operation that does \
         not return: a FIFO or device in a granted directory?); exiting without waiting",
        stuck.join(", "),
        SHUTDOWN_GRACE.as_secs()
    ));
    outputs.flush();
    std::process::exit(0)
}

/// Gives each running source its engine from a reload; all or none: a
/// reload without rules for a running source is rejected. The number of
/// rules enabled across them.
fn hand_over(
    engines: Vec<SourceEngine>,
    slots: &[(String, Mutex<Option<SourceEngine>>)],
) -> Result<usize, String> {
    let mut engines: Vec<Option<SourceEngine>> = engines.into_iter().map(Some).collect();
    let mut picked = Vec::new();
    for (source, _) in slots {
        let e = engines
            .iter_mut()
            .find(|e| {
                e.as_ref()
                    .is_some_and(|e| &e.rules().fields.source == source)
            })
            .and_then(Option::take)
            .ok_or_else(|| format!("the new rules have none for the running source '{source}'"))?;
        picked.push(e);
    }
    let rules = picked.iter().map(SourceEngine::active_count).sum();
    for ((_, slot), e) in slots.iter().zip(picked) {
        *slot.lock().expect("engine slot") = Some(e);
    }
    Ok(rules)
}

/// A source thread's step that has run far past its plugins' time limits:
/// a plugin call blocked in a file operation that does not return (those
/// run in place and are not cut at the deadline). Said once per step.
struct Stall {
    source: String,
    /// Past this long, a step is stalled: twice the longest call limit of
    /// the source's plugins, plus a second.
    limit: Duration,
    /// Milliseconds since `base` when the current step began; 0: idle.
    since: std::sync::atomic::AtomicU64,
    base: Instant,
    said: AtomicBool,
}

impl Stall {
    fn new(source: &str, plugins: &[LoadedPlugin]) -> Stall {
        let longest = plugins.iter().map(|p| p.spec.limits.call_timeout).max();
        Stall {
            source: source.to_string(),
            limit: longest.unwrap_or_default() * 2 + Duration::from_secs(1),
            since: Default::default(),
            base: Instant::now(),
            said: AtomicBool::new(false),
        }
    }

    fn begin(&self) {
        let ms = self.base.elapsed().as_millis() as u64;
        self.since.store(ms.max(1), Ordering::Relaxed);
    }

    fn end(&self) {
        self.since.store(0, Ordering::Relaxed);
        self.said.store(false, Ordering::Relaxed);
    }

    /// Says a stall (error, internal alert, failure metric) the first time
    /// it is seen; whether it did.
    fn check(&self, sh: &Shared) -> bool {
        let since = self.since.load(Ordering::Relaxed);
        // A step that began within the first millisecond is stored as 1:
        // `now` may still be 0.
        let now = self.base.elapsed().as_millis() as u64;
        if since == 0
            || now.saturating_sub(since) < self.limit.as_millis() as u64
            || self.said.swap(true, Ordering::Relaxed)
        {
            return false;
        }
        // Not a fault: the call cannot be cut, the instance stays as it is.
        let e = CallError::Plugin(format!(
            "a call has been blocked for {} s, past its time limit (a file operation that does \
             not return, e.g. a FIFO in a granted directory); source {} is stalled",
            now.saturating_sub(since) / 1000,
            self.source
        ));
        fail_plugin(sh, &self.source, &e);
        true
    }
}

/// One source's loop, on its own thread: `plugins[si]` into `engine`, which
/// a reload replaces through `slot`; `stall` marks its steps.
fn run_source(
    mut plugins: Vec<LoadedPlugin>,
    si: usize,
    mut engine: SourceEngine,
    origins: &[FieldOrigin],
    (slot, stall): (&Mutex<Option<SourceEngine>>, &Stall),
    sh: &Shared,
) -> Totals {
    let mut t = Totals::default();
    let name = plugins[si].spec.name.clone();
    let source = engine.rules().fields.source.clone();
    // The webhook of this source, if it has one.
    let _push = match (&plugins[si].spec.grants.webhook, &plugins[si].webhook) {
        (Some(g), Some(q)) => {
            let token = match &g.token_env {
                None => Ok(None),
                Some(var) => std::env::var(var).map(Some).map_err(|_| {
                    format!("grants.webhook_token_env: the variable {var} is not set")
                }),
            };
            match token.and_then(|token| {
                PushServer::start(
                    &g.listen,
                    &g.path,
                    g.tls_pem.as_deref(),
                    Arc::clone(q),
                    token,
                )
                .map_err(|e| e.to_string())
            }) {
                Ok(s) => {
                    eprintln!("Plugin {name} receives POSTs on {}{}", s.addr, g.path);
                    Some(s)
                }
                Err(e) => {
                    fail_plugin(sh, &name, &CallError::Plugin(format!("webhook: {e}")));
                    t.failures += 1;
                    t.open_failures += 1;
                    return t;
                }
            }
        }
        _ => None,
    };
    let open = plugins[si].spec.open_params.clone();
    if let Err(e) = plugins[si].runner.open(&open) {
        // The other sources still run; the exit status says it failed.
        let hint = ungranted_hint(&plugins[si].spec.grants, &open);
        fail_plugin(
            sh,
            &name,
            &CallError::Plugin(format!("cannot open '{open}': {e}{hint}")),
        );
        t.failures += 1;
        t.open_failures += 1;
        return t;
    }
    eprintln!(
        "Opened source '{source}' (plugin {} {}) with '{open}'",
        plugins[si].info.name, plugins[si].info.version
    );
    let mut pump = SourcePump::new(&plugins, si, &engine, origins);
    let mut restarts = Restarts::new(plugins.len());
    let mut evt_num = 0u64;
    let mut last_metrics = Instant::now();
    let mut done = false;
    while !sh.stop.load(Ordering::Relaxed) && (!done || restarts.pending()) {
        if restarts.run_due(&mut plugins, sh, &mut t).contains(&si) {
            done = false;
        }
        if let Some(new) = slot.lock().expect("engine slot").take() {
            engine = new;
            pump = SourcePump::new(&plugins, si, &engine, origins);
        }
        let mut idle = true;
        if !done {
            let mut errors = Vec::new();
            stall.begin();
            let step = pump.step(
                &mut plugins,
                &mut engine,
                &mut evt_num,
                sh.host,
                &mut |a| {
                    sh.metrics
                        .add_alert(&a.rule, a.priority.as_str(), &a.source);
                    sh.outputs.push(a)
                },
                &mut |n, e| errors.push((n.to_string(), e)),
            );
            stall.end();
            if sh.stop.load(Ordering::Relaxed) {
                // Stopping: calls were cut short on purpose.
                break;
            }
            errors.extend(step.as_ref().err().map(|e| (name.clone(), e.clone())));
            restarts.failed(errors, &plugins, sh, &mut t);
            match step {
                Ok(s) => {
                    idle = s.events == 0;
                    t.events += s.events as u64;
                    t.alerts += s.alerts as u64;
                    sh.metrics.add_events(&source, s.events as u64);
                    done = s.status == BatchStatus::Eof;
                }
                Err(_) => done = true,
            }
        }
        if last_metrics.elapsed() >= Duration::from_secs(1) {
            last_metrics = Instant::now();
            if let Err(e) = read_plugin_metrics(&mut plugins[si], sh.metrics) {
                restarts.failed(vec![(name.clone(), e)], &plugins, sh, &mut t);
            }
        }
        if idle {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    if !sh.stop.load(Ordering::Relaxed) {
        let _ = read_plugin_metrics(&mut plugins[si], sh.metrics);
        let _ = plugins[si].runner.close();
    }
    t
}

/// When a plugin could not open a local path it was not granted: which
/// grant to add.
fn ungranted_hint(grants: &crate::plugins::Grants, open: &str) -> String {
    let path = std::path::Path::new(open);
    let granted = grants
        .read_dirs
        .iter()
        .chain(&grants.read_files)
        .any(|g| path.starts_with(g));
    if open.contains("://") || !path.is_absolute() || granted {
        return String::new();
    }
    format!(
        " ('{open}' is not granted to the plugin: add it to the plugin's entry in falco.yaml, \
         e.g. `grants: {{read_dirs: [{open}]}}`)"
    )
}

/// The restart policy at work in one source: restarts done and the next one
/// due, per plugin.
struct Restarts {
    done: Vec<u32>,
    due: Vec<Option<Instant>>,
}

impl Restarts {
    fn new(plugins: usize) -> Restarts {
        Restarts {
            done: vec![0; plugins],
            due: vec![None; plugins],
        }
    }

    /// Whether a restart is still to come.
    fn pending(&self) -> bool {
        self.due.iter().any(Option::is_some)
    }

    /// Restarts the plugins whose time has come; the indexes of those that
    /// run again.
    fn run_due(&mut self, plugins: &mut [LoadedPlugin], sh: &Shared, t: &mut Totals) -> Vec<usize> {
        let mut restarted = Vec::new();
        for (i, p) in plugins.iter_mut().enumerate() {
            if self.due[i].is_none_or(|d| d > Instant::now()) {
                continue;
            }
            self.due[i] = None;
            self.done[i] += 1;
            let (n, max) = (self.done[i], p.spec.restart.max);
            match p.restart() {
                Ok(()) => {
                    crate::log::warning(&format!("plugin {}: restarted ({n}/{max})", p.spec.name));
                    restarted.push(i);
                }
                Err(e) => {
                    t.failures += 1;
                    fail_plugin(sh, &p.spec.name, &CallError::Plugin(e.to_string()));
                    self.due[i] = next_restart(p, n);
                }
            }
        }
        restarted
    }

    /// Counts and reports failures of plugin calls (by plugin name), and
    /// schedules the restart of those that faulted.
    fn failed(
        &mut self,
        errors: Vec<(String, CallError)>,
        plugins: &[LoadedPlugin],
        sh: &Shared,
        t: &mut Totals,
    ) {
        for (n, e) in errors {
            if !matches!(e, CallError::Disabled(_)) {
                t.failures += 1;
            }
            fail_plugin(sh, &n, &e);
            if let CallError::Fault(_) = e
                && let Some(i) = plugins.iter().position(|p| p.spec.name == n)
                && self.due[i].is_none()
            {
                self.due[i] = next_restart(&plugins[i], self.done[i]);
            }
        }
    }
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

/// The most metric names a plugin may have in `/metrics` (later new names
/// are left out, and said once).
const MAX_METRIC_NAMES: usize = 64;

/// Reads a source plugin's own metrics (and its webhook counters) into
/// `/metrics`.
fn read_plugin_metrics(p: &mut LoadedPlugin, metrics: &Metrics) -> Result<(), CallError> {
    let list = p.runner.metrics()?;
    let mut m = metrics.plugin_metrics.lock().expect("metrics lock");
    let name = &p.spec.name;
    let mut have = m.keys().filter(|(n, _)| n == name).count();
    for x in list {
        let key = (name.clone(), x.name);
        if !m.contains_key(&key) {
            if have >= MAX_METRIC_NAMES {
                if !p.metric_names_capped {
                    p.metric_names_capped = true;
                    crate::log::warning(&format!(
                        "plugin {name}: more than {MAX_METRIC_NAMES} metric names; the \
                         new ones are left out of /metrics"
                    ));
                }
                continue;
            }
            have += 1;
        }
        m.insert(key, (x.value, x.monotonic));
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
    Ok(())
}

/// Failures of one plugin said per second; the others are counted, and
/// their number said with the next one.
const REPORTS_PER_SECOND: u32 = 5;

/// A plugin failure: counted in `/metrics`, and said with an error line and
/// an internal alert naming the plugin (at most [`REPORTS_PER_SECOND`]).
fn fail_plugin(sh: &Shared, plugin: &str, e: &CallError) {
    let kind = match e {
        CallError::Plugin(_) => "error",
        CallError::Fault(_) => "fault (instance disabled)",
        // Reported when it happened.
        CallError::Disabled(_) => return,
    };
    sh.metrics.add_plugin_failure(plugin);
    let admitted = sh
        .reports
        .lock()
        .expect("report limits")
        .entry(plugin.to_string())
        .or_insert_with(|| LogLimiter::new(REPORTS_PER_SECOND))
        .admit();
    let Some(unsaid) = admitted else {
        return;
    };
    let e = if unsaid > 0 {
        format!("{e} ({unsaid} earlier failure(s) of this plugin not shown)")
    } else {
        e.to_string()
    };
    eprintln!("Error: plugin {plugin}: {kind}: {e}");
    sh.outputs.push(internal_alert(
        "Falco internal: plugin failure",
        format!("Plugin {plugin} failed: {e}"),
        vec![
            ("plugin".into(), Some(FieldValue::Text(plugin.to_string()))),
            ("error".into(), Some(FieldValue::Text(e))),
        ],
        sh.host,
    ));
}
