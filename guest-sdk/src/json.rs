//! Helpers for plugins whose payloads are JSON.

use serde_json::Value as J;

/// Parses a payload (`None` if it is not JSON).
pub fn parse(data: &[u8]) -> Option<J> {
    serde_json::from_slice(data).ok()
}

/// `data` as text if it is valid UTF-8 (checked with SIMD where the target
/// has it).
pub fn utf8(data: &[u8]) -> Option<&str> {
    simdutf8::basic::from_utf8(data).ok()
}

/// [`String::from_utf8`] with the SIMD check of [`utf8`]; `None` if `data`
/// is not UTF-8.
pub fn utf8_string(data: Vec<u8>) -> Option<String> {
    utf8(&data)?;
    // SAFETY: `utf8` just checked that `data` is valid UTF-8.
    #[allow(unsafe_code)]
    Some(unsafe { String::from_utf8_unchecked(data) })
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

/// A JSON document read lazily, without building it: the top level is
/// indexed once (no allocation for nested values), then each field walks
/// the raw text to its value and decodes only that. Extractors that read some fields of
/// large payloads do far less work than with a full parse.
pub struct Doc<'a> {
    raw: &'a str,
    /// The top-level members (key, raw value), when the document is an object.
    top: Vec<(std::borrow::Cow<'a, str>, &'a str)>,
    /// Values parsed for callers that want a [`J`] (by their raw text's address).
    parsed: Vec<(usize, J)>,
}

impl<'a> Doc<'a> {
    /// `None` if the payload is not JSON. An object's structure is checked
    /// as its members are indexed (one pass); nested values are checked
    /// when a field decodes them. Other documents are validated in full.
    pub fn parse(data: &'a [u8]) -> Option<Doc<'a>> {
        let raw = trim_ws(utf8(data)?);
        let top = if raw.starts_with('{') {
            members(raw)?
        } else {
            serde_json::from_str::<serde::de::IgnoredAny>(raw).ok()?;
            Vec::new()
        };
        Some(Doc {
            raw,
            top,
            parsed: Vec::new(),
        })
    }

    /// A top-level member's raw value (from the index).
    fn top_member(&self, key: &str) -> Option<&'a str> {
        self.top
            .iter()
            .find(|(k, _)| key_eq(k, key))
            .map(|(_, v)| *v)
    }

