//! `artifact push`: files → config + layer → manifest under the version's
//! tag and the floating tags it is now the newest of (`1.2`, `1`,
//! `latest`) → the manifest's signature.

use super::layout::{
    ArtifactConfig, Dependency, Descriptor, Kind, Manifest, Requirement, TITLE, pack,
};
use super::reference::Reference;
use super::registry::Registry;
use super::sign::{self, SigningKey};
use super::{ArtifactError, layout};
use std::path::PathBuf;

/// What to push.
pub struct PushRequest {
    pub reference: Reference,
    pub kind: Kind,
    pub files: Vec<PathBuf>,
    pub version: semver::Version,
    /// The artifact's name (default: the repository's last part).
    pub name: Option<String>,
    /// `NAME:VERSION` requirements beside the derived ones.
    pub requires: Vec<Requirement>,
    /// A plugin's grants and limits: a YAML file with `grants:` and
    /// `limits:` maps, as in falco.yaml's `plugins[]` entries.
    pub grants_file: Option<PathBuf>,
    pub plain_http: bool,
}

/// What was pushed.
#[derive(Debug)]
pub struct Pushed {
    pub digest: String,
    pub tags: Vec<String>,
    pub config: ArtifactConfig,
}

/// Pushes and signs an artifact.
pub fn push(req: &PushRequest, key: &SigningKey) -> Result<Pushed, ArtifactError> {
    let files = read_files(req)?;
    let config = config_of(req, &files)?;
    let reg = Registry::new(&req.reference.registry, req.plain_http);
    let repo = &req.reference.repository;
    let config_bytes = serde_json::to_vec(&config).unwrap_or_default();
    let layer_bytes = pack(&files).map_err(|e| ArtifactError::Input(e.to_string()))?;
    reg.push_blob(repo, &config_bytes)?;
    reg.push_blob(repo, &layer_bytes)?;
    let mut layer = Descriptor::of(req.kind.layer_type(), &layer_bytes);
    layer.annotations.insert(
        TITLE.to_string(),
        format!("{}-{}.tar.gz", config.name, config.version),
    );
    let manifest = Manifest::new(
        Descriptor::of(req.kind.config_type(), &config_bytes),
        vec![layer],
    );
    let manifest_bytes = serde_json::to_vec(&manifest).unwrap_or_default();
    let digest = layout::digest(&manifest_bytes);
    let existing = reg.tags(repo)?;
    let tags = tags_for(&req.version, &existing);
    // Signed before it is tagged: a follower never sees it unsigned.
    sign_manifest(&reg, &req.reference, &digest, key)?;
    for t in &tags {
        reg.put_manifest(repo, t, &manifest_bytes)?;
    }
    Ok(Pushed {
        digest,
        tags,
        config,
    })
}

/// Puts the signature of manifest `digest` under its cosign tag.
fn sign_manifest(
    reg: &Registry,
    r: &Reference,
    digest: &str,
    key: &SigningKey,
) -> Result<(), ArtifactError> {
    let payload = sign::payload(&r.name(), digest);
    let config = b"{}".to_vec();
    reg.push_blob(&r.repository, &config)?;
    reg.push_blob(&r.repository, &payload)?;
    let mut layer = Descriptor::of(sign::SIGNATURE_LAYER, &payload);
    layer
        .annotations
        .insert(sign::SIGNATURE_ANNOTATION.to_string(), key.sign(&payload));
    let m = Manifest::new(Descriptor::of(sign::SIGNATURE_CONFIG, &config), vec![layer]);
    let bytes = serde_json::to_vec(&m).unwrap_or_default();
    reg.put_manifest(&r.repository, &sign::signature_tag(digest), &bytes)?;
    Ok(())
}

/// The version's own tag, and each floating tag (`MAJOR.MINOR`, `MAJOR`,
/// `latest`) no pushed version newer than it already holds. A pre-release
/// gets its own tag only.
pub fn tags_for(version: &semver::Version, existing: &[String]) -> Vec<String> {
    let mut tags = vec![version.to_string()];
    if !version.pre.is_empty() {
        return tags;
    }
    let pushed: Vec<semver::Version> = existing
        .iter()
        .filter_map(|t| semver::Version::parse(t).ok())
        .filter(|v| v.pre.is_empty())
        .collect();
    let newer =
        |same: &dyn Fn(&semver::Version) -> bool| pushed.iter().any(|v| same(v) && v > version);
    let (maj, min) = (version.major, version.minor);
    if !newer(&|v| v.major == maj && v.minor == min) {
        tags.push(format!("{maj}.{min}"));
    }
    if !newer(&|v| v.major == maj) {
        tags.push(format!("{maj}"));
    }
    if !newer(&|_| true) {
        tags.push("latest".to_string());
    }
    tags
}

/// The files to pack, by their base names.
fn read_files(req: &PushRequest) -> Result<Vec<(String, Vec<u8>)>, ArtifactError> {
    if !req.version.build.is_empty() {
        return Err(ArtifactError::Input(format!(
            "version {}: build metadata (+…) cannot be part of a tag",
            req.version
        )));
    }
    let mut files = Vec::new();
    for path in &req.files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| layout::plain_name(n))
            .ok_or_else(|| {
                ArtifactError::Input(format!(
                    "{}: not a plain file name (letters, digits, . _ -)",
                    path.display()
                ))
            })?
            .to_string();
        if files.iter().any(|(n, _)| *n == name) {
            return Err(ArtifactError::Input(format!("{name} is given twice")));
        }
        let bytes = std::fs::read(path).map_err(ArtifactError::io(path))?;
        files.push((name, bytes));
    }
    layout::check_files(req.kind, &files).map_err(ArtifactError::Input)?;
    Ok(files)
}

