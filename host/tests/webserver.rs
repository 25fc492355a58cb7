//! The web server and the push endpoints against hostile clients, over
//! real HTTP on loopback: stalled uploads, byte budgets, oversized bodies,
//! tokens, connection caps and listening addresses. Every test is bounded
//! (client read timeouts) and stops its servers.

use falco_wasm::plugins::push::PushQueue;
use falco_wasm::server::http::{
    BODY_TIMEOUT, HEADER_TIMEOUT, MAX_CONNECTIONS, MAX_CONNECTIONS_PER_PEER,
};
use falco_wasm::server::metrics::Metrics;
use falco_wasm::server::push::PushServer;
use falco_wasm::server::{Server, ServerConfig};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Sends `raw` and reads the whole answer: (status, headers, body).
fn exchange(addr: SocketAddr, raw: &[u8], timeout: Duration) -> (u16, String, String) {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(timeout)).unwrap();
    c.write_all(raw).unwrap();
    read_answer(&mut c)
}

fn read_answer(c: &mut TcpStream) -> (u16, String, String) {
    let mut bytes = Vec::new();
    if let Err(e) = c.read_to_end(&mut bytes) {
        panic!(
            "no complete answer: {e} (got {:?})",
            String::from_utf8_lossy(&bytes)
        );
    }
    let s = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = s.split_once("\r\n\r\n").unwrap_or((&s, ""));
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {s:?}"));
    (code, head.to_string(), body.to_string())
}

fn post(addr: SocketAddr, path: &str, extra_headers: &str, body: &[u8]) -> u16 {
    let mut raw = format!(
        "POST {path} HTTP/1.0\r\nHost: x\r\n{extra_headers}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(body);
    exchange(addr, &raw, Duration::from_secs(5)).0
}

fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let raw = format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n");
    let (code, _, body) = exchange(addr, raw.as_bytes(), Duration::from_secs(5));
    (code, body)
}

fn web_server() -> Server {
    let cfg = ServerConfig {
        address: "127.0.0.1".into(),
        port: 0,
        healthz: "/healthz".into(),
        prometheus: true,
        tls_pem: None,
        plugins: Vec::new(),
        admin_token_sha256: None,
        client_ca: None,
    };
    Server::start(&cfg, Arc::new(Metrics::default()), Arc::default()).unwrap()
}

fn push_server(queue: &Arc<PushQueue>, token: Option<&str>) -> PushServer {
    PushServer::start(
        "127.0.0.1:0",
        "/k8s-audit",
        None,
        Arc::clone(queue),
        token.map(str::to_string),
    )
    .unwrap()
}

/// Connects and sends `raw`, then leaves the connection open.
fn stall(addr: SocketAddr, raw: &str) -> TcpStream {
    let mut c = TcpStream::connect(addr).unwrap();
    c.write_all(raw.as_bytes()).unwrap();
    c
}

/// Clients that send a head announcing a large body and then stall, on the
/// webhook and on the web server, cost a task each: another client's POST
/// is queued and `/healthz` answers at once, and the stalled ones are cut
/// after the body (or head) deadline. (With one handler thread, the first
/// stalled upload held it: the next POST waited for ever.)
#[test]
fn stalled_clients_do_not_block_posts_or_healthz() {
    let q = Arc::new(PushQueue::new(4096, 8 << 20, 64 << 20));
    let push = push_server(&q, None);
    let web = web_server();
    let upload = "POST /k8s-audit HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\npartial";
    let mut stalled: Vec<TcpStream> = (0..20).map(|_| stall(push.addr, upload)).collect();
    let get_with_body = "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n";
    let _stalled_get: Vec<TcpStream> = (0..5).map(|_| stall(web.addr, get_with_body)).collect();
    let mut half_head = stall(push.addr, "POST /k8s-audit HTTP/1.1\r\nHost:");
    let started = Instant::now();
    std::thread::sleep(Duration::from_millis(200));

    let t = Instant::now();
    assert_eq!(
        post(push.addr, "/k8s-audit", "", b"{\"kind\":\"Event\"}"),
        200
    );
    assert_eq!(
        get(web.addr, "/healthz"),
        (200, r#"{"status":"ok"}"#.to_string())
    );
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "took {:?}",
        t.elapsed()
    );
    assert_eq!(
        q.take(10, usize::MAX),
        vec![b"{\"kind\":\"Event\"}".to_vec()]
    );

    // The stalled upload is answered 408 at the body deadline; the half
    // head is closed at the head deadline.
    let first = &mut stalled[0];
    first.set_read_timeout(Some(BODY_TIMEOUT * 2)).unwrap();
    let (code, _, _) = read_answer(first);
    assert_eq!(code, 408);
    let waited = started.elapsed();
    assert!(
        waited >= BODY_TIMEOUT - Duration::from_millis(500) && waited < BODY_TIMEOUT * 2,
        "{waited:?}"
    );
    half_head.set_read_timeout(Some(HEADER_TIMEOUT)).unwrap();
    let mut rest = Vec::new();
    // Closed (EOF, or a reset), not left hanging until our read timeout.
    let cut = match half_head.read_to_end(&mut rest) {
        Ok(_) => true,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    };
    assert!(cut, "the half-sent head was not cut");
    assert!(q.refused.load(Ordering::Relaxed) >= 1);
}

