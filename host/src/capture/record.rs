//! The probe's record format (the other half is `ebpf/src/probe.bpf.c`).
//!
//! ```text
//! header (80 bytes, little endian)
//!   u64 ts        boot-time nanoseconds
//!   u32 tid, pid  thread id, process (thread group) id
//!   u16 kind      x86_64 syscall number, or KIND_FORK / KIND_PROCEXIT
//!   u16 nparams
//!   u32 len       header + parameters
//!   i64 ret       return value (exit events)
//!   u64 args[6]   raw syscall arguments
//! parameters, back to back
//!   u16 code      kind << 8 | argument index
//!   u16 len
//!   u8  data[len]
//! ```

/// A record kind that is not a syscall: a new thread or process. The
/// header's tid/pid are the child's; args: parent tid, parent pid, the
/// child's parent process id, the child's start time, the child's id in its
/// pid namespace.
pub const KIND_FORK: u16 = 1000;
/// A record kind that is not a syscall: a thread exited.
pub const KIND_PROCEXIT: u16 = 1001;

/// Parameter kinds (the high byte of a parameter's code).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ParamKind {
    /// A user string read from the argument with the code's index.
    UserStr = 1,
    /// A `sockaddr` read from the argument with the code's index.
    Sockaddr = 2,
    /// The socket tuple of an fd (index 7: the returned fd).
    Tuple = 3,
    /// Process details after a successful exec ([`ExecInfo`]).
    Exec = 4,
    /// The argument block, NUL separated.
    Args = 5,
    /// The environment block, NUL separated.
    Env = 6,
    /// The executable's path.
    ExePath = 7,
    /// The working directory.
    Cwd = 8,
    /// A cgroup's leaf name (the index is the controller's).
    Cgroup = 9,
    /// The file name given to execve.
    Filename = 10,
    /// Credentials ([`Creds`]).
    Creds = 11,
    /// Two fds written to user memory (pipe, socketpair).
    FdPair = 12,
    /// The path of an fd's file.
    FdPath = 13,
    /// The new root directory (chroot).
    Root = 14,
    /// The task's command name after exec.
    Comm = 15,
    /// The first bytes of the user buffer a read or write moved (up to
    /// the snapshot length).
    Data = 16,
}

impl ParamKind {
    fn from_u8(b: u8) -> Option<ParamKind> {
        use ParamKind::*;
        Some(match b {
            1 => UserStr,
            2 => Sockaddr,
            3 => Tuple,
            4 => Exec,
            5 => Args,
            6 => Env,
            7 => ExePath,
            8 => Cwd,
            9 => Cgroup,
            10 => Filename,
            11 => Creds,
            12 => FdPair,
            13 => FdPath,
            14 => Root,
            15 => Comm,
            16 => Data,
            _ => return None,
        })
    }
}

/// The index a parameter uses for "the return value".
pub const IDX_RET: u8 = 7;

const HDR_LEN: usize = 80;

/// One decoded record: its [`Header`] (reachable directly: `rec.tid`) and
/// parameters borrowed from the record's bytes.
#[derive(Debug)]
pub struct Record<'a> {
    /// The fixed part.
    pub header: Header,
    params: &'a [u8],
}

impl std::ops::Deref for Record<'_> {
    type Target = Header;
    fn deref(&self) -> &Header {
        &self.header
    }
}

/// A record that does not parse.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("malformed probe record: {0}")]
pub struct DecodeError(&'static str);

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}
fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().expect("4 bytes"))
}
fn u64_at(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().expect("8 bytes"))
}

impl<'a> Record<'a> {
    /// Parses a record; the parameters are validated lazily by [`Record::params`].
    pub fn parse(b: &'a [u8]) -> Result<Record<'a>, DecodeError> {
        if b.len() < HDR_LEN {
            return Err(DecodeError("shorter than its header"));
        }
        let len = u32_at(b, 20) as usize;
        if len < HDR_LEN || len > b.len() {
            return Err(DecodeError("length field out of range"));
        }
        let mut args = [0u64; 6];
        for (i, a) in args.iter_mut().enumerate() {
            *a = u64_at(b, 32 + 8 * i);
        }
        Ok(Record {
            header: Header {
                ts_boot: u64_at(b, 0),
                tid: u32_at(b, 8),
                pid: u32_at(b, 12),
                kind: u16_at(b, 16),
                ret: u64_at(b, 24) as i64,
                args,
            },
            params: &b[HDR_LEN..len],
        })
    }

    /// The parameters, in order; a truncated or unknown one ends the list.
    pub fn params(&self) -> impl Iterator<Item = (ParamKind, u8, &'a [u8])> + 'a {
        let mut rest = self.params;
        std::iter::from_fn(move || {
            if rest.len() < 4 {
                return None;
            }
            let code = u16_at(rest, 0);
            let len = u16_at(rest, 2) as usize;
            let data = rest.get(4..4 + len)?;
            rest = &rest[4 + len..];
            Some((ParamKind::from_u8((code >> 8) as u8)?, code as u8, data))
        })
    }

    /// The first parameter of a kind (and index, when given).
    pub fn param(&self, kind: ParamKind, idx: Option<u8>) -> Option<&'a [u8]> {
        self.params()
            .find(|&(k, i, _)| k == kind && idx.is_none_or(|x| x == i))
            .map(|(_, _, d)| d)
    }

    /// A string parameter without its terminating NUL.
    pub fn str_param(&self, kind: ParamKind, idx: Option<u8>) -> Option<&'a [u8]> {
        self.param(kind, idx).map(trim_nul)
    }
}

