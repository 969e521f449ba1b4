//! The transfer-saga binary; everything lives in the library.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    eventbank_runtime::service::main::<transfer_saga::App>().await
}
