//! Rule fixtures: `falco-wasm test RULES... --fixtures FILE`.
//!
//! A fixture file is YAML: a list of cases, each an event (source, type and
//! field values) and the rules that must and must not trigger on it:
//!
//! ```yaml
//! - case: shell spawned by a web server
//!   source: syscall            # default
//!   type: execve               # evt.type
//!   fields:
//!     proc.name: bash
//!     proc.pname: nginx
//!     proc.aname: [nginx, systemd]   # ancestors, parent first
//!     user.uid: 33
//!   expect: [Run shell untrusted]    # must trigger
//!   forbid: [System user interactive]  # must not trigger ("*": nothing else may)
//! ```
//!
//! Every case is evaluated with both back ends (generated Wasm and the
//! interpreter) with `rule_matching: all`; a disagreement fails the case.

use crate::engine::{Backend, EngineError, EngineOptions, Event, RuleMatching, SourceEngine};
use crate::fields::{FieldDef, ResolvedField, SourceFields, ValueKind};
use crate::filter::ir::ip_bytes;
use crate::filter::value::{SlotValue, Value, ValueSink};
use crate::rules::LoadedRules;
use crate::yaml::{Node, NodeValue, parse_documents};
use std::collections::{BTreeSet, HashMap};

/// One fixture case.
#[derive(Clone, Debug)]
pub struct Case {
    /// Name.
    pub name: String,
    /// Line in the fixture file.
    pub line: usize,
    /// Event source.
    pub source: String,
    /// The event.
    pub event: FixtureEvent,
    /// Rules that must trigger.
    pub expect: Vec<String>,
    /// Rules that must not trigger (`*` = any rule not in `expect`).
    pub forbid: Vec<String>,
}

/// An event given by its field values.
#[derive(Clone, Debug, Default)]
pub struct FixtureEvent {
    /// `evt.type`.
    pub evt_type: Option<String>,
    /// Values by display name (`proc.name`, `proc.aname[2]`, `evt.arg.flags`).
    pub values: HashMap<String, SlotValue>,
    /// Display names of the source's fields, by field id (for lookups).
    names: Vec<&'static str>,
}

impl FixtureEvent {
    /// Builds an event for `fields` from (name, value) pairs already typed.
    pub fn new(
        fields: &SourceFields,
        evt_type: Option<String>,
        values: HashMap<String, SlotValue>,
    ) -> FixtureEvent {
        FixtureEvent {
            evt_type,
            values,
            names: fields.fields().iter().map(|f| f.name).collect(),
        }
    }
}

impl Event for FixtureEvent {
    fn evt_type(&self) -> Option<&str> {
        self.evt_type.as_deref()
    }

    fn extract(&self, field: &ResolvedField, out: &mut dyn ValueSink) {
        self.value(field).emit(out);
    }
}

impl FixtureEvent {
    fn value(&self, field: &ResolvedField) -> SlotValue {
        let base = self.names[field.id as usize];
        if base == "evt.type" && field.arg.is_none() {
            return self
                .evt_type
                .as_deref()
                .map_or(SlotValue::Missing, |t| SlotValue::One(Value::str(t)));
        }
        let name = match (&field.arg, base.ends_with('.')) {
            (Some(a), true) => format!("{base}{a}"),
            (Some(a), false) => format!("{base}[{a}]"),
            (None, _) => base.to_string(),
        };
        if let Some(v) = self.values.get(&name) {
            return v.clone();
        }
        // `proc.aname[N]` from `proc.aname` (ancestors, parent first) and
        // the process itself for N = 0.
        if let (Some(idx), Some(self_field)) = (
            field.arg.as_deref().and_then(|a| a.parse::<usize>().ok()),
            ancestor_self(base),
        ) {
            if idx == 0 {
                return self.values.get(self_field).cloned().unwrap_or_default();
            }
            if let Some(SlotValue::Many(list)) = self.values.get(base) {
                return list
                    .get(idx - 1)
                    .cloned()
                    .map_or(SlotValue::Missing, SlotValue::One);
            }
        }
        SlotValue::Missing
    }
}

/// For an ancestor field, the field describing the process itself.
fn ancestor_self(name: &str) -> Option<&'static str> {
    Some(match name {
        "proc.aname" => "proc.name",
        "proc.apid" => "proc.pid",
        "proc.aexe" => "proc.exe",
        "proc.aexepath" => "proc.exepath",
        "proc.acmdline" => "proc.cmdline",
        _ => return None,
    })
}

/// A fixture file problem, with its line.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct FixtureError {
    /// File.
    pub file: String,
    /// Line.
    pub line: usize,
    /// Message.
    pub message: String,
}

