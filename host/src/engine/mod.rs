//! Per-source rule evaluation: the event-type index, rule selection,
//! `rule_matching` and the minimum priority, over either back end.
//!
//! For each event the engine looks up the group of rules that can match the
//! event's type (Falco's event-type index), extracts every field those rules
//! read — once — and evaluates the group in one call.

use crate::fields::ResolvedField;
use crate::filter::eventbuf::EventBuf;
use crate::filter::interp::Interp;
use crate::filter::ir::Ir;
use crate::filter::lower::Program;
use crate::filter::runtime::{FilterError, WasmFilter};
use crate::filter::value::{Collect, SlotValue, ValueSink};
use crate::filter::{CompileError, codegen};
use crate::outputs::alert::Alert;
use crate::rules::SourceRules;

mod groups;
mod options;
mod promote;
use groups::Groups;
pub use options::{Backend, EngineOptions, RuleMatching, Selection};

/// An event as the engine sees it: a source, a type and field values.
pub trait Event {
    /// The event's type name (`evt.type`), if the source has types.
    fn evt_type(&self) -> Option<&str>;
    /// The type name when it is a `'static` one (a table's): the engine
    /// then finds the type's group by the name's address.
    fn evt_type_static(&self) -> Option<&'static str> {
        None
    }
    /// Writes one field's value(s) (before transformers) to `out`; writing
    /// nothing means the field cannot be extracted for this event.
    fn extract(&self, field: &ResolvedField, out: &mut dyn ValueSink);
}

/// The evaluator for one source's rules.
pub struct SourceEngine {
    rules: SourceRules,
    /// Indices (into `rules.rules`) of the rules that run.
    active: Vec<u32>,
    /// The rule variants the groups run: (index into `rules.rules`, its
    /// expression specialised to the group's event types).
    irs: Vec<(u32, Ir)>,
    /// Group → its variants (indices into `irs`), in load order.
    groups: Vec<Vec<u32>>,
    /// Group → slots its rules read.
    group_slots: Vec<Vec<u32>>,
    /// Group → which of those are extracted (the others cannot change a
    /// result for the group's event type: they are left missing).
    group_extract: Vec<Vec<bool>>,
    /// Group → the slots left missing (sorted), for the Wasm back end.
    group_missing: Vec<Vec<u32>>,
    /// Group → the slots extracted up front for the Wasm back end (every
    /// evaluation reads them, and those found fetched nearly every time);
    /// it fetches the others as its rules reach them.
    group_eager: Vec<Vec<u32>>,
    /// Group → what its Wasm evaluations fetched lately.
    group_fetches: Vec<promote::Fetches>,
    /// Event name index → group.
    by_type: Vec<u32>,
    /// Group for events of unknown or absent type.
    catchall: u32,
    interp: Interp,
    wasm: Option<WasmFilter>,
    backend: Backend,
    matching: RuleMatching,
    buf: EventBuf,
    hits: Vec<u32>,
    /// Groups of the event types seen (bounded).
    type_groups: rustc_hash::FxHashMap<Box<str>, u32>,
    /// Groups of the `'static` type names seen, by address and length.
    static_groups: rustc_hash::FxHashMap<(usize, usize), u32>,
}

/// Why the engine could not be built.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Code generation failed (e.g. a memory limit).
    #[error("cannot compile rules for source '{source_name}': {source}")]
    Compile {
        /// The source.
        source_name: String,
        /// Why.
        #[source]
        source: CompileError,
    },
    /// The module could not be instantiated.
    #[error(transparent)]
    Filter(#[from] FilterError),
}

