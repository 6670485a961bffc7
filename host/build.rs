//! Re-embed the SDK, the WIT contract and the setup script whenever they change.
fn main() {
    for path in [
        "../sdk-rust/src",
        "../sdk-rust/macros/src",
        "../sdk-rust/Cargo.toml",
        "../sdk-rust/macros/Cargo.toml",
        "../sdk-python",
        "../wit",
        "../scripts/setup.sh",
        "templates",
    ] {
        println!("cargo:rerun-if-changed={path}");
    }
}
