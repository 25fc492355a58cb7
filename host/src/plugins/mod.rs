//! Plugins: which ones to load (falco.yaml's `plugins:` / `load_plugins:`,
//! or `run --plugin`), what each is granted and limited to, loading them,
//! and the fields they give rule sources.
//!
//! Plugins run as sandboxed components ([`wasm::WasmPlugin`]); the host
//! drives them through [`guest_sdk::native::DynPlugin`], which native
//! in-process plugins implement too (used to measure the sandbox's cost).

pub mod cache;
pub mod carried;
pub mod drive;
pub mod event;
pub mod grants;
pub mod http;
pub mod installed;
pub mod push;
pub mod sandbox;
pub mod schema;
pub mod text;
pub mod wasm;

use crate::config::Config;
use crate::fields::{ArgKind, FieldDef, FieldFlags, FieldType, SourceFields};
use guest_sdk::native::{CallError, DynPlugin, FieldInfo, PluginInfo};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

/// The largest memory limit a plugin may be given (the pooling allocator
/// reserves address space for it).
pub const MAX_MEMORY_LIMIT: u64 = 4 << 30;

/// The longest time limit a plugin call may be given.
const MAX_CALL_TIMEOUT_MS: u64 = 3_600_000;

/// Bodies a plugin's webhook holds before refusing more (503).
const WEBHOOK_QUEUE: usize = 4096;

/// Where the image and the Debian package put the first-party plugins, and
/// where `artifact install` puts plugins by default.
pub const PLUGINS_DIR: &str = "/usr/share/falco-wasm/plugins";

/// The plugin API version the host implements (Falco's numbering).
pub const HOST_API_VERSION: (u64, u64, u64) = (3, 12, 0);

/// [`HOST_API_VERSION`] as text.
pub fn host_api_version() -> String {
    let (a, b, c) = HOST_API_VERSION;
    format!("{a}.{b}.{c}")
}

/// What the operator grants a plugin. Everything else is denied.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Grants {
    /// Directories the plugin may read (WASI preopens, read-only), seen at
    /// the same paths inside the sandbox.
    pub read_dirs: Vec<PathBuf>,
    /// Files the plugin may read (and nothing else in their directories),
    /// seen at the same paths inside the sandbox.
    pub read_files: Vec<PathBuf>,
    /// A webhook the host serves for the plugin (bodies reach it through
    /// the `receive` import).
    pub webhook: Option<WebhookGrant>,
    /// Hosts (`name` or `name:port`) the plugin may send HTTP(S) requests
    /// to through the `http` import.
    pub http_hosts: Vec<String>,
    /// Environment variables passed from the engine's environment (e.g.
    /// `AWS_ACCESS_KEY_ID`): a plugin sees no environment otherwise.
    pub env: Vec<String>,
}

/// Where the host listens for a plugin's webhook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookGrant {
    /// `host:port`, or `:port` for the loopback address only (write
    /// `0.0.0.0:port` for every address).
    pub listen: String,
    /// The path POSTs go to (`/k8s-audit`).
    pub path: String,
    /// HTTPS: a PEM file holding the certificate and its key.
    pub tls_pem: Option<PathBuf>,
    /// The environment variable holding the token POSTs must carry
    /// (`Authorization: Bearer TOKEN`); none: no token asked.
    pub token_env: Option<String>,
}

