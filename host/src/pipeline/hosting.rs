//! The running sources and the tenants' lifecycle, on the control thread.
//!
//! Each source runs on a thread of its own and takes its reloads from its
//! [`Slot`]. The top level's sources start with the run; a tenant's
//! plugin sources start, take new engines, restart and end as reloads
//! (and the tenants API) change the tenant: a tenant's new rules reach its
//! running plugin sources between two steps; new plugin settings (its
//! `plugins` or `load_plugins`) end them and start new ones; a tenant
//! removed ends them, then its sink.

use super::control::Stall;
use super::plugin::report_failure;
use super::setup::TenantPlugins;
use super::{Ended, Shared, Source, TenantSetup, TenantSwap, Totals};
use crate::engine::SourceEngine;
use crate::tenants::{Tenant, TenantSink};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{Scope, ScopedJoinHandle};
use std::time::{Duration, Instant};

/// How long a reload waits for a tenant's plugin source it ended.
const RETIRE_WAIT: Duration = Duration::from_secs(5);

/// What a reload leaves a source thread.
pub(super) struct Handover {
    /// Its new engine (`None`: it keeps its own).
    pub engine: Option<SourceEngine>,
    /// For the syscall source, the tenants.
    pub tenants: Option<TenantSwap>,
}

/// Where a source thread takes its reloads, and its order to end.
pub(super) struct Slot {
    source: String,
    handover: Mutex<Option<Handover>>,
    retire: AtomicBool,
}

impl Slot {
    fn new(source: &str, first: Option<Handover>) -> Arc<Slot> {
        Arc::new(Slot {
            source: source.to_string(),
            handover: Mutex::new(first),
            retire: AtomicBool::new(false),
        })
    }

    /// What a reload left, if anything.
    pub(super) fn take(&self) -> Option<Handover> {
        self.handover
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    /// Leaves `h`; one left before and not taken yet is merged in (its
    /// engine when `h` has none, its tenants that `h` keeps).
    fn put(&self, mut h: Handover) {
        let mut slot = self.handover.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(old) = slot.take() {
            h.engine = h.engine.or(old.engine);
            match (&mut h.tenants, old.tenants) {
                (None, old) => h.tenants = old,
                (Some(new), Some(old)) => {
                    for t in old.tenants {
                        if let Some(i) = new.keep.iter().position(|k| k == t.name()) {
                            new.keep.swap_remove(i);
                            new.tenants.push(t);
                        }
                    }
                }
                (Some(_), None) => {}
            }
        }
        *slot = Some(h);
    }

    /// Whether its source should end (its tenant changed or went).
    pub(super) fn retired(&self) -> bool {
        self.retire.load(Ordering::Relaxed)
    }
}

/// One running source.
struct Run<'scope, 'env> {
    slot: Arc<Slot>,
    stall: Arc<Stall>,
    handle: std::io::Result<ScopedJoinHandle<'scope, Ended<'env>>>,
    /// A tenant's plugin source: the tenant, and its plugins' key.
    tenant: Option<(Arc<TenantSink>, String)>,
}

/// The running sources and the tenants.
pub(super) struct Hosting<'scope, 'env> {
    scope: &'scope Scope<'scope, 'env>,
    sh: &'env Shared,
    runs: Vec<Run<'scope, 'env>>,
    sinks: BTreeMap<String, Arc<TenantSink>>,
    /// Tenants' plugin sources told to end that did not within
    /// [`RETIRE_WAIT`] (a plugin call blocked in a file operation).
    retiring: Vec<Run<'scope, 'env>>,
    /// Tenants' plugin sources to start once the top level's run.
    pending: Vec<(Box<dyn Source + 'env>, Arc<TenantSink>, String)>,
    /// Whether tenants' plugin sources run (not when replaying a capture).
    read_tenant_plugins: bool,
    /// What the sources that ended did.
    totals: Totals,
    /// The sources at the end (dropped after the exit summary).
    ended: Vec<Box<dyn Source + 'env>>,
}

impl<'scope, 'env> Hosting<'scope, 'env> {
    pub(super) fn new(
        scope: &'scope Scope<'scope, 'env>,
        sh: &'env Shared,
        read_tenant_plugins: bool,
    ) -> Hosting<'scope, 'env> {
        Hosting {
            scope,
            sh,
            runs: Vec::new(),
            sinks: BTreeMap::new(),
            retiring: Vec::new(),
            pending: Vec::new(),
            read_tenant_plugins,
            totals: Totals::default(),
            ended: Vec::new(),
        }
    }

