//! The syscall source: ring-buffer records → state → rules → outputs.
//!
//! [`SyscallStage`] takes one encoded record at a time (from the live
//! probe here, from a capture file next); [`LiveSource`] feeds it from the
//! kernel in bounded steps and keeps the drop accounting.

use super::inspect::Printer;
use super::internal::drop_alert;
use super::record::{CaptureConfig, Recorder, Trigger};
use super::{Flow, PipelineError, Shared, Source, TenantSwap, Totals};
use crate::capture::drops::{DropAction, DropPolicy};
use crate::capture::record::Record;
use crate::capture::{Probe, ProbeStats, syscalls};
use crate::config::Config;
use crate::engine::SourceEngine;
use crate::fields::SYSCALL_SOURCE;
use crate::state::event::{FieldNames, SyscallEvent};
use crate::state::{State, StateOptions};
use crate::tenants::Tenant;
use std::sync::atomic::Ordering;

/// Evaluation errors said in full (the others are counted).
const ERRORS_SAID: u64 = 10;

/// Records → state → rules → alerts, one record at a time.
pub struct SyscallStage {
    state: State,
    engine: SourceEngine,
    names: FieldNames,
    hits: Vec<u32>,
    recorder: Option<Recorder>,
    printer: Option<Printer>,
    /// The tenants, evaluated after the top level's rules.
    tenants: Vec<Tenant>,
    /// Records evaluated.
    pub events: u64,
    /// Evaluation errors.
    pub errors: u64,
}

impl SyscallStage {
    /// A stage evaluating `engine`'s rules over `state`.
    pub fn new(engine: SourceEngine, state: State) -> SyscallStage {
        SyscallStage {
            names: FieldNames::new(&engine.rules().fields),
            state,
            engine,
            hits: Vec::new(),
            recorder: None,
            printer: None,
            tenants: Vec::new(),
            events: 0,
            errors: 0,
        }
    }

    /// The process and fd tables.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The process and fd tables, to bootstrap them.
    pub fn state_mut(&mut self) -> &mut State {
        &mut self.state
    }

    /// Evaluates the rules with `engine` from now on (`None`: the same),
    /// and the tenants a start or a reload built (see
    /// [`SyscallStage::swap_tenants`]).
    pub fn swap(&mut self, engine: Option<SourceEngine>, tenants: Option<TenantSwap>) {
        if let Some(engine) = engine {
            self.names = FieldNames::new(&engine.rules().fields);
            self.engine = engine;
        }
        if let Some(t) = tenants {
            self.swap_tenants(t);
        }
    }

    /// Records events to capture files from now on (with a
    /// [`Trigger::File`], the rules are the capture's filter and send no
    /// alert).
    pub fn set_recorder(&mut self, r: Recorder) {
        self.recorder = Some(r);
    }

    /// Prints the rules' matches (the `inspect` filter) instead of
    /// alerting.
    pub fn set_printer(&mut self, p: Printer) {
        self.printer = Some(p);
    }

    /// Whether the printer's output went away (the run should end).
    pub fn output_closed(&self) -> bool {
        self.printer.as_ref().is_some_and(|p| p.closed)
    }

    /// Prints what the printer keeps for the end (a `--top` table); the
    /// exit summary's line about it.
    pub fn close_printer(&mut self) -> Option<String> {
        let p = self.printer.as_mut()?;
        p.finish();
        Some(format!("Inspect: {} event(s) matched", p.matched))
    }

    /// Records with the `capture` config when it is enabled.
    pub fn record_on_alerts(&mut self, config: &Config) -> Result<(), PipelineError> {
        if let Some(c) = CaptureConfig::from_config(config)? {
            crate::log::info(&format!(
                "Capture is enabled in mode '{}'. Capturing events to {}",
                if c.all_rules { "all_rules" } else { "rules" },
                c.path_prefix
            ));
            self.set_recorder(Recorder::new(Trigger::Alerts(c)));
        }
        Ok(())
    }

