//! The state engine: processes, their fds, users and containers, kept up to
//! date from probe records and bootstrapped from `/proc`.
//!
//! ```text
//! record ─► State::update (before rules: exec, fork, open, connect, ...)
//!        ─► rules see the event through event::SyscallEvent
//!        ─► State::finish (after rules: close removes the fd, exit schedules a purge)
//! ```
//!
//! Memory is bounded: at most `max_processes` processes (stale ones, whose
//! `/proc` entry is gone, are evicted when the table is full), at most
//! [`fds::MAX_FDS_PER_PROCESS`] fds each, exited processes are purged after
//! a grace period, and container metadata is cached per id with a cap.

pub mod cgroups;
pub mod containers;
pub mod event;
pub mod fds;
pub mod netsock;
pub mod process;
pub mod users;

use crate::capture::record::{
    Creds, ExecInfo, IDX_RET, KIND_FORK, KIND_PROCEXIT, ParamKind, Record, SockTuple, trim_nul,
    until_nul,
};
use crate::capture::syscalls;
use containers::{ContainerInfo, Containers};
use fds::{Fd, FdKind};
pub use process::Process;
use rustc_hash::FxHashMap;
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use users::UserDb;

/// Limits and sources of the state engine.
#[derive(Clone, Debug)]
pub struct StateOptions {
    /// Most processes kept.
    pub max_processes: usize,
    /// How long an exited process stays (for late events), ns.
    pub exit_grace_ns: i64,
    /// The host's root directory as this process sees it (`/`, or
    /// `HOST_ROOT` in a container): its `/etc/passwd` and `/etc/group`.
    pub host_root: PathBuf,
    /// Where the host's `/proc` is mounted.
    pub proc_root: PathBuf,
    /// Container runtime sockets tried for metadata.
    pub runtime_sockets: Vec<PathBuf>,
    /// Timeout of one metadata lookup.
    pub runtime_timeout: std::time::Duration,
    /// Reads `/proc`, container roots and runtimes for what the events do
    /// not say (false when replaying a capture: that machine is not this one).
    pub live: bool,
}

impl Default for StateOptions {
    fn default() -> StateOptions {
        StateOptions {
            max_processes: 131_072,
            exit_grace_ns: 5_000_000_000,
            host_root: PathBuf::from("/"),
            proc_root: PathBuf::from("/proc"),
            runtime_sockets: containers::DEFAULT_SOCKETS
                .iter()
                .map(PathBuf::from)
                .collect(),
            runtime_timeout: std::time::Duration::from_millis(500),
            live: true,
        }
    }
}

/// The host's root as this process sees it: `HOST_ROOT` (Falco's
/// convention for containers, which mount the host's `/proc`, `/etc` and
/// runtime sockets under `/host`), else `/`.
pub fn host_root() -> PathBuf {
    match std::env::var_os("HOST_ROOT") {
        Some(r) if !r.is_empty() => PathBuf::from(r),
        _ => PathBuf::from("/"),
    }
}

/// A host path (`/run/podman/podman.sock`) under the host root.
pub fn host_path(root: &Path, p: &Path) -> PathBuf {
    root.join(p.strip_prefix("/").unwrap_or(p))
}

impl StateOptions {
    /// Live capture on the host whose root is `root`: its `/proc`, users
    /// and runtime sockets under it.
    pub fn on_host(root: &Path) -> StateOptions {
        let d = StateOptions::default();
        StateOptions {
            proc_root: host_path(root, &d.proc_root),
            runtime_sockets: d
                .runtime_sockets
                .iter()
                .map(|s| host_path(root, s))
                .collect(),
            host_root: root.to_path_buf(),
            ..d
        }
    }
}

/// Counters about the tables.
#[derive(Clone, Copy, Debug, Default)]
pub struct StateStats {
    /// Processes read from /proc at start.
    pub bootstrapped: u64,
    /// Processes read from /proc later, when an event named an unknown one.
    pub late_reads: u64,
    /// Processes removed after exiting.
    pub purged: u64,
    /// Processes evicted because the table was full.
    pub evicted: u64,
    /// Records that could not be parsed.
    pub bad_records: u64,
}

/// The state engine.
pub struct State {
    opts: StateOptions,
    /// By pid (FxHash: pids are the kernel's, not an attacker's choice of
    /// hash keys, and this lookup runs for every field of every event).
    procs: FxHashMap<u32, Process>,
    exited: VecDeque<(i64, u32)>,
    host_users: UserDb,
    container_users: HashMap<String, (UserDb, std::time::Instant)>,
    containers: Containers,
    upper_dirs: HashMap<String, String>,
    /// Cgroup paths by id, for scopes by cgroup (read when first asked).
    cgroups: std::sync::Mutex<cgroups::CgroupPaths>,
    boot_to_epoch_ns: i64,
    /// Counters.
    pub stats: StateStats,
}

const AT_FDCWD: i64 = -100;

impl State {
    /// An empty state; `boot_to_epoch_ns` converts record stamps to wall time.
    pub fn new(opts: StateOptions, boot_to_epoch_ns: i64) -> State {
        State {
            containers: Containers::new(opts.runtime_sockets.clone(), opts.runtime_timeout),
            host_users: UserDb::load(&opts.host_root),
            procs: FxHashMap::default(),
            exited: VecDeque::new(),
            container_users: HashMap::new(),
            upper_dirs: HashMap::new(),
            cgroups: Default::default(),
            boot_to_epoch_ns,
            opts,
            stats: StateStats::default(),
        }
    }

    /// Gives sockets read from /proc their family and addresses, from the
    /// process's network namespace tables (read once per namespace).
    fn fill_sockets(
        &self,
        p: &mut Process,
        netns: &mut HashMap<String, HashMap<u64, netsock::NetSocket>>,
    ) {
        let socks: Vec<i64> = p
            .fds
            .iter()
            .filter(|(_, f)| f.kind == FdKind::OtherSocket && f.ino != 0)
            .map(|(n, _)| n)
            .collect();
        if socks.is_empty() {
            return;
        }
        let ns = std::fs::read_link(self.opts.proc_root.join(p.pid.to_string()).join("ns/net"))
            .map(|l| l.to_string_lossy().into_owned())
            .unwrap_or_default();
        let table = netns
            .entry(ns)
            .or_insert_with(|| netsock::read(&self.opts.proc_root, p.pid));
        for n in socks {
            let Some(fd) = p.fds.get_mut(n) else { continue };
            match table.get(&fd.ino) {
                Some(netsock::NetSocket::Ip(t, server)) => set_socket(fd, Some(*t), None, !server),
                Some(netsock::NetSocket::Unix(path)) => {
                    fd.kind = FdKind::Unix;
                    fd.name = path.clone();
                }
                None => {}
            }
        }
    }

