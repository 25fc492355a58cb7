//! The output-related keys of `falco.yaml`, checked, and the channels they
//! describe.

use super::alert::FormatOptions;
use super::nats::{Nats, NatsOptions};
use super::queue::{DEFAULT_QUEUE_BYTES, QueueLimits};
use super::sinks::{self, HttpOptions, Sink};
use crate::config::{Config, ConfigError};
use std::path::PathBuf;
use std::time::Duration;

/// Queue length used when `outputs_queue.capacity` is 0 (Falco: unbounded).
/// A bound keeps memory finite; overflow is counted as drops.
pub const DEFAULT_QUEUE: usize = 100_000;

/// Concurrent requests of the http channel (alerts may arrive out of order
/// across them, as with any HTTP receiver behind a load balancer).
pub const HTTP_CONNECTIONS: usize = 4;

/// The keys that configure the output channels and what alerts look
/// like (a tenant owns them all).
pub const OUTPUT_KEYS: &[&str] = &[
    "json_output",
    "json_include_output_property",
    "json_include_message_property",
    "json_include_output_fields_property",
    "json_include_tags_property",
    "time_format_iso_8601",
    "buffered_outputs",
    "outputs_queue",
    "static_fields",
    "stdout_output",
    "syslog_output",
    "file_output",
    "program_output",
    "http_output",
    "nats_output",
    "output_timeout",
];

/// The output-related part of a configuration, to see whether it changed
/// (a reload restarts the channels only then).
pub fn outputs_key(c: &Config) -> String {
    OUTPUT_KEYS
        .iter()
        .map(|k| format!("{k}={}", c.get(k).cloned().unwrap_or_default()))
        .collect()
}

/// What the outputs do, from the configuration.
#[derive(Clone, Debug)]
pub struct OutputsConfig {
    /// Rendering.
    pub format: FormatOptions,
    /// `buffered_outputs`.
    pub buffered: bool,
    /// Per-channel queue length (`outputs_queue.capacity`).
    pub queue: usize,
    /// Per-channel queue size in bytes (`outputs_queue.max_bytes`, this
    /// project's key; 0 or absent: [`DEFAULT_QUEUE_BYTES`]).
    pub queue_bytes: usize,
    /// `static_fields`: added to every alert's `output_fields`.
    pub static_fields: Vec<(String, String)>,
    /// `stdout_output.enabled`.
    pub stdout: bool,
    /// `file_output`: (filename, keep_alive).
    pub file: Option<(PathBuf, bool)>,
    /// `syslog_output.enabled` (the socket).
    pub syslog: Option<PathBuf>,
    /// `program_output`: (program, keep_alive).
    pub program: Option<(String, bool)>,
    /// `http_output`.
    pub http: Option<HttpOptions>,
    /// `nats_output`.
    pub nats: Option<NatsOptions>,
}

impl OutputsConfig {
    /// Reads and checks the keys (defaults as Falco's falco.yaml).
    pub fn from_config(c: &Config) -> Result<OutputsConfig, ConfigError> {
        let format = format_options(c)?;
        let buffered = c.bool_at("buffered_outputs", false)?;
        let queue = match c.u64_at("outputs_queue.capacity", 0)? {
            0 => DEFAULT_QUEUE,
            n => n as usize,
        };
        let queue_bytes = match c.u64_at("outputs_queue.max_bytes", 0)? {
            0 => DEFAULT_QUEUE_BYTES,
            n => usize::try_from(n).unwrap_or(usize::MAX),
        };
        let static_fields = static_fields(c)?;
        let file = file_output(c)?;
        let program = program_output(c)?;
        let http = http_output(c)?;
        let nats = nats_output(c)?;
        Ok(OutputsConfig {
            format,
            buffered,
            queue,
            queue_bytes,
            static_fields,
            stdout: c.bool_at("stdout_output.enabled", true)?,
            file,
            syslog: c
                .bool_at("syslog_output.enabled", true)?
                .then(|| PathBuf::from("/dev/log")),
            program,
            http,
            nats,
        })
    }

    /// The bounds of each channel's queue (for [`super::Outputs::start_with`]).
    pub fn queue_limits(&self) -> QueueLimits {
        QueueLimits {
            alerts: self.queue.max(1),
            bytes: self.queue_bytes.max(1),
        }
    }

    /// Builds the enabled channels (an https channel with unreadable
    /// certificates is an error naming the file).
    pub fn sinks(&self) -> Result<Vec<Box<dyn Sink>>, ConfigError> {
        let mut v: Vec<Box<dyn Sink>> = Vec::new();
        if self.stdout {
            v.push(Box::new(sinks::Stdout {
                buffered: self.buffered,
            }));
        }
        if let Some((path, keep_alive)) = &self.file {
            v.push(Box::new(sinks::File::new(
                path.clone(),
                *keep_alive,
                self.buffered,
            )));
        }
        if let Some(sock) = &self.syslog {
            v.push(Box::new(sinks::Syslog::new(sock.clone())));
        }
        if let Some((prog, keep_alive)) = &self.program {
            v.push(Box::new(sinks::Program::new(prog.clone(), *keep_alive)));
        }
        if let Some(h) = &self.http {
            v.push(Box::new(
                sinks::Http::new(h.clone())
                    .map_err(|e| ConfigError::key("http_output", e.to_string()))?,
            ));
        }
        if let Some(n) = &self.nats {
            v.push(Box::new(Nats::new(n.clone())));
        }
        Ok(v)
    }
}