    /// The raw text of the value at `keys` (object keys or array indexes).
    fn raw_at<'k>(&self, keys: impl IntoIterator<Item = Key<'k>>) -> Option<&'a str> {
        let mut keys = keys.into_iter();
        let first = match keys.next() {
            None => return Some(self.raw),
            Some(Key::Name(n)) => self.top_member(&n),
            Some(Key::Either(n, i)) => self.top_member(&n).or_else(|| element(self.raw, i)),
        }?;
        keys.try_fold(first, |v, k| match k {
            Key::Name(n) => member(v, &n),
            Key::Either(n, i) => member(v, &n).or_else(|| element(v, i)),
        })
    }

    /// Parses (once) the value whose raw text is `raw`.
    fn value(&mut self, raw: &'a str) -> Option<&J> {
        let addr = raw.as_ptr() as usize;
        let pos = match self.parsed.iter().position(|(a, _)| *a == addr) {
            Some(p) => p,
            None => {
                self.parsed.push((addr, serde_json::from_str(raw).ok()?));
                self.parsed.len() - 1
            }
        };
        Some(&self.parsed[pos].1)
    }

    /// The whole document.
    pub fn whole(&mut self) -> Option<&J> {
        self.value(self.raw)
    }

    /// The whole document as compact JSON text (as serde_json writes it).
    pub fn to_json(&self) -> Option<String> {
        let mut out = String::with_capacity(self.raw.len());
        compact(self.raw, &mut out)?;
        Some(out)
    }

    /// A top-level member.
    pub fn get(&mut self, key: &str) -> Option<&J> {
        let raw = self.top_member(key)?;
        self.value(raw)
    }

    /// The value at a dotted path (`userIdentity.type`).
    pub fn path(&mut self, dotted: &str) -> Option<&J> {
        let raw = self.raw_at(dotted_keys(dotted))?;
        self.value(raw)
    }

    /// The value at an RFC 6901 pointer (`/a/b/0`; "" is the whole document).
    pub fn pointer(&mut self, ptr: &str) -> Option<&J> {
        let raw = self.pointer_raw(ptr)?;
        self.value(raw)
    }

    fn pointer_raw(&self, ptr: &str) -> Option<&'a str> {
        if ptr.is_empty() {
            return Some(self.raw);
        }
        let keys = split_byte(ptr.strip_prefix('/')?, b'/').map(|t| {
            let name = if t.bytes().any(|c| c == b'~') {
                std::borrow::Cow::Owned(t.replace("~1", "/").replace("~0", "~"))
            } else {
                std::borrow::Cow::Borrowed(t)
            };
            // An array index: digits, no leading zero (RFC 6901).
            let digits = t.bytes().all(|c| c.is_ascii_digit()) && (t == "0" || !t.starts_with('0'));
            match digits.then(|| t.parse::<usize>().ok()).flatten() {
                Some(i) => Key::Either(name, i),
                None => Key::Name(name),
            }
        });
        self.raw_at(keys)
    }

    /// The raw JSON text of the value at a dotted path (not decoded).
    pub fn raw_at_path(&self, dotted: &str) -> Option<&'a str> {
        self.raw_at(dotted_keys(dotted))
    }

    /// The text at a dotted path ([`text`]).
    pub fn text_at(&mut self, dotted: &str) -> Option<String> {
        let raw = self.raw_at(dotted_keys(dotted))?;
        self.render(raw)
    }

    /// The text at a pointer ([`text`]).
    pub fn text_at_pointer(&mut self, ptr: &str) -> Option<String> {
        let raw = self.pointer_raw(ptr)?;
        self.render(raw)
    }

    /// [`text`] of a raw value: strings decoded, scalars as written,
    /// objects and arrays as compact JSON, `null` as no value.
    fn render(&mut self, raw: &'a str) -> Option<String> {
        render_raw(raw)
    }
}

/// [`text`] of a raw value (containers are parsed to be written compactly).
fn render_raw(raw: &str) -> Option<String> {
    match raw.as_bytes().first()? {
        b'"' if memchr::memchr(b'\\', raw.as_bytes()).is_none() => {
            Some(sub(raw, 1, raw.len() - 1).to_string())
        }
        b'"' => serde_json::from_str(raw).ok(),
        b'n' => None,
        b'{' | b'[' => {
            let mut out = String::with_capacity(raw.len());
            compact(raw, &mut out)?;
            Some(out)
        }
        _ => Some(raw.to_string()),
    }
}

/// Writes the raw JSON value `raw` to `out` as serde_json writes it once
/// parsed (compact, object keys sorted, the last of duplicate keys kept,
/// numbers normalized, strings escaped the same way), without building
/// it: containers are walked in place, and only unusual strings and
/// numbers go through serde_json. `None` if `raw` is not valid JSON.
fn compact(raw: &str, out: &mut String) -> Option<()> {
    let b = raw.as_bytes();
    match *b.first()? {
        b'{' => {
            let mut members = members(raw)?;
            // Stable: equal keys stay in document order, and the last wins.
            members.sort_by(|x, y| x.0.cmp(&y.0));
            out.push('{');
            for (n, (k, v)) in members.iter().enumerate() {
                if members.get(n + 1).is_some_and(|next| next.0 == *k) {
                    continue;
                }
                if !out.ends_with('{') {
                    out.push(',');
                }
                compact_str(k, out);
                out.push(':');
                compact(v, out)?;
            }
            out.push('}');
        }
        b'[' => {
            out.push('[');
            for (n, v) in split_array(raw)?.into_iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                compact(v, out)?;
            }
            out.push(']');
        }
        b'"' => {
            if string_end(b, 0) != Some(b.len()) {
                return None;
            }
            let inner = sub(raw, 1, raw.len() - 1);
            if inner.bytes().all(|c| c >= 0x20 && c != b'\\') {
                out.push_str(raw);
            } else {
                compact_str(&serde_json::from_str::<String>(raw).ok()?, out);
            }
        }
        b't' | b'f' | b'n' => {
            if !matches!(raw, "true" | "false" | "null") {
                return None;
            }
            out.push_str(raw);
        }
        _ => {
            let digits = raw.strip_prefix('-').unwrap_or(raw);
            let plain = !digits.is_empty()
                && digits.bytes().all(|c| c.is_ascii_digit())
                && (raw == "0" || !digits.starts_with('0')) // serde writes -0 as -0.0
                && (raw.parse::<u64>().is_ok() || raw.parse::<i64>().is_ok());
            if plain {
                out.push_str(raw);
            } else {
                let n: serde_json::Number = serde_json::from_str(raw).ok()?;
                out.push_str(&n.to_string());
            }
        }
    }
    Some(())
}

