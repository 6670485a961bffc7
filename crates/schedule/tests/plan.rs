//! The executor's plan, case by case: each `tests/cases/plan/<case>.yaml` holds a pipeline,
//! the outcomes fed in step by step, what the plan must answer after each step (ready block
//! runs and their inputs, decisions) and the final status of every block run.
//!
//! A case's blocks need only `name` (and `upstream` and the control-flow fields): `kind`
//! defaults to transformer and `source` to a fixture component.
//!
//! Steps:
//! - `ready: [key, ...]` (or `ready: { take: N, keys: [...] }`): what `take_ready` answers;
//! - `inputs: { key: "name=source, ..." }`: the inputs of block runs taken so far;
//! - `finish: { key: outcome }`, outcomes `ok`, `ok:<rows>`, `skipped`, `failed`, `cancelled`,
//!   `sleep:<at>`; `decided: { key: status }` after it lists exactly what the plan decided;
//! - `wake: <now>`, `cancel: true`;
//! - `expect: { key: status | open }` at the end lists every block run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_yaml::{Mapping, Value};
use weft_schedule::plan::{Outcome, Plan, Ready, RunKey, Source, Status};

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/plan")
}

fn pipeline(case: &Path, spec: &Value) -> weft_pipeline::Pipeline {
    let mut spec = spec.clone();
    for b in spec["blocks"].as_sequence_mut().expect("pipeline.blocks") {
        let m = b.as_mapping_mut().unwrap();
        m.entry("kind".into()).or_insert("transformer".into());
        m.entry("source".into())
            .or_insert("fixtures/block.wasm".into());
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/ui");
    let text = serde_yaml::to_string(&spec).unwrap();
    weft_pipeline::parse(&text, case, &root, "case")
        .unwrap_or_else(|e| panic!("{}: pipeline: {e}", case.display()))
}

fn status_text(s: Option<Status>) -> String {
    match s {
        None => "open".into(),
        Some(Status::Success) => "success".into(),
        Some(Status::Failed) => "failed".into(),
        Some(Status::Skipped) => "skipped".into(),
        Some(Status::UpstreamFailed) => "upstream_failed".into(),
        Some(Status::Cancelled) => "cancelled".into(),
    }
}

fn outcome(text: &str) -> Outcome {
    match text.split_once(':') {
        None if text == "ok" => Outcome::Output { rows: None },
        None if text == "skipped" => Outcome::Skipped,
        None if text == "failed" => Outcome::Failed,
        None if text == "cancelled" => Outcome::Cancelled,
        Some(("ok", n)) => Outcome::Output {
            rows: Some(n.parse().unwrap()),
        },
        Some(("sleep", at)) => Outcome::Reschedule {
            at: at.parse().unwrap(),
        },
        _ => panic!("unknown outcome `{text}`"),
    }
}

fn inputs_text(r: &Ready) -> String {
    r.inputs
        .iter()
        .map(|(name, s)| {
            let s = match s {
                Source::Whole(k) => k.to_string(),
                Source::Row(k, i) => format!("{k}#{i}"),
                Source::Gather(ks) => format!(
                    "[{}]",
                    ks.iter()
                        .map(|k| k.to_string())
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
            };
            format!("{name}={s}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn strings(v: &Value) -> Vec<String> {
    v.as_sequence()
        .map(|s| {
            s.iter()
                .map(|x| match x {
                    Value::String(s) => s.clone(),
                    other => serde_yaml::to_string(other).unwrap().trim().to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn map(v: &Value) -> BTreeMap<String, String> {
    pairs(v).into_iter().collect()
}

/// A mapping's entries in written order.
fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_mapping()
        .map(Mapping::iter)
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                other => serde_yaml::to_string(other).unwrap().trim().to_string(),
            };
            (k.as_str().unwrap().to_string(), v)
        })
        .collect()
}

fn run_case(case: &Path) -> Result<(), String> {
    let doc: Value = serde_yaml::from_str(&std::fs::read_to_string(case).unwrap()).unwrap();
    let mut plan = Plan::new(&pipeline(case, &doc["pipeline"]));
    let mut taken: BTreeMap<String, Ready> = BTreeMap::new();
    for (n, step) in doc["steps"].as_sequence().unwrap().iter().enumerate() {
        let at = |what: &str| format!("step {} ({what})", n + 1);
        if let Some(r) = step.get("ready") {
            let (take, want) = match r {
                Value::Mapping(_) => (r["take"].as_u64().unwrap() as usize, strings(&r["keys"])),
                _ => (usize::MAX, strings(r)),
            };
            let got: Vec<Ready> = plan.take_ready(take);
            let keys: Vec<String> = got.iter().map(|r| r.key.to_string()).collect();
            if keys != want {
                return Err(format!(
                    "{}: ready {keys:?}, expected {want:?}",
                    at("ready")
                ));
            }
            for r in got {
                taken.insert(r.key.to_string(), r);
            }
        }
        if let Some(i) = step.get("inputs") {
            for (key, want) in map(i) {
                let got = taken.get(&key).map(inputs_text).unwrap_or_default();
                if got != want {
                    return Err(format!(
                        "{}: {key}: inputs `{got}`, expected `{want}`",
                        at("inputs")
                    ));
                }
            }
        }
        let mut decided = Vec::new();
        if let Some(f) = step.get("finish") {
            for (key, o) in pairs(f) {
                let k: RunKey = key.parse().unwrap();
                decided.extend(plan.finish(&k, outcome(&o)));
            }
        }
        if let Some(now) = step.get("wake") {
            plan.wake(now.as_i64().unwrap());
        }
        if step.get("cancel").is_some() {
            decided.extend(plan.cancel());
        }
        if let Some(d) = step.get("decided") {
            let got: BTreeMap<String, String> = decided
                .iter()
                .map(|d| (d.key.to_string(), status_text(Some(d.status))))
                .collect();
            if got != map(d) {
                return Err(format!(
                    "{}: decided {got:?}, expected {:?}",
                    at("decided"),
                    map(d)
                ));
            }
        }
        if let Some(w) = step.get("next_wake") {
            if plan.next_wake() != w.as_i64() {
                return Err(format!(
                    "{}: next wake {:?}",
                    at("next_wake"),
                    plan.next_wake()
                ));
            }
        }
    }
    let got: BTreeMap<String, String> = plan
        .statuses()
        .into_iter()
        .map(|(k, s)| (k.to_string(), status_text(s)))
        .collect();
    let want = map(&doc["expect"]);
    if got != want {
        return Err(format!("final statuses {got:?}, expected {want:?}"));
    }
    let finished = !got.values().any(|s| s == "open");
    if plan.is_finished() != finished {
        return Err(format!("is_finished() says {}", plan.is_finished()));
    }
    Ok(())
}

#[test]
fn plan_cases() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 10,
        "expected the plan cases in {}",
        cases_dir().display()
    );
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| run_case(c).err().map(|e| format!("{}: {e}", c.display())))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn ten_thousand_children_gathered() {
    let spec: Value = serde_yaml::from_str(
        "blocks:\n  - { name: d, kind: loader, dynamic: true }\n  - { name: c, upstream: [d] }\n  - { name: r, upstream: [c], reduce: true }\n  - { name: after, upstream: [r] }\n",
    )
    .unwrap();
    let mut plan = Plan::new(&pipeline(Path::new("big.yaml"), &spec));
    let d = plan.take_ready(10);
    plan.finish(&d[0].key, Outcome::Output { rows: Some(10_000) });
    let mut done = 0;
    loop {
        let ready = plan.take_ready(4);
        if ready.is_empty() {
            break;
        }
        for r in ready {
            if r.key.block == "after" {
                assert_eq!(r.inputs.len(), 1);
            }
            if let Some((_, Source::Gather(ks))) = r.inputs.first() {
                assert_eq!(ks.len(), 9_999, "one child of c was skipped");
            }
            let skip = r.key.to_string() == "c[17]";
            plan.finish(
                &r.key,
                if skip {
                    Outcome::Skipped
                } else {
                    Outcome::Output { rows: Some(1) }
                },
            );
            done += 1;
        }
    }
    // c[17] skipped: r[17] is decided skipped without running.
    assert_eq!(done, 10_000 + 9_999 + 1);
    assert!(plan.is_finished());
}
