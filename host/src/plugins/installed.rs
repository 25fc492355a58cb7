//! Plugins installed from artifacts: the record `falco-wasm artifact
//! install` writes beside a component (`NAME.artifact.json`: where it came
//! from, its digest, the grants it declared and those the operator
//! accepted), and what the engine makes of it when it loads the component:
//! the file must be the one installed, and the plugin gets no more than the
//! accepted grants.

use super::{Grants, Limits, PluginError, grants_from, limits_from};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One installed file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstalledFile {
    pub name: String,
    /// `sha256:HEX` of its content.
    pub digest: String,
}

/// What `artifact install` records about an installed artifact.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Installed {
    /// The reference it was installed from.
    pub reference: String,
    /// `rulesfile` or `plugin`.
    pub kind: String,
    pub name: String,
    pub version: String,
    /// The manifest's digest.
    pub digest: String,
    /// The id of the key its signature was checked with.
    pub signer: String,
    pub files: Vec<InstalledFile>,
    /// The grants its config declares (falco.yaml's `grants` shape).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared_grants: Option<Value>,
    /// The grants the operator accepted; the plugin never gets more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_grants: Option<Value>,
    /// The limits its config declares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<Value>,
}

/// The record of the artifact named `name` in `dir`.
pub fn record_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.artifact.json"))
}

impl Installed {
    /// The record beside `library` (`DIR/NAME.wasm` → `DIR/NAME.artifact.json`),
    /// if the component was installed from an artifact.
    pub fn beside(library: &Path) -> Result<Option<Installed>, PluginError> {
        let (Some(dir), Some(stem)) = (
            library.parent(),
            library.file_stem().and_then(|s| s.to_str()),
        ) else {
            return Ok(None);
        };
        Installed::read(&record_path(dir, stem))
    }

    /// The record at `path` (`None`: there is none).
    pub fn read(path: &Path) -> Result<Option<Installed>, PluginError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(PluginError::config(
                    path.display().to_string(),
                    e.to_string(),
                ));
            }
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| PluginError::config(path.display().to_string(), e.to_string()))
    }

    /// The accepted grants (none accepted: none).
    pub fn accepted(&self) -> Result<Grants, PluginError> {
        match &self.accepted_grants {
            Some(g) => grants_from(&format!("artifact {}", self.name), g),
            None => Ok(Grants::default()),
        }
    }

    /// The declared grants and limits (none declared: none, and the
    /// default limits).
    pub fn declared(&self) -> Result<(Grants, Limits), PluginError> {
        declared(
            &self.name,
            self.declared_grants.as_ref(),
            self.limits.as_ref(),
        )
    }

    /// Checks that `library` is the component installed (not replaced
    /// since).
    pub fn check_library(&self, plugin: &str, library: &Path) -> Result<(), PluginError> {
        let bytes = std::fs::read(library)
            .map_err(|e| PluginError::load(plugin, format!("{}: {e}", library.display())))?;
        let digest = crate::digest::oci(&bytes);
        let installed = self.files.iter().any(|f| f.digest == digest);
        if !installed {
            return Err(PluginError::load(
                plugin,
                format!(
                    "{} is not the component installed from {} ({} {}): it changed since; \
                     install the artifact again",
                    library.display(),
                    self.reference,
                    self.name,
                    self.version
                ),
            ));
        }
        Ok(())
    }
}

/// What the engine gives a plugin installed from an artifact: the
/// component must be the one installed; the grants implied by its own open
/// params (the file or directory it is told to read, the webhook its URL
/// names) stay; beyond them it gets the accepted grants, or the grants its
/// entry lists when they are within the accepted ones (an entry asking for
/// more is refused). Its declared limits apply when its entry sets none.
/// A component with no record beside it is left as configured.
pub fn apply(spec: &mut super::PluginSpec) -> Result<(), PluginError> {
    let Some(record) = Installed::beside(&spec.library_path)? else {
        return Ok(());
    };
    record.check_library(&spec.name, &spec.library_path)?;
    let accepted = record.accepted()?;
    let implicit = implied_by(&spec.open_params);
    let beyond = excess(&spec.grants, &implicit);
    if beyond.is_empty() {
        spec.grants = union(&spec.grants, &accepted);
    } else {
        let refused = excess(&spec.grants, &union(&accepted, &implicit));
        if !refused.is_empty() {
            return Err(PluginError::load(
                &spec.name,
                format!(
                    "its grants go beyond those accepted for artifact {} {} ({}): {}; \
                     accept them with falco-wasm artifact install --accept-grants",
                    record.name,
                    record.version,
                    record.reference,
                    refused.join(", ")
                ),
            ));
        }
    }
    if !spec.limits_set && record.limits.is_some() {
        spec.limits = record.declared()?.1;
    }
    Ok(())
}

/// The grants a plugin's open params imply: the local file or directory
/// they name, the webhook their URL names.
fn implied_by(open_params: &str) -> Grants {
    let mut g = Grants {
        webhook: super::WebhookGrant::from_url(open_params),
        ..Grants::default()
    };
    match super::grants::implicit(open_params) {
        Some(super::grants::Implicit::Dir(d)) => g.read_dirs.push(d),
        Some(super::grants::Implicit::File(f)) => g.read_files.push(f),
        _ => {}
    }
    g
}

