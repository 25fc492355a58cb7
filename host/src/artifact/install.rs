//! Installing a fetched, signed artifact: its files written to a staging
//! directory beside their place and renamed into it, with a record
//! (`NAME.artifact.json`) of what was installed. An artifact replaces only
//! what it installed itself, and never with an older version (unless the
//! reference pins a digest).
//!
//! A plugin is activated only with its grants and limits accepted:
//! `--accept-grants`, or within those accepted for the version it replaces
//! (from the same repository and signer). Otherwise it is held in
//! `PLUGINS_DIR/.held/NAME/` (`artifact accept NAME` activates it) and the
//! active version stays as it was.

use super::ArtifactError;
use super::fetch::Fetched;
use super::layout::{Kind, digest, plain_name};
use super::reference::Reference;
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
    /// Accept a plugin's declared grants and limits.
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
        /// The grants and limits it runs with (plugins), one per line.
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
        /// What it asks beyond the accepted grants and limits.
        asked: Vec<String>,
    },
}

/// Installs `all`, every one checked before any is written (two writing
/// the same file are refused).
pub fn install_all(all: &[Fetched], opts: &InstallOptions) -> Result<Vec<Outcome>, ArtifactError> {
    let mut seen = std::collections::HashSet::new();
    for f in all {
        for name in written(f) {
            if !seen.insert((f.kind, name.clone())) {
                return Err(ArtifactError::refused(
                    &f.reference,
                    format!("another artifact of this install writes {name} too"),
                ));
            }
        }
    }
    let checked = all
        .iter()
        .map(|f| check(f, opts))
        .collect::<Result<Vec<_>, _>>()?;
    all.iter()
        .zip(checked)
        .map(|(f, c)| apply(f, opts, c))
        .collect()
}

/// Installs `f` (nothing is written when an error is returned).
pub fn install(f: &Fetched, opts: &InstallOptions) -> Result<Outcome, ArtifactError> {
    let checked = check(f, opts)?;
    apply(f, opts, checked)
}

/// Writes a checked `f`.
fn apply(f: &Fetched, opts: &InstallOptions, checked: Checked) -> Result<Outcome, ArtifactError> {
    let previous = match checked {
        Checked::Unchanged => {
            return Ok(Outcome::Unchanged {
                name: f.config.name.clone(),
                version: f.config.version.clone(),
            });
        }
        Checked::Replaces(previous) => previous.map(|p| *p),
    };
    match f.kind {
        Kind::Rulesfile => install_rules(f, opts, previous),
        Kind::Plugin => install_plugin(f, opts, previous),
    }
}

/// The files `f` writes into its directory (its record's included).
fn written(f: &Fetched) -> Vec<String> {
    let mut names: Vec<String> = match f.kind {
        Kind::Rulesfile => f.files.iter().map(|(n, _)| n.clone()).collect(),
        Kind::Plugin => vec![wasm_name(&f.config.name)],
    };
    names.push(format!("{}.artifact.json", f.config.name));
    names
}

/// What a check found.
enum Checked {
    /// `f` is installed already.
    Unchanged,
    /// `f` may be installed, over this record if any.
    Replaces(Option<Box<Installed>>),
}

/// Whether `f` may be installed: signed, not older than what is
/// installed, writing only files of its own, declaring grants that parse.
fn check(f: &Fetched, opts: &InstallOptions) -> Result<Checked, ArtifactError> {
    if f.signer.is_none() {
        return Err(ArtifactError::refused(
            &f.reference,
            "its signature was not checked: only signed artifacts are installed",
        ));
    }
    let dir = match f.kind {
        Kind::Rulesfile => &opts.rules_dir,
        Kind::Plugin => &opts.plugins_dir,
    };
    let previous = read_record(&record_path(dir, &f.config.name))?;
    if let Some(p) = &previous {
        if unchanged(p, f, dir) {
            return Ok(Checked::Unchanged);
        }
        not_older(p, f)?;
    }
    owned(dir, &written(f), previous.as_ref(), f)?;
    record_of(f)
        .declared()
        .map_err(|e| ArtifactError::refused(&f.reference, format!("its declared grants: {e}")))?;
    Ok(Checked::Replaces(previous.map(Box::new)))
}

