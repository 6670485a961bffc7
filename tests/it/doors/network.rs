//! WASI sockets and name lookups are denied: a block can open no connection and resolve no
//! name, in Rust or Python; a listener on the host never sees it.

use std::net::TcpListener;

use super::*;

#[test]
fn blocks_open_no_sockets_and_resolve_no_names() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let p = Project::new();
    let mut yaml = format!(
        "blocks:\n  - {{ name: rust_connect, kind: loader, source: {{probe}}, config: {{ mode: connect, url: \"127.0.0.1:{port}\" }} }}\n  - {{ name: rust_lookup, kind: loader, source: {{probe}}, config: {{ mode: lookup, url: localhost }} }}\n"
    );
    yaml += &py_door(
        "py_connect",
        &format!("{{ door: connect, host: 127.0.0.1, port: {port} }}"),
        "",
    );
    yaml += &py_door("py_lookup", "{ door: lookup, host: localhost }", "");
    yaml += HEALTHY;
    p.pipeline("net", &yaml);
    let (summary, ran) = p.run("net");
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let run = summary["run_id"].as_str().unwrap();
    for name in ["rust_connect", "rust_lookup", "py_connect", "py_lookup"] {
        let o = outcome(&p, run, name);
        assert!(!o.starts_with("ok"), "{name} got through: {o}");
    }
    assert!(
        outcome(&p, run, "rust_connect").contains("denied")
            || outcome(&p, run, "rust_connect").contains("ermission"),
        "{}",
        outcome(&p, run, "rust_connect")
    );
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("a block reached the host's listener: {other:?}"),
    }
    assert_eq!(block(&summary, "healthy")["status"], "success");
}
