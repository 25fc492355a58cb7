//! Rules and plugins as signed OCI artifacts, against a real registry
//! (Debian's `docker-registry`, the CNCF distribution server, on loopback):
//! push → install → run; the refusals (unsigned, altered in the registry,
//! signed by another key, asking for more grants, requirements not met),
//! each leaving the install directories as they were; follow with a running
//! engine picking up a new rules version without losing an event.

mod common;

use common::{Scratch, free_port, post_audit, scratch};
use falco_wasm::artifact::layout::{self, Descriptor, Manifest};
use falco_wasm::artifact::registry::Registry;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const REGISTRY_BIN: &str = "/usr/bin/docker-registry";

/// A registry on a loopback port, storage in a scratch directory; stopped
/// when dropped.
struct TestRegistry {
    child: Child,
    host: String,
    storage: PathBuf,
    _dir: Scratch,
}

impl TestRegistry {
    /// `None` (said) when docker-registry is not installed.
    fn start(name: &str) -> Option<TestRegistry> {
        if !Path::new(REGISTRY_BIN).exists() {
            eprintln!(
                "SKIPPED: {REGISTRY_BIN} is not installed (apt-get install docker-registry; cargo xtask test does)"
            );
            return None;
        }
        let dir = scratch("artifact", name);
        let port = free_port();
        let storage = dir.0.join("storage");
        let config = dir.0.join("registry.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
                storage.display()
            ),
        )
        .unwrap();
        let child = Command::new(REGISTRY_BIN)
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the registry did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(TestRegistry {
            child,
            host: format!("127.0.0.1:{port}"),
            storage,
            _dir: dir,
        })
    }

    fn reference(&self, repo: &str) -> String {
        format!("{}/{repo}", self.host)
    }

    /// The file the registry keeps blob `digest` in.
    fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap();
        self.storage
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The component of a first-party plugin (built by `cargo xtask test`, or
/// here if missing).
fn plugin(name: &str) -> PathBuf {
    let target = Path::new(env!("CARGO_BIN_EXE_falco-wasm"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_path_buf();
    let wasm = target.join(format!("wasm32-wasip2/debug/{name}_plugin.wasm"));
    if !wasm.exists() {
        let st = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(root())
            .args(["build", "--target", "wasm32-wasip2", "-p"])
            .arg(format!("falco-wasm-plugin-{name}"))
            .status()
            .unwrap();
        assert!(st.success());
    }
    wasm
}

fn falco(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_falco-wasm"))
        .current_dir(root())
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Runs and expects success.
fn ok(args: &[&str]) -> Output {
    let o = falco(args);
    assert!(o.status.success(), "{args:?}\n{}", text(&o));
    o
}

/// Runs and expects a failure saying `said`.
fn refused(args: &[&str], said: &str) -> Output {
    let o = falco(args);
    let t = text(&o);
    assert!(!o.status.success(), "{args:?} should fail\n{t}");
    assert!(t.contains(said), "{args:?}: {said:?} not said\n{t}");
    o
}

/// Every file below `dir`, with its content.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Keys, and the directories an operator installs into.
struct Setup {
    dir: Scratch,
}

impl Setup {
    fn new(name: &str) -> Setup {
        let dir = scratch("artifact-op", name);
        for k in ["publisher", "stranger"] {
            ok(&["artifact", "keygen", s(&dir.0.join(k))]);
        }
        Setup { dir }
    }
    fn path(&self, p: &str) -> PathBuf {
        self.dir.0.join(p)
    }
    fn key(&self) -> String {
        s(&self.path("publisher.key")).to_string()
    }
    fn pubkey(&self) -> String {
        s(&self.path("publisher.pub")).to_string()
    }
    /// `artifact push REFERENCE FILE --type KIND --version VERSION EXTRA...`
    /// signed with this setup's key, to a plain-HTTP registry; must succeed.
    fn push(
        &self,
        reference: &str,
        file: &Path,
        kind: &str,
        version: &str,
        extra: &[&str],
    ) -> Output {
        let key = self.key();
        let mut a = vec![
            "artifact",
            "push",
            reference,
            s(file),
            "--type",
            kind,
            "--version",
            version,
            "--key",
            &key,
            "--plain-http",
        ];
        a.extend(extra);
        ok(&a)
    }

    /// `artifact list` of this setup's dirs.
    fn list(&self) -> Output {
        let (rules, plugins) = (self.path("rules.d"), self.path("plugins"));
        ok(&[
            "artifact",
            "list",
            "--rules-dir",
            s(&rules),
            "--plugins-dir",
            s(&plugins),
        ])
    }

    /// `artifact install` args into this setup's dirs.
    fn install<'a>(&'a self, extra: &[&'a str]) -> Vec<String> {
        let mut v: Vec<String> = ["artifact", "install", "--plain-http", "--rules-dir"]
            .iter()
            .map(|x| x.to_string())
            .collect();
        v.push(s(&self.path("rules.d")).into());
        v.push("--plugins-dir".into());
        v.push(s(&self.path("plugins")).into());
        v.extend(extra.iter().map(|x| x.to_string()));
        v
    }
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn push_install_run_cloudtrail() {
    let Some(reg) = TestRegistry::start("run") else {
        return;
    };
    let op = Setup::new("run");
    // the contract a component names is what a push records
    let json = std::fs::read(plugin("json")).unwrap();
    let contract = falco_wasm::plugins::wasm::CONTRACT;
    assert_eq!(layout::component_contract(&json).as_deref(), Some(contract));
    let index = publish_cloudtrail(&reg, &op);
    check_falcoctl_layout(&reg);
    // Install by index name; the plugin's grants are shown and accepted.
    let pubkey = op.pubkey();
    let inst = op.install(&[
        "--pubkey",
        &pubkey,
        "--index",
        s(&index),
        "--accept-grants",
        "cloudtrail:0.1.0",
        "json",
        "cloudtrail-rules",
    ]);
    let o = ok(&args(&inst));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("grants accepted: HTTP host s3.amazonaws.com"),
        "{}",
        text(&o)
    );
    let listed = op.list();
    let listed = String::from_utf8_lossy(&listed.stdout);
    for name in ["cloudtrail ", "json ", "cloudtrail-rules "] {
        assert!(listed.contains(name), "{listed}");
    }
    // Run with what was installed.
    let o = run_installed(&op);
    assert!(o.status.success(), "{}", text(&o));
    let rules: std::collections::BTreeSet<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| v["rule"].as_str().unwrap_or_default().to_string())
        .collect();
    for want in ["Console Login Without MFA", "CloudTrail Logging Disabled"] {
        assert!(
            rules.contains(want),
            "{want} not in {rules:?}\n{}",
            text(&o)
        );
    }
    // The engine loads only the component installed: a replaced file is
    // refused.
    std::fs::copy(plugin("json"), op.path("plugins/cloudtrail.wasm")).unwrap();
    let o = run_installed(&op);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("is not the component installed from"),
        "{}",
        text(&o)
    );
}

/// Pushes the CloudTrail plugin (with grants and limits), the json plugin
/// and the CloudTrail rules at 0.1.0, each named in an index; the index.
fn publish_cloudtrail(reg: &TestRegistry, op: &Setup) -> PathBuf {
    let grants = op.path("cloudtrail-grants.yaml");
    std::fs::write(
        &grants,
        "grants:\n  env: [AWS_REGION, AWS_PROFILE]\n  http_hosts: [s3.amazonaws.com, sqs.us-east-1.amazonaws.com]\nlimits:\n  memory_mb: 128\n",
    )
    .unwrap();
    let index = op.path("index.yaml");
    let rules = root().join("rules/aws_cloudtrail_rules.yaml");
    let (ct, json) = (plugin("cloudtrail"), plugin("json"));
    let artifacts: [(&str, &str, &Path, &[&str]); 3] = [
        (
            "plugins/cloudtrail",
            "plugin",
            &ct,
            &["--name", "cloudtrail", "--grants", s(&grants)],
        ),
        ("plugins/json", "plugin", &json, &["--name", "json"]),
        ("rules/cloudtrail-rules", "rulesfile", &rules, &[]),
    ];
    for (repo, kind, file, extra) in artifacts {
        let mut a = vec!["--index", s(&index)];
        a.extend(extra);
        let o = op.push(&reg.reference(repo), file, kind, "0.1.0", &a);
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("tags 0.1.0, 0.1, 0, latest"), "{}", text(&o));
    }
    index
}

/// The rules artifact has falcoctl's layout and media types, and the
/// requirements and dependencies its file states.
fn check_falcoctl_layout(reg: &TestRegistry) {
    let hub = Registry::new(&reg.host, true);
    let repo = "rules/cloudtrail-rules";
    let bytes = hub.manifest(repo, "0.1.0").unwrap().unwrap();
    let m: Manifest = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(m.media_type.as_deref(), Some(layout::MANIFEST));
    assert_eq!(
        m.config.media_type,
        "application/vnd.cncf.falco.rulesfile.config.v1+json"
    );
    assert_eq!(m.layers.len(), 1);
    assert_eq!(
        m.layers[0].media_type,
        "application/vnd.cncf.falco.rulesfile.layer.v1+tar.gz"
    );
    let config: serde_json::Value =
        serde_json::from_slice(&hub.blob(repo, &m.config, 1 << 20).unwrap()).unwrap();
    assert_eq!(config["name"], "cloudtrail-rules");
    assert_eq!(config["version"], "0.1.0");
    assert_eq!(config["requirements"][0]["name"], "engine_version_semver");
    let deps: Vec<&str> = config["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert!(
        deps.contains(&"cloudtrail") && deps.contains(&"json"),
        "{config}"
    );
    let files = layout::unpack(&hub.blob(repo, &m.layers[0], 1 << 24).unwrap()).unwrap();
    assert_eq!(files[0].0, "aws_cloudtrail_rules.yaml");
}

/// `falco-wasm run` with the installed CloudTrail and json plugins and
/// rules directory, on the test's CloudTrail logs (JSON alerts).
fn run_installed(op: &Setup) -> Output {
    let (ct, json, rules) = (
        op.path("plugins/cloudtrail.wasm"),
        op.path("plugins/json.wasm"),
        op.path("rules.d"),
    );
    falco(&[
        "run",
        "--plugin",
        s(&ct),
        "--plugin",
        s(&json),
        "--plugin-open-params",
        "host/tests/data/cloudtrail",
        "-r",
        s(&rules),
        "-o",
        "json_output=true",
        "-o",
        "webserver.enabled=false",
        "-o",
        "syslog_output.enabled=false",
        "-o",
        "log_syslog=false",
    ])
}

/// An artifact pushed by hand, without a signature (another tool's push).
fn push_unsigned(reg: &TestRegistry, repo: &str, file: &Path) {
    let hub = Registry::new(&reg.host, true);
    let config = br#"{"name":"unsigned-rules","version":"1.0.0"}"#.to_vec();
    let layer = layout::pack(&[("x.yaml".into(), std::fs::read(file).unwrap())]).unwrap();
    hub.push_blob(repo, &config).unwrap();
    hub.push_blob(repo, &layer).unwrap();
    let m = Manifest::new(
        Descriptor::of(layout::RULES_CONFIG, &config),
        vec![Descriptor::of(layout::RULES_LAYER, &layer)],
    );
    hub.put_manifest(repo, "1.0.0", &serde_json::to_vec(&m).unwrap())
        .unwrap();
}

/// A registry and an operator with one good rules artifact installed:
/// what every refusal must leave as it is.
struct Refusals {
    reg: TestRegistry,
    op: Setup,
    rules: PathBuf,
    before: Vec<(PathBuf, Vec<u8>)>,
}

impl Refusals {
    fn start(name: &str) -> Option<Refusals> {
        let reg = TestRegistry::start(name)?;
        let op = Setup::new(name);
        let rules = op.path("local.yaml");
        std::fs::write(
            &rules,
            "- rule: Local rule\n  desc: d\n  condition: evt.type = open\n  output: o\n  priority: NOTICE\n",
        )
        .unwrap();
        let mut t = Refusals {
            reg,
            op,
            rules,
            before: Vec::new(),
        };
        t.push("rules/good", "1.0.0", &[]);
        ok(&args(&t.op.install(&[
            "--pubkey",
            &t.op.pubkey(),
            &t.good(),
        ])));
        t.before = tree(&t.op.path("rules.d"));
        assert_eq!(t.before.len(), 2, "the rules file and its record");
        Some(t)
    }

    fn good(&self) -> String {
        self.reg.reference("rules/good:1.0.0")
    }

    /// Pushes the rules file, signed, to `repo` at `version`.
    fn push(&self, repo: &str, version: &str, extra: &[&str]) {
        let r = self.reg.reference(repo);
        self.op.push(&r, &self.rules, "rulesfile", version, extra);
    }

    /// `install EXTRA...` fails saying `said`, and nothing changed.
    fn refused(&self, extra: &[&str], said: &str) {
        refused(&args(&self.op.install(extra)), said);
        assert_eq!(
            tree(&self.op.path("rules.d")),
            self.before,
            "{said}: the rules dir changed"
        );
        assert!(
            tree(&self.op.path("plugins")).is_empty(),
            "{said}: plugins written"
        );
    }
}

#[test]
fn unsigned_untrusted_and_altered_artifacts_are_refused() {
    let Some(t) = Refusals::start("signatures") else {
        return;
    };
    let pubkey = t.op.pubkey();
    push_unsigned(&t.reg, "rules/unsigned", &t.rules);
    let r = t.reg.reference("rules/unsigned:1.0.0");
    t.refused(&["--pubkey", &pubkey, &r], "refused: not signed");
    let stranger = t.op.path("stranger.pub");
    t.refused(
        &["--pubkey", s(&stranger), &t.good()],
        "not by a trusted key",
    );
    t.refused(&[&t.good()], "no --pubkey given");
    // A layer altered in the registry after the push (a file of its own:
    // blobs are shared between repositories).
    let altered = t.op.path("altered.yaml");
    std::fs::write(&altered, "- list: altered\n  items: []\n").unwrap();
    let r = t.reg.reference("rules/altered");
    t.op.push(&r, &altered, "rulesfile", "1.0.0", &[]);
    let hub = Registry::new(&t.reg.host, true);
    let bytes = hub.manifest("rules/altered", "1.0.0").unwrap().unwrap();
    let m: Manifest = serde_json::from_slice(&bytes).unwrap();
    let blob = t.reg.blob_file(&m.layers[0].digest);
    let mut bytes = std::fs::read(&blob).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&blob, bytes).unwrap();
    t.refused(
        &["--pubkey", &pubkey, &format!("{r}:1.0.0")],
        "does not match its digest",
    );
}

