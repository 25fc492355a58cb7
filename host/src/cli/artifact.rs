//! `falco-wasm artifact`: keys, push, pull, install, accept, list, info
//! and follow, on top of [`crate::artifact`].

use crate::artifact::ArtifactError;
use crate::artifact::fetch::fetch;
use crate::artifact::follow::Follower;
use crate::artifact::index::{self, Entry};
use crate::artifact::install::{InstallOptions, Outcome, install_all};
use crate::artifact::layout::{Kind, Requirement};
use crate::artifact::push::{PushRequest, push};
use crate::artifact::reference::Reference;
use crate::artifact::registry::Registry;
use crate::artifact::sign::{PublicKey, SigningKey, keygen};
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use crate::artifact::install::RULES_DIR;
use crate::plugins::PLUGINS_DIR;

#[derive(Subcommand, Debug)]
pub(super) enum ArtifactCommand {
    /// Make a signing key pair: PREFIX.key (private, mode 0600) and PREFIX.pub.
    Keygen { prefix: PathBuf },
    /// Push rules files or a plugin component, signed, under its version
    /// and the floating tags it is the newest of (MAJOR.MINOR, MAJOR, latest).
    Push(PushArgs),
    /// Download and verify an artifact's files into a directory, without
    /// installing it.
    Pull {
        reference: String,
        #[command(flatten)]
        from: FromArgs,
        /// Where to write the files.
        #[arg(short = 'o', long = "output-dir", default_value = ".")]
        output_dir: PathBuf,
    },
    /// Fetch, verify and install artifacts; a plugin asking for grants not
    /// accepted is held (exit 1) until --accept-grants or `artifact accept`.
    Install {
        #[arg(required = true)]
        references: Vec<String>,
        #[command(flatten)]
        from: FromArgs,
        #[command(flatten)]
        to: ToArgs,
        /// Accept the grants the plugins declare.
        #[arg(long)]
        accept_grants: bool,
    },
    /// Activate the held version of a plugin, accepting its grants.
    Accept {
        name: String,
        #[arg(long, default_value = PLUGINS_DIR)]
        plugins_dir: PathBuf,
    },
    /// List the artifacts of the index files, and those installed.
    List {
        #[arg(long = "index")]
        indexes: Vec<PathBuf>,
        #[command(flatten)]
        to: ToArgs,
    },
    /// Show an artifact: its tags, config, requirements, declared grants
    /// and signature.
    Info {
        reference: String,
        #[command(flatten)]
        from: FromArgs,
    },
    /// Install new versions of the references as they are pushed: check
    /// every interval, verify, install; rules files reload in a running
    /// engine watching the rules directory.
    Follow {
        #[arg(required = true)]
        references: Vec<String>,
        #[command(flatten)]
        from: FromArgs,
        #[command(flatten)]
        to: ToArgs,
        /// How often to check (30s, 5m, 6h).
        #[arg(long, default_value = "6h", value_parser = parse_every)]
        every: Duration,
        /// Check once and exit.
        #[arg(long)]
        once: bool,
    },
}

#[derive(clap::Args, Debug)]
pub(super) struct PushArgs {
    /// REGISTRY/REPOSITORY (a tag given is replaced by the version's tags).
    reference: String,
    /// The rules files, or the plugin's component.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[arg(long = "type", value_enum)]
    kind: Kind,
    /// The artifact's version (semver).
    #[arg(long)]
    version: semver::Version,
    /// The private key to sign with (artifact keygen).
    #[arg(long)]
    key: PathBuf,
    /// The artifact's name (default: the repository's last part).
    #[arg(long)]
    name: Option<String>,
    /// A requirement NAME:VERSION (engine_version_semver, plugin_api_version).
    #[arg(long = "requires", value_parser = parse_requirement)]
    requires: Vec<Requirement>,
    /// A plugin's grants and limits: YAML with grants: and limits: maps as
    /// in falco.yaml's plugins[] entries.
    #[arg(long)]
    grants: Option<PathBuf>,
    /// Add or update the artifact's entry in this index file.
    #[arg(long)]
    index: Option<PathBuf>,
    /// The index entry's description.
    #[arg(long, default_value = "")]
    description: String,
    /// Speak plain HTTP to the registry (a local one).
    #[arg(long)]
    plain_http: bool,
}

