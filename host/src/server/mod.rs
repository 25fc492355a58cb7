//! The embedded web server: `/healthz`, `/versions` and `/metrics`
//! (Prometheus text), over HTTP or HTTPS, configured by falco.yaml's
//! `webserver` keys.

pub mod api;
pub mod http;
pub mod metrics;
pub mod push;

use crate::config::{Config, ConfigError};
use api::Directory;
pub use http::ServerError;
use metrics::Metrics;
use std::sync::Arc;

/// `webserver.listen_address` when not configured: loopback only (Falco
/// listens on `0.0.0.0`; exposing the server is the operator's choice).
pub const DEFAULT_LISTEN_ADDRESS: &str = "127.0.0.1";

/// `webserver` settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// Address to listen on.
    pub address: String,
    /// Port.
    pub port: u16,
    /// Health endpoint path.
    pub healthz: String,
    /// Serve `/metrics`.
    pub prometheus: bool,
    /// `ssl_enabled`: the PEM file holding the certificate and its key.
    pub tls_pem: Option<std::path::PathBuf>,
    /// Loaded plugins (name, version), listed by `/versions` with the
    /// built-in ones.
    pub plugins: Vec<(String, String)>,
    /// `admin_token_sha256`: the SHA-256 (hex) of the tenants API's admin
    /// token.
    pub admin_token_sha256: Option<String>,
    /// `ssl_client_ca` (with `ssl_enabled`): the CA (PEM) client
    /// certificates are checked against; the tenants API then needs one.
    pub client_ca: Option<std::path::PathBuf>,
}

impl ServerConfig {
    /// `None` when `webserver.enabled` is false. `ssl_enabled` serves HTTPS with
    /// `ssl_certificate` (default `/etc/falco/falco.pem`).
    pub fn from_config(c: &Config) -> Result<Option<ServerConfig>, ConfigError> {
        if !c.bool_at("webserver.enabled", true)? {
            return Ok(None);
        }
        let tls_pem = if c.bool_at("webserver.ssl_enabled", false)? {
            Some(std::path::PathBuf::from(
                c.str_at("webserver.ssl_certificate")?
                    .unwrap_or_else(|| "/etc/falco/falco.pem".into()),
            ))
        } else {
            None
        };
        let port = c.u64_at("webserver.listen_port", 8765)?;
        let port = u16::try_from(port).map_err(|_| {
            ConfigError::key(
                "webserver.listen_port",
                format!("{port} is not a port number"),
            )
        })?;
        Ok(Some(ServerConfig {
            address: c
                .str_at("webserver.listen_address")?
                .unwrap_or_else(|| DEFAULT_LISTEN_ADDRESS.into()),
            port,
            healthz: c
                .str_at("webserver.k8s_healthz_endpoint")?
                .unwrap_or_else(|| "/healthz".into()),
            prometheus: c.bool_at("webserver.prometheus_metrics_enabled", false)?,
            plugins: Vec::new(),
            admin_token_sha256: admin_token(c)?,
            client_ca: client_ca(c, tls_pem.is_some())?,
            tls_pem,
        }))
    }
}

/// `webserver.ssl_client_ca`: only with TLS (client certificates are a
/// part of the TLS handshake).
fn client_ca(c: &Config, tls: bool) -> Result<Option<std::path::PathBuf>, ConfigError> {
    match c.str_at("webserver.ssl_client_ca")? {
        Some(_) if !tls => Err(ConfigError::key(
            "webserver.ssl_client_ca",
            "client certificates need ssl_enabled: true",
        )),
        ca => Ok(ca.map(std::path::PathBuf::from)),
    }
}

/// `webserver.admin_token_sha256`, checked for form.
fn admin_token(c: &Config) -> Result<Option<String>, ConfigError> {
    let Some(s) = c.str_at("webserver.admin_token_sha256")? else {
        return Ok(None);
    };
    if !http::is_sha256_hex(&s) {
        return Err(ConfigError::key(
            "webserver.admin_token_sha256",
            "expected 64 hex digits (sha256sum of the token)",
        ));
    }
    Ok(Some(s.to_ascii_lowercase()))
}

