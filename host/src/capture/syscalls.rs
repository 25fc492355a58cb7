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
    (157, "prctl", N),
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

/// The event name of a syscall number.
pub fn name_of(nr: u16) -> Option<&'static str> {
    SYSCALLS.iter().find(|s| s.0 == nr).map(|s| s.1)
}

/// The syscall number of an event name.
pub fn nr_of(name: &str) -> Option<u16> {
    SYSCALLS.iter().find(|s| s.1 == name).map(|s| s.0)
}

/// The in-kernel filter: per syscall number, 0 = never sent, 1 = always,
/// 2 = only when it succeeds. `rule_types` are the event types the loaded
/// rules can match (`None`: every type).
pub fn interesting_set(rule_types: Option<&[&str]>) -> Vec<u8> {
    let mut set = vec![0u8; 512];
    for &(nr, name, state) in SYSCALLS {
        let rules = rule_types.is_none_or(|t| t.contains(&name));
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
    fn names_are_known_event_names_and_unique() {
        let known = crate::fields::SourceFields::syscall();
        for &(nr, name, _) in SYSCALLS {
            assert!(known.is_event_name(name), "{name} is not an event name");
            assert_eq!(nr_of(name), Some(nr));
            assert_eq!(name_of(nr), Some(name));
        }
    }

    #[test]
    fn state_syscalls_are_sent_on_success_only() {
        let set = interesting_set(Some(&["connect"]));
        assert_eq!(set[42], 1);
        assert_eq!(set[257], 2);
        assert_eq!(set[101], 0);
        assert_eq!(interesting_set(None)[101], 1);
    }
}
