//! Real servers the IO tests talk to: a Postgres database of their own, a static HTTP server
//! on loopback, and the cloud emulators (fake-gcs-server, moto, a BigQuery emulator) that
//! `scripts/test-services.sh` installs. Each is stopped or dropped when its guard goes.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::{Connection, Row};

/// The admin URL of the test Postgres.
pub fn admin_url() -> String {
    std::env::var("WEFT_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Run `sql` at `url`.
pub fn pg_exec(url: &str, sql: &str) {
    block_on(async {
        let mut c = sqlx::PgConnection::connect(url)
            .await
            .expect("Postgres must run on 127.0.0.1:5432");
        sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
    })
}

/// The first column of every row of `sql` at `url`, as text.
pub fn pg_column(url: &str, sql: &str) -> Vec<Option<String>> {
    block_on(async {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        let rows = sqlx::query(sql).fetch_all(&mut c).await.unwrap();
        rows.iter()
            .map(|r| r.try_get::<Option<String>, _>(0).unwrap())
            .collect()
    })
}

/// A database created for one test and dropped after it.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub fn new() -> TestDb {
        let name = format!(
            "weft_it_{}_{:08x}",
            std::process::id(),
            rand::random::<u32>()
        );
        pg_exec(&admin_url(), &format!("CREATE DATABASE {name}"));
        let base = admin_url();
        let url = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);
        TestDb { name, url }
    }

    /// The POSTGRES_* variables the repository's io_config.yaml reads.
    pub fn env(&self) -> Vec<(String, String)> {
        let u = url::Url::parse(&self.url).unwrap();
        vec![
            ("POSTGRES_HOST".into(), u.host_str().unwrap().to_string()),
            ("POSTGRES_PORT".into(), u.port().unwrap_or(5432).to_string()),
            ("POSTGRES_USER".into(), u.username().to_string()),
            (
                "POSTGRES_PASSWORD".into(),
                u.password().unwrap_or("").to_string(),
            ),
            ("POSTGRES_DBNAME".into(), self.name.clone()),
            ("POSTGRES_SCHEMA".into(), "ny_taxi".into()),
        ]
    }

    pub fn exec(&self, sql: &str) {
        pg_exec(&self.url, sql)
    }

    pub fn column(&self, sql: &str) -> Vec<Option<String>> {
        pg_column(&self.url, sql)
    }

    pub fn scalar(&self, sql: &str) -> String {
        self.column(sql)
            .into_iter()
            .next()
            .flatten()
            .unwrap_or_default()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        pg_exec(
            &admin_url(),
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Wait until something accepts connections on `port`.
fn wait_for(port: u16, what: &str, child: &mut Child, limit: Duration) {
    let start = Instant::now();
    while start.elapsed() < limit {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited before listening: {status}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what} did not listen on port {port} within {limit:?}");
}

/// A child process killed on drop.
pub struct Server {
    child: Child,
    pub port: u16,
}

impl Server {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start_server(mut cmd: Command, port: u16, what: &str, limit: Duration) -> Server {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e} (run scripts/test-services.sh)"));
    wait_for(port, what, &mut child, limit);
    Server { child, port }
}

/// Python's static file server over `dir` on a loopback port.
pub fn http_server(dir: &Path) -> Server {
    let port = free_port();
    let mut c = Command::new("python3");
    c.args([
        "-m",
        "http.server",
        "--bind",
        "127.0.0.1",
        &port.to_string(),
    ])
    .current_dir(dir);
    start_server(c, port, "python3 -m http.server", Duration::from_secs(20))
}

/// Where `scripts/test-services.sh` put the emulators.
pub fn tools() -> PathBuf {
    let home = std::env::var_os("WEFT_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".weft"));
    home.join("test-services")
}

/// fake-gcs-server keeping objects as files under `root/<bucket>/`, where the BigQuery
/// emulator reads `gs://` URIs too.
pub fn fake_gcs(root: &Path, buckets: &[&str]) -> Server {
    for b in buckets {
        std::fs::create_dir_all(root.join(b)).unwrap();
    }
    let port = free_port();
    let host = format!("127.0.0.1:{port}");
    let mut c = Command::new(tools().join("fake-gcs-server"));
    c.args([
        "-scheme",
        "http",
        "-host",
        "127.0.0.1",
        "-port",
        &port.to_string(),
    ])
    .args(["-backend", "filesystem", "-filesystem-root"])
    .arg(root)
    .args([
        "-public-host",
        &host,
        "-external-url",
        &format!("http://{host}"),
        "-log-level",
        "warn",
    ]);
    start_server(c, port, "fake-gcs-server", Duration::from_secs(30))
}

/// moto's S3 server.
pub fn moto_s3() -> Server {
    let port = free_port();
    let mut c = Command::new(tools().join("moto_server"));
    c.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
    start_server(c, port, "moto_server", Duration::from_secs(60))
}

/// The BigQuery emulator (project `test-proj`), reading `gs://` from `gcs_root`.
pub fn bigquery(gcs_root: &Path) -> Server {
    let port = free_port();
    let grpc = free_port();
    let mut c = Command::new(tools().join("bqemulator"));
    c.env("BQEMU_GCS_LOCAL_ROOT", gcs_root)
        .args([
            "start",
            "--rest-port",
            &port.to_string(),
            "--grpc-port",
            &grpc.to_string(),
        ])
        .args(["--project", "test-proj", "--log-level", "warning"]);
    start_server(c, port, "bqemulator", Duration::from_secs(120))
}

/// The cloud emulators side by side: fake-gcs-server with bucket `lake` (kept as files under
/// `gcs_root`), the BigQuery emulator reading `gs://` from there, and moto's S3 with bucket
/// `warehouse`.
pub struct Clouds {
    pub gcs_root: tempfile::TempDir,
    pub gcs: Server,
    pub bq: Server,
    pub s3: Server,
}

/// Start [`Clouds`].
pub fn clouds() -> Clouds {
    let gcs_root = tempfile::tempdir().unwrap();
    let gcs = fake_gcs(gcs_root.path(), &["lake"]);
    let bq = bigquery(gcs_root.path());
    let s3 = moto_s3();
    let (status, _) = http_json("PUT", &format!("{}/warehouse", s3.url()), None);
    assert_eq!(status, 200, "creating the S3 bucket");
    Clouds {
        gcs_root,
        gcs,
        bq,
        s3,
    }
}

/// An HTTP request to an emulator: `(status, JSON body)`.
pub fn http_json(
    method: &str,
    url: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    block_on(async {
        let client = reqwest::Client::new();
        let mut req = client.request(method.parse().unwrap(), url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        )
    })
}
