//! Patterns: `glob`, `iglob`, `pmatch` and `regex` all become one regular
//! expression matched against the whole value, and each back end compiles it
//! its own way — the interpreter with the `regex` crate, the Wasm path to a
//! DFA table walked by a generated loop. Both are linear in the input; a
//! pattern whose automaton would be too large is rejected at load.

use regex_automata::dfa::{Automaton, dense};
use regex_automata::util::primitives::StateID;
use regex_automata::util::start;
use regex_automata::{Anchored, nfa::thompson};
use std::collections::HashMap;

/// Largest DFA (in states) a pattern may compile to.
pub const MAX_DFA_STATES: usize = 20_000;
/// Memory budget for building a DFA.
const DFA_SIZE_LIMIT: usize = 16 << 20;

/// The most work (bytes of automaton) building one pattern may take.
pub const BUILD_LIMIT: usize = DFA_SIZE_LIMIT;

/// `regex` operator: RE2-style full match, byte-oriented.
pub fn full_regex(re: &str) -> String {
    format!("(?-u:{re})")
}

/// `glob`/`iglob` (fnmatch without FNM_PATHNAME: `*` crosses `/`).
pub fn glob_regex(glob: &str, case_insensitive: bool) -> String {
    let body = glob_body(glob, false);
    if case_insensitive {
        format!("(?i-u:{body})")
    } else {
        format!("(?-u:{body})")
    }
}

/// `pmatch`: the value equals one of the paths or lies below it; a path
/// component may contain glob characters that match within that component.
pub fn pmatch_regex(paths: &[&str]) -> String {
    let alts: Vec<String> = paths
        .iter()
        .map(|p| {
            let trimmed = p.trim_end_matches('/');
            if trimmed.is_empty() {
                // `/` is a prefix of every absolute path.
                return "/.*".to_string();
            }
            format!("{}(?:/.*)?", glob_body(trimmed, true))
        })
        .collect();
    format!("(?s-u:{})", alts.join("|"))
}

/// Translates glob syntax to regex syntax. With `in_component`, wildcards do
/// not match `/`.
fn glob_body(glob: &str, in_component: bool) -> String {
    let any = if in_component { "[^/]" } else { "(?s:.)" };
    let mut out = String::new();
    let chars: Vec<char> = glob.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' => {
                out.push_str(any);
                out.push('*');
            }
            '?' => out.push_str(any),
            '[' => {
                // A bracket expression, if it is closed; otherwise a literal '['.
                let mut j = i + 1;
                if j < chars.len() && (chars[j] == '!' || chars[j] == '^') {
                    j += 1;
                }
                if j < chars.len() && chars[j] == ']' {
                    j += 1;
                }
                while j < chars.len() && chars[j] != ']' {
                    j += 1;
                }
                if j >= chars.len() {
                    out.push_str("\\[");
                } else {
                    out.push('[');
                    let mut k = i + 1;
                    if chars[k] == '!' || chars[k] == '^' {
                        out.push('^');
                        k += 1;
                    }
                    while k < j {
                        let d = chars[k];
                        if matches!(d, '\\' | '[' | ']' | '&' | '~' | '^') {
                            out.push('\\');
                        }
                        out.push(d);
                        k += 1;
                    }
                    out.push(']');
                    i = j;
                }
            }
            _ => {
                let mut buf = [0u8; 4];
                out.push_str(&regex_syntax::escape(c.encode_utf8(&mut buf)));
            }
        }
        i += 1;
    }
    out
}

/// Why a pattern was refused.
#[derive(Debug, thiserror::Error)]
pub enum PatternError {
    /// Not a valid regular expression.
    #[error("invalid pattern: {0}")]
    Invalid(String),
    /// Valid, but its automaton would be too large (the work of trying is
    /// spent).
    #[error("{0}")]
    TooComplex(String),
}

/// Checks that a pattern is valid and small enough for both back ends;
/// the bytes its automaton table takes.
pub fn check(regex: &str) -> Result<usize, PatternError> {
    interp_regex(regex).map_err(|e| PatternError::Invalid(e.to_string()))?;
    Dfa::build(regex)
        .map(|d| d.table_len())
        .map_err(PatternError::TooComplex)
}

/// The interpreter's compiled form: an anchored `regex::bytes::Regex`.
pub fn interp_regex(regex: &str) -> Result<regex::bytes::Regex, regex::Error> {
    regex::bytes::RegexBuilder::new(&format!("^(?:{regex})$"))
        .unicode(false)
        .size_limit(DFA_SIZE_LIMIT)
        .build()
}

