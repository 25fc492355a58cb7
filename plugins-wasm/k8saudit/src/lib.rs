//! The `k8saudit` plugin: source `k8s_audit` (id 1) and the `ka.*` fields.
//!
//! Open params:
//! - `http://[host]:port/path` or `https://…`: the webhook. The host serves
//!   it (the operator's grant) and hands the POSTed bodies to the plugin
//!   through the `receive` import; each body is an audit `Event` or an
//!   `EventList`.
//! - a file or directory (`file://` prefix optional): audit events as JSON
//!   (`Event` or `EventList`) or JSON lines; directories are read
//!   recursively in name order.
//!
//! Each event is one audit `Event` as JSON; its time is `stageTimestamp`
//! (else `timestamp`).

use guest_sdk::serde_json::{self, Value as J};
use guest_sdk::{
    BatchStatus, EventInput, Events, Extractor, Field, LogLevel, OpenParam, Plugin, Request,
    Source, Value, json, log,
};
use std::collections::VecDeque;
use std::path::PathBuf;

/// Where events come from.
#[derive(Default)]
enum Input {
    #[default]
    Closed,
    Webhook,
    Files {
        files: Vec<PathBuf>,
        next: usize,
    },
}

#[derive(Default)]
pub struct K8sAudit {
    input: Input,
    pending: VecDeque<J>,
    events: u64,
    bad_inputs: u64,
}

impl Plugin for K8sAudit {
    const NAME: &'static str = "k8saudit";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str =
        "Reads Kubernetes audit events from the audit webhook or from files";
    const CONTACT: &'static str = "falco-wasm project";
    // the project's rules for these events: the plugin alone detects
    const DEFAULT_RULES: Option<&'static str> =
        Some(include_str!("../../../rules/k8s_audit_rules.yaml"));
    const COMPANIONS: &'static [&'static str] = &["json"];
    const INIT_SCHEMA: Option<&'static str> = Some(
        r#"{"type":"object","properties":{"maxEventSize":{"type":"integer","minimum":1},"webhookMaxBatchSize":{"type":"integer","minimum":1},"sslCertificate":{"type":"string"},"useAsync":{"type":"boolean"}},"additionalProperties":false}"#,
    );

    fn new(_config: &str) -> Result<K8sAudit, String> {
        Ok(K8sAudit::default())
    }

    fn metrics(&self) -> Vec<guest_sdk::Metric> {
        vec![
            guest_sdk::Metric {
                name: "events_read".into(),
                value: self.events as f64,
                monotonic: true,
            },
            guest_sdk::Metric {
                name: "invalid_inputs".into(),
                value: self.bad_inputs as f64,
                monotonic: true,
            },
        ]
    }
}

impl Source for K8sAudit {
    const ID: u32 = 1;
    const EVENT_SOURCE: &'static str = "k8s_audit";

    fn open_params(&self) -> Vec<OpenParam> {
        vec![
            OpenParam {
                value: "http://:9765/k8s-audit".into(),
                desc: "the audit webhook, served by the host".into(),
                separator: String::new(),
            },
            OpenParam {
                value: "/var/log/kubernetes/audit".into(),
                desc: "a file or directory of audit events (JSON or JSON lines)".into(),
                separator: String::new(),
            },
        ]
    }

    fn open(&mut self, params: &str) -> Result<(), String> {
        let params = params.trim();
        self.pending.clear();
        if params.starts_with("http://") || params.starts_with("https://") {
            self.input = Input::Webhook;
            return Ok(());
        }
        let path = params.strip_prefix("file://").unwrap_or(params);
        if path.is_empty() {
            return Err("no input: give the webhook URL, a file or a directory".into());
        }
        let files = guest_sdk::input_files(path, |_| true)?;
        self.input = Input::Files { files, next: 0 };
        Ok(())
    }

