//! From the probe's vocabulary to a capture's: the reverse of
//! [`super::convert`]. A record (with the state it updated) becomes the
//! event libs' current drivers write for the same syscall (exit events
//! only, today's event versions); the state tables become the process
//! list, fd lists and user list a capture starts with; containers become
//! container meta-events.
//!
//! Each parameter is filled by name: the result, a raw argument, a string
//! the probe read, a socket tuple or address, or — for what the probe does
//! not read (page faults, memory sizes, queue lengths) — zero. By default
//! the n-th parameter after the result is the syscall's n-th argument;
//! [`SOURCES`] lists where an event differs.

use super::meta::{FdDetail, FdInfo, GroupInfo, MachineInfo, ThreadInfo, UserInfo};
use super::read::Metadata;
use super::table::{self, EF_OLD_VERSION, EF_UNUSED, ParamType};
use super::write::EventBuf;
use crate::capture::record::{
    Creds, KIND_FORK, KIND_PROCEXIT, ParamKind, Record, SockTuple, trim_nul,
};
use crate::capture::syscalls;
use crate::state::containers::{CONTAINER_TYPES, ContainerInfo};
use crate::state::fds::{Fd, FdKind};
use crate::state::{Process, State};
use std::collections::HashSet;
use std::sync::OnceLock;

/// Where a parameter's value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Src {
    /// The syscall's result.
    Ret,
    /// A raw argument.
    Arg(u8),
    /// A string the probe read from an argument.
    Str(u8),
    /// Open flags in an argument, as libs' `PPM_O_*` flags.
    OpenFlags(u8),
    /// One of the two fds a pipe or socketpair wrote.
    FdPair(u8),
    /// The fd's socket tuple (client → server, as libs writes it).
    Tuple,
    /// A `sockaddr` the probe read from an argument.
    Sockaddr(u8),
    /// The process's capabilities (0 inheritable, 1 permitted, 2 effective).
    Cap(u8),
    /// An fcntl command in an argument, as libs' `PPM_FCNTL_*` (the two
    /// that make fds; others are "unknown").
    FcntlCmd(u8),
    /// The first bytes an I/O call moved (the probe's snapshot).
    Data,
    /// Not read by the probe: zero (or empty).
    Zero,
}

use Src::*;

/// Parameters whose value is not the argument at their position.
const SOURCES: &[(&str, &[(&str, Src)])] = &[
    ("open", &[("flags", OpenFlags(1))]),
    ("openat", &[("flags", OpenFlags(2))]),
    (
        "openat2",
        &[("flags", Zero), ("mode", Zero), ("resolve", Zero)],
    ),
    ("pipe", &[("fd1", FdPair(0)), ("fd2", FdPair(1))]),
    (
        "pipe2",
        &[
            ("fd1", FdPair(0)),
            ("fd2", FdPair(1)),
            ("flags", OpenFlags(1)),
        ],
    ),
    (
        "socketpair",
        &[
            ("fd1", FdPair(0)),
            ("fd2", FdPair(1)),
            ("domain", Arg(0)),
            ("type", Arg(1)),
            ("proto", Arg(2)),
        ],
    ),
    ("dup3", &[("flags", OpenFlags(2))]),
    ("socket", &[("flags", Zero)]),
    (
        "connect",
        &[("tuple", Tuple), ("fd", Arg(0)), ("addr", Sockaddr(1))],
    ),
    ("bind", &[("addr", Sockaddr(1)), ("fd", Arg(0))]),
    ("accept", &[("tuple", Tuple)]),
    ("accept4", &[("tuple", Tuple), ("flags", Arg(3))]),
    (
        "sendto",
        &[("fd", Arg(0)), ("size", Arg(2)), ("tuple", Tuple)],
    ),
    (
        "recvfrom",
        &[("tuple", Tuple), ("fd", Arg(0)), ("size", Arg(2))],
    ),
    ("sendmsg", &[("fd", Arg(0)), ("tuple", Tuple)]),
    ("recvmsg", &[("tuple", Tuple), ("fd", Arg(0))]),
    ("sendmmsg", &[("fd", Arg(0)), ("tuple", Tuple)]),
    ("recvmmsg", &[("fd", Arg(0)), ("tuple", Tuple)]),
    ("read", &[("fd", Arg(0)), ("size", Arg(2))]),
    ("readv", &[("size", Ret), ("fd", Arg(0))]),
    ("writev", &[("fd", Arg(0)), ("size", Ret)]),
    ("write", &[("fd", Arg(0)), ("size", Arg(2))]),
    (
        "pread",
        &[("fd", Arg(0)), ("size", Arg(2)), ("pos", Arg(3))],
    ),
    (
        "pwrite",
        &[("fd", Arg(0)), ("size", Arg(2)), ("pos", Arg(3))],
    ),
    ("ptrace", &[("request", Arg(0)), ("pid", Arg(1))]),
    ("eventfd2", &[("initval", Arg(0)), ("flags", Arg(1))]),
    ("signalfd", &[("mask", Zero), ("flags", Zero)]),
    (
        "signalfd4",
        &[("fd", Arg(0)), ("mask", Zero), ("flags", Arg(3))],
    ),
    ("prctl", &[("arg2_str", Str(1)), ("arg2_int", Arg(1))]),
    ("bpf", &[("cmd", Arg(0))]),
    ("fcntl", &[("cmd", FcntlCmd(1))]),
    ("inotify_init", &[("flags", Zero)]),
    (
        "capset",
        &[
            ("cap_inheritable", Cap(0)),
            ("cap_permitted", Cap(1)),
            ("cap_effective", Cap(2)),
        ],
    ),
];

