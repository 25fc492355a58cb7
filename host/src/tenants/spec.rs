//! `tenants:` in `falco.yaml`: each entry's name, scope, limits, token and
//! the configuration of what it owns (rules, outputs), checked at load.
//!
//! A tenant's [`Config`] is the top level's with every key a tenant owns
//! replaced by the tenant's own (or removed): so the engine options, the
//! rules loading and the output channels read it exactly as they read the
//! top level's, and a key the tenant does not set never falls through to
//! another tenant's value. Output channels are the tenant's only: stdout
//! and syslog are off unless the tenant turns them on.

use super::limits::Limits;
use super::scope::Scope;
use crate::config::{Config, ConfigError};
use crate::outputs::config::OUTPUT_KEYS;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// The keys of the top level a tenant owns besides the outputs'
/// ([`OUTPUT_KEYS`]): its value, or none.
const RULES_KEYS: &[&str] = &[
    "rules_files",
    "rules",
    "priority",
    "rule_matching",
    "append_output",
    "plugins",
    "load_plugins",
];

/// The keys of its plugins: a reload restarts a tenant's plugin sources
/// only when one of them changed.
const PLUGIN_KEYS: &[&str] = &["plugins", "load_plugins"];

/// Whether a top-level key is a tenant's own (its value, or none).
fn owned(key: &str) -> bool {
    RULES_KEYS.contains(&key) || OUTPUT_KEYS.contains(&key)
}

/// Keys of a tenant entry that are the tenant's own.
const TENANT_KEYS: &[&str] = &["name", "enabled", "scope", "limits", "token_sha256"];

/// The name the top level's rules and outputs run under.
pub use crate::server::metrics::DEFAULT_TENANT;

/// One entry of `tenants:`.
#[derive(Clone, Debug)]
pub struct TenantSpec {
    /// `name`: letters, digits, `-` and `_`.
    pub name: String,
    /// Which syscall events reach its rules.
    pub scope: Scope,
    /// Its budgets.
    pub limits: Limits,
    /// `token_sha256`: the SHA-256 (hex) of its API bearer token.
    pub token_sha256: Option<String>,
    /// `enabled` (default true): a disabled tenant's entry is checked; its
    /// rules are neither loaded nor run.
    pub enabled: bool,
    /// The configuration its rules and outputs are read from.
    pub config: Config,
    /// Where it is defined, as key paths start (`tenants[1].`, or
    /// `DIR/NAME.yaml: ` for a file of `tenants_dir`).
    pub place: String,
    /// Its file in `tenants_dir` (the API may change it); `None` for an
    /// entry of `tenants:`.
    pub file: Option<PathBuf>,
}

impl TenantSpec {
    /// Its plugins' configuration, as a key: equal keys, same plugins.
    pub fn plugins_key(&self) -> String {
        PLUGIN_KEYS
            .iter()
            .map(|k| format!("{k}={}\n", self.config.get(k).unwrap_or(&Value::Null)))
            .collect()
    }

    /// Where a key of this tenant is in the configuration
    /// (`tenants[1].file_output.filename`).
    pub fn key(&self, key: &str) -> String {
        format!("{}{key}", self.place)
    }

    /// A problem with this tenant's configuration, named by its place in
    /// `tenants:` (a key path gets the tenant's prefix).
    pub fn error(&self, e: ConfigError) -> ConfigError {
        match e {
            ConfigError::Key { key, message } => ConfigError::key(
                self.key(&key),
                format!("{message} (tenant '{}')", self.name),
            ),
            other => other,
        }
    }
}

/// The tenants of a configuration, checked: names unique and well formed,
/// no unknown keys, scopes and limits valid. Those of `tenants:` first,
/// then those of `tenants_dir` (one `NAME.yaml` each), by name.
pub fn tenants(config: &Config) -> Result<Vec<TenantSpec>, ConfigError> {
    let items = match config.get("tenants") {
        None | Some(Value::Null) => &Vec::new(),
        Some(Value::Array(items)) => items,
        Some(v) => {
            return Err(ConfigError::key(
                "tenants",
                format!("expected a list of tenants, got {v}"),
            ));
        }
    };
    let mut out: Vec<TenantSpec> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        add(
            &mut out,
            tenant(config, format!("tenants[{i}]."), item, None)?,
        )?;
    }
    if let Some(dir) = tenants_dir(config)? {
        for (path, entry) in dir_entries(&dir)? {
            let place = format!("{}: ", path.display());
            add(&mut out, tenant(config, place, &entry, Some(path))?)?;
        }
    }
    Ok(out)
}

