//! A probe record seen through the state tables: the `syscall` source's
//! [`Event`] implementation, which extracts every field rules use.

use super::fds::{Fd, FdKind};
use super::{Process, State};
use crate::capture::record::{KIND_PROCEXIT, ParamKind, Record, SockTuple};
use crate::capture::syscalls;
use crate::engine::Event;
use crate::fields::{FieldId, ResolvedField, SourceFields};
use crate::filter::value::ValueSink;

/// Per field id, its base name (resolved once per field table).
pub struct FieldNames(Vec<&'static str>);

impl FieldNames {
    /// The names of a source's fields, indexed by id.
    pub fn new(fields: &SourceFields) -> FieldNames {
        FieldNames(fields.fields().iter().map(|d| d.name).collect())
    }

    fn get(&self, id: FieldId) -> &'static str {
        self.0.get(id as usize).copied().unwrap_or("")
    }
}

/// One event: the record, the state after [`State::update`], and the event's number.
pub struct SyscallEvent<'a> {
    /// The record.
    pub rec: &'a Record<'a>,
    /// The state tables.
    pub state: &'a State,
    /// Field names by id.
    pub names: &'a FieldNames,
    /// `evt.num`.
    pub num: u64,
    /// `evt.hostname`.
    pub hostname: &'a str,
    type_name: &'static str,
    proc: Option<&'a Process>,
    fd_num: Option<i64>,
}

