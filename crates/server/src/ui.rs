//! The web UI, built from `ui/` by `npm run build` and embedded in the binary: hashed assets
//! are sent as immutable, the page itself is never cached, and each file goes out gzipped
//! (compressed once at build time) to a browser that accepts it. Every path that is not an
//! API route and not a file gets the page, whose router shows the view. A binary built before
//! the UI was built answers with a page saying how to build it.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

/// The built UI (`ui/dist`); empty when it was not built.
#[derive(RustEmbed)]
#[folder = "../../ui/dist/"]
#[allow_missing = true]
struct Assets;

/// What a binary built without the UI shows at `/`.
const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>weft</title>\
<body style=\"font-family:system-ui;max-width:40em;margin:3em auto\"><h1>weft</h1>\
<p>This binary was built without its web UI. Build it with \
<code>npm --prefix ui ci &amp;&amp; npm --prefix ui run build</code>, then build weft again.</p>\
<p>The API is served at <a href=\"/api/openapi.json\">/api/openapi.json</a>.</p>";

/// What the page may load and run: only this server's own scripts, styles (React Flow sets
/// inline styles), workers and API; it may not be framed by another page.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; \
base-uri 'none'; form-action 'self'";

/// Whether the binary holds a built UI.
pub fn built() -> bool {
    Assets::get("index.html").is_some()
}

/// The file at `uri`, or the page for a view's path.
pub async fn serve(uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().trim_start_matches('/');
    let gzip = accepts_gzip(&headers);
    if !path.is_empty() && !path.ends_with('/') {
        if let Some(r) = file(path, gzip) {
            return r;
        }
        // A missing file (a stale hashed asset) is a 404, not the page.
        if path.starts_with("assets/") || path.rsplit('/').next().is_some_and(|n| n.contains('.')) {
            return (StatusCode::NOT_FOUND, "no such file").into_response();
        }
    }
    file("index.html", gzip).unwrap_or_else(|| {
        (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
                (header::CONTENT_SECURITY_POLICY, CSP),
            ],
            NOT_BUILT,
        )
            .into_response()
    })
}

/// Whether the request says it takes gzip.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| {
            let mut parts = e.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

/// One embedded file with its headers, gzipped when there is a compressed copy and the
/// browser takes it.
fn file(path: &str, gzip: bool) -> Option<Response> {
    if path.ends_with(".gz") {
        return None;
    }
    let plain = Assets::get(path)?;
    let compressed = gzip.then(|| Assets::get(&format!("{path}.gz"))).flatten();
    let mime = plain.metadata.mimetype().to_string();
    let etag = format!(
        "\"{}{}\"",
        hex(&plain.metadata.sha256_hash()[..12]),
        if compressed.is_some() { "-gz" } else { "" }
    );
    let cache = if path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let (body, encoding) = match compressed {
        Some(c) => (c.data, Some("gzip")),
        None => (plain.data, None),
    };
    let mut r = Response::new(Body::from(body.into_owned()));
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, value(&mime));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::ETAG, value(&etag));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Some(e) = encoding {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(e));
    }
    if mime.starts_with("text/html") {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    Some(r)
}

fn value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_taken_unless_refused() {
        let cases = [
            ("gzip, deflate, br", true),
            ("br;q=1.0, gzip;q=0.8", true),
            ("GZIP", true),
            ("*", true),
            ("gzip;q=0", false),
            ("identity", false),
            ("", false),
        ];
        for (given, expected) in cases {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(given));
            assert_eq!(accepts_gzip(&h), expected, "Accept-Encoding: {given}");
        }
    }
}
