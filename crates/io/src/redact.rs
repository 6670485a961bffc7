//! Keeps secrets out of messages: every secret value of io_config.yaml (and every
//! environment value granted to a block) is replaced by `***` in errors and log lines before
//! anyone sees them, in the forms a message may carry it: as written, percent-encoded (a URL),
//! JSON-escaped and base64 (an `Authorization: Basic` header).

use std::sync::Arc;

use base64::Engine as _;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

/// Replaces known secret values in text.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Longer values, masked wherever they appear.
    anywhere: Arc<[String]>,
    /// Short values, masked only as whole words (or they would mask parts of ordinary words).
    words: Arc<[String]>,
}

/// Values at least this long are masked wherever they appear; shorter ones as whole words.
const ANYWHERE_LEN: usize = 6;

impl Redactor {
    /// A redactor for `secrets` (empty values are ignored).
    pub fn new(secrets: Vec<String>) -> Self {
        Redactor::default().extended(secrets)
    }

    /// This redactor, also masking `more`.
    pub fn extended(&self, more: Vec<String>) -> Redactor {
        let mut anywhere: Vec<String> = self.anywhere.to_vec();
        let mut words: Vec<String> = self.words.to_vec();
        for secret in more {
            let secret = secret.trim();
            if secret.is_empty() {
                continue;
            }
            for form in forms(secret) {
                if form.len() >= ANYWHERE_LEN {
                    anywhere.push(form);
                } else {
                    words.push(form);
                }
            }
        }
        for list in [&mut anywhere, &mut words] {
            // Longest first, so a secret containing another is masked whole.
            list.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
            list.dedup();
        }
        Redactor {
            anywhere: anywhere.into(),
            words: words.into(),
        }
    }

    /// `text` with every secret replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in self.anywhere.iter() {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "***");
            }
        }
        for s in self.words.iter() {
            if out.contains(s.as_str()) {
                out = replace_words(&out, s);
            }
        }
        out
    }

    /// True when there is nothing to redact.
    pub fn is_empty(&self) -> bool {
        self.anywhere.is_empty() && self.words.is_empty()
    }
}

/// The forms a secret may take in a message: as written, encoded, and in parts — a URL's
/// password, each line of a multi-line value (a PEM key is printed line by line), each
/// string field of a JSON value (a service-account key's `private_key`).
fn forms(secret: &str) -> Vec<String> {
    let mut parts = vec![secret.to_string()];
    if let Some(password) = url::Url::parse(secret)
        .ok()
        .and_then(|u| u.password().map(str::to_string))
    {
        parts.push(
            percent_encoding::percent_decode_str(&password)
                .decode_utf8_lossy()
                .into_owned(),
        );
        parts.push(password);
    }
    if secret.contains('\n') {
        parts.extend(
            secret
                .lines()
                .map(str::trim)
                .filter(|l| l.len() >= ANYWHERE_LEN)
                .map(str::to_string),
        );
    }
    if let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(secret) {
        for v in fields.values() {
            if let Some(text) = v.as_str().filter(|t| t.len() >= ANYWHERE_LEN) {
                parts.extend(forms(text));
            }
        }
    }
    parts.iter().flat_map(|p| encoded_forms(p)).collect()
}

/// Characters a URL component keeps as they are (RFC 3986 unreserved).
const COMPONENT: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encoded_forms(secret: &str) -> Vec<String> {
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json[1..json.len().saturating_sub(1).max(1)].to_string();
    let strict = utf8_percent_encode(secret, NON_ALPHANUMERIC).to_string();
    let component = utf8_percent_encode(secret, COMPONENT).to_string();
    let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let mut out = vec![
        secret.to_string(),
        lower_hex(&strict),
        lower_hex(&component),
        strict,
        component,
        form,
        json,
    ];
    // base64 at each of the three alignments it can have inside a longer encoded value
    // (`user:password` in a Basic header), keeping only the characters the secret alone
    // decides; a short value's base64 is too short to be told from other text.
    if secret.len() >= ANYWHERE_LEN {
        let b64 = base64::engine::general_purpose::STANDARD;
        for shift in 0..3usize {
            let mut bytes = vec![0u8; shift];
            bytes.extend_from_slice(secret.as_bytes());
            let text = b64.encode(&bytes);
            let start = if shift == 0 { 0 } else { 4 };
            let end = 4 * (bytes.len() / 3);
            if end > start + 4 {
                out.push(text[start..end].to_string());
            }
        }
        out.push(b64.encode(secret).trim_end_matches('=').to_string());
    }
    out.retain(|f| !f.is_empty());
    out
}

