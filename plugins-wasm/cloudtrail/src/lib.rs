//! The `cloudtrail` plugin: source `aws_cloudtrail` (id 2) reading
//! CloudTrail log files, and the `ct.*`, `s3.*`, `ec2.*`, `ecr.*`, `iam.*`
//! fields over their records.
//!
//! Open params: a file (`.json` or `.json.gz` holding `{"Records": [...]}`)
//! or a directory, read recursively in name order. The plugin can only read
//! what the operator granted it (a read-only preopen of that path).
//! Each event is one record, as JSON; its time is the record's `eventTime`.

use guest_sdk::json::Doc;
use guest_sdk::serde_json::{self, Value as J};
use guest_sdk::{
    BatchStatus, EventInput, Events, Extractor, Field, LogLevel, OpenParam, Plugin, Request,
    Source, Value, json, log,
};
use std::collections::VecDeque;
use std::io::Read;
use std::path::PathBuf;

mod aws;

/// Where log files come from.
#[derive(Default)]
enum Input {
    #[default]
    Closed,
    /// Local files, in order.
    Files { files: Vec<PathBuf>, next: usize },
    /// The objects below an S3 prefix.
    S3 {
        aws: aws::Aws,
        objects: Vec<(String, String)>,
        next: usize,
    },
    /// Objects named by the S3 notifications an SQS queue receives.
    Sqs {
        aws: aws::Aws,
        queue_url: String,
        objects: VecDeque<(String, String)>,
        /// After an empty receive, no other before this time.
        quiet_until: Option<std::time::Instant>,
    },
}

/// How long an empty SQS queue is left alone before it is polled again
/// (the host asks for a batch every few milliseconds when idle).
const SQS_IDLE_POLL: std::time::Duration = std::time::Duration::from_secs(1);

/// The plugin's state: its input and the records not yet sent.
#[derive(Default)]
pub struct CloudTrail {
    input: Input,
    region: Option<String>,
    endpoint: Option<String>,
    sqs_delete: bool,
    /// The log file being read, as text, and where its records not yet
    /// sent are in it (records are sent as they were written, never
    /// re-serialized).
    log: String,
    pending: VecDeque<std::ops::Range<usize>>,
    /// Counters for metrics.
    records: u64,
    bad_files: u64,
    sqs_receives: u64,
}

impl Plugin for CloudTrail {
    const NAME: &'static str = "cloudtrail";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Reads CloudTrail JSON logs from files and directories";
    const CONTACT: &'static str = "falco-wasm project";
    // the project's rules for these events: the plugin alone detects
    const DEFAULT_RULES: Option<&'static str> =
        Some(include_str!("../../../rules/aws_cloudtrail_rules.yaml"));
    const COMPANIONS: &'static [&'static str] = &["json"];
    const INIT_SCHEMA: Option<&'static str> = Some(
        r#"{"type":"object","properties":{"s3DownloadConcurrency":{"type":"integer","minimum":1},"sqsDelete":{"type":"boolean"},"useAsync":{"type":"boolean"},"useS3SNS":{"type":"boolean"},"uncompressedLimit":{"type":"integer","minimum":1},"awsRegion":{"type":"string"},"awsEndpoint":{"type":"string"}},"additionalProperties":false}"#,
    );

    fn new(config: &str) -> Result<CloudTrail, String> {
        let cfg = json::parse(config.as_bytes()).unwrap_or_default();
        Ok(CloudTrail {
            region: json::text_at(&cfg, "awsRegion"),
            endpoint: json::text_at(&cfg, "awsEndpoint"),
            sqs_delete: cfg.get("sqsDelete").and_then(J::as_bool).unwrap_or(true),
            ..CloudTrail::default()
        })
    }

    fn metrics(&self) -> Vec<guest_sdk::Metric> {
        vec![
            guest_sdk::Metric {
                name: "records_read".into(),
                value: self.records as f64,
                monotonic: true,
            },
            guest_sdk::Metric {
                name: "unreadable_files".into(),
                value: self.bad_files as f64,
                monotonic: true,
            },
            guest_sdk::Metric {
                name: "sqs_receive_requests".into(),
                value: self.sqs_receives as f64,
                monotonic: true,
            },
        ]
    }
}

