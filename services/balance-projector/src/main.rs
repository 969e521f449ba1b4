//! The balance-projector binary; everything lives in the library.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    eventbank_runtime::service::main::<balance_projector::App>().await
}
