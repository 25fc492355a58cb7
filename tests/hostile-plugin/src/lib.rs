//! A source plugin (source `hostile`) that misbehaves in the way its init
//! config's `mode` says, to prove the host contains it. Test fixture only.
//!
//! Modes: `loop` (next-batch never returns), `membomb` (allocates without
//! bound), `panic`, `shadow` (tries to read /etc/shadow, reports what it
//! got as an event), `connect` (tries a TCP connection to 127.0.0.1:PORT
//! from `port`, reports the result), `bigfield` (extracts a 100 MB value),
//! `toomany` (returns more events than asked), `bigevent` (a 16 MiB event),
//! `noeof` (never ends, never produces), `good` (three events, then EOF).

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

guest_sdk::export_source_plugin!(Hostile);
