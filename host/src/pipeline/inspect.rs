//! `falco-wasm inspect`: the events a filter selects (live or from a
//! capture file), printed one per line with a `%field` format or as JSON,
//! or counted by a key for a `--top` table. The filter and the format go
//! through the rules compiler: they are a one-rule engine whose matches
//! come here instead of to the outputs.

use crate::capture::syscalls::{Io, data_direction};
use crate::outputs::alert::{Alert, FieldValue};
use std::collections::HashMap;
use std::io::Write;

/// sysdig's default line, with the fields this engine has.
pub const DEFAULT_FORMAT: &str =
    "%evt.num %evt.time %proc.name (%thread.tid) < %evt.type %evt.args";

/// The `--top` tables: what is counted, by which key, over which events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Top {
    /// Events per process (name and pid).
    Procs,
    /// Opens per file.
    Files,
    /// Connects and accepts per connection.
    Connections,
}

impl Top {
    /// The key's format.
    pub fn format(self) -> &'static str {
        match self {
            Top::Procs => "%proc.name (%proc.pid)",
            Top::Files | Top::Connections => "%fd.name",
        }
    }

    /// The events counted (ANDed with the user's filter).
    pub fn condition(self) -> Option<&'static str> {
        match self {
            Top::Procs => None,
            Top::Files => Some("evt.type in (open, openat, openat2, creat) and fd.typechar = f"),
            Top::Connections => {
                Some("evt.type in (connect, accept, accept4) and fd.type in (ipv4, ipv6)")
            }
        }
    }

    fn title(self) -> &'static str {
        match self {
            Top::Procs => "events  process (pid)",
            Top::Files => "opens  file",
            Top::Connections => "count  connection",
        }
    }
}

/// How matches are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Show {
    /// The format's text, one line per event.
    Lines,
    /// The format's fields as a JSON object, one per line.
    Json,
    /// A table of the most frequent keys at the end.
    Top(Top),
    /// The data of reads and writes, as sysdig's `echo_fds` shows it.
    Spy,
}

/// The spy view: the I/O calls whose data the probe keeps, that moved
/// some (ANDed with the user's filter).
pub const SPY_CONDITION: &str = "evt.type in (read, write, pread, pwrite, readv, writev, sendto, \
     recvfrom, sendmsg, recvmsg) and evt.rawres > 0";

/// The spy view's fields (the printer reads them by name).
pub const SPY_FORMAT: &str = "%evt.type %evt.rawres %proc.name %proc.pid %fd.name %evt.buffer";

/// Rows of a `--top` table.
const TOP_ROWS: usize = 20;

/// Prints (or counts) the matches of an inspect filter.
pub struct Printer {
    show: Show,
    out: std::io::BufWriter<Box<dyn Write + Send>>,
    counts: HashMap<String, u64>,
    /// Events shown or counted.
    pub matched: u64,
    /// The output went away (a closed pipe): the run should end.
    pub closed: bool,
}

impl Printer {
    /// A printer to stdout.
    pub fn stdout(show: Show) -> Printer {
        Printer::new(show, Box::new(std::io::stdout()))
    }

    /// A printer to `out`.
    pub fn new(show: Show, out: Box<dyn Write + Send>) -> Printer {
        Printer {
            show,
            out: std::io::BufWriter::new(out),
            counts: HashMap::new(),
            matched: 0,
            closed: false,
        }
    }

    /// One match (the rule's alert: its message is the format's text).
    pub fn event(&mut self, a: &Alert) {
        self.matched += 1;
        let result = match self.show {
            Show::Lines => writeln!(self.out, "{}", a.message),
            Show::Json => writeln!(self.out, "{}", json(a)),
            Show::Top(_) => {
                // an event without the key (a failed connect) is not counted
                if !a.message.trim().is_empty() {
                    *self.counts.entry(a.message.clone()).or_default() += 1;
                }
                Ok(())
            }
            Show::Spy => write!(self.out, "{}", spy(a)),
        };
        if result.is_err() {
            self.closed = true;
        }
    }

