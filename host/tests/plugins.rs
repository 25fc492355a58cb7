//! Plugins end to end: the real binary with the first-party Wasm plugins
//! (built for wasm32-wasip2 by `cargo xtask test`, or here if missing).

mod common;
use common::{component, plugin, post_audit};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A run of the binary (log to stderr only, no syslog output, no web
/// server) to its end; a run still going after five minutes fails.
fn falco(args: &[&str]) -> Output {
    falco_within(args, std::time::Duration::from_secs(300))
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn cloudtrail_directory_raises_the_expected_alerts() {
    let (ct, json) = (plugin("cloudtrail"), plugin("json"));
    let o = falco(&[
        "run",
        "--plugin",
        ct.to_str().unwrap(),
        "--plugin",
        json.to_str().unwrap(),
        "--plugin-open-params",
        "host/tests/data/cloudtrail",
        "-r",
        "rules/aws_cloudtrail_rules.yaml",
        "-o",
        "json_output=true",
        "-o",
        "rule_matching=all",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let mut got: Vec<(String, String)> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            assert_eq!(v["source"], "aws_cloudtrail", "{l}");
            let f = &v["output_fields"];
            let who = f["ct.name"]
                .as_str()
                .or(f["ct.user"].as_str())
                .unwrap_or_default()
                .to_string();
            (v["rule"].as_str().unwrap().to_string(), who)
        })
        .collect();
    got.sort();
    let mut want: Vec<(String, String)> = [
        ("CloudTrail Logging Disabled", "StopLogging"),
        ("Console Login Without MFA", "alice"),
        ("Create AWS user", "alice"),
        ("Create Access Key for User", "alice"),
        ("Deactivate MFA for Root User", ""),
        ("Deactivate MFA for User", "root"),
        ("Root User Activity", "DeactivateMFADevice"),
        ("Root User Activity", "DescribeInstances"),
        ("Run Instances in Non-approved Region", "alice"),
        ("S3 Bucket Made Public", "PutBucketAcl"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    want.sort();
    assert_eq!(got, want, "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    // The truncated file is reported by name, and the others were read.
    assert!(err.contains("corrupt.json: not valid JSON"), "{}", text(&o));
    assert!(
        err.contains("Events processed: 12, alerts: 10"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_first_party_source_plugin_alone_brings_its_rules_and_companion() {
    // the json plugin is built beside the cloudtrail plugin: found there
    let (ct, _json) = (plugin("cloudtrail"), plugin("json"));
    let o = falco(&[
        "run",
        "--plugin",
        ct.to_str().unwrap(),
        "--plugin-open-params",
        "host/tests/data/cloudtrail",
        "-o",
        "json_output=true",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    for said in [
        "Plugin cloudtrail: loading the plugin its rules need, json (",
        "Plugin cloudtrail: no rules named, loading the default rules it carries (<plugin cloudtrail>/default_rules.yaml)",
    ] {
        assert!(err.contains(said), "{said:?} not said:\n{}", text(&o));
    }
    let rules: std::collections::BTreeSet<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| v["rule"].as_str().unwrap_or_default().to_string())
        .collect();
    for want in [
        "Console Login Without MFA",
        "CloudTrail Logging Disabled",
        "S3 Bucket Made Public",
    ] {
        assert!(
            rules.contains(want),
            "{want} not in {rules:?}\n{}",
            text(&o)
        );
    }
    // rules named: nothing is added
    let o = falco(&[
        "run",
        "--plugin",
        ct.to_str().unwrap(),
        "--plugin-open-params",
        "host/tests/data/cloudtrail",
        "-r",
        "rules/falco_rules.yaml",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("loading the default rules"), "{}", text(&o));
    assert!(
        err.contains("no rules for source 'aws_cloudtrail'"),
        "{}",
        text(&o)
    );
}

#[test]
fn plugin_listing_and_init_config_validation() {
    let ct = plugin("cloudtrail");
    let o = falco(&["--plugin", ct.to_str().unwrap(), "--list-plugins"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("1 Plugins Loaded:"), "{out}");
    assert!(
        out.contains("Event Sourcing (ID=2, source='aws_cloudtrail')"),
        "{out}"
    );
    let o = falco(&[
        "--plugin",
        ct.to_str().unwrap(),
        "--plugin-info",
        "cloudtrail",
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("ct.user ") && out.contains("s3.bucket "),
        "{out}"
    );
    let o = falco(&[
        "--plugin",
        ct.to_str().unwrap(),
        "--list=aws_cloudtrail",
        "-N",
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("ct.name") && out.contains("evt.plugininfo"),
        "{}",
        text(&o)
    );
    // A config key the plugin's schema does not know: a clear error naming it.
    let o = falco(&[
        "--plugin",
        ct.to_str().unwrap(),
        "--plugin-config",
        r#"{"sqsDelete": true, "bogus": 1}"#,
        "--list-plugins",
    ]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("plugin cloudtrail: init_config: unknown key 'bogus'"),
        "{}",
        text(&o)
    );
    // Not a component at all.
    let bogus = std::env::temp_dir().join(format!("fw-not-a-plugin-{}.wasm", std::process::id()));
    std::fs::write(&bogus, b"\0asm garbage").unwrap();
    let o = falco(&["--plugin", bogus.to_str().unwrap(), "--list-plugins"]);
    let _ = std::fs::remove_file(&bogus);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not a valid plugin component"),
        "{}",
        text(&o)
    );
}

/// A falco.yaml that loads cloudtrail + json (reading the test logs) and the
/// hostile plugin in `mode` with tight limits.
fn hostile_config(dir: &Path, mode: &str, extra: &str) -> PathBuf {
    hostile_config_with(dir, mode, extra, "")
}

/// [`hostile_config`] with more YAML for the hostile plugin's entry.
fn hostile_config_with(dir: &Path, mode: &str, extra: &str, entry: &str) -> PathBuf {
    // bigfield needs room and time for its 100 MB value, bigevent time for
    // its 16 MiB event (a loaded machine took over 300 ms): the size limit
    // must trip, not memory or time.
    let (memory, timeout) = match mode {
        "bigfield" => (512, 10_000),
        "bigevent" => (64, 10_000),
        // A loop or a wait its time limit lets run for long (isolation and
        // shutdown tests).
        "slowloop" | "slowsleep" => (64, 60_000),
        _ => (64, 300),
    };
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/cloudtrail");
    let data = data.canonicalize().unwrap();
    let cfg = format!(
        "json_output: true\nrule_matching: all\nstdout_output:\n  enabled: true\nsyslog_output:\n  enabled: false\n\
         load_plugins: [cloudtrail, json, hostile]\nplugins:\n\
         \x20 - name: cloudtrail\n    library_path: {ct}\n    open_params: {data}\n    grants:\n      read_dirs: [{data}]\n\
         \x20 - name: json\n    library_path: {json}\n\
         \x20 - name: hostile\n    library_path: {hostile}\n    init_config: {{\"mode\": \"{mode}\"{extra}}}\n    limits:\n      memory_mb: {memory}\n      call_timeout_ms: {timeout}\n{entry}",
        ct = plugin("cloudtrail").display(),
        json = plugin("json").display(),
        hostile = component("falco-wasm-hostile-plugin", "hostile_plugin").display(),
        data = data.display(),
        memory = memory,
        timeout = timeout,
    );
    let rules = "- rule: Hostile event\n  desc: every event of the hostile source\n  condition: hostile.msg exists\n  output: hostile said %hostile.msg\n  priority: WARNING\n  source: hostile\n";
    std::fs::write(dir.join("hostile_rules.yaml"), rules).unwrap();
    let p = dir.join(format!("falco-{mode}.yaml"));
    std::fs::write(&p, cfg).unwrap();
    p
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fw-plugins-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn hostile_args(dir: &Path, cfg: &Path) -> Vec<String> {
    vec![
        "run".into(),
        "-c".into(),
        cfg.display().to_string(),
        "-r".into(),
        "rules/aws_cloudtrail_rules.yaml".into(),
        "-r".into(),
        dir.join("hostile_rules.yaml").display().to_string(),
    ]
}

/// Rule names of the JSON alerts on stdout.
fn rules_fired(o: &Output) -> Vec<String> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| v["rule"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Each misbehaviour ends in a clear error naming the plugin (and an
/// internal alert), while the cloudtrail plugin in the same engine still
/// produces every one of its alerts.
#[test]
fn hostile_plugins_are_contained_and_the_others_keep_working() {
    let dir = scratch("hostile");
    let cases: &[(&str, &str)] = &[
        ("loop", "next-batch: call exceeded its time limit of 300 ms"),
        (
            "membomb",
            "next-batch: memory limit of 67108864 bytes exceeded (forcing trap when growing memory",
        ),
        ("panic", "the plugin aborted (a panic or `unreachable`)"),
        (
            "bigfield",
            "extract (field value): returned 104857600 bytes, over the limit of 1048576",
        ),
        (
            "toomany",
            "returned 522 events, more than the 512 asked for (malformed answer)",
        ),
        (
            "bigevent",
            "next-batch (event): returned 16777216 bytes, over the limit of 8388608",
        ),
        // Flat answers that do not hold together (written without the SDK).
        (
            "badends",
            "next-batch: end 107 out of order or past the 7 bytes (malformed answer)",
        ),
        (
            "badcells",
            "extract: returned 0 cells for 1 events x 1 fields (malformed answer)",
        ),
        (
            "badtext",
            "extract: string value 0..12 is not within the 7 bytes of text (malformed answer)",
        ),
    ];
    for (mode, want) in cases {
        let cfg = hostile_config(&dir, mode, "");
        let args = hostile_args(&dir, &cfg);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = falco(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{mode}: {}", text(&o));
        assert!(
            err.contains(want),
            "{mode}: expected {want:?}\n{}",
            text(&o)
        );
        assert!(err.contains("plugin hostile"), "{mode}: {}", text(&o));
        let fired = rules_fired(&o);
        let ct = fired
            .iter()
            .filter(|r| !r.starts_with("Falco internal") && *r != "Hostile event")
            .count();
        assert_eq!(ct, 10, "{mode}: cloudtrail alerts\n{}", text(&o));
        assert!(
            fired.iter().any(|r| r == "Falco internal: plugin failure"),
            "{mode}: no internal alert\n{}",
            text(&o)
        );
    }
}

/// Reading outside the grant and connecting out both fail inside the
/// sandbox; the plugin reports what it got as an event.
#[test]
fn hostile_plugin_cannot_read_outside_its_grant_or_connect() {
    let dir = scratch("capabilities");
    let cfg = hostile_config(&dir, "shadow", "");
    let args = hostile_args(&dir, &cfg);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = falco(&args);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        out.contains("hostile said read /etc/shadow: Err("),
        "{}",
        text(&o)
    );
    assert!(!out.contains("root:"), "{}", text(&o));

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let cfg = hostile_config(&dir, "connect", &format!(", \"port\": {port}"));
    let args = hostile_args(&dir, &cfg);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = falco(&args);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        out.contains(&format!("hostile said connect 127.0.0.1:{port}: Err(")),
        "{}",
        text(&o)
    );
    assert!(
        listener.accept().is_err(),
        "the plugin reached the listener"
    );
}

/// A source that never ends does not hold the others up, and SIGTERM
/// stops the run cleanly.
#[test]
fn never_ending_plugin_source_stops_on_sigterm() {
    let dir = scratch("noeof");
    let cfg = hostile_config(&dir, "noeof", "");
    let metrics_port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_falco-wasm"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .args(hostile_args(&dir, &cfg))
        .args([
            "-o",
            "log_syslog=false",
            "-o",
            "webserver.prometheus_metrics_enabled=true",
        ])
        .args(["-o", "webserver.listen_address=127.0.0.1"])
        .args(["-o", &format!("webserver.listen_port={metrics_port}")])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The cloudtrail alerts arrive although the hostile source never ends.
    read_lines(&mut child, 10);
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run ended by itself"
    );
    // /metrics: events per source and the plugins' own metrics (read every second).
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let metrics = http_get(metrics_port, "/metrics");
    for want in [
        r#"falcosecurity_falco_events_processed_total{source="aws_cloudtrail"} 12"#,
        r#"falcosecurity_plugin_metric{plugin="cloudtrail",name="records_read"} 12"#,
        r#"falcosecurity_plugin_metric{plugin="cloudtrail",name="unreadable_files"} 1"#,
    ] {
        assert!(metrics.contains(want), "{want}\n{metrics}");
    }
    let versions = http_get(metrics_port, "/versions");
    assert!(versions.contains(r#""cloudtrail":"0.17.0""#), "{versions}");
    assert!(versions.contains(r#""container":"#), "{versions}");
    assert!(
        versions.contains(r#""plugin_contract_version":"0.3.0""#),
        "{versions}"
    );
    sigterm(&child);
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("Events processed: 12"),
        "{}",
        text(&o)
    );
}

/// `../shared/data/k8saudit` (real audit events from Falco's tests), if present.
fn shared_k8saudit() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/k8saudit");
    d.is_dir().then(|| d.canonicalize().unwrap())
}

fn rule_counts(o: &Output) -> std::collections::BTreeMap<String, usize> {
    let mut m = std::collections::BTreeMap::new();
    for r in rules_fired(o) {
        *m.entry(r).or_insert(0) += 1;
    }
    m
}

#[test]
fn k8saudit_files_raise_the_expected_alerts() {
    let Some(data) = shared_k8saudit() else {
        eprintln!("SKIPPED: ../shared/data/k8saudit is not there");
        return;
    };
    let (ka, json) = (plugin("k8saudit"), plugin("json"));
    let o = falco(&[
        "run",
        "--plugin",
        ka.to_str().unwrap(),
        "--plugin",
        json.to_str().unwrap(),
        "--plugin-open-params",
        data.to_str().unwrap(),
        "-r",
        "rules/k8s_audit_rules.yaml",
        "-o",
        "json_output=true",
        "-o",
        "rule_matching=all",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let want: std::collections::BTreeMap<String, usize> = [
        ("Anonymous Request Allowed", 1),
        ("Attach to cluster-admin Role", 1),
        ("Attach/Exec Pod", 2),
        ("ClusterRole With Pod Exec Created", 1),
        ("ClusterRole With Wildcard Created", 2),
        ("ClusterRole With Write Privileges Created", 1),
        ("Create Disallowed Namespace", 3),
        ("Create HostNetwork Pod", 1),
        ("Create NodePort Service", 1),
        ("Create Privileged Pod", 3),
        ("Create Sensitive Mount Pod", 2),
        ("Create/Modify Configmap With Private Credentials", 6),
        ("Pod Created in Kube Namespace", 2),
        ("Service Account Created in Kube Namespace", 2),
        ("System ClusterRole Modified/Deleted", 2),
    ]
    .iter()
    .map(|(r, n)| (r.to_string(), *n))
    .collect();
    assert_eq!(rule_counts(&o), want, "{}", text(&o));
    // The one malformed file is reported by name.
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("fal_01_003.json: not a Kubernetes audit Event or EventList"),
        "{}",
        text(&o)
    );
}

/// The audit webhook: served by the host on the open params' address,
/// bodies (an Event and an EventList) reach the plugin and raise alerts.
#[test]
fn k8saudit_webhook_delivers_posted_events() {
    let Some(data) = shared_k8saudit() else {
        eprintln!("SKIPPED: ../shared/data/k8saudit is not there");
        return;
    };
    let port = free_port();
    let (ka, json) = (plugin("k8saudit"), plugin("json"));
    let url = format!("http://127.0.0.1:{port}/k8s-audit");
    let mut child = webhook_run(&url, &[ka, json], Path::new("rules/k8s_audit_rules.yaml"));
    let post = |body: &str| post_audit(port, body);
    let exec = std::fs::read_to_string(data.join("exec_pod.json")).unwrap();
    let privileged =
        std::fs::read_to_string(data.join("create_nginx_pod_privileged.json")).unwrap();
    assert_eq!(post(exec.trim()), 200);
    let list = format!(
        r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{}]}}"#,
        privileged.trim()
    );
    assert_eq!(post(&list), 200);
    // Both alerts arrive while the run goes on.
    let lines = read_lines(&mut child, 2);
    sigterm(&child);
    let o = child.wait_with_output().unwrap();
    let out = lines.join("\n");
    assert!(o.status.success(), "{}", text(&o));
    assert!(out.contains(r#""rule":"Attach/Exec Pod""#), "{out}");
    assert!(out.contains(r#""rule":"Create Privileged Pod""#), "{out}");
    assert!(out.contains(r#""source":"k8s_audit""#), "{out}");
}

/// A plugin run reloads its rules when a rules file changes (and on
/// SIGHUP): the new rules apply to the next events, a rules file that does
/// not load is rejected with an internal alert and the previous rules keep
/// running. The source (a webhook) is not interrupted.
#[test]
fn plugin_run_reloads_its_rules() {
    use std::time::{Duration, Instant};
    let dir = scratch("reload");
    let rules = dir.join("rules.yaml");
    let rule = |name: &str| {
        format!(
            "- rule: {name}\n  desc: test\n  condition: ka.user.name = \"alice\"\n  output: seen %ka.user.name\n  priority: NOTICE\n  source: k8s_audit\n"
        )
    };
    std::fs::write(&rules, rule("First rules")).unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/k8s-audit");
    let mut child = webhook_run(&url, &[plugin("k8saudit")], &rules);
    let lines = common::stdout_lines(&mut child);
    let event = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"a1","stage":"ResponseComplete","verb":"get","requestURI":"/api/v1/pods","user":{"username":"alice"},"objectRef":{"resource":"pods","namespace":"default"},"stageTimestamp":"2024-03-01T00:00:00.000000Z"}"#;
    let post = || assert_eq!(post_audit(port, event), 200);
    let next_line = |what: &str| {
        lines
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|e| panic!("no alert ({what}): {e:?}"))
    };
    // Posts events until one raises `want` (a reload takes up to a second
    // or two to be noticed); the lines seen on the way are returned.
    let until = |want: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut seen = Vec::new();
        loop {
            post();
            let l = next_line(want);
            let hit = l.contains(want);
            seen.push(l);
            if hit {
                return seen;
            }
            assert!(Instant::now() < deadline, "never saw {want}: {seen:#?}");
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    until(r#""rule":"First rules""#);
    // A changed rules file is picked up by the watch.
    std::fs::write(&rules, rule("Second rules after the reload")).unwrap();
    let seen = until(r#""rule":"Second rules after the reload""#);
    assert!(
        seen.iter()
            .all(|l| l.contains("First rules") || l.contains("Second rules")),
        "{seen:#?}"
    );
    // Rules that do not load: rejected, the second rules keep running. (The
    // broken file has the size of the third version, for the SIGHUP step.)
    let third = rule("Third rules via SIGHUP");
    let broken = format!("- rule: [broken\n#{}\n", "x".repeat(third.len() - 18));
    assert_eq!(broken.len(), third.len());
    std::fs::write(&rules, &broken).unwrap();
    let alert = next_line("hot restart failure");
    assert!(
        alert.contains("Falco internal: hot restart failure"),
        "{alert}"
    );
    post();
    assert!(next_line("after the rejection").contains("Second rules after the reload"));
    // SIGHUP reloads too: the third version looks unchanged to the watch
    // (same size and time as the broken one).
    let mtime = std::fs::metadata(&rules).unwrap().modified().unwrap();
    std::fs::write(&rules, &third).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&rules)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    post();
    assert!(
        next_line("before SIGHUP").contains("Second rules after the reload"),
        "the watch should not have seen the third version"
    );
    rustix::process::kill_process(
        rustix::process::Pid::from_child(&child),
        rustix::process::Signal::HUP,
    )
    .unwrap();
    until(r#""rule":"Third rules via SIGHUP""#);
    sigterm(&child);
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("Reloaded configuration and rules: 1 rule(s) enabled"),
        "{err}"
    );
    assert!(
        err.contains("reload rejected, the previous rules keep running"),
        "{err}"
    );
}

/// `falco-wasm run` (from the repository's root) with `plugins` (the first
/// one the source, its webhook at `url`) and `rules`: JSON alerts on stdout.
fn webhook_run(url: &str, plugins: &[PathBuf], rules: &Path) -> std::process::Child {
    let mut c = Command::new(env!("CARGO_BIN_EXE_falco-wasm"));
    c.current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .arg("run");
    for p in plugins {
        c.arg("--plugin").arg(p);
    }
    c.args(["--plugin-open-params", url, "-r"])
        .arg(rules)
        .args(["-o", "json_output=true", "-o", "log_syslog=false"])
        .args(["-o", "syslog_output.enabled=false"])
        .args(["-o", "webserver.enabled=false"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The body of `GET path` on 127.0.0.1:port.
fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(c, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
    let mut s = String::new();
    c.read_to_string(&mut s).unwrap();
    s.split("\r\n\r\n").nth(1).unwrap_or("").to_string()
}

/// A plugin that faults again after each restart is restarted as often as
/// its policy says, with growing delays, then left disabled.
#[test]
fn faulted_plugin_restarts_per_policy_then_stays_disabled() {
    let dir = scratch("restart");
    let cfg = hostile_config_with(
        &dir,
        "panic",
        "",
        "    restart:\n      max_restarts: 2\n      backoff_ms: 50\n",
    );
    let args = hostile_args(&dir, &cfg);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = falco(&args);
    assert!(o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    for want in [
        "plugin hostile: restarting in 50 ms (1/2)",
        "plugin hostile: restarted (1/2)",
        "plugin hostile: restarting in 100 ms (2/2)",
        "plugin hostile: restarted (2/2)",
        "plugin hostile: not restarted again (2 restart(s) allowed)",
    ] {
        assert!(err.contains(want), "{want}\n{}", text(&o));
    }
    let fired = rules_fired(&o);
    let failures = fired
        .iter()
        .filter(|r| *r == "Falco internal: plugin failure")
        .count();
    assert_eq!(failures, 3, "{}", text(&o));
    let ct = fired
        .iter()
        .filter(|r| !r.starts_with("Falco internal"))
        .count();
    assert_eq!(ct, 10, "{}", text(&o));
}

/// The first `n` lines the child writes to stdout (its stdout must be
/// piped); fails the test if they do not come within a minute.
fn read_lines(child: &mut std::process::Child, n: usize) -> Vec<String> {
    let rx = common::stdout_lines(child);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut lines = Vec::new();
    while lines.len() < n {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) => lines.push(l),
            Err(e) => panic!("{} of {n} lines, then {e:?}: {lines:#?}", lines.len()),
        }
    }
    lines
}

/// A local S3/SQS server (moto) on a free port, stopped when dropped.
struct Moto {
    child: std::process::Child,
    port: u16,
}

impl Moto {
    /// `None` (with the reason) when moto is not installed.
    fn start() -> Result<Moto, String> {
        let ok = Command::new("python3")
            .args(["-c", "import moto, boto3"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            return Err(
                "python3 with moto and boto3 is not installed (cargo xtask test installs it)"
                    .into(),
            );
        }
        let port = free_port();
        let child = Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?;
        let m = Moto { child, port };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if std::time::Instant::now() > deadline {
                return Err("moto did not start".into());
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Ok(m)
    }

    /// Runs Python with boto3 clients `s3` and `sqs` for this server.
    fn python(&self, code: &str) -> String {
        let prelude = format!(
            "import boto3, json, os, glob\nkw = dict(endpoint_url='http://127.0.0.1:{}', region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')\ns3 = boto3.client('s3', **kw)\nsqs = boto3.client('sqs', **kw)\n",
            self.port
        );
        let o = Command::new("python3")
            .args(["-c", &format!("{prelude}{code}")])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A falco.yaml for the cloudtrail plugin reading `open_params` from the
/// moto server, granted `hosts` and the AWS variables (if `creds`).
fn aws_config(dir: &Path, port: u16, open_params: &str, hosts: &str, creds: bool) -> PathBuf {
    let env = if creds {
        "      env: [AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY]\n"
    } else {
        ""
    };
    let cfg = format!(
        "json_output: true\nrule_matching: all\nstdout_output:\n  enabled: true\nsyslog_output:\n  enabled: false\n\
         webserver:\n  enabled: false\nload_plugins: [cloudtrail, json]\nplugins:\n\
         \x20 - name: cloudtrail\n    library_path: {ct}\n    init_config: {{\"awsEndpoint\": \"http://127.0.0.1:{port}\", \"awsRegion\": \"us-east-1\"}}\n    open_params: {open_params}\n    grants:\n      http_hosts: [{hosts}]\n{env}\
         \x20 - name: json\n    library_path: {json}\n",
        ct = plugin("cloudtrail").display(),
        json = plugin("json").display(),
    );
    let p = dir.join(format!("aws-{}.yaml", open_params.replace(['/', ':'], "_")));
    std::fs::write(&p, cfg).unwrap();
    p
}

/// The CloudTrail test logs from S3 and, as S3 notifications, from SQS,
/// served by a local moto server: the same alerts as from the directory.
#[test]
fn cloudtrail_from_s3_and_sqs_of_a_local_moto_server() {
    let moto = match Moto::start() {
        Ok(m) => m,
        Err(why) => {
            eprintln!("SKIPPED: {why}");
            return;
        }
    };
    let data = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/cloudtrail")
        .canonicalize()
        .unwrap();
    let q = moto.python(&format!(
        "s3.create_bucket(Bucket='trail')\n\
         q = sqs.create_queue(QueueName='ct-events')['QueueUrl']\n\
         root = '{}'\n\
         for path in sorted(glob.glob(root + '/**/*', recursive=True)):\n\
         \x20   if os.path.isfile(path) and (path.endswith('.json') or path.endswith('.json.gz')):\n\
         \x20       key = 'AWSLogs/111122223333/CloudTrail/' + os.path.relpath(path, root)\n\
         \x20       s3.upload_file(path, 'trail', key)\n\
         \x20       note = {{'Records': [{{'eventSource': 'aws:s3', 's3': {{'bucket': {{'name': 'trail'}}, 'object': {{'key': key}}}}}}]}}\n\
         \x20       sqs.send_message(QueueUrl=q, MessageBody=json.dumps({{'Type': 'Notification', 'Message': json.dumps(note)}}))\n\
         print(q)\n",
        data.display()
    ));
    let dir = scratch("aws");
    let rules = "rules/aws_cloudtrail_rules.yaml";
    let granted = format!("\"127.0.0.1:{}\"", moto.port);
    let run_more = |cfg: &Path, more: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_falco-wasm"))
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
            .args(["run", "-c"])
            .arg(cfg)
            .args(["-r", rules, "-o", "log_syslog=false"])
            .args(more)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let run_with = |cfg: &Path| run_more(cfg, &[]);
    // S3: every object below the prefix, then EOF.
    let o = run_with(&aws_config(
        &dir,
        moto.port,
        "s3://trail/AWSLogs/",
        &granted,
        true,
    ))
    .wait_with_output()
    .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(rules_fired(&o).len(), 10, "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("CloudTrail/2024/03/corrupt.json: not valid JSON"),
        "{}",
        text(&o)
    );
    // Not granted the host: nothing is sent, the open fails with the reason.
    let o = run_with(&aws_config(
        &dir,
        moto.port,
        "s3://trail/",
        "\"s3.amazonaws.com\"",
        true,
    ))
    .wait_with_output()
    .unwrap();
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(&format!(
            "127.0.0.1:{} is not among the hosts granted to this plugin",
            moto.port
        )),
        "{}",
        text(&o)
    );
    // Not granted the credentials: the engine's own environment stays hidden.
    let o = run_with(&aws_config(
        &dir,
        moto.port,
        "s3://trail/x/",
        &granted,
        false,
    ))
    .wait_with_output()
    .unwrap();
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no AWS credentials"),
        "{}",
        text(&o)
    );
    // SQS: the notifications name the objects; messages are deleted.
    let metrics_port = free_port();
    let mut child = run_more(
        &aws_config(&dir, moto.port, "sqs://ct-events", &granted, true),
        &[
            "-o",
            "webserver.enabled=true",
            "-o",
            "webserver.prometheus_metrics_enabled=true",
            "-o",
            "webserver.listen_address=127.0.0.1",
            "-o",
            &format!("webserver.listen_port={metrics_port}"),
        ],
    );
    let lines = read_lines(&mut child, 10);
    // The queue is empty now: polled about once a second, not at the
    // host's idle pace (every few milliseconds).
    let receives = || {
        // Plugin metrics are read once a second.
        let key =
            r#"falcosecurity_plugin_metric{plugin="cloudtrail",name="sqs_receive_requests"} "#;
        for _ in 0..50 {
            let m = http_get(metrics_port, "/metrics");
            if let Some(v) = m.lines().find_map(|l| l.strip_prefix(key)) {
                return v.trim().parse::<f64>().unwrap();
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("no {key}in /metrics");
    };
    let before = receives();
    std::thread::sleep(std::time::Duration::from_secs(3));
    let polls = receives() - before;
    assert!((1.0..=5.0).contains(&polls), "{polls} receives in 3 s");
    sigterm(&child);
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        lines
            .iter()
            .all(|l| l.contains(r#""source":"aws_cloudtrail""#)),
        "{lines:#?}"
    );
    let left = moto.python(&format!(
        "print(sqs.get_queue_attributes(QueueUrl='{q}', AttributeNames=['All'])['Attributes']['ApproximateNumberOfMessages'])"
    ));
    assert_eq!(left, "0");
}

/// The template plugin, built as a component, with a rule of its source.
#[test]
fn template_plugin_runs_as_a_component() {
    let wasm = component("falco-wasm-plugin-template", "template_plugin");
    let dir = scratch("template");
    let rules = dir.join("hello.yaml");
    std::fs::write(
        &rules,
        "- rule: Hello\n  desc: every greeting\n  condition: hello.n > 1\n  output: said %hello.msg (%hello.n)\n  priority: NOTICE\n  source: hello\n",
    )
    .unwrap();
    let o = falco(&[
        "run",
        "--plugin",
        wasm.to_str().unwrap(),
        "--plugin-config",
        r#"{"count": 3}"#,
        "-r",
        rules.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("Notice said hello world (2)"), "{}", text(&o));
    assert!(out.contains("Notice said hello world (3)"), "{}", text(&o));
    assert!(!out.contains("(1)"), "{}", text(&o));
    // No rules named: the rules the component carries.
    let o = falco(&["run", "--plugin", wasm.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("Informational greeting number 3 said (hello world)"),
        "{}",
        text(&o)
    );
    assert_eq!(out.matches("greeting number").count(), 1, "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(
            "Plugin template: no rules named, loading the default rules it carries (<plugin template>/default_rules.yaml)"
        ),
        "{}",
        text(&o)
    );
}

/// A plugin stuck in a call — computing, or waiting in a host call —
/// holds up only its own source (each source has its thread), and SIGTERM
/// cuts the stuck call short instead of waiting for its time limit; the
/// other sources' alerts are all delivered.
#[test]
fn stuck_plugin_holds_up_only_its_source_and_shutdown_cuts_it_short() {
    for mode in ["slowloop", "slowsleep"] {
        stuck_plugin_and_shutdown(mode);
    }
}

fn stuck_plugin_and_shutdown(mode: &str) {
    let dir = scratch(&format!("stuck-{mode}"));
    let cfg = hostile_config(&dir, mode, "");
    // The stuck plugin first: one thread for all sources would start with it.
    let text_cfg = hostile_first(&cfg);
    assert!(text_cfg.contains("[hostile, cloudtrail, json]"));
    std::fs::write(&cfg, text_cfg).unwrap();
    let mut child = spawn_quiet(&hostile_args(&dir, &cfg));
    // All of cloudtrail's alerts while the hostile call (limit: 60 s) spins.
    let lines = read_lines(&mut child, 10);
    assert!(
        lines
            .iter()
            .all(|l| l.contains(r#""source":"aws_cloudtrail""#)),
        "{mode}: {lines:#?}"
    );
    let asked = std::time::Instant::now();
    sigterm(&child);
    let o = child.wait_with_output().unwrap();
    let took = asked.elapsed();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        took < std::time::Duration::from_secs(10),
        "{mode}: shutdown took {took:?}\n{}",
        text(&o)
    );
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("plugin failure"),
        "{}",
        text(&o)
    );
}

// ----- The edges of the sandbox: every way a hostile plugin was found to
// ----- stall, starve, blind or fool the engine.

/// `falco` with a time limit: a run still going after `limit` is killed and
/// the test fails (a hang must fail, not hold the suite).
fn falco_within(args: &[&str], limit: std::time::Duration) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_falco-wasm"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .args(args)
        .args([
            "-o",
            "log_syslog=false",
            "-o",
            "syslog_output.enabled=false",
        ])
        .args(["-o", "webserver.enabled=false"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("falco-wasm runs");
    let pid = rustix::process::Pid::from_child(&child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        if rx.recv_timeout(limit).is_err() {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
        }
    });
    let t = std::time::Instant::now();
    let o = child.wait_with_output().unwrap();
    let _ = tx.send(());
    assert!(
        t.elapsed() < limit,
        "the run did not end within {limit:?} (killed)\n{}",
        text(&o)
    );
    o
}

/// The hostile plugin in `mode` beside cloudtrail (see
/// [`hostile_config_with`]), with `more` arguments, within a minute.
fn hostile_run(dir: &Path, mode: &str, extra: &str, entry: &str, more: &[&str]) -> Output {
    let cfg = hostile_config_with(dir, mode, extra, entry);
    let mut args = hostile_args(dir, &cfg);
    args.extend(more.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    falco_within(&args, std::time::Duration::from_secs(60))
}

/// The cloudtrail alerts among the JSON alerts.
fn cloudtrail_alerts(o: &Output) -> usize {
    rules_fired(o)
        .iter()
        .filter(|r| !r.starts_with("Falco internal") && *r != "Hostile event")
        .count()
}

/// A loopback HTTP peer: counts connections and keeps each request's text;
/// answers 200 after `delay` (or never, with `None`). Stops after 20 s.
fn http_peer(delay: Option<std::time::Duration>) -> (u16, std::sync::Arc<Mutex<Vec<String>>>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
    let log = std::sync::Arc::clone(&seen);
    std::thread::spawn(move || {
        let end = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let mut held = Vec::new();
        while std::time::Instant::now() < end {
            let Ok((mut c, _)) = listener.accept() else {
                std::thread::sleep(std::time::Duration::from_millis(10));
                continue;
            };
            c.set_read_timeout(Some(std::time::Duration::from_millis(300)))
                .unwrap();
            let mut buf = vec![0u8; 65536];
            let n = c.read(&mut buf).unwrap_or(0);
            log.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&buf[..n]).into_owned());
            match delay {
                Some(d) => {
                    std::thread::sleep(d);
                    let _ = c.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
                }
                None => held.push(c),
            }
        }
    });
    (port, seen)
}

use std::sync::Mutex;

/// A call waiting in the host — a WASI sleep, HTTP requests to a peer that
/// never answers — ends at the call's deadline, not when the wait does;
/// each HTTP request gets what is left of the call's time, not a limit of
/// its own.
#[test]
fn calls_waiting_in_the_host_end_at_their_deadline() {
    let dir = scratch("waits");
    let (port, requests) = http_peer(None);
    let http = (
        format!(", \"url\": \"http://127.0.0.1:{port}/x\""),
        format!("    grants:\n      http_hosts: [\"127.0.0.1:{port}\"]\n"),
    );
    let none = (String::new(), String::new());
    for (mode, (extra, entry)) in [("sleep", &none), ("httploop", &http)] {
        let t = std::time::Instant::now();
        let o = hostile_run(&dir, mode, extra, entry, &[]);
        assert!(o.status.success(), "{mode}: {}", text(&o));
        let want = "plugin hostile: next-batch: call exceeded its time limit of 300 ms \
                    (waiting in a host call)";
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(want),
            "{mode}: {}",
            text(&o)
        );
        assert!(
            t.elapsed() < std::time::Duration::from_secs(15),
            "{mode}: took {:?}",
            t.elapsed()
        );
        assert_eq!(cloudtrail_alerts(&o), 10, "{mode}: {}", text(&o));
    }
    // The plugin asked for ten requests; its 300 ms allowed one.
    let n = requests.lock().unwrap().len();
    assert!(n <= 2, "{n} requests reached the peer");
}

/// Errors and log lines from a plugin reach the log and the alerts cut to a
/// few KiB, with their control characters escaped, and at a bounded rate.
#[test]
fn plugin_text_is_bounded_escaped_and_rate_limited() {
    let dir = scratch("text");
    // 50 batches whose extraction fails with 16 MiB of newlines each.
    let o = hostile_run(&dir, "bigerror", "", "", &[]);
    assert!(o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    let longest = err.lines().map(str::len).max().unwrap_or(0);
    assert!(longest < 8192, "a {longest}-byte log line");
    let longest = o.stdout.split(|b| *b == b'\n').map(<[u8]>::len).max();
    assert!(longest.unwrap_or(0) < 16384, "a {longest:?}-byte alert");
    let failures = rules_fired(&o)
        .iter()
        .filter(|r| *r == "Falco internal: plugin failure")
        .count();
    assert!((1..50).contains(&failures), "{failures} failure alerts");
    assert!(
        err.contains("bad\\n\\n\\n"),
        "{}",
        &err[..err.len().min(4000)]
    );
    assert_eq!(cloudtrail_alerts(&o), 10);

    // Thousands of log lines with CR/LF and terminal escapes.
    let o = hostile_run(&dir, "logflood", "", "", &[]);
    assert!(o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains('\x1b'), "an escape reached the log");
    assert!(
        !err.lines()
            .any(|l| l.starts_with("Error: plugin cloudtrail: forged")),
        "a forged log line"
    );
    assert!(
        err.contains("plugin hostile: flood 0\\nError: plugin cloudtrail: forged\\x1b[2J"),
        "{}",
        &err[..err.len().min(4000)]
    );
    let floods = err.matches("plugin hostile: flood").count();
    assert!(
        (1..=300).contains(&floods),
        "{floods} of 10,000 lines logged"
    );
    assert!(err.contains("log lines per second"), "{}", text(&o));
}

/// A field value holding a newline and a forged alert line stays inside
/// its own alert's line in the text output.
#[test]
fn text_alerts_are_one_line_each() {
    let dir = scratch("forge");
    let o = hostile_run(&dir, "forge", "", "", &["-o", "json_output=false"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!out.contains('\x1b'), "{out}");
    assert!(
        !out.lines().any(|l| l.starts_with("12:00:00")),
        "a forged alert line\n{out}"
    );
    let ours: Vec<&str> = out.lines().filter(|l| l.contains("hostile said")).collect();
    assert_eq!(ours.len(), 1, "{out}");
    assert!(ours[0].contains("forged alert"), "{out}");
}

/// A plugin that claims another's event source, or another's fields for
/// its source, is refused at load with both plugins named.
#[test]
fn plugins_that_would_blind_others_are_refused_at_load() {
    let dir = scratch("blind");
    for (mode, extra, want) in [
        (
            "good",
            ", \"source\": \"aws_cloudtrail\"",
            "plugins hostile and cloudtrail both provide the event source 'aws_cloudtrail'",
        ),
        (
            "shadowfields",
            "",
            "plugins hostile and cloudtrail both define the field 'ct.name' for the source \
             'aws_cloudtrail'",
        ),
    ] {
        let cfg = hostile_config(&dir, mode, extra);
        let first = hostile_first(&cfg);
        std::fs::write(&cfg, first).unwrap();
        let args = hostile_args(&dir, &cfg);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = falco_within(&args, std::time::Duration::from_secs(60));
        assert!(!o.status.success(), "{mode}: {}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(want),
            "{mode}: {}",
            text(&o)
        );
    }
}

/// A fault in any call is reported as one in next-batch is (error, internal
/// alert, failure count), and a plugin cannot grow `/metrics` without
/// bound.
#[test]
fn faults_in_every_call_are_reported_and_metric_names_capped() {
    let dir = scratch("calls");
    let o = hostile_run(&dir, "metricstrap", "", "", &[]);
    assert!(o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("plugin hostile: metrics: the plugin aborted"),
        "{}",
        text(&o)
    );
    assert!(err.contains("plugin failures: 1"), "{}", text(&o));
    assert!(
        rules_fired(&o).contains(&"Falco internal: plugin failure".to_string()),
        "{}",
        text(&o)
    );
    // event-to-string, for a rule output with %evt.plugininfo.
    std::fs::write(
        dir.join("info_rules.yaml"),
        "- rule: Hostile info\n  desc: d\n  condition: hostile.msg exists\n  output: info %evt.plugininfo\n  priority: WARNING\n  source: hostile\n",
    )
    .unwrap();
    let cfg = hostile_config(&dir, "e2strap", "");
    let info = dir.join("info_rules.yaml");
    let args = [
        "run",
        "-c",
        cfg.to_str().unwrap(),
        "-r",
        "rules/aws_cloudtrail_rules.yaml",
        "-r",
        info.to_str().unwrap(),
    ];
    let o = falco_within(&args, std::time::Duration::from_secs(60));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("plugin hostile: event-to-string: the plugin aborted"),
        "{}",
        text(&o)
    );
    assert!(err.contains("plugin failures: 1"), "{}", text(&o));

    // 256 new metric names per second.
    let port = free_port();
    let cfg = hostile_config(&dir, "metricspam", "");
    let mut child = Command::new(env!("CARGO_BIN_EXE_falco-wasm"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .args(hostile_args(&dir, &cfg))
        .args(["-o", "log_syslog=false"])
        .args(["-o", "webserver.prometheus_metrics_enabled=true"])
        .args(["-o", "webserver.listen_address=127.0.0.1"])
        .args(["-o", &format!("webserver.listen_port={port}")])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    read_lines(&mut child, 10);
    std::thread::sleep(std::time::Duration::from_millis(3500));
    let metrics = http_get(port, "/metrics");
    sigterm(&child);
    let o = child.wait_with_output().unwrap();
    let series = metrics
        .lines()
        .filter(|l| l.contains(r#"plugin="hostile""#))
        .count();
    assert!((1..=64).contains(&series), "{series} series\n{metrics}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("more than 64 metric names"),
        "{}",
        text(&o)
    );
}

/// The `http` import sends only well-formed requests to the granted host:
/// no CR/LF smuggled through the method or a header, no `Host` of the
/// plugin's choosing.
#[test]
fn http_import_refuses_smuggling_and_other_virtual_hosts() {
    let dir = scratch("httpinject");
    let (port, requests) = http_peer(Some(std::time::Duration::ZERO));
    let o = hostile_run(
        &dir,
        "httpinject",
        &format!(", \"url\": \"http://127.0.0.1:{port}/x\""),
        &format!("    grants:\n      http_hosts: [\"127.0.0.1:{port}\"]\n"),
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    for want in [
        "http method: Err(the method is not an HTTP token; nothing was sent)",
        "host: Err(Host header 'internal.example' differs from the URL's host; nothing was sent)",
        "header: Err(header X-Evil: control characters in the value; nothing was sent)",
        "length: Err(header Content-Length is set by the host, not the plugin; nothing was sent)",
    ] {
        assert!(out.contains(want), "{want}\n{}", text(&o));
    }
    let seen = requests.lock().unwrap().join("\n---\n");
    assert!(seen.is_empty(), "requests reached the peer:\n{seen}");
}

/// An open param grants what it resolves to (symlinks, `..`, `/proc/*/root`
/// resolved), never `/`; a file grants that file alone; and a path the
/// plugin was not granted fails with the grant to add.
#[test]
fn implicit_grants_are_resolved_and_a_file_grants_only_itself() {
    let dir = scratch("grants");
    hostile_config(&dir, "good", ""); // writes hostile_rules.yaml
    let hostile = component("falco-wasm-hostile-plugin", "hostile_plugin");
    let rules = dir.join("hostile_rules.yaml");
    let run = |mode_cfg: &str, open: &str| {
        falco_within(
            &[
                "run",
                "--plugin",
                hostile.to_str().unwrap(),
                "--plugin-config",
                mode_cfg,
                "--plugin-open-params",
                open,
                "-r",
                rules.to_str().unwrap(),
                "-o",
                "json_output=true",
            ],
            std::time::Duration::from_secs(60),
        )
    };
    // Read through the named path (where a grant of `/` would put it).
    for root in ["/tmp/..", "/proc/self/root"] {
        let cfg = format!(r#"{{"mode": "readfile", "path": "{root}/etc/passwd"}}"#);
        let o = run(&cfg, root);
        assert!(o.status.success(), "{root}: {}", text(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("/etc/passwd: Err("), "{root}: {}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("not granted implicitly"),
            "{root}: {}",
            text(&o)
        );
    }
    let dir = dir.canonicalize().unwrap();
    std::fs::write(dir.join("granted.json"), "{}").unwrap();
    std::fs::write(dir.join("secret"), "top secret").unwrap();
    let granted = dir.join("granted.json");
    let read = |path: &Path| {
        let cfg = format!(r#"{{"mode": "readfile", "path": "{}"}}"#, path.display());
        String::from_utf8_lossy(&run(&cfg, granted.to_str().unwrap()).stdout).into_owned()
    };
    let out = read(&dir.join("secret"));
    assert!(out.contains("secret: Err("), "{out}");
    assert!(!out.contains("top secret"), "{out}");
    let out = read(&granted);
    assert!(out.contains("granted.json: Ok({})"), "{out}");

    // falco.yaml: open_params names a directory without a grant.
    let data = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/cloudtrail")
        .canonicalize()
        .unwrap();
    let cfg = dir.join("ungranted.yaml");
    std::fs::write(
        &cfg,
        format!(
            "json_output: true\nload_plugins: [cloudtrail, json]\nplugins:\n\
             \x20 - name: cloudtrail\n    library_path: {}\n    open_params: {}\n\
             \x20 - name: json\n    library_path: {}\n",
            plugin("cloudtrail").display(),
            data.display(),
            plugin("json").display()
        ),
    )
    .unwrap();
    let o = falco_within(
        &[
            "run",
            "-c",
            cfg.to_str().unwrap(),
            "-r",
            "rules/aws_cloudtrail_rules.yaml",
        ],
        std::time::Duration::from_secs(60),
    );
    assert!(!o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("grants: {{read_dirs: [{}]}}", data.display())),
        "{}",
        text(&o)
    );
    assert!(err.contains("plugin failures: 1"), "{}", text(&o));
}

/// A component far too large to compile quickly is refused before
/// compiling, with the limit it passed.
#[test]
fn compile_bombs_are_refused_before_compiling() {
    let dir = scratch("bomb");
    let mut types = wasm_encoder::TypeSection::new();
    types.ty().function([], []);
    let mut funcs = wasm_encoder::FunctionSection::new();
    let mut code = wasm_encoder::CodeSection::new();
    let mut body = wasm_encoder::Function::new([]);
    body.instruction(&wasm_encoder::Instruction::End);
    for _ in 0..1_000_000 {
        funcs.function(0);
        code.function(&body);
    }
    let mut module = wasm_encoder::Module::new();
    module.section(&types).section(&funcs).section(&code);
    let mut component = wasm_encoder::Component::new();
    component.section(&wasm_encoder::ModuleSection(&module));
    let bomb = dir.join("bomb.wasm");
    std::fs::write(&bomb, component.finish()).unwrap();
    let t = std::time::Instant::now();
    let o = falco_within(
        &["--plugin", bomb.to_str().unwrap(), "--list-plugins"],
        std::time::Duration::from_secs(60),
    );
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("more than 50000 functions"),
        "{}",
        text(&o)
    );
    assert!(
        t.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        t.elapsed()
    );
}

/// A source that matches as fast as it can does not push another source's
/// alerts out of the output queue: with a slow reader, every one of the
/// other source's 50 alerts arrives, and the flood's excess is counted.
#[test]
fn a_flooding_plugin_source_does_not_starve_another() {
    use std::io::Read;
    let dir = scratch("flood");
    let hostile = component("falco-wasm-hostile-plugin", "hostile_plugin");
    let cfg = dir.join("falco.yaml");
    std::fs::write(
        &cfg,
        format!(
            "json_output: true\noutputs_queue:\n  capacity: 64\nload_plugins: [flood, trickle]\nplugins:\n\
             \x20 - name: flood\n    library_path: {h}\n    init_config: {{\"mode\": \"flood\", \"source\": \"flood\"}}\n\
             \x20 - name: trickle\n    library_path: {h}\n    init_config: {{\"mode\": \"trickle\"}}\n",
            h = hostile.display()
        ),
    )
    .unwrap();
    let rules = dir.join("rules.yaml");
    std::fs::write(
        &rules,
        "- rule: Flood\n  desc: d\n  condition: hostile.msg exists\n  output: f %hostile.msg\n  priority: INFO\n  source: flood\n\
         - rule: Trickle\n  desc: d\n  condition: hostile.msg exists\n  output: t %hostile.msg\n  priority: INFO\n  source: hostile\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_falco-wasm"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .args([
            "run",
            "-c",
            cfg.to_str().unwrap(),
            "-r",
            rules.to_str().unwrap(),
        ])
        .args(["-o", "log_syslog=false", "-o", "webserver.enabled=false"])
        .args(["-o", "syslog_output.enabled=false"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A slow reader: about 400 KB/s, far below what the flood produces.
    let mut stdout = child.stdout.take().unwrap();
    let mut got = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut buf = [0u8; 4096];
    let trickled = |got: &[u8]| {
        String::from_utf8_lossy(got)
            .lines()
            .filter(|l| l.contains(r#""rule":"Trickle""#))
            .count()
    };
    while trickled(&got) < 50 && std::time::Instant::now() < deadline {
        let n = stdout.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    sigterm(&child);
    let _ = stdout.read_to_end(&mut got);
    let o = child.wait_with_output().unwrap();
    let floods = String::from_utf8_lossy(&got)
        .lines()
        .filter(|l| l.contains(r#""rule":"Flood""#))
        .count();
    assert_eq!(
        trickled(&got),
        50,
        "{floods} flood alerts\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(floods > 50, "{floods} flood alerts");
}

/// A file operation that never returns (a FIFO in a granted directory;
/// file operations run in place, for speed) holds only its own source:
/// the other sources' alerts all arrive, and a stop does not wait for it.
#[test]
fn a_plugin_blocked_on_a_fifo_holds_only_its_source_and_not_the_stop() {
    let dir = scratch("fifo");
    let fifo = dir.join("fifo");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    let cfg = hostile_config_with(
        &dir,
        "read",
        &format!(", \"path\": \"{}\"", fifo.display()),
        &format!("    grants:\n      read_dirs: [{}]\n", dir.display()),
    );
    // Short limits all round: a stall is said past twice the longest.
    let first = hostile_first(&cfg)
        .replace(
            "  - name: json\n",
            "  - name: json\n    limits:\n      call_timeout_ms: 500\n",
        )
        .replace(
            "  - name: cloudtrail\n",
            "  - name: cloudtrail\n    limits:\n      call_timeout_ms: 500\n",
        );
    std::fs::write(&cfg, first).unwrap();
    let mut child = spawn_quiet(&hostile_args(&dir, &cfg));
    let lines = read_lines(&mut child, 10);
    assert!(
        lines
            .iter()
            .all(|l| l.contains(r#""source":"aws_cloudtrail""#)),
        "{lines:#?}"
    );
    // The stall is said once it is past twice the limit (2 s here).
    std::thread::sleep(std::time::Duration::from_secs(3));
    let asked = std::time::Instant::now();
    sigterm(&child);
    let o = child.wait_with_output().unwrap();
    let took = asked.elapsed();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        took < std::time::Duration::from_secs(15),
        "stop took {took:?}"
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("source-hostile still blocked"), "{}", text(&o));
    assert!(
        err.contains("past its time limit (a file operation that does not return")
            && err.contains("source hostile is stalled"),
        "{}",
        text(&o)
    );
}

/// Sends SIGTERM to a running child.
fn sigterm(child: &std::process::Child) {
    rustix::process::kill_process(
        rustix::process::Pid::from_child(child),
        rustix::process::Signal::TERM,
    )
    .unwrap();
}

/// The text of a [`hostile_config`] with the hostile plugin loaded first
/// (one thread for all sources would start with it; conflicts name it
/// first).
fn hostile_first(cfg: &Path) -> String {
    let text = std::fs::read_to_string(cfg).unwrap().replace(
        "load_plugins: [cloudtrail, json, hostile]",
        "load_plugins: [hostile, cloudtrail, json]",
    );
    assert!(text.contains("[hostile, cloudtrail, json]"));
    text
}

/// The binary running `args` without syslog or web server, its stdout and
/// stderr piped.
fn spawn_quiet(args: &[String]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_falco-wasm"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .args(args)
        .args(["-o", "log_syslog=false", "-o", "webserver.enabled=false"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}