/// Parses a fixture file against the loaded sources' fields.
pub fn parse_fixtures(
    file: &str,
    text: &str,
    rules: &LoadedRules,
    registry: &crate::fields::FieldRegistry,
) -> Result<Vec<Case>, FixtureError> {
    let p = FixtureParser {
        file,
        rules,
        registry,
    };
    let docs = parse_documents(text)
        .map_err(|e| p.err(e.pos.line, format!("invalid YAML: {}", e.message)))?;
    let mut cases = Vec::new();
    for doc in docs.iter().filter(|d| !d.is_null()) {
        let items = doc
            .as_seq()
            .ok_or_else(|| p.err(doc.pos.line, "a fixture file is a list of cases".into()))?;
        for item in items {
            cases.push(p.case(item)?);
        }
    }
    Ok(cases)
}

/// What fixture cases are checked against.
struct FixtureParser<'a> {
    file: &'a str,
    rules: &'a LoadedRules,
    registry: &'a crate::fields::FieldRegistry,
}

impl FixtureParser<'_> {
    /// An error at a line of the file.
    fn err(&self, line: usize, message: String) -> FixtureError {
        FixtureError {
            file: self.file.to_string(),
            line,
            message,
        }
    }

    /// One case.
    fn case(&self, item: &Node) -> Result<Case, FixtureError> {
        let line = item.pos.line;
        let s = |k: &str| item.get(k).and_then(Node::as_str).map(str::to_string);
        let name = s("case")
            .or_else(|| s("name"))
            .ok_or_else(|| self.err(line, "case without a 'case' name".into()))?;
        let source = s("source").unwrap_or_else(|| crate::fields::SYSCALL_SOURCE.to_string());
        let fields = self
            .rules
            .source(&source)
            .map(|r| &r.fields)
            .or_else(|| self.registry.source(&source))
            .ok_or_else(|| self.err(line, format!("case '{name}': unknown source '{source}'")))?;
        let values = self.values(item, &name, fields)?;
        let expect = self.rule_names(item, "expect", &name)?;
        let forbid = self.rule_names(item, "forbid", &name)?;
        for r in expect.iter().chain(forbid.iter().filter(|f| *f != "*")) {
            if !self.rules.all_rules().any(|x| &x.name == r) {
                return Err(self.err(
                    line,
                    format!("case '{name}': no loaded rule is named '{r}'"),
                ));
            }
        }
        let evt_type = s("type").or_else(|| {
            values.get("evt.type").and_then(|v| match v {
                SlotValue::One(Value::Bytes(b)) => Some(String::from_utf8_lossy(b).into_owned()),
                _ => None,
            })
        });
        if let Some(t) = &evt_type
            && !fields.event_names().is_empty()
            && !fields.is_event_name(t)
        {
            return Err(self.err(line, format!("case '{name}': unknown event type '{t}'")));
        }
        Ok(Case {
            name,
            line,
            source,
            event: FixtureEvent::new(fields, evt_type, values),
            expect,
            forbid,
        })
    }

    /// The case's `fields`, typed by the source's fields.
    fn values(
        &self,
        item: &Node,
        name: &str,
        fields: &SourceFields,
    ) -> Result<HashMap<String, SlotValue>, FixtureError> {
        let mut values = HashMap::new();
        let Some(f) = item.get("fields") else {
            return Ok(values);
        };
        let entries = f.as_map().ok_or_else(|| {
            self.err(
                f.pos.line,
                format!("case '{name}': 'fields' must be a mapping"),
            )
        })?;
        for (k, v) in entries {
            let key = k.as_str().unwrap_or_default();
            let value = typed_value(fields, key, v)
                .map_err(|m| self.err(k.pos.line, format!("case '{name}': field '{key}': {m}")))?;
            values.insert(key.to_string(), value);
        }
        Ok(values)
    }

    /// `expect` or `forbid`: one rule name or a list.
    fn rule_names(&self, item: &Node, k: &str, name: &str) -> Result<Vec<String>, FixtureError> {
        match item.get(k) {
            None => Ok(Vec::new()),
            Some(n) => match &n.value {
                NodeValue::Scalar { text, .. } => Ok(vec![text.clone()]),
                NodeValue::Seq(v) => Ok(v
                    .iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()),
                NodeValue::Null => Ok(Vec::new()),
                _ => Err(self.err(
                    n.pos.line,
                    format!("case '{name}': '{k}' must be a list of rule names"),
                )),
            },
        }
    }
}

