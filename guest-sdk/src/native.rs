//! One interface over a plugin, whether it runs in-process ([`Native`]) or
//! as a sandboxed component (the host's Wasm runner implements
//! [`DynPlugin`] too). The host drives every plugin through it.

use crate::{
    Arg, BatchStatus, EventBatch, Events, Extractor, FieldType, Metric, OpenParam, Plugin, Request,
    Source, Value, Values,
};

/// What a plugin says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginInfo {
    pub name: String,
    pub version: String,
    pub description: String,
    pub contact: String,
    pub required_api_version: String,
    pub init_schema: Option<String>,
    /// A rules file for its events, loaded when a run names no rules.
    pub default_rules: Option<String>,
    /// Plugins its default rules need beside it.
    pub companions: Vec<String>,
}

/// A field definition, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldInfo {
    pub name: String,
    pub ty: FieldType,
    pub list: bool,
    pub arg: Arg,
    pub display: String,
    pub desc: String,
    pub add_output: bool,
    pub hidden: bool,
}

/// A field request, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldRequest {
    pub field: u32,
    pub key: Option<String>,
    pub index: Option<u64>,
}

/// Why a call failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallError {
    /// The plugin reported an error (bad params, unreadable input…): the
    /// plugin is healthy.
    Plugin(String),
    /// The plugin broke: a trap, a limit, a malformed answer. A sandboxed
    /// instance is dead after this.
    Fault(String),
    /// The instance is dead after an earlier fault (already reported).
    Disabled(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Plugin(m) | CallError::Fault(m) | CallError::Disabled(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for CallError {}

pub type CallResult<T> = Result<T, CallError>;

/// A loaded plugin, as the host drives it.
pub trait DynPlugin: Send {
    fn info(&mut self) -> CallResult<PluginInfo>;
    fn init(&mut self, config: &str) -> CallResult<()>;
    fn metrics(&mut self) -> CallResult<Vec<Metric>>;
    fn fields(&mut self) -> CallResult<Vec<FieldInfo>>;
    fn extract_sources(&mut self) -> CallResult<Vec<String>>;
    /// Appends one cell per event and request, row-major: cell
    /// `i * reqs.len() + j` for event i, request j.
    fn extract(
        &mut self,
        events: &EventBatch,
        reqs: &[FieldRequest],
        out: &mut Values,
    ) -> CallResult<()>;
    /// `(id, event source)` for source plugins, `None` for extractors.
    fn source_info(&mut self) -> CallResult<Option<(u32, String)>>;
    fn list_open_params(&mut self) -> CallResult<Vec<OpenParam>>;
    fn open(&mut self, params: &str) -> CallResult<()>;
    fn next_batch(&mut self, max: u32, out: &mut Events) -> CallResult<BatchStatus>;
    fn progress(&mut self) -> CallResult<(f64, String)>;
    fn event_to_string(&mut self, data: &[u8]) -> CallResult<String>;
    fn close(&mut self) -> CallResult<()>;
}

pub(crate) fn field_infos<P: Extractor>() -> Vec<FieldInfo> {
    P::FIELDS
        .iter()
        .map(|f| FieldInfo {
            name: f.name.into(),
            ty: f.ty,
            list: f.list,
            arg: f.arg,
            display: f.display.into(),
            desc: f.desc.into(),
            add_output: f.add_output,
            hidden: f.hidden,
        })
        .collect()
}

pub(crate) fn plugin_info<P: Plugin>() -> PluginInfo {
    PluginInfo {
        name: P::NAME.into(),
        version: P::VERSION.into(),
        description: P::DESCRIPTION.into(),
        contact: P::CONTACT.into(),
        required_api_version: crate::API_VERSION.into(),
        init_schema: P::INIT_SCHEMA.map(Into::into),
        default_rules: P::DEFAULT_RULES.map(Into::into),
        companions: P::COMPANIONS.iter().map(|c| c.to_string()).collect(),
    }
}

/// The plugin's view of requests (`(field, key, index)`), checked against
/// its field list.
pub(crate) fn requests<'a, P: Extractor>(
    reqs: impl IntoIterator<Item = (u32, Option<&'a str>, Option<u64>)>,
) -> Result<Vec<Request<'a>>, String> {
    reqs.into_iter()
        .map(|(field, key, index)| {
            let f = P::FIELDS
                .get(field as usize)
                .ok_or_else(|| format!("no field with index {field}"))?;
            Ok(Request {
                field,
                name: f.name,
                key,
                index,
            })
        })
        .collect()
}

/// Runs a plugin's per-event `extract` over a batch of events, appending
/// the cells to `out` (the same code natively and in the sandbox).
pub(crate) fn extract_cells<P: Extractor>(
    p: &mut P,
    events: &EventBatch,
    reqs: &[Request],
    out: &mut Values,
) -> Result<(), String> {
    let mut row: Vec<Vec<Value>> = vec![Vec::new(); reqs.len()];
    for i in 0..events.len() {
        let e = events.event(i).ok_or("malformed event batch")?;
        row.iter_mut().for_each(Vec::clear);
        p.extract(&e, reqs, &mut row)?;
        for vals in &row {
            vals.iter().for_each(|v| out.push(v));
            out.end_cell();
        }
    }
    Ok(())
}

/// A plugin type run in-process.
pub struct Native<P> {
    plugin: Option<P>,
    source: Option<SourceFns<P>>,
}

/// The source half, present when `P: Source` (set by [`Native::source`]).
struct SourceFns<P> {
    info: fn() -> (u32, String),
    open_params: fn(&P) -> Vec<OpenParam>,
    open: fn(&mut P, &str) -> Result<(), String>,
    next_batch: fn(&mut P, usize, &mut Events) -> Result<BatchStatus, String>,
    progress: fn(&P) -> (f64, String),
    to_string: fn(&P, &[u8]) -> String,
    close: fn(&mut P),
}

impl<P: Extractor> Native<P> {
    /// An extractor-only plugin.
    pub fn extractor() -> Native<P> {
        Native {
            plugin: None,
            source: None,
        }
    }

    fn get(&mut self) -> CallResult<&mut P> {
        self.plugin
            .as_mut()
            .ok_or_else(|| CallError::Plugin("plugin not initialised".into()))
    }
}

impl<P: Source> Native<P> {
    /// A source plugin.
    pub fn source() -> Native<P> {
        Native {
            plugin: None,
            source: Some(SourceFns {
                info: || (P::ID, P::EVENT_SOURCE.to_string()),
                open_params: P::open_params,
                open: P::open,
                next_batch: P::next_batch,
                progress: P::progress,
                to_string: P::event_to_string,
                close: P::close,
            }),
        }
    }
}

impl<P: Extractor + Send> DynPlugin for Native<P> {
    fn info(&mut self) -> CallResult<PluginInfo> {
        Ok(plugin_info::<P>())
    }
    fn init(&mut self, config: &str) -> CallResult<()> {
        self.plugin = Some(P::new(config).map_err(CallError::Plugin)?);
        Ok(())
    }
    fn metrics(&mut self) -> CallResult<Vec<Metric>> {
        Ok(self.get()?.metrics())
    }
    fn fields(&mut self) -> CallResult<Vec<FieldInfo>> {
        Ok(field_infos::<P>())
    }
    fn extract_sources(&mut self) -> CallResult<Vec<String>> {
        Ok(P::EXTRACT_SOURCES.iter().map(|s| s.to_string()).collect())
    }
    fn extract(
        &mut self,
        events: &EventBatch,
        reqs: &[FieldRequest],
        out: &mut Values,
    ) -> CallResult<()> {
        let rs = requests::<P>(reqs.iter().map(|r| (r.field, r.key.as_deref(), r.index)))
            .map_err(CallError::Plugin)?;
        extract_cells(self.get()?, events, &rs, out).map_err(CallError::Plugin)
    }
    fn source_info(&mut self) -> CallResult<Option<(u32, String)>> {
        Ok(self.source.as_ref().map(|s| (s.info)()))
    }
    fn list_open_params(&mut self) -> CallResult<Vec<OpenParam>> {
        let f = self.source.as_ref().map(|s| s.open_params);
        let p = self.get()?;
        Ok(f.map(|f| f(p)).unwrap_or_default())
    }
    fn open(&mut self, params: &str) -> CallResult<()> {
        let f = self
            .source
            .as_ref()
            .map(|s| s.open)
            .ok_or_else(not_source)?;
        f(self.get()?, params).map_err(CallError::Plugin)
    }
    fn next_batch(&mut self, max: u32, out: &mut Events) -> CallResult<BatchStatus> {
        let f = self
            .source
            .as_ref()
            .map(|s| s.next_batch)
            .ok_or_else(not_source)?;
        f(self.get()?, max as usize, out).map_err(CallError::Plugin)
    }
    fn progress(&mut self) -> CallResult<(f64, String)> {
        let f = self
            .source
            .as_ref()
            .map(|s| s.progress)
            .ok_or_else(not_source)?;
        Ok(f(self.get()?))
    }
    fn event_to_string(&mut self, data: &[u8]) -> CallResult<String> {
        let f = self
            .source
            .as_ref()
            .map(|s| s.to_string)
            .ok_or_else(not_source)?;
        Ok(f(self.get()?, data))
    }
    fn close(&mut self) -> CallResult<()> {
        if let Some(f) = self.source.as_ref().map(|s| s.close) {
            f(self.get()?);
        }
        Ok(())
    }
}

fn not_source() -> CallError {
    CallError::Plugin("not a source plugin".into())
}

/// Bodies for [`crate::receive`] when running natively (tests).
#[cfg(not(target_arch = "wasm32"))]
static WEBHOOK: std::sync::Mutex<std::collections::VecDeque<Vec<u8>>> =
    std::sync::Mutex::new(std::collections::VecDeque::new());

/// Queues a webhook body for a natively running plugin.
#[cfg(not(target_arch = "wasm32"))]
pub fn webhook_push(body: Vec<u8>) {
    WEBHOOK
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push_back(body);
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn webhook_take(max: u32) -> Vec<Vec<u8>> {
    let mut q = WEBHOOK.lock().unwrap_or_else(|e| e.into_inner());
    let n = q.len().min(max as usize);
    q.drain(..n).collect()
}
