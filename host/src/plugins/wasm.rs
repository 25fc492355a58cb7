//! Plugins as sandboxed WebAssembly components (wasmtime).
//!
//! One Store per plugin instance, reused across calls, on the shared engine
//! of [`super::sandbox`]. A plugin sees the `falco-wasm:plugin/host` import
//! and the WASI capabilities its operator granted (read-only preopened
//! directories) and nothing else: no environment, no sockets, no stdio.
//!
//! Every call runs under the instance's limits: memory (the store's limiter
//! traps on a refused grow), time (an epoch deadline while the guest
//! computes, the call's deadline while it waits in a host import), and the
//! size of what comes back (events per batch, bytes per event and per field
//! value, text cleaned by [`super::text`]). A trap, a breach or a malformed
//! answer is a [`CallError::Fault`] and kills the instance: later calls
//! fail at once with the first fault's message.

use super::cache::{self, CompileLimits};
use super::grants::FileViews;
use super::push::PushQueue;
use super::sandbox::{self, Cut, deadline_ticks};
use super::text::{self, LogLimiter};
use super::{Grants, Limits};
use crate::priority::Priority;
use guest_sdk::native::{CallError, CallResult, DynPlugin, FieldInfo, PluginInfo};
use guest_sdk::{
    Arg, BatchStatus, EventBatch, Events, FieldType, Item, ItemKind, Metric, OpenParam, Values,
};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use wasmtime::component::{HasSelf, InstancePre, Linker, ResourceTable};
use wasmtime::{Engine, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};

/// Bindings of the `source-plugin` world (a superset of `extractor-plugin`:
/// the `source` interface is loaded only when the component exports it).
mod bindings {
    wasmtime::component::bindgen!({
        world: "source-plugin",
        path: "../wit",
        // Batches are lowered from the host's buffers, not copies.
        ownership: Borrowing {
            duplicate_if_necessary: true
        },
        // Calls run as fibers, so that a host import that waits (here the
        // HTTP request; in WASI, sleeps, polls and file operations) can be
        // cut short at the call's deadline.
        imports: { "falco-wasm:plugin/host.http": async },
        exports: { default: async },
    });
}

use bindings::exports::falco_wasm::plugin as ex;
use bindings::falco_wasm::plugin::host::{HttpRequest, HttpResponse, LogLevel};
use bindings::falco_wasm::plugin::types as t;

/// The most fields a plugin may define (their names are kept for the run).
const MAX_FIELDS: usize = 4096;

/// The largest default rules file a plugin may carry.
const MAX_DEFAULT_RULES: u64 = 4 << 20;

/// The most companion plugins a plugin may name.
const MAX_COMPANIONS: u64 = 16;

/// The version of `wit/plugin.wit` this host implements.
pub const CONTRACT: &str = "0.3.0";

/// The contract version a component was built for, when an instantiation
/// error says it imports another version of our interfaces.
fn other_contract(err: &str) -> Option<&str> {
    let rest = &err[err.find("falco-wasm:plugin/")?..];
    let v = &rest[rest.find('@')? + 1..];
    let v = &v[..v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len())];
    (!v.is_empty() && v != CONTRACT).then_some(v)
}

/// A store's data: WASI state, limits, and who the plugin is (for logs).
pub struct StoreData {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: StoreLimits,
    name: String,
    webhook: Option<Arc<PushQueue>>,
    http_hosts: Vec<String>,
    /// Largest response body accepted.
    http_max_body: u64,
    /// The most bytes of webhook bodies one `receive` hands over (past the
    /// first body).
    receive_max_bytes: usize,
    /// When the call in progress must end (host imports get what is left).
    deadline: Instant,
    log_limit: LogLimiter,
    /// Granted files, shown alone.
    _views: FileViews,
}

impl WasiView for StoreData {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl bindings::falco_wasm::plugin::host::Host for StoreData {
    fn log(&mut self, level: LogLevel, message: String) {
        let Some(suppressed) = self.log_limit.admit() else {
            if self.log_limit.pending() == 1 {
                crate::log::warning(&format!(
                    "plugin {}: more than {} log lines per second; the others are \
                     suppressed (and counted)",
                    self.name,
                    text::LOG_LINES_PER_SECOND
                ));
            }
            return;
        };
        if suppressed > 0 {
            crate::log::warning(&format!(
                "plugin {}: {suppressed} log line(s) suppressed (over {} per second)",
                self.name,
                text::LOG_LINES_PER_SECOND
            ));
        }
        let line = format!("plugin {}: {}", self.name, text::message(&message));
        let p = match level {
            LogLevel::Fatal | LogLevel::Critical => Priority::Critical,
            LogLevel::Error => Priority::Error,
            LogLevel::Warning => Priority::Warning,
            LogLevel::Notice => Priority::Notice,
            LogLevel::Info => Priority::Informational,
            LogLevel::Debug | LogLevel::Trace => Priority::Debug,
        };
        crate::log::log(p, &line);
    }