/// `s` as a JSON string, escaped as serde_json does.
fn compact_str(s: &str, out: &mut String) {
    if s.bytes().all(|c| c >= 0x20 && c != b'"' && c != b'\\') {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else if let Ok(quoted) = serde_json::to_string(s) {
        out.push_str(&quoted);
    }
}

/// The text ([`text`]) of the top-level member `key` of the JSON object
/// `json`, walking the members only as far as that one (nothing is indexed
/// or decoded on the way). `None` if there is no such member or the object
/// is malformed before it.
pub fn top_member_text(json: &str, key: &str) -> Option<String> {
    render_raw(member(trim_ws(json), key)?)
}

/// The keys of a dotted path.
fn dotted_keys(dotted: &str) -> impl Iterator<Item = Key<'_>> {
    split_byte(dotted, b'.').map(|k| Key::Name(std::borrow::Cow::Borrowed(k)))
}

/// `s` split at each `sep` (an ASCII byte), with a byte loop: paths are
/// short, and `str::split` calls a general search for each part.
fn split_byte(s: &str, sep: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let r = rest?;
        match r.bytes().position(|b| b == sep) {
            Some(i) => {
                rest = Some(sub(r, i + 1, r.len()));
                Some(sub(r, 0, i))
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// `s` without JSON whitespace around it.
fn trim_ws(s: &str) -> &str {
    s.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
}

/// A step of a path.
enum Key<'k> {
    Name(std::borrow::Cow<'k, str>),
    /// A pointer token that may be a key or an index.
    Either(std::borrow::Cow<'k, str>, usize),
}

/// `s[start..end]`, inlined: the scanners slice at the positions of ASCII
/// bytes they found (or the end), many times per document, and the
/// out-of-line indexing call costs more than the slice in the sandbox.
/// Panics, as indexing does, if a position is not a character boundary.
#[inline(always)]
fn sub(s: &str, start: usize, end: usize) -> &str {
    assert!(start <= end && s.is_char_boundary(start) && s.is_char_boundary(end));
    // SAFETY: checked just above: an in-order range of character
    // boundaries of `s` (`is_char_boundary` is false past the end).
    #[allow(unsafe_code)]
    unsafe {
        s.get_unchecked(start..end)
    }
}

/// Skips whitespace from `i`.
#[inline(always)]
fn ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// The end (exclusive) of the value starting at `i`; `None` if a string,
/// object or array is not terminated or there is no value.
#[inline(always)]
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => string_end(b, i),
        b'{' | b'[' => container_end(b, i),
        _ => {
            let end = b[i..]
                .iter()
                .position(|c| matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                .map_or(b.len(), |k| i + k);
            (end > i).then_some(end)
        }
    }
}

/// Bit masks (bit k for byte `j + k`) of the 16 bytes at `j` (which must
/// be in `b`): quotes, backslashes, openers (`{` `[`), closers (`}` `]`).
/// One SIMD compare per kind where the target has 128-bit SIMD (wasm
/// simd128, x86-64 SSE2).
#[inline(always)]
fn classify(b: &[u8], j: usize) -> Chunk {
    let c: &[u8; 16] = b[j..j + 16].try_into().expect("16 bytes");
    simd::classify(c)
}

#[derive(Clone, Copy)]
struct Chunk {
    quote: u32,
    backslash: u32,
    open: u32,
    close: u32,
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use core::arch::wasm32::*;

    #[inline(always)]
    pub(super) fn classify(c: &[u8; 16]) -> super::Chunk {
        // SAFETY: `c` is 16 readable bytes; v128_load has no alignment
        // requirement.
        #[allow(unsafe_code)]
        let v = unsafe { v128_load(c.as_ptr().cast::<v128>()) };
        // `[` `]` are `{` `}` minus 0x20: one compare each after setting 0x20.
        let v20 = v128_or(v, u8x16_splat(0x20));
        super::Chunk {
            quote: u8x16_bitmask(u8x16_eq(v, u8x16_splat(b'"'))) as u32,
            backslash: u8x16_bitmask(u8x16_eq(v, u8x16_splat(b'\\'))) as u32,
            open: u8x16_bitmask(u8x16_eq(v20, u8x16_splat(b'{'))) as u32,
            close: u8x16_bitmask(u8x16_eq(v20, u8x16_splat(b'}'))) as u32,
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use core::arch::x86_64::*;

    #[inline(always)]
    pub(super) fn classify(c: &[u8; 16]) -> super::Chunk {
        // SAFETY: SSE2 is part of x86-64; `c` is 16 readable bytes and
        // `_mm_loadu_si128` has no alignment requirement.
        #[allow(unsafe_code)]
        unsafe {
            let v = _mm_loadu_si128(c.as_ptr().cast::<__m128i>());
            let v20 = _mm_or_si128(v, _mm_set1_epi8(0x20));
            let eq = |x, byte: u8| {
                _mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(byte as i8))) as u32
            };
            super::Chunk {
                quote: eq(v, b'"'),
                backslash: eq(v, b'\\'),
                open: eq(v20, b'{'),
                close: eq(v20, b'}'),
            }
        }
    }
}

#[cfg(not(any(
    all(target_arch = "wasm32", target_feature = "simd128"),
    target_arch = "x86_64"
)))]
mod simd {
    #[inline(always)]
    pub(super) fn classify(c: &[u8; 16]) -> super::Chunk {
        let mut m = super::Chunk {
            quote: 0,
            backslash: 0,
            open: 0,
            close: 0,
        };
        for (k, &x) in c.iter().enumerate() {
            match x {
                b'"' => m.quote |= 1 << k,
                b'\\' => m.backslash |= 1 << k,
                b'{' | b'[' => m.open |= 1 << k,
                b'}' | b']' => m.close |= 1 << k,
                _ => {}
            }
        }
        m
    }
}

