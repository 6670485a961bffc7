//! Request bodies: JSON objects as run variables.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::ApiError;

/// A JSON object body as run variables (strings as they are, other values as JSON text);
/// an empty body is no variables.
///
/// # Errors
/// [`ApiError::BadRequest`] naming what is wrong with the body.
pub fn variables_from(bytes: &[u8]) -> Result<BTreeMap<String, String>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(BTreeMap::new());
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::BadRequest(format!("the body is not valid JSON: {e}")))?;
    let Value::Object(map) = value else {
        return Err(ApiError::BadRequest(
            "the body must be a JSON object of run variables, e.g. {\"day\": \"2021-01-01\"}"
                .into(),
        ));
    };
    Ok(map
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| match v {
            Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect())
}
