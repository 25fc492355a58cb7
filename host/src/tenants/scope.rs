//! A tenant's scope: which syscall events reach its rules.
//!
//! An event is in scope when any selector admits the process it is about:
//! `host: true` admits processes outside any container; `container_ids`
//! (full ids or prefixes of at least 12 hex digits), `container_names`
//! and `images` (globs over the image's repository, `*` crossing `/`) and
//! `k8s_namespaces` (the pod namespace label CRI runtimes set) admit a
//! container's processes; `cgroup_prefixes` admit the processes whose
//! cgroup2 cgroup is one of them or below (`/system.slice/nginx.service`,
//! `/kubepods.slice/kubepods-besteffort.slice`). A tenant without a scope
//! gets no syscall events. The decision for a container is cached once its
//! metadata is known, the one for a cgroup once its path is.

use crate::config::ConfigError;
use crate::state::State;
use crate::state::cgroups::under;
use crate::state::containers::ContainerInfo;
use crate::state::process::Process;
use regex::bytes::RegexSet;
use rustc_hash::FxHashMap;
use serde_json::Value;

/// The label CRI runtimes put the pod's namespace in.
const K8S_NAMESPACE_LABEL: &str = "io.kubernetes.pod.namespace";

/// The most containers whose decision is remembered (then forgotten at once).
const CACHE_LIMIT: usize = 4096;

/// Which events a tenant sees.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    host: bool,
    container_ids: Vec<String>,
    names: Option<RegexSet>,
    images: Option<RegexSet>,
    k8s_namespaces: Vec<String>,
    cgroup_prefixes: Vec<String>,
    /// Container id → admitted (only once its metadata was known).
    cache: FxHashMap<String, bool>,
    /// Cgroup id → under a prefix (only once its path was known).
    cgroup_cache: FxHashMap<u64, bool>,
    /// The selectors as configured, for messages.
    text: String,
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.text.is_empty() {
            f.write_str("empty (no syscall event)")
        } else {
            f.write_str(&self.text)
        }
    }
}

const KEYS: &[&str] = &[
    "host",
    "container_ids",
    "container_names",
    "images",
    "k8s_namespaces",
    "cgroup_prefixes",
];

impl Scope {
    /// Reads `scope:` at `key` (absent: nothing in scope).
    pub fn parse(v: Option<&Value>, key: &str) -> Result<Scope, ConfigError> {
        let map = match v {
            None | Some(Value::Null) => return Ok(Scope::default()),
            Some(Value::Object(m)) => m,
            Some(v) => {
                return Err(ConfigError::key(
                    key,
                    format!("expected a mapping of selectors, got {v}"),
                ));
            }
        };
        for k in map.keys() {
            if !KEYS.contains(&k.as_str()) {
                return Err(ConfigError::key(
                    format!("{key}.{k}"),
                    format!("unknown scope key (expected one of {})", KEYS.join(", ")),
                ));
            }
        }
        let host = match map.get("host") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(v) => {
                return Err(ConfigError::key(
                    format!("{key}.host"),
                    format!("expected true or false, got {v}"),
                ));
            }
        };
        let list = |k: &str| strings(map.get(k), &format!("{key}.{k}"));
        let container_ids = list("container_ids")?;
        if let Some(bad) = container_ids
            .iter()
            .find(|id| !(12..=64).contains(&id.len()) || !id.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(ConfigError::key(
                format!("{key}.container_ids"),
                format!("'{bad}' is not a container id (12 to 64 hex digits)"),
            ));
        }
        let cgroup_prefixes = list("cgroup_prefixes")?;
        if let Some(bad) = cgroup_prefixes
            .iter()
            .find(|p| !p.starts_with('/') || p.split('/').any(|c| c == ".." || c == "."))
        {
            return Err(ConfigError::key(
                format!("{key}.cgroup_prefixes"),
                format!(
                    "'{bad}' is not a cgroup path (absolute, as in /proc/PID/cgroup's 0:: line)"
                ),
            ));
        }
        let mut text: Vec<String> = Vec::new();
        if host {
            text.push("host".into());
        }
        for k in &KEYS[1..] {
            let v = list(k)?;
            if !v.is_empty() {
                text.push(format!("{k} [{}]", v.join(", ")));
            }
        }
        Ok(Scope {
            text: text.join(", "),
            host,
            container_ids: container_ids
                .iter()
                .map(|s| s.to_ascii_lowercase())
                .collect(),
            names: globs(&list("container_names")?, &format!("{key}.container_names"))?,
            images: globs(&list("images")?, &format!("{key}.images"))?,
            k8s_namespaces: list("k8s_namespaces")?,
            cgroup_prefixes,
            cache: FxHashMap::default(),
            cgroup_cache: FxHashMap::default(),
        })
    }

    /// Whether the scope can admit anything.
    pub fn is_empty(&self) -> bool {
        !self.host
            && self.container_ids.is_empty()
            && self.names.is_none()
            && self.images.is_none()
            && self.k8s_namespaces.is_empty()
            && self.cgroup_prefixes.is_empty()
    }

    /// Whether an event of `proc` (unknown: treated as the host's) reaches
    /// the tenant.
    pub fn admits(&mut self, proc: Option<&Process>, state: &State) -> bool {
        if !self.cgroup_prefixes.is_empty() && proc.is_some_and(|p| self.in_cgroups(p, state)) {
            return true;
        }
        let id = match proc {
            Some(p) if !p.container_id.is_empty() => p.container_id.as_str(),
            _ => return self.host,
        };
        if let Some(&yes) = self.cache.get(id) {
            return yes;
        }
        let info = state.container(id);
        let yes = self.admits_container(id, info);
        // decided for good once the runtime said who the container is
        if info.is_some_and(|i| i.name.is_some() || i.image.is_some()) {
            if self.cache.len() >= CACHE_LIMIT {
                self.cache.clear();
            }
            self.cache.insert(id.to_string(), yes);
        }
        yes
    }

    /// Whether `p`'s cgroup is under one of the prefixes.
    fn in_cgroups(&mut self, p: &Process, state: &State) -> bool {
        if let Some(&yes) = self.cgroup_cache.get(&p.cgroup_id) {
            return yes;
        }
        let Some(path) = state.cgroup_path(p) else {
            return false;
        };
        let yes = self.cgroup_prefixes.iter().any(|c| under(&path, c));
        if self.cgroup_cache.len() >= CACHE_LIMIT {
            self.cgroup_cache.clear();
        }
        self.cgroup_cache.insert(p.cgroup_id, yes);
        yes
    }

    fn admits_container(&self, id: &str, info: Option<&ContainerInfo>) -> bool {
        if self
            .container_ids
            .iter()
            .any(|p| id.starts_with(p.as_str()))
        {
            return true;
        }
        let Some(info) = info else {
            return false;
        };
        let matches = |set: &Option<RegexSet>, v: Option<&str>| {
            set.as_ref()
                .zip(v)
                .is_some_and(|(s, v)| s.is_match(v.as_bytes()))
        };
        matches(&self.names, info.name.as_deref())
            || matches(&self.images, info.repository())
            || info
                .label(K8S_NAMESPACE_LABEL)
                .is_some_and(|ns| self.k8s_namespaces.iter().any(|n| n == ns))
    }
}

