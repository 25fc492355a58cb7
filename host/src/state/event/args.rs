//! Syscall arguments: `evt.arg.NAME` / `evt.rawarg.NAME` by syscall family,
//! `evt.args`, and the paths of `fs.path.*`.

use super::SyscallEvent;
use super::render::{cap_names, open_flags, ptrace_request, sockaddr_text, socket_family};
use crate::capture::record::{ParamKind, trim_nul};
use crate::filter::value::ValueSink;

/// A sink that passes numbers and booleans on as their text.
struct AsText<'a>(&'a mut dyn ValueSink);

impl ValueSink for AsText<'_> {
    fn bytes(&mut self, b: &[u8]) {
        self.0.bytes(b)
    }
    fn num(&mut self, n: i64) {
        self.0.bytes(n.to_string().as_bytes())
    }
    fn bool(&mut self, b: bool) {
        self.0.bytes(if b { b"true" } else { b"false" })
    }
    fn ip(&mut self, a: [u8; 16]) {
        self.0.ip(a)
    }
    fn double(&mut self, d: f64) {
        self.0.bytes(d.to_string().as_bytes())
    }
    fn begin_list(&mut self) {
        self.0.begin_list()
    }
    fn end_list(&mut self) {
        self.0.end_list()
    }
}

/// `AT_FDCWD`: a path relative to the working directory.
const CWD: i64 = -100;

