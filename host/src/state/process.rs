//! Processes: what the state engine knows about each, and reading it from
//! `/proc` for processes that started before the engine.

use super::fds::{Fd, FdKind, FdTable};
use crate::capture::record::Creds;
use std::path::Path;

/// One process (thread group). Threads share it: the per-thread fields Falco
/// has (`thread.*`) are the process's here, except the tid, which comes from
/// the event.
#[derive(Clone, Debug, Default)]
pub struct Process {
    /// Process id.
    pub pid: u32,
    /// Parent's process id.
    pub ppid: u32,
    /// Session id (on the host: the one its leader is found by).
    pub sid: u32,
    /// Session id in its own pid namespace (`proc.sid`; 0: the leader is
    /// outside it).
    pub vsid: u32,
    /// Process group id.
    pub pgid: u32,
    /// Process id in its own pid namespace (the pid on the host).
    pub vpid: u32,
    /// Process group id in its own pid namespace.
    pub vpgid: u32,
    /// Command name (the kernel's comm, at most 15 bytes).
    pub comm: String,
    /// First argument (`proc.exe`).
    pub exe: String,
    /// Full path of the executable (`proc.exepath`).
    pub exepath: String,
    /// Arguments after the first.
    pub args: Vec<String>,
    /// Environment (`NAME=value`).
    pub env: Vec<String>,
    /// Working directory, ending without a slash (except `/`).
    pub cwd: String,
    /// Credentials.
    pub creds: Creds,
    /// Audit login uid (u32::MAX when unset).
    pub loginuid: u32,
    /// Controlling terminal (Linux `tty_nr` encoding), 0 if none.
    pub tty: u32,
    /// Container id: 64 hex, or empty on the host.
    pub container_id: String,
    /// Its cgroup2 cgroup's id (the inode of its directory; 0: unknown).
    pub cgroup_id: u64,
    /// Start time, ns since the epoch.
    pub start_ns: i64,
    /// Executable's inode number, ctime and mtime (ns since the epoch).
    pub exe_ino: u64,
    /// Executable's ctime, ns since the epoch.
    pub exe_ctime: i64,
    /// Executable's mtime, ns since the epoch.
    pub exe_mtime: i64,
    /// The executable is a memfd.
    pub exe_from_memfd: bool,
    /// The executable lives on an overlay's upper layer (written in the container).
    pub exe_upper_layer: bool,
    /// Open fds.
    pub fds: FdTable,
    /// When it exited (ns since the epoch); kept briefly for late events.
    pub exited_ns: Option<i64>,
    /// The remote ports it tried to connect to lately.
    pub connect_ports: ConnectWindow,
}

/// The distinct remote ports a process tried to connect to (whether the
/// connection succeeded or not) in its current window of
/// [`ConnectWindow::SPAN_NS`]: `proc.recent_connect_ports`. Ordinary
/// programs talk to a few ports; a port scan tries hundreds in seconds.
#[derive(Clone, Debug, Default)]
pub struct ConnectWindow {
    start_ns: u64,
    ports: rustc_hash::FxHashSet<u16>,
}

impl ConnectWindow {
    /// How long a window lasts.
    pub const SPAN_NS: u64 = 10_000_000_000;

    /// A connect attempt to `port` at `ts_ns` (a window older than
    /// [`Self::SPAN_NS`] starts over).
    pub fn note(&mut self, ts_ns: u64, port: u16) {
        if self.ports.is_empty() || ts_ns.saturating_sub(self.start_ns) >= Self::SPAN_NS {
            self.start_ns = ts_ns;
            self.ports.clear();
        }
        self.ports.insert(port);
    }

    /// Distinct ports in the current window.
    pub fn count(&self) -> usize {
        self.ports.len()
    }
}

impl Process {
    /// `proc.cmdline`: the name followed by the arguments.
    pub fn cmdline(&self) -> String {
        let mut s = self.comm.clone();
        for a in &self.args {
            s.push(' ');
            s.push_str(a);
        }
        s
    }

    /// `proc.args`.
    pub fn args_joined(&self) -> String {
        self.args.join(" ")
    }
}

/// Splits a NUL-separated block into strings (a trailing NUL is not an empty entry).
pub fn split_nul(b: &[u8]) -> Vec<String> {
    let b = b.strip_suffix(&[0]).unwrap_or(b);
    if b.is_empty() {
        return Vec::new();
    }
    b.split(|&c| c == 0).map(super::lossy).collect()
}

/// The Linux `tty_nr` encoding of a device (as in `/proc/PID/stat`).
pub fn encode_tty(major: u32, minor: u32) -> u32 {
    (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12)
}