#[test]
fn requirements_the_engine_does_not_meet_are_refused() {
    let Some(t) = Refusals::start("requirements") else {
        return;
    };
    let pubkey = t.op.pubkey();
    t.push(
        "rules/future",
        "1.0.0",
        &["--requires", "engine_version_semver:0.99.0"],
    );
    let future = t.reg.reference("rules/future:1.0.0");
    t.refused(
        &["--pubkey", &pubkey, &future],
        "requires engine_version_semver 0.99.0, this engine has 0.62.0",
    );
    t.push(
        "rules/unknown-req",
        "1.0.0",
        &["--requires", "k8s_version:1.30.0"],
    );
    let r = t.reg.reference("rules/unknown-req:1.0.0");
    t.refused(&["--pubkey", &pubkey, &r], "requires 'k8s_version'");
    // A plugin built for another plugin contract.
    let r = t.reg.reference("plugins/old-json");
    let old = ["--requires", "plugin_contract_version:0.2.0"];
    t.op.push(&r, &plugin("json"), "plugin", "1.0.0", &old);
    t.refused(
        &[
            "--pubkey",
            &pubkey,
            "--accept-grants",
            &format!("{r}:1.0.0"),
        ],
        "requires plugin_contract_version 0.2.0, this engine has 0.3.0",
    );
    // Several references: one refused, none installed.
    t.push("rules/alt", "1.0.0", &[]);
    let alt = t.reg.reference("rules/alt:1.0.0");
    t.refused(
        &["--pubkey", &pubkey, &alt, &future],
        "requires engine_version_semver",
    );
}