impl SourceEngine {
    /// Builds the evaluator: selects the active rules, builds the event-type
    /// groups and, for the Wasm back end, generates and instantiates the module.
    pub fn new(rules: SourceRules, opts: &EngineOptions) -> Result<SourceEngine, EngineError> {
        let compile_err = |source: CompileError| EngineError::Compile {
            source_name: rules.fields.source.clone(),
            source,
        };
        let mut enabled: Vec<bool> = rules.rules.iter().map(|r| r.enabled).collect();
        for sel in &opts.selection {
            for (i, r) in rules.rules.iter().enumerate() {
                if sel.applies(r) {
                    enabled[i] = sel.enable;
                }
            }
        }
        let active: Vec<u32> = rules
            .rules
            .iter()
            .enumerate()
            .filter(|(i, r)| enabled[*i] && opts.min_priority.is_none_or(|p| r.priority <= p))
            .map(|(i, _)| i as u32)
            .collect();

        let groups = Groups::build(&rules, &active);
        let Groups {
            irs,
            lists: groups,
            slots: group_slots,
            extract: group_extract,
            missing: group_missing,
            eager: group_eager,
            by_type,
            catchall,
        } = groups;
        let interp = Interp::new(&rules.program).map_err(compile_err)?;
        let wasm = match opts.backend {
            Backend::Interp => None,
            Backend::Wasm => {
                let refs: Vec<&Ir> = irs.iter().map(|(_, ir)| ir).collect();
                let max_pages = (opts.limits.max_memory / 65536) as u32;
                let generated = codegen::generate(&rules.program, &refs, &groups, max_pages)
                    .map_err(compile_err)?;
                Some(WasmFilter::new(&generated, opts.limits)?)
            }
        };
        let heap_base = wasm.as_ref().map_or(0, WasmFilter::heap_base);
        let buf = EventBuf::new(rules.program.slots.len(), heap_base);
        Ok(SourceEngine {
            rules,
            active,
            irs,
            groups,
            group_missing,
            group_fetches: vec![Default::default(); group_eager.len()],
            group_eager,
            group_slots,
            group_extract,
            by_type,
            catchall,
            interp,
            wasm,
            backend: opts.backend,
            matching: opts.matching,
            buf,
            hits: Vec::new(),
            type_groups: Default::default(),
            static_groups: Default::default(),
        })
    }

