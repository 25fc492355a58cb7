//! From a capture's vocabulary to the probe's: a capture event becomes the
//! record the live probe would have written for the same syscall, so that
//! replay goes through the very state engine and rules live capture uses;
//! the process list becomes the state's processes and fds.
//!
//! Captures carry enter and exit events (older ones) or exit events only
//! (libs ≥ 0.22): a parameter the exit event lacks is taken from the
//! thread's last enter event of the same syscall. Each event version is
//! read by parameter name, so every version of an event converts alike.
//!
//! Converted: execve/execveat, the open family, socket, connect, accept,
//! close, dup, pipe, socketpair, chdir, memfd_create, the clone/fork family
//! (the child's side) and process exits; syscalls whose only state is
//! their result (eventfd, epoll_create, setsid …), prctl (its name change
//! is in its arguments) and those no state table needs pass as bare events
//! (type, thread, result and the arguments rules read). The rest (the setuid family, bind, fcntl,
//! bpf …) is counted as skipped.

use super::encode::{self, Src};
use super::meta::{FdDetail, FdInfo, ThreadInfo};
use super::read::{Event, Metadata};
use super::table::ParamType;
use crate::capture::record::{
    self, Creds, ExecInfo, Header, IDX_RET, KIND_FORK, KIND_PROCEXIT, ParamKind, SockTuple,
};
use crate::capture::syscalls::{self, StateUse};
use crate::state::containers::{self, ContainerInfo};
use crate::state::fds::{Fd, FdKind};
use crate::state::process::{encode_tty, split_nul};
use crate::state::users::{User, UserDb};
use crate::state::{Process, State, set_socket};
use std::borrow::Cow;
use std::collections::HashMap;

/// A thread's last enter event, kept for its exit: its name and its
/// parameters (name, range in `data`). The buffers are reused.
#[derive(Default)]
struct Enter {
    name: &'static str,
    data: Vec<u8>,
    params: Vec<(&'static str, u32, u32)>,
    /// Not consumed by an exit yet.
    live: bool,
}

/// How an event converts, decided once per event code (and per syscall of
/// generic events) from its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Exec,
    Open,
    Connect,
    Accept,
    Clone,
    FdPair,
    FdChange,
    /// Type, thread and result only.
    Bare,
    /// No equivalent record.
    Skip,
}

#[derive(Clone, Copy, Debug)]
struct Plan {
    kind: Kind,
    name: &'static str,
    /// The x86_64 syscall number (0 when there is none).
    nr: u16,
    /// One of the I/O calls ([`syscalls::IO`]).
    io: bool,
}

/// The most I/O data a converted record keeps (captures may hold more
/// than the probe's snapshot).
const DATA_MAX: usize = 1024;

/// Syscalls whose only state is their result (a new anonymous fd, a new
/// session): they pass as bare events although the state uses them.
const RESULT_ONLY: &[&str] = &[
    "eventfd",
    "eventfd2",
    "signalfd",
    "signalfd4",
    "timerfd_create",
    "inotify_init",
    "inotify_init1",
    "epoll_create",
    "epoll_create1",
    "userfaultfd",
    "io_uring_setup",
    "pidfd_open",
    "pidfd_getfd",
    "setsid",
];

impl Plan {
    fn of(name: &'static str) -> Plan {
        let nr = syscalls::nr_of(name);
        let kind = match (name, nr) {
            ("execve" | "execveat", _) => Kind::Exec,
            ("clone" | "fork" | "vfork" | "clone3", _) => Kind::Clone,
            (_, None) => Kind::Skip,
            ("open" | "openat" | "openat2" | "creat", _) => Kind::Open,
            ("connect", _) => Kind::Connect,
            ("accept" | "accept4", _) => Kind::Accept,
            ("pipe" | "pipe2" | "socketpair", _) => Kind::FdPair,
            // its state (PR_SET_NAME) is in the arguments `bare` restores
            ("prctl", _) => Kind::Bare,
            (
                "close" | "dup" | "dup2" | "dup3" | "chdir" | "fchdir" | "memfd_create" | "socket"
                | "fcntl",
                _,
            ) => Kind::FdChange,
            (_, Some(nr)) => {
                let needs_state = syscalls::SYSCALLS
                    .iter()
                    .any(|s| s.0 == nr && s.2 != StateUse::None);
                if needs_state && !RESULT_ONLY.contains(&name) {
                    Kind::Skip
                } else {
                    Kind::Bare
                }
            }
        };
        Plan {
            kind,
            name,
            nr: nr.unwrap_or(0),
            io: syscalls::IO.contains(&name),
        }
    }
}

