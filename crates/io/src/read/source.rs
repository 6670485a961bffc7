//! Byte sources: an http(s) download, a file or an object, as a blocking `Read` whose bytes
//! arrive from the IO runtime while the caller decodes (download and decode overlap).

use std::io::Read;
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use object_store::{ObjectStore, ObjectStoreExt};
use tokio::sync::mpsc;

use crate::access::Access;
use crate::context::IoContext;
use crate::error::{external, IoError};
use crate::location::Location;
use crate::profile::Profile;
use crate::progress::{Counted, Progress};
use crate::{rt, store};

/// Chunks in flight between the network task and the decoder.
const IN_FLIGHT: usize = 64;

/// An opened source: a reader and its size when known.
pub(crate) struct Opened {
    pub(crate) reader: Box<dyn Read + Send>,
    pub(crate) size: Option<u64>,
}

/// Most bytes reserved up front for a whole-file read, whatever size a server announces.
const PREALLOCATE_MAX: u64 = 64 << 20;

/// Redirects followed before giving up.
const MAX_REDIRECTS: usize = 10;

/// Open `location` for reading; HTTP requests carry the profile's headers when one is given,
/// and every redirect must stay within the block's grants.
pub(crate) fn open(
    ctx: &IoContext,
    location: &Location,
    profile: Option<&Profile>,
    progress: Arc<dyn Progress>,
    access: &Access,
) -> Result<Opened, IoError> {
    let label = location.to_string();
    let (reader, size): (Box<dyn Read + Send>, Option<u64>) = match location {
        Location::File(path) => {
            let f = std::fs::File::open(path).map_err(|e| external(&label, e))?;
            let size = f.metadata().ok().map(|m| m.len());
            (Box::new(f), size)
        }
        Location::Http(url) => {
            let base = match profile {
                Some(p) => credentials_base(p)?,
                None => None,
            };
            let mut headers = match profile {
                Some(p) => http_headers(p)?,
                None => Vec::new(),
            };
            let mut url = url.clone();
            let mut hops = 0;
            let resp = loop {
                own_api(ctx, &url)?;
                let mut req = ctx.block_http.get(url.clone());
                // A profile's credentials go to its own service only.
                let home = base
                    .as_ref()
                    .is_some_and(|b| Location::Http(url.clone()).within(b));
                if !home && !headers.is_empty() {
                    if hops == 0 {
                        return Err(IoError::Denied(format!(
                            "{label} is outside the service of io profile \"{}\" ({}): its credentials go only there",
                            profile.map(|p| p.name.as_str()).unwrap_or(""),
                            base.as_ref().map(|b| b.to_string()).unwrap_or_default()
                        )));
                    }
                    headers.clear();
                }
                for (k, v) in &headers {
                    req = req.header(k, v);
                }
                let resp = rt::run(async {
                    req.send()
                        .await
                        .map_err(|e| external(format!("GET {url}"), chain(&e)))
                })?;
                if !resp.status().is_redirection() {
                    break resp;
                }
                hops += 1;
                let next = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| url.join(v).ok())
                    .filter(|_| hops <= MAX_REDIRECTS)
                    .ok_or_else(|| {
                        IoError::External(format!("GET {label}: too many or broken redirects"))
                    })?;
                // Each hop is parsed like a URL a block gave, then checked against the grants.
                let next = match Location::parse(next.as_str(), std::path::Path::new("/")) {
                    Ok(Location::Http(u)) => u,
                    _ => {
                        return Err(IoError::Denied(format!(
                            "{label} redirected to {next}, which is not a URL blocks may read"
                        )))
                    }
                };
                access
                    .location("read", &Location::Http(next.clone()))
                    .map_err(|e| IoError::Denied(format!("{e} ({label} redirected there)")))?;
                // A profile's headers (tokens) go to the origin they were meant for only.
                if next.origin() != url.origin() {
                    headers.clear();
                }
                url = next;
            };
            let status = resp.status();
            if !status.is_success() {
                return Err(IoError::External(format!(
                    "GET {label}: the server answered {status}"
                )));
            }
            let size = resp.content_length();
            let stream = resp.bytes_stream().map(|r| r.map_err(|e| chain(&e)));
            (Box::new(channel(stream, label.clone())), size)
        }
        Location::Store { kind, bucket, path } => {
            let s = store::open(ctx, *kind, bucket, profile)?;
            let path = object_store::path::Path::from(path.as_str());
            return object(&s, &path, label, progress);
        }
    };
    Ok(Opened {
        reader: Box::new(Counted::new(reader, label, size, progress)),
        size,
    })
}

/// Open the object at `path` of `store` (a key as the store listed it).
pub(crate) fn object(
    store: &Arc<dyn ObjectStore>,
    path: &object_store::path::Path,
    label: String,
    progress: Arc<dyn Progress>,
) -> Result<Opened, IoError> {
    let got = rt::run(async { store.get(path).await.map_err(|e| external(&label, e)) })?;
    let size = Some(got.meta.size);
    let stream = got.into_stream().map(|r| r.map_err(|e| e.to_string()));
    let reader = channel(stream, label.clone());
    Ok(Opened {
        reader: Box::new(Counted::new(reader, label, size, progress)),
        size,
    })
}

