//! Plugin events as the engine sees them, with every field the rules need
//! extracted up front: one `extract` call per plugin per batch of events
//! (principle 1: one boundary crossing per batch, not per field).

use super::{FieldOrigin, LoadedPlugin, PLUGIN_EVENT_FIELDS};
use crate::engine::Event as EngineEvent;
use crate::fields::{ResolvedField, SourceFields};
use crate::filter::value::ValueSink;
use guest_sdk::native::{CallError, FieldRequest};
use guest_sdk::{Events, ValueRef, Values};
use std::collections::HashMap;

/// Which fields to extract for a source's events, and from which plugin.
pub struct ExtractionPlan {
    /// Field → its position in `fields`.
    index: HashMap<ResolvedField, usize>,
    /// Every field: host field index, or (plugin, position in its requests).
    fields: Vec<Slot>,
    /// Per plugin (index into the loaded plugins): its requests.
    requests: Vec<(usize, Vec<FieldRequest>)>,
    /// Whether `evt.plugininfo` is needed.
    needs_info: bool,
}

#[derive(Clone, Copy)]
enum Slot {
    Host(usize),
    Plugin {
        group: usize,
        pos: usize,
        list: bool,
    },
}

impl ExtractionPlan {
    /// A plan for `needed` fields of a source whose table is `fields`.
    pub fn new(
        fields: &SourceFields,
        origins: &[FieldOrigin],
        needed: impl IntoIterator<Item = ResolvedField>,
    ) -> ExtractionPlan {
        let mut plan = ExtractionPlan {
            index: HashMap::new(),
            fields: Vec::new(),
            requests: Vec::new(),
            needs_info: false,
        };
        for f in needed {
            if plan.index.contains_key(&f) {
                continue;
            }
            let slot = match origins[f.id as usize] {
                FieldOrigin::Host(i) => {
                    plan.needs_info |= PLUGIN_EVENT_FIELDS[i].name == "evt.plugininfo";
                    Slot::Host(i)
                }
                FieldOrigin::Plugin { plugin, field } => {
                    let group = match plan.requests.iter().position(|(p, _)| *p == plugin) {
                        Some(g) => g,
                        None => {
                            plan.requests.push((plugin, Vec::new()));
                            plan.requests.len() - 1
                        }
                    };
                    let def = fields.def(f.id);
                    let kind = def.arg;
                    let list = def.flags.list && f.arg.is_none();
                    let reqs = &mut plan.requests[group].1;
                    reqs.push(FieldRequest {
                        field,
                        key: match kind {
                            crate::fields::ArgKind::Key { .. } => f.arg.clone(),
                            _ => None,
                        },
                        index: match kind {
                            crate::fields::ArgKind::Index { .. } => {
                                f.arg.as_deref().and_then(|a| a.parse().ok())
                            }
                            _ => None,
                        },
                    });
                    Slot::Plugin {
                        group,
                        pos: reqs.len() - 1,
                        list,
                    }
                }
            };
            plan.index.insert(f, plan.fields.len());
            plan.fields.push(slot);
        }
        plan
    }
}

/// A source's events with the numbers and times the host gave them.
pub struct Numbered {
    pub events: Events,
    pub nums: Vec<u64>,
    pub times: Vec<u64>,
}

impl Numbered {
    /// The events at `indexes`, in that order.
    pub fn select(&self, indexes: &[usize]) -> Numbered {
        Numbered {
            events: self.events.select(indexes),
            nums: indexes.iter().map(|&i| self.nums[i]).collect(),
            times: indexes.iter().map(|&i| self.times[i]).collect(),
        }
    }
}

/// A batch of one source's events with their extracted fields.
pub struct Batch<'a> {
    pub source: &'a str,
    pub plugin_name: &'a str,
    pub events: Numbered,
    /// Per request group: row-major cells (event × request).
    values: Vec<Values>,
    info: Vec<Option<String>>,
}