/// Converts one capture's events into probe records.
#[derive(Default)]
pub struct Converter {
    /// tid → pid, from the process list, clones and execs. (The file
    /// chooses the keys: foldhash is fast and randomly seeded.)
    pids: foldhash::HashMap<u64, u64>,
    /// pid → (uid, gid): what an exec keeps when its event does not say.
    ids: foldhash::HashMap<u64, (u32, u32)>,
    /// The last enter event of each thread.
    enters: foldhash::HashMap<u64, Enter>,
    /// Plans by event code, and by syscall for generic events.
    plans: Vec<Option<Plan>>,
    generic_plans: Vec<Option<Plan>>,
    /// Events not converted (no equivalent record).
    pub skipped: u64,
    /// Whether the I/O calls (read, write, …) convert: only when a rule
    /// names one, as live capture sends them (see [`syscalls::IO`]).
    pub io: bool,
    /// The last record made.
    out: Vec<u8>,
}

/// Linux open flags from libs' `PPM_O_*` flags.
pub(super) fn linux_open_flags(ppm: u32) -> u64 {
    const MAP: &[(u32, u64)] = &[
        (1 << 2, 0o100),       // O_CREAT
        (1 << 3, 0o2000),      // O_APPEND
        (1 << 4, 0o10000),     // O_DSYNC
        (1 << 5, 0o200),       // O_EXCL
        (1 << 6, 0o4000),      // O_NONBLOCK
        (1 << 7, 0o4010000),   // O_SYNC
        (1 << 8, 0o1000),      // O_TRUNC
        (1 << 9, 0o40000),     // O_DIRECT
        (1 << 10, 0o200000),   // O_DIRECTORY
        (1 << 11, 0o100000),   // O_LARGEFILE
        (1 << 12, 0o2000000),  // O_CLOEXEC
        (1 << 13, 0o20200000), // O_TMPFILE
    ];
    let access = match ppm & 3 {
        2 => 1, // O_WRONLY
        3 => 2, // O_RDWR
        _ => 0, // O_RDONLY
    };
    MAP.iter()
        .filter(|(p, _)| ppm & p != 0)
        .fold(access, |f, (_, l)| f | l)
}

/// A value of an integer parameter, whatever its width.
fn int(b: &[u8]) -> Option<i64> {
    Some(match b.len() {
        1 => b[0] as i8 as i64,
        2 => i16::from_le_bytes([b[0], b[1]]) as i64,
        4 => i32::from_le_bytes(b.try_into().ok()?) as i64,
        8 => i64::from_le_bytes(b.try_into().ok()?),
        _ => return None,
    })
}

/// An unsigned integer parameter.
fn uint(b: &[u8]) -> Option<u64> {
    Some(match b.len() {
        1 => b[0] as u64,
        2 => u16::from_le_bytes([b[0], b[1]]) as u64,
        4 => u32::from_le_bytes(b.try_into().ok()?) as u64,
        8 => u64::from_le_bytes(b.try_into().ok()?),
        _ => return None,
    })
}

/// A socket tuple parameter (libs' encoding: a family byte, then the
/// source and destination address and port, ports in host order).
fn tuple(b: &[u8]) -> Option<SockTuple> {
    let (&family, rest) = b.split_first()?;
    let (family, n) = match family {
        2 => (2u16, 4),
        10 => (10u16, 16),
        _ => return None,
    };
    if rest.len() < 2 * (n + 2) {
        return None;
    }
    let port = |o: usize| u16::from_le_bytes([rest[o], rest[o + 1]]);
    let mut t = SockTuple {
        family,
        sock_type: 0,
        protocol: 0,
        lport: port(n),
        rport: port(2 * n + 2),
        laddr: [0; 16],
        raddr: [0; 16],
    };
    t.laddr[..n].copy_from_slice(&rest[..n]);
    t.raddr[..n].copy_from_slice(&rest[n + 2..2 * n + 2]);
    Some(t)
}

/// A raw `struct sockaddr` (what the probe reads) from libs' sockaddr
/// parameter (family byte, address, port in host order; or a unix path).
fn raw_sockaddr(b: &[u8]) -> Option<Vec<u8>> {
    let (&family, rest) = b.split_first()?;
    let mut raw = (family as u16).to_le_bytes().to_vec();
    match family {
        1 => {
            raw.extend_from_slice(rest);
        }
        2 if rest.len() >= 6 => {
            raw.extend_from_slice(&u16::from_le_bytes([rest[4], rest[5]]).to_be_bytes());
            raw.extend_from_slice(&rest[..4]);
            raw.extend_from_slice(&[0; 8]);
        }
        10 if rest.len() >= 18 => {
            raw.extend_from_slice(&u16::from_le_bytes([rest[16], rest[17]]).to_be_bytes());
            raw.extend_from_slice(&[0; 4]);
            raw.extend_from_slice(&rest[..16]);
            raw.extend_from_slice(&[0; 4]);
        }
        _ => return None,
    }
    Some(raw)
}