/// The config blob: name, version, requirements (those given, and those
/// the files say: a rules file's `required_engine_version`, a plugin's
/// plugin API), dependencies (a rules file's `required_plugin_versions`),
/// a plugin's declared grants and limits.
fn config_of(
    req: &PushRequest,
    files: &[(String, Vec<u8>)],
) -> Result<ArtifactConfig, ArtifactError> {
    let name = req.name.clone().unwrap_or_else(|| {
        let last = req
            .reference
            .repository
            .rsplit('/')
            .next()
            .unwrap_or_default();
        last.to_string()
    });
    if !layout::plain_name(&name) {
        return Err(ArtifactError::Input(format!(
            "'{name}' is not a plain artifact name (--name)"
        )));
    }
    let mut config = ArtifactConfig {
        name,
        version: req.version.to_string(),
        ..ArtifactConfig::default()
    };
    match req.kind {
        Kind::Rulesfile => {
            for (file, bytes) in files {
                let text = String::from_utf8_lossy(bytes);
                let (reqs, deps) = rules_requirements(&text)
                    .map_err(|e| ArtifactError::Input(format!("{file}: {e}")))?;
                merge(&mut config.requirements, reqs);
                for d in deps {
                    if !config.dependencies.iter().any(|x| x.name == d.name) {
                        config.dependencies.push(d);
                    }
                }
            }
        }
        Kind::Plugin => {
            config.requirements.push(Requirement {
                name: "plugin_api_version".into(),
                version: crate::plugins::host_api_version(),
            });
            // the WIT contract the component was built for
            let contract = layout::component_contract(&files[0].1).ok_or_else(|| {
                ArtifactError::Input(format!(
                    "{}: names no falco-wasm:plugin interface (not built with the SDK?)",
                    files[0].0
                ))
            })?;
            config.requirements.push(Requirement {
                name: "plugin_contract_version".into(),
                version: contract,
            });
            if let Some(path) = &req.grants_file {
                let (grants, limits) = crate::plugins::installed::declared_from_file(path)
                    .map_err(|e| ArtifactError::Input(e.to_string()))?;
                config.grants = grants;
                config.limits = limits;
            }
        }
    }
    merge(&mut config.requirements, req.requires.clone());
    Ok(config)
}

/// Adds `more`, a later one of the same name replacing an earlier one.
fn merge(into: &mut Vec<Requirement>, more: Vec<Requirement>) {
    for r in more {
        into.retain(|x| x.name != r.name);
        into.push(r);
    }
}

/// What a rules file requires (`required_engine_version` as
/// `engine_version_semver`) and depends on (`required_plugin_versions`).
fn rules_requirements(text: &str) -> Result<(Vec<Requirement>, Vec<Dependency>), String> {
    use yaml_rust2::{Yaml, YamlLoader};
    let docs = YamlLoader::load_from_str(text).map_err(|e| e.to_string())?;
    let mut reqs = Vec::new();
    let mut deps = Vec::new();
    let items = docs.iter().filter_map(Yaml::as_vec).flatten();
    let s = |y: &Yaml| match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        _ => None,
    };
    for item in items {
        if let Some(v) = s(&item["required_engine_version"]) {
            // Old files write the engine version as one number (`15`).
            let v = if v.contains('.') {
                v
            } else {
                format!("0.{v}.0")
            };
            reqs = vec![Requirement {
                name: "engine_version_semver".into(),
                version: v,
            }];
        }
        for p in item["required_plugin_versions"]
            .as_vec()
            .into_iter()
            .flatten()
        {
            let (Some(name), Some(version)) = (s(&p["name"]), s(&p["version"])) else {
                return Err(
                    "required_plugin_versions: each entry needs a name and a version".into(),
                );
            };
            let alternatives = p["alternatives"]
                .as_vec()
                .into_iter()
                .flatten()
                .filter_map(|a| {
                    Some(Requirement {
                        name: s(&a["name"])?,
                        version: s(&a["version"])?,
                    })
                })
                .collect();
            deps.push(Dependency {
                name,
                version,
                alternatives,
            });
        }
    }
    Ok((reqs, deps))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floating_tags_move_only_forward() {
        let v = |s| semver::Version::parse(s).unwrap();
        assert_eq!(tags_for(&v("1.2.3"), &[]), ["1.2.3", "1.2", "1", "latest"]);
        let pushed = ["1.3.0".to_string(), "2.0.0".into(), "latest".into()];
        assert_eq!(tags_for(&v("1.2.4"), &pushed), ["1.2.4", "1.2"]);
        assert_eq!(tags_for(&v("1.3.1"), &pushed), ["1.3.1", "1.3", "1"]);
        assert_eq!(tags_for(&v("2.1.0-rc1"), &pushed), ["2.1.0-rc1"]);
    }

    #[test]
    fn rules_files_say_their_requirements() {
        let text = "- required_engine_version: 0.31.0\n- required_plugin_versions:\n  - name: cloudtrail\n    version: 0.12.0\n    alternatives:\n      - name: cloudtrail-wasm\n        version: 0.1.0\n  - name: json\n    version: 0.7.0\n- rule: x\n";
        let (reqs, deps) = rules_requirements(text).unwrap();
        assert_eq!(reqs[0].version, "0.31.0");
        assert_eq!(deps.len(), 2);
        assert_eq!(deps[0].alternatives[0].name, "cloudtrail-wasm");
        let (reqs, _) = rules_requirements("- required_engine_version: 15\n").unwrap();
        assert_eq!(reqs[0].version, "0.15.0");
    }
}