/// `/versions`: Falco's keys where they apply to this project.
pub fn versions_json(loaded: &[(String, String)]) -> serde_json::Value {
    let (a, b, c) = crate::rules::compile::ENGINE_VERSION;
    let plugins: serde_json::Map<String, serde_json::Value> =
        crate::rules::compile::builtin_plugins()
            .into_iter()
            .map(|p| (p.name, p.version))
            .chain(loaded.iter().cloned())
            .map(|(n, v)| (n, v.into()))
            .collect();
    serde_json::json!({
        "falco_version": env!("CARGO_PKG_VERSION"),
        "falco_wasm_version": env!("CARGO_PKG_VERSION"),
        "engine_version": format!("{b}"),
        "engine_version_semver": format!("{a}.{b}.{c}"),
        "plugin_api_version": crate::plugins::host_api_version(),
        "plugin_contract_version": crate::plugins::wasm::CONTRACT,
        "plugin_versions": plugins,
    })
}

/// A running server (stops when dropped).
pub struct Server {
    _running: http::Running,
    /// The bound address.
    pub addr: std::net::SocketAddr,
}

impl Server {
    /// Binds and serves on the HTTP runtime's threads (see [`http`]);
    /// the tenants API serves `tenants`.
    pub fn start(
        cfg: &ServerConfig,
        metrics: Arc<Metrics>,
        tenants: Arc<Directory>,
    ) -> Result<Server, ServerError> {
        let bind = format!("{}:{}", cfg.address, cfg.port);
        let web = Web {
            cfg: cfg.clone(),
            metrics,
            tenants,
        };
        let running = http::serve(&bind, cfg.tls_pem.as_deref(), cfg.client_ca.as_deref(), web)?;
        Ok(Server {
            addr: running.addr,
            _running: running,
        })
    }
}

/// Starts the web server `webserver` configures (`None` when disabled),
/// listing `plugins` in `/versions`. A configuration error is an error; a
/// server that cannot bind is a warning: detection goes on without it.
pub fn start_from_config(
    config: &Config,
    metrics: &Arc<Metrics>,
    tenants: &Arc<Directory>,
    plugins: Vec<(String, String)>,
) -> Result<Option<Server>, crate::config::ConfigError> {
    let Some(cfg) = ServerConfig::from_config(config)? else {
        return Ok(None);
    };
    let cfg = ServerConfig { plugins, ..cfg };
    match Server::start(&cfg, Arc::clone(metrics), Arc::clone(tenants)) {
        Ok(s) => {
            let scheme = if cfg.tls_pem.is_some() {
                "https"
            } else {
                "http"
            };
            crate::log::info(&format!("Web server listening on {scheme}://{}", s.addr));
            Ok(Some(s))
        }
        Err(e) => {
            crate::log::warning(&format!("web server not started: webserver: {e}"));
            Ok(None)
        }
    }
}

/// The web server's endpoints.
struct Web {
    cfg: ServerConfig,
    metrics: Arc<Metrics>,
    tenants: Arc<Directory>,
}

impl http::Handler for Web {
    fn handle(
        &self,
        req: hyper::Request<hyper::body::Incoming>,
    ) -> impl std::future::Future<Output = http::Reply> + Send {
        let path = req.uri().path().to_string();
        let auth = req
            .headers()
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let admin = self.cfg.admin_token_sha256.clone();
        // with a client CA, the API wants a verified client certificate
        let certified = self.cfg.client_ca.is_none()
            || req.extensions().get::<http::VerifiedClient>().is_some();
        let (dir, metrics) = (Arc::clone(&self.tenants), Arc::clone(&self.metrics));
        let plain = api::parts(&path)
            .is_none()
            .then(|| route(req.method(), &path, &self.cfg, &self.metrics));
        async move {
            if let Some((code, ctype, body)) = plain {
                return http::reply(code, ctype, body);
            }
            if !certified {
                let msg = "the tenants API needs a client certificate\n";
                return http::reply(401, "text/plain; charset=utf-8", msg);
            }
            if req.method() != hyper::Method::GET {
                return change(req, &path, auth.as_deref(), admin.as_deref(), &dir).await;
            }
            match api::answer(&path, auth.as_deref(), admin.as_deref(), &dir, &metrics) {
                api::Answer::Body(code, ctype, body) => http::reply(code, ctype, body),
                api::Answer::Stream(rx) => {
                    http::with_body(200, "text/event-stream", api::EventStream(rx))
                }
            }
        }
    }
}

