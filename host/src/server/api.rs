//! The tenants' API on the web server: who may see what, by bearer token.
//!
//! ```text
//! GET /api/v1/tenants                 admin: every tenant; a tenant: itself
//! GET /api/v1/tenants/NAME            one tenant (scope, rules, counters)
//! GET /api/v1/tenants/NAME/metrics    its counters, Prometheus text
//! GET /api/v1/tenants/NAME/alerts     its alerts as they happen (Server-Sent Events)
//! PUT /api/v1/tenants/NAME            admin: add or replace a tenant (its YAML entry)
//! PUT /api/v1/tenants/NAME/rules      admin or the tenant: its rules (YAML)
//! DELETE /api/v1/tenants/NAME         admin: remove a tenant
//! ```
//!
//! Changes are kept in `tenants_dir` and applied by the pipeline as a
//! reload: validated first (a rules error comes back with its file:line),
//! then swapped in between two events (no event lost); a change whose
//! tenant does not load is undone (its files put back).
//!
//! Tokens are never stored: the configuration holds their SHA-256
//! (`webserver.admin_token_sha256`, `tenants[].token_sha256`). No token or
//! an unknown one: 401; a tenant's token on another tenant: 403, whether
//! that tenant exists or not. An alert stream is fed without blocking the
//! event path: a subscriber that does not keep up loses alerts (counted),
//! never slows its tenant.

use super::metrics::Metrics;
use hyper::body::{Bytes, Frame};
use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// The path prefix of the API.
pub const PREFIX: &str = "/api/v1/tenants";

/// Alerts a stream subscriber may be behind before it loses some.
const SUBSCRIBER_QUEUE: usize = 1024;

/// Streams open at once per tenant.
const MAX_SUBSCRIBERS: usize = 16;

/// The longest body a change may have (a tenant's entry or rules).
pub const MAX_CHANGE_BODY: usize = 1 << 20;

/// How long a change may take to be applied (well within a connection's
/// lifetime, so the answer is delivered).
const CHANGE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Changes waiting at most (each is a reload); more are refused (503).
const CHANGES_WAITING: usize = 4;

/// A tenant's live alert feed: the streams open on it.
#[derive(Default)]
pub struct Feed {
    subscribers: Mutex<Vec<mpsc::Sender<Bytes>>>,
    any: AtomicBool,
    /// Alerts a slow subscriber lost.
    pub lost: AtomicU64,
}

impl Feed {
    /// Whether anyone listens (checked before an alert is formatted).
    pub fn wanted(&self) -> bool {
        self.any.load(Ordering::Relaxed)
    }

    /// Sends one alert (a JSON line) to every stream, never waiting.
    pub fn send(&self, json: &str) {
        let event = Bytes::from(format!("event: alert\ndata: {json}\n\n"));
        let mut subs = self.subscribers.lock().unwrap_or_else(|p| p.into_inner());
        subs.retain(|s| match s.try_send(event.clone()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.lost.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
        self.any.store(!subs.is_empty(), Ordering::Relaxed);
    }

    fn subscribe(&self) -> Option<mpsc::Receiver<Bytes>> {
        let mut subs = self.subscribers.lock().unwrap_or_else(|p| p.into_inner());
        subs.retain(|s| !s.is_closed());
        if subs.len() >= MAX_SUBSCRIBERS {
            return None;
        }
        let (tx, rx) = mpsc::channel(SUBSCRIBER_QUEUE);
        subs.push(tx);
        self.any.store(true, Ordering::Relaxed);
        Some(rx)
    }
}

/// What the API knows of a tenant.
#[derive(Clone)]
pub struct Entry {
    /// SHA-256 (hex) of its token.
    pub token_sha256: Option<String>,
    /// Its scope, as configured.
    pub scope: String,
    /// Rules enabled.
    pub rules: usize,
    /// Its alert feed.
    pub feed: Arc<Feed>,
}

/// What a change asks for.
#[derive(Debug)]
pub enum ChangeKind {
    /// A tenant's entry (YAML), new or replacing its previous one.
    Entry(String),
    /// A tenant's rules (YAML).
    Rules(String),
    /// The tenant goes.
    Remove,
}

/// A tenant change the API asks the pipeline for, with where the answer
/// (status, message) goes.
#[derive(Debug)]
pub struct Change {
    /// The tenant.
    pub name: String,
    /// What changes.
    pub kind: ChangeKind,
    /// Asked by the admin (else by the tenant: errors about other parts of
    /// the configuration are not told).
    pub admin: bool,
    /// The answer.
    pub reply: tokio::sync::oneshot::Sender<(u16, String)>,
}

/// The tenants the API serves, kept current by the pipeline.
#[derive(Default)]
pub struct Directory {
    entries: Mutex<BTreeMap<String, Entry>>,
    changes: Mutex<Option<std::sync::mpsc::SyncSender<Change>>>,
}

impl Directory {
    /// Adds or replaces a tenant (its feed is kept across reloads).
    pub fn set(&self, name: &str, token_sha256: Option<String>, scope: String, rules: usize) {
        let mut e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let feed = e.get(name).map(|x| Arc::clone(&x.feed)).unwrap_or_default();
        e.insert(
            name.to_string(),
            Entry {
                token_sha256,
                scope,
                rules,
                feed,
            },
        );
    }

    /// The feed of a tenant (created when missing).
    pub fn feed(&self, name: &str) -> Arc<Feed> {
        let e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        e.get(name).map(|x| Arc::clone(&x.feed)).unwrap_or_default()
    }

    /// Removes a tenant.
    pub fn remove(&self, name: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name);
    }

    /// From now on, the API's changes come to the returned receiver (a
    /// few at most wait; more are refused).
    pub fn accept_changes(&self) -> std::sync::mpsc::Receiver<Change> {
        let (tx, rx) = std::sync::mpsc::sync_channel(CHANGES_WAITING);
        *self.changes.lock().unwrap_or_else(|p| p.into_inner()) = Some(tx);
        rx
    }

    /// Asks the pipeline for a change; its answer, or why there is none.
    pub async fn change(&self, who: &Authorized, kind: ChangeKind) -> (u16, String) {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let change = Change {
            name: who.name.clone(),
            kind,
            admin: who.admin,
            reply,
        };
        let sent = match self
            .changes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            None => Err("this engine does not take tenant changes"),
            Some(tx) => tx
                .try_send(change)
                .map_err(|_| "too many changes are waiting: try again"),
        };
        if let Err(why) = sent {
            return (503, why.into());
        }
        match tokio::time::timeout(CHANGE_TIMEOUT, answer).await {
            Ok(Ok(a)) => a,
            Ok(Err(_)) => (503, "the engine is stopping".into()),
            Err(_) => (504, "the change was not applied in time".into()),
        }
    }

