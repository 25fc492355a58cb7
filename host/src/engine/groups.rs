//! The engine's event-type groups: for each event type, the rules it runs,
//! each specialised to the group's types, and the slots they read.

use crate::filter::evttypes::Decided;
use crate::filter::ir::{Ir, SlotKey};
use crate::rules::SourceRules;
use std::collections::HashMap;

/// Event types with the same rules and the same slots to extract share a
/// group (most types share the empty one).
pub(super) struct Groups {
    /// The rule variants the groups run: the rule (an index into
    /// `rules.rules`) and its expression for the group's types, where the
    /// parts the types decide (`evt.type in (...)` above all) are constants.
    pub(super) irs: Vec<(u32, Ir)>,
    /// Group → its variants (indices into `irs`), in load order.
    pub(super) lists: Vec<Vec<u32>>,
    /// Group → the slots its variants read.
    pub(super) slots: Vec<Vec<u32>>,
    /// Group → which of those are extracted (the others cannot change a
    /// result for the group's types: they are left missing).
    pub(super) extract: Vec<Vec<bool>>,
    /// Group → the slots left missing (sorted): those not extracted.
    pub(super) missing: Vec<Vec<u32>>,
    /// Group → the slots every evaluation reads (each variant's first
    /// test), extracted up front rather than fetched (sorted).
    pub(super) eager: Vec<Vec<u32>>,
    /// Event name index → group.
    pub(super) by_type: Vec<u32>,
    /// Group for events of unknown or absent type (not specialised).
    pub(super) catchall: u32,
}

impl Groups {
    /// The groups of the `active` rules (indices into `rules.rules`).
    pub(super) fn build(rules: &SourceRules, active: &[u32]) -> Groups {
        let names = rules.fields.event_names().len();
        let decided: Vec<Decided> = active
            .iter()
            .map(|&r| Decided::of(&rules.rules[r as usize].ir, &rules.program, &rules.fields))
            .collect();
        let evt_type = rules.fields.lookup("evt.type", None).ok().and_then(|f| {
            rules.program.slot_index(&SlotKey {
                field: f,
                transforms: Vec::new(),
            })
        });
        // Types with the same rules and the same slots needed: one group.
        let mut keys: Vec<(Vec<u32>, Vec<u32>, Vec<usize>)> = Vec::new();
        let mut index: HashMap<(Vec<u32>, Vec<u32>), usize> = HashMap::new();
        let mut by_type = Vec::with_capacity(names);
        for t in 0..names {
            let list: Vec<u32> = (0..active.len() as u32)
                .filter(|&p| {
                    rules.rules[active[p as usize] as usize]
                        .evttypes
                        .contains(t)
                })
                .collect();
            let mut needed: Vec<u32> = evt_type.into_iter().collect();
            for &p in &list {
                decided[p as usize].needed(t, &mut needed);
            }
            needed.sort_unstable();
            needed.dedup();
            let g = *index
                .entry((list.clone(), needed.clone()))
                .or_insert_with(|| {
                    keys.push((list, needed, Vec::new()));
                    keys.len() - 1
                });
            keys[g].2.push(t);
            by_type.push(g as u32);
        }
        let mut groups = Groups {
            irs: Vec::new(),
            lists: Vec::new(),
            slots: Vec::new(),
            extract: Vec::new(),
            missing: Vec::new(),
            eager: Vec::new(),
            by_type,
            catchall: 0,
        };
        let mut variants: HashMap<u32, Vec<usize>> = HashMap::new();
        let mut build = Build {
            rules,
            active,
            decided: &decided,
            variants: &mut variants,
        };
        for (list, needed, types) in &keys {
            build.add(&mut groups, list, Some(needed), types);
        }
        let list: Vec<u32> = (0..active.len() as u32)
            .filter(|&p| names == 0 || rules.rules[active[p as usize] as usize].evttypes.is_all())
            .collect();
        groups.catchall = build.add(&mut groups, &list, None, &[]);
        groups
    }
}

