//! `- rule:` items: a definition, a change of an earlier rule (`override`,
//! or the legacy `append: true`), or the legacy standalone `enabled`.

use super::changes::{Action, Definition, Mode, check_override, mode_for, no_previous, place};
use super::exceptions::{append_exceptions, dedup_exception_names};
use super::value::{opt_bool, req_str, scalar, string_seq};
use super::{
    Collection, ExceptionDef, ItemError, ItemLoc, ItemResult, Priority, RuleDef, Text, validate,
};
use crate::rules::diag::{Code, Severity};
use crate::yaml::Node;
use std::collections::HashMap;

/// The keys a rule item accepts.
const RULE_KEYS: &[&str] = &[
    "rule",
    "condition",
    "output",
    "desc",
    "priority",
    "source",
    "enabled",
    "tags",
    "exceptions",
    "warn_evttypes",
    "skip-if-unknown-filter",
    "capture",
    "capture_duration",
    "append",
    "override",
];

/// Rule keys that `override` may append to, and those it may replace.
const RULE_APPENDABLE: &[&str] = &["condition", "output", "desc", "tags", "exceptions"];
const RULE_REPLACEABLE: &[&str] = &[
    "condition",
    "output",
    "desc",
    "tags",
    "exceptions",
    "priority",
    "enabled",
    "capture",
    "capture_duration",
    "warn_evttypes",
    "skip-if-unknown-filter",
];

/// The keys of a rule item, read but not yet applied.
struct RuleKeys {
    condition: Option<Text>,
    output: Option<Text>,
    desc: Option<Text>,
    priority: Option<Priority>,
    source: Option<String>,
    enabled: Option<bool>,
    tags: Option<Vec<String>>,
    exceptions: Option<Vec<ExceptionDef>>,
    warn_evttypes: Option<bool>,
    skip_unknown: Option<bool>,
    capture: Option<bool>,
    capture_duration: Option<u64>,
}

impl RuleKeys {
    /// Only `enabled` (no definition keys): the legacy toggle.
    fn is_toggle(&self) -> bool {
        self.condition.is_none()
            && self.output.is_none()
            && self.desc.is_none()
            && self.priority.is_none()
    }
}

impl Definition for RuleDef {
    fn set_index(&mut self, index: usize) {
        self.index = index;
    }
}

impl Collection {
    /// Defines, redefines or changes a rule.
    pub(super) fn load_rule(&mut self, item: &Node, file: usize) -> ItemResult<()> {
        self.check_keys(item, RULE_KEYS, file);
        let name = req_str(item, "rule")?;
        let has_override = check_override(item, RULE_APPENDABLE, RULE_REPLACEABLE)?;
        let legacy_append = opt_bool(item, "append")?.unwrap_or(false);
        let keys = self.rule_keys(item, file)?;
        let existing = self.rule_idx.get(&name).copied();
        let action = Action::resolve(existing, has_override || legacy_append, || ItemError {
            code: Code::ErrYamlValidate,
            message: missing_rule(item, legacy_append),
            pos: item.pos,
            key: None,
        })?;
        match action {
            Action::Change(i) => self.change_rule(item, file, i, legacy_append, keys),
            Action::Define(at) if keys.is_toggle() => {
                self.toggle_rule(item, file, &name, at, keys.enabled)
            }
            Action::Define(at) => {
                let def = self.rule_def(item, file, &name, keys)?;
                self.define_rule(item, name, at, def)
            }
        }
    }

    /// Reads the rule's keys, each checked for its type.
    fn rule_keys(&mut self, item: &Node, file: usize) -> ItemResult<RuleKeys> {
        let text = |key: &str| -> ItemResult<Option<Text>> {
            item.get(key)
                .map(|n| Ok(Text::new(&scalar(n, key)?, file, n.pos)))
                .transpose()
        };
        Ok(RuleKeys {
            condition: text("condition")?,
            output: text("output")?,
            desc: text("desc")?,
            priority: item.get("priority").map(priority).transpose()?,
            source: item
                .get("source")
                .map(|n| scalar(n, "source"))
                .transpose()?,
            enabled: opt_bool(item, "enabled")?,
            tags: item.get("tags").map(string_seq).transpose()?,
            exceptions: item
                .get("exceptions")
                .map(|n| self.exceptions(n, file))
                .transpose()?,
            warn_evttypes: opt_bool(item, "warn_evttypes")?,
            skip_unknown: opt_bool(item, "skip-if-unknown-filter")?,
            capture: opt_bool(item, "capture")?,
            capture_duration: item
                .get("capture_duration")
                .map(capture_duration)
                .transpose()?,
        })
    }

