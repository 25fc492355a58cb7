//! The HTTP machinery the web server and the push endpoints share: one
//! small tokio runtime on its own threads (the event path stays
//! synchronous and never touches it), hyper's HTTP/1 server, optional TLS,
//! and the limits that make a hostile client cost one task instead of the
//! server: a deadline for the request head, a cap on concurrent
//! connections and a lifetime per connection. Handlers add their own body
//! deadline ([`BODY_TIMEOUT`]).

use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body as _, Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

/// Time a client has to send a request head (and, over TLS, to finish the
/// handshake); an idle keep-alive connection is closed after it too.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Time a client has to send a whole request body, from its head on.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections served at once per listener; further ones are closed as
/// soon as they are accepted.
pub const MAX_CONNECTIONS: usize = 256;

/// Connections one peer address may hold at once on a listener: one
/// client cannot take every slot (and lock a liveness probe out).
pub const MAX_CONNECTIONS_PER_PEER: usize = 32;

/// A connection is asked to close after this long (once its request in
/// flight, if any, is answered) and cut [`BODY_TIMEOUT`] later: a client
/// that never reads its response does not hold a slot for ever.
const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);

/// Bytes hyper buffers per connection (the request head must fit).
const MAX_BUF: usize = 64 << 10;

/// Worker threads of the runtime all listeners share.
const WORKERS: usize = 2;

/// Why a listener could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The address cannot be bound (in use, not local, not an address).
    #[error("cannot listen on {bind}: {source}")]
    Bind {
        /// `host:port` as asked.
        bind: String,
        /// The system's reason.
        source: std::io::Error,
    },
    /// The TLS certificate file cannot be used.
    #[error("certificate {}: {reason}", path.display())]
    Certificate {
        /// The PEM file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A push endpoint was given an empty token (which anyone could send).
    #[error("the webhook token is empty")]
    EmptyToken,
    /// The runtime's threads cannot be started.
    #[error("cannot start the HTTP runtime: {0}")]
    Runtime(std::io::Error),
}

/// A response: a whole body, or one that streams (Server-Sent Events).
pub(crate) type Reply = Response<UnsyncBoxBody<Bytes, std::convert::Infallible>>;

/// Answers one request.
pub(crate) trait Handler: Send + Sync + 'static {
    /// The response to `req`.
    fn handle(&self, req: Request<Incoming>) -> impl Future<Output = Reply> + Send;
}

/// A response with status `code`, a `Content-Type` and `body`.
pub(crate) fn reply(code: u16, content_type: &'static str, body: impl Into<Bytes>) -> Reply {
    with_body(code, content_type, Full::new(body.into()))
}

