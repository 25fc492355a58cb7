//! What a run is made of: the configuration, the rules, one engine per
//! source. Built once at start and again for each reload, the same way.

use crate::config::{Config, ConfigError};
use crate::engine::{EngineError, EngineOptions, SourceEngine};
use crate::fields::FieldRegistry;
use crate::plugins::{FieldOrigin, LoadedPlugin};
use crate::rules::compile::ProvidedPlugin;
use crate::rules::{Diagnostic, LoadedRules, RulesFile, Severity};
use crate::tenants::TenantSpec;
use std::collections::HashMap;
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
    /// A tenant's rules or configuration do not load.
    #[error("tenant '{name}': {source}")]
    Tenant {
        /// The tenant's name.
        name: String,
        /// What is wrong.
        source: Box<SetupError>,
    },
    /// A tenant's plugins do not load.
    #[error(transparent)]
    Plugin(#[from] crate::plugins::PluginError),
    /// `--tenant NAME` names no tenant of the configuration.
    #[error("no tenant '{0}' in the configuration (tenants: and tenants_dir)")]
    NoTenant(String),
    /// A tenant's rules select events of a source none of its own plugins
    /// reads.
    #[error(
        "its rules select '{0}' events and none of its own plugins reads that source (a tenant \
         loads its source plugins in its own `plugins` and `load_plugins`)"
    )]
    TenantSource(String),
}

/// A configuration and its engines.
pub struct Setup {
    /// The configuration.
    pub config: Config,
    /// One engine per source of the rules.
    pub engines: Vec<SourceEngine>,
    /// The tenants (`tenants:`), each with the engine of its rules.
    pub tenants: Vec<TenantSetup>,
    /// Tenants whose new version does not build (at a reload, each keeps
    /// its previous version): [`SetupError::Tenant`]s.
    pub failed_tenants: Vec<SetupError>,
}

impl SetupError {
    /// The tenant a [`SetupError::Tenant`] is about.
    pub fn tenant(&self) -> Option<&str> {
        match self {
            SetupError::Tenant { name, .. } => Some(name),
            _ => None,
        }
    }
}

/// One tenant of `tenants:` and the engines of its rules.
pub struct TenantSetup {
    /// Its entry.
    pub spec: TenantSpec,
    /// Its syscall rules, built with its own options and filter limits.
    pub engine: SourceEngine,
    /// Its own plugins and the engines of their sources' rules.
    pub plugins: TenantPlugins,
}

/// A tenant's own plugins (`plugins` + `load_plugins` of its entry),
/// loaded for its setup: instances of its own, never shared with the top
/// level or another tenant.
#[derive(Default)]
pub struct TenantPlugins {
    /// The instances, initialised.
    pub loaded: Vec<LoadedPlugin>,
    /// Where each field of each of its sources comes from.
    pub origins: HashMap<String, Vec<FieldOrigin>>,
    /// One engine per plugin source its rules select.
    pub engines: Vec<SourceEngine>,
    /// Equal keys, same plugins: their configuration, and each one's
    /// name, version and fields (a new component at the same path is new).
    pub key: String,
}

impl TenantSetup {
    /// Its rules enabled, every source's.
    pub fn active_count(&self) -> usize {
        self.engine.active_count()
            + self
                .plugins
                .engines
                .iter()
                .map(SourceEngine::active_count)
                .sum::<usize>()
    }
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
    /// Rules loaded with the embedded defaults when no rules are named:
    /// the default rules the given source plugins carry.
    pub plugin_rules: Vec<RulesFile>,
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
        if paths.is_empty() && !self.plugin_rules.is_empty() {
            // the plugins' first: they cannot change the engine's own rules
            let mut files = self.plugin_rules.clone();
            files.push(embedded_default());
            return crate::rules::load_files(files, registry, plugins);
        }
        load_rules(paths, registry, plugins)
    }

    /// Whether no rules are named (`-r` or `rules_files`): the embedded
    /// defaults run.
    pub fn default_rules(&self, config: &Config) -> bool {
        self.rule_paths(config).is_empty()
    }

    fn rule_paths<'c>(&'c self, config: &'c Config) -> &'c [PathBuf] {
        if self.rules.is_empty() {
            &config.rules_files
        } else {
            &self.rules
        }
    }

    /// Everything again, for a reload: an error rejects the whole of it,
    /// except a tenant's rules, which fail that tenant only.
    pub fn reload(
        &self,
        registry: &FieldRegistry,
        plugins: &[ProvidedPlugin],
    ) -> Result<Setup, SetupError> {
        let config = self.config()?;
        let loaded = self.rules(&config, registry, plugins);
        first_error(&loaded)?;
        let engines = build_engines(&config, &loaded)?;
        let (tenants, failed_tenants) = tenant_builds(&config, registry, plugins)?;
        Ok(Setup {
            config,
            engines,
            tenants,
            failed_tenants,
        })
    }

    /// The files whose change triggers a reload (`watch_config_files`):
    /// the configuration file and every rules file (directories: their
    /// files).
    pub fn watched(&self, config: &Config) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self.config.iter().cloned().collect();
        // what the loader reads: a directory's YAML files
        for r in self.rule_paths(config) {
            v.extend(crate::rules::expand_paths(std::slice::from_ref(r)).unwrap_or_default());
        }
        for t in crate::tenants::tenants(config).unwrap_or_default() {
            v.extend(t.file.clone());
            v.extend(t.config.rules_files.iter().filter(|p| !p.is_dir()).cloned());
        }
        v
    }
}