    /// Reads every process in `/proc`.
    pub fn bootstrap(&mut self) {
        let mut netns = HashMap::new();
        let Ok(dir) = std::fs::read_dir(&self.opts.proc_root) else {
            return;
        };
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            if let Some(mut p) =
                process::read_proc(&self.opts.proc_root, pid, self.boot_to_epoch_ns, 100)
            {
                self.fill_sockets(&mut p, &mut netns);
                self.insert(p);
                self.stats.bootstrapped += 1;
            }
        }
    }

    /// Sets the offset from record stamps (boot time) to wall time.
    pub fn set_boot_to_epoch(&mut self, ns: i64) {
        self.boot_to_epoch_ns = ns;
    }

    /// Converts a record's boot-time stamp to ns since the epoch.
    pub fn epoch_ns(&self, ts_boot: u64) -> i64 {
        ts_boot as i64 + self.boot_to_epoch_ns
    }

    /// A process, if known.
    pub fn process(&self, pid: u32) -> Option<&Process> {
        self.procs.get(&pid)
    }

    /// Number of live processes whose parent is `pid`.
    pub fn children_of(&self, pid: u32) -> usize {
        self.procs
            .values()
            .filter(|p| p.ppid == pid && p.exited_ns.is_none())
            .count()
    }

    /// Every process in the table.
    pub fn processes(&self) -> impl Iterator<Item = &Process> {
        self.procs.values()
    }

    /// The host's users and groups.
    pub fn host_users(&self) -> &UserDb {
        &self.host_users
    }

    /// The containers whose metadata is known.
    pub fn containers(&self) -> impl Iterator<Item = (&str, &ContainerInfo)> {
        self.containers.all()
    }

    /// Number of processes in the table.
    pub fn process_count(&self) -> usize {
        self.procs.len()
    }

    /// The user table for a process (its container's when it has one).
    pub fn users_of(&self, p: &Process) -> &UserDb {
        if !p.container_id.is_empty()
            && let Some((db, _)) = self.container_users.get(&p.container_id)
        {
            return db;
        }
        &self.host_users
    }

    /// The cgroup2 path of process `p`'s cgroup, if known.
    pub fn cgroup_path(&self, p: &Process) -> Option<std::sync::Arc<str>> {
        if p.cgroup_id == 0 || !self.opts.live {
            return None;
        }
        let mut c = self.cgroups.lock().unwrap_or_else(|e| e.into_inner());
        c.path(p.cgroup_id, p.pid, &self.opts.proc_root)
    }

    /// Container metadata for an id (cached; asked by [`State::update`]).
    pub fn container(&self, id: &str) -> Option<&ContainerInfo> {
        self.containers.cached(id)
    }

    fn insert(&mut self, p: Process) {
        if self.procs.len() >= self.opts.max_processes && !self.procs.contains_key(&p.pid) {
            self.evict();
        }
        self.procs.insert(p.pid, p);
    }

    /// Adds a process the source knew at its start (a capture's process
    /// list), counted as bootstrapped.
    pub fn seed(&mut self, p: Process) {
        self.insert(p);
        self.stats.bootstrapped += 1;
    }

    /// Container metadata learned from the source (a capture's container
    /// events), under the id the source gives (a short id answers for the
    /// full one).
    pub fn add_container(&mut self, id: &str, info: ContainerInfo) {
        self.containers.insert(id, info);
    }

    /// Replaces the host's users and groups (a capture's user list).
    pub fn set_host_users(&mut self, users: UserDb) {
        self.host_users = users;
    }

    /// Drops exited processes and those whose /proc entry is gone.
    fn evict(&mut self) {
        let before = self.procs.len();
        let root = self.opts.proc_root.clone();
        let live = self.opts.live;
        self.procs.retain(|pid, p| {
            p.exited_ns.is_none() && (!live || root.join(pid.to_string()).exists())
        });
        self.exited.clear();
        if self.procs.len() >= self.opts.max_processes {
            // Still full of live processes: forget an arbitrary eighth.
            let drop: Vec<u32> = self
                .procs
                .keys()
                .take(self.opts.max_processes / 8 + 1)
                .copied()
                .collect();
            for pid in drop {
                self.procs.remove(&pid);
            }
        }
        self.stats.evicted += (before - self.procs.len()) as u64;
    }

    /// Makes sure the record's process is known (reading /proc if needed).
    fn ensure(&mut self, pid: u32) {
        if self.procs.contains_key(&pid) {
            return;
        }
        let p = self
            .opts
            .live
            .then(|| process::read_proc(&self.opts.proc_root, pid, self.boot_to_epoch_ns, 100))
            .flatten()
            .unwrap_or_else(|| Process {
                pid,
                loginuid: u32::MAX,
                cwd: "/".into(),
                ..Process::default()
            });
        self.stats.late_reads += 1;
        let id = p.container_id.clone();
        self.note_container(pid, &id);
        self.insert(p);
    }

    /// Looks up a container's metadata and users (cached; `pid` is one of
    /// its processes).
    fn note_container(&mut self, pid: u32, container_id: &str) {
        if container_id.is_empty() || !self.opts.live {
            return;
        }
        // (Re)read the container's own users: the first process seen may be
        // the runtime's init, before the container's root is in place.
        let fresh = self
            .container_users
            .get(container_id)
            .is_some_and(|(db, at)| {
                !db.is_empty() && at.elapsed() < std::time::Duration::from_secs(1)
            });
        // Metadata first: its root directory is the fallback when the
        // process is already gone.
        let root_dir = self.containers.info(container_id).root_dir.clone();
        if !fresh {
            let root = self.opts.proc_root.join(pid.to_string()).join("root");
            if self.container_users.len() > 4096 {
                self.container_users.clear();
            }
            let mut db = UserDb::load(&root);
            if db.is_empty()
                && let Some(dir) = root_dir
            {
                db = UserDb::load(Path::new(&dir));
            }
            // An empty read (the process already gone, or no /etc/passwd
            // yet) does not replace a good table, and is retried next time.
            let keep_old = db.is_empty()
                && self
                    .container_users
                    .get(container_id)
                    .is_some_and(|(old, _)| !old.is_empty());
            if !keep_old {
                self.container_users
                    .insert(container_id.to_string(), (db, std::time::Instant::now()));
            }
        }
    }

    /// Applies what a record changes before rules see it.
    pub fn update(&mut self, r: &Record) {
        match r.kind {
            KIND_FORK => self.on_fork(r),
            KIND_PROCEXIT => {}
            _ => {
                self.ensure(r.pid);
                // Refreshes metadata of a container first seen before it started.
                if self.opts.live
                    && let Some(p) = self.procs.get(&r.pid)
                    && !p.container_id.is_empty()
                {
                    let id = p.container_id.clone();
                    self.containers.info(&id);
                }
                if r.kind == SYS_CONNECT {
                    self.note_connect(r);
                }
                if r.ret >= 0 || r.ret == -115 {
                    self.on_syscall(r);
                }
            }
        }
    }

    /// Applies what a record changes after rules saw it.
    pub fn finish(&mut self, r: &Record) {
        let now = self.epoch_ns(r.ts_boot);
        match (r.kind, On::of_kind(r.kind)) {
            (KIND_PROCEXIT, _) if r.tid == r.pid => {
                if let Some(p) = self.procs.get_mut(&r.pid) {
                    p.exited_ns = Some(now);
                    self.exited.push_back((now, r.pid));
                }
            }
            (_, On::Close) if r.ret == 0 => {
                if let Some(p) = self.procs.get_mut(&r.pid) {
                    p.fds.remove(r.args[0] as i32 as i64);
                }
            }
            (_, On::CloseRange) if r.ret == 0 => {
                if let Some(p) = self.procs.get_mut(&r.pid) {
                    p.fds
                        .remove_range(r.args[0] as u32 as i64, (r.args[1] as u32) as i64);
                }
            }
            _ => {}
        }
        while let Some(&(t, pid)) = self.exited.front() {
            if now - t < self.opts.exit_grace_ns {
                break;
            }
            self.exited.pop_front();
            if self.procs.get(&pid).is_some_and(|p| p.exited_ns == Some(t)) {
                self.procs.remove(&pid);
                self.stats.purged += 1;
            }
        }
    }

    fn on_fork(&mut self, r: &Record) {
        if r.tid != r.pid {
            self.ensure(r.pid);
            return;
        }
        let parent_pid = r.args[1] as u32;
        self.ensure(parent_pid);
        let mut child = self.procs.get(&parent_pid).cloned().unwrap_or_default();
        child.connect_ports = Default::default();
        child.pid = r.pid;
        child.ppid = r.args[2] as u32;
        child.vpid = match r.args[4] as u32 {
            0 => r.pid,
            v => v,
        };
        if child.vpid == 1 && child.vpid != r.pid {
            // the first process of a new pid namespace: its session and
            // group leaders are outside it
            (child.vsid, child.vpgid) = (0, 0);
        }
        child.start_ns = self.epoch_ns(r.ts_boot);
        child.exited_ns = None;
        self.insert(child);
    }

    /// Applies a successful syscall: exec, new and changed fds, working
    /// directory, session and credentials.
    fn on_syscall(&mut self, r: &Record) {
        let Some(name) = syscalls::name_of(r.kind) else {
            return;
        };
        let ret = r.ret;
        match On::of_kind(r.kind) {
            On::Exec if ret == 0 => self.on_exec(r),
            On::Open(call) => self.on_open(r, call),
            On::Dup => self.dup(r.pid, int_arg(r, 0), ret),
            On::Fcntl if matches!(r.args[1], 0 | 1030) => self.dup(r.pid, int_arg(r, 0), ret),
            On::Socket => {
                let mut fd = Fd::new(FdKind::for_family(r.args[0] as u16), "");
                fd.flags = r.args[1];
                self.with_fds(r.pid, |t| t.insert(ret, fd));
            }
            On::Connect => self.on_connect(r, name == "connect"),
            On::Accept => self.on_accept(r, name),
            On::FdPair => self.on_fd_pair(r, name),
            On::Memfd => {
                let n = user_str(r, 0).unwrap_or_default();
                let fd = Fd::new(FdKind::Memfd, format!("memfd:{n}"));
                self.with_fds(r.pid, |t| t.insert(ret, fd));
            }
            On::Process => self.on_process_change(r, name),
            // prctl(PR_SET_NAME) by the main thread renames the process
            // (busybox applets, programs hiding as another name); other
            // threads name only themselves
            On::Prctl if ret == 0 && r.args[0] == 15 && r.tid == r.pid => {
                if let (Some(name), Some(p)) = (user_str(r, 1), self.procs.get_mut(&r.pid)) {
                    p.comm = name.chars().take(15).collect();
                }
            }
            On::Anon(kind) => self.new_fd(r.pid, ret, kind),
            On::Bpf if ret > 0 && matches!(r.args[0], 0 | 5 | 7 | 14) => {
                self.new_fd(r.pid, ret, FdKind::Bpf)
            }
            _ => {}
        }
    }

    /// The open family: a file or directory fd, its path resolved.
    fn on_open(&mut self, r: &Record, call: OpenCall) {
        let (dirfd, idx) = match call {
            OpenCall::Open | OpenCall::Creat => (AT_FDCWD, 0),
            OpenCall::At => (int_arg(r, 0), 1),
        };
        let flags = call.flags(r);
        let raw = user_str(r, idx).unwrap_or_default();
        // an absolute path already normal is its own name (no copy)
        let resolved = (!(raw.starts_with('/') && is_normal(raw.as_bytes())))
            .then(|| self.resolve(r.pid, dirfd, &raw));
        // a file reached through a process's root is the file inside it
        // (rules name /etc/shadow, not /proc/1/root/etc/shadow);
        // fd.nameraw keeps the path as given
        let inner = inside_proc_root(resolved.as_deref().unwrap_or(&raw));
        let (name, nameraw) = match inner.or(resolved) {
            Some(name) if name != raw => (name, Some(raw)),
            _ => (raw, None),
        };
        let kind = if flags & 0o200000 != 0 {
            FdKind::Directory
        } else {
            FdKind::File
        };
        let mut fd = Fd::new(kind, name);
        fd.flags = flags;
        fd.nameraw = nameraw;
        self.with_fds(r.pid, |t| t.insert(r.ret, fd));
    }

    /// Any connect attempt, successful or not: its remote port counted in
    /// the process's window (`proc.recent_connect_ports`).
    fn note_connect(&mut self, r: &Record) {
        let port = r.param(ParamKind::Sockaddr, Some(1)).and_then(inet_port);
        if let (Some(port), Some(p)) = (port, self.procs.get_mut(&r.pid)) {
            p.connect_ports.note(r.ts_boot, port);
        }
    }

    /// `connect`/`bind`: the socket's addresses (the fd is created if unknown).
    fn on_connect(&mut self, r: &Record, client: bool) {
        let unix_path = r
            .param(ParamKind::Sockaddr, Some(1))
            .and_then(unix_sockaddr_path);
        let tuple = r
            .param(ParamKind::Tuple, Some(0))
            .and_then(SockTuple::decode);
        let fdn = int_arg(r, 0);
        self.with_fds(r.pid, |t| {
            let fd = t.get_mut(fdn);
            let fd = match fd {
                Some(f) => f,
                None => {
                    t.insert(fdn, Fd::new(FdKind::OtherSocket, ""));
                    match t.get_mut(fdn) {
                        Some(f) => f,
                        None => return,
                    }
                }
            };
            set_socket(fd, tuple, unix_path, client);
        });
    }

    /// `accept`/`accept4`: a server-side socket with the connection's addresses.
    fn on_accept(&mut self, r: &Record, name: &str) {
        let tuple = r
            .param(ParamKind::Tuple, Some(IDX_RET))
            .and_then(SockTuple::decode);
        let mut fd = Fd::new(FdKind::OtherSocket, "");
        fd.server = true;
        if name == "accept4" {
            fd.flags = r.args[3];
        }
        set_socket(&mut fd, tuple, None, false);
        self.with_fds(r.pid, |t| t.insert(r.ret, fd));
    }

    /// `pipe`, `pipe2` and `socketpair`: the two fds the kernel wrote.
    fn on_fd_pair(&mut self, r: &Record, name: &str) {
        let idx = if name == "socketpair" { 3 } else { 0 };
        let Some(b) = r
            .param(ParamKind::FdPair, Some(idx))
            .filter(|b| b.len() == 8)
        else {
            return;
        };
        let f0 = i32::from_le_bytes(b[0..4].try_into().expect("4 bytes")) as i64;
        let f1 = i32::from_le_bytes(b[4..8].try_into().expect("4 bytes")) as i64;
        let kind = if name == "socketpair" {
            FdKind::for_family(r.args[0] as u16)
        } else {
            FdKind::Pipe
        };
        let flags = if name == "pipe" { 0 } else { r.args[1] };
        self.with_fds(r.pid, |t| {
            for n in [f0, f1] {
                let mut fd = Fd::new(kind, "");
                fd.flags = flags;
                t.insert(n, fd);
            }
        });
    }

    /// Working directory, session and credentials.
    fn on_process_change(&mut self, r: &Record, name: &str) {
        match name {
            "chdir" | "fchdir" => {
                // The probe reads the new directory from the task; a
                // capture gives the path chdir was called with, or the fd
                let cwd = match r.str_param(ParamKind::Cwd, None) {
                    Some(cwd) => Some(lossy(cwd)),
                    None if name == "chdir" => {
                        user_str(r, 0).map(|path| self.resolve(r.pid, AT_FDCWD, &path))
                    }
                    None => self
                        .procs
                        .get(&r.pid)
                        .and_then(|p| p.fds.get(int_arg(r, 0)))
                        .map(|f| f.name.clone()),
                };
                if let Some(cwd) = cwd
                    && let Some(p) = self.procs.get_mut(&r.pid)
                {
                    p.cwd = cwd;
                }
            }
            "setsid" => {
                if let Some(p) = self.procs.get_mut(&r.pid) {
                    p.sid = r.pid;
                    p.vsid = p.vpid;
                }
            }
            _ => {
                if let Some(c) = r.param(ParamKind::Creds, None).and_then(Creds::decode)
                    && let Some(p) = self.procs.get_mut(&r.pid)
                {
                    p.creds = c;
                }
            }
        }
    }

    fn on_exec(&mut self, r: &Record) {
        let info = r.param(ParamKind::Exec, None).and_then(ExecInfo::decode);
        let s = |k: ParamKind| r.str_param(k, None).map(lossy);
        let mut argv = process::split_nul(r.param(ParamKind::Args, None).unwrap_or_default());
        let env = process::split_nul(r.param(ParamKind::Env, None).unwrap_or_default());
        let cgroups: Vec<String> = r
            .params()
            .filter(|(k, _, _)| *k == ParamKind::Cgroup)
            .map(|(_, _, d)| lossy(trim_nul(d)))
            .collect();
        let container_id =
            containers::container_id_from_cgroups(cgroups.iter().map(String::as_str))
                .unwrap_or_default();
        let comm = r.param(ParamKind::Comm, None).map(|b| lossy(until_nul(b)));
        let exepath = s(ParamKind::ExePath).unwrap_or_default();
        let cwd = s(ParamKind::Cwd);
        let p = self.procs.entry(r.pid).or_insert_with(|| Process {
            pid: r.pid,
            ..Process::default()
        });
        p.exe = if argv.is_empty() {
            comm.clone().unwrap_or_default()
        } else {
            argv.remove(0)
        };
        p.args = argv;
        p.env = env;
        if let Some(c) = comm {
            p.comm = c;
        }
        if let Some(c) = cwd {
            p.cwd = c;
        }
        p.exe_from_memfd = exepath.starts_with("/memfd:");
        p.exepath = exepath;
        p.container_id = container_id;
        if let Some(i) = info {
            exec_details(p, &i, self.opts.live);
        }
        p.fds.close_on_exec();
        let (id, exepath) = (p.container_id.clone(), p.exepath.clone());
        self.note_container(r.pid, &id);
        if !id.is_empty() && self.opts.live {
            let upper = self
                .upper_dir(r.pid, &id)
                .is_some_and(|u| Path::new(u).join(exepath.trim_start_matches('/')).exists());
            if let Some(p) = self.procs.get_mut(&r.pid) {
                p.exe_upper_layer = upper;
            }
        }
    }

    /// The overlay upper directory of a container's root filesystem (from
    /// a process's mountinfo), cached per container: a file found there was
    /// written or modified in the container, not shipped in its image.
    fn upper_dir(&mut self, pid: u32, container_id: &str) -> Option<&str> {
        if !self.upper_dirs.contains_key(container_id) {
            let mi = std::fs::read_to_string(
                self.opts.proc_root.join(pid.to_string()).join("mountinfo"),
            )
            .ok()?;
            let upper = mi.lines().find_map(overlay_root_upper)?;
            if self.upper_dirs.len() > 4096 {
                self.upper_dirs.clear();
            }
            self.upper_dirs.insert(container_id.to_string(), upper);
        }
        self.upper_dirs.get(container_id).map(String::as_str)
    }

    fn with_fds(&mut self, pid: u32, f: impl FnOnce(&mut fds::FdTable)) {
        if let Some(p) = self.procs.get_mut(&pid) {
            f(&mut p.fds);
        }
    }

    fn new_fd(&mut self, pid: u32, num: i64, kind: FdKind) {
        self.with_fds(pid, |t| t.insert(num, Fd::new(kind, "")));
    }

    fn dup(&mut self, pid: u32, old: i64, new: i64) {
        self.with_fds(pid, |t| {
            if let Some(mut fd) = t.get(old).cloned() {
                fd.flags &= !0o2000000;
                t.insert(new, fd);
            }
        });
    }

    /// Resolves a path argument against a dirfd (or the cwd) of a process.
    pub fn resolve(&self, pid: u32, dirfd: i64, path: &str) -> String {
        if path.starts_with('/') {
            return normalize(path);
        }
        let p = self.procs.get(&pid);
        let base = match dirfd {
            AT_FDCWD => p.map(|p| p.cwd.as_str()),
            fd => p.and_then(|p| p.fds.get(fd)).map(|f| f.name.as_str()),
        }
        .unwrap_or_default();
        if base.is_empty() {
            return path.to_string();
        }
        // one allocation of the final size (this runs for every relative open)
        let mut joined = String::with_capacity(base.len() + 1 + path.len());
        joined.push_str(base);
        if !base.ends_with('/') {
            joined.push('/');
        }
        joined.push_str(path);
        match is_normal(joined.as_bytes()) {
            true => joined,
            false => normalize(&joined),
        }
    }
}