/// Bit k set when bits 0..=k of `x` hold an odd number of ones.
#[inline(always)]
fn prefix_xor(mut x: u32) -> u32 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x & 0xffff
}

/// Scanning state inside a container.
#[derive(Default)]
struct Scan {
    depth: usize,
    in_str: bool,
    /// The next byte is escaped (inside a string).
    esc: bool,
}

impl Scan {
    /// [`Scan::byte`] over `b[from..to]`: `None` if malformed, `Some(Some(end))`
    /// when the outermost container closes (`end` just after it).
    #[inline(always)]
    fn bytes(&mut self, b: &[u8], from: usize, to: usize) -> Option<Option<usize>> {
        for (p, &c) in b.iter().enumerate().take(to).skip(from) {
            if self.byte(c).ok()? {
                return Some(Some(p + 1));
            }
        }
        Some(None)
    }

    /// One byte at a time: `Err` if a closer has no opener, `Ok(true)` when
    /// the outermost container closes with this byte.
    #[inline(always)]
    fn byte(&mut self, c: u8) -> Result<bool, ()> {
        if self.in_str {
            if self.esc {
                self.esc = false;
            } else if c == b'\\' {
                self.esc = true;
            } else if c == b'"' {
                self.in_str = false;
            }
            return Ok(false);
        }
        match c {
            b'"' => self.in_str = true,
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => {
                self.depth = self.depth.checked_sub(1).ok_or(())?;
                return Ok(self.depth == 0);
            }
            _ => {}
        }
        Ok(false)
    }
}