impl Source for CloudTrail {
    const ID: u32 = 2;
    const EVENT_SOURCE: &'static str = "aws_cloudtrail";

    fn open_params(&self) -> Vec<OpenParam> {
        let p = |value: &str, desc: &str| OpenParam {
            value: value.into(),
            desc: desc.into(),
            separator: String::new(),
        };
        vec![
            p(
                "/var/log/cloudtrail",
                "a CloudTrail log file (.json or .json.gz) or a directory of them",
            ),
            p("s3://BUCKET/PREFIX", "the log files below an S3 prefix"),
            p(
                "sqs://QUEUE",
                "log files named by the S3 notifications an SQS queue receives",
            ),
        ]
    }

    fn open(&mut self, params: &str) -> Result<(), String> {
        let params = params.trim();
        self.pending.clear();
        let aws = || aws::Aws::new(self.region.clone(), self.endpoint.clone());
        self.input = if let Some(rest) = params.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let aws = aws()?;
            let objects = aws
                .list_keys(bucket, prefix)
                .map_err(|e| format!("{params}: {e}"))?
                .into_iter()
                .filter(|k| k.ends_with(".json") || k.ends_with(".json.gz"))
                .map(|k| (bucket.to_string(), k))
                .collect();
            Input::S3 {
                aws,
                objects,
                next: 0,
            }
        } else if let Some(queue) = params.strip_prefix("sqs://") {
            let aws = aws()?;
            let queue_url = aws.queue_url(queue).map_err(|e| format!("{params}: {e}"))?;
            Input::Sqs {
                aws,
                queue_url,
                objects: VecDeque::new(),
                quiet_until: None,
            }
        } else if params.is_empty() {
            return Err(
                "no input: give a file, a directory, s3://BUCKET/PREFIX or sqs://QUEUE".into(),
            );
        } else {
            let files = guest_sdk::input_files(params, |p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                name.ends_with(".json") || name.ends_with(".json.gz")
            })?;
            Input::Files { files, next: 0 }
        };
        Ok(())
    }

    fn next_batch(&mut self, max: usize, out: &mut Events) -> Result<BatchStatus, String> {
        while out.len() < max {
            if let Some(range) = self.pending.pop_front() {
                let rec = &self.log[range];
                // Only the record's members up to eventTime are looked
                // at here: the extractors read the fields they need.
                let ts =
                    json::top_member_text(rec, "eventTime").and_then(|t| json::parse_rfc3339(&t));
                self.records += 1;
                out.push(rec.as_bytes(), ts);
                continue;
            }
            // The next log file, from wherever the input is.
            let (name, bytes) = match &mut self.input {
                Input::Closed => return Err("not open".into()),
                Input::Files { files, next } => {
                    let Some(file) = files.get(*next).cloned() else {
                        return Ok(BatchStatus::Eof);
                    };
                    *next += 1;
                    (
                        file.display().to_string(),
                        std::fs::read(&file).map_err(|e| e.to_string()),
                    )
                }
                Input::S3 { aws, objects, next } => {
                    let Some((bucket, key)) = objects.get(*next).cloned() else {
                        return Ok(BatchStatus::Eof);
                    };
                    *next += 1;
                    (
                        format!("s3://{bucket}/{key}"),
                        aws.get_object(&bucket, &key),
                    )
                }
                Input::Sqs {
                    aws,
                    queue_url,
                    objects,
                    quiet_until,
                } => {
                    let now = std::time::Instant::now();
                    if objects.is_empty() && quiet_until.is_none_or(|t| t <= now) {
                        self.sqs_receives += 1;
                        for (handle, body) in aws.receive(queue_url)? {
                            objects.extend(aws::notified_objects(&body));
                            if self.sqs_delete
                                && let Err(e) = aws.delete(queue_url, &handle)
                            {
                                log(LogLevel::Warning, &format!("{queue_url}: {e}"));
                            }
                        }
                        if objects.is_empty() {
                            *quiet_until = Some(now + SQS_IDLE_POLL);
                        }
                    }
                    let Some((bucket, key)) = objects.pop_front() else {
                        // Nothing queued now: the host asks again later
                        // (and an empty queue is polled after a pause).
                        return Ok(if out.is_empty() {
                            BatchStatus::Timeout
                        } else {
                            BatchStatus::Ok
                        });
                    };
                    (
                        format!("s3://{bucket}/{key}"),
                        aws.get_object(&bucket, &key),
                    )
                }
            };
            match bytes.and_then(records) {
                Ok((log, recs)) => {
                    self.log = log;
                    self.pending.extend(recs);
                }
                Err(e) => {
                    self.bad_files += 1;
                    log(LogLevel::Error, &format!("{name}: {e}"));
                }
            }
        }
        Ok(BatchStatus::Ok)
    }

    fn progress(&self) -> (f64, String) {
        let (done, total) = match &self.input {
            Input::Files { files, next } => (*next, files.len()),
            Input::S3 { objects, next, .. } => (*next, objects.len()),
            Input::Closed | Input::Sqs { .. } => return (0.0, String::new()),
        };
        let pct = done as f64 * 100.0 / total.max(1) as f64;
        (pct, format!("{done}/{total} files"))
    }

    fn event_to_string(&self, data: &[u8]) -> String {
        json::Doc::parse(data).map_or_else(|| "<invalid JSON>".into(), |mut d| info(&mut d))
    }
}

