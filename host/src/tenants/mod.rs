//! Tenants: several rulesets, each with its own scope of events, outputs
//! and limits, on one engine.
//!
//! ```text
//!  record ─► state::update ─► default tenant's engine ─► shared outputs
//!                         └─► for each tenant: scope? ─► budget? ─► its engine ─► rate ─► its sink
//!  a tenant's plugin source (thread of its own): budget? ─► its plugins ─► its engine ─► rate ─► its sink
//! ```
//!
//! The state tables are shared and read only by tenants; everything a
//! tenant evaluates with is its own: its compiled filter instances (own
//! Stores, own memory and time limits), its plugin instances, its output
//! channels and their queues, its CPU budget, its alert bucket, its
//! counters ([`TenantSink`], shared by its threads). A tenant whose filter
//! or plugin traps, whose queue is full or whose budget is spent loses its
//! own events only.

pub mod limits;
pub mod scope;
pub mod spec;

use crate::capture::record::Record;
use crate::config::ConfigError;
use crate::engine::SourceEngine;
use crate::outputs::Outputs;
use crate::outputs::alert::{Alert, FieldValue, FormatOptions};
use crate::outputs::config::OutputsConfig;
use crate::server::api::{Directory, Feed};
use crate::server::metrics::{Metrics, TenantCounters};
use crate::state::State;
use crate::state::event::{FieldNames, SyscallEvent};
use limits::{AlertBucket, Budget};
use scope::Scope;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

pub use spec::{DEFAULT_TENANT, TenantSpec, tenants};

/// How often a tenant's suppressed alerts are reported (and at its end).
const REPORT_PERIOD: Duration = Duration::from_secs(10);

/// Evaluation errors said in full per tenant (the others are counted).
const ERRORS_SAID: u64 = 10;

/// The internal alert reporting a tenant's alerts over its rate.
pub const SUPPRESSED_RULE: &str = "Falco internal: alerts suppressed";

/// What a tenant's evaluators share, each on its own thread (the syscall
/// stage's [`Tenant`] and each of its plugin sources): its outputs, its
/// API stream, its CPU budget, its alert bucket and its counters. The
/// control thread starts, updates and retires it; its outputs drain when
/// the last evaluator lets it go.
pub struct TenantSink {
    name: String,
    /// Taken out only when it is dropped.
    outputs: RwLock<Option<TenantOutputs>>,
    /// The API's live stream of its alerts.
    feed: Arc<Feed>,
    budget: Budget,
    bucket: Mutex<AlertBucket>,
    counters: Arc<TenantCounters>,
    metrics: Arc<Metrics>,
    last_report: Mutex<Instant>,
    /// Filter memory per evaluator (`syscall`, a plugin source).
    memory: Mutex<BTreeMap<String, u64>>,
    /// Removed by a reload: it evaluates and delivers nothing more.
    retired: AtomicBool,
}

impl TenantSink {
    /// Starts a tenant's outputs; the API's `directory` lists it with its
    /// `rules` enabled.
    pub fn start(
        spec: &TenantSpec,
        rules: usize,
        metrics: &Arc<Metrics>,
        directory: &Directory,
    ) -> Result<Arc<TenantSink>, ConfigError> {
        let outputs = TenantOutputs::start(spec)?;
        list(spec, rules, directory);
        let counters = metrics.tenant(&spec.name);
        outputs.count_in(&counters);
        Ok(Arc::new(TenantSink {
            feed: directory.feed(&spec.name),
            name: spec.name.clone(),
            outputs: RwLock::new(Some(outputs)),
            budget: Budget::new(spec.limits.cpu_budget),
            bucket: Mutex::new(AlertBucket::new(
                spec.limits.alert_rate,
                spec.limits.alert_burst,
            )),
            counters,
            metrics: Arc::clone(metrics),
            last_report: Mutex::new(Instant::now()),
            memory: Mutex::default(),
            retired: AtomicBool::new(false),
        }))
    }

    /// The tenant's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its counters.
    pub fn counters(&self) -> &TenantCounters {
        &self.counters
    }

