//! The fields a file event's rules read for nearly every event (the open
//! macros' `fd.num`, `fd.typechar`, `evt.is_open_read`/`write`, then
//! `fd.name`), dispatched by a tag decided once per field rather than by
//! comparing the name with every field of its class.

use super::SyscallEvent;
use crate::filter::value::ValueSink;

/// A field extracted without a name comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Hot {
    FdNum,
    FdTypechar,
    FdName,
    FdNameraw,
    EvtIsOpenRead,
    EvtIsOpenWrite,
    EvtRawres,
}

impl Hot {
    /// The tag of a field name, if it is one of these.
    pub(super) fn of(name: &str) -> Option<Hot> {
        Some(match name {
            "fd.num" => Hot::FdNum,
            "fd.typechar" => Hot::FdTypechar,
            "fd.name" => Hot::FdName,
            "fd.nameraw" => Hot::FdNameraw,
            "evt.is_open_read" => Hot::EvtIsOpenRead,
            "evt.is_open_write" => Hot::EvtIsOpenWrite,
            "evt.rawres" => Hot::EvtRawres,
            _ => return None,
        })
    }
}

impl SyscallEvent<'_> {
    /// Writes a hot field's value (nothing when the event has no fd).
    pub(super) fn hot_field(&self, h: Hot, out: &mut dyn ValueSink) {
        match h {
            Hot::FdNum => {
                if let Some(n) = self.fd_num {
                    out.num(n)
                }
            }
            Hot::FdTypechar | Hot::FdName | Hot::FdNameraw => {
                let Some(fd) = self.fd() else { return };
                let v = match h {
                    Hot::FdTypechar => fd.kind.typechar(),
                    Hot::FdName => &fd.name,
                    _ => fd.nameraw.as_deref().unwrap_or(&fd.name),
                };
                out.bytes(v.as_bytes())
            }
            Hot::EvtIsOpenRead => out.bool(self.open_flags().is_some_and(|f| f & 3 != 1)),
            Hot::EvtIsOpenWrite => out.bool(self.open_flags().is_some_and(|f| f & 3 != 0)),
            Hot::EvtRawres => out.num(self.rec.ret),
        }
    }
}
