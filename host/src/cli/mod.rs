//! The command line: Falco's flags where Falco has them, plus `test`.

mod artifact;
mod capture;
pub mod eventgen;
mod info;
mod inspect;
mod tenants;
mod validate;

use crate::config::{Config, EngineKind};
use crate::engine::SourceEngine;
use crate::fields::{FieldRegistry, SYSCALL_SOURCE};
use crate::pipeline::plugin_replay::PluginEvents;
use crate::pipeline::replay::ReplaySource;
use crate::pipeline::setup::{
    Inputs, SetupError, build_engines, filter_engine, tenant_fields, tenant_setups,
};
use crate::pipeline::syscall::LiveSource;
use crate::pipeline::{self, Pipeline, PipelineError, Source};
use crate::plugins::{FieldOrigin, LoadedPlugin};
use crate::rules::compile::{ProvidedPlugin, builtin_plugins};
use crate::rules::{LoadedRules, Severity};
use clap::{Parser, Subcommand, ValueEnum};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

/// A Falco-compatible runtime security engine. Rules are Falco's language;
/// their conditions are compiled to WebAssembly and run in a sandbox.
#[derive(Parser, Debug)]
#[command(
    name = "falco-wasm",
    disable_version_flag = true,
    args_conflicts_with_subcommands = true
)]
#[command(
    after_help = "Examples:\n  falco-wasm -V rules/falco_rules.yaml        validate a rules file\n  falco-wasm -r my_rules.yaml -L               describe the loaded rules\n  falco-wasm --list=syscall -N                 list field names\n  falco-wasm test rules/ --fixtures cases.yaml  check rules against fixtures\n  sudo falco-wasm run                           live detection (embedded rules)"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    opts: Opts,
}

/// Options shared by the top level (Falco-style) and `run`.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct Opts {
    /// Configuration file (falco.yaml).
    #[arg(short = 'c', value_name = "PATH")]
    config: Option<PathBuf>,
    /// Override a configuration key, e.g. -o priority=warning, -o rules[].disable.rule=Write*.
    #[arg(short = 'o', long = "option", value_name = "KEY=VALUE")]
    options: Vec<String>,
    /// Rules file or directory (repeatable; directories contribute their .yaml/.yml files).
    #[arg(short = 'r', value_name = "PATH")]
    rules: Vec<PathBuf>,
    /// Replay a capture file (.scap, gzip or not) instead of capturing live: the same as
    /// -o engine.kind=replay -o engine.replay.capture_file=FILE.
    #[arg(short = 'e', value_name = "FILE")]
    capture_file: Option<PathBuf>,
    /// Validate rules files (repeatable) and exit: prints each problem with file:line:col.
    #[arg(short = 'V', long = "validate", value_name = "PATH")]
    validate: Vec<PathBuf>,
    /// With -V: validate with the fields of this tenant's own plugins (its
    /// entry in the configuration's tenants: or tenants_dir).
    #[arg(long = "tenant", value_name = "NAME", requires = "validate")]
    tenant: Option<String>,
    /// Describe every loaded rule and exit.
    #[arg(short = 'L')]
    describe_all: bool,
    /// Describe one rule and exit.
    #[arg(short = 'l', value_name = "RULE")]
    describe: Option<String>,
    /// List the fields of every source, or of one (--list=syscall), and exit.
    #[arg(long = "list", value_name = "SOURCE", num_args = 0..=1, default_missing_value = "", require_equals = true)]
    list: Option<String>,
    /// With --list: print field names only.
    #[arg(short = 'N')]
    names_only: bool,
    /// List the event types of the syscall source and exit.
    #[arg(long = "list-events")]
    list_events: bool,
    /// Load and compile everything, then exit without capturing.
    #[arg(long = "dry-run")]
    dry_run: bool,
    /// Print version information and exit.
    #[arg(long = "version")]
    version: bool,
    /// Output format of -L, -l, --list and -V.
    #[arg(long = "format", value_enum)]
    format: Option<Format>,
    /// Print the JSON schema of rules files and exit.
    #[arg(long = "rule-schema")]
    rule_schema: bool,
    /// Verbose: more detail in --list and -V.
    #[arg(short = 'v')]
    verbose: bool,
    /// Load a plugin component (.wasm); repeatable. Source plugins then
    /// replace the syscall source.
    #[arg(long = "plugin", value_name = "PATH.wasm")]
    plugins: Vec<PathBuf>,
    /// Init config (JSON) of the --plugin at the same position.
    #[arg(long = "plugin-config", value_name = "JSON")]
    plugin_configs: Vec<String>,
    /// Open params of the --plugin at the same position (a file, a directory, s3://…).
    #[arg(long = "plugin-open-params", value_name = "PARAMS")]
    plugin_open_params: Vec<String>,
    /// Print the loaded plugins and exit.
    #[arg(long = "list-plugins")]
    list_plugins: bool,
    /// Print a loaded plugin's details (init schema, open params, fields) and exit.
    #[arg(long = "plugin-info", value_name = "NAME")]
    plugin_info: Option<String>,
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable text.
    Text,
    /// JSON.
    Json,
    /// Markdown.
    Markdown,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run detection (the default when no subcommand is given).
    Run(Box<Opts>),
    /// Check rules against fixture events: which rules must and must not trigger.
    Test {
        /// Rules files or directories, loaded in order.
        #[arg(required = true)]
        rules: Vec<PathBuf>,
        /// Fixture file(s) (YAML list of cases; see the README): `--fixtures A B`
        /// or `--fixtures A --fixtures B`.
        #[arg(long = "fixtures", required = true, num_args = 1..)]
        fixtures: Vec<PathBuf>,
        /// Only print failures and the summary.
        #[arg(short, long)]
        quiet: bool,
        /// The configuration file --tenant is read from (default: the embedded one).
        #[arg(short = 'c', value_name = "PATH")]
        config: Option<PathBuf>,
        /// Test with the fields of this tenant's own plugins.
        #[arg(long = "tenant", value_name = "NAME")]
        tenant: Option<String>,
    },
    /// Record system calls to a capture file (.scap) that replays alone
    /// (`-e FILE`) and that sysdig reads (needs root).
    Capture(capture::CaptureArgs),
    /// Print the events a Falco filter selects, live (needs root) or from a
    /// capture file (-r), with a %field format (-p), as JSON (-j), or as a
    /// --top table.
    Inspect(inspect::InspectArgs),
    /// Tenants: check a configuration's (validate) or list a running
    /// engine's through its API (list).
    Tenants {
        #[command(subcommand)]
        what: tenants::TenantsCommand,
    },
    /// Rules and plugins as signed OCI artifacts: keygen, push, pull,
    /// install (grants shown and accepted), accept, list, info, follow.
    Artifact {
        #[command(subcommand)]
        what: artifact::ArtifactCommand,
    },
    /// Perform, harmlessly, what the default rules detect (needs root; the
    /// container actions need podman).
    #[command(name = "event-generator")]
    EventGenerator {
        #[command(subcommand)]
        what: GenCommand,
    },
}