/// Artifact `name`'s declared grants and limits, in falco.yaml's shape.
pub fn declared(
    name: &str,
    grants: Option<&Value>,
    limits: Option<&Value>,
) -> Result<(Grants, Limits), PluginError> {
    let at = format!("artifact {name}");
    let g = grants.map_or(Ok(Grants::default()), |g| grants_from(&at, g))?;
    let l = limits.map_or(Ok(Limits::default()), |l| limits_from(&at, l))?;
    Ok((g, l))
}

/// What `asked` allows beyond `allowed`, one line per limit.
pub fn excess_limits(asked: &Limits, allowed: &Limits) -> Vec<String> {
    let mut out = Vec::new();
    if asked.memory_bytes > allowed.memory_bytes {
        out.push(format!("memory limit {} MiB", asked.memory_bytes >> 20));
    }
    if asked.call_timeout > allowed.call_timeout {
        out.push(format!(
            "call time limit {} ms",
            asked.call_timeout.as_millis()
        ));
    }
    if asked.max_batch > allowed.max_batch {
        out.push(format!("batches of {} events", asked.max_batch));
    }
    if asked.max_event_bytes > allowed.max_event_bytes {
        out.push(format!("events of {} bytes", asked.max_event_bytes));
    }
    if asked.max_field_bytes > allowed.max_field_bytes {
        out.push(format!("field values of {} bytes", asked.max_field_bytes));
    }
    out
}

/// A plugin's declaration file (`artifact push --grants FILE`): YAML with
/// `grants:` and `limits:` maps, checked as falco.yaml's `plugins[]` keys.
pub fn declared_from_file(path: &Path) -> Result<(Option<Value>, Option<Value>), PluginError> {
    let at = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|e| PluginError::config(&at, e.to_string()))?;
    let v = crate::config::parse_config(&at, &text)
        .map_err(|e| PluginError::config(&at, e.to_string()))?;
    let map = v
        .as_object()
        .ok_or_else(|| PluginError::config(&at, "expected a map with grants: and limits:"))?;
    for k in map.keys() {
        if k != "grants" && k != "limits" {
            return Err(PluginError::config(
                format!("{at}: {k}"),
                "unknown key (grants, limits)",
            ));
        }
    }
    let grants = map.get("grants").cloned();
    let limits = map.get("limits").cloned();
    if let Some(g) = &grants {
        grants_from(&at, g)?;
    }
    if let Some(l) = &limits {
        limits_from(&at, l)?;
    }
    Ok((grants, limits))
}

/// What `asked` holds beyond `allowed`, one line per grant: directories
/// and files outside the allowed ones, other hosts, variables or webhook.
pub fn excess(asked: &Grants, allowed: &Grants) -> Vec<String> {
    let mut out = Vec::new();
    let dir_ok = |p: &Path| allowed.read_dirs.iter().any(|d| p.starts_with(d));
    for d in &asked.read_dirs {
        if !dir_ok(d) {
            out.push(format!("read directory {}", d.display()));
        }
    }
    for f in &asked.read_files {
        if !dir_ok(f) && !allowed.read_files.contains(f) {
            out.push(format!("read file {}", f.display()));
        }
    }
    for h in &asked.http_hosts {
        if !allowed.http_hosts.iter().any(|a| a.eq_ignore_ascii_case(h)) {
            out.push(format!("HTTP host {h}"));
        }
    }
    for e in &asked.env {
        if !allowed.env.contains(e) {
            out.push(format!("environment variable {e}"));
        }
    }
    if let Some(w) = &asked.webhook
        && allowed.webhook.as_ref() != Some(w)
    {
        out.push(format!("webhook on {}{}", w.listen, w.path));
    }
    out
}

/// Everything `a` or `b` grants.
pub fn union(a: &Grants, b: &Grants) -> Grants {
    fn add<T: Clone + PartialEq>(into: &mut Vec<T>, from: &[T]) {
        for x in from {
            if !into.contains(x) {
                into.push(x.clone());
            }
        }
    }
    let mut g = a.clone();
    add(&mut g.read_dirs, &b.read_dirs);
    add(&mut g.read_files, &b.read_files);
    add(&mut g.http_hosts, &b.http_hosts);
    add(&mut g.env, &b.env);
    if g.webhook.is_none() {
        g.webhook = b.webhook.clone();
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excess_names_what_was_not_accepted() {
        let allowed = Grants {
            read_dirs: vec!["/var/log/aws".into()],
            http_hosts: vec!["s3.amazonaws.com".into()],
            env: vec!["AWS_REGION".into()],
            ..Grants::default()
        };
        let within = Grants {
            read_dirs: vec!["/var/log/aws/eu".into()],
            read_files: vec!["/var/log/aws/x.json".into()],
            http_hosts: vec!["S3.amazonaws.com".into()],
            ..Grants::default()
        };
        assert!(excess(&within, &allowed).is_empty());
        let more = Grants {
            read_dirs: vec!["/var/log".into()],
            http_hosts: vec!["evil.example".into()],
            env: vec!["AWS_SECRET_ACCESS_KEY".into()],
            webhook: super::super::WebhookGrant::from_url("http://:9765/x"),
            ..Grants::default()
        };
        assert_eq!(
            excess(&more, &allowed),
            [
                "read directory /var/log",
                "HTTP host evil.example",
                "environment variable AWS_SECRET_ACCESS_KEY",
                "webhook on :9765/x"
            ]
        );
        assert!(excess(&union(&more, &allowed), &union(&allowed, &more)).is_empty());
    }
}
