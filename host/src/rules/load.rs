//! Reading rules files: YAML items → lists, macros and rules, with Falco's
//! `override`/`append` and redefinition semantics (`rule_loader_reader` and
//! `rule_loader_collector` in Falco).

use super::diag::{Code, Context, Diagnostic, Severity};
use super::priority::Priority;
use super::yaml::{Node, NodeValue, Pos, parse_documents};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// A rules file's name and text.
#[derive(Clone, Debug)]
pub struct RulesFile {
    /// Path (or a name for embedded content).
    pub path: String,
    /// Text.
    pub content: String,
}

/// A piece of a condition (or other appendable text) and where it came from.
#[derive(Clone, Debug)]
pub struct Segment {
    /// Byte offset in the joined text where this piece starts.
    pub start: usize,
    /// The file it was read from (index into [`Collection::files`]).
    pub file: usize,
    /// Position of the YAML value.
    pub pos: Pos,
}

/// Text assembled from one or more YAML values (`prev + " " + new`).
#[derive(Clone, Debug, Default)]
pub struct Text {
    /// The joined text.
    pub text: String,
    /// Where each piece came from.
    pub segments: Vec<Segment>,
}

impl Text {
    fn new(text: &str, file: usize, pos: Pos) -> Text {
        Text {
            text: text.to_string(),
            segments: vec![Segment {
                start: 0,
                file,
                pos,
            }],
        }
    }

    fn append(&mut self, other: &Text) {
        self.text.push(' ');
        let base = self.text.len();
        self.text.push_str(&other.text);
        self.segments.extend(other.segments.iter().map(|s| Segment {
            start: s.start + base,
            ..s.clone()
        }));
    }
}

/// Where an item was defined.
#[derive(Clone, Debug)]
pub struct ItemLoc {
    /// File index.
    pub file: usize,
    /// Position of the item's map.
    pub pos: Pos,
}

/// A list definition.
#[derive(Clone, Debug)]
pub struct ListDef {
    /// Name.
    pub name: String,
    /// Items, as written (`quoted` keeps track of YAML quoting for spaces).
    pub items: Vec<String>,
    /// Definition order (kept on redefinition).
    pub index: usize,
    /// Where it was (last) defined.
    pub loc: ItemLoc,
    /// Whether any condition used it.
    pub used: bool,
}

/// A macro definition.
#[derive(Clone, Debug)]
pub struct MacroDef {
    /// Name.
    pub name: String,
    /// Condition text.
    pub condition: Text,
    /// Definition order (kept on redefinition).
    pub index: usize,
    /// Where it was (last) defined.
    pub loc: ItemLoc,
    /// Whether any rule used it.
    pub used: bool,
}

/// An exception of a rule.
#[derive(Clone, Debug)]
pub struct ExceptionDef {
    /// Name (unique within the rule).
    pub name: String,
    /// Field names; `None` for the scalar form.
    pub fields: ExceptionFields,
    /// Operators, one per field (tuple form) or one (scalar form).
    pub comps: Vec<String>,
    /// Values: tuples (tuple form) or single values (scalar form).
    pub values: Vec<ExceptionValue>,
    /// Where it was written.
    pub loc: ItemLoc,
}

/// The `fields` of an exception.
#[derive(Clone, Debug)]
pub enum ExceptionFields {
    /// `fields: [a, b]`.
    Tuple(Vec<String>),
    /// `fields: a`.
    Single(String),
}

/// One entry of an exception's `values`.
#[derive(Clone, Debug)]
pub enum ExceptionValue {
    /// A scalar.
    Scalar(String),
    /// A list (a tuple, or a list value for a list operator).
    List(Vec<ExceptionValue>),
}

/// A rule definition, after overrides.
#[derive(Clone, Debug)]
pub struct RuleDef {
    /// Name.
    pub name: String,
    /// Condition.
    pub condition: Text,
    /// Output format.
    pub output: Text,
    /// Description.
    pub desc: Text,
    /// Priority.
    pub priority: Priority,
    /// Event source.
    pub source: String,
    /// Enabled.
    pub enabled: bool,
    /// Tags.
    pub tags: BTreeSet<String>,
    /// Exceptions.
    pub exceptions: Vec<ExceptionDef>,
    /// Warn when the rule matches too many event types.
    pub warn_evttypes: bool,
    /// Unknown fields make the rule skipped instead of an error.
    pub skip_if_unknown_filter: bool,
    /// Capture on match (accepted, not used yet).
    pub capture: bool,
    /// Capture duration in ms.
    pub capture_duration: Option<u64>,
    /// Definition order.
    pub index: usize,
    /// Where it was defined.
    pub loc: ItemLoc,
}