impl<'a> SyscallEvent<'a> {
    /// The event for a record (after `state.update(rec)`).
    pub fn new(
        rec: &'a Record<'a>,
        state: &'a State,
        names: &'a FieldNames,
        num: u64,
        hostname: &'a str,
    ) -> SyscallEvent<'a> {
        let type_name = if rec.kind == KIND_PROCEXIT {
            "procexit"
        } else {
            syscalls::name_of(rec.kind).unwrap_or("")
        };
        let a0 = rec.args[0] as i32 as i64;
        let fd_num = match type_name {
            "open" | "openat" | "openat2" | "creat" | "accept" | "accept4" | "dup" | "dup2"
            | "dup3" | "socket" | "memfd_create" | "open_by_handle_at" | "eventfd" | "eventfd2"
            | "signalfd" | "signalfd4" | "timerfd_create" | "inotify_init" | "inotify_init1"
            | "userfaultfd" | "epoll_create" | "epoll_create1" | "pidfd_open" => Some(rec.ret),
            "fcntl" if matches!(rec.args[1], 0 | 1030) => Some(rec.ret),
            "close" | "connect" | "bind" | "listen" | "sendto" | "recvfrom" | "sendmsg"
            | "recvmsg" | "shutdown" | "fchdir" | "fchmod" | "ioctl" | "fcntl" | "finit_module"
            | "setns" | "sendmmsg" | "recvmmsg" => Some(a0),
            _ => None,
        };
        SyscallEvent {
            rec,
            state,
            names,
            num,
            hostname,
            type_name,
            proc: state.process(rec.pid),
            fd_num,
        }
    }

    fn fd(&self) -> Option<&'a Fd> {
        let n = self.fd_num?;
        if n < 0 {
            return None;
        }
        self.proc?.fds.get(n)
    }

    fn ancestor(&self, n: usize) -> Option<&'a Process> {
        let mut p = self.proc?;
        for _ in 0..n {
            if p.ppid == 0 || p.ppid == p.pid {
                return None;
            }
            p = self.state.process(p.ppid)?;
        }
        Some(p)
    }

    /// Ancestors from the parent up (bounded: pid loops cannot hang us).
    fn ancestors(&self) -> impl Iterator<Item = &'a Process> + '_ {
        (1..64).map_while(|i| self.ancestor(i))
    }

    fn time_ns(&self) -> i64 {
        self.state.epoch_ns(self.rec.ts_boot)
    }

    fn user_str(&self, idx: u8) -> Option<String> {
        self.rec
            .str_param(ParamKind::UserStr, Some(idx))
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }

    /// `evt.arg.NAME` / `evt.rawarg.NAME` (`raw`: numbers stay numbers).
    fn arg(&self, name: &str, raw: bool, out: &mut dyn ValueSink) {
        let r = self.rec;
        let t = self.type_name;
        let a = |i: usize| r.args[i];
        let num = |out: &mut dyn ValueSink, v: i64| out.num(v);
        let text = |out: &mut dyn ValueSink, s: &str| out.bytes(s.as_bytes());
        let path_arg = |out: &mut dyn ValueSink, idx: u8, dirfd: Option<i64>| {
            if let Some(p) = self.user_str(idx) {
                let p = match dirfd {
                    Some(d) if !raw => self.state.resolve(r.pid, d, &p),
                    _ => p,
                };
                out.bytes(p.as_bytes());
            }
        };
        match (t, name) {
            (_, "res")
            | (
                "open" | "openat" | "openat2" | "creat" | "accept" | "accept4" | "socket"
                | "memfd_create",
                "fd",
            ) if name == "res" || r.ret >= 0 || raw => num(out, r.ret),
            ("open" | "creat", "name") => path_arg(out, 0, Some(-100)),
            ("openat" | "openat2", "name") => path_arg(out, 1, Some(a(0) as i32 as i64)),
            ("openat" | "openat2", "dirfd") => num(out, a(0) as i32 as i64),
            ("open", "flags") | ("openat" | "openat2", "flags") => {
                let f = if t == "open" { a(1) } else { a(2) };
                if raw {
                    num(out, f as i64)
                } else {
                    text(out, &open_flags(f))
                }
            }
            ("open", "mode") | ("creat", "mode") => {
                num(out, if t == "open" { a(2) } else { a(1) } as i64)
            }
            ("openat", "mode") => num(out, a(3) as i64),
            ("execve" | "execveat", "filename") => {
                if let Some(f) = r
                    .str_param(ParamKind::Filename, None)
                    .or_else(|| r.str_param(ParamKind::UserStr, None))
                {
                    out.bytes(f)
                }
            }
            ("execve" | "execveat", "exe") => self.with_proc(out, |p, o| o.bytes(p.exe.as_bytes())),
            ("execve" | "execveat", "args") => {
                self.with_proc(out, |p, o| o.bytes(p.args_joined().as_bytes()))
            }
            ("execve" | "execveat", "cwd") => self.with_proc(out, |p, o| o.bytes(p.cwd.as_bytes())),
            ("execve" | "execveat", "flags") => {
                // Falco's exe flags; the ones we can tell.
                let mut f = Vec::new();
                if let Some(p) = self.proc {
                    if p.exe_from_memfd {
                        f.push("EXE_FROM_MEMFD");
                    }
                    if p.exe_upper_layer {
                        f.push("EXE_UPPER_LAYER");
                    }
                }
                if raw {
                    num(out, 0)
                } else {
                    text(out, &f.join("|"))
                }
            }
            ("execve" | "execveat", "pid") => num(out, r.pid as i64),
            ("execve" | "execveat", "tid") => num(out, r.tid as i64),
            ("connect", "addr") | ("bind", "addr") => {
                if let Some(s) = r
                    .param(ParamKind::Sockaddr, Some(1))
                    .and_then(sockaddr_text)
                {
                    text(out, &s)
                }
            }
            (
                "connect" | "bind" | "listen" | "close" | "sendto" | "recvfrom" | "sendmsg"
                | "recvmsg" | "fchdir" | "fchmod" | "setns" | "finit_module" | "shutdown",
                "fd",
            ) => num(out, a(0) as i32 as i64),
            (
                "connect" | "accept" | "accept4" | "sendto" | "recvfrom" | "sendmsg" | "recvmsg",
                "tuple",
            ) => {
                if let Some(fd) = self.fd() {
                    text(out, &fd.name)
                }
            }
            ("socket" | "socketpair", "domain") => {
                if raw {
                    num(out, a(0) as i64)
                } else {
                    text(out, socket_family(a(0) as u16))
                }
            }
            ("socket" | "socketpair", "type") => num(out, a(1) as i64),
            ("socket" | "socketpair", "proto") => num(out, a(2) as i64),
            ("dup" | "dup2" | "dup3", "oldfd") => num(out, a(0) as i32 as i64),
            ("dup2" | "dup3", "newfd") => num(out, a(1) as i32 as i64),
            ("dup3", "flags") => num(out, a(2) as i64),
            ("symlink", "target") | ("symlinkat", "target") => path_arg(out, 0, None),
            ("symlink", "linkpath") => path_arg(out, 1, Some(-100)),
            ("symlinkat", "linkpath") => path_arg(out, 2, Some(a(1) as i32 as i64)),
            ("symlinkat", "linkdirfd") => num(out, a(1) as i32 as i64),
            ("link" | "rename", "oldpath") => path_arg(out, 0, Some(-100)),
            ("link" | "rename", "newpath") => path_arg(out, 1, Some(-100)),
            ("linkat" | "renameat" | "renameat2", "oldpath") => {
                path_arg(out, 1, Some(a(0) as i32 as i64))
            }
            ("linkat" | "renameat" | "renameat2", "newpath") => {
                path_arg(out, 3, Some(a(2) as i32 as i64))
            }
            ("linkat", "olddir") | ("renameat" | "renameat2", "olddirfd") => {
                num(out, a(0) as i32 as i64)
            }
            ("linkat", "newdir") | ("renameat" | "renameat2", "newdirfd") => {
                num(out, a(2) as i32 as i64)
            }
            ("linkat", "flags") | ("renameat2", "flags") => num(out, a(4) as i64),
            ("unlink" | "rmdir" | "mkdir" | "chdir" | "chroot", "path") => {
                path_arg(out, 0, Some(-100))
            }
            ("unlinkat", "name") | ("mkdirat", "path") => {
                path_arg(out, 1, Some(a(0) as i32 as i64))
            }
            ("unlinkat" | "mkdirat", "dirfd") => num(out, a(0) as i32 as i64),
            ("unlinkat", "flags") => num(out, a(2) as i64),
            ("mkdir", "mode") => num(out, a(1) as i64),
            ("mkdirat", "mode") => num(out, a(2) as i64),
            ("chmod", "filename") => path_arg(out, 0, Some(-100)),
            ("chmod", "mode") | ("fchmod", "mode") => num(out, a(1) as i64),
            ("fchmodat", "filename") => path_arg(out, 1, Some(a(0) as i32 as i64)),
            ("fchmodat", "dirfd") => num(out, a(0) as i32 as i64),
            ("fchmodat", "mode") => num(out, a(2) as i64),
            ("ptrace", "request") => {
                if raw {
                    num(out, a(0) as i64)
                } else {
                    text(out, ptrace_request(a(0)))
                }
            }
            ("ptrace", "pid") => num(out, a(1) as i32 as i64),
            ("ptrace", "addr") => num(out, a(2) as i64),
            ("ptrace", "data") => num(out, a(3) as i64),
            ("init_module", "length") => num(out, a(1) as i64),
            ("init_module", "uargs") => path_arg(out, 2, None),
            ("finit_module", "flags") => num(out, a(2) as i64),
            ("setuid", "uid") | ("setgid", "gid") => num(out, a(0) as u32 as i64),
            ("setns", "nstype") => num(out, a(1) as i64),
            ("unshare", "flags") => num(out, a(0) as i64),
            ("memfd_create", "name") => path_arg(out, 0, None),
            ("memfd_create", "flags") => num(out, a(1) as i64),
            ("bpf", "cmd") => num(out, a(0) as i64),
            ("prctl", "option") => num(out, a(0) as i64),
            ("prctl", "arg2_str") => path_arg(out, 1, None),
            ("prctl", "arg2_int") => num(out, a(1) as i64),
            ("mount", "dev") => path_arg(out, 0, None),
            ("mount", "dir") => path_arg(out, 1, Some(-100)),
            ("mount", "type") => path_arg(out, 2, None),
            ("mount", "flags") => num(out, a(3) as i64),
            ("umount2", "name") => path_arg(out, 0, Some(-100)),
            ("umount2", "flags") => num(out, a(1) as i64),
            ("fcntl", "cmd") => num(out, a(1) as i64),
            ("userfaultfd", "flags") => num(out, a(0) as i64),
            ("kill", "pid") => num(out, a(0) as i32 as i64),
            ("kill", "sig") => num(out, a(1) as i64),
            ("listen", "backlog") => num(out, a(1) as i64),
            ("sendto" | "recvfrom", "size") => num(out, a(2) as i64),
            ("capset", "cap_effective") => self.with_proc(out, |p, o| {
                o.bytes(cap_names(p.creds.cap_effective).as_bytes())
            }),
            _ => {}
        }
    }

    fn with_proc(&self, out: &mut dyn ValueSink, f: impl FnOnce(&Process, &mut dyn ValueSink)) {
        if let Some(p) = self.proc {
            f(p, out)
        }
    }

    /// `evt.args`: `name=value` pairs for the arguments we decode.
    fn args_text(&self) -> String {
        let mut s = format!("res={}", self.rec.ret);
        if let Some(fd) = self.fd() {
            s.push_str(&format!(
                " fd={}({}{})",
                self.fd_num.unwrap_or(-1),
                fd.kind.typechar_display(),
                fd.name
            ));
        }
        for (k, i, d) in self.rec.params() {
            if k == ParamKind::UserStr {
                s.push_str(&format!(
                    " arg{}={}",
                    i,
                    String::from_utf8_lossy(crate::capture::record::trim_nul(d))
                ));
            }
        }
        s
    }

    fn proc_field(&self, base: &str, arg: Option<&str>, out: &mut dyn ValueSink) {
        let idx = arg.and_then(|a| a.parse::<usize>().ok());
        // Ancestor fields: an index picks one (0 = this process), no index
        // lists every ancestor from the parent up.
        let ancestor_of = |f: fn(&Process, &mut dyn ValueSink), out: &mut dyn ValueSink| match idx {
            Some(n) => {
                if let Some(p) = self.ancestor(n) {
                    f(p, out)
                }
            }
            None => {
                out.begin_list();
                for p in self.ancestors() {
                    f(p, out);
                }
                out.end_list();
            }
        };
        let Some(p) = self.proc else { return };
        let parent = self.ancestor(1);
        match base {
            "proc.pid" => out.num(p.pid as i64),
            "proc.vpid" => out.num(p.vpid as i64),
            "proc.pvpid" => parent.into_iter().for_each(|q| out.num(q.vpid as i64)),
            "proc.ppid" => out.num(p.ppid as i64),
            "proc.pgid" => out.num(p.pgid as i64),
            "proc.vpgid" => out.num(p.vpgid as i64),
            "proc.is_sid_leader" => out.bool(p.sid == p.pid),
            "proc.is_pgid_leader" => out.bool(p.pgid == p.pid),
            "proc.is_vpgid_leader" => out.bool(p.vpgid == p.vpid),
            "proc.sid.exe" | "proc.sid.exepath" | "proc.pgid.name" | "proc.pgid.exe"
            | "proc.pgid.exepath" | "proc.vpgid.name" | "proc.vpgid.exe" | "proc.vpgid.exepath" => {
                let leader = if base.starts_with("proc.sid") {
                    p.sid
                } else {
                    p.pgid
                };
                if let Some(l) = self.state.process(leader) {
                    let v = match base.rsplit('.').next() {
                        Some("name") => &l.comm,
                        Some("exe") => &l.exe,
                        _ => &l.exepath,
                    };
                    out.bytes(v.as_bytes())
                }
            }
            "proc.exeline" => {
                let mut s = p.exe.clone();
                for a in &p.args {
                    s.push(' ');
                    s.push_str(a);
                }
                out.bytes(s.as_bytes())
            }
            "proc.aargs" => ancestor_of(|q, o| o.bytes(q.args_joined().as_bytes()), out),
            "proc.aenv" => ancestor_of(|q, o| o.bytes(q.env.join(" ").as_bytes()), out),
            "proc.ppid.ts" => parent.into_iter().for_each(|q| out.num(q.start_ns)),
            "proc.ppid.duration" => parent
                .into_iter()
                .for_each(|q| out.num((self.time_ns() - q.start_ns).max(0))),
            "proc.loginshellid" => {
                // The oldest shell among the process and its ancestors.
                let shells = std::iter::once(p).chain(self.ancestors());
                if let Some(sh) = shells.filter(|q| is_shell(&q.comm)).last() {
                    out.num(sh.pid as i64)
                }
            }
            "proc.stdin.name" | "proc.stdout.name" | "proc.stderr.name" | "proc.stdin.type"
            | "proc.stdout.type" | "proc.stderr.type" => {
                let n = match base.split('.').nth(1) {
                    Some("stdin") => 0,
                    Some("stdout") => 1,
                    _ => 2,
                };
                if let Some(fd) = p.fds.get(n) {
                    if base.ends_with("name") {
                        out.bytes(fd.name.as_bytes())
                    } else {
                        out.bytes(fd.kind.type_name().as_bytes())
                    }
                }
            }
            "proc.vmrss" | "proc.vmsize" | "proc.vmswap" | "thread.vmrss" | "thread.vmsize"
            | "proc.nthreads" | "proc.fdlimit" | "proc.fdusage" => {
                // Read from /proc when a rule asks (the process may be gone: then nothing).
                let dir = format!("/proc/{}", p.pid);
                let status = std::fs::read_to_string(format!("{dir}/status")).unwrap_or_default();
                let kib = |key: &str| {
                    status
                        .lines()
                        .find_map(|l| l.strip_prefix(key))
                        .and_then(|v| v.split_whitespace().next()?.parse::<i64>().ok())
                };
                let fdlimit = || {
                    std::fs::read_to_string(format!("{dir}/limits"))
                        .ok()?
                        .lines()
                        .find(|l| l.starts_with("Max open files"))?
                        .split_whitespace()
                        .nth(3)?
                        .parse::<i64>()
                        .ok()
                };
                let v = match base {
                    "proc.vmrss" | "thread.vmrss" => kib("VmRSS:"),
                    "proc.vmsize" | "thread.vmsize" => kib("VmSize:"),
                    "proc.vmswap" => kib("VmSwap:"),
                    "proc.nthreads" => kib("Threads:"),
                    "proc.fdlimit" => fdlimit(),
                    _ => fdlimit()
                        .filter(|&l| l > 0)
                        .map(|l| p.fds.len() as i64 * 100 / l),
                };
                if let Some(v) = v {
                    out.num(v)
                }
            }
            "proc.nchilds" => out.num(self.state.children_of(p.pid) as i64),
            "thread.nametid" => out.bytes(format!("{}-{}", p.comm, self.rec.tid).as_bytes()),
            "proc.sid" => out.num(p.sid as i64),
            "proc.sname" => {
                if let Some(s) = self.state.process(p.sid) {
                    out.bytes(s.comm.as_bytes())
                }
            }
            "proc.name" => out.bytes(p.comm.as_bytes()),
            "proc.exe" => out.bytes(p.exe.as_bytes()),
            "proc.exepath" => out.bytes(p.exepath.as_bytes()),
            "proc.args" => out.bytes(p.args_joined().as_bytes()),
            "proc.cmdline" => out.bytes(p.cmdline().as_bytes()),
            "proc.cmdnargs" => out.num(p.args.len() as i64),
            "proc.cmdlenargs" => out.num(p.args.iter().map(|a| a.len()).sum::<usize>() as i64),
            "proc.cwd" => out.bytes(format!("{}/", p.cwd.trim_end_matches('/')).as_bytes()),
            "proc.tty" => out.num(p.tty as i64),
            "proc.loginuid" => out.num(login_uid(p.loginuid)),
            "proc.env" => match arg {
                Some(k) => {
                    if let Some(v) = p
                        .env
                        .iter()
                        .find_map(|e| e.strip_prefix(k).and_then(|r| r.strip_prefix('=')))
                    {
                        out.bytes(v.as_bytes())
                    }
                }
                None => out.bytes(p.env.join(" ").as_bytes()),
            },
            "proc.pname" => parent
                .into_iter()
                .for_each(|q| out.bytes(q.comm.as_bytes())),
            "proc.pexe" => parent.into_iter().for_each(|q| out.bytes(q.exe.as_bytes())),
            "proc.pexepath" => parent
                .into_iter()
                .for_each(|q| out.bytes(q.exepath.as_bytes())),
            "proc.pcmdline" => parent
                .into_iter()
                .for_each(|q| out.bytes(q.cmdline().as_bytes())),
            "proc.aname" => ancestor_of(|q, o| o.bytes(q.comm.as_bytes()), out),
            "proc.apid" => ancestor_of(|q, o| o.num(q.pid as i64), out),
            "proc.aexe" => ancestor_of(|q, o| o.bytes(q.exe.as_bytes()), out),
            "proc.aexepath" => ancestor_of(|q, o| o.bytes(q.exepath.as_bytes()), out),
            "proc.acmdline" => ancestor_of(|q, o| o.bytes(q.cmdline().as_bytes()), out),
            "proc.duration" => out.num((self.time_ns() - p.start_ns).max(0)),
            "proc.start_ts" | "proc.pid.ts" => out.num(p.start_ns),
            "proc.is_exe_from_memfd" => out.bool(p.exe_from_memfd),
            "proc.is_exe_upper_layer" => out.bool(p.exe_upper_layer),
            "proc.is_container_healthcheck"
            | "proc.is_container_liveness_probe"
            | "proc.is_container_readiness_probe" => out.bool(false),
            "proc.exe_ino" => out.num(p.exe_ino as i64),
            "proc.exe_ino.ctime" => out.num(p.exe_ctime),
            "proc.exe_ino.mtime" => out.num(p.exe_mtime),
            "proc.exe_ino.ctime_duration_proc_start" => out.num(p.start_ns - p.exe_ctime),
            "proc.fdopencount" => out.num(p.fds.len() as i64),
            "thread.tid" => out.num(self.rec.tid as i64),
            "thread.vtid" => out.num(if self.rec.tid == self.rec.pid {
                p.vpid
            } else {
                self.rec.tid
            } as i64),
            "thread.ismain" => out.bool(self.rec.tid == self.rec.pid),
            "thread.cap_effective" => out.bytes(cap_names(p.creds.cap_effective).as_bytes()),
            "thread.cap_permitted" => out.bytes(cap_names(p.creds.cap_permitted).as_bytes()),
            "thread.cap_inheritable" => out.bytes(cap_names(p.creds.cap_inheritable).as_bytes()),
            _ => {}
        }
    }

    fn user_field(&self, base: &str, out: &mut dyn ValueSink) {
        let Some(p) = self.proc else { return };
        let db = self.state.users_of(p);
        let uid = p.creds.euid;
        match base {
            "user.uid" => out.num(uid as i64),
            "user.name" => out.bytes(
                db.user(uid)
                    .map_or_else(|| uid.to_string(), |u| u.name.clone())
                    .as_bytes(),
            ),
            "user.homedir" => db
                .user(uid)
                .into_iter()
                .for_each(|u| out.bytes(u.home.as_bytes())),
            "user.shell" => db
                .user(uid)
                .into_iter()
                .for_each(|u| out.bytes(u.shell.as_bytes())),
            "user.loginuid" => out.num(login_uid(p.loginuid)),
            "user.loginname" if p.loginuid != u32::MAX => out.bytes(
                db.user(p.loginuid)
                    .map_or_else(|| p.loginuid.to_string(), |u| u.name.clone())
                    .as_bytes(),
            ),
            "group.gid" => out.num(p.creds.egid as i64),
            "group.name" => {
                let g = p.creds.egid;
                out.bytes(
                    db.group(g)
                        .map_or_else(|| g.to_string(), str::to_string)
                        .as_bytes(),
                )
            }
            _ => {}
        }
    }

    fn fd_field(&self, base: &str, out: &mut dyn ValueSink) {
        if base == "fd.num" {
            if let Some(n) = self.fd_num {
                out.num(n)
            }
            return;
        }
        let Some(fd) = self.fd() else { return };
        let t = fd.tuple.filter(|_| fd.kind.is_ip());
        let v6 = fd.kind == FdKind::Ipv6;
        // client/server: accepted sockets are the server side.
        let (cip, cport, sip, sport) = match t {
            Some(t) if fd.server => (t.raddr, t.rport, t.laddr, t.lport),
            Some(t) => (t.laddr, t.lport, t.raddr, t.rport),
            None => ([0; 16], 0, [0; 16], 0),
        };
        let ip = |out: &mut dyn ValueSink, a: [u8; 16]| out.ip(ip16(&a, v6));
        match base {
            "fd.name" => out.bytes(fd.name.as_bytes()),
            "fd.nameraw" => out.bytes(fd.nameraw.as_deref().unwrap_or(&fd.name).as_bytes()),
            "fd.type" => out.bytes(fd.kind.type_name().as_bytes()),
            "fd.typechar" => out.bytes(fd.kind.typechar().as_bytes()),
            "fd.directory" | "fd.filename"
                if matches!(fd.kind, FdKind::File | FdKind::Directory) =>
            {
                let (dir, file) = match fd.name.rfind('/') {
                    Some(0) => ("/", &fd.name[1..]),
                    Some(i) => (&fd.name[..i], &fd.name[i + 1..]),
                    None => ("", fd.name.as_str()),
                };
                out.bytes(if base == "fd.directory" { dir } else { file }.as_bytes())
            }
            "fd.name_changed" => out.bool(fd.name_changed),
            "fd.containername" | "fd.containerdirectory" => {
                let id = self
                    .proc
                    .map_or("", |p| p.container_id.get(..12).unwrap_or("host"));
                let v = if base == "fd.containername" {
                    fd.name.as_str()
                } else {
                    fd.name
                        .rsplit_once('/')
                        .map_or("", |(d, _)| if d.is_empty() { "/" } else { d })
                };
                out.bytes(format!("{id}:{v}").as_bytes())
            }
            "fd.connected" if matches!(fd.kind, FdKind::Ipv4 | FdKind::Ipv6 | FdKind::Unix) => out
                .bool(
                    t.is_some_and(|t| t.rport != 0)
                        || fd.kind == FdKind::Unix && !fd.name.is_empty(),
                ),
            "fd.sockfamily" => match fd.kind {
                FdKind::Ipv4 | FdKind::Ipv6 => out.bytes(b"ip"),
                FdKind::Unix => out.bytes(b"unix"),
                _ => {}
            },
            "fd.is_server" if t.is_some() => out.bool(fd.server),
            "fd.l4proto" => {
                if let Some(t) = fd.tuple {
                    out.bytes(l4proto(&t).as_bytes())
                }
            }
            _ if t.is_none() => {}
            "fd.cip" => ip(out, cip),
            "fd.sip" => ip(out, sip),
            "fd.lip" => ip(out, t.map_or([0; 16], |t| t.laddr)),
            "fd.rip" | "fd.ip" => ip(out, t.map_or([0; 16], |t| t.raddr)),
            "fd.cnet" => ip(out, cip),
            "fd.snet" => ip(out, sip),
            "fd.lnet" => ip(out, t.map_or([0; 16], |t| t.laddr)),
            "fd.rnet" | "fd.net" => ip(out, t.map_or([0; 16], |t| t.raddr)),
            "fd.cport" => out.num(cport as i64),
            "fd.sport" => out.num(sport as i64),
            "fd.lport" => out.num(t.map_or(0, |t| t.lport) as i64),
            "fd.rport" | "fd.port" => out.num(t.map_or(0, |t| t.rport) as i64),
            "fd.sip.name" | "fd.cip.name" | "fd.rip.name" | "fd.lip.name" => {}
            _ => {}
        }
    }

    fn container_field(&self, base: &str, arg: Option<&str>, out: &mut dyn ValueSink) {
        let Some(p) = self.proc else { return };
        if p.container_id.is_empty() {
            match base {
                "container.id" | "container.name" | "container.full_id" => out.bytes(b"host"),
                "container.privileged"
                | "container.host_network"
                | "container.host_pid"
                | "container.host_ipc" => out.bool(false),
                "container.type" => out.bytes(b"host"),
                _ => {}
            }
            return;
        }
        let info = self.state.container(&p.container_id);
        let s = |out: &mut dyn ValueSink, v: Option<&str>| {
            if let Some(v) = v {
                out.bytes(v.as_bytes())
            }
        };
        match base {
            "container.id" => out.bytes(&p.container_id.as_bytes()[..12]),
            "container.full_id" => out.bytes(p.container_id.as_bytes()),
            "container.name" => s(out, info.and_then(|i| i.name.as_deref())),
            "container.image" => s(out, info.and_then(|i| i.image.as_deref())),
            "container.image.repository" => s(out, info.and_then(|i| i.repository())),
            "container.image.tag" => s(out, info.and_then(|i| i.tag())),
            "container.image.id" => s(
                out,
                info.and_then(|i| i.image_id.as_deref())
                    .map(|i| &i[..i.len().min(12)]),
            ),
            "container.type" => s(out, info.and_then(|i| i.runtime.as_deref())),
            "container.image.digest" => s(out, info.and_then(|i| i.image_digest.as_deref())),
            "container.ip" => s(out, info.and_then(|i| i.ip.as_deref())),
            "container.duration" => {
                if let Some(t) = info.and_then(|i| i.start_ns) {
                    out.num((self.time_ns() - t).max(0))
                }
            }
            "container.host_network" | "container.host_pid" | "container.host_ipc" => {
                let v = info.and_then(|i| match base {
                    "container.host_network" => i.host_network,
                    "container.host_pid" => i.host_pid,
                    _ => i.host_ipc,
                });
                if let Some(b) = v {
                    out.bool(b)
                }
            }
            "container.label" => s(out, info.zip(arg).and_then(|(i, k)| i.label(k))),
            "container.labels" => {
                if let Some(i) = info {
                    let l: Vec<String> = i.labels.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                    out.bytes(l.join(", ").as_bytes())
                }
            }
            // Kubernetes metadata from the labels the kubelet puts on pod containers.
            "k8s.pod.name" => s(out, info.and_then(|i| i.label("io.kubernetes.pod.name"))),
            "k8s.ns.name" => s(
                out,
                info.and_then(|i| i.label("io.kubernetes.pod.namespace")),
            ),
            "k8s.pod.uid" | "k8s.pod.id" => {
                s(out, info.and_then(|i| i.label("io.kubernetes.pod.uid")))
            }
            "k8s.pod.label" => s(out, info.zip(arg).and_then(|(i, k)| i.label(k))),
            "container.privileged" => {
                if let Some(b) = info.and_then(|i| i.privileged) {
                    out.bool(b)
                }
            }
            "container.start_ts" => {
                if let Some(t) = info.and_then(|i| i.start_ns) {
                    out.num(t)
                }
            }
            "container.mounts" => {
                if let Some(i) = info {
                    let m: Vec<String> = i
                        .mounts
                        .iter()
                        .map(|(src, dst, mode, rw)| format!("{src}:{dst}:{mode}:{rw}:private"))
                        .collect();
                    out.bytes(m.join(",").as_bytes())
                }
            }
            "container.mount"
            | "container.mount.source"
            | "container.mount.dest"
            | "container.mount.mode"
            | "container.mount.rdwr"
            | "container.mount.propagation" => {
                // A mount by index, or by its source path (its destination
                // for `.source`); a trailing `*` matches a prefix.
                let (Some(i), Some(key)) = (info, arg) else {
                    return;
                };
                let by_dest = base == "container.mount.source";
                let hit = match key.parse::<usize>() {
                    Ok(n) => i.mounts.get(n),
                    Err(_) => i.mounts.iter().find(|(src, dst, _, _)| {
                        let p = if by_dest { dst } else { src };
                        match key.strip_suffix('*') {
                            Some(prefix) => p.starts_with(prefix),
                            None => p == key,
                        }
                    }),
                };
                let Some((src, dst, mode, rw)) = hit else {
                    return;
                };
                let v = match base {
                    "container.mount" => format!("{src}:{dst}:{mode}:{rw}:private"),
                    "container.mount.source" => src.clone(),
                    "container.mount.dest" => dst.clone(),
                    "container.mount.mode" => mode.clone(),
                    "container.mount.rdwr" => rw.to_string(),
                    _ => "private".to_string(),
                };
                out.bytes(v.as_bytes())
            }
            _ => {}
        }
    }

    fn evt_field(&self, base: &str, arg: Option<&str>, out: &mut dyn ValueSink) {
        let r = self.rec;
        let open_flags = || match self.type_name {
            "open" => Some(r.args[1]),
            "openat" | "openat2" => Some(r.args[2]),
            "creat" => Some(0o1101),
            _ => None,
        };
        match base {
            "evt.type" => out.bytes(self.type_name.as_bytes()),
            "evt.num" => out.num(self.num as i64),
            "evt.dir" => out.bytes(b"<"),
            "evt.source" => out.bytes(b"syscall"),
            "evt.hostname" => out.bytes(self.hostname.as_bytes()),
            "evt.rawtime" => out.num(self.time_ns()),
            "evt.rawtime.s" => out.num(self.time_ns() / 1_000_000_000),
            "evt.rawtime.ns" => out.num(self.time_ns() % 1_000_000_000),
            "evt.time" => {
                out.bytes(crate::outputs::format::local_time_of_day(self.time_ns()).as_bytes())
            }
            "evt.time.s" => out
                .bytes(&crate::outputs::format::local_time_of_day(self.time_ns()).as_bytes()[..8]),
            "evt.datetime" | "evt.datetime.s" => {
                let iso = crate::outputs::format::iso8601(self.time_ns());
                let dt = iso.trim_end_matches('Z').replacen('T', " ", 1);
                out.bytes(
                    if base == "evt.datetime" {
                        &dt
                    } else {
                        &dt[..19]
                    }
                    .as_bytes(),
                )
            }
            "evt.type.is" | "evt.type.is." => out.bool(arg == Some(self.type_name)),
            "syscall.type" => out.bytes(self.type_name.as_bytes()),
            "evt.category" => out.bytes(category(self.type_name).as_bytes()),
            "evt.is_io" | "evt.is_io_read" | "evt.is_io_write" | "evt.is_wait"
            | "evt.is_syslog" => out.bool(false),
            "evt.count" | "util.cnt" => out.num(1),
            "evt.count.error" => out.num(i64::from(r.ret < 0)),
            "evt.abspath" | "evt.abspath.src" | "evt.abspath.dst" => {
                let which = match base {
                    "evt.abspath" => "fs.path.name",
                    "evt.abspath.src" => "fs.path.source",
                    _ => "fs.path.target",
                };
                self.fs_path_field(which, out)
            }
            "evt.time.iso8601" => {
                out.bytes(crate::outputs::format::iso8601(self.time_ns()).as_bytes())
            }
            "evt.res" => out.bytes(
                if r.ret >= 0 {
                    "SUCCESS".to_string()
                } else {
                    errno_name(-r.ret)
                }
                .as_bytes(),
            ),
            "evt.rawres" => out.num(r.ret),
            "evt.failed" => out.bool(r.ret < 0),
            "evt.is_open_read" => out.bool(open_flags().is_some_and(|f| f & 3 != 1)),
            "evt.is_open_write" => out.bool(open_flags().is_some_and(|f| f & 3 != 0)),
            "evt.is_open_exec" => out.bool(false),
            "evt.is_open_create" => out.bool(open_flags().is_some_and(|f| f & 0o100 != 0)),
            "evt.args" => out.bytes(self.args_text().as_bytes()),
            "evt.arg." => self.arg(arg.unwrap_or(""), false, out),
            "evt.rawarg." => self.arg(arg.unwrap_or(""), true, out),
            "evt.arg" => {
                if let Some(a) = arg {
                    self.arg(a, false, out)
                }
            }
            "evt.cpu" => {}
            "evt.pluginname" | "evt.plugininfo" | "evt.asynctype" => {}
            "evt.is_async" => out.bool(false),
            _ => {}
        }
    }

    fn fs_path_field(&self, base: &str, out: &mut dyn ValueSink) {
        type PathArg = Option<(u8, i64)>;
        let r = self.rec;
        let (name_idx, source_idx, target_idx): (PathArg, PathArg, PathArg) = match self.type_name {
            "open" | "creat" | "mkdir" | "rmdir" | "unlink" | "chmod" => {
                (Some((0, -100)), None, None)
            }
            "openat" | "openat2" | "mkdirat" | "unlinkat" | "fchmodat" => {
                (Some((1, r.args[0] as i32 as i64)), None, None)
            }
            "symlink" => (None, Some((0, i64::MIN)), Some((1, -100))),
            "symlinkat" => (
                None,
                Some((0, i64::MIN)),
                Some((2, r.args[1] as i32 as i64)),
            ),
            "link" | "rename" => (None, Some((0, -100)), Some((1, -100))),
            "linkat" | "renameat" | "renameat2" => (
                None,
                Some((1, r.args[0] as i32 as i64)),
                Some((3, r.args[2] as i32 as i64)),
            ),
            _ => (None, None, None),
        };
        let (which, raw) = match base {
            "fs.path.name" => (name_idx, false),
            "fs.path.nameraw" => (name_idx, true),
            "fs.path.source" => (source_idx, false),
            "fs.path.sourceraw" => (source_idx, true),
            "fs.path.target" => (target_idx, false),
            "fs.path.targetraw" => (target_idx, true),
            _ => (None, false),
        };
        if let Some((idx, dirfd)) = which
            && let Some(p) = self.user_str(idx)
        {
            let v = if raw || dirfd == i64::MIN {
                p
            } else {
                self.state.resolve(r.pid, dirfd, &p)
            };
            out.bytes(v.as_bytes());
        }
    }
}

