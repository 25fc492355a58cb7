//! The scap event table: for each event code, its name, direction,
//! category, flags and parameter list (name and wire type).
//!
//! These are facts of the capture format (libs' `driver/event_table.c` and
//! `ppm_events_public.h`, falcosecurity/libs @ 48dfd53cd), transcribed by a
//! script into this table; codes are the array index. Only what the reader
//! and the converter need is kept (no print formats, no flag-name tables).

/// A parameter's wire type (libs' `PT_*`; the values are the codes on the wire).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum ParamType {
    None = 0,
    Int8 = 1,
    Int16 = 2,
    Int32 = 3,
    Int64 = 4,
    Uint8 = 5,
    Uint16 = 6,
    Uint32 = 7,
    Uint64 = 8,
    Charbuf = 9,
    Bytebuf = 10,
    Errno = 11,
    Sockaddr = 12,
    Socktuple = 13,
    Fd = 14,
    Pid = 15,
    Fdlist = 16,
    Fspath = 17,
    Syscallid = 18,
    Sigtype = 19,
    Reltime = 20,
    Abstime = 21,
    Port = 22,
    L4proto = 23,
    Sockfamily = 24,
    Bool = 25,
    Ipv4addr = 26,
    Dyn = 27,
    Flags8 = 28,
    Flags16 = 29,
    Flags32 = 30,
    Uid = 31,
    Gid = 32,
    Double = 33,
    Sigset = 34,
    Charbufarray = 35,
    CharbufPairArray = 36,
    Ipv4net = 37,
    Ipv6addr = 38,
    Ipv6net = 39,
    Ipaddr = 40,
    Ipnet = 41,
    Mode = 42,
    Fsrelpath = 43,
    Enumflags8 = 44,
    Enumflags16 = 45,
    Enumflags32 = 46,
    Fd32 = 47,
    Pid32 = 48,
}

/// Event category bit: an event made by the libraries, not the kernel.
pub const EC_INTERNAL: u32 = 1 << 8;
/// Event category bit: a meta-event (notifications, container/user info);
/// sysdig does not print these.
pub const EC_METAEVENT: u32 = 1 << 12;
/// Event flag: kept for old captures only.
pub const EF_OLD_VERSION: u32 = 1 << 9;
/// Event flag: parameter lengths are 32-bit (else 16-bit).
pub const EF_LARGE_PAYLOAD: u32 = 1 << 11;
/// Event flag: no longer produced.
pub const EF_UNUSED: u32 = 1 << 6;

/// One event code's description.
#[derive(Debug)]
pub struct EventInfo {
    /// The event's name (`evt.type`).
    pub name: &'static str,
    /// An exit event (else an enter event).
    pub exit: bool,
    /// Category bits (`EC_*`).
    pub category: u32,
    /// Flags (`EF_*`).
    pub flags: u32,
    /// Parameters: name and wire type.
    pub params: &'static [(&'static str, ParamType)],
}

impl EventInfo {
    /// The width of this event's parameter length fields.
    pub fn len_size(&self) -> usize {
        if self.flags & EF_LARGE_PAYLOAD != 0 {
            4
        } else {
            2
        }
    }
}

/// The description of an event code, if the code is known.
pub fn info(code: u16) -> Option<&'static EventInfo> {
    EVENTS.get(code as usize)
}

/// Number of event codes (libs' `PPM_EVENT_MAX`).
pub const EVENT_MAX: u16 = EVENTS.len() as u16;

use ParamType as P;