/// `required_plugin_versions` entry.
#[derive(Clone, Debug)]
pub struct PluginRequirement {
    /// Plugin name.
    pub name: String,
    /// Minimum version.
    pub version: String,
    /// Alternatives that also satisfy the requirement.
    pub alternatives: Vec<(String, String)>,
    /// Where it was written.
    pub loc: ItemLoc,
}

/// Everything read from a sequence of rules files.
#[derive(Debug, Default)]
pub struct Collection {
    /// The files, in load order.
    pub files: Vec<Arc<RulesFile>>,
    /// Lists in definition order.
    pub lists: Vec<ListDef>,
    /// Macros in definition order.
    pub macros: Vec<MacroDef>,
    /// Rules in definition order.
    pub rules: Vec<RuleDef>,
    /// Engine version requirements with their location.
    pub engine_versions: Vec<(String, ItemLoc)>,
    /// Plugin requirements.
    pub plugin_requirements: Vec<PluginRequirement>,
    /// Warnings and errors so far.
    pub diags: Vec<Diagnostic>,
    list_idx: HashMap<String, usize>,
    macro_idx: HashMap<String, usize>,
    rule_idx: HashMap<String, usize>,
}

/// A problem found while reading one item: aborts that file's loading.
struct ItemError {
    code: Code,
    message: String,
    pos: Pos,
    key: Option<String>,
}

type ItemResult<T> = Result<T, ItemError>;

fn err<T>(code: Code, pos: Pos, message: impl Into<String>) -> ItemResult<T> {
    Err(ItemError {
        code,
        message: message.into(),
        pos,
        key: None,
    })
}

fn validate<T>(pos: Pos, message: impl Into<String>) -> ItemResult<T> {
    err(Code::ErrYamlValidate, pos, message)
}

/// The keys each kind of item accepts.
const LIST_KEYS: &[&str] = &["list", "items", "append", "override"];
const MACRO_KEYS: &[&str] = &["macro", "condition", "append", "override"];
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
const EXCEPTION_KEYS: &[&str] = &["name", "fields", "comps", "values"];

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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Define,
    Append,
    Replace,
}

impl Collection {
    /// Reads one file's items, adding to what earlier files defined. A YAML or
    /// validation error stops this file's loading (as in Falco).
    pub fn load_file(&mut self, file: RulesFile) {
        let file_idx = self.files.len();
        self.files.push(Arc::new(file));
        let content = self.files[file_idx].content.clone();
        let docs = match parse_documents(&content) {
            Ok(d) => d,
            Err(e) => {
                self.push_diag(
                    Severity::Error,
                    Code::ErrYamlParse,
                    e.message,
                    file_idx,
                    vec![("rules content".into(), e.pos)],
                );
                return;
            }
        };
        for doc in docs {
            if doc.is_null() {
                continue;
            }
            let Some(items) = doc.as_seq() else {
                self.push_diag(
                    Severity::Error,
                    Code::ErrYamlValidate,
                    "Rules content is not yaml array of objects".into(),
                    file_idx,
                    vec![("rules content".into(), doc.pos)],
                );
                return;
            };
            for item in items {
                if let Err(e) = self.load_item(item, file_idx) {
                    let mut ctx = vec![(item_desc(item), item.pos)];
                    if let Some(k) = &e.key {
                        ctx.push((format!("{k} key"), e.pos));
                    } else if e.pos != item.pos {
                        ctx.push(("value".into(), e.pos));
                    }
                    self.push_diag(Severity::Error, e.code, e.message, file_idx, ctx);
                    return;
                }
            }
        }
    }

