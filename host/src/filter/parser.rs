//! The condition parser: text → [`Expr`].
//!
//! The grammar is libsinsp's (see the module docs of [`crate::filter`]):
//! `or` binds weakest, then `and`, then `not`; a check is a field (possibly
//! transformed) followed by an operator and a value, a bare identifier (a
//! macro), or a parenthesised expression.

use super::ast::*;

/// Nesting limit, as Falco's parser (`max depth 1000`). Kept lower here
/// because every nested level costs native stack in the later passes too.
pub const MAX_DEPTH: usize = 1000;

/// A syntax error: a message and the byte offset where parsing stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Falco-style message.
    pub message: String,
    /// Byte offset in the condition text.
    pub offset: usize,
}

/// Parses a whole condition. `src` is recorded in every node's [`Span`].
pub fn parse_condition(text: &str, src: u32) -> Result<Expr, ParseError> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        pos: 0,
        depth: 0,
        src,
    };
    p.skip_ws();
    if p.pos == p.s.len() {
        return Err(p.error("empty condition"));
    }
    let expr = p.or_expr()?;
    p.skip_ws();
    if p.pos != p.s.len() {
        return Err(p.error("unexpected token after expression, expecting 'or', 'and'"));
    }
    Ok(expr)
}

/// Parses a single operand (a field, possibly transformed), as used by
/// output formats and exception fields. Returns the operand and the number of
/// bytes consumed.
pub fn parse_operand_prefix(text: &str, src: u32) -> Result<(Operand, usize), ParseError> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        pos: 0,
        depth: 0,
        src,
    };
    let op = p.operand()?;
    Ok((op, p.pos))
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
    depth: usize,
    src: u32,
}

fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x08)
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic()
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Characters that end a bare string.
fn ends_bare(c: u8) -> bool {
    is_blank(c) || matches!(c, b'(' | b')' | b',' | b'=' | b'"' | b'\'')
}

impl<'a> Parser<'a> {
    fn error(&self, message: impl Into<String>) -> ParseError {
        ParseError {
            message: message.into(),
            offset: self.pos,
        }
    }

    fn span(&self, offset: usize) -> Span {
        Span {
            src: self.src,
            offset: offset as u32,
        }
    }

