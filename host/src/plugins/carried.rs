//! What a source plugin carries for a run that names no rules: its default
//! rules and the extractor plugins they need (its companions).
//!
//! A plugin author is not trusted with the rest of the ruleset: the rules
//! it carries are loaded before the engine's own (so they cannot change
//! those: an override of a rule that is not yet there fails, a macro or
//! list of the same name is replaced by the engine's), and may only define
//! rules of the plugin's own source, never override, append to or disable
//! anything. A companion must be an extractor (no source of its own) whose
//! name is the one asked for; it is found beside the plugin, or in the
//! packages' plugin directory.

use super::{LoadedPlugin, PluginError};
use crate::rules::RulesFile;
use std::path::{Path, PathBuf};
use yaml_rust2::{Yaml, YamlLoader};

/// Why a plugin's carried rules are not loaded.
#[derive(Debug, thiserror::Error)]
#[error("plugin {plugin}: the rules it carries are not loaded: {why}")]
pub struct CarriedRulesError {
    plugin: String,
    why: String,
}

/// The default rules the loaded source plugins carry (each checked; one
/// that fails the check is left out, said in the log), their companions
/// added to `loaded`.
pub fn default_rules(loaded: &mut Vec<LoadedPlugin>) -> Result<Vec<RulesFile>, PluginError> {
    /// A source plugin that carries rules.
    struct Carrying {
        name: String,
        source: String,
        rules: String,
        companions: Vec<String>,
        beside: Option<PathBuf>,
    }
    let carrying: Vec<Carrying> = loaded
        .iter()
        .filter_map(|p| {
            Some(Carrying {
                name: p.spec.name.clone(),
                source: p.source.as_ref()?.1.clone(),
                rules: p.info.default_rules.clone()?,
                companions: p.info.companions.clone(),
                beside: p.spec.library_path.parent().map(Path::to_path_buf),
            })
        })
        .collect();
    let mut files = Vec::new();
    for Carrying {
        name,
        source,
        rules,
        companions,
        beside,
    } in carrying
    {
        if let Err(e) = vet(&name, &source, &rules) {
            crate::log::warning(&e.to_string());
            continue;
        }
        for c in companions {
            if loaded.iter().any(|p| p.spec.name == c || p.info.name == c) {
                continue;
            }
            match find(beside.as_deref(), &c) {
                Some(path) => load_companion(loaded, &name, &c, &path)?,
                None => crate::log::warning(&format!(
                    "plugin {name}: its rules need the plugin {c}: put {c}.wasm beside it"
                )),
            }
        }
        let path = format!("<plugin {name}>/default_rules.yaml");
        crate::log::info(&format!(
            "Plugin {name}: no rules named, loading the default rules it carries ({path})"
        ));
        files.push(RulesFile {
            path,
            content: rules,
        });
    }
    Ok(files)
}

/// Loads companion `c` of plugin `name` from `path`: kept if it is the
/// extractor named `c`.
fn load_companion(
    loaded: &mut Vec<LoadedPlugin>,
    name: &str,
    c: &str,
    path: &Path,
) -> Result<(), PluginError> {
    let p = LoadedPlugin::load(super::spec_from_cli(path, None, None))?;
    if p.source.is_some() || p.info.name != c {
        crate::log::warning(&format!(
            "plugin {name}: {} is not the extractor plugin {c} its rules need (it is {}{}): \
             not loaded",
            path.display(),
            p.info.name,
            if p.source.is_some() {
                ", a source plugin"
            } else {
                ""
            }
        ));
        return Ok(());
    }
    crate::log::info(&format!(
        "Plugin {name}: loading the plugin its rules need, {c} ({})",
        path.display()
    ));
    loaded.push(p);
    Ok(())
}

/// Where plugin `name` is: beside `dir`'s plugin, else in the packages'
/// plugin directory.
pub fn find(dir: Option<&Path>, name: &str) -> Option<PathBuf> {
    let files = [
        format!("{name}.wasm"),
        format!("{name}_plugin.wasm"),
        format!("lib{name}.wasm"),
    ];
    dir.into_iter()
        .chain([Path::new(super::PLUGINS_DIR)])
        .flat_map(|d| files.iter().map(move |f| d.join(f)))
        .find(|p| p.is_file())
}

/// Checks that `text` (plugin `plugin`'s rules, for `source`) only defines:
/// rules of `source` with a condition, macros and lists, requirements; no
/// override, append or enabled-only entry.
pub fn vet(plugin: &str, source: &str, text: &str) -> Result<(), CarriedRulesError> {
    let err = |why: String| CarriedRulesError {
        plugin: plugin.to_string(),
        why,
    };
    let docs = YamlLoader::load_from_str(text).map_err(|e| err(format!("not YAML: {e}")))?;
    for item in docs.iter().filter_map(Yaml::as_vec).flatten() {
        let Some(map) = item.as_hash() else {
            return Err(err("an item is not a map".into()));
        };
        let key = |k: &str| map.get(&Yaml::String(k.into()));
        let what = ["rule", "macro", "list"]
            .into_iter()
            .find_map(|k| Some((k, key(k)?.as_str().unwrap_or("?"))));
        if key("override").is_some() || key("append").is_some() {
            let (kind, name) = what.unwrap_or(("item", "?"));
            return Err(err(format!("{kind} '{name}' overrides or appends")));
        }
        match what {
            Some(("rule", name)) => {
                if key("condition").is_none() {
                    return Err(err(format!(
                        "rule '{name}' has no condition (it would change another rule)"
                    )));
                }
                let s = key("source").and_then(Yaml::as_str).unwrap_or("syscall");
                if s != source {
                    return Err(err(format!(
                        "rule '{name}' is for source '{s}', not '{source}'"
                    )));
                }
            }
            Some(_) => {}
            None if key("required_engine_version").is_some()
                || key("required_plugin_versions").is_some() => {}
            None => return Err(err("an item is neither a rule, a macro nor a list".into())),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carried_rules_only_add_rules_of_their_source() {
        let ok = "- required_plugin_versions:\n  - name: json\n    version: 0.1.0\n- macro: m\n  condition: ct.name = x\n- list: l\n  items: [a]\n- rule: R\n  desc: d\n  condition: m\n  output: o\n  priority: NOTICE\n  source: aws_cloudtrail\n";
        vet("cloudtrail", "aws_cloudtrail", ok).unwrap();
        // what the first-party plugins carry passes
        let ct = include_str!("../../../rules/aws_cloudtrail_rules.yaml");
        vet("cloudtrail", "aws_cloudtrail", ct).unwrap();
        let ka = include_str!("../../../rules/k8s_audit_rules.yaml");
        vet("k8saudit", "k8s_audit", ka).unwrap();
        for (bad, said) in [
            (
                "- rule: Reverse Shell on Host\n  enabled: false\n",
                "has no condition",
            ),
            (
                "- macro: spawned_process\n  condition: never_true\n  override:\n    condition: replace\n",
                "overrides",
            ),
            (
                "- list: shell_binaries\n  items: [x]\n  append: true\n",
                "overrides or appends",
            ),
            (
                "- rule: R\n  desc: d\n  condition: evt.type = open\n  output: o\n  priority: NOTICE\n",
                "for source 'syscall'",
            ),
            ("- exception: x\n", "neither"),
        ] {
            let e = vet("cloudtrail", "aws_cloudtrail", bad)
                .unwrap_err()
                .to_string();
            assert!(e.contains(said), "{bad}: {e}");
        }
    }
}
