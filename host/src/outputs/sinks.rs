//! Output channels: stdout, file, syslog, program and http(s) (NATS in
//! [`super::nats`]). Each runs in
//! its own thread behind its own bounded queue (see [`super::Outputs`]), so a
//! slow or broken channel delays nobody else.

use super::alert::Alert;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

/// Why a channel could not deliver an alert.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Writing failed (the stream, file or socket).
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The channel's file, socket or program could not be opened.
    #[error("cannot {what} {target}: {source}")]
    Open {
        /// `open`, `connect to`, `start`.
        what: &'static str,
        /// The file, socket or command.
        target: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP receiver refused the alert (a 4xx other than 408/429).
    #[error("{url} answered {code}")]
    Refused {
        /// The receiver.
        url: String,
        /// The HTTP status.
        code: u16,
    },
    /// The broker refused the alert (a NATS `-ERR`).
    #[error("{0}")]
    Broker(String),
    /// The channel's TLS settings do not load (certificates, keys).
    #[error("{0}")]
    Tls(String),
    /// The HTTP receiver could not be reached in the attempts allowed.
    #[error("{url}: {message}")]
    Unreachable {
        /// The receiver.
        url: String,
        /// The last attempt's error.
        message: String,
    },
}

/// One output channel.
pub trait Sink: Send {
    /// The channel's name (for counters and messages).
    fn name(&self) -> &'static str;
    /// Delivers one alert (`line` is its text or JSON rendering).
    fn write(&mut self, alert: &Alert, line: &str) -> Result<(), SinkError>;
    /// Reopens files (SIGUSR1, log rotation).
    fn reopen(&mut self) {}
    /// Attempts retried so far.
    fn retries(&self) -> u64 {
        0
    }
    /// More instances sharing this channel's queue (http sends on several
    /// connections at once); empty for channels that must stay ordered.
    fn workers(&self) -> Vec<Box<dyn Sink>> {
        Vec::new()
    }
}

/// `stdout_output`.
pub struct Stdout {
    /// `buffered_outputs`: flush only when the buffer fills.
    pub buffered: bool,
}

impl Sink for Stdout {
    fn name(&self) -> &'static str {
        "stdout"
    }
    fn write(&mut self, _: &Alert, line: &str) -> Result<(), SinkError> {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")?;
        if !self.buffered {
            out.flush()?;
        }
        Ok(())
    }
}

/// `file_output`.
pub struct File {
    /// The file appended to.
    pub path: PathBuf,
    /// Keep the file open between alerts (reopened on SIGUSR1).
    pub keep_alive: bool,
    /// `buffered_outputs`.
    pub buffered: bool,
    open: Option<std::io::BufWriter<std::fs::File>>,
}

impl File {
    /// A file channel.
    pub fn new(path: PathBuf, keep_alive: bool, buffered: bool) -> File {
        File {
            path,
            keep_alive,
            buffered,
            open: None,
        }
    }

    fn handle(&mut self) -> Result<&mut std::io::BufWriter<std::fs::File>, SinkError> {
        if self.open.is_none() {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(|source| SinkError::Open {
                    what: "open",
                    target: self.path.display().to_string(),
                    source,
                })?;
            self.open = Some(std::io::BufWriter::new(f));
        }
        Ok(self.open.as_mut().expect("just opened"))
    }
}

impl Sink for File {
    fn name(&self) -> &'static str {
        "file"
    }
    fn write(&mut self, _: &Alert, line: &str) -> Result<(), SinkError> {
        let buffered = self.buffered && self.keep_alive;
        let f = self.handle()?;
        writeln!(f, "{line}")?;
        if !buffered {
            f.flush()?;
        }
        if !self.keep_alive {
            self.open = None;
        }
        Ok(())
    }
    fn reopen(&mut self) {
        if let Some(mut f) = self.open.take() {
            let _ = f.flush();
        }
    }
}

/// `syslog_output`: RFC 3164 datagrams to the local syslog socket, facility
/// user, severity = the alert's priority (Emergency 0 … Debug 7), tag `falco`
/// (so existing syslog filters for Falco keep matching).
pub struct Syslog {
    /// The socket (normally `/dev/log`).
    pub socket: PathBuf,
    sock: Option<std::os::unix::net::UnixDatagram>,
}

impl Syslog {
    /// A syslog channel writing to `socket`.
    pub fn new(socket: PathBuf) -> Syslog {
        Syslog { socket, sock: None }
    }
}