/// Adds a tenant whose name is not taken.
fn add(out: &mut Vec<TenantSpec>, spec: TenantSpec) -> Result<(), ConfigError> {
    if spec.name == DEFAULT_TENANT || out.iter().any(|t| t.name == spec.name) {
        return Err(ConfigError::key(
            spec.key("name"),
            format!(
                "tenant '{}' is defined twice ('{DEFAULT_TENANT}' is the top level's)",
                spec.name
            ),
        ));
    }
    out.push(spec);
    Ok(())
}

/// `tenants_dir`: where the API keeps the tenants it manages.
pub fn tenants_dir(config: &Config) -> Result<Option<PathBuf>, ConfigError> {
    Ok(config.str_at("tenants_dir")?.map(PathBuf::from))
}

/// The rules file of a tenant of `tenants_dir`.
pub fn rules_file(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.rules.yaml"))
}

/// The entry file of a tenant of `tenants_dir`.
pub fn entry_file(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.yaml"))
}

/// The entries of `tenants_dir` (a missing directory has none): each
/// `NAME.yaml` with its name, and its rules when `NAME.rules.yaml` is
/// there and the entry names no `rules_files`.
fn dir_entries(dir: &Path) -> Result<Vec<(PathBuf, Value)>, ConfigError> {
    let read = |path: &Path, source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    };
    let listing = match std::fs::read_dir(dir) {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(read(dir, e)),
    };
    let mut names: Vec<String> = listing
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter_map(|f| f.strip_suffix(".yaml").map(str::to_string))
        .filter(|n| !n.ends_with(".rules") && !n.starts_with('.'))
        .collect();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let path = entry_file(dir, &name);
        let text = std::fs::read_to_string(&path).map_err(|e| read(&path, e))?;
        let mut entry = crate::config::parse_config(&path.display().to_string(), &text)?;
        if let Value::Object(m) = &mut entry {
            m.insert("name".into(), name.clone().into());
            let rules = rules_file(dir, &name);
            if !m.contains_key("rules_files") && rules.is_file() {
                m.insert(
                    "rules_files".into(),
                    vec![rules.display().to_string()].into(),
                );
            }
        }
        out.push((path, entry));
    }
    Ok(out)
}

fn tenant(
    top: &Config,
    place: String,
    item: &Value,
    file: Option<PathBuf>,
) -> Result<TenantSpec, ConfigError> {
    let at = |k: &str| format!("{place}{k}");
    let Value::Object(map) = item else {
        return Err(ConfigError::key(
            place.trim_end_matches(['.', ':', ' ']),
            format!(
                "expected a mapping with name, scope, limits and the tenant's own keys, got {item}"
            ),
        ));
    };
    for k in map.keys() {
        if !owned(k) && !TENANT_KEYS.contains(&k.as_str()) {
            return Err(ConfigError::key(
                at(k),
                format!(
                    "unknown tenant key (a tenant takes {}, {} and {})",
                    TENANT_KEYS.join(", "),
                    RULES_KEYS.join(", "),
                    OUTPUT_KEYS.join(", ")
                ),
            ));
        }
    }
    let name = match map.get("name") {
        Some(Value::String(s)) if crate::server::api::valid_tenant_name(s) => s.clone(),
        Some(v) => {
            return Err(ConfigError::key(
                at("name"),
                format!("expected a name of letters, digits, '-' and '_' (at most 63), got {v}"),
            ));
        }
        None => return Err(ConfigError::key(at("name"), "every tenant needs a name")),
    };
    let token_sha256 = match map.get("token_sha256") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if crate::server::http::is_sha256_hex(s) => {
            Some(s.to_ascii_lowercase())
        }
        Some(v) => {
            return Err(ConfigError::key(
                at("token_sha256"),
                format!("expected 64 hex digits (sha256sum of the token), got {v}"),
            ));
        }
    };
    let enabled = match map.get("enabled") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(v) => {
            return Err(ConfigError::key(
                at("enabled"),
                format!("expected true or false, got {v}"),
            ));
        }
    };
    Ok(TenantSpec {
        enabled,
        scope: Scope::parse(map.get("scope"), &at("scope"))?,
        limits: Limits::parse(map.get("limits"), &at("limits"))?,
        config: own_config(top, map)?,
        name,
        token_sha256,
        place,
        file,
    })
}

