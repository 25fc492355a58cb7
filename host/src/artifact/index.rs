//! Index files: falcoctl's catalogue of artifacts (a YAML list of `name`,
//! `type`, `registry`, `repository`, `description`, …), so that `install
//! cloudtrail` finds `REGISTRY/REPOSITORY`. `artifact push --index FILE`
//! adds or updates the pushed artifact's entry; the file is written as
//! JSON, which YAML readers (falcoctl's too) read.

use super::ArtifactError;
use super::reference::Reference;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One artifact of an index.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub name: String,
    /// `rulesfile` or `plugin`.
    #[serde(rename = "type")]
    pub kind: String,
    pub registry: String,
    pub repository: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub home: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub license: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub maintainers: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
}

/// The entries of the index file at `path`.
pub fn read(path: &Path) -> Result<Vec<Entry>, ArtifactError> {
    let text = std::fs::read_to_string(path).map_err(ArtifactError::io(path))?;
    let bad = |m: String| ArtifactError::Input(format!("{}: {m}", path.display()));
    let docs = crate::yaml::parse_documents(&text)
        .map_err(|e| bad(format!("line {}: {}", e.pos.line, e.message)))?;
    let Some(doc) = docs.first().filter(|d| !d.is_null()) else {
        return Ok(Vec::new());
    };
    serde_json::from_value(doc.to_json()).map_err(|e| bad(format!("not an index: {e}")))
}

/// The entries of every index file in `paths`, in order.
pub fn read_all(paths: &[std::path::PathBuf]) -> Result<Vec<Entry>, ArtifactError> {
    let mut all = Vec::new();
    for p in paths {
        all.extend(read(p)?);
    }
    Ok(all)
}

/// What `text` names: a full reference, or `NAME[:TAG]` of an index entry.
pub fn resolve(text: &str, entries: &[Entry]) -> Result<Reference, ArtifactError> {
    if text.contains('/') {
        return Ok(Reference::parse(text)?);
    }
    let (name, tag) = text.split_once(':').unwrap_or((text, "latest"));
    let e = entries.iter().find(|e| e.name == name).ok_or_else(|| {
        ArtifactError::Input(format!(
            "'{name}' is in no index (give a full reference REGISTRY/REPOSITORY[:TAG], or an index with --index)"
        ))
    })?;
    Ok(Reference::parse(&format!(
        "{}/{}:{tag}",
        e.registry, e.repository
    ))?)
}

/// Adds `entry` to the index at `path` (replacing one of the same name),
/// creating the file if needed.
pub fn upsert(path: &Path, entry: Entry) -> Result<(), ArtifactError> {
    let mut entries = if path.exists() {
        read(path)?
    } else {
        Vec::new()
    };
    match entries.iter_mut().find(|e| e.name == entry.name) {
        Some(e) => *e = entry,
        None => entries.push(entry),
    }
    let mut text = serde_json::to_string_pretty(&entries).unwrap_or_default();
    text.push('\n');
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(ArtifactError::io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(ArtifactError::io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_names_artifacts() {
        let dir = std::env::temp_dir().join(format!("fw-index-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // falcoctl's own YAML shape reads.
        let yaml = dir.join("falcoctl.yaml");
        std::fs::write(&yaml, "- name: falco-rules\n  type: rulesfile\n  registry: ghcr.io\n  repository: falcosecurity/rules/falco-rules\n  description: Falco rules\n  keywords: [falco-rules]\n  maintainers:\n    - email: cncf-falco-dev@lists.cncf.io\n      name: The Falco Authors\n").unwrap();
        let e = read(&yaml).unwrap();
        assert_eq!(
            resolve("falco-rules:3", &e).unwrap().to_string(),
            "ghcr.io/falcosecurity/rules/falco-rules:3"
        );
        assert!(resolve("nope", &e).is_err());
        let ours = dir.join("index.yaml");
        upsert(&ours, e[0].clone()).unwrap();
        upsert(
            &ours,
            Entry {
                description: "new".into(),
                ..e[0].clone()
            },
        )
        .unwrap();
        let back = read(&ours).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].description, "new");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
