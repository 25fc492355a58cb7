//! The per-event value buffer both back ends read.
//!
//! Extraction writes each slot's value(s) here once, without allocating:
//! a 16-byte entry per slot and a byte heap, in exactly the layout the
//! generated Wasm reads (see [`super::codegen`]), so the Wasm back end only
//! copies the needed entries and the heap into its memory, and the
//! interpreter decodes the same bytes.
//!
//! Entry: `[tag: u32][a: u32][b: u64]`; tag 0 = missing, 1 = one value,
//! 2 = a list (`a` = address of `b` element entries). Strings are `a` =
//! address, `b` = length; numbers, booleans and floats are `b`; an IP
//! address is `a` = address of 16 bytes. Addresses are `heap_base + offset`.

use super::value::{SlotValue, ValueSink};
use crate::fields::ValueKind;

/// Slot entries and heap for one event.
#[derive(Clone, Debug)]
pub struct EventBuf {
    entries: Vec<[u8; 16]>,
    heap: Vec<u8>,
    heap_base: u32,
    /// Element entries of the list being written.
    list: Option<Vec<[u8; 16]>>,
}

/// A decoded value, borrowing from the buffer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValueRef<'a> {
    /// String or buffer.
    Bytes(&'a [u8]),
    /// Integer.
    Num(i64),
    /// Boolean.
    Bool(bool),
    /// IP address, 16 bytes.
    Ip(&'a [u8; 16]),
    /// Float.
    Double(f64),
}

fn entry(tag: u32, a: u32, b: u64) -> [u8; 16] {
    let mut e = [0u8; 16];
    e[0..4].copy_from_slice(&tag.to_le_bytes());
    e[4..8].copy_from_slice(&a.to_le_bytes());
    e[8..16].copy_from_slice(&b.to_le_bytes());
    e
}

fn fields(e: &[u8; 16]) -> (u32, u32, u64) {
    (
        u32::from_le_bytes(e[0..4].try_into().expect("4 bytes")),
        u32::from_le_bytes(e[4..8].try_into().expect("4 bytes")),
        u64::from_le_bytes(e[8..16].try_into().expect("8 bytes")),
    )
}

impl EventBuf {
    /// A buffer for `nslots` slots whose heap will live at `heap_base`.
    pub fn new(nslots: usize, heap_base: u32) -> EventBuf {
        EventBuf {
            entries: vec![[0; 16]; nslots],
            heap: Vec::new(),
            heap_base,
            list: None,
        }
    }

    /// Starts a new event (the heap is reused).
    pub fn clear(&mut self) {
        self.heap.clear();
    }

    /// The heap's bytes.
    pub fn heap(&self) -> &[u8] {
        &self.heap
    }

    /// A slot's raw entry.
    pub fn entry(&self, slot: u32) -> &[u8; 16] {
        &self.entries[slot as usize]
    }

    /// Where the heap is assumed to live.
    pub fn heap_base(&self) -> u32 {
        self.heap_base
    }

    /// A writer for one slot; the slot is missing until a value is written.
    pub fn writer(&mut self, slot: u32) -> SlotWriter<'_> {
        self.entries[slot as usize] = [0; 16];
        self.list = None;
        SlotWriter { buf: self, slot }
    }

    /// Writes an owned value into a slot.
    pub fn put(&mut self, slot: u32, v: &SlotValue) {
        v.emit(&mut self.writer(slot));
    }

    fn push_value(&mut self, slot: u32, e: [u8; 16]) {
        match &mut self.list {
            Some(elems) => elems.push(e),
            None => self.entries[slot as usize] = e,
        }
    }

    fn heap_ptr(&self) -> u32 {
        self.heap_base + self.heap.len() as u32
    }

    fn align(&mut self, a: usize) {
        let n = self.heap.len().div_ceil(a) * a;
        self.heap.resize(n, 0);
    }

    fn decode(&self, e: &[u8; 16], kind: ValueKind) -> ValueRef<'_> {
        let (_, a, b) = fields(e);
        let at = a.wrapping_sub(self.heap_base) as usize;
        match kind {
            ValueKind::Str | ValueKind::Bytes => ValueRef::Bytes(&self.heap[at..at + b as usize]),
            ValueKind::Num => ValueRef::Num(b as i64),
            ValueKind::Bool => ValueRef::Bool(b != 0),
            ValueKind::Double => ValueRef::Double(f64::from_bits(b)),
            ValueKind::Ip | ValueKind::IpNet => {
                ValueRef::Ip(self.heap[at..at + 16].try_into().expect("16 bytes"))
            }
        }
    }

    /// Whether the slot was extracted (an empty list counts).
    pub fn is_present(&self, slot: u32) -> bool {
        fields(&self.entries[slot as usize]).0 != 0
    }

    /// Calls `f` on each of the slot's values until it returns `false`;
    /// returns whether every call returned `true`.
    pub fn for_each(
        &self,
        slot: u32,
        kind: ValueKind,
        mut f: impl FnMut(ValueRef<'_>) -> bool,
    ) -> bool {
        let e = &self.entries[slot as usize];
        let (tag, a, b) = fields(e);
        match tag {
            1 => f(self.decode(e, kind)),
            2 => {
                let start = (a - self.heap_base) as usize;
                (0..b as usize).all(|i| {
                    let at = start + i * 16;
                    let el: &[u8; 16] = self.heap[at..at + 16].try_into().expect("16 bytes");
                    f(self.decode(el, kind))
                })
            }
            _ => true,
        }
    }

    /// The slot's single value, if it has exactly one (not a list).
    pub fn one(&self, slot: u32, kind: ValueKind) -> Option<ValueRef<'_>> {
        let e = &self.entries[slot as usize];
        (fields(e).0 == 1).then(|| self.decode(e, kind))
    }
}

