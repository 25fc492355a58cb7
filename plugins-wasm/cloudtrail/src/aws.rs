//! S3 and SQS through the host's `http` import: AWS Signature Version 4,
//! ListObjectsV2, GetObject, and SQS's query API (GetQueueUrl,
//! ReceiveMessage, DeleteMessage). Credentials come from the environment
//! the operator passed to this plugin (`grants.env`), never from anywhere
//! else; the endpoint can point at a local S3/SQS server.

use guest_sdk::json::{self, Doc};
use sha2::{Digest, Sha256};

/// Where and as whom to call AWS.
#[derive(Clone, Debug)]
pub(crate) struct Aws {
    pub(crate) region: String,
    /// `http://127.0.0.1:5000` for a local server; AWS's own otherwise.
    pub(crate) endpoint: Option<String>,
    key_id: String,
    secret: String,
    token: Option<String>,
}

impl Aws {
    /// From the init config (`awsRegion`, `awsEndpoint`) and the granted
    /// environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_SESSION_TOKEN`, `AWS_REGION`).
    pub(crate) fn new(region: Option<String>, endpoint: Option<String>) -> Result<Aws, String> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let key_id = env("AWS_ACCESS_KEY_ID").ok_or(
            "no AWS credentials: grant AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to this plugin (plugins[].grants.env)",
        )?;
        let secret = env("AWS_SECRET_ACCESS_KEY").ok_or("AWS_SECRET_ACCESS_KEY is not granted")?;
        Ok(Aws {
            region: region
                .or_else(|| env("AWS_REGION"))
                .or_else(|| env("AWS_DEFAULT_REGION"))
                .unwrap_or_else(|| "us-east-1".into()),
            endpoint: endpoint.map(|e| e.trim_end_matches('/').to_string()),
            key_id,
            secret,
            token: env("AWS_SESSION_TOKEN"),
        })
    }

    fn base(&self, service: &str) -> String {
        self.endpoint
            .clone()
            .unwrap_or_else(|| format!("https://{service}.{}.amazonaws.com", self.region))
    }

    /// A signed request; errors for transport failures and non-2xx statuses.
    fn call(
        &self,
        service: &str,
        method: &str,
        url: &str,
        extra: &[(String, String)],
        body: &[u8],
    ) -> Result<Vec<u8>, String> {
        let headers = self.sign(service, method, url, extra, body, now())?;
        let r = guest_sdk::http(method, url, &headers, body)?;
        if !(200..300).contains(&r.status) {
            let text = String::from_utf8_lossy(&r.body);
            let code = xml_values(&text, "Code")
                .into_iter()
                .next()
                .unwrap_or_default();
            return Err(format!("{method} {url}: HTTP {} {code}", r.status));
        }
        Ok(r.body)
    }

    /// The SigV4 headers for a request (plus `extra`).
    fn sign(
        &self,
        service: &str,
        method: &str,
        url: &str,
        extra: &[(String, String)],
        body: &[u8],
        (date, amz_date): (String, String),
    ) -> Result<Vec<(String, String)>, String> {
        let rest = url
            .split_once("://")
            .map(|(_, r)| r)
            .ok_or_else(|| format!("bad URL {url}"))?;
        let (host, path_query) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (path, query) = path_query.split_once('?').unwrap_or((path_query, ""));
        let mut params: Vec<(String, String)> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k.to_string(), v.to_string())
            })
            .collect();
        params.sort();
        let canonical_query = params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let payload = hex(&Sha256::digest(body));
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), host.to_string()),
            ("x-amz-content-sha256".into(), payload.clone()),
            ("x-amz-date".into(), amz_date.clone()),
        ];
        if let Some(t) = &self.token {
            headers.push(("x-amz-security-token".into(), t.clone()));
        }
        headers.extend(
            extra
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_string())),
        );
        headers.sort();
        let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
        let signed: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
        let signed = signed.join(";");
        let request = format!(
            "{method}\n{path}\n{canonical_query}\n{canonical_headers}\n{signed}\n{payload}"
        );
        let scope = format!("{date}/{}/{service}/aws4_request", self.region);
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            hex(&Sha256::digest(request.as_bytes()))
        );
        let k = hmac(format!("AWS4{}", self.secret).as_bytes(), date.as_bytes());
        let k = hmac(&k, self.region.as_bytes());
        let k = hmac(&k, service.as_bytes());
        let k = hmac(&k, b"aws4_request");
        let signature = hex(&hmac(&k, to_sign.as_bytes()));
        headers.push((
            "authorization".into(),
            format!(
                "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={signature}",
                self.key_id
            ),
        ));
        // The host header is set by the HTTP client from the URL.
        headers.retain(|(k, _)| k != "host");
        Ok(headers)
    }

    /// Every key below `prefix` in `bucket` (ListObjectsV2, all pages).
    pub(crate) fn list_keys(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, String> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut url = format!(
                "{}/{}?list-type=2&prefix={}",
                self.base("s3"),
                bucket,
                uri_encode(prefix, true)
            );
            if let Some(t) = &token {
                url.push_str(&format!("&continuation-token={}", uri_encode(t, true)));
            }
            let body = self.call("s3", "GET", &url, &[], &[])?;
            let text = String::from_utf8_lossy(&body);
            keys.extend(xml_values(&text, "Key"));
            token = xml_values(&text, "NextContinuationToken")
                .into_iter()
                .next();
            if xml_values(&text, "IsTruncated").first().map(String::as_str) != Some("true")
                || token.is_none()
            {
                return Ok(keys);
            }
        }
    }

    /// An object's bytes.
    pub(crate) fn get_object(&self, bucket: &str, key: &str) -> Result<Vec<u8>, String> {
        let url = format!("{}/{}/{}", self.base("s3"), bucket, uri_encode(key, false));
        self.call("s3", "GET", &url, &[], &[])
    }

    /// The URL of a queue given by name (or already a URL).
    pub(crate) fn queue_url(&self, queue: &str) -> Result<String, String> {
        if queue.starts_with("http://") || queue.starts_with("https://") {
            return Ok(queue.to_string());
        }
        let body = format!(
            "Action=GetQueueUrl&QueueName={}&Version=2012-11-05",
            uri_encode(queue, true)
        );
        let text = self.sqs(&format!("{}/", self.base("sqs")), &body)?;
        xml_values(&text, "QueueUrl")
            .into_iter()
            .next()
            .ok_or_else(|| format!("no queue named {queue}"))
    }

    /// Up to 10 messages: (receipt handle, body).
    pub(crate) fn receive(&self, queue_url: &str) -> Result<Vec<(String, String)>, String> {
        let text = self.sqs(
            queue_url,
            "Action=ReceiveMessage&MaxNumberOfMessages=10&WaitTimeSeconds=0&Version=2012-11-05",
        )?;
        let handles = xml_values(&text, "ReceiptHandle");
        let bodies = xml_values(&text, "Body");
        Ok(handles.into_iter().zip(bodies).collect())
    }

    pub(crate) fn delete(&self, queue_url: &str, handle: &str) -> Result<(), String> {
        let body = format!(
            "Action=DeleteMessage&ReceiptHandle={}&Version=2012-11-05",
            uri_encode(handle, true)
        );
        self.sqs(queue_url, &body).map(drop)
    }

    fn sqs(&self, url: &str, form: &str) -> Result<String, String> {
        let ct = [(
            "content-type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        )];
        let body = self.call("sqs", "POST", url, &ct, form.as_bytes())?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }
}

/// The objects an S3 event notification names (directly, or wrapped in an
/// SNS notification): (bucket, key).
pub(crate) fn notified_objects(body: &str) -> Vec<(String, String)> {
    let Some(mut d) = Doc::parse(body.as_bytes()) else {
        return Vec::new();
    };
    if let Some(inner) = d.text_at("Message") {
        return notified_objects(&inner);
    }
    let Some(records) = d.raw_at_path("Records").and_then(json::split_array) else {
        return Vec::new();
    };
    records
        .into_iter()
        .filter_map(|r| {
            let mut r = Doc::parse(r.as_bytes())?;
            let bucket = r.text_at("s3.bucket.name")?;
            let key = r.text_at("s3.object.key")?;
            Some((bucket, url_decode(&key)))
        })
        .collect()
}

/// The text of every `<tag>…</tag>`, entities decoded.
pub(crate) fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push(
            after[..j]
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&#13;", "\r")
                .replace("&#10;", "\n")
                .replace("&amp;", "&"),
        );
        rest = &after[j + close.len()..];
    }
    out
}