/// The rules of `paths` (files or directories); none: the embedded
/// defaults.
fn load_rules(
    paths: &[PathBuf],
    registry: &FieldRegistry,
    plugins: &[ProvidedPlugin],
) -> LoadedRules {
    if paths.is_empty() {
        return crate::rules::load_files(vec![embedded_default()], registry, plugins);
    }
    crate::rules::load_paths(paths, registry, plugins)
}

/// The embedded default rules.
fn embedded_default() -> RulesFile {
    RulesFile {
        path: DEFAULT_RULES_NAME.into(),
        content: DEFAULT_RULES.into(),
    }
}

/// The first error of loaded rules (file:line:col).
fn first_error(loaded: &LoadedRules) -> Result<(), SetupError> {
    match loaded.diags.iter().find(|d| d.severity == Severity::Error) {
        Some(d) => Err(SetupError::Rules(Box::new(d.clone()))),
        None => Ok(()),
    }
}

/// Every tenant of `config` with the engine of its rules: its
/// `rules_files` (none: the embedded defaults), its `priority`,
/// `rule_matching`, `rules` and `append_output`, its filter limits. The
/// first error, naming its tenant, fails them all (at start).
pub fn tenant_setups(
    config: &Config,
    registry: &FieldRegistry,
    plugins: &[ProvidedPlugin],
) -> Result<Vec<TenantSetup>, SetupError> {
    let (ok, mut failed) = tenant_builds(config, registry, plugins)?;
    match failed.is_empty() {
        true => Ok(ok),
        false => Err(failed.swap_remove(0)),
    }
}

/// The enabled tenants that build, and the errors of those that do not
/// ([`SetupError::Tenant`]); an error of `tenants:` itself fails all.
pub fn tenant_builds(
    config: &Config,
    registry: &FieldRegistry,
    plugins: &[ProvidedPlugin],
) -> Result<(Vec<TenantSetup>, Vec<SetupError>), ConfigError> {
    let (mut ok, mut failed) = (Vec::new(), Vec::new());
    for spec in crate::tenants::tenants(config)? {
        if !spec.enabled {
            continue;
        }
        match tenant_build(spec.clone(), registry, plugins) {
            Ok(t) => ok.push(t),
            Err(e) => failed.push(SetupError::Tenant {
                name: spec.name.clone(),
                source: Box::new(e),
            }),
        }
    }
    Ok((ok, failed))
}

/// A tenant's own plugins (`plugins` + `load_plugins` of its entry),
/// loaded, with the fields and plugins its rules can name.
struct OwnPlugins {
    loaded: Vec<LoadedPlugin>,
    registry: FieldRegistry,
    origins: HashMap<String, Vec<FieldOrigin>>,
    provided: Vec<ProvidedPlugin>,
}

impl OwnPlugins {
    /// The plugins `tenant`'s configuration loads (`None`: none), named
    /// `TENANT/PLUGIN` in its messages, `/metrics` and failure alerts.
    fn load(tenant: &TenantSpec) -> Result<Option<OwnPlugins>, SetupError> {
        let loaded = crate::plugins::specs_from_config(&tenant.config)?
            .into_iter()
            .map(|mut spec| {
                spec.name = format!("{}/{}", tenant.name, spec.name);
                LoadedPlugin::load(spec)
            })
            .collect::<Result<Vec<_>, _>>()?;
        if loaded.is_empty() {
            return Ok(None);
        }
        crate::plugins::check_conflicts(&loaded)?;
        let (registry, origins) = crate::plugins::registry_of(&loaded);
        Ok(Some(OwnPlugins {
            provided: crate::plugins::provided(&loaded),
            loaded,
            registry,
            origins,
        }))
    }
}

