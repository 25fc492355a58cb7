//! `append_output`: text and fields added to the outputs of the rules an
//! entry matches (by source, tags and rule name), as in Falco 0.39+.
//!
//! ```yaml
//! append_output:
//!   - match: {source: syscall, tags: [container], rule: "Terminal shell in container"}
//!     extra_output: "pod=%k8s.pod.name"
//!     extra_fields:
//!       - evt.hostname               # a field: its typed value
//!       - home: "%user.homedir"      # a name and a format: text
//! ```

use crate::config::{Config, ConfigError};
use crate::outputs::format::OutputFormat;
use crate::rules::SourceRules;
use serde_json::Value;

/// Applies every `append_output` entry to a source's rules.
pub fn apply(rules: &mut SourceRules, config: &Config) -> Result<(), ConfigError> {
    let entries = match config.get("append_output") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Array(a)) => a.clone(),
        Some(v) => {
            return Err(ConfigError::key(
                "append_output",
                format!("expected a list, got {v}"),
            ));
        }
    };
    for (i, e) in entries.iter().enumerate() {
        let key = |k: &str| format!("append_output[{i}].{k}");
        let m = e.get("match");
        let source = m.and_then(|m| m.get("source")).and_then(Value::as_str);
        let rule = m.and_then(|m| m.get("rule")).and_then(Value::as_str);
        let tags: Vec<&str> = match m.and_then(|m| m.get("tags")) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(t)) => t.iter().filter_map(Value::as_str).collect(),
            Some(v) => {
                return Err(ConfigError::key(
                    key("match.tags"),
                    format!("expected a list, got {v}"),
                ));
            }
        };
        if source.is_some_and(|s| s != rules.fields.source) {
            continue;
        }
        let extra_output = match e.get("extra_output") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(v) => {
                return Err(ConfigError::key(
                    key("extra_output"),
                    format!("expected a string, got {v}"),
                ));
            }
        };
        let mut extra_fields: Vec<(String, String)> = Vec::new();
        if let Some(list) = e.get("extra_fields") {
            let list = list
                .as_array()
                .ok_or_else(|| ConfigError::key(key("extra_fields"), "expected a list"))?;
            for f in list {
                match f {
                    Value::String(field) => extra_fields.push((field.clone(), format!("%{field}"))),
                    Value::Object(o) if o.len() == 1 => {
                        let (k, v) = o.iter().next().expect("one entry");
                        let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                        extra_fields.push((k.clone(), v));
                    }
                    v => {
                        return Err(ConfigError::key(
                            key("extra_fields"),
                            format!(
                                "expected a field name or a single name: format entry, got {v}"
                            ),
                        ));
                    }
                }
            }
        }
        for r in rules.rules.iter_mut() {
            if rule.is_some_and(|n| n != r.name) || !tags.iter().all(|t| r.tags.contains(*t)) {
                continue;
            }
            if let Some(extra) = &extra_output {
                let text = format!("{} {extra}", r.output_text);
                let (fmt, _) = OutputFormat::parse(&text, &rules.fields, &mut rules.output_program)
                    .map_err(|e| ConfigError::key(key("extra_output"), e.message))?;
                r.output = fmt;
                r.output_text = text;
            }
            for (name, format) in &extra_fields {
                let (fmt, _) = OutputFormat::parse(
                    format,
                    &rules.fields,
                    &mut rules.output_program,
                )
                .map_err(|e| {
                    ConfigError::key(key("extra_fields"), format!("'{name}': {}", e.message))
                })?;
                r.extra_fields.push((name.clone(), fmt));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::engine::{EngineOptions, Event, SourceEngine};
    use crate::fields::{FieldRegistry, ResolvedField};
    use crate::filter::value::ValueSink;
    use crate::outputs::alert::FieldValue;
    use crate::rules::compile::builtin_plugins;
    use crate::rules::{RulesFile, load_files};

    struct Ev(Vec<&'static str>);
    impl Event for Ev {
        fn evt_type(&self) -> Option<&str> {
            Some("openat")
        }
        fn extract(&self, f: &ResolvedField, out: &mut dyn ValueSink) {
            match self.0[f.id as usize] {
                "evt.type" => out.bytes(b"openat"),
                "proc.name" => out.bytes(b"cat"),
                "proc.pid" => out.num(42),
                "user.homedir" => out.bytes(b"/root"),
                _ => {}
            }
        }
    }

    #[test]
    fn appends_text_and_typed_fields_to_matching_rules() {
        let registry = FieldRegistry::builtin();
        let rules = "- rule: A\n  desc: a\n  condition: evt.type = openat\n  output: opened by %proc.name\n  priority: WARNING\n  tags: [fs, t]\n- rule: B\n  desc: b\n  condition: evt.type = openat\n  output: b\n  priority: WARNING\n";
        let loaded = load_files(
            vec![RulesFile {
                path: "r.yaml".into(),
                content: rules.into(),
            }],
            &registry,
            &builtin_plugins(),
        );
        let mut src = loaded.sources[0].clone();
        let config = Config::load(
            None,
            &[r#"append_output=[{match: {tags: [fs]}, extra_output: "pid=%proc.pid", extra_fields: [proc.pid, {home: "dir %user.homedir"}]}]"#.into()],
        )
        .unwrap();
        super::apply(&mut src, &config).unwrap();
        let names: Vec<&'static str> = src.fields.fields().iter().map(|d| d.name).collect();
        let mut e = SourceEngine::new(src, &EngineOptions::default()).unwrap();
        let mut hits = Vec::new();
        let ev = Ev(names);
        e.process(&ev, &mut hits).unwrap();
        let a = e.alert(hits[0], &ev, 0, "h");
        assert_eq!(a.message, "opened by cat pid=42");
        assert!(
            a.fields
                .contains(&("proc.pid".into(), Some(FieldValue::Num(42))))
        );
        assert!(
            a.fields
                .contains(&("home".into(), Some(FieldValue::Text("dir /root".into()))))
        );
        let b = e.rules().rules.iter().find(|r| r.name == "B").unwrap();
        assert_eq!(b.output_text, "b", "B lacks the tag");
    }
}