impl Sink for Syslog {
    fn name(&self) -> &'static str {
        "syslog"
    }
    fn write(&mut self, alert: &Alert, line: &str) -> Result<(), SinkError> {
        const LOG_USER: u8 = 1;
        let pri = LOG_USER * 8 + alert.priority.level();
        let msg = format!(
            "<{pri}>{} falco[{}]: {line}",
            syslog_time(alert.time_ns),
            std::process::id()
        );
        for attempt in 0..2 {
            if self.sock.is_none() {
                let s = std::os::unix::net::UnixDatagram::unbound()?;
                s.connect(&self.socket).map_err(|source| SinkError::Open {
                    what: "connect to",
                    target: self.socket.display().to_string(),
                    source,
                })?;
                self.sock = Some(s);
            }
            match self.sock.as_ref().expect("connected").send(msg.as_bytes()) {
                Ok(_) => return Ok(()),
                // The daemon restarted: reconnect once.
                Err(_) if attempt == 0 => self.sock = None,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

/// `Mmm dd HH:MM:SS` (UTC) for syslog headers.
fn syslog_time(ns: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let iso = crate::time::iso8601(ns);
    let month: usize = iso[5..7].parse().unwrap_or(1);
    let day: u32 = iso[8..10].parse().unwrap_or(1);
    format!("{} {day:>2} {}", MONTHS[(month - 1) % 12], &iso[11..19])
}

/// `program_output`: each alert is one line on a program's stdin (run
/// through `sh -c`); with `keep_alive` one program gets every line.
pub struct Program {
    /// The command line.
    pub command: String,
    /// Keep one program running.
    pub keep_alive: bool,
    running: Option<(Child, ChildStdin)>,
}

impl Program {
    /// A program channel.
    pub fn new(command: String, keep_alive: bool) -> Program {
        Program {
            command,
            keep_alive,
            running: None,
        }
    }

    fn spawn(&self) -> Result<(Child, ChildStdin), SinkError> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(&self.command)
            .stdin(Stdio::piped())
            .spawn()
            .map_err(|source| SinkError::Open {
                what: "start",
                target: format!("`{}`", self.command),
                source,
            })?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| std::io::Error::other("the program has no stdin"))?;
        Ok((child, stdin))
    }
}

impl Sink for Program {
    fn name(&self) -> &'static str {
        "program"
    }
    fn write(&mut self, _: &Alert, line: &str) -> Result<(), SinkError> {
        if !self.keep_alive {
            let (mut child, mut stdin) = self.spawn()?;
            let r = writeln!(stdin, "{line}").map_err(SinkError::from);
            drop(stdin);
            let _ = child.wait();
            return r;
        }
        for attempt in 0..2 {
            if self.running.is_none() {
                self.running = Some(self.spawn()?);
            }
            let (_, stdin) = self.running.as_mut().expect("running");
            match writeln!(stdin, "{line}").and_then(|_| stdin.flush()) {
                Ok(()) => return Ok(()),
                Err(e) => {
                    // The program exited: start it again once.
                    if let Some((mut c, _)) = self.running.take() {
                        let _ = c.wait();
                    }
                    if attempt == 1 {
                        return Err(e.into());
                    }
                }
            }
        }
        Ok(())
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        if let Some((mut c, stdin)) = self.running.take() {
            drop(stdin);
            let _ = c.wait();
        }
    }
}

/// `http_output` settings.
#[derive(Clone, Debug, Default)]
pub struct HttpOptions {
    /// Where alerts are POSTed.
    pub url: String,
    /// `User-Agent`.
    pub user_agent: String,
    /// Accept any server certificate.
    pub insecure: bool,
    /// CA certificate file (PEM).
    pub ca_cert: Option<PathBuf>,
    /// CA bundle file (PEM).
    pub ca_bundle: Option<PathBuf>,
    /// Directory of CA certificates (PEM files).
    pub ca_path: Option<PathBuf>,
    /// Client certificate and key for mutual TLS.
    pub client_cert: Option<(PathBuf, PathBuf)>,
    /// Print the receiver's answers on stdout.
    pub echo: bool,
    /// gzip the body.
    pub compress: bool,
    /// Reuse connections.
    pub keep_alive: bool,
    /// JSON bodies (else text/plain).
    pub json: bool,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Delivery attempts per alert.
    pub attempts: u32,
    /// Requests in flight at once (connections), each alert one request.
    pub connections: usize,
}

/// `http_output`: POSTs each alert (Falcosidekick accepts Falco's JSON),
/// retrying with exponential backoff.
pub struct Http {
    opts: HttpOptions,
    agent: ureq::Agent,
    retries: u64,
}

