//! Counters the engine keeps and their Prometheus text exposition.

use crate::outputs::SinkStats;

/// The tenant the top level's rules and outputs are counted under.
pub const DEFAULT_TENANT: &str = "default";
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Engine-wide counters, shared between the event loop and the web server.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Events evaluated, per source.
    pub events: Mutex<BTreeMap<String, u64>>,
    /// Records the kernel submitted.
    pub kernel_submitted: AtomicU64,
    /// Records the kernel dropped (ring full).
    pub kernel_drops: AtomicU64,
    /// Alerts per (tenant, rule, priority, source).
    pub alerts: Mutex<BTreeMap<(String, String, String, String), u64>>,
    /// Rules enabled.
    pub rules_loaded: AtomicU64,
    /// Successful reloads.
    pub reloads: AtomicU64,
    /// Rejected reloads (the old rules kept running).
    pub reload_failures: AtomicU64,
    /// Evaluation errors (filter traps, limits).
    pub eval_errors: AtomicU64,
    /// Processes in the state table.
    pub state_processes: AtomicU64,
    /// Processes purged after exit.
    pub state_purged: AtomicU64,
    /// Output channels' counters.
    pub outputs: Mutex<Vec<(&'static str, Arc<SinkStats>)>>,
    /// Plugin failures (errors and faults), per plugin.
    pub plugin_failures: Mutex<BTreeMap<String, u64>>,
    /// The plugins' own metrics, last read: (plugin, metric) → (value, counter?).
    pub plugin_metrics: Mutex<BTreeMap<(String, String), (f64, bool)>>,
    /// Each tenant's counters (kept across reloads).
    pub tenants: Mutex<BTreeMap<String, Arc<TenantCounters>>>,
}

/// What a tenant's evaluation counts.
#[derive(Debug, Default)]
pub struct TenantCounters {
    /// Events in its scope that its rules evaluated.
    pub events: AtomicU64,
    /// Events in its scope shed because its CPU budget was spent.
    pub shed: AtomicU64,
    /// Alerts queued to its outputs.
    pub alerts: AtomicU64,
    /// Alerts over its alert rate (reported, not delivered).
    pub suppressed: AtomicU64,
    /// Evaluation and plugin time, ns.
    pub cpu_ns: AtomicU64,
    /// Steps of its plugin sources put off because its CPU budget for the
    /// second was spent (their events wait in the source).
    pub throttled: AtomicU64,
    /// Evaluation errors (filter traps, limits).
    pub eval_errors: AtomicU64,
    /// Its filter instance's linear memory, bytes (a gauge).
    pub filter_memory: AtomicU64,
    /// Its output channels' counters.
    pub outputs: Mutex<Vec<(&'static str, Arc<SinkStats>)>>,
}

impl Metrics {
    /// Counts events of a source.
    pub fn add_events(&self, source: &str, n: u64) {
        if n == 0 {
            return;
        }
        let mut m = self.events.lock().unwrap_or_else(|p| p.into_inner());
        *m.entry(source.to_string()).or_default() += n;
    }

    /// Counts one alert of `tenant`.
    pub fn add_alert(&self, tenant: &str, rule: &str, priority: &str, source: &str) {
        let mut m = self.alerts.lock().unwrap_or_else(|p| p.into_inner());
        let key = (
            tenant.to_string(),
            rule.to_string(),
            priority.to_string(),
            source.to_string(),
        );
        *m.entry(key).or_default() += 1;
    }

    /// Forgets a tenant that is gone: its counters and alert counts.
    pub fn remove_tenant(&self, tenant: &str) {
        lock(&self.tenants).remove(tenant);
        lock(&self.alerts).retain(|(t, ..), _| t != tenant);
        // its plugins' (named `TENANT/PLUGIN`)
        let theirs = |p: &str| p.split_once('/').is_some_and(|(t, _)| t == tenant);
        lock(&self.plugin_metrics).retain(|(p, _), _| !theirs(p));
        lock(&self.plugin_failures).retain(|p, _| !theirs(p));
    }