/// Parameters no syscall argument carries, whatever their position.
const NOT_ARGUMENTS: &[&str] = &[
    "dev",
    "ino",
    "queuepct",
    "queuelen",
    "queuemax",
    "creat_flags",
    "source",
    "peer",
    "size",
    "msgcontrol",
    "sq_entries",
    "cq_entries",
    "sq_thread_cpu",
    "sq_thread_idle",
    "features",
];

/// Where parameter `i` (`name`, `ty`) of syscall `syscall`'s event comes from.
fn source(syscall: &str, i: usize, name: &str, ty: ParamType) -> Src {
    let listed = SOURCES
        .iter()
        .find(|(s, _)| *s == syscall)
        .and_then(|(_, l)| l.iter().find(|(n, _)| *n == name));
    if let Some(&(_, src)) = listed {
        return src;
    }
    if name == "data" {
        return Data;
    }
    let var = table::width(ty).is_none();
    match (i, ty) {
        (0, ParamType::Errno | ParamType::Fd | ParamType::Pid) => Ret,
        (0, _) => Zero,
        _ if NOT_ARGUMENTS.contains(&name) || i > 6 => Zero,
        (_, ParamType::Charbuf | ParamType::Fspath | ParamType::Fsrelpath) => Str(i as u8 - 1),
        _ if var => Zero,
        _ => Arg(i as u8 - 1),
    }
}

/// How a syscall is written: today's exit event of its name, and where
/// each of that event's parameters comes from — decided once per syscall,
/// used by the writer and read back by the converter.
pub(super) struct Layout {
    /// The event code.
    pub code: u16,
    /// Its description.
    pub info: &'static table::EventInfo,
    /// Each parameter's source, in the event's order.
    pub sources: Vec<Src>,
}

/// The layout of a syscall number (`None`: no event of its own; it is
/// written as a generic event).
pub(super) fn layout(nr: u16) -> Option<&'static Layout> {
    static LAYOUTS: OnceLock<Vec<Option<Layout>>> = OnceLock::new();
    LAYOUTS
        .get_or_init(|| {
            let mut v: Vec<Option<Layout>> = (0..512).map(|_| None).collect();
            for &(nr, name, _) in syscalls::SYSCALLS {
                let code = (0..table::EVENT_MAX).rev().find(|&c| {
                    table::info(c).is_some_and(|i| {
                        i.exit && i.name == name && i.flags & (EF_OLD_VERSION | EF_UNUSED) == 0
                    })
                });
                v[nr as usize] = code.and_then(|code| {
                    let info = table::info(code)?;
                    let sources = (info.params.iter().enumerate())
                        .map(|(i, &(p, ty))| source(info.name, i, p, ty))
                        .collect();
                    Some(Layout {
                        code,
                        info,
                        sources,
                    })
                });
            }
            v
        })
        .get(nr as usize)
        .and_then(Option::as_ref)
}