/// The records of one log file (plain or gzip): the file's text and where
/// each record's JSON text is in it.
fn records(raw: Vec<u8>) -> Result<(String, Vec<std::ops::Range<usize>>), String> {
    let text = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut s = Vec::new();
        flate2::read::GzDecoder::new(raw.as_slice())
            .take(512 << 20)
            .read_to_end(&mut s)
            .map_err(|e| format!("not valid gzip: {e}"))?;
        s
    } else {
        raw
    };
    // One pass over a well-formed log; the slow path says what is wrong.
    let ranges = |t: &str, recs: Vec<&str>| -> Vec<std::ops::Range<usize>> {
        recs.iter()
            .map(|r| {
                let start = r.as_ptr() as usize - t.as_ptr() as usize;
                start..start + r.len()
            })
            .collect()
    };
    let text = json::utf8_string(text).ok_or("not valid JSON: not UTF-8")?;
    if let Some(recs) = json::member_array(&text, "Records") {
        let ranges = ranges(&text, recs);
        return Ok((text, ranges));
    }
    let doc =
        Doc::parse(text.as_bytes()).ok_or_else(|| match serde_json::from_str::<J>(&text) {
            Err(e) => format!("not valid JSON: {e}"),
            Ok(_) => "not valid JSON".to_string(),
        })?;
    let records = doc
        .raw_at_path("Records")
        .ok_or("not a CloudTrail log (expected {\"Records\": [...]})")?;
    let records = json::split_array(records).ok_or("\"Records\" is not an array")?;
    let ranges = ranges(&text, records);
    Ok((text, ranges))
}

/// Event names that change state when a record has no `readOnly` key.
const WRITE_PREFIXES: &[&str] = &[
    "Start",
    "Stop",
    "Create",
    "Destroy",
    "Delete",
    "Add",
    "Remove",
    "Terminate",
    "Put",
    "Associate",
    "Disassociate",
    "Attach",
    "Detach",
    "Open",
    "Close",
    "Wipe",
    "Update",
    "Upgrade",
    "Unlink",
    "Assign",
    "Unassign",
    "Suspend",
    "Set",
    "Run",
    "Register",
    "Deregister",
    "Reboot",
    "Purchase",
    "Modify",
    "Initialize",
    "Enable",
    "Disable",
    "Cancel",
    "Admin",
    "Activate",
];

