//! Golden manifest edits: every `tests/edits/<case>.yaml` with the edit in `<case>.edit.json`
//! becomes the `<case>.out.yaml` beside it, or fails with the `<case>.err` beside it.
//! `WEFT_BLESS=1` rewrites them.

use std::path::{Path, PathBuf};

use weft_pipeline::edit::{apply, Edit};

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/edits")
}

#[test]
fn manifest_edits_match_their_goldens() {
    let dir = cases_dir();
    let bless = std::env::var_os("WEFT_BLESS").is_some();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".edit.json"))
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 10,
        "expected edit cases in {}",
        dir.display()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let stem = case
            .to_string_lossy()
            .trim_end_matches(".edit.json")
            .to_string();
        let before = std::fs::read_to_string(format!("{stem}.yaml")).unwrap();
        let edit: Edit = serde_json::from_str(&std::fs::read_to_string(case).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", case.display()));
        let (actual, ext, other) = match apply(&before, &edit) {
            Ok(text) => (text, "out.yaml", "err"),
            Err(e) => (e.to_string() + "\n", "err", "out.yaml"),
        };
        let golden = format!("{stem}.{ext}");
        if bless {
            std::fs::write(&golden, &actual).unwrap();
            let _ = std::fs::remove_file(format!("{stem}.{other}"));
            continue;
        }
        match std::fs::read_to_string(&golden) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => failures.push(format!(
                "{golden}:\n--- expected\n{expected}--- actual\n{actual}"
            )),
            Err(_) => failures.push(format!("{golden} missing; actual:\n{actual}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// An edit is refused rather than made wrong: whatever the manifest, the text that comes back
/// reads as the original with exactly the change made (checked inside `apply`), so here every
/// successful edit of every case also parses as YAML and keeps every line it did not touch.
#[test]
fn edits_keep_every_untouched_comment() {
    for case in std::fs::read_dir(cases_dir()).unwrap() {
        let path = case.unwrap().path();
        let name = path.to_string_lossy().to_string();
        let Some(stem) = name.strip_suffix(".edit.json") else {
            continue;
        };
        let before = std::fs::read_to_string(format!("{stem}.yaml")).unwrap();
        let edit: Edit = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        if let Ok(after) = apply(&before, &edit) {
            for line in before.lines().filter(|l| l.trim_start().starts_with('#')) {
                assert!(after.contains(line), "{stem}: lost comment {line:?}");
            }
        }
    }
}
