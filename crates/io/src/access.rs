//! Grants enforced: a block touches a URL or a profile only when its `grants:` list it.

use std::path::{Path, PathBuf};

use weft_pipeline::Grants;

use crate::error::IoError;
use crate::location::{Location, StoreKind};

/// What one block may touch.
#[derive(Debug, Clone)]
pub struct Access {
    block: String,
    profiles: Vec<String>,
    urls: Vec<(String, Location)>,
}

impl Access {
    /// The access of `block` with `grants`; relative `file:` grants resolve against `root`.
    pub fn new(block: &str, grants: &Grants, root: &Path) -> Access {
        let urls = grants
            .urls
            .iter()
            .filter_map(|g| grant_location(g, root).map(|l| (g.clone(), l)))
            .collect();
        Access {
            block: block.to_string(),
            profiles: grants.profiles.clone(),
            urls,
        }
    }

    /// The block's name.
    pub fn block(&self) -> &str {
        &self.block
    }

    /// Allow use of io profile `name`.
    ///
    /// # Errors
    /// [`IoError::Denied`] naming the grant to add.
    pub fn profile(&self, name: &str) -> Result<(), IoError> {
        if self.profiles.iter().any(|p| p == name) {
            return Ok(());
        }
        Err(IoError::Denied(format!(
            "block \"{}\" is not granted io profile \"{name}\"; add `grants: {{ profiles: [{name}] }}` to it in pipeline.yaml",
            self.block
        )))
    }

    /// Allow `verb` (`read`, `write`) of `location`.
    ///
    /// # Errors
    /// [`IoError::Denied`] naming the URL prefix to grant.
    pub fn location(&self, verb: &str, location: &Location) -> Result<(), IoError> {
        // Lexically inside a grant, and still inside once symbolic links are followed.
        let real = location.resolved();
        if self
            .urls
            .iter()
            .any(|(_, g)| location.within(g) && real.within(&g.resolved()))
        {
            return Ok(());
        }
        Err(IoError::Denied(format!(
            "block \"{}\" may not {verb} {location}: no URL grant covers it; add a prefix such as `grants: {{ urls: [\"{}\"] }}` in pipeline.yaml{}",
            self.block,
            suggest(location),
            if self.urls.is_empty() {
                String::new()
            } else {
                format!(
                    " (granted: {})",
                    self.urls
                        .iter()
                        .map(|(g, _)| g.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        )))
    }
}

/// A grant string as a location; `s3://` and `gs://` alone cover every bucket.
fn grant_location(grant: &str, root: &Path) -> Option<Location> {
    match grant.trim_end_matches('/') {
        "s3:/" | "s3:" => Some(any_bucket(StoreKind::S3)),
        "gs:/" | "gs:" => Some(any_bucket(StoreKind::Gcs)),
        "local:/" | "local:" => Some(any_bucket(StoreKind::Local)),
        _ => Location::parse(grant, root).ok(),
    }
}

fn any_bucket(kind: StoreKind) -> Location {
    Location::Store {
        kind,
        bucket: String::new(),
        path: String::new(),
    }
}

/// A grant that would cover `location`: its folder.
fn suggest(location: &Location) -> String {
    let text = location.to_string();
    match location {
        Location::Http(u) => match u.port() {
            Some(port) => format!("{}://{}:{port}/", u.scheme(), u.host_str().unwrap_or("")),
            None => format!("{}://{}/", u.scheme(), u.host_str().unwrap_or("")),
        },
        Location::File(p) => format!(
            "file://{}/",
            p.parent().map(PathBuf::from).unwrap_or_default().display()
        ),
        Location::Store { .. } => match text.rfind('/') {
            Some(i) if i > text.find("//").unwrap_or(0) + 2 => text[..=i].to_string(),
            _ => text,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denials_name_the_missing_grant() {
        let grants = Grants {
            urls: vec!["https://example.com/data/".into(), "gs://".into()],
            profiles: vec!["default".into()],
            ..Grants::default()
        };
        let a = Access::new("load", &grants, Path::new("/p"));
        assert!(a.profile("default").is_ok());
        let e = a.profile("warehouse").unwrap_err().to_string();
        assert!(
            e.contains("block \"load\" is not granted io profile \"warehouse\""),
            "{e}"
        );
        assert!(e.contains("profiles: [warehouse]"), "{e}");
        let root = Path::new("/p");
        assert!(a
            .location(
                "read",
                &Location::parse("https://example.com/data/x.csv", root).unwrap()
            )
            .is_ok());
        assert!(a
            .location("read", &Location::parse("gs://any/x.csv", root).unwrap())
            .is_ok());
        let e = a
            .location(
                "read",
                &Location::parse("https://evil.com/x.csv", root).unwrap(),
            )
            .unwrap_err();
        assert_eq!(e.kind(), "denied");
        let e = e.to_string();
        assert!(e.contains("may not read https://evil.com/x.csv"), "{e}");
        assert!(e.contains("urls: [\"https://evil.com/\"]"), "{e}");
        let e = a
            .location(
                "write",
                &Location::parse("s3://b/out/x.parquet", root).unwrap(),
            )
            .unwrap_err()
            .to_string();
        assert!(e.contains("urls: [\"s3://b/out/\"]"), "{e}");
    }

    #[test]
    fn links_out_of_a_granted_folder_are_denied() {
        let project = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("id_rsa"), "key").unwrap();
        std::fs::create_dir(project.path().join("data")).unwrap();
        std::fs::write(project.path().join("data/ok.csv"), "a\n1\n").unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("id_rsa"),
            project.path().join("data/key.csv"),
        )
        .unwrap();
        std::os::unix::fs::symlink(outside.path(), project.path().join("data/out")).unwrap();
        let grants = Grants {
            urls: vec!["file://data/".into()],
            ..Grants::default()
        };
        let a = Access::new("load", &grants, project.path());
        let at = |u: &str| Location::parse(u, project.path()).unwrap();
        assert!(a.location("read", &at("file://data/ok.csv")).is_ok());
        assert!(a
            .location("write", &at("file://data/new/x.parquet"))
            .is_ok());
        for escape in ["file://data/key.csv", "file://data/out/new.parquet"] {
            let e = a.location("read", &at(escape)).unwrap_err();
            assert_eq!(e.kind(), "denied", "{escape}");
        }
    }
}
