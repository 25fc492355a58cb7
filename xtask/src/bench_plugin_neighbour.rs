//! `cargo xtask bench tenants`, last part: a tenant's plugin source beside
//! a noisy neighbour's, each on its own thread. Tenant `b` reads a plugin
//! that floods it with events (one rule evaluated on each); its events/s
//! is read from `/metrics` over a few seconds, alone, then beside tenant
//! `a`, whose flooding plugin feeds 300 regex rules, without a budget and
//! with a CPU budget of 50 ms per second. `a`'s CPU use per second is
//! shown beside.

use crate::bench_tenants::{noisy_rules, rule};
use anyhow::{Context, Result, bail};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long each configuration is sampled.
const SAMPLE: Duration = Duration::from_secs(4);

/// One row: what ran beside `b`, `b`'s events/s, `a`'s CPU seconds per second.
type Row = (&'static str, f64, f64);

pub(crate) fn run(bin: &Path, hostile: &Path, dir: &Path) -> Result<Vec<Row>> {
    let never = rule("hostile", "Never", "hostile.msg = never");
    std::fs::write(dir.join("b.yaml"), never)?;
    let noisy = noisy_rules("hostile", |i| {
        format!("hostile.msg regex '^(x{i}|y)+(a|b)*[0-9]{{2,4}}z$'")
    });
    std::fs::write(dir.join("a.yaml"), noisy)?;
    let mut rows = Vec::new();
    for (what, a) in [
        ("alone                                 ", None),
        ("beside an unlimited flooding neighbour", Some("")),
        (
            "beside it at 50 ms/s of CPU           ",
            Some("    limits: {cpu_budget_ms: 50}\n"),
        ),
    ] {
        let port = free_port()?;
        let cfg = dir.join("falco-plugins.yaml");
        std::fs::write(&cfg, config(hostile, dir, port, a))?;
        let mut child = Command::new(bin)
            .args(["run", "-c"])
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let r = sample(port);
        let _ = child.kill();
        let _ = child.wait();
        let (b_rate, a_cpu) = r.with_context(|| format!("plugin neighbour: {what}"))?;
        rows.push((what, b_rate, a_cpu));
    }
    Ok(rows)
}

/// The configuration: an idle top-level source, tenant `b`, and tenant
/// `a` with `a_limits` (`None`: no `a`).
fn config(hostile: &Path, dir: &Path, port: u16, a_limits: Option<&str>) -> String {
    let tenant = |name: &str, mode: &str, extra: &str| {
        format!(
            "  - name: {name}\n    rules_files: [{}]\n    load_plugins: [hostile]\n    plugins: \
             [{{name: hostile, library_path: {}, init_config: {{mode: {mode}}}}}]\n{extra}",
            dir.join(format!("{name}.yaml")).display(),
            hostile.display()
        )
    };
    let mut s = format!(
        "stdout_output: {{enabled: false}}\nsyslog_output: {{enabled: false}}\n\
         webserver: {{enabled: true, listen_address: 127.0.0.1, listen_port: {port}, \
         prometheus_metrics_enabled: true}}\nrules_files: [{b}]\nload_plugins: [hostile]\n\
         plugins: [{{name: hostile, library_path: {h}, init_config: {{mode: noeof}}}}]\n\
         tenants:\n{}",
        tenant("b", "flood", ""),
        b = dir.join("b.yaml").display(),
        h = hostile.display(),
    );
    if let Some(limits) = a_limits {
        s.push_str(&tenant("a", "flood", limits));
    }
    s
}

/// `b`'s events/s and `a`'s CPU seconds per second over [`SAMPLE`], after
/// the engine is up.
fn sample(port: u16) -> Result<(f64, f64)> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let first = loop {
        if let Ok(m) = metrics(port)
            && value(&m, "falcowasm_tenant_events_total", "b").is_some_and(|v| v > 0.0)
        {
            break m;
        }
        if Instant::now() > deadline {
            bail!("no events of tenant b in /metrics within 30 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let t0 = Instant::now();
    std::thread::sleep(SAMPLE);
    let last = metrics(port)?;
    let secs = t0.elapsed().as_secs_f64();
    let delta = |family: &str, tenant: &str| {
        value(&last, family, tenant).unwrap_or(0.0) - value(&first, family, tenant).unwrap_or(0.0)
    };
    Ok((
        delta("falcowasm_tenant_events_total", "b") / secs,
        delta("falcowasm_tenant_cpu_seconds_total", "a") / secs,
    ))
}

fn value(metrics: &str, family: &str, tenant: &str) -> Option<f64> {
    let key = format!("{family}{{tenant=\"{tenant}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&key))
        .and_then(|v| v.trim().parse().ok())
}

fn metrics(port: u16) -> Result<String> {
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port))?;
    write!(c, "GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")?;
    let mut s = String::new();
    c.read_to_string(&mut s)?;
    Ok(s)
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Prints the rows.
pub(crate) fn report(rows: &[Row]) {
    let alone = rows[0].1;
    println!(
        "  plugin sources: tenant b's flooding plugin, beside tenant a's (300 regex rules on \
         each of its events):"
    );
    for &(what, rate, cpu) in rows {
        println!(
            "    {what}: b {rate:>10.0} events/s ({:>5.1}% less than alone); a used {cpu:.3} s \
             of CPU per second",
            (1.0 - rate / alone) * 100.0
        );
    }
}
