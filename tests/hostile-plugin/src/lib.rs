//! A source plugin (source `hostile`) that misbehaves in the way its init
//! config's `mode` says, to prove the host contains it. Test fixture only.
//!
//! Modes: `loop` (next-batch never returns), `membomb` (allocates without
//! bound), `panic`, `shadow` (tries to read /etc/shadow, reports what it
//! got as an event), `connect` (tries a TCP connection to 127.0.0.1:PORT
//! from `port`, reports the result), `bigfield` (extracts a 100 MB value),
//! `toomany` (returns more events than asked), `bigevent` (a 16 MiB event),
//! `noeof` (never ends, never produces), `good` (three events, then EOF),
//! and `badends`, `badcells`, `badtext` (malformed flat answers; see the
//! exports at the end).
//!
//! Edges of the sandbox: `sleep` (sleeps 30 s in next-batch), `read`
//! (reads the file at `path`: a FIFO blocks), `httploop` (HTTP requests to
//! `url` in a loop), `httpinject` (a request line with CR/LF in the method
//! and one with a forged `Host`, reported as events), `bigerror` (extract
//! fails with a 16 MiB message), `logflood` (thousands of log lines with
//! CR/LF and escapes), `forge` (an event whose text holds a forged alert
//! line), `flood` (full batches forever), `trickle` (50 events, one per
//! 40 ms), `readfile` (reads `path` once
//! and reports it), `metricspam` (new metric names each call), `metricstrap`
//! and `e2strap` (metrics / event-to-string panic). `source` (config)
//! renames the event source; `shadowfields` also extracts `ct.name` from
//! `aws_cloudtrail` events.

use guest_sdk::{
    BatchStatus, EventInput, Events, Extractor, Field, LogLevel, Metric, Plugin, Request, Source,
    Value, json,
};

pub struct Hostile {
    mode: String,
    port: u16,
    sent: u32,
    /// `path` or `url` from the init config.
    target: String,
    /// The event source to claim (`source` in the init config); read by
    /// the component's exports only.
    #[cfg_attr(
        not(target_arch = "wasm32"),
        allow(dead_code, reason = "read by the wasm32 exports")
    )]
    source: String,
    calls: u32,
}

impl Plugin for Hostile {
    const NAME: &'static str = "hostile";
    const VERSION: &'static str = "0.1.0";
    const DESCRIPTION: &'static str = "Misbehaves on purpose (tests)";
    const CONTACT: &'static str = "falco-wasm tests";

    fn new(config: &str) -> Result<Hostile, String> {
        let cfg = json::parse(config.as_bytes()).unwrap_or_default();
        Ok(Hostile {
            mode: json::text_at(&cfg, "mode").unwrap_or_else(|| "good".into()),
            port: cfg.get("port").and_then(|p| p.as_u64()).unwrap_or(9) as u16,
            sent: 0,
            target: json::text_at(&cfg, "path")
                .or_else(|| json::text_at(&cfg, "url"))
                .unwrap_or_default(),
            source: json::text_at(&cfg, "source").unwrap_or_else(|| "hostile".into()),
            calls: 0,
        })
    }

    fn metrics(&self) -> Vec<Metric> {
        match self.mode.as_str() {
            "metricspam" => (0..256)
                .map(|i| Metric {
                    name: format!("spam_{}_{i}", self.sent),
                    value: 1.0,
                    monotonic: false,
                })
                .collect(),
            "metricstrap" => panic!("hostile metrics panic on purpose"),
            _ => Vec::new(),
        }
    }
}

impl Extractor for Hostile {
    const FIELDS: &'static [Field] = &[Field::string("hostile.msg", "The event's text.")];

    fn extract(
        &mut self,
        ev: &EventInput,
        reqs: &[Request],
        out: &mut [Vec<Value>],
    ) -> Result<(), String> {
        if self.mode == "bigerror" {
            return Err(format!("bad{}", "\n".repeat(16 << 20)));
        }
        for o in out.iter_mut().take(reqs.len()) {
            if self.mode == "bigfield" {
                o.push(Value::Str("x".repeat(100 << 20)));
            } else {
                o.push(Value::Str(String::from_utf8_lossy(ev.data).into_owned()));
            }
        }
        Ok(())
    }
}

