//! `io_config.yaml`: named connection profiles in Mage's format, with
//! `{{ env_var('NAME') }}` interpolation, and the secrets they hold.
//!
//! ```yaml
//! version: 0.1.1
//! default:
//!   POSTGRES_HOST: "{{ env_var('POSTGRES_HOST') }}"
//!   POSTGRES_PASSWORD: "{{ env_var('POSTGRES_PASSWORD') }}"
//! gcs:
//!   GOOGLE_SERVICE_ACC_KEY_FILEPATH: /secrets/key.json
//!   GCS_BUCKET: my-bucket
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde_yaml::Value;

use crate::error::IoError;
use crate::redact::Redactor;

/// One profile: upper-case keys (`POSTGRES_HOST`, `AWS_REGION`...) and their values after
/// interpolation.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    /// The profile's name.
    pub name: String,
    values: BTreeMap<String, Value>,
}

impl Profile {
    /// A profile from key/value pairs (tests and programmatic use).
    pub fn from_pairs<'a>(name: &str, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Profile {
            name: name.to_string(),
            values: pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                .collect(),
        }
    }

    /// The value of `key` as text; `None` when absent or empty.
    pub fn get(&self, key: &str) -> Option<String> {
        match self.values.get(key)? {
            Value::String(s) if s.trim().is_empty() => None,
            Value::String(s) => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Null => None,
            other => serde_json::to_string(other).ok(),
        }
    }

    /// The value of `key` or an error naming the profile and key.
    ///
    /// # Errors
    /// [`IoError::Invalid`] when the key is absent or empty.
    pub fn require(&self, key: &str, service: &str) -> Result<String, IoError> {
        self.get(key).ok_or_else(|| {
            IoError::Invalid(format!(
                "io profile \"{}\" does not configure {service}: `{key}` is not set in io_config.yaml (or the environment variable it reads is empty)",
                self.name
            ))
        })
    }

    /// True when `key` is set to a non-empty value.
    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
}

/// Profile settings that are not secrets: where a service is and what to use there. Every
/// other key of a profile is a secret (fail closed): never handed to a block, masked in every
/// message.
pub const PLAIN_SETTINGS: &[&str] = &[
    "POSTGRES_HOST",
    "POSTGRES_PORT",
    "POSTGRES_DBNAME",
    "POSTGRES_USER",
    "POSTGRES_SCHEMA",
    "POSTGRES_SSLMODE",
    "POSTGRES_CONNECT_TIMEOUT",
    "POSTGRES_CONNECTION_METHOD",
    "GCS_BUCKET",
    "GCS_ENDPOINT",
    "BIGQUERY_PROJECT",
    "BIGQUERY_DATASET",
    "BIGQUERY_LOCATION",
    "BIGQUERY_ENDPOINT",
    "GOOGLE_PROJECT_ID",
    "GOOGLE_LOCATION",
    "AWS_REGION",
    "AWS_ENDPOINT",
    "S3_BUCKET",
    "HTTP_BASE_URL",
];

/// Whether a profile key holds a secret: every key that is not a known plain setting.
pub fn is_secret_key(key: &str) -> bool {
    !PLAIN_SETTINGS.contains(&key.to_ascii_uppercase().as_str())
}

/// Every profile of a project.
#[derive(Debug, Clone, Default)]
pub struct Profiles {
    profiles: BTreeMap<String, Profile>,
    file: String,
}

impl Profiles {
    /// No profiles (a project without io_config.yaml).
    pub fn empty() -> Self {
        Profiles {
            profiles: BTreeMap::new(),
            file: "io_config.yaml".into(),
        }
    }

    /// Read `file` (shown to users as `shown`); a missing file means no profiles.
    ///
    /// # Errors
    /// [`IoError::Config`] naming the file, profile and key when it is not valid.
    pub fn load(file: &Path, shown: &str) -> Result<Profiles, IoError> {
        match std::fs::read_to_string(file) {
            Ok(text) => Profiles::parse(&text, shown, &|name| std::env::var(name).ok()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Profiles {
                file: shown.to_string(),
                ..Profiles::empty()
            }),
            Err(e) => Err(IoError::Config {
                file: shown.to_string(),
                reason: format!("cannot read: {e}"),
            }),
        }
    }