/// The path of a unix-socket tuple (family byte 1, two u64 addresses, path).
fn unix_path(b: &[u8]) -> Option<String> {
    (b.first() == Some(&1) && b.len() > 17).then(|| super::meta::text(&b[17..]))
}

/// `major << 20 | minor` (the probe's) from a `tty_nr` (the capture's).
fn probe_tty(tty_nr: u32) -> u32 {
    let major = (tty_nr >> 8) & 0xfff;
    let minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
    major << 20 | minor
}

/// Reads an event's parameters by name, falling back on the thread's
/// enter event of the same syscall.
struct Params<'e, 'c> {
    ev: &'e Event<'e>,
    enter: Option<&'c Enter>,
}

impl Params<'_, '_> {
    fn get(&self, name: &str) -> Option<&[u8]> {
        self.ev.param_named(name).or_else(|| {
            let e = self.enter?;
            let &(_, at, len) = e.params.iter().find(|(n, ..)| *n == name)?;
            e.data.get(at as usize..(at + len) as usize)
        })
    }

    fn int(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(int)
    }

    fn uint(&self, name: &str) -> Option<u64> {
        self.get(name).and_then(uint)
    }

    fn text(&self, name: &str) -> Option<&[u8]> {
        self.get(name).map(crate::capture::record::until_nul)
    }
}

impl Converter {
    /// A converter knowing the threads of `meta`.
    pub fn new(meta: &Metadata) -> Converter {
        let mut c = Converter::default();
        c.learn(meta);
        c
    }

    /// Takes in a (new section's) process list.
    pub fn learn(&mut self, meta: &Metadata) {
        for t in &meta.threads {
            self.pids.insert(t.tid, t.pid);
            self.ids.insert(t.pid, (t.uid, t.gid));
        }
    }

    fn pid_of(&self, tid: u64) -> u64 {
        self.pids.get(&tid).copied().unwrap_or(tid)
    }

    /// How `ev` converts (generic events by their syscall).
    fn plan(&mut self, ev: &Event) -> Plan {
        let generic = ev.info.params.first().map(|p| p.1) == Some(ParamType::Syscallid);
        let (slot, len) = match ev.param(0) {
            Some(&[a, b, ..]) if generic => (u16::from_le_bytes([a, b]) as usize, 1 << 16),
            _ => (ev.code as usize, super::table::EVENT_MAX as usize),
        };
        let cache = if generic {
            &mut self.generic_plans
        } else {
            &mut self.plans
        };
        if cache.len() < len.min(slot + 1) {
            cache.resize(len.min(slot + 1), None);
        }
        *cache[slot].get_or_insert_with(|| Plan::of(ev.type_name()))
    }

    /// Keeps an enter event's parameters for its exit (buffers reused).
    fn keep_enter(&mut self, ev: &Event) {
        let e = self.enters.entry(ev.tid).or_default();
        e.name = ev.info.name;
        e.data.clear();
        e.params.clear();
        e.live = true;
        for (i, &(name, _)) in ev.info.params.iter().enumerate().take(ev.nparams()) {
            if let Some(b) = ev.param(i) {
                e.params.push((name, e.data.len() as u32, b.len() as u32));
                e.data.extend_from_slice(b);
            }
        }
    }

    /// Writes a record into the output buffer.
    fn emit(&mut self, h: &Header, params: &[(ParamKind, u8, &[u8])]) -> Option<()> {
        record::encode_into(&mut self.out, h, params);
        Some(())
    }