impl WebhookGrant {
    /// From an `http://host:port/path` or `https://...` open param (the
    /// k8saudit plugin's form; HTTPS takes `/etc/falco/falco.pem`, as the
    /// web server does).
    pub fn from_url(url: &str) -> Option<WebhookGrant> {
        let (tls, rest) = if let Some(r) = url.strip_prefix("http://") {
            (false, r)
        } else {
            (true, url.strip_prefix("https://")?)
        };
        let (listen, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let listen = if listen.contains(':') {
            listen.to_string()
        } else {
            format!("{listen}:{}", if tls { 443 } else { 80 })
        };
        Some(WebhookGrant {
            listen,
            path: path.to_string(),
            tls_pem: tls.then(|| PathBuf::from("/etc/falco/falco.pem")),
            token_env: None,
        })
    }
}

/// Per-instance limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Linear memory, bytes.
    pub memory_bytes: u64,
    /// Wall-clock time per call.
    pub call_timeout: Duration,
    /// Events asked for per `next-batch`.
    pub max_batch: u32,
    /// Bytes per event payload.
    pub max_event_bytes: u64,
    /// Bytes per extracted value.
    pub max_field_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            memory_bytes: 256 << 20,
            call_timeout: Duration::from_secs(10),
            max_batch: 512,
            max_event_bytes: 8 << 20,
            max_field_bytes: 1 << 20,
        }
    }
}

/// What happens after a fault disables an instance: up to `max` new
/// instances, the n-th after `backoff × 2^(n-1)` (at most a minute).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RestartPolicy {
    /// Restarts allowed over the run (0: a faulted plugin stays disabled).
    pub max: u32,
    /// Delay before the first restart.
    pub backoff: Duration,
}

impl RestartPolicy {
    /// The delay before restart number `n` (1-based).
    pub fn delay(&self, n: u32) -> Duration {
        let factor = 1u32 << n.saturating_sub(1).min(16);
        (self.backoff * factor).min(Duration::from_secs(60))
    }
}

/// One plugin to load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginSpec {
    /// The name it is configured under.
    pub name: String,
    /// The component (`.wasm`).
    pub library_path: PathBuf,
    /// Init config, JSON text ("" for none).
    pub init_config: String,
    /// Open params for source plugins.
    pub open_params: String,
    pub grants: Grants,
    pub limits: Limits,
    /// Whether the operator set `limits` (else an installed artifact's
    /// declared limits apply).
    pub limits_set: bool,
    pub restart: RestartPolicy,
}

/// Why plugins could not be configured or loaded.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// A `load_plugins` or `plugins` key is wrong.
    #[error("{key}: {message}")]
    Config {
        /// The key path (`plugins[1].grants.read_dirs`, …).
        key: String,
        /// What is wrong.
        message: String,
    },
    /// The plugin could not be loaded (component, contract, init schema).
    #[error("plugin {plugin}: {message}")]
    Load {
        /// The plugin's name.
        plugin: String,
        /// What is wrong.
        message: String,
    },
    /// A call to the plugin failed while loading it.
    #[error("plugin {plugin}: {source}")]
    Call {
        /// The plugin's name.
        plugin: String,
        /// The call's error.
        #[source]
        source: CallError,
    },
    /// The plugin refused its `init_config`.
    #[error("plugin {plugin}: init failed: {source}")]
    Init {
        /// The plugin's name.
        plugin: String,
        /// The plugin's error.
        #[source]
        source: CallError,
    },
    /// A restarted source plugin could not open its stream again.
    #[error("plugin {plugin}: cannot open '{params}': {source}")]
    Open {
        /// The plugin's name.
        plugin: String,
        /// Its open params.
        params: String,
        /// The plugin's error.
        #[source]
        source: CallError,
    },
    /// Two plugins would blind or fool each other.
    #[error("plugins {first} and {second} {what}; load one of them")]
    Conflict {
        /// The plugin loaded first.
        first: String,
        /// The other one.
        second: String,
        /// What they both claim.
        what: String,
    },
}

impl PluginError {
    pub(crate) fn config(key: impl Into<String>, message: impl Into<String>) -> PluginError {
        PluginError::Config {
            key: key.into(),
            message: message.into(),
        }
    }

    pub(crate) fn load(plugin: &str, message: impl Into<String>) -> PluginError {
        PluginError::Load {
            plugin: plugin.to_string(),
            message: message.into(),
        }
    }
}

