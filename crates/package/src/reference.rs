//! Package references as users write them: `REGISTRY/NAMESPACE/NAME:VERSION` to publish,
//! `REGISTRY/NAMESPACE/NAME@REQ` to add, and `pkg:NAMESPACE/NAME` in pipeline.yaml.

use std::fmt;

use crate::error::PackageError;

/// A package in a registry: `registry/namespace/name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PackageRef {
    /// `host[:port]`.
    pub registry: String,
    /// The first path segment.
    pub namespace: String,
    /// The last path segment.
    pub name: String,
}

/// A package and the versions a project accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct Requirement {
    /// Which package.
    pub package: PackageRef,
    /// Which versions (`*` when none was written).
    pub versions: semver::VersionReq,
}

impl PackageRef {
    /// Parse `registry/namespace/name`.
    ///
    /// # Errors
    /// [`PackageError::Invalid`] naming what is wrong.
    pub fn parse(s: &str) -> Result<PackageRef, PackageError> {
        let bad = |why: &str| {
            PackageError::Invalid(format!(
                "`{s}` is not a package reference: {why} (write REGISTRY/NAMESPACE/NAME, e.g. ghcr.io/acme/slack_alert)"
            ))
        };
        let parts: Vec<&str> = s.split('/').collect();
        let [registry, namespace, name] = parts[..] else {
            return Err(bad("it needs exactly three parts"));
        };
        if !is_registry(registry) {
            return Err(bad("the registry is not HOST[:PORT]"));
        }
        for (what, part) in [("namespace", namespace), ("name", name)] {
            if !is_component(part) {
                return Err(bad(&format!(
                    "the {what} `{part}` may hold only lowercase letters, digits and single . _ - between them"
                )));
            }
        }
        Ok(PackageRef {
            registry: registry.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        })
    }

    /// `namespace/name`, how pipeline.yaml names it (`pkg:namespace/name`).
    pub fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// True when the registry is on this machine (`localhost`, a 127.x address or `[::1]`),
    /// the only place plain HTTP is used.
    pub fn is_loopback(&self) -> bool {
        let host = match self.registry.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|c| c.is_ascii_digit()) => h,
            _ => self.registry.as_str(),
        };
        if host == "localhost" {
            return true;
        }
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        bare.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
    }

    /// The OCI reference of `tag` (a version) or `@sha256:...` (a manifest digest).
    pub fn oci(&self, tag_or_digest: &str) -> oci_client::Reference {
        let repo = format!("{}/{}", self.namespace, self.name);
        match tag_or_digest.strip_prefix('@') {
            Some(digest) => {
                oci_client::Reference::with_digest(self.registry.clone(), repo, digest.into())
            }
            None => {
                oci_client::Reference::with_tag(self.registry.clone(), repo, tag_or_digest.into())
            }
        }
    }
}

impl fmt::Display for PackageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.registry, self.namespace, self.name)
    }
}

use weft_pipeline::is_package_part as is_component;

/// `host[:port]`: a DNS name or IPv4 address, or `[IPv6]`, and an optional port.
fn is_registry(s: &str) -> bool {
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(':') && !p.contains(']') => (h, Some(p)),
        _ => (s, None),
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.parse::<u16>().is_ok());
    let host_ok = if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        v6.parse::<std::net::Ipv6Addr>().is_ok()
    } else {
        !host.is_empty()
            && host.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
    };
    port_ok && host_ok
}

/// Parse `registry/namespace/name:VERSION` (a semver version, nothing else).
///
/// # Errors
/// [`PackageError::Invalid`] for a malformed reference or a tag that is not semver.
pub fn parse_versioned(s: &str) -> Result<(PackageRef, semver::Version), PackageError> {
    let Some((path, tag)) = s.rsplit_once(':').filter(|(p, _)| p.contains('/')) else {
        return Err(PackageError::Invalid(format!(
            "`{s}` names no version: write REGISTRY/NAMESPACE/NAME:VERSION, e.g. ghcr.io/acme/slack_alert:1.0.0"
        )));
    };
    let version = semver::Version::parse(tag).map_err(|e| {
        PackageError::Invalid(format!(
            "`{tag}` is not a semver version ({e}): packages are published as MAJOR.MINOR.PATCH"
        ))
    })?;
    Ok((PackageRef::parse(path)?, version))
}