    fn skip_ws(&mut self) {
        while self.pos < self.s.len() && is_blank(self.s[self.pos]) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    /// Consumes `word` if it is next and followed by a non-identifier char.
    fn keyword(&mut self, word: &str) -> bool {
        let end = self.pos + word.len();
        if self.s.len() >= end
            && &self.s[self.pos..end] == word.as_bytes()
            && self
                .s
                .get(end)
                .is_none_or(|&c| !is_ident_char(c) && c != b'.')
        {
            self.pos = end;
            true
        } else {
            false
        }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(format!("exceeded max depth limit of {MAX_DEPTH}")));
        }
        Ok(())
    }

    fn or_expr(&mut self) -> Result<Expr, ParseError> {
        crate::deep(|| self.or_expr_inner())
    }

    fn or_expr_inner(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let mut items = vec![self.and_expr()?];
        loop {
            self.skip_ws();
            if self.keyword("or") {
                self.skip_ws();
                items.push(self.and_expr()?);
            } else {
                break;
            }
        }
        self.depth -= 1;
        Ok(if items.len() == 1 {
            items.pop().expect("one item")
        } else {
            Expr::Or(items)
        })
    }

    fn and_expr(&mut self) -> Result<Expr, ParseError> {
        let mut items = vec![self.not_expr()?];
        loop {
            self.skip_ws();
            if self.keyword("and") {
                self.skip_ws();
                items.push(self.not_expr()?);
            } else {
                break;
            }
        }
        Ok(if items.len() == 1 {
            items.pop().expect("one item")
        } else {
            Expr::And(items)
        })
    }

    fn not_expr(&mut self) -> Result<Expr, ParseError> {
        self.skip_ws();
        let start = self.pos;
        if self.keyword("not") {
            self.enter()?;
            self.skip_ws();
            let inner = crate::deep(|| self.not_expr())?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        // `not(` without a blank.
        if self.s[self.pos..].starts_with(b"not(") {
            self.pos += 3;
            self.enter()?;
            let inner = crate::deep(|| self.not_expr())?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.pos = start;
        self.check()
    }

    fn check(&mut self) -> Result<Expr, ParseError> {
        self.skip_ws();
        let start = self.pos;
        match self.peek() {
            None => Err(self.error("unexpected end of condition, expecting a check")),
            Some(b'(') => {
                self.pos += 1;
                let e = self.or_expr()?;
                self.skip_ws();
                if self.peek() != Some(b')') {
                    return Err(self.error("expected ')' to close the group"));
                }
                self.pos += 1;
                Ok(e)
            }
            Some(c) if is_ident_start(c) => {
                if self.looks_like_operand() {
                    let lhs = self.operand()?;
                    self.comparison(lhs, start)
                } else {
                    let name = self.identifier();
                    Ok(Expr::Macro(name.to_string(), self.span(start)))
                }
            }
            Some(_) => Err(self.error("expected a field, a macro name or '(' ")),
        }
    }

    /// Whether a field name or `transformer(` starts here (otherwise the
    /// identifier is a macro name).
    fn looks_like_operand(&self) -> bool {
        let mut i = self.pos;
        while i < self.s.len() && is_ident_char(self.s[i]) {
            i += 1;
        }
        let word = &self.text[self.pos..i];
        if self.s.get(i) == Some(&b'.') && self.s.get(i + 1).is_some_and(|&c| is_ident_start(c)) {
            return true;
        }
        if Transformer::from_name(word).is_some() || word == "val" {
            let mut j = i;
            while j < self.s.len() && is_blank(self.s[j]) {
                j += 1;
            }
            return self.s.get(j) == Some(&b'(');
        }
        false
    }

    fn identifier(&mut self) -> &'a str {
        let start = self.pos;
        while self.pos < self.s.len() && is_ident_char(self.s[self.pos]) {
            self.pos += 1;
        }
        &self.text[start..self.pos]
    }

    /// `field`, `field[arg]`, `evt.arg.name`, or `transformer(operand)`.
    fn operand(&mut self) -> Result<Operand, ParseError> {
        self.skip_ws();
        let start = self.pos;
        if !self.peek().is_some_and(is_ident_start) {
            return Err(self.error("expected a field name"));
        }
        let word = self.identifier();
        let mut j = self.pos;
        while j < self.s.len() && is_blank(self.s[j]) {
            j += 1;
        }
        if self.s.get(j) == Some(&b'(')
            && let Some(t) = Transformer::from_name(word)
        {
            self.pos = j + 1;
            self.enter()?;
            let inner = crate::deep(|| self.operand())?;
            self.depth -= 1;
            self.skip_ws();
            if self.peek() != Some(b')') {
                return Err(self.error(format!("expected ')' to close {}(", t.as_str())));
            }
            self.pos += 1;
            return Ok(Operand::Transform(t, Box::new(inner), self.span(start)));
        }
        // A field name: identifier segments joined by dots, at least two.
        let mut segments = 1;
        while self.peek() == Some(b'.')
            && self.s.get(self.pos + 1).is_some_and(|&c| is_ident_start(c))
        {
            self.pos += 1;
            self.identifier();
            segments += 1;
        }
        if segments < 2 {
            self.pos = start;
            return Err(self.error(format!("'{word}' is not a field name")));
        }
        let name = self.text[start..self.pos].to_string();
        let arg = if self.peek() == Some(b'[') {
            self.pos += 1;
            Some(self.field_arg()?)
        } else {
            None
        };
        Ok(Operand::Field(FieldRef {
            name,
            arg,
            span: self.span(start),
        }))
    }

    fn field_arg(&mut self) -> Result<String, ParseError> {
        let arg = if matches!(self.peek(), Some(b'"' | b'\'')) {
            self.quoted()?
        } else {
            let start = self.pos;
            while self.peek().is_some_and(|c| {
                !matches!(
                    c,
                    b' ' | 0x08 | b'\t' | b'\n' | b'\r' | b'[' | b']' | b'"' | b'\''
                )
            }) {
                self.pos += 1;
            }
            if start == self.pos {
                return Err(self.error("empty field argument"));
            }
            self.text[start..self.pos].to_string()
        };
        if self.peek() != Some(b']') {
            return Err(self.error("expected ']' to close the field argument"));
        }
        self.pos += 1;
        Ok(arg)
    }

    fn comparison(&mut self, lhs: Operand, start: usize) -> Result<Expr, ParseError> {
        self.skip_ws();
        let op_start = self.pos;
        let op = self
            .operator()
            .ok_or_else(|| self.error("expected a valid comparison operator after the field"))?;
        let (modifier, rhs) = if op == CmpOp::Exists {
            (None, Rhs::None)
        } else {
            self.skip_ws();
            let modifier = self.modifier();
            if let Some(m) = modifier {
                if !op.accepts_modifier() {
                    return Err(self.error(format!(
                        "operator '{}' does not accept the '{}' modifier",
                        op.as_str(),
                        m.as_str()
                    )));
                }
                self.skip_ws();
                (Some(m), Rhs::List(self.list_value()?))
            } else if op.is_list_op() {
                (None, self.list_rhs()?)
            } else {
                (None, self.value_rhs()?)
            }
        };
        Ok(Expr::Check(Box::new(Check {
            lhs,
            op,
            modifier,
            rhs,
            span: self.span(start),
            op_span: self.span(op_start),
        })))
    }

    fn operator(&mut self) -> Option<CmpOp> {
        for op in CmpOp::ALL {
            let word = op.as_str();
            let symbolic = !word.as_bytes()[0].is_ascii_alphabetic();
            if symbolic {
                if self.s[self.pos..].starts_with(b"==") {
                    self.pos += 2;
                    return Some(CmpOp::Eq);
                }
                if self.s[self.pos..].starts_with(word.as_bytes()) {
                    self.pos += word.len();
                    return Some(op);
                }
            } else {
                let end = self.pos + word.len();
                if self.s.len() >= end
                    && &self.s[self.pos..end] == word.as_bytes()
                    && self.s.get(end).is_none_or(|&c| !is_ident_char(c))
                {
                    self.pos = end;
                    return Some(op);
                }
            }
        }
        None
    }

    fn modifier(&mut self) -> Option<Modifier> {
        for m in [Modifier::OneOf, Modifier::AnyOf, Modifier::AllOf] {
            let save = self.pos;
            if self.keyword(m.as_str()) {
                let mut j = self.pos;
                while j < self.s.len() && is_blank(self.s[j]) {
                    j += 1;
                }
                // `anyof` is a modifier only when a list follows.
                if self.s.get(j) == Some(&b'(') {
                    return Some(m);
                }
                self.pos = save;
            }
        }
        None
    }

    /// The right-hand side of a list operator: `( … )`, `val(field)` is not
    /// allowed here, a bare identifier (an undefined list) is an error.
    fn list_rhs(&mut self) -> Result<Rhs, ParseError> {
        if self.peek() == Some(b'(') {
            Ok(Rhs::List(self.list_value()?))
        } else {
            Err(self.error("expected a list '(…)' after the list operator"))
        }
    }

    fn list_value(&mut self) -> Result<Vec<Literal>, ParseError> {
        if self.peek() != Some(b'(') {
            return Err(self.error("expected '(' to open a list"));
        }
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b')') {
            self.pos += 1;
            return Ok(items);
        }
        loop {
            self.skip_ws();
            // Nested parentheses from textual list expansion are flattened.
            if self.peek() == Some(b'(') {
                self.enter()?;
                items.extend(crate::deep(|| self.list_value())?);
                self.depth -= 1;
            } else {
                items.push(self.literal()?);
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                    // A trailing comma before ')' (empty list item) is allowed.
                    if self.peek() == Some(b')') {
                        self.pos += 1;
                        return Ok(items);
                    }
                }
                Some(b')') => {
                    self.pos += 1;
                    return Ok(items);
                }
                _ => return Err(self.error("expected ',' or ')' in list")),
            }
        }
    }

    fn value_rhs(&mut self) -> Result<Rhs, ParseError> {
        let start = self.pos;
        if self.peek().is_some_and(is_ident_start) {
            let word = self.identifier();
            let mut j = self.pos;
            while j < self.s.len() && is_blank(self.s[j]) {
                j += 1;
            }
            if self.s.get(j) == Some(&b'(') {
                if word == "val" {
                    self.pos = j + 1;
                    let inner = self.operand()?;
                    self.skip_ws();
                    if self.peek() != Some(b')') {
                        return Err(self.error("expected ')' to close val("));
                    }
                    self.pos += 1;
                    return Ok(Rhs::Operand(inner));
                }
                if Transformer::from_name(word).is_some() {
                    self.pos = start;
                    return Ok(Rhs::Operand(self.operand()?));
                }
            }
            self.pos = start;
        }
        Ok(Rhs::Value(self.literal()?))
    }

    fn literal(&mut self) -> Result<Literal, ParseError> {
        let start = self.pos;
        match self.peek() {
            Some(b'"' | b'\'') => {
                let text = self.quoted()?;
                Ok(Literal {
                    text,
                    quoted: true,
                    span: self.span(start),
                })
            }
            Some(c) if !ends_bare(c) => {
                while self.peek().is_some_and(|c| !ends_bare(c)) {
                    self.pos += 1;
                }
                Ok(Literal {
                    text: self.text[start..self.pos].to_string(),
                    quoted: false,
                    span: self.span(start),
                })
            }
            _ => Err(self.error("expected a value")),
        }
    }

    /// A quoted string with backslash escapes.
    fn quoted(&mut self) -> Result<String, ParseError> {
        let quote = self.s[self.pos];
        let start = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => {
                    self.pos = start;
                    return Err(self.error("unterminated quoted string"));
                }
                Some(c) if c == quote => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    let esc = self.s.get(self.pos + 1).copied();
                    let replacement = match esc {
                        Some(b'b') => 0x08,
                        Some(b'f') => 0x0c,
                        Some(b'n') => b'\n',
                        Some(b'r') => b'\r',
                        Some(b't') => b'\t',
                        Some(b'\\') => b'\\',
                        Some(b'/') => b'/',
                        Some(b' ') => b'\\',
                        Some(q @ (b'"' | b'\'')) if q == quote => q,
                        Some(q @ (b'"' | b'\'')) => {
                            self.pos += 1;
                            return Err(self.error(format!(
                                "invalid \\{} escape in {}-quoted string",
                                q as char, quote as char
                            )));
                        }
                        Some(other) => {
                            self.pos += 1;
                            return Err(self.error(format!(
                                "unsupported string escape sequence: \\{}",
                                other as char
                            )));
                        }
                        None => {
                            self.pos = start;
                            return Err(self.error("unterminated quoted string"));
                        }
                    };
                    out.push(replacement);
                    self.pos += 2;
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
        String::from_utf8(out).map_err(|_| self.error("quoted string is not valid UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Expr {
        parse_condition(s, 0).unwrap_or_else(|e| panic!("{s}: {e:?}"))
    }

    fn field(e: &Expr) -> &str {
        match e {
            Expr::Check(c) => &c.lhs.field().name,
            _ => panic!("not a check: {e:?}"),
        }
    }

    #[test]
    fn precedence() {
        let e = p("a or b and not c");
        let Expr::Or(items) = e else { panic!() };
        assert_eq!(
            items[0],
            Expr::Macro("a".into(), Span { src: 0, offset: 0 })
        );
        let Expr::And(inner) = &items[1] else {
            panic!()
        };
        assert!(matches!(inner[1], Expr::Not(_)));
    }

    #[test]
    fn compact_operators() {
        let e = p("fd.num>=0 and evt.type=open and proc.name!=bash");
        let Expr::And(items) = e else { panic!() };
        assert_eq!(field(&items[0]), "fd.num");
        let Expr::Check(c) = &items[0] else { panic!() };
        assert_eq!(c.op, CmpOp::Ge);
        let Expr::Check(c) = &items[2] else { panic!() };
        assert_eq!(c.op, CmpOp::Ne);
    }

    #[test]
    fn fields_with_args() {
        let Expr::Check(c) = p(r#"proc.aname[2] in (bash, 'my sh', "x\"y\\")"#) else {
            panic!()
        };
        assert_eq!(c.lhs.field().arg.as_deref(), Some("2"));
        let Rhs::List(items) = &c.rhs else { panic!() };
        let texts: Vec<_> = items.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["bash", "my sh", "x\"y\\"]);
        let Expr::Check(c) = p("json.value[/a/b] = 1") else {
            panic!()
        };
        assert_eq!(c.lhs.field().arg.as_deref(), Some("/a/b"));
        let Expr::Check(c) = p("evt.arg.flags contains O_TRUNC") else {
            panic!()
        };
        assert_eq!(c.lhs.field().name, "evt.arg.flags");
    }

    #[test]
    fn transformers_val_and_modifiers() {
        let Expr::Check(c) = p("tolower(proc.name) = val(proc.pname)") else {
            panic!()
        };
        assert!(matches!(
            c.lhs,
            Operand::Transform(Transformer::ToLower, _, _)
        ));
        assert!(matches!(c.rhs, Rhs::Operand(Operand::Field(_))));
        let Expr::Check(c) = p("proc.name startswith anyof (ssh, sudo)") else {
            panic!()
        };
        assert_eq!(c.modifier, Some(Modifier::AnyOf));
        let Expr::Check(c) = p("proc.name = anyof") else {
            panic!()
        };
        assert_eq!(c.modifier, None);
    }

    #[test]
    fn not_without_space_and_nested_lists() {
        assert!(matches!(p("not(proc.name=a)"), Expr::Not(_)));
        let Expr::Check(c) = p("proc.name in (a, (b, c), )") else {
            panic!()
        };
        let Rhs::List(items) = &c.rhs else { panic!() };
        assert_eq!(items.len(), 3);
        let Expr::Check(c) = p("proc.name in ()") else {
            panic!()
        };
        assert_eq!(c.rhs, Rhs::List(vec![]));
    }

    #[test]
    fn errors_have_offsets() {
        let e = parse_condition("proc.name = bash and", 0).unwrap_err();
        assert_eq!(e.offset, 20);
        let e = parse_condition("proc.name bogus x", 0).unwrap_err();
        assert_eq!(e.offset, 10);
        assert!(parse_condition("(proc.name = a", 0).is_err());
        assert!(parse_condition("proc.name = 'abc", 0).is_err());
        assert!(parse_condition("", 0).is_err());
        let e = parse_condition(r#"proc.name = "a\qb""#, 0).unwrap_err();
        assert!(
            e.message.contains("unsupported string escape sequence"),
            "{e:?}"
        );
        let e = parse_condition(r#"proc.name = 'a\"b'"#, 0).unwrap_err();
        assert!(e.message.contains("invalid"), "{e:?}");
    }

    #[test]
    fn depth_limit_is_an_error_not_a_crash() {
        let s = format!("{}proc.name=a{}", "(".repeat(5000), ")".repeat(5000));
        let e = parse_condition(&s, 0).unwrap_err();
        assert!(e.message.contains("max depth"), "{e:?}");
        let s = format!("{}proc.name=a", "not ".repeat(5000));
        assert!(parse_condition(&s, 0).is_err());
    }
}