/// Whether an integer type is unsigned (read back zero-extended).
pub(super) fn is_unsigned(ty: ParamType) -> bool {
    use ParamType as P;
    matches!(
        ty,
        P::Uint8
            | P::Uint16
            | P::Uint32
            | P::Uint64
            | P::Flags8
            | P::Flags16
            | P::Flags32
            | P::Enumflags8
            | P::Enumflags16
            | P::Enumflags32
            | P::Mode
            | P::Uid
            | P::Gid
    )
}

const CLONE_20_X: u16 = 223;
const PROCEXIT_1_E: u16 = 186;
const CONTAINER_JSON_2_E: u16 = 324;
/// libs' `PPM_EXE_*` flags of execve's `flags`.
const PPM_EXE_UPPER_LAYER: i64 = 1 << 1;
const PPM_EXE_FROM_MEMFD: i64 = 1 << 2;
/// libs' `PPM_CL_CLONE_THREAD`.
const PPM_CL_CLONE_THREAD: i64 = 1 << 13;

/// libs' `PPM_FCNTL_*` of the fcntl commands that make fds: F_DUPFD
/// (1) and F_DUPFD_CLOEXEC (26); other commands are "unknown" (0).
pub(super) const FCNTL_DUPS: [(u64, i64); 2] = [(0, 1), (1030, 26)];

fn ppm_fcntl(cmd: u64) -> i64 {
    FCNTL_DUPS
        .iter()
        .find(|(l, _)| *l == cmd)
        .map_or(0, |(_, p)| *p)
}

/// libs' `PPM_O_*` open flags from Linux ones (the reverse of the reader's).
pub fn ppm_open_flags(linux: u64) -> u32 {
    const MAP: &[(u64, u32)] = &[
        (0o100, 1 << 2),
        (0o2000, 1 << 3),
        (0o10000, 1 << 4),
        (0o200, 1 << 5),
        (0o4000, 1 << 6),
        (0o4010000, 1 << 7),
        (0o1000, 1 << 8),
        (0o40000, 1 << 9),
        (0o200000, 1 << 10),
        (0o100000, 1 << 11),
        (0o2000000, 1 << 12),
        (0o20200000, 1 << 13),
    ];
    let access = match linux & 3 {
        1 => 2, // O_WRONLY
        2 => 3, // O_RDWR
        _ => 1, // O_RDONLY
    };
    MAP.iter()
        .filter(|(l, _)| linux & l == *l)
        .fold(access, |f, (_, p)| f | p)
}

/// libs' socket tuple: family, then source and destination address and
/// port (ports in host order); unix sockets: two addresses and the path.
fn tuple_bytes(t: &SockTuple, client: bool, path: &str) -> Vec<u8> {
    let n = match t.family {
        2 => 4,
        10 => 16,
        1 => {
            let mut b = vec![1u8];
            b.extend_from_slice(&[0; 16]);
            b.extend_from_slice(path.as_bytes());
            b.push(0);
            return b;
        }
        _ => return Vec::new(),
    };
    let (src, sport, dst, dport) = if client {
        (&t.laddr, t.lport, &t.raddr, t.rport)
    } else {
        (&t.raddr, t.rport, &t.laddr, t.lport)
    };
    let mut b = vec![t.family as u8];
    b.extend_from_slice(&src[..n]);
    b.extend_from_slice(&sport.to_le_bytes());
    b.extend_from_slice(&dst[..n]);
    b.extend_from_slice(&dport.to_le_bytes());
    b
}