#[derive(Subcommand, Debug)]
enum GenCommand {
    /// List the actions and the rule each targets.
    List,
    /// Run actions.
    Run {
        /// Action names.
        actions: Vec<String>,
        /// Run every action.
        #[arg(long)]
        all: bool,
    },
}

/// Parses arguments and runs; returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Test {
            rules,
            fixtures,
            quiet,
            config,
            tenant,
        }) => test_command(&rules, &fixtures, quiet, config, tenant.as_deref()),
        Some(Command::Run(opts)) => run(&opts),
        Some(Command::Capture(args)) => capture::run(&args),
        Some(Command::Inspect(args)) => inspect::run(&args),
        Some(Command::Tenants { what }) => tenants::run(&what),
        Some(Command::Artifact { what }) => artifact::run(&what),
        Some(Command::EventGenerator {
            what: GenCommand::List,
        }) => eventgen::list(),
        Some(Command::EventGenerator {
            what: GenCommand::Run { actions, all },
        }) => eventgen::run(&actions, all),
        None => run(&cli.opts),
    }
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("Error: {msg}");
    ExitCode::FAILURE
}

impl Opts {
    /// Where the run's configuration and rules come from.
    fn inputs(&self) -> Inputs {
        let mut overrides = self.options.clone();
        if let Some(f) = &self.capture_file {
            overrides.push("engine.kind=replay".into());
            overrides.push(format!("engine.replay.capture_file={}", f.display()));
        }
        Inputs {
            config: self.config.clone(),
            overrides,
            rules: self.rules.clone(),
            plugin_rules: Vec::new(),
        }
    }
}

/// The loaded plugins and the fields they give each source.
struct Plugins {
    loaded: Vec<LoadedPlugin>,
    registry: FieldRegistry,
    origins: HashMap<String, Vec<FieldOrigin>>,
    /// What rules' `required_plugin_versions` can name.
    provided: Vec<ProvidedPlugin>,
    /// The embedded rules of the first-party source plugins given.
    default_rules: Vec<crate::rules::RulesFile>,
}