/// Writes one slot's value(s); see [`ValueSink`].
pub struct SlotWriter<'a> {
    buf: &'a mut EventBuf,
    slot: u32,
}

impl ValueSink for SlotWriter<'_> {
    fn bytes(&mut self, b: &[u8]) {
        let at = self.buf.heap_ptr();
        self.buf.heap.extend_from_slice(b);
        self.buf.push_value(self.slot, entry(1, at, b.len() as u64));
    }

    fn num(&mut self, n: i64) {
        self.buf.push_value(self.slot, entry(1, 0, n as u64));
    }

    fn bool(&mut self, b: bool) {
        self.buf.push_value(self.slot, entry(1, 0, u64::from(b)));
    }

    fn ip(&mut self, a: [u8; 16]) {
        self.buf.align(8);
        let at = self.buf.heap_ptr();
        self.buf.heap.extend_from_slice(&a);
        self.buf.push_value(self.slot, entry(1, at, 0));
    }

    fn double(&mut self, d: f64) {
        self.buf.push_value(self.slot, entry(1, 0, d.to_bits()));
    }

    fn begin_list(&mut self) {
        self.buf.list = Some(Vec::new());
    }

    fn end_list(&mut self) {
        let elems = self.buf.list.take().unwrap_or_default();
        self.buf.align(16);
        let at = self.buf.heap_ptr();
        for e in &elems {
            self.buf.heap.extend_from_slice(e);
        }
        self.buf.entries[self.slot as usize] = entry(2, at, elems.len() as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::value::Value;

    #[test]
    fn round_trip() {
        let mut b = EventBuf::new(4, 4096);
        b.put(0, &SlotValue::One(Value::str("bash")));
        b.put(1, &SlotValue::Many(vec![Value::str("a"), Value::str("bc")]));
        b.put(2, &SlotValue::Missing);
        b.put(3, &SlotValue::Many(vec![]));
        assert_eq!(b.one(0, ValueKind::Str), Some(ValueRef::Bytes(b"bash")));
        let mut seen: Vec<Vec<u8>> = Vec::new();
        b.for_each(1, ValueKind::Str, |v| {
            if let ValueRef::Bytes(x) = v {
                seen.push(x.to_vec());
            }
            true
        });
        assert_eq!(seen, [b"a".to_vec(), b"bc".to_vec()]);
        assert!(!b.is_present(2));
        assert!(b.is_present(3));
        b.clear();
        b.put(0, &SlotValue::One(Value::Ip([1; 16])));
        assert_eq!(b.one(0, ValueKind::Ip), Some(ValueRef::Ip(&[1; 16])));
    }
}
