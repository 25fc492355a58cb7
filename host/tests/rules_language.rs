//! The rules language end to end through the library: loading semantics
//! (override, append, exceptions, lists, macros), diagnostics, and
//! evaluation with both back ends via fixture cases.

use falco_wasm::engine::{Backend, EngineOptions, RuleMatching, Selection, SourceEngine};
use falco_wasm::fields::FieldRegistry;
use falco_wasm::priority::Priority;
use falco_wasm::rules::compile::builtin_plugins;
use falco_wasm::rules::diag::Code;
use falco_wasm::rules::{LoadedRules, RulesFile, Severity};
use falco_wasm::testing::{parse_fixtures, run_cases};

fn load_many(files: &[(&str, &str)]) -> LoadedRules {
    let files = files
        .iter()
        .map(|(p, c)| RulesFile {
            path: p.to_string(),
            content: c.to_string(),
        })
        .collect();
    falco_wasm::rules::load_files(files, &FieldRegistry::builtin(), &builtin_plugins())
}

fn load(yaml: &str) -> LoadedRules {
    load_many(&[("rules.yaml", yaml)])
}

fn errors(l: &LoadedRules) -> Vec<String> {
    l.diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| format!("{} {} {}", d.location(), d.code.name(), d.message))
        .collect()
}

fn warnings(l: &LoadedRules) -> Vec<(Code, String)> {
    l.diags
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .map(|d| (d.code, d.message.clone()))
        .collect()
}

/// Runs fixture cases (YAML text) and asserts they all pass.
fn check(l: &LoadedRules, fixtures: &str) {
    assert!(errors(l).is_empty(), "{:?}", errors(l));
    let cases = parse_fixtures("cases.yaml", fixtures, l, &FieldRegistry::builtin())
        .expect("fixtures parse");
    for r in run_cases(l, &cases).expect("engines build") {
        assert!(
            r.failures.is_empty(),
            "case '{}' (line {}): {:?}; triggered {:?}",
            r.name,
            r.line,
            r.failures,
            r.triggered
        );
    }
}

const BASE: &str = r#"
- list: shells
  items: [bash, sh]
- list: more_shells
  items: [shells, zsh]
- macro: spawned_process
  condition: evt.type in (execve, execveat)
- macro: shell_procs
  condition: proc.name in (more_shells)
- rule: Shell
  desc: a shell
  condition: spawned_process and shell_procs
  output: shell %proc.name
  priority: WARNING
  tags: [shell]
"#;

#[test]
fn lists_nest_and_macros_expand() {
    let l = load(BASE);
    check(
        &l,
        r#"
- case: zsh comes from the nested list
  type: execve
  fields: {proc.name: zsh}
  expect: [Shell]
- case: wrong event type
  type: openat
  fields: {proc.name: bash}
  forbid: [Shell]
- case: not a shell
  type: execve
  fields: {proc.name: cat}
  forbid: [Shell]
"#,
    );
}

#[test]
fn override_append_and_replace() {
    let extra = r#"
- list: shells
  items: [fish]
  override:
    items: append
- macro: shell_procs
  condition: or proc.name = tcsh
  override:
    condition: append
- rule: Shell
  condition: and not proc.pname = sshd
  output: " parent=%proc.pname"
  priority: error
  tags: [extra]
  override:
    condition: append
    output: append
    priority: replace
    tags: append
"#;
    let l = load_many(&[("base.yaml", BASE), ("extra.yaml", extra)]);
    let r = l.all_rules().next().expect("one rule");
    assert_eq!(r.priority, Priority::Error);
    assert_eq!(
        r.tags.iter().cloned().collect::<Vec<_>>(),
        ["extra", "shell"]
    );
    assert_eq!(r.output_text, "shell %proc.name  parent=%proc.pname");
    check(
        &l,
        r#"
- case: appended list item
  type: execve
  fields: {proc.name: fish, proc.pname: bash}
  expect: [Shell]
- case: appended macro alternative
  type: execve
  fields: {proc.name: tcsh, proc.pname: bash}
  expect: [Shell]
- case: appended rule condition
  type: execve
  fields: {proc.name: bash, proc.pname: sshd}
  forbid: [Shell]
"#,
    );
}