/// What adding a group needs: the rules, their decisions, and the variants
/// made so far (rule → indices into `Groups::irs`).
struct Build<'a> {
    rules: &'a SourceRules,
    active: &'a [u32],
    decided: &'a [Decided],
    variants: &'a mut HashMap<u32, Vec<usize>>,
}

impl Build<'_> {
    /// Adds the group of `list` (positions in `active`) for `types`,
    /// extracting `needed` (`None`: every slot its rules read).
    fn add(
        &mut self,
        groups: &mut Groups,
        list: &[u32],
        needed: Option<&[u32]>,
        types: &[usize],
    ) -> u32 {
        let mut members = Vec::with_capacity(list.len());
        for &p in list {
            let r = self.active[p as usize];
            let ir = self.decided[p as usize].specialize(&self.rules.rules[r as usize].ir, types);
            if ir == Ir::Const(false) {
                // it cannot match these types
                continue;
            }
            let known = self.variants.entry(r).or_default();
            let at = match known.iter().find(|&&i| groups.irs[i].1 == ir) {
                Some(&i) => i,
                None => {
                    groups.irs.push((r, ir));
                    known.push(groups.irs.len() - 1);
                    groups.irs.len() - 1
                }
            };
            members.push(at as u32);
        }
        let mut slots: Vec<u32> = members
            .iter()
            .flat_map(|&i| groups.irs[i as usize].1.slots())
            .collect();
        slots.sort_unstable();
        slots.dedup();
        let extract: Vec<bool> = slots
            .iter()
            .map(|s| needed.is_none_or(|n| n.contains(s)))
            .collect();
        let mut eager: Vec<u32> = members
            .iter()
            .filter_map(|&i| first_read(&groups.irs[i as usize].1))
            .filter(|s| slots.binary_search(s).is_ok_and(|i| extract[i]))
            .collect();
        eager.sort_unstable();
        eager.dedup();
        groups.eager.push(eager);
        let missing = slots.iter().zip(&extract).filter(|(_, e)| !**e);
        groups.missing.push(missing.map(|(s, _)| *s).collect());
        groups.lists.push(members);
        groups.slots.push(slots);
        groups.extract.push(extract);
        (groups.lists.len() - 1) as u32
    }
}