/// libs' sockaddr parameter from a raw `struct sockaddr`.
fn sockaddr_bytes(raw: &[u8]) -> Vec<u8> {
    let family = raw.get(..2).map_or(0, |f| u16::from_le_bytes([f[0], f[1]]));
    let port = raw
        .get(2..4)
        .map_or(0, |p| u16::from_be_bytes([p[0], p[1]]));
    let mut b = vec![family as u8];
    match family {
        1 => {
            b.extend_from_slice(trim_nul(raw.get(2..).unwrap_or_default()));
            b.push(0);
        }
        2 if raw.len() >= 8 => {
            b.extend_from_slice(&raw[4..8]);
            b.extend_from_slice(&port.to_le_bytes());
        }
        10 if raw.len() >= 24 => {
            b.extend_from_slice(&raw[8..24]);
            b.extend_from_slice(&port.to_le_bytes());
        }
        _ => return Vec::new(),
    }
    b
}

/// Turns records into capture events.
#[derive(Default)]
pub struct Encoder {
    /// Containers whose meta-event was written.
    containers: HashSet<String>,
}

impl Encoder {
    /// The event of `rec` (after `state` took it in) into `out`; false
    /// when the record has no capture equivalent.
    pub fn event(&mut self, rec: &Record, state: &State, out: &mut EventBuf) -> bool {
        let proc = state.process(rec.pid);
        match rec.kind {
            KIND_PROCEXIT => {
                out.start(PROCEXIT_1_E);
                for &(_, ty) in table::info(PROCEXIT_1_E).map_or(&[][..], |i| i.params) {
                    out.push_int(ty, 0);
                }
                true
            }
            KIND_FORK => proc.is_some_and(|p| {
                let ptid = rec.args[0] as i64;
                clone_event(rec, p, 0, ptid, rec.tid != rec.pid, out);
                true
            }),
            56..=58 | 435 => proc.is_some_and(|p| {
                clone_event(rec, p, rec.ret, p.ppid as i64, false, out);
                true
            }),
            59 | 322 => proc.is_some_and(|p| {
                exec_event(rec, p, out);
                true
            }),
            nr => self.syscall(nr, rec, state, out),
        }
    }

    /// A syscall event, parameter by parameter.
    fn syscall(&mut self, nr: u16, rec: &Record, state: &State, out: &mut EventBuf) -> bool {
        let Some(layout) = layout(nr) else {
            return generic(nr, out);
        };
        out.start(layout.code);
        for (&(_, ty), &src) in layout.info.params.iter().zip(&layout.sources) {
            match src {
                Ret => out.push_int(ty, rec.ret),
                Arg(a) => out.push_int(ty, arg(rec, a as usize, ty)),
                OpenFlags(a) => out.push_int(ty, ppm_open_flags(rec.args[a as usize]) as i64),
                Str(a) => out.push_str(
                    rec.str_param(ParamKind::UserStr, Some(a))
                        .unwrap_or_default(),
                ),
                FdPair(k) => {
                    let pair = rec.param(ParamKind::FdPair, None).unwrap_or_default();
                    let at = 4 * k as usize;
                    let fd = pair
                        .get(at..at + 4)
                        .map_or(-1, |b| i32::from_le_bytes(b.try_into().expect("4")));
                    out.push_int(ty, fd as i64)
                }
                Tuple => out.push(&self.tuple(rec, state)),
                Sockaddr(a) => out.push(&sockaddr_bytes(
                    rec.param(ParamKind::Sockaddr, Some(a)).unwrap_or_default(),
                )),
                FcntlCmd(a) => out.push_int(ty, ppm_fcntl(rec.args[a as usize])),
                Data => out.push(rec.param(ParamKind::Data, Some(1)).unwrap_or_default()),
                Cap(k) => {
                    let c = state.process(rec.pid).map(|p| p.creds).unwrap_or_default();
                    let v = [c.cap_inheritable, c.cap_permitted, c.cap_effective][k as usize];
                    out.push_int(ty, v as i64)
                }
                Zero => match table::width(ty) {
                    Some(_) => out.push_int(ty, 0),
                    None => out.push(&[]),
                },
            }
        }
        true
    }