/// With a byte budget B, POSTs beyond B bytes in total are refused with
/// 503 and the queue never holds more than B bytes, sequentially or at
/// once; a `Content-Length` over the body limit gets 413 without the body
/// being sent, a chunked body passing it 413 too.
#[test]
fn byte_budget_bounds_the_queue_and_large_bodies_are_refused_unread() {
    const BUDGET: usize = 256 << 10;
    const BODY: usize = 40 << 10;
    let q = Arc::new(PushQueue::new(4096, 64 << 10, BUDGET));
    let s = push_server(&q, None);
    let body = vec![b'x'; BODY];
    let codes: Vec<u16> = (0..10)
        .map(|_| {
            let c = post(s.addr, "/k8s-audit", "", &body);
            assert!(q.queued_bytes() <= BUDGET);
            c
        })
        .collect();
    assert_eq!(codes, [[200; 6].as_slice(), &[503; 4]].concat());
    assert_eq!(q.queued_bytes(), 6 * BODY);
    assert_eq!(q.take(100, usize::MAX).len(), 6);
    assert_eq!(q.queued_bytes(), 0);

    // Twenty at once: as many as fit, the others 503.
    let addr = s.addr;
    let at_once: Vec<u16> = std::thread::scope(|sc| {
        let handles: Vec<_> = (0..20)
            .map(|_| sc.spawn(|| post(addr, "/k8s-audit", "", &body)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(at_once.iter().filter(|&&c| c == 200).count(), 6);
    assert_eq!(at_once.iter().filter(|&&c| c == 503).count(), 14);
    assert!(q.queued_bytes() <= BUDGET);
    assert_eq!(q.take(100, usize::MAX).len(), 6);

    // A declared length over the limit: 413 at once, the body never sent.
    let t = Instant::now();
    let head = "POST /k8s-audit HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n";
    let (code, _, _) = exchange(s.addr, head.as_bytes(), Duration::from_secs(5));
    assert_eq!(code, 413);
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());

    // A chunked body is cut off when it passes the limit.
    let chunk = format!("{:x}\r\n{}\r\n", 32 << 10, "y".repeat(32 << 10));
    let mut raw =
        "POST /k8s-audit HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_string();
    raw.push_str(&chunk.repeat(3));
    raw.push_str("0\r\n\r\n");
    let (code, _, _) = exchange(s.addr, raw.as_bytes(), Duration::from_secs(5));
    assert_eq!(code, 413);
    assert_eq!(q.queued_bytes(), 0);
    // What fits is still accepted.
    assert_eq!(post(s.addr, "/k8s-audit", "", b"small"), 200);
    assert_eq!(q.received.load(Ordering::Relaxed), 13);
    assert_eq!(q.refused.load(Ordering::Relaxed), 4 + 14 + 2);
}

/// With a token, a POST without it or with another one is refused (401,
/// counted, not queued); with it, queued.
#[test]
fn a_token_is_required_when_set() {
    let q = Arc::new(PushQueue::new(16, 1 << 20, 8 << 20));
    let s = push_server(&q, Some("s3cret-token"));
    let unauthorised = |headers: &str| {
        let raw = format!(
            "POST /k8s-audit HTTP/1.0\r\nHost: x\r\n{headers}Content-Length: 2\r\n\r\n{{}}"
        );
        exchange(s.addr, raw.as_bytes(), Duration::from_secs(5))
    };
    let (code, head, _) = unauthorised("");
    assert_eq!(code, 401);
    assert!(
        head.to_ascii_lowercase()
            .contains("www-authenticate: bearer"),
        "{head}"
    );
    for wrong in [
        "Authorization: Bearer s3cret-toke\r\n",
        "Authorization: Bearer s3cret-token2\r\n",
        "Authorization: Basic czNjcmV0LXRva2Vu\r\n",
        "Authorization: s3cret-token\r\n",
    ] {
        assert_eq!(unauthorised(wrong).0, 401, "{wrong}");
    }
    assert_eq!(
        post(
            s.addr,
            "/k8s-audit",
            "Authorization: Bearer s3cret-token\r\n",
            b"{}"
        ),
        200
    );
    assert_eq!(
        post(
            s.addr,
            "/k8s-audit",
            "authorization: bearer s3cret-token\r\n",
            b"[]"
        ),
        200
    );
    assert_eq!(q.take(10, usize::MAX), vec![b"{}".to_vec(), b"[]".to_vec()]);
    assert_eq!(q.refused.load(Ordering::Relaxed), 5);
    // An empty token would let anyone in: refused at start.
    let empty = PushServer::start("127.0.0.1:0", "/k8s-audit", None, q, Some(String::new()));
    assert!(empty.is_err());
}

/// `:PORT` listens on 127.0.0.1 only (another loopback address of the
/// same machine is refused), and so does the web server unless
/// `webserver.listen_address` says otherwise.
#[test]
fn an_empty_host_listens_on_loopback_only() {
    let q = Arc::new(PushQueue::new(16, 1 << 20, 8 << 20));
    let s = PushServer::start(":0", "/k8s-audit", None, Arc::clone(&q), None).unwrap();
    assert_eq!(s.addr.ip(), std::net::Ipv4Addr::LOCALHOST);
    assert!(
        TcpStream::connect(("127.0.0.2", s.addr.port())).is_err(),
        "{} accepts connections on 127.0.0.2",
        s.addr
    );
    assert_eq!(post(s.addr, "/k8s-audit", "", b"{}"), 200);

    let config = |o: &[String]| {
        let c = falco_wasm::config::Config::load(None, o).unwrap();
        ServerConfig::from_config(&c).unwrap().unwrap().address
    };
    assert_eq!(config(&[]), "127.0.0.1");
    assert_eq!(
        config(&["webserver.listen_address=0.0.0.0".to_string()]),
        "0.0.0.0"
    );
}

/// Connections over the cap are closed at once; the server answers again
/// when the others go.
#[test]
fn connections_over_the_cap_are_closed() {
    let web = web_server();
    // One peer may hold its share; the next of its connections is closed,
    // while another peer is still served.
    let mine: Vec<TcpStream> = (0..MAX_CONNECTIONS_PER_PEER)
        .map(|_| TcpStream::connect(web.addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    assert!(closed_unread(connect_from([127, 0, 0, 1], web.addr)));
    let mut other = connect_from([127, 0, 0, 2], web.addr);
    other
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    other.write_all(b"GET /healthz HTTP/1.0\r\n\r\n").unwrap();
    let mut s = String::new();
    other.read_to_string(&mut s).unwrap();
    assert!(s.starts_with("HTTP/1.0 200"), "{s}");
    drop(mine);
    // Many peers together fill the listener's cap.
    let peers = MAX_CONNECTIONS / MAX_CONNECTIONS_PER_PEER;
    let idle: Vec<TcpStream> = (0..MAX_CONNECTIONS)
        .map(|i| connect_from([127, 0, 1, (i % peers) as u8 + 1], web.addr))
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    assert!(closed_unread(connect_from([127, 0, 2, 1], web.addr)));
    drop(idle);
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let mut c = TcpStream::connect(web.addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
        let _ = c.write_all(b"GET /healthz HTTP/1.0\r\n\r\n");
        let mut s = String::new();
        if c.read_to_string(&mut s).is_ok() && s.starts_with("HTTP/1.0 200") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no answer after the idle clients left"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The endpoints answer as before: status, content type, body; other
/// methods 405.
#[test]
fn web_endpoints_unchanged() {
    let web = web_server();
    let (code, head, body) = exchange(
        web.addr,
        b"GET /healthz?probe=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    );
    assert_eq!((code, body.as_str()), (200, r#"{"status":"ok"}"#));
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    let (code, head, _) = exchange(
        web.addr,
        b"GET /metrics HTTP/1.0\r\n\r\n",
        Duration::from_secs(5),
    );
    assert_eq!(code, 200);
    assert!(head.contains("text/plain; version=0.0.4"), "{head}");
    let (code, _, body) = exchange(
        web.addr,
        b"POST /healthz HTTP/1.0\r\nContent-Length: 0\r\n\r\n",
        Duration::from_secs(5),
    );
    assert_eq!((code, body.as_str()), (405, "method not allowed\n"));
    assert_eq!(get(web.addr, "/nope"), (404, "not found\n".to_string()));
}

/// A connection to `to` from the loopback address `from`.
fn connect_from(from: [u8; 4], to: SocketAddr) -> TcpStream {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    let s = rt.block_on(async {
        let sock = tokio::net::TcpSocket::new_v4().unwrap();
        sock.bind(SocketAddr::from((from, 0))).unwrap();
        sock.connect(to).await.unwrap()
    });
    let s = s.into_std().unwrap();
    s.set_nonblocking(false).unwrap();
    s
}

/// Whether the server closes `c` without answering a request (within 2 s).
fn closed_unread(mut c: TcpStream) -> bool {
    c.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let _ = c.write_all(b"GET /healthz HTTP/1.0\r\n\r\n");
    let mut got = Vec::new();
    let t = Instant::now();
    let closed = match c.read_to_end(&mut got) {
        Ok(_) => got.is_empty(),
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    };
    closed && t.elapsed() < Duration::from_secs(2)
}
