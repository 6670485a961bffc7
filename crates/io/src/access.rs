//! Grants enforced: a block reads a URL, writes a folder or table, or uses a profile only when
//! its `grants:` list it. Reading and writing are granted apart; a port counts.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use weft_pipeline::Grants;

use crate::error::IoError;
use crate::location::{Location, StoreKind};

/// One URL or folder grant.
#[derive(Debug, Clone)]
struct Grant {
    /// As written in pipeline.yaml.
    text: String,
    location: Location,
    /// Written with `:*`: any port of the host.
    any_port: bool,
}

impl Grant {
    fn covers(&self, location: &Location) -> bool {
        match (location, &self.location) {
            (Location::Http(u), Location::Http(g)) if self.any_port => {
                let mut g = g.clone();
                // Compare as if the grant named the URL's own port.
                let _ = g.set_port(u.port());
                location.within(&Location::Http(g))
            }
            _ => location.within(&self.location),
        }
    }
}

/// A database table grant: `postgres://<profile>/[<schema>[.<table>]]`.
#[derive(Debug, Clone)]
struct TableGrant {
    text: String,
    service: String,
    profile: String,
    /// Empty: every table; `schema`: that schema's tables; `schema.table`: that table.
    scope: String,
}

/// What one block may touch.
#[derive(Debug, Clone)]
pub struct Access {
    block: String,
    profiles: Vec<String>,
    reads: Vec<Grant>,
    writes: Vec<Grant>,
    tables: Vec<TableGrant>,
    /// Folders and files no grant reaches (weft's own), links resolved.
    private: Arc<[PathBuf]>,
}

