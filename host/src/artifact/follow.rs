//! Following artifacts: every interval, ask the registry which manifest
//! each followed reference names now, and fetch, verify and install it when
//! it changed. Rules files land in the rules directory, where the engine's
//! `watch_config_files` reloads them (hot reload: no event lost); plugins
//! land in the plugins directory for the next start (a running plugin is
//! not replaced under its source).
//!
//! Used by `artifact follow` and, with `artifact_follow.enabled`, by the
//! engine itself; each check and change is logged and counted
//! ([`counters`], shown in `/metrics`).

use super::ArtifactError;
use super::fetch::{current_digest, fetch};
use super::install::{InstallOptions, Outcome, install};
use super::reference::Reference;
use super::registry::Registry;
use super::sign::PublicKey;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What follow did, over the process's life.
#[derive(Debug, Default)]
pub struct Counters {
    /// Registry checks.
    pub checks: AtomicU64,
    /// New versions installed and active.
    pub installed: AtomicU64,
    /// New plugin versions held for their grants.
    pub held: AtomicU64,
    /// New versions refused (signature, digest, requirements) or checks
    /// that failed.
    pub failed: AtomicU64,
}

static COUNTERS: Counters = Counters {
    checks: AtomicU64::new(0),
    installed: AtomicU64::new(0),
    held: AtomicU64::new(0),
    failed: AtomicU64::new(0),
};

/// The process's follow counters.
pub fn counters() -> &'static Counters {
    &COUNTERS
}

/// The shortest interval between two checks.
pub const MIN_EVERY: Duration = Duration::from_secs(1);

/// The references to follow and where to install them.
pub struct Follower {
    refs: Vec<Reference>,
    keys: Vec<PublicKey>,
    opts: InstallOptions,
    registries: HashMap<String, Registry>,
    /// The manifest each reference named when last installed or held.
    seen: HashMap<String, String>,
    /// How often to check.
    pub every: Duration,
}

/// One change (or failure) seen by a check.
pub struct Change {
    pub reference: Reference,
    pub result: Result<Outcome, ArtifactError>,
}

impl Follower {
    /// Follows `refs`, verifying with `keys`, installing with `opts`.
    pub fn new(
        refs: Vec<Reference>,
        keys: Vec<PublicKey>,
        opts: InstallOptions,
        plain_http: bool,
        every: Duration,
    ) -> Follower {
        let registries = refs
            .iter()
            .map(|r| (r.registry.clone(), Registry::new(&r.registry, plain_http)))
            .collect();
        Follower {
            every: every.max(MIN_EVERY),
            refs,
            keys,
            opts,
            registries,
            seen: HashMap::new(),
        }
    }

    /// One check of every reference: the changes it made or failed to make
    /// (a reference whose manifest did not change is not listed).
    pub fn check(&mut self) -> Vec<Change> {
        let mut changes = Vec::new();
        for r in &self.refs {
            COUNTERS.checks.fetch_add(1, Ordering::Relaxed);
            let Some(reg) = self.registries.get(&r.registry) else {
                continue;
            };
            let key = r.to_string();
            let now = match current_digest(reg, r) {
                Ok(now) if now.is_some() && now.as_ref() == self.seen.get(&key) => continue,
                Ok(now) => now,
                Err(e) => {
                    COUNTERS.failed.fetch_add(1, Ordering::Relaxed);
                    changes.push(Change {
                        reference: r.clone(),
                        result: Err(e),
                    });
                    continue;
                }
            };
            let result = fetch(reg, r, &self.keys).and_then(|f| install(&f, &self.opts));
            match &result {
                Ok(Outcome::Installed { .. }) => COUNTERS.installed.fetch_add(1, Ordering::Relaxed),
                Ok(Outcome::Held { .. }) => COUNTERS.held.fetch_add(1, Ordering::Relaxed),
                Ok(Outcome::Unchanged { .. }) => 0,
                Err(_) => COUNTERS.failed.fetch_add(1, Ordering::Relaxed),
            };
            // A version installed, held or refused is not fetched again
            // until the tag moves; a failure to reach it, or to find its
            // signature (pushed after the tag?), is retried.
            let settled = !matches!(
                result,
                Err(ArtifactError::Registry(_)
                    | ArtifactError::Io { .. }
                    | ArtifactError::Unsigned { .. })
            );
            if let (true, Some(now)) = (settled, now) {
                self.seen.insert(key, now);
            }
            changes.push(Change {
                reference: r.clone(),
                result,
            });
        }
        changes
    }
}