    /// The syscalls the kernel must send for these rules (all of them
    /// when every event is recorded).
    pub fn interesting(&self) -> Vec<u8> {
        if self
            .recorder
            .as_ref()
            .is_some_and(Recorder::records_everything)
        {
            return syscalls::interesting_set(None, &[]);
        }
        let mut types = self.engine.event_types_in_use();
        let mut io = self.engine.io_types_named();
        for t in &self.tenants {
            types = match (types, t.event_types_in_use()) {
                (Some(mut a), Some(b)) => {
                    a.extend(b);
                    Some(a)
                }
                _ => None,
            };
            io.extend(t.io_types_named());
        }
        syscalls::interesting_set(types.as_deref(), &io)
    }

    /// Whether the rules (or the recorder) want the I/O calls (read,
    /// write, …), which are sent only to rules that name them.
    pub fn wants_io(&self) -> bool {
        let set = self.interesting();
        crate::capture::syscalls::IO
            .iter()
            .filter_map(|n| crate::capture::syscalls::nr_of(n))
            .any(|nr| set.get(nr as usize).is_some_and(|&v| v != 0))
    }

    /// The tenants from now on: those of `t`, and those it keeps as they
    /// are (their new version failed); the others end here (their sinks
    /// drain once nothing holds them).
    fn swap_tenants(&mut self, t: TenantSwap) {
        self.tenants
            .retain(|x| t.keep.iter().any(|k| k == x.name()));
        self.tenants.extend(t.tenants);
    }

    /// Once a second: the tenants' filter memory measured.
    pub fn tick_tenants(&self) {
        for t in &self.tenants {
            t.tick();
        }
    }

    /// Closes the capture file being written, if any; the exit summary's
    /// line about the files written.
    pub fn close_recorder(&mut self) -> Option<String> {
        let r = self.recorder.as_mut()?;
        r.close();
        let events: u64 = r.files.iter().map(|f| f.1).sum();
        Some(format!(
            "Captures: {} file(s), {events} event(s) written, {} record(s) without a capture \
             equivalent{}",
            r.files.len(),
            r.skipped,
            r.files
                .iter()
                .map(|(p, n)| format!("\n  {} ({n} events)", p.display()))
                .collect::<String>()
        ))
    }

    /// One record: the state updated, the rules evaluated, their alerts
    /// sent to `sh`; the number of alerts.
    pub fn record(&mut self, bytes: &[u8], sh: &Shared) -> u64 {
        let Ok(rec) = Record::parse(bytes) else {
            self.state.stats.bad_records += 1;
            return 0;
        };
        self.state.update(&rec);
        self.events += 1;
        let ev = SyscallEvent::new(&rec, &self.state, &self.names, self.events, &sh.host);
        self.hits.clear();
        if let Err(e) = self.engine.process(&ev, &mut self.hits) {
            self.errors += 1;
            sh.metrics.eval_errors.fetch_add(1, Ordering::Relaxed);
            if self.errors <= ERRORS_SAID {
                crate::log::error(&format!("evaluating event {}: {e}", self.events));
            }
        }
        let time = self.state.epoch_ns(rec.ts_boot);
        let filter =
            self.printer.is_some() || self.recorder.as_ref().is_some_and(Recorder::is_filter);
        // a capture filter's matches are only recorded: no alert is built
        let recording_only = filter && self.printer.is_none();
        for &r in self.hits.iter().filter(|_| !recording_only) {
            let a = self.engine.alert(r, &ev, time, &sh.host);
            match &mut self.printer {
                Some(p) => p.event(&a),
                None => sh.alert(a),
            }
        }
        if let Some(r) = &mut self.recorder {
            let rules = self.engine.rules();
            r.event(&rec, &self.state, rules, &self.hits, self.events, sh);
        }
        if !filter && !self.tenants.is_empty() {
            let mut now = std::time::Instant::now();
            for t in &mut self.tenants {
                now = t.event(&rec, &self.state, self.events, &sh.host, time, now);
            }
        }
        let alerts = if filter { 0 } else { self.hits.len() as u64 };
        self.state.finish(&rec);
        alerts
    }

    /// A record that only updates the state (no rule sees it).
    pub fn state_only(&mut self, bytes: &[u8]) {
        match Record::parse(bytes) {
            Ok(rec) => {
                self.state.update(&rec);
                self.state.finish(&rec);
            }
            Err(_) => self.state.stats.bad_records += 1,
        }
    }

