//! Errors of the IO layer, classified by whose fault they are.

/// Why a read, write or query failed. Messages name the URL, profile, table or line; they
/// never contain a profile's secrets (see [`crate::Redactor`]).
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    /// The block asked for something its grants do not allow; the message names the grant
    /// that is missing.
    #[error("{0}")]
    Denied(String),
    /// The request itself is wrong: an unknown option, format or profile, a bad URL.
    #[error("{0}")]
    Invalid(String),
    /// The data is wrong: a CSV line that does not parse, a table a sink cannot take.
    #[error("{0}")]
    Data(String),
    /// An external system failed or could not be reached.
    #[error("{0}")]
    External(String),
    /// A limit of the block stopped the call (its deadline, a cancel, a budget); the message
    /// names the limit and how to raise it.
    #[error("{0}")]
    Stopped(crate::limits::Breach),
    /// `io_config.yaml` itself is wrong.
    #[error("{file}: {reason}")]
    Config {
        /// The config file, as shown to users.
        file: String,
        /// What is wrong.
        reason: String,
    },
}

impl IoError {
    /// `denied`, `invalid-input` or `io`: the WIT error case this error becomes; `stopped`
    /// for a limit breach, which stops the block instead.
    pub fn kind(&self) -> &'static str {
        match self {
            IoError::Denied(_) => "denied",
            IoError::Invalid(_) | IoError::Data(_) | IoError::Config { .. } => "invalid-input",
            IoError::External(_) => "io",
            IoError::Stopped(_) => "stopped",
        }
    }

    /// The same error with its message passed through `f` (used for redaction).
    pub fn map_message(self, f: impl Fn(&str) -> String) -> IoError {
        match self {
            IoError::Denied(m) => IoError::Denied(f(&m)),
            IoError::Invalid(m) => IoError::Invalid(f(&m)),
            IoError::Data(m) => IoError::Data(f(&m)),
            IoError::External(m) => IoError::External(f(&m)),
            IoError::Stopped(b) => IoError::Stopped(b),
            IoError::Config { file, reason } => IoError::Config {
                file,
                reason: f(&reason),
            },
        }
    }
}

impl From<crate::limits::Breach> for IoError {
    fn from(b: crate::limits::Breach) -> Self {
        IoError::Stopped(b)
    }
}

/// `IoError::External` with context naming what was being done.
pub(crate) fn external(context: impl std::fmt::Display, e: impl std::fmt::Display) -> IoError {
    IoError::External(format!("{context}: {e}"))
}
