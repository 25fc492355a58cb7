//! Tenants: each gets the events of its scope only, through its own rules,
//! to its own outputs, within its own alert rate; a bad tenant is named.
//!
//! The replay tests read `../shared/data/scap`; the live test needs root,
//! BTF and podman (each says why it skips elsewhere).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;
use common::{PodmanService, Scratch, free_port};

fn scratch(name: &str) -> Scratch {
    common::scratch("tenants", name)
}

fn capture(name: &str) -> Option<PathBuf> {
    let f = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/scap")
        .join(name);
    if f.is_file() {
        Some(f)
    } else {
        eprintln!("SKIPPED: {} is not there", f.display());
        None
    }
}

const RULES: &str = r#"
- rule: Opens below etc
  desc: t
  condition: evt.type in (open, openat) and fd.name startswith /etc
  output: "open %fd.name by %proc.name container=%container.id"
  priority: WARNING
- rule: Program run
  desc: t
  condition: evt.type = execve and evt.dir = <
  output: "exec %proc.cmdline container=%container.id (%container.name)"
  priority: NOTICE
- rule: Terminal opened
  desc: t
  condition: evt.type = ioctl and fd.name = /dev/ptmx
  output: "ioctl %fd.name by %proc.name container=%container.id"
  priority: NOTICE
"#;

/// The alert lines of an output (time, priority, message).
fn alert_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.len() > 20 && l.as_bytes()[2] == b':')
        .map(str::to_string)
        .collect()
}

