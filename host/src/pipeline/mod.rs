//! One pipeline for every event source: each [`Source`] (the live probe, a
//! source plugin, next a capture file) runs on a thread of its own and
//! takes its events through state → engine → outputs in bounded steps;
//! the calling thread keeps the duties that must happen on time whatever
//! the load.
//!
//! ```text
//!  source thread: step ─► step ─► tick (1/s) ─► step ─► …   (engine swaps between steps)
//!                   │ alerts                 │ drops, counters
//!                   ▼                        ▼
//!              [Shared: outputs, metrics, stop]
//!                   ▲
//!  control thread: signals · reload · watched files · metrics snapshots ·
//!                  stalled steps · shutdown
//! ```
//!
//! [`setup`] builds engines from the configuration (at start and for a
//! reload), [`syscall`] is the live capture source and the record stage a
//! capture file will share, [`plugin`] the plugin source, [`internal`] the
//! engine's own alerts.

pub mod changes;
pub mod control;
mod hosting;
pub mod inspect;
pub mod internal;
pub mod plugin;
pub mod plugin_replay;
pub mod record;
pub mod replay;
pub mod setup;
pub mod syscall;

use crate::config::{Config, ConfigError};
use crate::engine::SourceEngine;
use crate::outputs::Outputs;
use crate::outputs::alert::{Alert, FieldValue};
use crate::outputs::config::OutputsConfig;
use crate::plugins::text::LogLimiter;
use crate::server::metrics::Metrics;
use control::{Signals, Stall, Watch};
use hosting::{Handover, Hosting, Slot};
use internal::MetricsOutput;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

pub use setup::{Reload, Setup, SetupError, TenantPlugins, TenantSetup};

