//! Compiling plugin components, with limits on what is compiled and a cache
//! of the machine code.
//!
//! A component is measured before it is compiled (size, functions, code
//! bytes): compiling costs time and memory in proportion, and a hostile
//! component of a few megabytes can otherwise take minutes and gigabytes.
//!
//! The cache holds native code that this process will run, so a file in it
//! must be one we wrote. The directory is opened once, component by
//! component from `/` without following symlinks, and every directory on
//! the way must be owned by us or root and writable by nobody else (or be
//! sticky, like `/tmp`); the cache directory itself must be ours and
//! private. Every read and write then goes through that handle, so nobody
//! can swap the directory between the check and the use.

use rustix::fd::OwnedFd;
use rustix::fs::{AtFlags, Mode, OFlags};
use std::io::{Read, Write};
use std::path::{Component as PathPart, Path, PathBuf};
use std::time::{Duration, SystemTime};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Most compiled components the cache keeps (each plugin version and engine
/// build adds one); the least recently used go first.
const CACHE_KEEP: usize = 32;

/// What a component may hold to be compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompileLimits {
    /// Bytes of the component file.
    pub max_bytes: usize,
    /// Functions defined in its core modules.
    pub max_functions: u64,
    /// Bytes of function bodies in its core modules.
    pub max_code_bytes: u64,
}

impl Default for CompileLimits {
    /// Far above the first-party plugins (the largest is ~1 MB with ~3,000
    /// functions), far below what takes a minute to compile.
    fn default() -> CompileLimits {
        CompileLimits {
            max_bytes: 64 << 20,
            max_functions: 50_000,
            max_code_bytes: 32 << 20,
        }
    }
}

/// Why a component was not compiled or loaded.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {what} (not compiled)")]
    TooBig { path: String, what: String },
    #[error("{path}: not a valid plugin component: {message}")]
    Invalid { path: String, message: String },
}

/// Reads the component at `path`, checks it against `limits`, and compiles
/// it or loads its machine code from the cache.
pub fn load(
    engine: &Engine,
    path: &Path,
    limits: &CompileLimits,
) -> Result<Component, CompileError> {
    let shown = path.display().to_string();
    let bytes = read_bounded(path, limits.max_bytes).map_err(|source| CompileError::Read {
        path: shown.clone(),
        source,
    })?;
    if bytes.len() > limits.max_bytes {
        return Err(CompileError::TooBig {
            path: shown,
            what: format!("more than {} bytes", limits.max_bytes),
        });
    }
    measure(&bytes, limits).map_err(|m| match m {
        Measure::Over(what) => CompileError::TooBig {
            path: shown.clone(),
            what,
        },
        Measure::Unreadable(message) => CompileError::Invalid {
            path: shown.clone(),
            message,
        },
    })?;
    let compile = || {
        Component::new(engine, &bytes).map_err(|e| CompileError::Invalid {
            path: shown.clone(),
            message: e.to_string(),
        })
    };
    match cache_dir().and_then(|d| CacheDir::open(&d)) {
        Some(cache) => cache.load_or_compile(engine, &bytes, compile),
        None => compile(),
    }
}

/// Up to `max + 1` bytes of the file (so that "too big" is seen without
/// reading a huge file whole).
fn read_bounded(path: &Path, max: usize) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    std::fs::File::open(path)?
        .take(max as u64 + 1)
        .read_to_end(&mut out)?;
    Ok(out)
}

/// Why [`measure`] refused a component.
#[derive(Debug, PartialEq, Eq)]
enum Measure {
    /// A limit passed (what, said).
    Over(String),
    /// It cannot be read as a component (so it cannot be measured).
    Unreadable(String),
}

/// Counts the functions and code bytes of every core module in a component
/// (nested ones included) without compiling anything; refuses at the first
/// limit passed, and what cannot be parsed (unmeasured, it would be
/// compiled blind).
fn measure(bytes: &[u8], limits: &CompileLimits) -> Result<(), Measure> {
    if !bytes.starts_with(b"\0asm") {
        return Err(Measure::Unreadable(
            "not a WebAssembly file (it does not start with \\0asm)".into(),
        ));
    }
    let (mut functions, mut code) = (0u64, 0u64);
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| Measure::Unreadable(e.to_string()))?;
        match payload {
            wasmparser::Payload::FunctionSection(s) => functions += u64::from(s.count()),
            wasmparser::Payload::CodeSectionStart { size, .. } => code += u64::from(size),
            _ => {}
        }
        if functions > limits.max_functions {
            let what = format!("more than {} functions", limits.max_functions);
            return Err(Measure::Over(what));
        }
        if code > limits.max_code_bytes {
            let what = format!("more than {} bytes of code", limits.max_code_bytes);
            return Err(Measure::Over(what));
        }
    }
    Ok(())
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

