//! Output channels against real peers: a real rsyslog daemon, HTTP receivers
//! on loopback (healthy, failing, stalled), a real program, a file rotated
//! with reopen. Alerts are built directly (no capture needed).

use falco_wasm::outputs::Outputs;
use falco_wasm::outputs::alert::{Alert, FieldValue, FormatOptions};
use falco_wasm::outputs::sinks::{self, HttpOptions, Sink};
use falco_wasm::priority::Priority;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(name: &str) -> Scratch {
    let d = std::env::temp_dir().join(format!("fw-outputs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    Scratch(d)
}

fn alert(i: usize, priority: Priority) -> Alert {
    Alert {
        time_ns: 1_700_000_000_000_000_000 + i as i64,
        rule: "Test rule".into(),
        priority,
        source: "syscall".into(),
        tags: vec!["t1".into()],
        message: format!("alert number {i} (user=root)"),
        fields: vec![
            ("user.name".into(), Some(FieldValue::Text("root".into()))),
            ("proc.pid".into(), Some(FieldValue::Num(i as i64))),
            ("fd.name".into(), None),
        ],
        hostname: "testhost".into(),
    }
}

fn json() -> FormatOptions {
    FormatOptions {
        json: true,
        ..FormatOptions::default()
    }
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A minimal HTTP/1.1 server: records bodies; `status(n)` picks the answer
/// to the n-th request; `stall` never answers.
/// (content type, body) of each accepted request.
type Bodies = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

struct Receiver {
    port: u16,
    bodies: Bodies,
    requests: Arc<AtomicUsize>,
}

impl Receiver {
    fn start(status: fn(usize) -> u16, stall: bool) -> Receiver {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let requests = Arc::new(AtomicUsize::new(0));
        let (b, r) = (Arc::clone(&bodies), Arc::clone(&requests));
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(mut c) = conn else { continue };
                let (b, r) = (Arc::clone(&b), Arc::clone(&r));
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(c.try_clone().unwrap());
                    loop {
                        let mut head = Vec::new();
                        let mut line = String::new();
                        loop {
                            line.clear();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            if line == "\r\n" {
                                break;
                            }
                            head.push(line.trim_end().to_string());
                        }
                        let len: usize = head
                            .iter()
                            .find_map(|h| {
                                h.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap())
                            })
                            .unwrap_or(0);
                        let ctype = head
                            .iter()
                            .find_map(|h| {
                                h.to_ascii_lowercase()
                                    .strip_prefix("content-type:")
                                    .map(|v| v.trim().to_string())
                            })
                            .unwrap_or_default();
                        let mut body = vec![0; len];
                        reader.read_exact(&mut body).unwrap();
                        let n = r.fetch_add(1, Ordering::SeqCst);
                        if stall {
                            std::thread::sleep(Duration::from_secs(30));
                            return;
                        }
                        let code = status(n);
                        if code == 200 {
                            b.lock().unwrap().push((ctype, body));
                        }
                        let _ = write!(c, "HTTP/1.1 {code} X\r\nContent-Length: 2\r\n\r\nok");
                    }
                });
            }
        });
        Receiver {
            port,
            bodies,
            requests,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}

fn http(url: String, timeout_ms: u64) -> Box<dyn Sink> {
    http_with(url, timeout_ms, 1)
}

fn http_with(url: String, timeout_ms: u64, connections: usize) -> Box<dyn Sink> {
    Box::new(
        sinks::Http::new(HttpOptions {
            url,
            user_agent: "falco-wasm-test".into(),
            keep_alive: true,
            json: true,
            timeout: Duration::from_millis(timeout_ms),
            attempts: 4,
            connections,
            ..HttpOptions::default()
        })
        .unwrap(),
    )
}

#[test]
fn http_receiver_gets_falcosidekick_shaped_json() {
    let rx = Receiver::start(|_| 200, false);
    // Four connections at once: every alert arrives (in any order).
    let out = Outputs::start(vec![http_with(rx.url(), 2000, 4)], json(), 100);
    for i in 0..5 {
        out.push(alert(i, Priority::Warning));
    }
    out.flush();
    let mut bodies = rx.bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 5);
    let pid = |b: &[u8]| {
        serde_json::from_slice::<serde_json::Value>(b).unwrap()["output_fields"]["proc.pid"]
            .as_i64()
    };
    bodies.sort_by_key(|(_, b)| pid(b));
    for (i, (ctype, body)) in bodies.iter().enumerate() {
        assert_eq!(ctype, "application/json");
        let v: serde_json::Value = serde_json::from_slice(body).unwrap();
        // The fields Falcosidekick's FalcoPayload reads.
        assert_eq!(v["rule"], "Test rule");
        assert_eq!(v["priority"], "Warning");
        assert_eq!(v["source"], "syscall");
        assert_eq!(v["hostname"], "testhost");
        assert_eq!(v["tags"], serde_json::json!(["t1"]));
        assert_eq!(v["output_fields"]["proc.pid"], i as i64);
        assert!(v["output_fields"]["fd.name"].is_null());
        assert!(
            v["output"]
                .as_str()
                .unwrap()
                .contains(&format!("Warning alert number {i}"))
        );
        assert!(v["time"].as_str().unwrap().ends_with('Z'));
    }
}

