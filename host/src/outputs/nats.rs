//! `nats_output`: each alert published on a NATS subject (one per tenant by
//! default, `falco.alerts.<tenant>`), for fan-out to an existing broker.
//!
//! The client speaks the few verbs of NATS's text protocol a publisher
//! needs (INFO, CONNECT, PUB, PING/PONG, -ERR) over plain TCP. The
//! maintained Rust client (`async-nats`) would bring a second async stack
//! and its dependencies into a channel thread that only writes. Each alert
//! is followed by a PING and waits for the PONG, so a refused publish
//! (permissions, size) is an error of that alert, not a silent loss; a
//! broken connection is opened again once per alert (so an alert whose
//! PONG was lost may be published twice: at least once, not exactly once).

use super::alert::Alert;
use super::sinks::{Sink, SinkError};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Time allowed to connect, and for the server's answers.
const TIMEOUT: Duration = Duration::from_secs(5);

/// The longest server line read (INFO carries the server's settings).
const MAX_LINE: u64 = 64 << 10;

/// `nats_output` settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NatsOptions {
    /// `host:port` from `nats://host:port`.
    pub address: String,
    /// The subject alerts are published on.
    pub subject: String,
}

impl NatsOptions {
    /// Checks `url` (`nats://host[:port]`, port 4222 by default) and
    /// `subject` (tokens of printable characters, no spaces).
    pub fn new(url: &str, subject: &str) -> Result<NatsOptions, String> {
        let rest = url
            .strip_prefix("nats://")
            .ok_or_else(|| format!("'{url}' is not a nats:// URL (TLS is not supported yet)"))?;
        let host = rest.trim_end_matches('/');
        if host.is_empty() || host.contains(['/', '@', ' ']) {
            return Err(format!(
                "'{url}': expected nats://host[:port] (credentials are not supported yet)"
            ));
        }
        let address = match host.rsplit_once(':') {
            Some((h, p)) if !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0) => {
                host.to_string()
            }
            Some(_) => return Err(format!("'{url}': the port is not a port number")),
            None => format!("{host}:4222"),
        };
        let valid = !subject.is_empty()
            && subject
                .split('.')
                .all(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic()));
        if !valid || subject.contains(['*', '>']) {
            return Err(format!(
                "subject '{subject}': expected dot-separated tokens without spaces or wildcards"
            ));
        }
        Ok(NatsOptions {
            address,
            subject: subject.to_string(),
        })
    }
}

/// The NATS channel.
pub struct Nats {
    opts: NatsOptions,
    conn: Option<(TcpStream, BufReader<TcpStream>)>,
}

impl Nats {
    /// A channel publishing as `opts` says (it connects on the first alert).
    pub fn new(opts: NatsOptions) -> Nats {
        Nats { opts, conn: None }
    }

    fn connect(&self) -> Result<(TcpStream, BufReader<TcpStream>), SinkError> {
        let open = |source| SinkError::Open {
            what: "connect to",
            target: format!("nats://{}", self.opts.address),
            source,
        };
        let addr = std::net::ToSocketAddrs::to_socket_addrs(&self.opts.address)
            .map_err(open)?
            .next()
            .ok_or_else(|| open(std::io::Error::other("no address")))?;
        let stream = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(open)?;
        stream.set_read_timeout(Some(TIMEOUT))?;
        stream.set_write_timeout(Some(TIMEOUT))?;
        let _ = stream.set_nodelay(true);
        let mut reader = BufReader::new(stream.try_clone()?);
        let info = read_line(&mut reader)?;
        if !info.starts_with("INFO ") {
            return Err(protocol(format!("expected INFO, got '{info}'")));
        }
        let mut w = stream.try_clone()?;
        w.write_all(
            b"CONNECT {\"verbose\":false,\"pedantic\":false,\"lang\":\"rust\",\
              \"name\":\"falco-wasm\",\"protocol\":1}\r\n",
        )?;
        Ok((stream, reader))
    }

    /// Publishes one payload and waits for the server's PONG.
    fn publish(&mut self, payload: &[u8]) -> Result<(), SinkError> {
        if self.conn.is_none() {
            self.conn = Some(self.connect()?);
        }
        let (w, r) = self.conn.as_mut().expect("connected");
        let mut msg = format!("PUB {} {}\r\n", self.opts.subject, payload.len()).into_bytes();
        msg.extend_from_slice(payload);
        msg.extend_from_slice(b"\r\nPING\r\n");
        w.write_all(&msg)?;
        // the PONG within TIMEOUT, whatever else the server sends meanwhile
        let deadline = std::time::Instant::now() + TIMEOUT;
        loop {
            if std::time::Instant::now() >= deadline {
                return Err(protocol("no PONG in time".into()));
            }
            let line = read_line(r)?;
            match line.as_str() {
                "PONG" => return Ok(()),
                "PING" => w.write_all(b"PONG\r\n")?,
                "+OK" => {}
                l if l.starts_with("-ERR") => {
                    return Err(SinkError::Broker(format!("NATS server: {l}")));
                }
                // INFO updates (cluster changes) and the like
                _ => {}
            }
        }
    }
}

/// The server broke the protocol or closed the connection (worth a new
/// connection).
fn protocol(message: String) -> SinkError {
    SinkError::Io(std::io::Error::other(format!("NATS: {message}")))
}

/// One protocol line, without its CRLF.
fn read_line(r: &mut BufReader<TcpStream>) -> Result<String, SinkError> {
    let mut line = String::new();
    let n = std::io::Read::take(&mut *r, MAX_LINE).read_line(&mut line)?;
    if n == 0 {
        return Err(protocol("the server closed the connection".into()));
    }
    Ok(line.trim_end().to_string())
}

impl Sink for Nats {
    fn name(&self) -> &'static str {
        "nats"
    }

    fn write(&mut self, _: &Alert, line: &str) -> Result<(), SinkError> {
        let first = self.publish(line.as_bytes());
        match first {
            // the connection broke: open it again, once
            Err(SinkError::Io(_)) => {
                self.conn = None;
                self.publish(line.as_bytes())
                    .inspect_err(|_| self.conn = None)
            }
            Err(e) => {
                self.conn = None;
                Err(e)
            }
            Ok(()) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_subjects() {
        let o = NatsOptions::new("nats://127.0.0.1", "falco.alerts.a").unwrap();
        assert_eq!(o.address, "127.0.0.1:4222");
        assert_eq!(
            NatsOptions::new("nats://nats:4333/", "x").unwrap().address,
            "nats:4333"
        );
        for (url, subject, want) in [
            ("tls://x", "s", "is not a nats:// URL"),
            ("nats://u:p@x", "s", "credentials"),
            ("nats://x", "a..b", "subject 'a..b'"),
            ("nats://x", "a.*", "wildcards"),
            ("nats://x", "a b", "subject"),
            ("nats://x:99999", "s", "not a port number"),
            ("nats://:4222", "s", "not a port number"),
        ] {
            let e = NatsOptions::new(url, subject).unwrap_err();
            assert!(e.contains(want), "{url} {subject}: {e}");
        }
    }
}