impl<'a> Batch<'a> {
    /// Extracts the plan's fields for `events`. Plugins that fail are
    /// reported through `on_error` (their fields then have no value); the
    /// batch is still usable.
    pub fn extract(
        plan: &ExtractionPlan,
        source: &'a str,
        plugin_name: &'a str,
        source_plugin: Option<usize>,
        plugins: &mut [LoadedPlugin],
        events: Numbered,
        on_error: &mut dyn FnMut(&str, CallError),
    ) -> Batch<'a> {
        let inputs = events.events.batch(source, &events.nums, &events.times);
        let mut values = Vec::with_capacity(plan.requests.len());
        for (p, reqs) in &plan.requests {
            let mut out = Values::new();
            if inputs.is_empty() {
                values.push(out);
                continue;
            }
            let plugin = &mut plugins[*p];
            if let Err(e) = plugin.runner.extract(&inputs, reqs, &mut out) {
                on_error(&plugin.spec.name, e);
                out = Values::new();
            }
            values.push(out);
        }
        let mut info = vec![None; events.events.len()];
        if plan.needs_info
            && let Some(sp) = source_plugin
        {
            for (i, slot) in info.iter_mut().enumerate() {
                match plugins[sp].runner.event_to_string(events.events.data(i)) {
                    Ok(s) => *slot = Some(s),
                    Err(err) => {
                        on_error(&plugins[sp].spec.name, err);
                        break;
                    }
                }
            }
        }
        Batch {
            source,
            plugin_name,
            events,
            values,
            info,
        }
    }

    /// The i-th event, as the engine sees it.
    pub fn event<'b>(&'b self, plan: &'b ExtractionPlan, i: usize) -> PluginEvent<'b> {
        PluginEvent {
            first: Extracted {
                batch: self,
                plan,
                i,
            },
            more: None,
        }
    }
}

/// One event's values in one batch.
#[derive(Clone, Copy)]
struct Extracted<'b> {
    batch: &'b Batch<'b>,
    plan: &'b ExtractionPlan,
    i: usize,
}

/// One plugin event: its values from a batch, and optionally more values
/// of the same event from a second batch (the output fields, extracted
/// only for events that matched a rule).
pub struct PluginEvent<'b> {
    first: Extracted<'b>,
    more: Option<Extracted<'b>>,
}

impl<'b> PluginEvent<'b> {
    /// The event's time, ns since the epoch.
    pub fn time_ns(&self) -> i64 {
        self.first.batch.events.times[self.first.i] as i64
    }

    /// The same event with the values of event `i` of `batch` (extracted
    /// with `plan`) as well.
    pub fn with(self, batch: &'b Batch<'b>, plan: &'b ExtractionPlan, i: usize) -> PluginEvent<'b> {
        PluginEvent {
            more: Some(Extracted { batch, plan, i }),
            ..self
        }
    }
}

impl EngineEvent for PluginEvent<'_> {
    fn evt_type(&self) -> Option<&str> {
        None
    }

    fn extract(&self, field: &ResolvedField, out: &mut dyn ValueSink) {
        if !self.first.extract(field, out)
            && let Some(m) = &self.more
        {
            m.extract(field, out);
        }
    }
}

impl Extracted<'_> {
    /// Writes `field` if this batch's plan has it (true), else nothing.
    fn extract(&self, field: &ResolvedField, out: &mut dyn ValueSink) -> bool {
        let Some(&pos) = self.plan.index.get(field) else {
            return false;
        };
        let (num, ts) = (
            &self.batch.events.nums[self.i],
            &self.batch.events.times[self.i],
        );
        match self.plan.fields[pos] {
            Slot::Host(h) => match PLUGIN_EVENT_FIELDS[h].name {
                "evt.num" => out.num(*num as i64),
                "evt.time" | "evt.rawtime" => out.num(*ts as i64),
                "evt.time.s" => out.bytes(format!("{}", ts / 1_000_000_000).as_bytes()),
                "evt.time.iso8601" => out.bytes(crate::time::iso8601(*ts as i64).as_bytes()),
                "evt.datetime" => {
                    let iso = crate::time::iso8601(*ts as i64);
                    out.bytes(iso.get(..19).unwrap_or(&iso).replace('T', " ").as_bytes())
                }
                "evt.source" => out.bytes(self.batch.source.as_bytes()),
                "evt.pluginname" => out.bytes(self.batch.plugin_name.as_bytes()),
                "evt.plugininfo" => {
                    if let Some(s) = &self.batch.info[self.i] {
                        out.bytes(s.as_bytes())
                    }
                }
                _ => {}
            },
            Slot::Plugin { group, pos, list } => {
                let per_event = self.plan.requests[group].1.len();
                let (values, k) = (&self.batch.values[group], self.i * per_event + pos);
                if k >= values.cells() {
                    return true; // the plugin failed on this batch
                }
                let vals = values.cell(k);
                if list {
                    out.begin_list();
                }
                for v in vals {
                    match v {
                        ValueRef::Str(s) => out.bytes(s.as_bytes()),
                        ValueRef::Num(n) => out.num(n as i64),
                        ValueRef::Flag(b) => out.bool(b),
                        ValueRef::Addr(a) => {
                            let mut ip = [0u8; 16];
                            match a.len() {
                                4 => {
                                    ip[10] = 0xff;
                                    ip[11] = 0xff;
                                    ip[12..].copy_from_slice(a);
                                }
                                16 => ip.copy_from_slice(a),
                                _ => continue,
                            }
                            out.ip(ip)
                        }
                    }
                    if !list {
                        break;
                    }
                }
                if list {
                    out.end_list();
                }
            }
        }
        true
    }
}
