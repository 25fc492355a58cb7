//! A template plugin: copy this crate, rename it, and replace the event
//! source and fields with yours.
//!
//! It produces `count` events (init config `{"count": N}`, default 3) of
//! source `hello`, each a small JSON object, and extracts `hello.msg` and
//! `hello.n` from them.
//!
//! Build it as a component: `cargo build --target wasm32-wasip2 --release
//! -p falco-wasm-plugin-template`, then
//! `falco-wasm run --plugin template_plugin.wasm -r my_rules.yaml` with
//! rules that say `source: hello` (or no `-r`: the rules it carries).

use guest_sdk::json::{self, Doc};
use guest_sdk::{
    BatchStatus, EventInput, Events, Extractor, Field, Plugin, Request, Source, Value,
};

pub struct Hello {
    count: u64,
    sent: u64,
}

impl Plugin for Hello {
    const NAME: &'static str = "hello";
    const VERSION: &'static str = "0.1.0";
    const DESCRIPTION: &'static str = "Says hello a few times";
    const CONTACT: &'static str = "you@example.com";
    const INIT_SCHEMA: Option<&'static str> = Some(
        r#"{"type":"object","properties":{"count":{"type":"integer","minimum":0}},"additionalProperties":false}"#,
    );
    /// Rules the component carries: `falco-wasm run --plugin
    /// template_plugin.wasm`, no rules named, raises them (a real plugin
    /// would `include_str!` its rules file).
    const DEFAULT_RULES: Option<&'static str> = Some(
        "- rule: Third greeting\n  desc: the third hello of a run\n  condition: hello.n = 3\n  output: greeting number %hello.n said (%hello.msg)\n  priority: INFORMATIONAL\n  source: hello\n",
    );

    fn new(config: &str) -> Result<Hello, String> {
        let cfg = json::parse(config.as_bytes()).unwrap_or_default();
        let count = cfg.get("count").and_then(|c| c.as_u64()).unwrap_or(3);
        Ok(Hello { count, sent: 0 })
    }
}

impl Extractor for Hello {
    const FIELDS: &'static [Field] = &[
        Field::string("hello.msg", "The greeting.").output(),
        Field::uint64("hello.n", "The greeting's number, from 1."),
    ];

    fn extract(
        &mut self,
        ev: &EventInput,
        reqs: &[Request],
        out: &mut [Vec<Value>],
    ) -> Result<(), String> {
        let Some(mut d) = Doc::parse(ev.data) else {
            return Ok(()); // not ours: no values
        };
        for (r, o) in reqs.iter().zip(out) {
            match r.name {
                "hello.msg" => o.extend(d.text_at("msg").map(Value::Str)),
                "hello.n" => o.extend(d.text_at("n").and_then(|n| n.parse().ok()).map(Value::Num)),
                _ => {}
            }
        }
        Ok(())
    }
}

impl Source for Hello {
    /// 999 is Falco's id for plugins in development.
    const ID: u32 = 999;
    const EVENT_SOURCE: &'static str = "hello";

    fn open(&mut self, _params: &str) -> Result<(), String> {
        self.sent = 0;
        Ok(())
    }

    fn next_batch(&mut self, max: usize, out: &mut Events) -> Result<BatchStatus, String> {
        while out.len() < max && self.sent < self.count {
            self.sent += 1;
            let data = format!(r#"{{"msg":"hello world","n":{}}}"#, self.sent);
            out.push(data.as_bytes(), None);
        }
        Ok(if self.sent == self.count {
            BatchStatus::Eof
        } else {
            BatchStatus::Ok
        })
    }
}

guest_sdk::export_source_plugin!(Hello);

#[cfg(test)]
mod tests {
    use super::*;
    use guest_sdk::native::{DynPlugin, FieldRequest, Native};

    #[test]
    fn produces_and_extracts() {
        let mut p = Native::<Hello>::source();
        p.init(r#"{"count": 2}"#).unwrap();
        p.open("").unwrap();
        let mut evs = Events::new();
        assert_eq!(p.next_batch(10, &mut evs).unwrap(), BatchStatus::Eof);
        assert_eq!(evs.len(), 2);
        let inputs = evs.batch("hello", &[1, 2], &[0, 0]);
        let reqs = [0, 1].map(|field| FieldRequest {
            field,
            key: None,
            index: None,
        });
        let mut out = guest_sdk::Values::new();
        p.extract(&inputs, &reqs, &mut out).unwrap();
        assert_eq!(
            out.to_vecs(),
            vec![
                vec![Value::Str("hello world".into())],
                vec![Value::Num(1)],
                vec![Value::Str("hello world".into())],
                vec![Value::Num(2)],
            ]
        );
    }
}