/// The end of the object or array at `i`, 16 bytes per step: a chunk's
/// quotes give which of its bytes are inside strings (a prefix XOR), the
/// brackets outside them change the depth (by counting, when no closer
/// can end the container in this chunk). A chunk with a backslash, and the
/// last bytes, go one byte at a time. Few loop iterations matter most in the
/// sandbox, where every one pays an interruption check.
#[inline(never)]
fn container_end(b: &[u8], i: usize) -> Option<usize> {
    let mut s = Scan::default();
    let mut j = i;
    while j + 16 <= b.len() {
        let m = classify(b, j);
        if m.backslash != 0 || s.esc {
            if let Some(end) = s.bytes(b, j, j + 16)? {
                return Some(end);
            }
            j += 16;
            continue;
        }
        let inside = prefix_xor(m.quote) ^ if s.in_str { 0xffff } else { 0 };
        let (open, close) = (m.open & !inside, m.close & !inside);
        if close == 0 {
            s.depth += open.count_ones() as usize;
        } else {
            let mut bits = open | close;
            while bits != 0 {
                let k = bits.trailing_zeros();
                bits &= bits - 1;
                if open >> k & 1 == 1 {
                    s.depth += 1;
                } else {
                    s.depth = s.depth.checked_sub(1)?;
                    if s.depth == 0 {
                        return Some(j + k as usize + 1);
                    }
                }
            }
        }
        s.in_str ^= m.quote.count_ones() & 1 == 1;
        j += 16;
    }
    s.bytes(b, j, b.len())?
}

/// [`container_end`] one byte at a time (the reference it is tested against).
#[cfg(test)]
fn container_end_bytewise(b: &[u8], i: usize) -> Option<usize> {
    Scan::default().bytes(b, i, b.len())?
}

/// The end (exclusive, after the closing quote) of the string at `i`;
/// `None` if it is not terminated.
#[inline(always)]
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    string_end_esc(b, i).map(|(end, _)| end)
}

/// [`string_end`], and whether the string has escapes. Ordinary bytes are
/// skipped 16 at a time.
#[inline(always)]
fn string_end_esc(b: &[u8], i: usize) -> Option<(usize, bool)> {
    let mut j = i + 1;
    let mut esc = false;
    while j + 16 <= b.len() {
        let m = classify(b, j);
        let hits = m.quote | m.backslash;
        if hits == 0 {
            j += 16;
            continue;
        }
        let k = hits.trailing_zeros();
        if m.quote >> k & 1 == 1 {
            return Some((j + k as usize + 1, esc));
        }
        esc = true;
        j += k as usize + 2;
    }
    while j < b.len() {
        match b[j] {
            b'"' => return Some((j + 1, esc)),
            b'\\' => {
                esc = true;
                j += 2;
            }
            _ => j += 1,
        }
    }
    None
}

/// One step over an object: `{` or `,` at `i` → the next member's key
/// (decoded if it has escapes), its raw value and the position after it;
/// `Ok(None)` at the closing brace; `Err` if the object is malformed.
type MemberStep<'a> = Result<Option<(std::borrow::Cow<'a, str>, &'a str, usize)>, ()>;

#[inline(always)]
fn next_member(obj: &str, i: usize) -> MemberStep<'_> {
    let Some((key, i)) = next_key(obj, i)? else {
        return Ok(None);
    };
    let vend = value_end(obj.as_bytes(), i).ok_or(())?;
    Ok(Some((key, sub(obj, i, vend), vend)))
}

/// [`next_member`] up to the value: the key and where its value starts.
type KeyStep<'a> = Result<Option<(std::borrow::Cow<'a, str>, usize)>, ()>;

#[inline(always)]
fn next_key(obj: &str, mut i: usize) -> KeyStep<'_> {
    let b = obj.as_bytes();
    i = ws(b, i);
    if b.get(i) == Some(&b'}') {
        return Ok(None);
    }
    if b.get(i) != Some(&b'"') {
        return Err(());
    }
    let (kend, esc) = string_end_esc(b, i).ok_or(())?;
    let k = sub(obj, i + 1, kend - 1);
    let key = if esc {
        std::borrow::Cow::Owned(serde_json::from_str::<String>(&obj[i..kend]).map_err(|_| ())?)
    } else {
        std::borrow::Cow::Borrowed(k)
    };
    i = ws(b, kend);
    if b.get(i) != Some(&b':') {
        return Err(());
    }
    Ok(Some((key, ws(b, i + 1))))
}

