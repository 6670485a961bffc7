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
            let mut headers = match profile {
                Some(p) => http_headers(p)?,
                None => Vec::new(),
            };
            let mut url = url.clone();
            let mut hops = 0;
            let resp = loop {
                let mut req = ctx.http.get(url.clone());
                for (k, v) in &headers {
                    req = req.header(k, v);
                }
                let resp = rt::block_on(req.send())
                    .map_err(|e| external(format!("GET {url}"), chain(&e)))?;
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
    let got = rt::block_on(store.get(path)).map_err(|e| external(&label, e))?;
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
    Ok(Bytes::from(buf))
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
    }
}

/// The reading end of [`channel`].
struct ChannelReader {
    rx: mpsc::Receiver<Result<Bytes, String>>,
    current: Bytes,
    label: String,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(b)) => self.current = b,
                Some(Err(e)) => {
                    return Err(std::io::Error::other(format!(
                        "{}: the transfer broke off: {e}",
                        self.label
                    )))
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        let _ = self.current.split_to(n);
        Ok(n)
    }
}