/// A PUT or DELETE of the tenants API: authorized, its body read (bounded
/// in size and time), handed to the pipeline; its answer.
async fn change(
    req: hyper::Request<hyper::body::Incoming>,
    path: &str,
    auth: Option<&str>,
    admin: Option<&str>,
    dir: &Directory,
) -> http::Reply {
    let text = |code: u16, msg: String| http::reply(code, "text/plain; charset=utf-8", msg);
    let who = match api::authorize_change(req.method(), path, auth, admin, dir) {
        Ok(c) => c,
        Err((code, msg)) => return text(code, msg),
    };
    let kind = if req.method() == hyper::Method::DELETE {
        api::ChangeKind::Remove
    } else {
        let body = match tokio::time::timeout(
            http::BODY_TIMEOUT,
            http::read_limited(req.into_body(), api::MAX_CHANGE_BODY),
        )
        .await
        {
            Ok(Ok(b)) => b,
            Ok(Err((code, msg))) => return text(code, msg.into()),
            Err(_) => return text(408, "body not received in time\n".into()),
        };
        let Ok(body) = String::from_utf8(body) else {
            return text(400, "the body is not UTF-8 text\n".into());
        };
        if who.rules {
            api::ChangeKind::Rules(body)
        } else {
            api::ChangeKind::Entry(body)
        }
    };
    let (code, msg) = dir.change(&who, kind).await;
    text(code, format!("{}\n", msg.trim_end()))
}

