//! `falco.yaml` and `-o key=value` overrides.
//!
//! Loading: the file (or the embedded default, `config/falco.yaml`), then
//! each of its `config_files` (files or directories of `.yaml` files, merged
//! with Falco's strategies `append`, `override`, `add-only`), `${VAR}`
//! expanded in every string (`${{VAR}}` keeps it literal), then `-o`
//! overrides. Keys read here: rules files, JSON output and the log; each
//! stage reads its own keys (the engine's options, the output channels,
//! the plugins, the web server) through the typed getters. Unknown
//! top-level keys give warnings; wrong types are errors naming the key
//! path.

use crate::priority::Priority;
use crate::yaml::parse_documents;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// The effective configuration.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// `rules_files` (or the deprecated `rules_file`).
    pub rules_files: Vec<PathBuf>,
    /// `json_output`.
    pub json_output: bool,
    /// The whole document, after overrides.
    pub raw: Value,
    /// Problems that do not stop loading (unknown keys, missing config_files).
    pub warnings: Vec<String>,
}

/// The built-in configuration (`config/falco.yaml`), used without `-c`.
pub const DEFAULT_CONFIG: &str = include_str!("../../config/falco.yaml");
const DEFAULT_CONFIG_NAME: &str = "<embedded>/falco.yaml";

/// Top-level keys of Falco 0.44's falco.yaml (reference §3.2); others warn.
const KNOWN_KEYS: &[&str] = &[
    "config_files",
    "watch_config_files",
    "rules_files",
    "rules_file",
    "engine",
    "capture",
    "load_plugins",
    "plugins",
    "plugins_hostinfo",
    "time_format_iso_8601",
    "buffer_format_base64",
    "priority",
    "json_output",
    "json_include_output_property",
    "json_include_message_property",
    "json_include_output_fields_property",
    "json_include_tags_property",
    "buffered_outputs",
    "rule_matching",
    "outputs_queue",
    "append_output",
    "static_fields",
    "rules",
    "stdout_output",
    "syslog_output",
    "file_output",
    "program_output",
    "http_output",
    "nats_output",
    "webserver",
    "log_stderr",
    "log_syslog",
    "log_level",
    "libs_logger",
    "output_timeout",
    "syscall_event_timeouts",
    "syscall_event_drops",
    "metrics",
    "base_syscalls",
    "falco_libs",
    // falco-wasm: several rulesets on one engine (see `tenants`)
    "tenants",
    "tenants_dir",
    // falco-wasm: install new artifact versions as they are pushed
    "artifact_follow",
];

/// Parses one YAML configuration document (must be a mapping, or empty).
pub fn parse_config(name: &str, text: &str) -> Result<Value, ConfigError> {
    let docs = parse_documents(text).map_err(|e| ConfigError::Syntax {
        file: name.to_string(),
        line: e.pos.line,
        col: e.pos.col,
        message: format!("invalid YAML: {}", e.message),
    })?;
    match docs.first() {
        None => Ok(Value::Object(Map::new())),
        Some(d) if d.is_null() => Ok(Value::Object(Map::new())),
        Some(d) if d.as_map().is_some() => Ok(d.to_json()),
        Some(_) => Err(ConfigError::Syntax {
            file: name.to_string(),
            line: 1,
            col: 1,
            message: "the configuration must be a YAML mapping".into(),
        }),
    }
}