#[rustfmt::skip]
static EVENTS: [EventInfo; 454] = [
    EventInfo { name: "syscall", exit: false, category: 0x201, flags: 0x1200, params: &[("ID", P::Syscallid), ("nativeID", P::Uint16)] }, // 0 PPME_GENERIC_E
    EventInfo { name: "syscall", exit: true, category: 0x201, flags: 0x1000, params: &[("ID", P::Syscallid), ("nativeID", P::Uint16)] }, // 1 PPME_GENERIC_X
    EventInfo { name: "open", exit: false, category: 0x202, flags: 0x1021, params: &[("name", P::Fspath), ("flags", P::Flags32), ("mode", P::Uint32)] }, // 2 PPME_SYSCALL_OPEN_E
    EventInfo { name: "open", exit: true, category: 0x202, flags: 0x1021, params: &[("fd", P::Fd), ("name", P::Fspath), ("flags", P::Flags32), ("mode", P::Uint32), ("dev", P::Uint32), ("ino", P::Uint64)] }, // 3 PPME_SYSCALL_OPEN_X
    EventInfo { name: "close", exit: false, category: 0x222, flags: 0x1226, params: &[("fd", P::Fd)] }, // 4 PPME_SYSCALL_CLOSE_E
    EventInfo { name: "close", exit: true, category: 0x222, flags: 0x1026, params: &[("res", P::Errno), ("fd", P::Fd)] }, // 5 PPME_SYSCALL_CLOSE_X
    EventInfo { name: "read", exit: false, category: 0x220, flags: 0x120c, params: &[("fd", P::Fd), ("size", P::Uint32)] }, // 6 PPME_SYSCALL_READ_E
    EventInfo { name: "read", exit: true, category: 0x220, flags: 0x100c, params: &[("res", P::Errno), ("data", P::Bytebuf), ("fd", P::Fd), ("size", P::Uint32)] }, // 7 PPME_SYSCALL_READ_X
    EventInfo { name: "write", exit: false, category: 0x221, flags: 0x1214, params: &[("fd", P::Fd), ("size", P::Uint32)] }, // 8 PPME_SYSCALL_WRITE_E
    EventInfo { name: "write", exit: true, category: 0x221, flags: 0x1014, params: &[("res", P::Errno), ("data", P::Bytebuf), ("fd", P::Fd), ("size", P::Uint32)] }, // 9 PPME_SYSCALL_WRITE_X
    EventInfo { name: "brk", exit: false, category: 0x205, flags: 0x1200, params: &[("size", P::Uint32)] }, // 10 PPME_SYSCALL_BRK_1_E
    EventInfo { name: "brk", exit: true, category: 0x205, flags: 0x1200, params: &[("res", P::Uint64)] }, // 11 PPME_SYSCALL_BRK_1_X
    EventInfo { name: "execve", exit: false, category: 0x206, flags: 0x1220, params: &[] }, // 12 PPME_SYSCALL_EXECVE_8_E
    EventInfo { name: "execve", exit: true, category: 0x206, flags: 0x1220, params: &[("res", P::Errno), ("exe", P::Charbuf), ("args", P::Bytebuf), ("tid", P::Pid), ("pid", P::Pid), ("ptid", P::Pid), ("cwd", P::Charbuf), ("fdlimit", P::Uint64)] }, // 13 PPME_SYSCALL_EXECVE_8_X
    EventInfo { name: "clone", exit: false, category: 0x206, flags: 0x220, params: &[] }, // 14 PPME_SYSCALL_CLONE_11_E
    EventInfo { name: "clone", exit: true, category: 0x206, flags: 0x1220, params: &[("res", P::Pid), ("exe", P::Charbuf), ("args", P::Bytebuf), ("tid", P::Pid), ("pid", P::Pid), ("ptid", P::Pid), ("cwd", P::Charbuf), ("fdlimit", P::Int64), ("flags", P::Flags32), ("uid", P::Uint32), ("gid", P::Uint32)] }, // 15 PPME_SYSCALL_CLONE_11_X
    EventInfo { name: "procexit", exit: false, category: 0x406, flags: 0x1220, params: &[] }, // 16 PPME_PROCEXIT_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 17 PPME_PROCEXIT_X
    EventInfo { name: "socket", exit: false, category: 0x203, flags: 0x1221, params: &[("domain", P::Enumflags32), ("type", P::Uint32), ("proto", P::Uint32)] }, // 18 PPME_SOCKET_SOCKET_E
    EventInfo { name: "socket", exit: true, category: 0x203, flags: 0x1021, params: &[("fd", P::Fd), ("domain", P::Enumflags32), ("type", P::Uint32), ("proto", P::Uint32), ("flags", P::Flags32)] }, // 19 PPME_SOCKET_SOCKET_X
    EventInfo { name: "bind", exit: false, category: 0x203, flags: 0x1224, params: &[("fd", P::Fd)] }, // 20 PPME_SOCKET_BIND_E
    EventInfo { name: "bind", exit: true, category: 0x203, flags: 0x1024, params: &[("res", P::Errno), ("addr", P::Sockaddr), ("fd", P::Fd)] }, // 21 PPME_SOCKET_BIND_X
    EventInfo { name: "connect", exit: false, category: 0x203, flags: 0x1024, params: &[("fd", P::Fd), ("addr", P::Sockaddr)] }, // 22 PPME_SOCKET_CONNECT_E
    EventInfo { name: "connect", exit: true, category: 0x203, flags: 0x1024, params: &[("res", P::Errno), ("tuple", P::Socktuple), ("fd", P::Fd), ("addr", P::Sockaddr)] }, // 23 PPME_SOCKET_CONNECT_X
    EventInfo { name: "listen", exit: false, category: 0x203, flags: 0x1204, params: &[("fd", P::Fd), ("backlog", P::Int32)] }, // 24 PPME_SOCKET_LISTEN_E
    EventInfo { name: "listen", exit: true, category: 0x203, flags: 0x1004, params: &[("res", P::Errno), ("fd", P::Fd), ("backlog", P::Int32)] }, // 25 PPME_SOCKET_LISTEN_X
    EventInfo { name: "accept", exit: false, category: 0x203, flags: 0x221, params: &[] }, // 26 PPME_SOCKET_ACCEPT_E
    EventInfo { name: "accept", exit: true, category: 0x203, flags: 0x1221, params: &[("fd", P::Fd), ("tuple", P::Socktuple), ("queuepct", P::Uint8)] }, // 27 PPME_SOCKET_ACCEPT_X
    EventInfo { name: "send", exit: false, category: 0x221, flags: 0x1214, params: &[("fd", P::Fd), ("size", P::Uint32)] }, // 28 PPME_SOCKET_SEND_E
    EventInfo { name: "send", exit: true, category: 0x221, flags: 0x1014, params: &[("res", P::Errno), ("data", P::Bytebuf), ("fd", P::Fd), ("size", P::Uint32), ("tuple", P::Socktuple)] }, // 29 PPME_SOCKET_SEND_X
    EventInfo { name: "sendto", exit: false, category: 0x221, flags: 0x1234, params: &[("fd", P::Fd), ("size", P::Uint32), ("tuple", P::Socktuple)] }, // 30 PPME_SOCKET_SENDTO_E
    EventInfo { name: "sendto", exit: true, category: 0x221, flags: 0x1034, params: &[("res", P::Errno), ("data", P::Bytebuf), ("fd", P::Fd), ("size", P::Uint32), ("tuple", P::Socktuple)] }, // 31 PPME_SOCKET_SENDTO_X
    EventInfo { name: "recv", exit: false, category: 0x220, flags: 0x120c, params: &[("fd", P::Fd), ("size", P::Uint32)] }, // 32 PPME_SOCKET_RECV_E
    EventInfo { name: "recv", exit: true, category: 0x220, flags: 0x100c, params: &[("res", P::Errno), ("data", P::Bytebuf), ("fd", P::Fd), ("size", P::Uint32), ("tuple", P::Socktuple)] }, // 33 PPME_SOCKET_RECV_X
    EventInfo { name: "recvfrom", exit: false, category: 0x220, flags: 0x122c, params: &[("fd", P::Fd), ("size", P::Uint32)] }, // 34 PPME_SOCKET_RECVFROM_E
    EventInfo { name: "recvfrom", exit: true, category: 0x220, flags: 0x102c, params: &[("res", P::Errno), ("data", P::Bytebuf), ("tuple", P::Socktuple), ("fd", P::Fd), ("size", P::Uint32)] }, // 35 PPME_SOCKET_RECVFROM_X
    EventInfo { name: "shutdown", exit: false, category: 0x203, flags: 0x1224, params: &[("fd", P::Fd), ("how", P::Enumflags8)] }, // 36 PPME_SOCKET_SHUTDOWN_E
    EventInfo { name: "shutdown", exit: true, category: 0x203, flags: 0x1024, params: &[("res", P::Errno), ("fd", P::Fd), ("how", P::Enumflags8)] }, // 37 PPME_SOCKET_SHUTDOWN_X
    EventInfo { name: "getsockname", exit: false, category: 0x203, flags: 0x200, params: &[] }, // 38 PPME_SOCKET_GETSOCKNAME_E
    EventInfo { name: "getsockname", exit: true, category: 0x203, flags: 0x0, params: &[] }, // 39 PPME_SOCKET_GETSOCKNAME_X
    EventInfo { name: "getpeername", exit: false, category: 0x203, flags: 0x200, params: &[] }, // 40 PPME_SOCKET_GETPEERNAME_E
    EventInfo { name: "getpeername", exit: true, category: 0x203, flags: 0x0, params: &[] }, // 41 PPME_SOCKET_GETPEERNAME_X
    EventInfo { name: "socketpair", exit: false, category: 0x204, flags: 0x1221, params: &[("domain", P::Enumflags32), ("type", P::Uint32), ("proto", P::Uint32)] }, // 42 PPME_SOCKET_SOCKETPAIR_E
    EventInfo { name: "socketpair", exit: true, category: 0x204, flags: 0x1021, params: &[("res", P::Errno), ("fd1", P::Fd), ("fd2", P::Fd), ("source", P::Uint64), ("peer", P::Uint64), ("domain", P::Enumflags32), ("type", P::Uint32), ("proto", P::Uint32)] }, // 43 PPME_SOCKET_SOCKETPAIR_X
    EventInfo { name: "setsockopt", exit: false, category: 0x203, flags: 0x200, params: &[] }, // 44 PPME_SOCKET_SETSOCKOPT_E
    EventInfo { name: "setsockopt", exit: true, category: 0x203, flags: 0x4, params: &[("res", P::Errno), ("fd", P::Fd), ("level", P::Enumflags8), ("optname", P::Enumflags8), ("val", P::Dyn), ("optlen", P::Uint32)] }, // 45 PPME_SOCKET_SETSOCKOPT_X
    EventInfo { name: "getsockopt", exit: false, category: 0x203, flags: 0x220, params: &[] }, // 46 PPME_SOCKET_GETSOCKOPT_E
    EventInfo { name: "getsockopt", exit: true, category: 0x203, flags: 0x24, params: &[("res", P::Errno), ("fd", P::Fd), ("level", P::Enumflags8), ("optname", P::Enumflags8), ("val", P::Dyn), ("optlen", P::Uint32)] }, // 47 PPME_SOCKET_GETSOCKOPT_X
    EventInfo { name: "sendmsg", exit: false, category: 0x221, flags: 0x1234, params: &[("fd", P::Fd), ("size", P::Uint32), ("tuple", P::Socktuple)] }, // 48 PPME_SOCKET_SENDMSG_E
    EventInfo { name: "sendmsg", exit: true, category: 0x221, flags: 0x1034, params: &[("res", P::Errno), ("data", P::Bytebuf), ("fd", P::Fd), ("size", P::Uint32), ("tuple", P::Socktuple)] }, // 49 PPME_SOCKET_SENDMSG_X
    EventInfo { name: "sendmmsg", exit: false, category: 0x221, flags: 0x200, params: &[] }, // 50 PPME_SOCKET_SENDMMSG_E
    EventInfo { name: "sendmmsg", exit: true, category: 0x221, flags: 0x1034, params: &[("res", P::Errno), ("fd", P::Fd), ("size", P::Uint32), ("data", P::Bytebuf), ("tuple", P::Socktuple)] }, // 51 PPME_SOCKET_SENDMMSG_X
    EventInfo { name: "recvmsg", exit: false, category: 0x220, flags: 0x122c, params: &[("fd", P::Fd)] }, // 52 PPME_SOCKET_RECVMSG_E
    EventInfo { name: "recvmsg", exit: true, category: 0x220, flags: 0x102c, params: &[("res", P::Errno), ("size", P::Uint32), ("data", P::Bytebuf), ("tuple", P::Socktuple), ("msgcontrol", P::Bytebuf), ("fd", P::Fd)] }, // 53 PPME_SOCKET_RECVMSG_X
    EventInfo { name: "recvmmsg", exit: false, category: 0x220, flags: 0x200, params: &[] }, // 54 PPME_SOCKET_RECVMMSG_E
    EventInfo { name: "recvmmsg", exit: true, category: 0x220, flags: 0x102c, params: &[("res", P::Errno), ("fd", P::Fd), ("size", P::Uint32), ("data", P::Bytebuf), ("tuple", P::Socktuple), ("msgcontrol", P::Bytebuf)] }, // 55 PPME_SOCKET_RECVMMSG_X
    EventInfo { name: "accept", exit: false, category: 0x203, flags: 0x1221, params: &[("flags", P::Int32)] }, // 56 PPME_SOCKET_ACCEPT4_E
    EventInfo { name: "accept", exit: true, category: 0x203, flags: 0x1221, params: &[("fd", P::Fd), ("tuple", P::Socktuple), ("queuepct", P::Uint8)] }, // 57 PPME_SOCKET_ACCEPT4_X
    EventInfo { name: "creat", exit: false, category: 0x202, flags: 0x1021, params: &[("name", P::Fspath), ("mode", P::Uint32)] }, // 58 PPME_SYSCALL_CREAT_E
    EventInfo { name: "creat", exit: true, category: 0x202, flags: 0x1021, params: &[("fd", P::Fd), ("name", P::Fspath), ("mode", P::Uint32), ("dev", P::Uint32), ("ino", P::Uint64), ("creat_flags", P::Flags16)] }, // 59 PPME_SYSCALL_CREAT_X
    EventInfo { name: "pipe", exit: false, category: 0x204, flags: 0x221, params: &[] }, // 60 PPME_SYSCALL_PIPE_E
    EventInfo { name: "pipe", exit: true, category: 0x204, flags: 0x21, params: &[("res", P::Errno), ("fd1", P::Fd), ("fd2", P::Fd), ("ino", P::Uint64)] }, // 61 PPME_SYSCALL_PIPE_X
    EventInfo { name: "eventfd", exit: false, category: 0x204, flags: 0x1221, params: &[("initval", P::Uint64), ("flags", P::Uint32)] }, // 62 PPME_SYSCALL_EVENTFD_E
    EventInfo { name: "eventfd", exit: true, category: 0x204, flags: 0x1021, params: &[("res", P::Fd), ("initval", P::Uint64), ("flags", P::Uint32)] }, // 63 PPME_SYSCALL_EVENTFD_X
    EventInfo { name: "futex", exit: false, category: 0x204, flags: 0x1200, params: &[("addr", P::Uint64), ("op", P::Flags16), ("val", P::Uint64)] }, // 64 PPME_SYSCALL_FUTEX_E
    EventInfo { name: "futex", exit: true, category: 0x204, flags: 0x1000, params: &[("res", P::Errno), ("addr", P::Uint64), ("op", P::Flags16), ("val", P::Uint64)] }, // 65 PPME_SYSCALL_FUTEX_X
    EventInfo { name: "stat", exit: false, category: 0x202, flags: 0x200, params: &[] }, // 66 PPME_SYSCALL_STAT_E
    EventInfo { name: "stat", exit: true, category: 0x202, flags: 0x0, params: &[("res", P::Errno), ("path", P::Fspath)] }, // 67 PPME_SYSCALL_STAT_X
    EventInfo { name: "lstat", exit: false, category: 0x202, flags: 0x200, params: &[] }, // 68 PPME_SYSCALL_LSTAT_E
    EventInfo { name: "lstat", exit: true, category: 0x202, flags: 0x0, params: &[("res", P::Errno), ("path", P::Fspath)] }, // 69 PPME_SYSCALL_LSTAT_X
    EventInfo { name: "fstat", exit: false, category: 0x202, flags: 0x1204, params: &[("fd", P::Fd)] }, // 70 PPME_SYSCALL_FSTAT_E
    EventInfo { name: "fstat", exit: true, category: 0x202, flags: 0x1004, params: &[("res", P::Errno), ("fd", P::Fd)] }, // 71 PPME_SYSCALL_FSTAT_X
    EventInfo { name: "stat64", exit: false, category: 0x202, flags: 0x200, params: &[] }, // 72 PPME_SYSCALL_STAT64_E
    EventInfo { name: "stat64", exit: true, category: 0x202, flags: 0x0, params: &[("res", P::Errno), ("path", P::Fspath)] }, // 73 PPME_SYSCALL_STAT64_X
    EventInfo { name: "lstat64", exit: false, category: 0x202, flags: 0x200, params: &[] }, // 74 PPME_SYSCALL_LSTAT64_E
    EventInfo { name: "lstat64", exit: true, category: 0x202, flags: 0x0, params: &[("res", P::Errno), ("path", P::Fspath)] }, // 75 PPME_SYSCALL_LSTAT64_X
    EventInfo { name: "fstat64", exit: false, category: 0x202, flags: 0x204, params: &[("fd", P::Fd)] }, // 76 PPME_SYSCALL_FSTAT64_E
    EventInfo { name: "fstat64", exit: true, category: 0x202, flags: 0x0, params: &[("res", P::Errno)] }, // 77 PPME_SYSCALL_FSTAT64_X
    EventInfo { name: "epoll_wait", exit: false, category: 0x240, flags: 0x1280, params: &[("maxevents", P::Errno)] }, // 78 PPME_SYSCALL_EPOLLWAIT_E
    EventInfo { name: "epoll_wait", exit: true, category: 0x240, flags: 0x1080, params: &[("res", P::Errno), ("maxevents", P::Errno)] }, // 79 PPME_SYSCALL_EPOLLWAIT_X
    EventInfo { name: "poll", exit: false, category: 0x240, flags: 0x1280, params: &[("fds", P::Fdlist), ("timeout", P::Int64)] }, // 80 PPME_SYSCALL_POLL_E
    EventInfo { name: "poll", exit: true, category: 0x240, flags: 0x1080, params: &[("res", P::Errno), ("fds", P::Fdlist), ("timeout", P::Int64)] }, // 81 PPME_SYSCALL_POLL_X
    EventInfo { name: "select", exit: false, category: 0x240, flags: 0x280, params: &[] }, // 82 PPME_SYSCALL_SELECT_E
    EventInfo { name: "select", exit: true, category: 0x240, flags: 0x80, params: &[("res", P::Errno)] }, // 83 PPME_SYSCALL_SELECT_X
    EventInfo { name: "select", exit: false, category: 0x240, flags: 0x280, params: &[] }, // 84 PPME_SYSCALL_NEWSELECT_E
    EventInfo { name: "select", exit: true, category: 0x240, flags: 0x1280, params: &[("res", P::Errno)] }, // 85 PPME_SYSCALL_NEWSELECT_X
    EventInfo { name: "lseek", exit: false, category: 0x202, flags: 0x1204, params: &[("fd", P::Fd), ("offset", P::Uint64), ("whence", P::Enumflags8)] }, // 86 PPME_SYSCALL_LSEEK_E
    EventInfo { name: "lseek", exit: true, category: 0x202, flags: 0x1004, params: &[("res", P::Errno), ("fd", P::Fd), ("offset", P::Uint64), ("whence", P::Enumflags8)] }, // 87 PPME_SYSCALL_LSEEK_X
    EventInfo { name: "llseek", exit: false, category: 0x202, flags: 0x1204, params: &[("fd", P::Fd), ("offset", P::Uint64), ("whence", P::Enumflags8)] }, // 88 PPME_SYSCALL_LLSEEK_E
    EventInfo { name: "llseek", exit: true, category: 0x202, flags: 0x1004, params: &[("res", P::Errno), ("fd", P::Fd), ("offset", P::Uint64), ("whence", P::Enumflags8)] }, // 89 PPME_SYSCALL_LLSEEK_X
    EventInfo { name: "ioctl", exit: false, category: 0x222, flags: 0x1204, params: &[("fd", P::Fd), ("request", P::Uint64)] }, // 90 PPME_SYSCALL_IOCTL_2_E
    EventInfo { name: "ioctl", exit: true, category: 0x222, flags: 0x1204, params: &[("res", P::Errno)] }, // 91 PPME_SYSCALL_IOCTL_2_X
    EventInfo { name: "getcwd", exit: false, category: 0x202, flags: 0x200, params: &[] }, // 92 PPME_SYSCALL_GETCWD_E
    EventInfo { name: "getcwd", exit: true, category: 0x202, flags: 0x0, params: &[("res", P::Errno), ("path", P::Charbuf)] }, // 93 PPME_SYSCALL_GETCWD_X
    EventInfo { name: "chdir", exit: false, category: 0x202, flags: 0x220, params: &[] }, // 94 PPME_SYSCALL_CHDIR_E
    EventInfo { name: "chdir", exit: true, category: 0x202, flags: 0x20, params: &[("res", P::Errno), ("path", P::Charbuf)] }, // 95 PPME_SYSCALL_CHDIR_X
    EventInfo { name: "fchdir", exit: false, category: 0x202, flags: 0x1224, params: &[("fd", P::Fd)] }, // 96 PPME_SYSCALL_FCHDIR_E
    EventInfo { name: "fchdir", exit: true, category: 0x202, flags: 0x1024, params: &[("res", P::Errno), ("fd", P::Fd)] }, // 97 PPME_SYSCALL_FCHDIR_X
    EventInfo { name: "mkdir", exit: false, category: 0x202, flags: 0x1200, params: &[("path", P::Fspath), ("mode", P::Uint32)] }, // 98 PPME_SYSCALL_MKDIR_E
    EventInfo { name: "mkdir", exit: true, category: 0x202, flags: 0x1200, params: &[("res", P::Errno)] }, // 99 PPME_SYSCALL_MKDIR_X
    EventInfo { name: "rmdir", exit: false, category: 0x202, flags: 0x1200, params: &[("path", P::Fspath)] }, // 100 PPME_SYSCALL_RMDIR_E
    EventInfo { name: "rmdir", exit: true, category: 0x202, flags: 0x1200, params: &[("res", P::Errno)] }, // 101 PPME_SYSCALL_RMDIR_X
    EventInfo { name: "openat", exit: false, category: 0x202, flags: 0x1221, params: &[("dirfd", P::Fd), ("name", P::Charbuf), ("flags", P::Flags32), ("mode", P::Uint32)] }, // 102 PPME_SYSCALL_OPENAT_E
    EventInfo { name: "openat", exit: true, category: 0x202, flags: 0x1221, params: &[("fd", P::Fd)] }, // 103 PPME_SYSCALL_OPENAT_X
    EventInfo { name: "link", exit: false, category: 0x202, flags: 0x1200, params: &[("oldpath", P::Fspath), ("newpath", P::Fspath)] }, // 104 PPME_SYSCALL_LINK_E
    EventInfo { name: "link", exit: true, category: 0x202, flags: 0x1200, params: &[("res", P::Errno)] }, // 105 PPME_SYSCALL_LINK_X
    EventInfo { name: "linkat", exit: false, category: 0x202, flags: 0x1200, params: &[("olddir", P::Fd), ("oldpath", P::Charbuf), ("newdir", P::Fd), ("newpath", P::Charbuf)] }, // 106 PPME_SYSCALL_LINKAT_E
    EventInfo { name: "linkat", exit: true, category: 0x202, flags: 0x1200, params: &[("res", P::Errno)] }, // 107 PPME_SYSCALL_LINKAT_X
    EventInfo { name: "unlink", exit: false, category: 0x202, flags: 0x1200, params: &[("path", P::Fspath)] }, // 108 PPME_SYSCALL_UNLINK_E
    EventInfo { name: "unlink", exit: true, category: 0x202, flags: 0x1200, params: &[("res", P::Errno)] }, // 109 PPME_SYSCALL_UNLINK_X
    EventInfo { name: "unlinkat", exit: false, category: 0x202, flags: 0x1200, params: &[("dirfd", P::Fd), ("name", P::Charbuf)] }, // 110 PPME_SYSCALL_UNLINKAT_E
    EventInfo { name: "unlinkat", exit: true, category: 0x202, flags: 0x1200, params: &[("res", P::Errno)] }, // 111 PPME_SYSCALL_UNLINKAT_X
    EventInfo { name: "pread", exit: false, category: 0x220, flags: 0x120c, params: &[("fd", P::Fd), ("size", P::Uint32), ("pos", P::Uint64)] }, // 112 PPME_SYSCALL_PREAD_E
    EventInfo { name: "pread", exit: true, category: 0x220, flags: 0x100c, params: &[("res", P::Errno), ("data", P::Bytebuf), ("fd", P::Fd), ("size", P::Uint32), ("pos", P::Uint64)] }, // 113 PPME_SYSCALL_PREAD_X
    EventInfo { name: "pwrite", exit: false, category: 0x221, flags: 0x1214, params: &[("fd", P::Fd), ("size", P::Uint32), ("pos", P::Uint64)] }, // 114 PPME_SYSCALL_PWRITE_E
    EventInfo { name: "pwrite", exit: true, category: 0x221, flags: 0x1014, params: &[("res", P::Errno), ("data", P::Bytebuf), ("fd", P::Fd), ("size", P::Uint32), ("pos", P::Uint64)] }, // 115 PPME_SYSCALL_PWRITE_X
    EventInfo { name: "readv", exit: false, category: 0x220, flags: 0x120c, params: &[("fd", P::Fd)] }, // 116 PPME_SYSCALL_READV_E
    EventInfo { name: "readv", exit: true, category: 0x220, flags: 0x100c, params: &[("res", P::Errno), ("size", P::Uint32), ("data", P::Bytebuf), ("fd", P::Fd)] }, // 117 PPME_SYSCALL_READV_X
    EventInfo { name: "writev", exit: false, category: 0x221, flags: 0x1214, params: &[("fd", P::Fd), ("size", P::Uint32)] }, // 118 PPME_SYSCALL_WRITEV_E
    EventInfo { name: "writev", exit: true, category: 0x221, flags: 0x1014, params: &[("res", P::Errno), ("data", P::Bytebuf), ("fd", P::Fd), ("size", P::Uint32)] }, // 119 PPME_SYSCALL_WRITEV_X
    EventInfo { name: "preadv", exit: false, category: 0x220, flags: 0x120c, params: &[("fd", P::Fd), ("pos", P::Uint64)] }, // 120 PPME_SYSCALL_PREADV_E
    EventInfo { name: "preadv", exit: true, category: 0x220, flags: 0x100c, params: &[("res", P::Errno), ("size", P::Uint32), ("data", P::Bytebuf), ("fd", P::Fd), ("pos", P::Uint64)] }, // 121 PPME_SYSCALL_PREADV_X
    EventInfo { name: "pwritev", exit: false, category: 0x221, flags: 0x1214, params: &[("fd", P::Fd), ("size", P::Uint32), ("pos", P::Uint64)] }, // 122 PPME_SYSCALL_PWRITEV_E
    EventInfo { name: "pwritev", exit: true, category: 0x221, flags: 0x1014, params: &[("res", P::Errno), ("data", P::Bytebuf), ("fd", P::Fd), ("size", P::Uint32), ("pos", P::Uint64)] }, // 123 PPME_SYSCALL_PWRITEV_X
    EventInfo { name: "dup", exit: false, category: 0x222, flags: 0x1225, params: &[("fd", P::Fd)] }, // 124 PPME_SYSCALL_DUP_E
    EventInfo { name: "dup", exit: true, category: 0x222, flags: 0x1225, params: &[("res", P::Fd)] }, // 125 PPME_SYSCALL_DUP_X
    EventInfo { name: "signalfd", exit: false, category: 0x209, flags: 0x1221, params: &[("fd", P::Fd), ("mask", P::Uint32), ("flags", P::Uint8)] }, // 126 PPME_SYSCALL_SIGNALFD_E
    EventInfo { name: "signalfd", exit: true, category: 0x209, flags: 0x1021, params: &[("res", P::Fd), ("fd", P::Fd), ("mask", P::Uint32), ("flags", P::Uint8)] }, // 127 PPME_SYSCALL_SIGNALFD_X
    EventInfo { name: "kill", exit: false, category: 0x209, flags: 0x1200, params: &[("pid", P::Pid), ("sig", P::Sigtype)] }, // 128 PPME_SYSCALL_KILL_E
    EventInfo { name: "kill", exit: true, category: 0x209, flags: 0x1000, params: &[("res", P::Errno), ("pid", P::Pid), ("sig", P::Sigtype)] }, // 129 PPME_SYSCALL_KILL_X
    EventInfo { name: "tkill", exit: false, category: 0x209, flags: 0x1200, params: &[("tid", P::Pid), ("sig", P::Sigtype)] }, // 130 PPME_SYSCALL_TKILL_E
    EventInfo { name: "tkill", exit: true, category: 0x209, flags: 0x1000, params: &[("res", P::Errno), ("tid", P::Pid), ("sig", P::Sigtype)] }, // 131 PPME_SYSCALL_TKILL_X
    EventInfo { name: "tgkill", exit: false, category: 0x209, flags: 0x1200, params: &[("pid", P::Pid), ("tid", P::Pid), ("sig", P::Sigtype)] }, // 132 PPME_SYSCALL_TGKILL_E
    EventInfo { name: "tgkill", exit: true, category: 0x209, flags: 0x1000, params: &[("res", P::Errno), ("pid", P::Pid), ("tid", P::Pid), ("sig", P::Sigtype)] }, // 133 PPME_SYSCALL_TGKILL_X
    EventInfo { name: "nanosleep", exit: false, category: 0x207, flags: 0x1280, params: &[("interval", P::Reltime)] }, // 134 PPME_SYSCALL_NANOSLEEP_E
    EventInfo { name: "nanosleep", exit: true, category: 0x207, flags: 0x1080, params: &[("res", P::Errno), ("interval", P::Reltime)] }, // 135 PPME_SYSCALL_NANOSLEEP_X
    EventInfo { name: "timerfd_create", exit: false, category: 0x20b, flags: 0x1221, params: &[("clockid", P::Uint8), ("flags", P::Uint8)] }, // 136 PPME_SYSCALL_TIMERFD_CREATE_E
    EventInfo { name: "timerfd_create", exit: true, category: 0x20b, flags: 0x1021, params: &[("res", P::Fd), ("clockid", P::Uint8), ("flags", P::Uint8)] }, // 137 PPME_SYSCALL_TIMERFD_CREATE_X
    EventInfo { name: "inotify_init", exit: false, category: 0x204, flags: 0x1221, params: &[("flags", P::Uint8)] }, // 138 PPME_SYSCALL_INOTIFY_INIT_E
    EventInfo { name: "inotify_init", exit: true, category: 0x204, flags: 0x1021, params: &[("res", P::Fd), ("flags", P::Uint8)] }, // 139 PPME_SYSCALL_INOTIFY_INIT_X
    EventInfo { name: "getrlimit", exit: false, category: 0x206, flags: 0x1200, params: &[("resource", P::Enumflags8)] }, // 140 PPME_SYSCALL_GETRLIMIT_E
    EventInfo { name: "getrlimit", exit: true, category: 0x206, flags: 0x1000, params: &[("res", P::Errno), ("cur", P::Int64), ("max", P::Int64), ("resource", P::Enumflags8)] }, // 141 PPME_SYSCALL_GETRLIMIT_X
    EventInfo { name: "setrlimit", exit: false, category: 0x206, flags: 0x1200, params: &[("resource", P::Enumflags8)] }, // 142 PPME_SYSCALL_SETRLIMIT_E
    EventInfo { name: "setrlimit", exit: true, category: 0x206, flags: 0x1000, params: &[("res", P::Errno), ("cur", P::Int64), ("max", P::Int64), ("resource", P::Enumflags8)] }, // 143 PPME_SYSCALL_SETRLIMIT_X
    EventInfo { name: "prlimit", exit: false, category: 0x206, flags: 0x1200, params: &[("pid", P::Pid), ("resource", P::Enumflags8)] }, // 144 PPME_SYSCALL_PRLIMIT_E
    EventInfo { name: "prlimit", exit: true, category: 0x206, flags: 0x1000, params: &[("res", P::Errno), ("newcur", P::Int64), ("newmax", P::Int64), ("oldcur", P::Int64), ("oldmax", P::Int64), ("pid", P::Int64), ("resource", P::Enumflags8)] }, // 145 PPME_SYSCALL_PRLIMIT_X
    EventInfo { name: "switch", exit: false, category: 0x480, flags: 0x1300, params: &[("next", P::Pid)] }, // 146 PPME_SCHEDSWITCH_1_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 147 PPME_SCHEDSWITCH_1_X
    EventInfo { name: "drop", exit: false, category: 0x1100, flags: 0x100, params: &[("ratio", P::Uint32)] }, // 148 PPME_DROP_E
    EventInfo { name: "drop", exit: true, category: 0x1100, flags: 0x100, params: &[("ratio", P::Uint32)] }, // 149 PPME_DROP_X
    EventInfo { name: "fcntl", exit: false, category: 0x222, flags: 0x1224, params: &[("fd", P::Fd), ("cmd", P::Enumflags8)] }, // 150 PPME_SYSCALL_FCNTL_E
    EventInfo { name: "fcntl", exit: true, category: 0x222, flags: 0x1024, params: &[("res", P::Fd), ("fd", P::Fd), ("cmd", P::Enumflags8), ("arg", P::Uint64)] }, // 151 PPME_SYSCALL_FCNTL_X
    EventInfo { name: "switch", exit: false, category: 0x480, flags: 0x0, params: &[("next", P::Pid), ("pgft_maj", P::Uint64), ("pgft_min", P::Uint64), ("vm_size", P::Uint32), ("vm_rss", P::Uint32), ("vm_swap", P::Uint32)] }, // 152 PPME_SCHEDSWITCH_6_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 153 PPME_SCHEDSWITCH_6_X
    EventInfo { name: "execve", exit: false, category: 0x206, flags: 0x1220, params: &[] }, // 154 PPME_SYSCALL_EXECVE_13_E
    EventInfo { name: "execve", exit: true, category: 0x206, flags: 0x1220, params: &[("res", P::Errno), ("exe", P::Charbuf), ("args", P::Bytebuf), ("tid", P::Pid), ("pid", P::Pid), ("ptid", P::Pid), ("cwd", P::Charbuf), ("fdlimit", P::Uint64), ("pgft_maj", P::Uint64), ("pgft_min", P::Uint64), ("vm_size", P::Uint32), ("vm_rss", P::Uint32), ("vm_swap", P::Uint32)] }, // 155 PPME_SYSCALL_EXECVE_13_X
    EventInfo { name: "clone", exit: false, category: 0x206, flags: 0x220, params: &[] }, // 156 PPME_SYSCALL_CLONE_16_E
    EventInfo { name: "clone", exit: true, category: 0x206, flags: 0x1220, params: &[("res", P::Pid), ("exe", P::Charbuf), ("args", P::Bytebuf), ("tid", P::Pid), ("pid", P::Pid), ("ptid", P::Pid), ("cwd", P::Charbuf), ("fdlimit", P::Int64), ("pgft_maj", P::Uint64), ("pgft_min", P::Uint64), ("vm_size", P::Uint32), ("vm_rss", P::Uint32), ("vm_swap", P::Uint32), ("flags", P::Flags32), ("uid", P::Uint32), ("gid", P::Uint32)] }, // 157 PPME_SYSCALL_CLONE_16_X
    EventInfo { name: "brk", exit: false, category: 0x205, flags: 0x1200, params: &[("addr", P::Uint64)] }, // 158 PPME_SYSCALL_BRK_4_E
    EventInfo { name: "brk", exit: true, category: 0x205, flags: 0x1000, params: &[("res", P::Uint64), ("vm_size", P::Uint32), ("vm_rss", P::Uint32), ("vm_swap", P::Uint32), ("addr", P::Uint64)] }, // 159 PPME_SYSCALL_BRK_4_X
    EventInfo { name: "mmap", exit: false, category: 0x205, flags: 0x1204, params: &[("addr", P::Uint64), ("length", P::Uint64), ("prot", P::Flags32), ("flags", P::Flags32), ("fd", P::Fd), ("offset", P::Uint64)] }, // 160 PPME_SYSCALL_MMAP_E
    EventInfo { name: "mmap", exit: true, category: 0x205, flags: 0x1004, params: &[("res", P::Errno), ("vm_size", P::Uint32), ("vm_rss", P::Uint32), ("vm_swap", P::Uint32), ("addr", P::Uint64), ("length", P::Uint64), ("prot", P::Flags32), ("flags", P::Flags32), ("fd", P::Fd), ("offset", P::Uint64)] }, // 161 PPME_SYSCALL_MMAP_X
    EventInfo { name: "mmap2", exit: false, category: 0x205, flags: 0x1204, params: &[("addr", P::Uint64), ("length", P::Uint64), ("prot", P::Flags32), ("flags", P::Flags32), ("fd", P::Fd), ("pgoffset", P::Uint64)] }, // 162 PPME_SYSCALL_MMAP2_E
    EventInfo { name: "mmap2", exit: true, category: 0x205, flags: 0x1004, params: &[("res", P::Errno), ("vm_size", P::Uint32), ("vm_rss", P::Uint32), ("vm_swap", P::Uint32), ("addr", P::Uint64), ("length", P::Uint64), ("prot", P::Flags32), ("flags", P::Flags32), ("fd", P::Fd), ("pgoffset", P::Uint64)] }, // 163 PPME_SYSCALL_MMAP2_X
    EventInfo { name: "munmap", exit: false, category: 0x205, flags: 0x1200, params: &[("addr", P::Uint64), ("length", P::Uint64)] }, // 164 PPME_SYSCALL_MUNMAP_E
    EventInfo { name: "munmap", exit: true, category: 0x205, flags: 0x1000, params: &[("res", P::Errno), ("vm_size", P::Uint32), ("vm_rss", P::Uint32), ("vm_swap", P::Uint32), ("addr", P::Uint64), ("length", P::Uint64)] }, // 165 PPME_SYSCALL_MUNMAP_X
    EventInfo { name: "splice", exit: false, category: 0x222, flags: 0x1204, params: &[("fd_in", P::Fd), ("fd_out", P::Fd), ("size", P::Uint64), ("flags", P::Flags32)] }, // 166 PPME_SYSCALL_SPLICE_E
    EventInfo { name: "splice", exit: true, category: 0x222, flags: 0x1004, params: &[("res", P::Errno), ("fd_in", P::Fd), ("fd_out", P::Fd), ("size", P::Uint64), ("flags", P::Flags32)] }, // 167 PPME_SYSCALL_SPLICE_X
    EventInfo { name: "ptrace", exit: false, category: 0x206, flags: 0x1200, params: &[("request", P::Enumflags16), ("pid", P::Pid)] }, // 168 PPME_SYSCALL_PTRACE_E
    EventInfo { name: "ptrace", exit: true, category: 0x206, flags: 0x1000, params: &[("res", P::Errno), ("addr", P::Dyn), ("data", P::Dyn), ("request", P::Enumflags16), ("pid", P::Pid)] }, // 169 PPME_SYSCALL_PTRACE_X
    EventInfo { name: "ioctl", exit: false, category: 0x222, flags: 0x1204, params: &[("fd", P::Fd), ("request", P::Uint64), ("argument", P::Uint64)] }, // 170 PPME_SYSCALL_IOCTL_3_E
    EventInfo { name: "ioctl", exit: true, category: 0x222, flags: 0x1004, params: &[("res", P::Errno), ("fd", P::Fd), ("request", P::Uint64), ("argument", P::Uint64)] }, // 171 PPME_SYSCALL_IOCTL_3_X
    EventInfo { name: "execve", exit: false, category: 0x206, flags: 0x1220, params: &[] }, // 172 PPME_SYSCALL_EXECVE_14_E
    EventInfo { name: "execve", exit: true, category: 0x206, flags: 0x1220, params: &[("res", P::Errno), ("exe", P::Charbuf), ("args", P::Bytebuf), ("tid", P::Pid), ("pid", P::Pid), ("ptid", P::Pid), ("cwd", P::Charbuf), ("fdlimit", P::Uint64), ("pgft_maj", P::Uint64), ("pgft_min", P::Uint64), ("vm_size", P::Uint32), ("vm_rss", P::Uint32), ("vm_swap", P::Uint32), ("env", P::Bytebuf)] }, // 173 PPME_SYSCALL_EXECVE_14_X
    EventInfo { name: "rename", exit: false, category: 0x202, flags: 0x200, params: &[] }, // 174 PPME_SYSCALL_RENAME_E
    EventInfo { name: "rename", exit: true, category: 0x202, flags: 0x0, params: &[("res", P::Errno), ("oldpath", P::Fspath), ("newpath", P::Fspath)] }, // 175 PPME_SYSCALL_RENAME_X
    EventInfo { name: "renameat", exit: false, category: 0x202, flags: 0x200, params: &[] }, // 176 PPME_SYSCALL_RENAMEAT_E
    EventInfo { name: "renameat", exit: true, category: 0x202, flags: 0x0, params: &[("res", P::Errno), ("olddirfd", P::Fd), ("oldpath", P::Fsrelpath), ("newdirfd", P::Fd), ("newpath", P::Fsrelpath)] }, // 177 PPME_SYSCALL_RENAMEAT_X
    EventInfo { name: "symlink", exit: false, category: 0x202, flags: 0x200, params: &[] }, // 178 PPME_SYSCALL_SYMLINK_E
    EventInfo { name: "symlink", exit: true, category: 0x202, flags: 0x0, params: &[("res", P::Errno), ("target", P::Charbuf), ("linkpath", P::Fspath)] }, // 179 PPME_SYSCALL_SYMLINK_X
    EventInfo { name: "symlinkat", exit: false, category: 0x202, flags: 0x200, params: &[] }, // 180 PPME_SYSCALL_SYMLINKAT_E
    EventInfo { name: "symlinkat", exit: true, category: 0x202, flags: 0x4, params: &[("res", P::Errno), ("target", P::Charbuf), ("linkdirfd", P::Fd), ("linkpath", P::Fsrelpath)] }, // 181 PPME_SYSCALL_SYMLINKAT_X
    EventInfo { name: "fork", exit: false, category: 0x206, flags: 0x220, params: &[] }, // 182 PPME_SYSCALL_FORK_E
    EventInfo { name: "fork", exit: true, category: 0x206, flags: 0x1220, params: &[("res", P::Pid), ("exe", P::Charbuf), ("args", P::Bytebuf), ("tid", P::Pid), ("pid", P::Pid), ("ptid", P::Pid), ("cwd", P::Charbuf), ("fdlimit", P::Int64), ("pgft_maj", P::Uint64), ("pgft_min", P::Uint64), ("vm_size", P::Uint32), ("vm_rss", P::Uint32), ("vm_swap", P::Uint32), ("flags", P::Flags32), ("uid", P::Uint32), ("gid", P::Uint32)] }, // 183 PPME_SYSCALL_FORK_X
    EventInfo { name: "vfork", exit: false, category: 0x206, flags: 0x220, params: &[] }, // 184 PPME_SYSCALL_VFORK_E
    EventInfo { name: "vfork", exit: true, category: 0x206, flags: 0x1220, params: &[("res", P::Pid), ("exe", P::Charbuf), ("args", P::Bytebuf), ("tid", P::Pid), ("pid", P::Pid), ("ptid", P::Pid), ("cwd", P::Charbuf), ("fdlimit", P::Int64), ("pgft_maj", P::Uint64), ("pgft_min", P::Uint64), ("vm_size", P::Uint32), ("vm_rss", P::Uint32), ("vm_swap", P::Uint32), ("flags", P::Flags32), ("uid", P::Uint32), ("gid", P::Uint32)] }, // 185 PPME_SYSCALL_VFORK_X
    EventInfo { name: "procexit", exit: false, category: 0x406, flags: 0x20, params: &[("status", P::Errno), ("ret", P::Errno), ("sig", P::Sigtype), ("core", P::Uint8), ("reaper_tid", P::Pid)] }, // 186 PPME_PROCEXIT_1_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 187 PPME_PROCEXIT_1_X
    EventInfo { name: "sendfile", exit: false, category: 0x221, flags: 0x1204, params: &[("out_fd", P::Fd), ("in_fd", P::Fd), ("offset", P::Uint64), ("size", P::Uint64)] }, // 188 PPME_SYSCALL_SENDFILE_E
    EventInfo { name: "sendfile", exit: true, category: 0x221, flags: 0x1004, params: &[("res", P::Errno), ("offset", P::Uint64), ("out_fd", P::Fd), ("in_fd", P::Fd), ("size", P::Uint64)] }, // 189 PPME_SYSCALL_SENDFILE_X
    EventInfo { name: "quotactl", exit: false, category: 0x20a, flags: 0x1200, params: &[("cmd", P::Flags16), ("type", P::Flags8), ("id", P::Uint32), ("quota_fmt", P::Flags8)] }, // 190 PPME_SYSCALL_QUOTACTL_E
    EventInfo { name: "quotactl", exit: true, category: 0x20a, flags: 0x1000, params: &[("res", P::Errno), ("special", P::Charbuf), ("quotafilepath", P::Charbuf), ("dqb_bhardlimit", P::Uint64), ("dqb_bsoftlimit", P::Uint64), ("dqb_curspace", P::Uint64), ("dqb_ihardlimit", P::Uint64), ("dqb_isoftlimit", P::Uint64), ("dqb_btime", P::Reltime), ("dqb_itime", P::Reltime), ("dqi_bgrace", P::Reltime), ("dqi_igrace", P::Reltime), ("dqi_flags", P::Flags8), ("quota_fmt_out", P::Flags8), ("cmd", P::Flags16), ("type", P::Flags8), ("id", P::Uint32), ("quota_fmt", P::Flags8)] }, // 191 PPME_SYSCALL_QUOTACTL_X
    EventInfo { name: "setresuid", exit: false, category: 0x20a, flags: 0x1220, params: &[("ruid", P::Uid), ("euid", P::Uid), ("suid", P::Uid)] }, // 192 PPME_SYSCALL_SETRESUID_E
    EventInfo { name: "setresuid", exit: true, category: 0x20a, flags: 0x1020, params: &[("res", P::Errno), ("ruid", P::Uid), ("euid", P::Uid), ("suid", P::Uid)] }, // 193 PPME_SYSCALL_SETRESUID_X
    EventInfo { name: "setresgid", exit: false, category: 0x20a, flags: 0x1220, params: &[("rgid", P::Gid), ("egid", P::Gid), ("sgid", P::Gid)] }, // 194 PPME_SYSCALL_SETRESGID_E
    EventInfo { name: "setresgid", exit: true, category: 0x20a, flags: 0x1020, params: &[("res", P::Errno), ("rgid", P::Gid), ("egid", P::Gid), ("sgid", P::Gid)] }, // 195 PPME_SYSCALL_SETRESGID_X
    EventInfo { name: "scapevent", exit: false, category: 0x1100, flags: 0x100, params: &[("event_type", P::Uint32), ("event_data", P::Uint64)] }, // 196 PPME_SCAPEVENT_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 197 PPME_SCAPEVENT_X
    EventInfo { name: "setuid", exit: false, category: 0x20a, flags: 0x1220, params: &[("uid", P::Uid)] }, // 198 PPME_SYSCALL_SETUID_E
    EventInfo { name: "setuid", exit: true, category: 0x20a, flags: 0x1020, params: &[("res", P::Errno), ("uid", P::Uid)] }, // 199 PPME_SYSCALL_SETUID_X
    EventInfo { name: "setgid", exit: false, category: 0x20a, flags: 0x1220, params: &[("gid", P::Gid)] }, // 200 PPME_SYSCALL_SETGID_E
    EventInfo { name: "setgid", exit: true, category: 0x20a, flags: 0x1020, params: &[("res", P::Errno), ("gid", P::Gid)] }, // 201 PPME_SYSCALL_SETGID_X
    EventInfo { name: "getuid", exit: false, category: 0x20a, flags: 0x200, params: &[] }, // 202 PPME_SYSCALL_GETUID_E
    EventInfo { name: "getuid", exit: true, category: 0x20a, flags: 0x0, params: &[("uid", P::Uid)] }, // 203 PPME_SYSCALL_GETUID_X
    EventInfo { name: "geteuid", exit: false, category: 0x20a, flags: 0x200, params: &[] }, // 204 PPME_SYSCALL_GETEUID_E
    EventInfo { name: "geteuid", exit: true, category: 0x20a, flags: 0x0, params: &[("euid", P::Uid)] }, // 205 PPME_SYSCALL_GETEUID_X
    EventInfo { name: "getgid", exit: false, category: 0x20a, flags: 0x200, params: &[] }, // 206 PPME_SYSCALL_GETGID_E
    EventInfo { name: "getgid", exit: true, category: 0x20a, flags: 0x0, params: &[("gid", P::Gid)] }, // 207 PPME_SYSCALL_GETGID_X
    EventInfo { name: "getegid", exit: false, category: 0x20a, flags: 0x200, params: &[] }, // 208 PPME_SYSCALL_GETEGID_E
    EventInfo { name: "getegid", exit: true, category: 0x20a, flags: 0x0, params: &[("egid", P::Gid)] }, // 209 PPME_SYSCALL_GETEGID_X
    EventInfo { name: "getresuid", exit: false, category: 0x20a, flags: 0x200, params: &[] }, // 210 PPME_SYSCALL_GETRESUID_E
    EventInfo { name: "getresuid", exit: true, category: 0x20a, flags: 0x0, params: &[("res", P::Errno), ("ruid", P::Uid), ("euid", P::Uid), ("suid", P::Uid)] }, // 211 PPME_SYSCALL_GETRESUID_X
    EventInfo { name: "getresgid", exit: false, category: 0x20a, flags: 0x200, params: &[] }, // 212 PPME_SYSCALL_GETRESGID_E
    EventInfo { name: "getresgid", exit: true, category: 0x20a, flags: 0x0, params: &[("res", P::Errno), ("rgid", P::Gid), ("egid", P::Gid), ("sgid", P::Gid)] }, // 213 PPME_SYSCALL_GETRESGID_X
    EventInfo { name: "execve", exit: false, category: 0x206, flags: 0x1220, params: &[] }, // 214 PPME_SYSCALL_EXECVE_15_E
    EventInfo { name: "execve", exit: true, category: 0x206, flags: 0x1220, params: &[("res", P::Errno), ("exe", P::Charbuf), ("args", P::Bytebuf), ("tid", P::Pid), ("pid", P::Pid), ("ptid", P::Pid), ("cwd", P::Charbuf), ("fdlimit", P::Uint64), ("pgft_maj", P::Uint64), ("pgft_min", P::Uint64), ("vm_size", P::Uint32), ("vm_rss", P::Uint32), ("vm_swap", P::Uint32), ("comm", P::Charbuf), ("env", P::Bytebuf)] }, // 215 PPME_SYSCALL_EXECVE_15_X
    EventInfo { name: "clone", exit: false, category: 0x206, flags: 0x220, params: &[] }, // 216 PPME_SYSCALL_CLONE_17_E
    EventInfo { name: "clone", exit: true, category: 0x206, flags: 0x1220, params: &[("res", P::Pid), ("exe", P::Charbuf), ("args", P::Bytebuf), ("tid", P::Pid), ("pid", P::Pid), ("ptid", P::Pid), ("cwd", P::Charbuf), ("fdlimit", P::Int64), ("pgft_maj", P::Uint64), ("pgft_min", P::Uint64), ("vm_size", P::Uint32), ("vm_rss", P::Uint32), ("vm_swap", P::Uint32), ("comm", P::Charbuf), ("flags", P::Flags32), ("uid", P::Uint32), ("gid", P::Uint32)] }, // 217 PPME_SYSCALL_CLONE_17_X
    EventInfo { name: "fork", exit: false, category: 0x206, flags: 0x220, params: &[] }, // 218 PPME_SYSCALL_FORK_17_E
    EventInfo { name: "fork", exit: true, category: 0x206, flags: 0x1220, params: &[("res", P::Pid), ("exe", P::Charbuf), ("args", P::Bytebuf), ("tid", P::Pid), ("pid", P::Pid), ("ptid", P::Pid), ("cwd", P::Charbuf), ("fdlimit", P::Int64), ("pgft_maj", P::Uint64), ("pgft_min", P::Uint64), ("vm_size", P::Uint32), ("vm_rss", P::Uint32), ("vm_swap", P::Uint32), ("comm", P::Charbuf), ("flags", P::Flags32), ("uid", P::Uint32), ("gid", P::Uint32)] }, // 219 PPME_SYSCALL_FORK_17_X
    EventInfo { name: "vfork", exit: false, category: 0x206, flags: 0x220, params: &[] }, // 220 PPME_SYSCALL_VFORK_17_E
    EventInfo { name: "vfork", exit: true, category: 0x206, flags: 0x1220, params: &[("res", P::Pid), ("exe", P::Charbuf), ("args", P::Bytebuf), ("tid", P::Pid), ("pid", P::Pid), ("ptid", P::Pid), ("cwd", P::Charbuf), ("fdlimit", P::Int64), ("pgft_maj", P::Uint64), ("pgft_min", P::Uint64), ("vm_size", P::Uint32), ("vm_rss", P::Uint32), ("vm_swap", P::Uint32), ("comm", P::Charbuf), ("flags", P::Flags32), ("uid", P::Uint32), ("gid", P::Uint32)] }, // 221 PPME_SYSCALL_VFORK_17_X
    EventInfo { name: "clone", exit: false, category: 0x206, flags: 0x220, params: &[] }, // 222 PPME_SYSCALL_CLONE_20_E
    EventInfo { name: "clone", exit: true, category: 0x206, flags: 0x1020, params: &[("res", P::Pid), ("exe", P::Charbuf), ("args", P::Bytebuf), ("tid", P::Pid), ("pid", P::Pid), ("ptid", P::Pid), ("cwd", P::Charbuf), ("fdlimit", P::Int64), ("pgft_maj", P::Uint64), ("pgft_min", P::Uint64), ("vm_size", P::Uint32), ("vm_rss", P::Uint32), ("vm_swap", P::Uint32), ("comm", P::Charbuf), ("cgroups", P::Bytebuf), ("flags", P::Flags32), ("uid", P::Uint32), ("gid", P::Uint32), ("vtid", P::Pid), ("vpid", P::Pid), ("pidns_init_start_ts", P::Uint64)] }, // 223 PPME_SYSCALL_CLONE_20_X
    EventInfo { name: "fork", exit: false, category: 0x206, flags: 0x220, params: &[] }, // 224 PPME_SYSCALL_FORK_20_E
    EventInfo { name: "fork", exit: true, category: 0x206, flags: 0x1020, params: &[("res", P::Pid), ("exe", P::Charbuf), ("args", P::Bytebuf), ("tid", P::Pid), ("pid", P::Pid), ("ptid", P::Pid), ("cwd", P::Charbuf), ("fdlimit", P::Int64), ("pgft_maj", P::Uint64), ("pgft_min", P::Uint64), ("vm_size", P::Uint32), ("vm_rss", P::Uint32), ("vm_swap", P::Uint32), ("comm", P::Charbuf), ("cgroups", P::Bytebuf), ("flags", P::Flags32), ("uid", P::Uint32), ("gid", P::Uint32), ("vtid", P::Pid), ("vpid", P::Pid), ("pidns_init_start_ts", P::Uint64)] }, // 225 PPME_SYSCALL_FORK_20_X
    EventInfo { name: "vfork", exit: false, category: 0x206, flags: 0x220, params: &[] }, // 226 PPME_SYSCALL_VFORK_20_E
    EventInfo { name: "vfork", exit: true, category: 0x206, flags: 0x1020, params: &[("res", P::Pid), ("exe", P::Charbuf), ("args", P::Bytebuf), ("tid", P::Pid), ("pid", P::Pid), ("ptid", P::Pid), ("cwd", P::Charbuf), ("fdlimit", P::Int64), ("pgft_maj", P::Uint64), ("pgft_min", P::Uint64), ("vm_size", P::Uint32), ("vm_rss", P::Uint32), ("vm_swap", P::Uint32), ("comm", P::Charbuf), ("cgroups", P::Bytebuf), ("flags", P::Flags32), ("uid", P::Uint32), ("gid", P::Uint32), ("vtid", P::Pid), ("vpid", P::Pid), ("pidns_init_start_ts", P::Uint64)] }, // 227 PPME_SYSCALL_VFORK_20_X
    EventInfo { name: "container", exit: false, category: 0x1100, flags: 0x1320, params: &[("id", P::Charbuf), ("type", P::Uint32), ("name", P::Charbuf), ("image", P::Charbuf)] }, // 228 PPME_CONTAINER_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 229 PPME_CONTAINER_X
    EventInfo { name: "execve", exit: false, category: 0x206, flags: 0x1220, params: &[] }, // 230 PPME_SYSCALL_EXECVE_16_E
    EventInfo { name: "execve", exit: true, category: 0x206, flags: 0x1220, params: &[("res", P::Errno), ("exe", P::Charbuf), ("args", P::Bytebuf), ("tid", P::Pid), ("pid", P::Pid), ("ptid", P::Pid), ("cwd", P::Charbuf), ("fdlimit", P::Uint64), ("pgft_maj", P::Uint64), ("pgft_min", P::Uint64), ("vm_size", P::Uint32), ("vm_rss", P::Uint32), ("vm_swap", P::Uint32), ("comm", P::Charbuf), ("cgroups", P::Bytebuf), ("env", P::Bytebuf)] }, // 231 PPME_SYSCALL_EXECVE_16_X
    EventInfo { name: "signaldeliver", exit: false, category: 0x409, flags: 0x0, params: &[("spid", P::Pid), ("dpid", P::Pid), ("sig", P::Sigtype)] }, // 232 PPME_SIGNALDELIVER_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 233 PPME_SIGNALDELIVER_X
    EventInfo { name: "procinfo", exit: false, category: 0x1100, flags: 0x100, params: &[("cpu_usr", P::Uint64), ("cpu_sys", P::Uint64)] }, // 234 PPME_PROCINFO_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 235 PPME_PROCINFO_X
    EventInfo { name: "getdents", exit: false, category: 0x202, flags: 0x1204, params: &[("fd", P::Fd)] }, // 236 PPME_SYSCALL_GETDENTS_E
    EventInfo { name: "getdents", exit: true, category: 0x202, flags: 0x1004, params: &[("res", P::Errno), ("fd", P::Fd)] }, // 237 PPME_SYSCALL_GETDENTS_X
    EventInfo { name: "getdents64", exit: false, category: 0x202, flags: 0x1204, params: &[("fd", P::Fd)] }, // 238 PPME_SYSCALL_GETDENTS64_E
    EventInfo { name: "getdents64", exit: true, category: 0x202, flags: 0x1004, params: &[("res", P::Errno), ("fd", P::Fd)] }, // 239 PPME_SYSCALL_GETDENTS64_X
    EventInfo { name: "setns", exit: false, category: 0x206, flags: 0x1204, params: &[("fd", P::Fd), ("nstype", P::Flags32)] }, // 240 PPME_SYSCALL_SETNS_E
    EventInfo { name: "setns", exit: true, category: 0x206, flags: 0x1004, params: &[("res", P::Errno), ("fd", P::Fd), ("nstype", P::Flags32)] }, // 241 PPME_SYSCALL_SETNS_X
    EventInfo { name: "flock", exit: false, category: 0x202, flags: 0x1204, params: &[("fd", P::Fd), ("operation", P::Flags32)] }, // 242 PPME_SYSCALL_FLOCK_E
    EventInfo { name: "flock", exit: true, category: 0x202, flags: 0x1004, params: &[("res", P::Errno), ("fd", P::Fd), ("operation", P::Flags32)] }, // 243 PPME_SYSCALL_FLOCK_X
    EventInfo { name: "cpu_hotplug", exit: false, category: 0x1008, flags: 0x120, params: &[("cpu", P::Uint32), ("action", P::Uint32)] }, // 244 PPME_CPU_HOTPLUG_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 245 PPME_CPU_HOTPLUG_X
    EventInfo { name: "accept", exit: false, category: 0x203, flags: 0x221, params: &[] }, // 246 PPME_SOCKET_ACCEPT_5_E
    EventInfo { name: "accept", exit: true, category: 0x203, flags: 0x21, params: &[("fd", P::Fd), ("tuple", P::Socktuple), ("queuepct", P::Uint8), ("queuelen", P::Uint32), ("queuemax", P::Uint32)] }, // 247 PPME_SOCKET_ACCEPT_5_X
    EventInfo { name: "accept", exit: false, category: 0x203, flags: 0x1221, params: &[("flags", P::Int32)] }, // 248 PPME_SOCKET_ACCEPT4_5_E
    EventInfo { name: "accept", exit: true, category: 0x203, flags: 0x1221, params: &[("fd", P::Fd), ("tuple", P::Socktuple), ("queuepct", P::Uint8), ("queuelen", P::Uint32), ("queuemax", P::Uint32)] }, // 249 PPME_SOCKET_ACCEPT4_5_X
    EventInfo { name: "semop", exit: false, category: 0x206, flags: 0x1200, params: &[("semid", P::Int32)] }, // 250 PPME_SYSCALL_SEMOP_E
    EventInfo { name: "semop", exit: true, category: 0x206, flags: 0x1000, params: &[("res", P::Errno), ("nsops", P::Uint32), ("sem_num_0", P::Uint16), ("sem_op_0", P::Int16), ("sem_flg_0", P::Flags16), ("sem_num_1", P::Uint16), ("sem_op_1", P::Int16), ("sem_flg_1", P::Flags16), ("semid", P::Int32)] }, // 251 PPME_SYSCALL_SEMOP_X
    EventInfo { name: "semctl", exit: false, category: 0x206, flags: 0x1200, params: &[("semid", P::Int32), ("semnum", P::Int32), ("cmd", P::Flags16), ("val", P::Int32)] }, // 252 PPME_SYSCALL_SEMCTL_E
    EventInfo { name: "semctl", exit: true, category: 0x206, flags: 0x1000, params: &[("res", P::Errno), ("semid", P::Int32), ("semnum", P::Int32), ("cmd", P::Flags16), ("val", P::Int32)] }, // 253 PPME_SYSCALL_SEMCTL_X
    EventInfo { name: "ppoll", exit: false, category: 0x240, flags: 0x1280, params: &[("fds", P::Fdlist), ("timeout", P::Reltime), ("sigmask", P::Sigset)] }, // 254 PPME_SYSCALL_PPOLL_E
    EventInfo { name: "ppoll", exit: true, category: 0x240, flags: 0x1080, params: &[("res", P::Errno), ("fds", P::Fdlist), ("timeout", P::Reltime), ("sigmask", P::Sigset)] }, // 255 PPME_SYSCALL_PPOLL_X
    EventInfo { name: "mount", exit: false, category: 0x202, flags: 0x1220, params: &[("flags", P::Flags32)] }, // 256 PPME_SYSCALL_MOUNT_E
    EventInfo { name: "mount", exit: true, category: 0x202, flags: 0x1020, params: &[("res", P::Errno), ("dev", P::Charbuf), ("dir", P::Fspath), ("type", P::Charbuf), ("flags", P::Flags32)] }, // 257 PPME_SYSCALL_MOUNT_X
    EventInfo { name: "umount", exit: false, category: 0x202, flags: 0x220, params: &[("flags", P::Flags32)] }, // 258 PPME_SYSCALL_UMOUNT_E
    EventInfo { name: "umount", exit: true, category: 0x202, flags: 0x1220, params: &[("res", P::Errno), ("name", P::Fspath)] }, // 259 PPME_SYSCALL_UMOUNT_X
    EventInfo { name: "k8s", exit: false, category: 0x1100, flags: 0x320, params: &[("json", P::Charbuf)] }, // 260 PPME_K8S_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 261 PPME_K8S_X
    EventInfo { name: "semget", exit: false, category: 0x206, flags: 0x1200, params: &[("key", P::Int32), ("nsems", P::Int32), ("semflg", P::Flags32)] }, // 262 PPME_SYSCALL_SEMGET_E
    EventInfo { name: "semget", exit: true, category: 0x206, flags: 0x1000, params: &[("res", P::Errno), ("key", P::Int32), ("nsems", P::Int32), ("semflg", P::Flags32)] }, // 263 PPME_SYSCALL_SEMGET_X
    EventInfo { name: "access", exit: false, category: 0x202, flags: 0x1200, params: &[("mode", P::Flags32)] }, // 264 PPME_SYSCALL_ACCESS_E
    EventInfo { name: "access", exit: true, category: 0x202, flags: 0x1000, params: &[("res", P::Errno), ("name", P::Fspath), ("mode", P::Flags32)] }, // 265 PPME_SYSCALL_ACCESS_X
    EventInfo { name: "chroot", exit: false, category: 0x206, flags: 0x220, params: &[] }, // 266 PPME_SYSCALL_CHROOT_E
    EventInfo { name: "chroot", exit: true, category: 0x206, flags: 0x20, params: &[("res", P::Errno), ("path", P::Fspath)] }, // 267 PPME_SYSCALL_CHROOT_X
    EventInfo { name: "tracer", exit: false, category: 0x1001, flags: 0x200, params: &[("id", P::Int64), ("tags", P::Charbufarray), ("args", P::CharbufPairArray)] }, // 268 PPME_TRACER_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[("id", P::Int64), ("tags", P::Charbufarray), ("args", P::CharbufPairArray)] }, // 269 PPME_TRACER_X
    EventInfo { name: "mesos", exit: false, category: 0x1100, flags: 0x320, params: &[("json", P::Charbuf)] }, // 270 PPME_MESOS_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 271 PPME_MESOS_X
    EventInfo { name: "container", exit: false, category: 0x1006, flags: 0x1220, params: &[("json", P::Charbuf)] }, // 272 PPME_CONTAINER_JSON_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 273 PPME_CONTAINER_JSON_X
    EventInfo { name: "setsid", exit: false, category: 0x206, flags: 0x220, params: &[] }, // 274 PPME_SYSCALL_SETSID_E
    EventInfo { name: "setsid", exit: true, category: 0x206, flags: 0x20, params: &[("res", P::Pid)] }, // 275 PPME_SYSCALL_SETSID_X
    EventInfo { name: "mkdir", exit: false, category: 0x202, flags: 0x1200, params: &[("mode", P::Uint32)] }, // 276 PPME_SYSCALL_MKDIR_2_E
    EventInfo { name: "mkdir", exit: true, category: 0x202, flags: 0x1000, params: &[("res", P::Errno), ("path", P::Fspath), ("mode", P::Uint32)] }, // 277 PPME_SYSCALL_MKDIR_2_X
    EventInfo { name: "rmdir", exit: false, category: 0x202, flags: 0x200, params: &[] }, // 278 PPME_SYSCALL_RMDIR_2_E
    EventInfo { name: "rmdir", exit: true, category: 0x202, flags: 0x0, params: &[("res", P::Errno), ("path", P::Fspath)] }, // 279 PPME_SYSCALL_RMDIR_2_X
    EventInfo { name: "notification", exit: false, category: 0x1001, flags: 0x100, params: &[("id", P::Charbuf), ("desc", P::Charbuf)] }, // 280 PPME_NOTIFICATION_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 281 PPME_NOTIFICATION_X
    EventInfo { name: "execve", exit: false, category: 0x206, flags: 0x1220, params: &[] }, // 282 PPME_SYSCALL_EXECVE_17_E
    EventInfo { name: "execve", exit: true, category: 0x206, flags: 0x1220, params: &[("res", P::Errno), ("exe", P::Charbuf), ("args", P::Bytebuf), ("tid", P::Pid), ("pid", P::Pid), ("ptid", P::Pid), ("cwd", P::Charbuf), ("fdlimit", P::Uint64), ("pgft_maj", P::Uint64), ("pgft_min", P::Uint64), ("vm_size", P::Uint32), ("vm_rss", P::Uint32), ("vm_swap", P::Uint32), ("comm", P::Charbuf), ("cgroups", P::Bytebuf), ("env", P::Bytebuf), ("tty", P::Int32)] }, // 283 PPME_SYSCALL_EXECVE_17_X
    EventInfo { name: "unshare", exit: false, category: 0x206, flags: 0x1200, params: &[("flags", P::Flags32)] }, // 284 PPME_SYSCALL_UNSHARE_E
    EventInfo { name: "unshare", exit: true, category: 0x206, flags: 0x1000, params: &[("res", P::Errno), ("flags", P::Flags32)] }, // 285 PPME_SYSCALL_UNSHARE_X
    EventInfo { name: "infra", exit: false, category: 0x1100, flags: 0x100, params: &[("source", P::Charbuf), ("name", P::Charbuf), ("description", P::Charbuf), ("scope", P::Charbuf)] }, // 286 PPME_INFRASTRUCTURE_EVENT_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 287 PPME_INFRASTRUCTURE_EVENT_X
    EventInfo { name: "execve", exit: false, category: 0x206, flags: 0x1220, params: &[("filename", P::Fspath)] }, // 288 PPME_SYSCALL_EXECVE_18_E
    EventInfo { name: "execve", exit: true, category: 0x206, flags: 0x1220, params: &[("res", P::Errno), ("exe", P::Charbuf), ("args", P::Bytebuf), ("tid", P::Pid), ("pid", P::Pid), ("ptid", P::Pid), ("cwd", P::Charbuf), ("fdlimit", P::Uint64), ("pgft_maj", P::Uint64), ("pgft_min", P::Uint64), ("vm_size", P::Uint32), ("vm_rss", P::Uint32), ("vm_swap", P::Uint32), ("comm", P::Charbuf), ("cgroups", P::Bytebuf), ("env", P::Bytebuf), ("tty", P::Int32)] }, // 289 PPME_SYSCALL_EXECVE_18_X
    EventInfo { name: "page_fault", exit: false, category: 0x401, flags: 0x100, params: &[("addr", P::Uint64), ("ip", P::Uint64), ("error", P::Flags32)] }, // 290 PPME_PAGE_FAULT_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 291 PPME_PAGE_FAULT_X
    EventInfo { name: "execve", exit: false, category: 0x206, flags: 0x1220, params: &[("filename", P::Fspath)] }, // 292 PPME_SYSCALL_EXECVE_19_E
    EventInfo { name: "execve", exit: true, category: 0x206, flags: 0x1020, params: &[("res", P::Errno), ("exe", P::Charbuf), ("args", P::Bytebuf), ("tid", P::Pid), ("pid", P::Pid), ("ptid", P::Pid), ("cwd", P::Charbuf), ("fdlimit", P::Uint64), ("pgft_maj", P::Uint64), ("pgft_min", P::Uint64), ("vm_size", P::Uint32), ("vm_rss", P::Uint32), ("vm_swap", P::Uint32), ("comm", P::Charbuf), ("cgroups", P::Bytebuf), ("env", P::Bytebuf), ("tty", P::Uint32), ("vpgid", P::Pid), ("loginuid", P::Uid), ("flags", P::Flags32), ("cap_inheritable", P::Uint64), ("cap_permitted", P::Uint64), ("cap_effective", P::Uint64), ("exe_ino", P::Uint64), ("exe_ino_ctime", P::Abstime), ("exe_ino_mtime", P::Abstime), ("uid", P::Uid), ("trusted_exepath", P::Fspath), ("pgid", P::Pid), ("gid", P::Gid), ("filename", P::Fspath)] }, // 293 PPME_SYSCALL_EXECVE_19_X
    EventInfo { name: "setpgid", exit: false, category: 0x206, flags: 0x1200, params: &[("pid", P::Pid), ("pgid", P::Pid)] }, // 294 PPME_SYSCALL_SETPGID_E
    EventInfo { name: "setpgid", exit: true, category: 0x206, flags: 0x1000, params: &[("res", P::Errno), ("pid", P::Pid), ("pgid", P::Pid)] }, // 295 PPME_SYSCALL_SETPGID_X
    EventInfo { name: "bpf", exit: false, category: 0x201, flags: 0x1201, params: &[("cmd", P::Int64)] }, // 296 PPME_SYSCALL_BPF_E
    EventInfo { name: "bpf", exit: true, category: 0x201, flags: 0x1201, params: &[("res_or_fd", P::Dyn)] }, // 297 PPME_SYSCALL_BPF_X
    EventInfo { name: "seccomp", exit: false, category: 0x201, flags: 0x1200, params: &[("op", P::Uint64), ("flags", P::Uint64)] }, // 298 PPME_SYSCALL_SECCOMP_E
    EventInfo { name: "seccomp", exit: true, category: 0x201, flags: 0x1000, params: &[("res", P::Errno), ("op", P::Uint64), ("flags", P::Uint64)] }, // 299 PPME_SYSCALL_SECCOMP_X
    EventInfo { name: "unlink", exit: false, category: 0x202, flags: 0x200, params: &[] }, // 300 PPME_SYSCALL_UNLINK_2_E
    EventInfo { name: "unlink", exit: true, category: 0x202, flags: 0x0, params: &[("res", P::Errno), ("path", P::Fspath)] }, // 301 PPME_SYSCALL_UNLINK_2_X
    EventInfo { name: "unlinkat", exit: false, category: 0x202, flags: 0x200, params: &[] }, // 302 PPME_SYSCALL_UNLINKAT_2_E
    EventInfo { name: "unlinkat", exit: true, category: 0x202, flags: 0x4, params: &[("res", P::Errno), ("dirfd", P::Fd), ("name", P::Fsrelpath), ("flags", P::Flags32)] }, // 303 PPME_SYSCALL_UNLINKAT_2_X
    EventInfo { name: "mkdirat", exit: false, category: 0x202, flags: 0x200, params: &[] }, // 304 PPME_SYSCALL_MKDIRAT_E
    EventInfo { name: "mkdirat", exit: true, category: 0x202, flags: 0x4, params: &[("res", P::Errno), ("dirfd", P::Fd), ("path", P::Fsrelpath), ("mode", P::Uint32)] }, // 305 PPME_SYSCALL_MKDIRAT_X
    EventInfo { name: "openat", exit: false, category: 0x202, flags: 0x1021, params: &[("dirfd", P::Fd), ("name", P::Fsrelpath), ("flags", P::Flags32), ("mode", P::Uint32)] }, // 306 PPME_SYSCALL_OPENAT_2_E
    EventInfo { name: "openat", exit: true, category: 0x202, flags: 0x1021, params: &[("fd", P::Fd), ("dirfd", P::Fd), ("name", P::Fsrelpath), ("flags", P::Flags32), ("mode", P::Uint32), ("dev", P::Uint32), ("ino", P::Uint64)] }, // 307 PPME_SYSCALL_OPENAT_2_X
    EventInfo { name: "link", exit: false, category: 0x202, flags: 0x200, params: &[] }, // 308 PPME_SYSCALL_LINK_2_E
    EventInfo { name: "link", exit: true, category: 0x202, flags: 0x0, params: &[("res", P::Errno), ("oldpath", P::Fspath), ("newpath", P::Fspath)] }, // 309 PPME_SYSCALL_LINK_2_X
    EventInfo { name: "linkat", exit: false, category: 0x202, flags: 0x200, params: &[] }, // 310 PPME_SYSCALL_LINKAT_2_E
    EventInfo { name: "linkat", exit: true, category: 0x202, flags: 0x0, params: &[("res", P::Errno), ("olddir", P::Fd), ("oldpath", P::Fsrelpath), ("newdir", P::Fd), ("newpath", P::Fsrelpath), ("flags", P::Flags32)] }, // 311 PPME_SYSCALL_LINKAT_2_X
    EventInfo { name: "fchmodat", exit: false, category: 0x202, flags: 0x200, params: &[] }, // 312 PPME_SYSCALL_FCHMODAT_E
    EventInfo { name: "fchmodat", exit: true, category: 0x202, flags: 0x4, params: &[("res", P::Errno), ("dirfd", P::Fd), ("filename", P::Fsrelpath), ("mode", P::Mode)] }, // 313 PPME_SYSCALL_FCHMODAT_X
    EventInfo { name: "chmod", exit: false, category: 0x202, flags: 0x200, params: &[] }, // 314 PPME_SYSCALL_CHMOD_E
    EventInfo { name: "chmod", exit: true, category: 0x202, flags: 0x0, params: &[("res", P::Errno), ("filename", P::Fspath), ("mode", P::Mode)] }, // 315 PPME_SYSCALL_CHMOD_X
    EventInfo { name: "fchmod", exit: false, category: 0x202, flags: 0x200, params: &[] }, // 316 PPME_SYSCALL_FCHMOD_E
    EventInfo { name: "fchmod", exit: true, category: 0x202, flags: 0x4, params: &[("res", P::Errno), ("fd", P::Fd), ("mode", P::Mode)] }, // 317 PPME_SYSCALL_FCHMOD_X
    EventInfo { name: "renameat2", exit: false, category: 0x202, flags: 0x200, params: &[] }, // 318 PPME_SYSCALL_RENAMEAT2_E
    EventInfo { name: "renameat2", exit: true, category: 0x202, flags: 0x0, params: &[("res", P::Errno), ("olddirfd", P::Fd), ("oldpath", P::Fsrelpath), ("newdirfd", P::Fd), ("newpath", P::Fsrelpath), ("flags", P::Flags32)] }, // 319 PPME_SYSCALL_RENAMEAT2_X
    EventInfo { name: "userfaultfd", exit: false, category: 0x202, flags: 0x221, params: &[] }, // 320 PPME_SYSCALL_USERFAULTFD_E
    EventInfo { name: "userfaultfd", exit: true, category: 0x202, flags: 0x21, params: &[("res", P::Errno), ("flags", P::Flags32)] }, // 321 PPME_SYSCALL_USERFAULTFD_X
    EventInfo { name: "pluginevent", exit: false, category: 0x801, flags: 0x800, params: &[("plugin_id", P::Uint32), ("event_data", P::Bytebuf)] }, // 322 PPME_PLUGINEVENT_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 323 PPME_PLUGINEVENT_X
    EventInfo { name: "container", exit: false, category: 0x1006, flags: 0x820, params: &[("json", P::Charbuf)] }, // 324 PPME_CONTAINER_JSON_2_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 325 PPME_CONTAINER_JSON_2_X
    EventInfo { name: "openat2", exit: false, category: 0x202, flags: 0x1021, params: &[("dirfd", P::Fd), ("name", P::Fsrelpath), ("flags", P::Flags32), ("mode", P::Uint32), ("resolve", P::Flags32)] }, // 326 PPME_SYSCALL_OPENAT2_E
    EventInfo { name: "openat2", exit: true, category: 0x202, flags: 0x1021, params: &[("fd", P::Fd), ("dirfd", P::Fd), ("name", P::Fsrelpath), ("flags", P::Flags32), ("mode", P::Uint32), ("resolve", P::Flags32), ("dev", P::Uint32), ("ino", P::Uint64)] }, // 327 PPME_SYSCALL_OPENAT2_X
    EventInfo { name: "mprotect", exit: false, category: 0x205, flags: 0x1200, params: &[("addr", P::Uint64), ("length", P::Uint64), ("prot", P::Flags32)] }, // 328 PPME_SYSCALL_MPROTECT_E
    EventInfo { name: "mprotect", exit: true, category: 0x205, flags: 0x1000, params: &[("res", P::Errno), ("addr", P::Uint64), ("length", P::Uint64), ("prot", P::Flags32)] }, // 329 PPME_SYSCALL_MPROTECT_X
    EventInfo { name: "execveat", exit: false, category: 0x206, flags: 0x1220, params: &[("dirfd", P::Fd), ("pathname", P::Fsrelpath), ("flags", P::Flags32)] }, // 330 PPME_SYSCALL_EXECVEAT_E
    EventInfo { name: "execveat", exit: true, category: 0x206, flags: 0x1020, params: &[("res", P::Errno), ("exe", P::Charbuf), ("args", P::Bytebuf), ("tid", P::Pid), ("pid", P::Pid), ("ptid", P::Pid), ("cwd", P::Charbuf), ("fdlimit", P::Uint64), ("pgft_maj", P::Uint64), ("pgft_min", P::Uint64), ("vm_size", P::Uint32), ("vm_rss", P::Uint32), ("vm_swap", P::Uint32), ("comm", P::Charbuf), ("cgroups", P::Bytebuf), ("env", P::Bytebuf), ("tty", P::Uint32), ("vpgid", P::Pid), ("loginuid", P::Uid), ("flags", P::Flags32), ("cap_inheritable", P::Uint64), ("cap_permitted", P::Uint64), ("cap_effective", P::Uint64), ("exe_ino", P::Uint64), ("exe_ino_ctime", P::Abstime), ("exe_ino_mtime", P::Abstime), ("uid", P::Uid), ("trusted_exepath", P::Fspath), ("pgid", P::Pid), ("gid", P::Gid)] }, // 331 PPME_SYSCALL_EXECVEAT_X
    EventInfo { name: "copy_file_range", exit: false, category: 0x202, flags: 0x121c, params: &[("fdin", P::Fd), ("offin", P::Uint64), ("len", P::Uint64)] }, // 332 PPME_SYSCALL_COPY_FILE_RANGE_E
    EventInfo { name: "copy_file_range", exit: true, category: 0x202, flags: 0x101c, params: &[("res", P::Errno), ("fdout", P::Fd), ("offout", P::Uint64), ("fdin", P::Fd), ("offin", P::Uint64), ("len", P::Uint64)] }, // 333 PPME_SYSCALL_COPY_FILE_RANGE_X
    EventInfo { name: "clone3", exit: false, category: 0x206, flags: 0x220, params: &[] }, // 334 PPME_SYSCALL_CLONE3_E
    EventInfo { name: "clone3", exit: true, category: 0x206, flags: 0x1020, params: &[("res", P::Pid), ("exe", P::Charbuf), ("args", P::Bytebuf), ("tid", P::Pid), ("pid", P::Pid), ("ptid", P::Pid), ("cwd", P::Charbuf), ("fdlimit", P::Int64), ("pgft_maj", P::Uint64), ("pgft_min", P::Uint64), ("vm_size", P::Uint32), ("vm_rss", P::Uint32), ("vm_swap", P::Uint32), ("comm", P::Charbuf), ("cgroups", P::Bytebuf), ("flags", P::Flags32), ("uid", P::Uint32), ("gid", P::Uint32), ("vtid", P::Pid), ("vpid", P::Pid), ("pidns_init_start_ts", P::Uint64)] }, // 335 PPME_SYSCALL_CLONE3_X
    EventInfo { name: "open_by_handle_at", exit: false, category: 0x202, flags: 0x221, params: &[] }, // 336 PPME_SYSCALL_OPEN_BY_HANDLE_AT_E
    EventInfo { name: "open_by_handle_at", exit: true, category: 0x202, flags: 0x21, params: &[("fd", P::Fd), ("mountfd", P::Fd), ("flags", P::Flags32), ("path", P::Fspath), ("dev", P::Uint32), ("ino", P::Uint64)] }, // 337 PPME_SYSCALL_OPEN_BY_HANDLE_AT_X
    EventInfo { name: "io_uring_setup", exit: false, category: 0x222, flags: 0x221, params: &[] }, // 338 PPME_SYSCALL_IO_URING_SETUP_E
    EventInfo { name: "io_uring_setup", exit: true, category: 0x222, flags: 0x21, params: &[("res", P::Errno), ("entries", P::Uint32), ("sq_entries", P::Uint32), ("cq_entries", P::Uint32), ("flags", P::Flags32), ("sq_thread_cpu", P::Uint32), ("sq_thread_idle", P::Uint32), ("features", P::Flags32)] }, // 339 PPME_SYSCALL_IO_URING_SETUP_X
    EventInfo { name: "io_uring_enter", exit: false, category: 0x222, flags: 0x200, params: &[] }, // 340 PPME_SYSCALL_IO_URING_ENTER_E
    EventInfo { name: "io_uring_enter", exit: true, category: 0x222, flags: 0x4, params: &[("res", P::Errno), ("fd", P::Fd), ("to_submit", P::Uint32), ("min_complete", P::Uint32), ("flags", P::Flags32), ("sig", P::Sigset)] }, // 341 PPME_SYSCALL_IO_URING_ENTER_X
    EventInfo { name: "io_uring_register", exit: false, category: 0x222, flags: 0x200, params: &[] }, // 342 PPME_SYSCALL_IO_URING_REGISTER_E
    EventInfo { name: "io_uring_register", exit: true, category: 0x222, flags: 0x4, params: &[("res", P::Errno), ("fd", P::Fd), ("opcode", P::Enumflags16), ("arg", P::Uint64), ("nr_args", P::Uint32)] }, // 343 PPME_SYSCALL_IO_URING_REGISTER_X
    EventInfo { name: "mlock", exit: false, category: 0x205, flags: 0x200, params: &[] }, // 344 PPME_SYSCALL_MLOCK_E
    EventInfo { name: "mlock", exit: true, category: 0x205, flags: 0x0, params: &[("res", P::Errno), ("addr", P::Uint64), ("len", P::Uint64)] }, // 345 PPME_SYSCALL_MLOCK_X
    EventInfo { name: "munlock", exit: false, category: 0x205, flags: 0x200, params: &[] }, // 346 PPME_SYSCALL_MUNLOCK_E
    EventInfo { name: "munlock", exit: true, category: 0x205, flags: 0x0, params: &[("res", P::Errno), ("addr", P::Uint64), ("len", P::Uint64)] }, // 347 PPME_SYSCALL_MUNLOCK_X
    EventInfo { name: "mlockall", exit: false, category: 0x205, flags: 0x200, params: &[] }, // 348 PPME_SYSCALL_MLOCKALL_E
    EventInfo { name: "mlockall", exit: true, category: 0x205, flags: 0x0, params: &[("res", P::Errno), ("flags", P::Flags32)] }, // 349 PPME_SYSCALL_MLOCKALL_X
    EventInfo { name: "munlockall", exit: false, category: 0x205, flags: 0x200, params: &[] }, // 350 PPME_SYSCALL_MUNLOCKALL_E
    EventInfo { name: "munlockall", exit: true, category: 0x205, flags: 0x0, params: &[("res", P::Errno)] }, // 351 PPME_SYSCALL_MUNLOCKALL_X
    EventInfo { name: "capset", exit: false, category: 0x206, flags: 0x220, params: &[] }, // 352 PPME_SYSCALL_CAPSET_E
    EventInfo { name: "capset", exit: true, category: 0x206, flags: 0x20, params: &[("res", P::Errno), ("cap_inheritable", P::Uint64), ("cap_permitted", P::Uint64), ("cap_effective", P::Uint64)] }, // 353 PPME_SYSCALL_CAPSET_X
    EventInfo { name: "useradded", exit: false, category: 0x1006, flags: 0x20, params: &[("uid", P::Uint32), ("gid", P::Uint32), ("name", P::Charbuf), ("home", P::Charbuf), ("shell", P::Charbuf), ("container_id", P::Charbuf)] }, // 354 PPME_USER_ADDED_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 355 PPME_USER_ADDED_X
    EventInfo { name: "userdeleted", exit: false, category: 0x1006, flags: 0x20, params: &[("uid", P::Uint32), ("gid", P::Uint32), ("name", P::Charbuf), ("home", P::Charbuf), ("shell", P::Charbuf), ("container_id", P::Charbuf)] }, // 356 PPME_USER_DELETED_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 357 PPME_USER_DELETED_X
    EventInfo { name: "groupadded", exit: false, category: 0x1006, flags: 0x20, params: &[("gid", P::Uint32), ("name", P::Charbuf), ("container_id", P::Charbuf)] }, // 358 PPME_GROUP_ADDED_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 359 PPME_GROUP_ADDED_X
    EventInfo { name: "groupdeleted", exit: false, category: 0x1006, flags: 0x20, params: &[("gid", P::Uint32), ("name", P::Charbuf), ("container_id", P::Charbuf)] }, // 360 PPME_GROUP_DELETED_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 361 PPME_GROUP_DELETED_X
    EventInfo { name: "dup2", exit: false, category: 0x222, flags: 0x225, params: &[("fd", P::Fd)] }, // 362 PPME_SYSCALL_DUP2_E
    EventInfo { name: "dup2", exit: true, category: 0x222, flags: 0x25, params: &[("res", P::Fd), ("oldfd", P::Fd), ("newfd", P::Fd)] }, // 363 PPME_SYSCALL_DUP2_X
    EventInfo { name: "dup3", exit: false, category: 0x222, flags: 0x225, params: &[("fd", P::Fd)] }, // 364 PPME_SYSCALL_DUP3_E
    EventInfo { name: "dup3", exit: true, category: 0x222, flags: 0x25, params: &[("res", P::Fd), ("oldfd", P::Fd), ("newfd", P::Fd), ("flags", P::Flags32)] }, // 365 PPME_SYSCALL_DUP3_X
    EventInfo { name: "dup", exit: false, category: 0x222, flags: 0x225, params: &[("fd", P::Fd)] }, // 366 PPME_SYSCALL_DUP_1_E
    EventInfo { name: "dup", exit: true, category: 0x222, flags: 0x25, params: &[("res", P::Fd), ("oldfd", P::Fd)] }, // 367 PPME_SYSCALL_DUP_1_X
    EventInfo { name: "bpf", exit: false, category: 0x201, flags: 0x201, params: &[("cmd", P::Int64)] }, // 368 PPME_SYSCALL_BPF_2_E
    EventInfo { name: "bpf", exit: true, category: 0x201, flags: 0x1, params: &[("fd", P::Fd), ("cmd", P::Enumflags32)] }, // 369 PPME_SYSCALL_BPF_2_X
    EventInfo { name: "mlock2", exit: false, category: 0x205, flags: 0x200, params: &[] }, // 370 PPME_SYSCALL_MLOCK2_E
    EventInfo { name: "mlock2", exit: true, category: 0x205, flags: 0x0, params: &[("res", P::Errno), ("addr", P::Uint64), ("len", P::Uint64), ("flags", P::Flags32)] }, // 371 PPME_SYSCALL_MLOCK2_X
    EventInfo { name: "fsconfig", exit: false, category: 0x208, flags: 0x200, params: &[] }, // 372 PPME_SYSCALL_FSCONFIG_E
    EventInfo { name: "fsconfig", exit: true, category: 0x208, flags: 0x4, params: &[("res", P::Errno), ("fd", P::Fd), ("cmd", P::Enumflags32), ("key", P::Charbuf), ("value_bytebuf", P::Bytebuf), ("value_charbuf", P::Charbuf), ("aux", P::Int32)] }, // 373 PPME_SYSCALL_FSCONFIG_X
    EventInfo { name: "epoll_create", exit: false, category: 0x240, flags: 0x1221, params: &[("size", P::Int32)] }, // 374 PPME_SYSCALL_EPOLL_CREATE_E
    EventInfo { name: "epoll_create", exit: true, category: 0x240, flags: 0x1021, params: &[("res", P::Errno), ("size", P::Int32)] }, // 375 PPME_SYSCALL_EPOLL_CREATE_X
    EventInfo { name: "epoll_create1", exit: false, category: 0x240, flags: 0x1221, params: &[("flags", P::Flags32)] }, // 376 PPME_SYSCALL_EPOLL_CREATE1_E
    EventInfo { name: "epoll_create1", exit: true, category: 0x240, flags: 0x1021, params: &[("res", P::Errno), ("flags", P::Flags32)] }, // 377 PPME_SYSCALL_EPOLL_CREATE1_X
    EventInfo { name: "chown", exit: false, category: 0x202, flags: 0x200, params: &[] }, // 378 PPME_SYSCALL_CHOWN_E
    EventInfo { name: "chown", exit: true, category: 0x202, flags: 0x0, params: &[("res", P::Errno), ("path", P::Fspath), ("uid", P::Uint32), ("gid", P::Uint32)] }, // 379 PPME_SYSCALL_CHOWN_X
    EventInfo { name: "lchown", exit: false, category: 0x202, flags: 0x200, params: &[] }, // 380 PPME_SYSCALL_LCHOWN_E
    EventInfo { name: "lchown", exit: true, category: 0x202, flags: 0x0, params: &[("res", P::Errno), ("path", P::Fspath), ("uid", P::Uint32), ("gid", P::Uint32)] }, // 381 PPME_SYSCALL_LCHOWN_X
    EventInfo { name: "fchown", exit: false, category: 0x202, flags: 0x200, params: &[] }, // 382 PPME_SYSCALL_FCHOWN_E
    EventInfo { name: "fchown", exit: true, category: 0x202, flags: 0x4, params: &[("res", P::Errno), ("fd", P::Fd), ("uid", P::Uint32), ("gid", P::Uint32)] }, // 383 PPME_SYSCALL_FCHOWN_X
    EventInfo { name: "fchownat", exit: false, category: 0x202, flags: 0x200, params: &[] }, // 384 PPME_SYSCALL_FCHOWNAT_E
    EventInfo { name: "fchownat", exit: true, category: 0x202, flags: 0x4, params: &[("res", P::Errno), ("dirfd", P::Fd), ("pathname", P::Fsrelpath), ("uid", P::Uint32), ("gid", P::Uint32), ("flags", P::Flags32)] }, // 385 PPME_SYSCALL_FCHOWNAT_X
    EventInfo { name: "umount", exit: false, category: 0x202, flags: 0x220, params: &[] }, // 386 PPME_SYSCALL_UMOUNT_1_E
    EventInfo { name: "umount", exit: true, category: 0x202, flags: 0x20, params: &[("res", P::Errno), ("name", P::Fspath)] }, // 387 PPME_SYSCALL_UMOUNT_1_X
    EventInfo { name: "accept4", exit: false, category: 0x203, flags: 0x1221, params: &[("flags", P::Int32)] }, // 388 PPME_SOCKET_ACCEPT4_6_E
    EventInfo { name: "accept4", exit: true, category: 0x203, flags: 0x1021, params: &[("fd", P::Fd), ("tuple", P::Socktuple), ("queuepct", P::Uint8), ("queuelen", P::Uint32), ("queuemax", P::Uint32), ("flags", P::Int32)] }, // 389 PPME_SOCKET_ACCEPT4_6_X
    EventInfo { name: "umount2", exit: false, category: 0x202, flags: 0x1220, params: &[("flags", P::Flags32)] }, // 390 PPME_SYSCALL_UMOUNT2_E
    EventInfo { name: "umount2", exit: true, category: 0x202, flags: 0x1020, params: &[("res", P::Errno), ("name", P::Fspath), ("flags", P::Flags32)] }, // 391 PPME_SYSCALL_UMOUNT2_X
    EventInfo { name: "pipe2", exit: false, category: 0x204, flags: 0x221, params: &[] }, // 392 PPME_SYSCALL_PIPE2_E
    EventInfo { name: "pipe2", exit: true, category: 0x204, flags: 0x21, params: &[("res", P::Errno), ("fd1", P::Fd), ("fd2", P::Fd), ("ino", P::Uint64), ("flags", P::Flags32)] }, // 393 PPME_SYSCALL_PIPE2_X
    EventInfo { name: "inotify_init1", exit: false, category: 0x204, flags: 0x221, params: &[] }, // 394 PPME_SYSCALL_INOTIFY_INIT1_E
    EventInfo { name: "inotify_init1", exit: true, category: 0x204, flags: 0x21, params: &[("res", P::Fd), ("flags", P::Flags16)] }, // 395 PPME_SYSCALL_INOTIFY_INIT1_X
    EventInfo { name: "eventfd2", exit: false, category: 0x204, flags: 0x1221, params: &[("initval", P::Uint64)] }, // 396 PPME_SYSCALL_EVENTFD2_E
    EventInfo { name: "eventfd2", exit: true, category: 0x204, flags: 0x1021, params: &[("res", P::Fd), ("flags", P::Flags16), ("initval", P::Uint64)] }, // 397 PPME_SYSCALL_EVENTFD2_X
    EventInfo { name: "signalfd4", exit: false, category: 0x209, flags: 0x1221, params: &[("fd", P::Fd), ("mask", P::Uint32)] }, // 398 PPME_SYSCALL_SIGNALFD4_E
    EventInfo { name: "signalfd4", exit: true, category: 0x209, flags: 0x1021, params: &[("res", P::Fd), ("flags", P::Flags16), ("fd", P::Fd), ("mask", P::Uint32)] }, // 399 PPME_SYSCALL_SIGNALFD4_X
    EventInfo { name: "prctl", exit: false, category: 0x206, flags: 0x220, params: &[] }, // 400 PPME_SYSCALL_PRCTL_E
    EventInfo { name: "prctl", exit: true, category: 0x206, flags: 0x20, params: &[("res", P::Errno), ("option", P::Enumflags32), ("arg2_str", P::Charbuf), ("arg2_int", P::Int64)] }, // 401 PPME_SYSCALL_PRCTL_X
    EventInfo { name: "asyncevent", exit: false, category: 0x1001, flags: 0x800, params: &[("plugin_id", P::Uint32), ("name", P::Charbuf), ("data", P::Bytebuf)] }, // 402 PPME_ASYNCEVENT_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 403 PPME_ASYNCEVENT_X
    EventInfo { name: "memfd_create", exit: false, category: 0x205, flags: 0x221, params: &[] }, // 404 PPME_SYSCALL_MEMFD_CREATE_E
    EventInfo { name: "memfd_create", exit: true, category: 0x205, flags: 0x21, params: &[("fd", P::Fd), ("name", P::Charbuf), ("flags", P::Flags32)] }, // 405 PPME_SYSCALL_MEMFD_CREATE_X
    EventInfo { name: "pidfd_getfd", exit: false, category: 0x206, flags: 0x221, params: &[] }, // 406 PPME_SYSCALL_PIDFD_GETFD_E
    EventInfo { name: "pidfd_getfd", exit: true, category: 0x206, flags: 0x21, params: &[("fd", P::Fd), ("pid_fd", P::Fd), ("target_fd", P::Fd), ("flags", P::Uint32)] }, // 407 PPME_SYSCALL_PIDFD_GETFD_X
    EventInfo { name: "pidfd_open", exit: false, category: 0x206, flags: 0x221, params: &[] }, // 408 PPME_SYSCALL_PIDFD_OPEN_E
    EventInfo { name: "pidfd_open", exit: true, category: 0x206, flags: 0x21, params: &[("fd", P::Fd), ("pid", P::Pid), ("flags", P::Flags32)] }, // 409 PPME_SYSCALL_PIDFD_OPEN_X
    EventInfo { name: "init_module", exit: false, category: 0x201, flags: 0x200, params: &[] }, // 410 PPME_SYSCALL_INIT_MODULE_E
    EventInfo { name: "init_module", exit: true, category: 0x201, flags: 0x0, params: &[("res", P::Errno), ("img", P::Bytebuf), ("length", P::Uint64), ("uargs", P::Charbuf)] }, // 411 PPME_SYSCALL_INIT_MODULE_X
    EventInfo { name: "finit_module", exit: false, category: 0x201, flags: 0x200, params: &[] }, // 412 PPME_SYSCALL_FINIT_MODULE_E
    EventInfo { name: "finit_module", exit: true, category: 0x201, flags: 0xc, params: &[("res", P::Errno), ("fd", P::Fd), ("uargs", P::Charbuf), ("flags", P::Flags32)] }, // 413 PPME_SYSCALL_FINIT_MODULE_X
    EventInfo { name: "mknod", exit: false, category: 0x201, flags: 0x200, params: &[] }, // 414 PPME_SYSCALL_MKNOD_E
    EventInfo { name: "mknod", exit: true, category: 0x201, flags: 0x0, params: &[("res", P::Errno), ("path", P::Fspath), ("mode", P::Mode), ("dev", P::Uint32)] }, // 415 PPME_SYSCALL_MKNOD_X
    EventInfo { name: "mknodat", exit: false, category: 0x201, flags: 0x200, params: &[] }, // 416 PPME_SYSCALL_MKNODAT_E
    EventInfo { name: "mknodat", exit: true, category: 0x201, flags: 0x4, params: &[("res", P::Errno), ("dirfd", P::Fd), ("path", P::Fsrelpath), ("mode", P::Mode), ("dev", P::Uint32)] }, // 417 PPME_SYSCALL_MKNODAT_X
    EventInfo { name: "newfstatat", exit: false, category: 0x202, flags: 0x200, params: &[] }, // 418 PPME_SYSCALL_NEWFSTATAT_E
    EventInfo { name: "newfstatat", exit: true, category: 0x202, flags: 0x4, params: &[("res", P::Errno), ("dirfd", P::Fd), ("path", P::Fsrelpath), ("flags", P::Flags32)] }, // 419 PPME_SYSCALL_NEWFSTATAT_X
    EventInfo { name: "process_vm_readv", exit: false, category: 0x204, flags: 0x200, params: &[] }, // 420 PPME_SYSCALL_PROCESS_VM_READV_E
    EventInfo { name: "process_vm_readv", exit: true, category: 0x204, flags: 0x0, params: &[("res", P::Int64), ("pid", P::Pid), ("data", P::Bytebuf)] }, // 421 PPME_SYSCALL_PROCESS_VM_READV_X
    EventInfo { name: "process_vm_writev", exit: false, category: 0x204, flags: 0x200, params: &[] }, // 422 PPME_SYSCALL_PROCESS_VM_WRITEV_E
    EventInfo { name: "process_vm_writev", exit: true, category: 0x204, flags: 0x0, params: &[("res", P::Int64), ("pid", P::Pid), ("data", P::Bytebuf)] }, // 423 PPME_SYSCALL_PROCESS_VM_WRITEV_X
    EventInfo { name: "delete_module", exit: false, category: 0x201, flags: 0x200, params: &[] }, // 424 PPME_SYSCALL_DELETE_MODULE_E
    EventInfo { name: "delete_module", exit: true, category: 0x201, flags: 0x0, params: &[("res", P::Errno), ("name", P::Charbuf), ("flags", P::Flags32)] }, // 425 PPME_SYSCALL_DELETE_MODULE_X
    EventInfo { name: "setreuid", exit: false, category: 0x20a, flags: 0x220, params: &[] }, // 426 PPME_SYSCALL_SETREUID_E
    EventInfo { name: "setreuid", exit: true, category: 0x20a, flags: 0x20, params: &[("res", P::Errno), ("ruid", P::Uid), ("euid", P::Uid)] }, // 427 PPME_SYSCALL_SETREUID_X
    EventInfo { name: "setregid", exit: false, category: 0x20a, flags: 0x200, params: &[] }, // 428 PPME_SYSCALL_SETREGID_E
    EventInfo { name: "setregid", exit: true, category: 0x20a, flags: 0x20, params: &[("res", P::Errno), ("rgid", P::Uid), ("egid", P::Uid)] }, // 429 PPME_SYSCALL_SETREGID_X
    EventInfo { name: "task", exit: false, category: 0x2006, flags: 0x20, params: &[("ppid", P::Pid32), ("pgid", P::Pid32), ("vpgid", P::Pid32), ("sid", P::Pid32), ("comm", P::Charbuf), ("argv", P::Charbufarray), ("exepath", P::Fspath), ("flags", P::Flags32), ("env", P::Charbufarray), ("cwd", P::Charbuf), ("fdlimit", P::Uint64), ("euid", P::Uid), ("egid", P::Gid), ("cap_permitted", P::Uint64), ("cap_effective", P::Uint64), ("cap_inheritable", P::Uint64), ("exe_ino_num", P::Uint64), ("exe_ino_ctime", P::Abstime), ("exe_ino_mtime", P::Abstime), ("vm_size", P::Uint32), ("vm_rss", P::Uint32), ("vm_swap", P::Uint32), ("pgft_maj", P::Uint64), ("pgft_min", P::Uint64), ("vtgid", P::Pid32), ("vpid", P::Pid32), ("pidns_init_start_ts", P::Uint64), ("cgroups", P::Charbufarray), ("root", P::Fspath), ("start_time", P::Abstime), ("tty", P::Uint32), ("loginuid", P::Uid)] }, // 430 PPME_ITER_TASK_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 431 PPME_ITER_TASK_X
    EventInfo { name: "task_file_pipe", exit: false, category: 0x2002, flags: 0x20, params: &[("fd", P::Fd32), ("path", P::Fspath), ("ino_num", P::Uint64)] }, // 432 PPME_ITER_TASK_FILE_PIPE_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 433 PPME_ITER_TASK_FILE_PIPE_X
    EventInfo { name: "task_file_memfd", exit: false, category: 0x2002, flags: 0x20, params: &[("fd", P::Fd32), ("path", P::Fspath), ("ino_num", P::Uint64)] }, // 434 PPME_ITER_TASK_FILE_MEMFD_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 435 PPME_ITER_TASK_FILE_MEMFD_X
    EventInfo { name: "task_file_regular", exit: false, category: 0x2002, flags: 0x20, params: &[("fd", P::Fd32), ("path", P::Fspath), ("flags", P::Flags32), ("mnt_id", P::Uint32), ("ino_num", P::Uint64)] }, // 436 PPME_ITER_TASK_FILE_REGULAR_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 437 PPME_ITER_TASK_FILE_REGULAR_X
    EventInfo { name: "task_file_directory", exit: false, category: 0x2002, flags: 0x20, params: &[("fd", P::Fd32), ("path", P::Fspath), ("ino_num", P::Uint64)] }, // 438 PPME_ITER_TASK_FILE_DIRECTORY_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 439 PPME_ITER_TASK_FILE_DIRECTORY_X
    EventInfo { name: "task_file_socket_inet", exit: false, category: 0x2002, flags: 0x20, params: &[("fd", P::Fd32), ("sk_type", P::Uint16), ("sk_proto", P::Uint16), ("local_ip", P::Ipv4addr), ("local_port", P::Port), ("remote_ip", P::Ipv4addr), ("remote_port", P::Port), ("ino_num", P::Uint64)] }, // 440 PPME_ITER_TASK_FILE_SOCKET_INET_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 441 PPME_ITER_TASK_FILE_SOCKET_INET_X
    EventInfo { name: "task_file_socket_inet6", exit: false, category: 0x2002, flags: 0x20, params: &[("fd", P::Fd32), ("sk_type", P::Uint16), ("sk_proto", P::Uint16), ("local_ip", P::Ipv6addr), ("local_port", P::Port), ("remote_ip", P::Ipv6addr), ("remote_port", P::Port), ("ino_num", P::Uint64)] }, // 442 PPME_ITER_TASK_FILE_SOCKET_INET6_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 443 PPME_ITER_TASK_FILE_SOCKET_INET6_X
    EventInfo { name: "task_file_socket_unix", exit: false, category: 0x2002, flags: 0x20, params: &[("fd", P::Fd32), ("sk_type", P::Uint16), ("sk_proto", P::Uint16), ("sk_pointer", P::Uint64), ("sun_path", P::Fspath), ("ino_num", P::Uint64)] }, // 444 PPME_ITER_TASK_FILE_SOCKET_UNIX_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 445 PPME_ITER_TASK_FILE_SOCKET_UNIX_X
    EventInfo { name: "task_file_socket_netlink", exit: false, category: 0x2002, flags: 0x20, params: &[("fd", P::Fd32), ("sk_type", P::Uint16), ("sk_proto", P::Uint16), ("ino_num", P::Uint64)] }, // 446 PPME_ITER_TASK_FILE_SOCKET_NETLINK_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 447 PPME_ITER_TASK_FILE_SOCKET_NETLINK_X
    EventInfo { name: "task_file_anon_inode", exit: false, category: 0x2002, flags: 0x20, params: &[("fd", P::Fd32), ("fd_type", P::Flags8), ("path", P::Fspath), ("ino_num", P::Uint64)] }, // 448 PPME_ITER_TASK_FILE_ANON_INODE_E
    EventInfo { name: "NA", exit: true, category: 0x0, flags: 0x40, params: &[] }, // 449 PPME_ITER_TASK_FILE_ANON_INODE_X
    EventInfo { name: "NA", exit: false, category: 0x0, flags: 0x40, params: &[] }, // 450 PPME_SYSCALL_CLOSE_RANGE_E
    EventInfo { name: "close_range", exit: true, category: 0x222, flags: 0x20, params: &[("res", P::Errno), ("first", P::Uint32), ("last", P::Uint32), ("flags", P::Flags32)] }, // 451 PPME_SYSCALL_CLOSE_RANGE_X
    EventInfo { name: "NA", exit: false, category: 0x0, flags: 0x40, params: &[] }, // 452 PPME_SYSCALL_KEYCTL_E
    EventInfo { name: "keyctl", exit: true, category: 0x201, flags: 0x0, params: &[("res", P::Errno), ("operation", P::Enumflags32), ("arg2", P::Dyn), ("arg3", P::Dyn), ("arg4", P::Dyn), ("arg5", P::Dyn)] }, // 453 PPME_SYSCALL_KEYCTL_X

];

