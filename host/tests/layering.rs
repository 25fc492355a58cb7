//! Data flows one way through `host/src`: no import cycle between its
//! top-level modules. Reads the sources as text: every `crate::NAME` and
//! `use crate::{NAME, …}` outside the test modules is an edge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The text before the file's test module.
fn without_tests(text: &str) -> &str {
    let cut = text
        .match_indices("#[cfg(test)]")
        .find(|(i, _)| text[i + 12..].trim_start().starts_with("mod "))
        .map_or(text.len(), |(i, _)| i);
    &text[..cut]
}

/// The modules named after `crate::` in `text` (with `use crate::{a, b}`).
fn referenced(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + 7..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for item in group.split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                out.insert(name);
            }
        } else {
            out.insert(
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect(),
            );
        }
    }
    out
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules: BTreeSet<String> = std::fs::read_dir(&src)
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let name = name.strip_suffix(".rs").unwrap_or(&name).to_string();
            (name != "lib" && name != "main").then_some(name)
        })
        .collect();
    let mut edges = BTreeMap::new();
    for m in &modules {
        let mut files = Vec::new();
        let file = src.join(format!("{m}.rs"));
        if file.is_file() {
            files.push(file);
        } else {
            rust_files(&src.join(m), &mut files);
        }
        let deps: BTreeSet<String> = files
            .iter()
            .flat_map(|f| referenced(without_tests(&std::fs::read_to_string(f).unwrap())))
            .filter(|d| d != m && modules.contains(d))
            .collect();
        edges.insert(m.clone(), deps);
    }
    edges
}

/// A cycle through `at`, if there is one (depth-first).
fn cycle(
    g: &BTreeMap<String, BTreeSet<String>>,
    at: &str,
    path: &mut Vec<String>,
    done: &mut BTreeSet<String>,
) -> Option<Vec<String>> {
    if let Some(i) = path.iter().position(|p| p == at) {
        let mut c = path[i..].to_vec();
        c.push(at.to_string());
        return Some(c);
    }
    if done.contains(at) {
        return None;
    }
    path.push(at.to_string());
    for d in &g[at] {
        if let Some(c) = cycle(g, d, path, done) {
            return Some(c);
        }
    }
    path.pop();
    done.insert(at.to_string());
    None
}

#[test]
fn host_modules_import_each_other_one_way() {
    let g = graph();
    assert!(g.len() > 10, "modules found: {:?}", g.keys());
    assert!(g["pipeline"].contains("engine"), "the reader sees imports");
    let mut done = BTreeSet::new();
    for m in g.keys() {
        if let Some(c) = cycle(&g, m, &mut Vec::new(), &mut done) {
            panic!("import cycle: {}", c.join(" -> "));
        }
    }
}

#[test]
fn the_reader_finds_a_cycle() {
    let mut g = BTreeMap::new();
    g.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    g.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    let c = cycle(&g, "a", &mut Vec::new(), &mut BTreeSet::new()).unwrap();
    assert_eq!(c, ["a", "b", "a"]);
    assert_eq!(
        referenced("use crate::{x, y::Z};\nlet v = crate::w::f();"),
        BTreeSet::from(["w".into(), "x".into(), "y".into()])
    );
}
