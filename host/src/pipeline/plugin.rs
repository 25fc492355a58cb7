//! Plugin sources: each source plugin's batches → fields extracted once
//! per batch per plugin → its source's rules → outputs.
//!
//! Every source has instances of its own of the plugins (the source and
//! the extractors its rules use): a slow or faulting plugin holds up only
//! its source. A plugin that faults (trap, limit, malformed answer) is
//! disabled: an internal alert and a log line name it, its restart policy
//! applies, and the other sources keep running.
//!
//! A tenant's plugin source is the same, with the tenant as its owner: it
//! reads while the tenant's CPU budget allows (its plugins' time and its
//! rules' count against it), its alerts go through the tenant's rate to
//! the tenant's outputs, and so do its plugins' failures (a tenant's
//! plugins are named `tenant/plugin` from their load on).

use super::{Flow, Shared, Source, Totals};
use crate::engine::SourceEngine;
use crate::outputs::alert::{Alert, FieldValue};
use crate::plugins::drive::SourcePump;
use crate::plugins::text::LogLimiter;
use crate::plugins::{FieldOrigin, Grants, LoadedPlugin, PluginSpec};
use crate::server::metrics::Metrics;
use crate::server::push::PushServer;
use crate::tenants::TenantSink;
use guest_sdk::BatchStatus;
use guest_sdk::native::CallError;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// The pause after a batch without events (a plugin call each time).
const IDLE_PAUSE: Duration = Duration::from_millis(10);

/// The sources among `plugins`, each with its engine from `engines`: the
/// first source gets the loaded instances, the others load their own when
/// they open (same order, so field origins stay valid). A source without
/// rules is not read (warning). `owner`: the tenant they are of (`None`:
/// the top level).
pub fn sources(
    plugins: Vec<LoadedPlugin>,
    engines: Vec<SourceEngine>,
    origins: &HashMap<String, Vec<FieldOrigin>>,
    owner: Option<&Arc<TenantSink>>,
) -> Vec<Box<dyn Source>> {
    let specs: Vec<PluginSpec> = plugins.iter().map(|p| p.spec.clone()).collect();
    let found: Vec<(usize, String)> = plugins
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.source.as_ref().map(|(_, s)| (i, s.clone())))
        .collect();
    let mut engines: Vec<Option<SourceEngine>> = engines.into_iter().map(Some).collect();
    let mut first = Some(plugins);
    let mut out: Vec<Box<dyn Source>> = Vec::new();
    for (si, source) in found {
        let Some(engine) = engines
            .iter_mut()
            .find(|e| {
                e.as_ref()
                    .is_some_and(|e| e.rules().fields.source == source)
            })
            .and_then(Option::take)
        else {
            crate::log::warning(&format!(
                "no rules for source '{source}' (plugin {}) are loaded; its events are not read \
                 (load rules with `source: {source}` with -r, e.g. the plugin's rules file)",
                specs[si].name
            ));
            continue;
        };
        out.push(Box::new(PluginSource {
            plugins: first.take().unwrap_or_default(),
            specs: specs.clone(),
            si,
            origins: origins[&source].clone(),
            source,
            engine,
            pump: None,
            restarts: Restarts::new(specs.len(), owner.cloned()),
            owner: owner.cloned(),
            evt_num: 0,
            done: false,
            _push: None,
        }));
    }
    out
}

/// One source plugin and the instances its source uses.
struct PluginSource {
    /// Loaded at `open` unless given.
    plugins: Vec<LoadedPlugin>,
    specs: Vec<PluginSpec>,
    si: usize,
    source: String,
    engine: SourceEngine,
    origins: Vec<FieldOrigin>,
    /// The tenant it is of (`None`: the top level).
    owner: Option<Arc<TenantSink>>,
    pump: Option<SourcePump>,
    restarts: Restarts,
    evt_num: u64,
    /// The source said EOF or failed (a restart may revive it).
    done: bool,
    _push: Option<PushServer>,
}

impl PluginSource {
    fn plugin_name(&self) -> &str {
        &self.specs[self.si].name
    }

    /// A failure that keeps this source from opening (a tenant's is the
    /// tenant's: it does not fail the run).
    fn open_failed(&self, sh: &Shared, t: &mut Totals, message: String) -> bool {
        report_failure(
            sh,
            self.owner.as_deref(),
            self.plugin_name(),
            &CallError::Plugin(message),
        );
        if self.owner.is_none() {
            t.failures += 1;
            t.open_failures += 1;
        }
        false
    }

