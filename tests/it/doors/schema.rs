//! schemathesis against `weft serve`'s own OpenAPI document: generated requests, valid and
//! not, to every route; no answer is a 5xx, and every answer matches the document (status,
//! content type, schema). `WEFT_SCHEMATHESIS_EXAMPLES` sets the examples per route (a short
//! bounded run by default; see `bench/fuzz.md` for a long one).

use std::process::Command;

use super::*;
use crate::served::*;
use crate::services::tools;

#[test]
fn the_api_answers_as_its_openapi_document_says() {
    let p = Project::new();
    p.pipeline(
        "etl",
        "blocks:\n  - { name: src, kind: loader, source: {probe}, config: { mode: rows, rows: 2 } }\n",
    );
    write(
        p.path(),
        "pipelines/etl/triggers.yaml",
        "- name: webhook\n  type: api\n",
    );
    let good = token(&p, "webhook");
    let s = serve(&p);
    let examples = std::env::var("WEFT_SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| "15".to_string());
    let reports = tempfile::tempdir().unwrap();
    let out = Command::new(tools().join("schemathesis"))
        .args([
            "run",
            &format!("{}/api/openapi.json", s.base),
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--max-examples",
            &examples,
            "--seed",
            "20261201",
            "--workers",
            "1",
            // The UI's live channel never ends by design; browser.rs drives it.
            "--exclude-path",
            "/api/events",
            "--header",
            &format!("Authorization: Bearer {good}"),
            "--report-dir",
        ])
        .arg(reports.path())
        // Its own caches go to the temporary folder, not the repository.
        .current_dir(reports.path())
        .env("SCHEMATHESIS_HOOKS", "")
        .output()
        .expect("schemathesis (run scripts/test-services.sh)");
    let shown = format!(
        "{}\n{}\nserver:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        s.stderr()
    );
    assert!(out.status.success(), "{shown}");
    // The server is still healthy after it all.
    assert_eq!(s.get("/api/health")["status"], "ok");
}
