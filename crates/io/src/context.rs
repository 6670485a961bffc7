//! [`IoContext`]: a project's profiles, folders and HTTP client; [`BlockIo`]: the IO one block
//! may do, with its grants, progress and notices.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use weft_pipeline::Grants;

use crate::access::Access;
use crate::error::IoError;
use crate::limits::{IoLimits, Meter};
use crate::profile::{is_secret_key, Profiles};
use crate::progress::{NoProgress, Progress};
use crate::redact::Redactor;

/// Longest wait for a TCP connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest silence of a download before it is abandoned.
const READ_TIMEOUT: Duration = Duration::from_secs(120);

/// What every block's IO of one project shares.
pub struct IoContext {
    pub(crate) profiles: Profiles,
    pub(crate) redactor: Redactor,
    /// The project folder: relative `file:` URIs resolve against it.
    pub(crate) root: PathBuf,
    /// The folder behind `local://`.
    pub(crate) local_store: PathBuf,
    /// weft's own paths, out of every grant (see [`crate::access::private_paths`]).
    pub(crate) private: Arc<[PathBuf]>,
    /// Loopback ports of weft's own (the API of `weft serve`), out of every grant.
    pub(crate) private_ports: Vec<u16>,
    /// The client of operator-configured services (profile endpoints).
    pub(crate) http: reqwest::Client,
    /// The client of URLs a block gives: names resolve to public addresses only.
    pub(crate) block_http: reqwest::Client,
}

impl IoContext {
    /// The IO context of a project at `root`, with `local://` at `local_store`.
    ///
    /// # Errors
    /// [`IoError::External`] when the HTTP client cannot start (no TLS roots).
    pub fn new(root: PathBuf, local_store: PathBuf, profiles: Profiles) -> Result<Self, IoError> {
        let client = || {
            reqwest::Client::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .read_timeout(READ_TIMEOUT)
                .user_agent(concat!("weft/", env!("CARGO_PKG_VERSION")))
                // Redirects are followed by the reader, which checks each hop against the
                // grants.
                .redirect(reqwest::redirect::Policy::none())
        };
        let failed =
            |e: reqwest::Error| IoError::External(format!("cannot start the HTTP client: {e}"));
        let http = client().build().map_err(failed)?;
        // No proxy from the environment for blocks: a proxy would resolve names itself.
        let block_http = client()
            .no_proxy()
            .dns_resolver(Arc::new(crate::address::PublicOnly))
            .build()
            .map_err(failed)?;
        let private: Vec<PathBuf> = crate::access::private_paths(&root)
            .into_iter()
            .chain(profiles.file_paths())
            .collect();
        Ok(IoContext {
            redactor: profiles.redactor(),
            profiles,
            private: private.into(),
            root,
            local_store,
            http,
            block_http,
            private_ports: Vec::new(),
        })
    }

    /// Also keep `path` (and what is under it) out of every grant: a folder of weft's own
    /// outside `.weft/`, such as a configured block-output folder.
    pub fn with_private_path(mut self, path: PathBuf) -> Self {
        let mut private = self.private.to_vec();
        private.push(match crate::Location::File(path.clone()).resolved() {
            crate::Location::File(real) => real,
            _ => path,
        });
        self.private = private.into();
        self
    }

    /// Keep loopback `port` (this process's own API) out of every grant: a block granted
    /// `http://127.0.0.1:*/` must not reach the server that runs it.
    pub fn with_private_port(mut self, port: u16) -> Self {
        self.private_ports.push(port);
        self
    }

    /// The project's profiles.
    pub fn profiles(&self) -> &Profiles {
        &self.profiles
    }

    /// Masks the profiles' secrets in text.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// The IO `block` may do under `grants`.
    pub fn for_block(self: &Arc<Self>, block: &str, grants: &Grants) -> BlockIo {
        BlockIo {
            access: Access::new(block, grants, &self.root, self.private.clone()),
            ctx: self.clone(),
            progress: Arc::new(NoProgress),
            notices: Arc::new(|_| {}),
            limits: None,
        }
    }
}

/// Receives a block's IO notices (rows read, lines skipped, streams skipped).
pub type Notices = Arc<dyn Fn(String) + Send + Sync>;

/// The IO of one block: every call checks its grants and masks secrets in what it returns.
#[derive(Clone)]
pub struct BlockIo {
    pub(crate) ctx: Arc<IoContext>,
    pub(crate) access: Access,
    pub(crate) progress: Arc<dyn Progress>,
    pub(crate) notices: Notices,
    /// Limits of each call; `None`: unlimited.
    pub(crate) limits: Option<IoLimits>,
}

/// Services a profile can configure, for [`BlockIo::available`].
pub const SERVICES: &[&str] = &["postgres", "gcs", "s3", "bigquery", "http"];

impl BlockIo {
    /// Report transfer progress to `progress`.
    pub fn with_progress(mut self, progress: Arc<dyn Progress>) -> Self {
        self.progress = progress;
        self
    }

    /// Hold every call to `limits` (deadline, cancel, bytes read, memory).
    pub fn with_limits(mut self, limits: IoLimits) -> Self {
        self.limits = Some(limits);
        self
    }

