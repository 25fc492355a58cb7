//! Writing capture files: the blocks libs' writer produces, so that
//! sysdig and Falco read what this engine records.
//!
//! ```text
//! SHB 1.2 ─ MI ─ UL v2 ─ PL v9 ─ FDL v2 (one per process) ─ EV v2 ...
//! ```
//!
//! Block layouts are §7.3 of `falco-compat.md`; the reader
//! ([`super::read`]) reads them back.

use super::meta::{FdDetail, FdInfo, MachineInfo, ThreadInfo};
use super::read::{Metadata, ScapError};
use super::table::{self, ParamType};
use std::io::Write;
use std::path::Path;

const SHB: u32 = 0x0A0D_0D0A;
const MI: u32 = 0x201;
const UL_V2: u32 = 0x220;
const PL_V9: u32 = 0x215;
const FDL_V2: u32 = 0x218;
const EV_V2: u32 = 0x216;
const EV_V2_LARGE: u32 = 0x221;

/// One event to write: its code and its parameters, back to back, with
/// each one's length.
#[derive(Debug, Default)]
pub struct EventBuf {
    /// Event code (an index of [`table::info`]).
    pub code: u16,
    /// The longest parameter the code's length fields can say.
    max: usize,
    /// Parameter values, back to back.
    pub data: Vec<u8>,
    /// Each parameter's length.
    pub lens: Vec<u32>,
}

impl EventBuf {
    /// Starts an event of `code`, reusing the buffers.
    pub fn start(&mut self, code: u16) {
        self.code = code;
        self.max = match table::info(code) {
            Some(i) if i.len_size() == 4 => u32::MAX as usize,
            _ => u16::MAX as usize,
        };
        self.data.clear();
        self.lens.clear();
    }

    /// Appends a parameter.
    pub fn push(&mut self, b: &[u8]) {
        let b = &b[..b.len().min(self.max)];
        self.data.extend_from_slice(b);
        self.lens.push(b.len() as u32);
    }

    /// Appends a string parameter (NUL-terminated, as libs writes them).
    pub fn push_str(&mut self, s: &[u8]) {
        let s = &s[..s.len().min(self.max - 1)];
        self.data.extend_from_slice(s);
        self.data.push(0);
        self.lens.push(s.len() as u32 + 1);
    }

    /// Appends an integer parameter of `ty`'s width (little endian).
    pub fn push_int(&mut self, ty: ParamType, v: i64) {
        let w = table::width(ty).unwrap_or(8);
        self.push(&v.to_le_bytes()[..w]);
    }
}

/// Where a capture goes.
enum Out {
    Plain(Box<dyn Write + Send>),
    Gzip(flate2::write::GzEncoder<std::io::BufWriter<std::fs::File>>),
}

impl Out {
    fn write_all(&mut self, b: &[u8]) -> std::io::Result<()> {
        match self {
            Out::Plain(w) => w.write_all(b),
            Out::Gzip(w) => w.write_all(b),
        }
    }
}

/// Writes one capture file.
pub struct Writer {
    out: Out,
    /// Bytes written so far (before compression).
    pub bytes: u64,
    /// Events written so far.
    pub events: u64,
    block: Vec<u8>,
}

/// The longest strings libs' reader accepts in the metadata blocks
/// (`scap_limits.h`, `MAX_CREDENTIALS_STR_LEN`): a longer one makes it refuse
/// the whole file ("invalid argslen"), so they are cut as libs' own writer
/// cuts them. One byte is kept free where libs adds a NUL.
const MAX_PATH: usize = 1023;
const MAX_LIST: usize = 4095;
const MAX_CREDENTIAL: usize = 255;

/// The first `max` bytes of `s`, cut at a character boundary.
fn cut(s: &str, max: usize) -> &[u8] {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s.as_bytes()[..end]
}

/// Writes a 16-bit-length string of at most `max` bytes (libs writes no NUL
/// there).
fn str16(b: &mut Vec<u8>, s: &str, max: usize) {
    let s = cut(s, max);
    b.extend_from_slice(&(s.len() as u16).to_le_bytes());
    b.extend_from_slice(s);
}

/// Writes a 16-bit-length NUL-separated list (each entry NUL-terminated) of
/// at most `MAX_LIST` bytes; the entry that crosses the limit is cut.
fn list16(b: &mut Vec<u8>, items: &[String]) {
    let mut joined = Vec::new();
    for i in items {
        joined.extend_from_slice(i.as_bytes());
        joined.push(0);
        if joined.len() >= MAX_LIST {
            joined.truncate(MAX_LIST);
            break;
        }
    }
    b.extend_from_slice(&(joined.len() as u16).to_le_bytes());
    b.extend_from_slice(&joined);
}