/// Every byte of an opened source.
pub(crate) fn read_all(mut opened: Opened, label: &str) -> Result<Bytes, IoError> {
    // The announced size is a hint from outside: trust it only so far.
    let hint = opened.size.unwrap_or(1 << 20).min(PREALLOCATE_MAX);
    let mut buf = Vec::with_capacity(hint as usize);
    opened
        .reader
        .read_to_end(&mut buf)
        .map_err(|e| external(label, e))?;
    // The whole file is held while it decodes.
    crate::limits::hold(buf.len() as u64)?;
    Ok(Bytes::from(buf))
}

/// Refuse this process's own API (on a loopback address or `localhost`).
fn own_api(ctx: &IoContext, url: &url::Url) -> Result<(), IoError> {
    let local = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback() || ip.is_unspecified(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback() || ip.is_unspecified(),
        None => false,
    };
    let port = url.port_or_known_default().unwrap_or(0);
    if local && ctx.private_ports.contains(&port) {
        return Err(IoError::Denied(format!(
            "{url} is weft's own API, which no grant reaches"
        )));
    }
    Ok(())
}

/// `HTTP_BASE_URL` of a profile with credentials: the service they are for.
fn credentials_base(p: &Profile) -> Result<Option<Location>, IoError> {
    if !p.has("HTTP_HEADERS") && !p.has("HTTP_BEARER_TOKEN") {
        return Ok(None);
    }
    let base = p.get("HTTP_BASE_URL").ok_or_else(|| {
        IoError::Invalid(format!(
            "io profile \"{}\" has HTTP credentials but no HTTP_BASE_URL: set it to the service they are for, e.g. `HTTP_BASE_URL: https://api.example.com/`",
            p.name
        ))
    })?;
    match Location::parse(&base, std::path::Path::new("/"))? {
        l @ Location::Http(_) => Ok(Some(l)),
        _ => Err(IoError::Invalid(format!(
            "io profile \"{}\": HTTP_BASE_URL `{base}` is not an http(s) URL",
            p.name
        ))),
    }
}

/// `HTTP_HEADERS` (a mapping) and `HTTP_BEARER_TOKEN` of a profile.
fn http_headers(p: &Profile) -> Result<Vec<(String, String)>, IoError> {
    let mut out = Vec::new();
    if let Some(text) = p.get("HTTP_HEADERS") {
        let map: std::collections::BTreeMap<String, String> =
            serde_json::from_str(&text).map_err(|_| {
                IoError::Invalid(format!(
                    "io profile \"{}\": HTTP_HEADERS must be a mapping of header: value",
                    p.name
                ))
            })?;
        out.extend(map);
    }
    if let Some(token) = p.get("HTTP_BEARER_TOKEN") {
        out.push(("authorization".into(), format!("Bearer {token}")));
    }
    Ok(out)
}

/// An error with its causes, `a: b: c` (reqwest hides the useful part in the sources).
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// Drive `stream` on the IO runtime, handing its chunks to a blocking reader.
fn channel<S>(stream: S, label: String) -> ChannelReader
where
    S: futures::Stream<Item = Result<Bytes, String>> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(IN_FLIGHT);
    rt::handle().spawn(async move {
        let mut stream = Box::pin(stream);
        while let Some(item) = stream.next().await {
            let stop = item.is_err();
            if tx.send(item).await.is_err() || stop {
                break;
            }
        }
    });
    ChannelReader {
        rx,
        current: Bytes::new(),
        label,
        meter: crate::limits::current(),
    }
}

/// The reading end of [`channel`].
struct ChannelReader {
    rx: mpsc::Receiver<Result<Bytes, String>>,
    current: Bytes,
    label: String,
    meter: Option<Arc<crate::limits::Meter>>,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            // Wait in short steps, so the call's deadline and cancel stop a stalled transfer.
            let rx = &mut self.rx;
            let next = rt::handle().block_on(async {
                tokio::time::timeout(crate::limits::WATCH_EVERY, rx.recv()).await
            });
            match next {
                Err(_) => self
                    .meter
                    .as_ref()
                    .map_or(Ok(()), |m| m.check())
                    .map_err(crate::limits::io_error)?,
                Ok(Some(Ok(b))) => self.current = b,
                Ok(Some(Err(e))) => {
                    return Err(std::io::Error::other(format!(
                        "{}: the transfer broke off: {e}",
                        self.label
                    )))
                }
                Ok(None) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        let _ = self.current.split_to(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use weft_pipeline::Grants;

    use crate::{IoContext, Profiles};

    #[test]
    fn the_server_s_own_api_is_out_of_every_grant() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = Arc::new(
            IoContext::new(
                dir.path().into(),
                dir.path().join("local"),
                Profiles::empty(),
            )
            .unwrap()
            .with_private_port(6789),
        );
        let grants = Grants {
            urls: vec!["http://127.0.0.1:*/".into(), "http://localhost:*/".into()],
            ..Grants::default()
        };
        let io = ctx.for_block("peek", &grants);
        for url in [
            "http://127.0.0.1:6789/api/runs",
            "http://localhost:6789/api/runs",
        ] {
            let e = io.read(url, "{\"format\": \"ndjson\"}").unwrap_err();
            assert_eq!(e.kind(), "denied", "{url}: {e}");
            assert!(e.to_string().contains("weft's own API"), "{e}");
        }
    }
}