    /// Starts `src` on a thread of its own; `first` is what it takes
    /// before it opens.
    pub(super) fn spawn(
        &mut self,
        src: Box<dyn Source + 'env>,
        tenant: Option<(Arc<TenantSink>, String)>,
        first: Option<Handover>,
    ) {
        let slot = Slot::new(src.source(), first);
        let stall = Arc::new(Stall::new(src.name(), src.stall_limit()));
        let (sh, s, st) = (self.sh, Arc::clone(&slot), Arc::clone(&stall));
        let handle = std::thread::Builder::new()
            .name(format!("source-{}", src.name()))
            .spawn_scoped(self.scope, move || super::drive(src, sh, &s, &st));
        self.runs.push(Run {
            slot,
            stall,
            handle,
            tenant,
        });
    }

    /// Whether a source still runs.
    pub(super) fn running(&self) -> bool {
        self.runs
            .iter()
            .chain(&self.retiring)
            .any(|r| r.handle.as_ref().is_ok_and(|h| !h.is_finished()))
    }

    /// The names of the source threads still running.
    pub(super) fn stuck(&self) -> Vec<String> {
        self.runs
            .iter()
            .chain(&self.retiring)
            .filter_map(|r| r.handle.as_ref().ok())
            .filter(|h| !h.is_finished())
            .map(|h| h.thread().name().unwrap_or("source").to_string())
            .collect()
    }

    /// The longest call limit of any source's plugins.
    pub(super) fn longest_call(&self) -> Option<Duration> {
        self.runs.iter().filter_map(|r| r.stall.limit()).max()
    }

    /// Reports the steps that stalled.
    pub(super) fn check_stalls(&self, totals: &mut Totals) {
        for r in &self.runs {
            if let Some(e) = r.stall.check() {
                totals.failures += 1;
                let tenant = r.tenant.as_ref().map(|t| &*t.0);
                report_failure(self.sh, tenant, r.stall.name(), &e);
            }
        }
    }

    /// One engine for each running source of the top level, in their
    /// order; a reload without rules for a running source is rejected.
    pub(super) fn pick(&self, engines: Vec<SourceEngine>) -> Result<Vec<SourceEngine>, String> {
        let mut engines: Vec<Option<SourceEngine>> = engines.into_iter().map(Some).collect();
        self.top_level()
            .map(|slot| {
                engines
                    .iter_mut()
                    .find(|e| {
                        e.as_ref()
                            .is_some_and(|e| e.rules().fields.source == slot.source)
                    })
                    .and_then(Option::take)
                    .ok_or_else(|| {
                        format!(
                            "the new rules have none for the running source '{}'",
                            slot.source
                        )
                    })
            })
            .collect()
    }

    fn top_level(&self) -> impl Iterator<Item = &Arc<Slot>> {
        self.runs
            .iter()
            .filter(|r| r.tenant.is_none())
            .map(|r| &r.slot)
    }

    /// Hands the top level's sources the engines [`Hosting::pick`] chose,
    /// and the syscall source the tenants.
    pub(super) fn hand_over(&self, engines: Vec<SourceEngine>, tenants: TenantSwap) {
        let mut tenants = Some(tenants);
        for (slot, engine) in self.top_level().zip(engines) {
            let tenants = match slot.source == crate::fields::SYSCALL_SOURCE {
                true => tenants.take(),
                false => None,
            };
            slot.put(Handover {
                engine: Some(engine),
                tenants,
            });
        }
    }