    fn next_batch(&mut self, max: usize, out: &mut Events) -> Result<BatchStatus, String> {
        loop {
            while out.len() < max {
                let Some(ev) = self.pending.pop_front() else {
                    break;
                };
                let ts = ["stageTimestamp", "timestamp"]
                    .iter()
                    .find_map(|k| ev.get(*k).and_then(J::as_str))
                    .and_then(json::parse_rfc3339);
                self.events += 1;
                out.push(&serde_json::to_vec(&ev).map_err(|e| e.to_string())?, ts);
            }
            if out.len() >= max {
                return Ok(BatchStatus::Ok);
            }
            match &mut self.input {
                Input::Closed => return Err("not open".into()),
                Input::Webhook => {
                    let bodies = guest_sdk::receive(64);
                    if bodies.is_empty() {
                        return Ok(if out.is_empty() {
                            BatchStatus::Timeout
                        } else {
                            BatchStatus::Ok
                        });
                    }
                    for b in bodies {
                        match parse_events(&b) {
                            Ok(evs) => self.pending.extend(evs),
                            Err(e) => {
                                self.bad_inputs += 1;
                                log(LogLevel::Error, &format!("webhook body: {e}"));
                            }
                        }
                    }
                }
                Input::Files { files, next } => {
                    let Some(file) = files.get(*next).cloned() else {
                        return Ok(BatchStatus::Eof);
                    };
                    *next += 1;
                    match std::fs::read(&file)
                        .map_err(|e| e.to_string())
                        .and_then(|b| parse_events(&b))
                    {
                        Ok(evs) => self.pending.extend(evs),
                        Err(e) => {
                            self.bad_inputs += 1;
                            log(LogLevel::Error, &format!("{}: {e}", file.display()));
                        }
                    }
                }
            }
        }
    }

    fn event_to_string(&self, data: &[u8]) -> String {
        let Some(d) = json::parse(data) else {
            return "<invalid JSON>".into();
        };
        let t = |p: &str| {
            json::pointer(&d, p)
                .and_then(json::text)
                .unwrap_or_else(|| "<NA>".into())
        };
        format!(
            "{} {} {} decision={} code={}",
            t("/user/username"),
            t("/verb"),
            t("/requestURI"),
            t("/annotations/authorization.k8s.io~1decision"),
            t("/responseStatus/code")
        )
    }
}

/// The audit events in a body or file: an `Event`, an `EventList`, or JSON
/// lines of either.
fn parse_events(bytes: &[u8]) -> Result<Vec<J>, String> {
    let one = |v: J| -> Result<Vec<J>, String> {
        match v.get("kind").and_then(J::as_str) {
            Some("EventList") => Ok(v
                .get("items")
                .and_then(J::as_array)
                .cloned()
                .unwrap_or_default()),
            Some("Event") => Ok(vec![v]),
            _ => Err("not a Kubernetes audit Event or EventList".into()),
        }
    };
    if let Ok(v) = serde_json::from_slice::<J>(bytes) {
        return one(v);
    }
    let mut out = Vec::new();
    for (n, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let v: J = serde_json::from_slice(line)
            .map_err(|e| format!("line {}: not valid JSON: {e}", n + 1))?;
        out.extend(one(v)?);
    }
    Ok(out)
}

/// `nginx:1.25`, `registry:5000/team/app@sha256:…` → the image without tag
/// or digest.
fn repository(image: &str) -> String {
    let no_digest = image.split('@').next().unwrap_or(image);
    match no_digest.rfind(':') {
        Some(i) if !no_digest[i..].contains('/') => no_digest[..i].to_string(),
        _ => no_digest.to_string(),
    }
}

/// The pod spec of a request: a Pod's `spec`, or a workload's template.
fn pod_spec(d: &J) -> Option<&J> {
    let obj = d.get("requestObject")?;
    match obj.get("kind").and_then(J::as_str) {
        Some("Pod") => obj.get("spec"),
        Some("CronJob") => json::pointer(obj, "/spec/jobTemplate/spec/template/spec"),
        _ => json::pointer(obj, "/spec/template/spec"),
    }
}