    /// Takes a reload's version of this tenant's settings: its limits, and
    /// its outputs restarted when their configuration changed (the old
    /// ones deliver what they hold first, on a thread of their own).
    pub fn update(
        &self,
        spec: &TenantSpec,
        rules: usize,
        directory: &Directory,
    ) -> Result<(), ConfigError> {
        let key = crate::outputs::config::outputs_key(&spec.config);
        if self.with_outputs(|o| o.key != key) {
            let new = TenantOutputs::start(spec)?;
            new.count_in(&self.counters);
            let old = (self.outputs.write())
                .unwrap_or_else(|p| p.into_inner())
                .replace(new);
            if let Some(old) = old {
                drain_apart(old.outputs);
            }
        }
        list(spec, rules, directory);
        self.budget.set_limit(spec.limits.cpu_budget);
        let mut bucket = lock(&self.bucket);
        // what was suppressed and not reported yet stays to be reported
        let suppressed = std::mem::take(&mut bucket.suppressed);
        *bucket = AlertBucket::new(spec.limits.alert_rate, spec.limits.alert_burst);
        bucket.suppressed = suppressed;
        Ok(())
    }

    fn with_outputs<T: Default>(&self, f: impl FnOnce(&TenantOutputs) -> T) -> T {
        let o = self.outputs.read().unwrap_or_else(|p| p.into_inner());
        o.as_ref().map(f).unwrap_or_default()
    }

    /// Whether its CPU budget allows work at `now`.
    pub fn admits(&self, now: Instant) -> bool {
        self.budget.admits(now)
    }

    /// Counts the work begun at `started` against its budget; the time it
    /// ends.
    pub fn spend(&self, started: Instant) -> Instant {
        let end = Instant::now();
        let spent = end.duration_since(started);
        self.budget.spend(spent);
        self.counters
            .cpu_ns
            .fetch_add(spent.as_nanos() as u64, Ordering::Relaxed);
        end
    }

    /// Says (the first few) and counts an evaluation error.
    pub fn evaluation_error(&self, what: &str, e: &dyn std::fmt::Display) {
        let n = self.counters.eval_errors.fetch_add(1, Ordering::Relaxed) + 1;
        if n <= ERRORS_SAID {
            crate::log::error(&format!("tenant '{}': {what}: {e}", self.name));
        }
    }

    /// Whether an alert of `rule` at `now` is within its alert rate (if
    /// not, it is counted and reported later).
    pub fn within_rate(&self, rule: &str, now: Instant) -> bool {
        if lock(&self.bucket).take(rule, now) {
            return true;
        }
        self.counters.suppressed.fetch_add(1, Ordering::Relaxed);
        false
    }

    /// One of its rules' alerts (within its rate): its static fields
    /// added, counted, on its API stream and its outputs.
    pub fn deliver(&self, mut a: Alert) {
        if self.retired() {
            return;
        }
        let o = self.outputs.read().unwrap_or_else(|p| p.into_inner());
        let Some(o) = o.as_ref() else { return };
        for (k, v) in &o.static_fields {
            a.fields
                .push((k.clone(), Some(FieldValue::Text(v.clone()))));
        }
        self.counters.alerts.fetch_add(1, Ordering::Relaxed);
        self.metrics
            .add_alert(&self.name, &a.rule, a.priority.as_str(), &a.source);
        if self.feed.wanted() {
            self.feed.send(&a.json(&o.stream_format));
        }
        o.outputs.push(a);
    }

    /// One of the engine's own alerts about this tenant (a plugin of its
    /// failed), on its outputs as is.
    pub fn internal(&self, a: Alert) {
        self.with_outputs(|o| o.outputs.push(a));
    }

    /// The filter memory of one of its evaluators (`part`: `syscall` or a
    /// plugin source; `None`: it ended); the gauge is their sum.
    pub fn set_memory(&self, part: &str, bytes: Option<usize>) {
        let mut m = lock(&self.memory);
        match bytes {
            Some(b) => m.insert(part.to_string(), b as u64),
            None => m.remove(part),
        };
        let sum = m.values().sum();
        self.counters.filter_memory.store(sum, Ordering::Relaxed);
    }