/// The path inside a process's root for `/proc/PID/root/...`
/// (`self`, `thread-self` and task roots too); `None` for other paths.
fn inside_proc_root(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/proc/")?;
    let (who, rest) = rest.split_once('/')?;
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !(numeric(who) || who == "self" || who == "thread-self") {
        return None;
    }
    // /proc/PID/task/TID/root/...
    let rest = match rest.strip_prefix("task/") {
        Some(t) => t.split_once('/').filter(|(tid, _)| numeric(tid))?.1,
        None => rest,
    };
    let inside = rest.strip_prefix("root")?;
    match inside {
        "" => Some("/".into()),
        i if i.starts_with('/') => Some(i.to_string()),
        _ => None,
    }
}

/// Argument `i` as an fd or dirfd: a C int (the upper half of the
/// register is not defined).
fn int_arg(r: &Record, i: usize) -> i64 {
    r.args[i] as i32 as i64
}

/// The user string read from argument `i`.
fn user_str(r: &Record, i: u8) -> Option<String> {
    r.str_param(ParamKind::UserStr, Some(i)).map(lossy)
}

/// What a syscall's record does to the state (decided once per kind).
#[derive(Clone, Copy)]
enum On {
    Exec,
    Open(OpenCall),
    Dup,
    Fcntl,
    Socket,
    Connect,
    Accept,
    FdPair,
    Memfd,
    Process,
    Prctl,
    /// A new fd of this kind (a call that makes one without a path).
    Anon(FdKind),
    /// bpf: a new fd for some commands.
    Bpf,
    /// Ends an fd (after the rules saw the event: see [`State::finish`]).
    Close,
    CloseRange,
    Nothing,
}