    /// The socket tuple of the fd the record made or used.
    fn tuple(&self, rec: &Record, state: &State) -> Vec<u8> {
        let accepted = matches!(rec.kind, 43 | 288);
        let fd_num = if accepted {
            rec.ret
        } else {
            rec.args[0] as i32 as i64
        };
        let fd = state.process(rec.pid).and_then(|p| p.fds.get(fd_num));
        let probe = rec
            .param(ParamKind::Tuple, None)
            .and_then(SockTuple::decode);
        match (probe.or_else(|| fd.and_then(|f| f.tuple)), fd) {
            (Some(t), fd) => tuple_bytes(&t, !accepted, fd.map_or("", |f| f.name.as_str())),
            (None, _) => Vec::new(),
        }
    }

    /// The container meta-event to write before `rec`'s event: the first
    /// time a container's process is seen, if its metadata is known.
    pub fn container(&mut self, rec: &Record, state: &State, out: &mut EventBuf) -> bool {
        let Some(p) = state.process(rec.pid) else {
            return false;
        };
        let id = &p.container_id;
        if id.is_empty() || self.containers.contains(id) {
            return false;
        }
        let Some(info) = state.container(id) else {
            return false;
        };
        self.containers.insert(id.clone());
        container_event(id, info, out);
        true
    }

    /// Notes the containers a capture's metadata already describes.
    pub fn written(&mut self, id: &str) {
        self.containers.insert(id.to_string());
    }
}

/// libs' generic exit event (a syscall without an event of its own, such
/// as `truncate`): the syscall's libs code and its x86_64 number.
const GENERIC_X: u16 = 1;

fn generic(nr: u16, out: &mut EventBuf) -> bool {
    let Some(sc) = syscalls::name_of(nr).and_then(table::syscall_code) else {
        return false;
    };
    out.start(GENERIC_X);
    out.push(&sc.to_le_bytes());
    out.push(&nr.to_le_bytes());

    true
}

/// A raw argument as a parameter of `ty` (ints are sign-extended from 32
/// bits, as the kernel's `int` arguments are).
fn arg(rec: &Record, a: usize, ty: ParamType) -> i64 {
    let raw = rec.args.get(a).copied().unwrap_or(0);
    match ty {
        ParamType::Fd | ParamType::Pid | ParamType::Errno | ParamType::Int32 => raw as i32 as i64,
        _ => raw as i64,
    }
}

/// `cgroups` of an exec or clone: the record's leaves (exec), else a leaf
/// naming the container.
fn cgroups(rec: &Record, p: &Process) -> Vec<u8> {
    const CONTROLLERS: [&str; 13] = [
        "cpuset",
        "cpu",
        "cpuacct",
        "io",
        "memory",
        "devices",
        "freezer",
        "net_cls",
        "perf_event",
        "net_prio",
        "hugetlb",
        "pids",
        "unified",
    ];
    let mut b = Vec::new();
    for (k, idx, leaf) in rec.params() {
        let leaf = trim_nul(leaf);
        if k == ParamKind::Cgroup && !leaf.is_empty() {
            b.extend_from_slice(
                CONTROLLERS
                    .get(idx as usize)
                    .unwrap_or(&"cpuset")
                    .as_bytes(),
            );
            b.extend_from_slice(b"=/");
            b.extend_from_slice(leaf);
            b.push(0);
        }
    }
    if b.is_empty() && !p.container_id.is_empty() {
        b.extend_from_slice(format!("cpuset=/{}", p.container_id).as_bytes());
        b.push(0);
    }
    b
}

fn nul_list(items: &[String]) -> Vec<u8> {
    let mut b = Vec::new();
    for i in items {
        b.extend_from_slice(i.as_bytes());
        b.push(0);
    }
    b
}

