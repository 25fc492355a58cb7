//! Counters the engine keeps and their Prometheus text exposition.

use crate::outputs::SinkStats;
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
    /// Alerts per (rule, priority, source).
    pub alerts: Mutex<BTreeMap<(String, String, String), u64>>,
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
}

impl Metrics {
    /// Counts events of a source.
    pub fn add_events(&self, source: &str, n: u64) {
        if n == 0 {
            return;
        }
        let mut m = self.events.lock().expect("metrics lock");
        *m.entry(source.to_string()).or_default() += n;
    }

    /// Counts one alert.
    pub fn add_alert(&self, rule: &str, priority: &str, source: &str) {
        let mut m = self.alerts.lock().expect("metrics lock");
        *m.entry((rule.to_string(), priority.to_string(), source.to_string()))
            .or_default() += 1;
    }

    /// Counts a plugin failure.
    pub fn add_plugin_failure(&self, plugin: &str) {
        let mut m = self.plugin_failures.lock().expect("metrics lock");
        *m.entry(plugin.to_string()).or_default() += 1;
    }

    /// The values of a `Falco internal: metrics snapshot` alert, flat.
    pub fn snapshot(&self) -> Vec<(String, i64)> {
        let mut v = Vec::new();
        let events: u64 = self.events.lock().expect("metrics lock").values().sum();
        let alerts: u64 = self.alerts.lock().expect("metrics lock").values().sum();
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
        let outputs = self.outputs.lock().expect("metrics lock").clone();
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
        let mut lines: Vec<String> = Vec::new();
        let n = family(
            &mut s,
            "falcosecurity_falco_events_processed_total",
            "counter",
            "Events evaluated by the rules, per source.",
        );
        for (src, v) in self.events.lock().expect("metrics lock").iter() {
            lines.push(format!("{n}{{source=\"{}\"}} {v}", esc(src)));
        }
        flush(&mut s, &mut lines);
        let n = family(
            &mut s,
            "falcosecurity_scap_n_evts_total",
            "counter",
            "Syscall records the kernel probe submitted.",
        );
        let _ = writeln!(s, "{n} {}", self.kernel_submitted.load(Ordering::Relaxed));
        let n = family(
            &mut s,
            "falcosecurity_scap_n_drops_total",
            "counter",
            "Syscall records lost because the ring buffer was full.",
        );
        let _ = writeln!(s, "{n} {}", self.kernel_drops.load(Ordering::Relaxed));
        let n = family(
            &mut s,
            "falcosecurity_falco_rules_matches_total",
            "counter",
            "Alerts raised, per rule, priority and source.",
        );
        for ((rule, prio, src), v) in self.alerts.lock().expect("metrics lock").iter() {
            lines.push(format!(
                "{n}{{rule_name=\"{}\",priority=\"{}\",source=\"{}\"}} {v}",
                esc(rule),
                esc(prio),
                esc(src)
            ));
        }
        flush(&mut s, &mut lines);
        let n = family(
            &mut s,
            "falcosecurity_falco_n_rules",
            "gauge",
            "Rules enabled.",
        );
        let _ = writeln!(s, "{n} {}", self.rules_loaded.load(Ordering::Relaxed));
        let n = family(
            &mut s,
            "falcosecurity_falco_reloads_total",
            "counter",
            "Configuration and rules reloads applied.",
        );
        let _ = writeln!(s, "{n} {}", self.reloads.load(Ordering::Relaxed));
        let n = family(
            &mut s,
            "falcosecurity_falco_reload_failures_total",
            "counter",
            "Reloads rejected (the previous rules kept running).",
        );
        let _ = writeln!(s, "{n} {}", self.reload_failures.load(Ordering::Relaxed));
        let n = family(
            &mut s,
            "falcosecurity_falco_evaluation_errors_total",
            "counter",
            "Events whose evaluation failed (filter trap or limit).",
        );
        let _ = writeln!(s, "{n} {}", self.eval_errors.load(Ordering::Relaxed));
        let n = family(
            &mut s,
            "falcosecurity_falco_state_processes",
            "gauge",
            "Processes in the state table.",
        );
        let _ = writeln!(s, "{n} {}", self.state_processes.load(Ordering::Relaxed));
        let n = family(
            &mut s,
            "falcosecurity_falco_state_purged_total",
            "counter",
            "Exited processes purged from the state table.",
        );
        let _ = writeln!(s, "{n} {}", self.state_purged.load(Ordering::Relaxed));
        self.render_outputs(&mut s, &mut lines);
        let n = family(
            &mut s,
            "falcosecurity_falco_plugin_failures_total",
            "counter",
            "Plugin calls that failed (the plugin's errors and its faults), per plugin.",
        );
        for (p, v) in self.plugin_failures.lock().expect("metrics lock").iter() {
            lines.push(format!("{n}{{plugin=\"{}\"}} {v}", esc(p)));
        }
        flush(&mut s, &mut lines);
        let n = family(
            &mut s,
            "falcosecurity_plugin_metric",
            "gauge",
            "Metrics the plugins report about themselves.",
        );
        for ((p, m), (v, _)) in self.plugin_metrics.lock().expect("metrics lock").iter() {
            lines.push(format!(
                "{n}{{plugin=\"{}\",name=\"{}\"}} {v}",
                esc(p),
                esc(m)
            ));
        }
        flush(&mut s, &mut lines);
        let (rss, cpu) = process_usage();
        let n = family(
            &mut s,
            "falcosecurity_falco_memory_rss_bytes",
            "gauge",
            "Resident memory of the engine.",
        );
        let _ = writeln!(s, "{n} {rss}");
        let n = family(
            &mut s,
            "falcosecurity_falco_cpu_seconds_total",
            "counter",
            "CPU time (user + system) used by the engine.",
        );
        let _ = writeln!(s, "{n} {cpu}");
        s
    }
}

