//! [`IoContext`]: a project's profiles, folders and HTTP client; [`BlockIo`]: the IO one block
//! may do, with its grants, progress and notices.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use weft_pipeline::Grants;

use crate::access::Access;
use crate::error::IoError;
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
    pub(crate) http: reqwest::Client,
}

impl IoContext {
    /// The IO context of a project at `root`, with `local://` at `local_store`.
    ///
    /// # Errors
    /// [`IoError::External`] when the HTTP client cannot start (no TLS roots).
    pub fn new(root: PathBuf, local_store: PathBuf, profiles: Profiles) -> Result<Self, IoError> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(READ_TIMEOUT)
            .user_agent(concat!("weft/", env!("CARGO_PKG_VERSION")))
            // Redirects are followed by the reader, which checks each hop against the grants.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| IoError::External(format!("cannot start the HTTP client: {e}")))?;
        Ok(IoContext {
            redactor: profiles.redactor(),
            profiles,
            root,
            local_store,
            http,
        })
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
            access: Access::new(block, grants, &self.root),
            ctx: self.clone(),
            progress: Arc::new(NoProgress),
            notices: Arc::new(|_| {}),
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
}

/// Services a profile can configure, for [`BlockIo::available`].
pub const SERVICES: &[&str] = &["postgres", "gcs", "s3", "bigquery", "http"];

impl BlockIo {
    /// Report transfer progress to `progress`.
    pub fn with_progress(mut self, progress: Arc<dyn Progress>) -> Self {
        self.progress = progress;
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

    /// Run `f`, masking secrets in its error.
    pub(crate) fn redacted<T>(&self, f: impl FnOnce() -> Result<T, IoError>) -> Result<T, IoError> {
        f().map_err(|e| e.map_message(|m| self.ctx.redactor.redact(m)))
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
    /// uploaded as temporary tables named after them; the rows come back as a table.
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
            let t = crate::postgres::query(p, sql, inputs)?;
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
            Ok(self.ctx.profiles.get(profile)?.get(key))
        })
    }
}
