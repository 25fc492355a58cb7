//! The `json` extractor plugin: fields over any JSON event payload, with the
//! semantics of Falco's json plugin. `json.value[/a/b]` follows an RFC 6901
//! pointer; strings come out without quotes, other values as compact JSON.

use guest_sdk::json;
use guest_sdk::{EventInput, Extractor, Field, Plugin, Request, Value};

/// The plugin (stateless).
pub struct Json;

impl Plugin for Json {
    const NAME: &'static str = "json";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Extracts values from any JSON event payload";
    const CONTACT: &'static str = "falco-wasm project";
    fn new(_config: &str) -> Result<Json, String> {
        Ok(Json)
    }
}

impl Extractor for Json {
    const FIELDS: &'static [Field] = &[
        Field::string(
            "json.value",
            "The value at a JSON pointer (RFC 6901), e.g. json.value[/user/name]; strings without quotes, other values as JSON text.",
        )
        .key(true)
        .display("JSON value"),
        Field::string("json.obj", "The whole payload as JSON text.").display("JSON object"),
        Field::string("json.rawtime", "The event's time, nanoseconds since the epoch, as text.")
            .display("JSON time"),
        Field::string("jevt.value", "Alias of json.value.")
            .key(true)
            .hidden(),
        Field::string("jevt.obj", "Alias of json.obj.").hidden(),
        Field::string("jevt.rawtime", "Alias of json.rawtime.").hidden(),
    ];

    fn extract(
        &mut self,
        ev: &EventInput,
        reqs: &[Request],
        out: &mut [Vec<Value>],
    ) -> Result<(), String> {
        let mut doc = None;
        for (r, o) in reqs.iter().zip(out) {
            // FIELDS: json.value, json.obj, json.rawtime, then the same
            // three as jevt.* aliases.
            if r.field % 3 == 2 {
                o.push(Value::Str(ev.timestamp.to_string()));
                continue;
            }
            let Some(d) = doc.get_or_insert_with(|| json::Doc::parse(ev.data)) else {
                continue;
            };
            let v = match r.field % 3 {
                0 => r.key.and_then(|k| d.text_at_pointer(k)),
                _ => d.to_json(),
            };
            if let Some(v) = v {
                o.push(Value::Str(v));
            }
        }
        Ok(())
    }
}

guest_sdk::export_extractor_plugin!(Json);

#[cfg(test)]
mod tests {
    use super::*;
    use guest_sdk::native::{DynPlugin, FieldRequest, Native};

    #[test]
    fn fields_are_laid_out_as_extract_expects() {
        let names: Vec<&str> = Json::FIELDS.iter().map(|f| f.name).collect();
        assert_eq!(
            names,
            [
                "json.value",
                "json.obj",
                "json.rawtime",
                "jevt.value",
                "jevt.obj",
                "jevt.rawtime"
            ]
        );
    }

    #[test]
    fn pointer_values_objects_and_time() {
        let mut p = Native::<Json>::extractor();
        p.init("").unwrap();
        let data = br#"{"user":{"name":"alice","groups":["a","b"]},"n":3,"ok":true,"nil":null}"#;
        let mut evs = guest_sdk::Events::new();
        evs.push(data, None);
        let ts = [1_700_000_000_000_000_000];
        let ev = evs.batch("k8s_audit", &[1], &ts);
        let req = |field, key: Option<&str>| FieldRequest {
            field,
            key: key.map(Into::into),
            index: None,
        };
        let reqs = [
            req(0, Some("/user/name")),
            req(0, Some("/user/groups")),
            req(0, Some("/n")),
            req(0, Some("/ok")),
            req(0, Some("/nil")),
            req(0, Some("/missing")),
            req(2, None),
            req(3, Some("/user/groups/1")),
            req(4, None),
        ];
        let mut out = guest_sdk::Values::new();
        p.extract(&ev, &reqs, &mut out).unwrap();
        let s = |x: &str| vec![Value::Str(x.into())];
        assert_eq!(
            out.to_vecs(),
            vec![
                s("alice"),
                s(r#"["a","b"]"#),
                s("3"),
                s("true"),
                vec![],
                vec![],
                s("1700000000000000000"),
                s("b"),
                s(r#"{"n":3,"nil":null,"ok":true,"user":{"groups":["a","b"],"name":"alice"}}"#),
            ]
        );
        // Not JSON: no values, no error.
        let mut bad = guest_sdk::Events::new();
        bad.push(b"{nope", None);
        let mut out = guest_sdk::Values::new();
        p.extract(&bad.batch("k8s_audit", &[1], &ts), &reqs[..1], &mut out)
            .unwrap();
        assert_eq!(out.to_vecs(), vec![Vec::<Value>::new()]);
    }
}