impl Http {
    /// An http channel; TLS settings are checked here (bad files are errors).
    pub fn new(opts: HttpOptions) -> Result<Http, SinkError> {
        let mut b = ureq::AgentBuilder::new()
            .timeout(opts.timeout)
            .user_agent(&opts.user_agent);
        if !opts.keep_alive {
            b = b.max_idle_connections(0);
        }
        if opts.url.starts_with("https://") {
            b = b.tls_config(std::sync::Arc::new(
                tls_config(&opts).map_err(SinkError::Tls)?,
            ));
        }
        Ok(Http {
            agent: b.build(),
            opts,
            retries: 0,
        })
    }
}

impl Sink for Http {
    fn name(&self) -> &'static str {
        "http"
    }
    fn retries(&self) -> u64 {
        self.retries
    }
    fn workers(&self) -> Vec<Box<dyn Sink>> {
        (1..self.opts.connections.max(1))
            .map(|_| {
                Box::new(Http {
                    opts: self.opts.clone(),
                    agent: self.agent.clone(),
                    retries: 0,
                }) as Box<dyn Sink>
            })
            .collect()
    }
    fn write(&mut self, _: &Alert, line: &str) -> Result<(), SinkError> {
        let body: Vec<u8> = if self.opts.compress {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(line.as_bytes())?;
            e.finish()?
        } else {
            line.as_bytes().to_vec()
        };
        let ctype = if self.opts.json {
            "application/json"
        } else {
            "text/plain"
        };
        let mut last = String::new();
        for attempt in 0..self.opts.attempts.max(1) {
            if attempt > 0 {
                self.retries += 1;
                std::thread::sleep(Duration::from_millis(100 << (attempt - 1).min(6)));
            }
            let mut req = self.agent.post(&self.opts.url).set("Content-Type", ctype);
            if self.opts.compress {
                req = req.set("Content-Encoding", "gzip");
            }
            match req.send_bytes(&body) {
                Ok(resp) => {
                    if self.opts.echo {
                        let text = resp.into_string().unwrap_or_default();
                        println!("{text}");
                    }
                    return Ok(());
                }
                // 4xx other than 408/429: retrying will not help.
                Err(ureq::Error::Status(code, _))
                    if (400..500).contains(&code) && code != 408 && code != 429 =>
                {
                    return Err(SinkError::Refused {
                        url: self.opts.url.clone(),
                        code,
                    });
                }
                Err(e) => last = e.to_string(),
            }
        }
        Err(SinkError::Unreachable {
            url: self.opts.url.clone(),
            message: last,
        })
    }
}

/// rustls settings from `http_output`'s TLS keys (also the `tenants`
/// command's client).
pub fn tls_config(o: &HttpOptions) -> Result<rustls::ClientConfig, String> {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let builder = if o.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(std::sync::Arc::new(AcceptAny(provider)))
    } else {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let mut files: Vec<PathBuf> = o
            .ca_cert
            .iter()
            .chain(o.ca_bundle.iter())
            .cloned()
            .collect();
        if let Some(dir) = &o.ca_path {
            for e in std::fs::read_dir(dir)
                .map_err(|e| format!("ca_path {}: {e}", dir.display()))?
                .flatten()
            {
                files.push(e.path());
            }
        }
        for f in files {
            let pem = std::fs::read(&f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
            for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
                let cert = cert.map_err(|e| format!("{}: {e}", f.display()))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("{}: {e}", f.display()))?;
            }
        }
        builder.with_root_certificates(roots)
    };
    match &o.client_cert {
        None => Ok(builder.with_no_client_auth()),
        Some((cert, key)) => {
            let certs: Result<Vec<_>, _> = rustls_pemfile::certs(
                &mut std::fs::read(cert)
                    .map_err(|e| format!("{}: {e}", cert.display()))?
                    .as_slice(),
            )
            .collect();
            let key = rustls_pemfile::private_key(
                &mut std::fs::read(key)
                    .map_err(|e| format!("{}: {e}", key.display()))?
                    .as_slice(),
            )
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no private key in {}", key.display()))?;
            builder
                .with_client_auth_cert(certs.map_err(|e| e.to_string())?, key)
                .map_err(|e| e.to_string())
        }
    }
}

/// `http_output.insecure`: accepts any certificate (signatures are still checked).
#[derive(Debug)]
struct AcceptAny(std::sync::Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syslog_header_time() {
        assert_eq!(syslog_time(1_470_327_477_881_781_397), "Aug  4 16:17:57");
    }
}