    /// Once a second: the alerts suppressed in the last period reported.
    pub fn tick(&self, host: &str) {
        if lock(&self.last_report).elapsed() >= REPORT_PERIOD {
            self.report_suppressed(host);
        }
    }

    /// At the end of the run, its sources done: the last report, its
    /// outputs closed here once they delivered what they hold; its line
    /// of the exit summary.
    pub fn close(&self, host: &str) -> String {
        self.report_suppressed(host);
        let outputs = self
            .outputs
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        drop(outputs);
        self.summary()
    }

    /// Whether a reload removed it.
    pub fn retired(&self) -> bool {
        self.retired.load(Ordering::Relaxed)
    }

    /// When a reload removed it: it evaluates and delivers nothing from
    /// now on (its evaluators let it go at their next step); the last
    /// report; off the API's list and `/metrics`; what its outputs hold
    /// delivered before this returns.
    pub fn retire(&self, host: &str, directory: &Directory) {
        self.retired.store(true, Ordering::Relaxed);
        self.report_suppressed(host);
        directory.remove(&self.name);
        self.metrics.remove_tenant(&self.name);
        self.with_outputs(|o| o.outputs.flush());
    }

    fn summary(&self) -> String {
        let c = &self.counters;
        let n = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        let throttled = match n(&c.throttled) {
            0 => String::new(),
            t => format!(", {t} plugin step(s) put off over its CPU budget"),
        };
        format!(
            "{}: {} event(s) evaluated, {} shed over its CPU budget{throttled}, {} alert(s), {} \
             suppressed over its alert rate, {} evaluation error(s), {:.3} s of CPU",
            self.name,
            n(&c.events),
            n(&c.shed),
            n(&c.alerts),
            n(&c.suppressed),
            n(&c.eval_errors),
            n(&c.cpu_ns) as f64 / 1e9
        )
    }

    /// A `Falco internal: alerts suppressed` alert on the tenant's own
    /// outputs, with the count per rule, when any was suppressed.
    fn report_suppressed(&self, host: &str) {
        let since = {
            let mut last = lock(&self.last_report);
            let since = last.elapsed();
            *last = Instant::now();
            since
        };
        let counts = std::mem::take(&mut lock(&self.bucket).suppressed);
        if counts.is_empty() {
            return;
        }
        let total: u64 = counts.values().sum();
        let per_rule: Vec<String> = counts.iter().map(|(r, n)| format!("{r}: {n}")).collect();
        let message = format!(
            "{total} alert(s) of tenant {} over its alert rate suppressed in the last {} s ({})",
            self.name,
            since.as_secs().max(1),
            per_rule.join(", ")
        );
        let fields = vec![
            ("tenant".into(), Some(FieldValue::Text(self.name.clone()))),
            ("n_suppressed".into(), Some(FieldValue::Num(total as i64))),
            (
                "suppressed_by_rule".into(),
                Some(FieldValue::Text(per_rule.join(", "))),
            ),
        ];
        crate::log::warning(&format!("tenant '{}': {message}", self.name));
        self.internal(Alert::internal(SUPPRESSED_RULE, message, fields, host));
    }
}

