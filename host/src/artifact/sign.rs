//! Keyed signatures of artifacts: Ed25519 keys in PEM (PKCS#8 private,
//! SubjectPublicKeyInfo public, as OpenSSL writes them), signatures laid out
//! as cosign lays them out: a manifest tagged `sha256-<manifest hex>.sig`
//! whose layer is the "simple signing" payload naming the signed manifest's
//! digest, the base64 signature in the layer's
//! `dev.cosignproject.cosign/signature` annotation.
//!
//! What is signed is the manifest's digest, which names the config's and
//! the layer's digests: a changed manifest, config or layer in the
//! registry no longer matches.

use base64::Engine as _;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The signature layer's media type (cosign's).
pub const SIGNATURE_LAYER: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The annotation holding the signature (cosign's).
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// The signature manifest's config (cosign writes an image config).
pub const SIGNATURE_CONFIG: &str = "application/vnd.oci.image.config.v1+json";

/// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410), before the
/// 32 key bytes.
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// DER prefix of an Ed25519 private key in PKCS#8 v1 (RFC 8410), before
/// the 32 seed bytes.
const PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// Key and signature errors.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {what}")]
    Key { path: PathBuf, what: &'static str },
    #[error("cannot make a key: no randomness")]
    Random,
}

/// A private key to sign with.
pub struct SigningKey {
    pair: Ed25519KeyPair,
}

/// A public key to verify with; `id` names it in messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    bytes: [u8; 32],
    /// The first 16 hex digits of the SHA-256 of its DER form.
    pub id: String,
    /// Where it was read from.
    pub path: PathBuf,
}

/// Writes a new key pair: `PREFIX.key` (mode 0600) and `PREFIX.pub`.
pub fn keygen(prefix: &Path) -> Result<(PathBuf, PathBuf), SignError> {
    use ring::rand::SecureRandom;
    let mut seed = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut seed)
        .map_err(|_| SignError::Random)?;
    let pair = Ed25519KeyPair::from_seed_unchecked(&seed).map_err(|_| SignError::Random)?;
    // PKCS#8 v1 (RFC 8410), the form OpenSSL and cosign read.
    let pkcs8 = [&PKCS8_PREFIX[..], &seed].concat();
    let key = with_suffix(prefix, "key");
    let public = with_suffix(prefix, "pub");
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SignError::Io { path, source }
    };
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&key)
            .map_err(io(&key))?;
        f.write_all(pem("PRIVATE KEY", &pkcs8).as_bytes())
            .map_err(io(&key))?;
    }
    let spki = [&SPKI_PREFIX[..], pair.public_key().as_ref()].concat();
    std::fs::write(&public, pem("PUBLIC KEY", &spki)).map_err(io(&public))?;
    Ok((key, public))
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(".");
    s.push(suffix);
    PathBuf::from(s)
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The one PEM item of `path`.
fn read_pem(path: &Path) -> Result<rustls_pemfile::Item, SignError> {
    let bytes = std::fs::read(path).map_err(|source| SignError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    match rustls_pemfile::read_one(&mut bytes.as_slice()) {
        Ok(Some(item)) => Ok(item),
        _ => Err(SignError::Key {
            path: path.to_path_buf(),
            what: "not a PEM file",
        }),
    }
}

impl SigningKey {
    /// Reads an Ed25519 private key (PKCS#8 PEM).
    pub fn read(path: &Path) -> Result<SigningKey, SignError> {
        let bad = |what| SignError::Key {
            path: path.to_path_buf(),
            what,
        };
        match read_pem(path)? {
            rustls_pemfile::Item::Pkcs8Key(k) => {
                let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(k.secret_pkcs8_der())
                    .map_err(|_| bad("not an Ed25519 private key"))?;
                Ok(SigningKey { pair })
            }
            _ => Err(bad("expected a PRIVATE KEY (PKCS#8, Ed25519)")),
        }
    }

    /// The base64 signature of `payload`.
    pub fn sign(&self, payload: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.pair.sign(payload).as_ref())
    }

    /// Its public key's id.
    pub fn id(&self) -> String {
        key_id(self.pair.public_key().as_ref())
    }
}

