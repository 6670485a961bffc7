//! Golden manifest cases: every `tests/ui/<case>.yaml` parses to the `<case>.json` beside it
//! (a valid pipeline) or fails with the `<case>.err` beside it. `WEFT_BLESS=1` rewrites them.

use std::path::{Path, PathBuf};

fn ui_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/ui")
}

fn render(case: &Path, root: &Path) -> (String, &'static str) {
    let text = std::fs::read_to_string(case).unwrap();
    let shown = Path::new("tests/ui").join(case.file_name().unwrap());
    match weft_pipeline::parse(&text, &shown, root, "case") {
        Ok(p) => {
            let mut v = serde_json::to_value(&p).unwrap();
            // Absolute source paths differ between machines.
            for b in v["blocks"].as_array_mut().unwrap() {
                let src = b["source"].as_object_mut().unwrap();
                src.remove("dir");
                src.remove("path");
            }
            (serde_json::to_string_pretty(&v).unwrap() + "\n", "json")
        }
        Err(e) => (e.to_string() + "\n", "err"),
    }
}

#[test]
fn manifest_cases_match_their_goldens() {
    let dir = ui_dir();
    let root = dir.canonicalize().unwrap();
    let bless = std::env::var_os("WEFT_BLESS").is_some();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 10,
        "expected the manifest cases in {}",
        dir.display()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let (actual, ext) = render(case, &root);
        let golden = case.with_extension(ext);
        let other = case.with_extension(if ext == "json" { "err" } else { "json" });
        if bless {
            std::fs::write(&golden, &actual).unwrap();
            let _ = std::fs::remove_file(&other);
            continue;
        }
        match std::fs::read_to_string(&golden) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => failures.push(format!(
                "{}:\n--- expected\n{expected}--- actual\n{actual}",
                golden.display()
            )),
            Err(_) => failures.push(format!(
                "{}: no golden file (the case {}); actual:\n{actual}",
                golden.display(),
                if ext == "json" { "parsed" } else { "failed" }
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