/// Loads the plugins of `falco.yaml` and `--plugin`; with `defaults`
/// (no rules named) and unless plugins are only listed, a first-party
/// source plugin brings its embedded rules and the companion plugins they
/// need, found beside it.
fn load_plugins(
    opts: &Opts,
    config: &Config,
    defaults: bool,
) -> Result<Plugins, crate::plugins::PluginError> {
    let mut specs = crate::plugins::specs_from_config(config)?;
    for (i, p) in opts.plugins.iter().enumerate() {
        specs.push(crate::plugins::spec_from_cli(
            p,
            opts.plugin_configs.get(i).map(String::as_str),
            opts.plugin_open_params.get(i).map(String::as_str),
        ));
    }
    let mut loaded = specs
        .into_iter()
        .map(LoadedPlugin::load)
        .collect::<Result<Vec<_>, _>>()?;
    // what is loaded is listed as given; a run completes source plugins
    // that carry default rules
    let listing = opts.list_plugins || opts.plugin_info.is_some() || opts.list.is_some();
    let default_rules = if defaults && !listing {
        crate::plugins::carried::default_rules(&mut loaded)?
    } else {
        Vec::new()
    };
    crate::plugins::check_conflicts(&loaded)?;
    let (registry, origins) = crate::plugins::registry_of(&loaded);
    let provided = crate::plugins::provided(&loaded);
    Ok(Plugins {
        loaded,
        registry,
        origins,
        provided,
        default_rules,
    })
}