    /// Records a diagnostic with a context chain starting at the file.
    pub(crate) fn push_diag(
        &mut self,
        severity: Severity,
        code: Code,
        message: String,
        file: usize,
        chain: Vec<(String, Pos)>,
    ) {
        let path = self.files[file].path.clone();
        let mut context = vec![Context {
            what: "rules content".into(),
            file: path.clone(),
            pos: Pos { line: 1, col: 1 },
        }];
        let mut snippet = None;
        for (what, pos) in chain {
            if what == "rules content" {
                context[0].pos = pos;
            } else {
                context.push(Context {
                    what,
                    file: path.clone(),
                    pos,
                });
            }
            snippet = self.files[file]
                .content
                .lines()
                .nth(pos.line.saturating_sub(1))
                .map(str::to_string);
        }
        self.diags.push(Diagnostic {
            severity,
            code,
            message,
            context,
            snippet,
        });
    }

    fn warn_item(
        &mut self,
        code: Code,
        message: String,
        file: usize,
        item: &Node,
        at: Option<(&str, Pos)>,
    ) {
        let mut chain = vec![(item_desc(item), item.pos)];
        if let Some((what, pos)) = at {
            chain.push((what.to_string(), pos));
        }
        self.push_diag(Severity::Warning, code, message, file, chain);
    }

    fn load_item(&mut self, item: &Node, file: usize) -> ItemResult<()> {
        let Some(entries) = item.as_map() else {
            return validate(
                item.pos,
                "Unexpected element type. Each element should be a yaml associative array.",
            );
        };
        for (k, _) in entries {
            if k.as_str().is_none() {
                return validate(k.pos, "Item keys must be strings");
            }
        }
        if let Some(v) = item.get("required_engine_version") {
            let s = match &v.value {
                NodeValue::Scalar { text, .. } => text.clone(),
                _ => {
                    return validate(
                        v.pos,
                        "Value of required_engine_version must be a number or a version string",
                    );
                }
            };
            self.engine_versions.push((s, ItemLoc { file, pos: v.pos }));
            Ok(())
        } else if let Some(v) = item.get("required_plugin_versions") {
            self.load_plugin_requirements(v, file)
        } else if item.get("list").is_some() {
            self.load_list(item, file)
        } else if item.get("macro").is_some() {
            self.load_macro(item, file)
        } else if item.get("rule").is_some() {
            self.load_rule(item, file)
        } else {
            let key = entries[0].0.as_str().unwrap_or_default().to_string();
            self.warn_item(
                Code::UnknownItem,
                format!("Unknown top level item '{key}'"),
                file,
                item,
                None,
            );
            Ok(())
        }
    }

    fn load_plugin_requirements(&mut self, v: &Node, file: usize) -> ItemResult<()> {
        let Some(reqs) = v.as_seq() else {
            return validate(
                v.pos,
                "Value of required_plugin_versions must be a sequence",
            );
        };
        for r in reqs {
            let name = req_str(r, "name")?;
            let version = req_str(r, "version")?;
            let mut alternatives = Vec::new();
            if let Some(alts) = r.get("alternatives") {
                let Some(alts) = alts.as_seq() else {
                    return validate(alts.pos, "Value of alternatives must be a sequence");
                };
                for a in alts {
                    alternatives.push((req_str(a, "name")?, req_str(a, "version")?));
                }
            }
            self.plugin_requirements.push(PluginRequirement {
                name,
                version,
                alternatives,
                loc: ItemLoc { file, pos: r.pos },
            });
        }
        Ok(())
    }

    fn check_keys(&mut self, item: &Node, allowed: &[&str], file: usize) {
        for (k, _) in item.as_map().unwrap_or_default() {
            let key = k.as_str().unwrap_or_default();
            if !allowed.contains(&key) {
                self.warn_item(
                    Code::UnknownKey,
                    format!("Unknown key '{key}'. The key will be ignored."),
                    file,
                    item,
                    Some((key, k.pos)),
                );
            }
        }
    }