    /// Applies an `override` (or legacy `append: true`) to the rule at `idx`.
    fn change_rule(
        &mut self,
        item: &Node,
        file: usize,
        idx: usize,
        legacy_append: bool,
        keys: RuleKeys,
    ) -> ItemResult<()> {
        if legacy_append {
            self.check_legacy_append(item, file)?;
        }
        if let Some(src) = &keys.source
            && !src.is_empty()
            && *src != self.rules[idx].source
        {
            return validate(
                item.pos,
                format!(
                    "Rule '{}' redefined with a different source ({src} vs {})",
                    self.rules[idx].name, self.rules[idx].source
                ),
            );
        }
        let modes = rule_modes(item, legacy_append)?;
        apply_rule_change(&mut self.rules[idx], keys, &modes)
    }

    /// Warns that `append: true` is deprecated; it may not carry keys other
    /// than the condition and exceptions.
    fn check_legacy_append(&mut self, item: &Node, file: usize) -> ItemResult<()> {
        self.warn_item(Code::WarningAppend, "'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.".into(), file, item, None);
        for key in ["output", "desc", "priority", "source", "tags", "enabled"] {
            if item.get(key).is_some() {
                return validate(
                    item.pos,
                    format!(
                        "Key '{key}' cannot be appended to with legacy 'append: true', use 'override' instead"
                    ),
                );
            }
        }
        Ok(())
    }

    /// The legacy item with only `enabled`: toggles the rule at `at`.
    fn toggle_rule(
        &mut self,
        item: &Node,
        file: usize,
        name: &str,
        at: Option<usize>,
        enabled: Option<bool>,
    ) -> ItemResult<()> {
        let Some(en) = enabled else {
            return validate(
                item.pos,
                format!(
                    "Rule '{name}' is missing required keys: condition, output, desc, priority"
                ),
            );
        };
        let Some(idx) = at else {
            return validate(
                item.pos,
                format!("Rule '{name}' has 'enabled' key but no rule by that name already exists"),
            );
        };
        self.warn_item(Code::WarningEnabled, "The standalone 'enabled' key usage is deprecated. The correct approach requires also a 'replace' entry under the 'override' key (i.e. 'enabled: replace').".into(), file, item, None);
        self.rules[idx].enabled = en;
        Ok(())
    }

    /// A full rule definition: the required keys present, defaults for the
    /// others.
    fn rule_def(
        &mut self,
        item: &Node,
        file: usize,
        name: &str,
        keys: RuleKeys,
    ) -> ItemResult<RuleDef> {
        let missing: Vec<&str> = [
            ("condition", keys.condition.is_some()),
            ("output", keys.output.is_some()),
            ("desc", keys.desc.is_some()),
            ("priority", keys.priority.is_some()),
        ]
        .into_iter()
        .filter(|(_, present)| !present)
        .map(|(k, _)| k)
        .collect();
        if !missing.is_empty() {
            return validate(
                item.pos,
                format!("Item has no mapping for key '{}'", missing.join("', '")),
            );
        }
        let source = keys
            .source
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "syscall".to_string());
        let mut exceptions = keys.exceptions.unwrap_or_default();
        dedup_exception_names(&mut exceptions, |n, pos| {
            self.push_diag(
                Severity::Warning,
                Code::ExceptionNameNotUnique,
                format!("Multiple definitions of exception '{n}' in the same rule"),
                file,
                vec![
                    (format!("rule '{name}'"), item.pos),
                    ("exception".into(), pos),
                ],
            )
        });
        Ok(RuleDef {
            name: name.to_string(),
            condition: keys.condition.expect("checked"),
            output: keys.output.expect("checked"),
            desc: keys.desc.expect("checked"),
            priority: keys.priority.expect("checked"),
            source,
            enabled: keys.enabled.unwrap_or(true),
            tags: keys.tags.unwrap_or_default().into_iter().collect(),
            exceptions,
            warn_evttypes: keys.warn_evttypes.unwrap_or(true),
            skip_if_unknown_filter: keys.skip_unknown.unwrap_or(false),
            capture: keys.capture.unwrap_or(false),
            capture_duration: keys.capture_duration,
            index: self.rules.len(),
            loc: ItemLoc {
                file,
                pos: item.pos,
            },
        })
    }

    /// Adds the rule, or puts it in place of the earlier one of its name
    /// (which must have the same source).
    fn define_rule(
        &mut self,
        item: &Node,
        name: String,
        at: Option<usize>,
        def: RuleDef,
    ) -> ItemResult<()> {
        if let Some(i) = at
            && self.rules[i].source != def.source
        {
            return validate(
                item.pos,
                format!(
                    "Rule '{name}' redefined with a different source ({} vs {})",
                    def.source, self.rules[i].source
                ),
            );
        }
        place(&mut self.rules, &mut self.rule_idx, name, at, def);
        Ok(())
    }
}