#[test]
fn http_failures_are_retried_with_backoff() {
    // The first two requests fail with 503, then the receiver recovers.
    let rx = Receiver::start(|n| if n < 2 { 503 } else { 200 }, false);
    let out = Outputs::start(vec![http(rx.url(), 2000)], json(), 100);
    out.push(alert(0, Priority::Error));
    out.flush();
    assert_eq!(rx.bodies.lock().unwrap().len(), 1);
    assert_eq!(rx.requests.load(Ordering::SeqCst), 3);
    let (_, st) = &out.stats()[0];
    assert_eq!(st.sent.load(Ordering::Relaxed), 1);
    assert_eq!(st.retries.load(Ordering::Relaxed), 2);
}

#[test]
fn a_stalled_receiver_never_blocks_pushing() {
    let rx = Receiver::start(|_| 200, true);
    let out = Outputs::start(vec![http(rx.url(), 300)], json(), 10);
    let start = Instant::now();
    for i in 0..10_000 {
        out.push(alert(i, Priority::Notice));
    }
    // 10,000 pushes against a receiver that never answers: immediate.
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    let (_, st) = &out.stats()[0];
    assert!(
        st.dropped.load(Ordering::Relaxed) >= 9_000,
        "queue of 10 overflowed and counted"
    );
    wait_until("the first timeouts", Duration::from_secs(10), || {
        rx.requests.load(Ordering::SeqCst) >= 1
    });
    drop(out);
}

#[test]
fn program_output_gets_one_line_per_alert() {
    let d = scratch("program");
    let f = d.0.join("lines.txt");
    for keep_alive in [true, false] {
        let _ = std::fs::remove_file(&f);
        let sink = Box::new(sinks::Program::new(
            format!("cat >> {}", f.display()),
            keep_alive,
        ));
        let out = Outputs::start(vec![sink], FormatOptions::default(), 100);
        for i in 0..3 {
            out.push(alert(i, Priority::Critical));
        }
        out.flush();
        drop(out);
        let text = std::fs::read_to_string(&f).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "keep_alive={keep_alive}: {text}");
        assert!(
            lines[2].ends_with("Critical alert number 2 (user=root)"),
            "{text}"
        );
    }
}

#[test]
fn file_output_survives_rotation() {
    let d = scratch("file");
    let f = d.0.join("events.txt");
    let out = Outputs::start(
        vec![Box::new(sinks::File::new(f.clone(), true, false))],
        json(),
        100,
    );
    out.push(alert(0, Priority::Warning));
    out.flush();
    // logrotate-style: move the file away, then signal a reopen.
    let rotated = d.0.join("events.txt.1");
    std::fs::rename(&f, &rotated).unwrap();
    out.push(alert(1, Priority::Warning));
    out.flush();
    out.reopen();
    out.push(alert(2, Priority::Warning));
    out.flush();
    drop(out);
    let old = std::fs::read_to_string(&rotated).unwrap();
    let new = std::fs::read_to_string(&f).unwrap();
    assert_eq!(old.lines().count(), 2, "written before the reopen: {old}");
    assert_eq!(new.lines().count(), 1, "written after: {new}");
    let v: serde_json::Value = serde_json::from_str(new.trim()).unwrap();
    assert_eq!(v["output_fields"]["proc.pid"], 2);
}

/// rsyslogd on a private socket, writing what it receives with its severity.
struct Rsyslog {
    child: Child,
    socket: PathBuf,
    log: PathBuf,
}

