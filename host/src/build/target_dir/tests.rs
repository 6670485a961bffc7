//! Which crates share a target folder: a table of crates, each compared with a plain block
//! crate that depends on the SDK and serde.

use std::path::Path;

use super::for_crate;

const PLAIN: &str = "[package]\nname = \"plain\"\nversion = \"0.1.0\"\n\n[lib]\ncrate-type = [\"cdylib\"]\n\n[dependencies]\nweft-sdk = \"0.1\"\nserde = \"1\"\n";

/// A lock holding `root`, the SDK and the registry packages `(name, version, checksum)`.
fn lock(root: &str, packages: &[(&str, &str, &str)]) -> String {
    let mut s = String::from("version = 4\n");
    for (name, version, checksum) in packages {
        s += &format!(
            "\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{checksum}\"\n"
        );
    }
    for local in [root, "weft-sdk", "weft-sdk-macros"] {
        s += &format!("\n[[package]]\nname = \"{local}\"\nversion = \"0.1.0\"\n");
    }
    s
}

const DEPS: &[(&str, &str, &str)] = &[("serde", "1.0.228", "aa"), ("itoa", "1.0.15", "bb")];

/// A crate: its manifest, its lock (None: no lock) and other files.
struct Crate {
    what: &'static str,
    manifest: String,
    lock: Option<String>,
    files: &'static [(&'static str, &'static str)],
    /// The folder it gets.
    expect: Folder,
}

/// Which folder a crate gets.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Folder {
    /// The plain crate's.
    Plain,
    /// One for its own set of packages, shared with crates locking the same.
    OtherPackages,
    /// One of its own, by its path.
    Own,
}

fn plain_named(name: &str) -> String {
    PLAIN.replace("name = \"plain\"", &format!("name = \"{name}\""))
}

fn cases() -> Vec<Crate> {
    let with = |extra: &str| format!("{}{extra}", plain_named("other"));
    vec![
        Crate {
            what: "another crate with the same locked packages",
            manifest: plain_named("other"),
            lock: Some(lock("other", DEPS)),
            files: &[("src/lib.rs", "pub fn f() {}")],
            expect: Folder::Plain,
        },
        Crate {
            what: "the same packages locked in another order",
            manifest: plain_named("other"),
            lock: Some(lock("other", &[DEPS[1], DEPS[0]])),
            files: &[],
            expect: Folder::Plain,
        },
        Crate {
            what: "a dependency at another version",
            manifest: plain_named("other"),
            lock: Some(lock("other", &[DEPS[0], ("itoa", "1.0.14", "cc")])),
            files: &[],
            expect: Folder::OtherPackages,
        },
        Crate {
            what: "a dependency with another checksum",
            manifest: plain_named("other"),
            lock: Some(lock("other", &[DEPS[0], ("itoa", "1.0.15", "dd")])),
            files: &[],
            expect: Folder::OtherPackages,
        },
        Crate {
            what: "one more locked package",
            manifest: plain_named("other"),
            lock: Some(lock("other", &[DEPS[0], DEPS[1], ("ryu", "1.0.20", "ee")])),
            files: &[],
            expect: Folder::OtherPackages,
        },
        Crate {
            what: "a build script of its own",
            manifest: plain_named("other"),
            lock: Some(lock("other", DEPS)),
            files: &[("build.rs", "fn main() {}")],
            expect: Folder::Own,
        },
        Crate {
            what: "a build script named in the manifest",
            manifest: plain_named("other").replace(
                "version = \"0.1.0\"\n",
                "version = \"0.1.0\"\nbuild = \"make.rs\"\n",
            ),
            lock: Some(lock("other", DEPS)),
            files: &[("make.rs", "fn main() {}")],
            expect: Folder::Own,
        },
        Crate {
            what: "a path dependency",
            manifest: with("util = { path = \"../util\" }\n"),
            lock: Some(lock("other", DEPS)),
            files: &[],
            expect: Folder::Own,
        },
        Crate {
            what: "a path dependency locked without a source",
            manifest: plain_named("other"),
            lock: Some(
                lock("other", DEPS) + "\n[[package]]\nname = \"util\"\nversion = \"0.1.0\"\n",
            ),
            files: &[],
            expect: Folder::Own,
        },
        Crate {
            what: "a git build dependency",
            manifest: with("\n[build-dependencies]\ncc = { git = \"https://example.com/cc\" }\n"),
            lock: Some(lock("other", DEPS)),
            files: &[],
            expect: Folder::Own,
        },
        Crate {
            what: "a path dependency for one target only",
            manifest: with("\n[target.'cfg(unix)'.dependencies]\nutil = { path = \"u\" }\n"),
            lock: Some(lock("other", DEPS)),
            files: &[],
            expect: Folder::Own,
        },
        Crate {
            what: "a [patch] section",
            manifest: with("\n[patch.crates-io]\nserde = { path = \"serde\" }\n"),
            lock: Some(lock("other", DEPS)),
            files: &[],
            expect: Folder::Own,
        },
        Crate {
            what: "a workspace of its own",
            manifest: with("\n[workspace]\n"),
            lock: Some(lock("other", DEPS)),
            files: &[],
            expect: Folder::Own,
        },
        Crate {
            what: "no lock",
            manifest: plain_named("other"),
            lock: None,
            files: &[],
            expect: Folder::Own,
        },
        Crate {
            what: "a manifest that does not parse",
            manifest: "[package\n".into(),
            lock: Some(lock("other", DEPS)),
            files: &[],
            expect: Folder::Own,
        },
    ]
}

fn write(dir: &Path, manifest: &str, lock: Option<&str>, files: &[(&str, &str)]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    if let Some(lock) = lock {
        std::fs::write(dir.join("Cargo.lock"), lock).unwrap();
    }
    for (rel, text) in files {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

#[test]
fn crates_share_a_target_folder_only_when_their_builds_run_the_same_code() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("targets");
    let sdk = tmp.path().join("sdk");
    let plain = tmp.path().join("plain");
    write(&plain, PLAIN, Some(&lock("plain", DEPS)), &[]);
    let plain_target = for_crate(&root, &plain, &sdk);
    assert!(
        plain_target
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("deps-"),
        "a plain block crate shares: {}",
        plain_target.display()
    );
    let mut wrong = Vec::new();
    for (i, case) in cases().iter().enumerate() {
        let dir = tmp.path().join(format!("case{i}"));
        write(&dir, &case.manifest, case.lock.as_deref(), case.files);
        let target = for_crate(&root, &dir, &sdk);
        // The same crate elsewhere: crates locking the same packages share, others never do.
        let copy = tmp.path().join(format!("copy{i}"));
        write(&copy, &case.manifest, case.lock.as_deref(), case.files);
        let copied = for_crate(&root, &copy, &sdk);
        let got = if target == plain_target {
            Folder::Plain
        } else if copied == target {
            Folder::OtherPackages
        } else {
            Folder::Own
        };
        if got != case.expect || !target.starts_with(&root) {
            wrong.push(format!("{}: {got:?} ({})", case.what, target.display()));
        }
    }
    assert!(wrong.is_empty(), "wrong folders:\n{}", wrong.join("\n"));
}

#[test]
fn another_sdk_gets_another_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("targets");
    let dir = tmp.path().join("plain");
    write(&dir, PLAIN, Some(&lock("plain", DEPS)), &[]);
    let one = for_crate(&root, &dir, &tmp.path().join("sdk1"));
    let two = for_crate(&root, &dir, &tmp.path().join("sdk2"));
    assert_ne!(one, two);
}