/// The mode of each changeable key; every other key present must have an
/// `override` entry.
fn rule_modes(item: &Node, legacy_append: bool) -> ItemResult<HashMap<&'static str, Mode>> {
    let modes: HashMap<&str, Mode> = RULE_REPLACEABLE
        .iter()
        .map(|k| {
            let m = if legacy_append {
                if matches!(*k, "condition" | "exceptions") {
                    Mode::Append
                } else {
                    Mode::Define
                }
            } else {
                mode_for(item, k, RULE_APPENDABLE, RULE_REPLACEABLE)?
            };
            Ok((*k, m))
        })
        .collect::<ItemResult<_>>()?;
    for (k, v) in item.as_map().unwrap_or_default() {
        let key = k.as_str().unwrap_or_default();
        if matches!(key, "rule" | "override" | "append" | "source") || !RULE_KEYS.contains(&key) {
            continue;
        }
        if modes.get(key).copied().unwrap_or(Mode::Define) == Mode::Define {
            return validate(
                v.pos,
                format!(
                    "Unexpected key '{key}': no corresponding entry under 'override' is defined."
                ),
            );
        }
    }
    Ok(modes)
}

/// Applies the keys of a change to the rule, each by its mode.
fn apply_rule_change(
    r: &mut RuleDef,
    keys: RuleKeys,
    modes: &HashMap<&str, Mode>,
) -> ItemResult<()> {
    modes["condition"].apply(&mut r.condition, keys.condition);
    modes["output"].apply(&mut r.output, keys.output);
    modes["desc"].apply(&mut r.desc, keys.desc);
    modes["tags"].apply(&mut r.tags, keys.tags.map(|t| t.into_iter().collect()));
    if let Some(excs) = keys.exceptions {
        match modes["exceptions"] {
            Mode::Append => append_exceptions(&mut r.exceptions, excs)?,
            Mode::Replace => r.exceptions = excs,
            Mode::Define => {}
        }
    }
    modes["priority"].replace(&mut r.priority, keys.priority);
    modes["enabled"].replace(&mut r.enabled, keys.enabled);
    modes["warn_evttypes"].replace(&mut r.warn_evttypes, keys.warn_evttypes);
    modes["skip-if-unknown-filter"].replace(&mut r.skip_if_unknown_filter, keys.skip_unknown);
    modes["capture"].replace(&mut r.capture, keys.capture);
    modes["capture_duration"].replace(&mut r.capture_duration, Some(keys.capture_duration));
    Ok(())
}

/// The error for a change of a rule that does not exist; it names the
/// first overridden key, as Falco does.
fn missing_rule(item: &Node, legacy_append: bool) -> String {
    let first = item
        .get("override")
        .and_then(Node::as_map)
        .and_then(|m| m.first())
        .map(|(k, v)| {
            (
                k.as_str().unwrap_or("condition").to_string(),
                v.as_str() == Some("replace"),
            )
        });
    let (key, replace) = first.unwrap_or_else(|| ("condition".into(), false));
    let mode = if replace && !legacy_append {
        Mode::Replace
    } else {
        Mode::Append
    };
    no_previous("Rule", &key, mode)
}

/// A `priority` value.
fn priority(n: &Node) -> ItemResult<Priority> {
    let s = scalar(n, "priority")?;
    Priority::parse(&s).ok_or_else(|| ItemError {
        code: Code::ErrYamlValidate,
        message: format!("Invalid priority '{s}'"),
        pos: n.pos,
        key: Some("priority".into()),
    })
}

/// A `capture_duration` value (milliseconds).
fn capture_duration(n: &Node) -> ItemResult<u64> {
    scalar(n, "capture_duration")?
        .parse::<u64>()
        .map_err(|_| ItemError {
            code: Code::ErrYamlValidate,
            message: "Value of capture_duration must be a non-negative integer".into(),
            pos: n.pos,
            key: Some("capture_duration".into()),
        })
}