impl On {
    fn of(name: &str) -> On {
        match name {
            "execve" | "execveat" => On::Exec,
            "open" => On::Open(OpenCall::Open),
            "creat" => On::Open(OpenCall::Creat),
            "openat" | "openat2" | "open_by_handle_at" => On::Open(OpenCall::At),
            "dup" | "dup2" | "dup3" => On::Dup,
            "fcntl" => On::Fcntl,
            "socket" => On::Socket,
            "connect" | "bind" => On::Connect,
            "accept" | "accept4" => On::Accept,
            "pipe" | "pipe2" | "socketpair" => On::FdPair,
            "memfd_create" => On::Memfd,
            "chdir" | "fchdir" | "setsid" | "setuid" | "setgid" | "setreuid" | "setregid"
            | "setresuid" | "setresgid" | "capset" => On::Process,
            "prctl" => On::Prctl,
            "eventfd" | "eventfd2" => On::Anon(FdKind::Event),
            "signalfd" | "signalfd4" => On::Anon(FdKind::Signal),
            "timerfd_create" => On::Anon(FdKind::Timer),
            "inotify_init" | "inotify_init1" => On::Anon(FdKind::Inotify),
            "epoll_create" | "epoll_create1" => On::Anon(FdKind::Eventpoll),
            "userfaultfd" => On::Anon(FdKind::Userfault),
            "io_uring_setup" => On::Anon(FdKind::IoUring),
            "pidfd_open" | "pidfd_getfd" => On::Anon(FdKind::Pidfd),
            "bpf" => On::Bpf,
            "close" => On::Close,
            "close_range" => On::CloseRange,
            _ => On::Nothing,
        }
    }