/// Why a run could not start or ended in failure.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// A configuration key is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A signal handler could not be installed.
    #[error("cannot install a signal handler: {0}")]
    Signal(#[source] std::io::Error),
    /// The live probe could not start.
    #[error(transparent)]
    Capture(#[from] crate::capture::CaptureError),
    /// The capture file to replay cannot be read.
    #[error(transparent)]
    Replay(#[from] crate::scap::ScapError),
    /// No rules for a source that would run.
    #[error("no rules for the `{0}` source are loaded; nothing to capture")]
    NoRules(String),
    /// Every source failed to open.
    #[error("no plugin source could be read")]
    NothingToRead,
    /// Some sources failed to open (the others ran).
    #[error("{0} plugin source(s) could not be opened")]
    OpenFailures(u64),
    /// A part of the setup (a filter, an engine) could not be built.
    #[error(transparent)]
    Setup(#[from] Box<SetupError>),
    /// A source asked the run to end (e.g. `syscall_event_drops.actions: exit`).
    #[error("{0}")]
    Fatal(String),
}

/// What every source shares: where alerts go, the counters, the stop.
pub struct Shared {
    outputs: RwLock<Arc<OutputSet>>,
    /// The counters `/metrics` serves.
    pub metrics: Arc<Metrics>,
    /// The tenants the web server's API serves.
    pub tenants: Arc<crate::server::api::Directory>,
    /// The host name alerts carry.
    pub host: String,
    stop: Arc<AtomicBool>,
    fatal: Mutex<Option<String>>,
    /// How often each plugin's failures are said.
    plugin_reports: Mutex<HashMap<String, LogLimiter>>,
}

/// The output channels and what every alert gets on its way to them.
struct OutputSet {
    outputs: Outputs,
    static_fields: Vec<(String, String)>,
    /// The configuration the channels were made from (a reload restarts
    /// them only when it changed).
    key: String,
}

impl OutputSet {
    fn start(config: &Config, metrics: &Metrics) -> Result<OutputSet, ConfigError> {
        let cfg = OutputsConfig::from_config(config)?;
        let outputs = Outputs::start_with(cfg.sinks()?, cfg.format, cfg.queue_limits());
        *metrics.outputs.lock().unwrap_or_else(|p| p.into_inner()) = outputs.stats();
        Ok(OutputSet {
            outputs,
            static_fields: cfg.static_fields,
            key: crate::outputs::config::outputs_key(config),
        })
    }
}

impl Shared {
    /// Starts the outputs `config` configures.
    pub fn new(config: &Config, host: String) -> Result<Shared, ConfigError> {
        let metrics = Arc::new(Metrics::default());
        let set = OutputSet::start(config, &metrics)?;
        Ok(Shared::with(set, metrics, host))
    }

    /// Shares `outputs` as they are (tests, benchmarks).
    pub fn with_outputs(outputs: Outputs, host: String) -> Shared {
        let set = OutputSet {
            outputs,
            static_fields: Vec::new(),
            key: String::new(),
        };
        Shared::with(set, Arc::new(Metrics::default()), host)
    }

    fn with(set: OutputSet, metrics: Arc<Metrics>, host: String) -> Shared {
        Shared {
            outputs: RwLock::new(Arc::new(set)),
            metrics,
            tenants: Arc::default(),
            host,
            stop: Arc::new(AtomicBool::new(false)),
            fatal: Mutex::new(None),
            plugin_reports: Mutex::default(),
        }
    }

    fn current(&self) -> Arc<OutputSet> {
        Arc::clone(&self.outputs.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// A rule's alert: the configured static fields added, counted, queued.
    pub fn alert(&self, mut a: Alert) {
        let set = self.current();
        for (k, v) in &set.static_fields {
            a.fields
                .push((k.clone(), Some(FieldValue::Text(v.clone()))));
        }
        self.metrics.add_alert(
            crate::tenants::DEFAULT_TENANT,
            &a.rule,
            a.priority.as_str(),
            &a.source,
        );
        set.outputs.push(a);
    }

    /// One of the engine's own alerts (`source: internal`), queued as is.
    pub fn internal(&self, a: Alert) {
        self.current().outputs.push(a);
    }

    /// Whether the run is ending.
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Ends the run in failure with `message`.
    pub fn fail(&self, message: String) {
        crate::log::error(&message);
        self.fatal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert(message);
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Waits until the outputs delivered what was queued.
    pub fn flush(&self) {
        self.current().outputs.flush();
    }
}

/// What a source did, for the exit summary.
#[derive(Debug, Default)]
pub struct Totals {
    /// Events read and evaluated.
    pub events: u64,
    /// Alerts raised by rules.
    pub alerts: u64,
    /// Plugin failures.
    pub failures: u64,
    /// The source could not be opened.
    pub open_failures: u64,
    /// Lines the source adds to the exit summary.
    pub summary: Vec<String>,
}

impl Totals {
    fn add(&mut self, t: Totals) {
        self.events += t.events;
        self.alerts += t.alerts;
        self.failures += t.failures;
        self.open_failures += t.open_failures;
        self.summary.extend(t.summary);
    }
}

/// What a step did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Events were handled: step again at once.
    Busy,
    /// Nothing to read now: step again after a short pause.
    Idle,
    /// The source has ended.
    Done,
}

/// An event source of the pipeline. Its methods run on the source's own
/// thread, in this order: `open`, then `step` (with `swap` and `tick` in
/// between) until `Done` or a stop, then `close`.
pub trait Source: Send {
    /// The event source its rules select (`syscall`, `aws_cloudtrail`, …).
    fn source(&self) -> &str;
    /// The name of its thread and of it in messages.
    fn name(&self) -> &str;
    /// Past this long, a step is said to be stalled (`None`: never).
    fn stall_limit(&self) -> Option<Duration> {
        None
    }
    /// The pause after a step that found nothing to read.
    fn idle_pause(&self) -> Duration {
        IDLE_PAUSE
    }
    /// Gets ready to read; whether it is. A failure ends this source
    /// only, and the source says and counts it.
    fn open(&mut self, sh: &Shared, t: &mut Totals) -> bool;
    /// Reads and evaluates a bounded amount of events: a step returns
    /// within a fraction of a second under any load.
    fn step(&mut self, sh: &Shared, t: &mut Totals) -> Flow;
    /// Takes the engine a reload built for this source (`None`: it keeps
    /// its own), and for the syscall source the tenants (the other
    /// sources get none).
    fn swap(&mut self, engine: Option<SourceEngine>, tenants: Option<TenantSwap>, sh: &Shared);
    /// Once a second: counters, drop accounting.
    fn tick(&mut self, sh: &Shared, t: &mut Totals);
    /// After the last step; `stopping` when a stop cut the run short.
    fn close(&mut self, sh: &Shared, t: &mut Totals, stopping: bool);
}

/// How long a stop waits for source threads: a thread still blocked in a
/// plugin's file operation (calls waiting on timers, HTTP and the guest's
/// own code are cut at once) is left behind.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How often the control thread looks at signals, stalls and reloads.
const CONTROL_PERIOD: Duration = Duration::from_millis(20);

/// The pause after a step that found nothing to read.
const IDLE_PAUSE: Duration = Duration::from_millis(2);

/// A run: the shared part, the signals, and what reloads.
pub struct Pipeline<'a> {
    shared: Shared,
    signals: Signals,
    reload: Reload<'a>,
    watch: Watch<'a>,
    snapshots: Option<MetricsOutput>,
    plugin_versions: Vec<(String, String)>,
    config: Config,
    /// The configuration last applied (at start, then each reload).
    latest: Mutex<Config>,
}

impl<'a> Pipeline<'a> {
    /// Configures logging, starts the outputs and installs the signal
    /// handlers (SIGINT/SIGTERM stop, SIGHUP reloads, SIGUSR1 reopens
    /// output files).
    pub fn new(
        config: &Config,
        reload: Reload<'a>,
        watched: control::Watched<'a>,
    ) -> Result<Pipeline<'a>, PipelineError> {
        config.engine_kind()?;
        crate::log::configure(config.log_options()?);
        let shared = Shared::new(config, internal::hostname())?;
        let signals = Signals::install(&shared.stop).map_err(PipelineError::Signal)?;
        Ok(Pipeline {
            watch: Watch::new(watched, config.bool_at("watch_config_files", true)?),
            snapshots: MetricsOutput::from_config(config)?,
            shared,
            signals,
            reload,
            plugin_versions: Vec::new(),
            config: config.clone(),
            latest: Mutex::new(config.clone()),
        })
    }

    /// What the sources share.
    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Lists the loaded plugins in the web server's `/versions`.
    pub fn set_plugin_versions(&mut self, v: Vec<(String, String)>) {
        self.plugin_versions = v;
    }

    /// Runs `sources` and the `tenants` until each ends, or SIGINT/SIGTERM,
    /// with the web server up meanwhile; says the exit summary.
    pub fn run(
        self,
        sources: Vec<Box<dyn Source + '_>>,
        tenants: Vec<TenantSetup>,
    ) -> Result<(), PipelineError> {
        if sources.is_empty() && tenants.iter().all(|t| t.plugins.engines.is_empty()) {
            return Err(PipelineError::NothingToRead);
        }
        let _server = crate::server::start_from_config(
            &self.config,
            &self.shared.metrics,
            &self.shared.tenants,
            self.plugin_versions.clone(),
        )?;
        self.follow_artifacts()?;
        let replay = matches!(
            self.config.engine_kind()?,
            crate::config::EngineKind::Replay(_)
        );
        let mut ended = Vec::new();
        let mut totals = Totals::default();
        std::thread::scope(|scope| {
            let mut hosting = Hosting::new(scope, &self.shared, !replay);
            let syscall_tenants = self.start(&mut hosting, sources, tenants);
            let mut control = Control {
                p: &self,
                changes: self.shared.tenants.accept_changes(),
                hosting,
                interrupted: None,
                last_second: Instant::now(),
                next_snapshot: self.snapshots.as_ref().map(|m| Instant::now() + m.interval),
            };
            if !syscall_tenants {
                crate::log::warning(
                    "tenants scoped to syscall events and this run reads no syscall source \
                     (plugin sources only): those tenants see no syscall event",
                );
            }
            while control.hosting.running() {
                control.once(&mut totals);
                std::thread::sleep(CONTROL_PERIOD);
            }
            let (t, sources) = control.hosting.finish();
            totals.add(t);
            ended = sources;
        });
        let result = self.finish(totals);
        // Only now, the summary said and the alerts delivered: detaching
        // the probe's tracepoints costs the kernel a grace period each
        // (~70 ms; seconds for the default rules' syscalls).
        drop(ended);
        result
    }

    /// Starts the tenants, then the top level's sources (the syscall one
    /// takes the tenants before it opens); whether the tenants scoped to
    /// syscall events have a syscall source.
    fn start<'env>(
        &'env self,
        hosting: &mut Hosting<'_, 'env>,
        sources: Vec<Box<dyn Source + 'env>>,
        tenants: Vec<TenantSetup>,
    ) -> bool {
        let scoped = tenants.iter().any(|t| !t.spec.scope.is_empty());
        let mut first = Some(hosting.tenants(tenants, Vec::new()));
        let mut syscall = false;
        for src in sources {
            let handover = (src.source() == crate::fields::SYSCALL_SOURCE).then(|| {
                syscall = true;
                Handover {
                    engine: None,
                    tenants: first.take(),
                }
            });
            hosting.spawn(src, None, handover);
        }
        hosting.start_pending();
        syscall || !scoped
    }

    /// With `artifact_follow.enabled`, a thread that installs new versions
    /// of the followed artifacts until the stop (rules files reach the
    /// rules through `watch_config_files`).
    fn follow_artifacts(&self) -> Result<(), PipelineError> {
        let Some(mut follower) = crate::artifact::follow::from_config(&self.config)? else {
            return Ok(());
        };
        crate::log::info(&format!(
            "Following artifacts every {} s",
            follower.every.as_secs()
        ));
        let stop = Arc::clone(&self.shared.stop);
        std::thread::Builder::new()
            .name("artifact-follow".into())
            .spawn(move || follower.run(false, &stop))
            .map(drop)
            .map_err(|e| {
                PipelineError::Fatal(format!("cannot start the artifact follow thread: {e}"))
            })
    }

    /// Flushes the outputs and says the exit summary; the run's result.
    fn finish(&self, totals: Totals) -> Result<(), PipelineError> {
        let set = self.shared.current();
        set.outputs.flush();
        internal::say_output_losses(&set.outputs);
        let mut lines = vec![format!("Events detected: {}", totals.alerts)];
        lines.extend(internal::rule_counts(&self.shared.metrics));
        lines.push(format!(
            "Events processed: {}, alerts: {}, plugin failures: {}",
            totals.events, totals.alerts, totals.failures
        ));
        lines.extend(totals.summary);
        crate::log::info(&lines.join("\n"));
        if let Some(m) = self
            .shared
            .fatal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            return Err(PipelineError::Fatal(m));
        }
        match totals.open_failures {
            0 => Ok(()),
            n => Err(PipelineError::OpenFailures(n)),
        }
    }

    /// Rebuilds configuration and engines and hands each running source
    /// its engine; outputs restart when their keys changed. On any error
    /// the previous rules and outputs keep running (error, internal
    /// alert). Whether the new ones run.
    fn reload_now(&self, hosting: &mut Hosting<'_, '_>) -> bool {
        let result = (self.reload)()
            .map_err(|e| e.to_string())
            .and_then(|s| self.apply(s, hosting));
        match result {
            Ok(rules) => {
                self.reloaded(rules);
                true
            }
            Err(e) => {
                self.reload_failed(format!(
                    "reload rejected, the previous rules keep running: {e}"
                ));
                false
            }
        }
    }

    /// Counts and says a reload applied.
    fn reloaded(&self, rules: usize) {
        let m = &self.shared.metrics;
        m.reloads.fetch_add(1, Ordering::Relaxed);
        m.rules_loaded.store(rules as u64, Ordering::Relaxed);
        crate::log::info(&format!(
            "Reloaded configuration and rules: {rules} rule(s) enabled"
        ));
    }

    /// Counts and says a reload (or a part of one) not applied: an error
    /// and a `Falco internal: hot restart failure` alert.
    fn reload_failed(&self, message: String) {
        let sh = &self.shared;
        sh.metrics.reload_failures.fetch_add(1, Ordering::Relaxed);
        crate::log::error(&message);
        sh.internal(Alert::internal(
            "Falco internal: hot restart failure",
            message,
            Vec::new(),
            &sh.host,
        ));
    }

    /// Says that a tenant's new version failed (it keeps its previous one);
    /// the tenant's name.
    fn tenant_failed(&self, e: &SetupError) -> String {
        self.reload_failed(format!("reload: {e}; the tenant keeps its previous rules"));
        e.tenant().unwrap_or_default().to_string()
    }

    /// Applies a reload's setup: all or nothing, but for the tenants whose
    /// new version failed. The rules enabled.
    fn apply(&self, s: Setup, hosting: &mut Hosting<'_, '_>) -> Result<usize, String> {
        let engines = hosting.pick(s.engines)?;
        let log = s.config.log_options().map_err(|e| e.to_string())?;
        let key = crate::outputs::config::outputs_key(&s.config);
        if key != self.shared.current().key {
            let set =
                OutputSet::start(&s.config, &self.shared.metrics).map_err(|e| e.to_string())?;
            *self
                .shared
                .outputs
                .write()
                .unwrap_or_else(|p| p.into_inner()) = Arc::new(set);
        }
        let rules = rules_enabled(&engines, &s.tenants);
        let keep = s
            .failed_tenants
            .iter()
            .map(|e| self.tenant_failed(e))
            .collect();
        let tenants = hosting.tenants(s.tenants, keep);
        hosting.hand_over(engines, tenants);
        hosting.start_pending();
        crate::log::configure(log);
        self.watch
            .set_enabled(s.config.bool_at("watch_config_files", true).unwrap_or(true));
        *self.latest.lock().unwrap_or_else(|p| p.into_inner()) = s.config;
        Ok(rules)
    }
}

/// The rules enabled in `engines` and the tenants' (every source's).
pub fn rules_enabled(engines: &[SourceEngine], tenants: &[TenantSetup]) -> usize {
    engines
        .iter()
        .map(SourceEngine::active_count)
        .sum::<usize>()
        + tenants.iter().map(TenantSetup::active_count).sum::<usize>()
}

/// Sets the rules-loaded gauge from what a run starts with (as a reload
/// does, [`rules_enabled`]).
pub fn count_rules(sh: &Shared, engines: &[SourceEngine], tenants: &[TenantSetup]) {
    let n = rules_enabled(engines, tenants) as u64;
    sh.metrics.rules_loaded.store(n, Ordering::Relaxed);
}

/// The tenants a start or a reload built, for the syscall source.
pub struct TenantSwap {
    /// The tenants' syscall rules, each with its scope and its sink.
    pub tenants: Vec<crate::tenants::Tenant>,
    /// The tenants that stay as they are (their new version failed).
    pub keep: Vec<String>,
}

/// The control thread's state between two looks.
struct Control<'p, 'a, 'scope, 'env> {
    p: &'p Pipeline<'a>,
    /// The tenants API's changes.
    changes: std::sync::mpsc::Receiver<crate::server::api::Change>,
    hosting: Hosting<'scope, 'env>,
    interrupted: Option<Instant>,
    last_second: Instant,
    next_snapshot: Option<Instant>,
}

impl Control<'_, '_, '_, '_> {
    /// One look at signals, stalls, reloads and the once-a-second duties.
    fn once(&mut self, totals: &mut Totals) {
        let sh = &self.p.shared;
        if self.interrupted.is_none() && sh.stopping() {
            // Plugin calls in progress are cut short.
            let longest = self.hosting.longest_call();
            crate::plugins::sandbox::interrupt_all(longest.unwrap_or_default());
            self.interrupted = Some(Instant::now());
        }
        if self
            .interrupted
            .is_some_and(|t| t.elapsed() > SHUTDOWN_GRACE)
        {
            abandon_stuck(&self.hosting.stuck(), sh);
        }
        self.hosting.check_stalls(totals);
        self.hosting.end_with_top_level();
        if self.p.signals.reopen() {
            sh.current().outputs.reopen();
        }
        let mut reload = self.p.signals.hup();
        if self.last_second.elapsed() >= Duration::from_secs(1) {
            self.last_second = Instant::now();
            self.hosting.tick();
            reload |= self.p.watch.changed();
            if let (Some(m), Some(at)) = (&self.p.snapshots, self.next_snapshot)
                && Instant::now() >= at
            {
                self.next_snapshot = Some(at + m.interval);
                m.emit(&sh.metrics, sh);
            }
        }
        if reload && self.interrupted.is_none() && self.p.reload_now(&mut self.hosting) {
            self.p.watch.rearm();
        }
        // one change per look (each is a reload); once stopping, or when
        // its caller went away, a change is dropped
        if let Ok(c) = self.changes.try_recv()
            && self.interrupted.is_none()
            && !c.reply.is_closed()
        {
            self.p.change_tenant(c, &mut self.hosting);
            self.p.watch.rearm();
        }
    }
}

/// Ends the run without the source threads still blocked after a stop
/// (see [`SHUTDOWN_GRACE`]), the other sources' alerts delivered.
fn abandon_stuck(stuck: &[String], sh: &Shared) -> ! {
    crate::log::error(&format!(
        "{} still blocked in a plugin call {} s after the stop (a file operation that does \
         not return: a FIFO or device in a granted directory?); exiting without waiting",
        stuck.join(", "),
        SHUTDOWN_GRACE.as_secs()
    ));
    sh.flush();
    std::process::exit(0)
}

/// What a source thread gives back: its totals, and the source itself, to
/// be dropped after the exit summary.
type Ended<'s> = (Totals, Box<dyn Source + 's>);

/// A source's thread: open, steps until done, stopped or retired, close.
fn drive<'s>(mut src: Box<dyn Source + 's>, sh: &Shared, slot: &Slot, stall: &Stall) -> Ended<'s> {
    let mut t = Totals::default();
    // what it starts with (the syscall source: the tenants)
    if let Some(h) = slot.take() {
        src.swap(h.engine, h.tenants, sh);
    }
    if !src.open(sh, &mut t) {
        return (t, src);
    }
    let mut last_tick = Instant::now();
    while !sh.stopping() && !slot.retired() {
        if let Some(h) = slot.take() {
            src.swap(h.engine, h.tenants, sh);
        }
        stall.begin();
        let flow = src.step(sh, &mut t);
        stall.end();
        if last_tick.elapsed() >= Duration::from_secs(1) {
            last_tick = Instant::now();
            src.tick(sh, &mut t);
        }
        match flow {
            Flow::Busy => {}
            Flow::Idle => std::thread::sleep(src.idle_pause()),
            Flow::Done => break,
        }
    }
    src.close(sh, &mut t, sh.stopping());
    (t, src)
}