impl Event for SyscallEvent<'_> {
    fn evt_type(&self) -> Option<&str> {
        Some(self.type_name)
    }

    fn extract(&self, field: &ResolvedField, out: &mut dyn ValueSink) {
        let base = self.names.get(field.id);
        let arg = field.arg.as_deref();
        match base.split('.').next().unwrap_or("") {
            "evt" | "syscall" | "util" => self.evt_field(base, arg, out),
            "proc" | "thread" => self.proc_field(base, arg, out),
            "user" | "group" => self.user_field(base, out),
            "fd" => self.fd_field(base, out),
            "container" | "k8s" => self.container_field(base, arg, out),
            "fs" => self.fs_path_field(base, out),
            _ => {}
        }
    }
}

impl FdKind {
    fn typechar_display(self) -> &'static str {
        match self {
            FdKind::Ipv4 => "<4t>",
            FdKind::Ipv6 => "<6t>",
            FdKind::Unix => "<u>",
            FdKind::Pipe => "<p>",
            FdKind::Directory => "<d>",
            _ => "<f>",
        }
    }
}

/// Whether a command name is a shell (for `proc.loginshellid`).
fn is_shell(comm: &str) -> bool {
    matches!(
        comm,
        "sh" | "bash" | "dash" | "zsh" | "ksh" | "csh" | "tcsh" | "fish" | "ash" | "mksh"
    )
}