    /// Decides define/append/replace for `key` from `append`/`override`.
    fn mode_for(
        item: &Node,
        key: &str,
        appendable: &[&str],
        replaceable: &[&str],
    ) -> ItemResult<Mode> {
        let append = opt_bool(item, "append")?.unwrap_or(false);
        match item.get("override") {
            None => Ok(if append { Mode::Append } else { Mode::Define }),
            Some(ov) => {
                if append {
                    return err(
                        Code::ErrYamlValidate,
                        ov.pos,
                        "Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.",
                    );
                }
                match ov.get(key) {
                    None => Ok(Mode::Define),
                    Some(m) => match m.as_str() {
                        Some("append") if appendable.contains(&key) => Ok(Mode::Append),
                        Some("replace") if replaceable.contains(&key) => Ok(Mode::Replace),
                        Some(other) => validate(
                            m.pos,
                            format!(
                                "Key '{key}' cannot be overridden with '{other}'. Allowed values are: {}",
                                allowed_modes(key, appendable, replaceable)
                            ),
                        ),
                        None => validate(
                            m.pos,
                            format!("Value of override key '{key}' must be a string"),
                        ),
                    },
                }
            }
        }
    }

    /// Validates the `override` map: only known keys, each present in the item.
    fn check_override(item: &Node, appendable: &[&str], replaceable: &[&str]) -> ItemResult<bool> {
        let Some(ov) = item.get("override") else {
            return Ok(false);
        };
        let Some(entries) = ov.as_map() else {
            return validate(ov.pos, "Value of override must be a map");
        };
        for (k, v) in entries {
            let key = k.as_str().unwrap_or_default();
            if !replaceable.contains(&key) && !appendable.contains(&key) {
                return validate(
                    k.pos,
                    format!("Unexpected key '{key}': override is not supported for it"),
                );
            }
            if item.get(key).is_none() {
                return validate(
                    v.pos,
                    format!(
                        "An 'override' entry for '{key}' was specified but '{key}' is not defined"
                    ),
                );
            }
        }
        Ok(true)
    }

    fn load_list(&mut self, item: &Node, file: usize) -> ItemResult<()> {
        self.check_keys(item, LIST_KEYS, file);
        let name = req_str(item, "list")?;
        if !valid_list_name(&name) {
            self.warn_item(Code::InvalidListName, "List has an invalid name. List names should match a regular expression: ([^()\"'[:space:]=,]+)".into(), file, item, None);
        }
        let has_override = Self::check_override(item, &["items"], &["items"])?;
        let items_node = item
            .get("items")
            .ok_or_else(|| missing_key(item, "items"))?;
        let items = list_items(items_node)?;
        let mode = Self::mode_for(item, "items", &["items"], &["items"])?;
        let loc = ItemLoc {
            file,
            pos: item.pos,
        };
        if mode == Mode::Append && items.is_empty() {
            self.warn_item(
                Code::AppendNoValues,
                "Overriding/appending list with no values".into(),
                file,
                item,
                None,
            );
        }
        match (mode, self.list_idx.get(&name)) {
            (Mode::Define, _) if has_override => {
                validate(item.pos, "override key present but no entry for 'items'")
            }
            (Mode::Define, Some(&i)) => {
                let l = &mut self.lists[i];
                l.items = items;
                l.loc = loc;
                Ok(())
            }
            (Mode::Define, None) => {
                self.list_idx.insert(name.clone(), self.lists.len());
                self.lists.push(ListDef {
                    name,
                    items,
                    index: self.lists.len(),
                    loc,
                    used: false,
                });
                Ok(())
            }
            (Mode::Append | Mode::Replace, None) => {
                validate(item.pos, no_previous("List", "items", mode))
            }
            (Mode::Append, Some(&i)) => {
                self.lists[i].items.extend(items);
                Ok(())
            }
            (Mode::Replace, Some(&i)) => {
                self.lists[i].items = items;
                Ok(())
            }
        }
    }