    /// Made off the call's thread with what is left of the call's time, so
    /// the deadline holds across several requests.
    async fn http(&mut self, req: HttpRequest) -> Result<HttpResponse, String> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err("the call's time limit has passed; nothing was sent".into());
        }
        let hosts = self.http_hosts.clone();
        let max_body = self.http_max_body;
        sandbox::blocking(move || {
            super::http::request(
                &hosts,
                left,
                max_body,
                &req.method,
                &req.url,
                &req.headers,
                &req.body,
            )
        })
        .await
        .unwrap_or_else(|| Err("the request was aborted".into()))
        .map(|(status, headers, body)| HttpResponse {
            status,
            headers,
            body,
        })
    }

    fn receive(&mut self, max: u32) -> Vec<Vec<u8>> {
        self.webhook.as_ref().map_or_else(Vec::new, |q| {
            q.take(max.min(4096) as usize, self.receive_max_bytes)
        })
    }
}

impl bindings::falco_wasm::plugin::types::Host for StoreData {}

/// A plugin component instance.
pub struct WasmPlugin {
    name: String,
    store: Store<StoreData>,
    plugin: ex::plugin::Guest,
    extractor: ex::extractor::Guest,
    source: Option<ex::source::Guest>,
    limits: Limits,
    /// The first fault: the instance is dead once set.
    dead: Option<String>,
}

/// The WASI context a plugin gets: its granted directories and files
/// (read-only) and environment variables, nothing else; with the private
/// directories that show its granted files (kept while it runs).
fn wasi_context(grants: &Grants) -> Result<(WasiCtx, FileViews), String> {
    let mut wasi = WasiCtx::builder();
    // File operations run in place on the call's thread: handing each
    // 64 KiB read to another thread made plugin sources ~25% slower. A
    // file operation that blocks for ever (a FIFO or device in a granted
    // directory) therefore holds its source's thread (not the others); a
    // stop does not wait for it. Waits on timers and HTTP are cut at the
    // deadline.
    wasi.allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .allow_blocking_current_thread(true);
    for var in &grants.env {
        if let Some(v) = std::env::var_os(var) {
            wasi.env(var, v.to_string_lossy());
        }
    }
    let views = FileViews::new(&grants.read_files).map_err(|e| e.to_string())?;
    let dirs = grants.read_dirs.iter().map(|d| (d, d));
    for (host, guest) in dirs.chain(views.dirs.iter().map(|(h, g)| (h, g))) {
        wasi.preopened_dir(host, guest.to_string_lossy(), FsPerms::ReadOnly)
            .map_err(|e| format!("cannot grant {}: {e}", guest.display()))?;
    }
    Ok((wasi.build(), views))
}

/// Compiles (or loads from the cache) the component at `path` and links it
/// against the host's imports (WASI, `falco-wasm:plugin/host`); a component
/// built for another contract version is named as such.
fn link(engine: &Engine, path: &Path) -> Result<InstancePre<StoreData>, String> {
    let component =
        cache::load(engine, path, &CompileLimits::default()).map_err(|e| e.to_string())?;
    let mut linker: Linker<StoreData> = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(|e| e.to_string())?;
    bindings::falco_wasm::plugin::host::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)
        .map_err(|e| e.to_string())?;
    // A plugin built for another version of wit/plugin.wit imports or
    // exports our interfaces under that version: say so.
    let exports: Vec<String> = component
        .component_type()
        .exports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    let mismatch = |text: &str| {
        other_contract(text).map(|v| {
            format!(
                "{}: built for the plugin contract falco-wasm:plugin@{v}; this host \
                 implements falco-wasm:plugin@{CONTRACT} (rebuild the plugin with this \
                 release's guest-sdk)",
                path.display()
            )
        })
    };
    if let Some(m) = mismatch(&exports.join(" ")) {
        return Err(m);
    }
    let pre = linker.instantiate_pre(&component).map_err(|e| {
        let e = e.to_string();
        mismatch(&e).unwrap_or_else(|| {
            format!(
                "{}: the component needs an import this host does not grant: {e}",
                path.display()
            )
        })
    })?;
    Ok(pre)
}