/// Reads one process from `/proc/PID` (`proc` is the mount point, normally `/proc`).
/// `boot_ns` is the boot time in ns since the epoch; `ticks` the clock ticks per second.
pub fn read_proc(proc: &Path, pid: u32, boot_ns: i64, ticks: i64) -> Option<Process> {
    let dir = proc.join(pid.to_string());
    let stat = Stat::read(&dir)?;
    let mut argv = split_nul(&std::fs::read(dir.join("cmdline")).unwrap_or_default());
    let exe = if argv.is_empty() {
        stat.comm.clone()
    } else {
        argv.remove(0)
    };
    let exepath = link(&dir, "exe").unwrap_or_default();
    let (creds, [vpid, vpgid, vsid]) = read_status(&dir, [pid, stat.pgid, stat.sid]);
    let loginuid = std::fs::read_to_string(dir.join("loginuid"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(u32::MAX);
    let cgroups = std::fs::read_to_string(dir.join("cgroup")).unwrap_or_default();
    let cgroup_id = super::cgroups::path_in(&cgroups)
        .and_then(super::cgroups::id_of)
        .unwrap_or(0);
    let container_id = super::containers::container_id_from_cgroups(
        cgroups.lines().filter_map(|l| l.rsplit('/').next()),
    )
    .unwrap_or_default();
    let (exe_ino, exe_ctime, exe_mtime) = exe_times(&dir);
    let fds = read_fds(&dir);
    Some(Process {
        pid,
        ppid: stat.ppid,
        sid: stat.sid,
        vsid,
        pgid: stat.pgid,
        vpid,
        vpgid,
        exe_from_memfd: exepath.starts_with("/memfd:"),
        comm: stat.comm,
        exe,
        exepath,
        args: argv,
        env: split_nul(&std::fs::read(dir.join("environ")).unwrap_or_default()),
        cwd: link(&dir, "cwd").unwrap_or_else(|| "/".into()),
        creds,
        loginuid,
        tty: stat.tty,
        container_id,
        cgroup_id,
        start_ns: boot_ns + stat.start_ticks * (1_000_000_000 / ticks.max(1)),
        exe_ino,
        exe_ctime,
        exe_mtime,
        exe_upper_layer: false,
        fds,
        exited_ns: None,
        connect_ports: ConnectWindow::default(),
    })
}

/// What `/proc/PID/stat` tells.
struct Stat {
    comm: String,
    ppid: u32,
    pgid: u32,
    sid: u32,
    tty: u32,
    /// Start time in clock ticks since boot.
    start_ticks: i64,
}

impl Stat {
    /// Reads `/proc/PID/stat`: "pid (comm) state ppid pgrp session tty_nr
    /// ... starttime(22)".
    fn read(dir: &Path) -> Option<Stat> {
        let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
        let open = stat.find('(')?;
        let close = stat.rfind(')')?;
        let comm = stat[open + 1..close].to_string();
        let rest: Vec<&str> = stat[close + 2..].split(' ').collect();
        let field = |i: usize| rest.get(i).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
        Some(Stat {
            comm,
            ppid: field(1) as u32,
            pgid: field(2) as u32,
            sid: field(3) as u32,
            tty: field(4) as u32,
            start_ticks: field(19),
        })
    }
}

/// The target of a `/proc/PID` link.
fn link(dir: &Path, n: &str) -> Option<String> {
    std::fs::read_link(dir.join(n))
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}

/// Credentials and the ids in the innermost pid namespace (pid, pgid,
/// sid; `ids` on the host, used where status has no NS* line), from
/// `/proc/PID/status`.
fn read_status(dir: &Path, ids: [u32; 3]) -> (Creds, [u32; 3]) {
    let status = std::fs::read_to_string(dir.join("status")).unwrap_or_default();
    let st = |key: &str| -> Vec<u64> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| {
                v.split_whitespace()
                    .filter_map(|x| x.parse().ok())
                    .collect()
            })
            .unwrap_or_default()
    };
    let cap = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
            .unwrap_or(0)
    };
    let (uids, gids) = (st("Uid:"), st("Gid:"));
    // The last NSpid/NSpgid/NSsid entry is the id in the innermost namespace.
    let mut v = ids;
    for (i, key) in ["NSpid:", "NSpgid:", "NSsid:"].iter().enumerate() {
        if let Some(&last) = st(key).last() {
            v[i] = last as u32;
        }
    }
    let creds = Creds {
        uid: uids.first().copied().unwrap_or(0) as u32,
        euid: uids.get(1).copied().unwrap_or(0) as u32,
        gid: gids.first().copied().unwrap_or(0) as u32,
        egid: gids.get(1).copied().unwrap_or(0) as u32,
        cap_inheritable: cap("CapInh:"),
        cap_permitted: cap("CapPrm:"),
        cap_effective: cap("CapEff:"),
    };
    (creds, v)
}

