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

/// A query string read into `T`, refused as a JSON 400 naming the parameter (axum's own
/// extractor answers plain text).
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequestParts<S>
    for Query<T>
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e| ApiError::BadRequest(e.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bodies_name_what_is_wrong() {
        assert!(variables_from(b"  \n").unwrap().is_empty());
        let v = variables_from(br#"{"day": "2021-01-01", "n": 4, "x": null}"#).unwrap();
        assert_eq!(v["day"], "2021-01-01");
        assert_eq!(v["n"], "4");
        assert!(!v.contains_key("x"));
        for (body, says) in [
            (&b"[1]"[..], "JSON object"),
            (b"{", "not valid JSON"),
            (b"day=2021", "not valid JSON"),
        ] {
            let e = variables_from(body).unwrap_err().to_string();
            assert!(e.contains(says), "{e}");
        }
    }

    proptest! {
        /// Whatever a caller sends, the body is variables or a 400, never a panic.
        #[test]
        fn any_body_is_variables_or_a_bad_request(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            if let Err(e) = variables_from(&bytes) {
                prop_assert!(matches!(e, ApiError::BadRequest(_)));
            }
        }

        #[test]
        fn json_objects_become_one_variable_per_non_null_field(
            map in proptest::collection::btree_map("[a-z_]{1,8}", prop_oneof![
                Just(Value::Null),
                any::<i64>().prop_map(Value::from),
                "[ -~]{0,12}".prop_map(Value::from),
                any::<bool>().prop_map(Value::from),
            ], 0..8)
        ) {
            let body = serde_json::to_vec(&map).unwrap();
            let vars = variables_from(&body).unwrap();
            prop_assert_eq!(vars.len(), map.values().filter(|v| !v.is_null()).count());
        }
    }
}