/// Percent-encoding with lower-case hex digits (`%2f`), as some encoders write it.
fn lower_hex(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut hex_left = 0;
    for c in encoded.chars() {
        if c == '%' {
            hex_left = 2;
            out.push(c);
        } else if hex_left > 0 {
            hex_left -= 1;
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `text` with `word` replaced where it is not part of a longer word.
fn replace_words(text: &str, word: &str) -> String {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut before: Option<char> = None;
    while let Some(i) = rest.find(word) {
        let prev = rest[..i].chars().next_back().or(before);
        let next = rest[i + word.len()..].chars().next();
        let edge_ok = |c: Option<char>, inner: Option<char>| {
            !(c.is_some_and(is_word) && inner.is_some_and(is_word))
        };
        let whole = edge_ok(prev, word.chars().next()) && edge_ok(next, word.chars().next_back());
        out.push_str(&rest[..i]);
        out.push_str(if whole { "***" } else { word });
        before = word.chars().next_back();
        rest = &rest[i + word.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_in_every_form() {
        let r = Redactor::new(vec!["p@ss w\"ord/1".into(), "s3cr3tvalue".into()]);
        for (shown, text) in [
            ("plain", "login failed: p@ss w\"ord/1"),
            (
                "percent-encoded",
                "GET postgres://u:p%40ss%20w%22ord%2F1@h/db",
            ),
            ("json-escaped", r#"{"password": "p@ss w\"ord/1"}"#),
            ("base64", "Authorization: Basic czNjcjN0dmFsdWU="),
        ] {
            let out = r.redact(text);
            assert!(out.contains("***"), "{shown}: {out}");
            assert!(
                !out.contains("s3cr3t") && !out.contains("ord/1") && !out.contains("ord%2F1"),
                "{shown}: {out}"
            );
        }
    }

    #[test]
    fn base64_is_masked_at_every_alignment_and_parts_on_their_own() {
        let r = Redactor::new(vec!["s3cr3tvalue".into()]);
        // `bob:s3cr3tvalue`, `al:s3cr3tvalue`, `carol:s3cr3tvalue` in Basic headers.
        for header in [
            "Basic Ym9iOnMzY3IzdHZhbHVl",
            "Basic YWw6czNjcjN0dmFsdWU=",
            "Basic Y2Fyb2w6czNjcjN0dmFsdWU=",
        ] {
            let out = r.redact(header);
            assert!(out.contains("***"), "{header}: {out}");
        }
        let pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n-----END PRIVATE KEY-----";
        let r = Redactor::new(vec![pem.into()]);
        assert_eq!(
            r.redact("line: BKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj"),
            "line: ***"
        );
        let key = r#"{"type": "service_account", "private_key": "-----BEGIN-----\nAAAAsecretmaterial\n-----END-----", "client_email": "x@y.iam"}"#;
        let r = Redactor::new(vec![key.into()]);
        assert!(!r
            .redact("got AAAAsecretmaterial")
            .contains("secretmaterial"));
        let r = Redactor::new(vec!["abc-def/ghi=".into()]);
        for text in [
            "q=abc-def%2Fghi%3D",
            "q=abc%2ddef%2fghi%3d",
            "q=abc-def%2Fghi%3D&x",
        ] {
            assert!(!r.redact(text).contains("ghi"), "{text}");
        }
    }

    #[test]
    fn a_url_s_password_is_a_secret_of_its_own() {
        let r = Redactor::new(vec!["postgres://u:top%40secret@db/x".into()]);
        assert_eq!(r.redact("auth failed: top@secret"), "auth failed: ***");
        assert_eq!(
            r.redact("dsn postgres://u:top%40secret@db/y"),
            "dsn postgres://u:***@db/y"
        );
    }

    #[test]
    fn short_secrets_are_masked_as_whole_words() {
        let r = Redactor::new(vec!["abc".into(), "x".into()]);
        assert_eq!(r.redact("password abc rejected"), "password *** rejected");
        assert_eq!(r.redact("abc"), "***");
        assert_eq!(r.redact("(abc)"), "(***)");
        // Not inside other words.
        assert_eq!(r.redact("abcdef xabc x-ray"), "abcdef xabc ***-ray");
        assert!(Redactor::new(vec!["  ".into()]).is_empty());
    }
}