/// The plugins of `falco.yaml`: the `plugins:` entries named by
/// `load_plugins:` (the built-in `container` plugin is skipped).
pub fn specs_from_config(config: &Config) -> Result<Vec<PluginSpec>, PluginError> {
    let Some(load) = config.get("load_plugins") else {
        return Ok(Vec::new());
    };
    let names: Vec<String> = match load {
        Value::Null => Vec::new(),
        Value::Array(a) => a
            .iter()
            .map(|v| {
                v.as_str().map(str::to_string).ok_or_else(|| {
                    PluginError::config("load_plugins", "expected a list of plugin names")
                })
            })
            .collect::<Result<_, _>>()?,
        _ => {
            return Err(PluginError::config(
                "load_plugins",
                "expected a list of plugin names",
            ));
        }
    };
    let entries = match config.get("plugins") {
        Some(Value::Array(a)) => a.clone(),
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return Err(PluginError::config("plugins", "expected a list")),
    };
    let mut specs = Vec::new();
    for name in names {
        if name == "container" {
            continue; // built in
        }
        let (i, e) = entries
            .iter()
            .enumerate()
            .find(|(_, e)| e.get("name").and_then(Value::as_str) == Some(name.as_str()))
            .ok_or_else(|| {
                PluginError::config(
                    "load_plugins",
                    format!("plugin '{name}' has no entry in plugins:"),
                )
            })?;
        specs.push(spec_from_entry(&format!("plugins[{i}]"), e)?);
    }
    Ok(specs)
}

/// One `plugins:` entry (`at` names it in errors).
fn spec_from_entry(at: &str, e: &Value) -> Result<PluginSpec, PluginError> {
    let err = |k: &str, m: &str| entry_err(at, k, m);
    let name = e
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| err("name", "expected a string"))?
        .to_string();
    let library_path = e
        .get("library_path")
        .and_then(Value::as_str)
        .ok_or_else(|| err("library_path", "expected the path of the plugin's .wasm"))?;
    let init_config = match e.get("init_config") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(v @ Value::Object(_)) => v.to_string(),
        Some(_) => return Err(err("init_config", "expected a string or a map")),
    };
    let open_params = match e.get("open_params") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(err("open_params", "expected a string")),
    };
    let grants = match e.get("grants") {
        Some(g) => grants_from(at, g)?,
        None => Grants::default(),
    };
    let restart = match e.get("restart") {
        Some(r) => restart_from(at, r)?,
        None => RestartPolicy::default(),
    };
    let limits = match e.get("limits") {
        Some(l) => limits_from(at, l)?,
        None => Limits::default(),
    };
    Ok(PluginSpec {
        name,
        library_path: PathBuf::from(library_path),
        init_config,
        open_params,
        grants,
        limits,
        limits_set: e.get("limits").is_some(),
        restart,
    })
}

/// An error about key `k` of the entry at `at`.
fn entry_err(at: &str, k: &str, m: &str) -> PluginError {
    PluginError::config(format!("{at}.{k}"), m)
}

/// An entry's `grants` map.
pub(crate) fn grants_from(at: &str, g: &Value) -> Result<Grants, PluginError> {
    let err = |k: &str, m: &str| entry_err(at, k, m);
    let mut grants = Grants::default();
    let mut token_env = None;
    for (k, v) in g
        .as_object()
        .ok_or_else(|| err("grants", "expected a map"))?
    {
        match k.as_str() {
            "read_dirs" | "read_files" => {
                let at = format!("grants.{k}");
                let paths: Vec<PathBuf> = v
                    .as_array()
                    .and_then(|a| a.iter().map(|x| x.as_str().map(PathBuf::from)).collect())
                    .ok_or_else(|| err(&at, "expected a list of paths"))?;
                // `..` would let a path look inside a granted directory
                // while naming one above it
                if let Some(p) = paths
                    .iter()
                    .find(|p| p.components().any(|c| c == std::path::Component::ParentDir))
                {
                    return Err(err(
                        &at,
                        &format!("'{}': '..' is not allowed in a grant", p.display()),
                    ));
                }
                if k == "read_dirs" {
                    grants.read_dirs = paths;
                } else {
                    grants.read_files = paths;
                }
            }
            "http_hosts" | "env" => {
                let list = v
                    .as_array()
                    .and_then(|a| a.iter().map(|x| x.as_str().map(str::to_string)).collect())
                    .ok_or_else(|| err(&format!("grants.{k}"), "expected a list of strings"))?;
                if k == "env" {
                    grants.env = list;
                } else {
                    grants.http_hosts = list;
                }
            }
            "webhook" => {
                let bad = || {
                    err(
                        "grants.webhook",
                        "expected a URL like http://:9765/k8s-audit",
                    )
                };
                let url = v.as_str().ok_or_else(bad)?;
                grants.webhook = Some(WebhookGrant::from_url(url).ok_or_else(bad)?);
            }
            "webhook_token_env" => {
                let var = v
                    .as_str()
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| err("grants.webhook_token_env", "expected a variable name"))?;
                token_env = Some(var.to_string());
            }
            other => return Err(err(&format!("grants.{other}"), "unknown grant")),
        }
    }
    if let Some(var) = token_env {
        grants
            .webhook
            .as_mut()
            .ok_or_else(|| err("grants.webhook_token_env", "needs grants.webhook"))?
            .token_env = Some(var);
    }
    Ok(grants)
}

