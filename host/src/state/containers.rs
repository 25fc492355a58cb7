//! Containers: the id from a process's cgroup names, and name, image,
//! privileged flag, mounts and start time from the container runtime's
//! Docker-compatible API (Docker's socket, or podman's `podman system service`).
//!
//! A lookup happens once per new container id, with a short timeout; an
//! absent or silent runtime leaves the metadata fields `<NA>`.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Sockets tried when none is configured, in order.
pub const DEFAULT_SOCKETS: &[&str] = &[
    "/run/podman/podman.sock",
    "/var/run/docker.sock",
    "/run/docker.sock",
];

/// What the runtime says about a container.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContainerInfo {
    /// Container name (without Docker's leading `/`).
    pub name: Option<String>,
    /// Image as given at creation (`repo:tag`).
    pub image: Option<String>,
    /// Image id (sha256 hex, without the prefix).
    pub image_id: Option<String>,
    /// Started with `--privileged`.
    pub privileged: Option<bool>,
    /// Start time, ns since the epoch.
    pub start_ns: Option<i64>,
    /// Mounts: (source, destination, mode, read-write).
    pub mounts: Vec<(String, String, String, bool)>,
    /// Runtime type (`podman`, `docker`).
    pub runtime: Option<String>,
    /// Labels.
    pub labels: Vec<(String, String)>,
    /// Host network, pid and ipc namespaces shared.
    pub host_network: Option<bool>,
    /// `--pid=host`.
    pub host_pid: Option<bool>,
    /// `--ipc=host`.
    pub host_ipc: Option<bool>,
    /// IP address on its first network.
    pub ip: Option<String>,
    /// Image digest (`sha256:...`).
    pub image_digest: Option<String>,
    /// The container's root filesystem on the host (overlay merged dir).
    pub root_dir: Option<String>,
    /// The image's tag when the source gives it apart from the image name
    /// (a capture's `imagetag`).
    pub image_tag: Option<String>,
}

impl ContainerInfo {
    /// A label's value.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

impl ContainerInfo {
    /// `container.image.repository`.
    pub fn repository(&self) -> Option<&str> {
        self.image.as_deref().map(|i| split_image(i).0)
    }

    /// `container.image.tag`.
    pub fn tag(&self) -> Option<&str> {
        self.image
            .as_deref()
            .and_then(|i| split_image(i).1)
            .or(self.image_tag.as_deref())
    }
}

/// Splits `repo[:tag][@digest]` (a registry port's colon is not a tag).
fn split_image(image: &str) -> (&str, Option<&str>) {
    let image = image.split('@').next().unwrap_or(image);
    match image.rfind(':') {
        Some(i) if !image[i..].contains('/') => (&image[..i], Some(&image[i + 1..])),
        _ => (image, None),
    }
}

/// Finds a 64-hex container id in cgroup leaf names: `libpod-ID`,
/// `libpod-ID.scope`, `docker-ID.scope`, `cri-containerd-ID.scope`,
/// `crio-ID.scope`, or a bare `ID`.
pub fn container_id_from_cgroups<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<String> {
    for name in names {
        let name = name.strip_suffix(".scope").unwrap_or(name);
        let tail = name.rsplit('-').next().unwrap_or(name);
        if tail.len() == 64 && tail.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Some(tail.to_ascii_lowercase());
        }
    }
    None
}

/// Container metadata lookups, cached per id.
#[derive(Debug)]
pub struct Containers {
    sockets: Vec<PathBuf>,
    timeout: Duration,
    /// Id → (metadata, when asked, when first seen).
    cache: HashMap<String, (ContainerInfo, Instant, Instant)>,
}

/// How long after an incomplete answer the runtime is asked again: soon
/// in the first seconds of a container with no metadata at all (the
/// runtime was busy starting it, and a tenant's scope by name or image
/// needs it for the container's first events), else once a second
/// (created, not started yet; or unknown to the runtime).
fn retry_after(info: &ContainerInfo, seen_for: Duration) -> Duration {
    if info.name.is_none() && info.image.is_none() && seen_for < Duration::from_secs(5) {
        Duration::from_millis(50)
    } else {
        Duration::from_secs(1)
    }
}

/// Bound on cached containers.
const MAX_CONTAINERS: usize = 4096;

impl Containers {
    /// Lookups through `sockets` (tried in order).
    pub fn new(sockets: Vec<PathBuf>, timeout: Duration) -> Containers {
        Containers {
            sockets,
            timeout,
            cache: HashMap::new(),
        }
    }

