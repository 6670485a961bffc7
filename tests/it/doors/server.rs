//! `weft serve`'s doors: requests naming another host (DNS rebinding) or sent by a page of
//! another origin are refused, POST bodies must be JSON, and an API-trigger caller without
//! the token learns nothing of which pipelines and triggers exist.

use super::*;
use crate::served::*;

#[test]
fn the_server_refuses_foreign_hosts_origins_and_form_posts() {
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
    let runs = format!("{}/api/runs", s.base);
    let start = format!("{}/api/pipelines/etl/runs", s.base);
    let trigger = format!("{}/api/pipelines/etl/triggers/webhook/runs", s.base);
    let bearer = format!("Bearer {good}");

    // DNS rebinding: the page's host name resolves here, but the server is not its host.
    let (status, body) = call("GET", &runs, None, &[("host", "evil.example:6789")]);
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("--allow-host evil.example"),
        "{body}"
    );
    // A page of another origin cannot start runs, read runs, or trigger.
    for (method, url) in [("GET", &runs), ("POST", &start), ("POST", &trigger)] {
        let (status, body) = call(
            method,
            url,
            Some(b"{}".to_vec()),
            &[
                ("origin", "http://evil.example"),
                ("authorization", &bearer),
            ],
        );
        assert_eq!(status, 403, "{method} {url}: {body}");
    }
    // A browser that says the request comes from another site.
    let (status, body) = call(
        "POST",
        &start,
        None,
        &[("sec-fetch-site", "cross-site"), ("authorization", &bearer)],
    );
    assert_eq!(status, 403, "{body}");
    // A cross-site form post: not JSON.
    for ct in ["text/plain", "application/x-www-form-urlencoded"] {
        let (status, body) = call(
            "POST",
            &trigger,
            Some(b"day=2021-01-01".to_vec()),
            &[("content-type", ct), ("authorization", &bearer)],
        );
        assert_eq!(status, 415, "{ct}: {body}");
    }
    // The same origin and loopback names work.
    let (status, body) = call(
        "POST",
        &trigger,
        Some(b"{\"day\": \"2021-01-01\"}".to_vec()),
        &[("origin", s.base.as_str()), ("authorization", &bearer)],
    );
    assert_eq!(status, 202, "{body}");
    let (status, _) = call("GET", &runs, None, &[("host", "localhost")]);
    assert_eq!(status, 200);

    // Without the token, a missing pipeline, a missing trigger and a wrong token look alike.
    for url in [
        format!("{}/api/pipelines/nope/triggers/webhook/runs", s.base),
        format!("{}/api/pipelines/etl/triggers/nope/runs", s.base),
        trigger.clone(),
    ] {
        let (status, body) = call(
            "POST",
            &url,
            Some(b"{}".to_vec()),
            &[("authorization", "Bearer guess")],
        );
        assert_eq!(status, 401, "{url}: {body}");
        let e = body["error"].as_str().unwrap();
        assert!(
            e.starts_with("wrong token for trigger ") && e.contains("(or no such API trigger)"),
            "{url}: {e}"
        );
    }
    assert_eq!(runs_of(&p, "webhook").len(), 1);
}
