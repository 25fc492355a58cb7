//! Push endpoints: HTTP(S) listeners that accept POSTed bodies for a
//! plugin (e.g. the Kubernetes audit webhook) and queue them until the
//! plugin's source takes them through the `receive` host import.
//!
//! The queue is bounded: when the plugin falls behind, further bodies are
//! refused with 503 (the API server retries) and counted.

use std::collections::VecDeque;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Bodies waiting for a plugin.
#[derive(Debug)]
pub struct PushQueue {
    q: Mutex<VecDeque<Vec<u8>>>,
    capacity: usize,
    max_body: usize,
    /// Bodies accepted.
    pub received: AtomicU64,
    /// Bodies refused because the queue was full or the body too large.
    pub refused: AtomicU64,
}

impl PushQueue {
    /// A queue of at most `capacity` bodies of at most `max_body` bytes.
    pub fn new(capacity: usize, max_body: usize) -> PushQueue {
        PushQueue {
            q: Mutex::new(VecDeque::new()),
            capacity,
            max_body,
            received: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        }
    }

    /// Queues a body; false if refused.
    pub fn push(&self, body: Vec<u8>) -> bool {
        let mut q = self.q.lock().unwrap_or_else(|e| e.into_inner());
        if q.len() >= self.capacity || body.len() > self.max_body {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        q.push_back(body);
        self.received.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// Takes up to `max` bodies, oldest first.
    pub fn take(&self, max: usize) -> Vec<Vec<u8>> {
        let mut q = self.q.lock().unwrap_or_else(|e| e.into_inner());
        let n = q.len().min(max);
        q.drain(..n).collect()
    }
}

/// A listener delivering POSTs on one path to a queue (stops when dropped).
pub struct PushServer {
    server: Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// The bound address.
    pub addr: std::net::SocketAddr,
}

impl PushServer {
    /// Listens on `listen` (`host:port`; an empty host means all
    /// addresses) and queues POSTs to `path`. `tls_pem` holds a
    /// certificate and its key for HTTPS.
    pub fn start(
        listen: &str,
        path: &str,
        tls_pem: Option<&std::path::Path>,
        queue: Arc<PushQueue>,
    ) -> Result<PushServer, String> {
        let bind = match listen.strip_prefix(':') {
            Some(port) => format!("0.0.0.0:{port}"),
            None => listen.to_string(),
        };
        let (server, addr) = super::listen(&bind, tls_pem)?;
        let s = Arc::clone(&server);
        let path = path.to_string();
        let thread = std::thread::Builder::new()
            .name("push-endpoint".into())
            .spawn(move || {
                for mut req in s.incoming_requests() {
                    let url_path = req.url().split('?').next().unwrap_or("").to_string();
                    let (code, msg) = if url_path != path {
                        (404, "not found\n")
                    } else if *req.method() != tiny_http::Method::Post {
                        (405, "method not allowed\n")
                    } else {
                        let mut body = Vec::new();
                        let limit = queue.max_body as u64 + 1;
                        match req.as_reader().take(limit).read_to_end(&mut body) {
                            Ok(_) if queue.push(body) => (200, "ok\n"),
                            Ok(_) => (503, "queue full or body too large\n"),
                            Err(_) => (400, "cannot read the body\n"),
                        }
                    };
                    let _ =
                        req.respond(tiny_http::Response::from_string(msg).with_status_code(code));
                }
            })
            .map_err(|e| e.to_string())?;
        Ok(PushServer {
            server,
            thread: Some(thread),
            addr,
        })
    }
}

impl Drop for PushServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

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
        let q = Arc::new(PushQueue::new(2, 16));
        let s = PushServer::start("127.0.0.1:0", "/k8s-audit", None, Arc::clone(&q)).unwrap();
        assert_eq!(post(s.addr, "/k8s-audit", "one"), 200);
        assert_eq!(post(s.addr, "/other", "x"), 404);
        assert_eq!(post(s.addr, "/k8s-audit", "this body is far too long"), 503);
        assert_eq!(post(s.addr, "/k8s-audit", "two"), 200);
        assert_eq!(post(s.addr, "/k8s-audit", "three"), 503);
        assert_eq!(q.take(10), vec![b"one".to_vec(), b"two".to_vec()]);
        assert_eq!(q.refused.load(Ordering::Relaxed), 2);
        assert_eq!(post(s.addr, "/k8s-audit", "four"), 200);
    }
}