/// The fields and plugins the rules of tenant `name` of `config` can use:
/// those of its own plugins (loaded here), or `registry` and `plugins`
/// (the top level's) when it loads none (`-V` and `test` with
/// `--tenant`).
pub fn tenant_fields(
    config: &Config,
    name: &str,
    registry: &FieldRegistry,
    plugins: &[ProvidedPlugin],
) -> Result<(FieldRegistry, Vec<ProvidedPlugin>), SetupError> {
    let spec = crate::tenants::tenants(config)?
        .into_iter()
        .find(|t| t.name == name)
        .ok_or_else(|| SetupError::NoTenant(name.to_string()))?;
    let own = OwnPlugins::load(&spec).map_err(|e| SetupError::Tenant {
        name: name.to_string(),
        source: Box::new(e),
    })?;
    Ok(match own {
        Some(o) => (o.registry, o.provided),
        None => (registry.clone(), plugins.to_vec()),
    })
}

/// A tenant's setup: its outputs checked, its own plugins loaded (none:
/// its rules see the top level's fields), its rules built into one engine
/// per source with its options and filter limits.
fn tenant_build(
    spec: TenantSpec,
    registry: &FieldRegistry,
    plugins: &[ProvidedPlugin],
) -> Result<TenantSetup, SetupError> {
    let config = &spec.config;
    // its outputs as they will start (a bad channel fails the tenant here)
    crate::outputs::config::OutputsConfig::from_config(config)
        .and_then(|o| o.sinks())
        .map_err(|e| spec.error(e))?;
    let own = OwnPlugins::load(&spec)?;
    let (registry, plugins) = match &own {
        Some(o) => (&o.registry, o.provided.as_slice()),
        None => (registry, plugins),
    };
    let rules = load_rules(&config.rules_files, registry, plugins);
    first_error(&rules)?;
    let mut opts = EngineOptions::from_config(config).map_err(|e| spec.error(e))?;
    opts.limits = spec.limits.filter(opts.limits);
    let (syscall, engines): (Vec<SourceEngine>, Vec<SourceEngine>) =
        build_engines_with(config, &rules, &opts)?
            .into_iter()
            .partition(|e| e.rules().fields.source == crate::fields::SYSCALL_SOURCE);
    let (loaded, origins) = own.map(|o| (o.loaded, o.origins)).unwrap_or_default();
    if let Some(e) = engines
        .iter()
        .find(|e| !origins.contains_key(&e.rules().fields.source))
    {
        return Err(SetupError::TenantSource(e.rules().fields.source.clone()));
    }
    let engine = match syscall.into_iter().next() {
        Some(e) => e,
        None => filter_engine(config, "", None)?,
    };
    let mut key = spec.plugins_key();
    for p in &loaded {
        let fields: Vec<&str> = p.fields.iter().map(|f| f.name.as_str()).collect();
        key.push_str(&format!(
            "{} {} [{}]\n",
            p.info.name,
            p.info.version,
            fields.join(",")
        ));
    }
    Ok(TenantSetup {
        engine,
        plugins: TenantPlugins {
            loaded,
            origins,
            engines,
            key,
        },
        spec,
    })
}

/// One engine per source of the loaded rules, with the configuration's
/// matching mode, minimum priority, selection and `append_output`.
pub fn build_engines(
    config: &Config,
    loaded: &LoadedRules,
) -> Result<Vec<SourceEngine>, SetupError> {
    build_engines_with(config, loaded, &EngineOptions::from_config(config)?)
}

fn build_engines_with(
    config: &Config,
    loaded: &LoadedRules,
    opts: &EngineOptions,
) -> Result<Vec<SourceEngine>, SetupError> {
    loaded
        .sources
        .iter()
        .map(|src| {
            let mut src = src.clone();
            crate::rules::append::apply(&mut src, config)?;
            Ok(SourceEngine::new(src, opts)?)
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
            tenants: Vec::new(),
            failed_tenants: Vec::new(),
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
    first_error(&loaded)?;
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
