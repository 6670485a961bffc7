//! `weft validate` over a project with good and bad pipelines.

use crate::support::*;

#[test]
fn validate_reports_every_problem_and_fails() {
    let p = Project::new();
    p.pipeline(
        "good",
        "blocks:\n  - { name: a, kind: loader, source: {probe} }\n",
    );
    p.pipeline(
        "bad",
        "blocks:\n  - { name: a, kind: loader, source: {probe}, upstream: [c] }\n  - { name: b, kind: transformer, source: {probe}, upstream: [a] }\n  - { name: c, kind: transformer, source: {probe}, upstream: [b] }\n  - { name: d, kind: transfomer, source: {probe}, upstream: [ghost] }\n",
    );
    let ran = p.weft(&["validate"]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("ok    good (1 blocks, 0 triggers)"),
        "{}",
        ran.stderr
    );
    for needle in [
        "pipelines/bad/pipeline.yaml: cycle in upstream edges: a -> b -> c -> a",
        "block \"d\": field `kind`: unknown kind `transfomer`",
        "did you mean \"transformer\"?",
        "block \"d\": upstream \"ghost\" is not a block of this pipeline",
        "1 pipeline(s) have errors",
    ] {
        assert!(
            ran.stderr.contains(needle),
            "missing {needle:?} in:\n{}",
            ran.stderr
        );
    }
}

#[test]
fn validate_passes_on_the_repository_examples() {
    let ran: Ran = weft()
        .arg("--project")
        .arg(repo())
        .args(["validate", "--json"])
        .output()
        .unwrap()
        .into();
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let pipelines = ran.json();
    let hello = pipelines
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "hello")
        .expect("hello pipeline");
    let names: Vec<&str> = hello["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["numbers", "squares", "report"]);
}

#[test]
fn running_a_broken_or_missing_pipeline_names_the_problem() {
    let p = Project::new();
    p.pipeline(
        "broken",
        "blocks:\n  - { name: a, kind: loader, source: {probe}, timeout: forever }\n",
    );
    let ran = p.weft(&["run", "broken"]);
    assert_eq!(ran.code, 2);
    assert!(ran.stderr.contains("pipelines/broken/pipeline.yaml: block \"a\": field `timeout`: `forever` is not a duration"), "{}", ran.stderr);
    let ran = p.weft(&["run", "nosuch"]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr
            .contains("no pipeline \"nosuch\" in pipelines/; available: broken"),
        "{}",
        ran.stderr
    );
    std::fs::write(p.path().join("pipelines/broken/pipeline.yaml"), "blocks: [").unwrap();
    let ran = p.weft(&["validate"]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr.contains("pipelines/broken/pipeline.yaml:"),
        "{}",
        ran.stderr
    );
}

#[test]
fn granted_profiles_must_exist_and_io_config_must_parse() {
    let p = Project::new();
    write(
        p.path(),
        "io_config.yaml",
        "version: 0.1.1\ndefault:\n  POSTGRES_HOST: localhost\ngcs:\n  GCS_BUCKET: lake\n",
    );
    p.pipeline(
        "typo",
        "blocks:\n  - { name: a, kind: loader, source: {probe}, grants: { profiles: [defualt] } }\n",
    );
    let ran = p.weft(&["validate"]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("block \"a\": field `grants.profiles`: io_config.yaml has no profile \"defualt\"; profiles: default, gcs"),
        "{}",
        ran.stderr
    );
    write(
        p.path(),
        "io_config.yaml",
        "default:\n  X: \"{{ env_var( }}\"\n",
    );
    let ran = p.weft(&["run", "typo"]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("io_config.yaml: profile \"default\": `X`:"),
        "{}",
        ran.stderr
    );
}