/// How alerts are rendered (`json_output` and its `json_include_*` keys).
fn format_options(c: &Config) -> Result<FormatOptions, ConfigError> {
    Ok(FormatOptions {
        json: c.json_output,
        iso8601: c.bool_at("time_format_iso_8601", false)?,
        include_output: c.bool_at("json_include_output_property", true)?,
        include_message: c.bool_at("json_include_message_property", false)?,
        include_output_fields: c.bool_at("json_include_output_fields_property", true)?,
        include_tags: c.bool_at("json_include_tags_property", true)?,
    })
}

/// `static_fields`: name → value (non-strings as JSON text).
fn static_fields(c: &Config) -> Result<Vec<(String, String)>, ConfigError> {
    match c.get("static_fields") {
        None | Some(serde_json::Value::Null) => Ok(Vec::new()),
        Some(serde_json::Value::Object(m)) => Ok(m
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str().map_or_else(|| v.to_string(), str::to_string),
                )
            })
            .collect()),
        Some(v) => Err(ConfigError::key(
            "static_fields",
            format!("expected a mapping, got {v}"),
        )),
    }
}

/// `file_output`: the file and whether it stays open.
fn file_output(c: &Config) -> Result<Option<(PathBuf, bool)>, ConfigError> {
    if !c.bool_at("file_output.enabled", false)? {
        return Ok(None);
    }
    let name = c
        .str_at("file_output.filename")?
        .unwrap_or_else(|| "./events.txt".into());
    Ok(Some((
        PathBuf::from(name),
        c.bool_at("file_output.keep_alive", false)?,
    )))
}

/// The subject of the top level's alerts when `nats_output.subject` is
/// not given (a tenant's is `falco.alerts.<tenant>`).
pub const DEFAULT_NATS_SUBJECT: &str = "falco.alerts.default";

/// `nats_output`: the server and the subject.
fn nats_output(c: &Config) -> Result<Option<NatsOptions>, ConfigError> {
    if !c.bool_at("nats_output.enabled", false)? {
        return Ok(None);
    }
    let url = c
        .str_at("nats_output.url")?
        .unwrap_or_else(|| "nats://127.0.0.1:4222".into());
    let subject = c
        .str_at("nats_output.subject")?
        .unwrap_or_else(|| DEFAULT_NATS_SUBJECT.into());
    NatsOptions::new(&url, &subject)
        .map(Some)
        .map_err(|e| ConfigError::key("nats_output", e))
}

/// `program_output`: the command and whether it stays running.
fn program_output(c: &Config) -> Result<Option<(String, bool)>, ConfigError> {
    if !c.bool_at("program_output.enabled", false)? {
        return Ok(None);
    }
    let p = c
        .str_at("program_output.program")?
        .filter(|p| !p.trim().is_empty())
        .ok_or_else(|| {
            ConfigError::key(
                "program_output.program",
                "required when program_output is enabled",
            )
        })?;
    Ok(Some((p, c.bool_at("program_output.keep_alive", false)?)))
}

/// `http_output`: the URL, TLS settings and client options.
fn http_output(c: &Config) -> Result<Option<HttpOptions>, ConfigError> {
    if !c.bool_at("http_output.enabled", false)? {
        return Ok(None);
    }
    let url = c
        .str_at("http_output.url")?
        .filter(|u| !u.is_empty())
        .ok_or_else(|| {
            ConfigError::key("http_output.url", "required when http_output is enabled")
        })?;
    if !url.starts_with("http://") && !url.starts_with("https://") {
        return Err(ConfigError::key(
            "http_output.url",
            format!("expected an http:// or https:// URL, got '{url}'"),
        ));
    }
    let path = |k: &str| -> Result<Option<PathBuf>, ConfigError> {
        Ok(c.str_at(k)?.filter(|s| !s.is_empty()).map(PathBuf::from))
    };
    let client_cert = if c.bool_at("http_output.mtls", false)? {
        Some((
            path("http_output.client_cert")?.unwrap_or_else(|| "/etc/ssl/certs/client.crt".into()),
            path("http_output.client_key")?.unwrap_or_else(|| "/etc/ssl/certs/client.key".into()),
        ))
    } else {
        None
    };
    Ok(Some(HttpOptions {
        url,
        user_agent: c
            .str_at("http_output.user_agent")?
            .unwrap_or_else(|| format!("falco-wasm/{}", env!("CARGO_PKG_VERSION"))),
        insecure: c.bool_at("http_output.insecure", false)?,
        ca_cert: path("http_output.ca_cert")?,
        ca_bundle: path("http_output.ca_bundle")?,
        ca_path: path("http_output.ca_path")?.filter(|p| p.is_dir()),
        client_cert,
        echo: c.bool_at("http_output.echo", false)?,
        compress: c.bool_at("http_output.compress_uploads", false)?,
        keep_alive: c.bool_at("http_output.keep_alive", true)?,
        json: c.json_output,
        timeout: Duration::from_millis(c.u64_at("output_timeout", 2000)?),
        attempts: 4,
        connections: HTTP_CONNECTIONS,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_bounds() {
        let c = Config::load(None, &[]).unwrap();
        let o = OutputsConfig::from_config(&c).unwrap();
        assert_eq!(
            o.queue_limits(),
            QueueLimits {
                alerts: DEFAULT_QUEUE,
                bytes: DEFAULT_QUEUE_BYTES
            }
        );
        let c = Config::load(
            None,
            &[
                "outputs_queue.capacity=500".into(),
                "outputs_queue.max_bytes=1048576".into(),
            ],
        )
        .unwrap();
        let o = OutputsConfig::from_config(&c).unwrap();
        assert_eq!(
            o.queue_limits(),
            QueueLimits {
                alerts: 500,
                bytes: 1 << 20
            }
        );
    }
}
