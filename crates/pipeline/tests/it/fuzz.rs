//! Property tests of the manifest parsers (`pipeline.yaml`, `triggers.yaml`), whose input a
//! pipeline author or a package writes: any text is a pipeline or errors naming the file,
//! never a panic — and damaging a valid manifest never makes the parser panic either.
//! `PROPTEST_CASES` sets how many cases run (see `bench/fuzz.md` for a long run).

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::sample::Index;

fn ui_cases() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/ui");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect()
}

/// Characters that matter to YAML and to the manifest's fields.
const YAML_BITS: &[&str] = &[
    ":",
    "-",
    " ",
    "\n",
    "{",
    "}",
    "[",
    "]",
    ",",
    "'",
    "\"",
    "#",
    "&a",
    "*a",
    "!!",
    "|",
    ">",
    "~",
    "0",
    "-1",
    "1e999",
    "kind",
    "upstream",
    "blocks",
    "grants",
    "urls",
    "memory_limit",
    "timeout",
    "99999999999999999999",
    "\t",
    "\u{feff}",
    "…",
];

fn check_pipeline(text: &str) -> Result<(), TestCaseError> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/ui");
    if let Err(errors) = weft_pipeline::parse(text, Path::new("fuzz.yaml"), &root, "fuzz") {
        let shown = errors.to_string();
        prop_assert!(shown.starts_with("fuzz.yaml"), "{shown}");
    }
    Ok(())
}

proptest! {
    #[test]
    fn any_text_is_a_pipeline_or_named_errors(text in any::<String>()) {
        check_pipeline(&text)?;
        let _ = weft_pipeline::parse_triggers(&text, Path::new("triggers.yaml"));
    }

    #[test]
    fn damaged_manifests_are_pipelines_or_named_errors(
        case in any::<Index>(),
        edits in proptest::collection::vec((any::<Index>(), any::<Index>(), 0u8..3), 1..10),
    ) {
        let cases = ui_cases();
        let mut text: Vec<char> = cases[case.index(cases.len())].chars().collect();
        for (at, bit, op) in edits {
            let i = at.index(text.len() + 1);
            let bit: Vec<char> = YAML_BITS[bit.index(YAML_BITS.len())].chars().collect();
            match op {
                0 => { text.splice(i..i, bit); }
                1 if i < text.len() => { text.remove(i); }
                _ => { text.splice(i..(i + 1).min(text.len()), bit); }
            }
        }
        let text: String = text.into_iter().collect();
        check_pipeline(&text)?;
    }

    #[test]
    fn trigger_files_are_triggers_or_named_errors(
        name in "[a-z_]{0,6}",
        kind in prop_oneof![Just("api"), Just("schedule"), Just("nope"), Just("")],
        cron in prop_oneof![
            Just("* * * * * *".to_string()),
            Just("0 4 * * *".to_string()),
            Just("61 * * * *".to_string()),
            Just("@hourly".to_string()),
            "[ -~]{0,16}",
        ],
        extra in "[ -~]{0,20}",
    ) {
        let text = format!("- name: {name}\n  type: {kind}\n  cron: \"{cron}\"\n  {extra}\n");
        if let Err(errors) = weft_pipeline::parse_triggers(&text, Path::new("triggers.yaml")) {
            prop_assert!(errors.to_string().contains("triggers.yaml"), "{errors}");
        }
    }
}