/// An entry's `restart` map.
fn restart_from(at: &str, r: &Value) -> Result<RestartPolicy, PluginError> {
    let err = |k: &str, m: &str| entry_err(at, k, m);
    let mut restart = RestartPolicy::default();
    for (k, v) in r
        .as_object()
        .ok_or_else(|| err("restart", "expected a map"))?
    {
        let n = v
            .as_u64()
            .ok_or_else(|| err(&format!("restart.{k}"), "expected a non-negative integer"))?;
        match k.as_str() {
            "max_restarts" => restart.max = n.min(u32::MAX as u64) as u32,
            "backoff_ms" => restart.backoff = Duration::from_millis(n),
            other => return Err(err(&format!("restart.{other}"), "unknown key")),
        }
    }
    Ok(restart)
}

/// An entry's `limits` map.
pub(crate) fn limits_from(at: &str, l: &Value) -> Result<Limits, PluginError> {
    let err = |k: &str, m: &str| entry_err(at, k, m);
    let mut limits = Limits::default();
    for (k, v) in l
        .as_object()
        .ok_or_else(|| err("limits", "expected a map"))?
    {
        let n = v
            .as_u64()
            .filter(|n| *n > 0)
            .ok_or_else(|| err(&format!("limits.{k}"), "expected a positive integer"))?;
        match k.as_str() {
            "memory_mb" if n << 20 <= MAX_MEMORY_LIMIT => limits.memory_bytes = n << 20,
            "memory_mb" => {
                return Err(err(
                    "limits.memory_mb",
                    &format!("at most {}", MAX_MEMORY_LIMIT >> 20),
                ));
            }
            "call_timeout_ms" if n <= MAX_CALL_TIMEOUT_MS => {
                limits.call_timeout = Duration::from_millis(n)
            }
            "call_timeout_ms" => {
                return Err(err(
                    "limits.call_timeout_ms",
                    &format!("at most {MAX_CALL_TIMEOUT_MS} (an hour)"),
                ));
            }
            "max_batch_events" => limits.max_batch = n.min(u32::MAX as u64) as u32,
            "max_event_bytes" => limits.max_event_bytes = n,
            "max_field_bytes" => limits.max_field_bytes = n,
            other => return Err(err(&format!("limits.{other}"), "unknown limit")),
        }
    }
    Ok(limits)
}