impl WasmPlugin {
    /// Compiles and instantiates the component at `path` with `grants`
    /// under `limits`.
    pub fn load(
        name: &str,
        path: &Path,
        grants: &Grants,
        limits: &Limits,
        webhook: Option<Arc<PushQueue>>,
    ) -> Result<WasmPlugin, super::PluginError> {
        Self::build(name, path, grants, limits, webhook)
            .map_err(|m| super::PluginError::load(name, m))
    }

    fn build(
        name: &str,
        path: &Path,
        grants: &Grants,
        limits: &Limits,
        webhook: Option<Arc<PushQueue>>,
    ) -> Result<WasmPlugin, String> {
        let engine = sandbox::engine().map_err(|e| e.to_string())?;
        let pre = link(engine, path)?;
        let (wasi, views) = wasi_context(grants)?;
        let data = StoreData {
            wasi,
            _views: views,
            table: ResourceTable::new(),
            limits: StoreLimitsBuilder::new()
                .memory_size(limits.memory_bytes as usize)
                .instances(4)
                .trap_on_grow_failure(true)
                .build(),
            name: name.to_string(),
            webhook,
            http_hosts: grants.http_hosts.clone(),
            http_max_body: limits.max_event_bytes.saturating_mul(8),
            receive_max_bytes: limits.max_event_bytes.saturating_mul(2) as usize,
            deadline: Instant::now() + limits.call_timeout,
            log_limit: LogLimiter::new(text::LOG_LINES_PER_SECOND),
        };
        Self::instantiate(name, path, &pre, Store::new(engine, data), limits)
    }

    /// Instantiates the component in `store` (under the call limits) and
    /// finds its exports.
    fn instantiate(
        name: &str,
        path: &Path,
        pre: &InstancePre<StoreData>,
        mut store: Store<StoreData>,
        limits: &Limits,
    ) -> Result<WasmPlugin, String> {
        store.limiter(|d| &mut d.limits);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(deadline_ticks(limits.call_timeout));
        let deadline = store.data().deadline;
        let instance = match sandbox::run_bounded(pre.instantiate_async(&mut store), deadline) {
            Ok(Ok(i)) => i,
            Ok(Err(e)) => {
                return Err(format!(
                    "{}: cannot instantiate: {}",
                    path.display(),
                    describe_trap(&e, limits)
                ));
            }
            Err(cut) => {
                return Err(format!(
                    "{}: cannot instantiate: {}",
                    path.display(),
                    describe_cut(cut, limits)
                ));
            }
        };
        let load_err = |what: &str, e: wasmtime::Error| {
            format!(
                "{}: does not export {what} of falco-wasm:plugin@{CONTRACT}: {e}",
                path.display()
            )
        };
        let plugin = ex::plugin::GuestIndices::new(pre)
            .and_then(|i| i.load(&mut store, &instance))
            .map_err(|e| load_err("`plugin`", e))?;
        let extractor = ex::extractor::GuestIndices::new(pre)
            .and_then(|i| i.load(&mut store, &instance))
            .map_err(|e| load_err("`extractor`", e))?;
        let source = ex::source::GuestIndices::new(pre)
            .and_then(|i| i.load(&mut store, &instance))
            .ok();
        Ok(WasmPlugin {
            name: name.to_string(),
            store,
            plugin,
            extractor,
            source,
            limits: limits.clone(),
            dead: None,
        })
    }

    /// Runs one call under the time limit; traps, limit breaches and calls
    /// cut short kill the instance.
    fn call<R>(
        &mut self,
        what: &str,
        f: impl AsyncFnOnce(&mut Self) -> wasmtime::Result<R>,
    ) -> CallResult<R> {
        if let Some(why) = &self.dead {
            return Err(CallError::Disabled(format!(
                "plugin {} is disabled after an earlier fault: {why}",
                self.name
            )));
        }
        let deadline = Instant::now() + self.limits.call_timeout;
        self.store
            .set_epoch_deadline(deadline_ticks(self.limits.call_timeout));
        self.store.data_mut().deadline = deadline;
        match sandbox::run_bounded(f(self), deadline) {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => Err(self.fault(what, describe_trap(&e, &self.limits))),
            Err(cut) => Err(self.fault(what, describe_cut(cut, &self.limits))),
        }
    }