    fn snapshot(&self) -> BTreeMap<String, Entry> {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// Who is calling.
#[derive(Debug, PartialEq)]
enum Caller {
    Admin,
    Tenant(String),
}

impl Caller {
    fn may_see(&self, tenant: &str) -> bool {
        match self {
            Caller::Admin => true,
            Caller::Tenant(t) => t == tenant,
        }
    }
}

/// The hex SHA-256 of a token.
pub fn token_hash(token: impl AsRef<[u8]>) -> String {
    crate::digest::sha256_hex(token.as_ref())
}

fn caller(
    auth: Option<&str>,
    admin: Option<&str>,
    tenants: &BTreeMap<String, Entry>,
) -> Option<Caller> {
    let token = super::http::bearer_token(auth?.as_bytes())?;
    let hash = token_hash(token);
    let same = |h: &str| super::http::same_digest(h.as_bytes(), hash.as_bytes());
    if admin.is_some_and(same) {
        return Some(Caller::Admin);
    }
    tenants
        .iter()
        .find(|(_, e)| e.token_sha256.as_deref().is_some_and(same))
        .map(|(n, _)| Caller::Tenant(n.clone()))
}

/// Whether a `method` request on `path` may change what it names: the
/// tenant's name and the change, or the refusal (status, message).
pub fn authorize_change(
    method: &hyper::Method,
    path: &str,
    auth: Option<&str>,
    admin: Option<&str>,
    dir: &Directory,
) -> Result<Authorized, (u16, String)> {
    let tenants = dir.snapshot();
    let Some(who) = caller(auth, admin, &tenants) else {
        return Err((401, "a valid bearer token is needed\n".into()));
    };
    let parts = parts(path).unwrap_or_default();
    let (name, rules) = match (method, parts.as_slice()) {
        (&hyper::Method::PUT, [name]) | (&hyper::Method::DELETE, [name]) => (*name, false),
        (&hyper::Method::PUT, [name, "rules"]) => (*name, true),
        _ => return Err((405, "method not allowed\n".into())),
    };
    if !valid_tenant_name(name) {
        return Err((
            400,
            "a tenant's name is letters, digits, '-' and '_' (at most 63)\n".into(),
        ));
    }
    let admin = who == Caller::Admin;
    let allowed = admin || (rules && who.may_see(name));
    if !allowed {
        return Err((
            403,
            "this token is not allowed to change that tenant\n".into(),
        ));
    }
    Ok(Authorized {
        name: name.to_string(),
        rules,
        admin,
    })
}

/// A change the caller may make.
pub struct Authorized {
    /// The tenant.
    pub name: String,
    /// Its rules (else its entry).
    pub rules: bool,
    /// By the admin (else by the tenant itself).
    pub admin: bool,
}

/// Whether `path` is the API's; its parts after [`PREFIX`].
pub fn parts(path: &str) -> Option<Vec<&str>> {
    let rest = path.strip_prefix(PREFIX)?;
    if !rest.is_empty() && !rest.starts_with('/') {
        return None;
    }
    Some(rest.split('/').filter(|p| !p.is_empty()).collect())
}

/// A tenant's name: letters, digits, `-` and `_`, at most 63 (so it is a
/// file name in `tenants_dir`, a NATS subject token and a label value).
pub fn valid_tenant_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// An API answer: status, content type, body (or an alert stream).
pub enum Answer {
    /// A whole body.
    Body(u16, &'static str, String),
    /// Server-Sent Events from this receiver.
    Stream(mpsc::Receiver<Bytes>),
}

fn text(code: u16, msg: &str) -> Answer {
    Answer::Body(code, "text/plain; charset=utf-8", format!("{msg}\n"))
}

/// Answers a GET below [`PREFIX`]; `admin` is the admin token's hash.
pub fn answer(
    path: &str,
    auth: Option<&str>,
    admin: Option<&str>,
    dir: &Directory,
    metrics: &Metrics,
) -> Answer {
    let tenants = dir.snapshot();
    let Some(who) = caller(auth, admin, &tenants) else {
        return text(401, "a valid bearer token is needed");
    };
    let parts = parts(path).unwrap_or_default();
    let describe = |name: &str, e: &Entry| {
        let c = metrics.tenant(name);
        serde_json::json!({
            "name": name,
            "scope": e.scope,
            "rules_enabled": e.rules,
            "events": c.events.load(Ordering::Relaxed),
            "shed_events": c.shed.load(Ordering::Relaxed),
            "alerts": c.alerts.load(Ordering::Relaxed),
            "alerts_suppressed": c.suppressed.load(Ordering::Relaxed),
            "stream_alerts_lost": e.feed.lost.load(Ordering::Relaxed),
        })
    };
    let Some(&name) = parts.first() else {
        let list: Vec<_> = tenants
            .iter()
            .filter(|(n, _)| who.may_see(n))
            .map(|(n, e)| describe(n, e))
            .collect();
        return Answer::Body(200, "application/json", serde_json::json!(list).to_string());
    };
    if !who.may_see(name) {
        return text(403, "this token is not allowed to see that tenant");
    }
    let Some(entry) = tenants.get(name) else {
        return text(404, "no such tenant");
    };
    match parts[1..] {
        [] => Answer::Body(200, "application/json", describe(name, entry).to_string()),
        ["metrics"] => Answer::Body(
            200,
            "text/plain; version=0.0.4",
            metrics.render_tenant(name),
        ),
        ["alerts"] => match entry.feed.subscribe() {
            Some(rx) => Answer::Stream(rx),
            None => text(429, "too many alert streams are open on this tenant"),
        },
        _ => text(404, "not found"),
    }
}

/// The body of an alert stream: each alert as it comes; ends when the
/// engine stops or the connection's lifetime ends (a minute: clients
/// reconnect, as Server-Sent Events clients do).
pub struct EventStream(pub mpsc::Receiver<Bytes>);

impl hyper::body::Body for EventStream {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0.poll_recv(cx).map(|b| b.map(|b| Ok(Frame::data(b))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> Directory {
        let d = Directory::default();
        d.set("a", Some(token_hash("ta")), "host".into(), 3);
        d.set("b", Some(token_hash("tb")), "images [x]".into(), 1);
        d
    }

    fn body(a: Answer) -> (u16, String) {
        match a {
            Answer::Body(c, _, b) => (c, b),
            Answer::Stream(_) => (0, String::new()),
        }
    }

    #[test]
    fn tokens_see_their_own_tenant_only() {
        let (d, m) = (dir(), Metrics::default());
        let admin = token_hash("root");
        let ask = |path: &str, auth: Option<&str>| body(answer(path, auth, Some(&admin), &d, &m));
        assert_eq!(ask(PREFIX, None).0, 401);
        assert_eq!(ask(PREFIX, Some("Bearer nope")).0, 401);
        assert_eq!(ask(PREFIX, Some("Basic ta")).0, 401);
        let (code, list) = ask(PREFIX, Some("Bearer ta"));
        let list: serde_json::Value = serde_json::from_str(&list).unwrap();
        assert_eq!((code, list.as_array().unwrap().len()), (200, 1));
        assert_eq!(list[0]["name"], "a");
        let (_, all) = ask(PREFIX, Some("Bearer root"));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&all)
                .unwrap()
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert_eq!(ask("/api/v1/tenants/b", Some("Bearer ta")).0, 403);
        assert_eq!(
            ask("/api/v1/tenants/zz", Some("Bearer ta")).0,
            403,
            "no existence leak"
        );
        assert_eq!(ask("/api/v1/tenants/zz", Some("Bearer root")).0, 404);
        assert_eq!(ask("/api/v1/tenants/b/metrics", Some("Bearer tb")).0, 200);
        assert_eq!(ask("/api/v1/tenants/a/metrics", Some("Bearer tb")).0, 403);
    }

    #[test]
    fn a_slow_stream_loses_alerts_and_a_closed_one_goes() {
        let d = dir();
        let feed = d.feed("a");
        assert!(!feed.wanted());
        let mut rx = feed.subscribe().unwrap();
        assert!(feed.wanted());
        for _ in 0..SUBSCRIBER_QUEUE + 5 {
            feed.send("{}");
        }
        assert_eq!(feed.lost.load(Ordering::Relaxed), 5);
        assert_eq!(
            rx.try_recv().unwrap(),
            Bytes::from("event: alert\ndata: {}\n\n")
        );
        drop(rx);
        feed.send("{}");
        assert!(!feed.wanted(), "a closed stream is dropped");
    }
}