/// `evt.category` of a syscall event (libs' categories, coarse).
fn category(t: &str) -> &'static str {
    match t {
        "open" | "openat" | "openat2" | "creat" | "close" | "close_range" | "dup" | "dup2"
        | "dup3" | "fcntl" | "link" | "linkat" | "symlink" | "symlinkat" | "unlink"
        | "unlinkat" | "rename" | "renameat" | "renameat2" | "mkdir" | "mkdirat" | "rmdir"
        | "chmod" | "fchmod" | "fchmodat" | "chown" | "lchown" | "fchownat"
        | "open_by_handle_at" | "memfd_create" | "pipe" | "pipe2" | "eventfd" | "eventfd2"
        | "inotify_init" | "inotify_init1" | "signalfd" | "signalfd4" | "timerfd_create"
        | "userfaultfd" | "epoll_create" | "epoll_create1" | "mount" | "umount2" | "chroot"
        | "chdir" | "fchdir" => "file",
        "socket" | "socketpair" | "connect" | "accept" | "accept4" | "bind" | "listen"
        | "sendto" | "recvfrom" | "sendmsg" | "recvmsg" | "sendmmsg" | "recvmmsg" | "shutdown" => {
            "net"
        }
        "execve" | "execveat" | "clone" | "clone3" | "fork" | "vfork" | "procexit" | "prctl"
        | "setsid" | "setuid" | "setgid" | "setreuid" | "setregid" | "setresuid" | "setresgid"
        | "capset" | "ptrace" | "setns" | "unshare" | "pidfd_open" | "pidfd_getfd" => "process",
        "kill" => "signal",
        "init_module" | "finit_module" | "bpf" | "io_uring_setup" => "system",
        _ => "other",
    }
}

