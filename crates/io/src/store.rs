//! Object stores (S3, GCS, the project's local folder) built from io profiles.

use std::sync::Arc;

use object_store::aws::AmazonS3Builder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::local::LocalFileSystem;
use object_store::ObjectStore;

use crate::context::IoContext;
use crate::error::IoError;
use crate::location::StoreKind;
use crate::profile::Profile;

/// The store holding `bucket`, configured from `profile` (required for S3 and GCS).
///
/// # Errors
/// [`IoError::Invalid`] when the profile lacks a needed key; [`IoError::External`] when
/// the client cannot be built.
pub(crate) fn open(
    ctx: &IoContext,
    kind: StoreKind,
    bucket: &str,
    profile: Option<&Profile>,
) -> Result<Arc<dyn ObjectStore>, IoError> {
    match kind {
        StoreKind::Local => {
            std::fs::create_dir_all(&ctx.local_store)
                .map_err(|e| IoError::External(format!("{}: {e}", ctx.local_store.display())))?;
            let fs = LocalFileSystem::new_with_prefix(&ctx.local_store)
                .map_err(|e| IoError::External(format!("{}: {e}", ctx.local_store.display())))?;
            Ok(Arc::new(fs.with_automatic_cleanup(true)))
        }
        StoreKind::S3 => {
            let p = profile.ok_or_else(|| no_profile("s3"))?;
            let mut b = AmazonS3Builder::new()
                .with_bucket_name(bucket)
                .with_region(p.get("AWS_REGION").unwrap_or_else(|| "us-east-1".into()));
            if let Some(k) = p.get("AWS_ACCESS_KEY_ID") {
                b = b.with_access_key_id(k);
            }
            if let Some(k) = p.get("AWS_SECRET_ACCESS_KEY") {
                b = b.with_secret_access_key(k);
            }
            if let Some(t) = p.get("AWS_SESSION_TOKEN") {
                b = b.with_token(t);
            }
            if let Some(e) = p.get("AWS_ENDPOINT") {
                b = b
                    .with_allow_http(e.starts_with("http://"))
                    .with_endpoint(e)
                    .with_virtual_hosted_style_request(false);
            }
            if !p.has("AWS_ACCESS_KEY_ID") {
                b = b.with_skip_signature(true);
            }
            b.build()
                .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
                .map_err(|e| IoError::Invalid(format!("io profile \"{}\": S3: {e}", p.name)))
        }
        StoreKind::Gcs => {
            let p = profile.ok_or_else(|| no_profile("gs"))?;
            let mut b = GoogleCloudStorageBuilder::new().with_bucket_name(bucket);
            let mut keyed = false;
            if let Some(path) = p.get("GOOGLE_SERVICE_ACC_KEY_FILEPATH") {
                b = b.with_service_account_path(path);
                keyed = true;
            } else if let Some(key) = p.get("GOOGLE_SERVICE_ACC_KEY") {
                b = b.with_service_account_key(key);
                keyed = true;
            }
            if let Some(endpoint) = p.get("GCS_ENDPOINT") {
                b = b.with_base_url(endpoint.trim_end_matches('/'));
                if !keyed {
                    b = b.with_skip_signature(true);
                }
            } else if !keyed {
                return Err(IoError::Invalid(format!(
                    "io profile \"{}\" does not configure GCS: set GOOGLE_SERVICE_ACC_KEY_FILEPATH (or GOOGLE_SERVICE_ACC_KEY, or GCS_ENDPOINT for an emulator)",
                    p.name
                )));
            }
            b.build()
                .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
                .map_err(|e| IoError::Invalid(format!("io profile \"{}\": GCS: {e}", p.name)))
        }
    }
}

fn no_profile(scheme: &str) -> IoError {
    IoError::Invalid(format!(
        "{scheme}:// needs an io profile with its credentials: pass `profile` in the options"
    ))
}
