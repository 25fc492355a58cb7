//! The part of the OCI distribution API artifacts need: blobs (check,
//! monolithic upload, download checked against its digest), manifests (put,
//! get), tags (list), and the registries' two ways to ask for credentials
//! (`Basic`, and `Bearer` with a token from the realm the challenge names).
//!
//! Written over ureq, which the engine already ships, rather than with
//! oci-client: that crate brings reqwest 0.13, oci-spec and chrono for
//! these six requests. Credentials come from
//! `FALCO_WASM_REGISTRY_USERNAME` / `FALCO_WASM_REGISTRY_PASSWORD`.

use super::layout::{Descriptor, MANIFEST, digest};
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A manifest type asked for beside OCI's (Docker's v2, which some
/// registries answer with).
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// A request that failed.
#[derive(Debug, thiserror::Error)]
#[error("registry {registry}: {what}: {message}")]
pub struct RegistryError {
    registry: String,
    what: String,
    message: String,
}

/// One registry, over HTTPS (or plain HTTP when asked).
pub struct Registry {
    agent: ureq::Agent,
    host: String,
    base: String,
    /// The `Authorization` value the last challenge was answered with.
    auth: Mutex<Option<String>>,
    credentials: Option<(String, String)>,
}

impl Registry {
    /// A client of `host` (`name[:port]`); `plain_http`: no TLS (a local
    /// registry).
    pub fn new(host: &str, plain_http: bool) -> Registry {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map(|b| b.with_root_certificates(roots).with_no_client_auth());
        let mut b = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .user_agent(concat!("falco-wasm/", env!("CARGO_PKG_VERSION")));
        if let Ok(tls) = tls {
            b = b.tls_config(Arc::new(tls));
        }
        let credentials = match (
            std::env::var("FALCO_WASM_REGISTRY_USERNAME"),
            std::env::var("FALCO_WASM_REGISTRY_PASSWORD"),
        ) {
            (Ok(u), Ok(p)) => Some((u, p)),
            _ => None,
        };
        Registry {
            agent: b.build(),
            host: host.to_string(),
            base: format!("{}://{host}", if plain_http { "http" } else { "https" }),
            auth: Mutex::new(None),
            credentials,
        }
    }

    fn err(&self, what: &str, message: impl std::fmt::Display) -> RegistryError {
        RegistryError {
            registry: self.host.clone(),
            what: what.to_string(),
            message: message.to_string(),
        }
    }