/// The name of a libs syscall code (`PPM_SC_*`), as generic events carry
/// it in their `ID` parameter; `evt.type` of a generic event is this name.
pub fn syscall_name(code: u16) -> Option<&'static str> {
    SYSCALL_NAMES.get(code as usize).copied()
}

/// The libs syscall code (`PPM_SC_*`) of a syscall name, for generic
/// events.
pub fn syscall_code(name: &str) -> Option<u16> {
    SYSCALL_NAMES
        .iter()
        .position(|n| *n == name)
        .map(|i| i as u16)
}

#[rustfmt::skip]
static SYSCALL_NAMES: [&str; 454] = [
    "<unknown>", // as sysdig shows it
    "restart_syscall",
    "exit",
    "read",
    "write",
    "open",
    "close",
    "creat",
    "link",
    "unlink",
    "chdir",
    "time",
    "mknod",
    "chmod",
    "stat",
    "lseek",
    "getpid",
    "mount",
    "ptrace",
    "alarm",
    "fstat",
    "pause",
    "utime",
    "access",
    "sync",
    "kill",
    "rename",
    "mkdir",
    "rmdir",
    "dup",
    "pipe",
    "times",
    "brk",
    "acct",
    "ioctl",
    "fcntl",
    "setpgid",
    "umask",
    "chroot",
    "ustat",
    "dup2",
    "getppid",
    "getpgrp",
    "setsid",
    "sethostname",
    "setrlimit",
    "getrusage",
    "gettimeofday",
    "settimeofday",
    "symlink",
    "lstat",
    "readlink",
    "uselib",
    "swapon",
    "reboot",
    "mmap",
    "munmap",
    "truncate",
    "ftruncate",
    "fchmod",
    "getpriority",
    "setpriority",
    "statfs",
    "fstatfs",
    "syslog",
    "setitimer",
    "getitimer",
    "uname",
    "vhangup",
    "wait4",
    "swapoff",
    "sysinfo",
    "fsync",
    "setdomainname",
    "adjtimex",
    "mprotect",
    "init_module",
    "delete_module",
    "quotactl",
    "getpgid",
    "fchdir",
    "sysfs",
    "personality",
    "getdents",
    "select",
    "flock",
    "msync",
    "readv",
    "writev",
    "getsid",
    "fdatasync",
    "mlock",
    "munlock",
    "mlockall",
    "munlockall",
    "sched_setparam",
    "sched_getparam",
    "sched_setscheduler",
    "sched_getscheduler",
    "sched_yield",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_rr_get_interval",
    "nanosleep",
    "mremap",
    "poll",
    "prctl",
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigpending",
    "rt_sigtimedwait",
    "rt_sigqueueinfo",
    "rt_sigsuspend",
    "getcwd",
    "capget",
    "capset",
    "sendfile",
    "getrlimit",
    "lchown",
    "getuid",
    "getgid",
    "geteuid",
    "getegid",
    "setreuid",
    "setregid",
    "getgroups",
    "setgroups",
    "fchown",
    "setresuid",
    "getresuid",
    "setresgid",
    "getresgid",
    "chown",
    "setuid",
    "setgid",
    "setfsuid",
    "setfsgid",
    "pivot_root",
    "mincore",
    "madvise",
    "gettid",
    "setxattr",
    "lsetxattr",
    "fsetxattr",
    "getxattr",
    "lgetxattr",
    "fgetxattr",
    "listxattr",
    "llistxattr",
    "flistxattr",
    "removexattr",
    "lremovexattr",
    "fremovexattr",
    "tkill",
    "futex",
    "sched_setaffinity",
    "sched_getaffinity",
    "set_thread_area",
    "get_thread_area",
    "io_setup",
    "io_destroy",
    "io_getevents",
    "io_submit",
    "io_cancel",
    "exit_group",
    "epoll_create",
    "epoll_ctl",
    "epoll_wait",
    "remap_file_pages",
    "set_tid_address",
    "timer_create",
    "timer_settime",
    "timer_gettime",
    "timer_getoverrun",
    "timer_delete",
    "clock_settime",
    "clock_gettime",
    "clock_getres",
    "clock_nanosleep",
    "tgkill",
    "utimes",
    "mq_open",
    "mq_unlink",
    "mq_timedsend",
    "mq_timedreceive",
    "mq_notify",
    "mq_getsetattr",
    "kexec_load",
    "waitid",
    "add_key",
    "request_key",
    "keyctl",
    "ioprio_set",
    "ioprio_get",
    "inotify_init",
    "inotify_add_watch",
    "inotify_rm_watch",
    "openat",
    "mkdirat",
    "mknodat",
    "fchownat",
    "futimesat",
    "unlinkat",
    "renameat",
    "linkat",
    "symlinkat",
    "readlinkat",
    "fchmodat",
    "faccessat",
    "pselect6",
    "ppoll",
    "unshare",
    "set_robust_list",
    "get_robust_list",
    "splice",
    "tee",
    "vmsplice",
    "getcpu",
    "epoll_pwait",
    "utimensat",
    "signalfd",
    "timerfd_create",
    "eventfd",
    "timerfd_settime",
    "timerfd_gettime",
    "signalfd4",
    "eventfd2",
    "epoll_create1",
    "dup3",
    "pipe2",
    "inotify_init1",
    "preadv",
    "pwritev",
    "rt_tgsigqueueinfo",
    "perf_event_open",
    "fanotify_init",
    "prlimit64",
    "clock_adjtime",
    "syncfs",
    "setns",
    "getdents64",
    "socket",
    "bind",
    "connect",
    "listen",
    "accept",
    "getsockname",
    "getpeername",
    "socketpair",
    "sendto",
    "recvfrom",
    "shutdown",
    "setsockopt",
    "getsockopt",
    "sendmsg",
    "sendmmsg",
    "recvmsg",
    "recvmmsg",
    "accept4",
    "semop",
    "semget",
    "semctl",
    "msgsnd",
    "msgrcv",
    "msgget",
    "msgctl",
    "shmdt",
    "shmget",
    "shmctl",
    "statfs64",
    "fstatfs64",
    "fstatat64",
    "sendfile64",
    "ugetrlimit",
    "bdflush",
    "sigprocmask",
    "ipc",
    "socketcall",
    "stat64",
    "lstat64",
    "fstat64",
    "fcntl64",
    "mmap2",
    "_newselect",
    "sgetmask",
    "ssetmask",
    "sigpending",
    "olduname",
    "umount",
    "signal",
    "nice",
    "stime",
    "_llseek",
    "waitpid",
    "pread64",
    "pwrite64",
    "arch_prctl",
    "shmat",
    "rt_sigreturn",
    "fallocate",
    "newfstatat",
    "process_vm_readv",
    "process_vm_writev",
    "fork",
    "vfork",
    "setuid32",
    "getuid32",
    "setgid32",
    "geteuid32",
    "getgid32",
    "setresuid32",
    "setresgid32",
    "getresuid32",
    "getresgid32",
    "finit_module",
    "bpf",
    "seccomp",
    "sigaltstack",
    "getrandom",
    "fadvise64",
    "renameat2",
    "userfaultfd",
    "openat2",
    "umount2",
    "execve",
    "execveat",
    "copy_file_range",
    "clone",
    "clone3",
    "open_by_handle_at",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "mlock2",
    "getegid32",
    "fsconfig",
    "fspick",
    "fsmount",
    "fsopen",
    "open_tree",
    "move_mount",
    "mount_setattr",
    "memfd_create",
    "memfd_secret",
    "ioperm",
    "kexec_file_load",
    "pidfd_getfd",
    "pidfd_open",
    "pidfd_send_signal",
    "pkey_alloc",
    "pkey_mprotect",
    "pkey_free",
    "landlock_create_ruleset",
    "quotactl_fd",
    "landlock_restrict_self",
    "landlock_add_rule",
    "epoll_pwait2",
    "migrate_pages",
    "move_pages",
    "preadv2",
    "pwritev2",
    "kcmp",
    "sched_setattr",
    "mbind",
    "epoll_ctl_old",
    "lookup_dcookie",
    "modify_ldt",
    "statx",
    "set_mempolicy",
    "io_pgetevents",
    "set_mempolicy_home_node",
    "semtimedop",
    "get_kernel_syms",
    "readahead",
    "futex_waitv",
    "getpmsg",
    "name_to_handle_at",
    "process_mrelease",
    "nfsservctl",
    "epoll_wait_old",
    "rseq",
    "create_module",
    "na_1",
    "sched_getattr",
    "faccessat2",
    "_sysctl",
    "query_module",
    "get_mempolicy",
    "sync_file_range",
    "process_madvise",
    "membarrier",
    "iopl",
    "close_range",
    "fanotify_mark",
    "recv",
    "send",
    "sched_process_exit",
    "sched_switch",
    "page_fault_user",
    "page_fault_kernel",
    "signal_deliver",
    "timerfd",
    "s390_pci_mmio_read",
    "sigaction",
    "s390_pci_mmio_write",
    "readdir",
    "s390_sthyi",
    "sigsuspend",
    "idle",
    "s390_runtime_instr",
    "sigreturn",
    "s390_guarded_storage",
    "cachestat",
    "fchmodat2",
    "map_shadow_stack",
    "riscv_flush_icache",
    "riscv_hwprobe",
    "futex_wake",
    "futex_requeue",
    "futex_wait",
    "oldstat",
    "switch_endian",
    "multiplexer",
    "oldlstat",
    "spu_create",
    "sync_file_range2",
    "oldfstat",
    "spu_run",
    "swapcontext",
    "pciconfig_write",
    "rtas",
    "pciconfig_read",
    "sys_debug_setcontext",
    "vm86",
    "oldolduname",
    "subpage_prot",
    "pciconfig_iobase",
    "listmount",
    "statmount",
    "lsm_get_self_attr",
    "lsm_set_self_attr",
    "lsm_list_modules",
    "mseal",
    "uretprobe",
    "removexattrat",
    "listxattrat",
    "getxattrat",
    "setxattrat",
    "open_tree_attr",
    "file_getattr",
    "file_setattr",
    "listns",
    "uprobe",
    "rseq_slice_yield",
];

/// The width in bytes of a fixed-size parameter type (`None`: variable).
pub fn width(ty: ParamType) -> Option<usize> {
    use ParamType as P;
    Some(match ty {
        P::Int8 | P::Uint8 | P::Flags8 | P::Enumflags8 | P::Sigtype | P::L4proto => 1,
        P::Sockfamily => 1,
        P::Int16 | P::Uint16 | P::Flags16 | P::Enumflags16 | P::Port | P::Syscallid => 2,
        P::Int32 | P::Uint32 | P::Flags32 | P::Enumflags32 | P::Uid | P::Gid | P::Mode => 4,
        P::Fd32 | P::Pid32 | P::Bool | P::Ipv4addr | P::Sigset => 4,
        P::Int64 | P::Uint64 | P::Errno | P::Fd | P::Pid | P::Reltime | P::Abstime => 8,
        P::Double => 8,
        _ => return None,
    })
}
