//! Write falco-wasm plugins in Rust.
//!
//! A plugin is a type implementing [`Plugin`] and [`Extractor`] (field
//! extraction), and [`Source`] if it produces events, plus one export macro:
//! [`export_source_plugin!`] or [`export_extractor_plugin!`]. Built for
//! `wasm32-wasip2` the crate is a WebAssembly component of the
//! `falco-wasm:plugin` worlds (`wit/plugin.wit`); built natively the same
//! type runs in-process through [`native::Native`] (for tests, and to
//! measure what the sandbox costs).
//!
//! ```
//! use guest_sdk::*;
//!
//! #[derive(Default)]
//! struct Hello { left: u32 }
//!
//! impl Plugin for Hello {
//!     const NAME: &'static str = "hello";
//!     const VERSION: &'static str = "0.1.0";
//!     const DESCRIPTION: &'static str = "Says hello";
//!     const CONTACT: &'static str = "you@example.com";
//!     fn new(_config: &str) -> Result<Self, String> { Ok(Hello::default()) }
//! }
//! impl Extractor for Hello {
//!     const FIELDS: &'static [Field] = &[Field::string("hello.msg", "The message")];
//!     fn extract(&mut self, ev: &EventInput, reqs: &[Request], out: &mut [Vec<Value>]) -> Result<(), String> {
//!         for (r, o) in reqs.iter().zip(out) {
//!             if r.name == "hello.msg" { o.push(Value::Str(String::from_utf8_lossy(ev.data).into())) }
//!         }
//!         Ok(())
//!     }
//! }
//! impl Source for Hello {
//!     const ID: u32 = 999;
//!     const EVENT_SOURCE: &'static str = "hello";
//!     fn open(&mut self, _params: &str) -> Result<(), String> { self.left = 3; Ok(()) }
//!     fn next_batch(&mut self, _max: usize, out: &mut Events) -> Result<BatchStatus, String> {
//!         if self.left == 0 { return Ok(BatchStatus::Eof) }
//!         self.left -= 1;
//!         out.push(b"hello", None);
//!         Ok(BatchStatus::Ok)
//!     }
//! }
//! export_source_plugin!(Hello);
//! ```

pub mod json;
pub mod native;
pub mod time;
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod wasm;

pub use serde_json;

/// The plugin API version this SDK implements (Falco's numbering).
pub const API_VERSION: &str = "3.0.0";

/// A field's value type (Falco's plugin field types).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    String,
    Uint64,
    Bool,
    RelTime,
    AbsTime,
    IpAddr,
    IpNet,
}

impl FieldType {
    /// Falco's name (`string`, `uint64`, …).
    pub const fn name(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Uint64 => "uint64",
            FieldType::Bool => "bool",
            FieldType::RelTime => "reltime",
            FieldType::AbsTime => "abstime",
            FieldType::IpAddr => "ipaddr",
            FieldType::IpNet => "ipnet",
        }
    }
}

/// Whether a field takes an argument in brackets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    None,
    /// `field[3]`.
    Index {
        required: bool,
    },
    /// `field[some key]`.
    Key {
        required: bool,
    },
}

/// A field definition. Build with [`Field::string`] / [`Field::uint64`] /
/// [`Field::bool`] and the chainable `const` modifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub ty: FieldType,
    pub list: bool,
    pub arg: Arg,
    pub display: &'static str,
    pub desc: &'static str,
    pub add_output: bool,
    pub hidden: bool,
}

