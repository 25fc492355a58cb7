//! What an artifact is made of: an OCI image manifest, a config blob (JSON:
//! name, version, requirements, dependencies and, for a plugin, the grants
//! and limits it needs) and one layer, a gzipped tar of the rules files or
//! of the plugin component.
//!
//! Rules files use falcoctl's media types, so falcoctl reads ours and we
//! read falcoctl's. A plugin here is a WebAssembly component, not a native
//! library: it has media types of its own, so falcoctl never installs one
//! as a Falco plugin nor we a native one.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Read;

/// An OCI image manifest.
pub const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// falcoctl's rules file config.
pub const RULES_CONFIG: &str = "application/vnd.cncf.falco.rulesfile.config.v1+json";
/// falcoctl's rules file layer.
pub const RULES_LAYER: &str = "application/vnd.cncf.falco.rulesfile.layer.v1+tar.gz";
/// A falco-wasm plugin's config.
pub const PLUGIN_CONFIG: &str = "application/vnd.falco-wasm.plugin.config.v1+json";
/// A falco-wasm plugin's layer (the component, gzipped tar).
pub const PLUGIN_LAYER: &str = "application/vnd.falco-wasm.plugin.layer.v1+tar.gz";
/// falcoctl's (native) plugin config: refused with a clear message.
pub const FALCO_PLUGIN_CONFIG: &str = "application/vnd.cncf.falco.plugin.config.v1+json";
/// The annotation naming a layer's file (as ORAS and falcoctl write it).
pub const TITLE: &str = "org.opencontainers.image.title";

/// The largest manifest read.
pub const MAX_MANIFEST: u64 = 4 << 20;
/// The largest config blob read.
pub const MAX_CONFIG: u64 = 1 << 20;
/// The largest layer read, and the most its tar may unpack to.
pub const MAX_LAYER: u64 = 256 << 20;
/// The most files a layer may hold.
const MAX_FILES: usize = 256;

/// The two kinds of artifact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Rules files (falcoctl's `rulesfile`).
    Rulesfile,
    /// A plugin component.
    Plugin,
}

impl Kind {
    /// The config media type.
    pub fn config_type(self) -> &'static str {
        match self {
            Kind::Rulesfile => RULES_CONFIG,
            Kind::Plugin => PLUGIN_CONFIG,
        }
    }

    /// The layer media type.
    pub fn layer_type(self) -> &'static str {
        match self {
            Kind::Rulesfile => RULES_LAYER,
            Kind::Plugin => PLUGIN_LAYER,
        }
    }

    /// The kind whose config has media type `t`.
    pub fn from_config_type(t: &str) -> Option<Kind> {
        [Kind::Rulesfile, Kind::Plugin]
            .into_iter()
            .find(|k| k.config_type() == t)
    }

    /// `rulesfile` or `plugin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Rulesfile => "rulesfile",
            Kind::Plugin => "plugin",
        }
    }
}

/// A content descriptor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Descriptor {
    /// The descriptor of `bytes`.
    pub fn of(media_type: &str, bytes: &[u8]) -> Descriptor {
        Descriptor {
            media_type: media_type.to_string(),
            digest: digest(bytes),
            size: bytes.len() as u64,
            annotations: BTreeMap::new(),
        }
    }
}

/// An OCI image manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub schema_version: u32,
    #[serde(default)]
    pub media_type: Option<String>,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Manifest {
    /// A manifest of `config` and `layers`.
    pub fn new(config: Descriptor, layers: Vec<Descriptor>) -> Manifest {
        Manifest {
            schema_version: 2,
            media_type: Some(MANIFEST.to_string()),
            config,
            layers,
            annotations: BTreeMap::new(),
        }
    }
}

/// A requirement the installing engine must meet (`engine_version_semver`,
/// `plugin_api_version`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    pub name: String,
    pub version: String,
}

/// Another artifact this one needs (a rules file's plugins).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependency {
    pub name: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<Requirement>,
}

/// The config blob: falcoctl's fields, plus a plugin's declared grants and
/// limits (the shape of falco.yaml's `plugins[].grants` and `.limits`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ArtifactConfig {
    pub name: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<Dependency>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requirements: Vec<Requirement>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<serde_json::Value>,
}

pub use crate::digest::oci as digest;

/// Why a layer could not be unpacked.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    #[error("not a gzipped tar: {0}")]
    Io(#[from] std::io::Error),
    #[error("entry '{0}' is not a plain file name (no directories, links or '..')")]
    Name(String),
    #[error("entry '{0}' is there twice")]
    Twice(String),
    #[error("it unpacks to more than {MAX_LAYER} bytes or {MAX_FILES} files")]
    TooLarge,
}