/// A clone-family exit event (clone_20's layout) for `p`'s thread `rec.tid`.
fn clone_event(rec: &Record, p: &Process, res: i64, ptid: i64, thread: bool, out: &mut EventBuf) {
    out.start(CLONE_20_X);
    let params = table::info(CLONE_20_X).map_or(&[][..], |i| i.params);
    for &(name, ty) in params {
        match name {
            "res" => out.push_int(ty, res),
            "exe" => out.push_str(p.exe.as_bytes()),
            "args" => out.push(&nul_list(&p.args)),
            "tid" => out.push_int(ty, rec.tid as i64),
            "pid" => out.push_int(ty, rec.pid as i64),
            "ptid" => out.push_int(ty, ptid),
            "cwd" => out.push_str(p.cwd.as_bytes()),
            "comm" => out.push_str(p.comm.as_bytes()),
            "cgroups" => out.push(&cgroups(rec, p)),
            "flags" => out.push_int(ty, if thread { PPM_CL_CLONE_THREAD } else { 0 }),
            "uid" => out.push_int(ty, p.creds.uid as i64),
            "gid" => out.push_int(ty, p.creds.gid as i64),
            "vtid" | "vpid" => out.push_int(ty, p.vpid as i64),
            _ => out.push_int(ty, 0),
        }
    }
}

/// An execve/execveat exit event for `p` (after the exec, when it
/// succeeded).
fn exec_event(rec: &Record, p: &Process, out: &mut EventBuf) {
    let code = layout(rec.kind).map_or(0, |l| l.code);
    out.start(code);
    let params = table::info(code).map_or(&[][..], |i| i.params);
    let failed = rec.ret != 0;
    let filename = rec
        .str_param(ParamKind::UserStr, Some(if rec.kind == 59 { 0 } else { 1 }))
        .unwrap_or_default();
    let flags = if p.exe_upper_layer {
        PPM_EXE_UPPER_LAYER
    } else {
        0
    } | if p.exe_from_memfd {
        PPM_EXE_FROM_MEMFD
    } else {
        0
    };
    let Creds {
        uid,
        gid,
        cap_inheritable,
        cap_permitted,
        cap_effective,
        ..
    } = p.creds;
    for &(name, ty) in params {
        let int = |v: i64| (ty, v);
        let v = match name {
            "res" => int(rec.ret),
            "exe" => {
                out.push_str(p.exe.as_bytes());
                continue;
            }
            "args" => {
                out.push(&nul_list(&p.args));
                continue;
            }
            "tid" => int(rec.tid as i64),
            "pid" => int(rec.pid as i64),
            "ptid" => int(p.ppid as i64),
            "cwd" | "comm" | "trusted_exepath" | "filename" => {
                out.push_str(match name {
                    "cwd" => p.cwd.as_bytes(),
                    "comm" => p.comm.as_bytes(),
                    "filename" => filename,
                    _ if failed => b"",
                    _ => p.exepath.as_bytes(),
                });
                continue;
            }
            "cgroups" => {
                out.push(&cgroups(rec, p));
                continue;
            }
            "env" => {
                out.push(&nul_list(&p.env));
                continue;
            }
            "tty" => int(p.tty as i64),
            "vpgid" => int(p.vpgid as i64),
            "pgid" => int(p.pgid as i64),
            "loginuid" => int(p.loginuid as i64),
            "flags" => int(flags),
            "cap_inheritable" => int(cap_inheritable as i64),
            "cap_permitted" => int(cap_permitted as i64),
            "cap_effective" => int(cap_effective as i64),
            "exe_ino" => int(p.exe_ino as i64),
            "exe_ino_ctime" => int(p.exe_ctime),
            "exe_ino_mtime" => int(p.exe_mtime),
            "uid" => int(uid as i64),
            "gid" => int(gid as i64),
            _ => int(0),
        };
        out.push_int(v.0, v.1);
    }
}