impl Rsyslog {
    fn start(dir: &Path) -> Option<Rsyslog> {
        let bin = ["/usr/sbin/rsyslogd", "/sbin/rsyslogd"]
            .into_iter()
            .find(|p| Path::new(p).exists())?;
        let socket = dir.join("log.sock");
        let log = dir.join("received.log");
        let conf = dir.join("rsyslog.conf");
        std::fs::write(
            &conf,
            format!(
                "global(workDirectory=\"{d}\")\n\
                 module(load=\"imuxsock\" SysSock.Use=\"off\")\n\
                 input(type=\"imuxsock\" Socket=\"{s}\" CreatePath=\"on\")\n\
                 template(name=\"t\" type=\"string\" string=\"%syslogseverity-text%|%syslogfacility-text%|%programname%|%msg%\\n\")\n\
                 *.* action(type=\"omfile\" file=\"{l}\" template=\"t\")\n",
                d = dir.display(),
                s = socket.display(),
                l = log.display()
            ),
        )
        .ok()?;
        let child = Command::new(bin)
            .args(["-n", "-f"])
            .arg(&conf)
            .arg("-i")
            .arg(dir.join("rsyslogd.pid"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let start = Instant::now();
        while !socket.exists() && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Rsyslog { child, socket, log })
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn rsyslog_receives_alerts_with_the_right_severity() {
    let d = scratch("syslog");
    let Some(rs) = Rsyslog::start(&d.0) else {
        eprintln!(
            "SKIPPED: rsyslogd is not installed (apt-get install rsyslog; cargo xtask test installs it)"
        );
        return;
    };
    let out = Outputs::start(
        vec![Box::new(sinks::Syslog::new(rs.socket.clone()))],
        FormatOptions::default(),
        100,
    );
    out.push(alert(1, Priority::Critical));
    out.push(alert(2, Priority::Warning));
    out.push(alert(3, Priority::Debug));
    out.flush();
    wait_until("rsyslog to write 3 lines", Duration::from_secs(10), || {
        std::fs::read_to_string(&rs.log).is_ok_and(|t| t.lines().count() >= 3)
    });
    let text = std::fs::read_to_string(&rs.log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("crit|user|falco|"), "{text}");
    assert!(lines[0].contains("Critical alert number 1"), "{text}");
    assert!(lines[1].starts_with("warning|user|falco|"), "{text}");
    assert!(lines[2].starts_with("debug|user|falco|"), "{text}");
}

#[test]
fn a_failing_channel_is_counted_and_others_still_deliver() {
    let d = scratch("isolation");
    let f = d.0.join("ok.txt");
    let sinks: Vec<Box<dyn Sink>> = vec![
        Box::new(sinks::Syslog::new(d.0.join("no-such.sock"))),
        Box::new(sinks::File::new(f.clone(), false, false)),
    ];
    let out = Outputs::start(sinks, FormatOptions::default(), 100);
    for i in 0..4 {
        out.push(alert(i, Priority::Warning));
    }
    out.flush();
    let stats = out.stats();
    assert_eq!(stats[0].0, "syslog");
    assert_eq!(stats[0].1.failed.load(Ordering::Relaxed), 4);
    assert_eq!(std::fs::read_to_string(&f).unwrap().lines().count(), 4);
}

/// A channel that takes `delay` per alert and records (source, proc.pid).
struct Slow {
    delay: Duration,
    seen: Arc<Mutex<Vec<(String, i64)>>>,
}

impl Sink for Slow {
    fn name(&self) -> &'static str {
        "slow"
    }
    fn write(&mut self, a: &Alert, _: &str) -> Result<(), falco_wasm::outputs::sinks::SinkError> {
        std::thread::sleep(self.delay);
        let pid = a.fields.iter().find_map(|(n, v)| match (n.as_str(), v) {
            ("proc.pid", Some(FieldValue::Num(p))) => Some(*p),
            _ => None,
        });
        // A failed assertion holding the lock must not panic this thread.
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((a.source.clone(), pid.unwrap_or(-1)));
        Ok(())
    }
}

fn alert_from(source: &str, i: usize) -> Alert {
    Alert {
        source: source.into(),
        ..alert(i, Priority::Warning)
    }
}

#[test]
fn a_flooding_source_does_not_starve_another() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Slow {
        delay: Duration::from_micros(200),
        seen: Arc::clone(&seen),
    };
    let out = Arc::new(Outputs::start(
        vec![Box::new(sink)],
        FormatOptions::default(),
        64,
    ));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Source A: as fast as it can until B is done.
    let flood = {
        let (out, stop) = (Arc::clone(&out), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                out.push(alert_from("flood", n));
                n += 1;
            }
            n
        })
    };
    // An internal alert while the flood has the queue to itself.
    std::thread::sleep(Duration::from_millis(20));
    out.push(Alert {
        rule: "Falco internal: plugin failure".into(),
        ..alert_from("internal", 1000)
    });
    // Source B: 50 alerts, one every 2 ms, in the middle of the flood.
    for i in 0..50 {
        out.push(alert_from("quiet", i));
        std::thread::sleep(Duration::from_millis(2));
    }
    stop.store(true, Ordering::Relaxed);
    let pushed = flood.join().unwrap();
    out.flush();
    let seen = seen.lock().unwrap();
    let quiet: Vec<i64> = seen
        .iter()
        .filter(|(s, _)| s == "quiet")
        .map(|(_, p)| *p)
        .collect();
    assert_eq!(
        quiet,
        (0..50).collect::<Vec<i64>>(),
        "every alert of the quiet source, in order ({pushed} flood alerts pushed)"
    );
    assert!(
        seen.contains(&("internal".into(), 1000)),
        "the internal alert"
    );
    // The flood's excess is dropped and counted against the flood.
    let flooded = seen.iter().filter(|(s, _)| s == "flood").count();
    let (_, st) = &out.stats()[0];
    let dropped = st.dropped.load(Ordering::Relaxed);
    assert_eq!(
        st.sent.load(Ordering::Relaxed),
        (flooded + 51) as u64,
        "delivered"
    );
    assert_eq!(dropped, (pushed - flooded) as u64, "the rest of the flood");
    assert!(dropped > 0, "the flood overflowed its share");
    let mut by_source = out.dropped_by_source();
    by_source.sort();
    assert_eq!(
        by_source,
        [
            ("flood".to_string(), dropped),
            ("internal".to_string(), 0),
            ("quiet".to_string(), 0)
        ]
    );
    assert_eq!(st.dropped_by_source(), out.dropped_by_source());
    // And /metrics says so.
    let m = falco_wasm::server::metrics::Metrics::default();
    *m.outputs.lock().unwrap() = out.stats();
    let text = m.render();
    assert!(
        text.contains(&format!(
            "falcosecurity_falco_outputs_queue_num_drops_by_source_total{{channel=\"slow\",source=\"flood\",tenant=\"default\"}} {dropped}"
        )),
        "{text}"
    );
}