impl Follower {
    /// Checks, logs each change, waits `every`, again; until `stop` is set
    /// (or after one check with `once`).
    pub fn run(&mut self, once: bool, stop: &AtomicBool) {
        loop {
            for change in self.check() {
                match change.describe() {
                    Some((true, line)) => crate::log::info(&line),
                    Some((false, line)) => crate::log::warning(&line),
                    None => {}
                }
            }
            if once {
                return;
            }
            let until = Instant::now() + self.every;
            while let Some(left) = until.checked_duration_since(Instant::now()) {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                std::thread::sleep(left.min(Duration::from_millis(200)));
            }
        }
    }
}

/// The keys of `artifact_follow`.
const FOLLOW_KEYS: &[&str] = &[
    "enabled",
    "refs",
    "every",
    "pubkeys",
    "rules_dir",
    "plugins_dir",
    "plain_http",
];

/// The engine's follower, from falco.yaml's `artifact_follow` (`None`:
/// not enabled).
pub fn from_config(
    config: &crate::config::Config,
) -> Result<Option<Follower>, crate::config::ConfigError> {
    use crate::config::ConfigError;
    if !config.bool_at("artifact_follow.enabled", false)? {
        return Ok(None);
    }
    if let Some(map) = config.get("artifact_follow").and_then(|v| v.as_object()) {
        for k in map.keys() {
            if !FOLLOW_KEYS.contains(&k.as_str()) {
                return Err(ConfigError::key(
                    format!("artifact_follow.{k}"),
                    "unknown key",
                ));
            }
        }
    }
    let strings = |key: &str| -> Result<Vec<String>, ConfigError> {
        match config.get(key) {
            None | Some(serde_json::Value::Null) => Ok(Vec::new()),
            Some(v) => v
                .as_array()
                .and_then(|a| a.iter().map(|x| x.as_str().map(str::to_string)).collect())
                .ok_or_else(|| ConfigError::key(key, "expected a list of strings")),
        }
    };
    let refs = strings("artifact_follow.refs")?
        .iter()
        .map(|r| {
            Reference::parse(r).map_err(|e| ConfigError::key("artifact_follow.refs", e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let keys = strings("artifact_follow.pubkeys")?
        .iter()
        .map(|p| {
            PublicKey::read(std::path::Path::new(p))
                .map_err(|e| ConfigError::key("artifact_follow.pubkeys", e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if refs.is_empty() || keys.is_empty() {
        return Err(ConfigError::key(
            "artifact_follow",
            "needs refs and pubkeys (artifacts are installed only when signed by a trusted key)",
        ));
    }
    let dir = |key: &str, default: &str| -> Result<std::path::PathBuf, ConfigError> {
        Ok(config
            .str_at(key)?
            .unwrap_or_else(|| default.to_string())
            .into())
    };
    let opts = InstallOptions {
        rules_dir: dir("artifact_follow.rules_dir", super::install::RULES_DIR)?,
        plugins_dir: dir("artifact_follow.plugins_dir", crate::plugins::PLUGINS_DIR)?,
        accept_grants: false,
    };
    let every = config.duration_at("artifact_follow.every", Duration::from_secs(6 * 3600))?;
    let plain_http = config.bool_at("artifact_follow.plain_http", false)?;
    Ok(Some(Follower::new(refs, keys, opts, plain_http, every)))
}

impl Change {
    /// The log line for this change (`None`: nothing worth saying: the
    /// version installed already).
    pub fn describe(&self) -> Option<(bool, String)> {
        let r = &self.reference;
        match &self.result {
            Ok(Outcome::Installed {
                name,
                version,
                paths,
                notes,
                ..
            }) => {
                let mut s = format!("artifact {r}: installed {name} {version}");
                for p in paths {
                    s.push_str(&format!(" → {}", p.display()));
                }
                for n in notes {
                    s.push_str(&format!("; {n}"));
                }
                Some((true, s))
            }
            Ok(Outcome::Unchanged { .. }) => None,
            Ok(Outcome::Held {
                name,
                version,
                asked,
            }) => Some((
                false,
                format!(
                    "artifact {r}: {name} {version} held: it asks for {} beyond the accepted \
                     grants (falco-wasm artifact accept {name})",
                    asked.join(", ")
                ),
            )),
            Err(e) => Some((false, format!("artifact follow: {e}"))),
        }
    }
}