    /// The counters of `tenant` (the same ones again after a reload).
    pub fn tenant(&self, tenant: &str) -> Arc<TenantCounters> {
        let mut m = self.tenants.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(m.entry(tenant.to_string()).or_default())
    }

    /// Counts a plugin failure.
    pub fn add_plugin_failure(&self, plugin: &str) {
        let mut m = self
            .plugin_failures
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        *m.entry(plugin.to_string()).or_default() += 1;
    }

    /// The values of a `Falco internal: metrics snapshot` alert, flat.
    pub fn snapshot(&self) -> Vec<(String, i64)> {
        let mut v = Vec::new();
        let events: u64 = self
            .events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .sum();
        let alerts: u64 = self
            .alerts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .sum();
        v.push(("falco.n_evts".into(), events as i64));
        v.push(("falco.n_alerts".into(), alerts as i64));
        v.push((
            "falco.n_rules".into(),
            self.rules_loaded.load(Ordering::Relaxed) as i64,
        ));
        v.push((
            "falco.n_reloads".into(),
            self.reloads.load(Ordering::Relaxed) as i64,
        ));
        v.push((
            "falco.n_eval_errors".into(),
            self.eval_errors.load(Ordering::Relaxed) as i64,
        ));
        v.push((
            "scap.n_evts".into(),
            self.kernel_submitted.load(Ordering::Relaxed) as i64,
        ));
        v.push((
            "scap.n_drops".into(),
            self.kernel_drops.load(Ordering::Relaxed) as i64,
        ));
        v.push((
            "falco.n_processes".into(),
            self.state_processes.load(Ordering::Relaxed) as i64,
        ));
        let outputs = self
            .outputs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for (name, st) in &outputs {
            v.push((
                format!("falco.outputs.{name}.sent"),
                st.sent.load(Ordering::Relaxed) as i64,
            ));
            v.push((
                format!("falco.outputs.{name}.dropped"),
                st.dropped.load(Ordering::Relaxed) as i64,
            ));
            v.push((
                format!("falco.outputs.{name}.failed"),
                st.failed.load(Ordering::Relaxed) as i64,
            ));
        }
        let (rss, cpu) = process_usage();
        v.push(("falco.memory_rss_bytes".into(), rss as i64));
        v.push(("falco.cpu_ms".into(), (cpu * 1000.0) as i64));
        v
    }

    /// Prometheus text format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut s = String::new();
        let events = lock(&self.events)
            .iter()
            .map(|(src, v)| (format!("source=\"{}\"", esc(src)), v.to_string()))
            .collect();
        labelled(&mut s, EVENTS_PROCESSED, events);
        for (f, v) in self.kernel_counters() {
            scalar(&mut s, f, v);
        }
        self.render_matches(&mut s, None);
        for (f, v) in self.engine_counters() {
            scalar(&mut s, f, v);
        }
        self.render_outputs(&mut s, None);
        let failures = lock(&self.plugin_failures)
            .iter()
            .map(|(p, v)| (format!("plugin=\"{}\"", esc(p)), v.to_string()))
            .collect();
        labelled(&mut s, PLUGIN_FAILURES, failures);
        let own = lock(&self.plugin_metrics)
            .iter()
            .map(|((p, m), (v, _))| {
                (
                    format!("plugin=\"{}\",name=\"{}\"", esc(p), esc(m)),
                    v.to_string(),
                )
            })
            .collect();
        labelled(&mut s, PLUGIN_METRIC, own);
        self.render_tenants(&mut s, None);
        let f = crate::artifact::follow::counters();
        let follow = [
            ("checks", &f.checks),
            ("installed", &f.installed),
            ("held", &f.held),
            ("failed", &f.failed),
        ]
        .into_iter()
        .map(|(what, n)| {
            (
                format!("result=\"{what}\""),
                n.load(Ordering::Relaxed).to_string(),
            )
        })
        .collect();
        labelled(&mut s, ARTIFACT_FOLLOW, follow);
        let (rss, cpu) = process_usage();
        scalar(&mut s, MEMORY_RSS, rss.to_string());
        scalar(&mut s, CPU_SECONDS, cpu.to_string());
        s
    }