/// `NAME.wasm`, the file a plugin artifact installs.
pub fn wasm_name(name: &str) -> String {
    format!("{name}.wasm")
}

fn install_rules(
    f: &Fetched,
    opts: &InstallOptions,
    previous: Option<Installed>,
) -> Result<Outcome, ArtifactError> {
    let dir = &opts.rules_dir;
    let mut files = f.files.clone();
    files.push(record_file(&f.config.name, &record_of(f)));
    let paths = write_atomically(dir, &files)?;
    // Files the previous version had and this one has not.
    for old in previous.iter().flat_map(|p| &p.files) {
        if !f.files.iter().any(|(n, _)| *n == old.name) {
            let _ = std::fs::remove_file(dir.join(&old.name));
        }
    }
    Ok(Outcome::Installed {
        name: f.config.name.clone(),
        version: f.config.version.clone(),
        paths: paths[..f.files.len()].to_vec(),
        grants: Vec::new(),
        notes: missing_dependencies(f, &opts.plugins_dir),
    })
}

fn install_plugin(
    f: &Fetched,
    opts: &InstallOptions,
    previous: Option<Installed>,
) -> Result<Outcome, ArtifactError> {
    let dir = &opts.plugins_dir;
    let name = &f.config.name;
    let record = record_of(f);
    let (grants, limits) = record
        .declared()
        .map_err(|e| ArtifactError::refused(&f.reference, format!("its declared grants: {e}")))?;
    // What was accepted carries over only within one repository and signer.
    let before = previous
        .filter(|p| same_origin(p, f))
        .and_then(|p| Some((p.accepted().ok()?, p.declared().ok()?.1)))
        .unwrap_or_default();
    let mut asked = installed::excess(&grants, &before.0);
    asked.extend(installed::excess_limits(&limits, &before.1));
    let wasm = (wasm_name(name), f.files[0].1.clone());
    if !opts.accept_grants && !asked.is_empty() {
        write_atomically(&held_dir(dir, name), &[wasm, record_file(name, &record)])?;
        return Ok(Outcome::Held {
            name: name.clone(),
            version: f.config.version.clone(),
            asked,
        });
    }
    activate(dir, wasm.1, record, (&grants, &limits))
}

/// Makes `wasm` the active version of the plugin `record` names, its
/// declared grants accepted; a held version goes.
fn activate(
    dir: &Path,
    wasm: Vec<u8>,
    mut record: Installed,
    (grants, limits): (&crate::plugins::Grants, &crate::plugins::Limits),
) -> Result<Outcome, ArtifactError> {
    let name = record.name.clone();
    record.accepted_grants = record.declared_grants.clone();
    let files = [(wasm_name(&name), wasm), record_file(&name, &record)];
    let paths = write_atomically(dir, &files)?;
    let _ = std::fs::remove_dir_all(held_dir(dir, &name));
    Ok(Outcome::Installed {
        name,
        version: record.version,
        paths: paths[..1].to_vec(),
        grants: describe(grants, limits),
        notes: Vec::new(),
    })
}

/// A plugin's grants and limits (beyond the defaults), one per line.
pub fn describe(grants: &crate::plugins::Grants, limits: &crate::plugins::Limits) -> Vec<String> {
    let mut v = installed::excess(grants, &Default::default());
    v.extend(installed::excess_limits(limits, &Default::default()));
    v
}