    /// Metadata for a (full, 64-hex) id, asking the runtime the first time.
    /// A container seen before it started (no start time yet, or unknown to
    /// the runtime) is asked again (see [`retry_after`]).
    pub fn info(&mut self, id: &str) -> &ContainerInfo {
        let now = Instant::now();
        let first_seen = match self.cache.get(id) {
            None => now,
            Some((info, at, first)) => {
                if info.start_ns.is_some() || at.elapsed() < retry_after(info, first.elapsed()) {
                    return &self.cache[id].0;
                }
                *first
            }
        };
        if self.cache.len() >= MAX_CONTAINERS {
            self.cache.clear();
        }
        let info = self.query(id).unwrap_or_default();
        self.cache.insert(id.to_string(), (info, now, first_seen));
        &self.cache[id].0
    }

    /// Cached metadata, without asking. Metadata known by a short id
    /// (the 12-hex form captures use) answers for the full id too.
    pub fn cached(&self, id: &str) -> Option<&ContainerInfo> {
        self.cache
            .get(id)
            .or_else(|| self.cache.get(id.get(..12)?))
            .map(|(i, ..)| i)
    }

    /// Metadata learned elsewhere (a capture's container events); it is
    /// not asked for again.
    pub fn insert(&mut self, id: &str, info: ContainerInfo) {
        if self.cache.len() >= MAX_CONTAINERS {
            self.cache.clear();
        }
        let now = Instant::now();
        self.cache.insert(id.to_string(), (info, now, now));
    }

    /// Every cached container.
    pub fn all(&self) -> impl Iterator<Item = (&str, &ContainerInfo)> {
        self.cache
            .iter()
            .map(|(id, (info, ..))| (id.as_str(), info))
    }

    fn query(&self, id: &str) -> Option<ContainerInfo> {
        self.sockets.iter().find_map(|s| {
            let body = http_get(s, &format!("/containers/{id}/json"), self.timeout)?;
            let v: serde_json::Value = serde_json::from_slice(&body).ok()?;
            let mut info = parse_inspect(&v)?;
            info.runtime = Some(
                if s.to_string_lossy().contains("podman") {
                    "podman"
                } else {
                    "docker"
                }
                .to_string(),
            );
            Some(info)
        })
    }
}

/// libs' container type numbers (`sinsp_container_type`) by runtime
/// name, as capture files carry them.
pub const CONTAINER_TYPES: &[(&str, u64)] = &[
    ("docker", 0),
    ("cri", 6),
    ("containerd", 7),
    ("cri-o", 8),
    ("podman", 11),
];

