//! `falco-wasm tenants`: a configuration's tenants checked here, and a
//! running engine's listed through its web server's API.

use crate::outputs::config::OutputsConfig;
use crate::outputs::sinks::HttpOptions;
use crate::pipeline::setup::{Inputs, tenant_builds};
use crate::rules::compile::builtin_plugins;
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// The environment variable a token may come from (not the command line,
/// where other users see it).
const TOKEN_ENV: &str = "FALCO_WASM_TOKEN";

#[derive(Subcommand, Debug)]
pub(super) enum TenantsCommand {
    /// List a running engine's tenants with their counters (GET
    /// /api/v1/tenants; an admin token lists all, a tenant's token itself).
    List {
        #[command(flatten)]
        api: ApiArgs,
        /// Print the API's JSON as it is.
        #[arg(long)]
        json: bool,
    },
    /// Add or replace a tenant of a running engine (admin token): its
    /// entry (YAML, as under `tenants:` without the name), then its rules.
    Add {
        name: String,
        /// The tenant's entry: scope, limits, outputs, token_sha256.
        #[arg(long)]
        entry: PathBuf,
        /// Its rules file (uploaded after the entry; the tenant's own token
        /// may upload it too).
        #[arg(long)]
        rules: Option<PathBuf>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Remove a tenant added through the API (admin token).
    Remove {
        name: String,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Load every tenant of a configuration (rules, scope, limits, outputs)
    /// and say what each would run, or what is wrong with it.
    Validate {
        /// Configuration file (default: the embedded falco.yaml).
        #[arg(short = 'c')]
        config: Option<PathBuf>,
        /// Override a configuration key: -o key=value.
        #[arg(short = 'o')]
        options: Vec<String>,
    },
}

/// How to reach a running engine's API.
#[derive(clap::Args, Debug)]
pub(super) struct ApiArgs {
    /// The engine's web server.
    #[arg(long, default_value = "https://127.0.0.1:8765")]
    url: String,
    /// The bearer token (default: $FALCO_WASM_TOKEN).
    #[arg(long)]
    token: Option<String>,
    /// Accept any server certificate (a self-signed one).
    #[arg(long)]
    insecure: bool,
    /// The CA certificate (PEM) the server's certificate is checked with.
    #[arg(long)]
    ca_cert: Option<PathBuf>,
    /// A client certificate (PEM), for a server with ssl_client_ca.
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// The client certificate's key (PEM).
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
}

/// Runs a `tenants` subcommand.
pub(super) fn run(cmd: &TenantsCommand) -> ExitCode {
    match cmd {
        TenantsCommand::List { api, json } => list(api, *json),
        TenantsCommand::Add {
            name,
            entry,
            rules,
            api,
        } => add(name, entry, rules.as_deref(), api),
        TenantsCommand::Remove { name, api } => remove(name, api),
        TenantsCommand::Validate { config, options } => validate(config.clone(), options),
    }
}

fn validate(config: Option<PathBuf>, options: &[String]) -> ExitCode {
    let inputs = Inputs {
        config,
        overrides: options.to_vec(),
        rules: Vec::new(),
        plugin_rules: Vec::new(),
    };
    let config = match inputs.config() {
        Ok(c) => c,
        Err(e) => return super::fail(e),
    };
    let registry = crate::fields::FieldRegistry::builtin();
    let (ok, failed) = match tenant_builds(&config, &registry, &builtin_plugins()) {
        Ok(b) => b,
        Err(e) => return super::fail(e),
    };
    let mut bad = failed.len();
    for t in &ok {
        let outputs = OutputsConfig::from_config(&t.spec.config)
            .and_then(|o| o.sinks())
            .map(|s| s.iter().map(|s| s.name()).collect::<Vec<_>>().join(", "));
        match outputs {
            Ok(o) => println!(
                "{}: {} rule(s) enabled; scope {}; outputs: {}",
                t.spec.name,
                t.active_count(),
                t.spec.scope,
                if o.is_empty() { "none" } else { &o }
            ),
            Err(e) => {
                bad += 1;
                eprintln!("Error: {}", t.spec.error(e));
            }
        }
    }
    for e in &failed {
        eprintln!("Error: {e}");
    }
    match bad {
        0 => {
            println!("{} tenant(s): ok", ok.len());
            ExitCode::SUCCESS
        }
        n => super::fail(format!("{n} tenant(s) do not load")),
    }
}

fn list(api: &ApiArgs, json: bool) -> ExitCode {
    let body = match api.call("GET", "", None) {
        Ok((_, b)) => b,
        Err(e) => return super::fail(e),
    };
    if json {
        println!("{body}");
        return ExitCode::SUCCESS;
    }
    let Ok(serde_json::Value::Array(tenants)) = serde_json::from_str(&body) else {
        return super::fail(format!("{}: not a list of tenants: {body}", api.url));
    };
    println!(
        "{:<20} {:>6} {:>12} {:>10} {:>10} {:>10}  SCOPE",
        "NAME", "RULES", "EVENTS", "SHED", "ALERTS", "SUPPRESSED"
    );
    for t in &tenants {
        let n = |k: &str| t[k].as_u64().unwrap_or(0);
        println!(
            "{:<20} {:>6} {:>12} {:>10} {:>10} {:>10}  {}",
            t["name"].as_str().unwrap_or("?"),
            n("rules_enabled"),
            n("events"),
            n("shed_events"),
            n("alerts"),
            n("alerts_suppressed"),
            t["scope"].as_str().unwrap_or("")
        );
    }
    ExitCode::SUCCESS
}

/// PUTs the entry, then the rules; each answer said. A tenant this added
/// whose rules are refused is removed again.
fn add(name: &str, entry: &Path, rules: Option<&Path>, api: &ApiArgs) -> ExitCode {
    if !crate::server::api::valid_tenant_name(name) {
        return super::fail(format!("'{name}' is not a tenant name"));
    }
    let put = |file: &Path, path: String| -> Result<u16, String> {
        let body = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let (code, said) = api.call("PUT", &path, Some(&body))?;
        println!("{name}: {} ({code}) {}", file.display(), said.trim());
        Ok(code)
    };
    let created = match put(entry, format!("/{name}")) {
        Ok(code) => code == 201,
        Err(e) => return super::fail(e),
    };
    let Some(rules) = rules else {
        return ExitCode::SUCCESS;
    };
    match put(rules, format!("/{name}/rules")) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            if created && api.call("DELETE", &format!("/{name}"), None).is_ok() {
                eprintln!("{name}: removed again, its rules were refused");
            }
            super::fail(e)
        }
    }
}