fn login_uid(l: u32) -> i64 {
    if l == u32::MAX { -1 } else { l as i64 }
}

/// IPv4 addresses become v4-mapped IPv6, as the filter stores them.
fn ip16(a: &[u8; 16], v6: bool) -> [u8; 16] {
    if v6 {
        return *a;
    }
    let mut m = [0u8; 16];
    m[10] = 0xff;
    m[11] = 0xff;
    m[12..].copy_from_slice(&a[..4]);
    m
}

/// `ip:port` as Falco prints it (IPv6 without brackets, as libs does).
pub fn fmt_addr(a: &[u8; 16], v6: bool, port: u16) -> String {
    if v6 {
        let ip = std::net::Ipv6Addr::from(*a);
        match ip.to_ipv4_mapped() {
            Some(v4) => format!("{v4}:{port}"),
            None => format!("{ip}:{port}"),
        }
    } else {
        format!("{}.{}.{}.{}:{port}", a[0], a[1], a[2], a[3])
    }
}

fn l4proto(t: &SockTuple) -> &'static str {
    match (t.protocol, t.sock_type) {
        (6, _) | (_, 1) => "tcp",
        (17, _) | (_, 2) => "udp",
        (1, _) | (58, _) => "icmp",
        _ => "raw",
    }
}