/// Merges `config_files` (relative paths are relative to the main file).
fn merge_config_files(
    raw: &mut Value,
    main: &Path,
    warnings: &mut Vec<String>,
) -> Result<(), ConfigError> {
    let Some(entries) = raw.get("config_files").cloned() else {
        return Ok(());
    };
    let entries = match entries {
        Value::Array(a) => a,
        Value::Null => return Ok(()),
        other => {
            return Err(ConfigError::key(
                "config_files",
                format!("expected a list, got {other}"),
            ));
        }
    };
    let base = main.parent().unwrap_or(Path::new("."));
    for (i, e) in entries.iter().enumerate() {
        let (path, strategy) = match e {
            Value::String(p) => (p.clone(), "append".to_string()),
            Value::Object(m) => (
                m.get("path")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        ConfigError::key(format!("config_files[{i}].path"), "expected a string")
                    })?
                    .to_string(),
                m.get("strategy")
                    .and_then(Value::as_str)
                    .unwrap_or("append")
                    .to_string(),
            ),
            other => {
                return Err(ConfigError::key(
                    format!("config_files[{i}]"),
                    format!("expected a path, got {other}"),
                ));
            }
        };
        if !matches!(strategy.as_str(), "append" | "override" | "add-only") {
            return Err(ConfigError::key(
                format!("config_files[{i}].strategy"),
                format!("expected append, override or add-only, got '{strategy}'"),
            ));
        }
        let p = base.join(&path);
        let files: Vec<PathBuf> = if p.is_dir() {
            let mut f: Vec<PathBuf> = std::fs::read_dir(&p)
                .map_err(|e| {
                    ConfigError::key(
                        format!("config_files[{i}]"),
                        format!("{}: {e}", p.display()),
                    )
                })?
                .flatten()
                .map(|e| e.path())
                .filter(|f| f.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                .collect();
            f.sort();
            f
        } else if p.exists() {
            vec![p]
        } else {
            warnings.push(format!(
                "config_files[{i}]: {} does not exist (skipped)",
                p.display()
            ));
            continue;
        };
        for f in files {
            let text = std::fs::read_to_string(&f).map_err(|e| ConfigError::Read {
                path: f.to_path_buf(),
                source: e,
            })?;
            let extra = parse_config(&f.display().to_string(), &text)?;
            merge(raw, extra, &strategy);
        }
    }
    Ok(())
}

/// Falco's merge strategies: `append` merges maps recursively and appends
/// lists, `override` replaces top-level keys, `add-only` adds absent keys.
fn merge(into: &mut Value, extra: Value, strategy: &str) {
    let (Some(dst), Value::Object(src)) = (into.as_object_mut(), extra) else {
        return;
    };
    for (k, v) in src {
        match (strategy, dst.get_mut(&k)) {
            ("add-only", Some(_)) => {}
            ("append", Some(Value::Array(a))) => match v {
                Value::Array(b) => a.extend(b),
                v => a.push(v),
            },
            ("append", Some(cur @ Value::Object(_))) if v.is_object() => merge(cur, v, "append"),
            _ => {
                dst.insert(k, v);
            }
        }
    }
}

/// Where syscall events come from (`engine.kind`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EngineKind {
    /// The live eBPF probe (`modern_ebpf`).
    Live,
    /// A capture file (`replay`).
    Replay(PathBuf),
}

/// Parses `1h30m`, `15m`, `500ms`, `2d`, `1w` (units ms, s, m, h, d, w, y).
pub fn parse_duration(s: &str) -> Option<std::time::Duration> {
    let mut total = 0u64;
    let mut rest = s.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let ms = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 604_800_000,
            "y" => 31_536_000_000,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(ms)?)?;
        rest = &rest[unit_len..];
    }
    Some(std::time::Duration::from_millis(total))
}

/// Replaces `${VAR}` in every string with the variable's value (empty when
/// unset); `${{VAR}}` stays as the literal `${VAR}`.
pub fn expand_env(v: &mut Value) {
    match v {
        Value::String(s) if s.contains("${") => *s = expand_str(s),
        Value::Array(a) => a.iter_mut().for_each(expand_env),
        Value::Object(m) => m.values_mut().for_each(expand_env),
        _ => {}
    }
}

fn expand_str(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        if let Some(inner) = after.strip_prefix('{')
            && let Some(end) = inner.find("}}")
        {
            out.push_str("${");
            out.push_str(&inner[..end]);
            out.push('}');
            rest = &inner[end + 2..];
        } else if let Some(end) = after.find('}') {
            out.push_str(&std::env::var(&after[..end]).unwrap_or_default());
            rest = &after[end + 1..];
        } else {
            out.push_str(&rest[i..]);
            rest = "";
        }
    }
    out.push_str(rest);
    out
}

