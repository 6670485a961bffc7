//! The `weft` command.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[allow(clippy::disallowed_methods)] // the one place that ends the process
fn main() {
    std::process::exit(weft::cli::main());
}
