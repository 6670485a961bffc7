//! Secrets fail closed: every profile key that is not a known plain setting is a secret,
//! never handed to a block and masked wherever it shows up — short values as whole words,
//! percent-encoded and JSON-escaped forms, and environment values granted to a block.

use super::*;

#[test]
fn secrets_fail_closed_and_are_masked_in_every_form() {
    let p = Project::new();
    write(
        p.path(),
        "io_config.yaml",
        "vault:\n  POSTGRES_HOST: db.example\n  PG_PASS: pass-in-odd-key\n  DATABASE_URL: \"postgres://u:topsecret99@db/x\"\n  SHORT_PW: q7z\n  QUOTED: 'pw\"quoted'\n",
    );
    let env_secret = format!("envsecret-{:08x}", rand::random::<u32>());
    let setting = |name: &str, key: &str| {
        format!("  - {{ name: {name}, kind: loader, source: {{probe}}, grants: {{ profiles: [vault] }}, config: {{ mode: setting, profile: vault, message: {key} }} }}\n")
    };
    let fail = |name: &str, message: &str| {
        format!("  - {{ name: {name}, kind: loader, source: {{probe}}, config: {{ mode: error, message: '{message}' }} }}\n")
    };
    let mut yaml = String::from("blocks:\n");
    yaml += &setting("host", "POSTGRES_HOST");
    yaml += &setting("pg_pass", "PG_PASS");
    yaml += &setting("database_url", "DATABASE_URL");
    yaml += &py_door(
        "py_pg_pass",
        "{ door: setting, profile: vault, key: PG_PASS }",
        ", grants: { profiles: [vault] }",
    );
    yaml += &fail("short", "bad password q7z given; q7zx is a word");
    yaml += &fail(
        "encoded",
        "GET postgres://u:topsecret99@db and u%3Atopsecret99 and pass%2Din%2Dodd%2Dkey",
    );
    yaml += &fail("escaped", "body {\"password\": \"pw\\\"quoted\"}");
    yaml += &format!(
        "  - {{ name: printer, kind: loader, source: {}, grants: {{ env: [WEFT_DOORS_ENV] }}, config: {{ name: WEFT_DOORS_ENV }} }}\n",
        py("print_env.py")
    );
    p.pipeline("vault", &yaml);
    let ran = p.weft_env(
        &["run", "vault", "--json"],
        &[("WEFT_DOORS_ENV".into(), env_secret.clone())],
    );
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let summary = ran.json();
    let run = summary["run_id"].as_str().unwrap();
    assert_eq!(outcome(&p, run, "host"), "ok: Some(\"db.example\")");
    for name in ["pg_pass", "database_url", "py_pg_pass"] {
        let o = outcome(&p, run, name);
        assert!(
            o.contains("is a secret") && !o.starts_with("ok"),
            "{name}: {o}"
        );
    }
    let e = error_of(&summary, "short");
    assert!(e.contains("bad password *** given; q7zx is a word"), "{e}");
    let e = error_of(&summary, "encoded");
    assert!(
        !e.contains("topsecret99") && !e.contains("pass%2Din"),
        "{e}"
    );
    let e = error_of(&summary, "escaped");
    assert!(!e.contains("quoted"), "{e}");
    let logs = p.weft(&["logs", run, "--json"]);
    let printed = log_lines(&logs.json(), "printer").join("\n");
    assert!(printed.contains("the value is ***"), "{printed}");
    for text in [&ran.stdout, &ran.stderr, &logs.stdout] {
        for secret in [
            env_secret.as_str(),
            "topsecret99",
            "pass-in-odd-key",
            "q7z given",
        ] {
            assert!(!text.contains(secret), "{secret} leaked:\n{text}");
        }
    }
}

#[test]
fn a_flood_of_log_calls_is_cut_at_the_log_budget() {
    let p = Project::new();
    let width = 1000;
    let mut yaml = format!(
        "blocks:\n  - {{ name: rust_flood, kind: loader, source: {{probe}}, config: {{ mode: log_flood, rows: 20000, message: \"{}\" }} }}\n",
        "x".repeat(width)
    );
    yaml += &py_door(
        "py_flood",
        "{ door: log_flood, lines: 20000, width: 1000 }",
        "",
    );
    yaml += HEALTHY;
    p.pipeline("flood", &yaml);
    let (summary, ran) = p.run("flood");
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let logs = p.logs(summary["run_id"].as_str().unwrap());
    for name in ["rust_flood", "py_flood"] {
        let lines = log_lines(&logs, name);
        // 8 MiB of ~1 KB lines, each charged its row too: about 7,900 lines, then one notice.
        assert!(
            lines.len() < 8_500 && lines.len() > 5_000,
            "{name}: {} lines",
            lines.len()
        );
        let notices = lines
            .iter()
            .filter(|l| l.contains("the rest is dropped"))
            .count();
        assert_eq!(notices, 1, "{name}");
    }
}
