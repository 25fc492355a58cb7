//! One step of a plugin source: a batch from the source plugin, its fields
//! extracted (one call per plugin), the source's rules over each event.
//! Shared by `run` and the plugin benchmark.

use super::event::{Batch, ExtractionPlan, Numbered};
use super::{FieldOrigin, LoadedPlugin};
use crate::engine::SourceEngine;
use crate::outputs::alert::Alert;
use guest_sdk::native::CallError;
use guest_sdk::{BatchStatus, Events};
use std::time::SystemTime;

/// A source plugin being read into its source's engine.
pub struct SourcePump {
    /// Index of the source plugin among the loaded plugins.
    pub plugin: usize,
    /// The fields conditions read: extracted for every event.
    plan: ExtractionPlan,
    /// The fields only outputs read: extracted for the events that matched.
    output_plan: ExtractionPlan,
    source: String,
    plugin_name: String,
}

/// What one step did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// Events read and evaluated.
    pub events: usize,
    /// Alerts raised.
    pub alerts: usize,
    /// How the source's batch ended.
    pub status: BatchStatus,
}

impl SourcePump {
    /// A pump for `plugins[plugin]` into `engine`, extracting every field
    /// the engine's conditions and outputs read (`origins`: where each field
    /// of the source comes from).
    pub fn new(
        plugins: &[LoadedPlugin],
        plugin: usize,
        engine: &SourceEngine,
        origins: &[FieldOrigin],
    ) -> SourcePump {
        let rules = engine.rules();
        let cond: Vec<_> = rules
            .program
            .slots
            .iter()
            .map(|s| s.key.field.clone())
            .collect();
        let output_only = rules
            .output_program
            .slots
            .iter()
            .map(|s| s.key.field.clone())
            .filter(|f| !cond.contains(f));
        SourcePump {
            plugin,
            output_plan: ExtractionPlan::new(&rules.fields, origins, output_only),
            plan: ExtractionPlan::new(&rules.fields, origins, cond),
            source: rules.fields.source.clone(),
            plugin_name: plugins[plugin].info.name.clone(),
        }
    }

    /// Reads one batch and evaluates it. `evt_num` numbers events across
    /// sources. Extraction failures go to `on_error` (those fields then have
    /// no value); a failure of the source itself is the `Err`.
    #[allow(clippy::too_many_arguments)]
    pub fn step(
        &self,
        plugins: &mut [LoadedPlugin],
        engine: &mut SourceEngine,
        evt_num: &mut u64,
        hostname: &str,
        on_alert: &mut dyn FnMut(Alert),
        on_error: &mut dyn FnMut(&str, CallError),
    ) -> Result<Step, CallError> {
        let max = plugins[self.plugin].spec.limits.max_batch;
        let mut raw = Events::new();
        let status = plugins[self.plugin].runner.next_batch(max, &mut raw)?;
        let (events, alerts) =
            self.evaluate(plugins, engine, raw, evt_num, hostname, on_alert, on_error);
        Ok(Step {
            events,
            alerts,
            status,
        })
    }

    /// Evaluates events of this source that did not come from its plugin's
    /// `next_batch` (a capture file's plugin events): fields extracted by
    /// the plugins, rules run, alerts to `on_alert`; (events, alerts).
    #[allow(clippy::too_many_arguments)]
    pub fn evaluate(
        &self,
        plugins: &mut [LoadedPlugin],
        engine: &mut SourceEngine,
        raw: Events,
        evt_num: &mut u64,
        hostname: &str,
        on_alert: &mut dyn FnMut(Alert),
        on_error: &mut dyn FnMut(&str, CallError),
    ) -> (usize, usize) {
        let now = SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let n = raw.len();
        let events = Numbered {
            nums: (1..=n as u64).map(|k| *evt_num + k).collect(),
            times: (0..n).map(|i| raw.timestamp(i).unwrap_or(now)).collect(),
            events: raw,
        };
        *evt_num += n as u64;
        let batch = Batch::extract(
            &self.plan,
            &self.source,
            &self.plugin_name,
            Some(self.plugin),
            plugins,
            events,
            on_error,
        );
        // Conditions over every event; the matches remembered.
        let mut hits = Vec::new();
        let mut matched: Vec<(usize, u32)> = Vec::new();
        for i in 0..n {
            let ev = batch.event(&self.plan, i);
            hits.clear();
            if let Err(e) = engine.process(&ev, &mut hits) {
                crate::log::error(&format!(
                    "source {}: rule evaluation failed: {e}",
                    self.source
                ));
                continue;
            }
            matched.extend(hits.iter().map(|&r| (i, r)));
        }
        // Output-only fields, for the matched events only (one more
        // extraction call per plugin, and only when something matched).
        let mut wanted: Vec<usize> = matched.iter().map(|&(i, _)| i).collect();
        wanted.dedup();
        let outputs = Batch::extract(
            &self.output_plan,
            &self.source,
            &self.plugin_name,
            Some(self.plugin),
            plugins,
            batch.events.select(&wanted),
            on_error,
        );
        for &(i, rule) in &matched {
            let j = wanted.binary_search(&i).unwrap_or_default();
            let ev = batch
                .event(&self.plan, i)
                .with(&outputs, &self.output_plan, j);
            on_alert(engine.alert(rule, &ev, ev.time_ns(), hostname));
        }
        (n, matched.len())
    }
}
