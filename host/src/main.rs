//! The `weft` command.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `arena_eager_commit` option (its place in `mi_option_t`).
#[cfg(target_os = "linux")]
const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

/// Arenas committed as they are used, not all at once: memory a finished step frees is then
/// decommitted when purged and leaves the resident set, where in an eagerly committed arena it
/// mostly stays resident. The seed pipeline peaks about 115 MB lower, no slower. Set before
/// `main`, since the first arena is reserved by the first allocation;
/// `MIMALLOC_ARENA_EAGER_COMMIT` still overrides it.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)] // a constructor, and a call into the allocator's C API
#[used]
#[link_section = ".init_array"]
static COMMIT_ARENAS_LAZILY: extern "C" fn() = {
    extern "C" fn set() {
        // SAFETY: sets an option's default before the allocator reads it; no memory involved.
        unsafe { libmimalloc_sys::mi_option_set_default(ARENA_EAGER_COMMIT, 0) }
    }
    set
};

#[allow(clippy::disallowed_methods)] // the one place that ends the process
fn main() {
    std::process::exit(weft::cli::main());
}