/// A container JSON meta-event (libs' `container_json_2`).
fn container_event(id: &str, c: &ContainerInfo, out: &mut EventBuf) {
    let mounts: Vec<serde_json::Value> = c
        .mounts
        .iter()
        .map(|(source, dest, mode, rw)| {
            serde_json::json!({"Source": source, "Destination": dest, "Mode": mode, "RW": rw,
                "Propagation": ""})
        })
        .collect();
    let labels: serde_json::Map<String, serde_json::Value> = c
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone().into()))
        .collect();
    let mut j = serde_json::json!({
        "id": id,
        "name": c.name,
        "image": c.image,
        "imageid": c.image_id,
        "imagerepo": c.repository(),
        "imagetag": c.tag(),
        "imagedigest": c.image_digest,
        "privileged": c.privileged,
        "Mounts": mounts,
        "labels": labels,
        "ip": c.ip,
        // libs' key is in seconds; ours keeps the nanoseconds for replay
        "created_time": c.start_ns.map(|n| n / 1_000_000_000),
        "created_time_ns": c.start_ns,
    });
    if let Some(t) = c
        .runtime
        .as_deref()
        .and_then(|r| CONTAINER_TYPES.iter().find(|(n, _)| *n == r))
    {
        j["type"] = t.1.into();
    }
    out.start(CONTAINER_JSON_2_E);
    out.push_str(serde_json::json!({ "container": j }).to_string().as_bytes());
}

/// The fd list entry of an fd of the state.
fn fd_info(num: i64, f: &Fd) -> FdInfo {
    let l4 = |t: &SockTuple| match t.protocol {
        6 => 2,
        17 => 3,
        _ => 0,
    };
    let (kind, detail) = match (f.kind, f.tuple) {
        (FdKind::Ipv4, Some(t)) if t.rport == 0 => (
            5,
            FdDetail::Ipv4Server {
                ip: t.laddr[..4].try_into().expect("4"),
                port: t.lport,
                l4proto: l4(&t),
            },
        ),
        (FdKind::Ipv4, Some(t)) => (
            3,
            FdDetail::Ipv4 {
                sip: t.laddr[..4].try_into().expect("4"),
                dip: t.raddr[..4].try_into().expect("4"),
                sport: t.lport,
                dport: t.rport,
                l4proto: l4(&t),
            },
        ),
        (FdKind::Ipv6, Some(t)) if t.rport == 0 => (
            6,
            FdDetail::Ipv6Server {
                ip: t.laddr,
                port: t.lport,
                l4proto: l4(&t),
            },
        ),
        (FdKind::Ipv6, Some(t)) => (
            4,
            FdDetail::Ipv6 {
                sip: t.laddr,
                dip: t.raddr,
                sport: t.lport,
                dport: t.rport,
                l4proto: l4(&t),
            },
        ),
        (FdKind::Unix, _) => (
            8,
            FdDetail::Unix {
                source: 0,
                dest: 0,
                path: f.name.clone(),
            },
        ),
        (FdKind::File | FdKind::Memfd, _) => (
            16,
            FdDetail::File {
                flags: ppm_open_flags(f.flags),
                name: f.name.clone(),
                dev: 0,
            },
        ),
        (kind, _) => (fd_type(kind), FdDetail::Named(f.name.clone())),
    };
    FdInfo {
        fd: num,
        ino: f.ino,
        kind,
        detail,
    }
}

/// libs' `scap_fd_type` of the other kinds (the types libs added after
/// 16 — bpf, userfaultfd, io_uring, pidfd — are written as "unsupported",
/// which every reader knows).
fn fd_type(kind: FdKind) -> u8 {
    super::convert::FD_TYPES
        .iter()
        .find(|(t, k)| *k == kind && *t < 16)
        .map_or(10, |(t, _)| *t)
}

/// The process list entry of a process of the state.
fn thread_info(p: &Process) -> ThreadInfo {
    ThreadInfo {
        tid: p.pid as u64,
        pid: p.pid as u64,
        ptid: p.ppid as u64,
        sid: p.sid as i64,
        vpgid: p.vpgid as i64,
        comm: p.comm.clone(),
        exe: p.exe.clone(),
        exepath: p.exepath.clone(),
        args: p.args.clone(),
        cwd: p.cwd.clone(),
        uid: p.creds.uid,
        gid: p.creds.gid,
        env: p.env.clone(),
        vtid: p.vpid as i64,
        vpid: p.vpid as i64,
        cgroups: if p.container_id.is_empty() {
            Vec::new()
        } else {
            vec![format!("cpuset=/{}", p.container_id)]
        },
        tty: p.tty,
        loginuid: p.loginuid,
        caps: [
            p.creds.cap_inheritable,
            p.creds.cap_permitted,
            p.creds.cap_effective,
        ],
        exe_ino: (p.exe_ino, p.exe_ctime as u64, p.exe_mtime as u64),
        exe_from_memfd: p.exe_from_memfd,
        exe_upper_layer: p.exe_upper_layer,
        pgid: p.pgid as i64,
        ..ThreadInfo::default()
    }
}

