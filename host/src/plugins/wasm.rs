//! Plugins as sandboxed WebAssembly components (wasmtime).
//!
//! One [`wasmtime::Engine`] for every plugin (pooling allocator, epoch
//! interruption), one `Store` per plugin instance, reused across calls. A
//! plugin sees the `falco-wasm:plugin/host` import and the WASI
//! capabilities its operator granted (read-only preopened directories) and
//! nothing else: no environment, no sockets, no stdio.
//!
//! Every call runs under the instance's limits: memory (the store's limiter
//! traps on a refused grow), time (an epoch deadline), and the size of what
//! comes back (events per batch, bytes per event and per field value). A
//! trap, a breach or a malformed answer is a [`CallError::Fault`] and kills
//! the instance: later calls fail at once with the first fault's message.

use super::{Grants, Limits};
use crate::rules::Priority;
use crate::server::push::PushQueue;
use guest_sdk::native::{CallError, CallResult, DynPlugin, FieldInfo, PluginInfo};
use guest_sdk::{
    Arg, BatchStatus, EventBatch, Events, FieldType, Item, ItemKind, Metric, OpenParam, Values,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::OnceLock;
use std::time::Duration;
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store, StoreLimits, StoreLimitsBuilder};
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
    });
}

use bindings::exports::falco_wasm::plugin as ex;
use bindings::falco_wasm::plugin::host::{HttpRequest, HttpResponse, LogLevel};
use bindings::falco_wasm::plugin::types as t;

/// The most fields a plugin may define (their names are kept for the run).
const MAX_FIELDS: usize = 4096;

/// How often the epoch advances (the granularity of call deadlines).
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The shared engine; its epoch ticker runs for the process's lifetime.
pub fn engine() -> Result<&'static Engine, String> {
    static ENGINE: OnceLock<Result<Engine, String>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let mut c = Config::new();
            c.epoch_interruption(true);
            c.wasm_component_model(true);
            // For profiling plugins with `perf`: /tmp/perf-PID.map names
            // the compiled guest functions.
            if std::env::var_os("FALCO_WASM_PERFMAP").is_some() {
                c.profiler(wasmtime::ProfilingStrategy::PerfMap);
            }
            // No async component calls here: skipping their bookkeeping
            // makes every call cheaper.
            c.concurrency_support(false);
            let mut pool = wasmtime::PoolingAllocationConfig::default();
            pool.total_component_instances(64)
                .total_memories(64)
                .total_tables(64)
                .max_memory_size(super::MAX_MEMORY_LIMIT as usize);
            c.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
            let engine = Engine::new(&c)
                .or_else(|e| {
                    crate::log::warning(&format!(
                        "plugins: pooling allocator unavailable ({e}); allocating on demand"
                    ));
                    let mut c = Config::new();
                    c.epoch_interruption(true);
                    c.wasm_component_model(true);
                    c.concurrency_support(false);
                    Engine::new(&c)
                })
                .map_err(|e| e.to_string())?;
            let weak = engine.weak();
            std::thread::Builder::new()
                .name("plugin-epoch".into())
                .spawn(move || {
                    while let Some(e) = weak.upgrade() {
                        e.increment_epoch();
                        drop(e);
                        std::thread::sleep(EPOCH_TICK);
                    }
                })
                .map_err(|e| e.to_string())?;
            Ok(engine)
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Makes every plugin call running now, in any thread, trap as if its time
/// limit had passed (shutdown must not wait for a stuck plugin): the epoch
/// is advanced past the longest deadline `longest` can have set.
pub fn interrupt_all(longest: Duration) {
    if let Ok(engine) = engine() {
        for _ in 0..deadline_ticks(longest) + 1 {
            engine.increment_epoch();
        }
    }
}

