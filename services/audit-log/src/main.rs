//! The audit-log binary; everything lives in the library.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    eventbank_runtime::service::main::<audit_log::App>().await
}
