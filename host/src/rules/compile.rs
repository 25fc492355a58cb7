//! From a [`Collection`] of lists, macros and rules to compiled, typed rules
//! per event source (Falco's `rule_loader_compiler`):
//!
//! 1. lists are flattened (a list may use lists defined before it);
//! 2. exceptions become condition text appended to the rule's condition;
//! 3. list names in condition text are replaced by their items (textual);
//! 4. conditions are parsed, and macro references replaced by the macros'
//!    trees (a macro sees only macros defined before it; rules see all);
//! 5. the result is type-checked into IR, and the event types it can match
//!    are computed for the event-type index.

use super::diag::{Code, Context, Diagnostic, Severity};
use super::load::{Collection, ItemLoc, Segment, Text};
use crate::fields::{FieldRegistry, SourceFields};
use crate::filter::ast::{Expr, Span};
use crate::filter::evttypes::EvtSet;
use crate::filter::ir::Ir;
use crate::filter::lower::{LowerError, Program, WarningKind};
use crate::filter::parser::parse_condition;
use crate::outputs::format::OutputFormat;
use crate::priority::Priority;
use crate::yaml::Pos;
use std::collections::{BTreeSet, HashMap};

/// This engine's rules-language version (Falco 0.44.1's engine version).
pub const ENGINE_VERSION: (u64, u64, u64) = (0, 62, 0);

/// Expanded conditions larger than this many nodes are rejected.
const MAX_EXPANDED_NODES: usize = 1_000_000;

/// A compiled rule.
#[derive(Clone, Debug)]
pub struct CompiledRule {
    /// Name.
    pub name: String,
    /// Description.
    pub desc: String,
    /// Output format text.
    pub output_text: String,
    /// Parsed output format (fields are slots of the ruleset's output program).
    pub output: OutputFormat,
    /// Priority.
    pub priority: Priority,
    /// Source.
    pub source: String,
    /// Tags.
    pub tags: BTreeSet<String>,
    /// Enabled in the rules files (selection may change it).
    pub enabled: bool,
    /// The condition (with exceptions) as IR.
    pub ir: Ir,
    /// The condition text after list expansion and exceptions.
    pub condition: String,
    /// Event types the rule can match (syscall source), or every type.
    pub evttypes: EvtSet,
    /// `capture: true`: a match starts recording events (`capture` config).
    pub capture: bool,
    /// `capture_duration` (ms): how long that recording lasts at least.
    pub capture_duration: Option<u64>,
    /// `append_output` extra fields: (name, format) added to the alert's
    /// `output_fields` (a bare `%field` format keeps the field's type).
    pub extra_fields: Vec<(String, OutputFormat)>,
    /// Where it was defined.
    pub file: String,
    /// Line and column.
    pub pos: Pos,
}

/// The compiled rules of one source.
#[derive(Clone, Debug)]
pub struct SourceRules {
    /// The source's fields.
    pub fields: SourceFields,
    /// Slots and patterns of the conditions.
    pub program: Program,
    /// Slots of the output formats (extracted only for matches).
    pub output_program: Program,
    /// Rules in load order.
    pub rules: Vec<CompiledRule>,
}

/// What loading rules files produced.
#[derive(Debug, Default)]
pub struct LoadedRules {
    /// Per-source compiled rules, in order of first appearance.
    pub sources: Vec<SourceRules>,
    /// Warnings and errors, in the order found.
    pub diags: Vec<Diagnostic>,
    /// Informational messages (e.g. requirements satisfied by built-ins).
    pub notes: Vec<String>,
    /// Files read, in order.
    pub files: Vec<String>,
}

impl LoadedRules {
    /// Whether any error was reported.
    pub fn has_errors(&self) -> bool {
        self.diags.iter().any(|d| d.severity == Severity::Error)
    }

    /// The rules of a source.
    pub fn source(&self, name: &str) -> Option<&SourceRules> {
        self.sources.iter().find(|s| s.fields.source == name)
    }

    /// Every rule of every source, in load order within each source.
    pub fn all_rules(&self) -> impl Iterator<Item = &CompiledRule> {
        self.sources.iter().flat_map(|s| s.rules.iter())
    }
}

