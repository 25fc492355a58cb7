//! The engine's settings, and how `falco.yaml` gives them: `priority`,
//! `rule_matching` and the `rules:` selection.

use crate::config::{Config, ConfigError};
use crate::filter::runtime::FilterLimits;
use crate::priority::Priority;
use crate::rules::CompiledRule;
use serde_json::Value;

/// Which back end evaluates conditions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Backend {
    /// Generated WebAssembly under wasmtime (the default).
    #[default]
    Wasm,
    /// The reference interpreter.
    Interp,
}

/// `rule_matching` in `falco.yaml`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RuleMatching {
    /// Stop at the first matching rule, in load order.
    #[default]
    First,
    /// Report every matching rule.
    All,
}

/// One entry of `rules:` selection in `falco.yaml` (applied in order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    /// Enable (true) or disable (false).
    pub enable: bool,
    /// Rule name wildcard (`*` matches any text).
    pub rule: Option<String>,
    /// Tag.
    pub tag: Option<String>,
}

impl Selection {
    pub(super) fn applies(&self, r: &CompiledRule) -> bool {
        self.rule.as_ref().is_some_and(|w| wildcard(w, &r.name))
            || self.tag.as_ref().is_some_and(|t| r.tags.contains(t))
    }
}

/// Falco's rule-name wildcard: `*` matches any run of characters.
fn wildcard(pattern: &str, name: &str) -> bool {
    let re = format!(
        "^{}$",
        pattern
            .split('*')
            .map(regex::escape)
            .collect::<Vec<_>>()
            .join(".*")
    );
    regex::Regex::new(&re).is_ok_and(|r| r.is_match(name))
}

/// Engine settings.
#[derive(Clone, Debug, Default)]
pub struct EngineOptions {
    /// Back end.
    pub backend: Backend,
    /// First or all matches.
    pub matching: RuleMatching,
    /// Rules less severe than this are not evaluated.
    pub min_priority: Option<Priority>,
    /// Rule selection, applied in order after the files' `enabled` keys.
    pub selection: Vec<Selection>,
    /// Filter limits (Wasm back end).
    pub limits: FilterLimits,
}

/// The environment variable that picks the back end for comparisons
/// (`wasm`, the default, or `interp`); not a setting for production.
const BACKEND_ENV: &str = "FALCO_WASM_FILTER_BACKEND";

impl EngineOptions {
    /// `priority`, `rule_matching` and `rules` from the configuration, the
    /// back end from [`BACKEND_ENV`]; the other settings at their defaults.
    pub fn from_config(c: &Config) -> Result<EngineOptions, ConfigError> {
        let backend = match std::env::var(BACKEND_ENV).ok().as_deref() {
            None | Some("" | "wasm") => Backend::Wasm,
            Some("interp") => Backend::Interp,
            Some(other) => {
                return Err(ConfigError::key(
                    BACKEND_ENV,
                    format!("unknown filter back end '{other}' (expected wasm or interp)"),
                ));
            }
        };
        Ok(EngineOptions {
            backend,
            matching: matching(c)?,
            min_priority: min_priority(c)?,
            selection: selection(c)?,
            ..EngineOptions::default()
        })
    }
}

fn min_priority(c: &Config) -> Result<Option<Priority>, ConfigError> {
    let Some(s) = c.str_at("priority")? else {
        return Ok(None);
    };
    Priority::parse(&s)
        .map(Some)
        .ok_or_else(|| ConfigError::key("priority", format!("unknown priority '{s}'")))
}

fn matching(c: &Config) -> Result<RuleMatching, ConfigError> {
    match c.get("rule_matching") {
        None | Some(Value::Null) => Ok(RuleMatching::default()),
        Some(v) => match v.as_str() {
            Some("first") => Ok(RuleMatching::First),
            Some("all") => Ok(RuleMatching::All),
            _ => Err(ConfigError::key(
                "rule_matching",
                format!("expected 'first' or 'all', got {v}"),
            )),
        },
    }
}

/// `rules:` entries, each `enable` or `disable` with a `rule` or a `tag`.
fn selection(c: &Config) -> Result<Vec<Selection>, ConfigError> {
    let items = match c.get("rules") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(ConfigError::key(
                "rules",
                "expected a list of enable/disable entries",
            ));
        }
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let (enable, body) = match (item.get("enable"), item.get("disable")) {
            (Some(b), None) => (true, b),
            (None, Some(b)) => (false, b),
            _ => {
                return Err(ConfigError::key(
                    format!("rules[{i}]"),
                    "expected exactly one of 'enable' or 'disable'",
                ));
            }
        };
        let s = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
        let sel = Selection {
            enable,
            rule: s("rule"),
            tag: s("tag"),
        };
        if sel.rule.is_none() && sel.tag.is_none() {
            return Err(ConfigError::key(
                format!("rules[{i}]"),
                "expected 'rule' or 'tag'",
            ));
        }
        out.push(sel);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(overrides: &[&str]) -> Result<EngineOptions, ConfigError> {
        let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        EngineOptions::from_config(&Config::load(None, &o).unwrap())
    }

    #[test]
    fn from_the_configuration() {
        let o = opts(&[
            "priority=warning",
            "rule_matching=all",
            "rules[].disable.rule=Write*",
            "rules[].enable.tag=shell",
        ])
        .unwrap();
        assert_eq!(o.min_priority, Some(Priority::Warning));
        assert_eq!(o.matching, RuleMatching::All);
        assert_eq!(o.selection.len(), 2);
        assert!(!o.selection[0].enable);
        assert_eq!(o.selection[1].tag.as_deref(), Some("shell"));
        for bad in [
            "priority=loud",
            "rule_matching=some",
            "rules[].enable.nothing=x",
        ] {
            let e = opts(&[bad]).unwrap_err().to_string();
            assert!(
                e.starts_with(bad.split(['=', '.', '[']).next().unwrap()),
                "{e}"
            );
        }
    }
}