    /// One tenant's view of `/metrics`: its alerts by rule and its
    /// counters.
    pub fn render_tenant(&self, tenant: &str) -> String {
        let mut s = String::new();
        self.render_matches(&mut s, Some(tenant));
        self.render_outputs(&mut s, Some(tenant));
        self.render_tenants(&mut s, Some(tenant));
        s
    }

    /// Alerts per rule, priority, source and tenant (`only`: of one tenant).
    fn render_matches(&self, s: &mut String, only: Option<&str>) {
        let alerts = lock(&self.alerts)
            .iter()
            .filter(|((tenant, ..), _)| only.is_none_or(|o| o == tenant))
            .map(|((tenant, rule, prio, src), v)| {
                let labels = format!(
                    "rule_name=\"{}\",priority=\"{}\",source=\"{}\",tenant=\"{}\"",
                    esc(rule),
                    esc(prio),
                    esc(src),
                    esc(tenant)
                );
                (labels, v.to_string())
            })
            .collect();
        labelled(s, RULES_MATCHES, alerts);
    }

    /// Each tenant's counters, one family per counter (`only`: of one
    /// tenant).
    fn render_tenants(&self, s: &mut String, only: Option<&str>) {
        let mut tenants = lock(&self.tenants).clone();
        tenants.retain(|t, _| only.is_none_or(|o| o == t));
        type Get = fn(&TenantCounters) -> String;
        let families: [(Family, Get); 8] = [
            (TENANT_EVENTS, |c| {
                c.events.load(Ordering::Relaxed).to_string()
            }),
            (TENANT_SHED, |c| c.shed.load(Ordering::Relaxed).to_string()),
            (TENANT_THROTTLED, |c| {
                c.throttled.load(Ordering::Relaxed).to_string()
            }),
            (TENANT_ALERTS, |c| {
                c.alerts.load(Ordering::Relaxed).to_string()
            }),
            (TENANT_SUPPRESSED, |c| {
                c.suppressed.load(Ordering::Relaxed).to_string()
            }),
            (TENANT_CPU, |c| {
                (c.cpu_ns.load(Ordering::Relaxed) as f64 / 1e9).to_string()
            }),
            (TENANT_ERRORS, |c| {
                c.eval_errors.load(Ordering::Relaxed).to_string()
            }),
            (TENANT_MEMORY, |c| {
                c.filter_memory.load(Ordering::Relaxed).to_string()
            }),
        ];
        for (family, get) in families {
            let values = tenants
                .iter()
                .map(|(t, c)| (format!("tenant=\"{}\"", esc(t)), get(c)))
                .collect();
            labelled(s, family, values);
        }
    }

    /// The probe's counters.
    fn kernel_counters(&self) -> [(Family, String); 2] {
        let v = |a: &AtomicU64| a.load(Ordering::Relaxed).to_string();
        [
            (SCAP_EVENTS, v(&self.kernel_submitted)),
            (SCAP_DROPS, v(&self.kernel_drops)),
        ]
    }

    /// The rules', reloads' and state table's counters.
    fn engine_counters(&self) -> [(Family, String); 6] {
        let v = |a: &AtomicU64| a.load(Ordering::Relaxed).to_string();
        [
            (N_RULES, v(&self.rules_loaded)),
            (RELOADS, v(&self.reloads)),
            (RELOAD_FAILURES, v(&self.reload_failures)),
            (EVAL_ERRORS, v(&self.eval_errors)),
            (STATE_PROCESSES, v(&self.state_processes)),
            (STATE_PURGED, v(&self.state_purged)),
        ]
    }
}

