//! `proc.*` and `thread.*` fields: the process, its parent and ancestors,
//! its session and group leaders, stdio, resources and threads.

use super::SyscallEvent;
use super::render::with_cap_names;
use crate::filter::value::ValueSink;
use crate::state::Process;

impl SyscallEvent<'_> {
    /// `proc.*` and `thread.*`; false for an unknown name.
    pub(super) fn proc_field(
        &self,
        base: &str,
        arg: Option<&str>,
        out: &mut dyn ValueSink,
    ) -> bool {
        let Some(p) = self.proc else { return true };
        self.process_field(p, base, arg, out)
            || exe_field(p, base, out)
            || self.parent_field(base, out)
            || self.ancestor_field(base, arg, out)
            || self.leader_field(p, base, out)
            || stdio_field(p, base, out)
            || resource_field(p, base, out)
            || self.thread_field(p, base, out)
    }

    /// Identity, command line, environment and times of the process.
    fn process_field(
        &self,
        p: &Process,
        base: &str,
        arg: Option<&str>,
        out: &mut dyn ValueSink,
    ) -> bool {
        match base {
            "proc.pid" => out.num(p.pid as i64),
            "proc.vpid" => out.num(p.vpid as i64),
            "proc.ppid" => out.num(p.ppid as i64),
            "proc.pgid" => out.num(p.pgid as i64),
            "proc.vpgid" => out.num(p.vpgid as i64),
            // in the process's own pid namespace, as Falco gives it
            "proc.sid" => out.num(p.vsid as i64),
            "proc.is_sid_leader" => out.bool(p.vsid == p.vpid),
            "proc.is_pgid_leader" => out.bool(p.pgid == p.pid),
            "proc.is_vpgid_leader" => out.bool(p.vpgid == p.vpid),
            "proc.name" => out.bytes(p.comm.as_bytes()),
            "proc.args" => out.bytes(p.args_joined().as_bytes()),
            "proc.cmdline" => out.bytes(p.cmdline().as_bytes()),
            "proc.cmdnargs" => out.num(p.args.len() as i64),
            "proc.cmdlenargs" => out.num(p.args.iter().map(|a| a.len()).sum::<usize>() as i64),
            "proc.exeline" => {
                let mut s = p.exe.clone();
                for a in &p.args {
                    s.push(' ');
                    s.push_str(a);
                }
                out.bytes(s.as_bytes())
            }
            "proc.cwd" => out.bytes(format!("{}/", p.cwd.trim_end_matches('/')).as_bytes()),
            "proc.tty" => out.num(p.tty as i64),
            "proc.recent_connect_ports" => out.num(p.connect_ports.count() as i64),
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
            "proc.duration" => out.num((self.time_ns() - p.start_ns).max(0)),
            "proc.start_ts" | "proc.pid.ts" => out.num(p.start_ns),
            "proc.nchilds" => out.num(self.state.children_of(p.pid) as i64),
            "proc.fdopencount" => out.num(p.fds.len() as i64),
            _ => return false,
        }
        true
    }

    /// The parent's fields (`proc.pname`, `proc.ppid.ts`, …).
    fn parent_field(&self, base: &str, out: &mut dyn ValueSink) -> bool {
        let parent = self.ancestor(1);
        match base {
            "proc.pvpid" => parent.into_iter().for_each(|q| out.num(q.vpid as i64)),
            "proc.ppid.ts" => parent.into_iter().for_each(|q| out.num(q.start_ns)),
            "proc.ppid.duration" => parent
                .into_iter()
                .for_each(|q| out.num((self.time_ns() - q.start_ns).max(0))),
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
            _ => return false,
        }
        true
    }

    /// Ancestor fields: an index picks one (0 = this process), no index
    /// lists every ancestor from the parent up.
    fn ancestor_field(&self, base: &str, arg: Option<&str>, out: &mut dyn ValueSink) -> bool {
        let f: fn(&Process, &mut dyn ValueSink) = match base {
            "proc.aname" => |q, o| o.bytes(q.comm.as_bytes()),
            "proc.apid" => |q, o| o.num(q.pid as i64),
            "proc.aexe" => |q, o| o.bytes(q.exe.as_bytes()),
            "proc.aexepath" => |q, o| o.bytes(q.exepath.as_bytes()),
            "proc.acmdline" => |q, o| o.bytes(q.cmdline().as_bytes()),
            "proc.aargs" => |q, o| o.bytes(q.args_joined().as_bytes()),
            "proc.aenv" => |q, o| o.bytes(q.env.join(" ").as_bytes()),
            _ => return false,
        };
        match arg.and_then(|a| a.parse::<usize>().ok()) {
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
        }
        true
    }

    /// The session and process group leaders, and the login shell.
    fn leader_field(&self, p: &Process, base: &str, out: &mut dyn ValueSink) -> bool {
        match base {
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
            "proc.sname" => {
                if let Some(s) = self.state.process(p.sid) {
                    out.bytes(s.comm.as_bytes())
                }
            }
            "proc.loginshellid" => {
                // The oldest shell among the process and its ancestors.
                let shells = std::iter::once(p).chain(self.ancestors());
                if let Some(sh) = shells.filter(|q| is_shell(&q.comm)).last() {
                    out.num(sh.pid as i64)
                }
            }
            _ => return false,
        }
        true
    }

    /// `thread.*`: the thread of the event.
    fn thread_field(&self, p: &Process, base: &str, out: &mut dyn ValueSink) -> bool {
        let tid = self.rec.tid;
        match base {
            "thread.tid" => out.num(tid as i64),
            "thread.vtid" => out.num(if tid == self.rec.pid { p.vpid } else { tid } as i64),
            "thread.ismain" => out.bool(tid == self.rec.pid),
            "thread.nametid" => out.bytes(format!("{}-{}", p.comm, tid).as_bytes()),
            "thread.cap_effective" => {
                with_cap_names(p.creds.cap_effective, |s| out.bytes(s.as_bytes()))
            }
            "thread.cap_permitted" => {
                with_cap_names(p.creds.cap_permitted, |s| out.bytes(s.as_bytes()))
            }
            "thread.cap_inheritable" => {
                with_cap_names(p.creds.cap_inheritable, |s| out.bytes(s.as_bytes()))
            }
            _ => return false,
        }
        true
    }
}