/// Types a YAML value for a field.
fn typed_value(fields: &SourceFields, key: &str, v: &Node) -> Result<SlotValue, String> {
    let (name, arg) = match key.split_once('[') {
        Some((n, a)) => (n, Some(a.trim_end_matches(']'))),
        None => (key, None),
    };
    let f = fields.lookup(name, arg).map_err(|e| e.to_string())?;
    let def: &FieldDef = fields.def(f.id);
    let kind = if def.name.starts_with("evt.rawarg") {
        infer_kind(v)
    } else {
        def.ty.kind()
    };
    let one = |n: &Node| -> Result<Value, String> {
        let text = match &n.value {
            NodeValue::Scalar { text, .. } => text.clone(),
            NodeValue::Null => String::new(),
            _ => return Err("expected a scalar".into()),
        };
        Ok(match kind {
            ValueKind::Str | ValueKind::Bytes => Value::Bytes(text.into_bytes()),
            ValueKind::Num => Value::Num(
                text.parse::<i64>()
                    .or_else(|_| text.parse::<u64>().map(|u| u as i64))
                    .map_err(|_| format!("'{text}' is not a number"))?,
            ),
            ValueKind::Double => Value::Double(
                text.parse()
                    .map_err(|_| format!("'{text}' is not a number"))?,
            ),
            ValueKind::Bool => Value::Bool(match text.as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(format!("'{text}' is not true or false")),
            }),
            ValueKind::Ip | ValueKind::IpNet => Value::Ip(ip_bytes(
                text.parse()
                    .map_err(|_| format!("'{text}' is not an IP address"))?,
            )),
        })
    };
    let multi = def.flags.list || (def.flags.any_ancestor_without_arg && f.arg.is_none());
    match (&v.value, multi) {
        (NodeValue::Seq(items), true) => Ok(SlotValue::Many(
            items.iter().map(one).collect::<Result<_, _>>()?,
        )),
        (NodeValue::Seq(_), false) => Err("this field has one value, not a list".into()),
        (NodeValue::Null, _) => Ok(SlotValue::Missing),
        (_, true) => Ok(SlotValue::Many(vec![one(v)?])),
        (_, false) => Ok(SlotValue::One(one(v)?)),
    }
}

fn infer_kind(v: &Node) -> ValueKind {
    match v.as_str() {
        Some(t)
            if !matches!(v.value, NodeValue::Scalar { quoted: true, .. })
                && t.parse::<i64>().is_ok() =>
        {
            ValueKind::Num
        }
        _ => ValueKind::Str,
    }
}

/// The outcome of one case.
#[derive(Clone, Debug)]
pub struct CaseResult {
    /// Case name.
    pub name: String,
    /// Line in the fixture file.
    pub line: usize,
    /// Rules that triggered.
    pub triggered: BTreeSet<String>,
    /// The triggered rules' outputs, rendered for the event, in load order.
    pub outputs: Vec<(String, String)>,
    /// Failures (empty when the case passed).
    pub failures: Vec<String>,
}

/// Runs cases against both back ends.
pub fn run_cases(rules: &LoadedRules, cases: &[Case]) -> Result<Vec<CaseResult>, EngineError> {
    let mut engines: HashMap<String, (SourceEngine, SourceEngine)> = HashMap::new();
    let mut results = Vec::new();
    for case in cases {
        if !engines.contains_key(&case.source) {
            let Some(src) = rules.source(&case.source) else {
                results.push(CaseResult {
                    name: case.name.clone(),
                    line: case.line,
                    triggered: BTreeSet::new(),
                    outputs: Vec::new(),
                    failures: vec![format!("no rules loaded for source '{}'", case.source)],
                });
                continue;
            };
            let mk = |backend| {
                SourceEngine::new(
                    src.clone(),
                    &EngineOptions {
                        backend,
                        matching: RuleMatching::All,
                        ..EngineOptions::default()
                    },
                )
            };
            engines.insert(
                case.source.clone(),
                (mk(Backend::Wasm)?, mk(Backend::Interp)?),
            );
        }
        let (wasm, interp) = engines.get_mut(&case.source).expect("inserted");
        let mut failures = Vec::new();
        let (mut hw, mut hi) = (Vec::new(), Vec::new());
        if let Err(e) = wasm.process(&case.event, &mut hw) {
            failures.push(format!("evaluation failed: {e}"));
        }
        interp
            .process(&case.event, &mut hi)
            .expect("the interpreter does not fail");
        let names = |h: &[u32], e: &SourceEngine| -> BTreeSet<String> {
            h.iter()
                .map(|&r| e.rules().rules[r as usize].name.clone())
                .collect()
        };
        let triggered = names(&hw, wasm);
        let via_interp = names(&hi, interp);
        if failures.is_empty() && triggered != via_interp {
            failures.push(format!(
                "back ends disagree: wasm {triggered:?}, interpreter {via_interp:?}"
            ));
        }
        for r in &case.expect {
            if !triggered.contains(r) {
                failures.push(format!("expected '{r}' to trigger, it did not"));
            }
        }
        for r in &triggered {
            let forbidden = case.forbid.iter().any(|f| f == r)
                || (case.forbid.iter().any(|f| f == "*") && !case.expect.contains(r));
            if forbidden {
                failures.push(format!("'{r}' triggered but is forbidden"));
            }
        }
        let outputs = hw
            .iter()
            .map(|&r| {
                (
                    wasm.rules().rules[r as usize].name.clone(),
                    wasm.format_output(r, &case.event),
                )
            })
            .collect();
        results.push(CaseResult {
            name: case.name.clone(),
            line: case.line,
            triggered,
            outputs,
            failures,
        });
    }
    Ok(results)
}
