//! The field registry: every field a condition or an output may name, per
//! event source, with its type, argument kind and description.
//!
//! The `syscall` source's fields are built in ([`syscall`]); plugin sources
//! register theirs when their plugin loads. Rules are type-checked against
//! this registry before anything runs.

mod def;
mod syscall;

pub use def::{ArgKind, FieldDef, FieldFlags, FieldType, ValueKind};
use std::collections::HashMap;

/// The name of the built-in system call source.
pub const SYSCALL_SOURCE: &str = "syscall";

/// Index of a field inside its source's table.
pub type FieldId = u32;

/// What [`SourceFields::lookup`] found: the field and its argument, checked.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ResolvedField {
    /// The field.
    pub id: FieldId,
    /// The argument (bracketed, or the dotted suffix of a prefix field).
    pub arg: Option<String>,
}

/// The fields of one event source.
#[derive(Clone, Debug)]
pub struct SourceFields {
    /// The source's name (`syscall`, `aws_cloudtrail`, …).
    pub source: String,
    /// Who provides the fields (`falco-wasm` for built-in ones, else a plugin name).
    pub provider: String,
    fields: Vec<FieldDef>,
    by_name: HashMap<&'static str, FieldId>,
    /// Names usable as `evt.type` values in this source.
    event_names: Vec<&'static str>,
}

/// Why a field reference is not valid.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// No such field in the source.
    #[error("filter_check called with nonexistent field {0}")]
    Unknown(String),
    /// The field needs an argument.
    #[error("filter field '{0}' requires an argument but none provided")]
    MissingArg(String),
    /// The field takes no argument.
    #[error("filter field '{0}' does not accept an argument")]
    UnexpectedArg(String),
    /// The index argument is not a number.
    #[error(
        "filter field '{0}' has an invalid index argument '{1}': expected a non-negative integer"
    )]
    BadIndex(String, String),
}

impl SourceFields {
    /// Builds a source's table from static definitions.
    pub fn new(
        source: &str,
        provider: &str,
        fields: &[FieldDef],
        event_names: &[&'static str],
    ) -> SourceFields {
        let by_name = fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name, i as FieldId))
            .collect();
        SourceFields {
            source: source.to_string(),
            provider: provider.to_string(),
            fields: fields.to_vec(),
            by_name,
            event_names: event_names.to_vec(),
        }
    }

    /// The built-in `syscall` source.
    pub fn syscall() -> SourceFields {
        SourceFields::new(
            SYSCALL_SOURCE,
            "falco-wasm",
            syscall::SYSCALL_FIELDS,
            syscall::SYSCALL_EVENT_NAMES,
        )
    }

    /// Every field, in registry order.
    pub fn fields(&self) -> &[FieldDef] {
        &self.fields
    }

    /// A field's definition.
    pub fn def(&self, id: FieldId) -> &FieldDef {
        &self.fields[id as usize]
    }

    /// Event names known to the source (empty for plugin sources).
    pub fn event_names(&self) -> &[&'static str] {
        &self.event_names
    }

    /// Whether `name` is a known event type of this source.
    pub fn is_event_name(&self, name: &str) -> bool {
        self.event_names.binary_search(&name).is_ok()
    }

    /// Finds a field by the name and argument written in a condition.
    pub fn lookup(&self, name: &str, arg: Option<&str>) -> Result<ResolvedField, FieldError> {
        let full = || match arg {
            Some(a) => format!("{name}[{a}]"),
            None => name.to_string(),
        };
        if let Some(&id) = self.by_name.get(name) {
            let def = &self.fields[id as usize];
            return match (def.arg, arg) {
                (ArgKind::None, Some(_)) => Err(FieldError::UnexpectedArg(full())),
                (ArgKind::Index { required: true } | ArgKind::Key { required: true }, None) => {
                    Err(FieldError::MissingArg(name.to_string()))
                }
                (ArgKind::Index { .. }, Some(a)) if a.parse::<u32>().is_err() => {
                    Err(FieldError::BadIndex(name.to_string(), a.to_string()))
                }
                _ => Ok(ResolvedField {
                    id,
                    arg: arg.map(str::to_string),
                }),
            };
        }
        // Prefix fields: `evt.arg.NAME`, `evt.rawarg.NAME`.
        if arg.is_none()
            && let Some(dot) = name.rfind('.')
            && let Some(&id) = self.by_name.get(&name[..=dot])
        {
            return Ok(ResolvedField {
                id,
                arg: Some(name[dot + 1..].to_string()),
            });
        }
        Err(FieldError::Unknown(full()))
    }

    /// The field's display name with its argument (`proc.aname[2]`, `evt.arg.flags`).
    pub fn display(&self, field: &ResolvedField) -> String {
        let def = self.def(field.id);
        match (&field.arg, def.name.ends_with('.')) {
            (Some(a), true) => format!("{}{a}", def.name),
            (Some(a), false) => format!("{}[{a}]", def.name),
            (None, _) => def.name.to_string(),
        }
    }
}

/// Every registered source's fields.
#[derive(Clone, Debug, Default)]
pub struct FieldRegistry {
    sources: Vec<SourceFields>,
}