/// Reads the fields we use from a `GET /containers/ID/json` answer.
pub fn parse_inspect(v: &serde_json::Value) -> Option<ContainerInfo> {
    v.get("Id")?;
    let s = |p: &str| v.pointer(p).and_then(|x| x.as_str()).map(str::to_string);
    let mounts = v
        .get("Mounts")
        .and_then(|m| m.as_array())
        .map(|a| {
            a.iter()
                .map(|m| {
                    let f = |k: &str| m.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
                    (
                        f("Source"),
                        f("Destination"),
                        f("Mode"),
                        m.get("RW").and_then(|x| x.as_bool()).unwrap_or(false),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Some(ContainerInfo {
        name: s("/Name").map(|n| n.trim_start_matches('/').to_string()),
        image: s("/Config/Image").or_else(|| s("/ImageName")),
        image_id: s("/Image").map(|i| i.trim_start_matches("sha256:").to_string()),
        privileged: v
            .pointer("/HostConfig/Privileged")
            .and_then(|x| x.as_bool()),
        start_ns: s("/State/StartedAt").and_then(|t| parse_rfc3339_ns(&t)),
        mounts,
        runtime: None,
        labels: v
            .pointer("/Config/Labels")
            .and_then(|l| l.as_object())
            .map(|o| {
                o.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default(),
        host_network: s("/HostConfig/NetworkMode").map(|m| m == "host"),
        host_pid: s("/HostConfig/PidMode").map(|m| m == "host"),
        host_ipc: s("/HostConfig/IpcMode").map(|m| m == "host"),
        ip: s("/NetworkSettings/IPAddress").filter(|i| !i.is_empty()),
        root_dir: s("/GraphDriver/Data/MergedDir"),
        image_tag: None,
        image_digest: v
            .pointer("/ImageDigest")
            .and_then(|x| x.as_str())
            .map(str::to_string),
    })
}

/// A minimal HTTP/1.0 GET over a unix socket; `None` on any failure.
fn http_get(socket: &PathBuf, path: &str, timeout: Duration) -> Option<Vec<u8>> {
    let mut s = UnixStream::connect(socket).ok()?;
    s.set_read_timeout(Some(timeout)).ok()?;
    s.set_write_timeout(Some(timeout)).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut buf = Vec::new();
    s.take(4 << 20).read_to_end(&mut buf).ok()?;
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let status = std::str::from_utf8(&buf[..head_end])
        .ok()?
        .split_whitespace()
        .nth(1)?;
    (status == "200").then(|| buf[head_end + 4..].to_vec())
}

/// `2026-11-22T18:31:42.123456789Z` or with a `+hh:mm` offset → ns since
/// the epoch; `None` for runtimes' "0001-01-01T00:00:00Z" ("not yet").
pub fn parse_rfc3339_ns(t: &str) -> Option<i64> {
    guest_sdk::time::parse_rfc3339_ns(t).filter(|&t| t > 0)
}

/// A container as the libraries describe it in a capture's container
/// event (`{"container": {"id", "name", "image", "imageid", "privileged",
/// "Mounts", "labels", "ip", ...}}`): its id and metadata.
pub fn parse_capture_json(v: &serde_json::Value) -> Option<(String, ContainerInfo)> {
    let c = v.get("container")?;
    let s = |k: &str| {
        c.get(k)
            .and_then(|x| x.as_str())
            .filter(|x| !x.is_empty())
            .map(str::to_string)
    };
    let id = s("id")?;
    let mounts = c
        .get("Mounts")
        .and_then(|m| m.as_array())
        .map(|m| {
            m.iter()
                .map(|m| {
                    let f = |k: &str| m.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
                    let rw = m.get("RW").and_then(|x| x.as_bool()).unwrap_or(false);
                    (f("Source"), f("Destination"), f("Mode"), rw)
                })
                .collect()
        })
        .unwrap_or_default();
    let labels = c
        .get("labels")
        .and_then(|l| l.as_object())
        .map(|l| {
            l.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default();
    let info = ContainerInfo {
        name: s("name"),
        image: s("image"),
        image_id: s("imageid"),
        privileged: c.get("privileged").and_then(|x| x.as_bool()),
        mounts,
        labels,
        ip: s("ip"),
        image_digest: s("imagedigest"),
        image_tag: s("imagetag"),
        start_ns: c
            .get("created_time_ns")
            .and_then(|x| x.as_i64())
            .or_else(|| {
                let s = c.get("created_time")?.as_i64()?;
                Some(s.saturating_mul(1_000_000_000))
            })
            .filter(|&t| t > 0),
        runtime: c.get("type").and_then(|x| x.as_u64()).and_then(|t| {
            CONTAINER_TYPES
                .iter()
                .find(|(_, n)| *n == t)
                .map(|(name, _)| name.to_string())
        }),
        ..ContainerInfo::default()
    };
    Some((id, info))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_cgroup_names() {
        let id = "a".repeat(64);
        for name in [
            format!("libpod-{id}"),
            format!("libpod-{id}.scope"),
            format!("docker-{id}.scope"),
            format!("cri-containerd-{id}.scope"),
            id.clone(),
        ] {
            assert_eq!(
                container_id_from_cgroups([name.as_str()]),
                Some(id.clone()),
                "{name}"
            );
        }
        assert_eq!(
            container_id_from_cgroups(["user.slice", "session-3.scope", "/"]),
            None
        );
    }

    #[test]
    fn images_and_times() {
        assert_eq!(
            split_image("localhost/busybox:test"),
            ("localhost/busybox", Some("test"))
        );
        assert_eq!(split_image("reg:5000/app"), ("reg:5000/app", None));
        assert_eq!(split_image("nginx:1.25@sha256:ab"), ("nginx", Some("1.25")));
        assert_eq!(
            parse_rfc3339_ns("1970-01-01T00:00:01.5Z"),
            Some(1_500_000_000)
        );
        assert_eq!(
            parse_rfc3339_ns("2024-03-01T01:00:00+01:00"),
            parse_rfc3339_ns("2024-03-01T00:00:00Z")
        );
        assert_eq!(parse_rfc3339_ns("0001-01-01T00:00:00Z"), None);
    }

    #[test]
    fn inspect_answer() {
        let v: serde_json::Value = serde_json::from_str(
            r#"{"Id":"x","Name":"/web","Image":"sha256:abc","HostConfig":{"Privileged":true,"NetworkMode":"host"},"Config":{"Image":"localhost/busybox:test","Labels":{"io.kubernetes.pod.name":"p1"}},"State":{"StartedAt":"1970-01-01T00:00:02Z"},
                "Mounts":[{"Source":"/etc","Destination":"/host/etc","Mode":"","RW":false}]}"#,
        )
        .unwrap();
        let i = parse_inspect(&v).unwrap();
        assert_eq!(i.name.as_deref(), Some("web"));
        assert_eq!(i.repository(), Some("localhost/busybox"));
        assert_eq!(i.tag(), Some("test"));
        assert_eq!(i.privileged, Some(true));
        assert_eq!(i.start_ns, Some(2_000_000_000));
        assert_eq!(i.image_id.as_deref(), Some("abc"));
        assert_eq!(i.mounts[0].1, "/host/etc");
        assert_eq!(i.label("io.kubernetes.pod.name"), Some("p1"));
        assert_eq!(i.host_network, Some(true));
    }
}