/// A metric family: name, type and help.
type Family = (&'static str, &'static str, &'static str);

const EVENTS_PROCESSED: Family = (
    "falcosecurity_falco_events_processed_total",
    "counter",
    "Events evaluated by the rules, per source.",
);
const ARTIFACT_FOLLOW: Family = (
    "falcowasm_artifact_follow_total",
    "counter",
    "Artifact follow: registry checks, new versions installed, held for their grants, and failed (refused or unreachable).",
);
const SCAP_EVENTS: Family = (
    "falcosecurity_scap_n_evts_total",
    "counter",
    "Syscall records the kernel probe submitted.",
);
const SCAP_DROPS: Family = (
    "falcosecurity_scap_n_drops_total",
    "counter",
    "Syscall records lost because the ring buffer was full.",
);
const RULES_MATCHES: Family = (
    "falcosecurity_falco_rules_matches_total",
    "counter",
    "Alerts raised, per rule, priority, source and tenant.",
);
const TENANT_EVENTS: Family = (
    "falcowasm_tenant_events_total",
    "counter",
    "Events in a tenant's scope its rules evaluated.",
);
const TENANT_SHED: Family = (
    "falcowasm_tenant_shed_events_total",
    "counter",
    "Events in a tenant's scope not evaluated because its CPU budget for the second was spent.",
);
const TENANT_THROTTLED: Family = (
    "falcowasm_tenant_plugin_throttled_total",
    "counter",
    "Steps of a tenant's plugin sources put off because its CPU budget for the second was spent.",
);
const TENANT_ALERTS: Family = (
    "falcowasm_tenant_alerts_total",
    "counter",
    "Alerts queued to a tenant's outputs.",
);
const TENANT_SUPPRESSED: Family = (
    "falcowasm_tenant_alerts_suppressed_total",
    "counter",
    "Alerts of a tenant over its alert rate (reported in a periodic internal alert).",
);
const TENANT_CPU: Family = (
    "falcowasm_tenant_cpu_seconds_total",
    "counter",
    "Time a tenant's rules took to evaluate its events, and its plugins to read them.",
);
const TENANT_MEMORY: Family = (
    "falcowasm_tenant_filter_memory_bytes",
    "gauge",
    "Linear memory of a tenant's rule filter instances.",
);
const TENANT_ERRORS: Family = (
    "falcowasm_tenant_evaluation_errors_total",
    "counter",
    "A tenant's events whose evaluation failed (filter trap or limit).",
);
const N_RULES: Family = ("falcosecurity_falco_n_rules", "gauge", "Rules enabled.");
const RELOADS: Family = (
    "falcosecurity_falco_reloads_total",
    "counter",
    "Configuration and rules reloads applied.",
);
const RELOAD_FAILURES: Family = (
    "falcosecurity_falco_reload_failures_total",
    "counter",
    "Reloads rejected (the previous rules kept running).",
);
const EVAL_ERRORS: Family = (
    "falcosecurity_falco_evaluation_errors_total",
    "counter",
    "Events whose evaluation failed (filter trap or limit).",
);
const STATE_PROCESSES: Family = (
    "falcosecurity_falco_state_processes",
    "gauge",
    "Processes in the state table.",
);
const STATE_PURGED: Family = (
    "falcosecurity_falco_state_purged_total",
    "counter",
    "Exited processes purged from the state table.",
);
const OUTPUT_FAMILIES: [Family; 4] = [
    (
        "falcosecurity_falco_outputs_sent_total",
        "counter",
        "Alerts delivered, per channel.",
    ),
    (
        "falcosecurity_falco_outputs_queue_num_drops_total",
        "counter",
        "Alerts dropped because a channel's queue was full or their source over its share of it.",
    ),
    (
        "falcosecurity_falco_outputs_failures_total",
        "counter",
        "Alerts a channel failed to deliver.",
    ),
    (
        "falcosecurity_falco_outputs_retries_total",
        "counter",
        "Delivery attempts retried.",
    ),
];
const OUTPUT_DROPS_BY_SOURCE: Family = (
    "falcosecurity_falco_outputs_queue_num_drops_by_source_total",
    "counter",
    "Alerts dropped from a channel's queue, per channel and source (queue full or the source over its fair share).",
);
const PLUGIN_FAILURES: Family = (
    "falcosecurity_falco_plugin_failures_total",
    "counter",
    "Plugin calls that failed (the plugin's errors and its faults), per plugin.",
);
const PLUGIN_METRIC: Family = (
    "falcosecurity_plugin_metric",
    "gauge",
    "Metrics the plugins report about themselves.",
);
const MEMORY_RSS: Family = (
    "falcosecurity_falco_memory_rss_bytes",
    "gauge",
    "Resident memory of the engine.",
);
const CPU_SECONDS: Family = (
    "falcosecurity_falco_cpu_seconds_total",
    "counter",
    "CPU time (user + system) used by the engine.",
);

impl Metrics {
    /// The output channels' counters, and their drops per source.
    fn render_outputs(&self, s: &mut String, only: Option<&str>) {
        // (tenant, channel, counters): the top level's, then each tenant's
        let mut outputs: Vec<(String, &'static str, Arc<SinkStats>)> = Vec::new();
        if only.is_none() {
            outputs.extend(
                lock(&self.outputs)
                    .iter()
                    .map(|(n, st)| (DEFAULT_TENANT.to_string(), *n, Arc::clone(st))),
            );
        }
        for (t, c) in lock(&self.tenants).iter() {
            if only.is_none_or(|o| o == t) {
                outputs.extend(
                    lock(&c.outputs)
                        .iter()
                        .map(|(n, st)| (t.clone(), *n, Arc::clone(st))),
                );
            }
        }
        for (pick, f) in OUTPUT_FAMILIES.into_iter().enumerate() {
            let values = outputs
                .iter()
                .map(|(tenant, name, st)| {
                    let v = [&st.sent, &st.dropped, &st.failed, &st.retries][pick];
                    (
                        format!("channel=\"{name}\",tenant=\"{}\"", esc(tenant)),
                        v.load(Ordering::Relaxed).to_string(),
                    )
                })
                .collect();
            labelled(s, f, values);
        }
        let by_source = outputs
            .iter()
            .flat_map(|(tenant, name, st)| {
                st.dropped_by_source().into_iter().map(move |(src, v)| {
                    (
                        format!(
                            "channel=\"{name}\",source=\"{}\",tenant=\"{}\"",
                            esc(&src),
                            esc(tenant)
                        ),
                        v.to_string(),
                    )
                })
            })
            .collect();
        labelled(s, OUTPUT_DROPS_BY_SOURCE, by_source);
    }
}

/// A lock whose holder panicked still holds counters worth reading.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A family's HELP and TYPE lines.
fn header(s: &mut String, (name, kind, help): Family) {
    let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A family with one value.
fn scalar(s: &mut String, f: Family, value: String) {
    header(s, f);
    let _ = writeln!(s, "{} {value}", f.0);
}

/// A family with one value per label set.
fn labelled(s: &mut String, f: Family, values: Vec<(String, String)>) {
    header(s, f);
    for (labels, v) in values {
        let _ = writeln!(s, "{}{{{labels}}} {v}", f.0);
    }
}

/// Escapes a label value.
fn esc(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// (RSS bytes, CPU seconds) of this process.
fn process_usage() -> (u64, f64) {
    let rss = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        })
        .unwrap_or(0)
        * 1024;
    let cpu = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = &s[s.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split(' ').collect();
            let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
            Some(ticks as f64 / 100.0)
        })
        .unwrap_or(0.0);
    (rss, cpu)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_is_well_formed() {
        let m = Metrics::default();
        m.add_events("syscall", 10);
        m.add_alert("default", "Write \"below\" etc", "Error", "syscall");
        m.kernel_drops.store(3, Ordering::Relaxed);
        let text = m.render();
        assert!(text.contains("falcosecurity_falco_events_processed_total{source=\"syscall\"} 10"));
        assert!(text.contains("rule_name=\"Write \\\"below\\\" etc\",priority=\"Error\""));
        assert!(text.contains("falcosecurity_scap_n_drops_total 3"));
        // Every sample line belongs to a declared family.
        let families: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .filter_map(|l| l.split(' ').next())
            .collect();
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let name = l.split(['{', ' ']).next().unwrap();
            assert!(families.contains(&name), "{l}");
        }
    }
}