/// The spec for `run --plugin PATH [--plugin-config JSON]
/// [--plugin-open-params P]`: named after the file; a local open-params
/// path (the file's directory, or the directory) is granted read-only.
pub fn spec_from_cli(
    path: &std::path::Path,
    config: Option<&str>,
    open_params: Option<&str>,
) -> PluginSpec {
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("plugin");
    // `libcloudtrail.wasm`, `cloudtrail_plugin.wasm` → `cloudtrail`.
    let name = name
        .strip_prefix("lib")
        .unwrap_or(name)
        .trim_end_matches("_plugin")
        .to_string();
    let mut open_params = open_params.unwrap_or("").to_string();
    let mut grants = Grants {
        webhook: WebhookGrant::from_url(&open_params),
        ..Grants::default()
    };
    // Grant what the operator named, resolved (symlinks, `..`,
    // `/proc/*/root`): the directory, or the file alone; never the whole
    // file system by accident. The plugin is given the resolved path.
    match grants::implicit(&open_params) {
        Some(grants::Implicit::Dir(d)) => {
            open_params = d.to_string_lossy().into_owned();
            grants.read_dirs.push(d);
        }
        Some(grants::Implicit::File(f)) => {
            open_params = f.to_string_lossy().into_owned();
            grants.read_files.push(f);
        }
        Some(grants::Implicit::Root(r)) => crate::log::warning(&format!(
            "plugin {name}: '{open_params}' is {}: not granted implicitly; list it in \
             plugins[].grants.read_dirs to grant it",
            r.display()
        )),
        None => {}
    }
    PluginSpec {
        name,
        library_path: path.to_path_buf(),
        init_config: config.unwrap_or("").to_string(),
        open_params,
        grants,
        limits: Limits::default(),
        limits_set: false,
        restart: RestartPolicy::default(),
    }
}

/// A loaded, initialised plugin.
pub struct LoadedPlugin {
    pub spec: PluginSpec,
    pub info: PluginInfo,
    /// `(id, event source)` for source plugins.
    pub source: Option<(u32, String)>,
    pub fields: Vec<FieldInfo>,
    /// Sources its fields apply to (empty: its own, or every plugin source).
    pub extract_sources: Vec<String>,
    pub runner: Box<dyn DynPlugin>,
    /// Bodies for its webhook, when one is granted.
    pub webhook: Option<std::sync::Arc<push::PushQueue>>,
    /// Whether it reached its quota of metric names (said once).
    pub metric_names_capped: bool,
}

impl LoadedPlugin {
    /// Loads the component and initialises it: checks its API version,
    /// validates the init config against its schema, calls init and reads
    /// its fields.
    pub fn load(mut spec: PluginSpec) -> Result<LoadedPlugin, PluginError> {
        installed::apply(&mut spec)?;
        let webhook = spec.grants.webhook.as_ref().map(|_| {
            std::sync::Arc::new(push::PushQueue::new(
                WEBHOOK_QUEUE,
                spec.limits.max_event_bytes as usize,
                (spec.limits.memory_bytes / 2) as usize,
            ))
        });
        let runner = wasm::WasmPlugin::load(
            &spec.name,
            &spec.library_path,
            &spec.grants,
            &spec.limits,
            webhook.clone(),
        )?;
        let mut p = LoadedPlugin::init(spec, Box::new(runner))?;
        p.webhook = webhook;
        Ok(p)
    }

    /// Replaces a faulted instance by a new one (same component, grants,
    /// limits, webhook queue), initialised and, for a source, opened again.
    pub fn restart(&mut self) -> Result<(), PluginError> {
        let name = &self.spec.name;
        let runner = wasm::WasmPlugin::load(
            name,
            &self.spec.library_path,
            &self.spec.grants,
            &self.spec.limits,
            self.webhook.clone(),
        )?;
        let mut runner: Box<dyn DynPlugin> = Box::new(runner);
        runner
            .init(&self.spec.init_config)
            .map_err(|source| PluginError::Init {
                plugin: name.clone(),
                source,
            })?;
        if self.source.is_some() {
            runner
                .open(&self.spec.open_params)
                .map_err(|source| PluginError::Open {
                    plugin: name.clone(),
                    params: self.spec.open_params.clone(),
                    source,
                })?;
        }
        self.runner = runner;
        Ok(())
    }