/// A signed artifact copied to another repository, an older version served
/// under a moving tag, an artifact writing over a file it did not install:
/// refused, nothing changed.
#[test]
fn copies_rollbacks_and_foreign_files_are_refused() {
    let Some(reg) = TestRegistry::start("copies") else {
        return;
    };
    let op = Setup::new("copies");
    let pubkey = op.pubkey();
    let rules = op.path("site.yaml");
    std::fs::write(&rules, "- list: site_hosts\n  items: [a]\n").unwrap();
    let push = |repo: &str, version: &str| {
        op.push(&reg.reference(repo), &rules, "rulesfile", version, &[]);
    };
    push("rules/site", "1.0.0");
    // The same manifest and its signature copied to another repository:
    // the signature names the first one.
    let hub = Registry::new(&reg.host, true);
    let copy = |tag: &str| {
        let bytes = hub.manifest("rules/site", tag).unwrap().unwrap();
        let m: Manifest = serde_json::from_slice(&bytes).unwrap();
        for d in std::iter::once(&m.config).chain(&m.layers) {
            hub.push_blob("rules/copy", &hub.blob("rules/site", d, 1 << 20).unwrap())
                .unwrap();
        }
        hub.put_manifest("rules/copy", tag, &bytes).unwrap();
        layout::digest(&bytes)
    };
    let digest = copy("1.0.0");
    copy(&falco_wasm::artifact::sign::signature_tag(&digest));
    let r = reg.reference("rules/copy:1.0.0");
    refused(
        &args(&op.install(&["--pubkey", &pubkey, &r])),
        "is of another artifact",
    );
    assert!(tree(&op.path("rules.d")).is_empty());
    // Installed at 1.0.0, then `latest` served at an older version.
    ok(&args(&op.install(&[
        "--pubkey",
        &pubkey,
        &reg.reference("rules/site:1.0.0"),
    ])));
    let before = tree(&op.path("rules.d"));
    push("rules/site", "0.9.0");
    refused(
        &args(&op.install(&["--pubkey", &pubkey, &reg.reference("rules/site:0.9.0")])),
        "site 0.9.0 is older than the installed 1.0.0",
    );
    assert_eq!(tree(&op.path("rules.d")), before);
    // A file of the operator's with the name an artifact's file has.
    std::fs::write(op.path("rules.d/mine.yaml"), "- list: mine\n  items: []\n").unwrap();
    let theirs = op.path("mine.yaml");
    std::fs::write(&theirs, "- list: theirs\n  items: []\n").unwrap();
    let r = reg.reference("rules/theirs");
    op.push(&r, &theirs, "rulesfile", "1.0.0", &[]);
    refused(
        &args(&op.install(&["--pubkey", &pubkey, &format!("{r}:1.0.0")])),
        "was not installed by theirs",
    );
    assert_eq!(
        std::fs::read_to_string(op.path("rules.d/mine.yaml")).unwrap(),
        "- list: mine\n  items: []\n"
    );
}

