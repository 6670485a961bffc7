//! weft's own files (`.weft/`: state, build cache, block outputs; `io_config.yaml`,
//! `weft.toml`) are out of every grant, and `local://` is a folder of its own.

use super::*;

#[test]
fn weft_s_own_files_are_out_of_reach_of_every_grant() {
    let p = Project::new();
    write(
        p.path(),
        "io_config.yaml",
        "default:\n  POSTGRES_PASSWORD: hunter2-secret\n",
    );
    write(p.path(), "data/ok.csv", "a\n1\n2\n");
    std::os::unix::fs::symlink(p.path().join(".weft"), p.path().join("data/sneaky")).unwrap();
    let everything = "grants: { urls: [\"file://./\", \"file:///\", \"local://\"] }";
    let read = |name: &str, url: &str| {
        format!("  - {{ name: {name}, kind: loader, source: {{probe}}, {everything}, config: {{ mode: read, url: \"{url}\", options: {{ format: csv }} }} }}\n")
    };
    let mut yaml = String::from("blocks:\n  - { name: first, kind: loader, source: {probe}, config: { mode: rows, rows: 5 } }\n");
    yaml += &read("ok", "file://data/ok.csv");
    yaml += &read("state", "file://.weft/state.db");
    yaml += &read("secrets", "file://io_config.yaml");
    yaml += &read("linked", "file://data/sneaky/state.db");
    yaml += &read(
        "absolute",
        &format!("file://{}/weft.toml", p.path().display()),
    );
    yaml += &format!(
        "  - {{ name: rust_overwrite, kind: exporter, source: {{probe}}, upstream: [first], {everything}, config: {{ mode: write, target: \"file://.weft/components/\", options: {{ format: csv }} }} }}\n"
    );
    yaml += &format!(
        "  - {{ name: outputs, kind: loader, source: {{probe}}, upstream: [first], {everything}, config: {{ mode: read, url: \"local://runs/\", options: {{ format: arrow }} }} }}\n"
    );
    yaml += &py_door(
        "py_secrets",
        "{ door: read, url: \"file://io_config.yaml\", options: { format: csv } }",
        &format!(", {everything}"),
    );
    p.pipeline("own", &yaml);
    let (summary, ran) = p.run("own");
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let run = summary["run_id"].as_str().unwrap();
    assert_eq!(block(&summary, "ok")["rows"], 2, "{summary}");
    for name in ["state", "secrets", "linked", "absolute", "rust_overwrite"] {
        let e = error_of(&summary, name);
        assert!(
            e.contains("denied") && e.contains("weft's own"),
            "{name}: {e}"
        );
    }
    let o = outcome(&p, run, "py_secrets");
    assert!(o.contains("weft's own") && !o.contains("hunter2"), "{o}");
    // `local://` does not reach the block outputs: `local://runs/` is an empty folder of
    // its own, while the outputs sit in `.weft/objects/runs/`.
    assert_eq!(block(&summary, "outputs")["status"], "failed", "{summary}");
    assert!(p.path().join(".weft/objects/runs").join(run).is_dir());
    assert!(!p.path().join(".weft/components/part-00000.csv").exists());
}
