//! The engine's own alerts (`source: internal`, Falco's rule names) and
//! what else it says about itself: metrics snapshots, output losses.

use super::Shared;
use crate::config::{Config, ConfigError};
use crate::outputs::Outputs;
use crate::outputs::alert::{Alert, FieldValue};
use crate::priority::Priority;
use crate::server::metrics::Metrics;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The host name alerts carry: `FALCO_HOSTNAME` if set; in a container
/// (`HOST_ROOT` set), the host's `/etc/hostname`, not the container's own
/// name; else the kernel's.
pub fn hostname() -> String {
    let read = |p: &std::path::Path| {
        std::fs::read_to_string(p)
            .map(|h| h.trim().to_string())
            .ok()
            .filter(|h| !h.is_empty())
    };
    let root = crate::state::host_root();
    std::env::var("FALCO_HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            (root != std::path::Path::new("/"))
                .then(|| read(&root.join("etc/hostname")))
                .flatten()
        })
        .or_else(|| read(std::path::Path::new("/proc/sys/kernel/hostname")))
        .unwrap_or_default()
}

/// Falco's internal alert for kernel drops: `n` in the last second,
/// `total` dropped and `submitted` so far.
pub fn drop_alert(n: u64, total: u64, submitted: u64, hostname: &str) -> Alert {
    let num = |v: u64| Some(FieldValue::Num(v as i64));
    Alert::internal(
        "Falco internal: syscall event drop",
        format!("{n} system calls dropped in last second."),
        vec![
            ("n_drops".into(), num(n)),
            ("n_drops_total".into(), num(total)),
            ("n_evts".into(), num(submitted)),
        ],
        hostname,
    )
}

/// Says each output channel that dropped or failed alerts.
pub fn say_output_losses(outputs: &Outputs) {
    for (name, st) in outputs.stats() {
        let (sent, dropped, failed) = (
            st.sent.load(Ordering::Relaxed),
            st.dropped.load(Ordering::Relaxed),
            st.failed.load(Ordering::Relaxed),
        );
        if dropped + failed > 0 {
            crate::log::info(&format!(
                "Output {name}: {sent} sent, {dropped} dropped (queue full), {failed} failed"
            ));
        }
    }
}

/// `metrics`: periodic snapshots as internal alerts and/or JSON lines.
pub struct MetricsOutput {
    /// How often.
    pub interval: Duration,
    output_rule: bool,
    output_file: Option<PathBuf>,
}

impl MetricsOutput {
    /// From the `metrics` keys (`None` when disabled).
    pub fn from_config(c: &Config) -> Result<Option<MetricsOutput>, ConfigError> {
        if !c.bool_at("metrics.enabled", false)? {
            return Ok(None);
        }
        let interval = c.duration_at("metrics.interval", Duration::from_secs(3600))?;
        if interval.is_zero() {
            return Err(ConfigError::key("metrics.interval", "must be positive"));
        }
        Ok(Some(MetricsOutput {
            interval,
            output_rule: c.bool_at("metrics.output_rule", true)?,
            output_file: c
                .str_at("metrics.output_file")?
                .filter(|f| !f.is_empty())
                .map(PathBuf::from),
        }))
    }

    /// Says one snapshot of `metrics`.
    pub fn emit(&self, metrics: &Metrics, sh: &Shared) {
        let snap = metrics.snapshot();
        if self.output_rule {
            let fields = snap
                .iter()
                .map(|(k, v)| (k.clone(), Some(FieldValue::Num(*v))))
                .collect();
            let mut a = Alert::internal(
                "Falco internal: metrics snapshot",
                "Falco metrics snapshot".into(),
                fields,
                &sh.host,
            );
            a.priority = Priority::Informational;
            sh.internal(a);
        }
        if let Some(f) = &self.output_file {
            let obj: serde_json::Map<String, serde_json::Value> =
                snap.into_iter().map(|(k, v)| (k, v.into())).collect();
            let line = serde_json::json!({"hostname": sh.host, "output_fields": obj}).to_string();
            let r = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(f)
                .and_then(|mut w| {
                    std::io::Write::write_all(&mut w, format!("{line}\n").as_bytes())
                });
            if let Err(e) = r {
                crate::log::error(&format!("metrics.output_file {}: {e}", f.display()));
            }
        }
    }
}

/// Falco's exit counts: "Rule counts by severity:" and "Triggered rules by
/// rule name:", each entry on its own indented line (most severe first,
/// then the most frequent rule first); the top level's alerts (each tenant
/// has its own line).
pub(super) fn rule_counts(m: &crate::server::metrics::Metrics) -> Vec<String> {
    use std::collections::BTreeMap;
    let alerts = m.alerts.lock().unwrap_or_else(|p| p.into_inner());
    let mut by_priority: BTreeMap<Option<crate::priority::Priority>, (String, u64)> =
        BTreeMap::new();
    let mut by_rule: BTreeMap<&str, u64> = BTreeMap::new();
    let top = alerts
        .iter()
        .filter(|((tenant, ..), _)| tenant == crate::tenants::DEFAULT_TENANT);
    for ((_, rule, priority, _), n) in top {
        let e = by_priority
            .entry(crate::priority::Priority::parse(priority))
            .or_insert_with(|| (priority.to_uppercase(), 0));
        e.1 += n;
        *by_rule.entry(rule).or_default() += n;
    }
    let mut rules: Vec<_> = by_rule.into_iter().collect();
    rules.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut lines = vec!["Rule counts by severity:".to_string()];
    lines.extend(by_priority.values().map(|(p, n)| format!("   {p}: {n}")));
    lines.push("Triggered rules by rule name:".into());
    lines.extend(rules.iter().map(|(r, n)| format!("   {r}: {n}")));
    lines
}
