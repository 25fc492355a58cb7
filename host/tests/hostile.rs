//! Hostile rules and events: rejected at load with a clear error, or
//! evaluated within the filter's limits; never a crash or a hang.

use falco_wasm::engine::{Backend, EngineOptions, RuleMatching, SourceEngine};
use falco_wasm::fields::{FieldRegistry, SourceFields};
use falco_wasm::filter::runtime::{FilterError, FilterLimits};
use falco_wasm::filter::value::{SlotValue, Value};
use falco_wasm::rules::compile::builtin_plugins;
use falco_wasm::rules::{LoadedRules, RulesFile, Severity};
use falco_wasm::testing::FixtureEvent;
use std::collections::HashMap;
use std::time::{Duration, Instant};

fn load(yaml: &str) -> LoadedRules {
    falco_wasm::rules::load_files(
        vec![RulesFile {
            path: "hostile.yaml".into(),
            content: yaml.into(),
        }],
        &FieldRegistry::builtin(),
        &builtin_plugins(),
    )
}

fn errors(l: &LoadedRules) -> Vec<String> {
    l.diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.message.clone())
        .collect()
}

fn rule(cond: &str) -> String {
    format!("- rule: R\n  desc: d\n  condition: {cond}\n  output: o\n  priority: info\n")
}

fn event(values: &[(&str, SlotValue)]) -> FixtureEvent {
    let values: HashMap<String, SlotValue> = values
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    FixtureEvent::new(&SourceFields::syscall(), Some("execve".into()), values)
}

/// Evaluates with both back ends; returns whether R matched (they must agree).
fn matches(l: &LoadedRules, ev: &FixtureEvent) -> bool {
    let src = l.source("syscall").expect("rules loaded").clone();
    let mut results = Vec::new();
    for backend in [Backend::Wasm, Backend::Interp] {
        let mut e = SourceEngine::new(
            src.clone(),
            &EngineOptions {
                backend,
                ..Default::default()
            },
        )
        .expect("engine builds");
        let mut out = Vec::new();
        e.process(ev, &mut out).expect("evaluates");
        results.push(!out.is_empty());
    }
    assert_eq!(results[0], results[1], "back ends disagree");
    results[0]
}

