//! What can go wrong with a package, by fault.

/// A package could not be made, published, resolved, fetched or trusted.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// A reference, requirement, version or metadata field is malformed.
    #[error("{0}")]
    Invalid(String),
    /// Bytes do not match the digest they were recorded or announced with.
    #[error("{what}: expected {expected}, got {actual}")]
    Digest {
        /// Which manifest, blob or cached file.
        what: String,
        /// The digest recorded (in weft.lock or the manifest).
        expected: String,
        /// The digest of what arrived.
        actual: String,
    },
    /// The package cannot run on this host (WIT contract) or is not a weft package.
    #[error("{0}")]
    Incompatible(String),
    /// A newer version requests grants the locked one did not.
    #[error("{package} {version} requests more than {locked} did: {grant}; review it and run `weft update {package} --approve`")]
    Widened {
        /// `namespace/name`.
        package: String,
        /// The version found.
        version: String,
        /// The version locked.
        locked: String,
        /// The first new grant, as `kind: value`.
        grant: String,
    },
    /// The registry refused or failed.
    #[error("registry {registry}: {reason}")]
    Registry {
        /// `host[:port]`.
        registry: String,
        /// What it said.
        reason: String,
    },
    /// Nothing (or nothing matching) was found.
    #[error("{0}")]
    NotFound(String),
    /// The version exists already and overwriting was not asked for.
    #[error("{0}")]
    Exists(String),
    /// A local file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl PackageError {
    /// An [`PackageError::Io`] for `path`.
    pub fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> PackageError + '_ {
        move |source| PackageError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
