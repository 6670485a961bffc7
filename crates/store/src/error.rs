//! Errors of the state store.

/// A state-store failure, naming the database and what was being done.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL is not a SQLite or Postgres URL.
    #[error("state store URL `{url}` is not supported: use `sqlite://path` or `postgres://...`")]
    UnsupportedUrl {
        /// The URL as given (credentials removed).
        url: String,
    },
    /// Connecting or migrating failed.
    #[error("cannot open state store {url}: {reason}")]
    Connect {
        /// The URL (credentials removed).
        url: String,
        /// The driver's message.
        reason: String,
    },
    /// A query failed.
    #[error("state store: {action}: {source}")]
    Query {
        /// What was being done, e.g. `record block "clean" finished`.
        action: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// A run id that is not in the store.
    #[error("no run `{0}` in the state store")]
    NoSuchRun(String),
}

/// Attach an action description to a sqlx error.
pub(crate) trait Context<T> {
    fn during(self, action: impl FnOnce() -> String) -> Result<T, StoreError>;
}

impl<T> Context<T> for Result<T, sqlx::Error> {
    fn during(self, action: impl FnOnce() -> String) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Query {
            action: action(),
            source,
        })
    }
}

/// `url` with any password replaced by `***`.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redact_hides_passwords_only() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("postgres://h/db"), "postgres://h/db");
        assert_eq!(
            super::redact("sqlite://.weft/state.db"),
            "sqlite://.weft/state.db"
        );
    }
}
