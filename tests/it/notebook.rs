//! Notebook editing over real HTTP against `weft serve`: a block's file read and saved (a
//! save over an edit it has not seen is refused), the server loading the pipeline again and
//! running what is on disk, an edit made by another editor picked up, a build error answered
//! with its line while the last good version keeps running, blocks added and connected by
//! editing pipeline.yaml, and the doors attacked: files outside the project, bodies that are
//! not JSON or too big, names that are paths, edits that would make a cycle.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::served::*;
use crate::support::*;

const NB: &str = "\
# A notebook pipeline: the comment stays.
blocks:
  - name: numbers
    kind: loader
    source: {probe}
    config: { mode: rows, rows: 5 }

  - name: total
    kind: transformer
    source: blocks/nb/total.sql
    upstream: [numbers]
";

fn url(s: &Served, path: &str) -> String {
    format!("{}/api/pipelines/nb{path}", s.base)
}

fn put(s: &Served, path: &str, body: Value) -> (u16, Value) {
    call(
        "PUT",
        &url(s, path),
        Some(body.to_string().into_bytes()),
        &[],
    )
}

fn post(s: &Served, path: &str, body: Value) -> (u16, Value) {
    call(
        "POST",
        &url(s, path),
        Some(body.to_string().into_bytes()),
        &[],
    )
}