    /// Starts the source's webhook, if it has one.
    fn start_webhook(&mut self) -> Result<(), String> {
        let p = &self.plugins[self.si];
        let (Some(g), Some(q)) = (&p.spec.grants.webhook, &p.webhook) else {
            return Ok(());
        };
        let token =
            match &g.token_env {
                None => None,
                Some(var) => Some(std::env::var(var).map_err(|_| {
                    format!("grants.webhook_token_env: the variable {var} is not set")
                })?),
            };
        let s = PushServer::start(
            &g.listen,
            &g.path,
            g.tls_pem.as_deref(),
            Arc::clone(q),
            token,
        )
        .map_err(|e| format!("webhook: {e}"))?;
        crate::log::info(&format!(
            "Plugin {} receives POSTs on {}{}",
            p.spec.name, s.addr, g.path
        ));
        self._push = Some(s);
        Ok(())
    }

    /// Records a batch's result: counters, failures, EOF.
    fn batch_done(
        &mut self,
        step: Result<crate::plugins::drive::Step, CallError>,
        mut errors: Vec<(String, CallError)>,
        sh: &Shared,
        t: &mut Totals,
    ) -> Flow {
        let name = self.plugin_name().to_string();
        errors.extend(step.as_ref().err().map(|e| (name, e.clone())));
        self.restarts.failed(errors, &self.plugins, sh, t);
        let Ok(s) = step else {
            self.done = true;
            return Flow::Busy;
        };
        match &self.owner {
            // a tenant's events and alerts are its own counters'
            Some(o) => {
                o.counters()
                    .events
                    .fetch_add(s.events as u64, Ordering::Relaxed);
            }
            None => {
                t.events += s.events as u64;
                t.alerts += s.alerts as u64;
                sh.metrics.add_events(&self.source, s.events as u64);
            }
        }
        self.done = s.status == BatchStatus::Eof;
        if s.events == 0 {
            Flow::Idle
        } else {
            Flow::Busy
        }
    }
}

impl Source for PluginSource {
    fn source(&self) -> &str {
        &self.source
    }

    fn name(&self) -> &str {
        self.plugin_name()
    }

    fn stall_limit(&self) -> Option<Duration> {
        self.specs.iter().map(|s| s.limits.call_timeout).max()
    }

    fn idle_pause(&self) -> Duration {
        IDLE_PAUSE
    }

    fn open(&mut self, sh: &Shared, t: &mut Totals) -> bool {
        if self.plugins.is_empty() {
            match self.specs.iter().cloned().map(LoadedPlugin::load).collect() {
                Ok(set) => self.plugins = set,
                Err(e) => return self.open_failed(sh, t, e.to_string()),
            }
        }
        if let Err(e) = self.start_webhook() {
            return self.open_failed(sh, t, e);
        }
        let p = &mut self.plugins[self.si];
        let open = p.spec.open_params.clone();
        if let Err(e) = p.runner.open(&open) {
            // The other sources still run; the exit status says it failed.
            let hint = ungranted_hint(&p.spec.grants, &open);
            return self.open_failed(sh, t, format!("cannot open '{open}': {e}{hint}"));
        }
        let plugin = match &self.owner {
            Some(o) => format!("{}/{}", o.name(), p.info.name),
            None => p.info.name.clone(),
        };
        crate::log::info(&format!(
            "Opened source '{}' (plugin {plugin} {}) with '{open}'",
            self.source, p.info.version
        ));
        self.pump = Some(SourcePump::new(
            &self.plugins,
            self.si,
            &self.engine,
            &self.origins,
        ));
        true
    }

    fn step(&mut self, sh: &Shared, t: &mut Totals) -> Flow {
        if self
            .restarts
            .run_due(&mut self.plugins, sh, t)
            .contains(&self.si)
        {
            self.done = false;
        }
        match (self.done, self.restarts.pending()) {
            (true, true) => return Flow::Idle,
            (true, false) => return Flow::Done,
            _ => {}
        }
        let Some(pump) = &self.pump else {
            return Flow::Done;
        };
        let started = Instant::now();
        if let Some(o) = &self.owner
            && !o.admits(started)
        {
            // its events wait in the source until its next second
            o.counters().throttled.fetch_add(1, Ordering::Relaxed);
            return Flow::Idle;
        }
        let mut errors = Vec::new();
        let owner = self.owner.as_deref();
        let step = pump.step(
            &mut self.plugins,
            &mut self.engine,
            &mut self.evt_num,
            &sh.host,
            &mut |a| match owner {
                Some(o) if o.within_rate(&a.rule, started) => o.deliver(a),
                Some(_) => {}
                None => sh.alert(a),
            },
            &mut |n, e| errors.push((n.to_string(), e)),
        );
        if let Some(o) = owner {
            o.spend(started);
        }
        if sh.stopping() {
            // Calls were cut short on purpose.
            return Flow::Done;
        }
        self.batch_done(step, errors, sh, t)
    }