/// The executable's inode, ctime and mtime (ns).
fn exe_times(dir: &Path) -> (u64, i64, i64) {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(dir.join("exe"))
        .ok()
        .map(|m| {
            (
                m.ino(),
                m.ctime() * 1_000_000_000 + m.ctime_nsec(),
                m.mtime() * 1_000_000_000 + m.mtime_nsec(),
            )
        })
        .unwrap_or_default()
}

/// The open fds, from the `/proc/PID/fd` links.
fn read_fds(dir: &Path) -> FdTable {
    let mut fds = FdTable::default();
    if let Ok(entries) = std::fs::read_dir(dir.join("fd")) {
        for e in entries.flatten() {
            let Some(num) = e.file_name().to_str().and_then(|n| n.parse::<i64>().ok()) else {
                continue;
            };
            if let Ok(target) = std::fs::read_link(e.path()) {
                fds.insert(num, fd_from_link(&target.to_string_lossy()));
            }
        }
    }
    fds
}

/// An fd from its `/proc/PID/fd/N` link target.
pub fn fd_from_link(target: &str) -> Fd {
    let anon = |k: FdKind| Fd::new(k, "");
    if let Some(rest) = target.strip_prefix("anon_inode:") {
        return match rest.trim_matches(['[', ']']) {
            "eventfd" => anon(FdKind::Event),
            "signalfd" => anon(FdKind::Signal),
            "eventpoll" => anon(FdKind::Eventpoll),
            "inotify" => anon(FdKind::Inotify),
            "timerfd" => anon(FdKind::Timer),
            "userfaultfd" => anon(FdKind::Userfault),
            "io_uring" => anon(FdKind::IoUring),
            "pidfd" => anon(FdKind::Pidfd),
            r if r.starts_with("bpf") => anon(FdKind::Bpf),
            _ => anon(FdKind::File),
        };
    }
    if let Some(ino) = target
        .strip_prefix("socket:[")
        .and_then(|r| r.strip_suffix(']'))
    {
        // The family and addresses come from /proc/net by this inode.
        let mut fd = anon(FdKind::OtherSocket);
        fd.ino = ino.parse().unwrap_or(0);
        return fd;
    }
    if target.starts_with("pipe:") {
        return anon(FdKind::Pipe);
    }
    if target.starts_with("/memfd:") {
        return Fd::new(
            FdKind::Memfd,
            target
                .trim_start_matches('/')
                .trim_end_matches(" (deleted)"),
        );
    }
    Fd::new(FdKind::File, target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_window_counts_distinct_ports_and_starts_over() {
        let mut w = ConnectWindow::default();
        let s = 1_000_000_000u64;
        for (t, port) in [(0, 22), (1, 80), (2, 80), (3, 443)] {
            w.note(s + t, port);
        }
        assert_eq!(w.count(), 3, "a port tried twice counts once");
        w.note(s + ConnectWindow::SPAN_NS - 1, 8080);
        assert_eq!(w.count(), 4);
        w.note(s + ConnectWindow::SPAN_NS, 9090);
        assert_eq!(w.count(), 1, "a new window");
    }

    #[test]
    fn nul_blocks_and_ttys() {
        assert_eq!(split_nul(b"cat\0/etc/shadow\0"), vec!["cat", "/etc/shadow"]);
        assert!(split_nul(b"").is_empty());
        assert_eq!(encode_tty(136, 3), 34819);
        assert_eq!(encode_tty(4, 1), 1025);
    }

    #[test]
    fn reads_this_process() {
        let p = read_proc(Path::new("/proc"), std::process::id(), 0, 100).expect("own /proc entry");
        assert_eq!(p.pid, std::process::id());
        assert!(!p.comm.is_empty());
        assert!(p.exepath.starts_with('/'), "{}", p.exepath);
        assert!(p.fds.len() >= 3);
    }

    #[test]
    fn fd_links() {
        assert_eq!(fd_from_link("anon_inode:[eventfd]").kind, FdKind::Event);
        assert_eq!(fd_from_link("socket:[123]").kind, FdKind::OtherSocket);
        assert_eq!(fd_from_link("/etc/hosts").name, "/etc/hosts");
        assert_eq!(fd_from_link("/memfd:x (deleted)").name, "memfd:x");
    }
}