    /// The state line of the exit summary; `origin` is where the processes
    /// known at the start came from ("/proc", "the capture").
    pub fn state_summary(&self, origin: &str) -> String {
        let st = &self.state.stats;
        format!(
            "State: {} processes tracked ({} read from {origin} at start, {} later), {} purged \
             after exit, {} evicted, {} malformed records",
            self.state.process_count(),
            st.bootstrapped,
            st.late_reads,
            st.purged,
            st.evicted,
            st.bad_records
        )
    }
}

/// The most records one step takes from the ring buffer: a step ends
/// within milliseconds under any flood, so the once-a-second duties (drop
/// accounting, metrics) and a stop come on time.
const MAX_RECORDS_PER_STEP: usize = 1024;

/// Live capture: the eBPF probe feeding a [`SyscallStage`].
pub struct LiveSource {
    probe: Probe,
    stage: SyscallStage,
    drops: DropPolicy,
    /// The probe's counters at the last tick.
    last: ProbeStats,
    /// When to stop (`capture --duration`).
    until: Option<std::time::Instant>,
}

impl LiveSource {
    /// Loads the probe with the syscalls `engine`'s rules need; with a
    /// `recorder` (`capture -w`), else with the `capture` config's.
    pub fn open(
        engine: SourceEngine,
        config: &Config,
        recorder: Option<Recorder>,
    ) -> Result<LiveSource, PipelineError> {
        let drops = DropPolicy::from_config(config)?;
        let root = crate::state::host_root();
        let mut opts = StateOptions::on_host(&root);
        if let Some(sockets) = config.container_sockets() {
            opts.runtime_sockets = sockets
                .iter()
                .map(|s| crate::state::host_path(&root, s))
                .collect();
        }
        let mut stage = SyscallStage::new(engine, State::new(opts, 0));
        match recorder {
            Some(r) => stage.set_recorder(r),
            None => stage.record_on_alerts(config)?,
        }
        let probe = Probe::open(&stage.interesting())?;
        stage
            .state_mut()
            .set_boot_to_epoch(probe.boot_to_epoch_ns());
        Ok(LiveSource {
            stage,
            probe,
            drops,
            last: ProbeStats::default(),
            until: None,
        })
    }

    /// The stage, to give it a recorder or printer before the run.
    pub fn stage_mut(&mut self) -> &mut SyscallStage {
        &mut self.stage
    }

    /// Stops after `d` (for `capture --duration`).
    pub fn stop_after(&mut self, d: std::time::Duration) {
        self.until = Some(std::time::Instant::now() + d);
    }

    /// Sends the kernel the syscalls the rules and tenants now need.
    /// Events keep arriving in the ring buffer meanwhile: none is lost.
    fn filter_kernel(&mut self) {
        if let Err(e) = self.probe.set_interesting(&self.stage.interesting()) {
            crate::log::error(&format!(
                "reload: the kernel's syscall filter is unchanged: {e}"
            ));
        }
    }

    /// The kernel's drops in the last second, acted on as
    /// `syscall_event_drops` says.
    fn account_drops(&mut self, s: ProbeStats, sh: &Shared) {
        let (submitted, dropped) = (
            s.submitted.saturating_sub(self.last.submitted),
            s.dropped.saturating_sub(self.last.dropped),
        );
        for action in self.drops.on_second(submitted, dropped) {
            match action {
                DropAction::Ignore => {}
                DropAction::Log => crate::log::warning(&format!(
                    "Syscall event drop: {dropped} record(s) lost in the last second (ring \
                     buffer full); {} total",
                    s.dropped
                )),
                DropAction::Alert => {
                    sh.internal(drop_alert(dropped, s.dropped, s.submitted, &sh.host))
                }
                DropAction::Exit => sh.fail(format!(
                    "{dropped} syscall records dropped in the last second \
                     (syscall_event_drops.actions: exit)"
                )),
            }
        }
    }
}

impl Source for LiveSource {
    fn source(&self) -> &str {
        SYSCALL_SOURCE
    }

    fn name(&self) -> &str {
        SYSCALL_SOURCE
    }

    fn open(&mut self, sh: &Shared, _: &mut Totals) -> bool {
        // After the probe is attached: a process started meanwhile is seen
        // either way.
        self.stage.state_mut().bootstrap();
        if let Some(r) = self.stage.recorder.as_mut()
            && let Err(e) = r.start(&self.stage.state, &sh.host)
        {
            sh.fail(format!("capture: {e}"));
            return false;
        }
        crate::log::info(&format!(
            "Capturing system calls: {} syscall(s) sent by the kernel, {} process(es) read \
             from /proc",
            self.stage.interesting().iter().filter(|&&v| v != 0).count(),
            self.stage.state().process_count()
        ));
        true
    }