#[test]
fn a_forged_line_in_a_field_value_stays_in_one_line() {
    use falco_wasm::fields::SourceFields;
    use falco_wasm::filter::lower::Program;
    use falco_wasm::filter::value::{SlotValue, Value};
    use falco_wasm::outputs::format::OutputFormat;

    let fields = SourceFields::syscall();
    let mut p = Program::default();
    let (fmt, _) =
        OutputFormat::parse("Shell spawned (cmd=%proc.cmdline)", &fields, &mut p).unwrap();
    let evil = "sh\n12:00:00.000000000: Critical forged alert\r\x1b[2J\x1b]0;pwned\x07";
    let (message, typed) = fmt.render_with_fields(&p, |_| SlotValue::One(Value::str(evil)));
    let a = Alert {
        message,
        fields: typed,
        ..alert(0, Priority::Warning)
    };
    let d = scratch("forgery");
    let (text, json_file) = (d.0.join("text.txt"), d.0.join("json.txt"));
    for (path, format) in [(&text, FormatOptions::default()), (&json_file, json())] {
        let out = Outputs::start(
            vec![Box::new(sinks::File::new(path.clone(), false, false))],
            format,
            10,
        );
        out.push(a.clone());
        out.flush();
    }
    let written = std::fs::read_to_string(&text).unwrap();
    assert_eq!(
        written.lines().count(),
        1,
        "one alert, one line: {written:?}"
    );
    assert!(
        !written.contains('\x1b') && !written.contains('\r'),
        "{written:?}"
    );
    assert!(
        written.ends_with(
            "Warning Shell spawned (cmd=sh\\n12:00:00.000000000: Critical forged alert\\r\\x1b[2J\\x1b]0;pwned\\x07)\n"
        ),
        "{written:?}"
    );
    // JSON: the output string is the same escaped text; output_fields keep
    // the raw value (serde escapes it for JSON).
    let v: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&json_file).unwrap().trim()).unwrap();
    assert!(
        v["output"].as_str().unwrap().ends_with(
            r"(cmd=sh\n12:00:00.000000000: Critical forged alert\r\x1b[2J\x1b]0;pwned\x07)"
        ),
        "{v}"
    );
    assert_eq!(v["output_fields"]["proc.cmdline"], evil);
}
