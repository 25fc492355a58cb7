//! The capture-file source: a `.scap` file's events, converted to the
//! probe's records, through the same [`SyscallStage`] live capture uses.
//!
//! The state tables start from the capture's own process list, fd lists
//! and users (nothing is read from this machine), and event times are the
//! file's, so the same file gives the same alerts every time. A corrupt or
//! truncated file ends the replay with an error naming the byte offset;
//! the events before it were evaluated.

use super::plugin_replay::PluginEvents;
use super::syscall::SyscallStage;
use super::{Flow, PipelineError, Shared, Source, TenantSwap, Totals};
use crate::config::Config;
use crate::engine::SourceEngine;
use crate::fields::SYSCALL_SOURCE;
use crate::scap::convert::{self, Converter};
use crate::scap::{Reader, read::ReadStats};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The event-block flag of events that update the state but run no rule
/// (libs' `SCAP_DF_STATE_ONLY`).
const STATE_ONLY: u32 = 1;

/// Events one step reads.
const EVENTS_PER_STEP: usize = 4096;

/// Replays one capture file.
pub struct ReplaySource {
    path: PathBuf,
    reader: Reader,
    conv: Converter,
    stage: SyscallStage,
    started: Instant,
    /// A progress bar, when stderr is a terminal.
    progress: Option<indicatif::ProgressBar>,
    /// The plugin sources the capture's plugin events go to.
    plugins: PluginEvents,
    /// Events of the capture read (including meta-events and enter events).
    read: u64,
    failed: bool,
}

impl ReplaySource {
    /// Opens `path` and reads its metadata; `config`'s `capture` section
    /// records events after alerts, as live.
    pub fn open(
        engine: SourceEngine,
        path: &Path,
        config: &Config,
    ) -> Result<ReplaySource, PipelineError> {
        let reader = Reader::open(path)?;
        let state = convert::state_for(reader.metadata());
        let mut stage = SyscallStage::new(engine, state);
        stage.record_on_alerts(config)?;
        let mut conv = Converter::new(reader.metadata());
        conv.io = stage.wants_io();
        Ok(ReplaySource {
            path: path.to_path_buf(),
            conv,
            reader,
            stage,
            started: Instant::now(),
            progress: None,
            plugins: PluginEvents::default(),
            read: 0,
            failed: false,
        })
    }
}

/// A bar of the file's bytes read, on stderr when it is a terminal.
fn progress_bar(path: &Path) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let total = std::fs::metadata(path).map_or(0, |m| m.len());
    let style = indicatif::ProgressStyle::with_template(
        "replay [{bar:40}] {bytes}/{total_bytes} {elapsed} {msg}",
    )
    .ok()?
    .progress_chars("=> ");
    Some(
        indicatif::ProgressBar::with_draw_target(
            Some(total),
            indicatif::ProgressDrawTarget::stderr_with_hz(4),
        )
        .with_style(style),
    )
}

/// libs' code of plugin events.
const PLUGIN_EVENT: u16 = 322;

impl ReplaySource {
    /// Converts the capture's I/O events (read, write, …) whatever the
    /// rules name (`inspect -r` shows what the file holds).
    pub fn convert_all_io(&mut self) {
        self.conv.io = true;
    }

    /// Evaluates the capture's plugin events with these plugin sources.
    pub fn with_plugins(mut self, plugins: PluginEvents) -> ReplaySource {
        self.plugins = plugins;
        self
    }

    /// The stage, to give it a printer or tenants before the run.
    pub fn stage_mut(&mut self) -> &mut SyscallStage {
        &mut self.stage
    }
}

impl Source for ReplaySource {
    fn source(&self) -> &str {
        SYSCALL_SOURCE
    }

    fn name(&self) -> &str {
        "replay"
    }

    fn open(&mut self, _: &Shared, _: &mut Totals) -> bool {
        let m = self.reader.metadata();
        crate::log::info(&format!(
            "Replaying {}: {} thread(s) and {} fd(s) in its process list{}",
            self.path.display(),
            m.threads.len(),
            m.fds.len(),
            m.machine
                .as_ref()
                .map(|mi| format!(", captured on {}", mi.hostname))
                .unwrap_or_default()
        ));
        self.started = Instant::now();
        self.progress = progress_bar(&self.path);
        true
    }

    fn step(&mut self, sh: &Shared, t: &mut Totals) -> Flow {
        let (mut alerts, mut evaluated) = (0, 0);
        let mut flow = Flow::Busy;
        for _ in 0..EVENTS_PER_STEP {
            if self.stage.output_closed() {
                flow = Flow::Done;
                break;
            }
            let (rec, state_only) = match self.reader.next_event() {
                Ok(Some(ev)) => {
                    self.read += 1;
                    if let Some(meta) = ev.section {
                        // a new section: its processes before its first event
                        convert::seed(self.stage.state_mut(), meta);
                        self.conv.learn(meta);
                    }
                    if ev.code == PLUGIN_EVENT {
                        self.plugins.event(&ev, sh);
                        continue;
                    }
                    if let Some((id, info)) = convert::container(&ev) {
                        self.stage.state_mut().add_container(&id, info);
                    }
                    (self.conv.convert(&ev), ev.flags & STATE_ONLY != 0)
                }
                Ok(None) => {
                    flow = Flow::Done;
                    break;
                }
                Err(e) => {
                    self.failed = true;
                    sh.fail(format!("replay stopped: {e}"));
                    flow = Flow::Done;
                    break;
                }
            };
            match rec {
                Some(rec) if state_only => self.stage.state_only(rec),
                Some(rec) => {
                    alerts += self.stage.record(rec, sh);
                    evaluated += 1;
                }
                None => {}
            }
        }
        sh.metrics.add_events(SYSCALL_SOURCE, evaluated);
        let plugin_alerts = self.plugins.alerts;
        evaluated += self.plugins.flush(sh);
        alerts += self.plugins.alerts - plugin_alerts;
        t.events += evaluated;
        t.alerts += alerts;
        if let (Some(pb), Some(at)) = (&self.progress, self.reader.file_position()) {
            pb.set_position(at);
            pb.set_message(format!("{} events, {} alerts", self.read, t.alerts));
        }
        flow
    }

    fn swap(&mut self, engine: Option<SourceEngine>, tenants: Option<TenantSwap>, _: &Shared) {
        self.stage.swap(engine, tenants);
        self.conv.io |= self.stage.wants_io();
    }

    fn tick(&mut self, _: &Shared, _: &mut Totals) {
        self.stage.tick_tenants();
    }

    fn close(&mut self, _: &Shared, t: &mut Totals, stopping: bool) {
        if let Some(pb) = self.progress.take() {
            pb.finish_and_clear();
        }
        let secs = self.started.elapsed().as_secs_f64();
        let ReadStats {
            unknown_events,
            sections,
            ..
        } = self.reader.stats;
        t.summary.push(format!(
            "Capture {}: {} event(s) read in {} section(s), {} evaluated, {} without an \
             equivalent, {} of unknown types; {:.2} s, {:.0} events/s{}",
            self.path.display(),
            self.read,
            sections,
            self.stage.events,
            self.conv.skipped,
            unknown_events,
            secs,
            self.read as f64 / secs.max(1e-9),
            if stopping && !self.failed {
                " (stopped early)"
            } else {
                ""
            }
        ));
        t.summary.push(self.stage.state_summary("the capture"));
        if !self.plugins.is_empty() || self.plugins.unknown > 0 {
            t.summary.push(self.plugins.summary());
        }
        t.summary.extend(self.stage.close_recorder());
        t.summary.extend(self.stage.close_printer());
    }
}