/// A configuration problem: the file and position, the `-o` override, or
/// the key path it is about.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A configuration file could not be read.
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file is not a YAML mapping.
    #[error("{file}:{line}:{col}: {message}")]
    Syntax {
        /// The file (`<embedded>/falco.yaml` for the built-in one).
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// What is wrong.
        message: String,
    },
    /// A `-o` override is malformed.
    #[error("invalid -o '{spec}': {message}")]
    Override {
        /// The override as given.
        spec: String,
        /// What is wrong.
        message: String,
    },
    /// A key has a value it cannot have.
    #[error("{key}: {message}")]
    Key {
        /// The key path (`http_output.url`, `rules[2]`, …).
        key: String,
        /// What is wrong.
        message: String,
    },
}

impl ConfigError {
    /// A problem with the value at `key`.
    pub fn key(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError::Key {
            key: key.into(),
            message: message.into(),
        }
    }
}

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

    /// `log_level`, `log_stderr` and `log_syslog`.
    pub fn log_options(&self) -> Result<crate::log::LogOptions, ConfigError> {
        let d = crate::log::LogOptions::default();
        let level = match self.str_at("log_level")? {
            None => d.level,
            Some(l) => Priority::parse(&l).ok_or_else(|| {
                ConfigError::key(
                    "log_level",
                    format!(
                        "unknown level '{l}' (emergency, alert, critical, error, warning, \
                     notice, info, debug)"
                    ),
                )
            })?,
        };
        Ok(crate::log::LogOptions {
            level,
            stderr: self.bool_at("log_stderr", d.stderr)?,
            syslog: self.bool_at("log_syslog", d.syslog)?,
        })
    }

    /// `engine.kind`: the syscall capture falco-wasm has is its own eBPF
    /// probe, which Falco users know as `modern_ebpf`; `replay` reads a
    /// capture file (`engine.replay.capture_file`) instead; other kinds are
    /// errors.
    pub fn engine_kind(&self) -> Result<EngineKind, ConfigError> {
        match self.str_at("engine.kind")?.as_deref() {
            None | Some("modern_ebpf") => Ok(EngineKind::Live),
            Some("replay") => match self.str_at("engine.replay.capture_file")? {
                Some(f) if !f.is_empty() => Ok(EngineKind::Replay(PathBuf::from(f))),
                _ => Err(ConfigError::key(
                    "engine.replay.capture_file",
                    "engine.kind 'replay' needs the capture file to read here (or use -e FILE)",
                )),
            },
            Some(k @ ("kmod" | "ebpf" | "gvisor")) => Err(ConfigError::key(
                "engine.kind",
                format!(
                    "'{k}' is not available in falco-wasm, which captures with its own eBPF probe; use 'modern_ebpf'"
                ),
            )),
            Some("nodriver") => Err(ConfigError::key(
                "engine.kind",
                "'nodriver' is not supported yet (plugin sources run without a syscall engine already)",
            )),
            Some(k) => Err(ConfigError::key(
                "engine.kind",
                format!("unknown kind '{k}' (expected modern_ebpf or replay)"),
            )),
        }
    }

    /// A duration at `path` in Prometheus style (`500ms`, `30s`, `15m`,
    /// `1h30m`, `1d`), or `default`.
    pub fn duration_at(
        &self,
        path: &str,
        default: std::time::Duration,
    ) -> Result<std::time::Duration, ConfigError> {
        match self.str_at(path)? {
            None => Ok(default),
            Some(s) => parse_duration(&s).ok_or_else(|| {
                ConfigError::key(
                    path,
                    format!("expected a duration such as 30s, 15m or 1h, got '{s}'"),
                )
            }),
        }
    }

    /// Reads `path` (if given), its `config_files`, expands `${VAR}` and
    /// applies `-o` overrides.
    pub fn load(path: Option<&Path>, overrides: &[String]) -> Result<Config, ConfigError> {
        let mut raw = match path {
            None => parse_config(DEFAULT_CONFIG_NAME, DEFAULT_CONFIG)?,
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| ConfigError::Read {
                    path: p.to_path_buf(),
                    source: e,
                })?;
                parse_config(&p.display().to_string(), &text)?
            }
        };
        let mut warnings = Vec::new();
        if let Some(p) = path {
            merge_config_files(&mut raw, p, &mut warnings)?;
        }
        expand_env(&mut raw);
        for o in overrides {
            apply_override(&mut raw, o)?;
        }
        if let Some(map) = raw.as_object() {
            for k in map.keys() {
                if !KNOWN_KEYS.contains(&k.as_str()) {
                    warnings.push(format!("unknown configuration key '{k}' (ignored)"));
                }
            }
        }
        let mut c = Config::from_value(raw)?;
        c.warnings = warnings;
        Ok(c)
    }

    /// The value at a dotted path (`file_output.enabled`).
    pub fn get(&self, path: &str) -> Option<&Value> {
        path.split('.').try_fold(&self.raw, |v, k| v.get(k))
    }

    /// A boolean at `path` (`true`/`false` strings accepted), or `default`.
    pub fn bool_at(&self, path: &str, default: bool) -> Result<bool, ConfigError> {
        match self.get(path) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => as_bool(v)
                .ok_or_else(|| ConfigError::key(path, format!("expected a boolean, got {v}"))),
        }
    }

    /// A string at `path`, if set.
    pub fn str_at(&self, path: &str) -> Result<Option<String>, ConfigError> {
        match self.get(path) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v @ (Value::Number(_) | Value::Bool(_))) => Ok(Some(v.to_string())),
            Some(v) => Err(ConfigError::key(
                path,
                format!("expected a string, got {v}"),
            )),
        }
    }

    /// A non-negative integer at `path`, or `default`.
    pub fn u64_at(&self, path: &str, default: u64) -> Result<u64, ConfigError> {
        match self.get(path) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .ok_or_else(|| {
                    ConfigError::key(path, format!("expected a non-negative integer, got {v}"))
                }),
        }
    }

    /// A configuration from its document (checked as a loaded one is).
    pub fn from_value(raw: Value) -> Result<Config, ConfigError> {
        let mut c = Config::default();
        let get = |k: &str| raw.get(k);
        if get("rules_files").is_some() && get("rules_file").is_some() {
            return Err(ConfigError::key(
                "rules_file",
                "both 'rules_files' and the deprecated 'rules_file' are set: use only 'rules_files'",
            ));
        }
        if let Some(v) = get("rules_files").or_else(|| get("rules_file")) {
            c.rules_files = match v {
                Value::String(s) => vec![PathBuf::from(s)],
                Value::Array(items) => items
                    .iter()
                    .map(|i| {
                        i.as_str().map(PathBuf::from).ok_or_else(|| {
                            ConfigError::key("rules_files", "every entry must be a string")
                        })
                    })
                    .collect::<Result<_, _>>()?,
                _ => return Err(ConfigError::key("rules_files", "expected a list of paths")),
            };
        }
        if let Some(v) = get("json_output") {
            c.json_output =
                as_bool(v).ok_or_else(|| ConfigError::key("json_output", "expected a boolean"))?;
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
        .ok_or_else(|| ConfigError::Override {
            spec: spec.to_string(),
            message: "expected key=value".into(),
        })?;
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
                    let n: usize = idx.parse().map_err(|_| ConfigError::Override {
                        spec: spec.to_string(),
                        message: format!("bad index [{idx}]"),
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
                "rules[].disable.rule=Write*".into(),
                "json_output=true".into(),
            ],
        )
        .unwrap();
        assert_eq!(c.str_at("priority").unwrap().as_deref(), Some("warning"));
        assert!(c.json_output);
        assert!(c.get("rules").is_some_and(Value::is_array));
        let mut v = Value::Null;
        apply_override(&mut v, r"a\.b.c=5").unwrap();
        assert_eq!(v["a.b"]["c"], 5);
        assert!(Config::load(None, &["=x".into()]).is_err());
    }

    #[test]
    fn durations_and_engine_kinds() {
        assert_eq!(
            parse_duration("1h30m"),
            Some(std::time::Duration::from_secs(5400))
        );
        assert_eq!(
            parse_duration("500ms"),
            Some(std::time::Duration::from_millis(500))
        );
        assert_eq!(parse_duration("15x"), None);
        assert_eq!(parse_duration(""), None);
        let kind = |o: &[&str]| {
            let o: Vec<String> = o.iter().map(|s| s.to_string()).collect();
            Config::load(None, &o).unwrap().engine_kind()
        };
        assert_eq!(
            kind(&["engine.kind=modern_ebpf"]).unwrap(),
            EngineKind::Live
        );
        let e = kind(&["engine.kind=kmod"]).unwrap_err();
        assert!(e.to_string().contains("modern_ebpf"), "{e}");
        assert_eq!(
            kind(&["engine.kind=replay", "engine.replay.capture_file=/x.scap"]).unwrap(),
            EngineKind::Replay("/x.scap".into())
        );
        let e = kind(&["engine.kind=replay"]).unwrap_err();
        assert!(e.to_string().contains("engine.replay.capture_file"), "{e}");
    }

    #[test]
    fn embedded_default_is_clean() {
        let c = Config::load(None, &[]).unwrap();
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert!(c.rules_files.is_empty());
        assert!(c.bool_at("stdout_output.enabled", false).unwrap());
        assert!(!c.json_output);
    }

    #[test]
    fn env_expansion_and_config_files() {
        // SAFETY-free: std::env::set_var is unsafe in edition 2024; use a
        // variable every environment has instead.
        let home = std::env::var("PATH").unwrap_or_default();
        assert_eq!(expand_str("a ${PATH} b"), format!("a {home} b"));
        assert_eq!(expand_str("${{PATH}}"), "${PATH}");
        assert_eq!(expand_str("${FALCO_WASM_SURELY_UNSET_VAR}x"), "x");
        assert_eq!(expand_str("no ${ end"), "no ${ end");
        let dir = std::env::temp_dir().join(format!("fw-config-files-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("d")).unwrap();
        std::fs::write(
            dir.join("d/10-a.yaml"),
            "rules_files: [b.yaml]\nfile_output: {enabled: true}\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("d/20-b.yaml"),
            "priority: error\nfile_output: {filename: /tmp/x}\n",
        )
        .unwrap();
        std::fs::write(dir.join("o.yaml"), "priority: debug\n").unwrap();
        std::fs::write(
            dir.join("falco.yaml"),
            "rules_files: [a.yaml]\nconfig_files: [d, {path: o.yaml, strategy: add-only}, missing.yaml]\nbogus_key: 1\n",
        )
        .unwrap();
        let c = Config::load(Some(&dir.join("falco.yaml")), &[]).unwrap();
        assert_eq!(
            c.rules_files,
            [PathBuf::from("a.yaml"), PathBuf::from("b.yaml")]
        );
        assert_eq!(
            c.str_at("priority").unwrap().as_deref(),
            Some("error"),
            "add-only does not replace"
        );
        assert!(c.bool_at("file_output.enabled", false).unwrap());
        assert_eq!(
            c.str_at("file_output.filename").unwrap().as_deref(),
            Some("/tmp/x")
        );
        assert!(
            c.warnings.iter().any(|w| w.contains("bogus_key")),
            "{:?}",
            c.warnings
        );
        assert!(
            c.warnings.iter().any(|w| w.contains("missing.yaml")),
            "{:?}",
            c.warnings
        );
        let bad = Config::load(None, &["file_output.enabled=maybe".into()]).unwrap();
        let e = bad.bool_at("file_output.enabled", false).unwrap_err();
        assert!(e.to_string().contains("file_output.enabled"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
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
        assert_eq!(
            Config::load(None, &[]).unwrap().container_sockets(),
            Some(vec![
                PathBuf::from("/var/run/docker.sock"),
                PathBuf::from("/run/podman/podman.sock")
            ]),
            "the embedded default config lists both runtimes"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