fn key_id(raw: &[u8]) -> String {
    let spki = [&SPKI_PREFIX[..], raw].concat();
    crate::digest::sha256_hex(&spki)[..16].to_string()
}

impl PublicKey {
    /// Reads an Ed25519 public key (SubjectPublicKeyInfo PEM).
    pub fn read(path: &Path) -> Result<PublicKey, SignError> {
        let bad = |what| SignError::Key {
            path: path.to_path_buf(),
            what,
        };
        let rustls_pemfile::Item::SubjectPublicKeyInfo(spki) = read_pem(path)? else {
            return Err(bad("expected a PUBLIC KEY"));
        };
        let der = spki.as_ref();
        let raw = der
            .strip_prefix(&SPKI_PREFIX[..])
            .filter(|r| r.len() == 32)
            .ok_or_else(|| bad("not an Ed25519 public key"))?;
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(raw);
        Ok(PublicKey {
            bytes,
            id: key_id(raw),
            path: path.to_path_buf(),
        })
    }

    /// Whether `signature` (base64) is this key's signature of `payload`.
    pub fn verifies(&self, payload: &[u8], signature: &str) -> bool {
        let Ok(sig) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
            return false;
        };
        UnparsedPublicKey::new(&ED25519, &self.bytes)
            .verify(payload, &sig)
            .is_ok()
    }
}

/// cosign's "simple signing" payload.
#[derive(Debug, Serialize, Deserialize)]
pub struct Payload {
    pub critical: Critical,
    #[serde(default)]
    pub optional: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Critical {
    pub identity: Identity,
    pub image: Image,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Identity {
    #[serde(rename = "docker-reference")]
    pub docker_reference: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Image {
    #[serde(rename = "docker-manifest-digest")]
    pub docker_manifest_digest: String,
}

/// The payload signing manifest `digest` of repository `name`.
pub fn payload(name: &str, digest: &str) -> Vec<u8> {
    let p = Payload {
        critical: Critical {
            identity: Identity {
                docker_reference: name.to_string(),
            },
            image: Image {
                docker_manifest_digest: digest.to_string(),
            },
            kind: "cosign container image signature".to_string(),
        },
        optional: None,
    };
    serde_json::to_vec(&p).unwrap_or_default()
}

/// The manifest digest and the repository (`registry/repository`) a
/// payload signs (None: not a payload).
pub fn signed(payload: &[u8]) -> Option<(String, String)> {
    let p: Payload = serde_json::from_slice(payload).ok()?;
    Some((
        p.critical.image.docker_manifest_digest,
        p.critical.identity.docker_reference,
    ))
}

/// The tag of the signatures of manifest `digest` (`sha256-HEX.sig`).
pub fn signature_tag(digest: &str) -> String {
    format!("{}.sig", digest.replacen(':', "-", 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sign_and_verify_and_another_key_does_not() {
        let dir = std::env::temp_dir().join(format!("fw-sign-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (k, p) = keygen(&dir.join("a")).unwrap();
        assert!(keygen(&dir.join("a")).is_err(), "never overwrites a key");
        keygen(&dir.join("b")).unwrap();
        let key = SigningKey::read(&k).unwrap();
        let public = PublicKey::read(&p).unwrap();
        let other = PublicKey::read(&dir.join("b.pub")).unwrap();
        assert_eq!(key.id(), public.id);
        let pl = payload("localhost:5000/r", "sha256:00");
        let sig = key.sign(&pl);
        assert!(public.verifies(&pl, &sig));
        assert!(!other.verifies(&pl, &sig));
        assert!(!public.verifies(&payload("localhost:5000/r", "sha256:01"), &sig));
        assert_eq!(
            signed(&pl),
            Some(("sha256:00".to_string(), "localhost:5000/r".to_string()))
        );
        assert!(
            PublicKey::read(&k).is_err(),
            "a private key is not a public key"
        );
        assert!(SigningKey::read(&p).is_err());
        let mode =
            std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&k).unwrap().permissions());
        assert_eq!(mode & 0o777, 0o600);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
