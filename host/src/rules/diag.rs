//! Rule-loading diagnostics: warnings and errors with the file, line and
//! column of the item and key they concern, worded like Falco's.

use crate::yaml::Pos;
use std::fmt;

/// Error or warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Loading goes on.
    Warning,
    /// The rules are invalid.
    Error,
}

/// Falco's load result codes (`falco_load_result.h`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs, reason = "the variants are Falco's code names")]
pub enum Code {
    ErrFileRead,
    ErrYamlParse,
    ErrYamlValidate,
    ErrCompileCondition,
    ErrCompileOutput,
    ErrValidate,
    ErrExtension,
    UnknownSource,
    UnsafeNaCheck,
    NoEvttype,
    UnknownFilter,
    UnusedMacro,
    UnusedList,
    UnknownItem,
    DeprecatedItem,
    WarningAppend,
    WarningEnabled,
    UnknownKey,
    ExceptionNameNotUnique,
    InvalidMacroName,
    InvalidListName,
    CompileCondition,
    AppendNoValues,
    /// This project's: a rule names event types the engine never delivers.
    EvttypeNotCaptured,
}

impl Code {
    /// The code as Falco prints it.
    pub const fn name(self) -> &'static str {
        use Code::*;
        match self {
            ErrFileRead => "LOAD_ERR_FILE_READ",
            ErrYamlParse => "LOAD_ERR_YAML_PARSE",
            ErrYamlValidate => "LOAD_ERR_YAML_VALIDATE",
            ErrCompileCondition => "LOAD_ERR_COMPILE_CONDITION",
            ErrCompileOutput => "LOAD_ERR_COMPILE_OUTPUT",
            ErrValidate => "LOAD_ERR_VALIDATE",
            ErrExtension => "LOAD_ERR_EXTENSION",
            UnknownSource => "LOAD_UNKNOWN_SOURCE",
            UnsafeNaCheck => "LOAD_UNSAFE_NA_CHECK",
            NoEvttype => "LOAD_NO_EVTTYPE",
            UnknownFilter => "LOAD_UNKNOWN_FILTER",
            UnusedMacro => "LOAD_UNUSED_MACRO",
            UnusedList => "LOAD_UNUSED_LIST",
            UnknownItem => "LOAD_UNKNOWN_ITEM",
            DeprecatedItem => "LOAD_DEPRECATED_ITEM",
            WarningAppend => "LOAD_WARNING_APPEND",
            WarningEnabled => "LOAD_WARNING_ENABLED",
            UnknownKey => "LOAD_UNKNOWN_KEY",
            ExceptionNameNotUnique => "LOAD_EXCEPTION_NAME_NOT_UNIQUE",
            InvalidMacroName => "LOAD_INVALID_MACRO_NAME",
            InvalidListName => "LOAD_INVALID_LIST_NAME",
            CompileCondition => "LOAD_COMPILE_CONDITION",
            AppendNoValues => "LOAD_APPEND_NO_VALUES",
            EvttypeNotCaptured => "LOAD_EVTTYPE_NOT_CAPTURED",
        }
    }

    /// Falco's one-line description of the code.
    pub const fn description(self) -> &'static str {
        use Code::*;
        match self {
            ErrFileRead => "Could not read file",
            ErrYamlParse => "Invalid yaml",
            ErrYamlValidate => "Invalid rules content",
            ErrCompileCondition => "Error compiling condition",
            ErrCompileOutput => "Error compiling output",
            ErrValidate => "Error validating internal structure of rule",
            ErrExtension => "Extension error",
            UnknownSource => "Unknown event source",
            UnsafeNaCheck => "Unsafe <NA> comparison in condition",
            NoEvttype => "Condition has no event-type restriction",
            UnknownFilter => "Unknown field or event-type in condition or output",
            UnusedMacro => "Unused macro",
            UnusedList => "Unused list",
            UnknownItem => "Unknown rules file item",
            DeprecatedItem => "Used deprecated item",
            WarningAppend => "Use of deprecated append key",
            WarningEnabled => "Use of deprecated enabled-only rule item",
            UnknownKey => "Unknown key in rules file item",
            ExceptionNameNotUnique => "Multiple exceptions defined with the same name",
            InvalidMacroName => "Invalid macro name",
            InvalidListName => "Invalid list name",
            CompileCondition => "Condition could not be compiled",
            AppendNoValues => "Overriding/appending with no values",
            EvttypeNotCaptured => "Event type not captured",
        }
    }
}

/// One step of the "where" chain: `rule 'x': (file:3:2)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    /// What this step is (`rules content`, `rule 'x'`, `condition expression`).
    pub what: String,
    /// The file.
    pub file: String,
    /// Position in it.
    pub pos: Pos,
}

/// A warning or error from rule loading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Falco's code.
    pub code: Code,
    /// The message.
    pub message: String,
    /// Where, outermost first; the last entry is the most precise position.
    pub context: Vec<Context>,
    /// The source line the last context points at, for a caret display.
    pub snippet: Option<String>,
}

impl Diagnostic {
    /// The most precise location as `file:line:col`.
    pub fn location(&self) -> String {
        match self.context.last() {
            Some(c) => format!("{}:{}:{}", c.file, c.pos.line, c.pos.col),
            None => "<unknown>".to_string(),
        }
    }

    /// The JSON form (as in `falco -V --format json` / `json_output`).
    pub fn to_json(&self) -> serde_json::Value {
        let context: Vec<_> = self
            .context
            .iter()
            .map(|c| {
                serde_json::json!({
                    "item_type": c.what, "name": "", "path": c.file,
                    "line": c.pos.line, "column": c.pos.col,
                })
            })
            .collect();
        serde_json::json!({
            "code": self.code.name(),
            "codedesc": self.code.description(),
            "message": self.message,
            "context": { "locations": context, "snippet": self.snippet },
            "location": self.location(),
        })
    }
}

impl fmt::Display for Diagnostic {
    /// The verbose form: location chain, snippet with caret, code and message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.context.iter().enumerate() {
            let indent = if i == 0 { "" } else { "    " };
            writeln!(
                f,
                "{indent}{}{} ({}:{}:{})",
                if i == 0 { "In " } else { "" },
                c.what,
                c.file,
                c.pos.line,
                c.pos.col
            )?;
        }
        if let (Some(line), Some(c)) = (&self.snippet, self.context.last()) {
            writeln!(f, "------")?;
            writeln!(f, "{line}")?;
            writeln!(f, "{}^", " ".repeat(c.pos.col.saturating_sub(1)))?;
            writeln!(f, "------")?;
        }
        write!(
            f,
            "{} ({}): {}",
            self.code.name(),
            self.code.description(),
            self.message
        )
    }
}
