//! The account-command binary; everything lives in the library.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    eventbank_runtime::service::main::<account_command::App>().await
}