    /// The record the probe would have written for `ev`, if any (in a
    /// buffer the next call reuses).
    pub fn convert(&mut self, ev: &Event) -> Option<&[u8]> {
        if !ev.info.exit {
            if ev.info.name == "procexit" {
                let rec = self.header(ev, KIND_PROCEXIT, 0);
                if rec.pid as u64 == ev.tid {
                    self.ids.remove(&ev.tid);
                }
                self.pids.remove(&ev.tid);
                self.enters.remove(&ev.tid);
                self.emit(&rec, &[]);
                return Some(&self.out);
            }
            self.keep_enter(ev);
            return None;
        }
        let mut plan = self.plan(ev);
        if plan.io && !self.io {
            plan.kind = Kind::Skip;
        }
        // captures of exit events only (ours) keep no enter events
        let enter = match self.enters.is_empty() {
            true => None,
            false => self.enters.remove(&ev.tid),
        };
        let p = Params {
            ev,
            enter: enter.as_ref().filter(|e| e.live && e.name == ev.info.name),
        };
        let out = match plan.kind {
            Kind::Exec => self.exec(ev, &p, plan.name),
            Kind::Open => self.open(ev, &p, plan),
            Kind::Connect => self.connect(ev, &p),
            Kind::Accept => self.accept(ev, &p, plan),
            Kind::Clone => self.clone_child(ev, &p),
            Kind::FdPair => self.fd_pair(ev, &p, plan),
            Kind::FdChange => self.fd_change(ev, &p, plan),
            Kind::Bare => self.bare(ev, &p, plan),
            Kind::Skip => None,
        };
        if let Some(mut e) = enter {
            e.live = false;
            self.enters.insert(ev.tid, e);
        }
        match out {
            Some(()) => Some(&self.out),
            None => {
                self.skipped += 1;
                None
            }
        }
    }

    fn header(&self, ev: &Event, kind: u16, ret: i64) -> Header {
        Header {
            ts_boot: ev.ts,
            tid: ev.tid as u32,
            pid: self.pid_of(ev.tid) as u32,
            kind,
            ret,
            args: [0; 6],
        }
    }

    /// A syscall the state needs nothing of but its result, or nothing at
    /// all: its type, thread, result, and the arguments and strings rules
    /// read (where the writer takes each parameter from, read back).
    fn bare(&mut self, ev: &Event, p: &Params, plan: Plan) -> Option<()> {
        let ret = match ev.info.params.first() {
            Some((name, ParamType::Errno | ParamType::Fd | ParamType::Pid)) => p.int(name),
            _ => None,
        };
        let mut h = self.header(ev, plan.nr, ret.unwrap_or(0));
        // strings are borrowed from the event; only a sockaddr is rebuilt
        let mut params: Vec<(ParamKind, u8, Cow<[u8]>)> = Vec::new();
        let layout = encode::layout(plan.nr);
        let fields = layout.map_or(&[][..], |l| l.info.params);
        let sources = layout.map_or(&[][..], |l| l.sources.as_slice());
        for (&(name, ty), &src) in fields.iter().zip(sources) {
            match src {
                Src::Arg(a) => {
                    let v = if encode::is_unsigned(ty) {
                        p.uint(name)
                    } else {
                        p.int(name).map(|v| v as u64)
                    };
                    if let Some(v) = v {
                        h.args[a as usize] = v;
                    }
                }
                Src::Str(a) => {
                    if let Some(t) = p.text(name) {
                        params.push((ParamKind::UserStr, a, Cow::Borrowed(t)));
                    }
                }
                Src::Sockaddr(a) => {
                    if let Some(raw) = p.get(name).and_then(raw_sockaddr) {
                        params.push((ParamKind::Sockaddr, a, Cow::Owned(raw)));
                    }
                }
                Src::Data => {
                    if let Some(d) = p.get(name) {
                        let d = &d[..d.len().min(DATA_MAX)];
                        params.push((ParamKind::Data, 1, Cow::Borrowed(d)));
                    }
                }
                _ => {}
            }
        }
        let params: Vec<(ParamKind, u8, &[u8])> = params
            .iter()
            .map(|(k, i, d)| (*k, *i, d.as_ref()))
            .collect();
        self.emit(&h, &params)
    }