/// The slot an expression's evaluation reads first, whatever the values.
fn first_read(ir: &Ir) -> Option<u32> {
    match ir {
        Ir::Test(t) => Some(t.slot),
        Ir::And(v) | Ir::Or(v) => v.first().and_then(first_read),
        Ir::Not(x) => first_read(x),
        Ir::Const(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::{Backend, EngineOptions, Event, RuleMatching, SourceEngine};
    use crate::fields::{FieldRegistry, ResolvedField, ValueKind};
    use crate::filter::eventbuf::EventBuf;
    use crate::filter::interp::Interp;
    use crate::filter::ir::{Ir, Shape};
    use crate::filter::value::{SlotValue, Value, ValueSink};
    use crate::rules::compile::builtin_plugins;
    use crate::rules::{RulesFile, SourceRules, load_files};
    use std::cell::RefCell;

    fn rules(text: &str) -> SourceRules {
        let loaded = load_files(
            vec![RulesFile {
                path: "r.yaml".into(),
                content: text.into(),
            }],
            &FieldRegistry::builtin(),
            &builtin_plugins(),
        );
        loaded.sources[0].clone()
    }

    fn rule(name: &str, cond: &str) -> String {
        format!(
            "- rule: {name}\n  desc: d\n  condition: {cond}\n  output: o\n  priority: WARNING\n"
        )
    }

    /// An openat by `cat` of /etc/hosts; it records the fields extracted.
    struct Open {
        names: Vec<&'static str>,
        seen: RefCell<Vec<&'static str>>,
    }

    impl Event for Open {
        fn evt_type(&self) -> Option<&str> {
            Some("openat")
        }
        fn extract(&self, f: &ResolvedField, out: &mut dyn ValueSink) {
            let name = self.names[f.id as usize];
            self.seen.borrow_mut().push(name);
            match name {
                "evt.type" => out.bytes(b"openat"),
                "proc.name" => out.bytes(b"cat"),
                "fd.name" => out.bytes(b"/etc/hosts"),
                "user.name" => out.bytes(b"root"),
                _ => {}
            }
        }
    }

    #[test]
    fn each_group_runs_its_rules_with_their_type_tests_folded() {
        let text = [
            rule("A", "evt.type in (open, openat) and proc.name = cat"),
            rule(
                "B",
                "evt.type = execve or (evt.type = openat and fd.name = /x)",
            ),
            rule(
                "C",
                "(evt.type = open and fd.name = /y) or (evt.type = openat and fd.name = /z)",
            ),
        ]
        .concat();
        let src = rules(&text);
        let active: Vec<u32> = (0..src.rules.len() as u32).collect();
        let g = super::Groups::build(&src, &active);
        let names = src.fields.event_names();
        let group = |t: &str| g.by_type[names.binary_search(&t).unwrap()] as usize;
        let shown = |t: &str| -> Vec<(u32, String)> {
            g.lists[group(t)]
                .iter()
                .map(|&i| {
                    let (r, ir) = &g.irs[i as usize];
                    (*r, format!("{ir:?}"))
                })
                .collect()
        };
        // openat: no test of evt.type is left in any of the three rules
        let openat = shown("openat");
        assert_eq!(openat.len(), 3, "{openat:?}");
        let evt_type = src.fields.lookup("evt.type", None).unwrap();
        let type_slot = src
            .program
            .slots
            .iter()
            .position(|s| s.key.field == evt_type);
        for (i, _) in openat.iter().enumerate() {
            let (_, ir) = &g.irs[g.lists[group("openat")][i] as usize];
            assert!(
                type_slot.is_none_or(|s| !ir.slots().contains(&(s as u32))),
                "{ir:?}"
            );
        }
        // execve: B is decided (always true), A and C do not run at all
        assert_eq!(shown("execve"), [(1, format!("{:?}", Ir::Const(true)))]);
        // a type none of them names runs nothing
        assert!(g.lists[group("chdir")].is_empty());
    }

    /// A value of `kind` from a small pool (paths and names the default
    /// rules test, and others), or missing.
    fn value(seed: &mut u64, kind: ValueKind) -> Option<Value> {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        const STRS: &[&str] = &[
            "",
            "bash",
            "sh",
            "cat",
            "sshd",
            "/etc/shadow",
            "/etc/passwd",
            "/etc/hosts",
            "/tmp/x",
            "/bin/ls",
            "/root/.ssh/id_rsa",
            "/dev/shm/a",
            "f",
            "d",
            "runc",
            "-c",
        ];
        let n = *seed >> 8;
        Some(match kind {
            _ if n.is_multiple_of(9) => return None,
            ValueKind::Str | ValueKind::Bytes => Value::str(STRS[n as usize % STRS.len()]),
            ValueKind::Num => Value::Num((n % 7) as i64 - 1),
            ValueKind::Bool => Value::Bool(n.is_multiple_of(2)),
            ValueKind::Double => Value::Double((n % 4) as f64 / 2.0),
            ValueKind::Ip | ValueKind::IpNet => {
                let mut a = [0u8; 16];
                a[10..12].copy_from_slice(&[0xff, 0xff]);
                a[12..].copy_from_slice(&[10, 0, 0, (n % 3) as u8]);
                Value::Ip(a)
            }
        })
    }

    #[test]
    fn specialised_rules_agree_with_the_originals_on_each_type_of_their_group() {
        // the default rules, and rules whose type tests split groups
        let extra = [
            rule(
                "M1",
                "(evt.type = open and fd.name = /etc/x) or (evt.type = openat and proc.name = cat)",
            ),
            rule(
                "M2",
                "evt.type in (open, openat, execve) and not (evt.type = execve and proc.name = sh)",
            ),
            rule("M3", "proc.name = bash or evt.type != openat"),
        ]
        .concat();
        let src = rules(&format!(
            "{}\n{extra}",
            crate::pipeline::setup::DEFAULT_RULES
        ));
        let active: Vec<u32> = (0..src.rules.len() as u32).collect();
        let g = super::Groups::build(&src, &active);
        let names = src.fields.event_names();
        let evt_type = src.fields.lookup("evt.type", None).unwrap();
        let interp = Interp::new(&src.program).unwrap();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut checked = 0;
        for (t, &grp) in g.by_type.iter().enumerate() {
            for &i in &g.lists[grp as usize] {
                let (r, spec) = &g.irs[i as usize];
                let orig = &src.rules[*r as usize].ir;
                for _ in 0..20 {
                    let mut buf = EventBuf::new(src.program.slots.len(), 0);
                    for (s, info) in src.program.slots.iter().enumerate() {
                        let v = if info.key.field == evt_type && info.key.transforms.is_empty() {
                            SlotValue::One(Value::str(names[t]))
                        } else if info.shape == Shape::Scalar {
                            value(&mut seed, info.kind).map_or(SlotValue::Missing, SlotValue::One)
                        } else {
                            SlotValue::Many(
                                (0..seed % 3)
                                    .filter_map(|_| value(&mut seed, info.kind))
                                    .collect(),
                            )
                        };
                        buf.put(s as u32, &v);
                    }
                    assert_eq!(
                        interp.eval(orig, &buf),
                        interp.eval(spec, &buf),
                        "rule {} on {}: {spec:?}",
                        src.rules[*r as usize].name,
                        names[t]
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 10_000, "{checked}");
    }

    #[test]
    fn the_wasm_back_end_extracts_only_the_fields_a_rule_reaches() {
        let text = [
            rule(
                "A",
                "evt.type = openat and proc.name = vi and user.name = root",
            ),
            rule(
                "B",
                "evt.type = openat and fd.name = /etc/shadow and user.name = root",
            ),
        ]
        .concat();
        for (backend, lazy) in [(Backend::Wasm, true), (Backend::Interp, false)] {
            let src = rules(&text);
            let names = src.fields.fields().iter().map(|d| d.name).collect();
            let opts = EngineOptions {
                backend,
                matching: RuleMatching::All,
                ..EngineOptions::default()
            };
            let mut e = SourceEngine::new(src, &opts).unwrap();
            let ev = Open {
                names,
                seen: RefCell::new(Vec::new()),
            };
            let mut hits = Vec::new();
            e.process(&ev, &mut hits).unwrap();
            assert!(hits.is_empty());
            let seen = ev.seen.borrow();
            // neither rule gets past its second test: user.name is never read
            assert_eq!(!seen.contains(&"user.name"), lazy, "{backend:?}: {seen:?}");
            assert!(seen.contains(&"proc.name") && seen.contains(&"fd.name"));
        }
    }

    #[test]
    fn a_field_fetched_nearly_every_time_is_extracted_up_front_later() {
        let text = rule(
            "A",
            "evt.type = openat and proc.name = cat and user.name = root",
        );
        let src = rules(&text);
        let names: Vec<&'static str> = src.fields.fields().iter().map(|d| d.name).collect();
        let user = names.iter().position(|&n| n == "user.name").unwrap();
        let mut e = SourceEngine::new(src, &EngineOptions::default()).unwrap();
        let ev = Open {
            names,
            seen: RefCell::new(Vec::new()),
        };
        let g = e.group_of(Some("openat")) as usize;
        let user_slot = (0..e.rules.program.slots.len() as u32)
            .find(|&s| e.rules.program.slots[s as usize].key.field.id as usize == user)
            .unwrap();
        assert!(!e.group_eager[g].contains(&user_slot));
        for _ in 0..super::super::promote::WINDOW {
            let mut hits = Vec::new();
            e.process(&ev, &mut hits).unwrap();
            assert_eq!(hits, [0]);
        }
        // promoted: extracted before the call, and the answer is the same
        assert!(e.group_eager[g].contains(&user_slot));
        let mut hits = Vec::new();
        e.process(&ev, &mut hits).unwrap();
        assert_eq!(hits, [0]);
    }
}