    /// Send notices (rows read, lines skipped) to `notices`.
    pub fn with_notices(mut self, notices: Notices) -> Self {
        self.notices = notices;
        self
    }

    /// The block's name.
    pub fn block(&self) -> &str {
        self.access.block()
    }

    pub(crate) fn notice(&self, message: String) {
        (self.notices)(self.ctx.redactor.redact(&message));
    }

    /// Run `f` within the call's limits, masking secrets in its error. When a limit stopped
    /// the call, the breach is the error, whatever the interrupted code returned.
    pub(crate) fn redacted<T>(&self, f: impl FnOnce() -> Result<T, IoError>) -> Result<T, IoError> {
        let result = match &self.limits {
            None => f(),
            Some(limits) => {
                let meter = Meter::new(limits.clone());
                let result = meter.scope(f);
                if result.is_err() {
                    // A failure at the deadline (a statement timeout) is the deadline's.
                    let _ = meter.check();
                }
                match (result, meter.breach()) {
                    (Err(_), Some(b)) => Err(IoError::Stopped(b)),
                    (result, _) => result,
                }
            }
        };
        result.map_err(|e| e.map_message(|m| self.ctx.redactor.redact(m)))
    }

    /// Whether granted profile `profile` configures `service` (and, for Postgres, whether the
    /// server answers). Lets a pipeline fall back when a stream is not set up.
    ///
    /// # Errors
    /// [`IoError::Denied`] when the profile is not granted; [`IoError::Invalid`] for an
    /// unknown service.
    pub fn available(&self, profile: &str, service: &str) -> Result<bool, IoError> {
        self.redacted(|| {
            self.access.profile(profile)?;
            let p = match self.ctx.profiles.get(profile) {
                Ok(p) => p,
                Err(_) => return Ok(false),
            };
            let keyed = p.has("GOOGLE_SERVICE_ACC_KEY_FILEPATH") || p.has("GOOGLE_SERVICE_ACC_KEY");
            Ok(match service {
                "postgres" => match crate::postgres::connect(p) {
                    Ok(_) => true,
                    Err(e) => {
                        self.notice(format!(
                            "Postgres of io profile \"{profile}\" is not available: {e}"
                        ));
                        false
                    }
                },
                "gcs" => p.has("GCS_BUCKET") && (keyed || p.has("GCS_ENDPOINT")),
                "s3" => p.has("AWS_ACCESS_KEY_ID") || p.has("AWS_ENDPOINT"),
                "bigquery" => {
                    (p.has("BIGQUERY_PROJECT") || p.has("GOOGLE_PROJECT_ID") || keyed)
                        && (keyed || p.has("BIGQUERY_ENDPOINT"))
                        && p.has("BIGQUERY_DATASET")
                }
                "http" => true,
                other => {
                    return Err(IoError::Invalid(format!(
                        "unknown service `{other}`; valid: {}",
                        SERVICES.join(", ")
                    )))
                }
            })
        })
    }

    /// Run `sql` in the database of granted profile `profile` (Postgres), with `inputs`
    /// uploaded as temporary tables named after them; the rows come back as a table. The
    /// query is read-only unless the block may write the whole database
    /// (`write: ["postgres://<profile>/"]`).
    ///
    /// # Errors
    /// [`IoError::Denied`] when the profile is not granted; [`IoError::Invalid`] with the
    /// database's message for a bad query; [`IoError::External`] when it cannot be reached.
    pub fn query(
        &self,
        profile: &str,
        sql: &str,
        inputs: &[(String, weft_data::Table)],
    ) -> Result<weft_data::Table, IoError> {
        self.redacted(|| {
            self.access.profile(profile)?;
            let p = self.ctx.profiles.get(profile)?;
            let read_only = !self.access.whole_database("postgres", profile);
            if read_only {
                // One query and nothing else (no `COPY … TO PROGRAM`, no `DO`, no `SET`).
                weft_data::postgres_query_only(sql).map_err(|e| {
                    IoError::Denied(format!(
                        "{e}; queries through io profile \"{profile}\" are read-only unless the block is granted its whole database (`write: [\"postgres://{profile}/\"]`)"
                    ))
                })?;
            }
            let t = crate::postgres::query(p, sql, inputs, read_only)?;
            self.notice(format!(
                "query in io profile \"{profile}\" returned {} rows",
                t.num_rows()
            ));
            Ok(t)
        })
    }

    /// A setting of granted profile `profile` that is not a secret (a bucket, a dataset).
    ///
    /// # Errors
    /// [`IoError::Denied`] when the profile is not granted or the key holds a secret.
    pub fn setting(&self, profile: &str, key: &str) -> Result<Option<String>, IoError> {
        self.redacted(|| {
            self.access.profile(profile)?;
            if is_secret_key(key) {
                return Err(IoError::Denied(format!(
                    "`{key}` of io profile \"{profile}\" is a secret: blocks never see secrets; weft uses them on the block's behalf"
                )));
            }
            let value = self.ctx.profiles.get(profile)?.get(key);
            Ok(value.map(|v| match crate::profile::url_password(&v) {
                // A plain setting's URL never hands its credentials over.
                Some(pw) => v.replace(&pw, "***"),
                None => v,
            }))
        })
    }
}