/// Walks the members of `obj`, calling `f` on each until it returns true.
/// `None` if `obj` is not a well-formed object (at its top level).
fn walk_members<'a>(
    obj: &'a str,
    mut f: impl FnMut(std::borrow::Cow<'a, str>, &'a str) -> bool,
) -> Option<bool> {
    let b = obj.as_bytes();
    let mut i = ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        match next_member(obj, i).ok()? {
            None => {
                let close = ws(b, i) + 1;
                return (ws(b, close) == b.len()).then_some(false);
            }
            Some((k, v, end)) => {
                if f(k, v) {
                    return Some(true);
                }
                i = ws(b, end);
                match b.get(i) {
                    Some(b',') => i += 1,
                    Some(b'}') => return (ws(b, i + 1) == b.len()).then_some(false),
                    _ => return None,
                }
            }
        }
    }
}

/// Every member (key, raw value) of the object `obj`; `None` if `obj` is
/// not a well-formed object.
fn members(obj: &str) -> Option<Vec<(std::borrow::Cow<'_, str>, &str)>> {
    let mut out = Vec::with_capacity(32);
    walk_members(obj, |k, v| {
        out.push((k, v));
        false
    })?;
    Some(out)
}

/// Whether two keys are equal. Keys are short and mostly differ in length
/// or in their first or last byte: those are compared before the bytes
/// (a call to `memcmp`, a byte loop in the sandbox).
#[inline(always)]
fn key_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.first() == b.first() && a.last() == b.last() && a == b
}

/// The raw value of member `key` of the object `obj`.
fn member<'a>(obj: &'a str, key: &str) -> Option<&'a str> {
    let mut found = None;
    walk_members(obj, |k, v| {
        let hit = key_eq(&k, key);
        if hit {
            found = Some(v);
        }
        hit
    });
    found
}

/// The raw elements of the JSON array `arr`; `None` if it is not a
/// well-formed array.
pub fn split_array(arr: &str) -> Option<Vec<&str>> {
    let b = arr.as_bytes();
    let (out, end) = split_array_at(arr, ws(b, 0))?;
    (ws(b, end) == b.len()).then_some(out)
}

/// The raw elements of the array starting at `i` in `s`, and the position
/// after it.
fn split_array_at(s: &str, mut i: usize) -> Option<(Vec<&str>, usize)> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    if b.get(i) != Some(&b'[') {
        return None;
    }
    i = ws(b, i + 1);
    if b.get(i) == Some(&b']') {
        return Some((out, i + 1));
    }
    loop {
        let end = value_end(b, i)?;
        out.push(sub(s, i, end));
        i = ws(b, end);
        match b.get(i) {
            Some(b',') => i = ws(b, i + 1),
            Some(b']') => return Some((out, i + 1)),
            _ => return None,
        }
    }
}

/// The raw elements of the array that is member `key` of the object `obj`
/// (`{"Records": [...]}`), found and split in one pass over `obj`. `None`
/// if `obj` is not a well-formed object (at its top level) or `key` is not
/// an array member of it.
pub fn member_array<'a>(obj: &'a str, key: &str) -> Option<Vec<&'a str>> {
    let b = obj.as_bytes();
    let mut i = ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    let mut found = None;
    loop {
        let Some((k, start)) = next_key(obj, i).ok()? else {
            let close = ws(b, i) + 1;
            return found.filter(|_| ws(b, close) == b.len());
        };
        let end = if found.is_none() && k == key && b.get(start) == Some(&b'[') {
            let (elements, end) = split_array_at(obj, start)?;
            found = Some(elements);
            end
        } else {
            value_end(b, start)?
        };
        i = ws(b, end);
        match b.get(i) {
            Some(b',') => i += 1,
            Some(b'}') => return found.filter(|_| ws(b, i + 1) == b.len()),
            _ => return None,
        }
    }
}

/// The raw value of element `n` of the array `arr`.
fn element(arr: &str, n: usize) -> Option<&str> {
    let b = arr.as_bytes();
    let mut i = ws(b, 0);
    if b.get(i) != Some(&b'[') {
        return None;
    }
    i = ws(b, i + 1);
    if b.get(i) == Some(&b']') {
        return None;
    }
    for k in 0.. {
        let end = value_end(b, i)?;
        if k == n {
            return Some(sub(arr, i, end));
        }
        i = ws(b, end);
        match b.get(i) {
            Some(b',') => i = ws(b, i + 1),
            _ => return None,
        }
    }
    None
}