#[test]
fn a_plugin_asking_for_more_grants_is_held_until_accepted() {
    let Some(reg) = TestRegistry::start("grants") else {
        return;
    };
    let op = Setup::new("grants");
    let pubkey = op.pubkey();
    let json = plugin("json");
    let r = reg.reference("plugins/json");
    let push = |version: &str, hosts: &str| {
        let g = op.path(&format!("grants-{version}.yaml"));
        std::fs::write(&g, format!("grants:\n  http_hosts: [{hosts}]\n")).unwrap();
        op.push(
            &r,
            &json,
            "plugin",
            version,
            &["--name", "json", "--grants", s(&g)],
        );
    };
    let plugins_dir = op.path("plugins");
    let accept = || {
        ok(&[
            "artifact",
            "accept",
            "json",
            "--plugins-dir",
            s(&plugins_dir),
        ])
    };
    push("1.0.0", "a.example");
    // Without --accept-grants, a first install with grants is held.
    let o = refused(
        &args(&op.install(&["--pubkey", &pubkey, &r])),
        "is held, not active",
    );
    assert!(text(&o).contains("HTTP host a.example"), "{}", text(&o));
    assert!(!op.path("plugins/json.wasm").exists());
    accept();
    let v1 = std::fs::read(op.path("plugins/json.artifact.json")).unwrap();
    // A new version asking for another host: held, the active one stays.
    push("1.1.0", "a.example, evil.example");
    let active = tree(&op.path("plugins"))
        .into_iter()
        .filter(|(p, _)| !p.starts_with(op.path("plugins/.held")))
        .collect::<Vec<_>>();
    let o = refused(
        &args(&op.install(&["--pubkey", &pubkey, &r])),
        "json 1.1.0 is held",
    );
    assert!(text(&o).contains("HTTP host evil.example"), "{}", text(&o));
    assert!(
        !text(&o).contains("HTTP host a.example"),
        "only what is new is asked: {}",
        text(&o)
    );
    let now: Vec<_> = tree(&op.path("plugins"))
        .into_iter()
        .filter(|(p, _)| !p.starts_with(op.path("plugins/.held")))
        .collect();
    assert_eq!(now, active, "the active version changed");
    let listed = op.list();
    let listed = String::from_utf8_lossy(&listed.stdout).to_string();
    assert!(
        listed.contains("1.1.0") && listed.contains("held"),
        "{listed}"
    );
    // The engine gives the active version its accepted grants, no more: a
    // plugins entry asking for the new host is refused.
    let config = op.path("falco.yaml");
    std::fs::write(
        &config,
        format!(
            "load_plugins: [json]\nplugins:\n  - name: json\n    library_path: {}\n    grants:\n      http_hosts: [evil.example]\n",
            s(&op.path("plugins/json.wasm"))
        ),
    )
    .unwrap();
    refused(
        &["--list-plugins", "-c", s(&config)],
        "HTTP host evil.example",
    );
    // Accepted: the new version is active.
    accept();
    let v2 = std::fs::read(op.path("plugins/json.artifact.json")).unwrap();
    assert_ne!(v1, v2);
    let rec: serde_json::Value = serde_json::from_slice(&v2).unwrap();
    assert_eq!(rec["version"], "1.1.0");
    assert!(!op.path("plugins/.held/json").exists());
    ok(&["--list-plugins", "-c", s(&config)]);
}

