//! Packages in an OCI registry, in the Wasm OCI artifact layout wkg and Spin read: a config
//! blob of type `application/vnd.wasm.config.v0+json`, one `application/wasm` layer (the
//! component, metadata inside), and weft's summary in the manifest's annotations.
//!
//! Every manifest and blob that comes back is checked against its digest, and a component is
//! at most [`MAX_COMPONENT`] bytes. Plain HTTP is used only for a registry on this machine;
//! credentials come from `WEFT_REGISTRY_USERNAME` and `WEFT_REGISTRY_PASSWORD` for the one
//! registry `WEFT_REGISTRY_HOST` names, else from the docker config file
//! (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`, per registry), else none.

use std::collections::BTreeMap;

use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::errors::OciDistributionError;
use oci_client::manifest::{OciImageManifest, OCI_IMAGE_MEDIA_TYPE};
use oci_client::secrets::RegistryAuth;
use oci_client::Client;

use crate::error::PackageError;
use crate::meta::Meta;
use crate::reference::PackageRef;

/// The config blob's media type (the CNCF Wasm OCI artifact layout).
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
/// The component layer's media type.
pub const LAYER_MEDIA_TYPE: &str = "application/wasm";
/// Prefix of weft's own manifest annotations.
pub const ANNOTATION: &str = "dev.weft.package";
/// Largest component weft downloads.
pub const MAX_COMPONENT: u64 = 512 << 20;

/// A registry, with the credentials found for it.
pub struct Registry {
    client: Client,
    auth: RegistryAuth,
    host: String,
}

/// A package as the registry holds it.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// Digest of the manifest.
    pub manifest: String,
    /// Digest of the component.
    pub content: String,
    /// The component.
    pub bytes: Vec<u8>,
}

/// What a publish pushed.
#[derive(Debug, Clone)]
pub struct Published {
    /// Digest of the manifest.
    pub manifest: String,
    /// Digest of the component.
    pub content: String,
}

impl Registry {
    /// A client for `package`'s registry.
    pub fn new(package: &PackageRef) -> Registry {
        let protocol = if package.is_loopback() {
            ClientProtocol::HttpsExcept(vec![package.registry.clone()])
        } else {
            ClientProtocol::Https
        };
        Registry {
            client: Client::new(ClientConfig {
                protocol,
                use_monolithic_push: true,
                connect_timeout: Some(std::time::Duration::from_secs(10)),
                read_timeout: Some(std::time::Duration::from_secs(60)),
                ..ClientConfig::default()
            }),
            auth: credentials(&package.registry),
            host: package.registry.clone(),
        }
    }

    fn fail(&self, e: OciDistributionError) -> PackageError {
        let reason = match &e {
            OciDistributionError::UnauthorizedError { .. } => unauthorized(&self.auth),
            OciDistributionError::ServerError { code: 401, .. } => unauthorized(&self.auth),
            OciDistributionError::RegistryError { envelope, .. }
                if envelope.errors.iter().any(|x| {
                    matches!(
                        x.code,
                        oci_client::errors::OciErrorCode::Unauthorized
                            | oci_client::errors::OciErrorCode::Denied
                    )
                }) =>
            {
                unauthorized(&self.auth)
            }
            OciDistributionError::AuthenticationFailure(m) => {
                format!("{} ({m})", unauthorized(&self.auth))
            }
            OciDistributionError::RequestError(r) if r.is_connect() || r.is_timeout() => {
                format!("cannot reach it: {}", chain(&e))
            }
            _ => chain(&e),
        };
        PackageError::Registry {
            registry: self.host.clone(),
            reason,
        }
    }

