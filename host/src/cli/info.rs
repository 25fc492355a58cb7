//! Informational commands: `--version`, `--rule-schema`, `--list`,
//! `--list-events`, `-L`/`-l`.

use super::Format;
use crate::fields::{ArgKind, FieldDef, FieldRegistry, SourceFields};
use crate::rules::LoadedRules;
use crate::rules::compile::ENGINE_VERSION;
use serde_json::json;
use std::process::ExitCode;

/// `--version`.
pub(super) fn print_version(format: Format) {
    let (a, b, c) = ENGINE_VERSION;
    let v = env!("CARGO_PKG_VERSION");
    let api = crate::plugins::host_api_version();
    let contract = crate::plugins::wasm::CONTRACT;
    if format == Format::Json {
        println!(
            "{}",
            json!({"falco_wasm_version": v, "engine_version": format!("{b}"), "engine_version_semver": format!("{a}.{b}.{c}"), "plugin_api_version": api, "plugin_contract_version": contract})
        );
    } else {
        println!("falco-wasm version: {v}");
        println!("Engine:             {a}.{b}.{c} (Falco rules language)");
        println!(
            "Plugin API:         {api} (concepts; plugins are WebAssembly components of \
             falco-wasm:plugin@{contract})"
        );
    }
}

/// `--rule-schema`: our JSON schema of rules files.
pub(super) fn rule_schema() -> serde_json::Value {
    let s = |d: &str| json!({"type": "string", "description": d});
    let b = |d: &str| json!({"type": "boolean", "description": d});
    let overridable = json!({"type": "string", "enum": ["append", "replace"]});
    json!({
        "$schema": "http://json-schema.org/draft-06/schema#",
        "title": "falco-wasm rules file",
        "type": "array",
        "items": {"$ref": "#/definitions/Item"},
        "definitions": {
            "Item": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "required_engine_version": {"type": ["string", "integer"], "description": "Minimum engine version: N (meaning 0.N.0) or x.y.z"},
                    "required_plugin_versions": {"type": "array", "items": {"$ref": "#/definitions/RequiredPluginVersion"}},
                    "list": s("List name"),
                    "items": {"type": "array", "items": {"type": ["string", "number", "boolean"]}},
                    "macro": s("Macro name"),
                    "rule": s("Rule name"),
                    "condition": s("Condition expression"),
                    "output": s("Output format"),
                    "desc": s("Description"),
                    "priority": {"type": "string", "description": "Emergency, Alert, Critical, Error, Warning, Notice, Informational (or Info), Debug; case-insensitive"},
                    "source": s("Event source (default syscall)"),
                    "enabled": b("Whether the rule runs"),
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "exceptions": {"type": "array", "items": {"$ref": "#/definitions/Exception"}},
                    "warn_evttypes": b("Warn when the rule matches too many event types"),
                    "skip-if-unknown-filter": b("Skip the rule instead of failing on unknown fields"),
                    "capture": b("Capture events around a match"),
                    "capture_duration": {"type": "integer", "minimum": 0},
                    "append": b("Deprecated: append to an existing item"),
                    "override": {"type": "object", "minProperties": 1, "additionalProperties": overridable}
                }
            },
            "Exception": {
                "type": "object",
                "additionalProperties": false,
                "required": ["name"],
                "properties": {
                    "name": s("Exception name"),
                    "fields": {"type": ["string", "array"], "items": {"type": "string"}},
                    "comps": {"type": ["string", "array"], "items": {"type": "string"}},
                    "values": {"type": "array"}
                }
            },
            "RequiredPluginVersion": {
                "type": "object",
                "required": ["name", "version"],
                "properties": {
                    "name": s("Plugin name"),
                    "version": s("Minimum version"),
                    "alternatives": {"type": "array", "items": {"type": "object", "required": ["name", "version"], "properties": {"name": {"type": "string"}, "version": {"type": "string"}}}}
                }
            }
        }
    })
}

/// `--list[=SOURCE]`.
pub(super) fn list_fields(
    registry: &FieldRegistry,
    source: &str,
    names_only: bool,
    verbose: bool,
    format: Format,
) -> ExitCode {
    let sources: Vec<_> = registry
        .sources()
        .iter()
        .filter(|s| source.is_empty() || s.source == source)
        .collect();
    if sources.is_empty() {
        eprintln!("Error: unknown event source '{source}'");
        return ExitCode::FAILURE;
    }
    let mut json_out = Vec::new();
    for s in sources {
        let visible = s
            .fields()
            .iter()
            .filter(|f| !f.flags.hidden && !f.flags.deprecated);
        if names_only {
            for f in visible {
                println!("{}", f.name);
            }
            continue;
        }
        match format {
            Format::Json => json_out.extend(visible.map(|f| field_json(s.source.as_str(), f))),
            Format::Markdown => print_fields_markdown(s, visible),
            Format::Text => print_fields_text(s, visible, verbose),
        }
    }
    if format == Format::Json && !names_only {
        println!("{}", serde_json::Value::Array(json_out));
    }
    ExitCode::SUCCESS
}

