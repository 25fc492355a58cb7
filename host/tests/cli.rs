//! The real binary: `-V` on good and broken files, `-L`, `-l`, `--list`,
//! `--list-events`, `--version`, `--rule-schema`, `--dry-run` and `test`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_falco-wasm"));
    c.current_dir(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("workspace root"),
    );
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("falco-wasm runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A scratch directory for one test, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

fn scratch(name: &str) -> Scratch {
    let d = std::env::temp_dir().join(format!("falco-wasm-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).expect("create scratch dir");
    Scratch(d)
}

fn write(dir: &Path, name: &str, content: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, content).expect("write file");
    p.display().to_string()
}

#[test]
fn project_rules_validate_clean() {
    let o = run(&["-V", "rules/falco_rules.yaml"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("rules/falco_rules.yaml: Ok"),
        "{}",
        text(&o)
    );
    let o = run(&[
        "-V",
        "rules/falco_rules.yaml",
        "-V",
        "rules/falco_rules_incubating.yaml",
    ]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn broken_files_report_each_problem_with_position() {
    let d = scratch("broken");
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "bad_yaml.yaml",
            "- rule: r\n  condition: [unclosed\n",
            &["LOAD_ERR_YAML_PARSE", "bad_yaml.yaml:3:1"],
        ),
        (
            "undefined_macro.yaml",
            "- rule: r\n  desc: d\n  condition: evt.type = execve and not_a_macro\n  output: o\n  priority: info\n",
            &[
                "Undefined macro 'not_a_macro' used in filter.",
                "undefined_macro.yaml:3:36",
            ],
        ),
        (
            "unknown_field.yaml",
            "- rule: r\n  desc: d\n  condition: evt.type = execve and proc.nme = bash\n  output: o\n  priority: info\n",
            &[
                "filter_check called with nonexistent field proc.nme",
                "unknown_field.yaml:3:36",
            ],
        ),
        (
            "type_mismatch.yaml",
            "- rule: r\n  desc: d\n  condition: evt.type = execve and proc.pid contains 1\n  output: o\n  priority: info\n",
            &[
                "'contains' operator not supported for numeric filters",
                "type_mismatch.yaml:3:45",
            ],
        ),
        (
            "no_previous.yaml",
            "- macro: m\n  condition: and proc.name = x\n  override:\n    condition: append\n",
            &[
                "Macro uses 'append' or 'override.condition: append' but no macro by that name already exists",
                "no_previous.yaml:1:3",
            ],
        ),
        (
            "bad_exception.yaml",
            "- rule: r\n  desc: d\n  condition: evt.type = execve\n  output: o\n  priority: info\n  exceptions:\n    - name: e\n      fields: [proc.name, proc.pname]\n      values: [[a]]\n",
            &[
                "Fields and values lists must have equal length",
                "bad_exception.yaml:7:7",
            ],
        ),
        (
            "engine_version.yaml",
            "- required_engine_version: 0.999.0\n",
            &[
                "Rules require engine version 0.999.0, but engine version is 0.62.0",
                "engine_version.yaml:1:28",
            ],
        ),
        (
            "bad_output.yaml",
            "- rule: r\n  desc: d\n  condition: evt.type = execve\n  output: hello %proc.nosuch\n  priority: info\n",
            &[
                "LOAD_ERR_COMPILE_OUTPUT",
                "nonexistent field proc.nosuch",
                "bad_output.yaml:4:17",
            ],
        ),
        (
            "bad_priority.yaml",
            "- rule: r\n  desc: d\n  condition: evt.type = execve\n  output: o\n  priority: loud\n",
            &["Invalid priority 'loud'", "bad_priority.yaml:5:13"],
        ),
    ];
    for (name, content, expected) in cases {
        let p = write(&d, name, content);
        let o = run(&["-V", &p]);
        let out = text(&o);
        assert!(!o.status.success(), "{name} should fail validation:\n{out}");
        assert!(out.contains(&format!("{p}: Invalid")), "{name}:\n{out}");
        for e in *expected {
            assert!(out.contains(e), "{name}: expected {e:?} in:\n{out}");
        }
        assert!(!out.contains("panicked"), "{name}:\n{out}");
    }
    // Several files at once: each gets its own status line.
    let good = write(
        &d,
        "good.yaml",
        "- list: l\n  items: [a]\n- rule: r\n  desc: d\n  condition: evt.type = execve and proc.name in (l)\n  output: o\n  priority: info\n",
    );
    let bad = d.join("unknown_field.yaml").display().to_string();
    let o = run(&["-V", &good, "-V", &bad]);
    let out = text(&o);
    assert!(!o.status.success());
    assert!(
        out.contains(&format!("{good}: Ok")) && out.contains(&format!("{bad}: Invalid")),
        "{out}"
    );
    // JSON form.
    let o = run(&["-V", &bad, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON output");
    assert_eq!(v["falco_load_results"][0]["successful"], false);
    assert_eq!(
        v["falco_load_results"][0]["errors"][0]["code"],
        "LOAD_ERR_COMPILE_CONDITION"
    );
    // A missing file.
    let o = run(&["-V", "/nonexistent/rules.yaml"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("LOAD_ERR_FILE_READ"), "{}", text(&o));
}

#[test]
fn falco_upstream_rulesets_load_when_present() {
    // Falco's own rules are not committed (see the README); a developer
    // fetches them to /var/tmp/falco-upstream-rules to run this check.
    let dir = Path::new("/var/tmp/falco-upstream-rules");
    let files = [
        "falco_rules.yaml",
        "falco-incubating_rules.yaml",
        "falco-sandbox_rules.yaml",
    ];
    if !files.iter().all(|f| dir.join(f).exists()) {
        eprintln!(
            "skipping: Falco's upstream rules are not in {} (fetch falcosecurity/rules to run this check)",
            dir.display()
        );
        return;
    }
    for f in files {
        let p = dir.join(f).display().to_string();
        let o = run(&["-V", &p]);
        assert!(o.status.success(), "{f}:\n{}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stdout).contains(&format!("{p}: Ok")),
            "{}",
            text(&o)
        );
    }
    let o = run(&["-V", &dir.join("falco_rules.yaml").display().to_string()]);
    assert!(
        text(&o).contains("satisfied by falco-wasm's built-in container fields"),
        "{}",
        text(&o)
    );
}

#[test]
fn describe_and_list() {
    let o = run(&["-L"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("Terminal shell in container") && out.starts_with("Rule "),
        "{out}"
    );
    let o = run(&["-l", "Terminal shell in container", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["rules"][0]["info"]["name"], "Terminal shell in container");
    assert_eq!(
        v["rules"][0]["details"]["events"],
        serde_json::json!(["execve", "execveat"])
    );
    let o = run(&["-l", "No such rule"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("Rule \"No such rule\" is not loaded"));
    let o = run(&["--list=syscall", "-N"]);
    let names = String::from_utf8_lossy(&o.stdout);
    assert!(
        names.lines().any(|l| l == "proc.aname")
            && names.lines().any(|l| l == "container.image.repository"),
        "{names}"
    );
    let o = run(&["--list"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("proc.name"));
    let o = run(&["--list=nosuchsource"]);
    assert!(!o.status.success());
    let o = run(&["--list-events"]);
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .any(|l| l == "execve")
    );
    let o = run(&["--version"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("Engine:             0.62.0"));
    assert!(String::from_utf8_lossy(&o.stdout).contains("falco-wasm:plugin@0.3.0"));
    let o = run(&["--rule-schema"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON schema");
    assert_eq!(v["type"], "array");
    let o = run(&["--help"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("--validate"));
}

#[test]
fn dry_run_compiles_the_default_rules() {
    let o = run(&["--dry-run"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("rule(s) enabled"), "{}", text(&o));
    let o = run(&[
        "--dry-run",
        "-o",
        "priority=critical",
        "-o",
        "rules[].disable.rule=*Container*",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let o = run(&["--dry-run", "-o", "priority=loud"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("unknown priority 'loud'"));
}

#[test]
fn test_command_reports_pass_and_fail() {
    let d = scratch("fixtures");
    let rules = write(
        &d,
        "r.yaml",
        "- rule: Cat shadow\n  desc: d\n  condition: evt.type = openat and proc.name = cat and fd.name = /etc/shadow\n  output: read %fd.name by %proc.name (%5proc.pid) %toupper(proc.name)\n  priority: warning\n",
    );
    let good = write(
        &d,
        "good.yaml",
        "- case: cat reads shadow\n  type: openat\n  fields: {proc.name: cat, fd.name: /etc/shadow}\n  expect: [Cat shadow]\n- case: less reads shadow\n  type: openat\n  fields: {proc.name: less, fd.name: /etc/shadow}\n  forbid: ['*']\n",
    );
    let o = run(&["test", &rules, "--fixtures", &good]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("PASS")
            && text(&o).contains("2 passed, 0 failed")
    );
    assert!(
        text(&o).contains("Cat shadow: read /etc/shadow by cat (<NA> ) CAT"),
        "{}",
        text(&o)
    );
    let bad = write(
        &d,
        "bad.yaml",
        "- case: expects the wrong thing\n  type: openat\n  fields: {proc.name: less, fd.name: /etc/shadow}\n  expect: [Cat shadow]\n",
    );
    let o = run(&["test", &rules, "--fixtures", &bad]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("FAIL") && text(&o).contains("expected 'Cat shadow' to trigger"),
        "{}",
        text(&o)
    );
    let unknown = write(
        &d,
        "unknown.yaml",
        "- case: x\n  type: openat\n  expect: [No such rule]\n",
    );
    let o = run(&["test", &rules, "--fixtures", &unknown]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("no loaded rule is named 'No such rule'"),
        "{}",
        text(&o)
    );
}

/// `run` without the privileges capture needs says so and exits non-zero
/// (as root the test drops to `nobody` with setpriv).
#[test]
fn run_without_root_says_what_is_missing() {
    let is_root = common::is_root();
    let exe = env!("CARGO_BIN_EXE_falco-wasm");
    let o = if is_root {
        if !Path::new("/usr/bin/setpriv").exists() {
            eprintln!(
                "SKIPPED: running as root and setpriv (util-linux) is missing to drop privileges"
            );
            return;
        }
        // The binary must be reachable by nobody: copy it somewhere public.
        let d = scratch("nonroot");
        let copy = d.join("falco-wasm");
        std::fs::copy(exe, &copy).expect("copy binary");
        let perms = |p: &Path, mode: u32| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod")
        };
        perms(&d, 0o755);
        perms(&copy, 0o755);
        let o = Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&copy)
            .arg("run")
            .current_dir("/")
            .output()
            .expect("setpriv runs");
        drop(d);
        o
    } else {
        Command::new(exe)
            .arg("run")
            .output()
            .expect("falco-wasm runs")
    };
    assert!(!o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("live capture needs root") || t.contains("built without its eBPF probe"),
        "{t}"
    );
}

/// Runs the binary; kills it (a failure) if it is still running after `limit`.
fn run_for_at_most(args: &[&str], limit: std::time::Duration) -> Output {
    let mut child = bin()
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("falco-wasm runs");
    let start = std::time::Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}

/// Configuration mistakes are errors naming the file, line or key path, and
/// `run` stops before touching the kernel.
#[test]
fn config_errors_name_the_key_or_position() {
    let d = scratch("config");
    let broken = write(&d, "broken.yaml", "stdout_output:\n  enabled: [true\n");
    let o = run_for_at_most(&["run", "-c", &broken], std::time::Duration::from_secs(30));
    assert!(!o.status.success());
    assert!(text(&o).contains("broken.yaml:"), "{}", text(&o));
    let cases: &[(&[&str], &str)] = &[
        (
            &["-o", "file_output.enabled=maybe"],
            "file_output.enabled: expected a boolean",
        ),
        (
            &["-o", "http_output.enabled=true", "-o", "http_output.url="],
            "http_output.url: required",
        ),
        (
            &[
                "-o",
                "http_output.enabled=true",
                "-o",
                "http_output.url=ftp://x",
            ],
            "http_output.url: expected an http",
        ),
        (
            &[
                "-o",
                "program_output.enabled=true",
                "-o",
                "program_output.program=",
            ],
            "program_output.program",
        ),
        (
            &["-o", "engine.kind=kmod"],
            "engine.kind: 'kmod' is not available",
        ),
        (
            &["-o", "syscall_event_drops.actions=[shout]"],
            "syscall_event_drops.actions: unknown action",
        ),
        (
            &["-o", "metrics.enabled=true", "-o", "metrics.interval=soon"],
            "metrics.interval: expected a duration",
        ),
        (&["-o", "log_level=loud"], "log_level: unknown level"),
        (
            &["-o", "webserver.listen_port=70000"],
            "webserver.listen_port",
        ),
        (
            &["-o", "append_output=[{extra_output: \"%proc.nosuch\"}]"],
            "append_output[0].extra_output",
        ),
    ];
    for (args, want) in cases {
        let mut all = vec!["run"];
        all.extend_from_slice(args);
        let o = run_for_at_most(&all, std::time::Duration::from_secs(30));
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(
            text(&o).contains(want),
            "{args:?}: expected {want:?} in:\n{}",
            text(&o)
        );
    }
}
