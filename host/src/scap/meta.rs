//! The metadata blocks at the start of a capture: machine info, the process
//! list, one fd list per thread, users and groups. They describe the machine
//! as it was when the capture started, so that a replay can seed the state
//! tables without looking at the machine it runs on.
//!
//! Entries of the newer block versions start with their own length: fields
//! a newer writer appends are skipped, fields an older writer did not have
//! keep their defaults (as libs does).

use super::read::FormatError;
use crate::state::process::split_nul;

/// Reads little-endian values from a block body, failing on truncation
/// with the offset (relative to the body) where it happened.
pub(super) struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(b: &'a [u8]) -> Cursor<'a> {
        Cursor { b, at: 0 }
    }

    pub(super) fn pos(&self) -> usize {
        self.at
    }

    pub(super) fn remaining(&self) -> usize {
        self.b.len() - self.at
    }

    pub(super) fn bytes(&mut self, n: usize) -> Result<&'a [u8], FormatError> {
        if self.remaining() < n {
            return Err(FormatError::at(
                self.at,
                format!("truncated: {n} byte(s) needed, {} left", self.remaining()),
            ));
        }
        let s = &self.b[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }

    /// An entry that starts with its own 32-bit length (the length included).
    fn sized_entry(&mut self) -> Result<&'a [u8], FormatError> {
        let at = self.at;
        let len = self.u32()? as usize;
        if len < 4 {
            return Err(FormatError::at(
                at,
                format!("entry length {len} is too short"),
            ));
        }
        self.bytes(len - 4)
    }

    pub(super) fn skip(&mut self, n: usize) -> Result<(), FormatError> {
        self.bytes(n).map(|_| ())
    }

    pub(super) fn u8(&mut self) -> Result<u8, FormatError> {
        Ok(self.bytes(1)?[0])
    }

    pub(super) fn u16(&mut self) -> Result<u16, FormatError> {
        Ok(u16::from_le_bytes(self.bytes(2)?.try_into().expect("2")))
    }

    pub(super) fn u32(&mut self) -> Result<u32, FormatError> {
        Ok(u32::from_le_bytes(self.bytes(4)?.try_into().expect("4")))
    }

    pub(super) fn u64(&mut self) -> Result<u64, FormatError> {
        Ok(u64::from_le_bytes(self.bytes(8)?.try_into().expect("8")))
    }

    fn i64(&mut self) -> Result<i64, FormatError> {
        Ok(self.u64()? as i64)
    }

    /// A string with a 16-bit length, without trailing NULs.
    fn str16(&mut self) -> Result<String, FormatError> {
        let n = self.u16()? as usize;
        Ok(text(self.bytes(n)?))
    }

    /// A NUL-separated list with a 16-bit length.
    fn list16(&mut self) -> Result<Vec<String>, FormatError> {
        let n = self.u16()? as usize;
        Ok(split_nul(self.bytes(n)?))
    }
}

/// Bytes as text, up to the first NUL.
pub fn text(b: &[u8]) -> String {
    crate::state::lossy(crate::capture::record::until_nul(b))
}

/// The machine the capture was taken on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MachineInfo {
    /// Number of CPUs.
    pub num_cpus: u32,
    /// Memory size in bytes.
    pub memory_bytes: u64,
    /// Highest pid.
    pub max_pid: u64,
    /// Host name.
    pub hostname: String,
    /// Boot time, ns since the epoch (0 in old captures).
    pub boot_ts_epoch: u64,
}

pub(super) fn machine(body: &[u8]) -> Result<MachineInfo, FormatError> {
    let mut c = Cursor::new(body);
    let num_cpus = c.u32()?;
    let memory_bytes = c.u64()?;
    let max_pid = c.u64()?;
    let hostname = text(c.bytes(128)?);
    let boot_ts_epoch = if c.remaining() >= 8 { c.u64()? } else { 0 };
    Ok(MachineInfo {
        num_cpus,
        memory_bytes,
        max_pid,
        hostname,
        boot_ts_epoch,
    })
}