/// The executable: path, inode and times, and where it came from.
fn exe_field(p: &Process, base: &str, out: &mut dyn ValueSink) -> bool {
    match base {
        "proc.exe" => out.bytes(p.exe.as_bytes()),
        "proc.exepath" => out.bytes(p.exepath.as_bytes()),
        "proc.is_exe_from_memfd" => out.bool(p.exe_from_memfd),
        "proc.is_exe_upper_layer" => out.bool(p.exe_upper_layer),
        "proc.is_container_healthcheck"
        | "proc.is_container_liveness_probe"
        | "proc.is_container_readiness_probe" => out.bool(false),
        "proc.exe_ino" => out.num(p.exe_ino as i64),
        "proc.exe_ino.ctime" => out.num(p.exe_ctime),
        "proc.exe_ino.mtime" => out.num(p.exe_mtime),
        "proc.exe_ino.ctime_duration_proc_start" => out.num(p.start_ns - p.exe_ctime),
        _ => return false,
    }
    true
}

/// The process's stdin, stdout and stderr.
fn stdio_field(p: &Process, base: &str, out: &mut dyn ValueSink) -> bool {
    let n = match base {
        "proc.stdin.name" | "proc.stdin.type" => 0,
        "proc.stdout.name" | "proc.stdout.type" => 1,
        "proc.stderr.name" | "proc.stderr.type" => 2,
        _ => return false,
    };
    if let Some(fd) = p.fds.get(n) {
        if base.ends_with("name") {
            out.bytes(fd.name.as_bytes())
        } else {
            out.bytes(fd.kind.type_name().as_bytes())
        }
    }
    true
}

/// Memory, threads and fd limits, read from /proc when a rule asks (the
/// process may be gone: then nothing).
fn resource_field(p: &Process, base: &str, out: &mut dyn ValueSink) -> bool {
    if !matches!(
        base,
        "proc.vmrss"
            | "proc.vmsize"
            | "proc.vmswap"
            | "thread.vmrss"
            | "thread.vmsize"
            | "proc.nthreads"
            | "proc.fdlimit"
            | "proc.fdusage"
    ) {
        return false;
    }
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
    true
}

/// Whether a command name is a shell (for `proc.loginshellid`).
fn is_shell(comm: &str) -> bool {
    matches!(
        comm,
        "sh" | "bash" | "dash" | "zsh" | "ksh" | "csh" | "tcsh" | "fish" | "ash" | "mksh"
    )
}

/// A login uid as a number (-1 for unset).
pub(super) fn login_uid(l: u32) -> i64 {
    if l == u32::MAX { -1 } else { l as i64 }
}