impl Field {
    pub const fn new(name: &'static str, ty: FieldType, desc: &'static str) -> Field {
        Field {
            name,
            ty,
            list: false,
            arg: Arg::None,
            display: name,
            desc,
            add_output: false,
            hidden: false,
        }
    }
    pub const fn string(name: &'static str, desc: &'static str) -> Field {
        Field::new(name, FieldType::String, desc)
    }
    pub const fn uint64(name: &'static str, desc: &'static str) -> Field {
        Field::new(name, FieldType::Uint64, desc)
    }
    pub const fn bool(name: &'static str, desc: &'static str) -> Field {
        Field::new(name, FieldType::Bool, desc)
    }
    /// A list-valued field.
    pub const fn list(mut self) -> Field {
        self.list = true;
        self
    }
    /// Takes a key argument.
    pub const fn key(mut self, required: bool) -> Field {
        self.arg = Arg::Key { required };
        self
    }
    /// Takes an index argument.
    pub const fn index(mut self, required: bool) -> Field {
        self.arg = Arg::Index { required };
        self
    }
    pub const fn display(mut self, display: &'static str) -> Field {
        self.display = display;
        self
    }
    /// Suggested for rule outputs.
    pub const fn output(mut self) -> Field {
        self.add_output = true;
        self
    }
    /// Hidden from field listings (aliases kept for compatibility).
    pub const fn hidden(mut self) -> Field {
        self.hidden = true;
        self
    }
}

/// An extracted value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Str(String),
    Num(u64),
    Flag(bool),
    /// 4 or 16 bytes.
    Addr(Vec<u8>),
}

/// Where item `i` is when `ends` holds where each item ends (the first
/// starts at 0): the layout of [`Values`], [`Events`] and [`EventBatch`].
fn span(ends: &[u32], i: usize) -> Option<std::ops::Range<usize>> {
    let end = *ends.get(i)? as usize;
    let start = match i {
        0 => 0,
        _ => ends[i - 1] as usize,
    };
    (start <= end).then_some(start..end)
}

/// Checks ends that crossed the boundary: in order, none past `len` of
/// what they index (`what`).
fn check_ends(ends: &[u32], len: usize, what: &str) -> Result<(), String> {
    let mut prev = 0;
    for &e in ends {
        if e < prev || e as usize > len {
            return Err(format!("end {e} out of order or past the {len} {what}"));
        }
        prev = e;
    }
    Ok(())
}

/// Values extracted for a batch of events, laid out flat (as they cross
/// the sandbox boundary): cell `k = i * requests + j` (event i, request j)
/// holds `items[ends[k-1]..ends[k]]`, and string values are ranges of one
/// `text`. No allocation per value or per cell.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Values {
    ends: Vec<u32>,
    items: Vec<Item>,
    text: String,
}

/// One value in [`Values`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    /// `text[start..end]`.
    Str {
        start: u32,
        end: u32,
    },
    Num(u64),
    Flag(bool),
    Addr4([u8; 4]),
    Addr6([u8; 16]),
}

/// The kinds of [`Item`] as the contract's `value-kind` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemKind {
    Str,
    Num,
    Flag,
    Addr4,
    Addr6,
}

impl Item {
    /// The contract's layout of a value (`value {kind, a, b}` in
    /// `wit/plugin.wit`): `str` offsets, `num` in `a`, `flag` 0/1,
    /// `addr4` in the low 32 bits of `a`, `addr6` high half in `a`.
    pub fn to_wire(self) -> (ItemKind, u64, u64) {
        match self {
            Item::Str { start, end } => (ItemKind::Str, start.into(), end.into()),
            Item::Num(n) => (ItemKind::Num, n, 0),
            Item::Flag(f) => (ItemKind::Flag, f.into(), 0),
            Item::Addr4(a) => (ItemKind::Addr4, u32::from_be_bytes(a).into(), 0),
            Item::Addr6(a) => {
                let v = u128::from_be_bytes(a);
                (ItemKind::Addr6, (v >> 64) as u64, v as u64)
            }
        }
    }

