//! A real `weft serve` process for tests, and plain HTTP calls to it.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::services::free_port;
use crate::support::*;

/// A `weft serve` process on a free loopback port, killed when dropped.
pub struct Served {
    pub child: Child,
    pub base: String,
    pub log: std::path::PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `weft serve` for `p` and wait until it answers; its stderr goes to `log`.
pub fn serve(p: &Project) -> Served {
    serve_env(p, &[])
}

/// [`serve`] with extra environment variables.
pub fn serve_env(p: &Project, env: &[(&str, &str)]) -> Served {
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_weft"));
    cmd.envs(env.iter().copied());
    cmd.env_remove("WEFT_STATE_URL");
    if let Some(url) = &p.state_url {
        cmd.env("WEFT_STATE_URL", url);
    }
    let log = p.path().join(format!("serve-{port}.log"));
    let served = Served {
        child: cmd
            .arg("--project")
            .arg(p.path())
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
        base: format!("http://127.0.0.1:{port}"),
        log,
    };
    let mut served = served;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(120) {
        if call("GET", &format!("{}/api/health", served.base), None, &[]).0 == 200 {
            return served;
        }
        if let Some(status) = served.child.try_wait().unwrap() {
            panic!("weft serve exited ({status}):\n{}", served.stderr());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "weft serve did not answer on {}:\n{}",
        served.base,
        served.stderr()
    );
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// One request: `(status, JSON body)`. A body is sent as JSON unless a content type is
/// given.
pub fn call(
    method: &str,
    url: &str,
    body: Option<Vec<u8>>,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    rt().block_on(async {
        let mut req = reqwest::Client::new().request(method.parse().unwrap(), url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            if !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            {
                req = req.header("content-type", "application/json");
            }
            req = req.body(b);
        }
        match req.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let text = resp.text().await.unwrap_or_default();
                (
                    status,
                    serde_json::from_str(&text).unwrap_or(Value::String(text)),
                )
            }
            Err(_) => (0, Value::Null),
        }
    })
}

/// Issue a token for API trigger `trigger`.
pub fn token(p: &Project, trigger: &str) -> String {
    let ran = p.weft(&["triggers", "token", trigger]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    ran.stdout.lines().last().unwrap().trim().to_string()
}

pub fn runs_of(p: &Project, trigger: &str) -> Vec<Value> {
    let runs = p.weft(&["runs", "--json", "--limit", "1000"]).json();
    runs.as_array()
        .unwrap()
        .iter()
        .filter(|r| r["trigger"] == trigger)
        .cloned()
        .collect()
}

impl Served {
    /// What the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `GET base+path`, expecting 200.
    pub fn get(&self, path: &str) -> Value {
        let (status, body) = call("GET", &format!("{}{path}", self.base), None, &[]);
        assert_eq!(status, 200, "GET {path}: {body}\n{}", self.stderr());
        body
    }

    /// Poll `GET /api/runs/{id}` until `done` holds for it.
    pub fn wait_run(&self, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let (status, run) = call("GET", &format!("{}/api/runs/{id}", self.base), None, &[]);
            if status == 200 && done(&run) {
                return run;
            }
            assert!(
                Instant::now() < deadline,
                "run {id} never {what}: {run}\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGKILL the server and wait for it to be gone.
    pub fn kill_9(&mut self) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .unwrap()
            .success());
        let _ = self.child.wait();
    }

    /// SIGTERM the server and wait for its clean exit.
    pub fn terminate(&mut self) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                break st;
            }
            assert!(Instant::now() < deadline, "weft serve did not stop");
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success(), "{status}: {}", self.stderr());
    }
}
