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

use guest_sdk::{
    BatchStatus, EventInput, Events, Extractor, Field, Plugin, Request, Source, Value, json,
};

pub struct Hostile {
    mode: String,
    port: u16,
    sent: u32,
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
        })
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

impl Source for Hostile {
    const ID: u32 = 999;
    const EVENT_SOURCE: &'static str = "hostile";

    fn open(&mut self, _params: &str) -> Result<(), String> {
        Ok(())
    }

    fn next_batch(&mut self, max: usize, out: &mut Events) -> Result<BatchStatus, String> {
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
            g::fields::<Hostile>()
        }
        fn extract_sources() -> Vec<String> {
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
            g::source_info::<Hostile>()
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