    /// [`Item::to_wire`] undone; `None` for string offsets past 32 bits.
    pub fn from_wire(kind: ItemKind, a: u64, b: u64) -> Option<Item> {
        Some(match kind {
            ItemKind::Str => Item::Str {
                start: a.try_into().ok()?,
                end: b.try_into().ok()?,
            },
            ItemKind::Num => Item::Num(a),
            ItemKind::Flag => Item::Flag(a != 0),
            ItemKind::Addr4 => Item::Addr4((a as u32).to_be_bytes()),
            ItemKind::Addr6 => Item::Addr6((((a as u128) << 64) | b as u128).to_be_bytes()),
        })
    }
}

/// A value read from [`Values`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueRef<'a> {
    Str(&'a str),
    Num(u64),
    Flag(bool),
    /// 4 or 16 bytes.
    Addr(&'a [u8]),
}

impl Values {
    pub fn new() -> Values {
        Values::default()
    }

    /// Cells so far.
    pub fn cells(&self) -> usize {
        self.ends.len()
    }

    /// Adds a value to the cell being built.
    pub fn push(&mut self, v: &Value) {
        match v {
            Value::Str(s) => self.push_str(s),
            Value::Num(n) => self.items.push(Item::Num(*n)),
            Value::Flag(b) => self.items.push(Item::Flag(*b)),
            Value::Addr(a) => {
                if let Ok(a) = <[u8; 4]>::try_from(a.as_slice()) {
                    self.items.push(Item::Addr4(a));
                } else if let Ok(a) = <[u8; 16]>::try_from(a.as_slice()) {
                    self.items.push(Item::Addr6(a));
                }
            }
        }
    }

    /// Adds a string value to the cell being built.
    pub fn push_str(&mut self, s: &str) {
        let start = self.text.len() as u32;
        self.text.push_str(s);
        self.items.push(Item::Str {
            start,
            end: self.text.len() as u32,
        });
    }

    /// Ends the cell being built (no value pushed: an empty cell).
    pub fn end_cell(&mut self) {
        self.ends.push(self.items.len() as u32);
    }

    /// The values of cell `k` (none if there is no such cell).
    pub fn cell(&self, k: usize) -> impl Iterator<Item = ValueRef<'_>> {
        span(&self.ends, k)
            .and_then(|r| self.items.get(r))
            .unwrap_or_default()
            .iter()
            .map(|it| match it {
                Item::Str { start, end } => {
                    ValueRef::Str(self.text.get(*start as usize..*end as usize).unwrap_or(""))
                }
                Item::Num(n) => ValueRef::Num(*n),
                Item::Flag(b) => ValueRef::Flag(*b),
                Item::Addr4(a) => ValueRef::Addr(a),
                Item::Addr6(a) => ValueRef::Addr(a),
            })
    }

    /// Every cell as owned values (tests, diagnostics).
    pub fn to_vecs(&self) -> Vec<Vec<Value>> {
        (0..self.cells())
            .map(|k| {
                self.cell(k)
                    .map(|v| match v {
                        ValueRef::Str(s) => Value::Str(s.to_string()),
                        ValueRef::Num(n) => Value::Num(n),
                        ValueRef::Flag(b) => Value::Flag(b),
                        ValueRef::Addr(a) => Value::Addr(a.to_vec()),
                    })
                    .collect()
            })
            .collect()
    }

    /// Appends the cells of `other`.
    pub fn append(&mut self, other: Values) {
        if self.ends.is_empty() && self.items.is_empty() && self.text.is_empty() {
            *self = other;
            return;
        }
        let (ib, tb) = (self.items.len() as u32, self.text.len() as u32);
        self.ends.extend(other.ends.iter().map(|e| e + ib));
        self.items.extend(other.items.iter().map(|it| match *it {
            Item::Str { start, end } => Item::Str {
                start: start + tb,
                end: end + tb,
            },
            x => x,
        }));
        self.text.push_str(&other.text);
    }

    /// The parts, for moving across the boundary.
    pub fn into_parts(self) -> (Vec<u32>, Vec<Item>, String) {
        (self.ends, self.items, self.text)
    }

    /// Rebuilds values from parts that crossed the boundary, checking them:
    /// cell ends must not decrease nor pass the items, and every string
    /// range must lie in `text` on character boundaries. `Err` says what
    /// is wrong.
    pub fn from_parts(ends: Vec<u32>, items: Vec<Item>, text: String) -> Result<Values, String> {
        check_ends(&ends, items.len(), "values")?;
        let prev = ends.last().copied().unwrap_or(0);
        if prev as usize != items.len() {
            return Err(format!("{} values but the cells hold {prev}", items.len()));
        }
        for it in &items {
            if let Item::Str { start, end } = *it
                && (start > end
                    || !text.is_char_boundary(start as usize)
                    || !text.is_char_boundary(end as usize)
                    || end as usize > text.len())
            {
                return Err(format!(
                    "string value {start}..{end} is not within the {} bytes of text",
                    text.len()
                ));
            }
        }
        Ok(Values { ends, items, text })
    }
}

