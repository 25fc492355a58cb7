//! x86_64 system call numbers and the event names rules use for them.

/// How the state engine uses a syscall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateUse {
    /// Not needed for state.
    None,
    /// Needed when it succeeds (creates or changes an fd, cwd, credentials...).
    OnSuccess,
}

use StateUse::{None as N, OnSuccess as S};

/// (number, event name, state use). Names are libs' event names.
pub const SYSCALLS: &[(u16, &str, StateUse)] = &[
    (0, "read", N),
    (1, "write", N),
    (17, "pread", N),
    (18, "pwrite", N),
    (19, "readv", N),
    (20, "writev", N),
    (2, "open", S),
    (3, "close", S),
    (16, "ioctl", N),
    (22, "pipe", S),
    (32, "dup", S),
    (33, "dup2", S),
    (41, "socket", S),
    (42, "connect", S),
    (43, "accept", S),
    (44, "sendto", N),
    (45, "recvfrom", N),
    (46, "sendmsg", N),
    (47, "recvmsg", N),
    (48, "shutdown", N),
    (49, "bind", S),
    (50, "listen", N),
    (53, "socketpair", S),
    (56, "clone", N),
    (57, "fork", N),
    (58, "vfork", N),
    (59, "execve", S),
    (62, "kill", N),
    (72, "fcntl", S),
    (76, "truncate", N),
    (77, "ftruncate", N),
    (80, "chdir", S),
    (81, "fchdir", S),
    (82, "rename", N),
    (83, "mkdir", N),
    (84, "rmdir", N),
    (85, "creat", S),
    (86, "link", N),
    (87, "unlink", N),
    (88, "symlink", N),
    (90, "chmod", N),
    (91, "fchmod", N),
    (92, "chown", N),
    (94, "lchown", N),
    (101, "ptrace", N),
    (105, "setuid", S),
    (106, "setgid", S),
    (112, "setsid", N),
    (113, "setreuid", S),
    (114, "setregid", S),
    (117, "setresuid", S),
    (119, "setresgid", S),
    (126, "capset", S),
    (157, "prctl", S),
    (161, "chroot", S),
    (165, "mount", N),
    (166, "umount2", N),
    (175, "init_module", N),
    (213, "epoll_create", S),
    (253, "inotify_init", S),
    (257, "openat", S),
    (258, "mkdirat", N),
    (260, "fchownat", N),
    (263, "unlinkat", N),
    (264, "renameat", N),
    (265, "linkat", N),
    (266, "symlinkat", N),
    (268, "fchmodat", N),
    (272, "unshare", N),
    (282, "signalfd", S),
    (283, "timerfd_create", S),
    (284, "eventfd", S),
    (288, "accept4", S),
    (289, "signalfd4", S),
    (290, "eventfd2", S),
    (291, "epoll_create1", S),
    (292, "dup3", S),
    (293, "pipe2", S),
    (294, "inotify_init1", S),
    (299, "recvmmsg", N),
    (304, "open_by_handle_at", S),
    (307, "sendmmsg", N),
    (308, "setns", N),
    (313, "finit_module", N),
    (316, "renameat2", N),
    (319, "memfd_create", S),
    (321, "bpf", S),
    (322, "execveat", S),
    (323, "userfaultfd", S),
    (425, "io_uring_setup", S),
    (434, "pidfd_open", S),
    (435, "clone3", N),
    (436, "close_range", S),
    (437, "openat2", S),
    (438, "pidfd_getfd", S),
];

