//! `- list:` items.

use super::changes::{Action, Definition, Mode, check_override, mode_for, place};
use super::value::{list_items, missing_key, req_str};
use super::{Collection, ItemLoc, ItemResult, ListDef};
use crate::rules::diag::Code;
use crate::yaml::Node;

/// The keys a list item accepts.
const LIST_KEYS: &[&str] = &["list", "items", "append", "override"];

impl Definition for ListDef {
    fn set_index(&mut self, index: usize) {
        self.index = index;
    }
}

impl Collection {
    /// Defines, redefines, appends to or replaces a list.
    pub(super) fn load_list(&mut self, item: &Node, file: usize) -> ItemResult<()> {
        self.check_keys(item, LIST_KEYS, file);
        let name = req_str(item, "list")?;
        if !valid_list_name(&name) {
            self.warn_item(Code::InvalidListName, "List has an invalid name. List names should match a regular expression: ([^()\"'[:space:]=,]+)".into(), file, item, None);
        }
        let has_override = check_override(item, &["items"], &["items"])?;
        let items_node = item
            .get("items")
            .ok_or_else(|| missing_key(item, "items"))?;
        let items = list_items(items_node)?;
        let mode = mode_for(item, "items", &["items"], &["items"])?;
        let loc = ItemLoc {
            file,
            pos: item.pos,
        };
        if mode == Mode::Append && items.is_empty() {
            self.warn_item(
                Code::AppendNoValues,
                "Overriding/appending list with no values".into(),
                file,
                item,
                None,
            );
        }
        let existing = self.list_idx.get(&name).copied();
        match Action::for_key(existing, mode, has_override, "List", "items", item.pos)? {
            Action::Change(i) => mode.apply(&mut self.lists[i].items, Some(items)),
            Action::Define(at) => {
                let def = ListDef {
                    name: name.clone(),
                    items,
                    index: 0,
                    loc,
                    used: false,
                };
                place(&mut self.lists, &mut self.list_idx, name, at, def);
            }
        }
        Ok(())
    }
}

/// Whether a list name is valid (Falco only warns otherwise).
fn valid_list_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '(' | ')' | '"' | '\'' | '=' | ','))
}