impl Hostile {
    /// Edge-of-the-sandbox modes; `None` for the others.
    fn edge(&mut self, max: usize, out: &mut Events) -> Option<Result<BatchStatus, String>> {
        let once = self.sent == 0;
        self.sent += 1;
        let report = |out: &mut Events, msg: String| {
            out.push(msg.as_bytes(), None);
            Some(Ok(BatchStatus::Eof))
        };
        match self.mode.as_str() {
            "sleep" | "slowsleep" => {
                std::thread::sleep(std::time::Duration::from_secs(30));
                Some(Ok(BatchStatus::Eof))
            }
            "read" | "readfile" if once => {
                let got = match std::fs::read(&self.target) {
                    Ok(b) => format!("Ok({})", String::from_utf8_lossy(&b)),
                    Err(e) => format!("Err({e})"),
                };
                report(out, format!("read {}: {got}", self.target))
            }
            "httploop" => {
                for _ in 0..10 {
                    let _ = guest_sdk::http("GET", &self.target, &[], &[]);
                }
                Some(Ok(BatchStatus::Eof))
            }
            "httpinject" if once => {
                let smuggle = "GET /first HTTP/1.1\r\nX-A: b\r\n\r\nGET /smuggled";
                let a = guest_sdk::http(smuggle, &self.target, &[], &[]);
                let host = [("Host".to_string(), "internal.example".to_string())];
                let b = guest_sdk::http("GET", &self.target, &host, &[]);
                let hdr = [("X-Evil".to_string(), "a\r\nInjected: yes".to_string())];
                let c = guest_sdk::http("GET", &self.target, &hdr, &[]);
                let cl = [("Content-Length".to_string(), "0".to_string())];
                let second = b"GET /smuggled HTTP/1.1\r\nHost: internal.example\r\n\r\n";
                let d = guest_sdk::http("POST", &self.target, &cl, second);
                let show = |r: Result<guest_sdk::HttpResponse, String>| match r {
                    Ok(r) => format!("Ok({})", r.status),
                    Err(e) => format!("Err({e})"),
                };
                report(
                    out,
                    format!(
                        "http method: {}; host: {}; header: {}; length: {}",
                        show(a),
                        show(b),
                        show(c),
                        show(d)
                    ),
                )
            }
            "logflood" if self.sent <= 5 => {
                for i in 0..2000 {
                    guest_sdk::log(
                        LogLevel::Error,
                        &format!("flood {i}\nError: plugin cloudtrail: forged\x1b[2J"),
                    );
                }
                out.push(b"flooded", None);
                Some(Ok(BatchStatus::Ok))
            }
            "forge" if once => report(
                out,
                "x\n12:00:00.000000000: Critical forged alert\r\x1b[2J".into(),
            ),
            "trickle" if self.sent <= 50 => {
                std::thread::sleep(std::time::Duration::from_millis(40));
                out.push(format!("trickle {}", self.sent).as_bytes(), None);
                Some(Ok(BatchStatus::Ok))
            }
            "flood" => {
                (0..max).for_each(|_| out.push(b"flood", None));
                Some(Ok(BatchStatus::Ok))
            }
            "bigerror" | "metricspam" | "metricstrap" | "e2strap" if self.sent <= 50 => {
                out.push(format!("event {}", self.sent).as_bytes(), None);
                Some(Ok(BatchStatus::Ok))
            }
            "metricspam" | "metricstrap" => Some(Ok(BatchStatus::Timeout)),
            "read" | "readfile" | "httpinject" | "logflood" | "forge" | "bigerror" | "e2strap"
            | "trickle" => Some(Ok(BatchStatus::Eof)),
            _ => {
                self.sent -= 1;
                None
            }
        }
    }
}

impl Source for Hostile {
    const ID: u32 = 999;
    const EVENT_SOURCE: &'static str = "hostile";

    fn open(&mut self, _params: &str) -> Result<(), String> {
        Ok(())
    }

    fn event_to_string(&self, data: &[u8]) -> String {
        if self.mode == "e2strap" {
            panic!("hostile event-to-string panics on purpose");
        }
        String::from_utf8_lossy(data).into_owned()
    }