impl Drop for TenantSink {
    fn drop(&mut self) {
        let outputs = self.outputs.get_mut().unwrap_or_else(|p| p.into_inner());
        if let Some(o) = outputs.take() {
            drain_apart(o.outputs);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A tenant's syscall rules: its scope and its engine, on the syscall
/// source's thread, over the shared state.
pub struct Tenant {
    sink: Arc<TenantSink>,
    scope: Scope,
    engine: SourceEngine,
    names: FieldNames,
    hits: Vec<u32>,
}

impl Tenant {
    /// `engine` runs its syscall rules over the events of `scope`.
    pub fn new(sink: Arc<TenantSink>, scope: Scope, engine: SourceEngine) -> Tenant {
        let memory = Some(engine.filter_memory_bytes());
        sink.set_memory(crate::fields::SYSCALL_SOURCE, memory);
        Tenant {
            names: FieldNames::new(&engine.rules().fields),
            sink,
            scope,
            engine,
            hits: Vec::new(),
        }
    }

    /// The tenant's name.
    pub fn name(&self) -> &str {
        self.sink.name()
    }

    /// The syscalls its rules need (`None`: every one).
    pub fn event_types_in_use(&self) -> Option<Vec<&'static str>> {
        if self.scope.is_empty() {
            return Some(Vec::new());
        }
        self.engine.event_types_in_use()
    }

    /// The I/O calls its rules name (see [`SourceEngine::io_types_named`]).
    pub fn io_types_named(&self) -> Vec<&'static str> {
        if self.scope.is_empty() {
            return Vec::new();
        }
        self.engine.io_types_named()
    }

    /// One syscall event (the state already updated): evaluated when it is
    /// in the tenant's scope and the tenant's budget allows; its alerts
    /// go to the tenant's outputs within its alert rate. `now` is the
    /// time it starts; the time it ends is returned (the next tenant's
    /// start: an event out of scope or shed costs no clock reading).
    pub fn event(
        &mut self,
        rec: &Record,
        state: &State,
        num: u64,
        host: &str,
        time_ns: i64,
        now: Instant,
    ) -> Instant {
        let sink = &self.sink;
        if sink.retired() || !self.scope.admits(state.process(rec.pid), state) {
            return now;
        }
        let c = &sink.counters;
        if !sink.admits(now) {
            c.shed.fetch_add(1, Ordering::Relaxed);
            return now;
        }
        c.events.fetch_add(1, Ordering::Relaxed);
        let ev = SyscallEvent::new(rec, state, &self.names, num, host);
        self.hits.clear();
        if let Err(e) = self.engine.process(&ev, &mut self.hits) {
            sink.evaluation_error(&format!("evaluating event {num}"), &e);
        }
        for &r in &self.hits {
            let rule = &self.engine.rules().rules[r as usize].name;
            if sink.within_rate(rule, now) {
                sink.deliver(self.engine.alert(r, &ev, time_ns, host));
            }
        }
        sink.spend(now)
    }

    /// Once a second: its filter's memory measured.
    pub fn tick(&self) {
        let memory = Some(self.engine.filter_memory_bytes());
        self.sink.set_memory(crate::fields::SYSCALL_SOURCE, memory);
    }
}

/// A tenant's output channels and what its alerts get on their way.
struct TenantOutputs {
    outputs: Outputs,
    static_fields: Vec<(String, String)>,
    /// The JSON form of its alerts on the API's stream.
    stream_format: FormatOptions,
    /// The configuration they were made from (a reload restarts them only
    /// when it changed).
    key: String,
}

impl TenantOutputs {
    fn start(spec: &TenantSpec) -> Result<TenantOutputs, ConfigError> {
        let cfg = OutputsConfig::from_config(&spec.config).map_err(|e| spec.error(e))?;
        let sinks = cfg.sinks().map_err(|e| spec.error(e))?;
        Ok(TenantOutputs {
            outputs: Outputs::start_with(sinks, cfg.format, cfg.queue_limits()),
            static_fields: cfg.static_fields,
            stream_format: FormatOptions {
                json: true,
                ..cfg.format
            },
            key: crate::outputs::config::outputs_key(&spec.config),
        })
    }

    /// Lists its channels' counters among the tenant's.
    fn count_in(&self, counters: &TenantCounters) {
        *counters.outputs.lock().unwrap_or_else(|p| p.into_inner()) = self.outputs.stats();
    }
}

/// Lists a tenant in the API's directory with its `rules` enabled.
fn list(spec: &TenantSpec, rules: usize, directory: &Directory) {
    directory.set(
        &spec.name,
        spec.token_sha256.clone(),
        spec.scope.to_string(),
        rules,
    );
}

/// Delivers what `outputs` hold and stops them, on a thread of its own.
fn drain_apart(outputs: Outputs) {
    let spawned = std::thread::Builder::new()
        .name("tenant-outputs".into())
        .spawn(move || drop(outputs));
    if let Err(e) = spawned {
        crate::log::error(&format!("cannot drain a tenant's outputs apart: {e}"));
    }
}