    fn load_macro(&mut self, item: &Node, file: usize) -> ItemResult<()> {
        self.check_keys(item, MACRO_KEYS, file);
        let name = req_str(item, "macro")?;
        if !valid_macro_name(&name) {
            self.warn_item(Code::InvalidMacroName, "Macro has an invalid name. Macro names should match a regular expression: ([a-zA-Z]+[a-zA-Z0-9_]*)".into(), file, item, None);
        }
        let has_override = Self::check_override(item, &["condition"], &["condition"])?;
        let cond_node = item
            .get("condition")
            .ok_or_else(|| missing_key(item, "condition"))?;
        let condition = Text::new(&scalar(cond_node, "condition")?, file, cond_node.pos);
        let mode = Self::mode_for(item, "condition", &["condition"], &["condition"])?;
        let loc = ItemLoc {
            file,
            pos: item.pos,
        };
        match (mode, self.macro_idx.get(&name)) {
            (Mode::Define, _) if has_override => validate(
                item.pos,
                "override key present but no entry for 'condition'",
            ),
            (Mode::Define, Some(&i)) => {
                let m = &mut self.macros[i];
                m.condition = condition;
                m.loc = loc;
                Ok(())
            }
            (Mode::Define, None) => {
                self.macro_idx.insert(name.clone(), self.macros.len());
                self.macros.push(MacroDef {
                    name,
                    condition,
                    index: self.macros.len(),
                    loc,
                    used: false,
                });
                Ok(())
            }
            (_, None) => validate(item.pos, no_previous("Macro", "condition", mode)),
            (Mode::Append, Some(&i)) => {
                self.macros[i].condition.append(&condition);
                Ok(())
            }
            (Mode::Replace, Some(&i)) => {
                self.macros[i].condition = condition;
                Ok(())
            }
        }
    }

