//! Rules files: YAML with positions → lists, macros and rules (with
//! overrides) → compiled rules per source, with Falco-style diagnostics.
//!
//! ```text
//! files ──yaml──► Node tree ──load──► Collection ──compile──► LoadedRules
//! ```

pub mod append;
pub mod compile;
pub mod diag;
mod exceptions;
pub mod load;

pub use compile::{CompiledRule, LoadedRules, SourceRules};
pub use diag::{Diagnostic, Severity};
pub use load::{Collection, RulesFile};

use crate::fields::FieldRegistry;
use std::path::{Path, PathBuf};

/// Expands rules paths: a directory contributes its `.yaml`/`.yml` files
/// (sorted by name, not recursive), a file itself.
pub fn expand_paths(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|e| {
                    e.is_file()
                        && matches!(e.extension().and_then(|x| x.to_str()), Some("yaml" | "yml"))
                })
                .collect();
            entries.sort();
            out.extend(entries);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// Loads rules from files (in order) and compiles them.
pub fn load_files(
    files: Vec<RulesFile>,
    registry: &FieldRegistry,
    plugins: &[compile::ProvidedPlugin],
) -> LoadedRules {
    let mut coll = Collection::default();
    for f in files {
        coll.load_file(f);
    }
    compile::compile(&coll, registry, plugins)
}

/// Reads rules files or directories (in order) and compiles them; an
/// unreadable path is an error diagnostic.
pub fn load_paths(
    paths: &[PathBuf],
    registry: &FieldRegistry,
    plugins: &[compile::ProvidedPlugin],
) -> LoadedRules {
    let (files, read_errors) = read_files(paths);
    let mut loaded = load_files(files, registry, plugins);
    loaded.diags.splice(0..0, read_errors);
    loaded
}

/// Reads rules files from disk; an unreadable file is an error diagnostic.
pub fn read_files(paths: &[PathBuf]) -> (Vec<RulesFile>, Vec<Diagnostic>) {
    let mut files = Vec::new();
    let mut diags = Vec::new();
    let expanded = match expand_paths(paths) {
        Ok(e) => e,
        Err(e) => {
            diags.push(file_error(Path::new("<rules>"), &e.to_string()));
            return (files, diags);
        }
    };
    for p in expanded {
        match std::fs::read_to_string(&p) {
            Ok(content) => files.push(RulesFile {
                path: p.display().to_string(),
                content,
            }),
            Err(e) => diags.push(file_error(&p, &e.to_string())),
        }
    }
    (files, diags)
}

fn file_error(p: &Path, msg: &str) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        code: diag::Code::ErrFileRead,
        message: format!("Could not read rules file {}: {msg}", p.display()),
        context: vec![diag::Context {
            what: "rules content".into(),
            file: p.display().to_string(),
            pos: crate::yaml::Pos { line: 1, col: 1 },
        }],
        snippet: None,
    }
}
