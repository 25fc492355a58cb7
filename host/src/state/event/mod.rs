//! A probe record seen through the state tables: the `syscall` source's
//! [`Event`] implementation, which extracts every field rules use.
//!
//! One file per field class: `proc` (`proc.*`, `thread.*`), `user`
//! (`user.*`, `group.*`), `fd`, `container` (`container.*`, `k8s.*`), `evt`
//! (`evt.*`, `syscall.*`, `util.*`) and `args` (`evt.arg.*`, `fs.path.*`);
//! `hot` has the few fields nearly every file event reads, dispatched by
//! tag; `render` turns flags, capabilities and addresses into text.

mod args;
mod container;
mod evt;
mod fd;
mod hot;
mod proc;
mod render;
mod user;

pub use render::{cap_names, errno_name, fmt_addr, open_flags};

use super::fds::Fd;
use super::{Process, State};
use crate::capture::record::{KIND_PROCEXIT, ParamKind, Record};
use crate::capture::syscalls;
use crate::engine::Event;
use crate::fields::{FieldId, ResolvedField, SourceFields};
use crate::filter::value::ValueSink;

/// Per field id, its base name (resolved once per field table).
pub struct FieldNames(Vec<(&'static str, Class)>);

/// Which extractor a field belongs to (its name's first component),
/// decided once per field rather than per event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    /// One of the fields dispatched by tag ([`hot::Hot`]).
    Hot(hot::Hot),
    Evt,
    Proc,
    User,
    Fd,
    Container,
    Fs,
    Other,
}

impl Class {
    fn of(name: &str) -> Class {
        if let Some(h) = hot::Hot::of(name) {
            return Class::Hot(h);
        }
        match name.split('.').next().unwrap_or("") {
            "evt" | "syscall" | "util" => Class::Evt,
            "proc" | "thread" => Class::Proc,
            "user" | "group" => Class::User,
            "fd" => Class::Fd,
            "container" | "k8s" => Class::Container,
            "fs" => Class::Fs,
            _ => Class::Other,
        }
    }
}

impl FieldNames {
    /// The names of a source's fields, indexed by id.
    pub fn new(fields: &SourceFields) -> FieldNames {
        FieldNames(
            fields
                .fields()
                .iter()
                .map(|d| (d.name, Class::of(d.name)))
                .collect(),
        )
    }

    fn get(&self, id: FieldId) -> (&'static str, Class) {
        self.0
            .get(id as usize)
            .copied()
            .unwrap_or(("", Class::Other))
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
        SyscallEvent {
            rec,
            state,
            names,
            num,
            hostname,
            type_name,
            proc: state.process(rec.pid),
            fd_num: event_fd(rec),
        }
    }

    /// The fd the event is about (`fd.*` fields), if it is open.
    fn fd(&self) -> Option<&'a Fd> {
        let n = self.fd_num?;
        if n < 0 {
            return None;
        }
        self.proc?.fds.get(n)
    }

    /// The `n`th ancestor (0 = the process itself).
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

    /// The event's wall time.
    fn time_ns(&self) -> i64 {
        self.state.epoch_ns(self.rec.ts_boot)
    }

    /// The user string read from argument `idx`.
    fn user_str(&self, idx: u8) -> Option<String> {
        self.rec
            .str_param(ParamKind::UserStr, Some(idx))
            .map(super::lossy)
    }

    /// Calls `f` with the process, if known.
    fn with_proc(&self, out: &mut dyn ValueSink, f: impl FnOnce(&Process, &mut dyn ValueSink)) {
        if let Some(p) = self.proc {
            f(p, out)
        }
    }

    /// Extracts a field by base name; false when no extractor knows the
    /// name (a field extracted without the process, fd or container it
    /// reads counts as known).
    #[cfg(test)]
    fn field(&self, base: &str, arg: Option<&str>, out: &mut dyn ValueSink) -> bool {
        self.field_of(Class::of(base), base, arg, out)
    }

    fn field_of(
        &self,
        class: Class,
        base: &str,
        arg: Option<&str>,
        out: &mut dyn ValueSink,
    ) -> bool {
        match class {
            Class::Hot(h) => {
                self.hot_field(h, out);
                true
            }
            Class::Evt => self.evt_field(base, arg, out),
            Class::Proc => self.proc_field(base, arg, out),
            Class::User => self.user_field(base, out),
            Class::Fd => self.fd_field(base, out),
            Class::Container => self.container_field(base, arg, out),
            Class::Fs => self.fs_path_field(base, out),
            Class::Other => false,
        }
    }
}

