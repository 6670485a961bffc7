//! Google Cloud plumbing shared by GCS uploads and BigQuery: OAuth tokens from a service
//! account (through object_store's credential provider), none for emulators.

use crate::error::IoError;
use crate::profile::Profile;
use crate::rt;

/// An OAuth bearer token for the profile's service account, or `None` when the profile has no
/// key (an emulator such as fake-gcs-server or a BigQuery emulator).
///
/// # Errors
/// [`IoError::Invalid`] for an unusable key, [`IoError::External`] when Google refuses it.
pub(crate) fn token(p: &Profile) -> Result<Option<String>, IoError> {
    use object_store::gcp::GoogleCloudStorageBuilder;
    let mut b = GoogleCloudStorageBuilder::new().with_bucket_name("weft-token");
    if let Some(f) = p.get("GOOGLE_SERVICE_ACC_KEY_FILEPATH") {
        b = b.with_service_account_path(f);
    } else if let Some(k) = p.get("GOOGLE_SERVICE_ACC_KEY") {
        b = b.with_service_account_key(k);
    } else {
        return Ok(None);
    }
    let store = b.build().map_err(|e| {
        IoError::Invalid(format!(
            "io profile \"{}\": Google credentials: {e}",
            p.name
        ))
    })?;
    let cred = rt::run(async {
        store.credentials().get_credential().await.map_err(|e| {
            IoError::External(format!(
                "io profile \"{}\": cannot get a Google token: {e}",
                p.name
            ))
        })
    })?;
    Ok(Some(cred.bearer.clone()))
}

/// Upload `bytes` as `bucket/name` with the JSON API's simple upload (the XML API that
/// object_store writes with is not served by every GCS-compatible endpoint).
pub(crate) async fn upload(
    http: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    bucket: &str,
    name: &str,
    bytes: bytes::Bytes,
) -> Result<(), IoError> {
    let url = format!(
        "{}/upload/storage/v1/b/{bucket}/o",
        base.trim_end_matches('/')
    );
    let mut req = http
        .post(&url)
        .query(&[("uploadType", "media"), ("name", name)])
        .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
        .body(bytes);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.map_err(|e| {
        IoError::External(format!(
            "uploading gs://{bucket}/{name}: {}",
            crate::read::chain(&e)
        ))
    })?;
    if !resp.status().is_success() {
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        return Err(IoError::External(format!(
            "uploading gs://{bucket}/{name}: GCS answered {status}: {}",
            text.chars().take(300).collect::<String>()
        )));
    }
    Ok(())
}
