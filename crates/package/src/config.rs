//! A package's `config_schema` (JSON Schema) and the `config:` a pipeline gives its block.

/// Check that `schema` is a JSON Schema weft can use (no remote `$ref`s: nothing is fetched).
///
/// # Errors
/// What is wrong with it.
pub fn check_schema(schema: &serde_json::Value) -> Result<(), String> {
    jsonschema::validator_for(schema)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Every way `config` breaks `schema`, as `path: message` (the root is `config`); empty when
/// it fits. An unusable schema is one problem.
pub fn problems(schema: &serde_json::Value, config: &serde_json::Value) -> Vec<String> {
    let validator = match jsonschema::validator_for(schema) {
        Ok(v) => v,
        Err(e) => return vec![format!("the package's config_schema is unusable: {e}")],
    };
    validator
        .iter_errors(config)
        .map(|e| {
            let at = e.instance_path().to_string();
            let path = format!("config{}", at.replace('/', "."));
            format!("{path}: {e}")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn configs_are_checked_against_the_schema_naming_the_field() {
        let schema = json!({
            "type": "object",
            "properties": {"skip": {"type": "array", "items": {"type": "string"}}},
            "required": ["skip"],
            "additionalProperties": false
        });
        assert!(problems(&schema, &json!({"skip": ["a"]})).is_empty());
        let p = problems(&schema, &json!({"skip": [1], "extra": true}));
        assert!(
            p.iter()
                .any(|m| m.starts_with("config.skip.0: 1 is not of type")),
            "{p:?}"
        );
        assert!(p.iter().any(|m| m.contains("extra")), "{p:?}");
        let p = problems(&schema, &json!({}));
        assert!(
            p.iter()
                .any(|m| m.contains("\"skip\" is a required property")),
            "{p:?}"
        );
        assert!(check_schema(&json!({"type": 12})).is_err());
        assert!(check_schema(&json!({})).is_ok());
    }
}
