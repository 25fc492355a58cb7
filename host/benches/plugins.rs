//! `cargo xtask bench plugins`: CloudTrail events per second end to end
//! (source → field extraction → rules of rules/aws_cloudtrail_rules.yaml)
//! through the cloudtrail and json plugins as sandboxed Wasm components and
//! through the same plugin crates built natively, in one run.
//!
//! Input: FALCO_WASM_BENCH_EVENTS records (default 100,000) written as
//! CloudTrail log files (up to 1,000 records or 4 MB each) in a temporary
//! directory: synthetic records, or those of the CloudTrail logs at
//! FALCO_WASM_BENCH_SAMPLES (a file or directory) cycled.
//! FALCO_WASM_BENCH_WASM_DIR holds the release components (xtask builds
//! them). The back ends run alternately, 5 times each; the best run of
//! each counts.

use falco_wasm::engine::{EngineOptions, SourceEngine};
use falco_wasm::fields::FieldRegistry;
use falco_wasm::plugins::drive::SourcePump;
use falco_wasm::plugins::wasm::WasmPlugin;
use falco_wasm::plugins::{self, Grants, Limits, LoadedPlugin, PluginSpec};
use guest_sdk::BatchStatus;
use guest_sdk::native::{CallResult, DynPlugin, FieldInfo, FieldRequest, Native, PluginInfo};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const ROUNDS: usize = 5;

fn record(i: usize) -> serde_json::Value {
    let names = [
        ("ConsoleLogin", "signin.amazonaws.com"),
        ("DescribeInstances", "ec2.amazonaws.com"),
        ("GetObject", "s3.amazonaws.com"),
        ("PutObject", "s3.amazonaws.com"),
        ("AssumeRole", "sts.amazonaws.com"),
        ("RunInstances", "ec2.amazonaws.com"),
        ("CreateUser", "iam.amazonaws.com"),
        ("ListBuckets", "s3.amazonaws.com"),
    ];
    let (name, src) = names[i % names.len()];
    let region = ["us-east-1", "eu-west-1", "ap-southeast-1"][i % 3];
    let response = if name == "ConsoleLogin" {
        serde_json::json!({"ConsoleLogin": "Success"})
    } else {
        serde_json::Value::Null
    };
    let mfa = if i.is_multiple_of(7) { "No" } else { "Yes" };
    let readonly =
        name.starts_with("Describe") || name.starts_with("Get") || name.starts_with("List");
    let secs = 1_709_280_000 + i as u64;
    let t = format!(
        "2024-03-{:02}T{:02}:{:02}:{:02}Z",
        1 + (secs / 86_400) % 28,
        (secs / 3600) % 24,
        (secs / 60) % 60,
        secs % 60
    );
    serde_json::json!({
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "principalId": format!("AIDA{i:012}"),
            "arn": format!("arn:aws:iam::111122223333:user/u{}", i % 50),
            "accountId": "111122223333", "userName": format!("u{}", i % 50)},
        "eventTime": t, "eventSource": src, "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": format!("198.51.100.{}", i % 250),
        "userAgent": "aws-cli/2.15.0 Python/3.11.6 Linux/6.1",
        "requestParameters": {"bucketName": "acme-data", "key": format!("k/{i}"), "userName": "svc",
            "instanceType": "t3.micro"},
        "responseElements": response,
        "additionalEventData": {"MFAUsed": mfa, "bytesTransferredOut": i % 5000},
        "requestID": format!("req-{i}"), "eventID": format!("evt-{i}"),
        "readOnly": readonly,
        "eventType": "AwsApiCall", "managementEvent": true, "recipientAccountId": "111122223333"
    })
}

/// Writes `n` records (from `record(i)`) as CloudTrail log files of at most
/// 1,000 records or 4 MB each.
fn write_logs(dir: &Path, n: usize, record: &dyn Fn(usize) -> String) {
    std::fs::create_dir_all(dir).unwrap();
    let (mut file, mut recs, mut size) = (0, Vec::new(), 0);
    for i in 0..n {
        let r = record(i);
        size += r.len();
        recs.push(r);
        if recs.len() == 1000 || size > 4 << 20 || i + 1 == n {
            let doc = format!("{{\"Records\":[{}]}}", recs.join(","));
            std::fs::write(dir.join(format!("log_{file:05}.json")), doc).unwrap();
            (file, size) = (file + 1, 0);
            recs.clear();
        }
    }
}

