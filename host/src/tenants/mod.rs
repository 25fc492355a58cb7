//! Tenants: several rulesets, each with its own scope of events, outputs
//! and limits, on one engine.
//!
//! ```text
//!  record ─► state::update ─► default tenant's engine ─► shared outputs
//!                         └─► for each tenant: scope? ─► budget? ─► its engine ─► rate ─► its outputs
//! ```
//!
//! The state tables are shared and read only by tenants; everything a
//! tenant evaluates with is its own: its compiled filter instance (own
//! Store, own memory and time limits), its output channels and their
//! queues, its CPU budget, its alert bucket, its counters. A tenant whose
//! filter traps, whose queue is full or whose budget is spent loses its
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
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

pub use spec::{DEFAULT_TENANT, TenantSpec, tenants};

/// How often a tenant's suppressed alerts are reported (and at its end).
const REPORT_PERIOD: Duration = Duration::from_secs(10);

/// Evaluation errors said in full per tenant (the others are counted).
const ERRORS_SAID: u64 = 10;

/// The internal alert reporting a tenant's alerts over its rate.
pub const SUPPRESSED_RULE: &str = "Falco internal: alerts suppressed";

/// One tenant at run time.
pub struct Tenant {
    name: String,
    scope: Scope,
    engine: SourceEngine,
    names: FieldNames,
    outputs: TenantOutputs,
    /// The API's live stream of its alerts.
    feed: Arc<Feed>,
    budget: Budget,
    bucket: AlertBucket,
    hits: Vec<u32>,
    counters: Arc<TenantCounters>,
    metrics: Arc<Metrics>,
    last_report: Instant,
}

impl Tenant {
    /// Starts a tenant's outputs; `engine` runs its syscall rules; the
    /// API's `directory` lists it.
    pub fn start(
        spec: &TenantSpec,
        engine: SourceEngine,
        metrics: &Arc<Metrics>,
        directory: &Directory,
    ) -> Result<Tenant, ConfigError> {
        let outputs = TenantOutputs::start(spec)?;
        list(spec, &engine, directory);
        let counters = metrics.tenant(&spec.name);
        outputs.count_in(&counters);
        let memory = engine.filter_memory_bytes() as u64;
        counters.filter_memory.store(memory, Ordering::Relaxed);
        Ok(Tenant {
            feed: directory.feed(&spec.name),
            name: spec.name.clone(),
            scope: spec.scope.clone(),
            names: FieldNames::new(&engine.rules().fields),
            engine,
            outputs,
            budget: Budget::new(spec.limits.cpu_budget),
            bucket: AlertBucket::new(spec.limits.alert_rate, spec.limits.alert_burst),
            hits: Vec::new(),
            counters,
            metrics: Arc::clone(metrics),
            last_report: Instant::now(),
        })
    }

    /// The tenant's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The rules enabled.
    pub fn active_count(&self) -> usize {
        self.engine.active_count()
    }

