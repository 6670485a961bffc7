//! Block packages: a block's component with weft's metadata embedded (so the content digest
//! covers it), pushed to and pulled from OCI registries in the Wasm OCI artifact layout that
//! wkg and Spin use, pinned in `weft.lock` and cached by content digest.
//!
//! A package *requests* grants; only a project grants them. [`grants::widened`] names what a
//! new version asks for beyond the old one, so an update that asks for more stops.

pub mod cache;
pub mod config;
pub mod error;
pub mod grants;
pub mod lock;
pub mod meta;
pub mod reference;
pub mod registry;

pub use error::PackageError;
pub use lock::{Lock, Locked};
pub use meta::{Language, Limits, Meta};
pub use reference::{PackageRef, Requirement};

/// The version of the `weft:block` WIT contract this host serves.
pub const WIT_VERSION: &str = "0.1.0";

/// `sha256:<hex>` of `bytes`, the form OCI digests take.
pub fn digest(bytes: &[u8]) -> String {
    use sha2::Digest;
    let hash = sha2::Sha256::digest(bytes);
    let mut out = String::with_capacity(71);
    out.push_str("sha256:");
    for b in hash {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// `text` with control characters (line breaks, terminal escapes) escaped: what a package or
/// registry says is shown to people, and must not be able to redraw what they review.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}
