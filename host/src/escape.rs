//! Escaping text for one-line output: what the engine writes (alert
//! lines, log lines, listings) comes partly from untrusted parties (field
//! values, plugins' messages), and must neither break into a second line
//! nor drive a terminal. Shared by the outputs and the plugin host.

use std::fmt::Write;

/// Appends `bytes` with control characters escaped, so that the text stays
/// on one line and cannot drive a terminal: `\n`, `\r`, `\t`; `\xNN` for
/// other C0 controls, DEL and bytes that are not UTF-8; `\u00NN` for C1
/// controls (U+0080..U+009F, some terminals act on them), `\u2028` and
/// `\u2029` (line and paragraph separators), and the bidirectional
/// embedding, override and isolate controls (U+202A..U+202E,
/// U+2066..U+2069: they reorder what a reader sees). Everything else,
/// printable UTF-8 and backslashes included, is copied unchanged.
pub fn push_escaped(out: &mut String, bytes: &[u8]) {
    for chunk in bytes.utf8_chunks() {
        push_escaped_str(out, chunk.valid());
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
}

/// [`push_escaped`] for text that is UTF-8 (a scan of the bytes: the
/// characters to escape start with an ASCII control, 0xC2 or 0xE2; the
/// common case copies runs of bytes).
pub fn push_escaped_str(out: &mut String, s: &str) {
    let b = s.as_bytes();
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        // In UTF-8, 0xC2 and 0xE2 only start characters (of 2 and 3 bytes).
        let (len, code) = match b[i] {
            c @ (0..=0x1f | 0x7f) => (1, Some(u32::from(c))),
            0xc2 if b[i + 1] < 0xa0 => (2, Some(u32::from(b[i + 1]))),
            0xe2 => {
                let c = 0x2000 | (u32::from(b[i + 1] & 0x3f) << 6) | u32::from(b[i + 2] & 0x3f);
                (3, is_escaped(c).then_some(c))
            }
            _ => (1, None),
        };
        if let Some(c) = code {
            out.push_str(&s[copied..i]);
            push_escape(out, c);
            copied = i + len;
        }
        i += len;
    }
    out.push_str(&s[copied..]);
}

/// Whether [`push_escaped`] escapes code point `c`.
fn is_escaped(c: u32) -> bool {
    c < 0x20
        || (0x7f..0xa0).contains(&c)
        || matches!(c, 0x2028 | 0x2029 | 0x202a..=0x202e | 0x2066..=0x2069)
}

/// The code point of a character [`push_escaped`] escapes.
pub fn escape_of(ch: char) -> Option<u32> {
    let c = u32::from(ch);
    is_escaped(c).then_some(c)
}

/// Writes the escape of a code point [`escape_of`] selects.
pub fn push_escape(out: &mut String, c: u32) {
    let _ = match c {
        0x0a => write!(out, "\\n"),
        0x0d => write!(out, "\\r"),
        0x09 => write!(out, "\\t"),
        0..0x80 => write!(out, "\\x{c:02x}"),
        _ => write!(out, "\\u{c:04x}"),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(s: &str) -> String {
        let mut out = String::new();
        push_escaped(&mut out, s.as_bytes());
        out
    }

    #[test]
    fn the_byte_scan_and_the_char_test_agree() {
        for c in (0..0x3000).filter_map(char::from_u32) {
            let s = c.to_string();
            let by_char = match escape_of(c) {
                Some(code) => {
                    let mut o = String::new();
                    push_escape(&mut o, code);
                    o
                }
                None => s.clone(),
            };
            assert_eq!(escaped(&s), by_char, "U+{:04X}", c as u32);
        }
        assert_eq!(escaped("a\u{202e}b\u{2067}c€"), "a\\u202eb\\u2067c€");
    }
}
