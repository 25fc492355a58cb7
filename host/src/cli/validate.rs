//! `-V/--validate`: load rules files together, report each file's status
//! and every problem with file:line:col.

use super::Format;
use crate::fields::FieldRegistry;
use crate::rules::compile::ProvidedPlugin;
use crate::rules::{Diagnostic, Severity};
use std::path::PathBuf;
use std::process::ExitCode;

/// Validates `paths` (loaded in order, as one ruleset).
pub(super) fn validate(
    paths: &[PathBuf],
    registry: &FieldRegistry,
    plugins: &[ProvidedPlugin],
    format: Format,
) -> ExitCode {
    let loaded = crate::rules::load_paths(paths, registry, plugins);
    let names: Vec<String> = if loaded.files.is_empty() {
        paths.iter().map(|p| p.display().to_string()).collect()
    } else {
        loaded.files.clone()
    };
    for n in &loaded.notes {
        eprintln!("{n}");
    }
    let of_file = |name: &str, sev: Severity| -> Vec<&Diagnostic> {
        loaded
            .diags
            .iter()
            .filter(|d| d.severity == sev && d.context.first().is_some_and(|c| c.file == name))
            .collect()
    };
    // Diagnostics not tied to a listed file (e.g. an unreadable directory).
    let orphan: Vec<&Diagnostic> = loaded
        .diags
        .iter()
        .filter(|d| !d.context.first().is_some_and(|c| names.contains(&c.file)))
        .collect();
    let failed = loaded.has_errors();
    match format {
        Format::Json => {
            let results: Vec<_> = names
                .iter()
                .map(|n| {
                    let errors = of_file(n, Severity::Error);
                    serde_json::json!({
                        "name": n,
                        "successful": errors.is_empty(),
                        "errors": errors.iter().map(|d| d.to_json()).collect::<Vec<_>>(),
                        "warnings": of_file(n, Severity::Warning).iter().map(|d| d.to_json()).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let mut out = serde_json::json!({ "falco_load_results": results });
            if !orphan.is_empty() {
                out["errors"] = orphan.iter().map(|d| d.to_json()).collect();
            }
            println!("{out}");
        }
        Format::Text | Format::Markdown => {
            for d in &orphan {
                println!("{d}\n");
            }
            for n in &names {
                let errors = of_file(n, Severity::Error);
                let warnings = of_file(n, Severity::Warning);
                let status = match (errors.is_empty(), warnings.is_empty()) {
                    (false, _) => "Invalid",
                    (true, false) => "Ok, with warnings",
                    (true, true) => "Ok",
                };
                println!("{n}: {status}");
                if !errors.is_empty() {
                    println!("{} Errors:", errors.len());
                    for d in &errors {
                        println!("{d}\n");
                    }
                }
                if !warnings.is_empty() {
                    eprintln!("{n}: {} Warnings:", warnings.len());
                    for d in &warnings {
                        eprintln!("{d}\n");
                    }
                }
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
