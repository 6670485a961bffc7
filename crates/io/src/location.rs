//! Where data lives: a URI a block gives (`https://…`, `file://…`, `s3://…`, `gs://…`,
//! `local://…`) parsed and normalised, so grants can be checked on what will really be touched.

use std::fmt;
use std::path::{Component, Path, PathBuf};

use url::Url;

use crate::error::IoError;

/// An object-store flavour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// Amazon S3 or an S3-compatible service (`s3://bucket/key`).
    S3,
    /// Google Cloud Storage (`gs://bucket/key`).
    Gcs,
    /// The project's own object store folder (`local://path`).
    Local,
}

/// A parsed data location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// An http(s) URL.
    Http(Url),
    /// A file on the host, absolute and without `..`.
    File(PathBuf),
    /// An object in an object store.
    Store {
        /// Which store.
        kind: StoreKind,
        /// Bucket (empty for `local://`).
        bucket: String,
        /// Object key or prefix, without a leading `/`.
        path: String,
    },
}

impl Location {
    /// Parse `uri`. Relative `file:` paths resolve against `root` (the project folder).
    ///
    /// # Errors
    /// [`IoError::Invalid`] naming the URI and the forms that are valid.
    pub fn parse(uri: &str, root: &Path) -> Result<Location, IoError> {
        let invalid = |why: &str| {
            IoError::Invalid(format!(
                "`{uri}` {why}; give an http(s)://, file://, s3://, gs:// or local:// URI"
            ))
        };
        let (scheme, rest) = uri
            .split_once("://")
            .ok_or_else(|| invalid("has no scheme"))?;
        match scheme {
            "http" | "https" => {
                let url = Url::parse(uri).map_err(|e| invalid(&format!("is not a URL ({e})")))?;
                if url.host_str().is_none_or(str::is_empty) {
                    return Err(invalid("has no host"));
                }
                let decoded = percent_encoding::percent_decode_str(url.path()).decode_utf8_lossy();
                // `..`, `..;x` (a parent segment to some servers) and encodings of dots and
                // slashes under another layer of encoding (`%252e`) could all lead a server
                // out of the granted prefix.
                let lower = decoded.to_ascii_lowercase();
                if decoded.split(['/', '\\']).any(|s| s.starts_with(".."))
                    || ["%2e", "%2f", "%5c"].iter().any(|e| lower.contains(e))
                {
                    return Err(invalid("hides a `..` segment in percent-encoding"));
                }
                if !url.username().is_empty() || url.password().is_some() {
                    return Err(IoError::Invalid(format!(
                        "`{}` carries credentials; put them in an io_config.yaml profile instead",
                        strip_userinfo(uri)
                    )));
                }
                Ok(Location::Http(url))
            }
            "file" => {
                let path = Path::new(rest);
                let full = if path.is_absolute() {
                    path.to_path_buf()
                } else {
                    root.join(path)
                };
                Ok(Location::File(normalise(&full)))
            }
            "s3" | "gs" | "local" => {
                let kind = match scheme {
                    "s3" => StoreKind::S3,
                    "gs" => StoreKind::Gcs,
                    _ => StoreKind::Local,
                };
                let (bucket, path) = if kind == StoreKind::Local {
                    (String::new(), rest)
                } else {
                    let (b, p) = rest.split_once('/').unwrap_or((rest, ""));
                    if b.is_empty() {
                        return Err(invalid("has no bucket"));
                    }
                    (b.to_string(), p)
                };
                let clean = normalise(Path::new("/").join(path).as_path());
                let path = clean.to_string_lossy().trim_start_matches('/').to_string();
                Ok(Location::Store { kind, bucket, path })
            }
            other => Err(invalid(&format!("has the unsupported scheme `{other}`"))),
        }
    }

    /// True when `self` lies within `prefix` (segment-wise: `https://h/data` covers
    /// `https://h/data/x.csv`, not `https://h/database`; on the same port, the scheme's
    /// default when none is written).
    pub fn within(&self, prefix: &Location) -> bool {
        match (self, prefix) {
            (Location::Http(u), Location::Http(p)) => {
                u.scheme() == p.scheme()
                    && u.host_str() == p.host_str()
                    && u.port_or_known_default() == p.port_or_known_default()
                    && path_within(u.path(), p.path())
            }
            (Location::File(f), Location::File(p)) => f.starts_with(p),
            (
                Location::Store { kind, bucket, path },
                Location::Store {
                    kind: pk,
                    bucket: pb,
                    path: pp,
                },
            ) => kind == pk && (pb.is_empty() || bucket == pb) && path_within(path, pp),
            _ => false,
        }
    }

    /// The location with symbolic links resolved, for files: the longest existing part of the
    /// path is made canonical, the rest appended. Other locations are returned as they are.
    pub fn resolved(&self) -> Location {
        let Location::File(path) = self else {
            return self.clone();
        };
        let mut existing = path.as_path();
        let mut rest = Vec::new();
        loop {
            if let Ok(real) = existing.canonicalize() {
                let mut out = real;
                out.extend(rest.iter().rev());
                return Location::File(out);
            }
            match (existing.parent(), existing.file_name()) {
                (Some(parent), Some(name)) => {
                    rest.push(name.to_os_string());
                    existing = parent;
                }
                _ => return self.clone(),
            }
        }
    }

