//! `weft add REF@REQ` and `weft update`: packages resolved in their registry, checked, shown,
//! pinned in weft.lock and cached. An update that asks for more grants stops until approved.

use weft_package::meta::{self, Contents};
use weft_package::reference::Requirement;
use weft_package::registry::{Fetched, Registry};
use weft_package::{Lock, Locked, PackageError, PackageRef};

use crate::error::CliError;
use crate::packages::{self, block_on};
use crate::project::Project;

/// Arguments of `weft add`.
#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// REGISTRY/NAMESPACE/NAME@REQUIREMENT (e.g. ghcr.io/acme/slack_alert@^1.2; `*` when
    /// left out).
    pub reference: String,
    /// Consider prerelease versions too.
    #[arg(long)]
    pub pre: bool,
}

/// Arguments of `weft update`.
#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// Only these packages (NAMESPACE/NAME; default: all in weft.lock).
    pub packages: Vec<String>,
    /// Accept versions that request more grants than the locked ones.
    #[arg(long)]
    pub approve: bool,
    /// Consider prerelease versions too.
    #[arg(long)]
    pub pre: bool,
}

/// The highest version `req` accepts, fetched and checked.
async fn resolve(
    registry: &Registry,
    req: &Requirement,
    pre: bool,
) -> Result<(semver::Version, Fetched, Contents), PackageError> {
    let package = &req.package;
    let tags = registry.tags(package).await?;
    let version = req
        .best(tags.iter().map(String::as_str), pre)
        .ok_or_else(|| {
            let mut versions: Vec<semver::Version> = tags
                .iter()
                .filter_map(|t| semver::Version::parse(t).ok())
                .collect();
            versions.sort();
            let list: Vec<String> = versions.iter().map(ToString::to_string).collect();
            PackageError::NotFound(format!(
                "no version of {package} matches `{}`; versions: {}",
                req.versions,
                if list.is_empty() {
                    "(none)".into()
                } else {
                    list.join(", ")
                }
            ))
        })?;
    let fetched = registry.fetch(package, &version.to_string()).await?;
    let contents = meta::read(&fetched.bytes)?;
    compatible(package, &version, &contents)?;
    Ok((version, fetched, contents))
}

/// The package must be built for this host's contract.
fn compatible(
    package: &PackageRef,
    version: &semver::Version,
    c: &Contents,
) -> Result<(), PackageError> {
    let host = semver::Version::parse(weft_package::WIT_VERSION).expect("a valid WIT version");
    match &c.meta {
        Some(m) if !meta::wit_compatible(&m.wit, &host) => Err(PackageError::Incompatible(format!(
            "{package} {version} was built for weft:block {}, which this weft (weft:block {host}) cannot run; look for a version built for weft:block {}.{}",
            m.wit, host.major, host.minor
        ))),
        _ => Ok(()),
    }
}

fn grants_of(c: &Contents) -> weft_pipeline::Grants {
    c.meta
        .as_ref()
        .map(|m| m.grants.clone())
        .unwrap_or_default()
}

fn entry(req: &Requirement, version: &semver::Version, f: &Fetched, c: &Contents) -> Locked {
    Locked {
        name: req.package.id(),
        registry: req.package.registry.clone(),
        requirement: req.versions.to_string(),
        version: version.to_string(),
        manifest: f.manifest.clone(),
        content: f.content.clone(),
        grants: weft_package::grants::digest(&grants_of(c)),
    }
}

fn show(package: &PackageRef, version: &semver::Version, f: &Fetched, c: &Contents) {
    match &c.meta {
        Some(m) => eprintln!(
            "{package} {version}: {} {} block, weft:block {}{}",
            m.language.as_str(),
            m.kind,
            m.wit,
            m.description
                .as_deref()
                .map(|d| format!(" — {}", weft_package::printable(d)))
                .unwrap_or_default()
        ),
        None => {
            eprintln!("{package} {version}: a component without weft metadata: it states no kind, no limits and no grants it needs");
            eprintln!("  manifest {}\n  content  {}", f.manifest, f.content);
            return;
        }
    }
    eprintln!("  manifest {}\n  content  {}", f.manifest, f.content);
    eprintln!("  it requests (only pipeline.yaml's `grants:` give them):");
    for line in weft_package::grants::describe(&grants_of(c)) {
        eprintln!("    {line}");
    }
}