impl Requirement {
    /// Parse `registry/namespace/name[@REQ]`.
    ///
    /// # Errors
    /// [`PackageError::Invalid`] for a malformed reference or requirement.
    pub fn parse(s: &str) -> Result<Requirement, PackageError> {
        let (path, req) = s.split_once('@').unwrap_or((s, "*"));
        let versions = semver::VersionReq::parse(req).map_err(|e| {
            PackageError::Invalid(format!(
                "`{req}` is not a version requirement ({e}): write e.g. ^1.2, ~1.2.3, >=1, 1.2.3 or *"
            ))
        })?;
        Ok(Requirement {
            package: PackageRef::parse(path)?,
            versions,
        })
    }

    /// The highest of `tags` this requirement accepts: tags that are not semver (`latest`,
    /// signatures) are ignored, prereleases only with `pre` or when the requirement names one.
    pub fn best<'a>(
        &self,
        tags: impl IntoIterator<Item = &'a str>,
        pre: bool,
    ) -> Option<semver::Version> {
        tags.into_iter()
            .filter_map(|t| semver::Version::parse(t).ok())
            .filter(|v| {
                if v.pre.is_empty() || !pre {
                    self.versions.matches(v)
                } else {
                    let mut release = v.clone();
                    release.pre = semver::Prerelease::EMPTY;
                    // A prerelease of a version a comparator starts at is below it.
                    let below = self.versions.comparators.iter().any(|c| {
                        use semver::Op::*;
                        matches!(c.op, Exact | GreaterEq | Caret | Tilde | Wildcard)
                            && c.pre.is_empty()
                            && (c.major, c.minor.unwrap_or(0), c.patch.unwrap_or(0))
                                == (v.major, v.minor, v.patch)
                    });
                    self.versions.matches(v) || (!below && self.versions.matches(&release))
                }
            })
            .max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_or_say_why_not() {
        let r = PackageRef::parse("127.0.0.1:5000/acme/slack_alert").unwrap();
        assert_eq!(r.id(), "acme/slack_alert");
        assert!(r.is_loopback());
        assert!(!PackageRef::parse("ghcr.io/acme/x").unwrap().is_loopback());
        for (registry, loopback) in [
            ("localhost:5000", true),
            ("127.0.0.2", true),
            ("[::1]:5000", true),
            ("127.evil.com:5000", false),
            ("127.0.0.1.nip.io", false),
            ("localhost.evil", false),
        ] {
            let r = PackageRef::parse(&format!("{registry}/a/b")).unwrap();
            assert_eq!(r.is_loopback(), loopback, "{registry}");
        }
        for (bad, why) in [
            ("ghcr.io/acme", "exactly three parts"),
            ("ghcr.io/Acme/x", "namespace `Acme`"),
            ("ghcr.io/acme/x__", "name `x__`"),
            ("ghcr.io/acme/-x", "name `-x`"),
            ("/acme/x", "registry"),
            ("evil.io?x/acme/x", "registry"),
            ("evil.io#/acme/x", "registry"),
            ("evil.io:99999/acme/x", "registry"),
        ] {
            let e = PackageRef::parse(bad).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn only_semver_tags_publish() {
        let (r, v) = parse_versioned("localhost:5000/acme/x:1.2.3").unwrap();
        assert_eq!(
            (r.registry.as_str(), v.to_string()),
            ("localhost:5000", "1.2.3".into())
        );
        for bad in [
            "localhost:5000/acme/x",
            "localhost:5000/acme/x:latest",
            "localhost:5000/acme/x:1.2",
        ] {
            assert!(parse_versioned(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_highest_matching_version_wins() {
        let tags = [
            "0.9.0",
            "1.0.0",
            "1.2.0",
            "1.3.0-rc.1",
            "2.0.0",
            "latest",
            "sha256-ab.sig",
        ];
        let cases = [
            ("r/a/b@^1", false, Some("1.2.0")),
            ("r/a/b@^1", true, Some("1.3.0-rc.1")),
            ("r/a/b@~1.0", false, Some("1.0.0")),
            ("r/a/b", false, Some("2.0.0")),
            ("r/a/b@>=1.3.0-rc.1, <2", false, Some("1.3.0-rc.1")),
            ("r/a/b@^3", false, None),
            ("r/a/b@>=1.3.0", true, Some("2.0.0")),
            ("r/a/b@=1.3.0", true, None),
            ("r/a/b@~1.3", true, None),
            ("r/a/b@^1.2", true, Some("1.3.0-rc.1")),
        ];
        for (req, pre, want) in cases {
            let got = Requirement::parse(req).unwrap().best(tags, pre);
            assert_eq!(
                got.map(|v| v.to_string()).as_deref(),
                want,
                "{req} pre={pre}"
            );
        }
    }
}