fn run(opts: &Opts) -> ExitCode {
    let mut inputs = opts.inputs();
    let config = match inputs.config() {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    for w in &config.warnings {
        eprintln!("Warning: {w}");
    }
    let format = opts.format.unwrap_or(if config.json_output {
        Format::Json
    } else {
        Format::Text
    });
    let mut plugins = match load_plugins(opts, &config, inputs.default_rules(&config)) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    inputs.plugin_rules = std::mem::take(&mut plugins.default_rules);
    if opts.list_plugins || opts.plugin_info.is_some() {
        return info::print_plugins(&mut plugins.loaded, opts.plugin_info.as_deref());
    }
    if let Some(code) = print_info(opts, &config, &plugins, format) {
        return code;
    }
    let loaded = inputs.rules(&config, &plugins.registry, &plugins.provided);
    for n in &loaded.notes {
        eprintln!("{n}");
    }
    if loaded.has_errors() {
        let errors: Vec<_> = loaded
            .diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        for d in &errors {
            eprintln!("{d}\n");
        }
        return fail(format!("could not load rules: {} error(s)", errors.len()));
    }
    if opts.describe_all || opts.describe.is_some() {
        return info::describe(&loaded, opts.describe.as_deref(), format);
    }
    let engines = match build_engines(&config, &loaded) {
        Ok(e) => e,
        Err(e) => return fail(e),
    };
    let tenants = match tenant_setups(&config, &plugins.registry, &plugins.provided) {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    say_loaded(&loaded, &engines);
    if opts.dry_run {
        return ExitCode::SUCCESS;
    }
    let (registry, provided) = (&plugins.registry, &plugins.provided);
    let reload = || inputs.reload(registry, provided);
    let watched = || inputs.watched(&config);
    let versions = plugins
        .loaded
        .iter()
        .map(|p| (p.info.name.clone(), p.info.version.clone()))
        .collect();
    let result = Pipeline::new(&config, &reload, &watched).and_then(|mut pipeline| {
        pipeline.set_plugin_versions(versions);
        pipeline::count_rules(pipeline.shared(), &engines, &tenants);
        let sources = sources(plugins.loaded, engines, &plugins.origins, &config)?;
        pipeline.run(sources, tenants)
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

/// The sources a run reads: the plugin sources when a source plugin is
/// loaded, else live capture (or the capture replayed); the syscall
/// source evaluates the tenants' syscall rules.
fn sources<'o>(
    plugins: Vec<LoadedPlugin>,
    engines: Vec<SourceEngine>,
    origins: &'o HashMap<String, Vec<FieldOrigin>>,
    config: &Config,
) -> Result<Vec<Box<dyn Source + 'o>>, PipelineError> {
    let (syscall, others): (Vec<SourceEngine>, Vec<SourceEngine>) = engines
        .into_iter()
        .partition(|e| e.rules().fields.source == SYSCALL_SOURCE);
    let syscall = syscall.into_iter().next();
    match config.engine_kind()? {
        EngineKind::Replay(path) => {
            // the capture's syscall events go through the syscall rules
            // (none: an engine without rules), its plugin events through
            // their plugins' sources
            let syscall = match syscall {
                Some(e) => e,
                None => filter_engine(config, "", None).map_err(Box::new)?,
            };
            let plugins = PluginEvents::new(plugins, others, origins);
            let replay = ReplaySource::open(syscall, &path, config)?.with_plugins(plugins);
            Ok(vec![Box::new(replay)])
        }
        EngineKind::Live if plugins.iter().any(|p| p.source.is_some()) => {
            Ok(pipeline::plugin::sources(plugins, others, origins, None))
        }
        EngineKind::Live => {
            let engine = syscall.ok_or_else(|| PipelineError::NoRules(SYSCALL_SOURCE.into()))?;
            Ok(vec![Box::new(LiveSource::open(engine, config, None)?)])
        }
    }
}

/// The information options that print and exit (`--version`,
/// `--rule-schema`, `--list`, `--list-events`, `-V`); `None` when none is
/// given.
fn print_info(opts: &Opts, config: &Config, plugins: &Plugins, format: Format) -> Option<ExitCode> {
    if opts.version {
        info::print_version(format);
        return Some(ExitCode::SUCCESS);
    }
    if opts.rule_schema {
        println!(
            "{}",
            serde_json::to_string_pretty(&info::rule_schema()).expect("schema serializes")
        );
        return Some(ExitCode::SUCCESS);
    }
    if let Some(src) = &opts.list {
        let r = &plugins.registry;
        return Some(info::list_fields(
            r,
            src,
            opts.names_only,
            opts.verbose,
            format,
        ));
    }
    if opts.list_events {
        info::list_events(&plugins.registry, format);
        return Some(ExitCode::SUCCESS);
    }
    if !opts.validate.is_empty() {
        let (r, p) = (&plugins.registry, &plugins.provided);
        let Some(name) = &opts.tenant else {
            return Some(validate::validate(&opts.validate, r, p, format));
        };
        return Some(match tenant_fields(config, name, r, p) {
            Ok((r, p)) => validate::validate(&opts.validate, &r, &p, format),
            Err(e) => fail(e),
        });
    }
    None
}

/// Says what was loaded.
fn say_loaded(loaded: &LoadedRules, engines: &[SourceEngine]) {
    let total: usize = engines.iter().map(SourceEngine::active_count).sum();
    eprintln!(
        "Loaded {} rules file(s), {total} rule(s) enabled across {} source(s): {}",
        loaded.files.len(),
        engines.len(),
        engines
            .iter()
            .map(|e| format!(
                "{} ({} rules, {} event-type groups)",
                e.rules().fields.source,
                e.active_count(),
                e.group_count()
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

/// `test`: the rules against the fixtures, with the built-in fields, or
/// those of `tenant`'s own plugins (its entry in `config`).
fn test_command(
    rules: &[PathBuf],
    fixtures: &[PathBuf],
    quiet: bool,
    config: Option<PathBuf>,
    tenant: Option<&str>,
) -> ExitCode {
    let (registry, plugins) = (FieldRegistry::builtin(), builtin_plugins());
    let (registry, plugins) = match tenant {
        None => (registry, plugins),
        Some(name) => {
            let fields = crate::config::Config::load(config.as_deref(), &[])
                .map_err(SetupError::from)
                .and_then(|c| tenant_fields(&c, name, &registry, &plugins));
            match fields {
                Ok(f) => f,
                Err(e) => return fail(e),
            }
        }
    };
    let loaded = crate::rules::load_paths(rules, &registry, &plugins);
    if loaded.has_errors() {
        for d in loaded
            .diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
        {
            eprintln!("{d}\n");
        }
        return fail("rules do not load");
    }
    let (mut passed, mut failed) = (0, 0);
    for f in fixtures {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => return fail(format!("cannot read fixtures {}: {e}", f.display())),
        };
        let cases = match crate::testing::parse_fixtures(
            &f.display().to_string(),
            &text,
            &loaded,
            &registry,
        ) {
            Ok(c) => c,
            Err(e) => return fail(e),
        };
        let results = match crate::testing::run_cases(&loaded, &cases) {
            Ok(r) => r,
            Err(e) => return fail(e),
        };
        for r in results {
            if r.failures.is_empty() {
                passed += 1;
                if !quiet {
                    println!("PASS {}:{} {}", f.display(), r.line, r.name);
                    for (rule, output) in &r.outputs {
                        println!("    {rule}: {output}");
                    }
                }
            } else {
                failed += 1;
                println!(
                    "FAIL {}:{} {}: {}",
                    f.display(),
                    r.line,
                    r.name,
                    r.failures.join("; ")
                );
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