/// Events a source produces, laid out flat (as they cross the sandbox
/// boundary): the payloads back to back in one buffer, so a batch costs no
/// allocation per event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Events {
    data: Vec<u8>,
    /// Where each payload ends in `data`.
    ends: Vec<u32>,
    /// Nanoseconds since the epoch; `None` = when the host receives it.
    timestamps: Vec<Option<u64>>,
}

impl Events {
    pub fn new() -> Events {
        Events::default()
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Adds an event.
    pub fn push(&mut self, data: &[u8], timestamp: Option<u64>) {
        self.push_with(timestamp, |buf| buf.extend_from_slice(data));
    }

    /// Adds an event whose payload `write` appends to the buffer (no copy
    /// through a buffer of its own).
    pub fn push_with(&mut self, timestamp: Option<u64>, write: impl FnOnce(&mut Vec<u8>)) {
        write(&mut self.data);
        self.ends.push(self.data.len() as u32);
        self.timestamps.push(timestamp);
    }

    /// Event `i`'s payload.
    pub fn data(&self, i: usize) -> &[u8] {
        span(&self.ends, i)
            .and_then(|r| self.data.get(r))
            .unwrap_or_default()
    }

    /// Event `i`'s time, if the source gave one.
    pub fn timestamp(&self, i: usize) -> Option<u64> {
        self.timestamps.get(i).copied().flatten()
    }

    /// The events at `indexes` (in that order), as a batch of their own.
    pub fn select(&self, indexes: &[usize]) -> Events {
        let mut out = Events::new();
        for &i in indexes {
            out.push(self.data(i), self.timestamp(i));
        }
        out
    }

    /// The parts, for moving across the boundary.
    pub fn into_parts(self) -> (Vec<u8>, Vec<u32>, Vec<Option<u64>>) {
        (self.data, self.ends, self.timestamps)
    }

    /// These events as a batch for extractors: all of `source`, numbered
    /// `nums` and timed `timestamps` (one each) by the host.
    pub fn batch<'a>(
        &'a self,
        source: &'a str,
        nums: &'a [u64],
        timestamps: &'a [u64],
    ) -> EventBatch<'a> {
        EventBatch {
            source,
            data: &self.data,
            ends: &self.ends,
            nums,
            timestamps,
        }
    }

    /// Rebuilds events from parts that crossed the boundary, checking them:
    /// one timestamp per event, ends in order and within `data`.
    pub fn from_parts(
        data: Vec<u8>,
        ends: Vec<u32>,
        timestamps: Vec<Option<u64>>,
    ) -> Result<Events, String> {
        if timestamps.len() != ends.len() {
            return Err(format!(
                "{} timestamps for {} events",
                timestamps.len(),
                ends.len()
            ));
        }
        check_ends(&ends, data.len(), "bytes")?;
        Ok(Events {
            data,
            ends,
            timestamps,
        })
    }
}