    /// Prints the `--top` table (if any) and flushes.
    pub fn finish(&mut self) {
        if let Show::Top(top) = self.show {
            let mut rows: Vec<(&String, &u64)> = self.counts.iter().collect();
            rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let _ = writeln!(self.out, "{}", top.title());
            for (key, n) in rows.into_iter().take(TOP_ROWS) {
                let _ = writeln!(self.out, "{n:>6}  {key}");
            }
        }
        let _ = self.out.flush();
    }
}

/// A read or write as the spy view shows it: a header line, then the
/// data kept (the first bytes), non-printable bytes as dots.
fn spy(a: &Alert) -> String {
    let field = |name: &str| {
        a.fields
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.as_ref())
    };
    let text = |name: &str| match field(name) {
        Some(FieldValue::Text(t)) => t.clone(),
        Some(FieldValue::Num(n)) => n.to_string(),
        _ => String::new(),
    };
    let (verb, dir) = match data_direction(&text("evt.type")) {
        Some(Io::Read) => ("Read", "from"),
        _ => ("Write", "to"),
    };
    let data: String = text("evt.buffer")
        .chars()
        .map(|c| match c {
            '\n' | '\t' => c,
            c if c.is_control() || c == '\u{fffd}' => '.',
            c => c,
        })
        .collect();
    format!(
        "------ {verb} {}B {dir} {} ({} {})\n{data}\n",
        text("evt.rawres"),
        text("fd.name"),
        text("proc.name"),
        text("proc.pid"),
    )
}

/// The format's fields of a match as one JSON object (typed values; a
/// field without a value is null).
fn json(a: &Alert) -> String {
    let map: serde_json::Map<String, serde_json::Value> = a
        .fields
        .iter()
        .map(|(k, v)| {
            let v = v
                .as_ref()
                .map_or(serde_json::Value::Null, FieldValue::to_json);
            (k.clone(), v)
        })
        .collect();
    serde_json::Value::Object(map).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn alert(msg: &str) -> Alert {
        Alert {
            time_ns: 0,
            rule: "filter".into(),
            priority: crate::priority::Priority::Debug,
            source: "syscall".into(),
            tags: Vec::new(),
            message: msg.into(),
            fields: vec![
                ("proc.name".into(), Some(FieldValue::Text(msg.into()))),
                ("proc.pid".into(), Some(FieldValue::Num(7))),
                ("fd.name".into(), None),
            ],
            hostname: String::new(),
        }
    }

    #[test]
    fn the_spy_view_shows_a_header_and_the_data() {
        let text = |s: &str| Some(FieldValue::Text(s.into()));
        let mut a = alert("x");
        a.fields = vec![
            ("evt.type".into(), text("recvfrom")),
            ("evt.rawres".into(), Some(FieldValue::Num(9))),
            ("proc.name".into(), text("curl")),
            ("proc.pid".into(), Some(FieldValue::Num(42))),
            ("fd.name".into(), text("1.2.3.4:5->6.7.8.9:80")),
            ("evt.buffer".into(), text("ok\r\nbye\u{1}\n")),
        ];
        assert_eq!(
            spy(&a),
            "------ Read 9B from 1.2.3.4:5->6.7.8.9:80 (curl 42)\nok.\nbye.\n\n"
        );
    }

    #[test]
    fn lines_json_and_top_tables() {
        let buf = Buf::default();
        let mut p = Printer::new(Show::Json, Box::new(buf.clone()));
        p.event(&alert("cat"));
        p.finish();
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(v["proc.name"], "cat");
        assert_eq!(v["proc.pid"], 7);
        assert!(v["fd.name"].is_null());

        let buf = Buf::default();
        let mut p = Printer::new(Show::Top(Top::Procs), Box::new(buf.clone()));
        for m in ["b", "a", "b", "c", "b", "a"] {
            p.event(&alert(m));
        }
        p.finish();
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "events  process (pid)",
                "     3  b",
                "     2  a",
                "     1  c"
            ]
        );
    }
}
