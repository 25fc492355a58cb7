//! The command line: Falco's flags where Falco has them, plus `test`.

pub mod eventgen;
mod info;
mod live;
mod plugin_run;
mod validate;

use crate::config::Config;
use crate::engine::{EngineOptions, SourceEngine};
use crate::fields::FieldRegistry;
use crate::rules::compile::builtin_plugins;
use crate::rules::{LoadedRules, RulesFile, Severity};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// The default rules, embedded in the binary.
pub const DEFAULT_RULES: &str = include_str!("../../../rules/falco_rules.yaml");
/// The name the embedded default rules are reported under.
pub const DEFAULT_RULES_NAME: &str = "<embedded>/falco_rules.yaml";

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
    /// Validate rules files (repeatable) and exit: prints each problem with file:line:col.
    #[arg(short = 'V', long = "validate", value_name = "PATH")]
    validate: Vec<PathBuf>,
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
        /// Fixture file(s) (YAML list of cases; see the README).
        #[arg(long = "fixtures", required = true)]
        fixtures: Vec<PathBuf>,
        /// Only print failures and the summary.
        #[arg(short, long)]
        quiet: bool,
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
        }) => test_command(&rules, &fixtures, quiet),
        Some(Command::Run(opts)) => run(&opts),
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

/// Loads the rules the options select: `-r`, else the config's
/// `rules_files`, else the embedded defaults.
pub fn load_rules(
    opts_rules: &[PathBuf],
    config: &Config,
    registry: &FieldRegistry,
    plugins: &[crate::rules::compile::ProvidedPlugin],
) -> LoadedRules {
    let paths: Vec<PathBuf> = if !opts_rules.is_empty() {
        opts_rules.to_vec()
    } else {
        config.rules_files.clone()
    };
    if paths.is_empty() {
        let default = RulesFile {
            path: DEFAULT_RULES_NAME.into(),
            content: DEFAULT_RULES.into(),
        };
        return crate::rules::load_files(vec![default], registry, plugins);
    }
    crate::rules::load_paths(&paths, registry, plugins)
}

fn run(opts: &Opts) -> ExitCode {
    let config = match Config::load(opts.config.as_deref(), &opts.options) {
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
    let mut specs = match crate::plugins::specs_from_config(&config) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    for (i, p) in opts.plugins.iter().enumerate() {
        specs.push(crate::plugins::spec_from_cli(
            p,
            opts.plugin_configs.get(i).map(String::as_str),
            opts.plugin_open_params.get(i).map(String::as_str),
        ));
    }
    let mut plugins = Vec::new();
    for spec in specs {
        match crate::plugins::LoadedPlugin::load(spec) {
            Ok(p) => plugins.push(p),
            Err(e) => return fail(e),
        }
    }
    if let Err(e) = crate::plugins::check_conflicts(&plugins) {
        return fail(e);
    }
    let mut registry = FieldRegistry::builtin();
    let mut origins = std::collections::HashMap::new();
    for p in &plugins {
        if let Some((_, source)) = &p.source {
            let (fields, origin) = crate::plugins::source_fields(source, &plugins);
            registry.register(fields);
            origins.insert(source.clone(), origin);
        }
    }
    if opts.list_plugins || opts.plugin_info.is_some() {
        return info::print_plugins(&mut plugins, opts.plugin_info.as_deref());
    }
    let provided: Vec<_> = builtin_plugins()
        .into_iter()
        .chain(
            plugins
                .iter()
                .map(|p| crate::rules::compile::ProvidedPlugin {
                    name: p.info.name.clone(),
                    version: p.info.version.clone(),
                    builtin: false,
                }),
        )
        .collect();
    if opts.version {
        info::print_version(format);
        return ExitCode::SUCCESS;
    }
    if opts.rule_schema {
        println!(
            "{}",
            serde_json::to_string_pretty(&info::rule_schema()).expect("schema serializes")
        );
        return ExitCode::SUCCESS;
    }
    if let Some(src) = &opts.list {
        return info::list_fields(&registry, src, opts.names_only, opts.verbose, format);
    }
    if opts.list_events {
        info::list_events(&registry, format);
        return ExitCode::SUCCESS;
    }
    if !opts.validate.is_empty() {
        return validate::validate(&opts.validate, &registry, &provided, format);
    }
    let loaded = load_rules(&opts.rules, &config, &registry, &provided);
    for n in &loaded.notes {
        eprintln!("{n}");
    }
    let errors: Vec<_> = loaded
        .diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    if !errors.is_empty() {
        for d in errors {
            eprintln!("{d}\n");
        }
        return fail(format!(
            "could not load rules: {} error(s)",
            loaded
                .diags
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count()
        ));
    }
    if opts.describe_all || opts.describe.is_some() {
        return info::describe(&loaded, opts.describe.as_deref(), format);
    }
    let engines = match build_engines(&config, &loaded) {
        Ok(e) => e,
        Err(e) => return fail(e),
    };
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
    if opts.dry_run {
        return ExitCode::SUCCESS;
    }
    if plugins.iter().any(|p| p.source.is_some()) {
        let reload = || reload_setup(opts, &registry, &provided);
        let watched = || watched_files(opts, &config);
        return plugin_run::run(plugins, engines, &origins, &config, &reload, &watched);
    }
    let reload = || reload_setup(opts, &registry, &provided);
    let watched = || watched_files(opts, &config);
    live::live(engines, &config, &reload, &watched)
}

/// One engine per source of the loaded rules, with the configuration's
/// matching mode, minimum priority and selection.
fn build_engines(config: &Config, loaded: &LoadedRules) -> Result<Vec<SourceEngine>, String> {
    let engine_opts = EngineOptions {
        matching: config.rule_matching,
        min_priority: config.priority,
        selection: config.selection.clone(),
        ..EngineOptions::default()
    };
    loaded
        .sources
        .iter()
        .map(|src| {
            let mut src = src.clone();
            crate::outputs::append::apply(&mut src, config).map_err(|e| e.to_string())?;
            SourceEngine::new(src, &engine_opts).map_err(|e| e.to_string())
        })
        .collect()
}

/// What a reload (SIGHUP, or a watched file changing) rebuilds: the
/// configuration and the engines. Any error rejects the whole reload.
fn reload_setup(
    opts: &Opts,
    registry: &FieldRegistry,
    provided: &[crate::rules::compile::ProvidedPlugin],
) -> Result<(Config, Vec<SourceEngine>), String> {
    let config = Config::load(opts.config.as_deref(), &opts.options).map_err(|e| e.to_string())?;
    let loaded = load_rules(&opts.rules, &config, registry, provided);
    if let Some(d) = loaded.diags.iter().find(|d| d.severity == Severity::Error) {
        return Err(format!("rules do not load: {d}"));
    }
    let engines = build_engines(&config, &loaded)?;
    Ok((config, engines))
}

/// The files whose change triggers a reload (`watch_config_files`): the
/// configuration file and every rules file (directories: their YAML files).
fn watched_files(opts: &Opts, config: &Config) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = opts.config.iter().cloned().collect();
    let rules = if opts.rules.is_empty() {
        &config.rules_files
    } else {
        &opts.rules
    };
    for r in rules {
        if r.is_dir() {
            if let Ok(d) = std::fs::read_dir(r) {
                v.extend(d.flatten().map(|e| e.path()));
            }
        } else {
            v.push(r.clone());
        }
    }
    v
}

fn test_command(rules: &[PathBuf], fixtures: &[PathBuf], quiet: bool) -> ExitCode {
    let registry = FieldRegistry::builtin();
    let loaded = crate::rules::load_paths(rules, &registry, &builtin_plugins());
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
