//! Push endpoints: HTTP(S) listeners that accept POSTed bodies for a
//! plugin (e.g. the Kubernetes audit webhook) and queue them until the
//! plugin's source takes them through the `receive` host import.
//!
//! Every client is assumed hostile. The queue is bounded in bodies and in
//! bytes, and a body's bytes are reserved before it is read, so bodies in
//! flight count too: a body larger than the limit is refused with 413 from
//! its `Content-Length` (or cut off when the stream passes the limit), a
//! full queue answers 503 (the API server retries), a body not received
//! within [`BODY_TIMEOUT`] 408; with a token, a request without it 401.
//! Refusals are counted. Listeners run on the runtime of [`super::http`];
//! the queue is the plugin's ([`crate::plugins::push`]).

use super::http::{self, BODY_TIMEOUT, Reply, ServerError};
use crate::plugins::push::{PushQueue, Reservation};
use http_body_util::BodyExt;
use hyper::body::{Body, Incoming};
use hyper::{Method, Request};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// The host an endpoint given as `:PORT` listens on.
pub const DEFAULT_HOST: &str = "127.0.0.1";

/// A listener delivering POSTs on one path to a queue (stops when dropped).
pub struct PushServer {
    _running: http::Running,
    /// The bound address.
    pub addr: std::net::SocketAddr,
}

impl PushServer {
    /// Listens on `listen` (`host:port`; an empty host, `:port`, means
    /// [`DEFAULT_HOST`], loopback only: `0.0.0.0:port` listens on every
    /// address) and queues POSTs to `path`. `tls_pem` holds a certificate
    /// and its key for HTTPS. With `token`, a POST must carry
    /// `Authorization: Bearer <token>` (else 401).
    pub fn start(
        listen: &str,
        path: &str,
        tls_pem: Option<&std::path::Path>,
        queue: Arc<PushQueue>,
        token: Option<String>,
    ) -> Result<PushServer, ServerError> {
        // Surrounding whitespace is not part of a token (a secret read from
        // a file or a Kubernetes Secret often ends with a newline).
        let token = token.map(|t| t.trim().to_string());
        if token.as_deref() == Some("") {
            return Err(ServerError::EmptyToken);
        }
        let bind = bind_address(listen);
        let endpoint = Endpoint {
            path: path.to_string(),
            queue,
            token: token.map(|t| Sha256::digest(t.as_bytes()).into()),
        };
        let running = http::serve(&bind, tls_pem, None, endpoint)?;
        if listen.starts_with(':') {
            crate::log::info(&format!(
                "webhook {listen}: no host given, listening on {} only (write 0.0.0.0{listen} to \
                 accept POSTs from other hosts)",
                running.addr
            ));
        }
        Ok(PushServer {
            addr: running.addr,
            _running: running,
        })
    }
}

/// The `host:port` an endpoint binds: `:port` is [`DEFAULT_HOST`]`:port`.
pub fn bind_address(listen: &str) -> String {
    match listen.strip_prefix(':') {
        Some(port) => format!("{DEFAULT_HOST}:{port}"),
        None => listen.to_string(),
    }
}

/// One push endpoint.
struct Endpoint {
    path: String,
    queue: Arc<PushQueue>,
    /// SHA-256 of the token: compared digest to digest, in constant time.
    token: Option<[u8; 32]>,
}

impl http::Handler for Endpoint {
    fn handle(&self, req: Request<Incoming>) -> impl Future<Output = Reply> + Send {
        self.receive(req)
    }
}

impl Endpoint {
    async fn receive(&self, req: Request<Incoming>) -> Reply {
        if req.uri().path() != self.path {
            return text(404, "not found\n");
        }
        if req.method() != Method::POST {
            return text(405, "method not allowed\n");
        }
        if !self.authorized(req.headers()) {
            self.queue.refused.fetch_add(1, Ordering::Relaxed);
            let mut r = text(401, "unauthorized\n");
            r.headers_mut().insert(
                hyper::header::WWW_AUTHENTICATE,
                hyper::header::HeaderValue::from_static("Bearer"),
            );
            return r;
        }
        let (code, msg) = self.queue_body(req.into_body()).await;
        if code != 200 {
            self.queue.refused.fetch_add(1, Ordering::Relaxed);
        }
        text(code, msg)
    }

