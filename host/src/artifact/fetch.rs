//! Fetching an artifact: its manifest, a signature of that manifest (and of
//! its repository) by one of the operator's keys, its config (checked:
//! name, version, requirements, declared grants) and its layer, each
//! checked against the digest that names it. Nothing is written here.

use super::ArtifactError;
use super::layout::{self, ArtifactConfig, FALCO_PLUGIN_CONFIG, Kind, Manifest};
use super::reference::Reference;
use super::registry::Registry;
use super::sign::{self, PublicKey};

/// The most signatures of one manifest looked at.
const MAX_SIGNATURES: usize = 16;
/// The largest signature payload read.
const MAX_PAYLOAD: u64 = 64 << 10;

/// A fetched, checked artifact.
#[derive(Debug)]
pub struct Fetched {
    pub reference: Reference,
    /// The manifest's digest.
    pub digest: String,
    pub kind: Kind,
    pub config: ArtifactConfig,
    /// The layer's files (name, content).
    pub files: Vec<(String, Vec<u8>)>,
    /// The id of the key whose signature was checked (`None`: not
    /// checked, `pull` without keys; such an artifact is not installed).
    pub signer: Option<String>,
}

/// The digest of the manifest `r` names now (`None`: no such tag).
pub fn current_digest(reg: &Registry, r: &Reference) -> Result<Option<String>, ArtifactError> {
    Ok(reg
        .manifest(&r.repository, r.manifest_ref())?
        .map(|m| layout::digest(&m)))
}

/// The tags of `repo` but the signatures'.
pub fn artifact_tags(reg: &Registry, repo: &str) -> Result<Vec<String>, ArtifactError> {
    let mut tags = reg.tags(repo)?;
    tags.retain(|t| !t.ends_with(".sig"));
    Ok(tags)
}

/// Fetches `r`; with `keys`, its manifest must be signed by one of them.
pub fn fetch(reg: &Registry, r: &Reference, keys: &[PublicKey]) -> Result<Fetched, ArtifactError> {
    let Some(bytes) = reg.manifest(&r.repository, r.manifest_ref())? else {
        let tags = artifact_tags(reg, &r.repository).unwrap_or_default();
        return Err(ArtifactError::NotFound {
            reference: r.to_string(),
            hint: if tags.is_empty() {
                String::new()
            } else {
                format!(" (tags: {})", tags.join(", "))
            },
        });
    };
    let digest = layout::digest(&bytes);
    if let Some(pinned) = &r.digest
        && *pinned != digest
    {
        return Err(ArtifactError::refused(
            r,
            format!("the manifest is {digest}, not the pinned {pinned}"),
        ));
    }
    let signer = if keys.is_empty() {
        None
    } else {
        Some(verify_signature(reg, r, &digest, keys)?)
    };
    let manifest: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| ArtifactError::refused(r, format!("not an OCI image manifest: {e}")))?;
    let kind = kind_of(r, &manifest)?;
    let config_bytes = reg.blob(&r.repository, &manifest.config, layout::MAX_CONFIG)?;
    let config: ArtifactConfig = serde_json::from_slice(&config_bytes).map_err(|e| {
        ArtifactError::refused(r, format!("its config is not an artifact config: {e}"))
    })?;
    check_config(r, kind, &config)?;
    let layers: Vec<_> = manifest
        .layers
        .iter()
        .filter(|l| l.media_type == kind.layer_type())
        .collect();
    let [layer] = layers[..] else {
        return Err(ArtifactError::refused(
            r,
            format!(
                "expected one layer of type {}, found {}",
                kind.layer_type(),
                layers.len()
            ),
        ));
    };
    let blob = reg.blob(&r.repository, layer, layout::MAX_LAYER)?;
    let files =
        layout::unpack(&blob).map_err(|e| ArtifactError::refused(r, format!("its layer: {e}")))?;
    layout::check_files(kind, &files).map_err(|e| ArtifactError::refused(r, e))?;
    if kind == Kind::Plugin {
        // what the component itself says, whatever its config claims
        let contract = layout::component_contract(&files[0].1).unwrap_or_default();
        let req = layout::Requirement {
            name: "plugin_contract_version".into(),
            version: contract,
        };
        check_requirements(r, std::slice::from_ref(&req))?;
    }
    Ok(Fetched {
        reference: r.clone(),
        digest,
        kind,
        config,
        files,
        signer,
    })
}

/// The artifact's kind, from its config's media type.
fn kind_of(r: &Reference, m: &Manifest) -> Result<Kind, ArtifactError> {
    let t = m.config.media_type.as_str();
    if t == FALCO_PLUGIN_CONFIG {
        return Err(ArtifactError::refused(
            r,
            "a native Falco plugin (falcoctl's plugin media type): falco-wasm runs \
             WebAssembly components only",
        ));
    }
    Kind::from_config_type(t).ok_or_else(|| {
        ArtifactError::refused(
            r,
            format!("config type {t} is neither a rules file nor a falco-wasm plugin"),
        )
    })
}