    fn load_rule(&mut self, item: &Node, file: usize) -> ItemResult<()> {
        self.check_keys(item, RULE_KEYS, file);
        let name = req_str(item, "rule")?;
        let has_override = Self::check_override(item, RULE_APPENDABLE, RULE_REPLACEABLE)?;
        let legacy_append = opt_bool(item, "append")?.unwrap_or(false);
        let loc = ItemLoc {
            file,
            pos: item.pos,
        };
        let text = |key: &str| -> ItemResult<Option<Text>> {
            item.get(key)
                .map(|n| Ok(Text::new(&scalar(n, key)?, file, n.pos)))
                .transpose()
        };
        let condition = text("condition")?;
        let output = text("output")?;
        let desc = text("desc")?;
        let priority = match item.get("priority") {
            None => None,
            Some(n) => {
                let s = scalar(n, "priority")?;
                Some(Priority::parse(&s).ok_or_else(|| ItemError {
                    code: Code::ErrYamlValidate,
                    message: format!("Invalid priority '{s}'"),
                    pos: n.pos,
                    key: Some("priority".into()),
                })?)
            }
        };
        let source = item
            .get("source")
            .map(|n| scalar(n, "source"))
            .transpose()?;
        let enabled = opt_bool(item, "enabled")?;
        let tags = item.get("tags").map(string_seq).transpose()?;
        let exceptions = item
            .get("exceptions")
            .map(|n| self.exceptions(n, file))
            .transpose()?;
        let warn_evttypes = opt_bool(item, "warn_evttypes")?;
        let skip_unknown = opt_bool(item, "skip-if-unknown-filter")?;
        let capture = opt_bool(item, "capture")?;
        let capture_duration = match item.get("capture_duration") {
            None => None,
            Some(n) => {
                Some(
                    scalar(n, "capture_duration")?
                        .parse::<u64>()
                        .map_err(|_| ItemError {
                            code: Code::ErrYamlValidate,
                            message: "Value of capture_duration must be a non-negative integer"
                                .into(),
                            pos: n.pos,
                            key: Some("capture_duration".into()),
                        })?,
                )
            }
        };

        if has_override || legacy_append {
            let Some(&idx) = self.rule_idx.get(&name) else {
                // Name the first overridden key, as Falco does.
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
                return validate(item.pos, no_previous("Rule", &key, mode));
            };
            if legacy_append {
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
            }
            if let Some(src) = &source
                && !src.is_empty()
                && *src != self.rules[idx].source
            {
                return validate(
                    item.pos,
                    format!(
                        "Rule '{name}' redefined with a different source ({src} vs {})",
                        self.rules[idx].source
                    ),
                );
            }
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
                        Self::mode_for(item, k, RULE_APPENDABLE, RULE_REPLACEABLE)?
                    };
                    Ok((*k, m))
                })
                .collect::<ItemResult<_>>()?;
            // Every present key other than the name/override needs an override entry.
            for (k, v) in item.as_map().unwrap_or_default() {
                let key = k.as_str().unwrap_or_default();
                if matches!(key, "rule" | "override" | "append" | "source")
                    || !RULE_KEYS.contains(&key)
                {
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
            let r = &mut self.rules[idx];
            let apply_text = |dst: &mut Text, new: Option<Text>, m: Mode| {
                if let Some(t) = new {
                    match m {
                        Mode::Append => dst.append(&t),
                        Mode::Replace => *dst = t,
                        Mode::Define => {}
                    }
                }
            };
            apply_text(&mut r.condition, condition, modes["condition"]);
            apply_text(&mut r.output, output, modes["output"]);
            apply_text(&mut r.desc, desc, modes["desc"]);
            if let Some(t) = tags {
                match modes["tags"] {
                    Mode::Append => r.tags.extend(t),
                    Mode::Replace => r.tags = t.into_iter().collect(),
                    Mode::Define => {}
                }
            }
            if let Some(excs) = exceptions {
                match modes["exceptions"] {
                    Mode::Append => append_exceptions(&mut r.exceptions, excs)?,
                    Mode::Replace => r.exceptions = excs,
                    Mode::Define => {}
                }
            }
            let replace = |k: &str| modes[k] == Mode::Replace;
            if let (Some(p), true) = (priority, replace("priority")) {
                r.priority = p;
            }
            if let (Some(e), true) = (enabled, replace("enabled")) {
                r.enabled = e;
            }
            if let (Some(w), true) = (warn_evttypes, replace("warn_evttypes")) {
                r.warn_evttypes = w;
            }
            if let (Some(s), true) = (skip_unknown, replace("skip-if-unknown-filter")) {
                r.skip_if_unknown_filter = s;
            }
            if let (Some(c), true) = (capture, replace("capture")) {
                r.capture = c;
            }
            if replace("capture_duration") {
                r.capture_duration = capture_duration;
            }
            return Ok(());
        }

        // Legacy enabled-only item: toggles an existing rule.
        if condition.is_none() && output.is_none() && desc.is_none() && priority.is_none() {
            let Some(en) = enabled else {
                return validate(
                    item.pos,
                    format!(
                        "Rule '{name}' is missing required keys: condition, output, desc, priority"
                    ),
                );
            };
            let Some(&idx) = self.rule_idx.get(&name) else {
                return validate(
                    item.pos,
                    format!(
                        "Rule '{name}' has 'enabled' key but no rule by that name already exists"
                    ),
                );
            };
            self.warn_item(Code::WarningEnabled, "The standalone 'enabled' key usage is deprecated. The correct approach requires also a 'replace' entry under the 'override' key (i.e. 'enabled: replace').".into(), file, item, None);
            self.rules[idx].enabled = en;
            return Ok(());
        }

        let mut missing = Vec::new();
        for (k, present) in [
            ("condition", condition.is_some()),
            ("output", output.is_some()),
            ("desc", desc.is_some()),
            ("priority", priority.is_some()),
        ] {
            if !present {
                missing.push(k);
            }
        }
        if !missing.is_empty() {
            return validate(
                item.pos,
                format!("Item has no mapping for key '{}'", missing.join("', '")),
            );
        }
        let source = source
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "syscall".to_string());
        let mut exceptions = exceptions.unwrap_or_default();
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
        let mut def = RuleDef {
            name: name.clone(),
            condition: condition.expect("checked"),
            output: output.expect("checked"),
            desc: desc.expect("checked"),
            priority: priority.expect("checked"),
            source,
            enabled: enabled.unwrap_or(true),
            tags: tags.unwrap_or_default().into_iter().collect(),
            exceptions,
            warn_evttypes: warn_evttypes.unwrap_or(true),
            skip_if_unknown_filter: skip_unknown.unwrap_or(false),
            capture: capture.unwrap_or(false),
            capture_duration,
            index: self.rules.len(),
            loc,
        };
        match self.rule_idx.get(&name) {
            Some(&i) => {
                if self.rules[i].source != def.source {
                    return validate(
                        item.pos,
                        format!(
                            "Rule '{name}' redefined with a different source ({} vs {})",
                            def.source, self.rules[i].source
                        ),
                    );
                }
                def.index = i;
                self.rules[i] = def;
            }
            None => {
                self.rule_idx.insert(name, self.rules.len());
                self.rules.push(def);
            }
        }
        Ok(())
    }

    fn exceptions(&mut self, node: &Node, file: usize) -> ItemResult<Vec<ExceptionDef>> {
        let Some(items) = node.as_seq() else {
            return validate(node.pos, "Rule exceptions must be a sequence");
        };
        items.iter().map(|e| self.exception(e, file)).collect()
    }

    fn exception(&mut self, e: &Node, file: usize) -> ItemResult<ExceptionDef> {
        if e.as_map().is_none() {
            return validate(e.pos, "Rule exception must be a map");
        }
        for (k, _) in e.as_map().unwrap_or_default() {
            let key = k.as_str().unwrap_or_default();
            if !EXCEPTION_KEYS.contains(&key) {
                self.push_diag(
                    Severity::Warning,
                    Code::UnknownKey,
                    format!("Unknown key '{key}'. The key will be ignored."),
                    file,
                    vec![("exception".into(), e.pos), (key.into(), k.pos)],
                );
            }
        }
        let name = req_str(e, "name")?;
        let loc = ItemLoc { file, pos: e.pos };
        let fields = match e.get("fields") {
            None => ExceptionFields::Tuple(Vec::new()),
            Some(f) => match &f.value {
                NodeValue::Seq(_) => ExceptionFields::Tuple(string_seq(f)?),
                NodeValue::Scalar { text, .. } => ExceptionFields::Single(text.clone()),
                _ => {
                    return validate(
                        f.pos,
                        format!(
                            "Rule exception item {name}: fields must be a sequence or a string"
                        ),
                    );
                }
            },
        };
        let comps = match e.get("comps") {
            None => Vec::new(),
            Some(c) => match &c.value {
                NodeValue::Seq(_) => string_seq(c)?,
                NodeValue::Scalar { text, .. } => vec![text.clone()],
                _ => {
                    return validate(
                        c.pos,
                        format!("Rule exception item {name}: comps must be a sequence or a string"),
                    );
                }
            },
        };
        let values = match e.get("values") {
            None
            | Some(Node {
                value: NodeValue::Null,
                ..
            }) => Vec::new(),
            Some(v) => {
                let Some(items) = v.as_seq() else {
                    return validate(
                        v.pos,
                        format!("Rule exception item {name}: values must be a sequence"),
                    );
                };
                items
                    .iter()
                    .map(exception_value)
                    .collect::<ItemResult<_>>()?
            }
        };
        Ok(ExceptionDef {
            name,
            fields,
            comps,
            values,
            loc,
        })
    }

    /// Index of a macro by name.
    pub fn macro_index(&self, name: &str) -> Option<usize> {
        self.macro_idx.get(name).copied()
    }
}

