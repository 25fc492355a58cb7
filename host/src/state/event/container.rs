//! `container.*` and `k8s.*` fields: the process's container, from the
//! runtime's metadata (Kubernetes fields from the labels the kubelet sets).

use super::SyscallEvent;
use crate::filter::value::ValueSink;
use crate::state::containers::ContainerInfo;

/// Emits a string, if there is one.
fn s(out: &mut dyn ValueSink, v: Option<&str>) {
    if let Some(v) = v {
        out.bytes(v.as_bytes())
    }
}

impl SyscallEvent<'_> {
    /// `container.*` and `k8s.*`; false for an unknown name (known for a
    /// process on the host).
    pub(super) fn container_field(
        &self,
        base: &str,
        arg: Option<&str>,
        out: &mut dyn ValueSink,
    ) -> bool {
        let Some(p) = self.proc else { return true };
        if p.container_id.is_empty() {
            host_field(base, out);
            return true;
        }
        let info = self.state.container(&p.container_id);
        match base {
            "container.id" => out.bytes(&p.container_id.as_bytes()[..12]),
            "container.full_id" => out.bytes(p.container_id.as_bytes()),
            "container.duration" => {
                if let Some(t) = info.and_then(|i| i.start_ns) {
                    out.num((self.time_ns() - t).max(0))
                }
            }
            _ => {
                return image_field(info, base, out)
                    || runtime_field(info, base, out)
                    || label_field(info, base, arg, out)
                    || mount_field(info, base, arg, out);
            }
        }
        true
    }
}

/// The values of a process on the host.
fn host_field(base: &str, out: &mut dyn ValueSink) {
    match base {
        "container.id" | "container.name" | "container.full_id" => out.bytes(b"host"),
        "container.privileged"
        | "container.host_network"
        | "container.host_pid"
        | "container.host_ipc" => out.bool(false),
        "container.type" => out.bytes(b"host"),
        _ => {}
    }
}

/// The container's image.
fn image_field(info: Option<&ContainerInfo>, base: &str, out: &mut dyn ValueSink) -> bool {
    match base {
        "container.image" => s(out, info.and_then(|i| i.image.as_deref())),
        "container.image.repository" => s(out, info.and_then(|i| i.repository())),
        "container.image.tag" => s(out, info.and_then(|i| i.tag())),
        "container.image.id" => s(
            out,
            info.and_then(|i| i.image_id.as_deref())
                .map(|i| &i[..i.len().min(12)]),
        ),
        "container.image.digest" => s(out, info.and_then(|i| i.image_digest.as_deref())),
        _ => return false,
    }
    true
}

/// What the runtime says of the container: name, type, address, start,
/// privileges and shared namespaces.
fn runtime_field(info: Option<&ContainerInfo>, base: &str, out: &mut dyn ValueSink) -> bool {
    match base {
        "container.name" => s(out, info.and_then(|i| i.name.as_deref())),
        "container.type" => s(out, info.and_then(|i| i.runtime.as_deref())),
        "container.ip" => s(out, info.and_then(|i| i.ip.as_deref())),
        "container.start_ts" => {
            if let Some(t) = info.and_then(|i| i.start_ns) {
                out.num(t)
            }
        }
        "container.privileged" => {
            if let Some(b) = info.and_then(|i| i.privileged) {
                out.bool(b)
            }
        }
        "container.host_network" | "container.host_pid" | "container.host_ipc" => {
            let v = info.and_then(|i| match base {
                "container.host_network" => i.host_network,
                "container.host_pid" => i.host_pid,
                _ => i.host_ipc,
            });
            if let Some(b) = v {
                out.bool(b)
            }
        }
        _ => return false,
    }
    true
}

/// Labels, and the Kubernetes metadata read from them.
fn label_field(
    info: Option<&ContainerInfo>,
    base: &str,
    arg: Option<&str>,
    out: &mut dyn ValueSink,
) -> bool {
    match base {
        "container.label" | "k8s.pod.label" => s(out, info.zip(arg).and_then(|(i, k)| i.label(k))),
        "container.labels" => {
            if let Some(i) = info {
                let l: Vec<String> = i.labels.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                out.bytes(l.join(", ").as_bytes())
            }
        }
        "k8s.pod.name" => s(out, info.and_then(|i| i.label("io.kubernetes.pod.name"))),
        "k8s.ns.name" => s(
            out,
            info.and_then(|i| i.label("io.kubernetes.pod.namespace")),
        ),
        "k8s.pod.uid" | "k8s.pod.id" => s(out, info.and_then(|i| i.label("io.kubernetes.pod.uid"))),
        _ => return false,
    }
    true
}

/// Mounts: all of them, or one by index or by its source path (its
/// destination for `.source`); a trailing `*` matches a prefix.
fn mount_field(
    info: Option<&ContainerInfo>,
    base: &str,
    arg: Option<&str>,
    out: &mut dyn ValueSink,
) -> bool {
    match base {
        "container.mounts" => {
            if let Some(i) = info {
                let m: Vec<String> = i
                    .mounts
                    .iter()
                    .map(|(src, dst, mode, rw)| format!("{src}:{dst}:{mode}:{rw}:private"))
                    .collect();
                out.bytes(m.join(",").as_bytes())
            }
            return true;
        }
        "container.mount"
        | "container.mount.source"
        | "container.mount.dest"
        | "container.mount.mode"
        | "container.mount.rdwr"
        | "container.mount.propagation" => {}
        _ => return false,
    }
    let (Some(i), Some(key)) = (info, arg) else {
        return true;
    };
    let by_dest = base == "container.mount.source";
    let hit = match key.parse::<usize>() {
        Ok(n) => i.mounts.get(n),
        Err(_) => i.mounts.iter().find(|(src, dst, _, _)| {
            let p = if by_dest { dst } else { src };
            match key.strip_suffix('*') {
                Some(prefix) => p.starts_with(prefix),
                None => p == key,
            }
        }),
    };
    let Some((src, dst, mode, rw)) = hit else {
        return true;
    };
    let v = match base {
        "container.mount" => format!("{src}:{dst}:{mode}:{rw}:private"),
        "container.mount.source" => src.clone(),
        "container.mount.dest" => dst.clone(),
        "container.mount.mode" => mode.clone(),
        "container.mount.rdwr" => rw.to_string(),
        _ => "private".to_string(),
    };
    out.bytes(v.as_bytes());
    true
}