/// Where artifacts come from and whom to trust.
#[derive(clap::Args, Debug)]
pub(super) struct FromArgs {
    /// A public key whose signatures are trusted (repeatable); install and
    /// follow need one.
    #[arg(long = "pubkey")]
    pubkeys: Vec<PathBuf>,
    /// Index files that name artifacts (install NAME[:TAG]).
    #[arg(long = "index")]
    indexes: Vec<PathBuf>,
    /// Speak plain HTTP to the registry (a local one).
    #[arg(long)]
    plain_http: bool,
}

/// Where artifacts are installed.
#[derive(clap::Args, Debug)]
pub(super) struct ToArgs {
    #[arg(long, default_value = RULES_DIR)]
    rules_dir: PathBuf,
    #[arg(long, default_value = PLUGINS_DIR)]
    plugins_dir: PathBuf,
}

fn parse_every(s: &str) -> Result<Duration, String> {
    crate::config::parse_duration(s).ok_or_else(|| format!("'{s}' is not a duration (30s, 5m, 6h)"))
}

fn parse_requirement(s: &str) -> Result<Requirement, String> {
    let (name, version) = s
        .split_once(':')
        .ok_or_else(|| format!("'{s}': write NAME:VERSION"))?;
    Ok(Requirement {
        name: name.to_string(),
        version: version.to_string(),
    })
}

/// Runs an `artifact` subcommand.
pub(super) fn run(cmd: &ArtifactCommand) -> ExitCode {
    let result = match cmd {
        ArtifactCommand::Keygen { prefix } => keygen(prefix)
            .map(|(k, p)| {
                println!(
                    "Private key: {} (keep it secret)\nPublic key:  {}",
                    k.display(),
                    p.display()
                );
                ExitCode::SUCCESS
            })
            .map_err(ArtifactError::from),
        ArtifactCommand::Push(args) => push_command(args),
        ArtifactCommand::Pull {
            reference,
            from,
            output_dir,
        } => pull(reference, from, output_dir),
        ArtifactCommand::Install {
            references,
            from,
            to,
            accept_grants,
        } => install_command(references, from, to, *accept_grants),
        ArtifactCommand::Accept { name, plugins_dir } => {
            crate::artifact::install::accept(plugins_dir, name).map(|o| report(name, &o))
        }
        ArtifactCommand::List { indexes, to } => list(indexes, to),
        ArtifactCommand::Info { reference, from } => info(reference, from),
        ArtifactCommand::Follow {
            references,
            from,
            to,
            every,
            once,
        } => follow(references, from, to, *every, *once),
    };
    result.unwrap_or_else(super::fail)
}