/// One thread of the process list (libs' `scap_threadinfo`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadInfo {
    /// Thread id.
    pub tid: u64,
    /// Process id.
    pub pid: u64,
    /// Parent's thread id.
    pub ptid: u64,
    /// Session id (-1 when unknown).
    pub sid: i64,
    /// Process group id in the process's pid namespace (-1 when unknown).
    pub vpgid: i64,
    /// Command name.
    pub comm: String,
    /// First argument.
    pub exe: String,
    /// Executable's full path (empty in old captures).
    pub exepath: String,
    /// Arguments after the first.
    pub args: Vec<String>,
    /// Working directory.
    pub cwd: String,
    /// Open-file limit.
    pub fdlimit: u64,
    /// libs' thread flags.
    pub flags: u32,
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
    /// Environment.
    pub env: Vec<String>,
    /// Thread id in its pid namespace (-1 when unknown).
    pub vtid: i64,
    /// Process id in its pid namespace (-1 when unknown).
    pub vpid: i64,
    /// `controller=/path` per cgroup controller.
    pub cgroups: Vec<String>,
    /// Root directory.
    pub root: String,
    /// Controlling terminal.
    pub tty: u32,
    /// Audit login uid (u32::MAX when unset).
    pub loginuid: u32,
    /// Capabilities: inheritable, permitted, effective.
    pub caps: [u64; 3],
    /// Executable's inode, ctime and mtime (ns since the epoch).
    pub exe_ino: (u64, u64, u64),
    /// The executable is a memfd.
    pub exe_from_memfd: bool,
    /// The executable lives on an overlay's upper layer.
    pub exe_upper_layer: bool,
    /// Process group id (-1 when unknown).
    pub pgid: i64,
}

impl Default for ThreadInfo {
    fn default() -> ThreadInfo {
        ThreadInfo {
            tid: 0,
            pid: 0,
            ptid: 0,
            sid: -1,
            vpgid: -1,
            comm: String::new(),
            exe: String::new(),
            exepath: String::new(),
            args: Vec::new(),
            cwd: String::new(),
            fdlimit: 0,
            flags: 0,
            uid: 0,
            gid: 0,
            env: Vec::new(),
            vtid: -1,
            vpid: -1,
            cgroups: Vec::new(),
            root: String::new(),
            tty: 0,
            loginuid: u32::MAX,
            caps: [0; 3],
            exe_ino: (0, 0, 0),
            exe_from_memfd: false,
            exe_upper_layer: false,
            pgid: -1,
        }
    }
}

/// The process-list block versions, oldest first (V1..V9; the `_INT` ids
/// of the first three are the same versions).
pub(super) fn proclist_version(block_type: u32) -> Option<u8> {
    Some(match block_type {
        0x202 | 0x8000_ABCD => 1,
        0x207 | 0x8013_ABCD => 2,
        0x209 | 0x8014_ABCD => 3,
        0x210 => 4,
        0x211 => 5,
        0x212 => 6,
        0x213 => 7,
        0x214 => 8,
        0x215 => 9,
        _ => return None,
    })
}

pub(super) fn proclist(version: u8, body: &[u8]) -> Result<Vec<ThreadInfo>, FormatError> {
    let mut c = Cursor::new(body);
    let mut out = Vec::new();
    while c.remaining() >= 4 {
        let start = c.pos();
        out.push(if version >= 9 {
            let b = c.sized_entry()?;
            thread(version, &mut Cursor::new(b), true).map_err(|e| e.shift(start + 4))?
        } else {
            thread(version, &mut c, false)?
        });
    }
    Ok(out)
}

