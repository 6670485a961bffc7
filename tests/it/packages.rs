//! Block packages against a real OCI registry (the CNCF distribution server, Debian's
//! `docker-registry`) started on loopback with a temporary storage folder: package → publish
//! → add → run, semver resolution, digests checked everywhere, grants and WIT guarded,
//! credentials, and `--locked` offline. A second tool (oras-py) pulls and pushes the layout.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::services::{free_port, start_server, tools, Server};
use crate::support::{repo, write, Project, Ran};

/// A registry on loopback; with `auth`, htpasswd (bcrypt) for `alice` / `secret`.
struct Registry {
    _server: Server,
    host: String,
    _dir: tempfile::TempDir,
}

fn registry(auth: bool) -> Registry {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut config = format!(
        "version: 0.1\nlog: {{ level: error }}\nstorage:\n  filesystem: {{ rootdirectory: {} }}\n  delete: {{ enabled: true }}\nhttp: {{ addr: 127.0.0.1:{port} }}\n",
        dir.path().join("data").display()
    );
    if auth {
        let hash = Command::new(tools().join("oras/bin/python"))
            .args([
                "-c",
                "import bcrypt;print(bcrypt.hashpw(b'secret',bcrypt.gensalt(10)).decode())",
            ])
            .output()
            .unwrap();
        assert!(
            hash.status.success(),
            "bcrypt: {}",
            String::from_utf8_lossy(&hash.stderr)
        );
        let line = format!("alice:{}", String::from_utf8_lossy(&hash.stdout).trim());
        std::fs::write(dir.path().join("htpasswd"), line).unwrap();
        config.push_str(&format!(
            "auth:\n  htpasswd: {{ realm: weft-test, path: {} }}\n",
            dir.path().join("htpasswd").display()
        ));
    }
    std::fs::write(dir.path().join("config.yml"), config).unwrap();
    let mut c = Command::new("docker-registry");
    c.arg("serve").arg(dir.path().join("config.yml"));
    let server = start_server(c, port, "docker-registry", Duration::from_secs(30));
    Registry {
        _server: server,
        host: format!("127.0.0.1:{port}"),
        _dir: dir,
    }
}

impl Registry {
    fn blobs(&self) -> PathBuf {
        self._dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
    }
}