fn strings(v: Option<&Value>, key: &str) -> Result<Vec<String>, ConfigError> {
    let bad = |v: &Value| ConfigError::key(key, format!("expected a list of strings, got {v}"));
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string).ok_or_else(|| bad(i)))
            .collect(),
        Some(v) => Err(bad(v)),
    }
}

fn globs(patterns: &[String], key: &str) -> Result<Option<RegexSet>, ConfigError> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let res = patterns
        .iter()
        .map(|g| format!("^{}$", crate::filter::pattern::glob_regex(g, false)));
    RegexSet::new(res)
        .map(Some)
        .map_err(|e| ConfigError::key(key, format!("invalid glob: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(yaml: serde_json::Value) -> Scope {
        Scope::parse(Some(&yaml), "scope").unwrap()
    }

    fn info(name: &str, image: &str, ns: Option<&str>) -> ContainerInfo {
        ContainerInfo {
            name: Some(name.into()),
            image: Some(image.into()),
            labels: ns
                .map(|n| vec![(K8S_NAMESPACE_LABEL.to_string(), n.to_string())])
                .unwrap_or_default(),
            ..ContainerInfo::default()
        }
    }

    #[test]
    fn selectors_admit_their_containers_only() {
        let id = "0123456789abcdef".repeat(4);
        let s = scope(serde_json::json!({
            "container_names": ["web-*"],
            "images": ["docker.io/library/nginx", "*/redis"],
            "k8s_namespaces": ["team-a"],
            "container_ids": ["fedcba987654"],
        }));
        assert!(s.admits_container(&id, Some(&info("web-1", "x", None))));
        assert!(!s.admits_container(&id, Some(&info("db-1", "x", None))));
        assert!(s.admits_container(&id, Some(&info("n", "docker.io/library/nginx:1.27", None))));
        assert!(s.admits_container(&id, Some(&info("n", "quay.io/x/redis", None))));
        assert!(!s.admits_container(&id, Some(&info("n", "docker.io/library/nginx2", None))));
        assert!(s.admits_container(&id, Some(&info("n", "x", Some("team-a")))));
        assert!(!s.admits_container(&id, Some(&info("n", "x", Some("team-b")))));
        assert!(s.admits_container(&"fedcba987654".repeat(6)[..64], None));
        assert!(
            !s.admits_container(&id, None),
            "unknown metadata admits by id only"
        );
        assert!(!s.is_empty() && !s.host);
        assert!(Scope::default().is_empty());
    }

    #[test]
    fn bad_scopes_say_which_key() {
        for (v, want) in [
            (serde_json::json!([1]), "scope: expected a mapping"),
            (
                serde_json::json!({"host": "yes"}),
                "scope.host: expected true or false",
            ),
            (
                serde_json::json!({"images": "nginx"}),
                "scope.images: expected a list",
            ),
            (
                serde_json::json!({"container_ids": ["abc"]}),
                "scope.container_ids: 'abc'",
            ),
            (
                serde_json::json!({"cgroup_prefixes": ["system.slice"]}),
                "scope.cgroup_prefixes: 'system.slice' is not a cgroup path",
            ),
            (
                serde_json::json!({"cgroup_prefixes": ["/a/../b"]}),
                "scope.cgroup_prefixes: '/a/../b'",
            ),
            (
                serde_json::json!({"names": []}),
                "scope.names: unknown scope key",
            ),
        ] {
            let e = Scope::parse(Some(&v), "scope").unwrap_err().to_string();
            assert!(e.starts_with(want), "{v}: {e}");
        }
    }
}