/// A DFA in the table form the generated Wasm walks.
///
/// Layout: `classes[256]` maps a byte to its equivalence class; `trans` has
/// `states × nclasses` entries, each the *premultiplied* next state
/// (`state_index × nclasses`); `accept[state]` says whether the input may end
/// in that state; `dead` (premultiplied) is the state nothing leaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dfa {
    /// Byte → class.
    pub classes: [u8; 256],
    /// Number of classes.
    pub nclasses: u32,
    /// Transitions (premultiplied targets).
    pub trans: Vec<u32>,
    /// Accepting-at-end flags, per state.
    pub accept: Vec<u8>,
    /// Premultiplied start state.
    pub start: u32,
    /// Premultiplied dead state, or `u32::MAX` if there is none.
    pub dead: u32,
    /// Premultiplied state that accepts whatever follows (it accepts and
    /// every byte leads back to it), or `u32::MAX` if there is none: a
    /// `pmatch` path reaches it once the value is below one of its paths.
    pub done: u32,
    /// The bytes every match starts with (at most [`PREFIX_MAX`]): a value
    /// that does not start with them needs no walk.
    pub prefix: Vec<u8>,
}

/// The longest [`Dfa::prefix`] worked out.
pub const PREFIX_MAX: usize = 64;

/// Where the parts of [`Dfa::table`] are (byte offsets from its start).
pub mod table_at {
    /// `classes[256]`, a byte each.
    pub const CLASSES: u64 = 0;
    /// The number of classes (u32).
    pub const NCLASSES: u64 = 256;
    /// The premultiplied start state (u32).
    pub const START: u64 = 260;
    /// The premultiplied dead state (u32).
    pub const DEAD: u64 = 264;
    /// The premultiplied done state (u32).
    pub const DONE: u64 = 268;
    /// The offset of the accept flags from the table's start (u32).
    pub const ACCEPT: u64 = 272;
    /// The transitions (u32 each), then the accept flags (a byte each).
    pub const TRANS: u64 = 276;
}

impl Dfa {
    /// Determinises the pattern (anchored at both ends).
    pub fn build(regex: &str) -> Result<Dfa, String> {
        let pattern = format!("(?:{regex})$");
        let dfa = dense::Builder::new()
            .configure(
                dense::Config::new()
                    .start_kind(regex_automata::dfa::StartKind::Anchored)
                    .dfa_size_limit(Some(DFA_SIZE_LIMIT))
                    .determinize_size_limit(Some(DFA_SIZE_LIMIT))
                    .minimize(false),
            )
            .syntax(
                regex_automata::util::syntax::Config::new()
                    .unicode(false)
                    .utf8(false),
            )
            .thompson(thompson::Config::new().utf8(false))
            .build(&pattern)
            .map_err(|e| {
                format!("pattern is too complex to compile to a linear-time automaton: {e}")
            })?;
        let start_cfg = start::Config::new().anchored(Anchored::Yes);
        let start_id = dfa
            .start_state(&start_cfg)
            .map_err(|e| format!("pattern cannot start: {e}"))?;

        // Byte classes: map each byte to a dense class index (the DFA's own
        // classes, renumbered to drop the end-of-input class).
        let bc = dfa.byte_classes();
        let mut classes = [0u8; 256];
        let mut reps: Vec<u8> = Vec::new();
        let mut class_ids: HashMap<u8, u8> = HashMap::new();
        for b in 0..=255u8 {
            let c = bc.get(b);
            let id = *class_ids.entry(c).or_insert_with(|| {
                reps.push(b);
                (reps.len() - 1) as u8
            });
            classes[b as usize] = id;
        }
        let nclasses = reps.len() as u32;

        // Explore reachable states breadth first.
        let mut index: HashMap<StateID, u32> = HashMap::new();
        let mut order: Vec<StateID> = Vec::new();
        index.insert(start_id, 0);
        order.push(start_id);
        let mut trans = Vec::new();
        let mut accept = Vec::new();
        let mut dead = u32::MAX;
        let mut i = 0;
        while i < order.len() {
            let s = order[i];
            if dfa.is_dead_state(s) {
                dead = i as u32 * nclasses;
            }
            let eoi = dfa.next_eoi_state(s);
            accept.push(u8::from(dfa.is_match_state(eoi)));
            for &b in &reps {
                let t = dfa.next_state(s, b);
                let next = match index.get(&t) {
                    Some(&n) => n,
                    None => {
                        let n = order.len() as u32;
                        if order.len() >= MAX_DFA_STATES {
                            return Err(format!(
                                "pattern needs more than {MAX_DFA_STATES} automaton states; simplify it"
                            ));
                        }
                        index.insert(t, n);
                        order.push(t);
                        n
                    }
                };
                trans.push(next * nclasses);
            }
            i += 1;
        }
        let done = (0..order.len())
            .find(|&i| {
                let row = &trans[i * nclasses as usize..(i + 1) * nclasses as usize];
                accept[i] != 0 && row.iter().all(|&t| t == i as u32 * nclasses)
            })
            .map_or(u32::MAX, |i| i as u32 * nclasses);
        let mut dfa = Dfa {
            classes,
            nclasses,
            trans,
            accept,
            start: 0,
            dead,
            done,
            prefix: Vec::new(),
        };
        dfa.prefix = dfa.required_prefix();
        Ok(dfa)
    }