fn socket_family(f: u16) -> &'static str {
    match f {
        1 => "AF_UNIX",
        2 => "AF_INET",
        10 => "AF_INET6",
        16 => "AF_NETLINK",
        17 => "AF_PACKET",
        _ => "AF_UNSPEC",
    }
}

fn sockaddr_text(b: &[u8]) -> Option<String> {
    let fam = u16::from_le_bytes([*b.first()?, *b.get(1)?]);
    match fam {
        2 if b.len() >= 8 => Some(format!(
            "{}.{}.{}.{}:{}",
            b[4],
            b[5],
            b[6],
            b[7],
            u16::from_be_bytes([b[2], b[3]])
        )),
        10 if b.len() >= 24 => {
            let a: [u8; 16] = b[8..24].try_into().ok()?;
            Some(fmt_addr(&a, true, u16::from_be_bytes([b[2], b[3]])))
        }
        1 => Some(
            String::from_utf8_lossy(b[2..].split(|&c| c == 0).next().unwrap_or(&[])).into_owned(),
        ),
        _ => None,
    }
}

/// Open flags as libs renders them (`O_WRONLY|O_CREAT|O_TRUNC`).
pub fn open_flags(f: u64) -> String {
    let mut v: Vec<&str> = vec![match f & 3 {
        0 => "O_RDONLY",
        1 => "O_WRONLY",
        _ => "O_RDWR",
    }];
    for (bit, name) in [
        (0o100, "O_CREAT"),
        (0o200, "O_EXCL"),
        (0o400, "O_NOCTTY"),
        (0o1000, "O_TRUNC"),
        (0o2000, "O_APPEND"),
        (0o4000, "O_NONBLOCK"),
        (0o10000, "O_DSYNC"),
        (0o40000, "O_DIRECT"),
        (0o200000, "O_DIRECTORY"),
        (0o400000, "O_NOFOLLOW"),
        (0o1000000, "O_NOATIME"),
        (0o2000000, "O_CLOEXEC"),
        (0o10000000, "O_PATH"),
        (0o20000000, "O_TMPFILE"),
    ] {
        if f & bit != 0 {
            v.push(name);
        }
    }
    v.join("|")
}