    /// By record kind (a table built once: this runs for every event).
    fn of_kind(kind: u16) -> On {
        static BY_KIND: std::sync::OnceLock<Vec<On>> = std::sync::OnceLock::new();
        syscalls::by_kind(&BY_KIND, kind, On::Nothing, On::of)
    }
}

/// Which call of the open family, for where its path and flags are.
#[derive(Clone, Copy)]
enum OpenCall {
    /// open(path, flags, mode)
    Open,
    /// creat(path, mode): flags implied
    Creat,
    /// openat(dirfd, path, flags, mode), openat2 (the probe puts
    /// open_how.flags third), open_by_handle_at(mount_fd, handle, flags)
    At,
}

impl OpenCall {
    /// The call's Linux open flags.
    fn flags(self, r: &Record) -> u64 {
        match self {
            OpenCall::Open => r.args[1],
            OpenCall::Creat => 0o1101, // O_CREAT|O_WRONLY|O_TRUNC
            OpenCall::At => r.args[2],
        }
    }
}

/// The Linux open flags of a record of the open family (`None` for other
/// calls): what the state records for the fd and `evt.is_open_*` test.
pub fn open_call_flags(r: &Record) -> Option<u64> {
    match On::of_kind(r.kind) {
        On::Open(call) => Some(call.flags(r)),
        _ => None,
    }
}

