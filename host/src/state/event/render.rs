//! Text renderings of syscall values: open flags, ptrace requests,
//! capabilities, errno names, socket families and addresses.

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

/// A socket family's name (`AF_INET`).
pub(super) fn socket_family(f: u16) -> &'static str {
    match f {
        1 => "AF_UNIX",
        2 => "AF_INET",
        10 => "AF_INET6",
        16 => "AF_NETLINK",
        17 => "AF_PACKET",
        _ => "AF_UNSPEC",
    }
}

/// A `sockaddr` as text: `ip:port`, or a unix socket's path.
pub(super) fn sockaddr_text(b: &[u8]) -> Option<String> {
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
        1 => Some(crate::state::lossy(crate::capture::record::until_nul(
            &b[2..],
        ))),
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

/// A ptrace request's name.
pub(super) fn ptrace_request(r: u64) -> &'static str {
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

/// Capability names by bit.
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
    let mut s = String::new();
    for (i, n) in CAPS.iter().enumerate() {
        if mask & (1 << i) != 0 {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(n);
        }
    }
    s
}

/// Calls `f` with a capability mask's names, rendered once per mask (a
/// few masks cover nearly every process: rules read them on every event).
pub(super) fn with_cap_names<R>(mask: u64, f: impl FnOnce(&str) -> R) -> R {
    thread_local! {
        static RENDERED: std::cell::RefCell<Vec<(u64, String)>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }
    RENDERED.with(|r| {
        let mut r = r.borrow_mut();
        let i = match r.iter().position(|(m, _)| *m == mask) {
            Some(i) => i,
            None => {
                if r.len() >= 16 {
                    r.remove(0);
                }
                r.push((mask, cap_names(mask)));
                r.len() - 1
            }
        };
        f(&r[i].1)
    })
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