/// The cache directory, opened and checked (see the module docs).
struct CacheDir {
    fd: OwnedFd,
}

/// Whether a directory on the way to the cache is safe to go through: owned
/// by us or root, and nobody else can rename its entries.
fn safe_parent(st: &rustix::fs::Stat, me: u32) -> bool {
    let mode = st.st_mode;
    let others_write = mode & 0o022 != 0;
    let sticky = mode & 0o1000 != 0;
    (st.st_uid == me || st.st_uid == 0) && (!others_write || sticky)
}

impl CacheDir {
    /// Opens `dir` (creating what is missing, mode 0700) through checked
    /// directories only; `None` (and the cache unused) otherwise.
    fn open(dir: &Path) -> Option<CacheDir> {
        let me = rustix::process::geteuid().as_raw();
        let dir = std::path::absolute(dir).ok()?;
        let flags = OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::RDONLY;
        let mut fd = rustix::fs::open("/", flags, Mode::empty()).ok()?;
        let parts: Vec<_> = dir.components().collect();
        for (i, part) in parts.iter().enumerate() {
            let name = match part {
                PathPart::RootDir => continue,
                PathPart::Normal(n) => *n,
                // `..` could climb out of a checked directory.
                _ => return None,
            };
            let st = rustix::fs::fstat(&fd).ok()?;
            if !safe_parent(&st, me) {
                return None;
            }
            let _ = rustix::fs::mkdirat(&fd, name, Mode::from_raw_mode(0o700));
            fd = rustix::fs::openat(&fd, name, flags, Mode::empty()).ok()?;
            if i + 1 == parts.len() {
                let st = rustix::fs::fstat(&fd).ok()?;
                if st.st_uid != me || st.st_mode & 0o077 != 0 {
                    return None;
                }
            }
        }
        Some(CacheDir { fd })
    }