/// The engine follows a rules artifact: a new version pushed while a
/// steady stream of events arrives is installed and reloaded within the
/// poll interval, and every event raises exactly one alert, from one
/// version or the other.
#[test]
fn a_running_engine_follows_a_new_rules_version_without_losing_events() {
    let Some(reg) = TestRegistry::start("follow") else {
        return;
    };
    let op = Setup::new("follow");
    let r = reg.reference("rules/audit");
    let push = |v: &str| {
        let f = op.path("audit_rules.yaml");
        std::fs::write(&f, audit_rule(v)).unwrap();
        op.push(&r, &f, "rulesfile", v, &[]);
    };
    push("1.0.0");
    ok(&args(&op.install(&[
        "--pubkey",
        &op.pubkey(),
        &format!("{r}:1"),
    ])));
    let engine = FollowingEngine::start(&op, &format!("{r}:1"));
    // A steady stream: an event every 50 ms; version 1.1 is pushed after the
    // first alerts of version 1.
    let (mut alerts, mut sent, mut pushed) = (Vec::<String>::new(), 0, false);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !alerts.iter().any(|a| a.contains("with rules 1.1.0")) {
        assert!(
            Instant::now() < deadline,
            "version 1.1 never ran: {alerts:#?}"
        );
        assert_eq!(post_audit(engine.port, &audit_event(sent)), 200);
        sent += 1;
        std::thread::sleep(Duration::from_millis(50));
        alerts.extend(engine.lines.try_iter());
        if !pushed && alerts.iter().any(|a| a.contains("with rules 1.0.0")) {
            push("1.1.0");
            pushed = true;
        }
    }
    // A few more after the reload, then every alert is in.
    for _ in 0..5 {
        assert_eq!(post_audit(engine.port, &audit_event(sent)), 200);
        sent += 1;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while alerted_ids(&alerts).len() < sent && Instant::now() < deadline {
        alerts.extend(engine.lines.recv_timeout(Duration::from_secs(1)).ok());
    }
    // The follow is counted in /metrics.
    let metrics = http_get(engine.web_port, "/metrics");
    let counted = "falcowasm_artifact_follow_total{result=\"installed\"} 1";
    assert!(metrics.contains(counted), "{metrics}");
    let err = engine.stop();
    let mut ids = alerted_ids(&alerts);
    ids.sort();
    assert_eq!(
        ids,
        (0..sent).collect::<Vec<_>>(),
        "each event one alert\n{err}"
    );
    assert!(
        err.contains("installed audit 1.1.0"),
        "the follow is logged:\n{err}"
    );
    assert!(err.contains("Reloaded configuration and rules"), "{err}");
}

/// A rule raising one alert per audit event, saying the rules' `version`.
fn audit_rule(version: &str) -> String {
    format!(
        "- rule: Audit event seen\n  desc: every event of the test\n  condition: ka.verb = \"get\"\n  output: seen %ka.auditid with rules {version}\n  priority: NOTICE\n  source: k8s_audit\n"
    )
}

/// Audit event number `n`.
fn audit_event(n: usize) -> String {
    format!(
        r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"ev-{n}","stage":"ResponseComplete","verb":"get","requestURI":"/api/v1/pods","user":{{"username":"alice"}},"stageTimestamp":"2024-03-01T00:00:00.000000Z"}}"#
    )
}