/// Runs `body` to fill an entry that starts with its own 32-bit length.
fn sized(b: &mut Vec<u8>, body: impl FnOnce(&mut Vec<u8>)) {
    let at = b.len();
    b.extend_from_slice(&[0; 4]);
    body(b);
    let len = (b.len() - at) as u32;
    b[at..at + 4].copy_from_slice(&len.to_le_bytes());
}

fn machine(b: &mut Vec<u8>, m: &MachineInfo) {
    b.extend_from_slice(&m.num_cpus.to_le_bytes());
    b.extend_from_slice(&m.memory_bytes.to_le_bytes());
    b.extend_from_slice(&m.max_pid.to_le_bytes());
    let mut host = [0u8; 128];
    let name = m.hostname.as_bytes();
    let n = name.len().min(127);
    host[..n].copy_from_slice(&name[..n]);
    b.extend_from_slice(&host);
    b.extend_from_slice(&m.boot_ts_epoch.to_le_bytes());
    b.extend_from_slice(&[0; 24]); // flags, reserved
}

/// One PL v9 entry (the field order of §7.3).
fn thread(b: &mut Vec<u8>, t: &ThreadInfo) {
    sized(b, |b| {
        for v in [t.tid, t.pid, t.ptid, t.sid as u64, t.vpgid as u64] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        str16(b, &t.comm, MAX_PATH);
        str16(b, &t.exe, MAX_PATH);
        str16(b, &t.exepath, MAX_PATH);
        list16(b, &t.args);
        str16(b, &t.cwd, MAX_PATH);
        b.extend_from_slice(&t.fdlimit.to_le_bytes());
        for v in [t.flags, t.uid, t.gid, 0, 0, 0] {
            b.extend_from_slice(&v.to_le_bytes()); // vm sizes: not tracked
        }
        b.extend_from_slice(&[0; 16]); // page faults
        list16(b, &t.env);
        b.extend_from_slice(&t.vtid.to_le_bytes());
        b.extend_from_slice(&t.vpid.to_le_bytes());
        list16(b, &t.cgroups);
        str16(b, &t.root, MAX_PATH);
        b.extend_from_slice(&0u64.to_le_bytes()); // pidns_init_start_ts
        b.extend_from_slice(&t.tty.to_le_bytes());
        b.extend_from_slice(&t.loginuid.to_le_bytes());
        b.push(0); // exe_writable
        for c in t.caps {
            b.extend_from_slice(&c.to_le_bytes());
        }
        b.push(t.exe_upper_layer as u8);
        for v in [t.exe_ino.0, t.exe_ino.1, t.exe_ino.2] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.push(t.exe_from_memfd as u8);
        b.push(0); // exe_lower_layer
        b.extend_from_slice(&t.pgid.to_le_bytes());
    });
}

/// A socket's addresses (all first), then their ports, then the L4
/// protocol: the FDL layout of the IP socket types.
fn endpoints(b: &mut Vec<u8>, ends: &[(&[u8], u16)], l4proto: u8) {
    ends.iter().for_each(|(addr, _)| b.extend_from_slice(addr));
    ends.iter()
        .for_each(|(_, port)| b.extend_from_slice(&port.to_le_bytes()));
    b.push(l4proto);
}

/// One FDL v2 entry.
fn fd(b: &mut Vec<u8>, f: &FdInfo) {
    sized(b, |b| {
        b.extend_from_slice(&f.fd.to_le_bytes());
        b.extend_from_slice(&f.ino.to_le_bytes());
        b.push(f.kind);
        match &f.detail {
            FdDetail::Ipv4 {
                sip,
                dip,
                sport,
                dport,
                l4proto,
            } => endpoints(b, &[(sip, *sport), (dip, *dport)], *l4proto),
            FdDetail::Ipv6 {
                sip,
                dip,
                sport,
                dport,
                l4proto,
            } => endpoints(b, &[(sip, *sport), (dip, *dport)], *l4proto),
            FdDetail::Ipv4Server { ip, port, l4proto } => endpoints(b, &[(ip, *port)], *l4proto),
            FdDetail::Ipv6Server { ip, port, l4proto } => endpoints(b, &[(ip, *port)], *l4proto),
            FdDetail::Unix { source, dest, path } => {
                b.extend_from_slice(&source.to_le_bytes());
                b.extend_from_slice(&dest.to_le_bytes());
                str16(b, path, MAX_PATH);
            }
            FdDetail::File { flags, name, dev } => {
                b.extend_from_slice(&flags.to_le_bytes());
                str16(b, name, MAX_PATH);
                b.extend_from_slice(&dev.to_le_bytes());
            }
            FdDetail::Named(name) => str16(b, name, MAX_PATH),
            FdDetail::Unknown => {}
        }
    });
}

