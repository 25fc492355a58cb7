//! Installing a fetched artifact: its requirements met first, then its
//! files written to a staging directory beside their place and renamed into
//! it, with a record (`NAME.artifact.json`) of what was installed.
//!
//! A plugin is activated only with its grants accepted: `--accept-grants`,
//! or grants within those accepted for the version it replaces. Otherwise
//! it is held in `PLUGINS_DIR/.held/NAME/` (`artifact accept NAME` activates
//! it) and the active version stays as it was.

use super::ArtifactError;
use super::fetch::Fetched;
use super::layout::{Kind, digest};
use crate::plugins::installed::{self, Installed, InstalledFile, record_path};
use std::path::{Path, PathBuf};

/// Where rules files are installed by default (the package's
/// `rules_files` name this directory).
pub const RULES_DIR: &str = "/etc/falco-wasm/rules.d";

/// Where to install.
#[derive(Clone, Debug)]
pub struct InstallOptions {
    pub rules_dir: PathBuf,
    pub plugins_dir: PathBuf,
    /// Accept a plugin's declared grants.
    pub accept_grants: bool,
}

/// What an install did.
#[derive(Debug)]
pub enum Outcome {
    /// Written and active.
    Installed {
        name: String,
        version: String,
        paths: Vec<PathBuf>,
        /// The grants it runs with (plugins), one per line.
        grants: Vec<String>,
        /// Dependencies not installed, and the like.
        notes: Vec<String>,
    },
    /// This version is what is installed already.
    Unchanged { name: String, version: String },
    /// A plugin written aside, not active: it asks for grants not accepted.
    Held {
        name: String,
        version: String,
        /// What it asks beyond the accepted grants.
        asked: Vec<String>,
    },
}

/// Installs `f` (nothing is written when an error is returned).
pub fn install(f: &Fetched, opts: &InstallOptions) -> Result<Outcome, ArtifactError> {
    check_requirements(f)?;
    match f.kind {
        Kind::Rulesfile => install_rules(f, opts),
        Kind::Plugin => install_plugin(f, opts),
    }
}

/// `engine_version_semver` and `plugin_api_version` must be met by this
/// engine (same major, not newer); other requirements are not known here
/// and refuse the artifact.
pub fn check_requirements(f: &Fetched) -> Result<(), ArtifactError> {
    for req in &f.config.requirements {
        let ours = match req.name.as_str() {
            "engine_version_semver" => crate::rules::compile::ENGINE_VERSION,
            "plugin_api_version" => crate::plugins::HOST_API_VERSION,
            other => {
                return Err(ArtifactError::refused(
                    &f.reference,
                    format!(
                        "it requires '{other}' {}, which this engine does not know \
                         (it knows engine_version_semver and plugin_api_version)",
                        req.version
                    ),
                ));
            }
        };
        let (a, b, c) = ours;
        let met = semver::Version::parse(&req.version)
            .map(|v| v.major == a && (v.minor, v.patch) <= (b, c))
            .unwrap_or(false);
        if !met {
            return Err(ArtifactError::refused(
                &f.reference,
                format!(
                    "it requires {} {}, this engine has {a}.{b}.{c}",
                    req.name, req.version
                ),
            ));
        }
    }
    Ok(())
}

fn install_rules(f: &Fetched, opts: &InstallOptions) -> Result<Outcome, ArtifactError> {
    let dir = &opts.rules_dir;
    let record_at = record_path(dir, &f.config.name);
    let previous = read_record(&record_at)?;
    if let Some(p) = &previous
        && unchanged(p, f, dir)
    {
        return Ok(unchanged_outcome(f));
    }
    let record = record_of(f);
    let mut files = f.files.clone();
    files.push(record_file(&f.config.name, &record));
    let paths = write_atomically(dir, &files)?;
    // Files the previous version had and this one has not.
    for old in previous.iter().flat_map(|p| &p.files) {
        if !f.files.iter().any(|(n, _)| *n == old.name) {
            let _ = std::fs::remove_file(dir.join(&old.name));
        }
    }
    let notes = missing_dependencies(f, &opts.plugins_dir);
    Ok(Outcome::Installed {
        name: f.config.name.clone(),
        version: f.config.version.clone(),
        paths: paths[..f.files.len()].to_vec(),
        grants: Vec::new(),
        notes,
    })
}

fn install_plugin(f: &Fetched, opts: &InstallOptions) -> Result<Outcome, ArtifactError> {
    let dir = &opts.plugins_dir;
    let name = &f.config.name;
    let previous = read_record(&record_path(dir, name))?;
    if let Some(p) = &previous
        && unchanged(p, f, dir)
    {
        return Ok(unchanged_outcome(f));
    }
    let mut record = record_of(f);
    let declared = record
        .declared()
        .and_then(|g| record.declared_limits().map(|_| g))
        .map_err(|e| ArtifactError::refused(&f.reference, format!("its declared grants: {e}")))?;
    let accepted_before = match &previous {
        Some(p) => p.accepted().unwrap_or_default(),
        None => Default::default(),
    };
    let asked = installed::excess(&declared, &accepted_before);
    let held_dir = held_dir(dir, name);
    if !opts.accept_grants && !asked.is_empty() {
        let files = [
            (format!("{name}.wasm"), f.files[0].1.clone()),
            record_file(name, &record),
        ];
        let _ = std::fs::remove_dir_all(&held_dir);
        write_atomically(&held_dir, &files)?;
        return Ok(Outcome::Held {
            name: name.clone(),
            version: f.config.version.clone(),
            asked,
        });
    }
    record.accepted_grants = f.config.grants.clone();
    let wasm = format!("{name}.wasm");
    let paths = write_atomically(
        dir,
        &[(wasm, f.files[0].1.clone()), record_file(name, &record)],
    )?;
    let _ = std::fs::remove_dir_all(&held_dir);
    Ok(Outcome::Installed {
        name: name.clone(),
        version: f.config.version.clone(),
        paths: paths[..1].to_vec(),
        grants: installed::excess(&declared, &Default::default()),
        notes: Vec::new(),
    })
}