/// Where an event's fd number comes from.
#[derive(Clone, Copy)]
enum FdFrom {
    /// The result (calls that create one).
    Ret,
    /// The first argument (calls that use one).
    Arg0,
    /// fcntl: the result of a dup (F_DUPFD, F_DUPFD_CLOEXEC), else the
    /// first argument.
    Fcntl,
    /// None.
    No,
}

impl FdFrom {
    fn of(type_name: &str) -> FdFrom {
        match type_name {
            "open" | "openat" | "openat2" | "creat" | "accept" | "accept4" | "dup" | "dup2"
            | "dup3" | "socket" | "memfd_create" | "open_by_handle_at" | "eventfd" | "eventfd2"
            | "signalfd" | "signalfd4" | "timerfd_create" | "inotify_init" | "inotify_init1"
            | "userfaultfd" | "epoll_create" | "epoll_create1" | "pidfd_open" => FdFrom::Ret,
            "fcntl" => FdFrom::Fcntl,
            "close" | "connect" | "bind" | "listen" | "sendto" | "recvfrom" | "sendmsg"
            | "recvmsg" | "read" | "write" | "pread" | "pwrite" | "readv" | "writev"
            | "shutdown" | "fchdir" | "fchmod" | "ioctl" | "finit_module" | "setns"
            | "ftruncate" | "sendmmsg" | "recvmmsg" => FdFrom::Arg0,
            _ => FdFrom::No,
        }
    }

    /// By record kind (decided once per kind).
    fn of_kind(kind: u16) -> FdFrom {
        static BY_KIND: std::sync::OnceLock<Vec<FdFrom>> = std::sync::OnceLock::new();
        syscalls::by_kind(&BY_KIND, kind, FdFrom::No, FdFrom::of)
    }
}

/// The fd number an event is about: the result of calls that create one,
/// the first argument of calls that use one.
fn event_fd(rec: &Record) -> Option<i64> {
    let a0 = rec.args[0] as i32 as i64;
    match FdFrom::of_kind(rec.kind) {
        FdFrom::Ret => Some(rec.ret),
        FdFrom::Fcntl if matches!(rec.args[1], 0 | 1030) => Some(rec.ret),
        FdFrom::Fcntl | FdFrom::Arg0 => Some(a0),
        FdFrom::No => None,
    }
}

