//! The condition syntax tree, as parsed: names are not resolved yet (a bare
//! identifier may be a macro; a field name may be unknown).

/// Where a node came from: a condition text (`src`, an index into the
/// loader's table of texts) and a byte offset inside it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// Which condition text (see the rules' sources).
    pub src: u32,
    /// Byte offset inside that text.
    pub offset: u32,
}

/// A boolean expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// Every operand holds.
    And(Vec<Expr>),
    /// At least one operand holds.
    Or(Vec<Expr>),
    /// The operand does not hold.
    Not(Box<Expr>),
    /// A bare identifier in check position: a macro reference.
    Macro(String, Span),
    /// A comparison.
    Check(Box<Check>),
}

/// `lhs op [modifier] rhs`.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    /// The left-hand side: a field, possibly transformed.
    pub lhs: Operand,
    /// The operator.
    pub op: CmpOp,
    /// `oneof`/`anyof`/`allof`, if given.
    pub modifier: Option<Modifier>,
    /// The right-hand side.
    pub rhs: Rhs,
    /// Position of the check (its left-hand side).
    pub span: Span,
    /// Position of the operator.
    pub op_span: Span,
}

/// A field reference, with its argument (`proc.aname[2]`, `evt.arg.flags`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FieldRef {
    /// The field's name as written, without the bracketed argument.
    pub name: String,
    /// The argument in brackets, if any.
    pub arg: Option<String>,
    /// Where it was written.
    pub span: Span,
}

/// A value producer: a field or a transformer applied to one.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// A field.
    Field(FieldRef),
    /// `transformer(operand)`.
    Transform(Transformer, Box<Operand>, Span),
}

impl Operand {
    /// The field at the bottom of the transformer chain.
    pub fn field(&self) -> &FieldRef {
        match self {
            Operand::Field(f) => f,
            Operand::Transform(_, inner, _) => inner.field(),
        }
    }

    /// Position of the operand.
    pub fn span(&self) -> Span {
        match self {
            Operand::Field(f) => f.span,
            Operand::Transform(_, _, span) => *span,
        }
    }
}

/// The right-hand side of a check.
#[derive(Clone, Debug, PartialEq)]
pub enum Rhs {
    /// Nothing (`exists`).
    None,
    /// A single literal.
    Value(Literal),
    /// A parenthesised list of literals.
    List(Vec<Literal>),
    /// `val(field)` or a transformed field: field-to-field comparison.
    Operand(Operand),
}

/// A literal as written (typing happens later, against the field).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Literal {
    /// The text, unescaped if it was quoted.
    pub text: String,
    /// Whether it was quoted.
    pub quoted: bool,
    /// Where it was written.
    pub span: Span,
}

/// Comparison operators (libsinsp's `cmpop`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs, reason = "the variants are the operators' names")]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    IContains,
    BContains,
    StartsWith,
    BStartsWith,
    EndsWith,
    Glob,
    IGlob,
    Regex,
    In,
    Intersects,
    PMatch,
    Exists,
}

impl CmpOp {
    /// Every operator, in the order the lexer must try them (longest first
    /// where one is a prefix of another).
    pub const ALL: [CmpOp; 19] = [
        CmpOp::Le,
        CmpOp::Lt,
        CmpOp::Ge,
        CmpOp::Gt,
        CmpOp::Ne,
        CmpOp::Eq,
        CmpOp::IContains,
        CmpOp::BContains,
        CmpOp::Contains,
        CmpOp::BStartsWith,
        CmpOp::StartsWith,
        CmpOp::EndsWith,
        CmpOp::IGlob,
        CmpOp::Glob,
        CmpOp::Regex,
        CmpOp::Intersects,
        CmpOp::In,
        CmpOp::PMatch,
        CmpOp::Exists,
    ];

    /// The operator as written in conditions.
    pub const fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Contains => "contains",
            CmpOp::IContains => "icontains",
            CmpOp::BContains => "bcontains",
            CmpOp::StartsWith => "startswith",
            CmpOp::BStartsWith => "bstartswith",
            CmpOp::EndsWith => "endswith",
            CmpOp::Glob => "glob",
            CmpOp::IGlob => "iglob",
            CmpOp::Regex => "regex",
            CmpOp::In => "in",
            CmpOp::Intersects => "intersects",
            CmpOp::PMatch => "pmatch",
            CmpOp::Exists => "exists",
        }
    }

    /// Whether the operator takes a list on the right.
    pub const fn is_list_op(self) -> bool {
        matches!(self, CmpOp::In | CmpOp::Intersects | CmpOp::PMatch)
    }

    /// Whether `oneof`/`anyof`/`allof` may follow the operator.
    pub const fn accepts_modifier(self) -> bool {
        matches!(
            self,
            CmpOp::Eq
                | CmpOp::Ne
                | CmpOp::Contains
                | CmpOp::IContains
                | CmpOp::BContains
                | CmpOp::StartsWith
                | CmpOp::BStartsWith
                | CmpOp::EndsWith
                | CmpOp::Glob
                | CmpOp::IGlob
                | CmpOp::Regex
        )
    }
}

/// List modifiers of Falco 0.44.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Modifier {
    /// Exactly one element matches.
    OneOf,
    /// At least one element matches.
    AnyOf,
    /// Every element matches.
    AllOf,
}

impl Modifier {
    /// The modifier as written.
    pub const fn as_str(self) -> &'static str {
        match self {
            Modifier::OneOf => "oneof",
            Modifier::AnyOf => "anyof",
            Modifier::AllOf => "allof",
        }
    }
}

/// Field transformers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transformer {
    /// ASCII lower case.
    ToLower,
    /// ASCII upper case.
    ToUpper,
    /// Base64 decoding.
    B64,
    /// The last path component.
    Basename,
    /// Length (string chars, buffer bytes, list elements).
    Len,
}

impl Transformer {
    /// Every transformer.
    pub const ALL: [Transformer; 5] = [
        Transformer::ToLower,
        Transformer::ToUpper,
        Transformer::B64,
        Transformer::Basename,
        Transformer::Len,
    ];

    /// The transformer's name as written.
    pub const fn as_str(self) -> &'static str {
        match self {
            Transformer::ToLower => "tolower",
            Transformer::ToUpper => "toupper",
            Transformer::B64 => "b64",
            Transformer::Basename => "basename",
            Transformer::Len => "len",
        }
    }

    /// Looks a transformer up by name.
    pub fn from_name(name: &str) -> Option<Transformer> {
        Transformer::ALL.into_iter().find(|t| t.as_str() == name)
    }
}