    fn fault(&mut self, what: &str, why: String) -> CallError {
        let msg = format!("plugin {}: {what}: {why}", self.name);
        self.dead = Some(msg.clone());
        CallError::Fault(msg)
    }

    fn source(&self) -> CallResult<&ex::source::Guest> {
        self.source.as_ref().ok_or_else(|| {
            CallError::Plugin(format!("plugin {} is not a source plugin", self.name))
        })
    }

    /// Checks the number of items in a list coming back from the guest.
    fn check_count(&mut self, what: &str, n: usize, max: usize) -> CallResult<()> {
        if n > max {
            return Err(self.fault(what, format!("returned {n} items, over the limit of {max}")));
        }
        Ok(())
    }

    /// Checks the size of a value coming back from the guest.
    fn check_len(&mut self, what: &str, len: usize, max: u64) -> CallResult<()> {
        if len as u64 > max {
            return Err(self.fault(
                what,
                format!("returned {len} bytes, over the limit of {max}"),
            ));
        }
        Ok(())
    }

    /// Checks a name the plugin gives (itself, its source, a field).
    fn check_name(&mut self, what: &str, name: &str) -> CallResult<()> {
        if !text::is_name(name) {
            return Err(self.fault(
                what,
                format!(
                    "'{}' is not a valid name (1 to 128 of A-Z a-z 0-9 _ - .)",
                    text::clean(name, 128)
                ),
            ));
        }
        Ok(())
    }
}

/// Why a call cut short did not finish.
fn describe_cut(cut: Cut, limits: &Limits) -> String {
    match cut {
        Cut::Deadline => format!(
            "call exceeded its time limit of {} ms (waiting in a host call)",
            limits.call_timeout.as_millis()
        ),
        Cut::Stopping => "cut short: the engine is stopping".into(),
    }
}

/// A readable reason for a failed call.
fn describe_trap(e: &wasmtime::Error, limits: &Limits) -> String {
    match e.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::Interrupt) => format!(
            "call exceeded its time limit of {} ms (infinite loop?)",
            limits.call_timeout.as_millis()
        ),
        Some(wasmtime::Trap::MemoryOutOfBounds) => "out-of-bounds memory access".into(),
        Some(wasmtime::Trap::UnreachableCodeReached) => {
            "the plugin aborted (a panic or `unreachable`)".into()
        }
        Some(t) => format!("trap: {t}"),
        None => {
            // The error's messages without the wasm backtrace wasmtime adds.
            let s = e
                .chain()
                .map(ToString::to_string)
                .filter(|m| !m.starts_with("error while executing at wasm backtrace"))
                .collect::<Vec<_>>()
                .join(": ");
            if s.contains("forcing trap when growing memory") {
                format!(
                    "memory limit of {} bytes exceeded ({s})",
                    limits.memory_bytes
                )
            } else {
                s
            }
        }
    }
}

/// An error the plugin reported, cleaned (it reaches logs and alerts).
fn plugin_err(e: String) -> CallError {
    CallError::Plugin(text::message(&e))
}

impl DynPlugin for WasmPlugin {
    fn info(&mut self) -> CallResult<PluginInfo> {
        let i = self.call("info", async |s| s.plugin.call_info(&mut s.store).await)?;
        self.check_name("info (name)", &i.name)?;
        let schema_len = i.init_schema.as_ref().map_or(0, String::len);
        self.check_len("info (init schema)", schema_len, 1 << 20)?;
        let rules_len = i.default_rules.as_ref().map_or(0, String::len);
        self.check_len("info (default rules)", rules_len, MAX_DEFAULT_RULES)?;
        self.check_len("info (companions)", i.companions.len(), MAX_COMPANIONS)?;
        for c in &i.companions {
            self.check_name("info (companion)", c)?;
        }
        Ok(PluginInfo {
            name: i.name,
            version: text::clean(&i.version, 64),
            description: text::clean(&i.description, 1024),
            contact: text::clean(&i.contact, 256),
            required_api_version: text::clean(&i.required_api_version, 64),
            init_schema: i.init_schema,
            default_rules: i.default_rules,
            companions: i.companions,
        })
    }