/// What the config says, checked before the layer is downloaded: a plain
/// name, a semver version, requirements this engine meets, a plugin's
/// declared grants and limits in falco.yaml's shape.
fn check_config(r: &Reference, kind: Kind, config: &ArtifactConfig) -> Result<(), ArtifactError> {
    if !layout::plain_name(&config.name) {
        return Err(ArtifactError::refused(
            r,
            format!("its name {:?} is not a plain name", config.name),
        ));
    }
    if semver::Version::parse(&config.version).is_err() {
        return Err(ArtifactError::refused(
            r,
            format!("its version {:?} is not semver", config.version),
        ));
    }
    check_requirements(r, &config.requirements)?;
    if kind == Kind::Plugin {
        crate::plugins::installed::declared(
            &config.name,
            config.grants.as_ref(),
            config.limits.as_ref(),
        )
        .map_err(|e| ArtifactError::refused(r, format!("its declared grants: {e}")))?;
    }
    Ok(())
}

/// `engine_version_semver`, `plugin_api_version` and
/// `plugin_contract_version` must be met by this engine (same major, not
/// newer; the contract's minor too below 1.0); other requirements are not
/// known here and refuse the artifact.
fn check_requirements(
    r: &Reference,
    requirements: &[layout::Requirement],
) -> Result<(), ArtifactError> {
    for req in requirements {
        let ours = match req.name.as_str() {
            "engine_version_semver" => crate::rules::compile::ENGINE_VERSION,
            "plugin_api_version" => crate::plugins::HOST_API_VERSION,
            "plugin_contract_version" => contract_version(),
            other => {
                return Err(ArtifactError::refused(
                    r,
                    format!(
                        "it requires '{other}' {}, which this engine does not know (it \
                         knows engine_version_semver, plugin_api_version and \
                         plugin_contract_version)",
                        req.version
                    ),
                ));
            }
        };
        let (a, b, c) = ours;
        // the WIT contract's rule: below 1.0, a new minor version breaks
        let breaks = req.name == "plugin_contract_version" && a == 0;
        let met = semver::Version::parse(&req.version)
            .map(|v| v.major == a && (!breaks || v.minor == b) && (v.minor, v.patch) <= (b, c))
            .unwrap_or(false);
        if !met {
            return Err(ArtifactError::refused(
                r,
                format!(
                    "it requires {} {}, this engine has {a}.{b}.{c}",
                    req.name, req.version
                ),
            ));
        }
    }
    Ok(())
}

/// The WIT plugin contract this host implements, as a triple.
fn contract_version() -> (u64, u64, u64) {
    let v = semver::Version::parse(crate::plugins::wasm::CONTRACT)
        .unwrap_or(semver::Version::new(0, 0, 0));
    (v.major, v.minor, v.patch)
}

/// The id of the key that signed manifest `digest` of `r`'s repository, or
/// why none did.
fn verify_signature(
    reg: &Registry,
    r: &Reference,
    digest: &str,
    keys: &[PublicKey],
) -> Result<String, ArtifactError> {
    let tag = sign::signature_tag(digest);
    let unsigned = |why: String| ArtifactError::Unsigned {
        reference: r.to_string(),
        why,
    };
    let Some(bytes) = reg.manifest(&r.repository, &tag)? else {
        return Err(unsigned(format!(
            "not signed: no signature of {digest} (tag {tag}) in the registry"
        )));
    };
    let m: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| ArtifactError::refused(r, format!("its signature manifest: {e}")))?;
    let (mut other, mut unreadable) = (None, false);
    let signatures = m
        .layers
        .iter()
        .filter(|l| l.media_type == sign::SIGNATURE_LAYER)
        .take(MAX_SIGNATURES);
    for layer in signatures {
        let Some(sig) = layer.annotations.get(sign::SIGNATURE_ANNOTATION) else {
            continue;
        };
        // one unreadable signature does not hide a good one
        let Ok(payload) = reg.blob(&r.repository, layer, MAX_PAYLOAD) else {
            unreadable = true;
            continue;
        };
        let Some(key) = keys.iter().find(|k| k.verifies(&payload, sig)) else {
            continue;
        };
        match sign::signed(&payload) {
            Some((d, name)) if d == digest && name == r.name() => return Ok(key.id.clone()),
            Some((d, name)) => other = Some((key.id.clone(), format!("{name}@{d}"))),
            None => {}
        }
    }
    if unreadable && other.is_none() {
        return Err(unsigned(format!(
            "a signature of {digest} could not be read"
        )));
    }
    let ids: Vec<String> = keys
        .iter()
        .map(|k| format!("{} ({})", k.id, k.path.display()))
        .collect();
    Err(ArtifactError::refused(
        r,
        match other {
            Some((id, what)) => {
                format!("the signature by key {id} is of another artifact ({what})")
            }
            None => format!(
                "its signature is not by a trusted key (trusted: {})",
                ids.join(", ")
            ),
        },
    ))
}
