//! What a run is made of: the configuration, the rules, one engine per
//! source. Built once at start and again for each reload, the same way.

use crate::config::{Config, ConfigError};
use crate::engine::{EngineError, EngineOptions, SourceEngine};
use crate::fields::FieldRegistry;
use crate::rules::compile::ProvidedPlugin;
use crate::rules::{Diagnostic, LoadedRules, RulesFile, Severity};
use std::path::PathBuf;

/// The default rules, embedded in the binary.
pub const DEFAULT_RULES: &str = include_str!("../../../rules/falco_rules.yaml");
/// The name the embedded default rules are reported under.
pub const DEFAULT_RULES_NAME: &str = "<embedded>/falco_rules.yaml";

/// Why a setup could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The configuration does not load.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The rules do not load: the first error (file:line:col).
    #[error("rules do not load: {0}")]
    Rules(Box<Diagnostic>),
    /// A source's rules do not build into an engine.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A command-line filter that is not a filter of syscall events.
    #[error("the filter is not a filter of syscall events")]
    NotSyscallFilter,
}

/// A configuration and its engines.
pub struct Setup {
    /// The configuration.
    pub config: Config,
    /// One engine per source of the rules.
    pub engines: Vec<SourceEngine>,
}

/// Rebuilds the setup (for a reload).
pub type Reload<'a> = &'a (dyn Fn() -> Result<Setup, SetupError> + Sync);

/// Where a run's setup comes from: `-c`, `-o` and `-r`.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    /// The configuration file (`None`: the embedded default).
    pub config: Option<PathBuf>,
    /// `-o key=value` overrides.
    pub overrides: Vec<String>,
    /// `-r` rules files or directories (empty: the config's `rules_files`).
    pub rules: Vec<PathBuf>,
}

impl Inputs {
    /// Loads the configuration.
    pub fn config(&self) -> Result<Config, ConfigError> {
        Config::load(self.config.as_deref(), &self.overrides)
    }

    /// Loads the rules `-r` selects, else the config's `rules_files`, else
    /// the embedded defaults.
    pub fn rules(
        &self,
        config: &Config,
        registry: &FieldRegistry,
        plugins: &[ProvidedPlugin],
    ) -> LoadedRules {
        let paths = self.rule_paths(config);
        if paths.is_empty() {
            let default = RulesFile {
                path: DEFAULT_RULES_NAME.into(),
                content: DEFAULT_RULES.into(),
            };
            return crate::rules::load_files(vec![default], registry, plugins);
        }
        crate::rules::load_paths(paths, registry, plugins)
    }

    fn rule_paths<'c>(&'c self, config: &'c Config) -> &'c [PathBuf] {
        if self.rules.is_empty() {
            &config.rules_files
        } else {
            &self.rules
        }
    }

    /// Everything again, for a reload: any error rejects the whole of it.
    pub fn reload(
        &self,
        registry: &FieldRegistry,
        plugins: &[ProvidedPlugin],
    ) -> Result<Setup, SetupError> {
        let config = self.config()?;
        let loaded = self.rules(&config, registry, plugins);
        if let Some(d) = loaded.diags.iter().find(|d| d.severity == Severity::Error) {
            return Err(SetupError::Rules(Box::new(d.clone())));
        }
        let engines = build_engines(&config, &loaded)?;
        Ok(Setup { config, engines })
    }

    /// The files whose change triggers a reload (`watch_config_files`):
    /// the configuration file and every rules file (directories: their
    /// files).
    pub fn watched(&self, config: &Config) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self.config.iter().cloned().collect();
        for r in self.rule_paths(config) {
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
}

/// One engine per source of the loaded rules, with the configuration's
/// matching mode, minimum priority, selection and `append_output`.
pub fn build_engines(
    config: &Config,
    loaded: &LoadedRules,
) -> Result<Vec<SourceEngine>, SetupError> {
    let engine_opts = EngineOptions::from_config(config)?;
    loaded
        .sources
        .iter()
        .map(|src| {
            let mut src = src.clone();
            crate::rules::append::apply(&mut src, config)?;
            Ok(SourceEngine::new(src, &engine_opts)?)
        })
        .collect()
}

impl Inputs {
    /// The configuration and the one-rule engine of a command-line filter
    /// (`capture`, `inspect`; see [`filter_engine`]), built at start and
    /// for each reload the same way.
    pub fn filter_setup(&self, filter: &str, format: Option<&str>) -> Result<Setup, SetupError> {
        let config = self.config()?;
        let engine = filter_engine(&config, filter, format)?;
        Ok(Setup {
            config,
            engines: vec![engine],
        })
    }
}

/// The name a filter given on the command line is reported under.
pub const FILTER_NAME: &str = "<filter>";

/// A Falco filter of syscall events (`capture`, `inspect`) as a one-rule
/// engine: the rule `filter` matches what the filter selects, and its
/// output is `format` (`inspect -p`). An empty filter matches every event
/// when a format is given; without one (`capture`), its rule is disabled
/// and matches nothing (the caller takes every event then). Errors name
/// `<filter>:line:col`.
pub fn filter_engine(
    config: &Config,
    filter: &str,
    format: Option<&str>,
) -> Result<SourceEngine, SetupError> {
    let (enabled, condition) = match (filter.trim(), format) {
        ("", None) => ("false", "evt.num > 0"),
        ("", Some(_)) => ("true", "evt.num > 0"),
        (f, _) => ("true", f),
    };
    let block = |text: &str| {
        text.lines()
            .map(|l| format!("    {l}\n"))
            .collect::<String>()
    };
    let text = format!(
        "- rule: filter\n  desc: command-line filter\n  condition: |\n{}  output: |-\n{}  \
         priority: DEBUG\n  enabled: {enabled}\n",
        block(condition),
        block(format.unwrap_or("filter")),
    );
    let file = RulesFile {
        path: FILTER_NAME.into(),
        content: text,
    };
    let registry = FieldRegistry::builtin();
    let loaded = crate::rules::load_files(vec![file], &registry, &[]);
    if let Some(d) = loaded.diags.iter().find(|d| d.severity == Severity::Error) {
        return Err(SetupError::Rules(Box::new(d.clone())));
    }
    let src = loaded
        .sources
        .into_iter()
        .find(|s| s.fields.source == crate::fields::SYSCALL_SOURCE)
        .ok_or(SetupError::NotSyscallFilter)?;
    Ok(SourceEngine::new(
        src,
        &EngineOptions::from_config(config)?,
    )?)
}