    /// Sends a request, answering one credentials challenge. `Ok(None)`:
    /// 404.
    fn send(
        &self,
        what: &str,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Option<ureq::Response>, RegistryError> {
        for attempt in 0..2 {
            let mut req = self.agent.request(method, url);
            for (k, v) in headers {
                req = req.set(k, v);
            }
            if let Some(a) = self
                .auth
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .as_deref()
            {
                req = req.set("Authorization", a);
            }
            let res = match body {
                Some(b) => req.send_bytes(b),
                None => req.call(),
            };
            match res {
                Ok(r) => return Ok(Some(r)),
                Err(ureq::Error::Status(404, _)) => return Ok(None),
                Err(ureq::Error::Status(401, r)) if attempt == 0 => {
                    let challenge = r.header("WWW-Authenticate").unwrap_or("").to_string();
                    let answer = self.answer(&challenge).map_err(|m| self.err(what, m))?;
                    *self.auth.lock().unwrap_or_else(|p| p.into_inner()) = Some(answer);
                }
                Err(ureq::Error::Status(code, r)) => {
                    let mut text = String::new();
                    let _ = r.into_reader().take(512).read_to_string(&mut text);
                    return Err(self.err(what, format!("HTTP {code} {}", text.trim())));
                }
                Err(e) => return Err(self.err(what, e)),
            }
        }
        Err(self.err(what, "HTTP 401: the credentials were refused"))
    }

    /// The `Authorization` value answering `challenge`.
    fn answer(&self, challenge: &str) -> Result<String, String> {
        use base64::Engine as _;
        let basic = self.credentials.as_ref().map(|(u, p)| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            )
        });
        let (scheme, params) = challenge.split_once(' ').unwrap_or((challenge, ""));
        if scheme.eq_ignore_ascii_case("basic") {
            return basic.ok_or_else(|| {
                "HTTP 401: credentials needed (set FALCO_WASM_REGISTRY_USERNAME and \
                 FALCO_WASM_REGISTRY_PASSWORD)"
                    .to_string()
            });
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(format!("HTTP 401 with an unknown challenge '{challenge}'"));
        }
        let param = |name: &str| challenge_param(params, name);
        let realm = param("realm").ok_or("HTTP 401: a Bearer challenge without a realm")?;
        let mut req = self.agent.get(&realm);
        for k in ["service", "scope"] {
            if let Some(v) = param(k) {
                req = req.query(k, &v);
            }
        }
        if let Some(b) = &basic {
            req = req.set("Authorization", b);
        }
        let answer = req.call().map_err(|e| format!("token from {realm}: {e}"))?;
        let v: serde_json::Value =
            serde_json::from_reader(answer.into_reader().take(super::layout::MAX_CONFIG))
                .map_err(|e| format!("token from {realm}: {e}"))?;
        let token = v
            .get("token")
            .or_else(|| v.get("access_token"))
            .and_then(|t| t.as_str())
            .ok_or_else(|| format!("token from {realm}: no token in the answer"))?;
        Ok(format!("Bearer {token}"))
    }

    /// Uploads `bytes` to `repo` unless the registry has them; returns
    /// their digest.
    pub fn push_blob(&self, repo: &str, bytes: &[u8]) -> Result<String, RegistryError> {
        let d = digest(bytes);
        let what = format!("upload blob {d} to {repo}");
        let url = format!("{}/v2/{repo}/blobs/{d}", self.base);
        if self.send(&what, "HEAD", &url, &[], None)?.is_some() {
            return Ok(d);
        }
        let start = format!("{}/v2/{repo}/blobs/uploads/", self.base);
        let r = self
            .send(&what, "POST", &start, &[], Some(&[]))?
            .ok_or_else(|| self.err(&what, "HTTP 404 (no such repository?)"))?;
        let location = r
            .header("Location")
            .ok_or_else(|| self.err(&what, "no Location in the answer"))?;
        let location = if location.starts_with('/') {
            format!("{}{location}", self.base)
        } else {
            location.to_string()
        };
        let sep = if location.contains('?') { '&' } else { '?' };
        let put = format!("{location}{sep}digest={d}");
        let headers = [("Content-Type", "application/octet-stream")];
        self.send(&what, "PUT", &put, &headers, Some(bytes))?
            .ok_or_else(|| self.err(&what, "HTTP 404"))?;
        Ok(d)
    }

    /// The blob `desc` names, checked against its size and digest.
    pub fn blob(
        &self,
        repo: &str,
        desc: &Descriptor,
        limit: u64,
    ) -> Result<Vec<u8>, RegistryError> {
        let what = format!("blob {} of {repo}", desc.digest);
        if desc.size > limit {
            return Err(self.err(&what, format!("{} bytes, more than {limit}", desc.size)));
        }
        let url = format!("{}/v2/{repo}/blobs/{}", self.base, desc.digest);
        let r = self
            .send(&what, "GET", &url, &[], None)?
            .ok_or_else(|| self.err(&what, "not in the registry"))?;
        let mut bytes = Vec::new();
        r.into_reader()
            .take(desc.size + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| self.err(&what, e))?;
        if bytes.len() as u64 != desc.size || digest(&bytes) != desc.digest {
            return Err(self.err(
                &what,
                "its content does not match its digest (changed in the registry after it was pushed?)",
            ));
        }
        Ok(bytes)
    }

    /// Puts manifest `bytes` under `reference` (a tag).
    pub fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        bytes: &[u8],
    ) -> Result<(), RegistryError> {
        let what = format!("put manifest {repo}:{reference}");
        let url = format!("{}/v2/{repo}/manifests/{reference}", self.base);
        self.send(
            &what,
            "PUT",
            &url,
            &[("Content-Type", MANIFEST)],
            Some(bytes),
        )?
        .ok_or_else(|| self.err(&what, "HTTP 404"))?;
        Ok(())
    }

    /// The manifest under `reference` (a tag or a digest), as the registry
    /// holds it; `None`: there is none.
    pub fn manifest(&self, repo: &str, reference: &str) -> Result<Option<Vec<u8>>, RegistryError> {
        let what = format!("manifest {repo}:{reference}");
        let url = format!("{}/v2/{repo}/manifests/{reference}", self.base);
        let accept = format!("{MANIFEST}, {DOCKER_MANIFEST}");
        let Some(r) = self.send(&what, "GET", &url, &[("Accept", &accept)], None)? else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        r.into_reader()
            .take(super::layout::MAX_MANIFEST + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| self.err(&what, e))?;
        if bytes.len() as u64 > super::layout::MAX_MANIFEST {
            return Err(self.err(&what, "larger than 4 MiB"));
        }
        Ok(Some(bytes))
    }

    /// The tags of `repo` (none when it does not exist).
    pub fn tags(&self, repo: &str) -> Result<Vec<String>, RegistryError> {
        let what = format!("tags of {repo}");
        let url = format!("{}/v2/{repo}/tags/list?n=10000", self.base);
        let Some(r) = self.send(&what, "GET", &url, &[], None)? else {
            return Ok(Vec::new());
        };
        #[derive(serde::Deserialize)]
        struct Tags {
            tags: Option<Vec<String>>,
        }
        let t: Tags = serde_json::from_reader(r.into_reader().take(super::layout::MAX_MANIFEST))
            .map_err(|e| self.err(&what, e))?;
        Ok(t.tags.unwrap_or_default())
    }
}

/// The value of `name` in a challenge's `k="v",k2="v2"` list.
fn challenge_param(params: &str, name: &str) -> Option<String> {
    let mut rest = params.trim();
    while !rest.is_empty() {
        let (k, after) = rest.split_once('=')?;
        let (v, after) = match after.strip_prefix('"') {
            Some(q) => {
                let end = q.find('"')?;
                (&q[..end], q[end + 1..].trim_start_matches([',', ' ']))
            }
            None => match after.split_once(',') {
                Some((v, a)) => (v, a.trim_start()),
                None => (after, ""),
            },
        };
        if k.trim().eq_ignore_ascii_case(name) {
            return Some(v.to_string());
        }
        rest = after;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenges_are_read() {
        let c = r#"realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#;
        assert_eq!(
            challenge_param(c, "realm").as_deref(),
            Some("https://auth.example/token")
        );
        assert_eq!(
            challenge_param(c, "service").as_deref(),
            Some("registry.example")
        );
        assert_eq!(
            challenge_param(c, "scope").as_deref(),
            Some("repository:a/b:pull,push")
        );
        assert_eq!(
            challenge_param("realm=x,scope=y", "scope").as_deref(),
            Some("y")
        );
        assert_eq!(challenge_param(c, "error"), None);
    }
}
