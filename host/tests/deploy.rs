//! The Kubernetes manifests (`deploy/kubernetes`): every kustomization
//! renders with `kubectl kustomize`, every object validates strictly
//! against the Kubernetes 1.32 schemas (`kubernetes-validate`, offline), the
//! objects say what the issue asks (host mounts, probes, scrape annotations,
//! the least-privileged capabilities, Secrets for credentials), and the
//! configuration and rules the ConfigMaps carry load in the engine.

use std::path::{Path, PathBuf};
use std::process::Command;
use yaml_rust2::{Yaml, YamlLoader};

const BIN: &str = env!("CARGO_BIN_EXE_falco-wasm");
const KUBERNETES: &str = "1.32.0";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Why the tools are missing, if they are.
fn skip_reason() -> Option<String> {
    for (tool, arg) in [("kubectl", "version"), ("kubernetes-validate", "--version")] {
        let ok = Command::new(tool)
            .arg(arg)
            .args(if tool == "kubectl" {
                &["--client"][..]
            } else {
                &[][..]
            })
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            return Some(format!("{tool} is not installed"));
        }
    }
    None
}

/// Renders a kustomization; its objects.
fn render(dir: &str) -> Vec<Yaml> {
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(repo().join("deploy/kubernetes").join(dir))
        .output()
        .expect("kubectl");
    assert!(
        out.status.success(),
        "kubectl kustomize {dir}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    // strict validation of every object
    let file = std::env::temp_dir().join(format!(
        "fw-deploy-{}-{}.yaml",
        std::process::id(),
        dir.replace('/', "-")
    ));
    std::fs::write(&file, &text).unwrap();
    let v = Command::new("kubernetes-validate")
        .args(["--strict", "-k", KUBERNETES])
        .arg(&file)
        .output()
        .expect("kubernetes-validate");
    let _ = std::fs::remove_file(&file);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );
    assert!(v.status.success(), "{dir} does not validate:\n{said}");
    let docs = YamlLoader::load_from_str(&text).unwrap();
    assert!(said.matches("passed").count() >= docs.len(), "{said}");
    docs
}

fn find<'a>(docs: &'a [Yaml], kind: &str, name_prefix: &str) -> &'a Yaml {
    docs.iter()
        .find(|d| {
            d["kind"].as_str() == Some(kind)
                && d["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with(name_prefix))
        })
        .unwrap_or_else(|| panic!("no {kind} {name_prefix}*"))
}

fn container(workload: &Yaml) -> &Yaml {
    &workload["spec"]["template"]["spec"]["containers"][0]
}

fn strs(y: &Yaml) -> Vec<&str> {
    y.as_vec()
        .map(|v| v.iter().filter_map(Yaml::as_str).collect())
        .unwrap_or_default()
}

/// Writes a ConfigMap's files to `dir`, with the image's paths turned into
/// this checkout's (rules) and the built plugins'.
fn config_files(cm: &Yaml, dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    // the plugins `cargo xtask test` builds, beside this binary's target
    let plugins = Path::new(BIN)
        .ancestors()
        .nth(2)
        .expect("target dir")
        .join("wasm32-wasip2/debug");
    for (k, v) in cm["data"].as_hash().expect("data") {
        let text = v
            .as_str()
            .unwrap()
            .replace(
                "/usr/share/falco-wasm/plugins",
                &plugins.display().to_string(),
            )
            .replace(
                "/usr/share/falco-wasm/rules",
                &repo().join("rules").display().to_string(),
            )
            .replace("/etc/falco-wasm/rules.d", &dir.display().to_string());
        std::fs::write(dir.join(k.as_str().unwrap()), text).unwrap();
    }
}