    /// Parse io_config.yaml text; `env` answers `env_var(...)` lookups.
    ///
    /// # Errors
    /// [`IoError::Config`] when the YAML or a template in it is not valid.
    pub fn parse(
        text: &str,
        shown: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Profiles, IoError> {
        let config = |reason: String| IoError::Config {
            file: shown.to_string(),
            reason,
        };
        let top: Value = serde_yaml::from_str(text).map_err(|e| config(e.to_string()))?;
        let Value::Mapping(top) = top else {
            return Err(config(
                "the top level must be a mapping of profile names to settings".into(),
            ));
        };
        let mut profiles = BTreeMap::new();
        for (name, body) in top {
            let Some(name) = name.as_str().map(str::to_string) else {
                return Err(config(format!("profile name {name:?} is not a string")));
            };
            if name == "version" {
                continue;
            }
            let Value::Mapping(body) = body else {
                return Err(config(format!(
                    "profile \"{name}\" must be a mapping of KEY: value"
                )));
            };
            let mut values = BTreeMap::new();
            for (key, value) in body {
                let Some(key) = key.as_str().map(str::to_string) else {
                    return Err(config(format!(
                        "profile \"{name}\": key {key:?} is not a string"
                    )));
                };
                let value = interpolate(value, env)
                    .map_err(|e| config(format!("profile \"{name}\": `{key}`: {e}")))?;
                values.insert(key, value);
            }
            profiles.insert(name.clone(), Profile { name, values });
        }
        Ok(Profiles {
            profiles,
            file: shown.to_string(),
        })
    }

    /// Add or replace a profile.
    pub fn insert(&mut self, profile: Profile) {
        self.profiles.insert(profile.name.clone(), profile);
    }

    /// The profile called `name`.
    ///
    /// # Errors
    /// [`IoError::Invalid`] listing the profiles there are.
    pub fn get(&self, name: &str) -> Result<&Profile, IoError> {
        self.profiles.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.profiles.keys().map(String::as_str).collect();
            IoError::Invalid(format!(
                "{} has no profile \"{name}\"; profiles: {}",
                self.file,
                if known.is_empty() {
                    "(none)".to_string()
                } else {
                    known.join(", ")
                }
            ))
        })
    }

    /// Profile names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.profiles.keys().map(String::as_str).collect()
    }

    /// Files the profiles name (key files, certificates): out of every block's grants.
    pub fn file_paths(&self) -> Vec<std::path::PathBuf> {
        self.profiles
            .values()
            .flat_map(|p| p.values.keys().filter_map(|k| p.get(k)))
            .filter(|v| v.starts_with('/'))
            .map(std::path::PathBuf::from)
            .filter(|p| p.exists())
            .map(|p| p.canonicalize().unwrap_or(p))
            .collect()
    }

    /// A redactor for every secret value of every profile.
    pub fn redactor(&self) -> Redactor {
        let mut secrets = Vec::new();
        for p in self.profiles.values() {
            for (k, v) in &p.values {
                if is_secret_key(k) {
                    collect_strings(v, &mut secrets);
                } else if let Some(pw) = p.get(k).as_deref().and_then(url_password) {
                    // A plain setting holding a URL with credentials (an endpoint).
                    secrets.push(pw);
                }
            }
        }
        Redactor::new(secrets)
    }
}

/// The password of a URL with credentials (`https://user:pw@host/`).
pub(crate) fn url_password(text: &str) -> Option<String> {
    url::Url::parse(text)
        .ok()
        .and_then(|u| u.password().map(str::to_string))
}

fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Number(n) => out.push(n.to_string()),
        Value::Sequence(items) => items.iter().for_each(|i| collect_strings(i, out)),
        Value::Mapping(m) => m.values().for_each(|i| collect_strings(i, out)),
        _ => {}
    }
}

/// Render Jinja templates in string values (`{{ env_var('X') }}`), recursively.
fn interpolate(value: Value, env: &dyn Fn(&str) -> Option<String>) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) if s.contains("{{") || s.contains("{%") => Value::String(render(&s, env)?),
        Value::Mapping(m) => Value::Mapping(
            m.into_iter()
                .map(|(k, v)| interpolate(v, env).map(|v| (k, v)))
                .collect::<Result<_, _>>()?,
        ),
        Value::Sequence(items) => Value::Sequence(
            items
                .into_iter()
                .map(|v| interpolate(v, env))
                .collect::<Result<_, _>>()?,
        ),
        other => other,
    })
}