    fn read(&self, name: &str) -> Option<Vec<u8>> {
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&self.fd, name, flags, Mode::empty()).ok()?;
        let st = rustix::fs::fstat(&fd).ok()?;
        let me = rustix::process::geteuid().as_raw();
        if st.st_uid != me || st.st_mode & 0o077 != 0 {
            return None;
        }
        let mut f = std::fs::File::from(fd);
        let mut out = Vec::new();
        f.read_to_end(&mut out).ok()?;
        // Recently used: kept when the cache is pruned.
        let _ = f.set_modified(SystemTime::now());
        Some(out)
    }

    fn write(&self, name: &str, code: &[u8]) {
        let tmp = format!(".{name}.{}.tmp", std::process::id());
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let Ok(fd) = rustix::fs::openat(&self.fd, &tmp, flags, Mode::from_raw_mode(0o600)) else {
            return;
        };
        let mut f = std::fs::File::from(fd);
        if f.write_all(code).and_then(|()| f.sync_all()).is_ok() {
            let _ = rustix::fs::renameat(&self.fd, &tmp, &self.fd, name);
        } else {
            let _ = rustix::fs::unlinkat(&self.fd, &tmp, AtFlags::empty());
        }
    }

    fn remove(&self, name: &str) {
        let _ = rustix::fs::unlinkat(&self.fd, name, AtFlags::empty());
    }

    /// The compiled component for `bytes`, from the cache when there, else
    /// compiled and stored. The key is the component's SHA-256 and the
    /// engine's compatibility hash (wasmtime version, target, settings).
    fn load_or_compile(
        &self,
        engine: &Engine,
        bytes: &[u8],
        compile: impl FnOnce() -> Result<Component, CompileError>,
    ) -> Result<Component, CompileError> {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        let hex = crate::digest::sha256_hex(bytes);
        let name = format!("{hex}-{:016x}.cwasm", h.finish());
        if let Some(code) = self.read(&name) {
            // SAFETY: the file was read through a handle on a directory only
            // this user can write, reached without following symlinks
            // through directories nobody else can rename entries in
            // (`CacheDir::open`); it is owned by us and private, and was
            // written by `Component::serialize` below under a name bound to
            // the component's content and this engine's configuration.
            #[allow(unsafe_code)]
            match unsafe { Component::deserialize(engine, &code) } {
                Ok(c) => return Ok(c),
                Err(_) => self.remove(&name),
            }
        }
        let component = compile()?;
        if let Ok(code) = component.serialize() {
            self.write(&name, &code);
            self.prune(CACHE_KEEP);
        }
        Ok(component)
    }

    /// Removes all but the `keep` most recently used compiled components,
    /// and temporary files left by interrupted writes.
    fn prune(&self, keep: usize) {
        let Ok(dup) = rustix::io::dup(&self.fd) else {
            return;
        };
        let Ok(dir) = rustix::fs::Dir::new(dup) else {
            return;
        };
        let hour_ago = SystemTime::now() - Duration::from_secs(3600);
        let mut compiled = Vec::new();
        for e in dir.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Ok(st) = rustix::fs::statat(&self.fd, e.file_name(), AtFlags::SYMLINK_NOFOLLOW)
            else {
                continue;
            };
            let modified = SystemTime::UNIX_EPOCH
                + Duration::new(st.st_mtime.max(0) as u64, st.st_mtime_nsec as u32);
            if name.ends_with(".cwasm") {
                compiled.push((modified, name));
            } else if name.starts_with('.') && name.ends_with(".tmp") && modified < hour_ago {
                self.remove(&name);
            }
        }
        if compiled.len() > keep {
            compiled.sort();
            for (_, name) in &compiled[..compiled.len() - keep] {
                self.remove(name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("fw-cache-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        d
    }

    #[test]
    fn pruning_keeps_the_most_recently_used() {
        let base = scratch("prune");
        let dir = base.join("c");
        let cache = CacheDir::open(&dir).expect("private cache");
        let now = SystemTime::now();
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
        cache.prune(2);
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [".new.2.tmp", "c1.cwasm", "c3.cwasm", "notes.txt"]);
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn only_a_private_directory_reached_through_safe_ones_is_trusted() {
        let base = scratch("trust");
        let mine = base.join("mine");
        let cache = CacheDir::open(&mine).expect("a new private directory");
        assert_eq!(
            std::fs::metadata(&mine).unwrap().permissions().mode() & 0o777,
            0o700
        );
        cache.write("a.cwasm", b"code");
        assert_eq!(cache.read("a.cwasm").as_deref(), Some(&b"code"[..]));
        // Group- or world-writable: not trusted.
        std::fs::set_permissions(&mine, std::fs::Permissions::from_mode(0o770)).unwrap();
        assert!(CacheDir::open(&mine).is_none());
        std::fs::set_permissions(&mine, std::fs::Permissions::from_mode(0o700)).unwrap();
        // A parent where others can rename entries (writable, not sticky):
        // the cache below it could be swapped for someone else's.
        let shared = base.join("shared");
        std::fs::create_dir_all(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(CacheDir::open(&shared.join("c")).is_none());
        // Sticky (as /tmp): others cannot rename our entries.
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
        assert!(CacheDir::open(&shared.join("c")).is_some());
        // A symlink on the way is not followed.
        std::os::unix::fs::symlink(&mine, base.join("link")).unwrap();
        assert!(CacheDir::open(&base.join("link")).is_none());
        assert!(CacheDir::open(&base.join("link/sub")).is_none());
        // A cache file replaced by a symlink is not read.
        std::fs::remove_file(mine.join("a.cwasm")).unwrap();
        std::fs::write(base.join("evil"), b"evil").unwrap();
        std::os::unix::fs::symlink(base.join("evil"), mine.join("a.cwasm")).unwrap();
        assert_eq!(cache.read("a.cwasm"), None);
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn components_are_measured_before_they_are_compiled() {
        // One core module with 60,000 empty functions, inside a component.
        let mut types = wasm_encoder::TypeSection::new();
        types.ty().function([], []);
        let mut funcs = wasm_encoder::FunctionSection::new();
        let mut code = wasm_encoder::CodeSection::new();
        for _ in 0..60_000 {
            funcs.function(0);
            let mut f = wasm_encoder::Function::new([]);
            f.instruction(&wasm_encoder::Instruction::End);
            code.function(&f);
        }
        let mut module = wasm_encoder::Module::new();
        module.section(&types).section(&funcs).section(&code);
        let mut component = wasm_encoder::Component::new();
        component.section(&wasm_encoder::ModuleSection(&module));
        let bytes = component.finish();
        let limits = CompileLimits::default();
        assert_eq!(
            measure(&bytes, &limits),
            Err(Measure::Over("more than 50000 functions".into()))
        );
        let small = CompileLimits {
            max_functions: 100_000,
            max_code_bytes: 1000,
            ..limits
        };
        assert_eq!(
            measure(&bytes, &small),
            Err(Measure::Over("more than 1000 bytes of code".into()))
        );
        assert!(matches!(
            measure(b"\0asm garbage", &limits),
            Err(Measure::Unreadable(_))
        ));
    }
}