fn dry_run(args: &[&str], env: &[(&str, &str)]) {
    let out = Command::new(BIN)
        .args(args)
        .arg("--dry-run")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_syscall_daemonset_and_its_variants() {
    if let Some(why) = skip_reason() {
        eprintln!(
            "SKIPPED: the Kubernetes manifest test needs kubectl and kubernetes-validate: {why}"
        );
        return;
    }
    let docs = render("base");
    let ds = find(&docs, "DaemonSet", "falco-wasm");
    let spec = &ds["spec"]["template"]["spec"];
    assert_eq!(spec["hostPID"].as_bool(), Some(true));
    let c = container(ds);
    assert_eq!(c["securityContext"]["privileged"].as_bool(), Some(true));
    assert_eq!(c["image"].as_str(), Some("localhost/falco-wasm:0.1.0"));
    let env: Vec<&str> = c["env"]
        .as_vec()
        .unwrap()
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert!(env.contains(&"HOST_ROOT") && env.contains(&"FALCO_HOSTNAME"));
    let mounts: Vec<&str> = c["volumeMounts"]
        .as_vec()
        .unwrap()
        .iter()
        .filter_map(|m| m["mountPath"].as_str())
        .collect();
    for m in ["/host/proc", "/host/etc", "/host/run", "/host/var/run"] {
        assert!(mounts.contains(&m), "{m} not mounted: {mounts:?}");
    }
    for probe in ["livenessProbe", "readinessProbe"] {
        assert_eq!(c[probe]["httpGet"]["path"].as_str(), Some("/healthz"));
    }
    let ann = &ds["spec"]["template"]["metadata"]["annotations"];
    assert_eq!(ann["prometheus.io/scrape"].as_str(), Some("true"));
    assert!(!spec["tolerations"].is_badvalue() && spec["tolerations"].as_vec().is_some());
    assert!(c["resources"]["limits"]["memory"].as_str().is_some());
    // the ConfigMaps' configuration and rules load
    let dir = std::env::temp_dir().join(format!("fw-deploy-base-{}", std::process::id()));
    config_files(find(&docs, "ConfigMap", "falco-wasm-config"), &dir);
    config_files(find(&docs, "ConfigMap", "falco-wasm-rules"), &dir);
    let (cfg, rules) = (dir.join("falco.yaml"), dir.join("custom_rules.yaml"));
    let default_rules = repo().join("rules/falco_rules.yaml");
    dry_run(
        &[
            "-c",
            cfg.to_str().unwrap(),
            "-r",
            default_rules.to_str().unwrap(),
            "-r",
            rules.to_str().unwrap(),
        ],
        &[],
    );
    let _ = std::fs::remove_dir_all(&dir);

    let docs = render("overlays/least-privileged");
    let sc = &container(find(&docs, "DaemonSet", "falco-wasm"))["securityContext"];
    assert_eq!(sc["privileged"].as_bool(), Some(false));
    let mut caps = strs(&sc["capabilities"]["add"]);
    caps.sort_unstable();
    assert_eq!(caps, ["BPF", "PERFMON", "SYS_PTRACE", "SYS_RESOURCE"]);
    assert_eq!(strs(&sc["capabilities"]["drop"]), ["ALL"]);

    let docs = render("overlays/falcosidekick");
    let args = strs(&container(find(&docs, "DaemonSet", "falco-wasm"))["args"]);
    assert!(
        args.contains(&"http_output.url=http://falcosidekick:2801/"),
        "{args:?}"
    );
}

#[test]
fn the_plugin_deployments() {
    if let Some(why) = skip_reason() {
        eprintln!(
            "SKIPPED: the Kubernetes manifest test needs kubectl and kubernetes-validate: {why}"
        );
        return;
    }
    for (overlay, name, secret_env) in [
        (
            "overlays/k8saudit",
            "falco-wasm-k8saudit",
            "K8S_AUDIT_TOKEN",
        ),
        (
            "overlays/cloudtrail",
            "falco-wasm-cloudtrail",
            "AWS_ACCESS_KEY_ID",
        ),
    ] {
        let docs = render(overlay);
        let d = find(&docs, "Deployment", name);
        let c = container(d);
        let sc = &c["securityContext"];
        assert_eq!(
            sc["readOnlyRootFilesystem"].as_bool(),
            Some(true),
            "{overlay}"
        );
        assert_eq!(strs(&sc["capabilities"]["drop"]), ["ALL"], "{overlay}");
        assert_eq!(
            d["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"].as_bool(),
            Some(true)
        );
        // credentials come from a Secret, never from the manifests
        let from_secret = c["env"]
            .as_vec()
            .into_iter()
            .flatten()
            .any(|e| !e["valueFrom"]["secretKeyRef"].is_badvalue())
            || !c["envFrom"][0]["secretRef"].is_badvalue();
        assert!(from_secret, "{overlay}: no Secret");
        let dir = std::env::temp_dir().join(format!(
            "fw-deploy-{}-{}",
            std::process::id(),
            overlay.replace('/', "-")
        ));
        config_files(find(&docs, "ConfigMap", name), &dir);
        let cfg = dir.join("falco.yaml");
        dry_run(&["-c", cfg.to_str().unwrap()], &[(secret_env, "x")]);
        let _ = std::fs::remove_dir_all(&dir);
    }
    let docs = render("overlays/k8saudit");
    let svc = find(&docs, "Service", "falco-wasm-k8saudit");
    assert_eq!(svc["spec"]["ports"][0]["port"].as_i64(), Some(9765));
}

#[test]
fn the_tenants_overlay() {
    if let Some(why) = skip_reason() {
        eprintln!(
            "SKIPPED: the Kubernetes manifest test needs kubectl and kubernetes-validate: {why}"
        );
        return;
    }
    let docs = render("overlays/tenants");
    let dir = std::env::temp_dir().join(format!("fw-deploy-tenants-{}", std::process::id()));
    config_files(find(&docs, "ConfigMap", "falco-wasm-config"), &dir);
    let rules = find(&docs, "ConfigMap", "falco-wasm-rules");
    let mut names: Vec<&str> = rules["data"]
        .as_hash()
        .unwrap()
        .keys()
        .filter_map(|k| k.as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["custom_rules.yaml", "tenant-payments.yaml"]);
    config_files(rules, &dir);
    let cfg = dir.join("falco.yaml");
    // every tenant loads, with the scope and outputs the overlay gives it
    let out = Command::new(BIN)
        .args(["tenants", "validate", "-c"])
        .arg(&cfg)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for want in [
        "; scope k8s_namespaces [payments]; outputs: nats\n",
        "nodes: ",
        "; scope host; outputs: nats\n",
        "2 tenant(s): ok",
    ] {
        assert!(said.contains(want), "{want:?} not in:\n{said}");
    }
    dry_run(&["-c", cfg.to_str().unwrap()], &[]);
    let _ = std::fs::remove_dir_all(&dir);
}
