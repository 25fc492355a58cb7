//! A capture's plugin events (code 322: a plugin's registered id and the
//! event's data) replayed through their plugin's source: the data goes to
//! the same extraction and rules a live plugin source uses, in batches, with
//! the capture's timestamps.

use super::Shared;
use crate::engine::SourceEngine;
use crate::plugins::drive::SourcePump;
use crate::plugins::{FieldOrigin, LoadedPlugin};
use crate::scap::Event;
use guest_sdk::Events;
use std::collections::HashMap;

/// Extraction errors said in full (the others are counted).
const ERRORS_SAID: u64 = 10;

/// One plugin source of the replay.
struct Replayed {
    id: u32,
    source: String,
    pump: SourcePump,
    engine: SourceEngine,
    pending: Events,
    max_batch: usize,
    evaluated: u64,
}

/// The plugin sources a replay evaluates, by plugin id.
#[derive(Default)]
pub struct PluginEvents {
    plugins: Vec<LoadedPlugin>,
    sources: Vec<Replayed>,
    evt_num: u64,
    /// Plugin events of ids no loaded plugin has.
    pub unknown: u64,
    /// Extraction errors.
    pub errors: u64,
    /// Alerts raised.
    pub alerts: u64,
}

impl PluginEvents {
    /// The source plugins among `plugins` that have an engine in
    /// `engines` (the others are said and left out).
    pub fn new(
        plugins: Vec<LoadedPlugin>,
        engines: Vec<SourceEngine>,
        origins: &HashMap<String, Vec<FieldOrigin>>,
    ) -> PluginEvents {
        let mut engines: Vec<Option<SourceEngine>> = engines.into_iter().map(Some).collect();
        let mut sources = Vec::new();
        for (i, p) in plugins.iter().enumerate() {
            let Some((id, source)) = &p.source else {
                continue;
            };
            let found = engines
                .iter_mut()
                .find(|e| {
                    e.as_ref()
                        .is_some_and(|e| e.rules().fields.source == *source)
                })
                .and_then(Option::take);
            let (Some(engine), Some(origins)) = (found, origins.get(source)) else {
                crate::log::warning(&format!(
                    "no rules for source '{source}' (plugin {}) are loaded; its events in the \
                     capture are not evaluated",
                    p.spec.name
                ));
                continue;
            };
            sources.push(Replayed {
                id: *id,
                source: source.clone(),
                pump: SourcePump::new(&plugins, i, &engine, origins),
                engine,
                pending: Events::new(),
                max_batch: p.spec.limits.max_batch.max(1) as usize,
                evaluated: 0,
            });
        }
        PluginEvents {
            plugins,
            sources,
            ..PluginEvents::default()
        }
    }

    /// Whether a source plugin is there to evaluate plugin events.
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// Takes a plugin event (evaluated with the next batch of its source).
    pub fn event(&mut self, ev: &Event, sh: &Shared) {
        let id = ev
            .param_named("plugin_id")
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes);
        let Some(k) = id.and_then(|id| self.sources.iter().position(|s| s.id == id)) else {
            self.unknown += 1;
            return;
        };
        let data = ev.param_named("event_data").unwrap_or_default();
        let s = &mut self.sources[k];
        s.pending.push(data, Some(ev.ts));
        if s.pending.len() >= s.max_batch {
            self.flush_one(k, sh);
        }
    }

    /// Evaluates what every source has pending; the events evaluated.
    pub fn flush(&mut self, sh: &Shared) -> u64 {
        (0..self.sources.len()).map(|k| self.flush_one(k, sh)).sum()
    }

    fn flush_one(&mut self, k: usize, sh: &Shared) -> u64 {
        let s = &mut self.sources[k];
        if s.pending.is_empty() {
            return 0;
        }
        let raw = std::mem::take(&mut s.pending);
        let (mut alerts, mut errors) = (0, 0);
        let said = self.errors;
        let (n, _) = s.pump.evaluate(
            &mut self.plugins,
            &mut s.engine,
            raw,
            &mut self.evt_num,
            &sh.host,
            &mut |a| {
                alerts += 1;
                sh.alert(a)
            },
            &mut |plugin, e| {
                errors += 1;
                if said + errors <= ERRORS_SAID {
                    crate::log::error(&format!("replay: plugin {plugin}: {e}"));
                }
            },
        );
        sh.metrics.add_events(&s.source, n as u64);
        s.evaluated += n as u64;
        self.alerts += alerts;
        self.errors += errors;
        n as u64
    }

    /// The exit summary's line.
    pub fn summary(&self) -> String {
        let per: Vec<String> = self
            .sources
            .iter()
            .map(|s| format!("{} {}", s.evaluated, s.source))
            .collect();
        format!(
            "Plugin events: {} evaluated ({}), {} of plugins not loaded, {} extraction error(s)",
            self.sources.iter().map(|s| s.evaluated).sum::<u64>(),
            per.join(", "),
            self.unknown,
            self.errors
        )
    }
}