/// The event numbers `alerts` of the audit rule name.
fn alerted_ids(alerts: &[String]) -> Vec<usize> {
    alerts
        .iter()
        .filter(|a| a.contains("\"rule\":\"Audit event seen\""))
        .filter_map(|a| {
            let v: serde_json::Value = serde_json::from_str(a).ok()?;
            let id = v["output_fields"]["ka.auditid"].as_str()?;
            id.strip_prefix("ev-")?.parse().ok()
        })
        .collect()
}

/// An engine reading k8s audit events from its webhook, with the operator's
/// rules directory, following `reference` every second; its stdout lines.
struct FollowingEngine {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
    port: u16,
    web_port: u16,
}

impl FollowingEngine {
    fn start(op: &Setup, reference: &str) -> FollowingEngine {
        let (port, web_port) = (free_port(), free_port());
        let config = op.path("falco.yaml");
        std::fs::write(
            &config,
            format!(
                "rules_files: [{rd}]\njson_output: true\nlog_syslog: false\nsyslog_output: {{enabled: false}}\nwebserver: {{enabled: true, listen_port: {web_port}, prometheus_metrics_enabled: true}}\nartifact_follow:\n  enabled: true\n  refs: [{reference}]\n  every: 1s\n  pubkeys: [{pk}]\n  rules_dir: {rd}\n  plugins_dir: {pd}\n  plain_http: true\n",
                rd = s(&op.path("rules.d")),
                pd = s(&op.path("plugins")),
                pk = op.pubkey(),
            ),
        )
        .unwrap();
        let url = format!("http://127.0.0.1:{port}/k8s-audit");
        let mut child = Command::new(env!("CARGO_BIN_EXE_falco-wasm"))
            .current_dir(root())
            .args(["run", "-c", s(&config), "--plugin", s(&plugin("k8saudit"))])
            .args(["--plugin-open-params", &url])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = common::stdout_lines(&mut child);
        FollowingEngine {
            child,
            lines,
            port,
            web_port,
        }
    }

    /// Stops it (SIGTERM); its stderr.
    fn stop(self) -> String {
        let _ = rustix::process::kill_process(
            rustix::process::Pid::from_child(&self.child),
            rustix::process::Signal::TERM,
        );
        let o = self.child.wait_with_output().unwrap();
        String::from_utf8_lossy(&o.stderr).into_owned()
    }
}

/// The body of `GET path` on the engine's web server at `port`.
fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).expect("web server up");
    write!(c, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
    let mut s = String::new();
    c.read_to_string(&mut s).unwrap();
    s
}