/// ia32 (32-bit x86) system calls captured as their x86_64 equivalent:
/// (ia32 number, the name in the kernel's ia32 table, the event name).
/// The 16-bit-id variants of the set*id/chown family map to the same
/// events. `socketcall` (the old multiplexer) is not mapped.
pub const IA32: &[(u16, &str, &str)] = &[
    (2, "fork", "fork"),
    (4, "write", "write"),
    (180, "pread64", "pread"),
    (181, "pwrite64", "pwrite"),
    (5, "open", "open"),
    (6, "close", "close"),
    (8, "creat", "creat"),
    (9, "link", "link"),
    (10, "unlink", "unlink"),
    (11, "execve", "execve"),
    (12, "chdir", "chdir"),
    (15, "chmod", "chmod"),
    (16, "lchown", "lchown"),
    (21, "mount", "mount"),
    (23, "setuid", "setuid"),
    (26, "ptrace", "ptrace"),
    (37, "kill", "kill"),
    (38, "rename", "rename"),
    (39, "mkdir", "mkdir"),
    (40, "rmdir", "rmdir"),
    (41, "dup", "dup"),
    (42, "pipe", "pipe"),
    (46, "setgid", "setgid"),
    (52, "umount2", "umount2"),
    (54, "ioctl", "ioctl"),
    (55, "fcntl", "fcntl"),
    (61, "chroot", "chroot"),
    (63, "dup2", "dup2"),
    (66, "setsid", "setsid"),
    (70, "setreuid", "setreuid"),
    (71, "setregid", "setregid"),
    (83, "symlink", "symlink"),
    (92, "truncate", "truncate"),
    (93, "ftruncate", "ftruncate"),
    (94, "fchmod", "fchmod"),
    (120, "clone", "clone"),
    (128, "init_module", "init_module"),
    (133, "fchdir", "fchdir"),
    (164, "setresuid", "setresuid"),
    (170, "setresgid", "setresgid"),
    (172, "prctl", "prctl"),
    (182, "chown", "chown"),
    (185, "capset", "capset"),
    (190, "vfork", "vfork"),
    (193, "truncate64", "truncate"),
    (194, "ftruncate64", "ftruncate"),
    (198, "lchown32", "lchown"),
    (203, "setreuid32", "setreuid"),
    (204, "setregid32", "setregid"),
    (208, "setresuid32", "setresuid"),
    (210, "setresgid32", "setresgid"),
    (212, "chown32", "chown"),
    (213, "setuid32", "setuid"),
    (214, "setgid32", "setgid"),
    (221, "fcntl64", "fcntl"),
    (254, "epoll_create", "epoll_create"),
    (291, "inotify_init", "inotify_init"),
    (295, "openat", "openat"),
    (296, "mkdirat", "mkdirat"),
    (298, "fchownat", "fchownat"),
    (301, "unlinkat", "unlinkat"),
    (302, "renameat", "renameat"),
    (303, "linkat", "linkat"),
    (304, "symlinkat", "symlinkat"),
    (306, "fchmodat", "fchmodat"),
    (310, "unshare", "unshare"),
    (321, "signalfd", "signalfd"),
    (322, "timerfd_create", "timerfd_create"),
    (323, "eventfd", "eventfd"),
    (327, "signalfd4", "signalfd4"),
    (328, "eventfd2", "eventfd2"),
    (329, "epoll_create1", "epoll_create1"),
    (330, "dup3", "dup3"),
    (331, "pipe2", "pipe2"),
    (332, "inotify_init1", "inotify_init1"),
    (337, "recvmmsg", "recvmmsg"),
    (342, "open_by_handle_at", "open_by_handle_at"),
    (345, "sendmmsg", "sendmmsg"),
    (346, "setns", "setns"),
    (350, "finit_module", "finit_module"),
    (353, "renameat2", "renameat2"),
    (356, "memfd_create", "memfd_create"),
    (357, "bpf", "bpf"),
    (358, "execveat", "execveat"),
    (359, "socket", "socket"),
    (360, "socketpair", "socketpair"),
    (361, "bind", "bind"),
    (362, "connect", "connect"),
    (363, "listen", "listen"),
    (364, "accept4", "accept4"),
    (369, "sendto", "sendto"),
    (370, "sendmsg", "sendmsg"),
    (371, "recvfrom", "recvfrom"),
    (372, "recvmsg", "recvmsg"),
    (373, "shutdown", "shutdown"),
    (374, "userfaultfd", "userfaultfd"),
    (425, "io_uring_setup", "io_uring_setup"),
    (434, "pidfd_open", "pidfd_open"),
    (435, "clone3", "clone3"),
    (436, "close_range", "close_range"),
    (437, "openat2", "openat2"),
    (438, "pidfd_getfd", "pidfd_getfd"),
];

/// The probe's `compat_nr` map: per ia32 number, the x86_64 number (0:
/// not captured).
pub fn compat_table() -> Vec<u16> {
    let mut t = vec![0u16; 512];
    for &(ia32, _, name) in IA32 {
        if let Some(nr) = nr_of(name) {
            t[ia32 as usize] = nr;
        }
    }
    t
}

/// The event name of a syscall number.
pub fn name_of(nr: u16) -> Option<&'static str> {
    // indexed by number, built once: this runs several times per event
    static BY_NR: std::sync::OnceLock<Vec<Option<&'static str>>> = std::sync::OnceLock::new();
    let by_nr = BY_NR.get_or_init(|| {
        let max = SYSCALLS.iter().map(|s| s.0 as usize).max().unwrap_or(0);
        let mut v = vec![None; max + 1];
        for s in SYSCALLS.iter().rev() {
            // the first entry of a number wins, as with a search
            v[s.0 as usize] = Some(s.1);
        }
        v
    });
    by_nr.get(nr as usize).copied().flatten()
}

/// `of(name)` for records of kind `kind` (`none` for kinds without a
/// syscall name), from a table of every kind built once in `cell`: for
/// what is decided by the syscall's name on every event.
pub fn by_kind<T: Copy>(
    cell: &'static std::sync::OnceLock<Vec<T>>,
    kind: u16,
    none: T,
    of: fn(&str) -> T,
) -> T {
    let table = cell.get_or_init(|| {
        (0..=crate::capture::record::KIND_PROCEXIT)
            .map(|k| name_of(k).map_or(none, of))
            .collect()
    });
    table.get(kind as usize).copied().unwrap_or(none)
}