    /// Syscalls that make, copy or drop one fd, or move the working
    /// directory: their result and the arguments the state reads.
    fn fd_change(&mut self, ev: &Event, p: &Params, plan: Plan) -> Option<()> {
        let name = plan.name;
        let ret = match name {
            "memfd_create" | "socket" => p.int("fd"),
            _ => p.int("res"),
        };
        let mut h = self.header(ev, plan.nr, ret.unwrap_or(-1));
        let mut path: Option<&[u8]> = None;
        match name {
            "close" | "fchdir" => h.args[0] = p.int("fd").unwrap_or(-1) as u64,
            "dup" | "dup2" | "dup3" => {
                h.args[0] = p.int("oldfd").or_else(|| p.int("fd")).unwrap_or(-1) as u64;
                h.args[1] = p.int("newfd").unwrap_or(-1) as u64;
            }
            "chdir" => path = p.text("path"),
            "fcntl" => {
                h.args[0] = p.int("fd").unwrap_or(-1) as u64;
                let cmd = p.int("cmd").unwrap_or(0);
                h.args[1] = encode::FCNTL_DUPS
                    .iter()
                    .find(|(_, ppm)| *ppm == cmd)
                    .map_or(u64::MAX, |(linux, _)| *linux);
            }
            "memfd_create" => path = p.text("name"),
            _ => {
                // socket
                h.args[0] = p.uint("domain").unwrap_or(0);
                h.args[1] = p.uint("type").unwrap_or(0);
                h.args[2] = p.uint("proto").unwrap_or(0);
            }
        }
        let params: Vec<(ParamKind, u8, &[u8])> =
            path.iter().map(|b| (ParamKind::UserStr, 0, *b)).collect();
        self.emit(&h, &params)
    }

    /// accept, accept4: the new fd with the connection's addresses.
    fn accept(&mut self, ev: &Event, p: &Params, plan: Plan) -> Option<()> {
        let mut h = self.header(ev, plan.nr, p.int("fd").unwrap_or(-1));
        h.args[3] = p.uint("flags").unwrap_or(0);
        // a capture's tuple is client → server: here the remote end first
        let t = p.get("tuple").and_then(tuple).map(|t| {
            SockTuple {
                lport: t.rport,
                rport: t.lport,
                laddr: t.raddr,
                raddr: t.laddr,
                ..t
            }
            .encode()
        });
        let params: Vec<(ParamKind, u8, &[u8])> = t
            .iter()
            .map(|t| (ParamKind::Tuple, IDX_RET, t.as_slice()))
            .collect();
        self.emit(&h, &params)
    }

    /// pipe, pipe2, socketpair: the two new fds.
    fn fd_pair(&mut self, ev: &Event, p: &Params, plan: Plan) -> Option<()> {
        let name = plan.name;
        let mut h = self.header(ev, plan.nr, p.int("res").unwrap_or(-1));
        let mut pair = Vec::with_capacity(8);
        for f in ["fd1", "fd2"] {
            pair.extend_from_slice(&(p.int(f).unwrap_or(-1) as i32).to_le_bytes());
        }
        let idx = if name == "socketpair" {
            h.args[0] = p.uint("domain").unwrap_or(0);
            h.args[1] = p.uint("type").unwrap_or(0);
            3
        } else {
            h.args[1] = linux_open_flags(p.uint("flags").unwrap_or(0) as u32);
            0
        };
        self.emit(&h, &[(ParamKind::FdPair, idx, &pair)])
    }

    fn open(&mut self, ev: &Event, p: &Params, plan: Plan) -> Option<()> {
        let (nr, name) = (plan.nr, plan.name);
        let fd = p.int("fd").or_else(|| p.int("res")).unwrap_or(-1);
        let mut h = self.header(ev, nr, fd);
        let path = p.text("name").unwrap_or_default();
        let flags = linux_open_flags(p.uint("flags").unwrap_or(0) as u32);
        let idx = match name {
            "open" | "creat" => {
                h.args[1] = flags;
                h.args[2] = p.uint("mode").unwrap_or(0);
                0
            }
            _ => {
                h.args[0] = p.int("dirfd").unwrap_or(-100) as u64;
                h.args[2] = flags;
                h.args[3] = p.uint("mode").unwrap_or(0);
                1
            }
        };
        self.emit(&h, &[(ParamKind::UserStr, idx, path)])
    }

    fn connect(&mut self, ev: &Event, p: &Params) -> Option<()> {
        let mut h = self.header(ev, 42, p.int("res").unwrap_or(0));
        h.args[0] = p.int("fd").unwrap_or(-1) as u64;
        let raw = p.get("tuple").unwrap_or_default();
        let t = tuple(raw).map(|t| t.encode());
        let mut params: Vec<(ParamKind, u8, &[u8])> = Vec::new();
        if let Some(t) = &t {
            params.push((ParamKind::Tuple, 0, t));
        }
        // the probe gives the unix path as the sockaddr (family 1 + path),
        // else the address connected to (a refused connect has no tuple)
        let sockaddr = unix_path(raw)
            .map(|path| {
                let mut s = 1u16.to_le_bytes().to_vec();
                s.extend_from_slice(path.as_bytes());
                s.push(0);
                s
            })
            .or_else(|| {
                p.get("addr")
                    .filter(|a| matches!(a.first(), Some(2 | 10)))
                    .and_then(raw_sockaddr)
            });
        if let Some(s) = &sockaddr {
            params.push((ParamKind::Sockaddr, 1, s));
        }
        self.emit(&h, &params)
    }