    fn swap(&mut self, engine: Option<SourceEngine>, _: Option<super::TenantSwap>, _: &Shared) {
        let Some(engine) = engine else { return };
        self.engine = engine;
        if self.pump.is_some() {
            self.pump = Some(SourcePump::new(
                &self.plugins,
                self.si,
                &self.engine,
                &self.origins,
            ));
        }
    }

    fn tick(&mut self, sh: &Shared, t: &mut Totals) {
        if let Some(o) = &self.owner {
            o.set_memory(&self.source, Some(self.engine.filter_memory_bytes()));
        }
        if let Err(e) = read_plugin_metrics(&mut self.plugins[self.si], &sh.metrics) {
            let name = self.plugin_name().to_string();
            self.restarts.failed(vec![(name, e)], &self.plugins, sh, t);
        }
    }

    fn close(&mut self, sh: &Shared, _: &mut Totals, stopping: bool) {
        if let Some(o) = &self.owner {
            o.set_memory(&self.source, None);
        }
        if !stopping {
            let p = &mut self.plugins[self.si];
            let _ = read_plugin_metrics(p, &sh.metrics);
            let _ = p.runner.close();
        }
    }
}

/// When a plugin could not open a local path it was not granted: which
/// grant to add.
fn ungranted_hint(grants: &Grants, open: &str) -> String {
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
    /// The tenant the plugins are of (failures are reported to it).
    owner: Option<Arc<TenantSink>>,
}

impl Restarts {
    fn new(plugins: usize, owner: Option<Arc<TenantSink>>) -> Restarts {
        Restarts {
            done: vec![0; plugins],
            due: vec![None; plugins],
            owner,
        }
    }

    /// Counts a failure in the run's totals (a tenant's plugins' are in
    /// `/metrics` and the tenant's outputs only).
    fn count(&self, t: &mut Totals) {
        if self.owner.is_none() {
            t.failures += 1;
        }
    }

    /// Reports a failure of plugin `plugin`.
    fn report(&self, sh: &Shared, plugin: &str, e: &CallError) {
        report_failure(sh, self.owner.as_deref(), plugin, e);
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
                    self.count(t);
                    self.report(sh, &p.spec.name, &CallError::Plugin(e.to_string()));
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
                self.count(t);
            }
            self.report(sh, &n, &e);
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
    let (name, policy) = (&p.spec.name, &p.spec.restart);
    if done >= policy.max {
        if policy.max > 0 {
            crate::log::error(&format!(
                "plugin {name}: not restarted again ({} restart(s) allowed)",
                policy.max
            ));
        }
        return None;
    }
    let delay = policy.delay(done + 1);
    crate::log::warning(&format!(
        "plugin {name}: restarting in {} ms ({}/{})",
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
    let mut m = metrics
        .plugin_metrics
        .lock()
        .unwrap_or_else(|e| e.into_inner());
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
        for (key, v) in [
            ("webhook_received", &q.received),
            ("webhook_refused", &q.refused),
        ] {
            let v = v.load(Ordering::Relaxed) as f64;
            m.insert((name.clone(), key.into()), (v, true));
        }
    }
    Ok(())
}

/// Failures of one plugin said per second; the others are counted, and
/// their number said with the next one.
const REPORTS_PER_SECOND: u32 = 5;

/// A plugin failure: counted in `/metrics`, and said with an error line and
/// an internal alert naming the plugin (at most [`REPORTS_PER_SECOND`]);
/// the alert goes to the outputs of the tenant the plugin is of, if any.
pub fn report_failure(sh: &Shared, tenant: Option<&TenantSink>, plugin: &str, e: &CallError) {
    let kind = match e {
        CallError::Plugin(_) => "error",
        CallError::Fault(_) => "fault (instance disabled)",
        // Reported when it happened.
        CallError::Disabled(_) => return,
    };
    sh.metrics.add_plugin_failure(plugin);
    let admitted = sh
        .plugin_reports
        .lock()
        .unwrap_or_else(|p| p.into_inner())
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
    crate::log::error(&format!("plugin {plugin}: {kind}: {e}"));
    let a = Alert::internal(
        "Falco internal: plugin failure",
        format!("Plugin {plugin} failed: {e}"),
        vec![
            ("plugin".into(), Some(FieldValue::Text(plugin.to_string()))),
            ("error".into(), Some(FieldValue::Text(e))),
        ],
        &sh.host,
    );
    match tenant {
        Some(t) => t.internal(a),
        None => sh.internal(a),
    }
}