    /// The file name part (for guessing a format from the extension).
    pub fn file_name(&self) -> String {
        let s = match self {
            Location::Http(u) => u.path().to_string(),
            Location::File(p) => p.to_string_lossy().into_owned(),
            Location::Store { path, .. } => path.clone(),
        };
        s.rsplit('/').next().unwrap_or("").to_string()
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Http(u) => write!(f, "{u}"),
            Location::File(p) => write!(f, "file://{}", p.display()),
            Location::Store { kind, bucket, path } => match kind {
                StoreKind::S3 => write!(f, "s3://{bucket}/{path}"),
                StoreKind::Gcs => write!(f, "gs://{bucket}/{path}"),
                StoreKind::Local => write!(f, "local://{path}"),
            },
        }
    }
}

fn path_within(path: &str, prefix: &str) -> bool {
    let prefix_trim = prefix.trim_end_matches('/');
    if prefix_trim.is_empty() {
        return true;
    }
    let path = path.trim_start_matches('/');
    let prefix_trim = prefix_trim.trim_start_matches('/');
    if prefix.ends_with('/') {
        return path.starts_with(&format!("{prefix_trim}/")) || path == prefix_trim;
    }
    path == prefix_trim || path.starts_with(&format!("{prefix_trim}/"))
}

/// Lexically resolve `.` and `..` (never above the root).
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                if out.parent().is_some() {
                    out.pop();
                }
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn strip_userinfo(uri: &str) -> String {
    match Url::parse(uri) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => "<url>".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(s: &str) -> Location {
        Location::parse(s, Path::new("/project")).unwrap()
    }

    #[test]
    fn prefixes_match_by_segment_host_and_port() {
        let grant = loc("https://github.com/DataTalksClub");
        assert!(loc("https://github.com/DataTalksClub/nyc/x.csv.gz").within(&grant));
        assert!(!loc("https://github.com/DataTalksClubEvil/x").within(&grant));
        assert!(!loc("http://github.com/DataTalksClub/x").within(&grant));
        assert!(!loc("https://github.com.evil.io/DataTalksClub/x").within(&grant));
        let default_port = loc("http://127.0.0.1");
        assert!(!loc("http://127.0.0.1:8123/a.csv").within(&default_port));
        assert!(loc("http://127.0.0.1:80/a.csv").within(&default_port));
        let port = loc("http://127.0.0.1:9000/");
        assert!(!loc("http://127.0.0.1:9001/a.csv").within(&port));
        assert!(loc("http://127.0.0.1:9000/a.csv").within(&port));
    }

    #[test]
    fn files_and_stores_are_normalised_before_matching() {
        let grant = loc("file://data/");
        assert_eq!(grant, Location::File("/project/data".into()));
        assert!(loc("file://data/2021/a.csv").within(&grant));
        assert!(!loc("file://data/../secrets.txt").within(&grant));
        assert!(!loc("file:///etc/passwd").within(&grant));
        let bucket = loc("gs://lake/raw/");
        assert!(loc("gs://lake/raw/taxi/a.parquet").within(&bucket));
        assert!(!loc("gs://lake/raw/../curated/a").within(&bucket));
        assert!(!loc("gs://other/raw/a").within(&bucket));
        assert!(!loc("s3://lake/raw/a").within(&bucket));
        assert!(loc("gs://any/thing").within(&loc("gs://x").clone_any_bucket()));
    }

    #[test]
    fn encoded_parent_segments_are_refused() {
        let e = Location::parse("https://h/public/..%2Fprivate/x.csv", Path::new("/p"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("hides a `..` segment"), "{e}");
        assert!(Location::parse("https://h/public/a%2Fb.csv", Path::new("/p")).is_ok());
        for sneaky in [
            "https://h/public/..;/admin",
            "https://h/public/%252e%252e/admin",
            "https://h/public/%252fadmin",
        ] {
            assert!(
                Location::parse(sneaky, Path::new("/p")).is_err(),
                "{sneaky}"
            );
        }
    }

    #[test]
    fn links_are_resolved_before_matching() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("data")).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("data/escape")).unwrap();
        let grant = Location::parse("file://data/", dir.path()).unwrap();
        let inside = Location::parse("file://data/x.csv", dir.path()).unwrap();
        let linked = Location::parse("file://data/escape/secret.csv", dir.path()).unwrap();
        assert!(linked.within(&grant), "lexically inside");
        assert!(inside.resolved().within(&grant.resolved()));
        assert!(!linked.resolved().within(&grant.resolved()));
    }

    #[test]
    fn bad_uris_say_what_is_valid() {
        let e = Location::parse("ftp://x/y", Path::new("/"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("unsupported scheme `ftp`"), "{e}");
        let e = Location::parse("data.csv", Path::new("/"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no scheme"), "{e}");
        let e = Location::parse("https://u:pw@h/x", Path::new("/"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("credentials") && !e.contains("pw"), "{e}");
    }

    impl Location {
        fn clone_any_bucket(&self) -> Location {
            match self {
                Location::Store { kind, .. } => Location::Store {
                    kind: *kind,
                    bucket: String::new(),
                    path: String::new(),
                },
                other => other.clone(),
            }
        }
    }
}