impl Metrics {
    /// The output channels' counters, and their drops per source.
    fn render_outputs(&self, s: &mut String, lines: &mut Vec<String>) {
        let outputs = self.outputs.lock().expect("metrics lock").clone();
        for (metric, help, pick) in [
            (
                "falcosecurity_falco_outputs_sent_total",
                "Alerts delivered, per channel.",
                0,
            ),
            (
                "falcosecurity_falco_outputs_queue_num_drops_total",
                "Alerts dropped because a channel's queue was full or their source over its share of it.",
                1,
            ),
            (
                "falcosecurity_falco_outputs_failures_total",
                "Alerts a channel failed to deliver.",
                2,
            ),
            (
                "falcosecurity_falco_outputs_retries_total",
                "Delivery attempts retried.",
                3,
            ),
        ] {
            let n = family(s, metric, "counter", help);
            for (name, st) in &outputs {
                let v =
                    [&st.sent, &st.dropped, &st.failed, &st.retries][pick].load(Ordering::Relaxed);
                lines.push(format!("{n}{{channel=\"{name}\"}} {v}"));
            }
            flush(s, lines);
        }
        let n = family(
            s,
            "falcosecurity_falco_outputs_queue_num_drops_by_source_total",
            "counter",
            "Alerts dropped from a channel's queue, per channel and source (queue full or the source over its fair share).",
        );
        for (name, st) in &outputs {
            for (src, v) in st.dropped_by_source() {
                lines.push(format!(
                    "{n}{{channel=\"{name}\",source=\"{}\"}} {v}",
                    esc(&src)
                ));
            }
        }
        flush(s, lines);
    }
}

/// Writes a metric family's HELP and TYPE lines; returns its name.
fn family(s: &mut String, name: &str, kind: &str, help: &str) -> String {
    let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}");
    name.to_string()
}

fn flush(s: &mut String, lines: &mut Vec<String>) {
    for l in lines.drain(..) {
        s.push_str(&l);
        s.push('\n');
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
        m.add_alert("Write \"below\" etc", "Error", "syscall");
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