/// Wait for run `id` to end; its final JSON.
fn ended(s: &Served, id: &str) -> Value {
    let start = Instant::now();
    loop {
        let (_, run) = call("GET", &format!("{}/api/runs/{id}", s.base), None, &[]);
        if !matches!(run["status"].as_str(), Some("queued" | "running")) {
            return run;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "run {id} did not end"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Run the whole pipeline; its final JSON.
fn run_pipeline(s: &Served) -> Value {
    let (code, started) = post(s, "/runs", json!({}));
    assert_eq!(code, 202, "{started}");
    ended(s, started["run_id"].as_str().unwrap())
}

fn run_block(s: &Served, block: &str) -> Value {
    let (code, body) = post(s, &format!("/blocks/{block}/runs"), json!({}));
    assert_eq!(code, 202, "{body}");
    ended(s, body["run_id"].as_str().unwrap())
}

fn preview(s: &Served, run: &Value, block: &str) -> Value {
    let id = run["id"].as_str().unwrap();
    let (code, body) = call(
        "GET",
        &format!("{}/api/runs/{id}/blocks/{block}/output", s.base),
        None,
        &[],
    );
    assert_eq!(code, 200, "{body}");
    body
}

fn project() -> Project {
    let p = Project::new();
    write(
        p.path(),
        "blocks/nb/total.sql",
        "SELECT count(*) AS n FROM {{ df_1 }}\n",
    );
    p.pipeline("nb", NB);
    p
}

#[test]
fn a_saved_block_runs_as_saved_and_a_stale_save_is_refused() {
    let p = project();
    let s = serve(&p);
    let (code, src) = call("GET", &url(&s, "/blocks/total/source"), None, &[]);
    assert_eq!(code, 200, "{src}");
    assert_eq!(src["file"], "blocks/nb/total.sql");
    assert_eq!(src["language"], "sql");
    assert_eq!(src["editable"], true);
    assert!(src["text"].as_str().unwrap().contains("count(*)"));
    let v1 = src["version"].as_str().unwrap().to_string();

    // A pipeline run gives the block its upstream output.
    assert_eq!(run_pipeline(&s)["status"], "success");

    let text = "SELECT count(*) * 10 AS n, 'saved' AS how FROM {{ df_1 }}\n";
    let (code, saved) = put(
        &s,
        "/blocks/total/source",
        json!({"text": text, "version": v1}),
    );
    assert_eq!(code, 200, "{saved}");
    assert!(saved["problem"].is_null(), "{saved}");
    assert_ne!(saved["version"], v1.as_str());
    assert_eq!(
        std::fs::read_to_string(p.path().join("blocks/nb/total.sql")).unwrap(),
        text
    );

    let run = run_block(&s, "total");
    assert_eq!(run["status"], "success", "{run}");
    let shown = preview(&s, &run, "total");
    assert_eq!(shown["head"][0]["n"], 50, "{shown}");
    assert_eq!(shown["head"][0]["how"], "saved");
    assert_eq!(shown["columns"][0]["nulls"], 0);

    // A save from the first version, made after the file changed, writes nothing.
    let (code, refused) = put(
        &s,
        "/blocks/total/source",
        json!({"text": "SELECT 1", "version": v1}),
    );
    assert_eq!(code, 409, "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("changed on disk"),
        "{refused}"
    );
    assert_eq!(
        std::fs::read_to_string(p.path().join("blocks/nb/total.sql")).unwrap(),
        text
    );
}

#[test]
fn an_edit_made_elsewhere_is_loaded_and_announced() {
    let p = project();
    let s = serve(&p);
    let (_, before) = call("GET", &url(&s, "/blocks/total/source"), None, &[]);
    rt().block_on(async {
        let resp = reqwest::Client::new()
            .get(format!("{}/api/events", s.base))
            .send()
            .await
            .unwrap();
        // Another editor writes the file.
        std::thread::sleep(Duration::from_millis(1100));
        write(p.path(), "blocks/nb/total.sql", "SELECT 7 AS n\n");
        let mut resp = resp;
        let mut seen = String::new();
        let deadline = Instant::now() + Duration::from_secs(15);
        while !seen.contains("event: pipeline") {
            let left = deadline
                .checked_duration_since(Instant::now())
                .expect("a `pipeline` event within 15 s");
            if let Ok(Ok(Some(chunk))) = tokio::time::timeout(left, resp.chunk()).await {
                seen.push_str(&String::from_utf8_lossy(&chunk));
            }
        }
        assert!(seen.contains("\"pipeline\":\"nb\""), "{seen}");
    });
    let (_, after) = call("GET", &url(&s, "/blocks/total/source"), None, &[]);
    assert_eq!(after["text"], "SELECT 7 AS n\n");
    assert_ne!(after["version"], before["version"]);
    let (_, pipeline) = call("GET", &url(&s, ""), None, &[]);
    assert!(pipeline["status"]["problem"].is_null(), "{pipeline}");
    assert!(
        pipeline["status"]["generation"].as_u64().unwrap() >= 1,
        "{pipeline}"
    );
}

#[test]
fn a_python_block_that_does_not_build_is_answered_at_its_line_and_the_old_one_runs() {
    let p = Project::new();
    write(
        p.path(),
        "blocks/nb/double.py",
        "from weft import transformer\n\n\n@transformer\ndef double(data, **kwargs):\n    return data\n",
    );
    p.pipeline(
        "nb",
        "blocks:\n  - { name: numbers, kind: loader, source: {probe}, config: { mode: rows, rows: 3 } }\n  - { name: double, kind: transformer, source: blocks/nb/double.py, upstream: [numbers] }\n",
    );
    let s = serve(&p);
    let broken = "from weft import transformer\n\n\n@transformer\ndef double(data, **kwargs):\n    return data +* 2\n";
    let (_, src) = call("GET", &url(&s, "/blocks/double/source"), None, &[]);
    let (code, saved) = put(
        &s,
        "/blocks/double/source",
        json!({"text": broken, "version": src["version"]}),
    );
    assert_eq!(code, 200, "{saved}");
    let problem = &saved["problem"];
    assert_eq!(problem["line"], 6, "{saved}");
    assert_eq!(problem["block"], "double");
    assert_eq!(problem["file"], "blocks/nb/double.py");
    assert!(
        problem["message"].as_str().unwrap().contains("SyntaxError"),
        "{saved}"
    );
    // The file holds what was saved; the pipeline says it does not load; the last good
    // version still runs.
    assert_eq!(
        std::fs::read_to_string(p.path().join("blocks/nb/double.py")).unwrap(),
        broken
    );
    let (_, pipeline) = call("GET", &url(&s, ""), None, &[]);
    assert_eq!(pipeline["status"]["problem"]["line"], 6, "{pipeline}");
    assert_eq!(run_pipeline(&s)["status"], "success");
}

#[test]
fn blocks_are_added_and_connected_in_pipeline_yaml() {
    let p = project();
    let s = serve(&p);
    let manifest = p.path().join("pipelines/nb/pipeline.yaml");
    let (code, added) = post(
        &s,
        "/blocks",
        json!({"name": "report", "kind": "transformer", "language": "sql", "upstream": ["total"]}),
    );
    assert_eq!(code, 201, "{added}");
    let yaml = std::fs::read_to_string(&manifest).unwrap();
    assert!(
        yaml.starts_with("# A notebook pipeline: the comment stays."),
        "{yaml}"
    );
    assert!(yaml.contains("  - name: report\n    kind: transformer\n    source: blocks/nb/report.sql\n    upstream: [total]\n"), "{yaml}");
    assert!(p.path().join("blocks/nb/report.sql").is_file());
    let (_, pipeline) = call("GET", &url(&s, ""), None, &[]);
    let names: Vec<&str> = pipeline["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["numbers", "total", "report"]);

    // A connection that would close a cycle is refused and pipeline.yaml stays as it was.
    let (code, cycle) = put(
        &s,
        "/blocks/numbers/upstream",
        json!({"upstream": ["report"]}),
    );
    assert_eq!(code, 409, "{cycle}");
    assert!(
        cycle["error"].as_str().unwrap().contains("cycle"),
        "{cycle}"
    );
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), yaml);

    // Reading `numbers` too.
    let (code, connected) = put(
        &s,
        "/blocks/report/upstream",
        json!({"upstream": ["total", "numbers"]}),
    );
    assert_eq!(code, 200, "{connected}");
    let (_, pipeline) = call("GET", &url(&s, ""), None, &[]);
    let report = pipeline["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "report")
        .unwrap()
        .clone();
    assert_eq!(report["upstream"], json!(["total", "numbers"]));

    // Taken names and files are refused.
    let (code, again) = post(
        &s,
        "/blocks",
        json!({"name": "report", "kind": "transformer", "language": "sql"}),
    );
    assert_eq!(code, 409, "{again}");
}

#[test]
fn the_editing_doors_hold() {
    let p = project();
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.sql");
    std::fs::write(&secret, "SELECT 'secret' AS s\n").unwrap();
    write(
        p.path(),
        "pipelines/far/pipeline.yaml",
        &format!(
            "blocks:\n  - {{ name: far, kind: loader, source: {} }}\n",
            secret.display()
        ),
    );
    let s = serve(&p);
    let far = format!("{}/api/pipelines/far/blocks/far/source", s.base);
    // A source outside the project is neither shown nor written.
    assert_eq!(call("GET", &far, None, &[]).0, 403);
    let (code, _) = call(
        "PUT",
        &far,
        Some(
            json!({"text": "SELECT 1", "version": "0"})
                .to_string()
                .into_bytes(),
        ),
        &[],
    );
    assert_eq!(code, 403);
    assert_eq!(
        std::fs::read_to_string(&secret).unwrap(),
        "SELECT 'secret' AS s\n"
    );

    let src = url(&s, "/blocks/total/source");
    // Not JSON, wrong fields, too big.
    let (code, _) = call(
        "PUT",
        &src,
        Some(b"text=x".to_vec()),
        &[("content-type", "application/x-www-form-urlencoded")],
    );
    assert_eq!(code, 415);
    let (code, body) = call("PUT", &src, Some(br#"{"txt": "x"}"#.to_vec()), &[]);
    assert_eq!(code, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("txt"), "{body}");
    let big = json!({"text": "x".repeat(2 << 20)})
        .to_string()
        .into_bytes();
    assert_eq!(call("PUT", &src, Some(big), &[]).0, 413);
    // Names that are paths, and unknown blocks.
    for name in ["../../escape", "a/b", "", "1abc"] {
        let (code, body) = post(&s, "/blocks", json!({"name": name, "kind": "loader"}));
        assert_eq!(code, 400, "{name}: {body}");
    }
    assert!(!p.path().join("escape.py").exists());
    // A kind that would write code into the template is refused before any file is made.
    let (code, body) = post(
        &s,
        "/blocks",
        json!({"name": "sneaky", "kind": "transformer\nimport os\n#", "language": "python"}),
    );
    assert_eq!(code, 400, "{body}");
    assert!(!p.path().join("blocks/nb/sneaky.py").exists());
    // A block file that links to the project's credentials is neither read nor written.
    std::os::unix::fs::symlink(
        p.path().join("weft.toml"),
        p.path().join("blocks/nb/linked.sql"),
    )
    .unwrap();
    let mut yaml = std::fs::read_to_string(p.path().join("pipelines/nb/pipeline.yaml")).unwrap();
    yaml.push_str("  - { name: linked, kind: transformer, source: blocks/nb/linked.sql, upstream: [numbers] }\n");
    write(p.path(), "pipelines/nb/pipeline.yaml", &yaml);
    let deadline = Instant::now() + Duration::from_secs(15);
    let linked = loop {
        let (code, body) = call("GET", &url(&s, "/blocks/linked/source"), None, &[]);
        if code != 404 || Instant::now() > deadline {
            break (code, body);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(linked.0, 403, "{}", linked.1);
    let (code, _) = put(
        &s,
        "/blocks/linked/source",
        json!({"text": "x", "version": "0"}),
    );
    assert_eq!(code, 403);
    assert_eq!(
        std::fs::read_to_string(p.path().join("weft.toml")).unwrap(),
        "name = \"test\"\n"
    );
    // A save must say which version it was edited from.
    let (code, body) = put(&s, "/blocks/total/source", json!({"text": "SELECT 2"}));
    assert_eq!(code, 400, "{body}");
    let (code, _) = put(&s, "/blocks/nope/upstream", json!({"upstream": []}));
    assert_eq!(code, 404);
    let (code, body) = put(&s, "/blocks/total/upstream", json!({"upstream": ["x: y"]}));
    assert_eq!(code, 400, "{body}");
    let (code, _) = call("GET", &url(&s, "/blocks/nope/source"), None, &[]);
    assert_eq!(code, 404);
    // A page of another origin cannot save.
    let (code, _) = call(
        "PUT",
        &src,
        Some(
            json!({"text": "SELECT 1", "version": "0"})
                .to_string()
                .into_bytes(),
        ),
        &[("origin", "http://evil.example")],
    );
    assert_eq!(code, 403);
    assert!(
        std::fs::read_to_string(p.path().join("blocks/nb/total.sql"))
            .unwrap()
            .contains("count(*)")
    );
}

/// The pipeline's load status once its build after a quick load has ended.
fn built(s: &Served) -> Value {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let (_, pipeline) = call("GET", &url(s, ""), None, &[]);
        if pipeline["status"]["building"] == false {
            return pipeline["status"].clone();
        }
        assert!(Instant::now() < deadline, "still building: {pipeline}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// A comment line no earlier source had.
fn fresh() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("# {nanos}\n")
}

/// A transformer that marks its rows with its config (and lists the config's keys).
fn marking(how: &str, head: &str) -> String {
    format!(
        "{head}from weft import transformer\n\n\n@transformer\ndef mark(data, config):\n    keys = \",\".join(sorted(config))\n    return data.with_column(\"how\", config.get(\"how\", \"{how}\")).with_column(\"keys\", keys)\n"
    )
}

#[test]
fn an_edited_python_block_runs_from_its_source_until_its_own_build_takes_over() {
    let p = Project::new();
    write(p.path(), "blocks/nb/mark.py", &marking("first", ""));
    // A config with the runner's envelope keys is the block's config, nothing more.
    p.pipeline(
        "nb",
        "blocks:\n  - { name: numbers, kind: loader, source: {probe}, config: { mode: rows, rows: 3 } }\n  - { name: mark, kind: transformer, source: blocks/nb/mark.py, upstream: [numbers], config: { check: true, source: 'raise SystemExit(3)', module: os } }\n",
    );
    let s = serve(&p);
    let keys = "check,module,source";
    let first = run_pipeline(&s);
    assert_eq!(first["status"], "success", "{first}");
    assert_eq!(preview(&s, &first, "mark")["head"][0]["keys"], keys);

    // The edit runs at once, from its source, while its own component builds.
    let (_, src) = call("GET", &url(&s, "/blocks/mark/source"), None, &[]);
    let (code, saved) = put(
        &s,
        "/blocks/mark/source",
        // A source no build on this machine has seen (the component cache is machine-wide).
        json!({"text": marking("edited", &fresh()), "version": src["version"]}),
    );
    assert_eq!(code, 200, "{saved}");
    assert!(saved["problem"].is_null(), "{saved}");
    let (_, pipeline) = call("GET", &url(&s, ""), None, &[]);
    assert_eq!(pipeline["status"]["building"], true, "{pipeline}");
    let quick = run_block(&s, "mark");
    assert_eq!(quick["status"], "success", "{quick}");
    let shown = preview(&s, &quick, "mark");
    assert_eq!(shown["head"][0]["how"], "edited", "{shown}");
    assert_eq!(shown["head"][0]["keys"], keys, "{shown}");

    // Its own build takes the runner's place, with the same result.
    let status = built(&s);
    assert!(status["problem"].is_null(), "{status}");
    let own = run_block(&s, "mark");
    assert_eq!(preview(&s, &own, "mark")["head"][0]["how"], "edited");

    // A source that compiles but whose own build fails (an import that is not there): it
    // runs provisionally, then the last fully built version comes back with the problem.
    let (_, src) = call("GET", &url(&s, "/blocks/mark/source"), None, &[]);
    let (code, saved) = put(
        &s,
        "/blocks/mark/source",
        json!({"text": marking("broken", "import no_such_module_anywhere\n"), "version": src["version"]}),
    );
    assert_eq!(code, 200, "{saved}");
    assert!(saved["problem"].is_null(), "{saved}");
    let status = built(&s);
    let message = status["problem"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("no_such_module_anywhere"), "{status}");
    assert_eq!(status["problem"]["block"], "mark", "{status}");
    let back = run_block(&s, "mark");
    assert_eq!(back["status"], "success", "{back}");
    assert_eq!(preview(&s, &back, "mark")["head"][0]["how"], "edited");
}

#[test]
fn a_block_run_from_its_source_has_no_more_than_its_grants() {
    let p = Project::new();
    write(p.path(), "blocks/nb/mark.py", &marking("first", ""));
    p.pipeline(
        "nb",
        "blocks:\n  - { name: numbers, kind: loader, source: {probe}, config: { mode: rows, rows: 3 } }\n  - { name: mark, kind: transformer, source: blocks/nb/mark.py, upstream: [numbers] }\n",
    );
    let s = serve(&p);
    assert_eq!(run_pipeline(&s)["status"], "success");
    let secret = p.path().join("secret.txt");
    std::fs::write(&secret, "hunter2-not-for-blocks").unwrap();
    let hostile = format!(
        "from weft import transformer, io\n\n\n@transformer\ndef mark(data):\n    try:\n        leaked = open({:?}).read()\n    except OSError as e:\n        leaked = type(e).__name__\n    print('file:', leaked)\n    return io.read('http://127.0.0.1:9/steal.csv')\n",
        secret.display().to_string()
    );
    let (_, src) = call("GET", &url(&s, "/blocks/mark/source"), None, &[]);
    let (code, saved) = put(
        &s,
        "/blocks/mark/source",
        json!({"text": hostile, "version": src["version"]}),
    );
    assert_eq!(code, 200, "{saved}");
    let (_, pipeline) = call("GET", &url(&s, ""), None, &[]);
    assert_eq!(pipeline["status"]["building"], true, "{pipeline}");
    let run = run_block(&s, "mark");
    assert_eq!(run["status"], "failed", "{run}");
    let block = run["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["block"] == "mark")
        .unwrap()
        .clone();
    let error = block["error"].as_str().unwrap_or_default();
    assert!(error.contains("denied"), "{block}");
    let id = run["id"].as_str().unwrap();
    let (_, logs) = call("GET", &format!("{}/api/runs/{id}/logs", s.base), None, &[]);
    let text = logs.to_string();
    assert!(text.contains("file: "), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

#[test]
fn a_new_pipeline_whose_own_build_fails_is_not_served_from_its_source() {
    let p = project();
    let s = serve(&p);
    // A pipeline appears whose Python block compiles but does not build (an import that is
    // not there): it runs from its source while it builds, then is not served at all.
    write(
        p.path(),
        "blocks/late/mark.py",
        &marking("late", "import no_such_module_anywhere\n"),
    );
    p.pipeline(
        "late",
        "blocks:\n  - { name: numbers, kind: loader, source: {probe}, config: { mode: rows, rows: 3 } }\n  - { name: mark, kind: transformer, source: blocks/late/mark.py, upstream: [numbers] }\n",
    );
    let deadline = Instant::now() + Duration::from_secs(300);
    let late = loop {
        let (_, all) = call("GET", &format!("{}/api/pipelines", s.base), None, &[]);
        let late = all["pipelines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "late")
            .cloned();
        if let Some(l) = late.filter(|l| l["loaded"] == false) {
            break l;
        }
        assert!(Instant::now() < deadline, "late is still served: {all}");
        std::thread::sleep(Duration::from_millis(250));
    };
    let message = late["problem"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("no_such_module_anywhere"), "{late}");
    let (code, _) = call(
        "POST",
        &format!("{}/api/pipelines/late/runs", s.base),
        Some(b"{}".to_vec()),
        &[],
    );
    assert_eq!(code, 404);

    // A block whose file is named after a module Python already holds is refused at once.
    let (code, refused) = post(
        &s,
        "/blocks",
        json!({"name": "json", "kind": "transformer", "language": "python", "upstream": ["numbers"]}),
    );
    assert!(code >= 400, "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap_or_default()
            .contains("rename the file"),
        "{refused}"
    );
}
