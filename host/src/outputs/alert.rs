//! An alert and its two renderings: Falco's text line and Falco's JSON.

use super::format::{push_escaped, render_value};
use crate::fields::ValueKind;
use crate::filter::value::{SlotValue, Value};
use crate::priority::Priority;
use crate::time::{iso8601, local_time_of_day};

/// One alert, as rules (or the engine itself, for internal alerts) raise it.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    /// Event time, ns since the epoch.
    pub time_ns: i64,
    /// Rule name (`Falco internal: ...` for internal alerts).
    pub rule: String,
    /// Priority.
    pub priority: Priority,
    /// Event source (`syscall`, a plugin source, or `internal`).
    pub source: String,
    /// The rule's tags.
    pub tags: Vec<String>,
    /// The rendered rule output (without time and priority).
    pub message: String,
    /// `output_fields`: each `%field` of the output (not transformed ones),
    /// in order, typed; `None` when missing.
    pub fields: Vec<(String, Option<FieldValue>)>,
    /// The host's name.
    pub hostname: String,
}

impl Alert {
    /// An alert with `source: internal` (Falco's rule names for them), at
    /// the current time.
    pub fn internal(
        rule: &str,
        message: String,
        fields: Vec<(String, Option<FieldValue>)>,
        hostname: &str,
    ) -> Alert {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i64);
        Alert {
            time_ns: now,
            rule: rule.into(),
            priority: Priority::Critical,
            source: "internal".into(),
            tags: Vec::new(),
            message,
            fields,
            hostname: hostname.to_string(),
        }
    }
}

/// A typed field value for JSON `output_fields`.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue {
    /// A number.
    Num(i64),
    /// A float.
    Double(f64),
    /// A boolean.
    Bool(bool),
    /// Text (strings, addresses, lists).
    Text(String),
}

impl FieldValue {
    /// The JSON value of an extracted slot (`None` when missing).
    pub fn from_slot(v: &SlotValue, kind: ValueKind) -> Option<FieldValue> {
        match v {
            SlotValue::Missing => None,
            SlotValue::One(Value::Num(n)) => Some(FieldValue::Num(*n)),
            SlotValue::One(Value::Double(d)) => Some(FieldValue::Double(*d)),
            SlotValue::One(Value::Bool(b)) => Some(FieldValue::Bool(*b)),
            other => Some(FieldValue::Text(render_value(other, kind))),
        }
    }

    /// The JSON value of this field.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            FieldValue::Num(n) => (*n).into(),
            FieldValue::Double(d) => (*d).into(),
            FieldValue::Bool(b) => (*b).into(),
            FieldValue::Text(s) => s.clone().into(),
        }
    }
}

/// What the JSON form includes and how times are written (falco.yaml keys).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FormatOptions {
    /// `json_output`.
    pub json: bool,
    /// `time_format_iso_8601`.
    pub iso8601: bool,
    /// `json_include_output_property`.
    pub include_output: bool,
    /// `json_include_message_property`.
    pub include_message: bool,
    /// `json_include_output_fields_property`.
    pub include_output_fields: bool,
    /// `json_include_tags_property`.
    pub include_tags: bool,
}

impl Default for FormatOptions {
    fn default() -> FormatOptions {
        FormatOptions {
            json: false,
            iso8601: false,
            include_output: true,
            include_message: false,
            include_output_fields: true,
            include_tags: true,
        }
    }
}

impl Alert {
    /// `HH:MM:SS.nnnnnnnnn: Priority message` in local time (or the ISO
    /// 8601 UTC time with `+0000`, as Falco prints it with
    /// `time_format_iso_8601`). Always one line: control characters left in
    /// the message (rendered rule outputs have none; an internal alert may
    /// quote a plugin's error) are escaped as in rule outputs.
    pub fn text(&self, iso: bool) -> String {
        let time = if iso {
            iso8601(self.time_ns).replace('Z', "+0000")
        } else {
            local_time_of_day(self.time_ns)
        };
        let mut s = format!("{time}: {} ", self.priority);
        s.reserve(self.message.len());
        push_escaped(&mut s, self.message.as_bytes());
        s
    }