/// A gzipped tar of `files` (name, content), byte for byte the same for the
/// same files (no times, owners or modes but 0644).
pub fn pack(files: &[(String, Vec<u8>)]) -> std::io::Result<Vec<u8>> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (name, bytes) in files {
        let mut h = tar::Header::new_ustar();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, name, bytes.as_slice())?;
    }
    tar.into_inner()?.finish()
}

/// The files of a layer: regular files with plain names only (a directory
/// entry `./` is skipped), at most [`MAX_LAYER`] bytes in all.
pub fn unpack(layer: &[u8]) -> Result<Vec<(String, Vec<u8>)>, LayerError> {
    let gz = flate2::read::GzDecoder::new(layer).take(MAX_LAYER + 1);
    let mut tar = tar::Archive::new(gz);
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut total = 0u64;
    for entry in tar.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.to_string_lossy().into_owned();
        let name = path.strip_prefix("./").unwrap_or(&path).to_string();
        let kind = entry.header().entry_type();
        if kind.is_dir() && (name.is_empty() || name == ".") {
            continue;
        }
        if !kind.is_file() || !plain_name(&name) {
            return Err(LayerError::Name(path));
        }
        if files.iter().any(|(n, _)| *n == name) {
            return Err(LayerError::Twice(name));
        }
        total += entry.size();
        if total > MAX_LAYER || files.len() >= MAX_FILES {
            return Err(LayerError::TooLarge);
        }
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut bytes)?;
        files.push((name, bytes));
    }
    Ok(files)
}

/// A name made of letters, digits, `.`, `_` and `-`, not hidden: no
/// directory part, no `..`, nothing that could forge a log line.
pub fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name.len() <= 255
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// The plugin contract (`falco-wasm:plugin@X.Y.Z`) a component was built
/// for: the version its imports or exports of our interfaces name.
pub fn component_contract(wasm: &[u8]) -> Option<String> {
    const NAME: &[u8] = b"falco-wasm:plugin/";
    let at = wasm.windows(NAME.len()).position(|w| w == NAME)? + NAME.len();
    let rest = &wasm[at..wasm.len().min(at + 64)];
    let v = &rest[rest.iter().position(|&b| b == b'@')? + 1..];
    let end = v
        .iter()
        .position(|b| !(b.is_ascii_digit() || *b == b'.'))
        .unwrap_or(v.len());
    let v = std::str::from_utf8(&v[..end]).ok()?;
    semver::Version::parse(v).ok().map(|v| v.to_string())
}

/// What a layer of `kind` must hold: rules files (`.yaml`, `.yml`), or one
/// WebAssembly component (`.wasm`). The error says what it holds instead.
pub fn check_files(kind: Kind, files: &[(String, Vec<u8>)]) -> Result<(), String> {
    let ok = match kind {
        Kind::Rulesfile => {
            !files.is_empty()
                && files
                    .iter()
                    .all(|(n, _)| n.ends_with(".yaml") || n.ends_with(".yml"))
        }
        Kind::Plugin => {
            matches!(files, [(n, b)] if n.ends_with(".wasm") && wasmparser::Parser::is_component(b))
        }
    };
    if ok {
        return Ok(());
    }
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    Err(format!(
        "a {} artifact holds {}, not [{}]",
        kind.as_str(),
        match kind {
            Kind::Rulesfile => "rules files (.yaml)",
            Kind::Plugin => "one WebAssembly component (.wasm)",
        },
        names.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_round_trip_and_refuse_paths() {
        let files = vec![
            ("a.yaml".to_string(), b"- list: x\n".to_vec()),
            ("b.yaml".to_string(), Vec::new()),
        ];
        let packed = pack(&files).unwrap();
        assert_eq!(pack(&files).unwrap(), packed, "deterministic");
        assert_eq!(unpack(&packed).unwrap(), files);
        // A path with a directory, written by hand (the builder refuses
        // `..` itself).
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut tar = tar::Builder::new(gz);
        let mut h = tar::Header::new_gnu();
        h.set_size(1);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, "etc/passwd", &b"x"[..]).unwrap();
        let bad = tar.into_inner().unwrap().finish().unwrap();
        assert!(matches!(unpack(&bad), Err(LayerError::Name(_))));
        assert!(unpack(b"not gzip").is_err());
    }

    #[test]
    fn config_is_falcoctls_shape() {
        let c = ArtifactConfig {
            name: "cloudtrail-rules".into(),
            version: "0.1.0".into(),
            dependencies: vec![Dependency {
                name: "cloudtrail".into(),
                version: "0.1.0".into(),
                alternatives: vec![],
            }],
            requirements: vec![Requirement {
                name: "engine_version_semver".into(),
                version: "0.62.0".into(),
            }],
            ..ArtifactConfig::default()
        };
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"name": "cloudtrail-rules", "version": "0.1.0",
                "dependencies": [{"name": "cloudtrail", "version": "0.1.0"}],
                "requirements": [{"name": "engine_version_semver", "version": "0.62.0"}]})
        );
    }
}