/// The bytes before the first NUL (all of them without one).
pub fn until_nul(b: &[u8]) -> &[u8] {
    memchr::memchr(0, b).map_or(b, |i| &b[..i])
}

/// Drops one trailing NUL.
pub fn trim_nul(b: &[u8]) -> &[u8] {
    b.strip_suffix(&[0]).unwrap_or(b)
}

/// Credentials as the probe sends them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Creds {
    /// Real user id.
    pub uid: u32,
    /// Real group id.
    pub gid: u32,
    /// Effective user id.
    pub euid: u32,
    /// Effective group id.
    pub egid: u32,
    /// Inheritable capabilities.
    pub cap_inheritable: u64,
    /// Permitted capabilities.
    pub cap_permitted: u64,
    /// Effective capabilities.
    pub cap_effective: u64,
}

impl Creds {
    /// Encodes the 40-byte layout.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(40);
        for v in [self.uid, self.gid, self.euid, self.egid] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        for v in [self.cap_inheritable, self.cap_permitted, self.cap_effective] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b
    }

    /// Decodes the 40-byte layout.
    pub fn decode(b: &[u8]) -> Option<Creds> {
        (b.len() >= 40).then(|| Creds {
            uid: u32_at(b, 0),
            gid: u32_at(b, 4),
            euid: u32_at(b, 8),
            egid: u32_at(b, 12),
            cap_inheritable: u64_at(b, 16),
            cap_permitted: u64_at(b, 24),
            cap_effective: u64_at(b, 32),
        })
    }
}

/// What the probe reads from the task after a successful exec.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExecInfo {
    /// Credentials.
    pub creds: Creds,
    /// Parent's process id.
    pub ppid: u32,
    /// Audit login uid (u32::MAX when unset).
    pub loginuid: u32,
    /// Audit session id.
    pub sessionid: u32,
    /// Controlling terminal (major << 20 | minor), 0 if none.
    pub tty: u32,
    /// Executable's inode number.
    pub exe_ino: u64,
    /// Executable's ctime, ns since the epoch.
    pub exe_ctime: i64,
    /// Executable's mtime, ns since the epoch.
    pub exe_mtime: i64,
    /// Task start, boot-time... monotonic ns (task->start_time).
    pub start_time: u64,
    /// Links to the executable (0: deleted or memfd).
    pub exe_nlink: u32,
    /// The executable lives on an overlay's upper layer. The probe leaves
    /// this 0 (the state finds it out); a replayed capture says it.
    pub upper_layer: bool,
    /// Process id in the task's pid namespace.
    pub vpid: u32,
    /// Thread id in the task's pid namespace.
    pub vtid: u32,
    /// Process group id.
    pub pgid: u32,
    /// Process group id in the task's pid namespace.
    pub vpgid: u32,
    /// Session id.
    pub sid: u32,
    /// Session id in the task's pid namespace (0: its leader is outside).
    pub vsid: u32,
    /// Its cgroup2 cgroup: the inode number of the cgroup's directory (0:
    /// unknown).
    pub cgroup_id: u64,
}

impl ExecInfo {
    /// Encodes the probe's `struct exec_info` (136 bytes).
    pub fn encode(&self) -> Vec<u8> {
        let split = |ns: i64| (ns.div_euclid(1_000_000_000), ns.rem_euclid(1_000_000_000));
        let (ct, ctn) = split(self.exe_ctime);
        let (mt, mtn) = split(self.exe_mtime);
        let mut b = self.creds.encode();
        for v in [self.ppid, self.loginuid, self.sessionid, self.tty] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        for v in [self.exe_ino, ct as u64, mt as u64] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        for v in [ctn as u32, mtn as u32] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(&self.start_time.to_le_bytes());
        for v in [
            self.exe_nlink,
            self.upper_layer as u32,
            self.vpid,
            self.vtid,
            self.pgid,
            self.vpgid,
            self.sid,
            self.vsid,
        ] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(&self.cgroup_id.to_le_bytes());
        b
    }

