//! Fetching an artifact: its manifest, a signature of that manifest by one
//! of the operator's keys, its config and its layer, each checked against
//! the digest that names it. Nothing is written here.

use super::ArtifactError;
use super::layout::{self, ArtifactConfig, FALCO_PLUGIN_CONFIG, Kind, Manifest};
use super::reference::Reference;
use super::registry::Registry;
use super::sign::{self, PublicKey};

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
    /// checked, `pull` without keys).
    pub signer: Option<String>,
}

/// The digest of the manifest `r` names now (`None`: no such tag).
pub fn current_digest(reg: &Registry, r: &Reference) -> Result<Option<String>, ArtifactError> {
    Ok(reg
        .manifest(&r.repository, r.manifest_ref())?
        .map(|m| layout::digest(&m)))
}

/// Fetches `r`; with `keys`, its manifest must be signed by one of them.
pub fn fetch(reg: &Registry, r: &Reference, keys: &[PublicKey]) -> Result<Fetched, ArtifactError> {
    let Some(bytes) = reg.manifest(&r.repository, r.manifest_ref())? else {
        let tags = reg.tags(&r.repository).unwrap_or_default();
        let tags: Vec<_> = tags.into_iter().filter(|t| !t.ends_with(".sig")).collect();
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
    if config.name.is_empty() || !layout::plain_name(&config.name) {
        return Err(ArtifactError::refused(
            r,
            format!("its name '{}' is not a plain name", config.name),
        ));
    }
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
    check_files(r, kind, &files)?;
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

/// Rules files are YAML; a plugin is one WebAssembly component.
fn check_files(
    r: &Reference,
    kind: Kind,
    files: &[(String, Vec<u8>)],
) -> Result<(), ArtifactError> {
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
    Err(ArtifactError::refused(
        r,
        format!(
            "a {} artifact must hold {}, this one holds [{}]",
            kind.as_str(),
            match kind {
                Kind::Rulesfile => "rules files (.yaml)",
                Kind::Plugin => "one WebAssembly component (.wasm)",
            },
            names.join(", ")
        ),
    ))
}

/// The id of the key that signed manifest `digest`, or why none did.
fn verify_signature(
    reg: &Registry,
    r: &Reference,
    digest: &str,
    keys: &[PublicKey],
) -> Result<String, ArtifactError> {
    let tag = sign::signature_tag(digest);
    let Some(bytes) = reg.manifest(&r.repository, &tag)? else {
        return Err(ArtifactError::refused(
            r,
            format!("not signed: no signature of {digest} (tag {tag}) in the registry"),
        ));
    };
    let m: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| ArtifactError::refused(r, format!("its signature manifest: {e}")))?;
    let mut other_digest = None;
    for layer in m
        .layers
        .iter()
        .filter(|l| l.media_type == sign::SIGNATURE_LAYER)
    {
        let Some(sig) = layer.annotations.get(sign::SIGNATURE_ANNOTATION) else {
            continue;
        };
        let payload = reg.blob(&r.repository, layer, layout::MAX_CONFIG)?;
        let Some(key) = keys.iter().find(|k| k.verifies(&payload, sig)) else {
            continue;
        };
        match sign::signed_digest(&payload) {
            Some(d) if d == digest => return Ok(key.id.clone()),
            d => other_digest = Some((key.id.clone(), d.unwrap_or_default())),
        }
    }
    let ids: Vec<String> = keys
        .iter()
        .map(|k| format!("{} ({})", k.id, k.path.display()))
        .collect();
    Err(ArtifactError::refused(
        r,
        match other_digest {
            Some((id, d)) => format!("the signature by key {id} is of another manifest ({d})"),
            None => format!(
                "its signature is not by a trusted key (trusted: {})",
                ids.join(", ")
            ),
        },
    ))
}