fn containers<'a>(d: &'a J, which: &str) -> Vec<&'a J> {
    pod_spec(d)
        .and_then(|s| s.get(which))
        .and_then(J::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

fn text(v: &J) -> Option<String> {
    json::text(v)
}

fn strs(v: Option<&J>) -> Vec<String> {
    v.and_then(J::as_array)
        .map(|a| a.iter().filter_map(text).collect())
        .unwrap_or_default()
}

/// The value(s) of one field. List fields return every element; the host
/// applies an index argument by taking one.
fn values(d: &J, name: &str, key: Option<&str>) -> Vec<String> {
    let at = |p: &str| json::text_at(d, p).into_iter().collect::<Vec<_>>();
    let ptr = |p: &str| {
        json::pointer(d, p)
            .and_then(text)
            .into_iter()
            .collect::<Vec<_>>()
    };
    // Per-container fields: ka.req.pod.containers.X, initContainers, ephemeralContainers.
    for (prefix, which) in [
        ("ka.req.pod.containers.", "containers"),
        ("ka.req.pod.initContainers.", "initContainers"),
        ("ka.req.pod.ephemeralContainers.", "ephemeralContainers"),
    ] {
        if let Some(attr) = name.strip_prefix(prefix) {
            return containers(d, which)
                .into_iter()
                .flat_map(|c| container_attr(d, c, attr))
                .collect();
        }
    }
    match name {
        "ka.auditid" => at("auditID"),
        "ka.stage" => at("stage"),
        "ka.auth.decision" => ptr("/annotations/authorization.k8s.io~1decision"),
        "ka.auth.reason" => ptr("/annotations/authorization.k8s.io~1reason"),
        "ka.user.name" => at("user.username"),
        "ka.user.groups" => strs(json::path(d, "user.groups")),
        "ka.impuser.name" => at("impersonatedUser.username"),
        "ka.verb" => at("verb"),
        "ka.uri" => at("requestURI"),
        "ka.uri.param" => {
            let uri = json::text_at(d, "requestURI").unwrap_or_default();
            let q = uri.split_once('?').map(|(_, q)| q).unwrap_or("");
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .filter(|(k, _)| Some(*k) == key)
                .map(|(_, v)| v.to_string())
                .take(1)
                .collect()
        }
        "ka.target.name" => at("objectRef.name"),
        "ka.target.namespace" => at("objectRef.namespace"),
        "ka.target.resource" => at("objectRef.resource"),
        "ka.target.subresource" => at("objectRef.subresource"),
        "ka.target.pod.name" => {
            if json::text_at(d, "objectRef.resource").as_deref() == Some("pods") {
                at("objectRef.name")
            } else {
                Vec::new()
            }
        }
        "ka.req.binding.subjects" => json::path(d, "requestObject.subjects")
            .and_then(J::as_array)
            .map(|a| a.iter().filter_map(|s| json::text_at(s, "name")).collect())
            .unwrap_or_default(),
        "ka.req.binding.role" => at("requestObject.roleRef.name"),
        "ka.req.configmap.name" => {
            if json::text_at(d, "objectRef.resource").as_deref() == Some("configmaps") {
                at("objectRef.name")
            } else {
                Vec::new()
            }
        }
        "ka.req.configmap.obj" => at("requestObject.data"),
        "ka.req.container.image" => containers(d, "containers")
            .first()
            .and_then(|c| json::text_at(c, "image"))
            .into_iter()
            .collect(),
        "ka.req.container.image.repository" => containers(d, "containers")
            .first()
            .and_then(|c| json::text_at(c, "image"))
            .map(|i| repository(&i))
            .into_iter()
            .collect(),
        "ka.req.container.privileged" => containers(d, "containers")
            .into_iter()
            .flat_map(|c| container_attr(d, c, "privileged"))
            .collect(),
        "ka.req.pod.host_network" => bool_at(pod_spec(d), "hostNetwork"),
        "ka.req.pod.host_pid" => bool_at(pod_spec(d), "hostPID"),
        "ka.req.pod.host_ipc" => bool_at(pod_spec(d), "hostIPC"),
        "ka.req.pod.run_as_user" => pod_spec(d)
            .and_then(|s| json::text_at(s, "securityContext.runAsUser"))
            .into_iter()
            .collect(),
        "ka.req.pod.volumes.hostpath" => pod_spec(d)
            .and_then(|s| s.get("volumes"))
            .and_then(J::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| json::text_at(v, "hostPath.path"))
                    .collect()
            })
            .unwrap_or_default(),
        "ka.req.role.rules" => json::path(d, "requestObject.rules")
            .and_then(J::as_array)
            .map(|a| a.iter().map(J::to_string).collect())
            .unwrap_or_default(),
        "ka.req.role.rules.verbs"
        | "ka.req.role.rules.resources"
        | "ka.req.role.rules.apiGroups" => {
            let k = name.rsplit('.').next().unwrap_or_default();
            json::path(d, "requestObject.rules")
                .and_then(J::as_array)
                .map(|a| a.iter().flat_map(|r| strs(r.get(k))).collect())
                .unwrap_or_default()
        }
        "ka.req.service.type" => at("requestObject.spec.type"),
        "ka.req.service.ports" => json::path(d, "requestObject.spec.ports")
            .and_then(J::as_array)
            .map(|a| a.iter().map(J::to_string).collect())
            .unwrap_or_default(),
        "ka.resp.name" => at("responseObject.metadata.name"),
        "ka.response.code" => at("responseStatus.code"),
        "ka.response.reason" => at("responseStatus.reason"),
        "ka.useragent" => at("userAgent"),
        "ka.sourceips" => strs(d.get("sourceIPs")),
        _ => Vec::new(),
    }
}