    /// The child's side of a clone (res 0): a new thread or process.
    fn clone_child(&mut self, ev: &Event, p: &Params) -> Option<()> {
        let res = p.int("res")?;
        let pid = p.uint("pid").unwrap_or(ev.tid);
        self.pids.insert(ev.tid, pid);
        if res != 0 {
            if res > 0 {
                // the parent's side: the child's thread id is known now
                self.pids.entry(res as u64).or_insert(res as u64);
            }
            return None;
        }
        let ptid = p.uint("ptid").unwrap_or(0);
        let parent_ids = self.ids.get(&self.pid_of(ptid)).copied();
        let ids = match (p.uint("uid"), p.uint("gid")) {
            (Some(u), Some(g)) => Some((u as u32, g as u32)),
            _ => parent_ids,
        };
        if let Some(ids) = ids {
            self.ids.insert(pid, ids);
        }
        let mut h = self.header(ev, KIND_FORK, 0);
        h.pid = pid as u32;
        h.args = [
            ptid,
            self.pid_of(ptid),
            self.pid_of(ptid),
            0,
            p.uint("vpid").unwrap_or(0),
            0,
        ];
        self.emit(&h, &[])
    }

    fn exec(&mut self, ev: &Event, p: &Params, name: &str) -> Option<()> {
        let nr = if name == "execve" { 59 } else { 322 };
        let res = p.int("res").unwrap_or(0);
        let mut h = self.header(ev, nr, res);
        if res != 0 {
            let (idx, f) = if nr == 59 {
                (0, "filename")
            } else {
                (1, "pathname")
            };
            let path = p.text(f).unwrap_or_default();
            return self.emit(&h, &[(ParamKind::UserStr, idx, path)]);
        }
        if let Some(pid) = p.uint("pid") {
            self.pids.insert(ev.tid, pid);
            h.pid = pid as u32;
        }
        // old event versions do not carry the ids: an exec keeps them
        let known = self.ids.get(&(h.pid as u64)).copied().unwrap_or_default();
        let uid = p.uint("uid").map_or(known.0, |u| u as u32);
        let gid = p.uint("gid").map_or(known.1, |g| g as u32);
        self.ids.insert(h.pid as u64, (uid, gid));
        let info = ExecInfo {
            creds: Creds {
                uid,
                gid,
                euid: uid,
                egid: gid,
                cap_inheritable: p.uint("cap_inheritable").unwrap_or(0),
                cap_permitted: p.uint("cap_permitted").unwrap_or(0),
                cap_effective: p.uint("cap_effective").unwrap_or(0),
            },
            ppid: self.pid_of(p.uint("ptid").unwrap_or(0)) as u32,
            loginuid: p.uint("loginuid").map_or(u32::MAX, |l| l as u32),
            sessionid: 0,
            tty: probe_tty(p.uint("tty").unwrap_or(0) as u32),
            exe_ino: p.uint("exe_ino").unwrap_or(0),
            exe_ctime: p.int("exe_ino_ctime").unwrap_or(0),
            exe_mtime: p.int("exe_ino_mtime").unwrap_or(0),
            start_time: 0,
            exe_nlink: 1,
            // libs' PPM_EXE_UPPER_LAYER
            upper_layer: p.uint("flags").is_some_and(|f| f & (1 << 1) != 0),
            vpid: p.uint("vpid").unwrap_or(0) as u32,
            vtid: p.uint("vtid").unwrap_or(0) as u32,
            pgid: p.uint("pgid").unwrap_or(0) as u32,
            vpgid: p.uint("vpgid").unwrap_or(0) as u32,
            sid: 0,
            vsid: 0,
            cgroup_id: 0, // a capture names cgroups by path
        }
        .encode();
        // the probe's argv block holds argv[0] too; the capture has it apart
        let mut argv = p.text("exe").unwrap_or_default().to_vec();
        argv.push(0);
        argv.extend_from_slice(p.get("args").unwrap_or_default());
        let exepath = p
            .text("trusted_exepath")
            .filter(|t| !t.is_empty())
            .or_else(|| p.text("exe"))
            .unwrap_or_default();
        let cgroups: Vec<Vec<u8>> = split_nul(p.get("cgroups").unwrap_or_default())
            .iter()
            .map(|c| cgroup_leaf(c).as_bytes().to_vec())
            .collect();
        let mut params: Vec<(ParamKind, u8, &[u8])> = vec![
            (ParamKind::Exec, 0, &info),
            (ParamKind::Args, 0, &argv),
            (ParamKind::Env, 0, p.get("env").unwrap_or_default()),
            (ParamKind::ExePath, 0, exepath),
            (ParamKind::Cwd, 0, p.text("cwd").unwrap_or_default()),
            (ParamKind::Comm, 0, p.text("comm").unwrap_or_default()),
        ];
        for (i, c) in cgroups.iter().enumerate() {
            params.push((ParamKind::Cgroup, i as u8, c));
        }
        self.emit(&h, &params)
    }
}