    /// From the start, while the state does not accept and exactly one
    /// byte leads anywhere but the dead state: that byte, in order.
    fn required_prefix(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut s = self.start;
        while out.len() < PREFIX_MAX && self.accept[(s / self.nclasses) as usize] == 0 {
            let mut only = None;
            for b in 0..=255u8 {
                let t = self.trans[(s + self.classes[b as usize] as u32) as usize];
                if t == self.dead {
                    continue;
                }
                if only.is_some() {
                    return out;
                }
                only = Some((b, t));
            }
            let Some((b, t)) = only else { return out };
            out.push(b);
            s = t;
        }
        out
    }

    /// The bytes of [`Dfa::table`].
    pub fn table_len(&self) -> usize {
        table_at::TRANS as usize + self.trans.len() * 4 + self.accept.len()
    }

    /// The table the generated Wasm walks (see [`table_at`]).
    pub fn table(&self) -> Vec<u8> {
        let accept_at = table_at::TRANS as usize + self.trans.len() * 4;
        let mut t = Vec::with_capacity(self.table_len());
        t.extend_from_slice(&self.classes);
        for word in [
            self.nclasses,
            self.start,
            self.dead,
            self.done,
            accept_at as u32,
        ] {
            t.extend_from_slice(&word.to_le_bytes());
        }
        debug_assert_eq!(t.len(), table_at::TRANS as usize);
        for x in &self.trans {
            t.extend_from_slice(&x.to_le_bytes());
        }
        t.extend_from_slice(&self.accept);
        debug_assert_eq!(t.len(), self.table_len());
        t
    }

    /// Runs the table (the same walk the generated Wasm does).
    pub fn is_match(&self, input: &[u8]) -> bool {
        let mut s = self.start;
        for &b in input {
            s = self.trans[(s + self.classes[b as usize] as u32) as usize];
            if s == self.dead {
                return false;
            }
            if s == self.done {
                return true;
            }
        }
        self.accept[(s / self.nclasses) as usize] != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(re: &str, input: &str) -> bool {
        let a = interp_regex(re).unwrap().is_match(input.as_bytes());
        let dfa = Dfa::build(re).unwrap();
        let b = dfa.is_match(input.as_bytes());
        assert_eq!(a, b, "regex {re} on {input:?}");
        assert!(
            !a || input.as_bytes().starts_with(&dfa.prefix),
            "regex {re} matches {input:?} without its prefix {:?}",
            dfa.prefix
        );
        a
    }

    #[test]
    fn prefixes_every_match_starts_with() {
        let prefix = |re: &str| String::from_utf8(Dfa::build(re).unwrap().prefix).unwrap();
        assert_eq!(
            prefix(&glob_regex("/etc/ssh/ssh_host_*_key", false)),
            "/etc/ssh/ssh_host_"
        );
        assert_eq!(
            prefix(&pmatch_regex(&[
                "/etc/sudoers.d",
                "/etc/pam.d",
                "/etc/security"
            ])),
            "/etc/"
        );
        assert_eq!(prefix(&pmatch_regex(&["/var/run", "/run"])), "/");
        // a match may end early, or start with either case
        assert_eq!(prefix(&full_regex("ab?c?")), "a");
        assert_eq!(prefix(&glob_regex("abc", true)), "");
        assert_eq!(prefix(&full_regex(".*x")), "");
        assert_eq!(prefix(&full_regex("")), "");
    }

    #[test]
    fn globs() {
        let g = glob_regex("/etc/*.conf", false);
        assert!(both(&g, "/etc/a.conf"));
        assert!(both(&g, "/etc/x/y.conf"));
        assert!(!both(&g, "/etc/a.confx"));
        let g = glob_regex("[!a]?c", false);
        assert!(both(&g, "bxc"));
        assert!(!both(&g, "axc"));
        let g = glob_regex("*.EXE", true);
        assert!(both(&g, "a.exe"));
        let g = glob_regex("a[b", false);
        assert!(both(&g, "a[b"));
    }

    #[test]
    fn pmatch() {
        let p = pmatch_regex(&["/etc", "/usr/*/bin", "/var/log/"]);
        assert!(both(&p, "/etc"));
        assert!(both(&p, "/etc/passwd"));
        assert!(!both(&p, "/etcx"));
        assert!(both(&p, "/usr/local/bin/x"));
        assert!(!both(&p, "/usr/a/b/bin"));
        assert!(both(&p, "/var/log/syslog"));
    }

    #[test]
    fn regex_is_full_match() {
        let r = full_regex("ab+");
        assert!(both(&r, "abbb"));
        assert!(!both(&r, "xabbb"));
        assert!(!both(&r, "abx"));
        assert!(!both(&full_regex("."), "\n"));
    }

    #[test]
    fn pathological_patterns_are_linear_or_rejected() {
        // Catastrophic for backtracking engines; linear here.
        let r = full_regex("(a+)+b");
        let input = "a".repeat(100_000);
        assert!(!both(&r, &input));
        // Exponential DFA blow-up is rejected at compile time.
        let err = Dfa::build(&full_regex("(a|b)*a(a|b){20}")).unwrap_err();
        assert!(
            err.contains("automaton") || err.contains("complex"),
            "{err}"
        );
    }
}