    /// The syscalls its rules need (`None`: every one).
    pub fn event_types_in_use(&self) -> Option<Vec<&'static str>> {
        if self.scope.is_empty() {
            return Some(Vec::new());
        }
        self.engine.event_types_in_use()
    }

    /// Takes a reload's version of this tenant: its new engine, scope and
    /// limits; its outputs restart only when their configuration changed
    /// (the old ones deliver what they hold first).
    pub fn update(
        &mut self,
        spec: &TenantSpec,
        engine: SourceEngine,
        directory: &Directory,
    ) -> Result<(), ConfigError> {
        if crate::outputs::config::outputs_key(&spec.config) != self.outputs.key {
            let new = TenantOutputs::start(spec)?;
            new.count_in(&self.counters);
            drain_apart(std::mem::replace(&mut self.outputs, new).outputs);
        }
        list(spec, &engine, directory);
        self.names = FieldNames::new(&engine.rules().fields);
        self.engine = engine;
        self.scope = spec.scope.clone();
        self.budget = Budget::new(spec.limits.cpu_budget);
        // what was suppressed and not reported yet stays to be reported
        let suppressed = std::mem::take(&mut self.bucket.suppressed);
        self.bucket = AlertBucket::new(spec.limits.alert_rate, spec.limits.alert_burst);
        self.bucket.suppressed = suppressed;
        Ok(())
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
        if !self.scope.admits(state.process(rec.pid), state) {
            return now;
        }
        let c = &self.counters;
        let started = now;
        if !self.budget.admits(started) {
            c.shed.fetch_add(1, Ordering::Relaxed);
            return now;
        }
        c.events.fetch_add(1, Ordering::Relaxed);
        let ev = SyscallEvent::new(rec, state, &self.names, num, host);
        self.hits.clear();
        if let Err(e) = self.engine.process(&ev, &mut self.hits) {
            let n = c.eval_errors.fetch_add(1, Ordering::Relaxed) + 1;
            if n <= ERRORS_SAID {
                crate::log::error(&format!(
                    "tenant '{}': evaluating event {num}: {e}",
                    self.name
                ));
            }
        }
        for &r in &self.hits {
            let rule = &self.engine.rules().rules[r as usize].name;
            if !self.bucket.take(rule, started) {
                c.suppressed.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let mut a = self.engine.alert(r, &ev, time_ns, host);
            for (k, v) in &self.outputs.static_fields {
                a.fields
                    .push((k.clone(), Some(FieldValue::Text(v.clone()))));
            }
            c.alerts.fetch_add(1, Ordering::Relaxed);
            self.metrics
                .add_alert(&self.name, &a.rule, a.priority.as_str(), &a.source);
            if self.feed.wanted() {
                self.feed.send(&a.json(&self.outputs.stream_format));
            }
            self.outputs.outputs.push(a);
        }
        let end = Instant::now();
        let spent = end.duration_since(started);
        self.budget.spend(spent);
        c.cpu_ns
            .fetch_add(spent.as_nanos() as u64, Ordering::Relaxed);
        end
    }

    /// Its line of the exit summary.
    pub fn summary(&self) -> String {
        let c = &self.counters;
        let n = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        format!(
            "{}: {} event(s) evaluated, {} shed over its CPU budget, {} alert(s), {} suppressed \
             over its alert rate, {} evaluation error(s), {:.3} s of CPU",
            self.name,
            n(&c.events),
            n(&c.shed),
            n(&c.alerts),
            n(&c.suppressed),
            n(&c.eval_errors),
            n(&c.cpu_ns) as f64 / 1e9
        )
    }

    /// Once a second: its filter's memory measured; the alerts suppressed
    /// in the last period reported.
    pub fn tick(&mut self, host: &str) {
        let memory = self.engine.filter_memory_bytes() as u64;
        self.counters.filter_memory.store(memory, Ordering::Relaxed);
        if self.last_report.elapsed() >= REPORT_PERIOD {
            self.report_suppressed(host);
        }
    }

    /// At the end of the run: the last report, the outputs drained.
    pub fn close(&mut self, host: &str) {
        self.report_suppressed(host);
        self.outputs.outputs.flush();
    }

    /// When a reload removed it: the last report, off the API's list and
    /// `/metrics`; its outputs drain on a thread of their own (a slow
    /// channel delays nobody).
    pub fn remove(mut self, host: &str, directory: &Directory) {
        self.report_suppressed(host);
        directory.remove(&self.name);
        self.metrics.remove_tenant(&self.name);
        drain_apart(self.outputs.outputs);
    }

    /// A `Falco internal: alerts suppressed` alert on the tenant's own
    /// outputs, with the count per rule, when any was suppressed.
    fn report_suppressed(&mut self, host: &str) {
        let since = self.last_report.elapsed();
        self.last_report = Instant::now();
        let counts = std::mem::take(&mut self.bucket.suppressed);
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
        self.outputs
            .outputs
            .push(Alert::internal(SUPPRESSED_RULE, message, fields, host));
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

/// Lists a tenant in the API's directory.
fn list(spec: &TenantSpec, engine: &SourceEngine, directory: &Directory) {
    directory.set(
        &spec.name,
        spec.token_sha256.clone(),
        spec.scope.to_string(),
        engine.active_count(),
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