    /// Every tag of `package`.
    ///
    /// # Errors
    /// [`PackageError::Registry`]; [`PackageError::NotFound`] when the registry has no such
    /// package.
    pub async fn tags(&self, package: &PackageRef) -> Result<Vec<String>, PackageError> {
        match self
            .client
            .list_tags(&package.oci("latest"), &self.auth, None, None)
            .await
        {
            Ok(t) => Ok(t.tags),
            Err(e) if is_missing(&e) => Err(PackageError::NotFound(format!(
                "{package}: no such package in the registry"
            ))),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// The manifest digest `tag` points at, if it exists.
    ///
    /// # Errors
    /// [`PackageError::Registry`].
    pub async fn digest_of(
        &self,
        package: &PackageRef,
        tag: &str,
    ) -> Result<Option<String>, PackageError> {
        match self
            .client
            .fetch_manifest_digest(&package.oci(tag), &self.auth)
            .await
        {
            Ok(d) => Ok(Some(d)),
            Err(e) if is_missing(&e) => Ok(None),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Push `component` (metadata embedded, described by `meta`) as `package:version`;
    /// refuses an existing version unless `overwrite`.
    ///
    /// # Errors
    /// [`PackageError::Exists`], [`PackageError::Registry`].
    pub async fn publish(
        &self,
        package: &PackageRef,
        meta: &Meta,
        component: Vec<u8>,
        overwrite: bool,
    ) -> Result<Published, PackageError> {
        let tag = meta.version.to_string();
        if let Some(old) = self.digest_of(package, &tag).await? {
            if !overwrite {
                return Err(PackageError::Exists(format!(
                    "{package}:{tag} exists already (manifest {old}); publish a new version, or pass --overwrite to replace it"
                )));
            }
        }
        let contents = crate::meta::read(&component)?;
        let content = crate::digest(&component);
        let config = Config::new(
            config_blob(&content, &contents)?,
            CONFIG_MEDIA_TYPE.into(),
            None,
        );
        let title = BTreeMap::from([(
            "org.opencontainers.image.title".to_string(),
            format!("{}.wasm", meta.name),
        )]);
        let layer = ImageLayer::new(component, LAYER_MEDIA_TYPE.into(), Some(title));
        let mut manifest = OciImageManifest::build(
            std::slice::from_ref(&layer),
            &config,
            Some(annotations(meta)),
        );
        manifest.media_type = Some(OCI_IMAGE_MEDIA_TYPE.into());
        let body =
            serde_json::to_vec(&manifest).map_err(|e| PackageError::Invalid(e.to_string()))?;
        let reference = package.oci(&tag);
        self.client
            .store_auth_if_needed(&self.host, &self.auth)
            .await;
        for (data, digest) in [
            (&config.data, &manifest.config.digest),
            (&layer.data, &content),
        ] {
            self.client
                .push_blob(&reference, data, digest)
                .await
                .map_err(|e| self.fail(e))?;
        }
        let content_type = OCI_IMAGE_MEDIA_TYPE
            .parse()
            .map_err(|_| PackageError::Invalid("media type".into()))?;
        let digest = crate::digest(&body);
        self.client
            .push_manifest_raw(&reference, body, content_type)
            .await
            .map_err(|e| self.fail(e))?;
        Ok(Published {
            manifest: digest,
            content,
        })
    }

    /// The package at `at` (a version tag, or `@sha256:...` for a manifest digest), its
    /// manifest and component checked against their digests.
    ///
    /// # Errors
    /// [`PackageError::NotFound`], [`PackageError::Incompatible`] for an artifact that is not
    /// a Wasm component, [`PackageError::Digest`], [`PackageError::Registry`].
    pub async fn fetch(&self, package: &PackageRef, at: &str) -> Result<Fetched, PackageError> {
        let reference = package.oci(at);
        let (body, said) = match self
            .client
            .pull_manifest_raw(&reference, &self.auth, &[OCI_IMAGE_MEDIA_TYPE])
            .await
        {
            Ok(m) => m,
            Err(e) if is_missing(&e) => {
                return Err(PackageError::NotFound(format!(
                    "{package}: no version {}",
                    at.trim_start_matches('@')
                )))
            }
            Err(e) => return Err(self.fail(e)),
        };
        let manifest = crate::digest(&body);
        if manifest != said {
            return Err(PackageError::Digest {
                what: format!("manifest of {package} {at}"),
                expected: said,
                actual: manifest,
            });
        }
        let parsed: OciImageManifest = serde_json::from_slice(&body).map_err(|e| {
            PackageError::Incompatible(format!("{package} {at}: not an OCI image manifest: {e}"))
        })?;
        let layer = wasm_layer(package, at, &parsed)?;
        let size = u64::try_from(layer.size).unwrap_or(u64::MAX);
        if size > MAX_COMPONENT {
            return Err(PackageError::Incompatible(format!(
                "{package} {at}: its component is {size} bytes; weft takes at most {} MiB",
                MAX_COMPONENT >> 20
            )));
        }
        let mut sink = Bounded {
            bytes: Vec::with_capacity(size as usize),
            max: size as usize,
        };
        self.client
            .pull_blob(&reference, layer.digest.as_str(), &mut sink)
            .await
            .map_err(|e| self.fail(e))?;
        let bytes = sink.bytes;
        if bytes.len() as u64 != size {
            return Err(PackageError::Registry {
                registry: self.host.clone(),
                reason: format!(
                    "{package} {at}: the manifest says {size} bytes, {} arrived",
                    bytes.len()
                ),
            });
        }
        let content = crate::digest(&bytes);
        if content != layer.digest {
            return Err(PackageError::Digest {
                what: format!("component of {package} {at}"),
                expected: layer.digest.clone(),
                actual: content,
            });
        }
        Ok(Fetched {
            manifest,
            content,
            bytes,
        })
    }
}

/// The one `application/wasm` layer of a Wasm artifact manifest.
fn wasm_layer<'a>(
    package: &PackageRef,
    at: &str,
    m: &'a OciImageManifest,
) -> Result<&'a oci_client::manifest::OciDescriptor, PackageError> {
    if m.config.media_type != CONFIG_MEDIA_TYPE {
        return Err(PackageError::Incompatible(format!(
            "{package} {at} is not a Wasm component artifact: its config is `{}`, not `{CONFIG_MEDIA_TYPE}`",
            m.config.media_type
        )));
    }
    match &m.layers[..] {
        [layer] if layer.media_type == LAYER_MEDIA_TYPE => Ok(layer),
        layers => Err(PackageError::Incompatible(format!(
            "{package} {at} is not a Wasm component artifact: it has {} layer(s) ({}) instead of one `{LAYER_MEDIA_TYPE}`",
            layers.len(),
            layers.iter().map(|l| l.media_type.as_str()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// The Wasm OCI artifact config: what the component imports and exports.
fn config_blob(content: &str, c: &crate::meta::Contents) -> Result<Vec<u8>, PackageError> {
    let created = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let config = serde_json::json!({
        "created": created,
        "author": null,
        "architecture": "wasm",
        "os": "wasip2",
        "layerDigests": [content],
        "component": {"exports": c.exports, "imports": c.imports, "target": null},
    });
    serde_json::to_vec(&config).map_err(|e| PackageError::Invalid(e.to_string()))
}

/// The manifest annotations: the OCI standard ones and weft's summary.
fn annotations(meta: &Meta) -> BTreeMap<String, String> {
    let mut a = BTreeMap::new();
    let oci = |k: &str| format!("org.opencontainers.image.{k}");
    a.insert(oci("title"), meta.name.clone());
    a.insert(oci("version"), meta.version.to_string());
    for (k, v) in [
        ("description", &meta.description),
        ("licenses", &meta.license),
        ("source", &meta.source),
    ] {
        if let Some(v) = v {
            a.insert(oci(k), v.clone());
        }
    }
    let weft = |k: &str| format!("{ANNOTATION}.{k}");
    a.insert(weft("kind"), meta.kind.to_string());
    a.insert(weft("language"), meta.language.as_str().into());
    a.insert(weft("wit"), meta.wit.to_string());
    a.insert(
        weft("grants"),
        serde_json::to_string(&meta.grants).unwrap_or_default(),
    );
    a.insert(weft("grants-digest"), crate::grants::digest(&meta.grants));
    a
}

/// Credentials for `registry`: the environment's (for the registry `WEFT_REGISTRY_HOST`
/// names, never another), else the docker config file's for it, else none.
fn credentials(registry: &str) -> RegistryAuth {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let (Some(host), Some(user), Some(password)) = (
        env("WEFT_REGISTRY_HOST"),
        env("WEFT_REGISTRY_USERNAME"),
        env("WEFT_REGISTRY_PASSWORD"),
    ) {
        if host == registry {
            return RegistryAuth::Basic(user, password);
        }
    }
    match docker_credential::get_credential(registry) {
        Ok(docker_credential::DockerCredential::UsernamePassword(u, p)) => {
            RegistryAuth::Basic(u, p)
        }
        // An identity token is an OAuth refresh token, not a bearer token: not supported.
        Ok(docker_credential::DockerCredential::IdentityToken(_)) | Err(_) => {
            RegistryAuth::Anonymous
        }
    }
}

/// A download held in memory, refused once it grows past what the manifest announced.
struct Bounded {
    bytes: Vec<u8>,
    max: usize,
}

impl tokio::io::AsyncWrite for Bounded {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        if self.bytes.len() + buf.len() > self.max {
            return std::task::Poll::Ready(Err(std::io::Error::other(format!(
                "the blob is longer than the {} bytes its manifest announced",
                self.max
            ))));
        }
        self.bytes.extend_from_slice(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

fn unauthorized(auth: &RegistryAuth) -> String {
    match auth {
        RegistryAuth::Anonymous => "401 Unauthorized: it wants credentials; log in with `docker login`, or set WEFT_REGISTRY_HOST, WEFT_REGISTRY_USERNAME and WEFT_REGISTRY_PASSWORD".into(),
        _ => "401 Unauthorized: it refused the credentials given".into(),
    }
}

/// A registry answer meaning "no such manifest, tag or repository".
fn is_missing(e: &OciDistributionError) -> bool {
    use oci_client::errors::OciErrorCode as C;
    match e {
        OciDistributionError::ImageManifestNotFoundError(_) => true,
        OciDistributionError::ServerError { code: 404, .. } => true,
        OciDistributionError::RegistryError { envelope, .. } => envelope.errors.iter().any(|x| {
            matches!(
                x.code,
                C::ManifestUnknown | C::NameUnknown | C::BlobUnknown | C::NotFound
            )
        }),
        _ => false,
    }
}

/// `e` and its sources, joined, control characters escaped (a registry writes some of it).
fn chain(e: &dyn std::error::Error) -> String {
    crate::printable(&chain_raw(e))
}

fn chain_raw(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !out.contains(&s_text) {
            out.push_str(": ");
            out.push_str(&s_text);
        }
        source = s.source();
    }
    out
}