/// The version of `wit/plugin.wit` this host implements.
pub const CONTRACT: &str = "0.2.0";

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
    /// Time one HTTP request may take (the call's own limit).
    http_timeout: Duration,
    /// Largest response body accepted.
    http_max_body: u64,
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
        let msg: String = message.chars().take(4096).collect();
        let line = format!("plugin {}: {msg}", self.name);
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

    fn http(&mut self, req: HttpRequest) -> Result<HttpResponse, String> {
        super::http::request(
            &self.http_hosts,
            self.http_timeout,
            self.http_max_body,
            req.method,
            &req.url,
            &req.headers,
            &req.body,
        )
        .map(|(status, headers, body)| HttpResponse {
            status,
            headers,
            body,
        })
    }

    fn receive(&mut self, max: u32) -> Vec<Vec<u8>> {
        self.webhook
            .as_ref()
            .map_or_else(Vec::new, |q| q.take(max.min(4096) as usize))
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

impl WasmPlugin {
    /// Compiles and instantiates the component at `path` with `grants`
    /// under `limits`.
    pub fn load(
        name: &str,
        path: &Path,
        grants: &Grants,
        limits: &Limits,
        webhook: Option<Arc<PushQueue>>,
    ) -> Result<WasmPlugin, String> {
        let engine = engine()?;
        let component = compile_cached(engine, path)?;
        let mut linker: Linker<StoreData> = Linker::new(engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| e.to_string())?;
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
        let mut wasi = WasiCtx::builder();
        wasi.allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            // Plugin calls already run on a thread of their own, which may
            // block: file reads then happen in place instead of through a
            // handoff to a tokio blocking thread per 64 KiB read.
            .allow_blocking_current_thread(true);
        for var in &grants.env {
            if let Some(v) = std::env::var_os(var) {
                wasi.env(var, v.to_string_lossy());
            }
        }
        for dir in &grants.read_dirs {
            let guest = dir.to_string_lossy().into_owned();
            wasi.preopened_dir(dir, &guest, FsPerms::ReadOnly)
                .map_err(|e| format!("cannot grant {}: {e}", dir.display()))?;
        }
        let data = StoreData {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            limits: StoreLimitsBuilder::new()
                .memory_size(limits.memory_bytes as usize)
                .instances(4)
                .trap_on_grow_failure(true)
                .build(),
            name: name.to_string(),
            webhook,
            http_hosts: grants.http_hosts.clone(),
            http_timeout: limits.call_timeout,
            http_max_body: limits.max_event_bytes.saturating_mul(8),
        };
        let mut store = Store::new(engine, data);
        store.limiter(|d| &mut d.limits);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(deadline_ticks(limits.call_timeout));
        let instance = pre
            .instantiate(&mut store)
            .map_err(|e| format!("{}: cannot instantiate: {e:#}", path.display()))?;
        let load_err = |what: &str, e: wasmtime::Error| {
            format!(
                "{}: does not export {what} of falco-wasm:plugin@{CONTRACT}: {e}",
                path.display()
            )
        };
        let plugin = ex::plugin::GuestIndices::new(&pre)
            .and_then(|i| i.load(&mut store, &instance))
            .map_err(|e| load_err("`plugin`", e))?;
        let extractor = ex::extractor::GuestIndices::new(&pre)
            .and_then(|i| i.load(&mut store, &instance))
            .map_err(|e| load_err("`extractor`", e))?;
        let source = ex::source::GuestIndices::new(&pre)
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

    /// Runs one call under the time limit; traps and limit breaches kill
    /// the instance.
    fn call<R>(
        &mut self,
        what: &str,
        f: impl FnOnce(&mut Self) -> wasmtime::Result<R>,
    ) -> CallResult<R> {
        if let Some(why) = &self.dead {
            return Err(CallError::Disabled(format!(
                "plugin {} is disabled after an earlier fault: {why}",
                self.name
            )));
        }
        self.store
            .set_epoch_deadline(deadline_ticks(self.limits.call_timeout));
        match f(self) {
            Ok(r) => Ok(r),
            Err(e) => Err(self.fault(what, describe_trap(&e, &self.limits))),
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
}

/// Where compiled components are cached: `$FALCO_WASM_CACHE_DIR`, else
/// `/var/cache/falco-wasm` for root, else `$XDG_CACHE_HOME/falco-wasm` or
/// `~/.cache/falco-wasm`. An empty `FALCO_WASM_CACHE_DIR` disables the cache.
fn cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("FALCO_WASM_CACHE_DIR") {
        return (!d.is_empty()).then(|| PathBuf::from(d).join("plugins"));
    }
    if rustix::process::geteuid().is_root() {
        return Some(PathBuf::from("/var/cache/falco-wasm/plugins"));
    }
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|c| c.join("falco-wasm/plugins"))
}

/// Compiles a component, or loads its machine code from the cache. The
/// cache key is the component's SHA-256 and the engine's compatibility hash
/// (wasmtime version, target, settings), so a changed plugin or engine
/// compiles again. Cache files are only trusted in a directory only we can
/// write.
fn compile_cached(engine: &Engine, path: &Path) -> Result<Component, String> {
    use sha2::Digest;
    use std::hash::{Hash, Hasher};
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let compile = || {
        Component::new(engine, &bytes)
            .map_err(|e| format!("{}: not a valid plugin component: {e}", path.display()))
    };
    let Some(dir) = cache_dir().filter(|d| private_dir(d)) else {
        return compile();
    };
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    let digest = sha2::Sha256::digest(&bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let file = dir.join(format!("{hex}-{:016x}.cwasm", h.finish()));
    if file.is_file() {
        // SAFETY: the file was written by `Component::serialize` below into
        // a directory only this user can write (checked by `private_dir`),
        // under a name bound to the component's content and to this
        // engine's configuration.
        #[allow(unsafe_code)]
        let loaded = unsafe { Component::deserialize_file(engine, &file) };
        match loaded {
            Ok(c) => {
                // Recently used: kept when the cache is pruned.
                if let Ok(f) = std::fs::File::options().write(true).open(&file) {
                    let _ = f.set_modified(std::time::SystemTime::now());
                }
                return Ok(c);
            }
            Err(_) => {
                let _ = std::fs::remove_file(&file);
            }
        }
    }
    let component = compile()?;
    if let Ok(code) = component.serialize() {
        let tmp = dir.join(format!(".{hex}.{}.tmp", std::process::id()));
        if std::fs::write(&tmp, code).is_ok() {
            let _ = std::fs::rename(&tmp, &file);
        }
        prune_cache(&dir, CACHE_KEEP);
    }
    Ok(component)
}

/// Most compiled components the cache keeps (each plugin version and engine
/// build adds one); the least recently used go first.
const CACHE_KEEP: usize = 32;

/// Removes all but the `keep` most recently used compiled components in
/// `dir`, and temporary files left by interrupted writes.
fn prune_cache(dir: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    let mut compiled = Vec::new();
    for e in entries.flatten() {
        let (path, name) = (e.path(), e.file_name());
        let Some(modified) = e.metadata().ok().and_then(|m| m.modified().ok()) else {
            continue;
        };
        let name = name.to_string_lossy();
        if name.ends_with(".cwasm") {
            compiled.push((modified, path));
        } else if name.starts_with('.') && name.ends_with(".tmp") && modified < hour_ago {
            let _ = std::fs::remove_file(path);
        }
    }
    if compiled.len() > keep {
        compiled.sort();
        for (_, path) in &compiled[..compiled.len() - keep] {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Creates `dir` (mode 0700) if needed; true if it is ours and nobody else
/// can write it.
fn private_dir(dir: &Path) -> bool {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let _ = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir);
    std::fs::metadata(dir).is_ok_and(|m| {
        m.is_dir() && m.uid() == rustix::process::geteuid().as_raw() && m.mode() & 0o022 == 0
    })
}

fn deadline_ticks(timeout: Duration) -> u64 {
    (timeout.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64 + 1
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

fn plugin_err(e: String) -> CallError {
    CallError::Plugin(e)
}

impl DynPlugin for WasmPlugin {
    fn info(&mut self) -> CallResult<PluginInfo> {
        let i = self.call("info", |s| s.plugin.call_info(&mut s.store))?;
        for (what, v) in [
            ("name", &i.name),
            ("version", &i.version),
            ("description", &i.description),
            ("contact", &i.contact),
        ] {
            self.check_len(&format!("info ({what})"), v.len(), 4096)?;
        }
        Ok(PluginInfo {
            name: i.name,
            version: i.version,
            description: i.description,
            contact: i.contact,
            required_api_version: i.required_api_version,
            init_schema: i.init_schema,
        })
    }

    fn init(&mut self, config: &str) -> CallResult<()> {
        let config = config.to_string();
        self.call("init", |s| s.plugin.call_init(&mut s.store, &config))?
            .map_err(plugin_err)
    }

    fn metrics(&mut self) -> CallResult<Vec<Metric>> {
        let m = self.call("metrics", |s| s.plugin.call_metrics(&mut s.store))?;
        Ok(m.into_iter()
            .take(256)
            .map(|m| Metric {
                name: m.name.chars().take(128).collect(),
                value: m.value,
                monotonic: m.monotonic,
            })
            .collect())
    }

    fn fields(&mut self) -> CallResult<Vec<FieldInfo>> {
        let f = self.call("fields", |s| s.extractor.call_fields(&mut s.store))?;
        self.check_count("fields", f.len(), MAX_FIELDS)?;
        for x in &f {
            self.check_len("fields (name)", x.name.len(), 256)?;
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
                display: f.display,
                desc: f.desc,
                add_output: f.add_output,
                hidden: f.properties.iter().any(|p| p == "hidden"),
            })
            .collect())
    }

    fn extract_sources(&mut self) -> CallResult<Vec<String>> {
        let v = self.call("extract-sources", |s| {
            s.extractor.call_extract_sources(&mut s.store)
        })?;
        self.check_count("extract-sources", v.len(), 256)?;
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
            .call("extract", |s| {
                s.extractor.call_extract(&mut s.store, batch, &rs)
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
        let i = self.call("source info", |s| {
            let src = s.source.as_ref().expect("checked");
            src.call_info(&mut s.store)
        })?;
        Ok(Some((i.id, i.event_source)))
    }

    fn list_open_params(&mut self) -> CallResult<Vec<OpenParam>> {
        self.source()?;
        let p = self
            .call("list-open-params", |s| {
                let src = s.source.as_ref().expect("checked");
                src.call_list_open_params(&mut s.store)
            })?
            .map_err(plugin_err)?;
        self.check_count("list-open-params", p.len(), 256)?;
        Ok(p.into_iter()
            .map(|p| OpenParam {
                value: p.value,
                desc: p.desc,
                separator: p.separator,
            })
            .collect())
    }

    fn open(&mut self, params: &str) -> CallResult<()> {
        self.source()?;
        let params = params.to_string();
        self.call("open", |s| {
            let src = s.source.as_ref().expect("checked");
            src.call_open(&mut s.store, &params)
        })?
        .map_err(plugin_err)
    }

    fn next_batch(&mut self, max: u32, out: &mut Events) -> CallResult<BatchStatus> {
        self.source()?;
        let b = self
            .call("next-batch", |s| {
                let src = s.source.as_ref().expect("checked");
                src.call_next_batch(&mut s.store, max)
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
        let p = self.call("progress", |s| {
            let src = s.source.as_ref().expect("checked");
            src.call_progress(&mut s.store)
        })?;
        Ok((p.percent, p.text.chars().take(256).collect()))
    }

    fn event_to_string(&mut self, data: &[u8]) -> CallResult<String> {
        self.source()?;
        let data = data.to_vec();
        let s = self.call("event-to-string", |s| {
            let src = s.source.as_ref().expect("checked");
            src.call_event_to_string(&mut s.store, &data)
        })?;
        self.check_len("event-to-string", s.len(), self.limits.max_field_bytes)?;
        Ok(s)
    }

    fn close(&mut self) -> CallResult<()> {
        if self.source.is_none() || self.dead.is_some() {
            return Ok(());
        }
        self.call("close", |s| {
            let src = s.source.as_ref().expect("checked");
            src.call_close(&mut s.store)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_pruning_keeps_the_most_recently_used() {
        let dir = std::env::temp_dir().join(format!("fw-prune-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let now = std::time::SystemTime::now();
        let file = |name: &str, age_s: u64| {
            let p = dir.join(name);
            std::fs::write(&p, b"x").unwrap();
            let f = std::fs::File::options().write(true).open(&p).unwrap();
            f.set_modified(now - Duration::from_secs(age_s)).unwrap();
        };
        for (i, age) in [50, 10, 40, 20, 30].iter().enumerate() {
            file(&format!("c{i}.cwasm"), *age);
        }
        file(".old.1.tmp", 7200);
        file(".new.2.tmp", 5);
        file("notes.txt", 9999);
        prune_cache(&dir, 2);
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [".new.2.tmp", "c1.cwasm", "c3.cwasm", "notes.txt"]);
        let _ = std::fs::remove_dir_all(&dir);
    }

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

    #[test]
    fn cache_only_in_a_private_directory() {
        use std::os::unix::fs::PermissionsExt;
        let base = std::env::temp_dir().join(format!("fw-cache-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let mine = base.join("mine");
        assert!(private_dir(&mine));
        assert_eq!(
            std::fs::metadata(&mine).unwrap().permissions().mode() & 0o777,
            0o700
        );
        std::fs::set_permissions(&mine, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(
            !private_dir(&mine),
            "a world-writable cache must not be trusted"
        );
        let _ = std::fs::remove_dir_all(&base);
    }
}