/// A plugin (or built-in provider) available to satisfy
/// `required_plugin_versions`.
#[derive(Clone, Debug)]
pub struct ProvidedPlugin {
    /// Plugin name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Whether the engine provides it built in (said so in the log).
    pub builtin: bool,
}

/// The built-in providers: the container plugin's fields are part of the
/// `syscall` source here.
pub fn builtin_plugins() -> Vec<ProvidedPlugin> {
    vec![ProvidedPlugin {
        name: "container".into(),
        version: "0.6.0".into(),
        builtin: true,
    }]
}

/// A condition text being compiled, for mapping offsets back to files.
struct SrcText {
    /// The item it belongs to (`macro 'x'` / `rule 'y'`).
    what: String,
    item: ItemLoc,
    segments: Vec<Segment>,
    /// Expanded-text pieces: (expanded start, original start, replaced).
    pieces: Vec<(usize, usize, bool)>,
    /// The text before list expansion.
    original: String,
}

struct Compiler<'a> {
    coll: &'a Collection,
    srcs: Vec<SrcText>,
    /// Flattened list items by list name.
    lists: HashMap<String, Vec<String>>,
    list_used: Vec<bool>,
    macro_used: Vec<bool>,
    /// Parsed macros (lazily), by macro index.
    macro_ast: HashMap<usize, Expr>,
    diags: Vec<Diagnostic>,
}

/// Compiles a collection. `plugins` lists what can satisfy plugin
/// requirements (see [`builtin_plugins`]).
pub fn compile(
    coll: &Collection,
    registry: &FieldRegistry,
    plugins: &[ProvidedPlugin],
) -> LoadedRules {
    let mut out = LoadedRules {
        files: coll.files.iter().map(|f| f.path.clone()).collect(),
        ..LoadedRules::default()
    };
    let mut c = Compiler {
        coll,
        srcs: Vec::new(),
        lists: HashMap::new(),
        list_used: vec![false; coll.lists.len()],
        macro_used: vec![false; coll.macros.len()],
        macro_ast: HashMap::new(),
        diags: coll.diags.clone(),
    };
    c.check_engine_versions();
    c.check_plugins(plugins, &mut out.notes);
    c.flatten_lists();
    let mut by_source: Vec<SourceRules> = Vec::new();
    for rule in &coll.rules {
        let Some(fields) = registry.source(&rule.source) else {
            c.diag_at(
                Severity::Warning,
                Code::UnknownSource,
                format!("Unknown source {}, skipping", rule.source),
                &rule.loc,
                &format!("rule '{}'", rule.name),
                None,
            );
            continue;
        };
        let idx = match by_source
            .iter()
            .position(|s| s.fields.source == rule.source)
        {
            Some(i) => i,
            None => {
                by_source.push(SourceRules {
                    fields: fields.clone(),
                    program: Program::default(),
                    output_program: Program::default(),
                    rules: Vec::new(),
                });
                by_source.len() - 1
            }
        };
        if let Some(r) = c.compile_rule(rule, &mut by_source[idx]) {
            by_source[idx].rules.push(r);
        }
    }
    c.warn_unused();
    out.sources = by_source;
    out.diags = c.diags;
    out
}