#[test]
fn replace_disables_and_redefinition_keeps_order() {
    let l = load(&format!(
        "{BASE}\n- rule: Other\n  desc: d\n  condition: evt.type = execve\n  output: o\n  priority: info\n- rule: Shell\n  desc: redefined\n  condition: evt.type = execve and proc.name = ksh\n  output: x\n  priority: notice\n- rule: Other\n  enabled: false\n  override:\n    enabled: replace\n"
    ));
    let names: Vec<_> = l
        .all_rules()
        .map(|r| (r.name.as_str(), r.enabled))
        .collect();
    assert_eq!(names, [("Shell", true), ("Other", false)]);
    check(
        &l,
        "- case: redefined\n  type: execve\n  fields: {proc.name: ksh}\n  expect: [Shell]\n  forbid: ['*']\n",
    );
}

#[test]
fn legacy_append_warns_and_appends() {
    let l = load(&format!(
        "{BASE}\n- rule: Shell\n  condition: and proc.name != sh\n  append: true\n"
    ));
    assert!(
        warnings(&l).iter().any(|(c, _)| *c == Code::WarningAppend),
        "{:?}",
        warnings(&l)
    );
    check(
        &l,
        "- case: sh excluded\n  type: execve\n  fields: {proc.name: sh}\n  forbid: [Shell]\n",
    );
}

#[test]
fn exceptions_tuple_and_single_forms() {
    let rules = r#"
- rule: Open
  desc: d
  condition: evt.type = openat and fd.name startswith /etc
  output: o
  priority: warning
  exceptions:
    - name: known
      fields: [proc.name, fd.name]
      comps: [=, startswith]
      values:
        - [cat, /etc/hosts]
        - [my tool, /etc/app]
    - name: by_parent
      fields: proc.pname
      values: [systemd, cron]
    - name: in_list
      fields: [proc.name, fd.directory]
      comps: [=, in]
      values:
        - [vi, [/etc/ssh, /etc/ssl]]
"#;
    let extra = "- rule: Open\n  exceptions:\n    - name: by_parent\n      values: [anacron]\n  override:\n    exceptions: append\n";
    let l = load_many(&[("a.yaml", rules), ("b.yaml", extra)]);
    check(
        &l,
        r#"
- case: excepted tuple
  type: openat
  fields: {proc.name: cat, fd.name: /etc/hosts, proc.pname: bash}
  forbid: [Open]
- case: value with a space is quoted
  type: openat
  fields: {proc.name: my tool, fd.name: /etc/app/x, proc.pname: bash}
  forbid: [Open]
- case: single-field exception, appended value
  type: openat
  fields: {proc.name: cat, fd.name: /etc/shadow, proc.pname: anacron}
  forbid: [Open]
- case: list value in a tuple
  type: openat
  fields: {proc.name: vi, fd.name: /etc/ssh/sshd_config, fd.directory: /etc/ssh, proc.pname: bash}
  forbid: [Open]
- case: not excepted
  type: openat
  fields: {proc.name: cat, fd.name: /etc/shadow, fd.directory: /etc, proc.pname: bash}
  expect: [Open]
"#,
    );
}

#[test]
fn bad_exception_shapes_are_errors() {
    let l = load(
        "- rule: R\n  desc: d\n  condition: evt.type = openat\n  output: o\n  priority: info\n  exceptions:\n    - name: e\n      fields: [proc.name, fd.name]\n      values:\n        - [cat]\n",
    );
    let e = errors(&l);
    assert!(
        e.iter()
            .any(|m| m.contains("Fields and values lists must have equal length")),
        "{e:?}"
    );
    let l = load(
        "- rule: R\n  desc: d\n  condition: evt.type = openat\n  output: o\n  priority: info\n  exceptions:\n    - name: e\n      fields: [proc.name]\n      comps: [=, =]\n      values: [[a]]\n",
    );
    assert!(
        errors(&l)
            .iter()
            .any(|m| m.contains("Fields and comps lists must have equal length"))
    );
    let l = load(
        "- rule: R\n  desc: d\n  condition: evt.type = openat\n  output: o\n  priority: info\n  exceptions:\n    - name: e\n      fields: proc.name\n      comps: =\n      values: [a]\n",
    );
    assert!(
        errors(&l)
            .iter()
            .any(|m| m.contains("When fields is a single value"))
    );
    let l = load(
        "- rule: R\n  desc: d\n  condition: evt.type = openat\n  output: o\n  priority: info\n  exceptions:\n    - name: e\n      fields: [proc.nosuch]\n      values: [[a]]\n",
    );
    assert!(
        errors(&l)
            .iter()
            .any(|m| m.contains("'proc.nosuch' is not a supported filter field"))
    );
}