    /// Decodes the probe's `struct exec_info`.
    pub fn decode(b: &[u8]) -> Option<ExecInfo> {
        if b.len() < 104 {
            return None;
        }
        let ns = |sec: u64, nsec: u32| (sec as i64).saturating_mul(1_000_000_000) + nsec as i64;
        Some(ExecInfo {
            creds: Creds::decode(b)?,
            ppid: u32_at(b, 40),
            loginuid: u32_at(b, 44),
            sessionid: u32_at(b, 48),
            tty: u32_at(b, 52),
            exe_ino: u64_at(b, 56),
            exe_ctime: ns(u64_at(b, 64), u32_at(b, 80)),
            exe_mtime: ns(u64_at(b, 72), u32_at(b, 84)),
            start_time: u64_at(b, 88),
            exe_nlink: u32_at(b, 96),
            upper_layer: u32_at(b, 100) & 1 != 0,
            vpid: if b.len() >= 124 { u32_at(b, 104) } else { 0 },
            vtid: if b.len() >= 124 { u32_at(b, 108) } else { 0 },
            pgid: if b.len() >= 124 { u32_at(b, 112) } else { 0 },
            vpgid: if b.len() >= 124 { u32_at(b, 116) } else { 0 },
            sid: if b.len() >= 124 { u32_at(b, 120) } else { 0 },
            vsid: if b.len() >= 128 { u32_at(b, 124) } else { 0 },
            cgroup_id: if b.len() >= 136 { u64_at(b, 128) } else { 0 },
        })
    }
}

/// A socket's addresses as the probe reads them from the kernel socket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SockTuple {
    /// Address family (AF_INET 2, AF_INET6 10, AF_UNIX 1, ...).
    pub family: u16,
    /// Socket type (SOCK_STREAM 1, SOCK_DGRAM 2, SOCK_RAW 3).
    pub sock_type: u16,
    /// IP protocol (6 tcp, 17 udp, ...).
    pub protocol: u16,
    /// Local port.
    pub lport: u16,
    /// Remote port.
    pub rport: u16,
    /// Local address (v4 in the first 4 bytes).
    pub laddr: [u8; 16],
    /// Remote address.
    pub raddr: [u8; 16],
}

impl SockTuple {
    /// Encodes the probe's `struct tuple` (48 bytes).
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(48);
        for v in [
            self.family,
            self.sock_type,
            self.protocol,
            self.lport,
            self.rport,
            0,
            0,
            0,
        ] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(&self.laddr);
        b.extend_from_slice(&self.raddr);
        b
    }

    /// Decodes the probe's `struct tuple`.
    pub fn decode(b: &[u8]) -> Option<SockTuple> {
        (b.len() >= 48).then(|| SockTuple {
            family: u16_at(b, 0),
            sock_type: u16_at(b, 2),
            protocol: u16_at(b, 4),
            lport: u16_at(b, 6),
            rport: u16_at(b, 8),
            laddr: b[16..32].try_into().expect("16 bytes"),
            raddr: b[32..48].try_into().expect("16 bytes"),
        })
    }
}

/// The fixed part of a record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// Boot-time ns.
    pub ts_boot: u64,
    /// Thread id.
    pub tid: u32,
    /// Process id.
    pub pid: u32,
    /// Syscall number or [`KIND_FORK`] / [`KIND_PROCEXIT`].
    pub kind: u16,
    /// Return value.
    pub ret: i64,
    /// Raw arguments.
    pub args: [u64; 6],
}

/// Encodes a record as the probe writes it (for tests and replay tools).
/// Each parameter is (kind, index, data).
pub fn encode(h: &Header, params: &[(ParamKind, u8, &[u8])]) -> Vec<u8> {
    let mut b = Vec::new();
    encode_into(&mut b, h, params);
    b
}