impl FieldRegistry {
    /// A registry with the built-in sources only.
    pub fn builtin() -> FieldRegistry {
        FieldRegistry {
            sources: vec![SourceFields::syscall()],
        }
    }

    /// Adds (or replaces) a source's fields.
    pub fn register(&mut self, fields: SourceFields) {
        self.sources.retain(|s| s.source != fields.source);
        self.sources.push(fields);
    }

    /// A source's fields.
    pub fn source(&self, name: &str) -> Option<&SourceFields> {
        self.sources.iter().find(|s| s.source == name)
    }

    /// Every registered source.
    pub fn sources(&self) -> &[SourceFields] {
        &self.sources
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stable_ruleset_field_is_known() {
        // Reference §2.4: the fields Falco's stable, incubating and sandbox rules use.
        let s = SourceFields::syscall();
        for f in [
            "proc.cmdline",
            "proc.name",
            "proc.pname",
            "evt.type",
            "proc.aname[2]",
            "proc.args",
            "user.name",
            "proc.tty",
            "user.uid",
            "proc.exepath",
            "user.loginuid",
            "fd.name",
            "proc.pcmdline",
            "evt.arg.flags",
            "proc.pexe",
            "container.image.repository",
            "fd.typechar",
            "evt.arg.request",
            "proc.cwd",
            "fd.l4proto",
            "fd.type",
            "proc.exe",
            "evt.res",
            "proc.aname",
            "thread.cap_effective",
            "fd.directory",
            "fd.lport",
            "fd.rport",
            "evt.arg.target",
            "fd.num",
            "fd.nameraw",
            "evt.arg.oldpath",
            "evt.rawres",
            "proc.pexepath",
            "fd.sip",
            "group.gid",
            "group.name",
            "user.loginname",
            "proc.sname",
            "container.start_ts",
            "evt.arg.domain",
            "container.privileged",
            "proc.is_exe_upper_layer",
            "proc.is_exe_from_memfd",
            "evt.is_open_write",
            "evt.is_open_read",
            "evt.num",
            "proc.duration",
            "container.id",
            "k8s.ns.name",
            "fd.sip.name",
            "fd.filename",
            "fd.connected",
            "fd.name_changed",
            "fd.ip",
            "fd.net",
            "fd.snet",
            "fd.sport",
            "evt.arg.linkpath",
            "evt.arg.newpath",
            "evt.args",
            "proc.aexepath[1]",
            "proc.exe_ino.ctime",
            "proc.exe_ino.mtime",
            "proc.exe_ino.ctime_duration_proc_start",
            "evt.arg.path",
            "evt.arg.name",
            "evt.arg.uid",
            "evt.arg.mode",
            "evt.arg.cmd",
            "evt.arg.fd",
            "evt.arg.filename",
            "container.mount.dest[/var/run/docker.sock]",
            "container.mounts",
            "thread.cap_permitted",
            "proc.env",
            "proc.vpid",
            "proc.aexe[2]",
            "proc.is_vpgid_leader",
            "fd.cip",
            "fd.cip.name",
            "fd.rip",
            "fd.rip.name",
            "fd.lip.name",
            "fd.cnet",
            "fd.rnet",
            "fd.port",
            "fd.sockfamily",
            "evt.buffer",
            "evt.is_open_exec",
            "k8s.pod.name",
            "evt.rawarg.res",
        ] {
            let (name, arg) = match f.split_once('[') {
                Some((n, a)) => (n, Some(a.trim_end_matches(']'))),
                None => (f, None),
            };
            s.lookup(name, arg).unwrap_or_else(|e| panic!("{f}: {e}"));
        }
    }

    #[test]
    fn argument_checks() {
        let s = SourceFields::syscall();
        assert!(matches!(
            s.lookup("proc.name", Some("1")),
            Err(FieldError::UnexpectedArg(_))
        ));
        assert!(matches!(
            s.lookup("proc.aname", Some("x")),
            Err(FieldError::BadIndex(..))
        ));
        assert!(matches!(
            s.lookup("proc.nope", None),
            Err(FieldError::Unknown(_))
        ));
        let f = s.lookup("evt.arg.flags", None).unwrap();
        assert_eq!(s.display(&f), "evt.arg.flags");
        let f = s.lookup("proc.aname", Some("2")).unwrap();
        assert_eq!(s.display(&f), "proc.aname[2]");
    }

    #[test]
    fn event_names_are_sorted_and_cover_the_stable_rules() {
        let s = SourceFields::syscall();
        let names = s.event_names();
        assert!(
            names.windows(2).all(|w| w[0] < w[1]),
            "SYSCALL_EVENT_NAMES must be sorted and unique"
        );
        for n in [
            "execve",
            "execveat",
            "open",
            "openat",
            "openat2",
            "connect",
            "sendto",
            "sendmsg",
            "socket",
            "symlink",
            "symlinkat",
            "link",
            "linkat",
            "dup",
            "dup2",
            "dup3",
            "init_module",
            "finit_module",
            "ptrace",
            "procexit",
            "clone3",
            "accept4",
        ] {
            assert!(s.is_event_name(n), "{n}");
        }
    }
}