/// One process-list entry; `sized`: the cursor holds exactly the entry
/// (V9), so trailing fields are read while bytes remain.
fn thread(v: u8, c: &mut Cursor, sized: bool) -> Result<ThreadInfo, FormatError> {
    let mut t = ThreadInfo {
        tid: c.u64()?,
        pid: c.u64()?,
        ptid: c.u64()?,
        ..ThreadInfo::default()
    };
    if v >= 6 {
        t.sid = c.i64()?;
    }
    if v >= 8 {
        t.vpgid = c.i64()?;
    }
    t.comm = c.str16()?;
    t.exe = c.str16()?;
    if v >= 7 {
        t.exepath = c.str16()?;
    }
    t.args = c.list16()?;
    t.cwd = c.str16()?;
    t.fdlimit = c.u64()?;
    t.flags = c.u32()?;
    t.uid = c.u32()?;
    t.gid = c.u32()?;
    if v >= 2 {
        c.skip(4 * 3 + 8 * 2)?; // vmsize, vmrss, vmswap (kB), major and minor faults
    }
    if v >= 3 {
        t.env = c.list16()?;
    }
    if v >= 4 {
        t.vtid = c.i64()?;
        t.vpid = c.i64()?;
        t.cgroups = c.list16()?;
    }
    if v >= 5 {
        t.root = c.str16()?;
    }
    if sized {
        trailing(c, &mut t)?;
    }
    Ok(t)
}

/// The fields V9 entries gained over time, each present only if the
/// entry is long enough. Writers before libs 0.10 had no pid-namespace
/// start time and tty (29 bytes or less remain then).
fn trailing(c: &mut Cursor, t: &mut ThreadInfo) -> Result<(), FormatError> {
    if c.remaining() > 29 {
        c.skip(8)?; // pidns_init_start_ts
        if c.remaining() >= 4 {
            t.tty = c.u32()?;
        }
    }
    if c.remaining() >= 4 {
        t.loginuid = c.u32()?;
    }
    if c.remaining() >= 1 {
        c.skip(1)?; // exe_writable
    }
    for cap in &mut t.caps {
        if c.remaining() >= 8 {
            *cap = c.u64()?;
        }
    }
    if c.remaining() >= 1 {
        t.exe_upper_layer = c.u8()? != 0;
    }
    if c.remaining() >= 24 {
        t.exe_ino = (c.u64()?, c.u64()?, c.u64()?);
    }
    if c.remaining() >= 1 {
        t.exe_from_memfd = c.u8()? != 0;
    }
    if c.remaining() >= 1 {
        c.skip(1)?; // exe_lower_layer
    }
    if c.remaining() >= 8 {
        t.pgid = c.i64()?;
    }
    Ok(())
}

/// What an fd of the fd list refers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FdDetail {
    /// A connected IPv4 socket: source and destination address and port, L4 protocol.
    Ipv4 {
        /// Source address (network order bytes).
        sip: [u8; 4],
        /// Destination address.
        dip: [u8; 4],
        /// Source port.
        sport: u16,
        /// Destination port.
        dport: u16,
        /// L4 protocol (libs' `SCAP_L4_*`).
        l4proto: u8,
    },
    /// A listening IPv4 socket.
    Ipv4Server {
        /// Address.
        ip: [u8; 4],
        /// Port.
        port: u16,
        /// L4 protocol.
        l4proto: u8,
    },
    /// A connected IPv6 socket.
    Ipv6 {
        /// Source address.
        sip: [u8; 16],
        /// Destination address.
        dip: [u8; 16],
        /// Source port.
        sport: u16,
        /// Destination port.
        dport: u16,
        /// L4 protocol.
        l4proto: u8,
    },
    /// A listening IPv6 socket.
    Ipv6Server {
        /// Address.
        ip: [u8; 16],
        /// Port.
        port: u16,
        /// L4 protocol.
        l4proto: u8,
    },
    /// A unix socket: kernel addresses of both ends and the path.
    Unix {
        /// Source.
        source: u64,
        /// Destination.
        dest: u64,
        /// Path.
        path: String,
    },
    /// A file with its open flags (libs' PPM flags) and device.
    File {
        /// Open flags.
        flags: u32,
        /// Path.
        name: String,
        /// Device number.
        dev: u32,
    },
    /// Any other kind, with its name.
    Named(String),
    /// Nothing recorded.
    Unknown,
}

/// One fd of a thread (libs' `scap_fdinfo`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FdInfo {
    /// The fd number.
    pub fd: i64,
    /// Inode number.
    pub ino: u64,
    /// libs' `scap_fd_type` (FILE 1, DIRECTORY 2, IPV4_SOCK 3, ... PIDFD 21).
    pub kind: u8,
    /// Type-specific data.
    pub detail: FdDetail,
}