/// A project whose package cache is its own (`WEFT_PACKAGE_CACHE`), so tests never share
/// cached packages.
struct Pkg {
    project: Project,
    cache: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Pkg {
    fn new() -> Pkg {
        let cache = tempfile::tempdir().unwrap();
        let env = vec![(
            "WEFT_PACKAGE_CACHE".to_string(),
            cache.path().display().to_string(),
        )];
        Pkg {
            project: Project::new(),
            cache,
            env,
        }
    }

    fn with_env(mut self, k: &str, v: &str) -> Pkg {
        self.env.push((k.into(), v.into()));
        self
    }

    fn weft(&self, args: &[&str]) -> Ran {
        self.project.weft_env(args, &self.env)
    }

    fn ok(&self, args: &[&str]) -> Ran {
        let r = self.weft(args);
        assert_eq!(r.code, 0, "weft {args:?} failed:\n{}", r.stderr);
        r
    }

    fn fails(&self, args: &[&str]) -> String {
        let r = self.weft(args);
        assert_ne!(r.code, 0, "weft {args:?} should fail:\n{}", r.stderr);
        r.stderr
    }

    fn path(&self) -> &Path {
        self.project.path()
    }
}

/// weft.toml declaring a SQL package `daily` at `version` requesting `grants`.
fn sql_publisher(p: &Pkg, version: &str, grants: &str) {
    write(
        p.path(),
        "weft.toml",
        &format!(
            "name = \"pub\"\n[packages.daily]\nsource = \"blocks/daily.sql\"\nkind = \"transformer\"\nversion = \"{version}\"\ndescription = \"Rows per day\"\nlicense = \"Apache-2.0\"\n[packages.daily.grants]\n{grants}\n"
        ),
    );
    write(
        p.path(),
        "blocks/daily.sql",
        "SELECT e AS day, count(*) AS n FROM src GROUP BY e ORDER BY e",
    );
}

fn lock(p: &Pkg) -> toml::Value {
    toml::from_str(&std::fs::read_to_string(p.path().join("weft.lock")).unwrap()).unwrap()
}

fn locked(p: &Pkg, name: &str, field: &str) -> String {
    lock(p)["package"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("{name} not in weft.lock"))[field]
        .as_str()
        .unwrap()
        .to_string()
}

/// The oras-py helper: `pull REF OUTDIR` or `push REF FILE`, with optional credentials.
fn oras(args: &[&str]) -> Value {
    let out = Command::new(tools().join("oras/bin/python"))
        .arg(repo().join("tests/oras_tool.py"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "oras {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `daily` 0.1.0 requesting `grants`, published, and a consumer project that added it.
fn daily_added_with(reg: &Registry, grants: &str) -> (Pkg, Pkg, Ran) {
    let publisher = Pkg::new();
    sql_publisher(&publisher, "0.1.0", grants);
    publisher.ok(&[
        "publish",
        "daily",
        &format!("{}/test/daily:0.1.0", reg.host),
    ]);
    let user = Pkg::new();
    consumer(&user);
    let added = user.ok(&["add", &format!("{}/test/daily@^0.1", reg.host)]);
    (publisher, user, added)
}

fn daily_added(reg: &Registry, grants: &str) -> (Pkg, Pkg) {
    let (publisher, user, _) = daily_added_with(reg, grants);
    (publisher, user)
}

const CONSUMER: &str = "blocks:\n  - { name: src, kind: loader, source: SRC }\n  - { name: daily, kind: transformer, source: \"pkg:test/daily\", upstream: [src] }\n";

fn consumer(p: &Pkg) {
    let yaml = CONSUMER.replace("SRC", &crate::support::py("py_src.py"));
    p.project.pipeline("uses", &yaml);
}

#[test]
fn python_rust_and_sql_packages_round_trip_through_a_registry() {
    let reg = registry(false);
    // The example publisher (a Python and a SQL package), plus a Rust one.
    let publisher = Pkg::new();
    publisher
        .project
        .copy_from_repo(&["examples/packages/weft.toml", "examples/packages/blocks"]);
    let example = publisher.path().join("examples/packages");
    let mut toml = std::fs::read_to_string(example.join("weft.toml")).unwrap();
    toml.push_str(&format!(
        "[packages.probe]\nsource = \"{}\"\nkind = \"transformer\"\nversion = \"0.1.0\"\n[packages.probe.grants]\nenv = [\"PROBE_ENV\"]\n",
        repo().join("tests/blocks/probe").display()
    ));
    write(&example, "weft.toml", &toml);
    let at = |args: &[&str]| -> Ran {
        let mut all = vec!["--project", example.to_str().unwrap()];
        all.extend_from_slice(args);
        let r = crate::support::weft()
            .args(&all)
            .envs(publisher.env.clone())
            .output()
            .unwrap()
            .into();
        r
    };
    let mut published = Vec::new();
    for name in ["snake_columns", "trips_per_day", "probe"] {
        let made: Ran = at(&["package", name]);
        assert!(
            made.stderr.contains(&format!("packaged {name} 0.1.0")),
            "{}",
            made.stderr
        );
        let target = format!("{}/examples/{name}:0.1.0", reg.host);
        let out = at(&["publish", name, &target]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let digest = out.stdout.trim().to_string();
        assert!(
            digest.starts_with("sha256:") && digest.len() == 71,
            "{}",
            out.stdout
        );
        published.push((name, digest));
        // A version is never overwritten unless asked.
        let again = at(&["publish", name, &target]);
        assert!(
            again.code != 0 && again.stderr.contains("exists already"),
            "{}",
            again.stderr
        );
    }
    let user = Pkg::new();
    user.project.copy_from_repo(&["examples/using-packages"]);
    let consumer = user.path().join("examples/using-packages");
    let at_user = |args: &[&str]| -> Ran {
        let mut all = vec!["--project", consumer.to_str().unwrap()];
        all.extend_from_slice(args);
        crate::support::weft()
            .args(&all)
            .envs(user.env.clone())
            .output()
            .unwrap()
            .into()
    };
    for (name, manifest) in &published {
        let r = at_user(&["add", &format!("{}/examples/{name}@^0.1", reg.host)]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let lock: toml::Value =
            toml::from_str(&std::fs::read_to_string(consumer.join("weft.lock")).unwrap()).unwrap();
        let entry = lock["package"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"].as_str() == Some(&format!("examples/{name}")))
            .unwrap()
            .clone();
        assert_eq!(entry["manifest"].as_str(), Some(manifest.as_str()));
        // The bytes that arrived are the bytes that were packaged.
        let content = entry["content"].as_str().unwrap();
        let cached = user
            .cache
            .path()
            .join("sha256")
            .join(format!("{}.wasm", &content[7..]));
        let original = example.join(format!(".weft/packages/{name}-0.1.0.wasm"));
        assert_eq!(
            std::fs::read(cached).unwrap(),
            std::fs::read(original).unwrap(),
            "{name}"
        );
        if *name == "probe" {
            assert!(r.stderr.contains("env: PROBE_ENV"), "{}", r.stderr);
        }
    }
    let ran = at_user(&["run", "trips", "--json"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let summary = ran.json();
    let run_id = summary["run_id"].as_str().unwrap().to_string();
    let shown = at_user(&["show", &run_id, "per_day", "--json"]);
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    let rows = shown.json();
    assert_eq!(
        rows,
        serde_json::json!([
            {"pickup_date": "2021-01-01", "trips": 2, "distance": 4.75},
            {"pickup_date": "2021-01-02", "trips": 1, "distance": 0.75}
        ]),
        "{rows}"
    );

    // The block's config is checked against the package's config_schema.
    let yaml = consumer.join("pipelines/trips/pipeline.yaml");
    let text = std::fs::read_to_string(&yaml).unwrap();
    std::fs::write(&yaml, text.replace("skip: []", "skip: 3")).unwrap();
    let bad = at_user(&["build"]);
    assert!(
        bad.code != 0 && bad.stderr.contains("config_schema") && bad.stderr.contains("config.skip"),
        "{}",
        bad.stderr
    );
    std::fs::write(&yaml, text).unwrap();

    // A second tool pulls the same layout and bytes.
    let out = tempfile::tempdir().unwrap();
    let pulled = oras(&[
        "pull",
        &format!("{}/examples/snake_columns:0.1.0", reg.host),
        &out.path().display().to_string(),
    ]);
    let manifest = &pulled["manifest"];
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.wasm.config.v0+json"
    );
    assert_eq!(manifest["layers"][0]["mediaType"], "application/wasm");
    assert_eq!(
        manifest["annotations"]["dev.weft.package.kind"],
        "transformer"
    );
    assert_eq!(
        manifest["annotations"]["dev.weft.package.language"],
        "python"
    );
    let file = pulled["files"][0].as_str().unwrap();
    assert_eq!(
        std::fs::read(file).unwrap(),
        std::fs::read(example.join(".weft/packages/snake_columns-0.1.0.wasm")).unwrap()
    );
}

#[test]
fn semver_picks_the_highest_match_and_ignores_other_tags() {
    let reg = registry(false);
    let publisher = Pkg::new();
    for v in ["0.1.0", "0.1.3", "0.2.0", "1.0.0-rc.1"] {
        sql_publisher(&publisher, v, "");
        publisher.ok(&["publish", "daily", &format!("{}/test/daily:{v}", reg.host)]);
    }
    let refused = publisher.fails(&[
        "publish",
        "daily",
        &format!("{}/test/daily:latest", reg.host),
    ]);
    assert!(refused.contains("not a semver version"), "{refused}");
    // Another tool's non-semver tag is ignored.
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("daily.wasm");
    std::fs::copy(
        publisher.path().join(".weft/packages/daily-0.2.0.wasm"),
        &wasm,
    )
    .unwrap();
    oras(&[
        "push",
        &format!("{}/test/daily:latest", reg.host),
        &wasm.display().to_string(),
    ]);
    let user = Pkg::new();
    let cases = [
        ("^0.1", false, "0.1.3"),
        ("*", false, "0.2.0"),
        ("~0.1.0", false, "0.1.3"),
        (">=0.2", true, "1.0.0-rc.1"),
    ];
    for (req, pre, want) in cases {
        let reference = format!("{}/test/daily@{req}", reg.host);
        let mut args = vec!["add", reference.as_str()];
        if pre {
            args.push("--pre");
        }
        user.ok(&args);
        assert_eq!(locked(&user, "test/daily", "version"), want, "{req}");
    }
    let none = user.fails(&["add", &format!("{}/test/daily@^3", reg.host)]);
    assert!(
        none.contains("no version of") && none.contains("0.1.0, 0.1.3, 0.2.0"),
        "{none}"
    );
    let missing = user.fails(&["add", &format!("{}/test/nothing@^1", reg.host)]);
    assert!(missing.contains("no such package"), "{missing}");
}

#[test]
fn tampered_bytes_lock_mismatches_and_moved_tags_are_caught() {
    let reg = registry(false);
    let (publisher, user) = daily_added(&reg, "");
    user.ok(&["build", "--locked"]);
    let content = locked(&user, "test/daily", "content");
    let cached = user
        .cache
        .path()
        .join("sha256")
        .join(format!("{}.wasm", &content[7..]));

    // A cached file changed on disk.
    let good = std::fs::read(&cached).unwrap();
    let mut bad = good.clone();
    let at = bad.windows(6).position(|w| w == b"SELECT").unwrap();
    bad[at] = b's';
    std::fs::write(&cached, &bad).unwrap();
    let e = user.fails(&["build"]);
    assert!(e.contains("was changed") && e.contains(&content), "{e}");
    std::fs::write(&cached, &good).unwrap();

    // weft.lock edited to another digest.
    let lock_file = user.path().join("weft.lock");
    let text = std::fs::read_to_string(&lock_file).unwrap();
    let forged = format!("sha256:{}", "0".repeat(64));
    std::fs::write(&lock_file, text.replace(&content, &forged)).unwrap();
    let e = user.fails(&["build", "--locked"]);
    assert!(e.contains("not in the package cache"), "{e}");
    let e = user.fails(&["build"]);
    assert!(e.contains(&forged) && e.contains(&content), "{e}");
    std::fs::write(&lock_file, &text).unwrap();

    // The blob changed inside the registry's storage: the download is refused.
    let blob = reg
        .blobs()
        .join(&content[7..9])
        .join(&content[7..])
        .join("data");
    std::fs::write(&blob, &bad).unwrap();
    std::fs::remove_file(&cached).unwrap();
    let e = user.fails(&["build"]);
    assert!(e.to_lowercase().contains("digest"), "{e}");
    std::fs::write(&blob, &good).unwrap();

    // The tag now points at other content: both digests are named.
    let manifest = locked(&user, "test/daily", "manifest");
    write(publisher.path(), "blocks/daily.sql", "SELECT 2 AS two");
    let moved = publisher.ok(&[
        "publish",
        "daily",
        &format!("{}/test/daily:0.1.0", reg.host),
        "--overwrite",
    ]);
    let new_manifest = moved.stdout.trim().to_string();
    assert_ne!(new_manifest, manifest);
    let e = user.fails(&["build"]);
    assert!(e.contains(&manifest) && e.contains(&new_manifest), "{e}");
    let e = user.fails(&["update"]);
    assert!(e.contains(&manifest) && e.contains(&new_manifest), "{e}");
}

#[test]
fn a_widened_grant_stops_an_update_and_a_wit_mismatch_is_refused() {
    let reg = registry(false);
    let (publisher, user, added) = daily_added_with(&reg, "urls = [\"https://example.com/\"]");
    assert!(
        added.stderr.contains("urls: https://example.com/"),
        "{}",
        added.stderr
    );
    let build = user.ok(&["build"]);
    assert!(
        build
            .stderr
            .contains("requests `urls: https://example.com/`"),
        "{}",
        build.stderr
    );

    sql_publisher(
        &publisher,
        "0.1.1",
        "urls = [\"https://example.com/\"]\nenv = [\"AWS_SECRET_ACCESS_KEY\"]",
    );
    publisher.ok(&[
        "publish",
        "daily",
        &format!("{}/test/daily:0.1.1", reg.host),
    ]);
    let e = user.fails(&["update"]);
    assert!(
        e.contains("env: AWS_SECRET_ACCESS_KEY") && e.contains("--approve"),
        "{e}"
    );
    assert_eq!(locked(&user, "test/daily", "version"), "0.1.0");
    user.ok(&["update", "--approve"]);
    assert_eq!(locked(&user, "test/daily", "version"), "0.1.1");
    // The registry loses 0.1.1: an update never moves back to 0.1.0.
    let gone = Command::new("curl")
        .args(["-sf", "-X", "DELETE"])
        .arg(format!(
            "http://{}/v2/test/daily/manifests/{}",
            reg.host,
            locked(&user, "test/daily", "manifest")
        ))
        .status()
        .unwrap();
    assert!(gone.success());
    let e = user.fails(&["update", "--approve"]);
    assert!(e.contains("older than the locked 0.1.1"), "{e}");

    // A package built for another major contract, pushed by another tool.
    let bytes = std::fs::read(publisher.path().join(".weft/packages/daily-0.1.1.wasm")).unwrap();
    let text = b"\"wit\":\"0.1.0\"";
    let at = bytes
        .windows(text.len())
        .position(|w| w == text)
        .expect("wit in metadata");
    let mut other = bytes.clone();
    other[at..at + text.len()].copy_from_slice(b"\"wit\":\"0.2.0\"");
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("daily.wasm");
    std::fs::write(&wasm, other).unwrap();
    oras(&[
        "push",
        &format!("{}/test/daily:0.2.0", reg.host),
        &wasm.display().to_string(),
    ]);
    let e = user.fails(&["add", &format!("{}/test/daily@^0.2", reg.host)]);
    assert!(
        e.contains("weft:block 0.2.0") && e.contains("cannot run"),
        "{e}"
    );
}

#[test]
fn credentials_come_from_the_environment_or_the_docker_config() {
    let reg = registry(true);
    let publisher = Pkg::new();
    sql_publisher(&publisher, "0.1.0", "");
    let target = format!("{}/test/daily:0.1.0", reg.host);
    let e = publisher.fails(&["publish", "daily", &target]);
    assert!(e.contains("401") && e.contains("docker login"), "{e}");
    let wrong = Pkg::new()
        .with_env("WEFT_REGISTRY_HOST", &reg.host)
        .with_env("WEFT_REGISTRY_USERNAME", "alice")
        .with_env("WEFT_REGISTRY_PASSWORD", "wrong");
    sql_publisher(&wrong, "0.1.0", "");
    let e = wrong.fails(&["publish", "daily", &target]);
    assert!(
        e.contains("401") && e.contains("refused the credentials"),
        "{e}"
    );
    let publisher = publisher
        .with_env("WEFT_REGISTRY_HOST", &reg.host)
        .with_env("WEFT_REGISTRY_USERNAME", "alice")
        .with_env("WEFT_REGISTRY_PASSWORD", "secret");
    publisher.ok(&["publish", "daily", &target]);
    // The environment's credentials are for that registry only, never another one.
    let other = registry(true);
    let e = publisher.fails(&[
        "publish",
        "daily",
        &format!("{}/test/daily:0.1.0", other.host),
    ]);
    assert!(e.contains("401") && e.contains("wants credentials"), "{e}");
    // The docker config file, as `docker login` writes it.
    let docker = tempfile::tempdir().unwrap();
    let auth = "YWxpY2U6c2VjcmV0"; // base64("alice:secret")
    std::fs::write(
        docker.path().join("config.json"),
        format!(
            "{{\"auths\": {{\"{}\": {{\"auth\": \"{auth}\"}}}}}}",
            reg.host
        ),
    )
    .unwrap();
    let user = Pkg::new().with_env("DOCKER_CONFIG", &docker.path().display().to_string());
    consumer(&user);
    user.ok(&["add", &format!("{}/test/daily@^0.1", reg.host)]);
    let stranger = Pkg::new();
    let e = stranger.fails(&["add", &format!("{}/test/daily@^0.1", reg.host)]);
    assert!(e.contains("401"), "{e}");
}

#[test]
fn locked_builds_work_offline_from_the_cache_only() {
    let reg = registry(false);
    let (_publisher, user) = daily_added(&reg, "");
    drop(reg);
    user.ok(&["build", "--locked"]);
    let ran = user.ok(&["run", "uses", "--json"]);
    assert_eq!(ran.json()["status"], "success", "{}", ran.stderr);
    // Another machine (an empty cache) with the registry down.
    let empty = tempfile::tempdir().unwrap();
    let elsewhere = |args: &[&str]| {
        user.project.weft_env(
            args,
            &[(
                "WEFT_PACKAGE_CACHE".into(),
                empty.path().display().to_string(),
            )],
        )
    };
    let r = elsewhere(&["build", "--locked"]);
    assert!(
        r.code != 0 && r.stderr.contains("--locked does not download"),
        "{}",
        r.stderr
    );
    let r = elsewhere(&["build"]);
    assert!(
        r.code != 0 && r.stderr.contains("cannot reach"),
        "{}",
        r.stderr
    );
    // A pipeline naming a package the lock does not have.
    write(
        user.path(),
        "pipelines/uses/pipeline.yaml",
        &CONSUMER
            .replace("SRC", &crate::support::py("py_src.py"))
            .replace("test/daily", "test/other"),
    );
    let e = user.fails(&["build", "--locked"]);
    assert!(
        e.contains("weft.lock has no package test/other") && e.contains("weft add"),
        "{e}"
    );
}

#[test]
fn a_component_published_by_another_tool_runs_as_a_package() {
    let reg = registry(false);
    // The probe block as a plain component (no weft metadata), pushed by oras-py.
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("probe.wasm");
    std::fs::copy(crate::support::probe_wasm(), &wasm).unwrap();
    oras(&[
        "push",
        &format!("{}/other/probe:1.0.0", reg.host),
        &wasm.display().to_string(),
    ]);
    let user = Pkg::new();
    let yaml = format!(
        "blocks:\n  - {{ name: src, kind: loader, source: {} }}\n  - {{ name: p, kind: transformer, source: \"pkg:other/probe\", upstream: [src], config: {{ mode: pass }} }}\n",
        crate::support::py("py_src.py")
    );
    user.project.pipeline("other", &yaml);
    let added = user.ok(&["add", &format!("{}/other/probe@^1", reg.host)]);
    assert!(
        added.stderr.contains("without weft metadata"),
        "{}",
        added.stderr
    );
    let ran = user.ok(&["run", "other", "--json"]);
    assert_eq!(ran.json()["status"], "success", "{}", ran.stderr);
}

#[test]
fn bad_package_definitions_fail_naming_the_weft_toml_field() {
    let p = Pkg::new();
    write(p.path(), "blocks/daily.sql", "SELECT 1 AS one");
    write(p.path(), "schema.json", "{\"type\": 12}");
    let cases = [
        (
            "\"../x\"",
            "version = \"0.1.0\"",
            "a package name is lowercase",
        ),
        (
            "daily",
            "version = \"1.0\"",
            "[packages.daily] version: `1.0` is not semver",
        ),
        (
            "daily",
            "version = \"0.1.0\"\n[packages.daily.limits]\nretries = 1000",
            "[packages.daily] limits: retries 1000",
        ),
        (
            "daily",
            "version = \"0.1.0\"\nconfig_schema = \"schema.json\"",
            "[packages.daily] config_schema: schema.json",
        ),
    ];
    for (name, rest, want) in cases {
        write(
            p.path(),
            "weft.toml",
            &format!("[packages.{name}]\nsource = \"blocks/daily.sql\"\nkind = \"transformer\"\n{rest}\n"),
        );
        let shown = name.trim_matches('"');
        let e = p.fails(&["package", shown]);
        assert!(e.contains(want), "{name}: {e}");
    }
}
