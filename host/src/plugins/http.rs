//! The `http` host import: outbound HTTP(S) requests made by the host on a
//! plugin's behalf, only to the hosts its operator granted. The check is
//! done here, before anything is sent; the plugin never holds a socket.

use std::io::Read;
use std::time::Duration;

/// (status, headers, body).
pub type Response = (u16, Vec<(String, String)>, Vec<u8>);

/// `scheme://host[:port]/…` → (https?, host, port).
fn authority(url: &str) -> Option<(bool, String, u16)> {
    let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else {
        (false, url.strip_prefix("http://")?)
    };
    let auth = rest.split(['/', '?', '#']).next()?;
    if auth.contains('@') || auth.is_empty() {
        return None; // no credentials in URLs
    }
    let (host, port) = match auth.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || auth.starts_with('[') => {
            (h.to_string(), p.parse().ok()?)
        }
        _ => (auth.to_string(), if tls { 443 } else { 80 }),
    };
    Some((tls, host.to_ascii_lowercase(), port))
}

/// Whether `url` is on the allowlist: an entry `host` allows the scheme's
/// default port, `host:port` that port.
pub fn allowed(hosts: &[String], url: &str) -> bool {
    let Some((tls, host, port)) = authority(url) else {
        return false;
    };
    let default = if tls { 443 } else { 80 };
    hosts.iter().any(|h| {
        let h = h.to_ascii_lowercase();
        h == format!("{host}:{port}") || (h == host && port == default)
    })
}

/// Whether `s` is an HTTP token (RFC 9110 `tchar`s): what a method or a
/// header name may be.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Headers that frame the message or the connection: the host sets them
/// (from the body it is given), never the plugin — a `Content-Length: 0`
/// with a body holding a second request would smuggle that request to the
/// granted address.
fn is_framing(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "content-length"
            | "transfer-encoding"
            | "connection"
            | "upgrade"
            | "te"
            | "trailer"
            | "keep-alive"
            | "expect"
    ) || n.starts_with("proxy-")
}

/// Checks what the plugin wants to send: a method that is a token, header
/// names that are tokens, header values without control characters (no
/// CR/LF: nothing can be smuggled into the request), no framing header
/// ([`is_framing`]), and no `Host` of its own unless it names the URL's
/// host (a granted address must not reach other virtual hosts behind it).
fn check_request(method: &str, url: &str, headers: &[(String, String)]) -> Result<(), String> {
    if !is_token(method) {
        return Err("the method is not an HTTP token; nothing was sent".into());
    }
    let (tls, host, port) = authority(url).ok_or("not an http(s) URL")?;
    for (name, value) in headers {
        if !is_token(name) {
            return Err("a header name is not an HTTP token; nothing was sent".into());
        }
        if is_framing(name) {
            return Err(format!(
                "header {name} is set by the host, not the plugin; nothing was sent"
            ));
        }
        if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
            return Err(format!(
                "header {name}: control characters in the value; nothing was sent"
            ));
        }
        if name.eq_ignore_ascii_case("host") {
            let v = value.trim().to_ascii_lowercase();
            let default = if tls { 443 } else { 80 };
            if v != host && v != format!("{host}:{port}") || (v == host && port != default) {
                return Err(format!(
                    "Host header '{value}' differs from the URL's host; nothing was sent"
                ));
            }
        }
    }
    Ok(())
}

/// Sends the request if `url`'s host is granted and the request is well
/// formed; `timeout` bounds the whole exchange.
pub fn request(
    hosts: &[String],
    timeout: Duration,
    max_body: u64,
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<Response, String> {
    if !allowed(hosts, url) {
        let host = authority(url).map_or_else(|| url.to_string(), |(_, h, p)| format!("{h}:{p}"));
        return Err(format!(
            "{host} is not among the hosts granted to this plugin"
        ));
    }
    check_request(method, url, headers)?;
    let agent = ureq::AgentBuilder::new()
        .timeout(timeout)
        .redirects(0)
        .build();
    let mut req = agent.request(method, url);
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let resp = match if body.is_empty() {
        req.call()
    } else {
        req.send_bytes(body)
    } {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => return Err(e.to_string()),
    };
    let status = resp.status();
    let names = resp.headers_names();
    let headers = names
        .iter()
        .filter_map(|n| resp.header(n).map(|v| (n.clone(), v.to_string())))
        .collect();
    let mut out = Vec::new();
    resp.into_reader()
        .take(max_body + 1)
        .read_to_end(&mut out)
        .map_err(|e| e.to_string())?;
    if out.len() as u64 > max_body {
        return Err(format!("response body over {max_body} bytes"));
    }
    Ok((status, headers, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowlist() {
        let hosts = vec!["s3.amazonaws.com".to_string(), "127.0.0.1:5000".to_string()];
        assert!(allowed(
            &hosts,
            "https://s3.amazonaws.com/bucket?list-type=2"
        ));
        assert!(!allowed(&hosts, "http://s3.amazonaws.com:8080/"));
        assert!(allowed(&hosts, "http://127.0.0.1:5000/x"));
        assert!(!allowed(&hosts, "http://127.0.0.1:5001/x"));
        assert!(!allowed(&hosts, "http://127.0.0.1/x"));
        assert!(!allowed(&hosts, "http://evil.example/?h=s3.amazonaws.com"));
        assert!(!allowed(&hosts, "http://s3.amazonaws.com@evil.example/"));
        assert!(!allowed(&hosts, "file:///etc/shadow"));
        let e = request(
            &hosts,
            Duration::from_secs(1),
            10,
            "GET",
            "http://10.0.0.1/",
            &[],
            &[],
        )
        .unwrap_err();
        assert_eq!(
            e,
            "10.0.0.1:80 is not among the hosts granted to this plugin"
        );
    }

    #[test]
    fn requests_that_would_smuggle_or_reach_other_hosts_are_refused() {
        let url = "http://127.0.0.1:5000/x";
        let h = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
        assert!(check_request("GET", url, &[]).is_ok());
        assert!(check_request("PUT", url, &h("Host", "127.0.0.1:5000")).is_ok());
        assert!(check_request("GET / HTTP/1.1\r\nX: y\r\n\r\nGET", url, &[]).is_err());
        assert!(check_request("GET\n", url, &[]).is_err());
        assert!(check_request("", url, &[]).is_err());
        assert!(check_request("GET", url, &h("Host", "internal.example")).is_err());
        assert!(check_request("GET", url, &h("hOsT", "127.0.0.1")).is_err());
        assert!(check_request("GET", url, &h("X-A", "a\r\nInjected: yes")).is_err());
        assert!(check_request("GET", url, &h("X A", "b")).is_err());
        for framing in [
            "Content-Length",
            "transfer-encoding",
            "Connection",
            "Proxy-Authorization",
        ] {
            assert!(
                check_request("POST", url, &h(framing, "0")).is_err(),
                "{framing}"
            );
        }
        let https = "https://s3.amazonaws.com/b";
        assert!(check_request("GET", https, &h("Host", "s3.amazonaws.com")).is_ok());
        assert!(check_request("GET", https, &h("Host", "s3.amazonaws.com:443")).is_ok());
    }
}