/// Events handed to extractors, all of one source, as the host numbered and
/// timed them: event i's payload is `data[ends[i-1]..ends[i]]`.
#[derive(Clone, Copy, Debug)]
pub struct EventBatch<'a> {
    pub source: &'a str,
    pub data: &'a [u8],
    pub ends: &'a [u32],
    pub nums: &'a [u64],
    pub timestamps: &'a [u64],
}

impl<'a> EventBatch<'a> {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Event `i`; `None` past the end or if the batch is malformed there.
    pub fn event(&self, i: usize) -> Option<EventInput<'a>> {
        Some(EventInput {
            num: *self.nums.get(i)?,
            timestamp: *self.timestamps.get(i)?,
            source: self.source,
            data: self.data.get(span(self.ends, i)?)?,
        })
    }
}

/// How a batch ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchStatus {
    Ok,
    Timeout,
    Eof,
}

/// An event handed to an extractor.
#[derive(Clone, Copy, Debug)]
pub struct EventInput<'a> {
    pub num: u64,
    pub timestamp: u64,
    pub source: &'a str,
    pub data: &'a [u8],
}

/// One field to extract.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// Index into [`Extractor::FIELDS`].
    pub field: u32,
    /// The field's name (from [`Extractor::FIELDS`]).
    pub name: &'static str,
    pub key: Option<&'a str>,
    pub index: Option<u64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Metric {
    pub name: String,
    pub value: f64,
    pub monotonic: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenParam {
    pub value: String,
    pub desc: String,
    pub separator: String,
}

/// Log severities (Falco's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Fatal,
    Critical,
    Error,
    Warning,
    Notice,
    Info,
    Debug,
    Trace,
}

/// Writes to the engine's log (natively: to stderr).
pub fn log(level: LogLevel, message: &str) {
    #[cfg(target_arch = "wasm32")]
    wasm::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("{level:?}: {message}");
}

/// An HTTP response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// An outbound HTTP(S) request through the host, to a host the operator
/// granted this plugin (`grants.http_hosts`). Natively (tests, benchmark)
/// there is no network: always an error.
pub fn http(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<HttpResponse, String> {
    #[cfg(target_arch = "wasm32")]
    return wasm::http(method, url, headers, body);
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (method, headers, body);
        Err(format!(
            "{url}: HTTP is only available to plugins running in the sandbox"
        ))
    }
}

/// The input files a path names: the file itself, or every file below a
/// directory (recursively, in path order) for which `keep` is true.
/// Errors name the path.
pub fn input_files(
    path: &str,
    keep: fn(&std::path::Path) -> bool,
) -> Result<Vec<std::path::PathBuf>, String> {
    fn walk(
        dir: &std::path::Path,
        keep: fn(&std::path::Path) -> bool,
        out: &mut Vec<std::path::PathBuf>,
    ) -> std::io::Result<()> {
        for e in std::fs::read_dir(dir)? {
            let e = e?;
            let (p, ft) = (e.path(), e.file_type()?);
            if ft.is_dir() {
                walk(&p, keep, out)?;
            } else if ft.is_file() && keep(&p) {
                out.push(p);
            }
        }
        Ok(())
    }
    let root = std::path::Path::new(path);
    let meta = std::fs::metadata(root).map_err(|e| format!("{path}: {e}"))?;
    if !meta.is_dir() {
        return Ok(vec![root.to_path_buf()]);
    }
    let mut files = Vec::new();
    walk(root, keep, &mut files).map_err(|e| format!("{path}: {e}"))?;
    files.sort();
    Ok(files)
}

/// Request bodies POSTed to this plugin's granted webhook, oldest first, at
/// most `max` (natively: those queued with [`native::webhook_push`]).
pub fn receive(max: u32) -> Vec<Vec<u8>> {
    #[cfg(target_arch = "wasm32")]
    return wasm::receive(max);
    #[cfg(not(target_arch = "wasm32"))]
    native::webhook_take(max)
}

