//! Sockets that existed before the engine started: their addresses from
//! `/proc/PID/net/{tcp,tcp6,udp,udp6,raw,raw6,unix}` by inode, once per
//! network namespace.

use crate::capture::record::SockTuple;
use std::collections::HashMap;
use std::path::Path;

/// What `/proc/net` says about one socket inode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetSocket {
    /// An IP socket, and whether it is the server end of a connection
    /// (its local port is one some socket listens on).
    Ip(SockTuple, bool),
    /// A unix socket and its path (may be empty).
    Unix(String),
}

/// Reads the socket tables of `pid`'s network namespace.
pub fn read(proc: &Path, pid: u32) -> HashMap<u64, NetSocket> {
    let dir = proc.join(pid.to_string()).join("net");
    let mut out = HashMap::new();
    let mut listening = Vec::new();
    let mut ip = Vec::new();
    for (file, family, sock_type, protocol) in [
        ("tcp", 2, 1, 6),
        ("tcp6", 10, 1, 6),
        ("udp", 2, 2, 17),
        ("udp6", 10, 2, 17),
        ("raw", 2, 3, 255),
        ("raw6", 10, 3, 255),
    ] {
        let Ok(text) = std::fs::read_to_string(dir.join(file)) else {
            continue;
        };
        for line in text.lines().skip(1) {
            if let Some((ino, t, state)) = parse_ip_line(line, family, sock_type, protocol) {
                // TCP_LISTEN is state 0x0A.
                if protocol == 6 && state == 0x0a {
                    listening.push(t.lport);
                }
                ip.push((ino, t));
            }
        }
    }
    for (ino, t) in ip {
        let server = t.rport != 0 && listening.contains(&t.lport);
        out.insert(ino, NetSocket::Ip(t, server));
    }
    if let Ok(text) = std::fs::read_to_string(dir.join("unix")) {
        for line in text.lines().skip(1) {
            // Num RefCount Protocol Flags Type St Inode [Path]
            let f: Vec<&str> = line.split_whitespace().collect();
            if let Some(ino) = f.get(6).and_then(|i| i.parse().ok()) {
                out.insert(ino, NetSocket::Unix(f.get(7).unwrap_or(&"").to_string()));
            }
        }
    }
    out
}

/// `sl local rem st ... inode` of a /proc/net/{tcp,udp,raw}[6] line.
fn parse_ip_line(
    line: &str,
    family: u16,
    sock_type: u16,
    protocol: u16,
) -> Option<(u64, SockTuple, u8)> {
    let f: Vec<&str> = line.split_whitespace().collect();
    let (laddr, lport) = parse_addr(f.get(1)?)?;
    let (raddr, rport) = parse_addr(f.get(2)?)?;
    let state = u8::from_str_radix(f.get(3)?, 16).ok()?;
    let ino: u64 = f.get(9)?.parse().ok()?;
    Some((
        ino,
        SockTuple {
            family,
            sock_type,
            protocol,
            lport,
            rport,
            laddr,
            raddr,
        },
        state,
    ))
}

/// `0100007F:1F90` (v4) or 32 hex digits (v6): each 32-bit group is printed
/// in host (little-endian) order.
fn parse_addr(s: &str) -> Option<([u8; 16], u16)> {
    let (a, p) = s.split_once(':')?;
    let port = u16::from_str_radix(p, 16).ok()?;
    let mut out = [0u8; 16];
    if a.len() != 8 && a.len() != 32 {
        return None;
    }
    for (i, chunk) in a.as_bytes().chunks(8).enumerate() {
        let word = u32::from_str_radix(std::str::from_utf8(chunk).ok()?, 16).ok()?;
        out[i * 4..i * 4 + 4].copy_from_slice(&word.to_le_bytes());
    }
    Some((out, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_net_lines() {
        let l = "   0: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 20 4 30 10 -1";
        let (ino, t, st) = parse_ip_line(l, 2, 1, 6).unwrap();
        assert_eq!((ino, st), (12345, 1));
        assert_eq!(&t.laddr[..4], &[127, 0, 0, 1]);
        assert_eq!((t.lport, t.rport), (8080, 50000));
        let (a, p) = parse_addr("00000000000000000000000001000000:0016").unwrap();
        assert_eq!(std::net::Ipv6Addr::from(a), std::net::Ipv6Addr::LOCALHOST);
        assert_eq!(p, 22);
    }

    #[test]
    fn reads_a_live_listener() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let socks = read(Path::new("/proc"), std::process::id());
        assert!(
            socks
                .values()
                .any(|s| matches!(s, NetSocket::Ip(t, _) if t.lport == port && t.rport == 0)),
            "listener on {port} not found"
        );
    }
}