/// RFC 3986 encoding as SigV4 wants it (`/` kept in paths).
fn uri_encode(s: &str, slash: bool) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b'/' if !slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// S3 notification keys are form-encoded (`+` for spaces).
fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                Ok(v) => {
                    out.push(v);
                    i += 2;
                }
                Err(_) => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// HMAC-SHA256 (RFC 2104).
fn hmac(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|x| x ^ 0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(k.map(|x| x ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().to_vec()
}

/// (YYYYMMDD, YYYYMMDDTHHMMSSZ) now, UTC.
fn now() -> (String, String) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let (y, m, d) = guest_sdk::time::civil_from_days(days);
    let date = format!("{y:04}{m:02}{d:02}");
    let stamp = format!(
        "{date}T{:02}{:02}{:02}Z",
        tod / 3600,
        (tod / 60) % 60,
        tod % 60
    );
    (date, stamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_and_signature_match_aws_examples() {
        // RFC 4231 test case 2.
        assert_eq!(
            hex(&hmac(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // AWS's documented GET-object example (Signature Version 4, S3).
        let aws = Aws {
            region: "us-east-1".into(),
            endpoint: None,
            key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            token: None,
        };
        let h = aws
            .sign(
                "s3",
                "GET",
                "https://examplebucket.s3.amazonaws.com/test.txt",
                &[("Range".into(), "bytes=0-9".into())],
                b"",
                ("20130524".into(), "20130524T000000Z".into()),
            )
            .unwrap();
        let auth = &h.iter().find(|(k, _)| k == "authorization").unwrap().1;
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    #[test]
    fn notifications_and_xml() {
        let direct = r#"{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"trail"},"object":{"key":"AWSLogs/1/a+b%3D.json.gz"}}}]}"#;
        assert_eq!(
            notified_objects(direct),
            vec![("trail".to_string(), "AWSLogs/1/a b=.json.gz".to_string())]
        );
        let sns = serde_json_string(direct);
        let wrapped = format!(r#"{{"Type":"Notification","Message":{sns}}}"#);
        assert_eq!(notified_objects(&wrapped).len(), 1);
        assert_eq!(
            xml_values("<a><Key>x&amp;y</Key><Key>z</Key></a>", "Key"),
            vec!["x&y", "z"]
        );
    }

    fn serde_json_string(s: &str) -> String {
        guest_sdk::serde_json::to_string(s).unwrap()
    }
}