/// Every plugin: identity and construction from its init config.
pub trait Plugin: Sized + 'static {
    const NAME: &'static str;
    const VERSION: &'static str;
    const DESCRIPTION: &'static str;
    const CONTACT: &'static str;
    /// JSON schema of the init config; the host validates it first.
    const INIT_SCHEMA: Option<&'static str> = None;
    /// A rules file (YAML) for the plugin's events, which a run naming no
    /// rules loads (e.g. `Some(include_str!("rules.yaml"))`): the plugin
    /// alone detects something.
    const DEFAULT_RULES: Option<&'static str> = None;
    /// Plugins the default rules need beside this one (`&["json"]`), loaded
    /// from the plugin's directory.
    const COMPANIONS: &'static [&'static str] = &[];
    /// Builds the plugin from its init config (JSON text, "" when none).
    fn new(config: &str) -> Result<Self, String>;
    fn metrics(&self) -> Vec<Metric> {
        Vec::new()
    }
}

/// Field extraction.
pub trait Extractor: Plugin {
    const FIELDS: &'static [Field];
    /// Sources this plugin extracts from; empty = its own source, or every
    /// plugin source for an extractor-only plugin.
    const EXTRACT_SOURCES: &'static [&'static str] = &[];
    /// Fills `out[j]` with the values of `reqs[j]` for one event (leave it
    /// empty for "no value"). Called with every field the rules need, so
    /// the payload can be parsed once.
    fn extract(
        &mut self,
        ev: &EventInput,
        reqs: &[Request],
        out: &mut [Vec<Value>],
    ) -> Result<(), String>;
}

/// Producing events.
pub trait Source: Extractor {
    /// Registered plugin id (Falco's registry), 0 if none.
    const ID: u32;
    const EVENT_SOURCE: &'static str;
    fn open_params(&self) -> Vec<OpenParam> {
        Vec::new()
    }
    fn open(&mut self, params: &str) -> Result<(), String>;
    /// Appends up to `max` events to `out`.
    fn next_batch(&mut self, max: usize, out: &mut Events) -> Result<BatchStatus, String>;
    fn progress(&self) -> (f64, String) {
        (0.0, String::new())
    }
    fn event_to_string(&self, data: &[u8]) -> String {
        String::from_utf8_lossy(data).into_owned()
    }
    fn close(&mut self) {}
}