/// `ct.user`: who made the request, by identity type.
fn user(d: &mut Doc) -> Option<String> {
    let t = d.text_at("userIdentity.type")?;
    match t.as_str() {
        "Root" | "IAMUser" => d.text_at("userIdentity.userName"),
        "AWSService" => d.text_at("userIdentity.invokedBy"),
        "AssumedRole" => d
            .text_at("userIdentity.sessionContext.sessionIssuer.userName")
            .or_else(|| Some("AssumedRole".into())),
        "AWSAccount" | "FederatedUser" => Some(t.to_string()),
        _ => None,
    }
}

fn readonly(d: &mut Doc) -> Option<bool> {
    match d.get("readOnly") {
        Some(J::Bool(b)) => Some(*b),
        Some(_) => Some(false),
        None => {
            let name = d.get("eventName")?.as_str()?;
            Some(!WRITE_PREFIXES.iter().any(|p| name.starts_with(p)))
        }
    }
}

fn u64_of(v: &J) -> u64 {
    v.as_u64()
        .or_else(|| v.as_f64().map(|f| f as u64))
        .unwrap_or(0)
}

fn s3_bytes(d: &mut Doc, which: &[&str]) -> Option<u64> {
    let extra = d.get("additionalEventData")?;
    let vals: Vec<&J> = which.iter().filter_map(|k| extra.get(*k)).collect();
    (!vals.is_empty()).then(|| vals.iter().map(|v| u64_of(v)).sum())
}

/// `ct.info`: who, from where, what; ! for errors, → for writes.
fn info(d: &mut Doc) -> String {
    let Some(u) = user(d) else {
        return "<invalid cloudtrail event: userIdentity field missing>".into();
    };
    let Some(ip) = d.text_at("sourceIPAddress") else {
        return "<invalid cloudtrail event: sourceIPAddress field missing>".into();
    };
    let Some(name) = d.text_at("eventName") else {
        return "<invalid cloudtrail event: eventName field missing>".into();
    };
    let err = if d.get("errorCode").is_some_and(|e| !e.is_null()) {
        "!"
    } else {
        ""
    };
    let rw = if readonly(d) == Some(false) {
        "→"
    } else {
        "←"
    };
    let mut s = format!("{u} via {ip} {err}{rw} {name}");
    if let Some(b) = s3_bytes(d, &["bytesTransferredIn", "bytesTransferredOut"]) {
        s.push_str(&format!(" Size={b}"));
    }
    let bucket = d.text_at("requestParameters.bucketName");
    let key = d.text_at("requestParameters.key");
    match (bucket, key) {
        (Some(b), Some(k)) => s.push_str(&format!(" URI=s3://{b}/{k}")),
        (Some(b), None) => s.push_str(&format!(" Bucket={b}")),
        (None, Some(k)) => s.push_str(&format!(" Key={k}")),
        (None, None) => {
            if let Some(h) = d.text_at("requestParameters.Host") {
                s.push_str(&format!(" Host={h}"));
            }
        }
    }
    s
}

