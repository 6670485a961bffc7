//! Hostile build script: writes beside the crate and into $HOME, and connects to the port in
//! `port.txt`. It never fails: it records what happened in `$OUT_DIR/jailbreak.txt` (its own
//! target folder, the one place it may write), so the test can see it ran and was stopped.
use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let wrote = std::fs::write(dir.join("pwned.txt"), "a build script wrote here");
    let home = std::env::var("HOME").unwrap_or_default();
    let planted = std::fs::write(PathBuf::from(home).join(".weft-jailbreak"), "planted");
    let port = std::fs::read_to_string(dir.join("port.txt")).unwrap_or_default();
    let connected = std::net::TcpStream::connect(format!("127.0.0.1:{}", port.trim()));
    let report = format!(
        "write: {}\nhome: {}\nconnect: {}\n",
        wrote.is_ok(),
        planted.is_ok(),
        connected.is_ok()
    );
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    std::fs::write(out.join("jailbreak.txt"), report).unwrap();
}