/// Activates the held version of plugin `name`, accepting its grants.
pub fn accept(plugins_dir: &Path, name: &str) -> Result<Outcome, ArtifactError> {
    if !plain_name(name) {
        return Err(ArtifactError::Input(format!(
            "'{name}' is not a plugin name"
        )));
    }
    let held = held_dir(plugins_dir, name);
    let record_at = record_path(&held, name);
    let Some(record) = read_record(&record_at)? else {
        return Err(ArtifactError::Input(format!(
            "no held version of plugin '{name}' in {}",
            plugins_dir.display()
        )));
    };
    let wasm_at = held.join(wasm_name(name));
    let wasm = std::fs::read(&wasm_at).map_err(ArtifactError::io(&wasm_at))?;
    let (grants, limits) = record
        .declared()
        .map_err(|e| ArtifactError::Input(format!("{}: {e}", record_at.display())))?;
    activate(plugins_dir, wasm, record, (&grants, &limits))
}

/// Where plugin `name`'s held version waits.
pub fn held_dir(plugins_dir: &Path, name: &str) -> PathBuf {
    plugins_dir.join(".held").join(name)
}

/// The install records in `dir` (active), and in its held versions.
pub fn records(dir: &Path) -> (Vec<Installed>, Vec<Installed>) {
    let read = |d: &Path| -> Vec<Installed> {
        let mut v: Vec<Installed> = std::fs::read_dir(d)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".artifact.json"))
            .filter_map(|e| Installed::read(&e.path()).ok().flatten())
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    };
    let held = std::fs::read_dir(dir.join(".held"))
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|e| read(&e.path()))
        .collect();
    (read(dir), held)
}

fn read_record(path: &Path) -> Result<Option<Installed>, ArtifactError> {
    Installed::read(path).map_err(|e| ArtifactError::Input(e.to_string()))
}

/// Whether `p` records `f` and its files are there as installed.
fn unchanged(p: &Installed, f: &Fetched, dir: &Path) -> bool {
    p.digest == f.digest
        && p.files.iter().all(|file| {
            let on_disk = match f.kind {
                Kind::Plugin => dir.join(wasm_name(&f.config.name)),
                Kind::Rulesfile => dir.join(&file.name),
            };
            std::fs::read(on_disk).is_ok_and(|b| digest(&b) == file.digest)
        })
}

/// An older version than the one installed is refused, unless the
/// reference pins its digest (a registry cannot roll an engine back).
fn not_older(p: &Installed, f: &Fetched) -> Result<(), ArtifactError> {
    let parse = |v: &str| semver::Version::parse(v).ok();
    match (parse(&p.version), parse(&f.config.version)) {
        (Some(installed), Some(new)) if new < installed && f.reference.digest.is_none() => {
            Err(ArtifactError::refused(
                &f.reference,
                format!(
                    "{} {} is older than the installed {installed} (pin its digest, \
                     REF@sha256:…, to go back)",
                    f.config.name, f.config.version
                ),
            ))
        }
        _ => Ok(()),
    }
}

/// Files an artifact writes must be its own: not there, or installed by
/// its previous version.
fn owned(
    dir: &Path,
    names: &[String],
    previous: Option<&Installed>,
    f: &Fetched,
) -> Result<(), ArtifactError> {
    let record = format!("{}.artifact.json", f.config.name);
    let theirs = |n: &str| match (previous, f.kind) {
        (Some(_), Kind::Plugin) => true,
        (Some(p), Kind::Rulesfile) => n == record || p.files.iter().any(|x| x.name == n),
        (None, _) => false,
    };
    match names.iter().find(|n| dir.join(n).exists() && !theirs(n)) {
        Some(n) => Err(ArtifactError::refused(
            &f.reference,
            format!(
                "{} is there and was not installed by {}: remove it, or install into \
                 another directory",
                dir.join(n).display(),
                f.config.name
            ),
        )),
        None => Ok(()),
    }
}

/// Whether the installed `p` came from `f`'s repository and signer.
fn same_origin(p: &Installed, f: &Fetched) -> bool {
    Reference::parse(&p.reference).is_ok_and(|r| r.name() == f.reference.name())
        && Some(&p.signer) == f.signer.as_ref()
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
            .any(|d| d.join(wasm_name(n)).is_file())
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
/// atomic: a reader sees the old file or the new one; a reader looking
/// between two renames may see one file new and another old).
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
