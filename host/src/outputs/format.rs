//! Rule output formats: `%field`, `%field[arg]`, `%Nfield` (width),
//! `%transformer(field)` and literal text, as libsinsp's event formatter.
//!
//! One alert is one line. Field values come from events and plugins, so an
//! attacker may choose them: in the rendered output their control characters
//! are escaped ([`push_escaped`]): `\n`, `\r`, `\t`, `\xNN` for other C0
//! controls, DEL and bytes that are not UTF-8, `\u00NN` for C1 controls and
//! `\u2028`/`\u2029`; printable UTF-8 is unchanged, backslashes too (the
//! escapes are for reading, not a reversible encoding). The
//! rule author's own text is not escaped but is held to one line as well:
//! its line breaks render as a space, line breaks at its end (YAML block
//! scalars leave one) are dropped, and any other control character is
//! escaped as in values. JSON `output_fields` keep the raw values.

use super::alert::FieldValue;
use crate::fields::{SourceFields, ValueKind};
use crate::filter::ast::Operand;
use crate::filter::lower::Program;
use crate::filter::parser::parse_operand_prefix;
use crate::filter::value::{SlotValue, Value};
use std::fmt::Write as _;

/// One piece of a format.
#[derive(Clone, Debug, PartialEq)]
pub enum Token {
    /// Literal text.
    Text(String),
    /// A field (slot in the output program), its display name and width.
    Field {
        /// Slot in the format's [`Program`].
        slot: u32,
        /// The token as written, without `%` (e.g. `proc.name`, `tolower(proc.name)`).
        name: String,
        /// Pad or truncate to this width.
        width: Option<usize>,
        /// Whether a transformer wraps the field (such fields are left out
        /// of JSON `output_fields`, as in Falco).
        transformed: bool,
    },
}

/// A parsed output format.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct OutputFormat {
    /// The pieces.
    pub tokens: Vec<Token>,
}

/// A format error: the message and the byte offset of the bad token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatError {
    /// Message.
    pub message: String,
    /// Offset in the format text.
    pub offset: usize,
}

/// Fields that are deprecated in outputs and render as nothing.
const DEPRECATED_EMPTY: &[&str] = &["container.info"];

impl OutputFormat {
    /// Parses `text`, interning the fields as slots of `program`. Returns the
    /// format and the deprecated tokens it dropped.
    pub fn parse(
        text: &str,
        fields: &SourceFields,
        program: &mut Program,
    ) -> Result<(OutputFormat, Vec<String>), FormatError> {
        let text = text.trim_end_matches(['\n', '\r']);
        let mut tokens = Vec::new();
        let mut dropped = Vec::new();
        let mut lit = String::new();
        let b = text.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] != b'%' {
                let ch = text[i..].chars().next().expect("in bounds");
                i += ch.len_utf8();
                match ch {
                    // CR LF is one line break.
                    '\r' if b.get(i) == Some(&b'\n') => {}
                    '\n' | '\r' => lit.push(' '),
                    _ => match escape_of(ch) {
                        Some(c) => push_escape(&mut lit, c),
                        None => lit.push(ch),
                    },
                }
                continue;
            }
            let start = i;
            i += 1;
            let digits_start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let width = text[digits_start..i].parse::<usize>().ok();
            if i >= b.len() || !b[i].is_ascii_alphabetic() {
                // A lone '%' is literal text.
                lit.push_str(&text[start..i]);
                continue;
            }
            let (operand, used) = parse_operand_prefix(&text[i..], 0).map_err(|e| FormatError {
                message: format!("invalid formatting token {}: {}", &text[start..], e.message),
                offset: i + e.offset,
            })?;
            let name = text[i..i + used].to_string();
            if DEPRECATED_EMPTY.contains(&name.as_str()) {
                dropped.push(name);
                i += used;
                continue;
            }
            let (slot, _, _) = program
                .operand_slot(fields, &operand)
                .map_err(|e| FormatError {
                    message: e.message,
                    offset: start,
                })?;
            if !lit.is_empty() {
                tokens.push(Token::Text(std::mem::take(&mut lit)));
            }
            tokens.push(Token::Field {
                slot,
                name,
                width,
                transformed: matches!(operand, Operand::Transform(..)),
            });
            i += used;
        }
        if !lit.is_empty() {
            tokens.push(Token::Text(lit));
        }
        Ok((OutputFormat { tokens }, dropped))
    }

    /// Renders the format; `value(slot)` gives each field's value.
    pub fn render(&self, program: &Program, value: impl FnMut(u32) -> SlotValue) -> String {
        self.render_with_fields(program, value).0
    }

    /// Renders the format and returns JSON `output_fields` too: each field
    /// token not wrapped in a transformer, once, typed (`None` = missing).
    /// The text has the values' control characters escaped (see the module
    /// documentation); `output_fields` have the raw values.
    pub fn render_with_fields(
        &self,
        program: &Program,
        mut value: impl FnMut(u32) -> SlotValue,
    ) -> (String, Vec<(String, Option<FieldValue>)>) {
        let mut out = String::new();
        let mut fields: Vec<(String, Option<FieldValue>)> = Vec::new();
        for t in &self.tokens {
            match t {
                Token::Text(s) => out.push_str(s),
                Token::Field {
                    slot,
                    width,
                    name,
                    transformed,
                } => {
                    let kind = program.slots[*slot as usize].kind;
                    let v = value(*slot);
                    if !transformed && !fields.iter().any(|(n, _)| n == name) {
                        fields.push((name.clone(), FieldValue::from_slot(&v, kind)));
                    }
                    match width {
                        None => write_value(&mut out, &v, kind),
                        Some(w) => {
                            let mut s = String::new();
                            write_value(&mut s, &v, kind);
                            let len = s.chars().count();
                            if len > *w {
                                out.extend(s.chars().take(*w));
                            } else {
                                out.push_str(&s);
                                out.extend(std::iter::repeat_n(' ', w - len));
                            }
                        }
                    }
                }
            }
        }
        (out, fields)
    }
}