/// The container a capture's container meta-event describes: its id and
/// metadata (the JSON versions, or the old one with id, name and image).
pub fn container(ev: &Event) -> Option<(String, ContainerInfo)> {
    if ev.info.name != "container" || ev.info.exit {
        return None;
    }
    if let Some(json) = ev.param_named("json") {
        let json = json.strip_suffix(&[0]).unwrap_or(json);
        let v: serde_json::Value = serde_json::from_slice(json).ok()?;
        return containers::parse_capture_json(&v);
    }
    let text = |n| {
        ev.param_named(n)
            .map(super::meta::text)
            .filter(|t| !t.is_empty())
    };
    Some((
        text("id")?,
        ContainerInfo {
            name: text("name"),
            image: text("image"),
            ..ContainerInfo::default()
        },
    ))
}

/// The leaf name of a `controller=/path` cgroup entry.
fn cgroup_leaf(entry: &str) -> &str {
    let path = entry.split_once('=').map_or(entry, |(_, p)| p);
    path.rsplit('/').next().unwrap_or(path)
}

/// The state tables of a replay: nothing read from this machine (no
/// `/proc`, no container runtime), seeded from the capture's metadata.
pub fn state_for(meta: &Metadata) -> State {
    let opts = crate::state::StateOptions {
        live: false,
        runtime_sockets: Vec::new(),
        ..Default::default()
    };
    let mut state = State::new(opts, 0);
    seed(&mut state, meta);
    state
}

/// Seeds `state` with a capture's processes, their fds and its users.
pub fn seed(state: &mut State, meta: &Metadata) {
    let mut db = UserDb::default();
    for u in &meta.users {
        db.add_user(
            u.uid,
            User {
                name: u.name.clone(),
                home: u.home.clone(),
                shell: u.shell.clone(),
            },
        );
    }
    for g in &meta.groups {
        db.add_group(g.gid, g.name.clone());
    }
    state.set_host_users(db);
    let pids: HashMap<u64, u64> = meta.threads.iter().map(|t| (t.tid, t.pid)).collect();
    let mut procs: HashMap<u64, Process> = HashMap::new();
    for t in meta.threads.iter().filter(|t| t.tid == t.pid) {
        let ppid = pids.get(&t.ptid).copied().unwrap_or(t.ptid);
        procs.insert(t.pid, process(t, ppid));
    }
    for (tid, f) in &meta.fds {
        let pid = pids.get(tid).copied().unwrap_or(*tid);
        if let Some(p) = procs.get_mut(&pid) {
            p.fds.insert(f.fd, fd(f));
        }
    }
    for (_, p) in procs {
        state.seed(p);
    }
}

fn process(t: &ThreadInfo, ppid: u64) -> Process {
    let leaves: Vec<&str> = t.cgroups.iter().map(|c| cgroup_leaf(c)).collect();
    let non_neg = |v: i64, or: u64| if v >= 0 { v as u32 } else { or as u32 };
    Process {
        pid: t.pid as u32,
        ppid: ppid as u32,
        sid: non_neg(t.sid, 0),
        vsid: non_neg(t.sid, 0),
        pgid: non_neg(t.pgid, 0),
        vpid: non_neg(t.vpid, t.pid),
        vpgid: non_neg(t.vpgid, 0),
        comm: t.comm.clone(),
        exe: t.exe.clone(),
        exepath: if t.exepath.is_empty() {
            t.exe.clone()
        } else {
            t.exepath.clone()
        },
        args: t.args.clone(),
        env: t.env.clone(),
        cwd: match t.cwd.trim_end_matches('/') {
            "" => "/".to_string(),
            c => c.to_string(),
        },
        creds: Creds {
            uid: t.uid,
            gid: t.gid,
            euid: t.uid,
            egid: t.gid,
            cap_inheritable: t.caps[0],
            cap_permitted: t.caps[1],
            cap_effective: t.caps[2],
        },
        loginuid: t.loginuid,
        tty: if t.tty == 0 {
            0
        } else {
            let p = probe_tty(t.tty);
            encode_tty(p >> 20, p & 0xfffff)
        },
        container_id: containers::container_id_from_cgroups(leaves).unwrap_or_default(),
        exe_ino: t.exe_ino.0,
        exe_ctime: t.exe_ino.1 as i64,
        exe_mtime: t.exe_ino.2 as i64,
        exe_from_memfd: t.exe_from_memfd,
        exe_upper_layer: t.exe_upper_layer,
        ..Process::default()
    }
}