impl Access {
    /// The access of `block` with `grants`; relative `file:` grants resolve against `root`.
    /// Nothing under `private` (weft's own files) is reachable, whatever the grants say.
    pub fn new(block: &str, grants: &Grants, root: &Path, private: Arc<[PathBuf]>) -> Access {
        let parse = |list: &[String]| -> Vec<Grant> {
            list.iter()
                .filter_map(|g| {
                    let (text, any_port) = any_port(g);
                    grant_location(&text, root).map(|location| Grant {
                        text: g.clone(),
                        location,
                        any_port,
                    })
                })
                .collect()
        };
        let tables = grants
            .write
            .iter()
            .filter_map(|g| {
                let (service, rest) = g.split_once("://")?;
                if !matches!(service, "postgres" | "bigquery") {
                    return None;
                }
                let (profile, scope) = rest.split_once('/').unwrap_or((rest, ""));
                Some(TableGrant {
                    text: g.clone(),
                    service: service.to_string(),
                    profile: profile.to_string(),
                    scope: scope.trim_matches('/').to_string(),
                })
            })
            .collect();
        Access {
            block: block.to_string(),
            profiles: grants.profiles.clone(),
            reads: parse(&grants.urls),
            writes: parse(&grants.write),
            tables,
            private,
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

    /// Allow `verb` (`read` or `write`) of `location`: reads need a `urls:` grant, writes a
    /// `write:` grant.
    ///
    /// # Errors
    /// [`IoError::Denied`] naming the URL prefix to grant.
    pub fn location(&self, verb: &str, location: &Location) -> Result<(), IoError> {
        // Lexically inside a grant, and still inside once symbolic links are followed.
        let real = location.resolved();
        if let Location::File(path) = &real {
            if let Some(p) = self.private.iter().find(|p| path.starts_with(p)) {
                return Err(IoError::Denied(format!(
                    "block \"{}\" may not {verb} {location}: {} is weft's own (state, build cache, block outputs, settings with secrets) and no grant reaches it",
                    self.block,
                    p.display()
                )));
            }
        }
        let (grants, field) = if verb == "write" {
            (&self.writes, "write")
        } else {
            (&self.reads, "urls")
        };
        if grants.iter().any(|g| {
            g.covers(location)
                && match &g.location {
                    Location::File(_) => real.within(&g.location.resolved()),
                    _ => true,
                }
        }) {
            return Ok(());
        }
        let also = if verb == "write" && self.reads.iter().any(|g| g.covers(location)) {
            " (it is granted for reading only)"
        } else {
            ""
        };
        Err(IoError::Denied(format!(
            "block \"{}\" may not {verb} {location}: no `{field}` grant covers it{also}; add a prefix such as `grants: {{ {field}: [\"{}\"] }}` in pipeline.yaml{}",
            self.block,
            suggest(location),
            if grants.is_empty() {
                String::new()
            } else {
                format!(
                    " (granted: {})",
                    grants.iter().map(|g| g.text.as_str()).collect::<Vec<_>>().join(", ")
                )
            }
        )))
    }

    /// Allow writing table `name` (`schema.table` or `dataset.table`) of `service`
    /// (`postgres`, `bigquery`) through profile `profile`.
    ///
    /// # Errors
    /// [`IoError::Denied`] naming the grant to add.
    pub fn table(&self, service: &str, profile: &str, name: &str) -> Result<(), IoError> {
        self.profile(profile)?;
        let schema = name.split('.').next().unwrap_or(name);
        if self.tables.iter().any(|g| {
            g.service == service
                && g.profile == profile
                && (g.scope.is_empty() || g.scope == schema || g.scope == name)
        }) {
            return Ok(());
        }
        let granted: Vec<&str> = self
            .tables
            .iter()
            .filter(|g| g.service == service)
            .map(|g| g.text.as_str())
            .collect();
        Err(IoError::Denied(format!(
            "block \"{}\" may not write {service}://{profile}/{name}: no `write` grant covers it; add `grants: {{ write: [\"{service}://{profile}/{schema}\"] }}` in pipeline.yaml{}",
            self.block,
            if granted.is_empty() {
                String::new()
            } else {
                format!(" (granted: {})", granted.join(", "))
            }
        )))
    }

    /// Whether a `write` grant covers the whole database of `service` profile `profile`
    /// (`postgres://<profile>/`): only then may the block's queries there change anything.
    pub fn whole_database(&self, service: &str, profile: &str) -> bool {
        self.tables
            .iter()
            .any(|g| g.service == service && g.profile == profile && g.scope.is_empty())
    }
}

/// A grant with `:*` as its authority's port (`http://host:*/path`): the grant without it,
/// and true. `:*` anywhere else is not a port.
fn any_port(grant: &str) -> (String, bool) {
    if let Some((scheme, rest)) = grant.split_once("://") {
        let authority_end = rest.find('/').unwrap_or(rest.len());
        if let Some(host) = rest[..authority_end].strip_suffix(":*") {
            return (format!("{scheme}://{host}{}", &rest[authority_end..]), true);
        }
    }
    (grant.to_string(), false)
}

/// weft's own paths in a project at `root`, which no grant reaches: `.weft/` (state, build
/// cache, block outputs), `io_config.yaml` and `weft.toml` (settings with secrets), weft's
/// home (`$WEFT_HOME`, default `~/.weft`: toolchain, SDK), the process's own view of itself
/// (`/proc`: its environment holds the secrets), `/sys`, `/dev`, and where the user's
/// credentials usually live (`~/.aws`, `~/.pgpass`, `~/.ssh`…). Links are resolved.
pub fn private_paths(root: &Path) -> Vec<PathBuf> {
    let home = std::env::var_os("WEFT_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".weft")));
    let user = std::env::var_os("HOME").map(PathBuf::from);
    // Where the operator's own credentials usually live.
    let credentials = [
        ".aws",
        ".pgpass",
        ".netrc",
        ".ssh",
        ".config/gcloud",
        ".docker",
        ".kube",
        ".git-credentials",
        ".pypirc",
        ".cargo/credentials.toml",
    ];
    [
        Some(root.join(".weft")),
        Some(root.join("io_config.yaml")),
        Some(root.join("weft.toml")),
        home,
        Some(PathBuf::from("/proc")),
        Some(PathBuf::from("/sys")),
        Some(PathBuf::from("/dev")),
    ]
    .into_iter()
    .chain(credentials.iter().map(|c| user.as_ref().map(|h| h.join(c))))
    .flatten()
    .map(|p| match Location::File(p.clone()).resolved() {
        Location::File(real) => real,
        _ => p,
    })
    .collect()
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
            write: vec!["s3://b/mine/".into()],
            profiles: vec!["default".into()],
            ..Grants::default()
        };
        let a = Access::new("load", &grants, Path::new("/p"), Arc::from(vec![]));
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
        assert!(e.contains("write: [\"s3://b/out/\"]"), "{e}");
        assert!(a
            .location(
                "write",
                &Location::parse("s3://b/mine/x.parquet", root).unwrap()
            )
            .is_ok());
        // Reading a folder does not allow writing it.
        let e = a
            .location("write", &Location::parse("gs://any/x.csv", root).unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("granted for reading only"), "{e}");
    }

    #[test]
    fn ports_count_unless_a_grant_says_any() {
        let grants = Grants {
            urls: vec![
                "http://127.0.0.1".into(),
                "http://localhost:*/data/".into(),
                "http://10.0.0.5:8080/".into(),
            ],
            ..Grants::default()
        };
        let a = Access::new("load", &grants, Path::new("/p"), Arc::from(vec![]));
        let ok = |u: &str| {
            a.location("read", &Location::parse(u, Path::new("/p")).unwrap())
                .is_ok()
        };
        assert!(ok("http://127.0.0.1/x.csv"));
        assert!(ok("http://127.0.0.1:80/x.csv"));
        assert!(!ok("http://127.0.0.1:5432/x"));
        assert!(ok("http://localhost:8123/data/x.csv"));
        assert!(!ok("http://localhost:8123/other/x.csv"));
        assert!(ok("http://10.0.0.5:8080/x"));
        assert!(!ok("http://10.0.0.5:8081/x"));
        assert!(!ok("http://10.0.0.5/x"));
    }

    #[test]
    fn tables_are_written_only_where_granted() {
        let grants = Grants {
            profiles: vec!["default".into(), "gcs".into(), "ro".into()],
            write: vec![
                "postgres://default/ny_taxi".into(),
                "postgres://default/public.one".into(),
                "bigquery://gcs/".into(),
            ],
            ..Grants::default()
        };
        let a = Access::new("load", &grants, Path::new("/p"), Arc::from(vec![]));
        assert!(a.table("postgres", "default", "ny_taxi.trips").is_ok());
        assert!(a.table("postgres", "default", "public.one").is_ok());
        assert!(a.table("bigquery", "gcs", "any.table").is_ok());
        let e = a
            .table("postgres", "default", "public.two")
            .unwrap_err()
            .to_string();
        assert!(e.contains("write: [\"postgres://default/public\"]"), "{e}");
        assert_eq!(
            a.table("postgres", "ro", "x.y").unwrap_err().kind(),
            "denied"
        );
        assert_eq!(
            a.table("postgres", "nope", "x.y").unwrap_err().kind(),
            "denied"
        );
        assert!(a.whole_database("bigquery", "gcs"));
        assert!(!a.whole_database("postgres", "default"));
    }

    #[test]
    fn weft_s_own_files_are_out_of_every_grant() {
        let project = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(project.path().join(".weft/components")).unwrap();
        std::fs::write(project.path().join("io_config.yaml"), "default: {}").unwrap();
        std::fs::create_dir(project.path().join("data")).unwrap();
        std::os::unix::fs::symlink(
            project.path().join(".weft"),
            project.path().join("data/sneaky"),
        )
        .unwrap();
        let grants = Grants {
            urls: vec!["file://./".into(), "file:///".into()],
            write: vec!["file://./".into(), "file:///".into()],
            ..Grants::default()
        };
        let private: Arc<[PathBuf]> = private_paths(project.path()).into();
        let a = Access::new("load", &grants, project.path(), private);
        let at = |u: &str| Location::parse(u, project.path()).unwrap();
        assert!(a.location("read", &at("file://data/x.csv")).is_ok());
        for own in [
            "file://.weft/state.db",
            "file://.weft/components/x.cwasm",
            "file://io_config.yaml",
            "file://weft.toml",
            "file://data/sneaky/state.db",
            "file://data/../.weft/objects/runs/",
        ] {
            let e = a.location("write", &at(own)).unwrap_err();
            assert_eq!(e.kind(), "denied", "{own}");
            assert!(e.to_string().contains("weft's own"), "{own}: {e}");
        }
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
            write: vec!["file://data/".into()],
            ..Grants::default()
        };
        let a = Access::new("load", &grants, project.path(), Arc::from(vec![]));
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