pub(super) fn fdlist(v2: bool, body: &[u8]) -> Result<(u64, Vec<FdInfo>), FormatError> {
    let mut c = Cursor::new(body);
    let tid = c.u64()?;
    let mut out = Vec::new();
    while c.remaining() >= 4 {
        let start = c.pos();
        out.push(if v2 {
            let b = c.sized_entry()?;
            fd_entry(&mut Cursor::new(b), true).map_err(|e| e.shift(start + 4))?
        } else {
            fd_entry(&mut c, false)?
        });
    }
    Ok((tid, out))
}

fn fd_entry(c: &mut Cursor, sized: bool) -> Result<FdInfo, FormatError> {
    let fd = c.u64()? as i64;
    let ino = c.u64()?;
    let kind = c.u8()?;
    let arr4 =
        |c: &mut Cursor| -> Result<[u8; 4], FormatError> { Ok(c.bytes(4)?.try_into().expect("4")) };
    let arr16 = |c: &mut Cursor| -> Result<[u8; 16], FormatError> {
        Ok(c.bytes(16)?.try_into().expect("16"))
    };
    let detail = match kind {
        3 => FdDetail::Ipv4 {
            sip: arr4(c)?,
            dip: arr4(c)?,
            sport: c.u16()?,
            dport: c.u16()?,
            l4proto: c.u8()?,
        },
        5 => FdDetail::Ipv4Server {
            ip: arr4(c)?,
            port: c.u16()?,
            l4proto: c.u8()?,
        },
        4 => FdDetail::Ipv6 {
            sip: arr16(c)?,
            dip: arr16(c)?,
            sport: c.u16()?,
            dport: c.u16()?,
            l4proto: c.u8()?,
        },
        6 => FdDetail::Ipv6Server {
            ip: arr16(c)?,
            port: c.u16()?,
            l4proto: c.u8()?,
        },
        8 => FdDetail::Unix {
            source: c.u64()?,
            dest: c.u64()?,
            path: c.str16()?,
        },
        16 => {
            let flags = c.u32()?;
            let name = c.str16()?;
            let dev = if sized && c.remaining() >= 4 {
                c.u32()?
            } else {
                0
            };
            FdDetail::File { flags, name, dev }
        }
        0 => FdDetail::Unknown,
        1 | 2 | 7 | 9..=15 | 17..=21 => FdDetail::Named(c.str16()?),
        other => FdDetail::Named(format!("unknown-type:[{other}]")),
    };
    Ok(FdInfo {
        fd,
        ino,
        kind,
        detail,
    })
}

/// A user of the user list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInfo {
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Name.
    pub name: String,
    /// Home directory.
    pub home: String,
    /// Login shell.
    pub shell: String,
}

/// A group of the user list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupInfo {
    /// Group id.
    pub gid: u32,
    /// Name.
    pub name: String,
}

pub(super) fn userlist(
    v2: bool,
    body: &[u8],
) -> Result<(Vec<UserInfo>, Vec<GroupInfo>), FormatError> {
    let mut c = Cursor::new(body);
    let (mut users, mut groups) = (Vec::new(), Vec::new());
    while c.remaining() >= 4 {
        let start = c.pos();
        let mut one = |c: &mut Cursor| -> Result<(), FormatError> {
            match c.u8()? {
                0 => users.push(UserInfo {
                    uid: c.u32()?,
                    gid: c.u32()?,
                    name: c.str16()?,
                    home: c.str16()?,
                    shell: c.str16()?,
                }),
                _ => groups.push(GroupInfo {
                    gid: c.u32()?,
                    name: c.str16()?,
                }),
            }
            Ok(())
        };
        if v2 {
            let b = c.sized_entry()?;
            one(&mut Cursor::new(b)).map_err(|e| e.shift(start + 4))?;
        } else {
            one(&mut c)?;
        }
    }
    Ok((users, groups))
}