fn remove(name: &str, api: &ApiArgs) -> ExitCode {
    match api.call("DELETE", &format!("/{name}"), None) {
        Ok((code, said)) => {
            println!("{name}: removed ({code}) {}", said.trim());
            ExitCode::SUCCESS
        }
        Err(e) => super::fail(e),
    }
}

impl ApiArgs {
    /// `METHOD` on the API's `path` (below /api/v1/tenants) with the bearer
    /// token: (status, body) of a success, or what went wrong.
    fn call(&self, method: &str, path: &str, body: Option<&[u8]>) -> Result<(u16, String), String> {
        let Some(token) = self.token.clone().or_else(|| std::env::var(TOKEN_ENV).ok()) else {
            return Err(format!("a token is needed: --token or ${TOKEN_ENV}"));
        };
        let url = format!(
            "{}{}{path}",
            self.url.trim_end_matches('/'),
            crate::server::api::PREFIX
        );
        let mut b = ureq::AgentBuilder::new().timeout(Duration::from_secs(60));
        if url.starts_with("https://") {
            let opts = HttpOptions {
                url: url.clone(),
                insecure: self.insecure,
                ca_cert: self.ca_cert.clone(),
                client_cert: self.cert.clone().zip(self.key.clone()),
                ..HttpOptions::default()
            };
            let tls =
                crate::outputs::sinks::tls_config(&opts).map_err(|e| format!("{url}: {e}"))?;
            b = b.tls_config(std::sync::Arc::new(tls));
        }
        let req = b
            .build()
            .request(method, &url)
            .set("Authorization", &format!("Bearer {token}"));
        let answer = match body {
            Some(b) => req.send_bytes(b),
            None => req.call(),
        };
        match answer {
            Ok(r) => {
                let code = r.status();
                Ok((code, r.into_string().map_err(|e| format!("{url}: {e}"))?))
            }
            Err(ureq::Error::Status(code, r)) => Err(format!(
                "{method} {url}: {code}: {}",
                r.into_string().unwrap_or_default().trim()
            )),
            Err(e) => Err(format!("{method} {url}: {e}")),
        }
    }
}
