//! `falco.yaml` and `-o key=value` overrides: the keys that exist so far
//! (rules files, rule selection, priority, rule matching, JSON output).
//! Unknown keys are kept and ignored here; the outputs issue extends this.

use crate::engine::{RuleMatching, Selection};
use crate::rules::Priority;
use crate::rules::yaml::parse_documents;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// The effective configuration.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// `rules_files` (or the deprecated `rules_file`).
    pub rules_files: Vec<PathBuf>,
    /// `priority`: minimum priority of rules to run.
    pub priority: Option<Priority>,
    /// `rule_matching`.
    pub rule_matching: RuleMatching,
    /// `rules`: selection entries.
    pub selection: Vec<Selection>,
    /// `json_output`.
    pub json_output: bool,
    /// The whole document, after overrides.
    pub raw: Value,
}

/// A configuration problem, with the key path.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Sockets of the Docker-compatible container runtimes to ask for
    /// container metadata, as Falco's container plugin is configured:
    /// `plugins: [{name: container, init_config: {engines: {docker: {enabled,
    /// sockets: [...]}, podman: {...}}}}]` (init_config as a map or a JSON
    /// string). `None` when not configured (the defaults apply).
    pub fn container_sockets(&self) -> Option<Vec<PathBuf>> {
        let plugin = self
            .raw
            .get("plugins")?
            .as_array()?
            .iter()
            .find(|p| p.get("name").and_then(Value::as_str) == Some("container"))?;
        let init = match plugin.get("init_config")? {
            Value::String(s) => serde_json::from_str::<Value>(s).ok()?,
            v => v.clone(),
        };
        let engines = init.get("engines")?.as_object()?;
        let mut out = Vec::new();
        for name in ["docker", "podman"] {
            let Some(e) = engines.get(name) else { continue };
            if e.get("enabled").and_then(Value::as_bool) == Some(false) {
                continue;
            }
            for s in e
                .get("sockets")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(s) = s.as_str() {
                    out.push(PathBuf::from(s));
                }
            }
        }
        Some(out)
    }

    /// Reads `path` (if given) and applies `-o` overrides.
    pub fn load(path: Option<&Path>, overrides: &[String]) -> Result<Config, ConfigError> {
        let mut raw = match path {
            None => Value::Object(Map::new()),
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| {
                    ConfigError(format!("cannot read config file {}: {e}", p.display()))
                })?;
                let docs = parse_documents(&text).map_err(|e| {
                    ConfigError(format!(
                        "{}:{}:{}: invalid YAML: {}",
                        p.display(),
                        e.pos.line,
                        e.pos.col,
                        e.message
                    ))
                })?;
                match docs.first() {
                    None => Value::Object(Map::new()),
                    Some(d) if d.is_null() => Value::Object(Map::new()),
                    Some(d) if d.as_map().is_some() => d.to_json(),
                    Some(_) => {
                        return Err(ConfigError(format!(
                            "{}: the configuration must be a YAML mapping",
                            p.display()
                        )));
                    }
                }
            }
        };
        for o in overrides {
            apply_override(&mut raw, o)?;
        }
        Config::from_value(raw)
    }

    fn from_value(raw: Value) -> Result<Config, ConfigError> {
        let mut c = Config::default();
        let get = |k: &str| raw.get(k);
        if get("rules_files").is_some() && get("rules_file").is_some() {
            return Err(ConfigError("both 'rules_files' and the deprecated 'rules_file' are set: use only 'rules_files'".into()));
        }
        if let Some(v) = get("rules_files").or_else(|| get("rules_file")) {
            c.rules_files = match v {
                Value::String(s) => vec![PathBuf::from(s)],
                Value::Array(items) => items
                    .iter()
                    .map(|i| {
                        i.as_str().map(PathBuf::from).ok_or_else(|| {
                            ConfigError("rules_files: every entry must be a string".into())
                        })
                    })
                    .collect::<Result<_, _>>()?,
                _ => return Err(ConfigError("rules_files: expected a list of paths".into())),
            };
        }
        if let Some(v) = get("priority") {
            let s = v
                .as_str()
                .ok_or_else(|| ConfigError("priority: expected a priority name".into()))?;
            c.priority = Some(
                Priority::parse(s)
                    .ok_or_else(|| ConfigError(format!("priority: unknown priority '{s}'")))?,
            );
        }
        if let Some(v) = get("rule_matching") {
            c.rule_matching = match v.as_str() {
                Some("first") => RuleMatching::First,
                Some("all") => RuleMatching::All,
                _ => {
                    return Err(ConfigError(format!(
                        "rule_matching: expected 'first' or 'all', got {v}"
                    )));
                }
            };
        }
        if let Some(v) = get("json_output") {
            c.json_output =
                as_bool(v).ok_or_else(|| ConfigError("json_output: expected a boolean".into()))?;
        }
        if let Some(v) = get("rules") {
            let items = v.as_array().ok_or_else(|| {
                ConfigError("rules: expected a list of enable/disable entries".into())
            })?;
            for (i, item) in items.iter().enumerate() {
                let (enable, body) = match (item.get("enable"), item.get("disable")) {
                    (Some(b), None) => (true, b),
                    (None, Some(b)) => (false, b),
                    _ => {
                        return Err(ConfigError(format!(
                            "rules[{i}]: expected exactly one of 'enable' or 'disable'"
                        )));
                    }
                };
                let s = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
                let sel = Selection {
                    enable,
                    rule: s("rule"),
                    tag: s("tag"),
                };
                if sel.rule.is_none() && sel.tag.is_none() {
                    return Err(ConfigError(format!("rules[{i}]: expected 'rule' or 'tag'")));
                }
                c.selection.push(sel);
            }
        }
        c.raw = raw;
        Ok(c)
    }
}

fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "true" => Some(true),
        Value::String(s) if s == "false" => Some(false),
        _ => None,
    }
}

/// Applies `a.b.c=value`, `a[]=value` (append) or `a[1]=value` (index);
/// `\.` escapes a dot in a key. The value is parsed as YAML (so `true`, `5`,
/// `[a, b]` and `{k: v}` keep their types).
pub fn apply_override(root: &mut Value, spec: &str) -> Result<(), ConfigError> {
    let (path, value) = spec
        .split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| ConfigError(format!("invalid -o '{spec}': expected key=value")))?;
    let value = parse_documents(value)
        .ok()
        .and_then(|d| d.first().map(|n| n.to_json()))
        .unwrap_or_else(|| Value::String(value.to_string()));
    // Split on unescaped dots.
    let mut keys = Vec::new();
    let mut cur = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some('.' | '\\')) => {
                cur.push(chars.next().expect("peeked"))
            }
            '.' => keys.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    keys.push(cur);
    let mut node = root;
    for (i, key) in keys.iter().enumerate() {
        let last = i + 1 == keys.len();
        let (name, index) = match key.find('[') {
            Some(b) if key.ends_with(']') => (&key[..b], Some(&key[b + 1..key.len() - 1])),
            _ => (key.as_str(), None),
        };
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        let obj = node.as_object_mut().expect("made an object");
        let slot = obj.entry(name.to_string()).or_insert(Value::Null);
        node = match index {
            None => slot,
            Some(idx) => {
                if !slot.is_array() {
                    *slot = Value::Array(Vec::new());
                }
                let arr = slot.as_array_mut().expect("made an array");
                let at = if idx.is_empty() {
                    arr.push(Value::Null);
                    arr.len() - 1
                } else {
                    let n: usize = idx.parse().map_err(|_| {
                        ConfigError(format!("invalid -o '{spec}': bad index [{idx}]"))
                    })?;
                    while arr.len() <= n {
                        arr.push(Value::Null);
                    }
                    n
                };
                &mut arr[at]
            }
        };
        if last {
            *node = value.clone();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides() {
        let c = Config::load(
            None,
            &[
                "priority=warning".into(),
                "rule_matching=all".into(),
                "rules[].disable.rule=Write*".into(),
                "rules[].enable.tag=shell".into(),
                "json_output=true".into(),
            ],
        )
        .unwrap();
        assert_eq!(c.priority, Some(Priority::Warning));
        assert_eq!(c.rule_matching, RuleMatching::All);
        assert!(c.json_output);
        assert_eq!(c.selection.len(), 2);
        assert!(!c.selection[0].enable);
        assert_eq!(c.selection[1].tag.as_deref(), Some("shell"));
        let mut v = Value::Null;
        apply_override(&mut v, r"a\.b.c=5").unwrap();
        assert_eq!(v["a.b"]["c"], 5);
        assert!(Config::load(None, &["priority=loud".into()]).is_err());
        assert!(Config::load(None, &["=x".into()]).is_err());
    }

    #[test]
    fn container_plugin_sockets() {
        let dir = std::env::temp_dir().join(format!("fw-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("falco.yaml");
        std::fs::write(
            &path,
            "plugins:\n  - name: container\n    library_path: libcontainer.so\n    init_config:\n      engines:\n        docker: {enabled: false, sockets: [/var/run/docker.sock]}\n        podman: {enabled: true, sockets: [/tmp/p.sock]}\n",
        )
        .unwrap();
        let c = Config::load(Some(&path), &[]).unwrap();
        assert_eq!(
            c.container_sockets(),
            Some(vec![PathBuf::from("/tmp/p.sock")])
        );
        assert_eq!(Config::load(None, &[]).unwrap().container_sockets(), None);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