#[test]
fn macro_visibility_follows_definition_order() {
    let l = load(
        "- macro: a\n  condition: b\n- macro: b\n  condition: proc.name = x\n- rule: R\n  desc: d\n  condition: evt.type = execve and a\n  output: o\n  priority: info\n",
    );
    let e = errors(&l);
    assert!(
        e.iter()
            .any(|m| m.contains("Undefined macro 'b' used in filter.")),
        "{e:?}"
    );
    // A rule sees macros defined after it.
    let l = load(
        "- rule: R\n  desc: d\n  condition: evt.type = execve and later\n  output: o\n  priority: info\n- macro: later\n  condition: proc.name = x\n",
    );
    assert!(errors(&l).is_empty(), "{:?}", errors(&l));
}

#[test]
fn empty_list_drops_its_comma() {
    let l = load(
        "- list: empty\n  items: []\n- list: quoted\n  items: ['my prog', other]\n- rule: R\n  desc: d\n  condition: evt.type = execve and proc.name in (a, empty, quoted)\n  output: o\n  priority: info\n",
    );
    check(
        &l,
        "- case: quoted item with a space\n  type: execve\n  fields: {proc.name: my prog}\n  expect: [R]\n- case: plain\n  type: execve\n  fields: {proc.name: a}\n  expect: [R]\n",
    );
}

#[test]
fn diagnostics_carry_positions_and_falco_wording() {
    let l = load(
        "- rule: R\n  desc: d\n  condition: evt.type = execve and proc.nosuch = 1\n  output: o\n  priority: info\n",
    );
    let d = l
        .diags
        .iter()
        .find(|d| d.severity == Severity::Error)
        .expect("an error");
    assert_eq!(d.code, Code::ErrCompileCondition);
    assert_eq!(
        d.message,
        "filter_check called with nonexistent field proc.nosuch"
    );
    assert_eq!(d.location(), "rules.yaml:3:36", "{d}");
    let l = load(
        "- rule: R\n  desc: d\n  condition: >\n    evt.type = execve\n    and proc.pid = abc\n  output: o\n  priority: info\n",
    );
    let d = l
        .diags
        .iter()
        .find(|d| d.severity == Severity::Error)
        .expect("an error");
    assert_eq!(d.message, "abc is not a valid number");
    assert_eq!(d.location(), "rules.yaml:5:20", "{d}");
    let l = load("- list: l\n  items: [a]\n  override:\n    items: append\n");
    assert!(errors(&l).iter().any(|m| m.contains("rules.yaml:1:3") && m.contains("List uses 'append' or 'override.items: append' but no list by that name already exists")), "{:?}", errors(&l));
    let l = load("- required_engine_version: 0.99.0\n");
    assert!(
        errors(&l).iter().any(
            |m| m.contains("Rules require engine version 0.99.0, but engine version is 0.62.0")
        )
    );
    let l = load(
        "- required_engine_version: 57\n- rule: R\n  desc: d\n  output: o\n  priority: info\n",
    );
    assert!(
        errors(&l)
            .iter()
            .any(|m| m.contains("Item has no mapping for key 'condition'")),
        "{:?}",
        errors(&l)
    );
    let l = load(
        "- rule: R\n  desc: d\n  condition: evt.type = execve\n  output: o\n  priority: info\n  bogus: 1\n- macro: unused\n  condition: proc.name = a\n",
    );
    let w = warnings(&l);
    assert!(
        w.iter()
            .any(|(c, m)| *c == Code::UnknownKey
                && m == "Unknown key 'bogus'. The key will be ignored."),
        "{w:?}"
    );
    assert!(w.iter().any(|(c, _)| *c == Code::UnusedMacro));
    let l = load(
        "- rule: R\n  desc: d\n  condition: evt.type = execve and proc.name = proc.pname\n  output: o\n  priority: info\n",
    );
    assert!(
        warnings(&l)
            .iter()
            .any(|(c, m)| *c == Code::CompileCondition
                && m == "'proc.pname' may be a valid field misused as a const string value"),
        "{:?}",
        warnings(&l)
    );
}

#[test]
fn unknown_filters_can_be_skipped_and_unknown_sources_warn() {
    let l = load(
        "- rule: R\n  desc: d\n  condition: evt.type = execve and proc.nosuch = 1\n  output: o\n  priority: info\n  skip-if-unknown-filter: true\n- rule: K\n  desc: d\n  condition: ka.verb = get\n  output: o\n  priority: info\n  source: k8s_audit\n",
    );
    assert!(errors(&l).is_empty(), "{:?}", errors(&l));
    let w = warnings(&l);
    assert!(w.iter().any(|(c, _)| *c == Code::UnknownFilter));
    assert!(
        w.iter()
            .any(|(c, m)| *c == Code::UnknownSource && m == "Unknown source k8s_audit, skipping")
    );
    assert_eq!(l.all_rules().count(), 0);
}

