//! `falco-wasm inspect`: the events a Falco filter selects, live or from
//! a capture file, printed with a `%field` format, as JSON, counted in a
//! `--top` table, or the data of their reads and writes (`--spy`).

use super::fail;
use crate::pipeline::inspect::{DEFAULT_FORMAT, Printer, SPY_CONDITION, SPY_FORMAT, Show, Top};
use crate::pipeline::replay::ReplaySource;
use crate::pipeline::setup::{Inputs, Setup};
use crate::pipeline::syscall::LiveSource;
use crate::pipeline::{Pipeline, Source};
use std::path::PathBuf;
use std::process::ExitCode;

/// What `inspect` was asked.
#[derive(clap::Args, Debug)]
pub(super) struct InspectArgs {
    /// Read the events of a capture file (.scap) instead of capturing live
    /// (live needs root).
    #[arg(short = 'r', value_name = "FILE.scap")]
    read: Option<PathBuf>,
    /// The line printed per event, with Falco's `%field` tokens
    /// (default: "%evt.num %evt.time %proc.name (%thread.tid) < %evt.type %evt.args").
    #[arg(short = 'p', value_name = "FORMAT")]
    format: Option<String>,
    /// One JSON object per event, with the format's fields.
    #[arg(short = 'j', long = "json")]
    json: bool,
    /// Count instead of printing: the most frequent processes, opened files
    /// or connections.
    #[arg(long, value_enum, conflicts_with_all = ["format", "json"])]
    top: Option<Top>,
    /// Show the data reads and writes moved (the first 80 bytes of each,
    /// as sysdig's echo_fds); narrow it with the filter, e.g.
    /// `fd.name contains :8080` for one connection.
    #[arg(long, conflicts_with_all = ["format", "json", "top"])]
    spy: bool,
    /// Configuration file (falco.yaml): container runtime sockets, drop handling.
    #[arg(short = 'c', value_name = "PATH")]
    config: Option<PathBuf>,
    /// Override a configuration key.
    #[arg(short = 'o', long = "option", value_name = "KEY=VALUE")]
    options: Vec<String>,
    /// A Falco filter (the rules' condition language, without macros),
    /// e.g. `proc.name=cat and evt.type=openat` (default: every event).
    filter: Vec<String>,
}

impl InspectArgs {
    /// The filter, with the `--top` table's own condition.
    fn filter(&self) -> String {
        let user = self.filter.join(" ");
        let own = match self.spy {
            true => Some(SPY_CONDITION),
            false => self.top.and_then(Top::condition),
        };
        match (user.trim(), own) {
            ("", Some(c)) => c.to_string(),
            (u, Some(c)) => format!("({u}) and ({c})"),
            (u, None) => u.to_string(),
        }
    }

    fn format(&self) -> String {
        if self.spy {
            return SPY_FORMAT.to_string();
        }
        match (self.top, &self.format) {
            (Some(t), _) => t.format().to_string(),
            (None, Some(f)) => f.clone(),
            (None, None) => DEFAULT_FORMAT.to_string(),
        }
    }

    fn show(&self) -> Show {
        if self.spy {
            return Show::Spy;
        }
        match (self.top, self.json) {
            (Some(t), _) => Show::Top(t),
            (None, true) => Show::Json,
            (None, false) => Show::Lines,
        }
    }
}

/// Runs `inspect`.
pub(super) fn run(args: &InspectArgs) -> ExitCode {
    // matches go to stdout here, not to the outputs; no web server, no
    // recording beside a running engine's
    let mut overrides: Vec<String> = [
        "webserver.enabled=false",
        "stdout_output.enabled=false",
        "capture.enabled=false",
    ]
    .map(String::from)
    .into();
    overrides.extend(args.options.iter().cloned());
    let inputs = Inputs {
        config: args.config.clone(),
        overrides,
        rules: Vec::new(),
        plugin_rules: Vec::new(),
    };
    let (filter, format) = (args.filter(), args.format());
    let setup = || inputs.filter_setup(&filter, Some(&format));
    let Setup {
        config, engines, ..
    } = match setup() {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let engine = engines.into_iter().next().expect("one filter engine");
    let none = || Vec::new();
    let result = Pipeline::new(&config, &setup, &none).and_then(|p| {
        let source: Box<dyn Source> = match &args.read {
            Some(path) => {
                let mut s = ReplaySource::open(engine, path, &config)?;
                s.convert_all_io();
                s.stage_mut().set_printer(Printer::stdout(args.show()));
                Box::new(s)
            }
            None => {
                let mut s = LiveSource::open(engine, &config, None)?;
                s.stage_mut().set_printer(Printer::stdout(args.show()));
                Box::new(s)
            }
        };
        p.run(vec![source], Vec::new())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}