/// The records of the CloudTrail logs at `path` (a file or a directory),
/// as written (formatting kept).
fn sample_records(path: &Path) -> Vec<String> {
    let files = if path.is_dir() {
        let mut v: Vec<_> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        v.sort();
        v
    } else {
        vec![path.to_path_buf()]
    };
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let recs = guest_sdk::json::member_array(&text, "Records")
            .unwrap_or_else(|| panic!("{}: not a CloudTrail log", f.display()));
        out.extend(recs.into_iter().map(str::to_string));
    }
    assert!(!out.is_empty(), "{}: no records", path.display());
    out
}

fn spec(name: &str, path: PathBuf, data: &Path) -> PluginSpec {
    PluginSpec {
        name: name.into(),
        library_path: path,
        init_config: String::new(),
        open_params: data.display().to_string(),
        grants: Grants {
            read_dirs: vec![data.to_path_buf()],
            ..Grants::default()
        },
        limits: Limits::default(),
        limits_set: false,
        restart: Default::default(),
    }
}

/// Events/s and alerts for one pass over the logs.
fn pass(loaded: &mut [LoadedPlugin], rules: &Path) -> (f64, u64, u64) {
    let mut registry = FieldRegistry::builtin();
    let (fields, origins) = plugins::source_fields("aws_cloudtrail", loaded);
    registry.register(fields);
    let provided = plugins::provided(loaded);
    let lr = falco_wasm::rules::load_paths(&[rules.to_path_buf()], &registry, &provided);
    let src = lr
        .sources
        .iter()
        .find(|s| s.fields.source == "aws_cloudtrail")
        .expect("cloudtrail rules load")
        .clone();
    let mut engine = SourceEngine::new(src, &EngineOptions::default()).expect("engine");
    let open = loaded[0].spec.open_params.clone();
    loaded[0].runner.open(&open).expect("open");
    let pump = SourcePump::new(loaded, 0, &engine, &origins);
    let (mut events, mut alerts, mut num) = (0u64, 0u64, 0u64);
    let start = Instant::now();
    loop {
        let step = pump
            .step(
                loaded,
                &mut engine,
                &mut num,
                "bench",
                &mut |_| {},
                &mut |n, e| panic!("{n}: {e}"),
            )
            .expect("step");
        events += step.events as u64;
        alerts += step.alerts as u64;
        if step.status == BatchStatus::Eof {
            break;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    (events as f64 / secs, events, alerts)
}

/// Time spent in each kind of plugin call (printed with
/// FALCO_WASM_BENCH_BREAKDOWN=1).
#[derive(Default)]
struct Spent {
    next_batch: Duration,
    extract: Duration,
}

static SPENT: Mutex<Vec<(String, Spent)>> = Mutex::new(Vec::new());

/// A plugin with its calls timed.
struct Timed {
    name: String,
    inner: Box<dyn DynPlugin>,
}

impl Timed {
    fn add(&self, f: impl FnOnce(&mut Spent)) {
        let mut v = SPENT.lock().unwrap();
        let i = match v.iter().position(|(n, _)| *n == self.name) {
            Some(i) => i,
            None => {
                v.push((self.name.clone(), Spent::default()));
                v.len() - 1
            }
        };
        f(&mut v[i].1);
    }
}

impl DynPlugin for Timed {
    fn info(&mut self) -> CallResult<PluginInfo> {
        self.inner.info()
    }
    fn init(&mut self, c: &str) -> CallResult<()> {
        self.inner.init(c)
    }
    fn metrics(&mut self) -> CallResult<Vec<guest_sdk::Metric>> {
        self.inner.metrics()
    }
    fn fields(&mut self) -> CallResult<Vec<FieldInfo>> {
        self.inner.fields()
    }
    fn extract_sources(&mut self) -> CallResult<Vec<String>> {
        self.inner.extract_sources()
    }
    fn extract(
        &mut self,
        e: &guest_sdk::EventBatch,
        r: &[FieldRequest],
        o: &mut guest_sdk::Values,
    ) -> CallResult<()> {
        let t = Instant::now();
        let res = self.inner.extract(e, r, o);
        let d = t.elapsed();
        self.add(|s| s.extract += d);
        res
    }
    fn source_info(&mut self) -> CallResult<Option<(u32, String)>> {
        self.inner.source_info()
    }
    fn list_open_params(&mut self) -> CallResult<Vec<guest_sdk::OpenParam>> {
        self.inner.list_open_params()
    }
    fn open(&mut self, p: &str) -> CallResult<()> {
        self.inner.open(p)
    }
    fn next_batch(&mut self, m: u32, o: &mut guest_sdk::Events) -> CallResult<BatchStatus> {
        let t = Instant::now();
        let res = self.inner.next_batch(m, o);
        let d = t.elapsed();
        self.add(|s| s.next_batch += d);
        res
    }
    fn progress(&mut self) -> CallResult<(f64, String)> {
        self.inner.progress()
    }
    fn event_to_string(&mut self, d: &[u8]) -> CallResult<String> {
        self.inner.event_to_string(d)
    }
    fn close(&mut self) -> CallResult<()> {
        self.inner.close()
    }
}

fn timed(name: &str, inner: Box<dyn DynPlugin>) -> Box<dyn DynPlugin> {
    Box::new(Timed {
        name: name.to_string(),
        inner,
    })
}

fn native(data: &Path) -> Vec<LoadedPlugin> {
    let ct = Box::new(Native::<cloudtrail_plugin::CloudTrail>::source());
    let js = Box::new(Native::<json_plugin::Json>::extractor());
    vec![
        LoadedPlugin::init(
            spec("cloudtrail", PathBuf::new(), data),
            timed("native cloudtrail", ct),
        )
        .unwrap(),
        LoadedPlugin::init(spec("json", PathBuf::new(), data), timed("native json", js)).unwrap(),
    ]
}

fn wasm(dir: &Path, data: &Path) -> Vec<LoadedPlugin> {
    let load = |name: &str, file: &str| {
        let s = spec(name, dir.join(file), data);
        let w = WasmPlugin::load(&s.name, &s.library_path, &s.grants, &s.limits, None).unwrap();
        LoadedPlugin::init(s, timed(&format!("wasm {name}"), Box::new(w))).unwrap()
    };
    vec![
        load("cloudtrail", "cloudtrail_plugin.wasm"),
        load("json", "json_plugin.wasm"),
    ]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for the list of tests
    }
    let n: usize = std::env::var("FALCO_WASM_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let Some(wasm_dir) = std::env::var_os("FALCO_WASM_BENCH_WASM_DIR").map(PathBuf::from) else {
        eprintln!("SKIPPED: set FALCO_WASM_BENCH_WASM_DIR (cargo xtask bench plugins does)");
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let rules = root.join("rules/aws_cloudtrail_rules.yaml");
    let data = std::env::temp_dir().join(format!("fw-bench-ct-{}", std::process::id()));
    // FALCO_WASM_BENCH_SAMPLES: real CloudTrail logs whose records are
    // cycled instead of the synthetic ones.
    let samples =
        std::env::var_os("FALCO_WASM_BENCH_SAMPLES").map(|p| sample_records(Path::new(&p)));
    match &samples {
        Some(recs) => write_logs(&data, n, &|i| recs[i % recs.len()].clone()),
        None => write_logs(&data, n, &|i| record(i).to_string()),
    }
    let data = data.canonicalize().unwrap();
    let what = match &samples {
        Some(r) => format!("{n} records cycled from {} sample record(s)", r.len()),
        None => format!("{n} synthetic records"),
    };
    println!(
        "CloudTrail end to end: {what}, rules/aws_cloudtrail_rules.yaml, best of {ROUNDS} (back ends alternate)"
    );
    // FALCO_WASM_BENCH_ONLY=wasm|native runs one back end (for profiling).
    let only = std::env::var("FALCO_WASM_BENCH_ONLY").unwrap_or_default();
    let mut best = [(f64::NAN, 0, 0); 2];
    // Each back end is loaded once and its source opened again for every
    // pass, as a running engine keeps its plugin instances.
    let mut loaded = [native(&data), wasm(&wasm_dir, &data)];
    for _ in 0..ROUNDS {
        for (i, which) in ["native", "wasm"].into_iter().enumerate() {
            if !only.is_empty() && only != which {
                continue;
            }
            let r = pass(&mut loaded[i], &rules);
            if best[i].0.is_nan() || r.0 > best[i].0 {
                best[i] = r;
            }
        }
    }
    for (label, (rate, events, alerts)) in ["native", "wasm"].iter().zip(best) {
        println!("  {label:<8} {rate:>12.0} events/s  ({events} events, {alerts} alerts)");
    }
    let (nat, was) = (best[0].0, best[1].0);
    println!(
        "  wasm/native = {:.2} (the sandbox costs {:.2}x)",
        was / nat,
        nat / was
    );
    if std::env::var_os("FALCO_WASM_BENCH_BREAKDOWN").is_some() {
        println!("  time in plugin calls over all passes (ms): next-batch, extract");
        for (name, s) in SPENT.lock().unwrap().iter() {
            println!(
                "    {name:<18} {:>8.1} {:>8.1}",
                s.next_batch.as_secs_f64() * 1e3,
                s.extract.as_secs_f64() * 1e3
            );
        }
    }
    let _ = std::fs::remove_dir_all(&data);
}