/// libs' `scap_fd_type` values and the kinds of fd they are (types not
/// listed, such as 10 "unsupported", are other sockets).
pub(super) const FD_TYPES: &[(u8, FdKind)] = &[
    (1, FdKind::File),
    (2, FdKind::Directory),
    (3, FdKind::Ipv4),
    (4, FdKind::Ipv6),
    (5, FdKind::Ipv4),
    (6, FdKind::Ipv6),
    (7, FdKind::Pipe),
    (8, FdKind::Unix),
    (9, FdKind::Event),
    (11, FdKind::Signal),
    (12, FdKind::Eventpoll),
    (13, FdKind::Inotify),
    (14, FdKind::Timer),
    (15, FdKind::Netlink),
    (16, FdKind::File),
    (17, FdKind::Bpf),
    (18, FdKind::Userfault),
    (19, FdKind::IoUring),
    (20, FdKind::Memfd),
    (21, FdKind::Pidfd),
];

fn fd(f: &FdInfo) -> Fd {
    let kind = FD_TYPES
        .iter()
        .find(|(t, _)| *t == f.kind)
        .map_or(FdKind::OtherSocket, |(_, k)| *k);
    let mut fd = Fd::new(kind, "");
    fd.ino = f.ino;
    let ip = |family: u16, sip: &[u8], sport, dip: &[u8], dport| {
        let mut t = SockTuple {
            family,
            sock_type: 0,
            protocol: 0,
            lport: sport,
            rport: dport,
            laddr: [0; 16],
            raddr: [0; 16],
        };
        t.laddr[..sip.len()].copy_from_slice(sip);
        t.raddr[..dip.len()].copy_from_slice(dip);
        t
    };
    match &f.detail {
        FdDetail::Ipv4 {
            sip,
            dip,
            sport,
            dport,
            ..
        } => set_socket(&mut fd, Some(ip(2, sip, *sport, dip, *dport)), None, true),
        FdDetail::Ipv6 {
            sip,
            dip,
            sport,
            dport,
            ..
        } => set_socket(&mut fd, Some(ip(10, sip, *sport, dip, *dport)), None, true),
        FdDetail::Ipv4Server { ip: a, port, .. } => {
            set_socket(&mut fd, Some(ip(2, a, *port, &[], 0)), None, false)
        }
        FdDetail::Ipv6Server { ip: a, port, .. } => {
            set_socket(&mut fd, Some(ip(10, a, *port, &[], 0)), None, false)
        }
        FdDetail::Unix { path, .. } => fd.name = path.clone(),
        FdDetail::File { flags, name, .. } => {
            fd.name = name.clone();
            fd.flags = linux_open_flags(*flags);
        }
        FdDetail::Named(name) => fd.name = name.clone(),
        FdDetail::Unknown => {}
    }
    fd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_flags_map_to_linux_values() {
        // O_RDONLY|O_CLOEXEC, O_TRUNC|O_CREAT|O_WRONLY, O_RDWR
        assert_eq!(linux_open_flags(4097), 0o2000000);
        assert_eq!(linux_open_flags(262), 0o1101);
        assert_eq!(linux_open_flags(3), 2);
    }

    #[test]
    fn tuples_and_ttys_decode() {
        let mut b = vec![2u8];
        b.extend_from_slice(&[127, 0, 0, 1]);
        b.extend_from_slice(&40000u16.to_le_bytes());
        b.extend_from_slice(&[10, 0, 0, 2]);
        b.extend_from_slice(&443u16.to_le_bytes());
        let t = tuple(&b).unwrap();
        assert_eq!((t.lport, t.rport), (40000, 443));
        assert_eq!(&t.raddr[..4], &[10, 0, 0, 2]);
        // /dev/pts/3: major 136, minor 3
        assert_eq!(probe_tty(encode_tty(136, 3)), 136 << 20 | 3);
        assert_eq!(cgroup_leaf("cpuset=/docker/abc"), "abc");
    }
}