#[test]
fn deep_nesting_is_rejected_or_evaluated() {
    let deep = format!(
        "evt.type = execve and {}proc.name = a{}",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    let l = load(&rule(&deep));
    assert!(
        errors(&l).iter().any(|e| e.contains("max depth")),
        "{:?}",
        errors(&l)
    );
    let ok = format!(
        "evt.type = execve and {}proc.name = a{}",
        "(not ".repeat(400),
        ")".repeat(400)
    );
    let l = load(&rule(&ok));
    assert!(errors(&l).is_empty(), "{:?}", errors(&l));
    assert!(matches(
        &l,
        &event(&[("proc.name", SlotValue::One(Value::str("a")))])
    ));
}

#[test]
fn long_macro_chains_and_macro_bombs() {
    // A chain of 2,000 macros, each wrapping the previous one.
    let mut y = String::from("- macro: m0\n  condition: proc.name = a\n");
    for i in 1..2000 {
        y.push_str(&format!(
            "- macro: m{i}\n  condition: (not not m{})\n",
            i - 1
        ));
    }
    y.push_str(&rule("evt.type = execve and m1999"));
    let l = load(&y);
    assert!(errors(&l).is_empty(), "{:?}", errors(&l));
    assert!(matches(
        &l,
        &event(&[("proc.name", SlotValue::One(Value::str("a")))])
    ));
    // Each macro doubles the previous one: 2^40 nodes if expanded.
    let mut y = String::from("- macro: b0\n  condition: proc.name = a\n");
    for i in 1..40 {
        y.push_str(&format!(
            "- macro: b{i}\n  condition: b{p} or b{p}\n",
            p = i - 1
        ));
    }
    y.push_str(&rule("evt.type = execve and b39"));
    let t = Instant::now();
    let l = load(&y);
    assert!(
        errors(&l)
            .iter()
            .any(|e| e.contains("after macro expansion")),
        "{:?}",
        errors(&l)
    );
    assert!(t.elapsed() < Duration::from_secs(60));
}

#[test]
fn huge_in_list() {
    let items: Vec<String> = (0..100_000).map(|i| format!("name{i}")).collect();
    let y = format!(
        "- list: big\n  items: [{}]\n{}",
        items.join(", "),
        rule("evt.type = execve and proc.name in (big)")
    );
    let l = load(&y);
    assert!(errors(&l).is_empty(), "{:?}", errors(&l));
    assert!(matches(
        &l,
        &event(&[("proc.name", SlotValue::One(Value::str("name99999")))])
    ));
    assert!(!matches(
        &l,
        &event(&[("proc.name", SlotValue::One(Value::str("name100000")))])
    ));
}

#[test]
fn pathological_regexes() {
    // Exponential as a DFA: rejected at load, with the reason.
    let l = load(&rule(
        "evt.type = execve and proc.name regex '(a|b)*a(a|b){20}'",
    ));
    assert!(
        errors(&l)
            .iter()
            .any(|e| e.contains("automaton") || e.contains("too complex")),
        "{:?}",
        errors(&l)
    );
    // Catastrophic for backtracking engines, linear here: a 10 MB value.
    let l = load(&rule("evt.type = execve and proc.cmdline regex '(a+)+b'"));
    assert!(errors(&l).is_empty(), "{:?}", errors(&l));
    let big = SlotValue::One(Value::Bytes(vec![b'a'; 10 << 20]));
    let t = Instant::now();
    assert!(!matches(&l, &event(&[("proc.cmdline", big)])));
    assert!(
        t.elapsed() < Duration::from_secs(30),
        "took {:?}",
        t.elapsed()
    );
}

#[test]
fn ten_megabyte_field_values() {
    let l = load(&rule(
        "evt.type = execve and proc.cmdline contains needle and proc.cmdline icontains NEEDLE",
    ));
    let mut v = vec![b'x'; 10 << 20];
    v.extend_from_slice(b"needle");
    assert!(matches(
        &l,
        &event(&[("proc.cmdline", SlotValue::One(Value::Bytes(v)))])
    ));
}

#[test]
fn memory_limit_and_deadline_fail_one_event_and_the_engine_continues() {
    // 300 rules that each scan a 10 MB value case-insensitively: far more
    // work than one 10 ms epoch tick allows.
    let mut y = String::new();
    for i in 0..300 {
        y.push_str(&format!("- rule: R{i}\n  desc: d\n  condition: evt.type = execve and proc.cmdline icontains zzzzzzzz{i}\n  output: o\n  priority: info\n"));
    }
    let l = load(&y);
    assert!(errors(&l).is_empty());
    let src = l.source("syscall").unwrap().clone();
    let limits = FilterLimits {
        max_memory: 64 << 20,
        deadline_ticks: 1,
    };
    let mut e = SourceEngine::new(
        src,
        &EngineOptions {
            limits,
            matching: RuleMatching::All,
            ..Default::default()
        },
    )
    .unwrap();
    let huge = event(&[(
        "proc.cmdline",
        SlotValue::One(Value::Bytes(vec![b'z'; 10 << 20])),
    )]);
    let mut out = Vec::new();
    match e.process(&huge, &mut out) {
        Err(FilterError::Trap(m)) => assert!(m.contains("deadline"), "{m}"),
        other => panic!("expected a deadline trap, got {other:?}"),
    }
    // The next event is evaluated normally by a fresh instance. (A one-tick
    // deadline also cuts a small event short when a loaded machine
    // preempts the thread across a tick: a deadline trap there is retried,
    // any other outcome is final.)
    let small = event(&[("proc.cmdline", SlotValue::One(Value::str("zzzzzzzz7")))]);
    let small_once = |e: &mut SourceEngine, out: &mut Vec<_>| {
        for _ in 0..20 {
            out.clear();
            match e.process(&small, out) {
                Err(FilterError::Trap(m)) if m.contains("deadline") => continue,
                r => return r,
            }
        }
        e.process(&small, out)
    };
    small_once(&mut e, &mut out).expect("engine recovered");
    assert_eq!(out.len(), 1);
    // A value larger than the filter's memory limit is refused, not a crash.
    let too_big = event(&[(
        "proc.cmdline",
        SlotValue::One(Value::Bytes(vec![b'z'; 80 << 20])),
    )]);
    assert!(matches!(
        e.process(&too_big, &mut out),
        Err(FilterError::TooLarge { .. })
    ));
    small_once(&mut e, &mut out).expect("engine still fine");
    assert_eq!(out.len(), 1);
}

#[test]
fn hostile_yaml() {
    let l = load("- rule: [\n");
    assert!(!errors(&l).is_empty());
    let l = load(&"- ".repeat(10_000));
    assert!(!errors(&l).is_empty());
    let l = load("\u{0}\u{1}garbage: : :\n");
    assert!(!errors(&l).is_empty());
}

#[test]
fn a_rules_file_of_many_huge_patterns_is_refused_quickly() {
    // 2,000 rules, each a pattern whose automaton is too large: each one
    // costs the whole per-pattern build budget before it is refused. The
    // source's automaton budget runs out after a few, and the rest are
    // refused without being built.
    let mut y = String::new();
    for i in 0..2000 {
        y.push_str(&format!(
            "- rule: R{i}\n  desc: d\n  condition: evt.type = execve and proc.name regex 'p{i}(a|b)*a(a|b){{20}}'\n  output: o\n  priority: info\n"
        ));
    }
    let t = Instant::now();
    let l = load(&y);
    let took = t.elapsed();
    let errors = errors(&l);
    assert_eq!(errors.len(), 2000, "{:?}", &errors[..errors.len().min(5)]);
    assert!(
        errors.iter().any(|e| e.contains("MiB of automata")),
        "{:?}",
        &errors[..5]
    );
    assert!(took < Duration::from_secs(30), "took {took:?}");
}