/// Updates a socket fd from its tuple (and a unix path); builds Falco's names:
/// `client_ip:port->server_ip:port` for IP sockets.
pub fn set_socket(fd: &mut Fd, tuple: Option<SockTuple>, unix_path: Option<String>, client: bool) {
    if let Some(mut t) = tuple {
        if t.sock_type == 0 && t.protocol == 0 {
            // a tuple without them (a capture's): the type socket() gave
            t.sock_type = (fd.flags & 0xf) as u16;
        }
        fd.kind = FdKind::for_family(t.family);
        let had_name = !fd.name.is_empty();
        if fd.kind.is_ip() {
            let v6 = fd.kind == FdKind::Ipv6;
            let l = event::fmt_addr(&t.laddr, v6, t.lport);
            let r = event::fmt_addr(&t.raddr, v6, t.rport);
            fd.name = if t.rport == 0 {
                l
            } else if client {
                format!("{l}->{r}")
            } else {
                format!("{r}->{l}")
            };
        }
        fd.name_changed = had_name;
        fd.tuple = Some(t);
        fd.server = !client;
    }
    if let Some(p) = unix_path {
        fd.kind = FdKind::Unix;
        fd.name = p;
    }
}

/// `upperdir=` of a mountinfo line mounting an overlay on `/`.
fn overlay_root_upper(line: &str) -> Option<String> {
    let (mount, fs) = line.split_once(" - ")?;
    if mount.split(' ').nth(4)? != "/" {
        return None;
    }
    let mut f = fs.split(' ');
    if f.next()? != "overlay" {
        return None;
    }
    f.nth(1)?
        .split(',')
        .find_map(|o| o.strip_prefix("upperdir="))
        .map(str::to_string)
}

/// The path of a `sockaddr_un` (abstract names get a leading `@`).
/// x86_64's `connect`.
const SYS_CONNECT: u16 = 42;

/// The port of an AF_INET or AF_INET6 sockaddr (network byte order).
fn inet_port(b: &[u8]) -> Option<u16> {
    let family = u16::from_le_bytes([*b.first()?, *b.get(1)?]);
    match family {
        2 | 10 => Some(u16::from_be_bytes([*b.get(2)?, *b.get(3)?])),
        _ => None,
    }
}

fn unix_sockaddr_path(b: &[u8]) -> Option<String> {
    if b.len() < 3 || u16::from_le_bytes([b[0], b[1]]) != 1 {
        return None;
    }
    let p = &b[2..];
    Some(if p[0] == 0 {
        format!("@{}", String::from_utf8_lossy(trim_nul(&p[1..])))
    } else {
        lossy(until_nul(p))
    })
}

/// Removes `.`, `..` and repeated slashes (no symlink resolution, like libs).
pub fn normalize(path: &str) -> String {
    if is_normal(path.as_bytes()) {
        return path.to_owned();
    }
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let mut s = String::with_capacity(path.len());
    for p in &parts {
        s.push('/');
        s.push_str(p);
    }
    if s.is_empty() {
        s.push('/');
    }
    s
}

/// Whether an absolute path is already in normal form: no empty, `.` or
/// `..` component and no trailing slash (the root aside).
///
/// It runs for every open: eight bytes at a time, only a slash followed by
/// a slash or a dot is looked at closer (a byte loop, or a search call per
/// component, took 5% of a replay).
fn is_normal(p: &[u8]) -> bool {
    if p == b"/" {
        return true;
    }
    if p.first() != Some(&b'/') || p.last() == Some(&b'/') {
        return false;
    }
    // the component after the slash at `k` is neither empty, "." nor ".."
    let fine_after = |k: usize| {
        !matches!(
            &p[k + 1..],
            [b'/', ..] | [b'.'] | [b'.', b'/', ..] | [b'.', b'.'] | [b'.', b'.', b'/', ..]
        )
    };
    const SLASHES: u64 = u64::from_ne_bytes([b'/'; 8]);
    const DOTS: u64 = u64::from_ne_bytes([b'.'; 8]);
    let mut i = 0;
    while i + 9 <= p.len() {
        let (here, next) = (word(&p[i..]), word(&p[i + 1..]));
        // may flag more bytes than those, never fewer: each is checked
        let mut m =
            zero_bytes(here ^ SLASHES) & (zero_bytes(next ^ SLASHES) | zero_bytes(next ^ DOTS));
        while m != 0 {
            let k = i + (m.trailing_zeros() / 8) as usize;
            if p[k] == b'/' && !fine_after(k) {
                return false;
            }
            m &= m - 1;
        }
        i += 8;
    }
    p[i..]
        .iter()
        .enumerate()
        .all(|(j, &b)| b != b'/' || fine_after(i + j))
}

/// The first eight bytes of `b`, little-endian.
fn word(b: &[u8]) -> u64 {
    let mut w = [0; 8];
    w.copy_from_slice(&b[..8]);
    u64::from_le_bytes(w)
}

/// The high bit of each zero byte of `v` set (and maybe of bytes above a
/// zero byte: a borrow), the others clear.
fn zero_bytes(v: u64) -> u64 {
    v.wrapping_sub(0x0101_0101_0101_0101) & !v & 0x8080_8080_8080_8080
}

/// Bytes as text: copied as they are when valid UTF-8 (the common case,
/// checked by the fast validator), invalid sequences replaced otherwise.
pub fn lossy(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(b).into_owned(),
    }
}