/// Activates the held version of plugin `name`, accepting its grants.
pub fn accept(plugins_dir: &Path, name: &str) -> Result<Outcome, ArtifactError> {
    let held = held_dir(plugins_dir, name);
    let record_at = record_path(&held, name);
    let Some(mut record) = read_record(&record_at)? else {
        return Err(ArtifactError::Input(format!(
            "no held version of plugin '{name}' in {}",
            plugins_dir.display()
        )));
    };
    let wasm_at = held.join(format!("{name}.wasm"));
    let wasm = std::fs::read(&wasm_at).map_err(ArtifactError::io(&wasm_at))?;
    let declared = record
        .declared()
        .map_err(|e| ArtifactError::Input(format!("{}: {e}", record_at.display())))?;
    record.accepted_grants = record.declared_grants.clone();
    let files = [(format!("{name}.wasm"), wasm), record_file(name, &record)];
    let paths = write_atomically(plugins_dir, &files)?;
    let _ = std::fs::remove_dir_all(&held);
    Ok(Outcome::Installed {
        name: name.to_string(),
        version: record.version,
        paths: paths[..1].to_vec(),
        grants: installed::excess(&declared, &Default::default()),
        notes: Vec::new(),
    })
}

/// Where plugin `name`'s held version waits.
pub fn held_dir(plugins_dir: &Path, name: &str) -> PathBuf {
    plugins_dir.join(".held").join(name)
}

fn read_record(path: &Path) -> Result<Option<Installed>, ArtifactError> {
    Installed::read(path).map_err(|e| ArtifactError::Input(e.to_string()))
}

/// Whether `p` records `f` and its files are there as installed.
fn unchanged(p: &Installed, f: &Fetched, dir: &Path) -> bool {
    p.digest == f.digest
        && p.files.iter().all(|file| {
            let on_disk = match f.kind {
                Kind::Plugin => dir.join(format!("{}.wasm", f.config.name)),
                Kind::Rulesfile => dir.join(&file.name),
            };
            std::fs::read(on_disk).is_ok_and(|b| digest(&b) == file.digest)
        })
}

fn unchanged_outcome(f: &Fetched) -> Outcome {
    Outcome::Unchanged {
        name: f.config.name.clone(),
        version: f.config.version.clone(),
    }
}

fn record_of(f: &Fetched) -> Installed {
    Installed {
        reference: f.reference.to_string(),
        kind: f.kind.as_str().to_string(),
        name: f.config.name.clone(),
        version: f.config.version.clone(),
        digest: f.digest.clone(),
        signer: f.signer.clone().unwrap_or_default(),
        files: f
            .files
            .iter()
            .map(|(n, b)| InstalledFile {
                name: n.clone(),
                digest: digest(b),
            })
            .collect(),
        declared_grants: f.config.grants.clone(),
        accepted_grants: None,
        limits: f.config.limits.clone(),
    }
}

fn record_file(name: &str, record: &Installed) -> (String, Vec<u8>) {
    (
        format!("{name}.artifact.json"),
        serde_json::to_vec_pretty(record).unwrap_or_default(),
    )
}

/// A rules file's plugins that are not installed in `plugins_dir` (nor
/// shipped with the engine).
fn missing_dependencies(f: &Fetched, plugins_dir: &Path) -> Vec<String> {
    let have = |n: &str| {
        [plugins_dir, Path::new(crate::plugins::PLUGINS_DIR)]
            .iter()
            .any(|d| d.join(format!("{n}.wasm")).is_file())
    };
    f.config
        .dependencies
        .iter()
        .filter(|d| !have(&d.name) && !d.alternatives.iter().any(|a| have(&a.name)))
        .map(|d| {
            format!(
                "{} needs plugin {} {} (not installed in {})",
                f.config.name,
                d.name,
                d.version,
                plugins_dir.display()
            )
        })
        .collect()
}

/// Writes `files` into `dir`: all to a new staging directory inside it
/// first, then each renamed into place (a rename on one file system is
/// atomic: a reader sees the old file or the new one).
fn write_atomically(
    dir: &Path,
    files: &[(String, Vec<u8>)],
) -> Result<Vec<PathBuf>, ArtifactError> {
    std::fs::create_dir_all(dir).map_err(ArtifactError::io(dir))?;
    let stage = dir.join(format!(".staging-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&stage);
    std::fs::create_dir(&stage).map_err(ArtifactError::io(&stage))?;
    let result = (|| {
        for (name, bytes) in files {
            let p = stage.join(name);
            std::fs::write(&p, bytes).map_err(ArtifactError::io(&p))?;
        }
        let mut placed = Vec::new();
        for (name, _) in files {
            let to = dir.join(name);
            std::fs::rename(stage.join(name), &to).map_err(ArtifactError::io(&to))?;
            placed.push(to);
        }
        Ok(placed)
    })();
    let _ = std::fs::remove_dir_all(&stage);
    result
}
