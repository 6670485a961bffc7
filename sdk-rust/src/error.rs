//! The error a block returns; the host shows its message as the reason the block failed.

use std::fmt;

use crate::bindings::weft::block::types::Error as WitError;

/// A block failure, by whose fault it is. Its message becomes the reason the block failed.
///
/// ```ignore
/// return Err(Error::InvalidInput("config `rows` must be positive".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The input (config, a table, an argument) is not valid.
    InvalidInput(String),
    /// The block asked for something its grants do not allow.
    Denied(String),
    /// An external system failed.
    Io(String),
    /// The block's own logic failed.
    Failed(String),
}

/// `Result` with the block [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A failure of the block's own logic with `message`.
    ///
    /// ```ignore
    /// return Err(Error::failed("the upstream file was empty"));
    /// ```
    pub fn failed(message: impl Into<String>) -> Self {
        Error::Failed(message.into())
    }
}

/// Fail with `message` unless `condition` holds; handy in tests.
///
/// ```ignore
/// ensure(output.num_rows() > 0, "no rows")?;
/// ```
///
/// # Errors
/// [`Error::Failed`] with `message` when `condition` is false.
pub fn ensure(condition: bool, message: impl Into<String>) -> Result<()> {
    if condition {
        Ok(())
    } else {
        Err(Error::Failed(message.into()))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidInput(m) => write!(f, "invalid input: {m}"),
            Error::Denied(m) => write!(f, "denied: {m}"),
            Error::Io(m) => write!(f, "io: {m}"),
            Error::Failed(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

impl From<WitError> for Error {
    fn from(e: WitError) -> Self {
        match e {
            WitError::InvalidInput(m) => Error::InvalidInput(m),
            WitError::Denied(m) => Error::Denied(m),
            WitError::Io(m) => Error::Io(m),
            WitError::Failed(m) => Error::Failed(m),
        }
    }
}

impl From<Error> for WitError {
    fn from(e: Error) -> Self {
        match e {
            Error::InvalidInput(m) => WitError::InvalidInput(m),
            Error::Denied(m) => WitError::Denied(m),
            Error::Io(m) => WitError::Io(m),
            Error::Failed(m) => WitError::Failed(m),
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::InvalidInput(format!("config: {e}"))
    }
}

#[cfg(feature = "arrow")]
impl From<arrow_schema::ArrowError> for Error {
    fn from(e: arrow_schema::ArrowError) -> Self {
        Error::Failed(format!("arrow: {e}"))
    }
}

impl From<String> for Error {
    fn from(message: String) -> Self {
        Error::Failed(message)
    }
}

impl From<&str> for Error {
    fn from(message: &str) -> Self {
        Error::Failed(message.to_string())
    }
}