/// Exports a [`Source`] plugin as a component of the `source-plugin` world
/// (on `wasm32`; natively it expands to nothing — use [`native::Native`]).
#[macro_export]
#[rustfmt::skip]
macro_rules! export_source_plugin {
    ($t:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            use $crate::wasm::source as __b;
            ::std::thread_local! {
                static STATE: ::std::cell::RefCell<::std::option::Option<$t>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }
            struct __Guest;
            impl __b::exports::falco_wasm::plugin::plugin::Guest for __Guest {
                fn info() -> __b::falco_wasm::plugin::types::PluginInfo {
                    $crate::wasm::source_glue::info::<$t>()
                }
                fn init(
                    config: ::std::string::String,
                ) -> ::std::result::Result<(), ::std::string::String> {
                    $crate::wasm::source_glue::init::<$t>(&STATE, &config)
                }
                fn metrics() -> ::std::vec::Vec<__b::falco_wasm::plugin::types::Metric> {
                    $crate::wasm::source_glue::metrics::<$t>(&STATE)
                }
            }
            impl __b::exports::falco_wasm::plugin::extractor::Guest for __Guest {
                fn fields() -> ::std::vec::Vec<__b::falco_wasm::plugin::types::FieldInfo> {
                    $crate::wasm::source_glue::fields::<$t>()
                }
                fn extract_sources() -> ::std::vec::Vec<::std::string::String> {
                    $crate::wasm::source_glue::extract_sources::<$t>()
                }
                fn extract(
                    events: __b::falco_wasm::plugin::types::EventBatch,
                    requests: ::std::vec::Vec<__b::falco_wasm::plugin::types::FieldRequest>,
                ) -> ::std::result::Result<
                    __b::falco_wasm::plugin::types::Values,
                    ::std::string::String,
                > {
                    $crate::wasm::source_glue::extract::<$t>(&STATE, events, requests)
                }
            }
            impl __b::exports::falco_wasm::plugin::source::Guest for __Guest {
                fn info() -> __b::falco_wasm::plugin::types::SourceInfo {
                    $crate::wasm::source_glue::source_info::<$t>()
                }
                fn list_open_params() -> ::std::result::Result<
                    ::std::vec::Vec<__b::falco_wasm::plugin::types::OpenParam>,
                    ::std::string::String,
                > {
                    $crate::wasm::source_glue::list_open_params::<$t>(&STATE)
                }
                fn open(
                    params: ::std::string::String,
                ) -> ::std::result::Result<(), ::std::string::String> {
                    $crate::wasm::source_glue::open::<$t>(&STATE, &params)
                }
                fn next_batch(
                    max_events: u32,
                ) -> ::std::result::Result<
            __b::falco_wasm::plugin::types::Batch,
                    ::std::string::String,
                > {
                    $crate::wasm::source_glue::next_batch::<$t>(&STATE, max_events)
                }
                fn progress() -> __b::falco_wasm::plugin::types::ProgressReport {
                    $crate::wasm::source_glue::progress::<$t>(&STATE)
                }
                fn event_to_string(data: ::std::vec::Vec<u8>) -> ::std::string::String {
                    $crate::wasm::source_glue::event_to_string::<$t>(&STATE, &data)
                }
                fn close() {
                    $crate::wasm::source_glue::close::<$t>(&STATE)
                }
            }
            $crate::wasm::source::export_source!(__Guest with_types_in $crate::wasm::source);
        };
    };
}

