//! `falco-wasm tenants`: a configuration's tenants checked here, and a
//! running engine's listed through its web server's API.

use crate::outputs::config::OutputsConfig;
use crate::outputs::sinks::HttpOptions;
use crate::pipeline::setup::{Inputs, tenant_builds};
use crate::rules::compile::builtin_plugins;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// The environment variable a token may come from (not the command line,
/// where other users see it).
const TOKEN_ENV: &str = "FALCO_WASM_TOKEN";

#[derive(Subcommand, Debug)]
pub(super) enum TenantsCommand {
    /// List a running engine's tenants with their counters (GET
    /// /api/v1/tenants; an admin token lists all, a tenant's token itself).
    List(ListArgs),
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

#[derive(clap::Args, Debug)]
pub(super) struct ListArgs {
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
    /// Print the API's JSON as it is.
    #[arg(long)]
    json: bool,
}

/// Runs a `tenants` subcommand.
pub(super) fn run(cmd: &TenantsCommand) -> ExitCode {
    match cmd {
        TenantsCommand::List(args) => list(args),
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
                t.engine.active_count(),
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

fn list(args: &ListArgs) -> ExitCode {
    let Some(token) = args.token.clone().or_else(|| std::env::var(TOKEN_ENV).ok()) else {
        return super::fail(format!("a token is needed: --token or ${TOKEN_ENV}"));
    };
    let url = format!(
        "{}{}",
        args.url.trim_end_matches('/'),
        crate::server::api::PREFIX
    );
    let body = match get(&url, &token, args) {
        Ok(b) => b,
        Err(e) => return super::fail(format!("{url}: {e}")),
    };
    if args.json {
        println!("{body}");
        return ExitCode::SUCCESS;
    }
    let Ok(serde_json::Value::Array(tenants)) = serde_json::from_str(&body) else {
        return super::fail(format!("{url}: not a list of tenants: {body}"));
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

/// A GET with the bearer token; the body, or why not.
fn get(url: &str, token: &str, args: &ListArgs) -> Result<String, String> {
    let mut b = ureq::AgentBuilder::new().timeout(Duration::from_secs(10));
    if url.starts_with("https://") {
        let opts = HttpOptions {
            url: url.to_string(),
            insecure: args.insecure,
            ca_cert: args.ca_cert.clone(),
            client_cert: args.cert.clone().zip(args.key.clone()),
            ..HttpOptions::default()
        };
        b = b.tls_config(std::sync::Arc::new(crate::outputs::sinks::tls_config(
            &opts,
        )?));
    }
    match b
        .build()
        .get(url)
        .set("Authorization", &format!("Bearer {token}"))
        .call()
    {
        Ok(r) => r.into_string().map_err(|e| e.to_string()),
        Err(ureq::Error::Status(code, r)) => Err(format!(
            "{code}: {}",
            r.into_string().unwrap_or_default().trim()
        )),
        Err(e) => Err(e.to_string()),
    }
}