fn push_command(a: &PushArgs) -> Result<ExitCode, ArtifactError> {
    let key = SigningKey::read(&a.key)?;
    let req = PushRequest {
        reference: Reference::parse(&a.reference)?,
        kind: a.kind,
        files: a.files.clone(),
        version: a.version.clone(),
        name: a.name.clone(),
        requires: a.requires.clone(),
        grants_file: a.grants.clone(),
        plain_http: a.plain_http,
    };
    let pushed = push(&req, &key)?;
    let r = &req.reference;
    println!(
        "Pushed {} {} ({}) to {}: tags {}; signed with key {}",
        pushed.config.name,
        pushed.config.version,
        a.kind.as_str(),
        r.name(),
        pushed.tags.join(", "),
        key.id()
    );
    println!("Digest: {}", pushed.digest);
    if let Some(path) = &a.index {
        index::upsert(
            path,
            Entry {
                name: pushed.config.name.clone(),
                kind: a.kind.as_str().to_string(),
                registry: r.registry.clone(),
                repository: r.repository.clone(),
                description: a.description.clone(),
                ..Entry::default()
            },
        )?;
        println!(
            "Index {}: entry {} written",
            path.display(),
            pushed.config.name
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The trusted keys; `required`: none is an error.
fn keys(from: &FromArgs, required: bool) -> Result<Vec<PublicKey>, ArtifactError> {
    if required && from.pubkeys.is_empty() {
        return Err(ArtifactError::Input(
            "no --pubkey given: artifacts are installed only when signed by a trusted key".into(),
        ));
    }
    from.pubkeys
        .iter()
        .map(|p| PublicKey::read(p).map_err(ArtifactError::from))
        .collect()
}

fn resolve(text: &str, from: &FromArgs) -> Result<Reference, ArtifactError> {
    index::resolve(text, &index::read_all(&from.indexes)?)
}

fn pull(reference: &str, from: &FromArgs, dir: &Path) -> Result<ExitCode, ArtifactError> {
    let r = resolve(reference, from)?;
    let keys = keys(from, false)?;
    let f = fetch(&Registry::new(&r.registry, from.plain_http), &r, &keys)?;
    match &f.signer {
        Some(id) => println!("{r}: signature verified (key {id})"),
        None => eprintln!("Warning: {r}: signature not checked (no --pubkey)"),
    }
    std::fs::create_dir_all(dir).map_err(|source| ArtifactError::Io {
        path: dir.into(),
        source,
    })?;
    for (name, bytes) in &f.files {
        let p = dir.join(name);
        std::fs::write(&p, bytes).map_err(|source| ArtifactError::Io {
            path: p.clone(),
            source,
        })?;
        println!("{}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn install_command(
    references: &[String],
    from: &FromArgs,
    to: &ToArgs,
    accept_grants: bool,
) -> Result<ExitCode, ArtifactError> {
    let keys = keys(from, true)?;
    let opts = InstallOptions {
        rules_dir: to.rules_dir.clone(),
        plugins_dir: to.plugins_dir.clone(),
        accept_grants,
    };
    // Everything is fetched and checked before anything is installed.
    let mut fetched = Vec::new();
    for text in references {
        let r = resolve(text, from)?;
        fetched.push(fetch(
            &Registry::new(&r.registry, from.plain_http),
            &r,
            &keys,
        )?);
    }
    let outcomes = install_all(&fetched, &opts)?;
    let mut code = ExitCode::SUCCESS;
    for (f, outcome) in fetched.iter().zip(&outcomes) {
        println!(
            "{}: {} {} ({}), signed by key {}",
            f.reference,
            f.config.name,
            f.config.version,
            f.kind.as_str(),
            f.signer.as_deref().unwrap_or("?")
        );
        if report(&f.config.name, outcome) != ExitCode::SUCCESS {
            code = ExitCode::FAILURE;
        }
    }
    Ok(code)
}

/// Prints what an install did; held is a failure.
fn report(name: &str, o: &Outcome) -> ExitCode {
    match o {
        Outcome::Installed {
            version,
            paths,
            grants,
            notes,
            ..
        } => {
            for p in paths {
                println!("  installed {name} {version}: {}", p.display());
            }
            if !grants.is_empty() {
                println!("  grants accepted: {}", grants.join(", "));
            }
            for n in notes {
                eprintln!("Warning: {n}");
            }
            ExitCode::SUCCESS
        }
        Outcome::Unchanged { version, .. } => {
            println!("  {name} {version} is installed already");
            ExitCode::SUCCESS
        }
        Outcome::Held { version, asked, .. } => {
            eprintln!(
                "Error: plugin {name} {version} is held, not active: it asks for grants not accepted:"
            );
            for a in asked {
                eprintln!("  - {a}");
            }
            eprintln!(
                "  accept them with `falco-wasm artifact accept {name}` or install with --accept-grants"
            );
            ExitCode::FAILURE
        }
    }
}

fn list(indexes: &[PathBuf], to: &ToArgs) -> Result<ExitCode, ArtifactError> {
    let entries = index::read_all(indexes)?;
    if !entries.is_empty() {
        println!(
            "{:<24} {:<10} {:<50} DESCRIPTION",
            "NAME", "TYPE", "REPOSITORY"
        );
        for e in &entries {
            let repo = format!("{}/{}", e.registry, e.repository);
            println!(
                "{:<24} {:<10} {:<50} {}",
                e.name, e.kind, repo, e.description
            );
        }
        println!();
    }
    println!(
        "{:<24} {:<10} {:<12} {:<10} FROM",
        "INSTALLED", "TYPE", "VERSION", "STATE"
    );
    let (rules, _) = crate::artifact::install::records(&to.rules_dir);
    let (plugins, held) = crate::artifact::install::records(&to.plugins_dir);
    let states = [(rules, "active"), (plugins, "active"), (held, "held")];
    for (records, state) in states {
        for rec in records {
            println!(
                "{:<24} {:<10} {:<12} {:<10} {}",
                rec.name, rec.kind, rec.version, state, rec.reference
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn info(reference: &str, from: &FromArgs) -> Result<ExitCode, ArtifactError> {
    let r = resolve(reference, from)?;
    let reg = Registry::new(&r.registry, from.plain_http);
    let keys = keys(from, false)?;
    let f = fetch(&reg, &r, &keys)?;
    let tags = crate::artifact::fetch::artifact_tags(&reg, &r.repository)?;
    println!("Reference:    {r}");
    println!("Digest:       {}", f.digest);
    println!("Type:         {}", f.kind.as_str());
    println!("Name:         {} {}", f.config.name, f.config.version);
    println!("Tags:         {}", tags.join(", "));
    println!(
        "Signature:    {}",
        f.signer
            .as_ref()
            .map_or("not checked (no --pubkey)".to_string(), |id| format!(
                "verified, key {id}"
            ))
    );
    for q in &f.config.requirements {
        println!("Requires:     {} {}", q.name, q.version);
    }
    for d in &f.config.dependencies {
        println!("Depends on:   {} {}", d.name, d.version);
    }
    let files: Vec<String> = f
        .files
        .iter()
        .map(|(n, b)| format!("{n} ({} bytes)", b.len()))
        .collect();
    println!("Files:        {}", files.join(", "));
    if f.kind == Kind::Plugin {
        let declared = crate::plugins::installed::declared(
            &f.config.name,
            f.config.grants.as_ref(),
            f.config.limits.as_ref(),
        )
        .map(|(g, l)| crate::artifact::install::describe(&g, &l))
        .unwrap_or_else(|e| vec![format!("invalid: {e}")]);
        let declared = if declared.is_empty() {
            "none".to_string()
        } else {
            declared.join(", ")
        };
        println!("Grants:       {declared}");
    }
    Ok(ExitCode::SUCCESS)
}

fn follow(
    references: &[String],
    from: &FromArgs,
    to: &ToArgs,
    every: Duration,
    once: bool,
) -> Result<ExitCode, ArtifactError> {
    let keys = keys(from, true)?;
    let refs = references
        .iter()
        .map(|t| resolve(t, from))
        .collect::<Result<Vec<_>, _>>()?;
    let opts = InstallOptions {
        rules_dir: to.rules_dir.clone(),
        plugins_dir: to.plugins_dir.clone(),
        accept_grants: false,
    };
    let mut follower = Follower::new(refs, keys, opts, from.plain_http, every);
    follower.run(once, &std::sync::atomic::AtomicBool::new(false));
    Ok(ExitCode::SUCCESS)
}