/// Status, content type and body of a request to the web server.
fn route(
    method: &hyper::Method,
    path: &str,
    cfg: &ServerConfig,
    metrics: &Metrics,
) -> (u16, &'static str, String) {
    if method != hyper::Method::GET {
        (405, "text/plain", "method not allowed\n".to_string())
    } else if path == cfg.healthz {
        (200, "application/json", r#"{"status":"ok"}"#.to_string())
    } else if path == "/versions" {
        (
            200,
            "application/json",
            versions_json(&cfg.plugins).to_string(),
        )
    } else if path == "/metrics" && cfg.prometheus {
        (200, "text/plain; version=0.0.4", metrics.render())
    } else {
        (404, "text/plain", "not found\n".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
        let mut c = std::net::TcpStream::connect(addr).unwrap();
        write!(c, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
        let mut s = String::new();
        c.read_to_string(&mut s).unwrap();
        let code = s.split_whitespace().nth(1).unwrap().parse().unwrap();
        (code, s.split("\r\n\r\n").nth(1).unwrap_or("").to_string())
    }

    #[test]
    fn endpoints() {
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
        let m = Arc::new(Metrics::default());
        m.add_events("syscall", 5);
        let s = Server::start(&cfg, Arc::clone(&m), Arc::default()).unwrap();
        assert_eq!(
            get(s.addr, "/healthz"),
            (200, r#"{"status":"ok"}"#.to_string())
        );
        let (code, v) = get(s.addr, "/versions");
        assert_eq!(code, 200);
        let v: serde_json::Value = serde_json::from_str(&v).unwrap();
        assert_eq!(v["engine_version_semver"], "0.62.0");
        let (code, text) = get(s.addr, "/metrics");
        assert_eq!(code, 200);
        assert!(
            text.contains("falcosecurity_falco_events_processed_total{source=\"syscall\"} 5"),
            "{text}"
        );
        assert_eq!(get(s.addr, "/nope").0, 404);
    }

    #[test]
    fn https_with_falcos_combined_pem() {
        if !tls_tools() {
            return;
        }
        let dir = std::env::temp_dir().join(format!("fw-tls-{}", std::process::id()));
        let pem = self_signed(&dir);
        let cfg = ServerConfig {
            address: "127.0.0.1".into(),
            port: 0,
            healthz: "/healthz".into(),
            prometheus: false,
            tls_pem: Some(pem),
            plugins: Vec::new(),
            admin_token_sha256: None,
            client_ca: None,
        };
        let s = Server::start(&cfg, Arc::default(), Arc::default()).unwrap();
        let o = std::process::Command::new("curl")
            .args([
                "-sk",
                &format!("https://127.0.0.1:{}/healthz", s.addr.port()),
            ])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&o.stdout), r#"{"status":"ok"}"#);
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// Whether openssl and curl are here to make certificates and speak
    /// TLS (a test without them says it skips).
    fn tls_tools() -> bool {
        let have = |b: &str| std::path::Path::new(b).exists();
        let ok = have("/usr/bin/openssl") && have("/usr/bin/curl");
        if !ok {
            eprintln!("SKIPPED: openssl and curl are needed to make certificates and speak TLS");
        }
        ok
    }

    /// openssl's arguments for a new self-signed certificate and key.
    const SELF_SIGNED: [&str; 7] = [
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
    ];

    /// A self-signed certificate and its key in one PEM file (Falco's
    /// form), made in `dir`.
    fn self_signed(dir: &std::path::Path) -> std::path::PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        let subj = [
            "-subj",
            "/CN=localhost",
            "-keyout",
            "k.pem",
            "-out",
            "c.pem",
        ];
        openssl(dir, &[&SELF_SIGNED[..], &subj[..]].concat());
        let mut both = std::fs::read(dir.join("c.pem")).unwrap();
        both.extend(std::fs::read(dir.join("k.pem")).unwrap());
        let pem = dir.join("falco.pem");
        std::fs::write(&pem, both).unwrap();
        pem
    }

    /// `openssl` with `args` in `dir`.
    fn openssl(dir: &std::path::Path, args: &[&str]) {
        let st = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stderr(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(st.success(), "openssl {args:?}");
    }

    /// A CA `name`.pem/.key and a client certificate it signs,
    /// `name`-client.pem/.key.
    fn ca_and_client(dir: &std::path::Path, name: &str) {
        let (ca, key) = (format!("{name}.pem"), format!("{name}.key"));
        let cn = format!("/CN={name}");
        let subj = ["-subj", &cn, "-keyout", &key, "-out", &ca];
        openssl(dir, &[&SELF_SIGNED[..], &subj[..]].concat());
        std::fs::write(
            dir.join("ext.cnf"),
            "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n",
        )
        .unwrap();
        let (ck, csr, cp) = (
            format!("{name}-client.key"),
            format!("{name}-client.csr"),
            format!("{name}-client.pem"),
        );
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=client",
                "-keyout",
                &ck,
                "-out",
                &csr,
            ],
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                &ca,
                "-CAkey",
                &key,
                "-CAcreateserial",
                "-days",
                "1",
                "-extfile",
                "ext.cnf",
                "-out",
                &cp,
            ],
        );
    }

    #[test]
    fn the_tenants_api_wants_a_client_certificate_of_its_ca() {
        if !tls_tools() {
            return;
        }
        let dir = std::env::temp_dir().join(format!("fw-mtls-{}", std::process::id()));
        let pem = self_signed(&dir);
        ca_and_client(&dir, "ca");
        ca_and_client(&dir, "other");
        let cfg = ServerConfig {
            address: "127.0.0.1".into(),
            port: 0,
            healthz: "/healthz".into(),
            prometheus: false,
            tls_pem: Some(pem),
            plugins: Vec::new(),
            admin_token_sha256: Some(api::token_hash("root")),
            client_ca: Some(dir.join("ca.pem")),
        };
        let s = Server::start(&cfg, Arc::default(), Arc::default()).unwrap();
        let curl = |path: &str, client: Option<&str>| {
            let mut c = std::process::Command::new("curl");
            c.args([
                "-sk",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-H",
                "Authorization: Bearer root",
            ]);
            if let Some(name) = client {
                c.arg("--cert").arg(dir.join(format!("{name}-client.pem")));
                c.arg("--key").arg(dir.join(format!("{name}-client.key")));
            }
            let o = c
                .arg(format!("https://127.0.0.1:{}{path}", s.addr.port()))
                .output()
                .unwrap();
            String::from_utf8_lossy(&o.stdout).to_string()
        };
        assert_eq!(curl("/healthz", None), "200", "probes need no certificate");
        assert_eq!(curl("/api/v1/tenants", None), "401");
        assert_eq!(curl("/api/v1/tenants", Some("ca")), "200");
        assert_eq!(
            curl("/api/v1/tenants", Some("other")),
            "000",
            "another CA's: no handshake"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