/// An RFC 3339 time (`2024-03-01T12:34:56Z`, fractions and offsets
/// allowed) → nanoseconds since the epoch (`None` before 1970).
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    crate::time::parse_rfc3339_ns(s).and_then(|t| u64::try_from(t).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lazy_doc_matches_a_full_parse() {
        let data = br#"{"a":{"b":[1,{"c":"x"}]},"s":"t","a/b":{"~k":2},"n":null}"#;
        let full: J = serde_json::from_slice(data).unwrap();
        let mut d = Doc::parse(data).unwrap();
        for p in [
            "",
            "/a",
            "/a/b/1/c",
            "/s",
            "/a~1b/~0k",
            "/n",
            "/missing",
            "/a/b/7",
        ] {
            assert_eq!(d.pointer(p), full.pointer(p), "{p}");
        }
        assert_eq!(d.text_at("a.b"), Some("[1,{\"c\":\"x\"}]".into()));
        assert_eq!(d.text_at("s"), Some("t".into()));
        assert_eq!(d.text_at("n"), None);
        assert_eq!(d.text_at_pointer("/a/b/0"), Some("1".into()));
        assert_eq!(d.text_at_pointer("/a/b/1/c"), Some("x".into()));
        // Escaped keys and non-objects fall back to a full parse.
        let mut e = Doc::parse(br#"{"k\u0041":1}"#).unwrap();
        assert_eq!(e.text_at("kA"), Some("1".into()));
        let mut arr = Doc::parse(b"[1,2]").unwrap();
        assert_eq!(arr.pointer("/1"), Some(&J::from(2)));
        assert!(Doc::parse(b"{nope").is_none());
        for bad in [
            &b"{"[..],
            b"{\"a\":1",
            b"{\"a\":1} x",
            b"{\"a\":}",
            b"{\"a\" 1}",
            b"{\"a\":\"unterminated}",
            b"{\"a\":{\"b\":1}",
            b"[1,",
        ] {
            assert!(
                Doc::parse(bad).is_none(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        // Brackets and quotes inside strings, nesting of both kinds.
        let tricky = br#"{"a": "x}]{[\"", "b": [{"c": ["}", {"d": "]"}]}, [1, [2, [3]]]], "e": {"f": {"g": "\\"}}, "h": 1}"#;
        let full: J = serde_json::from_slice(tricky).unwrap();
        let mut d = Doc::parse(tricky).unwrap();
        for p in ["/a", "/b/0/c/1/d", "/b/1/1/1/0", "/e/f/g", "/h", "/b/0/c/0"] {
            assert_eq!(d.pointer(p), full.pointer(p), "{p}");
        }
        // Both container scanners agree (only one runs on each target).
        let t = std::str::from_utf8(tricky).unwrap();
        for (k, _) in t.char_indices().filter(|(_, c)| *c == '{' || *c == '[') {
            assert_eq!(
                container_end(tricky, k),
                container_end_bytewise(tricky, k),
                "at {k}"
            );
        }
        let mut empty = Doc::parse(b" {} ").unwrap();
        assert_eq!(empty.text_at("a"), None);
    }

    #[test]
    fn chunked_scanners_agree_with_bytewise_ones() {
        // Random byte strings over JSON's structural alphabet (escapes,
        // quotes, brackets of both kinds across 16-byte chunk edges).
        let alphabet = b"{}[]\"\\a ,:";
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let len = (next() % 90) as usize + 1;
            let b: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            for i in 0..b.len() {
                match b[i] {
                    b'{' | b'[' => assert_eq!(
                        container_end(&b, i),
                        container_end_bytewise(&b, i),
                        "{} at {i}",
                        String::from_utf8_lossy(&b)
                    ),
                    b'"' => {
                        let mut j = i + 1;
                        let mut esc = false;
                        let reference = loop {
                            match b.get(j) {
                                None => break None,
                                Some(b'"') => break Some((j + 1, esc)),
                                Some(b'\\') => {
                                    esc = true;
                                    j += 2;
                                }
                                Some(_) => j += 1,
                            }
                        };
                        assert_eq!(string_end_esc(&b, i), reference, "{:?} at {i}", b);
                    }
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn compact_rendering_matches_serde_json() {
        let serde = |raw: &str| serde_json::from_str::<J>(raw).ok().map(|v| v.to_string());
        let ours = |raw: &str| {
            let mut out = String::new();
            compact(raw, &mut out).map(|_| out)
        };
        let cases = [
            r#"{"b": 1, "a": [true, false, null], "B": {"z": "x", "y": -3}}"#,
            r#"{"k": 1, "k": 2, "j": {"k": "first", "k": "last"}}"#,
            r#"["é", "a\"b", "\u00e9\n", "\/", "tab\t", "\u001f", "x\\y"]"#,
            r#"[0, -0, 1.0, 1.50, 1e3, -1E-2, 18446744073709551615, 18446744073709551616, -9223372036854775808, -9223372036854775809, 0.1]"#,
            r#"{"\u0041": 1, "A": 2, "a\"q": 3}"#,
            r#"{}"#,
            r#"[]"#,
            r#"[ { } , [ ] ]"#,
            r#""plain""#,
            // Not JSON: both refuse.
            r#"{"a": tru}"#,
            r#"[01]"#,
            r#"[1.]"#,
            r#"["\x"]"#,
            r#"{"a": "b\"}"#,
            r#"[-]"#,
            r#"{"a" 1}"#,
        ];
        for raw in cases {
            assert_eq!(ours(raw), serde(raw), "{raw}");
        }
        // Random documents over a small grammar.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        fn doc(next: &mut dyn FnMut() -> u64, depth: u32, out: &mut String) {
            let atoms = [
                "1",
                "-2",
                "3.25",
                "1e2",
                "true",
                "null",
                r#""s""#,
                r#""\u00e9""#,
                r#""a\nb""#,
                r#""k""#,
            ];
            match next() % if depth > 3 { 1 } else { 3 } {
                0 => out.push_str(atoms[(next() % atoms.len() as u64) as usize]),
                1 => {
                    out.push('[');
                    for n in 0..next() % 4 {
                        if n > 0 {
                            out.push_str(", ");
                        }
                        doc(next, depth + 1, out);
                    }
                    out.push(']');
                }
                _ => {
                    out.push('{');
                    for n in 0..next() % 4 {
                        if n > 0 {
                            out.push(',');
                        }
                        let keys = ["a", "b", "B", "\\u0062", "é", "aa"];
                        out.push_str(&format!(r#""{}": "#, keys[(next() % 6) as usize]));
                        doc(next, depth + 1, out);
                    }
                    out.push('}');
                }
            }
        }
        for _ in 0..3000 {
            let mut raw = String::new();
            doc(&mut next, 0, &mut raw);
            assert_eq!(ours(&raw), serde(&raw), "{raw}");
        }
    }

    #[test]
    fn one_pass_lookups() {
        let log = r#" {"x": {"Records": 1}, "Records": [ {"a": "]"} , [1], "s" ], "y": [2]} "#;
        assert_eq!(
            member_array(log, "Records"),
            Some(vec![r#"{"a": "]"}"#, "[1]", r#""s""#])
        );
        assert_eq!(member_array(r#"{"Records": []}"#, "Records"), Some(vec![]));
        for bad in [
            r#"{"Records": {}}"#,
            r#"{"Other": []}"#,
            r#"{"Records": [1,]}"#,
            r#"{"Records": [1]"#,
            r#"{"Records": [1]} x"#,
            r#"{"Records": [1], "z": }"#,
            "[]",
        ] {
            assert_eq!(member_array(bad, "Records"), None, "{bad}");
        }
        let rec = r#"{"v": "1", "who": {"t": "}"}, "eventTime": "2024-03-01T00:00:00Z", "x": [1"#;
        // Found before the truncation; nothing after it is looked at.
        assert_eq!(
            top_member_text(rec, "eventTime").as_deref(),
            Some("2024-03-01T00:00:00Z")
        );
        assert_eq!(top_member_text(rec, "who").as_deref(), Some(r#"{"t":"}"}"#));
        assert_eq!(top_member_text(rec, "missing"), None);
        assert_eq!(utf8(b"ok"), Some("ok"));
        assert_eq!(utf8(b"\xff"), None);
    }
}