/// Fields that are the text at one JSON path.
const PATH_FIELDS: &[(&str, &str)] = &[
    ("ct.id", "eventID"),
    ("ct.error", "errorCode"),
    ("ct.errormessage", "errorMessage"),
    ("ct.time", "eventTime"),
    ("ct.src", "eventSource"),
    ("ct.name", "eventName"),
    ("ct.user.identitytype", "userIdentity.type"),
    ("ct.user.principalid", "userIdentity.principalId"),
    ("ct.user.arn", "userIdentity.arn"),
    ("ct.user.accountid", "userIdentity.accountId"),
    ("ct.region", "awsRegion"),
    ("ct.response", "responseElements"),
    ("ct.response.subnetid", "responseElements.subnetId"),
    (
        "ct.response.reservationid",
        "responseElements.reservationId",
    ),
    ("ct.request", "requestParameters"),
    (
        "ct.request.availabilityzone",
        "requestParameters.availabilityZone",
    ),
    ("ct.request.cluster", "requestParameters.cluster"),
    ("ct.request.functionname", "requestParameters.functionName"),
    ("ct.request.groupname", "requestParameters.groupName"),
    ("ct.request.host", "requestParameters.Host"),
    ("ct.request.name", "requestParameters.name"),
    ("ct.request.policy", "requestParameters.policy"),
    ("ct.request.reason", "requestParameters.reason"),
    ("ct.request.target", "requestParameters.target"),
    ("ct.request.documentname", "requestParameters.documentName"),
    ("ct.request.serialnumber", "requestParameters.serialNumber"),
    ("ct.request.servicename", "requestParameters.serviceName"),
    ("ct.request.subnetid", "requestParameters.subnetId"),
    (
        "ct.request.taskdefinition",
        "requestParameters.taskDefinition",
    ),
    ("ct.request.username", "requestParameters.userName"),
    ("ct.srcip", "sourceIPAddress"),
    ("ct.useragent", "userAgent"),
    ("ct.requestid", "requestID"),
    ("ct.eventtype", "eventType"),
    ("ct.apiversion", "apiVersion"),
    ("ct.resources", "resources"),
    ("ct.recipientaccountid", "recipientAccountId"),
    ("ct.serviceeventdetails", "serviceEventDetails"),
    ("ct.sharedeventid", "sharedEventID"),
    ("ct.vpcendpointid", "vpcEndpointId"),
    ("ct.eventcategory", "eventCategory"),
    ("ct.addendum.reason", "addendum.reason"),
    ("ct.addendum.updatedfields", "addendum.updatedFields"),
    (
        "ct.addendum.originalrequestid",
        "addendum.originalRequestID",
    ),
    ("ct.addendum.originaleventid", "addendum.originalEventID"),
    (
        "ct.sessioncredentialfromconsole",
        "sessionCredentialFromConsole",
    ),
    ("ct.edgedevicedetails", "edgeDeviceDetails"),
    ("ct.tlsdetails.tlsversion", "tlsDetails.tlsVersion"),
    ("ct.tlsdetails.ciphersuite", "tlsDetails.cipherSuite"),
    (
        "ct.tlsdetails.clientprovidedhostheader",
        "tlsDetails.clientProvidedHostHeader",
    ),
    ("ct.additionaleventdata", "additionalEventData"),
    ("s3.bucket", "requestParameters.bucketName"),
    ("s3.key", "requestParameters.key"),
    ("ecr.repository", "requestParameters.repositoryName"),
    ("ecr.image.tag", "requestParameters.imageTag"),
    ("iam.role", "requestParameters.roleName"),
    ("iam.policy", "requestParameters.policyName"),
];

