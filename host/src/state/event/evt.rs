//! `evt.*`, `syscall.*` and `util.*` fields: the event's type, number,
//! times, result and arguments.

use super::SyscallEvent;
use super::render::errno_name;
use crate::capture::syscalls::{Io, data_direction as io_direction};
use crate::filter::value::ValueSink;
use crate::time::{iso8601, local_time_of_day};

impl SyscallEvent<'_> {
    /// `evt.*`, `syscall.*` and `util.*`; false for an unknown name.
    pub(super) fn evt_field(&self, base: &str, arg: Option<&str>, out: &mut dyn ValueSink) -> bool {
        if self.time_field(base, out) {
            return true;
        }
        let r = self.rec;
        match base {
            "evt.type" => out.bytes(self.type_name.as_bytes()),
            "evt.num" => out.num(self.num as i64),
            "evt.dir" => out.bytes(b"<"),
            "evt.source" => out.bytes(b"syscall"),
            "evt.hostname" => out.bytes(self.hostname.as_bytes()),
            "evt.type.is" | "evt.type.is." => out.bool(arg == Some(self.type_name)),
            "syscall.type" => out.bytes(self.type_name.as_bytes()),
            "evt.category" => out.bytes(category(self.type_name).as_bytes()),
            "evt.is_io" => out.bool(io_direction(self.type_name).is_some()),
            "evt.is_io_read" => out.bool(io_direction(self.type_name) == Some(Io::Read)),
            "evt.is_io_write" => out.bool(io_direction(self.type_name) == Some(Io::Write)),
            "evt.is_wait" | "evt.is_syslog" => out.bool(false),
            // the first bytes moved (the snapshot length), and how many
            "evt.buffer" => {
                if let Some(d) = self.data() {
                    out.bytes(d)
                }
            }
            "evt.buflen" => {
                if io_direction(self.type_name).is_some() && r.ret >= 0 {
                    out.num(r.ret)
                }
            }
            "evt.count" | "util.cnt" => out.num(1),
            "evt.count.error" => out.num(i64::from(r.ret < 0)),
            "evt.abspath" | "evt.abspath.src" | "evt.abspath.dst" => {
                let which = match base {
                    "evt.abspath" => "fs.path.name",
                    "evt.abspath.src" => "fs.path.source",
                    _ => "fs.path.target",
                };
                self.fs_path_field(which, out);
            }
            "evt.res" => out.bytes(
                if r.ret >= 0 {
                    "SUCCESS".to_string()
                } else {
                    errno_name(-r.ret)
                }
                .as_bytes(),
            ),
            "evt.failed" => out.bool(r.ret < 0),
            "evt.is_open_exec" => out.bool(false),
            "evt.is_open_create" => out.bool(self.open_flags().is_some_and(|f| f & 0o100 != 0)),
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
            _ => return false,
        }
        true
    }

    /// The open flags of an open call (Linux's).
    pub(super) fn open_flags(&self) -> Option<u64> {
        crate::state::open_call_flags(self.rec)
    }

    /// The event's time, as numbers and as text.
    fn time_field(&self, base: &str, out: &mut dyn ValueSink) -> bool {
        match base {
            "evt.rawtime" => out.num(self.time_ns()),
            "evt.rawtime.s" => out.num(self.time_ns() / 1_000_000_000),
            "evt.rawtime.ns" => out.num(self.time_ns() % 1_000_000_000),
            "evt.time" => out.bytes(local_time_of_day(self.time_ns()).as_bytes()),
            "evt.time.s" => out.bytes(&local_time_of_day(self.time_ns()).as_bytes()[..8]),
            "evt.datetime" | "evt.datetime.s" => {
                let iso = iso8601(self.time_ns());
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
            "evt.time.iso8601" => out.bytes(iso8601(self.time_ns()).as_bytes()),
            _ => return false,
        }
        true
    }
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