impl SyscallEvent<'_> {
    /// `evt.arg.NAME` / `evt.rawarg.NAME` (`raw`: numbers stay numbers).
    /// The families are tried in order; the first that knows the name wins.
    pub(super) fn arg(&self, name: &str, raw: bool, out: &mut dyn ValueSink) {
        // `evt.arg.*` is text (as Falco renders it): a number is its digits,
        // so `evt.arg.uid = 0` compares as it does in Falco
        let mut text = AsText(out);
        let out: &mut dyn ValueSink = if raw { text.0 } else { &mut text };
        let _ = self.open_arg(name, raw, out)
            || self.exec_arg(name, raw, out)
            || self.io_arg(name, out)
            || self.socket_arg(name, raw, out)
            || self.file_arg(name, raw, out)
            || self.process_arg(name, raw, out)
            || self.system_arg(name, raw, out);
    }

    /// The first bytes an I/O call moved (`evt.buffer`, `evt.arg.data`).
    pub(super) fn data(&self) -> Option<&[u8]> {
        self.rec.param(ParamKind::Data, Some(1))
    }

    /// The arguments of read, write, pread and pwrite (sendto and
    /// recvfrom's fd and size are sockets' arguments; their data is here).
    fn io_arg(&self, name: &str, out: &mut dyn ValueSink) -> bool {
        let io = crate::capture::syscalls::IO.contains(&self.type_name);
        let plain = matches!(self.type_name, "read" | "write" | "pread" | "pwrite");
        match name {
            "data" if crate::capture::syscalls::data_direction(self.type_name).is_some() => {
                if let Some(d) = self.data() {
                    out.bytes(d)
                }
            }
            "fd" if io => out.num(self.int(0)),
            "size" if plain => out.num(self.a(2) as i64),
            "pos" if matches!(self.type_name, "pread" | "pwrite") => out.num(self.a(3) as i64),
            _ => return false,
        }
        true
    }

    /// Argument `i` as a number.
    fn a(&self, i: usize) -> u64 {
        self.rec.args[i]
    }

    /// Argument `i` as a C int (fds, dirfds and pids).
    fn int(&self, i: usize) -> i64 {
        self.rec.args[i] as i32 as i64
    }

    /// The path read from argument `idx`, resolved against `dirfd` unless raw.
    fn path_arg(&self, out: &mut dyn ValueSink, idx: u8, dirfd: Option<i64>, raw: bool) {
        if let Some(p) = self.user_str(idx) {
            let p = match dirfd {
                Some(d) if !raw => self.state.resolve(self.rec.pid, d, &p),
                _ => p,
            };
            out.bytes(p.as_bytes());
        }
    }

    /// The result, and the open family's path, flags and mode.
    fn open_arg(&self, name: &str, raw: bool, out: &mut dyn ValueSink) -> bool {
        let r = self.rec;
        let t = self.type_name;
        match (t, name) {
            (_, "res")
            | (
                "open" | "openat" | "openat2" | "creat" | "accept" | "accept4" | "socket"
                | "memfd_create",
                "fd",
            ) if name == "res" || r.ret >= 0 || raw => out.num(r.ret),
            ("open" | "creat", "name") => self.path_arg(out, 0, Some(CWD), raw),
            ("openat" | "openat2", "name") => self.path_arg(out, 1, Some(self.int(0)), raw),
            ("openat" | "openat2", "dirfd") => out.num(self.int(0)),
            ("open", "flags") | ("openat" | "openat2", "flags") => {
                let f = self.open_flags().unwrap_or(0);
                if raw {
                    out.num(f as i64)
                } else {
                    out.bytes(open_flags(f).as_bytes())
                }
            }
            ("open", "mode") | ("creat", "mode") => {
                out.num(if t == "open" { self.a(2) } else { self.a(1) } as i64)
            }
            ("openat", "mode") => out.num(self.a(3) as i64),
            _ => return false,
        }
        true
    }

    /// `execve`/`execveat`: the program, its command line and exe flags.
    fn exec_arg(&self, name: &str, raw: bool, out: &mut dyn ValueSink) -> bool {
        if !matches!(self.type_name, "execve" | "execveat") {
            return false;
        }
        let r = self.rec;
        match name {
            "filename" => {
                if let Some(f) = r
                    .str_param(ParamKind::Filename, None)
                    .or_else(|| r.str_param(ParamKind::UserStr, None))
                {
                    out.bytes(f)
                }
            }
            "exe" => self.with_proc(out, |p, o| o.bytes(p.exe.as_bytes())),
            "args" => self.with_proc(out, |p, o| o.bytes(p.args_joined().as_bytes())),
            "cwd" => self.with_proc(out, |p, o| o.bytes(p.cwd.as_bytes())),
            "flags" => {
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
                    out.num(0)
                } else {
                    out.bytes(f.join("|").as_bytes())
                }
            }
            "pid" => out.num(r.pid as i64),
            "tid" => out.num(r.tid as i64),
            _ => return false,
        }
        true
    }

    /// Sockets: address, fd, connection and `socket()` parameters.
    fn socket_arg(&self, name: &str, raw: bool, out: &mut dyn ValueSink) -> bool {
        match (self.type_name, name) {
            ("connect", "addr") | ("bind", "addr") => {
                if let Some(s) = self
                    .rec
                    .param(ParamKind::Sockaddr, Some(1))
                    .and_then(sockaddr_text)
                {
                    out.bytes(s.as_bytes())
                }
            }
            (
                "connect" | "bind" | "listen" | "close" | "sendto" | "recvfrom" | "sendmsg"
                | "recvmsg" | "fchdir" | "fchmod" | "setns" | "finit_module" | "shutdown",
                "fd",
            ) => out.num(self.int(0)),
            (
                "connect" | "accept" | "accept4" | "sendto" | "recvfrom" | "sendmsg" | "recvmsg",
                "tuple",
            ) => {
                if let Some(fd) = self.fd() {
                    out.bytes(fd.name.as_bytes())
                }
            }
            ("socket" | "socketpair", "domain") => {
                if raw {
                    out.num(self.a(0) as i64)
                } else {
                    out.bytes(socket_family(self.a(0) as u16).as_bytes())
                }
            }
            ("socket" | "socketpair", "type") => out.num(self.a(1) as i64),
            ("socket" | "socketpair", "proto") => out.num(self.a(2) as i64),
            _ => return false,
        }
        true
    }

    /// Files: dup, links, renames, directories and modes (paths resolved
    /// against their dirfd).
    fn file_arg(&self, name: &str, raw: bool, out: &mut dyn ValueSink) -> bool {
        match (self.type_name, name) {
            ("dup" | "dup2" | "dup3", "oldfd") => out.num(self.int(0)),
            ("dup2" | "dup3", "newfd") => out.num(self.int(1)),
            ("dup3", "flags") => out.num(self.a(2) as i64),
            ("symlink", "target") | ("symlinkat", "target") => self.path_arg(out, 0, None, raw),
            ("symlink", "linkpath") => self.path_arg(out, 1, Some(CWD), raw),
            ("symlinkat", "linkpath") => self.path_arg(out, 2, Some(self.int(1)), raw),
            ("symlinkat", "linkdirfd") => out.num(self.int(1)),
            ("link" | "rename", "oldpath") => self.path_arg(out, 0, Some(CWD), raw),
            ("link" | "rename", "newpath") => self.path_arg(out, 1, Some(CWD), raw),
            ("linkat" | "renameat" | "renameat2", "oldpath") => {
                self.path_arg(out, 1, Some(self.int(0)), raw)
            }
            ("linkat" | "renameat" | "renameat2", "newpath") => {
                self.path_arg(out, 3, Some(self.int(2)), raw)
            }
            ("linkat", "olddir") | ("renameat" | "renameat2", "olddirfd") => out.num(self.int(0)),
            ("linkat", "newdir") | ("renameat" | "renameat2", "newdirfd") => out.num(self.int(2)),
            ("linkat", "flags") | ("renameat2", "flags") => out.num(self.a(4) as i64),
            ("unlink" | "rmdir" | "mkdir" | "chdir" | "chroot", "path") => {
                self.path_arg(out, 0, Some(CWD), raw)
            }
            ("unlinkat", "name") | ("mkdirat", "path") => {
                self.path_arg(out, 1, Some(self.int(0)), raw)
            }
            ("unlinkat" | "mkdirat", "dirfd") => out.num(self.int(0)),
            ("unlinkat", "flags") => out.num(self.a(2) as i64),
            ("mkdir", "mode") => out.num(self.a(1) as i64),
            ("mkdirat", "mode") => out.num(self.a(2) as i64),
            ("chmod", "filename") => self.path_arg(out, 0, Some(CWD), raw),
            ("truncate", "path") => self.path_arg(out, 0, Some(CWD), raw),
            ("ftruncate", "fd") => out.num(self.int(0)),
            ("truncate" | "ftruncate", "length") => out.num(self.a(1) as i64),
            ("chmod", "mode") | ("fchmod", "mode") => out.num(self.a(1) as i64),
            ("fchmodat", "filename") => self.path_arg(out, 1, Some(self.int(0)), raw),
            ("fchmodat", "dirfd") => out.num(self.int(0)),
            ("fchmodat", "mode") => out.num(self.a(2) as i64),
            _ => return false,
        }
        true
    }

    /// Processes: ptrace, credentials, namespaces, prctl, signals and
    /// capabilities.
    fn process_arg(&self, name: &str, raw: bool, out: &mut dyn ValueSink) -> bool {
        match (self.type_name, name) {
            ("ptrace", "request") => {
                if raw {
                    out.num(self.a(0) as i64)
                } else {
                    out.bytes(ptrace_request(self.a(0)).as_bytes())
                }
            }
            ("ptrace", "pid") => out.num(self.int(1)),
            ("ptrace", "addr") => out.num(self.a(2) as i64),
            ("ptrace", "data") => out.num(self.a(3) as i64),
            ("setuid", "uid") | ("setgid", "gid") => out.num(self.a(0) as u32 as i64),
            ("setns", "nstype") => out.num(self.a(1) as i64),
            ("unshare", "flags") => out.num(self.a(0) as i64),
            ("prctl", "option") => out.num(self.a(0) as i64),
            ("prctl", "arg2_str") => self.path_arg(out, 1, None, raw),
            ("prctl", "arg2_int") => out.num(self.a(1) as i64),
            ("kill", "pid") => out.num(self.int(0)),
            ("kill", "sig") => out.num(self.a(1) as i64),
            ("capset", "cap_effective") => self.with_proc(out, |p, o| {
                o.bytes(cap_names(p.creds.cap_effective).as_bytes())
            }),
            _ => return false,
        }
        true
    }

    /// The system: modules, memfd, bpf, mounts, fcntl, userfaultfd and
    /// socket sizes.
    fn system_arg(&self, name: &str, raw: bool, out: &mut dyn ValueSink) -> bool {
        match (self.type_name, name) {
            ("init_module", "length") => out.num(self.a(1) as i64),
            ("init_module", "uargs") => self.path_arg(out, 2, None, raw),
            ("finit_module", "flags") => out.num(self.a(2) as i64),
            ("memfd_create", "name") => self.path_arg(out, 0, None, raw),
            ("memfd_create", "flags") => out.num(self.a(1) as i64),
            ("bpf", "cmd") => out.num(self.a(0) as i64),
            ("mount", "dev") => self.path_arg(out, 0, None, raw),
            ("mount", "dir") => self.path_arg(out, 1, Some(CWD), raw),
            ("mount", "type") => self.path_arg(out, 2, None, raw),
            ("mount", "flags") => out.num(self.a(3) as i64),
            ("umount2", "name") => self.path_arg(out, 0, Some(CWD), raw),
            ("umount2", "flags") => out.num(self.a(1) as i64),
            ("fcntl", "cmd") => out.num(self.a(1) as i64),
            ("userfaultfd", "flags") => out.num(self.a(0) as i64),
            ("listen", "backlog") => out.num(self.a(1) as i64),
            ("sendto" | "recvfrom", "size") => out.num(self.a(2) as i64),
            _ => return false,
        }
        true
    }

    /// `evt.args`: `name=value` pairs for the arguments we decode.
    pub(super) fn args_text(&self) -> String {
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
                    String::from_utf8_lossy(trim_nul(d))
                ));
            }
        }
        s
    }

    /// `fs.path.*`: the paths a file syscall names (resolved unless raw).
    pub(super) fn fs_path_field(&self, base: &str, out: &mut dyn ValueSink) -> bool {
        let (which, raw) = match base {
            "fs.path.name" => (self.path_args().0, false),
            "fs.path.nameraw" => (self.path_args().0, true),
            "fs.path.source" => (self.path_args().1, false),
            "fs.path.sourceraw" => (self.path_args().1, true),
            "fs.path.target" => (self.path_args().2, false),
            "fs.path.targetraw" => (self.path_args().2, true),
            _ => return false,
        };
        if let Some((idx, dirfd)) = which
            && let Some(p) = self.user_str(idx)
        {
            let v = if raw || dirfd == i64::MIN {
                p
            } else {
                self.state.resolve(self.rec.pid, dirfd, &p)
            };
            out.bytes(v.as_bytes());
        }
        true
    }

    /// The (argument, dirfd) of the event's name, source and target paths;
    /// dirfd `i64::MIN`: never resolved.
    fn path_args(&self) -> (PathArg, PathArg, PathArg) {
        match self.type_name {
            "open" | "creat" | "mkdir" | "rmdir" | "unlink" | "chmod" | "truncate" => {
                (Some((0, CWD)), None, None)
            }
            "openat" | "openat2" | "mkdirat" | "unlinkat" | "fchmodat" => {
                (Some((1, self.int(0))), None, None)
            }
            "symlink" => (None, Some((0, i64::MIN)), Some((1, CWD))),
            "symlinkat" => (None, Some((0, i64::MIN)), Some((2, self.int(1)))),
            "link" | "rename" => (None, Some((0, CWD)), Some((1, CWD))),
            "linkat" | "renameat" | "renameat2" => {
                (None, Some((1, self.int(0))), Some((3, self.int(2))))
            }
            _ => (None, None, None),
        }
    }
}

/// A path argument: its index and the dirfd it is relative to.
type PathArg = Option<(u8, i64)>;