    /// Falco's JSON object (keys in Falco's alphabetical order; the time
    /// prefix field is in `output_fields` as an integer, as Falco adds it).
    pub fn json(&self, o: &FormatOptions) -> String {
        let mut m = serde_json::Map::new();
        m.insert("hostname".into(), self.hostname.clone().into());
        if o.include_message {
            m.insert("message".into(), self.message.clone().into());
        }
        if o.include_output {
            m.insert("output".into(), self.text(o.iso8601).into());
        }
        if o.include_output_fields {
            let mut f = serde_json::Map::new();
            let time_key = if o.iso8601 {
                "evt.time.iso8601"
            } else {
                "evt.time"
            };
            f.insert(time_key.into(), self.time_ns.into());
            for (name, v) in &self.fields {
                f.insert(
                    name.clone(),
                    v.as_ref()
                        .map_or(serde_json::Value::Null, FieldValue::to_json),
                );
            }
            m.insert("output_fields".into(), f.into());
        }
        m.insert("priority".into(), self.priority.to_string().into());
        m.insert("rule".into(), self.rule.clone().into());
        m.insert("source".into(), self.source.clone().into());
        if o.include_tags {
            m.insert("tags".into(), self.tags.clone().into());
        }
        m.insert("time".into(), iso8601(self.time_ns).into());
        serde_json::Value::Object(m).to_string()
    }

    /// The line a channel writes: JSON or text per `json_output`.
    pub fn line(&self, o: &FormatOptions) -> String {
        if o.json {
            self.json(o)
        } else {
            self.text(o.iso8601)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert() -> Alert {
        Alert {
            time_ns: 1_470_327_477_881_781_397,
            rule: "open_from_cat".into(),
            priority: Priority::Warning,
            source: "syscall".into(),
            tags: vec!["filesystem".into(), "process".into(), "testing".into()],
            message: "An open was seen (command=cat /dev/null)".into(),
            fields: vec![(
                "proc.cmdline".into(),
                Some(FieldValue::Text("cat /dev/null".into())),
            )],
            hostname: "test-falco-hostname".into(),
        }
    }

    #[test]
    fn falco_canonical_json() {
        let o = FormatOptions {
            json: true,
            iso8601: true,
            ..FormatOptions::default()
        };
        // Falco's expected output from its test suite, modulo key order
        // (compare parsed objects).
        let want: serde_json::Value = serde_json::from_str(r#"{"hostname":"test-falco-hostname","output":"2016-08-04T16:17:57.881781397+0000: Warning An open was seen (command=cat /dev/null)","priority":"Warning","rule":"open_from_cat","source":"syscall","tags":["filesystem","process","testing"],"time":"2016-08-04T16:17:57.881781397Z","output_fields":{"evt.time.iso8601":1470327477881781397,"proc.cmdline":"cat /dev/null"}}"#).unwrap();
        let got: serde_json::Value = serde_json::from_str(&alert().json(&o)).unwrap();
        assert_eq!(got, want);
    }

    #[test]
    fn text_and_switches() {
        let a = alert();
        // Local time of day (UTC on a UTC machine: 16:17:57.881781397).
        assert_eq!(
            a.text(false),
            format!(
                "{}: Warning An open was seen (command=cat /dev/null)",
                crate::time::local_time_of_day(a.time_ns)
            )
        );
        let o = FormatOptions {
            json: true,
            include_output: false,
            include_tags: false,
            include_output_fields: false,
            include_message: true,
            ..FormatOptions::default()
        };
        let v: serde_json::Value = serde_json::from_str(&a.json(&o)).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["hostname", "message", "priority", "rule", "source", "time"]
        );
        let mut missing = a.clone();
        missing.fields.push(("fd.name".into(), None));
        missing
            .fields
            .push(("proc.pid".into(), Some(FieldValue::Num(7))));
        let v: serde_json::Value =
            serde_json::from_str(&missing.json(&FormatOptions::default())).unwrap();
        assert_eq!(v["output_fields"]["fd.name"], serde_json::Value::Null);
        assert_eq!(v["output_fields"]["proc.pid"], 7);
        assert!(v["output_fields"]["evt.time"].is_i64());
    }

    #[test]
    fn text_is_one_line_whatever_the_message() {
        // An internal alert quoting a plugin's error, built by hand.
        let mut a = alert();
        a.message = "Plugin x failed: boom\n12:00:00.000000000: Critical forged\x1b[2J".into();
        let text = a.text(false);
        assert_eq!(text.lines().count(), 1, "{text:?}");
        assert!(
            text.ends_with(
                r"Warning Plugin x failed: boom\n12:00:00.000000000: Critical forged\x1b[2J"
            ),
            "{text:?}"
        );
        let v: serde_json::Value =
            serde_json::from_str(&a.json(&FormatOptions::default())).unwrap();
        assert_eq!(v["output"], text.as_str());
    }
}