/// One field of `--list --format json`.
fn field_json(source: &str, f: &FieldDef) -> serde_json::Value {
    let arg = match f.arg {
        ArgKind::None => "none",
        ArgKind::Index { .. } => "index",
        ArgKind::Key { .. } => "key",
    };
    json!({
        "name": f.name,
        "type": f.ty.falco_name(),
        "desc": f.desc,
        "source": source,
        "arg": arg,
        "arg_required": matches!(f.arg, ArgKind::Index { required: true } | ArgKind::Key { required: true }),
        "is_list": f.flags.list,
    })
}

/// A source's fields as a Markdown table.
fn print_fields_markdown<'f>(s: &SourceFields, fields: impl Iterator<Item = &'f FieldDef>) {
    println!(
        "## Source `{}` ({})\n\n| Name | Type | Description |\n|---|---|---|",
        s.source, s.provider
    );
    for f in fields {
        println!(
            "| `{}` | {} | {} |",
            f.name,
            f.ty.falco_name(),
            f.desc.replace('|', "\\|")
        );
    }
    println!();
}

/// A source's fields as Falco's `--list` prints them.
fn print_fields_text<'f>(
    s: &SourceFields,
    fields: impl Iterator<Item = &'f FieldDef>,
    verbose: bool,
) {
    println!("-------------------------------");
    println!(
        "{:<30}{} (fields of the '{}' source)",
        "Event Source:", s.source, s.source
    );
    println!("{:<30}{}\n", "Provided by:", s.provider);
    for f in fields {
        let mut desc = String::new();
        let tags = field_tags(f);
        if !tags.is_empty() {
            desc.push_str(&format!("({}) ", tags.join(",")));
        }
        if verbose {
            desc.push_str(&format!("(Type: {}) ", f.ty.falco_name()));
        }
        desc.push_str(f.desc);
        if f.name.len() >= 30 {
            println!("{}", f.name);
            println!("{:<30}{desc}", "");
        } else {
            println!("{:<30}{desc}", f.name);
        }
    }
    println!();
}

/// Falco's flags of a field (`ARG_REQUIRED`, `EPF_IS_LIST`, …).
fn field_tags(f: &FieldDef) -> Vec<&'static str> {
    let mut tags = Vec::new();
    match f.arg {
        ArgKind::Index { required: true } | ArgKind::Key { required: true } => {
            tags.push("ARG_REQUIRED")
        }
        ArgKind::Index { .. } | ArgKind::Key { .. } => tags.push("ARG_ALLOWED"),
        ArgKind::None => {}
    }
    if matches!(f.arg, ArgKind::Index { .. }) {
        tags.push("ARG_INDEX");
    }
    if matches!(f.arg, ArgKind::Key { .. }) {
        tags.push("ARG_KEY");
    }
    if f.flags.list {
        tags.push("EPF_IS_LIST");
    }
    tags
}

/// `--list-events`.
pub(super) fn list_events(registry: &FieldRegistry, format: Format) {
    let names: Vec<&str> = registry
        .source(crate::fields::SYSCALL_SOURCE)
        .map(|s| s.event_names().to_vec())
        .unwrap_or_default();
    if format == Format::Json {
        println!("{}", json!(names));
        return;
    }
    println!(
        "The event types below are valid evt.type values of the syscall source (falco-wasm delivers exit events, with all parameters):\n"
    );
    for n in names {
        println!("{n}");
    }
}