    /// The event types some enabled rule can match, or `None` when a rule
    /// matches every type (the capture must then send everything it can).
    pub fn event_types_in_use(&self) -> Option<Vec<&'static str>> {
        if !self.groups[self.catchall as usize].is_empty() {
            return None;
        }
        let names = self.rules.fields.event_names();
        Some(
            self.by_type
                .iter()
                .enumerate()
                .filter(|(_, g)| !self.groups[**g as usize].is_empty())
                .map(|(i, _)| names[i])
                .collect(),
        )
    }

    /// The I/O event types (read, write, …) enabled rules name: a rule
    /// whose types are restricted to a few. Those calls are sent only to
    /// rules that name them, whatever else matches every type.
    pub fn io_types_named(&self) -> Vec<&'static str> {
        let names = self.rules.fields.event_names();
        let named = |t: usize| {
            self.active.iter().any(|&r| {
                let set = &self.rules.rules[r as usize].evttypes;
                set.len() <= crate::filter::evttypes::NAMED_MAX && set.contains(t)
            })
        };
        crate::capture::syscalls::IO
            .iter()
            .filter(|n| names.binary_search(n).is_ok_and(named))
            .copied()
            .collect()
    }

    /// The compiled rules.
    pub fn rules(&self) -> &SourceRules {
        &self.rules
    }

    /// The linear memory of its Wasm filter instance (0 with the
    /// interpreter).
    pub fn filter_memory_bytes(&self) -> usize {
        self.wasm.as_ref().map_or(0, WasmFilter::memory_bytes)
    }

    /// Number of rules that run.
    pub fn active_count(&self) -> usize {
        self.active.len()
    }

    /// Number of distinct event-type groups.
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// Evaluates one event; matching rules (indices into `rules().rules`)
    /// are appended to `out`, in load order.
    pub fn process(&mut self, ev: &dyn Event, out: &mut Vec<u32>) -> Result<(), FilterError> {
        let group = match ev.evt_type_static() {
            Some(t) => self.group_of_static(t),
            None => self.group_of(ev.evt_type()),
        };
        if self.groups[group as usize].is_empty() {
            return Ok(());
        }
        self.buf.clear();
        match self.backend == Backend::Wasm && self.wasm.is_some() {
            true => self.eval_wasm(ev, group, out),
            false => {
                self.eval_interp(ev, group, out);
                Ok(())
            }
        }
    }

    /// The Wasm back end: the fields every evaluation reads extracted up
    /// front, the others fetched by the module as its rules reach them.
    fn eval_wasm(
        &mut self,
        ev: &dyn Event,
        group: u32,
        out: &mut Vec<u32>,
    ) -> Result<(), FilterError> {
        let g = group as usize;
        let program = &self.rules.program;
        for &s in &self.group_eager[g] {
            extract_slot(ev, program, s, &mut self.buf);
        }
        let Some(w) = self.wasm.as_mut() else {
            return Ok(());
        };
        self.hits.clear();
        let (slots, fetches) = (&self.group_slots[g], &mut self.group_fetches[g]);
        let result = w.eval(
            group,
            &mut self.buf,
            &self.group_eager[g],
            &self.group_missing[g],
            self.matching == RuleMatching::All,
            &mut self.hits,
            &mut |s, buf| {
                fetches.fetched(slots, s);
                extract_slot(ev, program, s, buf)
            },
        );
        // a failed evaluation counts too: its fetches were counted
        fetches.evaluated(slots, &mut self.group_eager[g]);
        result?;
        // The module's answer is checked like any other: a position outside
        // the rule variants is an error, not a panic.
        for &p in &self.hits {
            let (r, _) = self.irs.get(p as usize).ok_or(FilterError::OutOfBounds {
                what: "matched rule position",
                at: p as usize,
                len: 1,
                size: self.irs.len(),
            })?;
            out.push(*r);
        }
        Ok(())
    }

    /// The interpreter, over every field the group's rules read extracted
    /// up front (those no value of which changes a result left missing).
    fn eval_interp(&mut self, ev: &dyn Event, group: u32, out: &mut Vec<u32>) {
        let g = group as usize;
        for (&s, &extract) in self.group_slots[g].iter().zip(&self.group_extract[g]) {
            match extract {
                true => extract_slot(ev, &self.rules.program, s, &mut self.buf),
                false => {
                    self.buf.writer(s);
                }
            }
        }
        for &p in &self.groups[g] {
            let (r, ir) = &self.irs[p as usize];
            if self.interp.eval(ir, &self.buf) {
                out.push(*r);
                if self.matching != RuleMatching::All {
                    break;
                }
            }
        }
    }

    /// The group of a `'static` type name: found by its address (the same
    /// address always holds the same name).
    fn group_of_static(&mut self, t: &'static str) -> u32 {
        let key = (t.as_ptr() as usize, t.len());
        if let Some(&g) = self.static_groups.get(&key) {
            return g;
        }
        let g = self.group_of(Some(t));
        if self.static_groups.len() < 4096 {
            self.static_groups.insert(key, g);
        }
        g
    }

    /// The group for an event type (looked up once per type).
    fn group_of(&mut self, evt_type: Option<&str>) -> u32 {
        let Some(t) = evt_type else {
            return self.catchall;
        };
        if let Some(&g) = self.type_groups.get(t) {
            return g;
        }
        let g = match self.rules.fields.event_names().binary_search(&t) {
            Ok(i) => self.by_type[i],
            Err(_) => self.catchall,
        };
        // plugin sources' types are open-ended: the cache stays bounded
        if self.type_groups.len() < 4096 {
            self.type_groups.insert(t.into(), g);
        }
        g
    }

    /// Builds the alert for a matched rule: its rendered output and typed
    /// `output_fields` (the time and host are the caller's).
    pub fn alert(&self, rule: u32, ev: &dyn Event, time_ns: i64, hostname: &str) -> Alert {
        let r = &self.rules.rules[rule as usize];
        let prog = &self.rules.output_program;
        let value = |slot: u32| {
            let key = &prog.slots[slot as usize].key;
            extract_value(ev, &key.field).transform(&key.transforms)
        };
        let (message, mut fields) = r.output.render_with_fields(prog, value);
        for (name, fmt) in &r.extra_fields {
            let (text, typed) = fmt.render_with_fields(prog, value);
            // A bare `%field` keeps its type; anything else is its text.
            let v = match (fmt.tokens.as_slice(), typed.into_iter().next()) {
                ([crate::outputs::format::Token::Field { .. }], Some((_, v))) => v,
                _ => Some(crate::outputs::alert::FieldValue::Text(text)),
            };
            fields.push((name.clone(), v));
        }
        Alert {
            time_ns,
            rule: r.name.clone(),
            priority: r.priority,
            source: r.source.clone(),
            tags: r.tags.iter().cloned().collect(),
            message,
            fields,
            hostname: hostname.to_string(),
        }
    }

    /// Renders a matched rule's output for an event.
    pub fn format_output(&self, rule: u32, ev: &dyn Event) -> String {
        let r = &self.rules.rules[rule as usize];
        let prog = &self.rules.output_program;
        r.output.render(prog, |slot| {
            let key = &prog.slots[slot as usize].key;
            extract_value(ev, &key.field).transform(&key.transforms)
        })
    }
}

/// Extracts slot `s` of `program` from the event into `buf`.
fn extract_slot(ev: &dyn Event, program: &Program, s: u32, buf: &mut EventBuf) {
    let key = &program.slots[s as usize].key;
    if key.transforms.is_empty() {
        ev.extract(&key.field, &mut buf.writer(s));
    } else {
        let v = extract_value(ev, &key.field).transform(&key.transforms);
        buf.put(s, &v);
    }
}

/// Extracts a field as an owned value.
pub fn extract_value(ev: &dyn Event, field: &ResolvedField) -> SlotValue {
    let mut c = Collect::default();
    ev.extract(field, &mut c);
    c.finish()
}