/// Whether events of type `name` reach the rules (a captured syscall, or
/// a process exit); libs know many more names (`--list-events`).
pub fn delivered(name: &str) -> bool {
    name == "procexit" || nr_of(name).is_some()
}

/// The syscall number of an event name.
pub fn nr_of(name: &str) -> Option<u16> {
    SYSCALLS.iter().find(|s| s.1 == name).map(|s| s.0)
}

/// Which way a call moves data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Io {
    /// Into the process (read, recvfrom).
    Read,
    /// Out of it (write, sendto).
    Write,
}

/// The direction of the calls whose data the probe keeps (their first
/// bytes are `evt.buffer`).
pub fn data_direction(name: &str) -> Option<Io> {
    match name {
        "read" | "pread" | "readv" | "recvfrom" | "recvmsg" => Some(Io::Read),
        "write" | "pwrite" | "writev" | "sendto" | "sendmsg" => Some(Io::Write),
        _ => None,
    }
}

/// The I/O calls, by far the most frequent: sent only to rules (and
/// filters) that name them, never to those that match every type (as
/// Falco leaves them out unless `-A`).
pub const IO: &[&str] = &["read", "write", "pread", "pwrite", "readv", "writev"];

/// The in-kernel filter: per syscall number, 0 = never sent, 1 = always,
/// 2 = only when it succeeds. `rule_types` are the event types the loaded
/// rules can match (`None`: every type); of the [`IO`] calls, only those
/// in `io_named` (named by a rule) are sent.
pub fn interesting_set(rule_types: Option<&[&str]>, io_named: &[&str]) -> Vec<u8> {
    let mut set = vec![0u8; 512];
    for &(nr, name, state) in SYSCALLS {
        let rules = rule_types.is_none_or(|t| t.contains(&name))
            && (!IO.contains(&name) || io_named.contains(&name));
        set[nr as usize] = match (rules, state) {
            (true, _) => 1,
            (false, StateUse::OnSuccess) => 2,
            (false, StateUse::None) => 0,
        };
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_by_number_are_the_tables() {
        for &(nr, _, _) in SYSCALLS {
            let first = SYSCALLS.iter().find(|s| s.0 == nr).map(|s| s.1);
            assert_eq!(name_of(nr), first, "{nr}");
        }
        assert_eq!(name_of(u16::MAX), None);
    }

    #[test]
    fn names_are_known_event_names_and_unique() {
        let known = crate::fields::SourceFields::syscall();
        for &(nr, name, _) in SYSCALLS {
            assert!(known.is_event_name(name), "{name} is not an event name");
            assert_eq!(nr_of(name), Some(nr));
            assert_eq!(name_of(nr), Some(name));
        }
    }

    /// The ia32 numbers are the kernel's (checked against the installed
    /// `asm/unistd_32.h` when there is one) and every one maps to a
    /// captured event.
    #[test]
    fn ia32_numbers_match_the_kernel_headers() {
        let t = compat_table();
        for &(ia32, _, name) in IA32 {
            assert!(nr_of(name).is_some(), "{name} is not captured");
            assert_ne!(t[ia32 as usize], 0);
        }
        let header = "/usr/include/x86_64-linux-gnu/asm/unistd_32.h";
        let Ok(text) = std::fs::read_to_string(header) else {
            eprintln!("SKIPPED (header check): {header} is not installed");
            return;
        };
        for &(ia32, kernel, _) in IA32 {
            let line = format!("#define __NR_{kernel} {ia32}");
            assert!(
                text.lines().any(|l| l.trim() == line),
                "{header} has no `{line}`"
            );
        }
        let mapped: std::collections::HashSet<&str> = IA32.iter().map(|e| e.2).collect();
        for &(_, name, _) in SYSCALLS {
            let known = text.contains(&format!("#define __NR_{name} "));
            // ia32 read is not mapped: its x86_64 number, 0, is the
            // compat table's "none"; nor readv/writev: the probe reads a
            // 64-bit iovec
            if known && !["accept", "ioctl", "read", "readv", "writev"].contains(&name) {
                assert!(
                    mapped.contains(name),
                    "{name} exists in ia32 but is not mapped"
                );
            }
        }
    }

    #[test]
    fn state_syscalls_are_sent_on_success_only() {
        let set = interesting_set(Some(&["connect"]), &[]);
        assert_eq!(set[42], 1);
        assert_eq!(set[257], 2);
        assert_eq!(set[101], 0);
        assert_eq!(interesting_set(None, &[])[101], 1);
        // the I/O calls: only when named, whatever matches every type
        assert_eq!(interesting_set(None, &[])[0], 0, "read");
        assert_eq!(interesting_set(None, &["read"])[0], 1);
        assert_eq!(interesting_set(Some(&["read", "write"]), &["write"])[1], 1);
        assert_eq!(interesting_set(Some(&["read", "write"]), &["write"])[0], 0);
    }
}