impl Extractor for CloudTrail {
    const FIELDS: &'static [Field] = &[
        Field::string("ct.id", "The unique ID of the event (eventID).").display("Event ID"),
        Field::string("ct.error", "The error code of the event (errorCode); no value if the call succeeded.").display("Error Code").output(),
        Field::string("ct.errormessage", "The error message (errorMessage).").display("Error Message"),
        Field::string("ct.time", "The event's time as written in the record (eventTime).").display("Timestamp").hidden(),
        Field::string("ct.src", "The AWS service that received the request (eventSource).").display("AWS Service"),
        Field::string("ct.shortsrc", "eventSource without its .amazonaws.com suffix.").display("AWS Service"),
        Field::string("ct.name", "The API call (eventName).").display("Event Name").output(),
        Field::string("ct.user", "Who made the request: the user name for Root and IAMUser, the service for AWSService, the role for AssumedRole.").display("User Name").output(),
        Field::string("ct.originaluser", "The user who assumed the role, for AssumedRole identities (the session name part of principalId).").display("Original User Name"),
        Field::string("ct.user.accountid", "The account id of the identity (userIdentity.accountId).").display("User Account ID"),
        Field::string("ct.user.identitytype", "The identity type (Root, IAMUser, AssumedRole, AWSService, …).").display("User Identity Type"),
        Field::string("ct.user.principalid", "A unique identifier of the identity (userIdentity.principalId).").display("User Principal Id"),
        Field::string("ct.user.arn", "The ARN of the identity (userIdentity.arn).").display("User ARN"),
        Field::string("ct.region", "The region the request was made to (awsRegion).").display("Region").output(),
        Field::string("ct.response", "The responseElements object, as JSON text.").display("Response Elements"),
        Field::string("ct.response.subnetid", "The subnet id in the response.").display("Response Subnet ID"),
        Field::string("ct.response.reservationid", "The reservation id in the response.").display("Response Reservation ID"),
        Field::string("ct.request", "The requestParameters object, as JSON text.").display("Request Parameters"),
        Field::string("ct.request.availabilityzone", "The availability zone in the request.").display("Request Availability Zone"),
        Field::string("ct.request.cluster", "The cluster in the request.").display("Request Cluster"),
        Field::string("ct.request.functionname", "The function name in the request.").display("Request Function Name"),
        Field::string("ct.request.groupname", "The group name in the request.").display("Request Group Name"),
        Field::string("ct.request.host", "The host in the request.").display("Request Host Name"),
        Field::string("ct.request.name", "The name of the entity acted on in the request.").display("Request Name"),
        Field::string("ct.request.policy", "The policy in the request.").display("Request Policy"),
        Field::string("ct.request.reason", "The reason in the request.").display("Request Reason"),
        Field::string("ct.request.target", "The target in the request.").display("Request Target"),
        Field::string("ct.request.documentname", "The document name in the request (SSM).").display("Request Document Name"),
        Field::string("ct.request.serialnumber", "The MFA device serial number in the request.").display("Request Serial Number"),
        Field::string("ct.request.servicename", "The service name in the request.").display("Request Service"),
        Field::string("ct.request.subnetid", "The subnet id in the request.").display("Request Subnet ID"),
        Field::string("ct.request.taskdefinition", "The task definition in the request.").display("Request Task Definition"),
        Field::string("ct.request.username", "The user name in the request.").display("Request User Name"),
        Field::string("ct.srcip", "The address the request came from (sourceIPAddress).").display("Source IP").output(),
        Field::string("ct.useragent", "The user agent of the request (userAgent).").display("User Agent"),
        Field::string("ct.info", "A one-line summary: user, source address, read/write, call and its object.").display("Info"),
        Field::string("ct.managementevent", "'true' for a management event (managementEvent), else 'false'.").display("Management Event"),
        Field::string("ct.readonly", "'true' if the call only reads; without a readOnly key, guessed from the call's verb.").display("Read Only"),
        Field::string("ct.requestid", "The request id (requestID).").display("Request ID"),
        Field::string("ct.eventtype", "The event type (AwsApiCall, AwsConsoleSignIn, …).").display("Event Type"),
        Field::string("ct.apiversion", "The API version (apiVersion).").display("API Version"),
        Field::string("ct.resources", "The resources list, as JSON text.").display("Resources"),
        Field::string("ct.recipientaccountid", "The account that received the event (recipientAccountId).").display("Recipient Account Id"),
        Field::string("ct.serviceeventdetails", "serviceEventDetails, as JSON text.").display("Service Event Details"),
        Field::string("ct.sharedeventid", "The shared event id (sharedEventID).").display("Shared Event ID"),
        Field::string("ct.vpcendpointid", "The VPC endpoint the request went through.").display("VPC Endpoint ID"),
        Field::string("ct.eventcategory", "The event category (Management, Data, Insight).").display("Event Category"),
        Field::string("ct.addendum.reason", "Why the event was delivered late or changed (addendum.reason).").display("Addendum Reason"),
        Field::string("ct.addendum.updatedfields", "The fields the addendum updated.").display("Addendum Updated Fields"),
        Field::string("ct.addendum.originalrequestid", "The original request id (addendum).").display("Addendum Original Request ID"),
        Field::string("ct.addendum.originaleventid", "The original event id (addendum).").display("Addendum Original Event ID"),
        Field::string("ct.sessioncredentialfromconsole", "Whether the session credentials came from the console.").display("Session Credential From Console"),
        Field::string("ct.edgedevicedetails", "edgeDeviceDetails, as JSON text.").display("Edge Device Details"),
        Field::string("ct.tlsdetails.tlsversion", "The TLS version of the request.").display("TLS Version"),
        Field::string("ct.tlsdetails.ciphersuite", "The TLS cipher suite of the request.").display("TLS Cipher Suite"),
        Field::string("ct.tlsdetails.clientprovidedhostheader", "The host header the client sent.").display("Client Provided Host Header"),
        Field::string("ct.additionaleventdata", "additionalEventData, as JSON text.").display("Additional Event Data"),
        Field::string("s3.uri", "s3://BUCKET/KEY of an S3 object request.").display("Key URI"),
        Field::string("s3.bucket", "The bucket of an S3 request.").display("Bucket Name"),
        Field::string("s3.key", "The object key of an S3 request.").display("Key Name"),
        Field::uint64("s3.bytes", "Bytes transferred by an S3 request (in + out).").display("Total Bytes"),
        Field::uint64("s3.bytes.in", "Bytes uploaded by an S3 request.").display("Bytes In"),
        Field::uint64("s3.bytes.out", "Bytes downloaded by an S3 request.").display("Bytes Out"),
        Field::uint64("s3.cnt.get", "1 for GetObject.").display("N Get Ops"),
        Field::uint64("s3.cnt.put", "1 for PutObject.").display("N Put Ops"),
        Field::uint64("s3.cnt.other", "1 for S3 calls other than GetObject and PutObject.").display("N Other Ops"),
        Field::string("ec2.name", "The Name tag of the instances in a RunInstances request.").display("Instance Name"),
        Field::string("ec2.imageid", "The image id of the first instance in the response.").display("Image Id"),
        Field::string("ec2.imageids", "The image ids of the instances in the response.").list().index(false).display("Image Ids"),
        Field::string("ecr.repository", "The ECR repository in the request.").display("ECR Repository"),
        Field::string("ecr.image.tag", "The image tag in the request.").display("Image Tag"),
        Field::string("iam.role", "The IAM role in the request.").display("IAM Role"),
        Field::string("iam.policy", "The IAM policy in the request.").display("IAM Policy"),
    ];

    fn extract(
        &mut self,
        ev: &EventInput,
        reqs: &[Request],
        out: &mut [Vec<Value>],
    ) -> Result<(), String> {
        let Some(mut d) = json::Doc::parse(ev.data) else {
            return Ok(());
        };
        for (r, o) in reqs.iter().zip(out) {
            extract_one(&mut d, r, o);
        }
        Ok(())
    }
}

