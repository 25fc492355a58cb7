//! Reading rules files: YAML items → lists, macros and rules, with Falco's
//! `override`/`append` and redefinition semantics (`rule_loader_reader` and
//! `rule_loader_collector` in Falco).
//!
//! Lists, macros and rules share one mechanism for redefinition and
//! `override`/`append` (`changes`); each kind of item has its own file.

mod changes;
mod exceptions;
mod lists;
mod macros;
mod rules;
mod value;

use super::diag::{Code, Context, Diagnostic, Severity};
use crate::priority::Priority;
use crate::yaml::{Node, NodeValue, Pos, parse_documents};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use value::req_str;

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
    /// One YAML value's text.
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

    /// Appends `other` after a blank.
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
    /// Capture on match (the `capture` config records events after it).
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

/// An item error without a key.
fn err<T>(code: Code, pos: Pos, message: impl Into<String>) -> ItemResult<T> {
    Err(ItemError {
        code,
        message: message.into(),
        pos,
        key: None,
    })
}

/// A validation error.
fn validate<T>(pos: Pos, message: impl Into<String>) -> ItemResult<T> {
    err(Code::ErrYamlValidate, pos, message)
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

    /// Records a warning about an item (and one of its keys).
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

    /// Reads one top-level item.
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

    /// Reads `required_plugin_versions`.
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

    /// Warns about keys the item does not accept.
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

    /// Index of a macro by name.
    pub fn macro_index(&self, name: &str) -> Option<usize> {
        self.macro_idx.get(name).copied()
    }
}

/// How diagnostics name an item (`rule 'x'`).
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