#[test]
fn rules_without_event_type_warn() {
    let l = load(
        "- rule: R\n  desc: d\n  condition: proc.name = a\n  output: o\n  priority: info\n- rule: Q\n  desc: d\n  condition: proc.name = a\n  output: o\n  priority: info\n  warn_evttypes: false\n",
    );
    let n = warnings(&l)
        .iter()
        .filter(|(c, _)| *c == Code::NoEvttype)
        .count();
    assert_eq!(n, 1);
}

/// `--list-events` lists every name libs know; a rule naming one the
/// probe does not capture warns (it would never match it).
#[test]
fn rules_on_event_types_never_captured_warn() {
    let l = load(
        "- rule: R\n  desc: d\n  condition: evt.type in (brk, openat)\n  output: o\n  priority: info\n\
         - rule: S\n  desc: d\n  condition: evt.type in (openat, procexit)\n  output: o\n  priority: info\n\
         - rule: T\n  desc: d\n  condition: evt.type = mlock\n  output: o\n  priority: info\n  warn_evttypes: false\n",
    );
    let w: Vec<String> = warnings(&l)
        .into_iter()
        .filter(|(c, _)| *c == Code::EvttypeNotCaptured)
        .map(|(_, m)| m)
        .collect();
    assert_eq!(
        w,
        ["Rule names event type(s) this engine does not capture: brk; it never matches those"]
    );
}

fn engine(l: &LoadedRules, opts: EngineOptions) -> SourceEngine {
    SourceEngine::new(l.source("syscall").expect("syscall rules").clone(), &opts)
        .expect("engine builds")
}

#[test]
fn matching_priority_and_selection() {
    let rules = "- rule: A\n  desc: d\n  condition: evt.type = execve\n  output: o\n  priority: notice\n  tags: [t1]\n- rule: B\n  desc: d\n  condition: evt.type = execve and proc.name = x\n  output: o\n  priority: critical\n  tags: [t2]\n";
    let l = load(rules);
    let cases = parse_fixtures(
        "f",
        "- case: c\n  type: execve\n  fields: {proc.name: x}\n",
        &l,
        &FieldRegistry::builtin(),
    )
    .unwrap();
    let ev = &cases[0].event;
    let hits = |opts: EngineOptions| {
        let mut e = engine(&l, opts);
        let mut out = Vec::new();
        e.process(ev, &mut out).unwrap();
        out.iter()
            .map(|&r| e.rules().rules[r as usize].name.clone())
            .collect::<Vec<_>>()
    };
    for backend in [Backend::Wasm, Backend::Interp] {
        assert_eq!(
            hits(EngineOptions {
                backend,
                ..Default::default()
            }),
            ["A"]
        );
        assert_eq!(
            hits(EngineOptions {
                backend,
                matching: RuleMatching::All,
                ..Default::default()
            }),
            ["A", "B"]
        );
        assert_eq!(
            hits(EngineOptions {
                backend,
                min_priority: Some(Priority::Warning),
                ..Default::default()
            }),
            ["B"]
        );
        let sel = vec![
            Selection {
                enable: false,
                rule: Some("*".into()),
                tag: None,
            },
            Selection {
                enable: true,
                rule: None,
                tag: Some("t2".into()),
            },
        ];
        assert_eq!(
            hits(EngineOptions {
                backend,
                selection: sel,
                ..Default::default()
            }),
            ["B"]
        );
    }
}

#[test]
fn plugin_requirements() {
    let l = load("- required_plugin_versions:\n  - name: container\n    version: 0.4.0\n");
    assert!(errors(&l).is_empty());
    assert!(
        l.notes
            .iter()
            .any(|n| n.contains("built-in container fields")),
        "{:?}",
        l.notes
    );
    let l = load("- required_plugin_versions:\n  - name: k8saudit\n    version: 0.18.0\n");
    assert!(
        errors(&l)
            .iter()
            .any(|m| m.contains("Plugin 'k8saudit' required by this file is not loaded"))
    );
    let l = load("- required_plugin_versions:\n  - name: container\n    version: 1.0.0\n");
    assert!(errors(&l).iter().any(|m| m.contains("not compatible")));
}
