//! A package's requested grants: their digest (kept in weft.lock) and what a new version asks
//! for beyond an old one.

use weft_pipeline::Grants;

/// The grants as `(kind, value)` pairs, sorted: `urls`, `write`, `profiles`, `env`.
pub fn entries(g: &Grants) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    for (kind, values) in [
        ("urls", &g.urls),
        ("write", &g.write),
        ("profiles", &g.profiles),
        ("env", &g.env),
    ] {
        let mut v: Vec<String> = values.clone();
        v.sort();
        v.dedup();
        out.extend(v.into_iter().map(|s| (kind, s)));
    }
    out
}

/// `sha256:` of the sorted entries, one `kind\tvalue` line each: the same grants in any order
/// have the same digest.
pub fn digest(g: &Grants) -> String {
    let text: String = entries(g)
        .iter()
        .map(|(k, v)| format!("{k}\t{v}\n"))
        .collect();
    crate::digest(text.as_bytes())
}

/// The first grant `new` requests that `old` did not, as `kind: value`.
pub fn widened(old: &Grants, new: &Grants) -> Option<String> {
    let before = entries(old);
    entries(new)
        .into_iter()
        .find(|e| !before.contains(e))
        .map(|(k, v)| format!("{k}: {}", crate::printable(&v)))
}

/// The grants as lines for people (`urls: https://...`), or `(none)`.
pub fn describe(g: &Grants) -> Vec<String> {
    let lines: Vec<String> = entries(g)
        .into_iter()
        .map(|(k, v)| format!("{k}: {}", crate::printable(&v)))
        .collect();
    if lines.is_empty() {
        vec!["(none)".into()]
    } else {
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(urls: &[&str], env: &[&str]) -> Grants {
        Grants {
            urls: urls.iter().map(|s| s.to_string()).collect(),
            env: env.iter().map(|s| s.to_string()).collect(),
            ..Grants::default()
        }
    }

    #[test]
    fn order_does_not_change_the_digest_but_content_does() {
        assert_eq!(
            digest(&g(&["a", "b"], &[])),
            digest(&g(&["b", "a", "a"], &[]))
        );
        assert_ne!(digest(&g(&["a"], &[])), digest(&g(&[], &["a"])));
    }

    #[test]
    fn a_new_grant_is_named_and_a_narrower_set_is_fine() {
        let old = g(&["https://hooks.slack.com/"], &[]);
        assert_eq!(widened(&old, &old), None);
        assert_eq!(widened(&old, &g(&[], &[])), None);
        assert_eq!(
            widened(&old, &g(&["https://hooks.slack.com/"], &["AWS_SECRET"])).as_deref(),
            Some("env: AWS_SECRET")
        );
    }
}