    /// Reads and queues a body: the status and message to answer.
    async fn queue_body(&self, body: Incoming) -> (u16, &'static str) {
        let declared = body.size_hint().exact().unwrap_or(0);
        let max = self.queue.max_body();
        if declared > max as u64 {
            return (413, "body too large\n");
        }
        // The budget is taken as bytes arrive, not as declared: a client
        // announcing a large body and sending nothing holds nothing.
        let Some(mut reservation) = self.queue.reserve(0) else {
            return (503, "queue full\n");
        };
        match tokio::time::timeout(BODY_TIMEOUT, read_body(body, &mut reservation, max)).await {
            Err(_) => (408, "body not received in time\n"),
            Ok(Err(refused)) => refused,
            Ok(Ok(body)) => {
                if reservation.commit(body) {
                    (200, "ok\n")
                } else {
                    (503, "queue full\n")
                }
            }
        }
    }

    /// Whether the request carries the token (when one is required).
    fn authorized(&self, headers: &hyper::HeaderMap) -> bool {
        let Some(want) = &self.token else {
            return true;
        };
        let Some(value) = headers.get(hyper::header::AUTHORIZATION) else {
            return false;
        };
        let Some(token) = http::bearer_token(value.as_bytes()) else {
            return false;
        };
        let given: [u8; 32] = Sha256::digest(token).into();
        http::same_digest(&given, want)
    }
}

/// Reads a body into the space `reservation` holds, growing it as chunks
/// come (a body without `Content-Length`); the refusal when it passes
/// `max` bytes or the budget.
async fn read_body(
    mut body: Incoming,
    reservation: &mut Reservation<'_>,
    max: usize,
) -> Result<Vec<u8>, (u16, &'static str)> {
    let mut out = Vec::with_capacity(reservation.bytes());
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| (400, "cannot read the body\n"))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let len = out.len() + data.len();
        if len > max {
            return Err((413, "body too large\n"));
        }
        if !reservation.grow_to(len) {
            return Err((503, "queue full\n"));
        }
        out.extend_from_slice(&data);
    }
    Ok(out)
}

fn text(code: u16, msg: &'static str) -> Reply {
    http::reply(code, "text/plain; charset=utf-8", msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn post(addr: std::net::SocketAddr, path: &str, body: &str) -> u16 {
        let mut c = std::net::TcpStream::connect(addr).unwrap();
        write!(
            c,
            "POST {path} HTTP/1.0\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut s = String::new();
        c.read_to_string(&mut s).unwrap();
        s.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    #[test]
    fn queues_posts_and_refuses_when_full() {
        let q = Arc::new(PushQueue::new(2, 16, 1 << 20));
        let s = PushServer::start("127.0.0.1:0", "/k8s-audit", None, Arc::clone(&q), None).unwrap();
        assert_eq!(post(s.addr, "/k8s-audit", "one"), 200);
        assert_eq!(post(s.addr, "/other", "x"), 404);
        assert_eq!(post(s.addr, "/k8s-audit", "this body is far too long"), 413);
        assert_eq!(post(s.addr, "/k8s-audit", "two"), 200);
        assert_eq!(post(s.addr, "/k8s-audit", "three"), 503);
        assert_eq!(
            q.take(10, usize::MAX),
            vec![b"one".to_vec(), b"two".to_vec()]
        );
        assert_eq!(q.refused.load(Ordering::Relaxed), 2);
        assert_eq!(post(s.addr, "/k8s-audit", "four"), 200);
        assert_eq!(q.queued_bytes(), 4);
    }

    #[test]
    fn an_empty_host_is_loopback() {
        assert_eq!(bind_address(":9765"), "127.0.0.1:9765");
        assert_eq!(bind_address("0.0.0.0:9765"), "0.0.0.0:9765");
        assert_eq!(bind_address("[::1]:9765"), "[::1]:9765");
    }
}