/// Exports an [`Extractor`]-only plugin as a component of the
/// `extractor-plugin` world (on `wasm32`; natively it expands to nothing).
#[macro_export]
#[rustfmt::skip]
macro_rules! export_extractor_plugin {
    ($t:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            use $crate::wasm::extractor as __b;
            ::std::thread_local! {
                static STATE: ::std::cell::RefCell<::std::option::Option<$t>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }
            struct __Guest;
            impl __b::exports::falco_wasm::plugin::plugin::Guest for __Guest {
                fn info() -> __b::falco_wasm::plugin::types::PluginInfo {
                    $crate::wasm::extractor_glue::info::<$t>()
                }
                fn init(config: ::std::string::String) -> ::std::result::Result<(), ::std::string::String> {
                    $crate::wasm::extractor_glue::init::<$t>(&STATE, &config)
                }
                fn metrics() -> ::std::vec::Vec<__b::falco_wasm::plugin::types::Metric> {
                    $crate::wasm::extractor_glue::metrics::<$t>(&STATE)
                }
            }
            impl __b::exports::falco_wasm::plugin::extractor::Guest for __Guest {
                fn fields() -> ::std::vec::Vec<__b::falco_wasm::plugin::types::FieldInfo> {
                    $crate::wasm::extractor_glue::fields::<$t>()
                }
                fn extract_sources() -> ::std::vec::Vec<::std::string::String> {
                    $crate::wasm::extractor_glue::extract_sources::<$t>()
                }
                fn extract(
                    events: __b::falco_wasm::plugin::types::EventBatch,
                    requests: ::std::vec::Vec<__b::falco_wasm::plugin::types::FieldRequest>,
                ) -> ::std::result::Result<__b::falco_wasm::plugin::types::Values, ::std::string::String> {
                    $crate::wasm::extractor_glue::extract::<$t>(&STATE, events, requests)
                }
            }
            $crate::wasm::extractor::export_extractor!(__Guest with_types_in $crate::wasm::extractor);
        };
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_flat_select_and_checks() {
        let mut e = Events::new();
        e.push(b"first", Some(7));
        e.push(b"", None);
        e.push_with(Some(9), |buf| buf.extend_from_slice(b"third"));
        assert_eq!(e.len(), 3);
        assert_eq!(
            (0..3)
                .map(|i| (e.data(i), e.timestamp(i)))
                .collect::<Vec<_>>(),
            [(&b"first"[..], Some(7)), (b"", None), (b"third", Some(9))]
        );
        assert_eq!(e.data(5), b"");
        let picked = e.select(&[2, 0]);
        assert_eq!(
            (picked.data(0), picked.data(1)),
            (&b"third"[..], &b"first"[..])
        );
        let batch = e.batch("src", &[1, 2, 3], &[10, 20, 30]);
        let third = batch.event(2).unwrap();
        assert_eq!(
            (third.num, third.timestamp, third.data),
            (3, 30, &b"third"[..])
        );
        assert!(batch.event(3).is_none());
        let (data, ends, ts) = e.clone().into_parts();
        assert_eq!(Events::from_parts(data, ends, ts), Ok(e));
        for (ends, ts, why) in [
            (vec![3, 2], vec![None, None], "out of order"),
            (vec![99], vec![None], "past the 5 bytes"),
            (vec![5], vec![], "0 timestamps for 1 events"),
        ] {
            let err = Events::from_parts(b"hello".to_vec(), ends, ts).unwrap_err();
            assert!(err.contains(why), "{err}");
        }
    }

    #[test]
    fn items_round_trip_through_the_wire_layout() {
        let v6: [u8; 16] = std::array::from_fn(|i| i as u8 * 17);
        for it in [
            Item::Str { start: 3, end: 9 },
            Item::Num(u64::MAX),
            Item::Flag(true),
            Item::Flag(false),
            Item::Addr4([192, 168, 1, 2]),
            Item::Addr6(v6),
        ] {
            let (k, a, b) = it.to_wire();
            assert_eq!(Item::from_wire(k, a, b), Some(it));
        }
        assert_eq!(Item::Addr4([10, 0, 0, 1]).to_wire().1, 0x0a00_0001);
        assert_eq!(Item::from_wire(ItemKind::Str, 0, 1 << 40), None);
    }

    #[test]
    fn values_cells_append_and_checks() {
        let mut v = Values::new();
        v.push(&Value::Str("héllo".into()));
        v.push(&Value::Num(7));
        v.end_cell();
        v.end_cell();
        v.push(&Value::Addr(vec![10, 0, 0, 1]));
        v.push(&Value::Flag(true));
        v.end_cell();
        let mut w = Values::new();
        w.push_str("x");
        w.end_cell();
        v.append(w);
        assert_eq!(
            v.to_vecs(),
            vec![
                vec![Value::Str("héllo".into()), Value::Num(7)],
                vec![],
                vec![Value::Addr(vec![10, 0, 0, 1]), Value::Flag(true)],
                vec![Value::Str("x".into())],
            ]
        );
        assert_eq!(v.cell(9).count(), 0);
        let (ends, items, text) = v.clone().into_parts();
        assert_eq!(Values::from_parts(ends, items, text), Ok(v));

        let str_item = |start, end| Item::Str { start, end };
        let bad = [
            (
                vec![2, 1],
                vec![Item::Num(1), Item::Num(2)],
                "",
                "out of order",
            ),
            (vec![3], vec![Item::Num(1)], "", "past the 1 values"),
            (
                vec![1],
                vec![Item::Num(1), Item::Num(2)],
                "",
                "the cells hold 1",
            ),
            (vec![1], vec![str_item(0, 9)], "abc", "not within"),
            (vec![1], vec![str_item(2, 1)], "abc", "not within"),
            // Inside the two-byte "é".
            (vec![1], vec![str_item(0, 1)], "é", "not within"),
        ];
        for (ends, items, text, why) in bad {
            let e = Values::from_parts(ends, items, text.into()).unwrap_err();
            assert!(e.contains(why), "{e}");
        }
    }
}