/// The JSON path of each field of [`CloudTrail::FIELDS`] that is the text at
/// one path (by field index), so that extraction does not look names up.
fn path_of(field: u32) -> Option<&'static str> {
    static PATHS: std::sync::OnceLock<Vec<Option<&'static str>>> = std::sync::OnceLock::new();
    PATHS
        .get_or_init(|| {
            <CloudTrail as Extractor>::FIELDS
                .iter()
                .map(|f| {
                    PATH_FIELDS
                        .iter()
                        .find(|(n, _)| *n == f.name)
                        .map(|(_, p)| *p)
                })
                .collect()
        })
        .get(field as usize)
        .copied()
        .flatten()
}

fn extract_one(d: &mut Doc, r: &Request, o: &mut Vec<Value>) {
    if let Some(p) = path_of(r.field) {
        o.extend(d.text_at(p).map(Value::Str));
        return;
    }
    let text = |s: Option<String>| s.map(Value::Str);
    let v = match r.name {
        "ct.shortsrc" => text(
            d.text_at("eventSource")
                .map(|s| s.strip_suffix(".amazonaws.com").unwrap_or(&s).to_string()),
        ),
        "ct.user" => text(user(d)),
        "ct.originaluser" => text(
            (d.text_at("userIdentity.type").as_deref() == Some("AssumedRole"))
                .then(|| d.text_at("userIdentity.principalId"))
                .flatten()
                .and_then(|p| p.split_once(':').map(|(_, s)| s.to_string())),
        ),
        "ct.info" => Some(Value::Str(info(d))),
        "ct.managementevent" => Some(Value::Str(
            (d.get("managementEvent") == Some(&J::Bool(true))).to_string(),
        )),
        "ct.readonly" => readonly(d).map(|b| Value::Str(b.to_string())),
        "s3.uri" => text(
            d.text_at("requestParameters.bucketName")
                .zip(d.text_at("requestParameters.key"))
                .map(|(b, k)| format!("s3://{b}/{k}")),
        ),
        "s3.bytes" => s3_bytes(d, &["bytesTransferredIn", "bytesTransferredOut"]).map(Value::Num),
        "s3.bytes.in" => s3_bytes(d, &["bytesTransferredIn"]).map(Value::Num),
        "s3.bytes.out" => s3_bytes(d, &["bytesTransferredOut"]).map(Value::Num),
        "s3.cnt.get" | "s3.cnt.put" | "s3.cnt.other" => {
            let name = d.text_at("eventName").unwrap_or_default();
            let is_s3 = d.text_at("eventSource").as_deref() == Some("s3.amazonaws.com");
            let hit = match r.name {
                "s3.cnt.get" => name == "GetObject",
                "s3.cnt.put" => name == "PutObject",
                _ => is_s3 && name != "GetObject" && name != "PutObject",
            };
            hit.then_some(Value::Num(1))
        }
        "ec2.name" => d
            .path("requestParameters.tagSpecificationSet.items")
            .and_then(J::as_array)
            .and_then(|items| {
                items
                    .iter()
                    .filter(|i| i.get("resourceType").and_then(J::as_str) == Some("instance"))
                    .flat_map(|i| i.get("tags").and_then(J::as_array).into_iter().flatten())
                    .find(|t| t.get("key").and_then(J::as_str) == Some("Name"))
                    .and_then(|t| t.get("value").and_then(J::as_str))
                    .map(|s| Value::Str(s.to_string()))
            }),
        "ec2.imageid" | "ec2.imageids" => {
            let ids: Vec<String> = d
                .path("responseElements.instancesSet.items")
                .and_then(J::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|i| i.get("imageId").and_then(J::as_str).map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            if r.name == "ec2.imageid" {
                ids.into_iter().next().map(Value::Str)
            } else {
                match r.index {
                    Some(i) => ids.into_iter().nth(i as usize).map(Value::Str),
                    None => {
                        o.extend(ids.into_iter().map(Value::Str));
                        None
                    }
                }
            }
        }
        _ => None,
    };
    o.extend(v);
}

guest_sdk::export_source_plugin!(CloudTrail);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_field_is_a_field() {
        for (name, path) in PATH_FIELDS {
            let i = <CloudTrail as Extractor>::FIELDS
                .iter()
                .position(|f| f.name == *name)
                .unwrap_or_else(|| panic!("{name} is not in FIELDS"));
            assert_eq!(path_of(i as u32), Some(*path));
        }
    }

    #[test]
    fn users_by_identity_type() {
        let data = br#"{"userIdentity":{"type":"AssumedRole","principalId":"AROAX:alice","sessionContext":{"sessionIssuer":{"userName":"Admin"}}},"sourceIPAddress":"198.51.100.7","eventName":"CreateUser","readOnly":false}"#;
        let mut d = Doc::parse(data).unwrap();
        assert_eq!(user(&mut d).as_deref(), Some("Admin"));
        assert_eq!(info(&mut d), "Admin via 198.51.100.7 → CreateUser");
        let field = <CloudTrail as Extractor>::FIELDS
            .iter()
            .position(|f| f.name == "ct.originaluser")
            .unwrap() as u32;
        let r = Request {
            field,
            name: "ct.originaluser",
            key: None,
            index: None,
        };
        let mut o = Vec::new();
        extract_one(&mut d, &r, &mut o);
        assert_eq!(o, vec![Value::Str("alice".into())]);
        let mut root =
            Doc::parse(br#"{"userIdentity":{"type":"Root","userName":"root"},"eventName":"DescribeInstances"}"#)
                .unwrap();
        assert_eq!(user(&mut root).as_deref(), Some("root"));
        assert_eq!(readonly(&mut root), Some(true));
    }
}
