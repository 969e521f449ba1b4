//! The transfer-saga binary; everything lives in the library.

/// mimalloc rather than glibc's malloc: see the workspace Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    eventbank_runtime::service::main::<transfer_saga::App>().await
}