fn append_exceptions(existing: &mut Vec<ExceptionDef>, new: Vec<ExceptionDef>) -> ItemResult<()> {
    for e in new {
        match existing.iter_mut().find(|x| x.name == e.name) {
            Some(x) => {
                let has_fields = !matches!(&e.fields, ExceptionFields::Tuple(f) if f.is_empty());
                if has_fields || !e.comps.is_empty() {
                    return validate(
                        e.loc.pos,
                        format!(
                            "Can not append exception fields or comps to existing exception '{}', only values",
                            e.name
                        ),
                    );
                }
                x.values.extend(e.values);
            }
            None => {
                if matches!(&e.fields, ExceptionFields::Tuple(f) if f.is_empty()) {
                    return validate(
                        e.loc.pos,
                        format!(
                            "Rule exception new item {}: must have fields property with a list of fields",
                            e.name
                        ),
                    );
                }
                existing.push(e);
            }
        }
    }
    Ok(())
}

fn dedup_exception_names(excs: &mut [ExceptionDef], mut warn: impl FnMut(&str, Pos)) {
    let mut seen = BTreeSet::new();
    for e in excs.iter() {
        if !seen.insert(e.name.clone()) {
            warn(&e.name, e.loc.pos);
        }
    }
}

fn exception_value(n: &Node) -> ItemResult<ExceptionValue> {
    match &n.value {
        NodeValue::Scalar { text, .. } => Ok(ExceptionValue::Scalar(text.clone())),
        NodeValue::Seq(items) => Ok(ExceptionValue::List(
            items
                .iter()
                .map(exception_value)
                .collect::<ItemResult<_>>()?,
        )),
        NodeValue::Null => Ok(ExceptionValue::Scalar(String::new())),
        NodeValue::Map(_) => validate(n.pos, "Exception values must be scalars or sequences"),
    }
}