    /// Initialises an already instantiated plugin (Wasm or native).
    pub fn init(
        spec: PluginSpec,
        mut runner: Box<dyn DynPlugin>,
    ) -> Result<LoadedPlugin, PluginError> {
        let name = spec.name.clone();
        let err = |source: CallError| PluginError::Call {
            plugin: name.clone(),
            source,
        };
        let info = runner.info().map_err(err)?;
        check_api_version(&info.required_api_version).map_err(|m| PluginError::load(&name, m))?;
        if let Some(schema) = &info.init_schema {
            let cfg = if spec.init_config.trim().is_empty() {
                Value::Object(Default::default())
            } else {
                serde_json::from_str(&spec.init_config).map_err(|e| {
                    PluginError::load(&name, format!("init_config is not valid JSON: {e}"))
                })?
            };
            let schema: Value = serde_json::from_str(schema).map_err(|e| {
                PluginError::load(&name, format!("its init schema is not valid JSON: {e}"))
            })?;
            schema::validate(&schema, &cfg, "init_config")
                .map_err(|m| PluginError::load(&name, text::message(&m)))?;
        }
        runner
            .init(&spec.init_config)
            .map_err(|source| PluginError::Init {
                plugin: name.clone(),
                source,
            })?;
        let source = runner.source_info().map_err(err)?;
        let fields = runner.fields().map_err(err)?;
        let extract_sources = runner.extract_sources().map_err(err)?;
        Ok(LoadedPlugin {
            spec,
            info,
            source,
            fields,
            extract_sources,
            runner,
            webhook: None,
            metric_names_capped: false,
        })
    }

    /// Whether this plugin's fields apply to events of `source`.
    pub fn extracts_from(&self, source: &str) -> bool {
        if self.fields.is_empty() {
            return false;
        }
        match (&self.source, self.extract_sources.is_empty()) {
            (_, false) => self.extract_sources.iter().any(|s| s == source),
            (Some((_, own)), true) => own == source,
            (None, true) => source != crate::fields::SYSCALL_SOURCE,
        }
    }
}

/// What rules' `required_plugin_versions` can name: the built-in plugins
/// and `loaded`.
pub fn provided(loaded: &[LoadedPlugin]) -> Vec<crate::rules::compile::ProvidedPlugin> {
    crate::rules::compile::builtin_plugins()
        .into_iter()
        .chain(
            loaded
                .iter()
                .map(|p| crate::rules::compile::ProvidedPlugin {
                    name: p.info.name.clone(),
                    version: p.info.version.clone(),
                    builtin: false,
                }),
        )
        .collect()
}

/// Refuses a set of plugins in which one could blind or fool another: two
/// plugins for one event source (the rules of that source would read the
/// wrong one's events), a plugin claiming the engine's `syscall` source, or
/// two plugins defining one field for the same source (the rules would read
/// the wrong one's values). The error names both plugins.
pub fn check_conflicts(plugins: &[LoadedPlugin]) -> Result<(), PluginError> {
    let mut sources: Vec<(&str, &str)> = Vec::new();
    for p in plugins {
        let Some((_, src)) = &p.source else { continue };
        if src == crate::fields::SYSCALL_SOURCE {
            return Err(PluginError::load(
                &p.spec.name,
                format!("its event source '{src}' is the engine's own"),
            ));
        }
        if let Some((_, other)) = sources.iter().find(|(s, _)| s == src) {
            return Err(PluginError::Conflict {
                first: other.to_string(),
                second: p.spec.name.clone(),
                what: format!("both provide the event source '{src}'"),
            });
        }
        sources.push((src, &p.spec.name));
    }
    let mut named: Vec<&str> = sources.iter().map(|(s, _)| *s).collect();
    named.extend(
        plugins
            .iter()
            .flat_map(|p| p.extract_sources.iter().map(String::as_str)),
    );
    named.sort_unstable();
    named.dedup();
    for src in named {
        let mut defined: std::collections::HashMap<&str, &str> = Default::default();
        for p in plugins.iter().filter(|p| p.extracts_from(src)) {
            for f in &p.fields {
                if let Some(other) = defined.insert(&f.name, &p.spec.name) {
                    return Err(PluginError::Conflict {
                        first: other.to_string(),
                        second: p.spec.name.clone(),
                        what: format!("both define the field '{}' for the source '{src}'", f.name),
                    });
                }
            }
        }
    }
    Ok(())
}

