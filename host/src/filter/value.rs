//! Extracted field values, as both back ends see them.

use super::ast::Transformer;
use base64::Engine as _;

/// One value of a field.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A string or a buffer.
    Bytes(Vec<u8>),
    /// An integer.
    Num(i64),
    /// A boolean.
    Bool(bool),
    /// An IP address (16 bytes, v4-mapped).
    Ip([u8; 16]),
    /// A float.
    Double(f64),
}

/// A slot's extracted content.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum SlotValue {
    /// The field could not be extracted for this event.
    #[default]
    Missing,
    /// One value.
    One(Value),
    /// Several values (a list field, or every ancestor).
    Many(Vec<Value>),
}

/// Where an event writes a field's value(s). Writing nothing means the
/// field could not be extracted; `begin_list`/`end_list` bracket a list.
pub trait ValueSink {
    /// A string or buffer.
    fn bytes(&mut self, b: &[u8]);
    /// An integer.
    fn num(&mut self, n: i64);
    /// A boolean.
    fn bool(&mut self, b: bool);
    /// An IP address (16 bytes, v4-mapped).
    fn ip(&mut self, a: [u8; 16]);
    /// A float.
    fn double(&mut self, d: f64);
    /// Starts a list (possibly empty).
    fn begin_list(&mut self);
    /// Ends the list.
    fn end_list(&mut self);
}

/// A sink that builds an owned [`SlotValue`].
#[derive(Default)]
pub struct Collect {
    value: SlotValue,
    in_list: bool,
}

impl Collect {
    /// The collected value.
    pub fn finish(self) -> SlotValue {
        self.value
    }

    fn push(&mut self, v: Value) {
        match (&mut self.value, self.in_list) {
            (SlotValue::Many(list), true) => list.push(v),
            _ => self.value = SlotValue::One(v),
        }
    }
}

impl ValueSink for Collect {
    fn bytes(&mut self, b: &[u8]) {
        self.push(Value::Bytes(b.to_vec()));
    }
    fn num(&mut self, n: i64) {
        self.push(Value::Num(n));
    }
    fn bool(&mut self, b: bool) {
        self.push(Value::Bool(b));
    }
    fn ip(&mut self, a: [u8; 16]) {
        self.push(Value::Ip(a));
    }
    fn double(&mut self, d: f64) {
        self.push(Value::Double(d));
    }
    fn begin_list(&mut self) {
        self.value = SlotValue::Many(Vec::new());
        self.in_list = true;
    }
    fn end_list(&mut self) {
        self.in_list = false;
    }
}

impl Value {
    /// Writes the value to a sink.
    pub fn emit(&self, out: &mut dyn ValueSink) {
        match self {
            Value::Bytes(b) => out.bytes(b),
            Value::Num(n) => out.num(*n),
            Value::Bool(b) => out.bool(*b),
            Value::Ip(a) => out.ip(*a),
            Value::Double(d) => out.double(*d),
        }
    }

    /// A string value.
    pub fn str(s: &str) -> Value {
        Value::Bytes(s.as_bytes().to_vec())
    }
}

impl SlotValue {
    /// Writes the value(s) to a sink.
    pub fn emit(&self, out: &mut dyn ValueSink) {
        match self {
            SlotValue::Missing => {}
            SlotValue::One(v) => v.emit(out),
            SlotValue::Many(vs) => {
                out.begin_list();
                for v in vs {
                    v.emit(out);
                }
                out.end_list();
            }
        }
    }

    /// The values, as a slice (empty when missing).
    pub fn values(&self) -> &[Value] {
        match self {
            SlotValue::Missing => &[],
            SlotValue::One(v) => std::slice::from_ref(v),
            SlotValue::Many(v) => v,
        }
    }

    /// Applies transformers, innermost first.
    pub fn transform(self, transforms: &[Transformer]) -> SlotValue {
        transforms.iter().fold(self, |v, t| v.apply(*t))
    }

    fn apply(self, t: Transformer) -> SlotValue {
        match (t, self) {
            (_, SlotValue::Missing) => SlotValue::Missing,
            (Transformer::Len, SlotValue::Many(v)) => SlotValue::One(Value::Num(v.len() as i64)),
            (Transformer::Len, SlotValue::One(v)) => SlotValue::One(Value::Num(match v {
                Value::Bytes(b) => {
                    std::str::from_utf8(&b).map_or(b.len(), |s| s.chars().count()) as i64
                }
                _ => 0,
            })),
            (t, SlotValue::One(v)) => match transform_value(t, v) {
                Some(v) => SlotValue::One(v),
                None => SlotValue::Missing,
            },
            (t, SlotValue::Many(vs)) => SlotValue::Many(
                vs.into_iter()
                    .filter_map(|v| transform_value(t, v))
                    .collect(),
            ),
        }
    }
}

fn transform_value(t: Transformer, v: Value) -> Option<Value> {
    let Value::Bytes(b) = v else { return Some(v) };
    Some(Value::Bytes(match t {
        Transformer::ToLower => b.to_ascii_lowercase(),
        Transformer::ToUpper => b.to_ascii_uppercase(),
        Transformer::B64 => base64::engine::general_purpose::STANDARD.decode(&b).ok()?,
        Transformer::Basename => match b.last() {
            Some(b'/') => Vec::new(),
            _ => match b.iter().rposition(|&c| c == b'/') {
                Some(i) => b[i + 1..].to_vec(),
                None => b,
            },
        },
        Transformer::Len => unreachable!("handled by the caller"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transformers() {
        let v = SlotValue::One(Value::str("/usr/Bin/LS"));
        assert_eq!(
            v.clone().transform(&[Transformer::ToLower]),
            SlotValue::One(Value::str("/usr/bin/ls"))
        );
        assert_eq!(
            v.clone().transform(&[Transformer::Basename]),
            SlotValue::One(Value::str("LS"))
        );
        assert_eq!(
            SlotValue::One(Value::str("/a/")).transform(&[Transformer::Basename]),
            SlotValue::One(Value::str(""))
        );
        assert_eq!(
            v.transform(&[Transformer::Len]),
            SlotValue::One(Value::Num(11))
        );
        assert_eq!(
            SlotValue::One(Value::str("aGk=")).transform(&[Transformer::B64]),
            SlotValue::One(Value::str("hi"))
        );
        assert_eq!(
            SlotValue::One(Value::str("!!")).transform(&[Transformer::B64]),
            SlotValue::Missing
        );
        let l = SlotValue::Many(vec![Value::str("a"), Value::str("b")]);
        assert_eq!(
            l.transform(&[Transformer::Len]),
            SlotValue::One(Value::Num(2))
        );
    }
}