    /// The tenants from now on (at start, then each reload): a new tenant
    /// starts, one already running takes its new version, one not in
    /// `setups` nor `keep` (those whose new version failed) ends. Each
    /// tenant's plugin sources follow. What the syscall source takes.
    pub(super) fn tenants(
        &mut self,
        setups: Vec<TenantSetup>,
        mut keep: Vec<String>,
    ) -> TenantSwap {
        let first = self.sinks.is_empty() && self.runs.is_empty();
        let gone: Vec<String> = self
            .sinks
            .keys()
            .filter(|n| !keep.contains(n) && !setups.iter().any(|s| &s.spec.name == *n))
            .cloned()
            .collect();
        for name in gone {
            self.retire_plugins(&name);
            if let Some(sink) = self.sinks.remove(&name) {
                sink.retire(&self.sh.host, &self.sh.tenants);
                crate::log::info(&format!("Tenant '{name}' removed"));
            }
        }
        let mut syscall = Vec::new();
        for s in setups {
            let name = s.spec.name.clone();
            let Some(sink) = self.sink_for(&s, first) else {
                keep.push(name);
                continue;
            };
            self.tenant_plugins(&sink, s.plugins);
            syscall.push(Tenant::new(sink, s.spec.scope, s.engine));
        }
        TenantSwap {
            tenants: syscall,
            keep,
        }
    }

    /// The tenant's sink: started, or updated with its new settings; `None`
    /// when its outputs do not start (it keeps its previous version, if
    /// any).
    fn sink_for(&mut self, s: &TenantSetup, first: bool) -> Option<Arc<TenantSink>> {
        let (sh, name, rules) = (self.sh, &s.spec.name, s.active_count());
        let result = match self.sinks.get(name) {
            Some(sink) => sink
                .update(&s.spec, rules, &sh.tenants)
                .map(|()| Arc::clone(sink)),
            None => TenantSink::start(&s.spec, rules, &sh.metrics, &sh.tenants),
        };
        match result {
            Ok(sink) => {
                if !self.sinks.contains_key(name) {
                    crate::log::info(&match first {
                        true => format!(
                            "Tenant '{name}': {rules} rule(s) enabled, scope {}",
                            s.spec.scope
                        ),
                        false => format!("Tenant '{name}' added"),
                    });
                }
                self.sinks.insert(name.clone(), Arc::clone(&sink));
                Some(sink)
            }
            Err(e) if first => {
                self.sh.fail(format!("tenant '{name}': {e}"));
                None
            }
            Err(e) => {
                crate::log::error(&format!(
                    "reload: tenant '{name}' keeps its previous version: {e}"
                ));
                None
            }
        }
    }

    /// A tenant's plugin sources: those running take their new engines
    /// when its plugins are the same (their key) and its rules select the
    /// same sources; else they end and the new ones are to start
    /// ([`Hosting::start_pending`]).
    fn tenant_plugins(&mut self, sink: &Arc<TenantSink>, plugins: TenantPlugins) {
        let (name, key) = (sink.name(), plugins.key.clone());
        let running: Vec<&Run<'_, '_>> = self
            .runs
            .iter()
            .filter(|r| r.tenant.as_ref().is_some_and(|t| t.0.name() == name))
            .collect();
        let sources = |e: &SourceEngine| e.rules().fields.source.clone();
        let same = !running.is_empty()
            && running
                .iter()
                .all(|r| r.tenant.as_ref().is_some_and(|t| t.1 == key))
            && running.len() == plugins.engines.len()
            && plugins
                .engines
                .iter()
                .all(|e| running.iter().any(|r| r.slot.source == sources(e)));
        if same {
            for e in plugins.engines {
                if let Some(r) = running.iter().find(|r| r.slot.source == sources(&e)) {
                    r.slot.put(Handover {
                        engine: Some(e),
                        tenants: None,
                    });
                }
            }
            return;
        }
        self.retire_plugins(name);
        if plugins.engines.is_empty() {
            return;
        }
        if !self.read_tenant_plugins {
            crate::log::warning(&format!(
                "tenant '{name}': its plugin sources are not read when a capture is replayed"
            ));
            return;
        }
        let srcs = super::plugin::sources(
            plugins.loaded,
            plugins.engines,
            &plugins.origins,
            Some(sink),
        );
        for src in srcs {
            self.pending.push((src, Arc::clone(sink), key.clone()));
        }
    }