impl Compiler<'_> {
    fn file(&self, i: usize) -> &str {
        &self.coll.files[i].path
    }

    fn diag_at(
        &mut self,
        severity: Severity,
        code: Code,
        message: String,
        loc: &ItemLoc,
        what: &str,
        inner: Option<(String, usize, Pos)>,
    ) {
        let mut context = vec![
            Context {
                what: "rules content".into(),
                file: self.file(loc.file).to_string(),
                pos: Pos { line: 1, col: 1 },
            },
            Context {
                what: what.to_string(),
                file: self.file(loc.file).to_string(),
                pos: loc.pos,
            },
        ];
        let mut snippet_at = (loc.file, loc.pos);
        if let Some((w, f, p)) = inner {
            context.push(Context {
                what: w,
                file: self.file(f).to_string(),
                pos: p,
            });
            snippet_at = (f, p);
        }
        let snippet = self.coll.files[snippet_at.0]
            .content
            .lines()
            .nth(snippet_at.1.line.saturating_sub(1))
            .map(|l| l.chars().take(160).collect());
        self.diags.push(Diagnostic {
            severity,
            code,
            message,
            context,
            snippet,
        });
    }

    /// A diagnostic about a rule, optionally pointing inside it.
    fn rule_diag(
        &mut self,
        rule: &super::load::RuleDef,
        severity: Severity,
        code: Code,
        message: String,
        inner: Option<(String, usize, Pos)>,
    ) {
        let what = format!("rule '{}'", rule.name);
        self.diag_at(severity, code, message, &rule.loc, &what, inner);
    }

    fn check_engine_versions(&mut self) {
        for (v, loc) in &self.coll.engine_versions {
            let parsed = match v.parse::<u64>() {
                Ok(n) => Some((0, n, 0)),
                Err(_) => parse_semver(v),
            };
            let (maj, min, patch) = ENGINE_VERSION;
            let msg = match parsed {
                None => Some(format!(
                    "Unable to parse engine version '{v}' as a semver string. Expected \"x.y.z\" semver format."
                )),
                Some(req) if req.0 != maj || req > ENGINE_VERSION => Some(format!(
                    "Rules require engine version {}.{}.{}, but engine version is {maj}.{min}.{patch}",
                    req.0, req.1, req.2
                )),
                Some(_) => None,
            };
            if let Some(m) = msg {
                self.diag_at(
                    Severity::Error,
                    Code::ErrValidate,
                    m,
                    loc,
                    "required_engine_version",
                    None,
                );
            }
        }
    }

    fn check_plugins(&mut self, plugins: &[ProvidedPlugin], notes: &mut Vec<String>) {
        for req in &self.coll.plugin_requirements {
            let candidates = std::iter::once((&req.name, &req.version))
                .chain(req.alternatives.iter().map(|(n, v)| (n, v)));
            let mut found = None;
            let mut mismatch = None;
            for (name, version) in candidates {
                if let Some(p) = plugins.iter().find(|p| &p.name == name) {
                    if version_satisfies(&p.version, version) {
                        found = Some(p.clone());
                        break;
                    }
                    mismatch = Some(format!(
                        "Plugin '{}' version '{}' is not compatible with required plugin version '{version}'",
                        p.name, p.version
                    ));
                }
            }
            match found {
                Some(p) if p.builtin => notes.push(format!(
                    "Rules file {} requires plugin '{}' {}: satisfied by falco-wasm's built-in {} fields",
                    self.file(req.loc.file), req.name, req.version, p.name
                )),
                Some(_) => {}
                None => {
                    let msg = mismatch.unwrap_or_else(|| format!("Plugin '{}' required by this file is not loaded", req.name));
                    self.diag_at(Severity::Error, Code::ErrValidate, msg, &req.loc.clone(), "required_plugin_versions", None);
                }
            }
        }
    }

    fn flatten_lists(&mut self) {
        let coll = self.coll;
        let mut by_index: Vec<&super::load::ListDef> = coll.lists.iter().collect();
        by_index.sort_by_key(|l| l.index);
        let mut flat: HashMap<String, (usize, Vec<String>)> = HashMap::new();
        for l in by_index {
            let mut items = Vec::new();
            for it in &l.items {
                match flat.get(it) {
                    Some((idx, sub)) => {
                        items.extend(sub.iter().cloned());
                        self.list_used[*idx] = true;
                    }
                    None => items.push(it.clone()),
                }
            }
            let pos = coll
                .lists
                .iter()
                .position(|x| x.name == l.name)
                .expect("list exists");
            flat.insert(l.name.clone(), (pos, items));
        }
        self.lists = flat.into_iter().map(|(k, (_, v))| (k, v)).collect();
    }

    /// Replaces list names in `text` by their items. Returns the expanded
    /// text and the offset map pieces.
    fn expand_lists(&mut self, text: &str) -> (String, Vec<(usize, usize, bool)>) {
        let is_delim =
            |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'(' | b')' | b',' | b'=');
        let b = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut pieces = vec![(0usize, 0usize, false)];
        let mut i = 0;
        let mut in_quote: Option<u8> = None;
        while i < b.len() {
            let c = b[i];
            if let Some(q) = in_quote {
                if c == b'\\' && i + 1 < b.len() {
                    out.push_str(&text[i..i + 2]);
                    i += 2;
                    continue;
                }
                if c == q {
                    in_quote = None;
                }
                out.push(c as char);
                i += 1;
                continue;
            }
            if c == b'"' || c == b'\'' {
                in_quote = Some(c);
                out.push(c as char);
                i += 1;
                continue;
            }
            if is_delim(c) || (i > 0 && !is_delim(b[i - 1])) {
                let ch = text[i..].chars().next().expect("in bounds");
                out.push(ch);
                i += ch.len_utf8();
                continue;
            }
            // Start of a word: find its end.
            let mut j = i;
            while j < b.len() && !is_delim(b[j]) {
                j += 1;
            }
            let word = &text[i..j];
            match self.lists.get(word) {
                Some(items) => {
                    if let Some(pos) = self.coll.lists.iter().position(|l| l.name == word) {
                        self.list_used[pos] = true;
                    }
                    pieces.push((out.len(), i, true));
                    let rendered: Vec<String> = items
                        .iter()
                        .map(|it| super::exceptions::quote_item(it))
                        .collect();
                    out.push_str(&rendered.join(", "));
                    let mut k = j;
                    if items.is_empty() {
                        // Drop one adjacent comma so `(a, empty, b)` stays valid.
                        while k < b.len() && matches!(b[k], b' ' | b'\t') {
                            k += 1;
                        }
                        if k < b.len() && b[k] == b',' {
                            k += 1;
                        } else {
                            k = j;
                        }
                    }
                    pieces.push((out.len(), k, false));
                    i = k;
                }
                None => {
                    out.push_str(word);
                    i = j;
                }
            }
        }
        (out, pieces)
    }

    fn lower_error(&mut self, e: LowerError, rule: &super::load::RuleDef, skip_unknown: bool) {
        let severity = if e.unknown_filter && skip_unknown {
            Severity::Warning
        } else {
            Severity::Error
        };
        let code = if e.unknown_filter && skip_unknown {
            Code::UnknownFilter
        } else if e.message.starts_with("Undefined macro") {
            Code::ErrValidate
        } else {
            Code::ErrCompileCondition
        };
        let (file, pos) = self.locate(e.span);
        let what = self.srcs[e.span.src as usize].what.clone();
        let inner = if what.starts_with("macro") {
            format!("{what} condition expression")
        } else {
            "condition expression".to_string()
        };
        self.rule_diag(rule, severity, code, e.message, Some((inner, file, pos)));
    }

    /// Like [`Self::locate`], with the original (pre-expansion) texts of each source.
    fn locate(&self, span: Span) -> (usize, Pos) {
        let src = &self.srcs[span.src as usize];
        let off = span.offset as usize;
        let piece = src
            .pieces
            .iter()
            .rev()
            .find(|p| p.0 <= off)
            .copied()
            .unwrap_or((0, 0, false));
        let orig = if piece.2 {
            piece.1
        } else {
            piece.1 + off.saturating_sub(piece.0)
        };
        let seg = src
            .segments
            .iter()
            .rev()
            .find(|s| s.start <= orig)
            .cloned()
            .unwrap_or(Segment {
                start: 0,
                file: src.item.file,
                pos: src.item.pos,
            });
        let text = src.original.as_str();
        let prefix = text.get(seg.start..orig.min(text.len())).unwrap_or("");
        let content = &self.coll.files[seg.file].content;
        (seg.file, find_in_source(content, seg.pos, prefix))
    }

    /// Compiles one rule: condition (with exceptions) to IR, its event
    /// types, and its output format; `None` after an error diagnostic.
    fn compile_rule(
        &mut self,
        rule: &super::load::RuleDef,
        out: &mut SourceRules,
    ) -> Option<CompiledRule> {
        let fields = out.fields.clone();
        let cond = self.condition_with_exceptions(rule, &fields)?;
        let (ir, expanded_text) = self.compile_condition(rule, &cond, &fields, &mut out.program)?;
        let evttypes = self.rule_evttypes(rule, &ir, &fields, &out.program);
        let output = self.compile_output(rule, &fields, &mut out.output_program)?;
        Some(CompiledRule {
            name: rule.name.clone(),
            desc: rule.desc.text.clone(),
            output_text: rule.output.text.clone(),
            output,
            priority: rule.priority,
            source: rule.source.clone(),
            tags: rule.tags.clone(),
            enabled: rule.enabled,
            ir,
            condition: expanded_text,
            evttypes,
            capture: rule.capture,
            capture_duration: rule.capture_duration,
            extra_fields: Vec::new(),
            file: self.file(rule.loc.file).to_string(),
            pos: rule.loc.pos,
        })
    }

    /// The rule's condition text with its exceptions appended.
    fn condition_with_exceptions(
        &mut self,
        rule: &super::load::RuleDef,
        fields: &SourceFields,
    ) -> Option<Text> {
        let mut cond = rule.condition.clone();
        match super::exceptions::exceptions_text(&rule.exceptions, fields) {
            Ok(Some((text, loc))) => {
                let base = cond.text.len();
                cond.text = format!("({}) {}", cond.text, text);
                for s in &mut cond.segments {
                    s.start += 1;
                }
                cond.segments.push(Segment {
                    start: base + 3,
                    file: loc.file,
                    pos: loc.pos,
                });
            }
            Ok(None) => {}
            Err((msg, loc)) => {
                self.rule_diag(
                    rule,
                    Severity::Error,
                    Code::ErrYamlValidate,
                    msg,
                    Some(("exceptions".into(), loc.file, loc.pos)),
                );
                return None;
            }
        }
        Some(cond)
    }

    /// Parses the condition, expands its macros and lowers it to IR; returns
    /// the IR and the condition text with lists expanded.
    fn compile_condition(
        &mut self,
        rule: &super::load::RuleDef,
        cond: &Text,
        fields: &SourceFields,
        program: &mut Program,
    ) -> Option<(Ir, String)> {
        let (src_id, expanded_text) =
            self.add_src(cond, format!("rule '{}'", rule.name), rule.loc.clone());
        let ast = match parse_condition(&expanded_text, src_id) {
            Ok(a) => a,
            Err(e) => {
                self.lower_error(
                    LowerError {
                        message: e.message,
                        span: Span {
                            src: src_id,
                            offset: e.offset as u32,
                        },
                        unknown_filter: false,
                    },
                    rule,
                    false,
                );
                return None;
            }
        };
        let mut nodes = 0usize;
        let ast = match self.resolve_macros(ast, None, &mut nodes) {
            Ok(a) => a,
            Err(e) => {
                self.lower_error(e, rule, false);
                return None;
            }
        };
        let mut warnings = Vec::new();
        let ir = match program.lower(fields, &ast, &mut warnings) {
            Ok(ir) => ir,
            Err(e) => {
                self.lower_error(e, rule, rule.skip_if_unknown_filter);
                return None;
            }
        };
        for w in warnings {
            let (file, pos) = self.locate(w.span);
            let code = match w.kind {
                WarningKind::UnsafeNaCheck => Code::UnsafeNaCheck,
                WarningKind::FieldAsValue => Code::CompileCondition,
                WarningKind::Deprecated => Code::DeprecatedItem,
            };
            self.rule_diag(
                rule,
                Severity::Warning,
                code,
                w.message,
                Some(("condition expression".into(), file, pos)),
            );
        }
        Some((ir, expanded_text))
    }

    /// The event types the rule can match; warns when a syscall rule
    /// matches too many.
    fn rule_evttypes(
        &mut self,
        rule: &super::load::RuleDef,
        ir: &Ir,
        fields: &SourceFields,
        program: &Program,
    ) -> EvtSet {
        let evttypes = if fields.event_names().is_empty() {
            EvtSet::all(0)
        } else {
            crate::filter::evttypes::compute(ir, program, fields)
        };
        if fields.source == crate::fields::SYSCALL_SOURCE
            && rule.warn_evttypes
            && (evttypes.is_empty() || evttypes.len() > crate::filter::evttypes::NAMED_MAX)
        {
            self.rule_diag(rule, Severity::Warning, Code::NoEvttype, "Rule matches too many evt.type values. This has a significant performance penalty.".into(), None);
        }
        if fields.source == crate::fields::SYSCALL_SOURCE
            && rule.warn_evttypes
            && !evttypes.is_empty()
            && evttypes.len() <= crate::filter::evttypes::NAMED_MAX
        {
            self.warn_uncaptured(rule, &evttypes, fields);
        }
        evttypes
    }

    /// Warns when a rule names event types that never reach the rules:
    /// libs know them (`--list-events`), the probe does not capture them.
    fn warn_uncaptured(
        &mut self,
        rule: &super::load::RuleDef,
        set: &EvtSet,
        fields: &SourceFields,
    ) {
        let names = fields.event_names();
        let missing: Vec<&str> = set
            .iter()
            .filter_map(|i| names.get(i).copied())
            .filter(|n| !crate::capture::syscalls::delivered(n))
            .collect();
        if missing.is_empty() {
            return;
        }
        let all = missing.len() == set.len();
        let message = format!(
            "Rule names event type(s) this engine does not capture: {}; {}",
            missing.join(", "),
            if all {
                "it never matches"
            } else {
                "it never matches those"
            }
        );
        self.rule_diag(
            rule,
            Severity::Warning,
            Code::EvttypeNotCaptured,
            message,
            None,
        );
    }

    /// Parses the output format (its fields become slots of `program`).
    fn compile_output(
        &mut self,
        rule: &super::load::RuleDef,
        fields: &SourceFields,
        program: &mut Program,
    ) -> Option<OutputFormat> {
        match OutputFormat::parse(&rule.output.text, fields, program) {
            Ok((f, dropped)) => {
                for d in dropped {
                    self.rule_diag(rule, Severity::Warning, Code::DeprecatedItem, format!("%{d} is deprecated and no more useful, and will be dropped by Falco 1.0.0. The container plugin will automatically add required fields to the output message."), None);
                }
                Some(f)
            }
            Err(e) => {
                let seg = &rule.output.segments[0];
                let prefix = rule.output.text.get(..e.offset).unwrap_or("");
                let pos = find_in_source(&self.coll.files[seg.file].content, seg.pos, prefix);
                let (severity, code) = if rule.skip_if_unknown_filter {
                    (Severity::Warning, Code::UnknownFilter)
                } else {
                    (Severity::Error, Code::ErrCompileOutput)
                };
                self.rule_diag(
                    rule,
                    severity,
                    code,
                    e.message,
                    Some(("output".into(), seg.file, pos)),
                );
                None
            }
        }
    }

    /// Registers a condition text for position mapping; returns its id
    /// and the text with lists expanded.
    fn add_src(&mut self, text: &Text, what: String, item: ItemLoc) -> (u32, String) {
        let (expanded, pieces) = self.expand_lists(&text.text);
        let id = self.srcs.len() as u32;
        self.srcs.push(SrcText {
            what,
            item,
            segments: text.segments.clone(),
            pieces,
            original: text.text.clone(),
        });
        (id, expanded)
    }

    /// Replaces macro references. `visible_below`: only macros with a
    /// smaller index are visible (inside a macro); `None` for rules.
    fn resolve_macros(
        &mut self,
        e: Expr,
        visible_below: Option<usize>,
        nodes: &mut usize,
    ) -> Result<Expr, LowerError> {
        crate::deep(|| self.resolve_macros_inner(e, visible_below, nodes))
    }

    fn resolve_macros_inner(
        &mut self,
        e: Expr,
        visible_below: Option<usize>,
        nodes: &mut usize,
    ) -> Result<Expr, LowerError> {
        *nodes += 1;
        if *nodes > MAX_EXPANDED_NODES {
            return Err(LowerError {
                message: format!(
                    "condition exceeds {MAX_EXPANDED_NODES} nodes after macro expansion"
                ),
                span: Span::default(),
                unknown_filter: false,
            });
        }
        Ok(match e {
            Expr::And(v) => Expr::And(
                v.into_iter()
                    .map(|x| self.resolve_macros(x, visible_below, nodes))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Or(v) => Expr::Or(
                v.into_iter()
                    .map(|x| self.resolve_macros(x, visible_below, nodes))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Not(x) => Expr::Not(Box::new(self.resolve_macros(*x, visible_below, nodes)?)),
            Expr::Check(c) => Expr::Check(c),
            Expr::Macro(name, span) => {
                let idx = self.coll.macro_index(&name).filter(|&i| {
                    let mi = self.coll.macros[i].index;
                    visible_below.is_none_or(|b| mi < b)
                });
                let Some(idx) = idx else {
                    return Err(LowerError {
                        message: format!("Undefined macro '{name}' used in filter."),
                        span,
                        unknown_filter: false,
                    });
                };
                self.macro_used[idx] = true;
                let body = self.macro_body(idx)?;
                let m_index = self.coll.macros[idx].index;
                self.resolve_macros(body, Some(m_index), nodes)?
            }
        })
    }

    fn macro_body(&mut self, idx: usize) -> Result<Expr, LowerError> {
        if let Some(r) = self.macro_ast.get(&idx) {
            return Ok(r.clone());
        }
        let m = &self.coll.macros[idx];
        let (id, text) = self.add_src(&m.condition, format!("macro '{}'", m.name), m.loc.clone());
        let parsed = parse_condition(&text, id);
        match parsed {
            Ok(e) => {
                self.macro_ast.insert(idx, e.clone());
                Ok(e)
            }
            Err(pe) => Err(LowerError {
                message: pe.message,
                span: Span {
                    src: id,
                    offset: pe.offset as u32,
                },
                unknown_filter: false,
            }),
        }
    }

    fn warn_unused(&mut self) {
        for (i, m) in self.coll.macros.iter().enumerate() {
            if !self.macro_used[i] {
                self.diag_at(
                    Severity::Warning,
                    Code::UnusedMacro,
                    "Macro not referred to by any other rule/macro".into(),
                    &m.loc,
                    &format!("macro '{}'", m.name),
                    None,
                );
            }
        }
        for (i, l) in self.coll.lists.iter().enumerate() {
            if !self.list_used[i] {
                self.diag_at(
                    Severity::Warning,
                    Code::UnusedList,
                    "List not referred to by any other rule/macro".into(),
                    &l.loc,
                    &format!("list '{}'", l.name),
                    None,
                );
            }
        }
    }
}

fn parse_semver(v: &str) -> Option<(u64, u64, u64)> {
    let mut it = v.trim().split('.');
    let a = it.next()?.parse().ok()?;
    let b = it.next()?.parse().ok()?;
    let c = it.next()?.split(['-', '+']).next()?.parse().ok()?;
    if it.next().is_some() {
        return None;
    }
    Some((a, b, c))
}

/// Whether `have` satisfies a requirement of `need` (same major, not older).
fn version_satisfies(have: &str, need: &str) -> bool {
    match (parse_semver(have), parse_semver(need)) {
        (Some(h), Some(n)) => h.0 == n.0 && h >= n,
        _ => have == need,
    }
}

/// Finds where `prefix` (a prefix of a YAML value's text) ends in the file:
/// walks the source from the value's position matching the prefix's words,
/// then skips blanks and YAML quoting to the next token.
fn find_in_source(content: &str, start: Pos, prefix: &str) -> Pos {
    let Some(mut idx) = byte_index(content, start) else {
        return start;
    };
    // Skip a block scalar indicator line or an opening quote.
    let rest = &content[idx..];
    if rest.starts_with('>') || rest.starts_with('|') {
        idx += rest.find('\n').map_or(rest.len(), |n| n + 1);
    } else if rest.starts_with('"') || rest.starts_with('\'') {
        idx += 1;
    }
    for word in prefix.split_whitespace() {
        match content[idx..].find(word) {
            Some(off) => idx += off + word.len(),
            None => return start,
        }
    }
    if !prefix.is_empty() && prefix.ends_with(|c: char| !c.is_whitespace()) {
        // The offset is inside a token: stay right after the prefix.
    } else {
        while idx < content.len() && content.as_bytes()[idx].is_ascii_whitespace() {
            idx += 1;
        }
    }
    pos_of(content, idx)
}

fn byte_index(content: &str, pos: Pos) -> Option<usize> {
    let mut line_start = 0;
    for _ in 1..pos.line {
        line_start += content[line_start..].find('\n')? + 1;
    }
    let line = &content[line_start..];
    let col_bytes: usize = line
        .chars()
        .take(pos.col.saturating_sub(1))
        .map(char::len_utf8)
        .sum();
    Some(line_start + col_bytes)
}

fn pos_of(content: &str, idx: usize) -> Pos {
    let before = &content[..idx.min(content.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.chars().count(), |n| before[n + 1..].chars().count())
        + 1;
    Pos { line, col }
}