fn bool_at(spec: Option<&J>, key: &str) -> Vec<String> {
    vec![
        spec.and_then(|s| s.get(key))
            .and_then(J::as_bool)
            .unwrap_or(false)
            .to_string(),
    ]
}

/// One attribute of one container.
fn container_attr(d: &J, c: &J, attr: &str) -> Vec<String> {
    let sc = |k: &str| c.get("securityContext").and_then(|s| s.get(k));
    match attr {
        "image" => json::text_at(c, "image").into_iter().collect(),
        "image.repository" => json::text_at(c, "image")
            .map(|i| repository(&i))
            .into_iter()
            .collect(),
        "privileged" => vec![
            sc("privileged")
                .and_then(J::as_bool)
                .unwrap_or(false)
                .to_string(),
        ],
        "allow_privilege_escalation" => vec![
            sc("allowPrivilegeEscalation")
                .and_then(J::as_bool)
                .unwrap_or(true)
                .to_string(),
        ],
        "read_only_fs" => vec![
            sc("readOnlyRootFilesystem")
                .and_then(J::as_bool)
                .unwrap_or(false)
                .to_string(),
        ],
        "run_as_user" => sc("runAsUser").and_then(text).into_iter().collect(),
        "eff_run_as_user" => sc("runAsUser")
            .or_else(|| pod_spec(d).and_then(|s| json::path(s, "securityContext.runAsUser")))
            .and_then(text)
            .map_or_else(|| vec!["0".to_string()], |u| vec![u]),
        "run_as_group" => sc("runAsGroup").and_then(text).into_iter().collect(),
        "add_capabilities" => strs(sc("capabilities").and_then(|c| c.get("add"))),
        "host_port" => c
            .get("ports")
            .and_then(J::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|p| p.get("hostPort").and_then(text))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

macro_rules! container_fields {
    ($($list:literal),*) => {
        [$(
            Field::string(concat!("ka.req.pod.", $list, ".image"), "The images of the pod's containers.").list().index(false),
            Field::string(concat!("ka.req.pod.", $list, ".image.repository"), "The images without tag or digest.").list().index(false),
            Field::string(concat!("ka.req.pod.", $list, ".privileged"), "Whether each container is privileged (true/false).").list().index(false),
            Field::string(concat!("ka.req.pod.", $list, ".allow_privilege_escalation"), "allowPrivilegeEscalation of each container.").list().index(false),
            Field::string(concat!("ka.req.pod.", $list, ".read_only_fs"), "readOnlyRootFilesystem of each container.").list().index(false),
            Field::string(concat!("ka.req.pod.", $list, ".run_as_user"), "runAsUser of each container, where set.").list().index(false),
            Field::string(concat!("ka.req.pod.", $list, ".eff_run_as_user"), "The user each container runs as (container, else pod, else 0).").list().index(false),
            Field::string(concat!("ka.req.pod.", $list, ".run_as_group"), "runAsGroup of each container, where set.").list().index(false),
            Field::string(concat!("ka.req.pod.", $list, ".add_capabilities"), "Capabilities added to the containers.").list().index(false),
            Field::string(concat!("ka.req.pod.", $list, ".host_port"), "Host ports the containers expose.").list().index(false),
        )*]
    };
}

const CONTAINER_FIELDS: [Field; 30] =
    container_fields!("containers", "initContainers", "ephemeralContainers");

const BASE_FIELDS: [Field; 38] = [
    Field::string("ka.auditid", "The audit event's id.").display("Audit Event ID"),
    Field::string(
        "ka.stage",
        "The stage of the request (ResponseComplete, …).",
    )
    .display("Stage"),
    Field::string(
        "ka.auth.decision",
        "The authorization decision (allow, forbid).",
    )
    .display("Authorization Decision"),
    Field::string("ka.auth.reason", "Why the request was allowed or denied.")
        .display("Authorization Reason"),
    Field::string("ka.user.name", "The user who made the request.")
        .display("User Name")
        .output(),
    Field::string("ka.user.groups", "The groups of the user.")
        .list()
        .index(false)
        .display("User Groups"),
    Field::string("ka.impuser.name", "The impersonated user, if any.").display("Impersonated User"),
    Field::string(
        "ka.verb",
        "The action (get, list, create, update, patch, delete, …).",
    )
    .display("Action")
    .output(),
    Field::string("ka.uri", "The request URI.")
        .display("Request URI")
        .output(),
    Field::string(
        "ka.uri.param",
        "A query parameter of the request URI (ka.uri.param[command]).",
    )
    .key(true)
    .display("URI Parameter"),
    Field::string("ka.target.name", "The name of the object acted on.")
        .display("Target Name")
        .output(),
    Field::string(
        "ka.target.namespace",
        "The namespace of the object acted on.",
    )
    .display("Target Namespace")
    .output(),
    Field::string(
        "ka.target.resource",
        "The resource type (pods, secrets, …).",
    )
    .display("Target Resource")
    .output(),
    Field::string(
        "ka.target.subresource",
        "The subresource (exec, attach, status, …).",
    )
    .display("Target Subresource"),
    Field::string(
        "ka.target.pod.name",
        "The pod acted on (for pod resources).",
    )
    .display("Target Pod Name"),
    Field::string("ka.req.binding.subjects", "The subjects of a role binding.")
        .list()
        .index(false)
        .display("Binding Subjects"),
    Field::string("ka.req.binding.role", "The role a binding grants.").display("Binding Role"),
    Field::string("ka.req.configmap.name", "The name of a ConfigMap.").display("ConfigMap Name"),
    Field::string(
        "ka.req.configmap.obj",
        "The data of a ConfigMap, as JSON text.",
    )
    .display("ConfigMap Data"),
    Field::string(
        "ka.req.container.image",
        "The first container's image (use ka.req.pod.containers.image).",
    )
    .display("Image")
    .hidden(),
    Field::string(
        "ka.req.container.image.repository",
        "The first container's repository.",
    )
    .display("Repository")
    .hidden(),
    Field::string(
        "ka.req.container.privileged",
        "Whether each container is privileged (use ka.req.pod.containers.privileged).",
    )
    .list()
    .index(false)
    .hidden(),
    Field::string(
        "ka.req.pod.host_network",
        "Whether the pod uses the host network (true/false).",
    )
    .display("Host Network"),
    Field::string(
        "ka.req.pod.host_pid",
        "Whether the pod uses the host PID namespace.",
    )
    .display("Host PID"),
    Field::string(
        "ka.req.pod.host_ipc",
        "Whether the pod uses the host IPC namespace.",
    )
    .display("Host IPC"),
    Field::string(
        "ka.req.pod.run_as_user",
        "The pod-level runAsUser, where set.",
    )
    .display("Pod Run As User"),
    Field::string("ka.req.pod.volumes.hostpath", "Host paths the pod mounts.")
        .list()
        .index(false)
        .display("Host Paths"),
    Field::string(
        "ka.req.role.rules",
        "The rules of a Role or ClusterRole, each as JSON text.",
    )
    .list()
    .index(false)
    .display("Role Rules"),
    Field::string("ka.req.role.rules.verbs", "Every verb of the role's rules.")
        .list()
        .index(false)
        .display("Role Verbs"),
    Field::string(
        "ka.req.role.rules.resources",
        "Every resource of the role's rules.",
    )
    .list()
    .index(false)
    .display("Role Resources"),
    Field::string(
        "ka.req.role.rules.apiGroups",
        "Every API group of the role's rules.",
    )
    .list()
    .index(false)
    .display("Role API Groups"),
    Field::string(
        "ka.req.service.type",
        "The type of a Service (ClusterIP, NodePort, LoadBalancer).",
    )
    .display("Service Type"),
    Field::string(
        "ka.req.service.ports",
        "The ports of a Service, each as JSON text.",
    )
    .list()
    .index(false)
    .display("Service Ports"),
    Field::string("ka.resp.name", "The name of the object in the response.")
        .display("Response Name"),
    Field::string("ka.response.code", "The response status code.")
        .display("Response Code")
        .output(),
    Field::string("ka.response.reason", "The response status reason.").display("Response Reason"),
    Field::string("ka.useragent", "The client's user agent.").display("User Agent"),
    Field::string("ka.sourceips", "The client addresses.")
        .list()
        .index(false)
        .display("Source IPs"),
];

const fn concat_fields() -> [Field; 68] {
    let mut out = [BASE_FIELDS[0]; 68];
    let mut i = 0;
    while i < BASE_FIELDS.len() {
        out[i] = BASE_FIELDS[i];
        i += 1;
    }
    let mut j = 0;
    while j < CONTAINER_FIELDS.len() {
        out[i + j] = CONTAINER_FIELDS[j];
        j += 1;
    }
    out
}

static ALL_FIELDS: [Field; 68] = concat_fields();

impl Extractor for K8sAudit {
    const FIELDS: &'static [Field] = &ALL_FIELDS;

    fn extract(
        &mut self,
        ev: &EventInput,
        reqs: &[Request],
        out: &mut [Vec<Value>],
    ) -> Result<(), String> {
        let Some(d) = json::parse(ev.data) else {
            return Ok(());
        };
        for (r, o) in reqs.iter().zip(out) {
            let vals = values(&d, r.name, r.key);
            match r.index {
                Some(i) => o.extend(vals.into_iter().nth(i as usize).map(Value::Str)),
                None => o.extend(vals.into_iter().map(Value::Str)),
            }
        }
        Ok(())
    }
}

guest_sdk::export_source_plugin!(K8sAudit);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories() {
        assert_eq!(repository("nginx"), "nginx");
        assert_eq!(repository("nginx:1.25"), "nginx");
        assert_eq!(
            repository("registry:5000/team/app:v2"),
            "registry:5000/team/app"
        );
        assert_eq!(
            repository("registry:5000/team/app"),
            "registry:5000/team/app"
        );
        assert_eq!(repository("app@sha256:abcd"), "app");
    }

    #[test]
    fn event_lists_and_lines() {
        let e = r#"{"kind":"Event","verb":"get"}"#;
        let list = format!(r#"{{"kind":"EventList","items":[{e},{e}]}}"#);
        assert_eq!(parse_events(list.as_bytes()).unwrap().len(), 2);
        assert_eq!(
            parse_events(format!("{e}\n{e}\n\n{e}").as_bytes())
                .unwrap()
                .len(),
            3
        );
        assert!(parse_events(b"{\"kind\":\"Pod\"}").is_err());
    }

    #[test]
    fn pod_fields() {
        let d: J = serde_json::from_str(
            r#"{"kind":"Event","verb":"create","objectRef":{"resource":"pods","namespace":"default","name":"p"},
                "requestURI":"/api/v1/namespaces/default/pods/p/exec?command=bash&tty=true",
                "requestObject":{"kind":"Pod","spec":{"hostNetwork":true,
                  "volumes":[{"hostPath":{"path":"/etc"}},{"emptyDir":{}}],
                  "containers":[{"image":"nginx:1.25","securityContext":{"privileged":true}},{"image":"busybox"}]}}}"#,
        )
        .unwrap();
        assert_eq!(
            values(&d, "ka.req.pod.containers.privileged", None),
            ["true", "false"]
        );
        assert_eq!(
            values(&d, "ka.req.pod.containers.image.repository", None),
            ["nginx", "busybox"]
        );
        assert_eq!(values(&d, "ka.req.pod.host_network", None), ["true"]);
        assert_eq!(values(&d, "ka.req.pod.volumes.hostpath", None), ["/etc"]);
        assert_eq!(values(&d, "ka.uri.param", Some("command")), ["bash"]);
        assert_eq!(values(&d, "ka.target.pod.name", None), ["p"]);
        assert_eq!(
            values(&d, "ka.req.pod.containers.eff_run_as_user", None),
            ["0", "0"]
        );
    }
}