    fn step(&mut self, sh: &Shared, t: &mut Totals) -> Flow {
        if self.stage.output_closed() || self.until.is_some_and(|u| std::time::Instant::now() >= u)
        {
            return Flow::Done;
        }
        let stage = &mut self.stage;
        let mut alerts = 0;
        let n = self
            .probe
            .drain_at_most(MAX_RECORDS_PER_STEP, |b| alerts += stage.record(b, sh));
        t.events += n as u64;
        t.alerts += alerts;
        sh.metrics.add_events(SYSCALL_SOURCE, n as u64);
        if n == 0 { Flow::Idle } else { Flow::Busy }
    }

    fn swap(&mut self, engine: Option<SourceEngine>, tenants: Option<TenantSwap>, _: &Shared) {
        self.stage.swap(engine, tenants);
        self.filter_kernel();
    }

    fn tick(&mut self, sh: &Shared, _: &mut Totals) {
        let s = self.probe.stats();
        let m = &sh.metrics;
        m.kernel_submitted.store(s.submitted, Ordering::Relaxed);
        m.kernel_drops.store(s.dropped, Ordering::Relaxed);
        let state = self.stage.state();
        m.state_processes
            .store(state.process_count() as u64, Ordering::Relaxed);
        m.state_purged.store(state.stats.purged, Ordering::Relaxed);
        self.account_drops(s, sh);
        self.last = s;
        self.stage.tick_tenants();
    }

    fn close(&mut self, _: &Shared, t: &mut Totals, _: bool) {
        let s = self.probe.stats();
        t.summary.push(format!(
            "Syscall events: {} processed, {} submitted by the kernel, {} dropped; {} \
             evaluation error(s)",
            self.stage.events, s.submitted, s.dropped, self.stage.errors
        ));
        t.summary.push(self.stage.state_summary("/proc"));
        t.summary.extend(self.stage.close_recorder());
        t.summary.extend(self.stage.close_printer());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::record::{Header, KIND_PROCEXIT, ParamKind, encode};
    use crate::engine::EngineOptions;
    use crate::fields::FieldRegistry;
    use crate::outputs::Outputs;
    use crate::outputs::alert::Alert;
    use crate::outputs::alert::FormatOptions;
    use crate::outputs::queue::QueueLimits;
    use crate::outputs::sinks::Sink;
    use crate::rules::{RulesFile, compile::builtin_plugins};
    use std::path::PathBuf;
    use std::sync::{Arc, Mutex};

    const RULES: &str = r#"
- rule: Shell reads shadow
  desc: t
  condition: evt.type in (open, openat) and fd.name = /etc/shadow and proc.name = cat
  output: "read %fd.name by %proc.cmdline (exe %proc.exepath)"
  priority: WARNING
- rule: Outbound to C2
  desc: t
  condition: evt.type = connect and fd.rport = 4444
  output: "connect %fd.name by %proc.name"
  priority: CRITICAL
- rule: Cat started
  desc: t
  condition: evt.type = execve and proc.name = cat
  output: "exec %proc.cmdline"
  priority: NOTICE
"#;

    /// Keeps what reaches it.
    struct Collect(Arc<Mutex<Vec<(String, String)>>>);

    impl Sink for Collect {
        fn name(&self) -> &'static str {
            "collect"
        }
        fn write(&mut self, a: &Alert, _: &str) -> Result<(), crate::outputs::sinks::SinkError> {
            self.0
                .lock()
                .unwrap()
                .push((a.rule.clone(), a.message.clone()));
            Ok(())
        }
    }

    fn engine() -> SourceEngine {
        let file = RulesFile {
            path: "t.yaml".into(),
            content: RULES.into(),
        };
        let loaded =
            crate::rules::load_files(vec![file], &FieldRegistry::builtin(), &builtin_plugins());
        assert!(!loaded.has_errors(), "{:?}", loaded.diags);
        let rules = loaded.source(SYSCALL_SOURCE).unwrap().clone();
        SourceEngine::new(rules, &EngineOptions::default()).unwrap()
    }

