//! `cargo xtask bench tenants`: density. The same large capture replayed
//! through the real binary with 1, 10 and 100 tenants, each with the
//! default rules and the whole host in scope (the top level runs a rule
//! that never matches, so what grows is the tenants' work); and with none,
//! the baseline. Per tenant count: the setup time (`run --dry-run`, which
//! loads and compiles every tenant's rules), events/s (the engine's own
//! rate over the replay, setup left out), tenant-events/s (events/s times
//! tenants: flat means linear), peak RSS and the RSS each tenant beyond
//! the first adds. Then the noisy neighbour, on a stream 250 times longer
//! (about five seconds a run: the budget is per second, and in a run of
//! one second the neighbour's 50 ms of a second window that has barely
//! begun counted as much as a whole second's): one default-rules tenant
//! alone, and beside
//! another running 300 regex rules on every event, with no budget and
//! with a CPU budget of 50 ms per second. Last, the same for tenants'
//! plugin sources ([`crate::bench_plugin_neighbour`]).

use crate::bench_replay::{Run, Source, no_match_rules, replay, stream};
use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// The noisy neighbour's stream, in multiples of the density stream.
const NOISY_ROUNDS: u64 = 250;

/// The tenant counts measured (0: the baseline).
const COUNTS: &[usize] = &[0, 1, 10, 100];

/// A configuration with `n` host-wide tenants on the default rules.
fn config(n: usize) -> String {
    let mut s = String::from("webserver: {enabled: false}\nsyslog_output: {enabled: false}\n");
    if n > 0 {
        s.push_str("tenants:\n");
    }
    for i in 0..n {
        s.push_str(&format!("  - name: t{i}\n    scope: {{host: true}}\n"));
    }
    s
}

/// Seconds `run --dry-run` takes with this configuration and rules.
fn setup_secs(bin: &Path, cfg: &Path, rules: &Path) -> Result<f64> {
    let start = Instant::now();
    let out = Command::new(bin)
        .args(["run", "--dry-run", "-c"])
        .arg(cfg)
        .arg("-r")
        .arg(rules)
        .output()?;
    if !out.status.success() {
        bail!(
            "dry run failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(start.elapsed().as_secs_f64())
}

pub(crate) fn run(bin: &Path, source: &Source, min_events: u64, hostile: &Path) -> Result<()> {
    let short = stream(source, min_events)?;
    let rules = no_match_rules()?;
    let dir = std::env::temp_dir().join(format!("fw-bench-tenants-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut runs: Vec<(usize, f64, Run)> = Vec::new();
    for &n in COUNTS {
        let cfg = dir.join(format!("falco-{n}.yaml"));
        std::fs::write(&cfg, config(n))?;
        let setup = setup_secs(bin, &cfg, &rules)?;
        let r = replay(
            bin,
            &short,
            Some(&rules),
            "wasm",
            &["-c".as_ref(), cfg.as_os_str()],
        )
        .with_context(|| format!("{n} tenant(s)"))?;
        runs.push((n, setup, r));
    }
    report(&runs);
    let noisy = stream(source, min_events * NOISY_ROUNDS)
        .and_then(|long| noisy_neighbour(bin, &long, &rules, &dir));
    let plugins = crate::bench_plugin_neighbour::run(bin, hostile, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(&rules);
    let rows = noisy?;
    let alone = rows[0].1;
    println!("  noisy neighbour (300 regex rules on every event) beside one default-rules tenant:");
    for &(what, rate, secs) in &rows {
        println!(
            "    {what}: {rate:>10.0} events/s ({:.1}% less than alone; {secs:.1} s)",
            (1.0 - rate / alone) * 100.0
        );
    }
    crate::bench_plugin_neighbour::report(&plugins?);
    Ok(())
}

/// Events/s of one default-rules tenant alone, then beside a noisy one
/// without and with a CPU budget.
fn noisy_neighbour(
    bin: &Path,
    stream: &crate::bench_replay::Stream,
    rules: &Path,
    dir: &Path,
) -> Result<Vec<(&'static str, f64, f64)>> {
    let noisy = noisy_rules("syscall", |i| {
        format!(
            "proc.cmdline regex '^(x{i}|y)+(a|b)*[0-9]{{2,4}}z$' or fd.name regex '(q{i}|w)*e+$'"
        )
    });
    let noisy_rules = dir.join("noisy.yaml");
    std::fs::write(&noisy_rules, noisy)?;
    let mut rows = Vec::new();
    for (what, neighbour) in [
        ("alone                               ", None),
        ("with an unlimited noisy neighbour   ", Some("")),
        (
            "with the neighbour at 50 ms/s of CPU",
            Some("    limits: {cpu_budget_ms: 50}\n"),
        ),
    ] {
        let cfg = dir.join("falco-noisy.yaml");
        let noisy = neighbour.map_or(String::new(), |limits| {
            format!(
                "  - name: noisy\n    scope: {{host: true}}\n    rules_files: [{}]\n{limits}",
                noisy_rules.display()
            )
        });
        std::fs::write(&cfg, format!("{}{noisy}", config(1)))?;
        let args = ["-c".as_ref(), cfg.as_os_str()];
        let r = replay(bin, stream, Some(rules), "wasm", &args)?;
        rows.push((what, r.replay_rate, r.secs));
    }
    Ok(rows)
}

/// A rule of `source` that never fires (output `n`, priority DEBUG).
pub(crate) fn rule(source: &str, name: &str, condition: &str) -> String {
    format!(
        "- rule: {name}\n  desc: n\n  condition: {condition}\n  output: n\n  priority: DEBUG\n  \
         source: {source}\n"
    )
}

/// The noisy neighbour's rules: 300 of `source`, each with the regex
/// condition `condition(i)`.
pub(crate) fn noisy_rules(source: &str, condition: impl Fn(usize) -> String) -> String {
    (0..300)
        .map(|i| rule(source, &format!("Noisy {i}"), &condition(i)))
        .collect()
}

fn report(runs: &[(usize, f64, Run)]) {
    let rate = |r: &Run| r.replay_rate;
    let base_setup = runs[0].1;
    let one = runs.iter().find(|r| r.0 == 1);
    println!(
        "  tenants | setup s | setup/tenant ms |    events/s | tenant-events/s | vs 1 tenant | \
         peak RSS MiB | MiB/tenant beyond the first"
    );
    for (n, setup, r) in runs {
        let rss = r.peak_rss_kib as f64 / 1024.0;
        let per_tenant_setup = if *n > 0 {
            format!("{:.1}", (setup - base_setup) * 1000.0 / *n as f64)
        } else {
            "-".into()
        };
        let tenant_rate = rate(r) * (*n).max(1) as f64;
        let (vs_one, per_rss) = match one {
            Some((_, _, o)) if *n > 1 => (
                format!("{:.2}x", tenant_rate / rate(o)),
                format!(
                    "{:.2}",
                    (rss - o.peak_rss_kib as f64 / 1024.0) / (*n - 1) as f64
                ),
            ),
            _ => ("-".into(), "-".into()),
        };
        println!(
            "  {n:>7} | {setup:>7.2} | {per_tenant_setup:>15} | {:>11.0} | {tenant_rate:>15.0} | \
             {vs_one:>11} | {rss:>12.1} | {per_rss}",
            rate(r),
        );
    }
    println!(
        "  (0 tenants: the baseline, decode + state with a rule that never matches; RSS is \
         sampled every 50 ms, 0 when a run is shorter; events per run: {})",
        runs[0].2.events
    );
}
