//! `fd.*` fields: the event's fd, its name and kind, and for sockets the
//! connection's ends.

use super::SyscallEvent;
use crate::capture::record::SockTuple;
use crate::filter::value::ValueSink;
use crate::state::fds::{Fd, FdKind};

/// An end of a connection.
#[derive(Clone, Copy)]
enum End {
    Client,
    Server,
    Local,
    Remote,
}

/// What an endpoint field reads of its end.
#[derive(Clone, Copy)]
enum Part {
    Ip,
    Port,
    /// A resolved host name (never extracted).
    Name,
}

impl SyscallEvent<'_> {
    /// `fd.*`; false for an unknown name.
    pub(super) fn fd_field(&self, base: &str, out: &mut dyn ValueSink) -> bool {
        let Some(fd) = self.fd() else { return true };
        if let Some((end, part)) = endpoint(base) {
            endpoint_field(fd, end, part, out);
            return true;
        }
        self.fd_name_field(fd, base, out) || socket_field(fd, base, out)
    }

    /// The fd's name, its parts and kind.
    fn fd_name_field(&self, fd: &Fd, base: &str, out: &mut dyn ValueSink) -> bool {
        match base {
            "fd.type" => out.bytes(fd.kind.type_name().as_bytes()),
            "fd.directory" | "fd.filename" => {
                if matches!(fd.kind, FdKind::File | FdKind::Directory) {
                    let (dir, file) = match fd.name.rfind('/') {
                        Some(0) => ("/", &fd.name[1..]),
                        Some(i) => (&fd.name[..i], &fd.name[i + 1..]),
                        None => ("", fd.name.as_str()),
                    };
                    out.bytes(if base == "fd.directory" { dir } else { file }.as_bytes())
                }
            }
            "fd.name_changed" => out.bool(fd.name_changed),
            "fd.containername" | "fd.containerdirectory" => {
                let id = self
                    .proc
                    .map_or("", |p| p.container_id.get(..12).unwrap_or("host"));
                let v = if base == "fd.containername" {
                    fd.name.as_str()
                } else {
                    fd.name
                        .rsplit_once('/')
                        .map_or("", |(d, _)| if d.is_empty() { "/" } else { d })
                };
                out.bytes(format!("{id}:{v}").as_bytes())
            }
            _ => return false,
        }
        true
    }
}

/// Socket properties: family, protocol, state and side.
fn socket_field(fd: &Fd, base: &str, out: &mut dyn ValueSink) -> bool {
    let t = ip_tuple(fd);
    match base {
        "fd.connected" => {
            if matches!(fd.kind, FdKind::Ipv4 | FdKind::Ipv6 | FdKind::Unix) {
                out.bool(
                    t.is_some_and(|t| t.rport != 0)
                        || fd.kind == FdKind::Unix && !fd.name.is_empty(),
                )
            }
        }
        "fd.sockfamily" => match fd.kind {
            FdKind::Ipv4 | FdKind::Ipv6 => out.bytes(b"ip"),
            FdKind::Unix => out.bytes(b"unix"),
            _ => {}
        },
        "fd.is_server" => {
            if t.is_some() {
                out.bool(fd.server)
            }
        }
        "fd.l4proto" => {
            if let Some(t) = fd.tuple {
                out.bytes(l4proto(&t).as_bytes())
            }
        }
        _ => return false,
    }
    true
}

/// The end and part an endpoint field reads (`fd.sip`: the server's IP).
fn endpoint(base: &str) -> Option<(End, Part)> {
    Some(match base {
        "fd.cip" | "fd.cnet" => (End::Client, Part::Ip),
        "fd.sip" | "fd.snet" => (End::Server, Part::Ip),
        "fd.lip" | "fd.lnet" => (End::Local, Part::Ip),
        "fd.rip" | "fd.ip" | "fd.rnet" | "fd.net" => (End::Remote, Part::Ip),
        "fd.cport" => (End::Client, Part::Port),
        "fd.sport" => (End::Server, Part::Port),
        "fd.lport" => (End::Local, Part::Port),
        "fd.rport" | "fd.port" => (End::Remote, Part::Port),
        "fd.cip.name" => (End::Client, Part::Name),
        "fd.sip.name" => (End::Server, Part::Name),
        "fd.lip.name" => (End::Local, Part::Name),
        "fd.rip.name" => (End::Remote, Part::Name),
        _ => return None,
    })
}

/// An end's address or port, for IP sockets with known addresses.
fn endpoint_field(fd: &Fd, end: End, part: Part, out: &mut dyn ValueSink) {
    let Some(t) = ip_tuple(fd) else { return };
    // client/server: accepted sockets are the server side.
    let local = (t.laddr, t.lport);
    let remote = (t.raddr, t.rport);
    let (addr, port) = match end {
        End::Client if fd.server => remote,
        End::Client => local,
        End::Server if fd.server => local,
        End::Server => remote,
        End::Local => local,
        End::Remote => remote,
    };
    match part {
        Part::Ip => out.ip(ip16(&addr, fd.kind == FdKind::Ipv6)),
        Part::Port => out.num(port as i64),
        Part::Name => {}
    }
}

/// The addresses of an IP socket.
fn ip_tuple(fd: &Fd) -> Option<SockTuple> {
    fd.tuple.filter(|_| fd.kind.is_ip())
}

impl FdKind {
    /// The type letter `evt.args` shows (`<f>`, `<4t>`).
    pub(super) fn typechar_display(self) -> &'static str {
        match self {
            FdKind::Ipv4 => "<4t>",
            FdKind::Ipv6 => "<6t>",
            FdKind::Unix => "<u>",
            FdKind::Pipe => "<p>",
            FdKind::Directory => "<d>",
            _ => "<f>",
        }
    }
}

/// IPv4 addresses become v4-mapped IPv6, as the filter stores them.
fn ip16(a: &[u8; 16], v6: bool) -> [u8; 16] {
    if v6 {
        return *a;
    }
    let mut m = [0u8; 16];
    m[10] = 0xff;
    m[11] = 0xff;
    m[12..].copy_from_slice(&a[..4]);
    m
}

/// The transport protocol's name.
fn l4proto(t: &SockTuple) -> &'static str {
    match (t.protocol, t.sock_type) {
        (6, _) | (_, 1) => "tcp",
        (17, _) | (_, 2) => "udp",
        (1, _) | (58, _) => "icmp",
        _ => "raw",
    }
}
