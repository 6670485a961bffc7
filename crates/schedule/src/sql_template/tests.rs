//! Template cases from `tests/cases/sql_templates.yaml`.

use std::collections::BTreeMap;
use std::path::Path;

use super::*;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    template: String,
    #[serde(default)]
    vars: BTreeMap<String, String>,
    sql: Option<String>,
    error: Option<String>,
}

fn block() -> Block {
    let dir = std::env::temp_dir();
    let file = dir.join("weft-sql-template-test.sql");
    std::fs::write(&file, "select 1").unwrap();
    let f = file.display();
    let yaml = format!(
        "blocks:\n  - {{ name: q, kind: transformer, source: {f}, upstream: [trips, zones] }}\n  - {{ name: trips, kind: loader, source: {f} }}\n  - {{ name: zones, kind: loader, source: {f} }}\n"
    );
    let p = weft_pipeline::parse(&yaml, Path::new("p.yaml"), &dir, "p").unwrap();
    p.block("q").unwrap().clone()
}

#[test]
fn template_cases() {
    let cases: Vec<Case> =
        serde_yaml::from_str(include_str!("../../tests/cases/sql_templates.yaml")).unwrap();
    assert!(cases.len() >= 20, "the case file was not read whole");
    let b = block();
    let mut failures = Vec::new();
    for case in &cases {
        let got = render(&b, &case.template, &case.vars);
        let ok = match (&got, &case.sql, &case.error) {
            (Ok(sql), Some(want), None) => sql == want,
            (Err(e), None, Some(want)) => e.contains(want.as_str()),
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{}: got {got:?}, want {:?}",
                case.name,
                case.sql.as_ref().or(case.error.as_ref())
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn numbers_are_recognised_strictly() {
    for n in ["0", "4", "-4", "2.5", ".5", "5.", "1e9", "2.5E-3"] {
        assert!(is_number(n), "{n}");
    }
    for n in [
        "", "-", ".", "1e", "1.2.3", "0x10", "1 ", "--1", "1e+", "NaN", "1;",
    ] {
        assert!(!is_number(n), "{n}");
    }
}