/// Falco's messages for an append/override of an item that does not exist.
fn no_previous(kind: &str, key: &str, mode: Mode) -> String {
    let lower = kind.to_lowercase();
    match mode {
        Mode::Replace if kind == "Rule" => {
            format!(
                "An 'override.{key}: replace' to a rule was requested but no rule by that name already exists"
            )
        }
        _ => format!(
            "{kind} uses 'append' or 'override.{key}: append' but no {lower} by that name already exists"
        ),
    }
}

fn allowed_modes(key: &str, appendable: &[&str], replaceable: &[&str]) -> String {
    let mut v = Vec::new();
    if appendable.contains(&key) {
        v.push("append");
    }
    if replaceable.contains(&key) {
        v.push("replace");
    }
    v.join(", ")
}

fn item_desc(item: &Node) -> String {
    for kind in ["rule", "macro", "list"] {
        if let Some(n) = item.get(kind) {
            return format!("{kind} '{}'", n.as_str().unwrap_or(""));
        }
    }
    if item.get("required_engine_version").is_some() {
        return "required_engine_version".into();
    }
    if item.get("required_plugin_versions").is_some() {
        return "required_plugin_versions".into();
    }
    "rules item".into()
}

fn missing_key(item: &Node, key: &str) -> ItemError {
    ItemError {
        code: Code::ErrYamlValidate,
        message: format!("Item has no mapping for key '{key}'"),
        pos: item.pos,
        key: None,
    }
}

fn scalar(n: &Node, key: &str) -> ItemResult<String> {
    match &n.value {
        NodeValue::Scalar { text, .. } => Ok(text.clone()),
        NodeValue::Null => Ok(String::new()),
        _ => Err(ItemError {
            code: Code::ErrYamlValidate,
            message: format!("Value of {key} must be a string, not {}", n.kind_name()),
            pos: n.pos,
            key: Some(key.into()),
        }),
    }
}

fn req_str(item: &Node, key: &str) -> ItemResult<String> {
    let n = item.get(key).ok_or_else(|| missing_key(item, key))?;
    let s = scalar(n, key)?;
    if s.is_empty() {
        return validate(n.pos, format!("Mapping for key '{key}' is empty"));
    }
    Ok(s)
}

fn opt_bool(item: &Node, key: &str) -> ItemResult<Option<bool>> {
    match item.get(key) {
        None => Ok(None),
        Some(n) => n.as_bool().map(Some).ok_or_else(|| ItemError {
            code: Code::ErrYamlValidate,
            message: format!("Value of {key} must be a boolean (true or false)"),
            pos: n.pos,
            key: Some(key.into()),
        }),
    }
}

fn string_seq(n: &Node) -> ItemResult<Vec<String>> {
    match &n.value {
        NodeValue::Seq(items) => items
            .iter()
            .map(|i| match &i.value {
                NodeValue::Scalar { text, .. } => Ok(text.clone()),
                _ => validate(i.pos, format!("Expected a string, found {}", i.kind_name())),
            })
            .collect(),
        NodeValue::Null => Ok(Vec::new()),
        _ => validate(
            n.pos,
            format!("Expected a sequence of strings, found {}", n.kind_name()),
        ),
    }
}

/// List items; those with blanks get quoted for the textual expansion.
fn list_items(n: &Node) -> ItemResult<Vec<String>> {
    match &n.value {
        NodeValue::Seq(items) => items
            .iter()
            .map(|i| match &i.value {
                NodeValue::Scalar { text, .. } => Ok(text.clone()),
                NodeValue::Null => Ok(String::new()),
                _ => validate(
                    i.pos,
                    format!("List items must be scalars, found {}", i.kind_name()),
                ),
            })
            .collect(),
        NodeValue::Null => Ok(Vec::new()),
        _ => validate(
            n.pos,
            format!("Value of items must be a sequence, not {}", n.kind_name()),
        ),
    }
}

fn valid_macro_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphabetic()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

fn valid_list_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '(' | ')' | '"' | '\'' | '=' | ','))
}
