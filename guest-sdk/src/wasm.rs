//! The component side (wasm32 only): bindings of both worlds and the glue
//! the export macros call. Not public API.

#![allow(unsafe_code, unreachable_pub, missing_docs, clippy::all)]

pub mod source {
    wit_bindgen::generate!({
        world: "source-plugin",
        path: "../wit",
        pub_export_macro: true,
        export_macro_name: "export_source",
        default_bindings_module: "guest_sdk::wasm::source",
    });
}

pub use extractor_bindings as extractor;

pub(crate) fn log(level: crate::LogLevel, message: &str) {
    use source::falco_wasm::plugin::host::{LogLevel as L, log};
    let l = match level {
        crate::LogLevel::Fatal => L::Fatal,
        crate::LogLevel::Critical => L::Critical,
        crate::LogLevel::Error => L::Error,
        crate::LogLevel::Warning => L::Warning,
        crate::LogLevel::Notice => L::Notice,
        crate::LogLevel::Info => L::Info,
        crate::LogLevel::Debug => L::Debug,
        crate::LogLevel::Trace => L::Trace,
    };
    log(l, message);
}

pub(crate) fn receive(max: u32) -> Vec<Vec<u8>> {
    source::falco_wasm::plugin::host::receive(max)
}

pub(crate) fn http(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<crate::HttpResponse, String> {
    use source::falco_wasm::plugin::host::{HttpRequest, http};
    let r = http(&HttpRequest {
        method: method.to_string(),
        url: url.to_string(),
        headers: headers.to_vec(),
        body: body.to_vec(),
    })?;
    Ok(crate::HttpResponse {
        status: r.status,
        headers: r.headers,
        body: r.body,
    })
}

/// The glue shared by both worlds, over one world's generated types.
macro_rules! glue {
    ($bindings:ident) => {
        use crate::wasm::$bindings::falco_wasm::plugin::types as t;
        use crate::{Arg, Extractor, FieldType, Plugin};
        use std::cell::RefCell;
        use std::thread::LocalKey;

        pub type State<P> = LocalKey<RefCell<Option<P>>>;

        fn with<P, R>(s: &'static State<P>, f: impl FnOnce(&mut P) -> R) -> Result<R, String> {
            s.with(|c| match c.borrow_mut().as_mut() {
                Some(p) => Ok(f(p)),
                None => Err("plugin not initialised".to_string()),
            })
        }

        pub fn info<P: Plugin>() -> t::PluginInfo {
            t::PluginInfo {
                name: P::NAME.into(),
                version: P::VERSION.into(),
                description: P::DESCRIPTION.into(),
                contact: P::CONTACT.into(),
                required_api_version: crate::API_VERSION.into(),
                init_schema: P::INIT_SCHEMA.map(Into::into),
                default_rules: P::DEFAULT_RULES.map(Into::into),
                companions: P::COMPANIONS.iter().map(|c| c.to_string()).collect(),
            }
        }

        pub fn init<P: Plugin>(s: &'static State<P>, config: &str) -> Result<(), String> {
            let p = P::new(config)?;
            s.with(|c| *c.borrow_mut() = Some(p));
            Ok(())
        }

        pub fn metrics<P: Plugin>(s: &'static State<P>) -> Vec<t::Metric> {
            with(s, |p| p.metrics())
                .unwrap_or_default()
                .into_iter()
                .map(|m| t::Metric {
                    name: m.name,
                    value: m.value,
                    monotonic: m.monotonic,
                })
                .collect()
        }

        pub fn fields<P: Extractor>() -> Vec<t::FieldInfo> {
            P::FIELDS
                .iter()
                .map(|f| t::FieldInfo {
                    name: f.name.into(),
                    type_: match f.ty {
                        FieldType::String => t::FieldType::String,
                        FieldType::Uint64 => t::FieldType::Uint64,
                        FieldType::Bool => t::FieldType::Bool,
                        FieldType::RelTime => t::FieldType::Reltime,
                        FieldType::AbsTime => t::FieldType::Abstime,
                        FieldType::IpAddr => t::FieldType::Ipaddr,
                        FieldType::IpNet => t::FieldType::Ipnet,
                    },
                    is_list: f.list,
                    arg: match f.arg {
                        Arg::None => t::FieldArg {
                            is_required: false,
                            is_index: false,
                            is_key: false,
                        },
                        Arg::Index { required } => t::FieldArg {
                            is_required: required,
                            is_index: true,
                            is_key: false,
                        },
                        Arg::Key { required } => t::FieldArg {
                            is_required: required,
                            is_index: false,
                            is_key: true,
                        },
                    },
                    display: f.display.into(),
                    desc: f.desc.into(),
                    add_output: f.add_output,
                    properties: if f.hidden {
                        vec!["hidden".into()]
                    } else {
                        Vec::new()
                    },
                })
                .collect()
        }

        pub fn extract_sources<P: Extractor>() -> Vec<String> {
            P::EXTRACT_SOURCES.iter().map(|s| s.to_string()).collect()
        }

        pub fn extract<P: Extractor>(
            s: &'static State<P>,
            events: t::EventBatch,
            requests: Vec<t::FieldRequest>,
        ) -> Result<t::Values, String> {
            let reqs = crate::native::requests::<P>(
                requests
                    .iter()
                    .map(|r| (r.field, r.arg_key.as_deref(), r.arg_index)),
            )?;
            let batch = crate::EventBatch {
                source: &events.source,
                data: &events.data,
                ends: &events.ends,
                nums: &events.nums,
                timestamps: &events.timestamps,
            };
            let mut out = crate::Values::new();
            with(s, |p| {
                crate::native::extract_cells(p, &batch, &reqs, &mut out)
            })??;
            let (ends, items, text) = out.into_parts();
            Ok(t::Values {
                ends,
                items: items
                    .into_iter()
                    .map(|it| {
                        let (kind, a, b) = it.to_wire();
                        let kind = match kind {
                            crate::ItemKind::Str => t::ValueKind::Str,
                            crate::ItemKind::Num => t::ValueKind::Num,
                            crate::ItemKind::Flag => t::ValueKind::Flag,
                            crate::ItemKind::Addr4 => t::ValueKind::Addr4,
                            crate::ItemKind::Addr6 => t::ValueKind::Addr6,
                        };
                        t::Value { kind, a, b }
                    })
                    .collect(),
                text,
            })
        }
    };
}

pub mod extractor_glue {
    glue!(extractor);
}

pub mod source_glue {
    glue!(source);
    use crate::Source;

    pub fn source_info<P: Source>() -> t::SourceInfo {
        t::SourceInfo {
            id: P::ID,
            event_source: P::EVENT_SOURCE.into(),
        }
    }

    pub fn list_open_params<P: Source>(s: &'static State<P>) -> Result<Vec<t::OpenParam>, String> {
        with(s, |p| {
            p.open_params()
                .into_iter()
                .map(|o| t::OpenParam {
                    value: o.value,
                    desc: o.desc,
                    separator: o.separator,
                })
                .collect()
        })
    }

    pub fn open<P: Source>(s: &'static State<P>, params: &str) -> Result<(), String> {
        with(s, |p| p.open(params))?
    }

    pub fn next_batch<P: Source>(s: &'static State<P>, max: u32) -> Result<t::Batch, String> {
        with(s, |p| {
            let mut evs = crate::Events::new();
            let status = p.next_batch(max as usize, &mut evs)?;
            let (data, ends, timestamps) = evs.into_parts();
            Ok(t::Batch {
                data,
                ends,
                timestamps,
                status: match status {
                    crate::BatchStatus::Ok => t::BatchStatus::Ok,
                    crate::BatchStatus::Timeout => t::BatchStatus::Timeout,
                    crate::BatchStatus::Eof => t::BatchStatus::Eof,
                },
            })
        })?
    }

    pub fn progress<P: Source>(s: &'static State<P>) -> t::ProgressReport {
        let (percent, text) = with(s, |p| p.progress()).unwrap_or_default();
        t::ProgressReport { percent, text }
    }

    pub fn event_to_string<P: Source>(s: &'static State<P>, data: &[u8]) -> String {
        with(s, |p| p.event_to_string(data)).unwrap_or_default()
    }

    pub fn close<P: Source>(s: &'static State<P>) {
        let _ = with(s, |p| p.close());
    }
}