/// `-L` / `-l RULE`.
pub(super) fn describe(loaded: &LoadedRules, rule: Option<&str>, format: Format) -> ExitCode {
    let rules: Vec<_> = loaded
        .all_rules()
        .filter(|r| rule.is_none_or(|n| r.name == n))
        .collect();
    if let (Some(n), true) = (rule, rules.is_empty()) {
        eprintln!("Runtime error: Rule \"{n}\" is not loaded. Exiting.");
        return ExitCode::FAILURE;
    }
    match format {
        Format::Json => {
            let items: Vec<_> = rules
                .iter()
                .map(|r| {
                    json!({"info": {"name": r.name, "condition": r.condition, "output": r.output_text, "description": r.desc,
                        "priority": r.priority.as_str(), "source": r.source, "tags": r.tags, "enabled": r.enabled,
                        "location": format!("{}:{}:{}", r.file, r.pos.line, r.pos.col)},
                        "details": {"events": event_names(loaded, r)}})
                })
                .collect();
            println!("{}", json!({"rules": items}));
        }
        Format::Markdown => {
            println!("| Rule | Priority | Source | Description |\n|---|---|---|---|");
            for r in rules {
                println!(
                    "| {} | {} | {} | {} |",
                    r.name,
                    r.priority,
                    r.source,
                    r.desc.replace('|', "\\|").replace('\n', " ")
                );
            }
        }
        Format::Text => {
            println!("{:<50} Description", "Rule");
            println!("{:<50} -----------", "----");
            for r in rules {
                let lines = wrap(&r.desc, 59);
                for (i, l) in lines.iter().enumerate() {
                    let name = if i == 0 { r.name.as_str() } else { "" };
                    println!("{name:<50} {l}");
                }
                println!();
            }
        }
    }
    ExitCode::SUCCESS
}

fn event_names(loaded: &LoadedRules, r: &crate::rules::CompiledRule) -> Vec<String> {
    let Some(src) = loaded.source(&r.source) else {
        return Vec::new();
    };
    if r.evttypes.is_all() || src.fields.event_names().is_empty() {
        return vec!["all".into()];
    }
    r.evttypes
        .iter()
        .map(|i| src.fields.event_names()[i].to_string())
        .collect()
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let cur = lines.last_mut().expect("one line");
        if !cur.is_empty() && cur.len() + word.len() + 1 > width {
            lines.push(String::new());
        }
        let cur = lines.last_mut().expect("one line");
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    lines
}

/// `--list-plugins` and `--plugin-info NAME`.
pub(super) fn print_plugins(
    plugins: &mut [crate::plugins::LoadedPlugin],
    detail: Option<&str>,
) -> ExitCode {
    if plugins.is_empty() {
        println!("0 Plugins Loaded:");
        return ExitCode::SUCCESS;
    }
    let Some(name) = detail else {
        println!("{} Plugins Loaded:\n", plugins.len());
        for p in plugins.iter() {
            print_plugin_header(p);
            println!();
        }
        return ExitCode::SUCCESS;
    };
    let Some(p) = plugins
        .iter_mut()
        .find(|p| p.info.name == name || p.spec.name == name)
    else {
        eprintln!("Error: no plugin named '{name}' is loaded");
        return ExitCode::FAILURE;
    };
    print_plugin_header(p);
    match &p.info.init_schema {
        // Re-serialized: a plugin's text reaches the terminal only as JSON
        // (control characters escaped).
        Some(s) => println!(
            "Init config schema type: JSON\n{}",
            serde_json::from_str::<serde_json::Value>(s)
                .and_then(|v| serde_json::to_string_pretty(&v))
                .unwrap_or_else(|_| crate::plugins::text::message(s))
        ),
        None => println!("No init config schema"),
    }
    if p.source.is_some() {
        match p.runner.list_open_params() {
            Ok(ps) if !ps.is_empty() => {
                println!("Suggested open params:");
                for o in ps {
                    println!("{}: {}", o.value, o.desc);
                }
            }
            Ok(_) => println!("No suggested open params available"),
            Err(e) => println!("Cannot list open params: {e}"),
        }
    }
    if !p.fields.is_empty() {
        println!("Fields:");
        for f in p.fields.iter().filter(|f| !f.hidden) {
            println!("{:<32} {}", f.name, f.desc);
        }
    }
    ExitCode::SUCCESS
}

fn print_plugin_header(p: &crate::plugins::LoadedPlugin) {
    println!("Name: {}", p.info.name);
    println!("Description: {}", p.info.description);
    println!("Contact: {}", p.info.contact);
    println!("Version: {}", p.info.version);
    let mut caps = Vec::new();
    if let Some((id, source)) = &p.source {
        caps.push(format!("  - Event Sourcing (ID={id}, source='{source}')"));
    }
    if !p.fields.is_empty() {
        let from = if p.extract_sources.is_empty() {
            match &p.source {
                Some((_, s)) => format!("'{s}'"),
                None => "all plugin sources".into(),
            }
        } else {
            p.extract_sources.join(", ")
        };
        caps.push(format!("  - Field Extraction (from {from})"));
    }
    println!("Capabilities:\n{}", caps.join("\n"));
}