    fn init(&mut self, config: &str) -> CallResult<()> {
        let config = config.to_string();
        self.call("init", async |s| {
            s.plugin.call_init(&mut s.store, &config).await
        })?
        .map_err(plugin_err)
    }

    fn metrics(&mut self) -> CallResult<Vec<Metric>> {
        let m = self.call("metrics", async |s| {
            s.plugin.call_metrics(&mut s.store).await
        })?;
        // Metrics with a name that is not one are left out.
        Ok(m.into_iter()
            .filter(|m| text::is_name(&m.name))
            .take(256)
            .map(|m| Metric {
                name: m.name,
                value: m.value,
                monotonic: m.monotonic,
            })
            .collect())
    }

    fn fields(&mut self) -> CallResult<Vec<FieldInfo>> {
        let f = self.call("fields", async |s| {
            s.extractor.call_fields(&mut s.store).await
        })?;
        self.check_count("fields", f.len(), MAX_FIELDS)?;
        for x in &f {
            self.check_name("fields (name)", &x.name)?;
            self.check_len("fields (description)", x.desc.len() + x.display.len(), 8192)?;
        }
        Ok(f.into_iter()
            .map(|f| FieldInfo {
                name: f.name,
                ty: match f.type_ {
                    t::FieldType::String => FieldType::String,
                    t::FieldType::Uint64 => FieldType::Uint64,
                    t::FieldType::Bool => FieldType::Bool,
                    t::FieldType::Reltime => FieldType::RelTime,
                    t::FieldType::Abstime => FieldType::AbsTime,
                    t::FieldType::Ipaddr => FieldType::IpAddr,
                    t::FieldType::Ipnet => FieldType::IpNet,
                },
                list: f.is_list,
                arg: match (f.arg.is_index, f.arg.is_key) {
                    (true, _) => Arg::Index {
                        required: f.arg.is_required,
                    },
                    (false, true) => Arg::Key {
                        required: f.arg.is_required,
                    },
                    _ => Arg::None,
                },
                display: text::clean(&f.display, 256),
                desc: text::clean(&f.desc, 1024),
                add_output: f.add_output,
                hidden: f.properties.iter().any(|p| p == "hidden"),
            })
            .collect())
    }

    fn extract_sources(&mut self) -> CallResult<Vec<String>> {
        let v = self.call("extract-sources", async |s| {
            s.extractor.call_extract_sources(&mut s.store).await
        })?;
        self.check_count("extract-sources", v.len(), 256)?;
        for name in &v {
            self.check_name("extract-sources", name)?;
        }
        Ok(v)
    }