fn check_api_version(required: &str) -> Result<(), String> {
    let parts: Vec<u64> = required
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()
        .filter(|v: &Vec<u64>| v.len() == 3)
        .ok_or_else(|| format!("invalid required API version '{required}'"))?;
    let (maj, min, pat) = HOST_API_VERSION;
    if parts[0] != maj || (parts[1], parts[2]) > (min, pat) {
        return Err(format!(
            "requires plugin API {required}, this host implements {maj}.{min}.{pat}"
        ));
    }
    Ok(())
}

/// Fields every plugin source has, provided by the host.
pub const PLUGIN_EVENT_FIELDS: &[FieldDef] = &[
    FieldDef {
        name: "evt.num",
        ty: FieldType::Uint64,
        arg: ArgKind::None,
        flags: FieldFlags::NONE,
        desc: "Event number.",
    },
    FieldDef {
        name: "evt.time",
        ty: FieldType::AbsTime,
        arg: ArgKind::None,
        flags: FieldFlags::NONE,
        desc: "Event timestamp.",
    },
    FieldDef {
        name: "evt.time.s",
        ty: FieldType::CharBuf,
        arg: ArgKind::None,
        flags: FieldFlags::NONE,
        desc: "Event timestamp, seconds as text.",
    },
    FieldDef {
        name: "evt.time.iso8601",
        ty: FieldType::CharBuf,
        arg: ArgKind::None,
        flags: FieldFlags::NONE,
        desc: "Event timestamp in ISO 8601 (UTC).",
    },
    FieldDef {
        name: "evt.datetime",
        ty: FieldType::CharBuf,
        arg: ArgKind::None,
        flags: FieldFlags::NONE,
        desc: "Event timestamp as a date and time (UTC).",
    },
    FieldDef {
        name: "evt.rawtime",
        ty: FieldType::AbsTime,
        arg: ArgKind::None,
        flags: FieldFlags::NONE,
        desc: "Event timestamp, nanoseconds since the epoch.",
    },
    FieldDef {
        name: "evt.source",
        ty: FieldType::CharBuf,
        arg: ArgKind::None,
        flags: FieldFlags::NONE,
        desc: "The event's source.",
    },
    FieldDef {
        name: "evt.pluginname",
        ty: FieldType::CharBuf,
        arg: ArgKind::None,
        flags: FieldFlags::NONE,
        desc: "The name of the plugin that produced the event.",
    },
    FieldDef {
        name: "evt.plugininfo",
        ty: FieldType::CharBuf,
        arg: ArgKind::None,
        flags: FieldFlags::NONE,
        desc: "A one-line summary of the event, from its plugin.",
    },
];

/// Where a plugin source's field comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldOrigin {
    /// One of [`PLUGIN_EVENT_FIELDS`].
    Host(usize),
    /// Field `field` of plugin `plugin` (index into the loaded plugins).
    Plugin { plugin: usize, field: u32 },
}

/// The field table of one plugin source: the host's event fields, then
/// every applicable plugin's fields (first definition of a name wins).
pub fn source_fields(source: &str, plugins: &[LoadedPlugin]) -> (SourceFields, Vec<FieldOrigin>) {
    let mut defs: Vec<FieldDef> = PLUGIN_EVENT_FIELDS.to_vec();
    let mut origin: Vec<FieldOrigin> = (0..defs.len()).map(FieldOrigin::Host).collect();
    let provider = plugins
        .iter()
        .find(|p| p.source.as_ref().is_some_and(|(_, s)| s == source))
        .map_or_else(String::new, |p| p.info.name.clone());
    for (pi, p) in plugins.iter().enumerate() {
        if !p.extracts_from(source) {
            continue;
        }
        for (fi, f) in p.fields.iter().enumerate() {
            if defs.iter().any(|d| d.name == f.name) {
                continue;
            }
            defs.push(field_def(f));
            origin.push(FieldOrigin::Plugin {
                plugin: pi,
                field: fi as u32,
            });
        }
    }
    (SourceFields::new(source, &provider, &defs, &[]), origin)
}