    fn header(kind: u16, ts_boot: u64, ret: i64, args: [u64; 6]) -> Header {
        Header {
            ts_boot,
            tid: 100,
            pid: 100,
            kind,
            ret,
            args,
        }
    }

    fn exec() -> Vec<u8> {
        let mut info = vec![0u8; 104];
        info[40..44].copy_from_slice(&1u32.to_le_bytes());
        let mut comm = b"cat".to_vec();
        comm.resize(16, 0);
        encode(
            &header(59, 1_000, 0, [0; 6]),
            &[
                (ParamKind::Exec, 0, &info),
                (ParamKind::Args, 0, b"cat\0/etc/shadow\0"),
                (ParamKind::ExePath, 0, b"/usr/bin/cat\0"),
                (ParamKind::Cwd, 0, b"/tmp\0"),
                (ParamKind::Comm, 0, &comm),
            ],
        )
    }

    fn tuple(lport: u16, rport: u16) -> Vec<u8> {
        let mut t = vec![0u8; 48];
        for (at, v) in [(0, 2u16), (2, 1), (4, 6), (6, lport), (8, rport)] {
            t[at..at + 2].copy_from_slice(&v.to_le_bytes());
        }
        t[16..20].copy_from_slice(&[10, 0, 0, 1]);
        t[32..36].copy_from_slice(&[10, 1, 2, 3]);
        t
    }

    #[test]
    fn encoded_records_go_through_state_rules_and_outputs() {
        let got = Arc::new(Mutex::new(Vec::new()));
        let outputs = Outputs::start_with(
            vec![Box::new(Collect(Arc::clone(&got)))],
            FormatOptions::default(),
            QueueLimits::alerts(100),
        );
        let sh = Shared::with_outputs(outputs, "h".into());
        let state = State::new(
            StateOptions {
                exit_grace_ns: 1_000,
                proc_root: PathBuf::from("/nonexistent-proc"),
                runtime_sockets: Vec::new(),
                ..StateOptions::default()
            },
            0,
        );
        let mut stage = SyscallStage::new(engine(), state);
        let at_fdcwd = 0xffff_ff9c_u64;
        let open = encode(
            &header(257, 2_000, 3, [at_fdcwd, 0, 0, 0, 0, 0]),
            &[(ParamKind::UserStr, 1, b"/etc/shadow\0")],
        );
        let connect = encode(
            &header(42, 3_000, 0, [4, 0, 0, 0, 0, 0]),
            &[(ParamKind::Tuple, 0, &tuple(40_000, 4444))],
        );
        let exit = encode(&header(KIND_PROCEXIT, 4_000, 0, [0; 6]), &[]);
        let mut alerts = 0;
        for r in [exec(), open, connect] {
            alerts += stage.record(&r, &sh);
        }
        let p = stage
            .state()
            .process(100)
            .expect("the exec made the process known");
        assert_eq!(p.fds.get(3).unwrap().name, "/etc/shadow");
        assert!(p.fds.get(4).unwrap().name.contains("->10.1.2.3:4444"));
        alerts += stage.record(&exit, &sh);
        alerts += stage.record(b"not a record", &sh);
        // A later record from another process, past the exit grace.
        alerts += stage.record(
            &encode(
                &Header {
                    pid: 7,
                    tid: 7,
                    ..header(39, 9_000_000, 7, [0; 6])
                },
                &[],
            ),
            &sh,
        );
        assert_eq!(alerts, 3);
        assert_eq!((stage.events, stage.errors), (5, 0));
        assert!(
            stage.state().process(100).is_none(),
            "purged after its exit"
        );
        assert_eq!(stage.state().stats.bad_records, 1);
        assert!(stage.state_summary("/proc").contains("1 malformed records"));
        sh.flush();
        let got = got.lock().unwrap().clone();
        assert_eq!(
            got,
            vec![
                (
                    "Cat started".to_string(),
                    "exec cat /etc/shadow".to_string()
                ),
                (
                    "Shell reads shadow".into(),
                    "read /etc/shadow by cat /etc/shadow (exe /usr/bin/cat)".into()
                ),
                (
                    "Outbound to C2".into(),
                    "connect 10.0.0.1:40000->10.1.2.3:4444 by cat".into()
                ),
            ]
        );
    }
}
