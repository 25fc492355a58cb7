//! `- macro:` items.

use super::changes::{Action, Definition, check_override, mode_for, place};
use super::value::{missing_key, req_str, scalar};
use super::{Collection, ItemLoc, ItemResult, MacroDef, Text};
use crate::rules::diag::Code;
use crate::yaml::Node;

/// The keys a macro item accepts.
const MACRO_KEYS: &[&str] = &["macro", "condition", "append", "override"];

impl Definition for MacroDef {
    fn set_index(&mut self, index: usize) {
        self.index = index;
    }
}

impl Collection {
    /// Defines, redefines, appends to or replaces a macro.
    pub(super) fn load_macro(&mut self, item: &Node, file: usize) -> ItemResult<()> {
        self.check_keys(item, MACRO_KEYS, file);
        let name = req_str(item, "macro")?;
        if !valid_macro_name(&name) {
            self.warn_item(Code::InvalidMacroName, "Macro has an invalid name. Macro names should match a regular expression: ([a-zA-Z]+[a-zA-Z0-9_]*)".into(), file, item, None);
        }
        let has_override = check_override(item, &["condition"], &["condition"])?;
        let cond_node = item
            .get("condition")
            .ok_or_else(|| missing_key(item, "condition"))?;
        let condition = Text::new(&scalar(cond_node, "condition")?, file, cond_node.pos);
        let mode = mode_for(item, "condition", &["condition"], &["condition"])?;
        let loc = ItemLoc {
            file,
            pos: item.pos,
        };
        let existing = self.macro_idx.get(&name).copied();
        match Action::for_key(existing, mode, has_override, "Macro", "condition", item.pos)? {
            Action::Change(i) => mode.apply(&mut self.macros[i].condition, Some(condition)),
            Action::Define(at) => {
                let def = MacroDef {
                    name: name.clone(),
                    condition,
                    index: 0,
                    loc,
                    used: false,
                };
                place(&mut self.macros, &mut self.macro_idx, name, at, def);
            }
        }
        Ok(())
    }
}

/// Whether a macro name is valid (Falco only warns otherwise).
fn valid_macro_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphabetic()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}