impl Writer {
    /// Creates `path` (gzip-compressed when `gzip`) and writes `meta`.
    pub fn create(path: &Path, gzip: bool, meta: &Metadata) -> Result<Writer, ScapError> {
        let io = |source| ScapError::Io {
            path: path.display().to_string(),
            source,
        };
        let file =
            std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).map_err(io)?);
        let out = if gzip {
            Out::Gzip(flate2::write::GzEncoder::new(
                file,
                flate2::Compression::fast(),
            ))
        } else {
            Out::Plain(Box::new(file))
        };
        Writer::start(out, meta).map_err(io)
    }

    /// Writes the section header and `meta` to `out` (uncompressed).
    pub fn new(out: Box<dyn Write + Send>, meta: &Metadata) -> std::io::Result<Writer> {
        Writer::start(Out::Plain(out), meta)
    }

    fn start(out: Out, meta: &Metadata) -> std::io::Result<Writer> {
        let mut w = Writer {
            out,
            bytes: 0,
            events: 0,
            block: Vec::with_capacity(4096),
        };
        w.block(SHB, |b| {
            b.extend_from_slice(&0x1A2B_3C4Du32.to_le_bytes());
            b.extend_from_slice(&1u16.to_le_bytes());
            b.extend_from_slice(&2u16.to_le_bytes());
            b.extend_from_slice(&u64::MAX.to_le_bytes());
        })?;
        if let Some(m) = &meta.machine {
            w.block(MI, |b| machine(b, m))?;
        }
        w.block(UL_V2, |b| {
            for u in &meta.users {
                sized(b, |b| {
                    b.push(0);
                    b.extend_from_slice(&u.uid.to_le_bytes());
                    b.extend_from_slice(&u.gid.to_le_bytes());
                    str16(b, &u.name, MAX_CREDENTIAL);
                    str16(b, &u.home, MAX_CREDENTIAL);
                    str16(b, &u.shell, MAX_CREDENTIAL);
                });
            }
            for g in &meta.groups {
                sized(b, |b| {
                    b.push(1);
                    b.extend_from_slice(&g.gid.to_le_bytes());
                    str16(b, &g.name, MAX_CREDENTIAL);
                });
            }
        })?;
        w.block(PL_V9, |b| meta.threads.iter().for_each(|t| thread(b, t)))?;
        let mut at = 0;
        while at < meta.fds.len() {
            let tid = meta.fds[at].0;
            let n = meta.fds[at..].iter().take_while(|(t, _)| *t == tid).count();
            w.block(FDL_V2, |b| {
                b.extend_from_slice(&tid.to_le_bytes());
                meta.fds[at..at + n].iter().for_each(|(_, f)| fd(b, f));
            })?;
            at += n;
        }
        Ok(w)
    }

    /// Writes one block: header, `body`, padding, trailer.
    fn block(&mut self, kind: u32, body: impl FnOnce(&mut Vec<u8>)) -> std::io::Result<()> {
        let b = &mut self.block;
        b.clear();
        b.extend_from_slice(&kind.to_le_bytes());
        b.extend_from_slice(&[0; 4]);
        body(b);
        b.resize(b.len().div_ceil(4) * 4, 0);
        let total = (b.len() + 4) as u32;
        b[4..8].copy_from_slice(&total.to_le_bytes());
        b.extend_from_slice(&total.to_le_bytes());
        self.out.write_all(b)?;
        self.bytes += b.len() as u64;
        Ok(())
    }

    /// Writes one event of thread `tid` at `ts` (ns since the epoch).
    pub fn event(&mut self, ts: u64, tid: u64, ev: &EventBuf) -> std::io::Result<()> {
        let large = table::info(ev.code).is_some_and(|i| i.len_size() == 4);
        let len_size = if large { 4 } else { 2 };
        let len = 26 + len_size * ev.lens.len() + ev.data.len();
        self.block(if large { EV_V2_LARGE } else { EV_V2 }, |b| {
            b.extend_from_slice(&0u16.to_le_bytes()); // cpu
            b.extend_from_slice(&ts.to_le_bytes());
            b.extend_from_slice(&tid.to_le_bytes());
            b.extend_from_slice(&(len as u32).to_le_bytes());
            b.extend_from_slice(&ev.code.to_le_bytes());
            b.extend_from_slice(&(ev.lens.len() as u32).to_le_bytes());
            for &l in &ev.lens {
                if large {
                    b.extend_from_slice(&l.to_le_bytes());
                } else {
                    b.extend_from_slice(&(l as u16).to_le_bytes());
                }
            }
            b.extend_from_slice(&ev.data);
        })?;
        self.events += 1;
        Ok(())
    }

    /// Flushes and closes the file (the gzip trailer is written here).
    pub fn finish(self) -> std::io::Result<()> {
        match self.out {
            Out::Plain(mut w) => w.flush(),
            Out::Gzip(w) => w.finish()?.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scap::meta::{GroupInfo, UserInfo};
    use crate::scap::read::Reader;

    fn sample() -> Metadata {
        let t = ThreadInfo {
            tid: 42,
            pid: 42,
            ptid: 1,
            sid: 42,
            vpgid: 42,
            comm: "cat".into(),
            exe: "cat".into(),
            exepath: "/usr/bin/cat".into(),
            args: vec!["/etc/shadow".into()],
            cwd: "/root/".into(),
            uid: 1000,
            gid: 1000,
            env: vec!["HOME=/root".into(), "TERM=xterm".into()],
            vtid: 1,
            vpid: 1,
            cgroups: vec!["cpuset=/libpod-abc.scope".into()],
            tty: 34816,
            loginuid: 1000,
            caps: [1, 2, 3],
            exe_ino: (77, 1_700_000_000_000_000_000, 1_600_000_000_000_000_000),
            exe_upper_layer: true,
            pgid: 42,
            ..ThreadInfo::default()
        };
        let file = FdInfo {
            fd: 3,
            ino: 9,
            kind: 16,
            detail: FdDetail::File {
                flags: 1 << 12 | 1,
                name: "/etc/shadow".into(),
                dev: 0,
            },
        };
        let sock = FdInfo {
            fd: 4,
            ino: 10,
            kind: 3,
            detail: FdDetail::Ipv4 {
                sip: [10, 0, 0, 1],
                dip: [10, 0, 0, 2],
                sport: 40000,
                dport: 443,
                l4proto: 2,
            },
        };
        Metadata {
            version: (1, 2),
            machine: Some(MachineInfo {
                num_cpus: 2,
                memory_bytes: 1 << 30,
                max_pid: 4194304,
                hostname: "box".into(),
                boot_ts_epoch: 1_700_000_000_000_000_000,
            }),
            threads: vec![t],
            fds: vec![(42, file), (42, sock)],
            users: vec![UserInfo {
                uid: 0,
                gid: 0,
                name: "root".into(),
                home: "/root".into(),
                shell: "/bin/bash".into(),
            }],
            groups: vec![GroupInfo {
                gid: 0,
                name: "root".into(),
            }],
            interface_blocks: 0,
        }
    }

    #[test]
    fn metadata_and_events_read_back_as_written() {
        let meta = sample();
        let path = std::env::temp_dir().join(format!(
            "fw-write-{}-{:?}.scap",
            std::process::id(),
            std::thread::current().id()
        ));
        for gzip in [false, true] {
            let mut w = Writer::create(&path, gzip, &meta).unwrap();
            let mut ev = EventBuf::default();
            ev.start(5); // close exit: res, fd
            ev.push_int(ParamType::Errno, 0);
            ev.push_int(ParamType::Fd, 3);
            w.event(123, 42, &ev).unwrap();
            w.finish().unwrap();
            let mut r = Reader::open(&path).unwrap();
            assert_eq!(r.metadata(), &meta, "gzip: {gzip}");
            let e = r.next_event().unwrap().unwrap();
            assert_eq!((e.ts, e.tid, e.type_name()), (123, 42, "close"));
            assert_eq!(e.param_named("fd"), Some(&3i64.to_le_bytes()[..]));
            assert!(r.next_event().unwrap().is_none());
        }
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn metadata_strings_are_cut_to_the_lengths_libs_reads() {
        let mut meta = sample();
        let t = &mut meta.threads[0];
        t.args = vec!["x".repeat(25_000), "y".into()];
        t.cwd = "é".repeat(700); // 1400 bytes, two per character
        t.env = (0..1000).map(|i| format!("VAR{i}=value")).collect();
        meta.users[0].home = "/h".repeat(200);
        let path = std::env::temp_dir().join(format!("fw-write-long-{}.scap", std::process::id()));
        Writer::create(&path, false, &meta)
            .unwrap()
            .finish()
            .unwrap();
        let r = Reader::open(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        let t = &r.metadata().threads[0];
        assert_eq!(
            t.args,
            vec!["x".repeat(MAX_LIST)],
            "the entry crossing the limit is cut"
        );
        assert_eq!(t.cwd.len(), 1022, "cut at a character boundary");
        assert!(t.env.iter().map(|e| e.len() + 1).sum::<usize>() <= MAX_LIST + 1); // the last has no NUL
        assert_eq!(r.metadata().users[0].home.len(), MAX_CREDENTIAL);
    }

    #[test]
    fn long_parameters_are_cut_to_what_their_length_field_says() {
        let mut ev = EventBuf::default();
        ev.start(5);
        ev.push(&vec![b'a'; 70_000]);
        assert_eq!(ev.lens, vec![65_535]);
        ev.start(324); // container json: 32-bit lengths
        ev.push_str(&vec![b'a'; 70_000]);
        assert_eq!(ev.lens, vec![70_001]);
    }
}