/// Replays `capture` with `config`.
fn replay(config: &Path, capture: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_falco-wasm"))
        .args(["run", "-c"])
        .arg(config)
        .arg("-e")
        .arg(capture)
        .output()
        .unwrap()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// A tenant entry with its own rules and file output.
fn tenant(dir: &Path, name: &str, extra: &str) -> String {
    format!(
        "  - name: {name}\n    rules_files: [{}]\n    file_output: {{enabled: true, filename: {}}}\n{extra}",
        dir.join("rules.yaml").display(),
        dir.join(format!("{name}.txt")).display()
    )
}

#[test]
fn a_replayed_capture_reaches_each_tenant_in_its_scope_only() {
    let Some(file) = capture("falco_psp_run_as_user_0_container.scap") else {
        return;
    };
    let dir = scratch("replay");
    let d = &dir.0;
    std::fs::write(d.join("rules.yaml"), RULES).unwrap();
    let config = format!(
        "rules_files: [{rules}]\nstdout_output: {{enabled: true}}\nsyslog_output: {{enabled: false}}\n\
         webserver: {{enabled: false}}\ntenants:\n{}{}{}{}",
        tenant(d, "web", "    scope: {container_names: [hopeful_*]}\n"),
        tenant(
            d,
            "hosts",
            "    scope: {host: true}\n    json_output: true\n"
        ),
        tenant(
            d,
            "limited",
            "    scope: {host: true, images: [nginx]}\n    limits: {alert_rate: 0.001, alert_burst: 1}\n"
        ),
        tenant(d, "redis", "    scope: {images: ['*/redis']}\n"),
        rules = d.join("rules.yaml").display(),
    );
    std::fs::write(d.join("falco.yaml"), config).unwrap();
    // checked first
    let v = Command::new(env!("CARGO_BIN_EXE_falco-wasm"))
        .args(["tenants", "validate", "-c"])
        .arg(d.join("falco.yaml"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&v.stdout);
    assert!(
        v.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&v.stderr)
    );
    assert!(
        said.contains("web: 3 rule(s) enabled; scope container_names [hopeful_*]; outputs: file\n")
            && said.ends_with("4 tenant(s): ok\n"),
        "{said}"
    );
    let out = replay(&d.join("falco.yaml"), &file);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    let top = alert_lines(&stdout);
    // the top level sees everything: the container's and the host's
    assert_eq!(top.len(), 9, "{stdout}\n{stderr}");
    let in_container: Vec<String> = top
        .iter()
        .filter(|l| l.contains("container=697956520d89"))
        .cloned()
        .collect();
    assert_eq!(in_container.len(), 2, "{stdout}");

    // `web`: the container's alerts, exactly
    assert_eq!(alert_lines(&read(&d.join("web.txt"))), in_container);
    // `hosts`: the others, as JSON with its name nowhere else
    let hosts: Vec<serde_json::Value> = read(&d.join("hosts.txt"))
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON alert"))
        .collect();
    assert_eq!(hosts.len(), 7);
    assert!(hosts.iter().all(|a| a["rule"] == "Terminal opened"
        && a["output_fields"]["container.id"] == "host"));
    // `redis`: nothing of this capture is in its scope
    assert_eq!(read(&d.join("redis.txt")), "");
    // `limited`: one alert, the others suppressed and said so on its output
    let limited = read(&d.join("limited.txt"));
    let lines = alert_lines(&limited);
    assert_eq!(lines.len(), 2, "{limited}");
    assert_eq!(lines[0], top[0], "the first alert went through");
    assert!(
        lines[1].contains("8 alert(s) of tenant limited over its alert rate suppressed")
            && lines[1].contains("(Opens below etc: 1, Program run: 1, Terminal opened: 6)"),
        "{limited}"
    );
    // the exit summary has a line per tenant; the top level's counts are its own
    for want in [
        "Tenants: 4",
        "web: 44 event(s) evaluated, 0 shed over its CPU budget, 2 alert(s)",
        "limited: 92 event(s) evaluated, 0 shed over its CPU budget, 1 alert(s), 8 suppressed",
        "redis: 0 event(s) evaluated",
        "Events detected: 9\n",
        "Tenant 'web': 3 rule(s) enabled, scope container_names [hopeful_*]",
    ] {
        assert!(stderr.contains(want), "{want:?} not in:\n{stderr}");
    }
}

#[test]
fn a_bad_tenant_is_named_and_nothing_runs() {
    let dir = scratch("bad");
    let d = &dir.0;
    std::fs::write(
        d.join("rules.yaml"),
        "- rule: r\n  desc: d\n  condition: evt.type = open and\n  output: o\n  priority: INFO\n",
    )
    .unwrap();
    for (tenants, want) in [
        (
            tenant(d, "team-a", "    scope: {host: true}\n"),
            "tenant 'team-a': rules do not load: ",
        ),
        (
            "  - name: team-b\n    scope: {pods: [x]}\n".to_string(),
            "tenants[0].scope.pods: unknown scope key",
        ),
        (
            "  - name: team-c\n    load_plugins: [json]\n".to_string(),
            "tenant 'team-c': load_plugins: plugin 'json' has no entry in plugins:",
        ),
    ] {
        std::fs::write(
            d.join("falco.yaml"),
            format!("webserver: {{enabled: false}}\ntenants:\n{tenants}"),
        )
        .unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_falco-wasm"))
            .args(["run", "--dry-run", "-c"])
            .arg(d.join("falco.yaml"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains(want),
            "{want:?}:\n{err}"
        );
        // `tenants validate` says the same
        let v = Command::new(env!("CARGO_BIN_EXE_falco-wasm"))
            .args(["tenants", "validate", "-c"])
            .arg(d.join("falco.yaml"))
            .output()
            .unwrap();
        let verr = String::from_utf8_lossy(&v.stderr);
        assert!(
            !v.status.success() && verr.contains(want),
            "{want:?}:\n{verr}"
        );
        if want.contains("rules do not load") {
            // the rules file's place of the error
            assert!(err.contains("rules.yaml:3:"), "{err}");
        }
    }
}

/// A self-signed certificate and its key in one PEM file (Falco's form).
fn certificate(dir: &Path) -> PathBuf {
    let (k, c) = (dir.join("k.pem"), dir.join("c.pem"));
    let st = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=localhost", "-keyout"])
        .arg(&k)
        .arg("-out")
        .arg(&c)
        .stderr(Stdio::null())
        .status()
        .expect("openssl");
    assert!(st.success());
    let pem = dir.join("falco.pem");
    let mut both = std::fs::read(&c).unwrap();
    both.extend(std::fs::read(&k).unwrap());
    std::fs::write(&pem, both).unwrap();
    pem
}

/// `curl -sk` with an optional bearer token: the body.
fn curl(url: &str, token: Option<&str>) -> String {
    let mut c = Command::new("curl");
    c.args(["-sk", "--max-time", "10"]);
    if let Some(t) = token {
        c.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    String::from_utf8_lossy(&c.arg(url).output().expect("curl").stdout).into_owned()
}

/// The HTTP status of a GET (for a stream: of its head).
fn status(url: &str, token: Option<&str>) -> u16 {
    let mut c = Command::new("curl");
    c.args([
        "-sk",
        "--max-time",
        "2",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
    ]);
    if let Some(t) = token {
        c.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    let out = c.arg(url).output().expect("curl");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

/// The JSON a GET with a token answers (null when it is not JSON).
fn tenant_info(url: &str, token: &str) -> serde_json::Value {
    serde_json::from_str(&curl(url, Some(token))).unwrap_or_default()
}

/// The engine, running until dropped.
struct Engine(Child);

impl Engine {
    /// Runs the engine with `config`, its log in `log`.
    fn spawn(config: &Path, log: &Path) -> Engine {
        Engine(
            Command::new(env!("CARGO_BIN_EXE_falco-wasm"))
                .args(["run", "-c"])
                .arg(config)
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(log).unwrap())
                .spawn()
                .expect("start falco-wasm"),
        )
    }

    /// Runs the engine with `config`, its log in `log`, until it captures.
    fn start(config: &Path, log: &Path, timeout: Duration) -> Engine {
        let engine = Engine::spawn(config, log);
        wait_for("the engine captures", log, timeout, || {
            read(log).contains("Capturing system calls")
        });
        engine
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn wait_for(what: &str, log: &Path, timeout: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < timeout,
            "{what} within {timeout:?}; the engine said:\n{}",
            read(log)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Runs `script` in a new container named `name` (busybox image).
fn in_container(name: &str, script: &str) {
    let st = Command::new("podman")
        .args([
            "--runtime",
            "runc",
            "run",
            "--rm",
            "--privileged",
            "--name",
            name,
        ])
        .arg(falco_wasm::cli::eventgen::image())
        .args(["/bin/sh", "-c", script])
        .stdout(Stdio::null())
        .status()
        .expect("podman run");
    assert!(st.success(), "podman run {name} failed");
}

#[test]
fn live_tenants_get_their_own_containers_alerts_on_their_own_outputs() {
    skip_unless_live!();
    if let Err(why) = falco_wasm::cli::eventgen::ensure_image() {
        eprintln!("SKIPPED: tenants test needs podman, runc and busybox: {why}");
        return;
    }
    let _service = PodmanService::ensure();
    let dir = scratch("live");
    let d = &dir.0;
    let marker = format!("fwtenant{}", std::process::id());
    let rules = format!(
        "- rule: Marked shadow read\n  desc: t\n  condition: evt.type in (open, openat) and \
         fd.name = /etc/shadow and (proc.cmdline contains {marker} or proc.pcmdline contains \
         {marker})\n  output: \"shadow read by %proc.name in %container.name ({marker})\"\n  \
         priority: WARNING\n"
    );
    std::fs::write(d.join("rules.yaml"), rules).unwrap();
    let (a, b) = (format!("{marker}-a"), format!("{marker}-b"));
    let port = free_port();
    let hash = falco_wasm::server::api::token_hash;
    let config = format!(
        "rules_files: [{rules}]\nstdout_output: {{enabled: false}}\nsyslog_output: {{enabled: false}}\n\
         file_output: {{enabled: true, filename: {top}}}\n\
         webserver: {{enabled: true, listen_address: 127.0.0.1, listen_port: {port}, \
         prometheus_metrics_enabled: true, ssl_enabled: true, ssl_certificate: {pem}, \
         admin_token_sha256: {admin}}}\ntenants:\n{}{}{}",
        tenant(
            d,
            "team-a",
            &format!(
                "    scope: {{container_names: [{a}]}}\n    token_sha256: {}\n",
                hash("token-a")
            )
        ),
        tenant(
            d,
            "team-b",
            &format!(
                "    scope: {{container_names: [{b}]}}\n    token_sha256: {}\n",
                hash("token-b")
            )
        ),
        tenant(d, "hosts", "    scope: {host: true}\n"),
        rules = d.join("rules.yaml").display(),
        top = d.join("top.txt").display(),
        pem = certificate(d).display(),
        admin = hash("admin-token"),
    );
    std::fs::write(d.join("falco.yaml"), config).unwrap();
    let log = d.join("engine.log");
    let engine = Engine::start(&d.join("falco.yaml"), &log, Duration::from_secs(60));
    let api = |path: &str| format!("https://127.0.0.1:{port}/api/v1/tenants{path}");
    // team-a's alert stream, open before anything happens
    let mut stream = Command::new("curl")
        .args([
            "-skN",
            "--max-time",
            "30",
            "-H",
            "Authorization: Bearer token-a",
        ])
        .arg(api("/team-a/alerts"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("curl");
    let streamed = Arc::new(Mutex::new(String::new()));
    let out = stream.stdout.take().unwrap();
    let s2 = Arc::clone(&streamed);
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let mut s = s2.lock().unwrap();
            s.push_str(&line);
            s.push('\n');
        }
    });
    wait_for("the API answers", &log, Duration::from_secs(10), || {
        tenant_info(&api("/team-a"), "token-a")["name"] == "team-a"
    });
    std::thread::sleep(Duration::from_millis(300));
    // A scope by name sees a container's events once its runtime has named
    // it: a container's first moments, while podman is still starting it,
    // reach the top level only (a known gap; see the README's Tenants).
    let script = format!("sleep 1; cat /etc/shadow > /dev/null; echo {marker}");
    in_container(&a, &script);
    in_container(&b, &script);
    let st = Command::new("sh")
        .args(["-c", &format!("cat /etc/shadow > /dev/null # {marker}")])
        .status()
        .unwrap();
    assert!(st.success());
    let alerts = |name: &str| alert_lines(&read(&d.join(format!("{name}.txt"))));
    wait_for(
        "three alerts at the top level",
        &log,
        Duration::from_secs(20),
        || alerts("top").len() >= 3,
    );
    eprintln!(
        "top: {:?}\nteam-a: {:?}\nteam-b: {:?}\nhosts: {:?}",
        alerts("top"),
        alerts("team-a"),
        alerts("team-b"),
        alerts("hosts")
    );
    wait_for("each tenant's alert", &log, Duration::from_secs(10), || {
        ["team-a", "team-b", "hosts"]
            .iter()
            .all(|t| !alerts(t).is_empty())
    });
    let ta = alerts("team-a");
    let tb = alerts("team-b");
    let th = alerts("hosts");
    assert!(
        ta.len() == 1 && ta[0].contains(&format!("in {a} ")),
        "{ta:?}"
    );
    assert!(
        tb.len() == 1 && tb[0].contains(&format!("in {b} ")),
        "{tb:?}"
    );
    assert!(th.len() == 1 && th[0].contains("in host "), "{th:?}");
    assert_eq!(alerts("top").len(), 3, "{:?}", alerts("top"));

    // per-tenant counters on /metrics
    let metrics = curl(&format!("https://127.0.0.1:{port}/metrics"), None);
    for want in [
        "falcowasm_tenant_alerts_total{tenant=\"team-a\"} 1",
        "falcowasm_tenant_alerts_total{tenant=\"team-b\"} 1",
        "falcowasm_tenant_alerts_total{tenant=\"hosts\"} 1",
        "falcosecurity_falco_outputs_sent_total{channel=\"file\",tenant=\"team-a\"} 1",
        "falcosecurity_falco_outputs_sent_total{channel=\"file\",tenant=\"default\"} 3",
        "rule_name=\"Marked shadow read\",priority=\"Warning\",source=\"syscall\",tenant=\"team-a\"} 1",
        "rule_name=\"Marked shadow read\",priority=\"Warning\",source=\"syscall\",tenant=\"default\"} 3",
    ] {
        assert!(metrics.contains(want), "{want:?} not in:\n{metrics}");
    }

    // the API: team-a's stream has its alert and nothing of team-b's
    wait_for(
        "team-a's streamed alert",
        &log,
        Duration::from_secs(10),
        || streamed.lock().unwrap().contains("data: "),
    );
    std::thread::sleep(Duration::from_millis(500));
    let got = streamed.lock().unwrap().clone();
    let events: Vec<serde_json::Value> = got
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|j| serde_json::from_str(j).expect("JSON alert"))
        .collect();
    assert_eq!(events.len(), 1, "{got}");
    let output = events[0]["output"].as_str().unwrap_or_default();
    assert!(output.contains(&format!("in {a} ")), "{got}");
    assert!(!got.contains(&b), "{got}");
    let _ = stream.kill();
    let _ = stream.wait();
    // refused: no token, a wrong one, another tenant's (a stream too)
    assert_eq!(status(&api(""), None), 401);
    assert_eq!(status(&api(""), Some("token-c")), 401);
    assert_eq!(status(&api("/team-b"), Some("token-a")), 403);
    assert_eq!(status(&api("/team-b/alerts"), Some("token-a")), 403);
    assert_eq!(status(&api("/team-b/metrics"), Some("token-a")), 403);
    assert_eq!(status(&api("/hosts"), Some("token-b")), 403);
    // a tenant's list is itself; the admin's is everyone
    let names = |token: &str| -> Vec<String> {
        tenant_info(&api(""), token)
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|t| t["name"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(names("token-b"), ["team-b"]);
    assert_eq!(names("admin-token"), ["hosts", "team-a", "team-b"]);
    // the tenants command lists them through the API
    let out = Command::new(env!("CARGO_BIN_EXE_falco-wasm"))
        .args(["tenants", "list", "--insecure", "--url"])
        .arg(format!("https://127.0.0.1:{port}"))
        .env("FALCO_WASM_TOKEN", "admin-token")
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{listed}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<&str> = listed
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap_or(""))
        .collect();
    assert_eq!(rows, ["hosts", "team-a", "team-b"], "{listed}");
    assert!(
        listed.contains(&format!("container_names [{a}]")),
        "{listed}"
    );
    let refused = Command::new(env!("CARGO_BIN_EXE_falco-wasm"))
        .args(["tenants", "list", "--insecure", "--token", "nope", "--url"])
        .arg(format!("https://127.0.0.1:{port}"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && err.contains("401"), "{err}");
    let memory = sample(
        &metrics,
        "falcowasm_tenant_filter_memory_bytes",
        "tenant=\"team-a\"",
    );
    assert!(memory.is_some_and(|m| m > 0.0), "{metrics}");
    let own = curl(&api("/team-b/metrics"), Some("token-b"));
    assert!(
        own.contains("falcowasm_tenant_alerts_total{tenant=\"team-b\"} 1"),
        "{own}"
    );
    assert!(!own.contains("team-a") && !own.contains("default"), "{own}");
    assert!(
        own.contains(
            "falcosecurity_falco_outputs_sent_total{channel=\"file\",tenant=\"team-b\"} 1"
        ),
        "{own}"
    );
    drop(engine);
}

/// The body of a GET on the engine's web server.
fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    body
}

/// The `value` of a family's sample with `labels` in Prometheus text.
fn sample(metrics: &str, family: &str, labels: &str) -> Option<f64> {
    let key = format!("{family}{{{labels}}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&key))
        .and_then(|v| v.trim().parse().ok())
}

#[test]
fn a_noisy_tenant_is_shed_and_its_neighbour_gets_every_alert() {
    skip_unless_live!();
    let dir = scratch("noisy");
    let d = &dir.0;
    let marker = d.join("steady-marker");
    // the neighbour: one rule on the steady stream's opens
    std::fs::write(
        d.join("quiet.yaml"),
        format!(
            "- rule: Steady open\n  desc: t\n  condition: evt.type in (open, openat) and \
             fd.name = {}\n  output: \"open %fd.name\"\n  priority: NOTICE\n",
            marker.display()
        ),
    )
    .unwrap();
    // the noisy tenant: hundreds of regex rules on every event
    let noisy: String = (0..300)
        .map(|i| {
            format!(
                "- rule: Noisy {i}\n  desc: t\n  condition: proc.cmdline regex \
                 '^(x{i}|y)+(a|b)*[0-9]{{2,4}}z$' or fd.name regex '(q{i}|w)*e+$'\n  \
                 output: n\n  priority: DEBUG\n"
            )
        })
        .collect();
    // and a plugin that floods it with events, for a rule that never matches
    let noisy = noisy
        + "- rule: Flood\n  desc: t\n  condition: hostile.msg = never\n  output: f\n  \
           priority: DEBUG\n  source: hostile\n";
    std::fs::write(d.join("noisy.yaml"), noisy).unwrap();
    let hostile = common::component("falco-wasm-hostile-plugin", "hostile_plugin");
    let port = free_port();
    let config = format!(
        "rules_files: [{quiet}]\nstdout_output: {{enabled: false}}\nsyslog_output: {{enabled: false}}\n\
         webserver: {{enabled: true, listen_address: 127.0.0.1, listen_port: {port}, \
         prometheus_metrics_enabled: true}}\ntenants:\n\
         \x20 - name: noisy\n    scope: {{host: true}}\n    rules_files: [{noisy}]\n    \
         limits: {{cpu_budget_ms: 20}}\n    load_plugins: [hostile]\n    plugins: [{{name: \
         hostile, library_path: {hostile}, init_config: {{mode: flood}}}}]\n\
         \x20 - name: quiet\n    scope: {{host: true}}\n    rules_files: [{quiet}]\n    \
         file_output: {{enabled: true, filename: {out}}}\n",
        quiet = d.join("quiet.yaml").display(),
        noisy = d.join("noisy.yaml").display(),
        out = d.join("quiet.txt").display(),
        hostile = hostile.display(),
    );
    std::fs::write(d.join("falco.yaml"), config).unwrap();
    let log = d.join("engine.log");
    let engine = Engine::start(&d.join("falco.yaml"), &log, Duration::from_secs(120));
    // a steady stream: 3,000 opens over about 3 s
    const OPENS: usize = 3000;
    let started = Instant::now();
    for i in 0..OPENS {
        drop(std::fs::File::create(&marker).unwrap());
        if i % 100 == 99 {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let out = d.join("quiet.txt");
    expect_alerts(&out, OPENS, "exactly one alert per open", &log);

    let metrics = http_get(port, "/metrics");
    let get = |family: &str, tenant: &str| {
        sample(&metrics, family, &format!("tenant=\"{tenant}\""))
            .unwrap_or_else(|| panic!("no {family} of {tenant} in:\n{metrics}"))
    };
    let shed = get("falcowasm_tenant_shed_events_total", "noisy");
    assert!(shed > 0.0, "the noisy tenant was shed: {metrics}");
    // its flooding plugin was held to the same budget, on its own thread
    let throttled = get("falcowasm_tenant_plugin_throttled_total", "noisy");
    assert!(throttled > 0.0, "the noisy plugin was throttled: {metrics}");
    assert_eq!(get("falcowasm_tenant_shed_events_total", "quiet"), 0.0);
    // its CPU stays near its budget: 20 ms per second of the run (one
    // event's evaluation may go over, longer on a loaded machine)
    let cpu = get("falcowasm_tenant_cpu_seconds_total", "noisy");
    let allowed = 0.020 * (started.elapsed().as_secs_f64() + 2.0) + 0.2;
    eprintln!(
        "noisy tenant: {shed} events shed, {throttled} plugin steps put off, {cpu:.3} s of CPU \
         (allowed {allowed:.3} s); stream of {OPENS} opens in {secs:.2} s"
    );
    assert!(
        cpu <= allowed,
        "noisy used {cpu} s of CPU, allowed {allowed} s ({secs} s stream)"
    );
    drop(engine);
}

#[test]
fn tenants_added_updated_and_removed_at_run_time_lose_no_event_of_the_others() {
    skip_unless_live!();
    let dir = scratch("reload");
    let d = &dir.0;
    let marker = d.join("steady-marker");
    let rule = |name: &str, file: &Path| {
        format!(
            "- rule: {name}\n  desc: t\n  condition: evt.type in (open, openat) and fd.name = \
             {}\n  output: \"{name} %fd.name\"\n  priority: NOTICE\n",
            file.display()
        )
    };
    std::fs::write(d.join("steady.yaml"), rule("Steady open", &marker)).unwrap();
    std::fs::write(d.join("other.yaml"), rule("Other open", &marker)).unwrap();
    let write_config = |extra: &str| {
        let config = format!(
            "rules_files: [{steady}]\nstdout_output: {{enabled: false}}\n\
             syslog_output: {{enabled: false}}\nwebserver: {{enabled: false}}\n\
             watch_config_files: false\ntenants:\n{}{}{extra}",
            tenant_on(d, "steady", "steady.yaml"),
            tenant_on(d, "other", "other.yaml"),
            steady = d.join("steady.yaml").display(),
        );
        std::fs::write(d.join("falco.yaml"), config).unwrap();
    };
    write_config("");
    let log = d.join("engine.log");
    let engine = Engine::start(&d.join("falco.yaml"), &log, Duration::from_secs(60));
    // a steady stream of opens while tenants come, change and go
    let stream = Steady::start(&marker);
    let pid = engine.0.id().to_string();
    let reload = |what: &str, said: &str| {
        let before = read(&log).matches(said).count();
        let st = Command::new("kill").args(["-HUP", &pid]).status().unwrap();
        assert!(st.success());
        wait_for(what, &log, Duration::from_secs(30), || {
            read(&log).matches(said).count() > before
        });
    };
    std::thread::sleep(Duration::from_millis(500));
    write_config(&tenant_on(d, "newbie", "steady.yaml"));
    reload("a tenant added", "Tenant 'newbie' added");
    std::thread::sleep(Duration::from_millis(500));
    std::fs::write(d.join("other.yaml"), "- rule: broken\n  condition: (\n").unwrap();
    reload(
        "a broken update rejected",
        "tenant 'other': rules do not load: ",
    );
    std::thread::sleep(Duration::from_millis(500));
    write_config("");
    reload("a tenant removed", "Tenant 'newbie' removed");
    std::thread::sleep(Duration::from_millis(500));
    let opens = stream.finish();
    let count = |name: &str| alert_lines(&read(&d.join(format!("{name}.txt")))).len();
    let steady = d.join("steady.txt");
    expect_alerts(&steady, opens, "every open reached the steady tenant", &log);
    let said = read(&log);
    assert!(
        said.contains("the tenant keeps its previous rules"),
        "{said}"
    );
    // the broken update left `other` running its previous rules: all of them too
    assert_eq!(count("other"), opens, "every open reached the other tenant");
    // the tenant that came and went saw a part of the stream
    let newbie = count("newbie");
    assert!(newbie > 0 && newbie < opens, "newbie: {newbie} of {opens}");
    eprintln!("{opens} opens; newbie saw {newbie}");
    drop(engine);
}

/// A host-wide tenant on `rules` (in the scratch dir) with its own file.
fn tenant_on(dir: &Path, name: &str, rules: &str) -> String {
    format!(
        "  - name: {name}\n    scope: {{host: true}}\n    rules_files: [{}]\n    \
         file_output: {{enabled: true, filename: {}}}\n",
        dir.join(rules).display(),
        dir.join(format!("{name}.txt")).display()
    )
}

/// A `nats-server` on a free loopback port, stopped when dropped.
struct NatsServer(Child, u16);

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Subscribes to `subject` (wildcards allowed) on `port`; the messages
/// arrive on the returned channel as (subject, payload).
fn nats_subscribe(port: u16, subject: &str) -> std::sync::mpsc::Receiver<(String, String)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect to nats");
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    assert!(line.starts_with("INFO "), "{line}");
    write!(
        s,
        "CONNECT {{\"verbose\":false}}\r\nSUB {subject} 1\r\nPING\r\n"
    )
    .unwrap();
    line.clear();
    r.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "PONG", "the subscription is registered");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        loop {
            let mut head = String::new();
            if r.read_line(&mut head).unwrap_or(0) == 0 {
                return;
            }
            let parts: Vec<&str> = head.split_whitespace().collect();
            match parts.as_slice() {
                ["MSG", subject, _sid, len] => {
                    let mut body = vec![0u8; len.parse::<usize>().unwrap() + 2];
                    r.read_exact(&mut body).unwrap();
                    body.truncate(body.len() - 2);
                    let msg = (subject.to_string(), String::from_utf8(body).unwrap());
                    if tx.send(msg).is_err() {
                        return;
                    }
                }
                ["PING"] => {
                    let _ = s.write_all(b"PONG\r\n");
                }
                _ => {}
            }
        }
    });
    rx
}

fn start_nats() -> Option<NatsServer> {
    let bin = ["/usr/sbin/nats-server", "/usr/bin/nats-server"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    let Some(bin) = bin else {
        eprintln!("SKIPPED: nats-server is not installed (apt-get install nats-server)");
        return None;
    };
    let port = free_port();
    let child = Command::new(bin)
        .args(["-a", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nats-server");
    let server = NatsServer(child, port);
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "nats-server did not listen"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(server)
}

#[test]
fn each_tenants_alerts_land_on_its_own_nats_subject() {
    let Some(file) = capture("falco_psp_run_as_user_0_container.scap") else {
        return;
    };
    let Some(nats) = start_nats() else { return };
    let rx = nats_subscribe(nats.1, "falco.alerts.>");
    let dir = scratch("nats");
    let d = &dir.0;
    std::fs::write(d.join("rules.yaml"), RULES).unwrap();
    let nats_output = format!("{{enabled: true, url: 'nats://127.0.0.1:{}'}}", nats.1);
    let entry = |name: &str, scope: &str| {
        format!(
            "  - name: {name}\n    scope: {scope}\n    rules_files: [{}]\n    json_output: true\n    \
             nats_output: {nats_output}\n",
            d.join("rules.yaml").display()
        )
    };
    let config = format!(
        "rules_files: [{rules}]\nstdout_output: {{enabled: false}}\nsyslog_output: {{enabled: false}}\n\
         webserver: {{enabled: false}}\nnats_output: {nats_output}\ntenants:\n{}{}",
        entry("web", "{container_names: [hopeful_*]}"),
        entry("hosts", "{host: true}"),
        rules = d.join("rules.yaml").display(),
    );
    std::fs::write(d.join("falco.yaml"), config).unwrap();
    let out = replay(&d.join("falco.yaml"), &file);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut got: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    while let Ok((subject, payload)) = rx.recv_timeout(Duration::from_secs(2)) {
        got.entry(subject).or_default().push(payload);
    }
    let count = |s: &str| got.get(s).map_or(0, Vec::len);
    assert_eq!(
        (
            count("falco.alerts.default"),
            count("falco.alerts.web"),
            count("falco.alerts.hosts")
        ),
        (9, 2, 7),
        "{got:?}"
    );
    // the tenants' JSON, with each alert where its scope says
    for p in &got["falco.alerts.web"] {
        let a: serde_json::Value = serde_json::from_str(p).expect("JSON");
        assert_eq!(a["output_fields"]["container.id"], "697956520d89", "{p}");
    }
    for p in &got["falco.alerts.hosts"] {
        let a: serde_json::Value = serde_json::from_str(p).expect("JSON");
        assert_eq!(a["output_fields"]["container.id"], "host", "{p}");
    }
}

/// `curl -sk -X METHOD` with a token and a body: (status, body).
fn send(method: &str, url: &str, token: &str, body: Option<&str>) -> (u16, String) {
    let mut c = Command::new("curl");
    c.args([
        "-sk",
        "--max-time",
        "60",
        "-X",
        method,
        "-w",
        "\n%{http_code}",
    ])
    .args(["-H", &format!("Authorization: Bearer {token}")]);
    if let Some(b) = body {
        c.args(["--data-binary", b]);
    }
    let out = c.arg(url).output().expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

#[test]
fn tenants_changed_through_the_api_under_a_steady_stream() {
    skip_unless_live!();
    let dir = scratch("api");
    let d = &dir.0;
    let marker = d.join("steady-marker");
    let rule = |name: &str| {
        format!(
            "- rule: {name}\n  desc: t\n  condition: evt.type in (open, openat) and fd.name = \
             {}\n  output: \"{name} %fd.name\"\n  priority: NOTICE\n",
            marker.display()
        )
    };
    std::fs::write(d.join("steady.yaml"), rule("Steady open")).unwrap();
    let hash = falco_wasm::server::api::token_hash;
    let port = free_port();
    let config = format!(
        "rules_files: [{steady}]\nstdout_output: {{enabled: false}}\n\
         syslog_output: {{enabled: false}}\nwatch_config_files: false\n\
         webserver: {{enabled: true, listen_address: 127.0.0.1, listen_port: {port}, \
         ssl_enabled: true, ssl_certificate: {pem}, admin_token_sha256: {admin}}}\n\
         tenants_dir: {tdir}\ntenants:\n{}    token_sha256: {}\n",
        tenant_on(d, "steady", "steady.yaml"),
        hash("token-s"),
        steady = d.join("steady.yaml").display(),
        pem = certificate(d).display(),
        admin = hash("admin-token"),
        tdir = d.join("tenants.d").display(),
    );
    std::fs::write(d.join("falco.yaml"), config).unwrap();
    let log = d.join("engine.log");
    let engine = Engine::start(&d.join("falco.yaml"), &log, Duration::from_secs(60));
    let api = |path: &str| format!("https://127.0.0.1:{port}/api/v1/tenants{path}");
    // a steady stream of opens while a tenant comes, changes and goes
    let stream = Steady::start(&marker);
    let out_file = d.join("api-team.txt");
    let entry = format!(
        "scope: {{host: true}}\ntoken_sha256: {}\nfile_output: {{enabled: true, filename: {}}}\n",
        hash("token-t"),
        out_file.display()
    );
    // only the admin adds a tenant
    assert_eq!(
        send("PUT", &api("/api-team"), "token-s", Some(&entry)).0,
        403
    );
    // `falco-wasm tenants add|remove` speak the same API
    let cli = |args: &[&str], token: &str| {
        let o = Command::new(env!("CARGO_BIN_EXE_falco-wasm"))
            .arg("tenants")
            .args(args)
            .args(["--insecure", "--url", &format!("https://127.0.0.1:{port}")])
            .env("FALCO_WASM_TOKEN", token)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        (o.status.success(), text)
    };
    let entry_file = d.join("api-team.entry.yaml");
    std::fs::write(&entry_file, &entry).unwrap();
    let (ok, said) = cli(
        &["add", "api-team", "--entry", entry_file.to_str().unwrap()],
        "admin-token",
    );
    assert!(ok && said.contains("(201)"), "{said}");
    // the tenant itself sets its rules; another tenant may not
    let rules = rule("Team open");
    assert_eq!(
        send("PUT", &api("/api-team/rules"), "token-s", Some(&rules)).0,
        403
    );
    let (code, said) = send("PUT", &api("/api-team/rules"), "token-t", Some(&rules));
    assert_eq!(code, 200, "{said}");
    wait_for(
        "the new tenant's alerts",
        &log,
        Duration::from_secs(10),
        || !alert_lines(&read(&out_file)).is_empty(),
    );
    // broken rules are refused with their place; the tenant keeps its rules
    let (code, said) = send(
        "PUT",
        &api("/api-team/rules"),
        "token-t",
        Some("- rule: broken\n  condition: (\n"),
    );
    assert_eq!(code, 400, "{said}");
    assert!(said.contains("api-team.rules.yaml:"), "{said}");
    let before = alert_lines(&read(&out_file)).len();
    wait_for(
        "its previous rules still alerting",
        &log,
        Duration::from_secs(10),
        || alert_lines(&read(&out_file)).len() > before,
    );
    // names that are not tenants' are refused before anything is written
    assert_eq!(
        send("PUT", &api("/x.rules"), "admin-token", Some(&entry)).0,
        400
    );
    assert_eq!(
        send("PUT", &api("/.hidden"), "admin-token", Some(&entry)).0,
        400
    );
    let (code, _) = send(
        "PUT",
        &format!("https://127.0.0.1:{port}/api/v1/tenantsX"),
        "admin-token",
        Some(&entry),
    );
    assert_eq!(code, 405, "not the API's path");
    // a tenant whose outputs cannot start is refused, and not added
    let bad = "scope: {host: true}\nnats_output: {enabled: true, url: 'nats://h:99999'}\n";
    let (code, said) = send("PUT", &api("/bad-outputs"), "admin-token", Some(bad));
    assert!(
        code == 400 && said.contains("not a port number"),
        "{code} {said}"
    );
    assert_eq!(status(&api("/bad-outputs"), Some("admin-token")), 404);
    assert!(
        !d.join("tenants.d/bad-outputs.yaml").exists(),
        "its file is put back"
    );
    // a tenant whose entry names its rules files takes no rules upload
    let fixed = format!(
        "scope: {{host: true}}\nrules_files: [{}]\n",
        d.join("steady.yaml").display()
    );
    assert_eq!(
        send("PUT", &api("/fixed"), "admin-token", Some(&fixed)).0,
        201
    );
    assert_eq!(
        send("PUT", &api("/fixed/rules"), "admin-token", Some(&rules)).0,
        409
    );
    assert_eq!(send("DELETE", &api("/fixed"), "admin-token", None).0, 200);
    // a tenant of the configuration file is changed there
    let (code, said) = send("PUT", &api("/steady"), "admin-token", Some(&entry));
    assert_eq!(code, 409, "{said}");
    assert_eq!(send("DELETE", &api("/api-team"), "token-t", None).0, 403);
    // disabled: kept, not run (its token opens nothing meanwhile)
    let disabled = format!("{entry}enabled: false\n");
    let (code, said) = send("PUT", &api("/api-team"), "admin-token", Some(&disabled));
    assert_eq!(code, 200, "{said}");
    let stopped_at = alert_lines(&read(&out_file)).len();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        alert_lines(&read(&out_file)).len(),
        stopped_at,
        "a disabled tenant runs nothing"
    );
    assert_eq!(status(&api("/api-team"), Some("admin-token")), 404);
    assert_eq!(status(&api("/api-team"), Some("token-t")), 401);
    let (ok, said) = cli(&["remove", "api-team"], "admin-token");
    assert!(ok && said.contains("removed (200)"), "{said}");
    let (ok, said) = cli(&["remove", "api-team"], "admin-token");
    assert!(!ok && said.contains(": 404"), "{said}");
    assert_eq!(status(&api("/api-team"), Some("admin-token")), 404);
    std::thread::sleep(Duration::from_millis(300));
    let opens = stream.finish();
    let steady = d.join("steady.txt");
    expect_alerts(&steady, opens, "no event of the steady tenant lost", &log);
    let team = alert_lines(&read(&out_file)).len();
    assert!(team > 0 && team < opens, "api-team: {team} of {opens}");
    eprintln!("{opens} opens; the API's tenant saw {team}");
    drop(engine);
}

/// Opens of a marker file, steadily, until finished.
struct Steady {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<usize>,
}

impl Steady {
    /// About 2,000 opens of `marker` a second.
    fn start(marker: &Path) -> Steady {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (m, st) = (marker.to_path_buf(), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            let mut n = 0;
            while !st.load(std::sync::atomic::Ordering::Relaxed) {
                drop(std::fs::File::create(&m).unwrap());
                n += 1;
                if n % 20 == 0 {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
            n
        });
        Steady { stop, thread }
    }

    /// Stops; the opens made.
    fn finish(self) -> usize {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().unwrap()
    }
}

/// Waits until `file` has `n` alerts and checks it gets no more.
fn expect_alerts(file: &Path, n: usize, what: &str, log: &Path) {
    wait_for(what, log, Duration::from_secs(30), || {
        alert_lines(&read(file)).len() >= n
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(alert_lines(&read(file)).len(), n, "{what}");
}

/// The configuration of the plugin tenants test: a top level reading
/// CloudTrail, and the tenants `audit`, `cloud`, `looper` and `endless`.
fn plugin_tenants_config(d: &Path, root: &Path, ka_data: &Path) -> String {
    let ct_data = root.join("host/tests/data/cloudtrail");
    let (ct, ka, json) = (
        common::plugin("cloudtrail"),
        common::plugin("k8saudit"),
        common::plugin("json"),
    );
    let hostile = common::component("falco-wasm-hostile-plugin", "hostile_plugin");
    std::fs::write(
        d.join("hostile.yaml"),
        "- rule: Hostile event\n  desc: t\n  condition: hostile.msg exists\n  output: \
         \"hostile %hostile.msg\"\n  priority: WARNING\n  source: hostile\n",
    )
    .unwrap();
    let out = |name: &str| d.join(format!("{name}.txt"));
    let cloudtrail = |name: &str| {
        format!(
            "{{name: {name}, library_path: {}, open_params: {ct_data}, grants: {{read_dirs: \
             [{ct_data}]}}}}",
            ct.display(),
            ct_data = ct_data.display()
        )
    };
    let json_entry = format!("{{name: json, library_path: {}}}", json.display());
    let config = format!(
        "json_output: true\nrule_matching: all\nstdout_output: {{enabled: false}}\n\
         syslog_output: {{enabled: false}}\nwebserver: {{enabled: false}}\n\
         rules_files: [{root}/rules/aws_cloudtrail_rules.yaml]\n\
         file_output: {{enabled: true, filename: {top}}}\n\
         load_plugins: [cloudtrail, json]\nplugins: [{ct_top}, {json_entry}]\n\
         tenants:\n\
         \x20 - name: audit\n    rule_matching: all\n    json_output: true\n    \
         rules_files: [{root}/rules/k8s_audit_rules.yaml]\n    \
         file_output: {{enabled: true, filename: {audit}}}\n    \
         load_plugins: [k8saudit, json]\n    plugins:\n      - {{name: k8saudit, \
         library_path: {ka}, open_params: {ka_data}, grants: {{read_dirs: [{ka_data}]}}}}\n      \
         - {json_entry}\n\
         \x20 - name: cloud\n    rule_matching: all\n    json_output: true\n    \
         rules_files: [{root}/rules/aws_cloudtrail_rules.yaml]\n    \
         file_output: {{enabled: true, filename: {cloud}}}\n    \
         limits: {{alert_rate: 0.001, alert_burst: 3}}\n    \
         load_plugins: [cloudtrail, json]\n    plugins: [{ct_cloud}, {json_entry}]\n\
         \x20 - name: looper\n    json_output: true\n    rules_files: [{hostile_rules}]\n    \
         file_output: {{enabled: true, filename: {looper}}}\n    \
         limits: {{cpu_budget_ms: 100}}\n    load_plugins: [hostile]\n    plugins:\n      \
         - {{name: hostile, library_path: {hostile}, init_config: {{mode: loop}}, \
         limits: {{call_timeout_ms: 200}}, restart: {{max_restarts: 2, backoff_ms: 50}}}}\n\
         \x20 - name: endless\n    rules_files: [{hostile_rules}]\n    \
         load_plugins: [hostile]\n    plugins:\n      \
         - {{name: hostile, library_path: {hostile}, init_config: {{mode: noeof}}}}\n",
        root = root.display(),
        top = out("top").display(),
        audit = out("audit").display(),
        cloud = out("cloud").display(),
        looper = out("looper").display(),
        ct_top = cloudtrail("cloudtrail"),
        ct_cloud = cloudtrail("cloudtrail"),
        ka = ka.display(),
        ka_data = ka_data.display(),
        hostile = hostile.display(),
        hostile_rules = d.join("hostile.yaml").display(),
    );
    config
}

/// Runs the engine with `config` to its end (60 s at most); its log.
fn run_to_its_end(config: &Path, log: &Path) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_falco-wasm"))
        .args(["run", "-c"])
        .arg(config)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("still running after 60 s:\n{}", read(log));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let said = read(log);
    assert!(status.success(), "{said}");
    said
}

/// `-V` and `test` with `--tenant` see that tenant's plugins' fields (the
/// configuration of [`plugin_tenants_config`] in `d`).
fn tenant_cli_sees_its_plugins(d: &Path) {
    let cli = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_falco-wasm"))
            .args(args)
            .output()
            .unwrap()
    };
    let (config, rules) = (d.join("falco.yaml"), d.join("hostile.yaml"));
    let (config, rules) = (config.to_str().unwrap(), rules.to_str().unwrap());
    let v = cli(&["-c", config, "--tenant", "looper", "-V", rules]);
    let text = |o: &std::process::Output| {
        String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr)
    };
    assert!(v.status.success(), "{}", text(&v));
    // (json_output: the JSON form of the results)
    assert!(
        text(&v).contains("\"successful\":true,\"warnings\":[]"),
        "{}",
        text(&v)
    );
    // the top level loads no hostile plugin: its source is unknown there
    let top = cli(&["-c", config, "-V", rules]);
    assert!(
        text(&top).contains("Unknown source hostile"),
        "{}",
        text(&top)
    );
    std::fs::write(
        d.join("cases.yaml"),
        "- case: a message\n  source: hostile\n  fields: {hostile.msg: hi}\n  \
         expect: [Hostile event]\n",
    )
    .unwrap();
    let cases = d.join("cases.yaml");
    let t = cli(&[
        "test",
        rules,
        "--fixtures",
        cases.to_str().unwrap(),
        "-c",
        config,
        "--tenant",
        "looper",
    ]);
    assert!(t.status.success(), "{t:?}");
    let nobody = cli(&["-c", config, "--tenant", "nobody", "-V", rules]);
    let err = String::from_utf8_lossy(&nobody.stderr);
    assert!(err.contains("no tenant 'nobody'"), "{err}");
}

/// The JSON alerts of an output file.
fn json_alerts(p: &Path) -> Vec<serde_json::Value> {
    read(p)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Tenants with plugins of their own, beside the top level's: each
/// tenant's plugin sources feed its rules only, its alerts go to its
/// outputs within its alert rate, and a looping plugin of one tenant is
/// that tenant's failure (its outputs, its restarts), while the others
/// get every alert. Plugin sources only: no root needed.
#[test]
fn tenants_plugins_are_their_own_and_a_looping_one_harms_no_other() {
    let dir = scratch("plugins");
    let d = &dir.0;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let root = root.canonicalize().unwrap();
    let ka_data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/k8saudit");
    if !ka_data.is_dir() {
        eprintln!("SKIPPED: ../shared/data/k8saudit is not there");
        return;
    }
    let ka_data = ka_data.canonicalize().unwrap();
    let out = |name: &str| d.join(format!("{name}.txt"));
    let config = plugin_tenants_config(d, &root, &ka_data);
    std::fs::write(d.join("falco.yaml"), &config).unwrap();
    // the run ends with the top level's sources, though `endless` never
    // would
    let said = run_to_its_end(&d.join("falco.yaml"), &d.join("engine.log"));
    let rules_of = |v: &[serde_json::Value]| -> Vec<String> {
        v.iter()
            .map(|a| a["rule"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    // the top level: its own CloudTrail events, every alert, nothing else
    let top = json_alerts(&out("top"));
    assert_eq!(top.len(), 10, "{top:?}\n{said}");
    assert!(
        top.iter().all(|a| a["source"] == "aws_cloudtrail"),
        "{top:?}"
    );
    // the audit tenant: the audit events of its own plugin, each alert
    let audit = json_alerts(&out("audit"));
    assert_eq!(audit.len(), 30, "{:?}\n{said}", rules_of(&audit));
    assert!(
        audit.iter().all(|a| a["source"] == "k8s_audit"),
        "{audit:?}"
    );
    // the cloud tenant: its own instances of the top level's plugins,
    // three alerts through its rate, the other seven reported
    let cloud = json_alerts(&out("cloud"));
    let (delivered, reports): (Vec<_>, Vec<_>) =
        cloud.iter().partition(|a| a["source"] == "aws_cloudtrail");
    assert_eq!(delivered.len(), 3, "{cloud:?}\n{said}");
    assert_eq!(reports.len(), 1, "{cloud:?}");
    assert_eq!(reports[0]["rule"], "Falco internal: alerts suppressed");
    assert_eq!(reports[0]["output_fields"]["n_suppressed"], 7, "{cloud:?}");
    // the looper: its plugin's faults on its own outputs, named as its
    let looper = json_alerts(&out("looper"));
    let failures: Vec<_> = looper
        .iter()
        .filter(|a| a["rule"] == "Falco internal: plugin failure")
        .collect();
    // (the run ends with the top level's source: the looper may not get
    // through all of its restarts by then)
    assert!(!failures.is_empty(), "{looper:?}\n{said}");
    assert!(
        failures
            .iter()
            .all(|a| a["output_fields"]["plugin"] == "looper/hostile"),
        "{looper:?}"
    );
    assert!(
        said.contains("plugin looper/hostile: fault (instance disabled)"),
        "{said}"
    );
    for other in [&top, &audit, &cloud] {
        assert!(
            !other
                .iter()
                .any(|a| a["rule"] == "Falco internal: plugin failure"),
            "another's outputs got the looper's failure: {other:?}"
        );
    }
    // its plugins' own messages carry the tenant's name too
    assert!(said.contains("plugin cloud/cloudtrail: "), "{said}");
    assert!(said.contains("Tenants: 4"), "{said}");
    tenant_cli_sees_its_plugins(d);
    assert!(
        said.contains(
            "cloud: 12 event(s) evaluated, 0 shed over its CPU budget, 3 alert(s), 7 suppressed"
        ),
        "{said}"
    );
}

/// A tenant's running plugin source takes the tenant's new rules between
/// two batches (the source stays open: its webhook keeps its port); new
/// plugin settings end it and open a new one on the same port; removing
/// the tenant ends it. No root needed.
#[test]
fn a_tenants_plugin_source_follows_its_reloads() {
    let dir = scratch("plugin-reload");
    let d = &dir.0;
    let Some(body) = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/data/k8saudit/create_configmap.json"),
    )
    .ok() else {
        eprintln!("SKIPPED: ../shared/data/k8saudit is not there");
        return;
    };
    let (ka, json) = (common::plugin("k8saudit"), common::plugin("json"));
    let hostile = common::component("falco-wasm-hostile-plugin", "hostile_plugin");
    let rule = |name: &str| {
        format!(
            "- rule: {name}\n  desc: t\n  condition: ka.verb exists\n  output: \"{name} \
             %ka.verb\"\n  priority: NOTICE\n  source: k8s_audit\n"
        )
    };
    std::fs::write(d.join("hooks.yaml"), rule("Audit A")).unwrap();
    std::fs::write(
        d.join("idle.yaml"),
        "- rule: Idle\n  desc: t\n  condition: hostile.msg exists\n  output: i\n  \
         priority: DEBUG\n  source: hostile\n",
    )
    .unwrap();
    let port = free_port();
    let out = d.join("hooks.txt");
    // the top level reads a source that never ends and never produces
    let write_config = |tenant: &str| {
        let config = format!(
            "json_output: true\nstdout_output: {{enabled: false}}\n\
             syslog_output: {{enabled: false}}\nwebserver: {{enabled: false}}\n\
             watch_config_files: false\nrules_files: [{idle}]\nload_plugins: [hostile]\n\
             plugins: [{{name: hostile, library_path: {hostile}, init_config: {{mode: noeof}}}}]\n\
             tenants:\n{tenant}",
            idle = d.join("idle.yaml").display(),
            hostile = hostile.display(),
        );
        std::fs::write(d.join("falco.yaml"), config).unwrap();
    };
    let hooks = |extra: &str| {
        format!(
            "  - name: hooks\n    json_output: true\n    rules_files: [{rules}]\n    \
             file_output: {{enabled: true, filename: {out}}}\n    load_plugins: [k8saudit, json]\n    \
             plugins:\n      - {{name: k8saudit, library_path: {ka}, \
             open_params: '{url}', grants: {{webhook: '{url}'}}{extra}}}\n      \
             - {{name: json, library_path: {json}}}\n",
            rules = d.join("hooks.yaml").display(),
            out = out.display(),
            ka = ka.display(),
            json = json.display(),
            url = format!("http://127.0.0.1:{port}/k8s-audit"),
        )
    };
    write_config(&hooks(""));
    let log = d.join("engine.log");
    let engine = Engine::spawn(&d.join("falco.yaml"), &log);
    let opened = || read(&log).matches("Opened source 'k8s_audit'").count();
    let rules = || -> Vec<String> {
        json_alerts(&out)
            .iter()
            .map(|a| a["rule"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let pid = engine.0.id().to_string();
    let reload = |what: &str, done: &dyn Fn() -> bool| {
        let st = Command::new("kill").args(["-HUP", &pid]).status().unwrap();
        assert!(st.success());
        wait_for(what, &log, Duration::from_secs(30), done);
    };
    let post = |n: usize| {
        assert_eq!(common::post_audit(port, &body), 200, "{}", read(&log));
        wait_for("the alert", &log, Duration::from_secs(30), || {
            rules().len() == n
        });
    };
    post(1);
    assert_eq!(rules(), ["Audit A"]);
    // new rules: the same source, open since the start, takes them
    std::fs::write(d.join("hooks.yaml"), rule("Audit B")).unwrap();
    let reloads = || read(&log).matches("Reloaded configuration").count();
    reload("the new rules", &|| reloads() == 1);
    post(2);
    assert_eq!(rules(), ["Audit A", "Audit B"]);
    assert_eq!(
        opened(),
        1,
        "the source was not opened again:\n{}",
        read(&log)
    );
    // new plugin settings: the source ends and a new one opens on the port
    write_config(&hooks(", limits: {max_batch_events: 64}"));
    reload("the plugin restarted", &|| opened() == 2);
    post(3);
    assert_eq!(rules(), ["Audit A", "Audit B", "Audit B"]);
    // the tenant removed: its source ends, its port closes
    write_config("");
    reload("the tenant removed", &|| {
        read(&log).contains("Tenant 'hooks' removed")
    });
    let refused = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
    });
    assert!(refused, "the webhook still listens:\n{}", read(&log));
    assert_eq!(rules().len(), 3);
    drop(engine);
}

/// Where the cgroup2 file system is mounted here, if it is.
fn cgroup2_mount() -> Option<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    text.lines().find_map(|l| {
        let (head, tail) = l.split_once(" - ")?;
        (tail.split_whitespace().next()? == "cgroup2")
            .then(|| head.split_whitespace().nth(4).map(PathBuf::from))
            .flatten()
    })
}

/// A tenant scoped by cgroup prefix gets the events of the processes in
/// that cgroup (and below) only: a process moved into a new cgroup, then
/// exec'd, is in scope; the same program outside it is not.
#[test]
fn a_tenant_scoped_by_cgroup_gets_that_cgroups_processes_only() {
    skip_unless_live!();
    let Some(mount) = cgroup2_mount() else {
        eprintln!("SKIPPED: no cgroup2 file system is mounted here");
        return;
    };
    let dir = scratch("cgroup");
    let d = &dir.0;
    let name = format!("fw-tenant-test-{}", std::process::id());
    let cgroup = mount.join(&name);
    if let Err(e) = std::fs::create_dir(&cgroup) {
        eprintln!(
            "SKIPPED: cannot create a cgroup in {}: {e}",
            mount.display()
        );
        return;
    }
    struct Remove(PathBuf);
    impl Drop for Remove {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir(&self.0);
        }
    }
    let _cgroup = Remove(cgroup.clone());
    let marker = d.join("marker");
    std::fs::write(&marker, "x").unwrap();
    std::fs::write(
        d.join("rules.yaml"),
        format!(
            "- rule: Marker read\n  desc: t\n  condition: evt.type in (open, openat) and \
             fd.name = {}\n  output: \"read by %proc.name %proc.args\"\n  priority: NOTICE\n",
            marker.display()
        ),
    )
    .unwrap();
    let config = format!(
        "rules_files: [{rules}]\nstdout_output: {{enabled: false}}\n\
         syslog_output: {{enabled: false}}\nwebserver: {{enabled: false}}\ntenants:\n\
         \x20 - name: svc\n    scope: {{cgroup_prefixes: [/{name}/]}}\n    rules_files: [{rules}]\n    \
         file_output: {{enabled: true, filename: {out}}}\n",
        rules = d.join("rules.yaml").display(),
        out = d.join("svc.txt").display(),
    );
    std::fs::write(d.join("falco.yaml"), config).unwrap();
    let log = d.join("engine.log");
    let engine = Engine::start(&d.join("falco.yaml"), &log, Duration::from_secs(60));
    let run = |script: &str| {
        let st = Command::new("sh").args(["-c", script]).status().unwrap();
        assert!(st.success(), "{script}");
    };
    let m = marker.display();
    // the same file read by cat outside, by head inside
    run(&format!("exec cat {m} >/dev/null"));
    run(&format!(
        "echo $$ > {}/cgroup.procs && exec head -c 1 {m} >/dev/null",
        cgroup.display()
    ));
    let out = d.join("svc.txt");
    wait_for("the in-cgroup read", &log, Duration::from_secs(20), || {
        read(&out).contains("read by head")
    });
    std::thread::sleep(Duration::from_millis(500));
    let lines = alert_lines(&read(&out));
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("read by head -c 1"), "{lines:?}");
    drop(engine);
}

/// A hundred tenants with two plugins each start, and reload (which holds
/// the old and the new instances of every tenant's plugins at once)
/// without running out of plugin instances. No root needed.
#[test]
fn a_hundred_tenants_with_plugins_start_and_reload() {
    let dir = scratch("hundred");
    let d = &dir.0;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let root = root.canonicalize().unwrap();
    let ct_data = root.join("host/tests/data/cloudtrail");
    let (ct, json) = (common::plugin("cloudtrail"), common::plugin("json"));
    let hostile = common::component("falco-wasm-hostile-plugin", "hostile_plugin");
    std::fs::write(
        d.join("idle.yaml"),
        "- rule: Idle\n  desc: t\n  condition: hostile.msg exists\n  output: i\n  \
         priority: DEBUG\n  source: hostile\n",
    )
    .unwrap();
    let mut config = format!(
        "webserver: {{enabled: false}}\nstdout_output: {{enabled: false}}\n\
         syslog_output: {{enabled: false}}\nwatch_config_files: false\n\
         rules_files: [{idle}]\nload_plugins: [hostile]\n\
         plugins: [{{name: hostile, library_path: {h}, init_config: {{mode: noeof}}}}]\n\
         tenants:\n",
        idle = d.join("idle.yaml").display(),
        h = hostile.display(),
    );
    for i in 0..100 {
        config.push_str(&format!(
            "  - name: t{i}\n    rules_files: [{rules}]\n    load_plugins: [cloudtrail, json]\n    \
             plugins: [{{name: cloudtrail, library_path: {ct}, open_params: {data}, \
             grants: {{read_dirs: [{data}]}}}}, {{name: json, library_path: {json}}}]\n",
            rules = root.join("rules/aws_cloudtrail_rules.yaml").display(),
            ct = ct.display(),
            json = json.display(),
            data = ct_data.display(),
        ));
    }
    std::fs::write(d.join("falco.yaml"), config).unwrap();
    let log = d.join("engine.log");
    let engine = Engine::spawn(&d.join("falco.yaml"), &log);
    let opened = || read(&log).matches("Opened source 'aws_cloudtrail'").count();
    wait_for(
        "every tenant's source",
        &log,
        Duration::from_secs(120),
        || opened() == 100,
    );
    let st = Command::new("kill")
        .args(["-HUP", &engine.0.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    wait_for("the reload", &log, Duration::from_secs(120), || {
        read(&log).contains("Reloaded configuration")
    });
    let said = read(&log);
    assert!(!said.contains("cannot instantiate"), "{said}");
    assert!(!said.contains("keeps its previous"), "{said}");
    drop(engine);
}