/// The field registry of a set of plugins (the built-in fields, and each
/// source plugin's source with the fields that apply to it) and, per
/// source, where each of its fields comes from.
pub fn registry_of(
    plugins: &[LoadedPlugin],
) -> (
    crate::fields::FieldRegistry,
    std::collections::HashMap<String, Vec<FieldOrigin>>,
) {
    let mut registry = crate::fields::FieldRegistry::builtin();
    let mut origins = std::collections::HashMap::new();
    for p in plugins {
        if let Some((_, source)) = &p.source {
            let (fields, origin) = source_fields(source, plugins);
            registry.register(fields);
            origins.insert(source.clone(), origin);
        }
    }
    (registry, origins)
}

/// A plugin field as a registry definition. Names and descriptions are
/// leaked: plugins are loaded once per run (and per reload), and the
/// registry's definitions are `'static`.
fn field_def(f: &FieldInfo) -> FieldDef {
    let leak = |s: &str| -> &'static str { Box::leak(s.to_string().into_boxed_str()) };
    FieldDef {
        name: leak(&f.name),
        ty: match f.ty {
            guest_sdk::FieldType::String => FieldType::CharBuf,
            guest_sdk::FieldType::Uint64 => FieldType::Uint64,
            guest_sdk::FieldType::Bool => FieldType::Bool,
            guest_sdk::FieldType::RelTime => FieldType::RelTime,
            guest_sdk::FieldType::AbsTime => FieldType::AbsTime,
            guest_sdk::FieldType::IpAddr => FieldType::IpAddr,
            guest_sdk::FieldType::IpNet => FieldType::IpNet,
        },
        arg: match f.arg {
            guest_sdk::Arg::None => ArgKind::None,
            guest_sdk::Arg::Index { required } => ArgKind::Index { required },
            guest_sdk::Arg::Key { required } => ArgKind::Key { required },
        },
        flags: FieldFlags {
            list: f.list,
            hidden: f.hidden,
            ..FieldFlags::NONE
        },
        desc: leak(&f.desc),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_version_rules() {
        assert!(check_api_version("3.0.0").is_ok());
        assert!(check_api_version("3.12.0").is_ok());
        assert!(check_api_version("3.13.0").is_err());
        assert!(check_api_version("2.0.0").is_err());
        assert!(check_api_version("x").is_err());
    }

    #[test]
    fn config_entries() {
        let c = Config::load(None, &[]).unwrap();
        assert!(specs_from_config(&c).unwrap().is_empty());
        let e = serde_json::json!({
            "name": "cloudtrail", "library_path": "/p/ct.wasm",
            "init_config": {"sqsDelete": false}, "open_params": "/logs",
            "grants": {"read_dirs": ["/logs"]},
            "limits": {"memory_mb": 64, "call_timeout_ms": 500}
        });
        let s = spec_from_entry("plugins[0]", &e).unwrap();
        assert_eq!(s.init_config, "{\"sqsDelete\":false}");
        assert_eq!(s.limits.memory_bytes, 64 << 20);
        assert_eq!(s.limits.call_timeout, Duration::from_millis(500));
        assert_eq!(s.grants.read_dirs, vec![PathBuf::from("/logs")]);
        let bad = serde_json::json!({"name": "x", "library_path": "/x.wasm", "grants": {"network": true}});
        assert_eq!(
            spec_from_entry("plugins[1]", &bad).unwrap_err().to_string(),
            "plugins[1].grants.network: unknown grant"
        );
        let up = serde_json::json!({"name": "x", "library_path": "/x.wasm", "grants": {"read_dirs": ["/logs/../.."]}});
        assert_eq!(
            spec_from_entry("plugins[1]", &up).unwrap_err().to_string(),
            "plugins[1].grants.read_dirs: '/logs/../..': '..' is not allowed in a grant"
        );
    }
}
