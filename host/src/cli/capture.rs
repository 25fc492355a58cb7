//! `falco-wasm capture`: records what the live probe sees to a capture
//! file (.scap) that replays alone (`-e FILE`) and that sysdig reads.

use super::fail;
use crate::config::Config;
use crate::pipeline::record::{Recorder, Trigger};
use crate::pipeline::setup::{Inputs, Setup};
use crate::pipeline::syscall::LiveSource;
use crate::pipeline::{Pipeline, PipelineError, Source};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// What `capture` was asked.
#[derive(clap::Args, Debug)]
pub(super) struct CaptureArgs {
    /// The capture file to write.
    #[arg(short = 'w', value_name = "FILE.scap", required = true)]
    write: PathBuf,
    /// Stop after this many seconds (else at Ctrl-C or SIGTERM).
    #[arg(long, value_name = "SECONDS")]
    duration: Option<f64>,
    /// gzip-compress the file (sysdig and Falco read both).
    #[arg(short = 'z', long = "compress")]
    gzip: bool,
    /// Configuration file (falco.yaml): container runtime sockets, drop handling.
    #[arg(short = 'c', value_name = "PATH")]
    config: Option<PathBuf>,
    /// Override a configuration key.
    #[arg(short = 'o', long = "option", value_name = "KEY=VALUE")]
    options: Vec<String>,
    /// A Falco filter: only the events it matches are written, e.g.
    /// `proc.name=cat or evt.type=connect` (default: every event but the
    /// I/O calls read, write, pread, pwrite, readv and writev, which a
    /// filter must name).
    filter: Vec<String>,
}

/// Runs `capture`.
pub(super) fn run(args: &CaptureArgs) -> ExitCode {
    // no web server beside a running engine's (its port would clash)
    let mut overrides = vec!["webserver.enabled=false".to_string()];
    overrides.extend(args.options.iter().cloned());
    let inputs = Inputs {
        config: args.config.clone(),
        overrides,
        rules: Vec::new(),
        plugin_rules: Vec::new(),
    };
    let filter = args.filter.join(" ");
    let duration = match args.duration {
        Some(d) if !(d.is_finite() && d > 0.0) => {
            return fail(format!(
                "--duration {d}: expected a positive number of seconds"
            ));
        }
        d => d.map(Duration::from_secs_f64),
    };
    let setup = || inputs.filter_setup(&filter, None);
    let Setup {
        config, engines, ..
    } = match setup() {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let engine = engines.into_iter().next().expect("one filter engine");
    let none = || Vec::new();
    let trigger = Trigger::File {
        path: args.write.clone(),
        gzip: args.gzip,
        all: filter.trim().is_empty(),
    };
    let result = Pipeline::new(&config, &setup, &none).and_then(|p| {
        source(engine, &config, trigger, duration).and_then(|s| p.run(vec![s], Vec::new()))
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

fn source<'a>(
    engine: crate::engine::SourceEngine,
    config: &Config,
    trigger: Trigger,
    duration: Option<Duration>,
) -> Result<Box<dyn Source + 'a>, PipelineError> {
    let mut live = LiveSource::open(engine, config, Some(Recorder::new(trigger)))?;
    if let Some(d) = duration {
        live.stop_after(d);
    }
    Ok(Box::new(live))
}