/// Resolve, check, show, lock and cache one package.
pub fn add(project: &Project, args: AddArgs) -> Result<i32, CliError> {
    let req = Requirement::parse(&args.reference)?;
    let registry = Registry::new(&req.package);
    let (version, fetched, contents) = block_on(resolve(&registry, &req, args.pre))??;
    let lock_file = project.root.join("weft.lock");
    let mut lock = Lock::read(&lock_file)?;
    if let Some(old) = lock.get(&req.package.id()) {
        if old.registry != req.package.registry {
            return Err(CliError::Usage(format!(
                "weft.lock already pins {} from {}; remove that entry from weft.lock first to take it from {}",
                old.name, old.registry, req.package.registry
            )));
        }
        if old.version == version.to_string() {
            packages::pinned(old, &fetched.manifest, &fetched.content)?;
        }
    }
    show(&req.package, &version, &fetched, &contents);
    crate::packages::cache().put(&fetched.content, &fetched.bytes)?;
    lock.put(entry(&req, &version, &fetched, &contents));
    lock.write(&lock_file)?;
    eprintln!(
        "added to weft.lock; use it in a pipeline as `source: pkg:{}`",
        req.package.id()
    );
    Ok(0)
}

/// Move every locked package to the highest version its requirement accepts.
pub fn update(project: &Project, args: UpdateArgs) -> Result<i32, CliError> {
    let lock_file = project.root.join("weft.lock");
    let mut lock = Lock::read(&lock_file)?;
    let cache = crate::packages::cache();
    for wanted in &args.packages {
        if lock.get(wanted).is_none() {
            return Err(CliError::Usage(format!(
                "weft.lock has no package {wanted}"
            )));
        }
    }
    let mut changed = Vec::new();
    for old in lock.packages.clone() {
        if !args.packages.is_empty() && !args.packages.contains(&old.name) {
            continue;
        }
        let req = Requirement::parse(&format!(
            "{}/{}@{}",
            old.registry, old.name, old.requirement
        ))?;
        let registry = Registry::new(&req.package);
        let (version, fetched, contents) = block_on(resolve(&registry, &req, args.pre))??;
        if version.to_string() == old.version {
            packages::pinned(&old, &fetched.manifest, &fetched.content)?;
            eprintln!("{} {}: up to date", old.name, old.version);
            continue;
        }
        if semver::Version::parse(&old.version).is_ok_and(|locked| version < locked) {
            return Err(CliError::Usage(format!(
                "{}: the registry's best match for `{}` is {version}, older than the locked {}; weft does not move back (was a newer version removed?)",
                old.name, old.requirement, old.version
            )));
        }
        let before = match cache.get(&old.content)? {
            Some(bytes) => meta::read(&bytes)?,
            None => {
                let f = block_on(registry.fetch(&req.package, &format!("@{}", old.manifest)))??;
                packages::pinned(&old, &f.manifest, &f.content)?;
                meta::read(&f.bytes)?
            }
        };
        let widened = if before.meta.is_some() && contents.meta.is_none() {
            Some("its metadata is gone: what it needs is no longer stated".to_string())
        } else {
            weft_package::grants::widened(&grants_of(&before), &grants_of(&contents))
        };
        if let Some(grant) = widened {
            if !args.approve {
                return Err(PackageError::Widened {
                    package: old.name.clone(),
                    version: version.to_string(),
                    locked: old.version.clone(),
                    grant,
                }
                .into());
            }
        }
        show(&req.package, &version, &fetched, &contents);
        cache.put(&fetched.content, &fetched.bytes)?;
        changed.push((
            old.version.clone(),
            entry(&req, &version, &fetched, &contents),
        ));
    }
    for (from, e) in &changed {
        eprintln!("{}: {from} → {}", e.name, e.version);
        lock.put(e.clone());
    }
    if !changed.is_empty() {
        lock.write(&lock_file)?;
    }
    Ok(0)
}
