//! Per-process file descriptor tables.

use crate::capture::record::SockTuple;
use rustc_hash::FxHashMap;

/// What an fd refers to (libs' fd types; `typechar` gives Falco's letter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FdKind {
    /// A regular file (or unknown file kind).
    File,
    /// A directory.
    Directory,
    /// An IPv4 socket.
    Ipv4,
    /// An IPv6 socket.
    Ipv6,
    /// A unix socket.
    Unix,
    /// A netlink socket.
    Netlink,
    /// Another socket family (packet, ...).
    OtherSocket,
    /// A pipe.
    Pipe,
    /// An eventfd.
    Event,
    /// A signalfd.
    Signal,
    /// An epoll fd.
    Eventpoll,
    /// An inotify fd.
    Inotify,
    /// A timerfd.
    Timer,
    /// A memfd.
    Memfd,
    /// A bpf object.
    Bpf,
    /// A userfaultfd.
    Userfault,
    /// An io_uring.
    IoUring,
    /// A pidfd.
    Pidfd,
}

impl FdKind {
    /// `fd.typechar`.
    pub fn typechar(self) -> &'static str {
        use FdKind::*;
        match self {
            File | Memfd => "f",
            Directory => "d",
            Ipv4 => "4",
            Ipv6 => "6",
            Unix => "u",
            Netlink => "n",
            OtherSocket => "s",
            Pipe => "p",
            Event => "e",
            Signal => "s",
            Eventpoll => "l",
            Inotify => "i",
            Timer => "t",
            Bpf => "b",
            Userfault => "u",
            IoUring => "r",
            Pidfd => "P",
        }
    }

    /// `fd.type`.
    pub fn type_name(self) -> &'static str {
        use FdKind::*;
        match self {
            File | Memfd => "file",
            Directory => "directory",
            Ipv4 => "ipv4",
            Ipv6 => "ipv6",
            Unix => "unix",
            Netlink => "netlink",
            OtherSocket => "socket",
            Pipe => "pipe",
            Event => "event",
            Signal => "signalfd",
            Eventpoll => "eventpoll",
            Inotify => "inotify",
            Timer => "timerfd",
            Bpf => "bpf",
            Userfault => "userfaultfd",
            IoUring => "io_uring",
            Pidfd => "pidfd",
        }
    }

    /// The socket kind for an address family.
    pub fn for_family(family: u16) -> FdKind {
        match family {
            2 => FdKind::Ipv4,
            10 => FdKind::Ipv6,
            1 => FdKind::Unix,
            16 => FdKind::Netlink,
            _ => FdKind::OtherSocket,
        }
    }

    /// Whether the fd is an IP socket.
    pub fn is_ip(self) -> bool {
        matches!(self, FdKind::Ipv4 | FdKind::Ipv6)
    }
}

/// One open fd.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fd {
    /// What it is.
    pub kind: FdKind,
    /// `fd.name`: the path, or the connection for sockets.
    pub name: String,
    /// `fd.nameraw`: the path as the program gave it (not resolved), when
    /// it differs from `name`.
    pub nameraw: Option<String>,
    /// Socket addresses, once known.
    pub tuple: Option<SockTuple>,
    /// Inode number, when known (sockets read from /proc at start).
    pub ino: u64,
    /// The socket was created by accept (we are the server side).
    pub server: bool,
    /// Open flags (open family) or socket type flags (SOCK_CLOEXEC has O_CLOEXEC's value).
    pub flags: u64,
    /// The fd was renamed since it was opened (`fd.name_changed`): set when
    /// a socket's name moves from its bare form to a full connection.
    pub name_changed: bool,
}

impl Fd {
    /// An fd with a kind and name.
    pub fn new(kind: FdKind, name: impl Into<String>) -> Fd {
        Fd {
            kind,
            name: name.into(),
            nameraw: None,
            tuple: None,
            ino: 0,
            server: false,
            flags: 0,
            name_changed: false,
        }
    }
}

/// Upper bound on fds tracked per process (Falco's default `max_fds` order of magnitude).
pub const MAX_FDS_PER_PROCESS: usize = 16 * 1024;

/// The fd table of one process.
#[derive(Clone, Debug, Default)]
pub struct FdTable {
    fds: FxHashMap<i64, Fd>,
}

impl FdTable {
    /// The fd, if known.
    pub fn get(&self, fd: i64) -> Option<&Fd> {
        self.fds.get(&fd)
    }

    /// Mutable access to an fd.
    pub fn get_mut(&mut self, fd: i64) -> Option<&mut Fd> {
        self.fds.get_mut(&fd)
    }

    /// Adds or replaces an fd (ignored past the per-process bound).
    pub fn insert(&mut self, num: i64, fd: Fd) {
        if num < 0 || (self.fds.len() >= MAX_FDS_PER_PROCESS && !self.fds.contains_key(&num)) {
            return;
        }
        self.fds.insert(num, fd);
    }

    /// Removes an fd.
    pub fn remove(&mut self, num: i64) -> Option<Fd> {
        self.fds.remove(&num)
    }

    /// Removes every fd in `lo..=hi`.
    pub fn remove_range(&mut self, lo: i64, hi: i64) {
        self.fds.retain(|&n, _| n < lo || n > hi);
    }

    /// Drops fds opened with O_CLOEXEC (after a successful exec).
    pub fn close_on_exec(&mut self) {
        const O_CLOEXEC: u64 = 0o2000000;
        self.fds.retain(|_, f| f.flags & O_CLOEXEC == 0);
    }

    /// The fds, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (i64, &Fd)> {
        self.fds.iter().map(|(n, f)| (*n, f))
    }

    /// Number of tracked fds.
    pub fn len(&self) -> usize {
        self.fds.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.fds.is_empty()
    }
}