    fn extract(
        &mut self,
        events: &EventBatch,
        reqs: &[guest_sdk::native::FieldRequest],
        out: &mut Values,
    ) -> CallResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let batch = t::EventBatch {
            source: events.source,
            data: events.data,
            ends: events.ends,
            nums: events.nums,
            timestamps: events.timestamps,
        };
        let rs: Vec<t::FieldRequest> = reqs
            .iter()
            .map(|r| t::FieldRequest {
                field: r.field,
                arg_key: r.key.as_deref(),
                arg_index: r.index,
            })
            .collect();
        let v = self
            .call("extract", async |s| {
                s.extractor.call_extract(&mut s.store, batch, &rs).await
            })?
            .map_err(plugin_err)?;
        let cells = events.len() * reqs.len();
        if v.ends.len() != cells {
            return Err(self.fault(
                "extract",
                format!(
                    "returned {} cells for {} events x {} fields (malformed answer)",
                    v.ends.len(),
                    events.len(),
                    reqs.len()
                ),
            ));
        }
        let max = self.limits.max_field_bytes;
        let mut items = Vec::with_capacity(v.items.len());
        for it in v.items {
            let kind = match it.kind {
                t::ValueKind::Str => ItemKind::Str,
                t::ValueKind::Num => ItemKind::Num,
                t::ValueKind::Flag => ItemKind::Flag,
                t::ValueKind::Addr4 => ItemKind::Addr4,
                t::ValueKind::Addr6 => ItemKind::Addr6,
            };
            let Some(item) = Item::from_wire(kind, it.a, it.b) else {
                return Err(self.fault("extract", "string value out of range".into()));
            };
            if let Item::Str { start, end } = item {
                self.check_len(
                    "extract (field value)",
                    end.saturating_sub(start) as usize,
                    max,
                )?;
            }
            items.push(item);
        }
        let v = Values::from_parts(v.ends, items, v.text)
            .map_err(|e| self.fault("extract", format!("{e} (malformed answer)")))?;
        out.append(v);
        Ok(())
    }

    fn source_info(&mut self) -> CallResult<Option<(u32, String)>> {
        if self.source.is_none() {
            return Ok(None);
        }
        let i = self.call("source info", async |s| {
            let src = s.source.as_ref().expect("checked");
            src.call_info(&mut s.store).await
        })?;
        self.check_name("source info (event source)", &i.event_source)?;
        Ok(Some((i.id, i.event_source)))
    }

    fn list_open_params(&mut self) -> CallResult<Vec<OpenParam>> {
        self.source()?;
        let p = self
            .call("list-open-params", async |s| {
                let src = s.source.as_ref().expect("checked");
                src.call_list_open_params(&mut s.store).await
            })?
            .map_err(plugin_err)?;
        self.check_count("list-open-params", p.len(), 256)?;
        Ok(p.into_iter()
            .map(|p| OpenParam {
                value: text::clean(&p.value, 1024),
                desc: text::clean(&p.desc, 1024),
                separator: text::clean(&p.separator, 8),
            })
            .collect())
    }

    fn open(&mut self, params: &str) -> CallResult<()> {
        self.source()?;
        let params = params.to_string();
        self.call("open", async |s| {
            let src = s.source.as_ref().expect("checked");
            src.call_open(&mut s.store, &params).await
        })?
        .map_err(plugin_err)
    }

    fn next_batch(&mut self, max: u32, out: &mut Events) -> CallResult<BatchStatus> {
        self.source()?;
        let b = self
            .call("next-batch", async |s| {
                let src = s.source.as_ref().expect("checked");
                src.call_next_batch(&mut s.store, max).await
            })?
            .map_err(plugin_err)?;
        if b.ends.len() > max as usize {
            return Err(self.fault(
                "next-batch",
                format!(
                    "returned {} events, more than the {max} asked for (malformed answer)",
                    b.ends.len()
                ),
            ));
        }
        let events = Events::from_parts(b.data, b.ends, b.timestamps)
            .map_err(|e| self.fault("next-batch", format!("{e} (malformed answer)")))?;
        let max_ev = self.limits.max_event_bytes;
        for i in 0..events.len() {
            self.check_len("next-batch (event)", events.data(i).len(), max_ev)?;
        }
        if out.is_empty() {
            *out = events;
        } else {
            for i in 0..events.len() {
                out.push(events.data(i), events.timestamp(i));
            }
        }
        Ok(match b.status {
            t::BatchStatus::Ok => BatchStatus::Ok,
            t::BatchStatus::Timeout => BatchStatus::Timeout,
            t::BatchStatus::Eof => BatchStatus::Eof,
        })
    }

    fn progress(&mut self) -> CallResult<(f64, String)> {
        self.source()?;
        let p = self.call("progress", async |s| {
            let src = s.source.as_ref().expect("checked");
            src.call_progress(&mut s.store).await
        })?;
        Ok((p.percent, text::clean(&p.text, 256)))
    }

    fn event_to_string(&mut self, data: &[u8]) -> CallResult<String> {
        self.source()?;
        let data = data.to_vec();
        let s = self.call("event-to-string", async |s| {
            let src = s.source.as_ref().expect("checked");
            src.call_event_to_string(&mut s.store, &data).await
        })?;
        self.check_len("event-to-string", s.len(), self.limits.max_field_bytes)?;
        Ok(s)
    }

    fn close(&mut self) -> CallResult<()> {
        if self.source.is_none() || self.dead.is_some() {
            return Ok(());
        }
        self.call("close", async |s| {
            let src = s.source.as_ref().expect("checked");
            src.call_close(&mut s.store).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_version_matches_the_wit_and_old_plugins_are_named() {
        let wit = include_str!("../../../wit/plugin.wit");
        assert!(wit.contains(&format!("package falco-wasm:plugin@{CONTRACT};")));
        let err = "component imports instance `falco-wasm:plugin/host@0.1.0`, but a \
                   matching implementation was not found in the linker";
        assert_eq!(other_contract(err), Some("0.1.0"));
        assert_eq!(
            other_contract("component imports instance `wasi:http/types@0.2.0`"),
            None
        );
        assert_eq!(
            other_contract(&format!("instance `falco-wasm:plugin/host@{CONTRACT}`")),
            None
        );
    }
}