/// [`encode`] into `b` (cleared first; its allocation is reused).
pub fn encode_into(b: &mut Vec<u8>, h: &Header, params: &[(ParamKind, u8, &[u8])]) {
    b.clear();
    b.resize(HDR_LEN, 0);
    b[0..8].copy_from_slice(&h.ts_boot.to_le_bytes());
    b[8..12].copy_from_slice(&h.tid.to_le_bytes());
    b[12..16].copy_from_slice(&h.pid.to_le_bytes());
    b[16..18].copy_from_slice(&h.kind.to_le_bytes());
    b[18..20].copy_from_slice(&(params.len() as u16).to_le_bytes());
    b[24..32].copy_from_slice(&h.ret.to_le_bytes());
    for (i, a) in h.args.iter().enumerate() {
        b[32 + 8 * i..40 + 8 * i].copy_from_slice(&a.to_le_bytes());
    }
    for &(kind, idx, data) in params {
        let code = (kind as u16) << 8 | idx as u16;
        b.extend_from_slice(&code.to_le_bytes());
        b.extend_from_slice(&(data.len() as u16).to_le_bytes());
        b.extend_from_slice(data);
    }
    let len = b.len() as u32;
    b[20..24].copy_from_slice(&len.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(kind: u16, params: &[(u16, &[u8])]) -> Vec<u8> {
        let params: Vec<(ParamKind, u8, &[u8])> = params
            .iter()
            .map(|&(code, d)| {
                (
                    ParamKind::from_u8((code >> 8) as u8).unwrap(),
                    code as u8,
                    d,
                )
            })
            .collect();
        encode(
            &Header {
                tid: 7,
                kind,
                ..Header::default()
            },
            &params,
        )
    }

    #[test]
    fn parses_params_and_stops_at_garbage() {
        let b = rec(257, &[(0x0101, b"/etc/shadow\0"), (0x0900, b"x")]);
        let mut junk = b.clone();
        junk.extend_from_slice(&[0xff, 0xff, 1, 0, 0]);
        let n = junk.len() as u32;
        junk[20..24].copy_from_slice(&n.to_le_bytes());
        assert_eq!(
            Record::parse(&junk).unwrap().params().count(),
            2,
            "unknown kind ends the list"
        );
        let r = Record::parse(&b).unwrap();
        assert_eq!(r.tid, 7);
        assert_eq!(r.kind, 257);
        assert_eq!(
            r.str_param(ParamKind::UserStr, Some(1)),
            Some(&b"/etc/shadow"[..])
        );
        assert_eq!(r.params().count(), 2);
        let mut cut = b.clone();
        cut.truncate(b.len() - 1);
        let n = cut.len() as u32;
        cut[20..24].copy_from_slice(&n.to_le_bytes());
        assert_eq!(Record::parse(&cut).unwrap().params().count(), 1);
        assert!(Record::parse(&b[..40]).is_err());
        let mut bad = b.clone();
        bad[20..24].copy_from_slice(&9999u32.to_le_bytes());
        assert!(Record::parse(&bad).is_err());
    }

    /// The probe's source, the other half of the format.
    const PROBE_C: &str = include_str!("../../../ebpf/src/probe.bpf.c");

    /// The probe's `#define NAME NUMBER` constants.
    fn probe_defines() -> std::collections::BTreeMap<&'static str, u64> {
        PROBE_C
            .lines()
            .filter_map(|l| {
                let mut w = l.strip_prefix("#define ")?.split_whitespace();
                let (name, value) = (w.next()?, w.next()?);
                let value = match value.strip_prefix("0x") {
                    Some(h) => u64::from_str_radix(h, 16).ok()?,
                    None => value.parse().ok()?,
                };
                Some((name, value))
            })
            .collect()
    }

    /// Offsets of the fields of `struct NAME` in the probe (natural
    /// alignment, as clang lays them out for BPF), its size and alignment.
    fn probe_struct(name: &str) -> (std::collections::HashMap<String, usize>, usize, usize) {
        let start = PROBE_C
            .find(&format!("struct {name} {{\n"))
            .unwrap_or_else(|| panic!("struct {name} in the probe"));
        let body = &PROBE_C[start..];
        let body = &body[body.find('{').unwrap() + 1..body.find("};").unwrap()];
        let mut offsets = std::collections::HashMap::new();
        let (mut at, mut align) = (0usize, 1usize);
        for decl in body.split(';').map(str::trim) {
            let decl = decl.rsplit("*/").next().unwrap_or(decl).trim();
            if decl.is_empty() {
                continue;
            }
            let (ty, names) = match decl.strip_prefix("struct ") {
                Some(rest) => rest.split_once(' ').unwrap(),
                None => decl.split_once(' ').unwrap(),
            };
            let (size, a) = match ty {
                "u8" => (1, 1),
                "u16" => (2, 2),
                "u32" => (4, 4),
                "u64" | "s64" => (8, 8),
                inner => {
                    let (_, size, align) = probe_struct(inner);
                    (size, align)
                }
            };
            align = align.max(a);
            for n in names.split(',').map(str::trim) {
                let (n, count) = match n.split_once('[') {
                    Some((n, c)) => (n, c.trim_end_matches(']').parse::<usize>().unwrap()),
                    None => (n, 1),
                };
                at = at.div_ceil(a) * a;
                offsets.insert(n.to_string(), at);
                at += size * count;
            }
        }
        (offsets, at.div_ceil(align) * align, align)
    }

    /// The probe's record kinds, parameter kinds and return index match
    /// this file's.
    #[test]
    fn probe_constants_match() {
        let defs = probe_defines();
        assert_eq!(defs["KIND_FORK"], u64::from(KIND_FORK));
        assert_eq!(defs["KIND_PROCEXIT"], u64::from(KIND_PROCEXIT));
        assert_eq!(defs["IDX_RET"], u64::from(IDX_RET));
        use ParamKind::*;
        let kinds = [
            ("P_USTR", UserStr),
            ("P_SOCKADDR", Sockaddr),
            ("P_TUPLE", Tuple),
            ("P_EXEC", Exec),
            ("P_ARGS", Args),
            ("P_ENV", Env),
            ("P_EXEPATH", ExePath),
            ("P_CWD", Cwd),
            ("P_CGROUP", Cgroup),
            ("P_FILENAME", Filename),
            ("P_CREDS", Creds),
            ("P_FDPAIR", FdPair),
            ("P_FDPATH", FdPath),
            ("P_ROOT", Root),
            ("P_COMM", Comm),
            ("P_DATA", Data),
        ];
        let in_probe: Vec<&str> = defs
            .keys()
            .copied()
            .filter(|n| n.starts_with("P_"))
            .collect();
        let mut here: Vec<&str> = kinds.iter().map(|(n, _)| *n).collect();
        here.sort_unstable();
        assert_eq!(in_probe, here, "parameter kinds differ");
        for (name, kind) in kinds {
            assert_eq!(defs[name], kind as u64, "{name}");
            assert_eq!(ParamKind::from_u8(kind as u8), Some(kind), "{name}");
        }
        let decodable = (0..=u8::MAX)
            .filter(|&b| ParamKind::from_u8(b).is_some())
            .count();
        assert_eq!(decodable, kinds.len(), "a kind only this side decodes");
    }

    /// The probe's structs have the sizes and offsets the decoders read.
    #[test]
    fn probe_structs_match() {
        let (hdr, size, _) = probe_struct("rec_hdr");
        assert_eq!(size, HDR_LEN);
        for (field, at) in [
            ("ts", 0),
            ("tid", 8),
            ("pid", 12),
            ("kind", 16),
            ("len", 20),
            ("ret", 24),
            ("args", 32),
        ] {
            assert_eq!(hdr[field], at, "rec_hdr.{field}");
        }
        let (creds, size, _) = probe_struct("creds");
        assert_eq!(size, 40);
        for (field, at) in [
            ("uid", 0),
            ("gid", 4),
            ("euid", 8),
            ("egid", 12),
            ("cap_inheritable", 16),
            ("cap_permitted", 24),
            ("cap_effective", 32),
        ] {
            assert_eq!(creds[field], at, "creds.{field}");
        }
        let (exec, size, _) = probe_struct("exec_info");
        assert_eq!(size, 136);
        for (field, at) in [
            ("ppid", 40),
            ("loginuid", 44),
            ("sessionid", 48),
            ("tty", 52),
            ("exe_ino", 56),
            ("exe_ctime_sec", 64),
            ("exe_mtime_sec", 72),
            ("exe_ctime_nsec", 80),
            ("exe_mtime_nsec", 84),
            ("start_time", 88),
            ("exe_nlink", 96),
            ("vpid", 104),
            ("vtid", 108),
            ("pgid", 112),
            ("vpgid", 116),
            ("sid", 120),
            ("vsid", 124),
            ("cgroup_id", 128),
        ] {
            assert_eq!(exec[field], at, "exec_info.{field}");
        }
        // `interesting` entries, which the host writes as one u32
        let (entry, size, _) = probe_struct("sc_entry");
        assert_eq!(size, 4);
        assert_eq!((entry["want"], entry["as64"]), (0, 2), "sc_entry");
        let (tuple, size, _) = probe_struct("tuple");
        assert_eq!(size, 48);
        for (field, at) in [
            ("family", 0),
            ("type", 2),
            ("protocol", 4),
            ("lport", 6),
            ("rport", 8),
            ("laddr", 16),
            ("raddr", 32),
        ] {
            assert_eq!(tuple[field], at, "tuple.{field}");
        }
    }
}
