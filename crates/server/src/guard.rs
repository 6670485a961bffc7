//! The doors every request passes before any handler: the `Host` header must name this server
//! (no DNS rebinding), a browser's `Origin` must be this server's own (no cross-site
//! requests from a page the operator has open), and a POST with a body must say it is JSON
//! (a cross-site form cannot).

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::Response;

use crate::error::ApiError;
use crate::state::AppState;

/// Host names a server always answers to (loopback).
pub const LOOPBACK_HOSTS: &[&str] = &["localhost", "127.0.0.1", "[::1]"];

/// Check Host, Origin and the content type of POSTs.
pub async fn check(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let host = host_of(req.headers())?;
    let name = host_name(&host);
    if !state.allows_host(&name) {
        return Err(ApiError::Forbidden(format!(
            "this server does not answer to host `{name}`; start it with `weft serve --allow-host {name}` if that name is its own"
        )));
    }
    // Browsers say where a request comes from; nothing cross-site is served.
    let site = req
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none");
    if site == "cross-site" || site == "same-site" {
        return Err(ApiError::Forbidden(format!(
            "requests from pages of another site (Sec-Fetch-Site: {site}) are refused"
        )));
    }
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        let authority = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .unwrap_or("");
        if !authority.eq_ignore_ascii_case(&host) {
            return Err(ApiError::Forbidden(format!(
                "requests from pages of another origin (`{origin}`) are refused"
            )));
        }
    }
    if matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH)
        && has_body(req.headers())
        && !is_json(req.headers())
    {
        return Err(ApiError::UnsupportedMediaType(
            "a request body must be JSON: send `Content-Type: application/json`".into(),
        ));
    }
    Ok(next.run(req).await)
}

fn host_of(headers: &HeaderMap) -> Result<String, ApiError> {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty())
        .map(str::to_ascii_lowercase)
        .ok_or_else(|| ApiError::BadRequest("the request has no Host header".into()))
}

/// `host[:port]` without the port (`[::1]:6789` → `[::1]`).
fn host_name(host: &str) -> String {
    if host.starts_with('[') {
        return match host.find(']') {
            Some(end) => host[..=end].to_string(),
            None => host.to_string(),
        };
    }
    host.split(':').next().unwrap_or(host).to_string()
}

fn has_body(headers: &HeaderMap) -> bool {
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match length {
        Some(n) => n > 0,
        // A chunked or unsized body.
        None => headers.contains_key(header::TRANSFER_ENCODING),
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| {
            let m = m.trim().to_ascii_lowercase();
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_lose_their_port() {
        assert_eq!(host_name("localhost:6789"), "localhost");
        assert_eq!(host_name("[::1]:6789"), "[::1]");
        assert_eq!(host_name("[::1]"), "[::1]");
        assert_eq!(host_name("evil.example"), "evil.example");
    }

    #[test]
    fn json_content_types() {
        let with = |ct: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_TYPE, ct.parse().unwrap());
            is_json(&h)
        };
        assert!(with("application/json"));
        assert!(with("Application/JSON; charset=utf-8"));
        assert!(with("application/vnd.api+json"));
        assert!(!with("text/plain"));
        assert!(!with("application/x-www-form-urlencoded"));
        assert!(!with("multipart/form-data; boundary=x"));
        assert!(!is_json(&HeaderMap::new()));
    }
}