    /// Starts the tenants' plugin sources [`Hosting::tenants`] left to
    /// start (after the top level's: a tenant cannot take a port of the
    /// top level's first).
    pub(super) fn start_pending(&mut self) {
        for (src, sink, key) in std::mem::take(&mut self.pending) {
            self.spawn(src, Some((sink, key)), None);
        }
    }

    /// When the top level's sources have all ended (a plugin-only run
    /// read its sources to the end), tells the tenants' to end too.
    pub(super) fn end_with_top_level(&self) {
        let top: Vec<_> = self.runs.iter().filter(|r| r.tenant.is_none()).collect();
        if top.is_empty()
            || top
                .iter()
                .any(|r| r.handle.as_ref().is_ok_and(|h| !h.is_finished()))
        {
            return;
        }
        for r in self.runs.iter().filter(|r| r.tenant.is_some()) {
            r.slot.retire.store(true, Ordering::Relaxed);
        }
    }

    /// Ends a tenant's plugin sources: each finishes its step and closes
    /// its plugins, waited for (so that a webhook's port is free again)
    /// up to [`RETIRE_WAIT`]; one still blocked then is left to end on
    /// its own.
    fn retire_plugins(&mut self, tenant: &str) {
        let (theirs, others): (Vec<_>, Vec<_>) = std::mem::take(&mut self.runs)
            .into_iter()
            .partition(|r| r.tenant.as_ref().is_some_and(|t| t.0.name() == tenant));
        self.runs = others;
        for r in &theirs {
            r.slot.retire.store(true, Ordering::Relaxed);
        }
        let deadline = Instant::now() + RETIRE_WAIT;
        let done = |r: &Run<'_, '_>| r.handle.as_ref().map_or(true, |h| h.is_finished());
        while Instant::now() < deadline && !theirs.iter().all(done) {
            std::thread::sleep(Duration::from_millis(5));
        }
        for r in theirs {
            match done(&r) {
                // dropped at once: its plugins and webhook go now
                true => drop(self.join(r)),
                false => {
                    crate::log::warning(&format!(
                        "tenant '{tenant}': source {} has not ended {} s after it was told \
                         to; left to end on its own",
                        r.stall.name(),
                        RETIRE_WAIT.as_secs()
                    ));
                    self.retiring.push(r);
                }
            }
        }
    }

    /// Waits for a source's thread; what it did counts; the source.
    fn join(&mut self, r: Run<'scope, 'env>) -> Option<Box<dyn Source + 'env>> {
        match r.handle.map(ScopedJoinHandle::join) {
            Ok(Ok((t, src))) => {
                self.totals.add(t);
                Some(src)
            }
            Ok(Err(_)) => {
                self.totals.failures += 1;
                None
            }
            Err(e) => {
                crate::log::error(&format!("cannot start a source thread: {e}"));
                self.totals.open_failures += 1;
                None
            }
        }
    }

    /// Once a second: the tenants' periodic reports; the sources that
    /// ended late after they were told to, let go.
    pub(super) fn tick(&mut self) {
        for s in self.sinks.values() {
            s.tick(&self.sh.host);
        }
        let (done, left): (Vec<_>, Vec<_>) = std::mem::take(&mut self.retiring)
            .into_iter()
            .partition(|r| r.handle.as_ref().is_ok_and(|h| h.is_finished()));
        self.retiring = left;
        for r in done {
            drop(self.join(r));
        }
    }

    /// At the end, every source thread done: what they did, the sources
    /// (to be dropped after the exit summary), and the tenants' last
    /// reports with their alerts delivered.
    pub(super) fn finish(mut self) -> (Totals, Vec<Box<dyn Source + 'env>>) {
        let runs = std::mem::take(&mut self.runs);
        for r in runs.into_iter().chain(std::mem::take(&mut self.retiring)) {
            let src = self.join(r);
            self.ended.extend(src);
        }
        if !self.sinks.is_empty() {
            let lines: Vec<String> = self
                .sinks
                .values()
                .map(|s| format!("\n  {}", s.close(&self.sh.host)))
                .collect();
            self.totals
                .summary
                .push(format!("Tenants: {}{}", self.sinks.len(), lines.concat()));
        }
        (self.totals, self.ended)
    }
}