    fn next_batch(&mut self, max: usize, out: &mut Events) -> Result<BatchStatus, String> {
        self.calls += 1;
        if let Some(r) = self.edge(max, out) {
            return r;
        }
        match self.mode.as_str() {
            "loop" | "slowloop" => {
                let mut x: u64 = 0;
                loop {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            }
            "membomb" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 16 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "panic" => panic!("hostile plugin panics on purpose"),
            "noeof" => Ok(BatchStatus::Timeout),
            "toomany" => {
                (0..max + 10).for_each(|i| out.push(format!("e{i}").as_bytes(), None));
                Ok(BatchStatus::Ok)
            }
            "bigevent" => {
                out.push(&vec![b'x'; 16 << 20], None);
                Ok(BatchStatus::Ok)
            }
            "shadow" | "connect" if self.sent == 0 => {
                self.sent = 1;
                let msg = if self.mode == "shadow" {
                    match std::fs::read_to_string("/etc/shadow") {
                        Ok(s) => format!("read /etc/shadow: Ok({s})"),
                        Err(e) => format!("read /etc/shadow: Err({e})"),
                    }
                } else {
                    match std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                        Ok(_) => format!("connect 127.0.0.1:{}: Ok", self.port),
                        Err(e) => format!("connect 127.0.0.1:{}: Err({e})", self.port),
                    }
                };
                out.push(msg.as_bytes(), None);
                Ok(BatchStatus::Eof)
            }
            _ if self.sent < 3 => {
                self.sent += 1;
                out.push(format!("hello {}", self.sent).as_bytes(), None);
                Ok(BatchStatus::Ok)
            }
            _ => Ok(BatchStatus::Eof),
        }
    }
}
// The exports are written out here instead of `export_source_plugin!`, as a
// plugin built without the SDK could, so that some modes can corrupt the
// flat answers the SDK always builds well: `badends` (an event ending past
// the batch's bytes), `badcells` (one extracted cell missing), `badtext` (a
// string value outside the values' text).
#[cfg(target_arch = "wasm32")]
mod component {
    use super::Hostile;
    use b::falco_wasm::plugin::types as t;
    use guest_sdk::wasm::source as b;
    use guest_sdk::wasm::source_glue as g;
    use std::cell::RefCell;

    thread_local! {
        static STATE: RefCell<Option<Hostile>> = const { RefCell::new(None) };
    }

    fn mode() -> String {
        STATE.with(|s| {
            s.borrow()
                .as_ref()
                .map(|h| h.mode.clone())
                .unwrap_or_default()
        })
    }

    struct Exports;

    impl b::exports::falco_wasm::plugin::plugin::Guest for Exports {
        fn info() -> t::PluginInfo {
            g::info::<Hostile>()
        }
        fn init(config: String) -> Result<(), String> {
            g::init::<Hostile>(&STATE, &config)
        }
        fn metrics() -> Vec<t::Metric> {
            g::metrics::<Hostile>(&STATE)
        }
    }

    impl b::exports::falco_wasm::plugin::extractor::Guest for Exports {
        fn fields() -> Vec<t::FieldInfo> {
            let mut f = g::fields::<Hostile>();
            if mode() == "shadowfields" {
                // Claims a field of the cloudtrail plugin.
                let mut ct = f[0].clone();
                ct.name = "ct.name".into();
                f.push(ct);
            }
            f
        }
        fn extract_sources() -> Vec<String> {
            if mode() == "shadowfields" {
                return vec!["hostile".into(), "aws_cloudtrail".into()];
            }
            g::extract_sources::<Hostile>()
        }
        fn extract(
            events: t::EventBatch,
            requests: Vec<t::FieldRequest>,
        ) -> Result<t::Values, String> {
            let mut v = g::extract::<Hostile>(&STATE, events, requests)?;
            match mode().as_str() {
                "badcells" => {
                    v.ends.pop();
                }
                "badtext" => {
                    if let Some(item) = v.items.first_mut() {
                        item.b = v.text.len() as u64 + 5;
                    }
                }
                _ => {}
            }
            Ok(v)
        }
    }

    impl b::exports::falco_wasm::plugin::source::Guest for Exports {
        fn info() -> t::SourceInfo {
            let mut i = g::source_info::<Hostile>();
            STATE.with(|s| {
                if let Some(h) = s.borrow().as_ref() {
                    i.event_source = h.source.clone();
                }
            });
            i
        }
        fn list_open_params() -> Result<Vec<t::OpenParam>, String> {
            g::list_open_params::<Hostile>(&STATE)
        }
        fn open(params: String) -> Result<(), String> {
            g::open::<Hostile>(&STATE, &params)
        }
        fn next_batch(max_events: u32) -> Result<t::Batch, String> {
            let mut batch = g::next_batch::<Hostile>(&STATE, max_events)?;
            if mode() == "badends" && !batch.ends.is_empty() {
                batch.ends.push(batch.data.len() as u32 + 100);
                batch.timestamps.push(None);
            }
            Ok(batch)
        }
        fn progress() -> t::ProgressReport {
            g::progress::<Hostile>(&STATE)
        }
        fn event_to_string(data: Vec<u8>) -> String {
            g::event_to_string::<Hostile>(&STATE, &data)
        }
        fn close() {
            g::close::<Hostile>(&STATE)
        }
    }

    b::export_source!(Exports with_types_in b);
}
