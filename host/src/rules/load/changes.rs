//! Redefinition, `append` and `override`: the one mechanism by which a later
//! item changes an earlier list, macro or rule of the same name.
//!
//! An item either defines its name (a new definition goes last, a
//! redefinition takes the earlier one's place) or changes the earlier
//! definition key by key, each key appended to, replaced or left alone.

use super::value::opt_bool;
use super::{ItemError, ItemResult, Text, err, validate};
use crate::rules::diag::Code;
use crate::yaml::{Node, Pos};
use std::collections::{BTreeSet, HashMap};

/// How an item changes one key of an earlier definition.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// No change requested: the item defines the key.
    Define,
    /// Appended to the earlier value.
    Append,
    /// Replaces the earlier value.
    Replace,
}

/// What an item does to the earlier definition of its name.
#[derive(Clone, Copy)]
pub(super) enum Action {
    /// Defines the name: new (`None`) or in place of the earlier definition.
    Define(Option<usize>),
    /// Changes the keys of the earlier definition at this index.
    Change(usize),
}

/// A key's value that `append` can add to.
pub(super) trait Merge {
    /// Adds `other` after `self`.
    fn merge(&mut self, other: Self);
}

impl Merge for Text {
    fn merge(&mut self, other: Text) {
        self.append(&other);
    }
}

impl Merge for Vec<String> {
    fn merge(&mut self, other: Vec<String>) {
        self.extend(other);
    }
}

impl Merge for BTreeSet<String> {
    fn merge(&mut self, other: BTreeSet<String>) {
        self.extend(other);
    }
}

/// A list, macro or rule definition, numbered in definition order.
pub(super) trait Definition {
    /// Sets its definition order.
    fn set_index(&mut self, index: usize);
}

impl Mode {
    /// Applies a key's new value (if given) to the earlier one.
    pub(super) fn apply<T: Merge>(self, dst: &mut T, new: Option<T>) {
        if let Some(new) = new {
            match self {
                Mode::Append => dst.merge(new),
                Mode::Replace => *dst = new,
                Mode::Define => {}
            }
        }
    }

    /// Applies a replace-only key's new value (if given).
    pub(super) fn replace<T>(self, dst: &mut T, new: Option<T>) {
        if let (Some(new), Mode::Replace) = (new, self) {
            *dst = new;
        }
    }
}

impl Action {
    /// Resolves an item against the earlier definition of its name:
    /// changing (`changes`) needs one, else `missing` is the error.
    pub(super) fn resolve(
        existing: Option<usize>,
        changes: bool,
        missing: impl FnOnce() -> ItemError,
    ) -> ItemResult<Action> {
        match (changes, existing) {
            (false, at) => Ok(Action::Define(at)),
            (true, Some(i)) => Ok(Action::Change(i)),
            (true, None) => Err(missing()),
        }
    }

    /// Resolves a list or macro item, whose one changeable key is `key`
    /// (`kind` names the item in messages).
    pub(super) fn for_key(
        existing: Option<usize>,
        mode: Mode,
        has_override: bool,
        kind: &str,
        key: &str,
        pos: Pos,
    ) -> ItemResult<Action> {
        if mode == Mode::Define && has_override {
            return validate(
                pos,
                format!("override key present but no entry for '{key}'"),
            );
        }
        Action::resolve(existing, mode != Mode::Define, || ItemError {
            code: Code::ErrYamlValidate,
            message: no_previous(kind, key, mode),
            pos,
            key: None,
        })
    }
}

/// Adds or redefines `def` as `name` in `defs` (indexed by `by_name`): a
/// redefinition takes the earlier one's place and number.
pub(super) fn place<T: Definition>(
    defs: &mut Vec<T>,
    by_name: &mut HashMap<String, usize>,
    name: String,
    at: Option<usize>,
    mut def: T,
) {
    match at {
        Some(i) => {
            def.set_index(i);
            defs[i] = def;
        }
        None => {
            def.set_index(defs.len());
            by_name.insert(name, defs.len());
            defs.push(def);
        }
    }
}

/// Decides define/append/replace for `key` from `append`/`override`.
pub(super) fn mode_for(
    item: &Node,
    key: &str,
    appendable: &[&str],
    replaceable: &[&str],
) -> ItemResult<Mode> {
    let append = opt_bool(item, "append")?.unwrap_or(false);
    match item.get("override") {
        None => Ok(if append { Mode::Append } else { Mode::Define }),
        Some(ov) => {
            if append {
                return err(
                    Code::ErrYamlValidate,
                    ov.pos,
                    "Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.",
                );
            }
            match ov.get(key) {
                None => Ok(Mode::Define),
                Some(m) => match m.as_str() {
                    Some("append") if appendable.contains(&key) => Ok(Mode::Append),
                    Some("replace") if replaceable.contains(&key) => Ok(Mode::Replace),
                    Some(other) => validate(
                        m.pos,
                        format!(
                            "Key '{key}' cannot be overridden with '{other}'. Allowed values are: {}",
                            allowed_modes(key, appendable, replaceable)
                        ),
                    ),
                    None => validate(
                        m.pos,
                        format!("Value of override key '{key}' must be a string"),
                    ),
                },
            }
        }
    }
}

/// Validates the `override` map: only known keys, each present in the item.
pub(super) fn check_override(
    item: &Node,
    appendable: &[&str],
    replaceable: &[&str],
) -> ItemResult<bool> {
    let Some(ov) = item.get("override") else {
        return Ok(false);
    };
    let Some(entries) = ov.as_map() else {
        return validate(ov.pos, "Value of override must be a map");
    };
    for (k, v) in entries {
        let key = k.as_str().unwrap_or_default();
        if !replaceable.contains(&key) && !appendable.contains(&key) {
            return validate(
                k.pos,
                format!("Unexpected key '{key}': override is not supported for it"),
            );
        }
        if item.get(key).is_none() {
            return validate(
                v.pos,
                format!("An 'override' entry for '{key}' was specified but '{key}' is not defined"),
            );
        }
    }
    Ok(true)
}

/// Falco's messages for an append/override of an item that does not exist.
pub(super) fn no_previous(kind: &str, key: &str, mode: Mode) -> String {
    let lower = kind.to_lowercase();
    match mode {
        Mode::Replace if kind == "Rule" => {
            format!(
                "An 'override.{key}: replace' to a rule was requested but no rule by that name already exists"
            )
        }
        _ => format!(
            "{kind} uses 'append' or 'override.{key}: append' but no {lower} by that name already exists"
        ),
    }
}

/// The modes `override` accepts for `key`, for messages.
fn allowed_modes(key: &str, appendable: &[&str], replaceable: &[&str]) -> String {
    let mut v = Vec::new();
    if appendable.contains(&key) {
        v.push("append");
    }
    if replaceable.contains(&key) {
        v.push("replace");
    }
    v.join(", ")
}
