//! `weft init` → `weft build` → `weft run` in a fresh folder, away from this repository.

use crate::support::*;

#[test]
fn init_build_run_python_in_a_temp_folder() {
    init_build_run(&[], "blocks/load_numbers.py");
}

#[test]
fn init_build_run_rust_in_a_temp_folder() {
    init_build_run(&["--lang", "rust"], "blocks/load_numbers/src/lib.rs");
}

fn init_build_run(lang: &[&str], block_file: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("my_project");
    let ran: Ran = weft()
        .arg("init")
        .arg(&dir)
        .args(lang)
        .output()
        .unwrap()
        .into();
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    for f in [
        "weft.toml",
        "io_config.yaml",
        ".gitignore",
        "pipelines/example/pipeline.yaml",
        block_file,
    ] {
        assert!(dir.join(f).is_file(), "init did not write {f}");
    }
    // From inside the project, with no --project.
    // A machine-wide component cache of its own, so this first build really compiles.
    let components = tmp.path().join("component-cache");
    let build: Ran = weft()
        .current_dir(&dir)
        .env("WEFT_COMPONENT_CACHE", &components)
        .arg("build")
        .output()
        .unwrap()
        .into();
    assert_eq!(build.code, 0, "{}", build.stderr);
    assert!(
        build.stderr.contains("2 compiled, 0 cached"),
        "{}",
        build.stderr
    );
    let again: Ran = weft()
        .current_dir(&dir)
        .env("WEFT_COMPONENT_CACHE", &components)
        .arg("build")
        .output()
        .unwrap()
        .into();
    assert!(
        again.stderr.contains("0 compiled, 2 cached"),
        "{}",
        again.stderr
    );
    let run: Ran = weft()
        .current_dir(&dir)
        .args(["run", "example", "--json"])
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary = run.json();
    assert_eq!(block(&summary, "load_numbers")["rows"], 100);
    assert_eq!(block(&summary, "keep_even")["rows"], 50);
    assert!(run.stderr.contains("kept 50 of 100 rows"), "{}", run.stderr);
    assert!(dir.join(".weft/state.db").is_file());
    // A second init over it is refused.
    let again: Ran = weft().arg("init").arg(&dir).output().unwrap().into();
    assert_eq!(again.code, 2);
    assert!(
        again.stderr.contains("already holds a weft project"),
        "{}",
        again.stderr
    );
}

#[test]
fn commands_outside_a_project_say_so() {
    let tmp = tempfile::tempdir().unwrap();
    let ran: Ran = weft()
        .current_dir(tmp.path())
        .arg("runs")
        .output()
        .unwrap()
        .into();
    assert_eq!(ran.code, 2);
    assert!(ran.stderr.contains("not a weft project"), "{}", ran.stderr);
    assert!(ran.stderr.contains("weft init"), "{}", ran.stderr);
}

#[test]
fn the_allocator_commits_arenas_as_they_are_used() {
    // An eagerly committed arena keeps what a finished block freed in the resident set; the
    // binary sets the lazy default before its first allocation, and the environment still
    // overrides it.
    let option = |env: Option<&str>| {
        let mut c = weft();
        c.arg("--version").env("MIMALLOC_VERBOSE", "1");
        if let Some(v) = env {
            c.env("MIMALLOC_ARENA_EAGER_COMMIT", v);
        }
        let out = c.output().unwrap();
        assert!(out.status.success());
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        err.lines()
            .find_map(|l| l.split_once("option 'arena_eager_commit': "))
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_else(|| panic!("mimalloc printed no arena_eager_commit option: {err}"))
    };
    assert_eq!(option(None), "0");
    assert_eq!(option(Some("1")), "1");
}
