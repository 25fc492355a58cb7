//! Helpers for plugins whose payloads are JSON.

use serde_json::Value as J;

/// Parses a payload (`None` if it is not JSON).
pub fn parse(data: &[u8]) -> Option<J> {
    serde_json::from_slice(data).ok()
}

/// Follows an RFC 6901 JSON pointer (`/a/b/0`; "" is the whole document).
pub fn pointer<'a>(doc: &'a J, ptr: &str) -> Option<&'a J> {
    doc.pointer(ptr)
}

/// Follows a dotted path (`userIdentity.sessionContext.attributes.mfaAuthenticated`).
pub fn path<'a>(doc: &'a J, dotted: &str) -> Option<&'a J> {
    dotted.split('.').try_fold(doc, |v, k| v.get(k))
}

/// Falco's rendering of a JSON value as a field's text: strings without
/// quotes, everything else as compact JSON. `null` is no value.
pub fn text(v: &J) -> Option<String> {
    match v {
        J::Null => None,
        J::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The text at a dotted path.
pub fn text_at(doc: &J, dotted: &str) -> Option<String> {
    path(doc, dotted).and_then(text)
}