/// What the probe's exec details say of process `p` after its exec
/// (`live`: on this machine; a replay keeps what the capture said).
fn exec_details(p: &mut Process, i: &ExecInfo, live: bool) {
    p.creds = i.creds;
    p.ppid = i.ppid;
    p.loginuid = i.loginuid;
    p.tty = if i.tty == 0 {
        0
    } else {
        process::encode_tty(i.tty >> 20, i.tty & 0xfffff)
    };
    if i.vpid != 0 {
        p.vpid = i.vpid;
        p.pgid = i.pgid;
        p.vpgid = i.vpgid;
    }
    // a replayed exec may not say the session (0): it stays
    if i.sid != 0 {
        p.sid = i.sid;
        // an older probe's capture has no vsid: a host process's is its sid
        p.vsid = match i.vsid {
            0 if i.vpid == p.pid => i.sid,
            v => v,
        };
    }
    if i.cgroup_id != 0 {
        p.cgroup_id = i.cgroup_id;
    }
    p.exe_ino = i.exe_ino;
    p.exe_ctime = i.exe_ctime;
    p.exe_mtime = i.exe_mtime;
    p.exe_from_memfd |= i.exe_nlink == 0 && p.exepath.contains("memfd:");
    if !live {
        p.exe_upper_layer = i.upper_layer;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::record::{Header, encode};
    use crate::engine::extract_value;
    use crate::fields::SourceFields;
    use crate::filter::value::{SlotValue, Value};

    fn offline(max_processes: usize) -> State {
        let opts = StateOptions {
            max_processes,
            exit_grace_ns: 1_000_000,
            proc_root: PathBuf::from("/nonexistent-proc"),
            runtime_sockets: Vec::new(),
            ..StateOptions::default()
        };
        State::new(opts, 0)
    }

    fn apply(st: &mut State, h: Header, params: &[(ParamKind, u8, &[u8])]) -> Vec<u8> {
        let b = encode(&h, params);
        let r = Record::parse(&b).unwrap();
        st.update(&r);
        st.finish(&r);
        b
    }

    fn field(st: &State, rec: &[u8], name: &str, arg: Option<&str>) -> SlotValue {
        let fields = SourceFields::syscall();
        let names = event::FieldNames::new(&fields);
        let r = Record::parse(rec).unwrap();
        let ev = event::SyscallEvent::new(&r, st, &names, 1, "h");
        extract_value(&ev, &fields.lookup(name, arg).unwrap())
    }

    fn s(v: &str) -> SlotValue {
        SlotValue::One(Value::str(v))
    }

    /// A new process `pid` forked by pid 1.
    fn fork(pid: u32, ts_boot: u64) -> Header {
        Header {
            ts_boot,
            tid: pid,
            pid,
            kind: KIND_FORK,
            args: [1, 1, 1, 0, 0, 0],
            ..Header::default()
        }
    }

    #[test]
    fn bootstrap_knows_sockets_opened_before_it() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let _c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let _s = l.accept().unwrap();
        let mut st = State::new(
            StateOptions {
                runtime_sockets: Vec::new(),
                ..StateOptions::default()
            },
            0,
        );
        st.bootstrap();
        let me = st.process(std::process::id()).expect("this process");
        let names: Vec<(&str, bool)> = me
            .fds
            .iter()
            .filter(|(_, f)| f.kind == FdKind::Ipv4)
            .map(|(_, f)| (f.name.as_str(), f.server))
            .collect();
        let client = format!("->127.0.0.1:{port}");
        assert!(
            names
                .iter()
                .any(|(n, server)| n.ends_with(&client) && !server),
            "{names:?}"
        );
        assert!(
            names
                .iter()
                .any(|(n, server)| n.ends_with(&client) && *server),
            "{names:?}"
        );
        assert!(
            names.iter().any(|(n, _)| *n == format!("127.0.0.1:{port}")),
            "listener: {names:?}"
        );
    }

    #[test]
    fn prctl_set_name_renames_the_process_only_from_its_main_thread() {
        let mut st = offline(100);
        apply(&mut st, fork(500, 1), &[]);
        let prctl = |tid: u32| Header {
            ts_boot: 2,
            tid,
            pid: 500,
            kind: 157,
            args: [15, 0x1000, 0, 0, 0, 0],
            ..Header::default()
        };
        apply(&mut st, prctl(501), &[(ParamKind::UserStr, 1, b"worker\0")]);
        let before = st.process(500).unwrap().comm.clone();
        assert_ne!(before, "worker", "a thread names only itself");
        let rec = apply(
            &mut st,
            prctl(500),
            &[(ParamKind::UserStr, 1, b"a-very-long-applet-name\0")],
        );
        assert_eq!(st.process(500).unwrap().comm, "a-very-long-app");
        assert_eq!(field(&st, &rec, "proc.name", None), s("a-very-long-app"));
    }

    #[test]
    fn fork_exit_churn_stays_bounded() {
        let mut st = offline(1000);
        for i in 0..100_000u32 {
            let pid = 1000 + i;
            let ts = u64::from(i) * 1_000_000;
            apply(&mut st, fork(pid, ts), &[]);
            let exit = Header {
                ts_boot: ts + 10,
                tid: pid,
                pid,
                kind: KIND_PROCEXIT,
                ..Header::default()
            };
            apply(&mut st, exit, &[]);
        }
        assert!(
            st.process_count() <= 1000,
            "{} processes kept",
            st.process_count()
        );
        assert!(st.stats.purged >= 99_000, "{:?}", st.stats);
    }

    #[test]
    fn table_size_is_capped_without_exits() {
        let mut st = offline(500);
        for pid in 2..5000u32 {
            apply(&mut st, fork(pid, 0), &[]);
        }
        assert!(st.process_count() <= 500);
        assert!(st.stats.evicted > 0);
    }

    #[test]
    fn exec_open_dup_close_track_fds_and_fields() {
        let mut st = offline(100);
        let mut info = vec![0u8; 104];
        info[40..44].copy_from_slice(&1u32.to_le_bytes());
        info[44..48].copy_from_slice(&u32::MAX.to_le_bytes());
        let exec = Header {
            tid: 100,
            pid: 100,
            kind: 59,
            ..Header::default()
        };
        let mut comm = b"cat".to_vec();
        comm.resize(16, 0);
        apply(
            &mut st,
            exec,
            &[
                (ParamKind::Exec, 0, &info),
                (ParamKind::Args, 0, b"cat\0shadow\0"),
                (ParamKind::ExePath, 0, b"/usr/bin/cat\0"),
                (ParamKind::Cwd, 0, b"/etc\0"),
                (ParamKind::Comm, 0, &comm),
            ],
        );
        let at_fdcwd = 0xffff_ff9c_u64; // -100 as a C int, upper half clear
        let open = Header {
            tid: 100,
            pid: 100,
            kind: 257,
            ret: 3,
            args: [at_fdcwd, 0, 0, 0, 0, 0],
            ..Header::default()
        };
        let b = encode(&open, &[(ParamKind::UserStr, 1, b"./shadow\0")]);
        let r = Record::parse(&b).unwrap();
        st.update(&r);
        assert_eq!(field(&st, &b, "fd.name", None), s("/etc/shadow"));
        assert_eq!(field(&st, &b, "fd.directory", None), s("/etc"));
        assert_eq!(
            field(&st, &b, "evt.is_open_read", None),
            SlotValue::One(Value::Bool(true))
        );
        assert_eq!(field(&st, &b, "proc.cmdline", None), s("cat shadow"));
        assert_eq!(field(&st, &b, "proc.exepath", None), s("/usr/bin/cat"));
        assert_eq!(
            field(&st, &b, "user.loginuid", None),
            SlotValue::One(Value::Num(-1))
        );
        assert_eq!(field(&st, &b, "container.id", None), s("host"));
        st.finish(&r);
        let dup = Header {
            tid: 100,
            pid: 100,
            kind: 33,
            ret: 0,
            args: [3, 0, 0, 0, 0, 0],
            ..Header::default()
        };
        let b = apply(&mut st, dup, &[]);
        assert_eq!(field(&st, &b, "fd.name", None), s("/etc/shadow"));
        assert_eq!(
            field(&st, &b, "fd.num", None),
            SlotValue::One(Value::Num(0))
        );
        let close = Header {
            tid: 100,
            pid: 100,
            kind: 3,
            ret: 0,
            args: [3, 0, 0, 0, 0, 0],
            ..Header::default()
        };
        apply(&mut st, close, &[]);
        let p = st.process(100).unwrap();
        assert!(p.fds.get(3).is_none());
        assert_eq!(p.fds.get(0).unwrap().name, "/etc/shadow");
        // chdir as a capture gives it: the path, not the new directory
        let chdir = |kind, fd, path: &[u8]| {
            let h = Header {
                tid: 100,
                pid: 100,
                kind,
                args: [fd, 0, 0, 0, 0, 0],
                ..Header::default()
            };
            encode(&h, &[(ParamKind::UserStr, 0, path)])
        };
        for (b, cwd) in [
            (chdir(80, 0, b"../var/log\0"), "/var/log"),
            (chdir(81, 0, b""), "/etc/shadow"), // fchdir to fd 0
            (chdir(80, 0, b"/\0"), "/"),
            // relative to the root: one slash between, not two
            (chdir(80, 0, b"tmp\0"), "/tmp"),
            (chdir(80, 0, b"x/../y/\0"), "/tmp/y"),
        ] {
            let r = Record::parse(&b).unwrap();
            st.update(&r);
            assert_eq!(st.process(100).unwrap().cwd, cwd);
        }
    }

    #[test]
    fn paths_through_a_process_root_are_the_paths_inside() {
        for (path, inside) in [
            ("/proc/1/root/etc/shadow", Some("/etc/shadow")),
            ("/proc/self/root/etc/passwd", Some("/etc/passwd")),
            (
                "/proc/42/task/43/root/root/.ssh/id_rsa",
                Some("/root/.ssh/id_rsa"),
            ),
            ("/proc/1/root", Some("/")),
            ("/proc/1/rootfs/etc", None),
            ("/proc/1/cwd/etc/shadow", None),
            ("/proc/x1/root/etc", None),
            ("/etc/shadow", None),
        ] {
            assert_eq!(inside_proc_root(path).as_deref(), inside, "{path}");
        }
    }

    #[test]
    fn normalizes_paths() {
        assert_eq!(normalize("/etc/../etc//shadow"), "/etc/shadow");
        assert_eq!(normalize("/a/./b/"), "/a/b");
        assert_eq!(normalize("/.."), "/");
        for p in ["/", "/etc/shadow", "/a/.b/..c/...", "/a.", "/.x"] {
            assert!(is_normal(p.as_bytes()), "{p}");
            assert_eq!(normalize(p), p);
        }
        for p in [
            "/a/", "/a//b", "/a/./b", "/a/..", "/.", "//", "a/b", "", "/../a", "/a/../b",
        ] {
            assert!(!is_normal(p.as_bytes()), "{p}");
        }
    }

    /// Where each open call's flags are: the state's fd and the
    /// `evt.is_open_*` fields read them from this one place.
    #[test]
    fn open_flags_of_each_call() {
        for (kind, want) in [
            (2, Some(0o101)),   // open: args[1]
            (85, Some(0o1101)), // creat: implied
            (257, Some(0o2)),   // openat: args[2]
            (437, Some(0o2)),   // openat2
            (304, Some(0o2)),   // open_by_handle_at
            (3, None),          // close
        ] {
            let h = Header {
                tid: 1,
                pid: 1,
                kind,
                args: [9, 0o101, 0o2, 0, 0, 0],
                ..Header::default()
            };
            let b = encode(&h, &[]);
            let r = Record::parse(&b).unwrap();
            assert_eq!(open_call_flags(&r), want, "kind {kind}");
        }
    }

    /// The word-at-a-time check agrees with the definition on paths whose
    /// components fall at every place of an eight-byte word.
    #[test]
    fn is_normal_is_the_definition() {
        let parts = [
            "",
            ".",
            "..",
            "a",
            ".git",
            "..x",
            "x.",
            "...",
            "abcdefghij",
            "é",
        ];
        let definition = |p: &str| {
            p == "/"
                || (p.starts_with('/')
                    && !p.ends_with('/')
                    && p[1..].split('/').all(|c| !matches!(c, "" | "." | "..")))
        };
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut normal = 0;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut p = String::new();
            let mut x = seed;
            for _ in 0..seed % 9 {
                p.push('/');
                p.push_str(parts[(x % parts.len() as u64) as usize]);
                x = x.rotate_left(17) ^ (x / parts.len() as u64);
            }
            let want = definition(&p);
            normal += usize::from(want);
            assert_eq!(is_normal(p.as_bytes()), want, "{p:?}");
        }
        assert!(normal > 1000, "too few normal paths tried: {normal}");
    }

    #[test]
    fn overlay_upper_dir_from_mountinfo() {
        let line = "612 540 0:61 / / rw,relatime - overlay overlay rw,lowerdir=/l1:/l2,upperdir=/var/lib/c/overlay/x/diff,workdir=/w";
        assert_eq!(
            overlay_root_upper(line).as_deref(),
            Some("/var/lib/c/overlay/x/diff")
        );
        assert_eq!(
            overlay_root_upper("22 1 0:21 / /proc rw - proc proc rw"),
            None
        );
    }

    #[test]
    fn unix_paths() {
        assert_eq!(
            unix_sockaddr_path(b"\x01\x00/run/x.sock\0\0"),
            Some("/run/x.sock".into())
        );
        assert_eq!(unix_sockaddr_path(b"\x01\x00\0abs\0"), Some("@abs".into()));
        assert_eq!(unix_sockaddr_path(b"\x02\x00abcd"), None);
    }
}