/// A value as text: `<NA>` when missing, list values joined by spaces.
/// Raw (text that is not UTF-8 is replaced, control characters are kept):
/// for JSON `output_fields`; rule outputs use [`write_value`].
pub fn render_value(v: &SlotValue, kind: ValueKind) -> String {
    match v {
        SlotValue::Missing => "<NA>".to_string(),
        SlotValue::One(x) => render_one(x, kind),
        SlotValue::Many(xs) => xs
            .iter()
            .map(|x| render_one(x, kind))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// Appends a value as alert text: as [`render_value`], with control
/// characters escaped ([`push_escaped`]).
pub fn write_value(out: &mut String, v: &SlotValue, kind: ValueKind) {
    let one = |out: &mut String, x: &Value| match x {
        Value::Bytes(b) => push_escaped(out, b),
        // Numbers, booleans and addresses have no control characters.
        other => out.push_str(&render_one(other, kind)),
    };
    match v {
        SlotValue::Missing => out.push_str("<NA>"),
        SlotValue::One(x) => one(out, x),
        SlotValue::Many(xs) => {
            for (i, x) in xs.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                one(out, x);
            }
        }
    }
}

fn render_one(v: &Value, _kind: ValueKind) -> String {
    match v {
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Num(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Double(d) => {
            let mut s = String::new();
            let _ = write!(s, "{d:.2}");
            s
        }
        Value::Ip(a) => {
            let v6 = std::net::Ipv6Addr::from(*a);
            match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => v6.to_string(),
            }
        }
    }
}

pub use crate::escape::push_escaped;
use crate::escape::{escape_of, push_escape};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_render() {
        let fields = SourceFields::syscall();
        let mut p = Program::default();
        let (f, dropped) = OutputFormat::parse("100% sure: %proc.name (%6proc.pid) %tolower(proc.name) %container.info user=%user.name", &fields, &mut p).unwrap();
        assert_eq!(dropped, ["container.info"]);
        let s = f.render(&p, |slot| match p.slots[slot as usize].key.field.id {
            _ if slot == 0 => SlotValue::One(Value::str("Bash")),
            _ if slot == 1 => SlotValue::One(Value::Num(42)),
            _ if slot == 2 => SlotValue::One(Value::str("bash")),
            _ => SlotValue::Missing,
        });
        assert_eq!(s, "100% sure: Bash (42    ) bash  user=<NA>");
        assert!(OutputFormat::parse("%proc.nosuch", &fields, &mut p).is_err());
    }

    fn escaped(b: &[u8]) -> String {
        let mut s = String::new();
        push_escaped(&mut s, b);
        s
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            escaped("plain, C:\\dir, été ✓ \u{a0}".as_bytes()),
            "plain, C:\\dir, été ✓ \u{a0}"
        );
        assert_eq!(
            escaped(b"a\nb\rc\td\x1b[31m\x00\x7f"),
            r"a\nb\rc\td\x1b[31m\x00\x7f"
        );
        assert_eq!(
            escaped("\u{85}\u{9b}|\u{2028}\u{2029}\u{202f}".as_bytes()),
            "\\u0085\\u009b|\\u2028\\u2029\u{202f}"
        );
        // Not UTF-8: the bytes, as \xNN.
        assert_eq!(escaped(b"\xff\xc3(ok"), r"\xff\xc3(ok");
    }

    #[test]
    fn rendered_values_stay_on_one_line() {
        let fields = SourceFields::syscall();
        let mut p = Program::default();
        let (f, _) =
            OutputFormat::parse("cmd=%proc.cmdline name=%4proc.name\n", &fields, &mut p).unwrap();
        let forged = "sh\n12:00:00.000000000: Critical forged alert\x1b[2J";
        let (s, typed) = f.render_with_fields(&p, |slot| match slot {
            0 => SlotValue::One(Value::str(forged)),
            _ => SlotValue::Many(vec![Value::str("x\ty"), Value::str("z")]),
        });
        assert_eq!(
            s,
            r"cmd=sh\n12:00:00.000000000: Critical forged alert\x1b[2J name=x\ty"
        );
        // output_fields keep the raw value.
        assert_eq!(typed[0].1, Some(FieldValue::Text(forged.into())));
    }

    #[test]
    fn template_text_is_one_line() {
        let fields = SourceFields::syscall();
        let mut p = Program::default();
        let (f, _) = OutputFormat::parse(
            "line one\nline two\r\nthree\x07\t%proc.name\n\n",
            &fields,
            &mut p,
        )
        .unwrap();
        assert_eq!(
            f.render(&p, |_| SlotValue::Missing),
            r"line one line two three\x07\t<NA>"
        );
    }
}