impl Event for SyscallEvent<'_> {
    fn evt_type(&self) -> Option<&str> {
        Some(self.type_name)
    }

    fn evt_type_static(&self) -> Option<&'static str> {
        Some(self.type_name)
    }

    fn extract(&self, field: &ResolvedField, out: &mut dyn ValueSink) {
        let (base, class) = self.names.get(field.id);
        self.field_of(class, base, field.arg.as_deref(), out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::record::{Header, encode};
    use crate::filter::value::Collect;
    use crate::state::StateOptions;
    use crate::state::fds::FdKind;
    use std::path::PathBuf;

    /// Falco fields the registry accepts (so Falco's rules load) that this
    /// engine never extracts: a check on them is false, an output `<NA>`.
    const NOT_EXTRACTED: &[&str] = &[
        "evt.reltime",
        "evt.reltime.s",
        "evt.reltime.ns",
        "evt.latency",
        "evt.latency.s",
        "evt.latency.ns",
        "evt.latency.quantized",
        "evt.latency.human",
        "evt.deltatime",
        "evt.deltatime.s",
        "evt.deltatime.ns",
        "evt.outputtime",
        "evt.io_dir",
        "evt.wait_latency",
        "evt.count.error.file",
        "evt.count.error.net",
        "evt.count.error.memory",
        "evt.count.error.other",
        "evt.count.exit",
        "evt.count.procinfo",
        "evt.count.threadinfo",
        "evt.around",
        "evt.buflen.in",
        "evt.buflen.out",
        "evt.buflen.file",
        "evt.buflen.file.in",
        "evt.buflen.file.out",
        "evt.buflen.net",
        "evt.buflen.net.in",
        "evt.buflen.net.out",
        "evt.infra.docker.name",
        "evt.infra.docker.container.id",
        "evt.infra.docker.container.name",
        "evt.infra.docker.container.image",
        "proc.is_exe_writable",
        "proc.is_exe_lower_layer",
        "proc.exe_ino.ctime_duration_pidns_start",
        "proc.pidns_init_start_ts",
        "thread.pfmajor",
        "thread.pfminor",
        "thread.exectime",
        "thread.totexectime",
        "thread.cgroups",
        "thread.cgroup",
        "thread.cgroup.",
        "thread.cpu",
        "thread.cpu.user",
        "thread.cpu.system",
        "thread.vmsize.b",
        "thread.vmrss.b",
        "fd.uid",
        "fd.proto",
        "fd.cproto",
        "fd.sproto",
        "fd.lproto",
        "fd.rproto",
        "fd.dev",
        "fd.dev.major",
        "fd.dev.minor",
        "fd.ino",
        "fd.types",
        "fd.is_upper_layer",
        "fd.is_lower_layer",
        "fdlist.nums",
        "fdlist.names",
        "fdlist.cips",
        "fdlist.sips",
        "fdlist.cports",
        "fdlist.sports",
        "container.healthcheck",
        "container.liveness_probe",
        "container.readiness_probe",
        "container.cni.json",
        "k8s.pod.sandbox_id",
        "k8s.pod.full_sandbox_id",
        "k8s.pod.labels",
        "k8s.pod.ip",
        "k8s.pod.cni.json",
        "k8s.rc.name",
        "k8s.rc.id",
        "k8s.rc.label",
        "k8s.rc.labels",
        "k8s.svc.name",
        "k8s.svc.id",
        "k8s.svc.label",
        "k8s.svc.labels",
        "k8s.ns.id",
        "k8s.ns.label",
        "k8s.ns.labels",
        "k8s.rs.name",
        "k8s.rs.id",
        "k8s.rs.label",
        "k8s.rs.labels",
        "k8s.deployment.name",
        "k8s.deployment.id",
        "k8s.deployment.label",
        "k8s.deployment.labels",
    ];

    /// Registered fields whose description promises a value but that no
    /// extractor reads: `evt.rawarg[NAME]` (only `evt.rawarg.NAME` is
    /// extracted) and `evt.info` ("same value as evt.args").
    const GAPS: &[&str] = &["evt.rawarg", "evt.info"];

    /// Every registered `syscall` field has an extractor (or is listed as
    /// not extracted): on an event with a process in a container and an open
    /// fd, no other name reaches the unknown-name fallback.
    #[test]
    fn every_registered_field_has_an_extractor() {
        let mut st = State::new(
            StateOptions {
                proc_root: PathBuf::from("/nonexistent-proc"),
                runtime_sockets: Vec::new(),
                ..StateOptions::default()
            },
            0,
        );
        let mut p = Process {
            pid: 100,
            ppid: 1,
            container_id: "0123456789ab".repeat(5) + "cdef",
            ..Process::default()
        };
        p.fds.insert(3, Fd::new(FdKind::File, "/etc/shadow"));
        st.insert(p);
        let open = Header {
            tid: 100,
            pid: 100,
            kind: 257,
            ret: 3,
            ..Header::default()
        };
        let b = encode(&open, &[]);
        let r = Record::parse(&b).unwrap();
        let fields = SourceFields::syscall();
        let names = FieldNames::new(&fields);
        let ev = SyscallEvent::new(&r, &st, &names, 1, "h");
        assert!(ev.proc.is_some() && ev.fd().is_some());
        let listed = |name: &str| NOT_EXTRACTED.contains(&name) || GAPS.contains(&name);
        let known = |name: &str| ev.field(name, None, &mut Collect::default());
        let registered: Vec<&str> = fields.fields().iter().map(|d| d.name).collect();
        let unknown: Vec<&str> = registered
            .iter()
            .copied()
            .filter(|name| !known(name) && !listed(name))
            .collect();
        assert!(
            unknown.is_empty(),
            "fields without an extractor: {unknown:?}"
        );
        let extracted: Vec<&str> = registered
            .iter()
            .copied()
            .filter(|name| known(name) && listed(name))
            .collect();
        assert!(
            extracted.is_empty(),
            "listed as not extracted: {extracted:?}"
        );
        let stale: Vec<&&str> = NOT_EXTRACTED
            .iter()
            .chain(GAPS)
            .filter(|name| !registered.contains(name))
            .collect();
        assert!(stale.is_empty(), "not registered: {stale:?}");
        assert!(!known("proc.nosuch"));
    }
}