/// The top level's configuration with the tenant's own keys in place of
/// the owned ones, without `tenants:`.
fn own_config(top: &Config, entry: &Map<String, Value>) -> Result<Config, ConfigError> {
    let mut raw = top.raw.clone();
    if let Some(m) = raw.as_object_mut() {
        m.retain(|k, _| k != "tenants" && !owned(k));
        for k in ["stdout_output", "syslog_output"] {
            m.insert(k.into(), serde_json::json!({ "enabled": false }));
        }
        for (k, v) in entry {
            if owned(k) {
                m.insert(k.clone(), v.clone());
            }
        }
        // its alerts on its own subject unless it names one
        if let (Some(Value::Object(nats)), Some(Value::String(name))) =
            (m.get_mut("nats_output"), entry.get("name"))
        {
            nats.entry("subject")
                .or_insert_with(|| format!("falco.alerts.{name}").into());
        }
    }
    Config::from_value(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(yaml: &str) -> Result<Vec<TenantSpec>, ConfigError> {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let f = std::env::temp_dir().join(format!("fw-tenants-{}-{n}.yaml", std::process::id()));
        std::fs::write(&f, yaml).unwrap();
        let c = Config::load(Some(&f), &[]);
        let _ = std::fs::remove_file(&f);
        tenants(&c?)
    }

    #[test]
    fn a_tenant_owns_its_rules_and_outputs_and_nothing_of_another() {
        let t = load(
            "rules_files: [/top.yaml]\npriority: debug\nstdout_output: {enabled: true}\n\
             file_output: {enabled: true, filename: /tmp/top.txt}\n\
             webserver: {enabled: false}\n\
             plugins: [{name: json, library_path: /top/json.wasm}]\nload_plugins: [json]\n\
             tenants:\n\
             - name: team-a\n  scope: {container_names: [web-*]}\n  \
               rules_files: [/a.yaml]\n  json_output: true\n\
             - name: team_b\n  scope: {host: true}\n  \
               plugins: [{name: k8saudit, library_path: /b/k8saudit.wasm}]\n  \
               load_plugins: [k8saudit]\n",
        )
        .unwrap();
        assert_eq!(t.len(), 2);
        let a = &t[0].config;
        assert_eq!(a.rules_files, vec![std::path::PathBuf::from("/a.yaml")]);
        assert!(a.json_output);
        assert!(
            a.get("priority").is_none(),
            "the top level's priority is not the tenant's"
        );
        assert!(a.get("file_output").is_none());
        assert!(!a.bool_at("stdout_output.enabled", true).unwrap());
        assert!(
            !a.bool_at("webserver.enabled", true).unwrap(),
            "shared keys stay"
        );
        assert!(a.get("tenants").is_none());
        assert!(t[1].config.rules_files.is_empty());
        assert!(
            a.get("load_plugins").is_none(),
            "the top level's plugins are not the tenant's"
        );
        let b = &t[1].config;
        assert_eq!(
            b.get("load_plugins"),
            Some(&serde_json::json!(["k8saudit"]))
        );
        assert_ne!(t[0].plugins_key(), t[1].plugins_key());
    }

    #[test]
    fn bad_tenants_are_named_by_their_place() {
        for (yaml, want) in [
            ("tenants: {a: 1}", "tenants: expected a list"),
            (
                "tenants: [{scope: {}}]",
                "tenants[0].name: every tenant needs a name",
            ),
            (
                "tenants: [{name: 'a b'}]",
                "tenants[0].name: expected a name",
            ),
            (
                "tenants: [{name: a}, {name: a}]",
                "tenants[1].name: tenant 'a' is defined twice",
            ),
            (
                "tenants: [{name: default}]",
                "tenants[0].name: tenant 'default'",
            ),
            (
                "tenants: [{name: a, webserver: {}}]",
                "tenants[0].webserver: unknown tenant key",
            ),
            (
                "tenants: [{name: a, token_sha256: abc}]",
                "tenants[0].token_sha256: expected 64 hex",
            ),
            (
                "tenants: [{name: a, scope: {pods: [x]}}]",
                "tenants[0].scope.pods: unknown scope key",
            ),
            (
                "tenants: [{name: a, limits: {alert_rate: -1}}]",
                "tenants[0].limits.alert_rate",
            ),
        ] {
            let e = load(yaml).unwrap_err().to_string();
            assert!(e.starts_with(want), "{yaml}: {e}");
        }
    }
}