fn ptrace_request(r: u64) -> &'static str {
    match r {
        0 => "PTRACE_TRACEME",
        1 => "PTRACE_PEEKTEXT",
        2 => "PTRACE_PEEKDATA",
        3 => "PTRACE_PEEKUSR",
        4 => "PTRACE_POKETEXT",
        5 => "PTRACE_POKEDATA",
        6 => "PTRACE_POKEUSR",
        7 => "PTRACE_CONT",
        8 => "PTRACE_KILL",
        9 => "PTRACE_SINGLESTEP",
        12 => "PTRACE_GETREGS",
        13 => "PTRACE_SETREGS",
        16 => "PTRACE_ATTACH",
        17 => "PTRACE_DETACH",
        24 => "PTRACE_SYSCALL",
        0x4200 => "PTRACE_SETOPTIONS",
        0x4206 => "PTRACE_SEIZE",
        _ => "PTRACE_UNKNOWN",
    }
}

const CAPS: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// A capability mask as space-separated names.
pub fn cap_names(mask: u64) -> String {
    CAPS.iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(" ")
}

/// An errno's symbolic name (`ENOENT`), or the number.
pub fn errno_name(e: i64) -> String {
    const NAMES: [&str; 41] = [
        "",
        "EPERM",
        "ENOENT",
        "ESRCH",
        "EINTR",
        "EIO",
        "ENXIO",
        "E2BIG",
        "ENOEXEC",
        "EBADF",
        "ECHILD",
        "EAGAIN",
        "ENOMEM",
        "EACCES",
        "EFAULT",
        "ENOTBLK",
        "EBUSY",
        "EEXIST",
        "EXDEV",
        "ENODEV",
        "ENOTDIR",
        "EISDIR",
        "EINVAL",
        "ENFILE",
        "EMFILE",
        "ENOTTY",
        "ETXTBSY",
        "EFBIG",
        "ENOSPC",
        "ESPIPE",
        "EROFS",
        "EMLINK",
        "EPIPE",
        "EDOM",
        "ERANGE",
        "EDEADLK",
        "ENAMETOOLONG",
        "ENOLCK",
        "ENOSYS",
        "ENOTEMPTY",
        "ELOOP",
    ];
    match e {
        1..=40 => NAMES[e as usize].to_string(),
        111 => "ECONNREFUSED".into(),
        115 => "EINPROGRESS".into(),
        110 => "ETIMEDOUT".into(),
        98 => "EADDRINUSE".into(),
        _ => format!("E{e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_flags_caps_and_addresses() {
        assert_eq!(open_flags(0o1101), "O_WRONLY|O_CREAT|O_TRUNC");
        assert_eq!(open_flags(0o2000000), "O_RDONLY|O_CLOEXEC");
        assert_eq!(cap_names(1 | (1 << 21)), "CAP_CHOWN CAP_SYS_ADMIN");
        assert_eq!(
            fmt_addr(
                &[127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                false,
                80
            ),
            "127.0.0.1:80"
        );
        assert_eq!(errno_name(2), "ENOENT");
        assert_eq!(
            sockaddr_text(&[2, 0, 0x1f, 0x90, 10, 0, 0, 1]).as_deref(),
            Some("10.0.0.1:8080")
        );
    }
}