/// What a capture starts with: the machine, the live processes and their
/// fds, the host's users and groups.
pub fn metadata(state: &State, machine: MachineInfo) -> Metadata {
    let mut procs: Vec<&Process> = state
        .processes()
        .filter(|p| p.exited_ns.is_none())
        .collect();
    procs.sort_by_key(|p| p.pid);
    let mut fds = Vec::new();
    for p in &procs {
        let mut own: Vec<(i64, &Fd)> = p.fds.iter().collect();
        own.sort_by_key(|(n, _)| *n);
        fds.extend(own.into_iter().map(|(n, f)| (p.pid as u64, fd_info(n, f))));
    }
    let users = state.host_users();
    Metadata {
        version: (1, 2),
        machine: Some(machine),
        threads: procs.iter().map(|p| thread_info(p)).collect(),
        fds,
        users: users
            .users()
            .map(|(uid, u)| UserInfo {
                uid,
                gid: 0,
                name: u.name.clone(),
                home: u.home.clone(),
                shell: u.shell.clone(),
            })
            .collect(),
        groups: users
            .groups()
            .map(|(gid, name)| GroupInfo {
                gid,
                name: name.to_string(),
            })
            .collect(),
        interface_blocks: 0,
    }
}

/// The container meta-events of the containers the state knows, for the
/// start of a capture (each noted in `enc` as written).
pub fn known_containers(state: &State, enc: &mut Encoder, mut each: impl FnMut(&EventBuf)) {
    let mut buf = EventBuf::default();
    for (id, info) in state.containers() {
        container_event(id, info, &mut buf);
        enc.written(id);
        each(&buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_captured_syscall_has_an_event_and_sources_name_real_parameters() {
        for &(nr, name, _) in syscalls::SYSCALLS {
            match layout(nr) {
                Some(l) => assert_eq!(l.info.name, name),
                // written as a generic event
                None => assert!(table::syscall_code(name).is_some(), "no event for {name}"),
            }
        }
        for (syscall, list) in SOURCES {
            let nr = syscalls::nr_of(syscall).unwrap();
            let info = layout(nr).unwrap().info;
            for (param, _) in *list {
                assert!(
                    info.params.iter().any(|(n, _)| n == param),
                    "{syscall} has no parameter {param}"
                );
            }
        }
    }

    #[test]
    fn open_flags_round_trip() {
        for linux in [0, 1, 2, 0o101, 0o2001102, 0o200000] {
            let ppm = ppm_open_flags(linux);
            assert_eq!(
                super::super::convert::linux_open_flags(ppm),
                linux,
                "{linux:o}"
            );
        }
    }

    #[test]
    fn tuples_put_the_client_first() {
        let mut t = SockTuple {
            family: 2,
            lport: 443,
            rport: 50000,
            ..SockTuple::default()
        };
        t.laddr[..4].copy_from_slice(&[10, 0, 0, 1]);
        t.raddr[..4].copy_from_slice(&[10, 0, 0, 2]);
        // accepted: the remote end is the client
        let b = tuple_bytes(&t, false, "");
        assert_eq!(&b[1..5], &[10, 0, 0, 2]);
        assert_eq!(u16::from_le_bytes([b[5], b[6]]), 50000);
        let raw = [2u8, 0, 0x11, 0x5c, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(sockaddr_bytes(&raw), vec![2, 127, 0, 0, 1, 0x5c, 0x11]);
    }
}