/// A response streaming `body` (e.g. Server-Sent Events).
pub(crate) fn with_body<B>(code: u16, content_type: &'static str, body: B) -> Reply
where
    B: hyper::body::Body<Data = Bytes, Error = std::convert::Infallible> + Send + 'static,
{
    let mut r = Response::new(body.boxed_unsync());
    *r.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    r
}

/// The token of an `Authorization: Bearer TOKEN` value (the scheme in any
/// case, as RFC 7235 says); `None` for another scheme or an empty token.
pub(crate) fn bearer_token(value: &[u8]) -> Option<&[u8]> {
    match value.split_at_checked(7) {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case(b"bearer ") => {
            Some(token.trim_ascii()).filter(|t| !t.is_empty())
        }
        _ => None,
    }
}

/// Whether two digests are equal, in time independent of where they
/// differ.
pub(crate) fn same_digest(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether `s` has the form of a SHA-256 in hex (a token's, as configured).
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Reads a whole body of at most `max` bytes; the refusal (status,
/// message) when it is longer or broken.
pub(crate) async fn read_limited(
    mut body: Incoming,
    max: usize,
) -> Result<Vec<u8>, (u16, &'static str)> {
    if body.size_hint().exact().is_some_and(|n| n > max as u64) {
        return Err((413, "body too large\n"));
    }
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| (400, "cannot read the body\n"))?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > max {
                return Err((413, "body too large\n"));
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

/// The runtime every listener runs on, started at first use.
fn runtime() -> Result<&'static tokio::runtime::Runtime, ServerError> {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    static STARTING: Mutex<()> = Mutex::new(());
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    let _one_at_a_time = STARTING.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .thread_name("http-server")
        .enable_io()
        .enable_time()
        .build()
        .map_err(ServerError::Runtime)?;
    Ok(RUNTIME.get_or_init(|| rt))
}

/// A listener serving on the shared runtime; stops when dropped (the
/// port is free again when `drop` returns; connections in progress are
/// cut).
pub(crate) struct Running {
    task: tokio::task::JoinHandle<()>,
    stopped: std::sync::mpsc::Receiver<()>,
    /// The bound address.
    pub(crate) addr: std::net::SocketAddr,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
        // Disconnected once the accept loop, its listener and its
        // connections are dropped.
        let _ = self.stopped.recv_timeout(Duration::from_secs(5));
    }
}

/// What the accept loop owns. Fields drop in this order: the listener and
/// the connections before `_stopped`, which tells [`Running::drop`].
struct Acceptor {
    listener: tokio::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    connections: JoinSet<()>,
    slots: Arc<Semaphore>,
    peers: Arc<std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>>,
    _stopped: std::sync::mpsc::Sender<()>,
}

/// One connection counted against its peer's share; given back when
/// dropped.
struct PeerSlot {
    peers: Arc<std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>>,
    ip: std::net::IpAddr,
}

impl PeerSlot {
    fn take(a: &Acceptor, ip: std::net::IpAddr) -> Option<PeerSlot> {
        let mut peers = a.peers.lock().unwrap_or_else(|e| e.into_inner());
        let n = peers.entry(ip).or_insert(0);
        if *n >= MAX_CONNECTIONS_PER_PEER {
            return None;
        }
        *n += 1;
        Some(PeerSlot {
            peers: Arc::clone(&a.peers),
            ip,
        })
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = peers.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                peers.remove(&self.ip);
            }
        }
    }
}

/// A request's client certificate, verified against the server's client
/// CA (in the request's extensions when the connection presented one).
#[derive(Clone, Copy, Debug)]
pub(crate) struct VerifiedClient;

/// Binds `bind` (`host:port`), with TLS when `tls_pem` is given (a PEM
/// file holding the certificate and its key, as Falco's
/// `ssl_certificate`), and serves `handler` until dropped. With
/// `client_ca`, client certificates are checked against it when given
/// (requests over such a connection carry [`VerifiedClient`]).
pub(crate) fn serve<H: Handler>(
    bind: &str,
    tls_pem: Option<&Path>,
    client_ca: Option<&Path>,
    handler: H,
) -> Result<Running, ServerError> {
    let tls = tls_pem
        .map(|pem| tls_acceptor(pem, client_ca))
        .transpose()?;
    let bound = |source| ServerError::Bind {
        bind: bind.to_string(),
        source,
    };
    let std_listener = std::net::TcpListener::bind(bind).map_err(bound)?;
    std_listener.set_nonblocking(true).map_err(bound)?;
    let addr = std_listener.local_addr().map_err(bound)?;
    let rt = runtime()?;
    let listener = {
        let _in_runtime = rt.enter();
        tokio::net::TcpListener::from_std(std_listener).map_err(bound)?
    };
    let (tx, stopped) = std::sync::mpsc::channel();
    let acceptor = Acceptor {
        listener,
        tls,
        connections: JoinSet::new(),
        slots: Arc::new(Semaphore::new(MAX_CONNECTIONS)),
        peers: Arc::default(),
        _stopped: tx,
    };
    let task = rt.spawn(accept_loop(acceptor, Arc::new(handler)));
    Ok(Running {
        task,
        stopped,
        addr,
    })
}

/// Accepts connections for ever, each served by its own task.
async fn accept_loop<H: Handler>(mut a: Acceptor, handler: Arc<H>) {
    loop {
        let (stream, peer) = match a.listener.accept().await {
            Ok(accepted) => accepted,
            Err(_) => {
                // Out of descriptors or similar: wait instead of spinning.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        while a.connections.try_join_next().is_some() {}
        // Over the cap, or over the peer's share of it: closed unread.
        let Some(peer_slot) = PeerSlot::take(&a, peer.ip()) else {
            continue;
        };
        let Ok(permit) = Arc::clone(&a.slots).try_acquire_owned() else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        a.connections.spawn(connection(
            stream,
            a.tls.clone(),
            Arc::clone(&handler),
            (permit, peer_slot),
        ));
    }
}

/// One connection: the TLS handshake (within [`HEADER_TIMEOUT`]), then
/// HTTP/1 until the client closes, a deadline passes or the lifetime ends.
async fn connection<H: Handler>(
    stream: TcpStream,
    tls: Option<tokio_rustls::TlsAcceptor>,
    handler: Arc<H>,
    _slot: (OwnedSemaphorePermit, PeerSlot),
) {
    match tls {
        None => http1(TokioIo::new(stream), handler, false).await,
        Some(tls) => {
            if let Ok(Ok(stream)) = tokio::time::timeout(HEADER_TIMEOUT, tls.accept(stream)).await {
                // present only when verified: unverified ones fail the handshake
                let verified = stream.get_ref().1.peer_certificates().is_some();
                http1(TokioIo::new(stream), handler, verified).await;
            }
        }
    }
}

async fn http1<I, H>(io: I, handler: Arc<H>, verified_client: bool)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    H: Handler,
{
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        let handler = Arc::clone(&handler);
        if verified_client {
            req.extensions_mut().insert(VerifiedClient);
        }
        async move { Ok::<_, std::convert::Infallible>(handler.handle(req).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(MAX_BUF)
        .serve_connection(io, service);
    let mut conn = std::pin::pin!(conn);
    if tokio::time::timeout(CONNECTION_LIFETIME, conn.as_mut())
        .await
        .is_err()
    {
        conn.as_mut().graceful_shutdown();
        let _ = tokio::time::timeout(BODY_TIMEOUT, conn).await;
    }
}

/// TLS settings from a PEM file holding the certificate chain and its key.
fn tls_acceptor(
    pem: &Path,
    client_ca: Option<&Path>,
) -> Result<tokio_rustls::TlsAcceptor, ServerError> {
    let bad = |reason: String| ServerError::Certificate {
        path: pem.to_path_buf(),
        reason,
    };
    let bytes = std::fs::read(pem).map_err(|e| bad(e.to_string()))?;
    let certs = rustls_pemfile::certs(&mut bytes.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("no certificate in it".into()));
    }
    let key = rustls_pemfile::private_key(&mut bytes.as_slice())
        .map_err(|e| bad(e.to_string()))?
        .ok_or_else(|| bad("no private key in it".into()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => builder.with_client_cert_verifier(client_verifier(ca, provider)?),
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| bad(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Checks client certificates against the CAs of `ca` (PEM) when a client
/// presents one; a client without one still connects.
fn client_verifier(
    ca: &Path,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, ServerError> {
    let bad = |reason: String| ServerError::Certificate {
        path: ca.to_path_buf(),
        reason,
    };
    let bytes = std::fs::read(ca).map_err(|e| bad(e.to_string()))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut bytes.as_slice()) {
        roots
            .add(cert.map_err(|e| bad(e.to_string()))?)
            .map_err(|e| bad(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(bad("no CA certificate in it".into()));
    }
    rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
        .allow_unauthenticated()
        .build()
        .map_err(|e| bad(e.to_string()))
}