fn render(template: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut jinja = minijinja::Environment::new();
    jinja.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    let values: BTreeMap<String, String> = names_in(template)
        .into_iter()
        .filter_map(|n| env(&n).map(|v| (n, v)))
        .collect();
    jinja.add_function(
        "env_var",
        move |name: String, default: Option<String>| -> String {
            values.get(&name).cloned().or(default).unwrap_or_default()
        },
    );
    jinja
        .render_str(template, ())
        .map_err(|e| e.detail().map_or_else(|| e.to_string(), str::to_string))
}

/// Names passed to `env_var('...')` in a template, so only those are read from the
/// environment.
fn names_in(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(i) = rest.find("env_var(") {
        rest = &rest[i + "env_var(".len()..];
        let trimmed = rest.trim_start();
        if let Some(q) = trimmed.chars().next().filter(|c| *c == '\'' || *c == '"') {
            if let Some(end) = trimmed[1..].find(q) {
                out.push(trimmed[1..1 + end].to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "PG_HOST" => Some("db.internal".into()),
            "PG_PASSWORD" => Some("hunter2-secret".into()),
            _ => None,
        }
    }

    #[test]
    fn env_vars_are_interpolated_and_missing_ones_are_empty() {
        let p = Profiles::parse(
            "version: 0.1.1\ndefault:\n  POSTGRES_HOST: \"{{ env_var('PG_HOST') }}\"\n  POSTGRES_PORT: 5432\n  POSTGRES_USER: \"{{ env_var('NOPE') }}\"\n  POSTGRES_DBNAME: \"{{ env_var('NOPE', 'fallback') }}\"\n  POSTGRES_PASSWORD: \"{{ env_var('PG_PASSWORD') }}\"\n",
            "io_config.yaml",
            &env,
        )
        .unwrap();
        let d = p.get("default").unwrap();
        assert_eq!(d.get("POSTGRES_HOST").as_deref(), Some("db.internal"));
        assert_eq!(d.get("POSTGRES_PORT").as_deref(), Some("5432"));
        assert_eq!(d.get("POSTGRES_USER"), None);
        assert_eq!(d.get("POSTGRES_DBNAME").as_deref(), Some("fallback"));
        let r = p.redactor();
        assert_eq!(
            r.redact("login failed for hunter2-secret at db.internal"),
            "login failed for *** at db.internal"
        );
    }

    #[test]
    fn bad_files_name_the_profile_and_key() {
        let e = Profiles::parse(
            "default:\n  X: \"{{ env_var( }}\"\n",
            "io_config.yaml",
            &env,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("io_config.yaml: profile \"default\": `X`:"),
            "{e}"
        );
        let e = Profiles::parse("- a\n- b\n", "io_config.yaml", &env)
            .unwrap_err()
            .to_string();
        assert!(e.contains("top level"), "{e}");
        let e = Profiles::parse("default: 3\n", "io_config.yaml", &env)
            .unwrap_err()
            .to_string();
        assert!(e.contains("profile \"default\" must be a mapping"), "{e}");
        let p = Profiles::parse("default: {}\n", "io_config.yaml", &env).unwrap();
        let e = p.get("warehouse").unwrap_err().to_string();
        assert!(
            e.contains("no profile \"warehouse\"; profiles: default"),
            "{e}"
        );
    }

    #[test]
    fn secret_keys_are_recognised() {
        for k in [
            "POSTGRES_PASSWORD",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ACCESS_KEY_ID",
            "GOOGLE_SERVICE_ACC_KEY",
            "GOOGLE_SERVICE_ACC_KEY_FILEPATH",
            "HTTP_BEARER_TOKEN",
            "HTTP_HEADERS",
            // Fail closed: names no list of words would catch.
            "PG_PASS",
            "DATABASE_URL",
            "SNOWFLAKE_PWD",
            "MY_API",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in ["POSTGRES_HOST", "GCS_BUCKET", "bigquery_dataset"] {
            assert!(!is_secret_key(k), "{k}");
        }
    }
}
